// Package web serves gpcm's browser user interface: server-rendered HTML pages
// in the NHS.UK design system for the practice inbox, the sender dashboard,
// the MESH administration view and the message validator.
//
// # Shape
//
// New builds a Server from a Config. The server is an http.Handler; Start and
// Stop run its live-update broker. Templates and static assets are embedded
// (Templates and Static) and passed in as fs.FS fields so that a development
// build can read them from disk with os.DirFS.
//
// The pages read their data through small interfaces declared here and sized
// to what each page calls: Inbox (practice inbox, implemented by the receiver;
// RegisterSearch adds the manual match of an unmatched document to a register
// patient that staff find and confirm side by side), Outbox (sender dashboard,
// implemented by the sender; ReportSender adds the send form, ReportReplacer
// the "Send a corrected version" form that starts from the stored report),
// MeshAdmin (MESH admin, satisfied by a meshserver.Store),
// AuthFailureLog (optional, MESH admin) and Users (login). A nil back end leaves its
// page out of the navigation and answers 404.
//
// The interfaces use this package's own view types (Document, Transmission,
// …) because services may not import web: the wiring (internal/cli) or a
// small adapter maps the receiver's and sender's records onto them. Every
// Inbox and Outbox method takes the user's ODS code and must scope to it;
// web also drops any record that comes back with another code.
//
// Live updates: the wiring calls Server.Publish with InboxTopic(practice)
// when a document arrives or changes, OutboxTopic(sender) when a
// transmission or alert changes. Open pages follow /events (server-sent
// events) and refetch their live regions, so a new document appears without
// a reload. Events carry ids only.
//
// # Security
//
// Every page and API needs a logged-in user except the login page and static
// assets; each handler checks the user's role, and the practice and sender
// back ends are always queried with the user's own ODS code. Only a login
// creates a session; it lives in a SessionStore (sqlitestore and pgstore
// implement it, so sessions survive a restart and are shared by several
// processes) under a hash of its cookie, and the account is looked up on
// every request. The login form's CSRF token rides in a short-lived cookie
// signed with Config.CookieKey, so the login page keeps nothing on the
// server; every other POST carries the session's synchronizer token, and
// http.CrossOriginProtection refuses cross-origin posts as a second layer.
// Cookies are HttpOnly and SameSite; with Config.SecureCookies (or over TLS)
// they are Secure with the __Host- prefix and every response carries
// Strict-Transport-Security. Failed sign-ins back off by account, client
// address and both (package authlimit, DefaultLoginLimits) rather than
// locking an account. A post-login redirect is kept only when it is a path
// on this site. Patient searches are POST forms. Pages are served with a
// strict Content-Security-Policy (no inline script or style). Logs never
// carry patient data: errors are logged with the request path only.
//
// # Assets
//
// web/static/nhsuk holds the NHS.UK frontend (npm package nhsuk-frontend)
// vendored by scripts/vendor-nhsuk, with its licence. Static files are served
// under a path that carries a hash of their content, with a one-year
// immutable cache lifetime.
package web
