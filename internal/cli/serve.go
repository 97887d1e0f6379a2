package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/httptimeout"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/updaterecord"
	"github.com/gpcm/gpcm/web"
)

const serveHelp = `
Usage: gpcm serve [--listen ADDR] [--data DIR] [--demo] [--edit-window D] [--secure-cookies]
                  [--trusted-proxy CIDR,...] [--postgres URL [--postgres-schema S] [--s3 URL]]
                  [--attachment-types LIST] [--max-message-bytes N] [--update-record MODE]

Runs the whole GP Connect Messaging loop in one process: an embedded MESH
server (HTTPS on a free loopback port, with a CA generated for this run), a
receiver for the demo practice mailbox, a sender for the demo provider
mailbox and one for a demo community pharmacy (all talk to the MESH server
over HTTPS with the MESH client; the pharmacy's outbox is DIR/pharmacy, or
its own PostgreSQL schema), and
the web UI on --listen (plain HTTP: keep it on loopback or put a TLS proxy
in front). Storage is embedded under the data directory: SQLite and payload
files in DIR/mesh, DIR/receiver and DIR/sender, signed-in web sessions in
DIR/web/web.db together with the web UI's login accounts (bcrypt hashes;
manage them on the Users page as admin, or with gpcm users); settings,
generated mailbox passwords, the first three logins and the key that signs
the login form's cookie in DIR/serve.json. With --postgres everything but serve.json and the larger
payloads (DIR/*/blobs, or --s3) lives in PostgreSQL, so that several
gpcm serve processes started on copies of one serve.json share the
mailboxes, documents, transmissions and sessions.

Behind a TLS-terminating proxy give --secure-cookies: every cookie is then
Secure (and named __Host-...) and every response carries
Strict-Transport-Security. It is on by default when --listen is not a
loopback address (give --secure-cookies=false to serve plain HTTP on a
network, which browsers then refuse to sign in over). Name the proxy with
--trusted-proxy so that login throttling counts failures by the client
address in X-Forwarded-For rather than by the proxy's.

Failed sign-ins slow further attempts down instead of locking the account:
after 5 failures for one account from one address, 20 from one address
over any accounts, or 20 for one account over many addresses, each further
failure doubles the wait (from 1 second, up to 15 minutes; 1 minute for an
account over all addresses); one address can never keep an account's
owner out from elsewhere.

On first start the data directory is created with the demo mailboxes and
three web logins (practice, sender, admin) whose passwords are printed once;
an administrator then adds one account per person (roles practice, sender,
admin) and every user may change their password.
With --demo (the default when the data directory is new) it also seeds a
practice register of test patients and sends a few reports through the real
loop, sender to MESH to receiver, so the inbox has documents: consultation
reports (Send Document) and the demo pharmacy's GP Connect Update Records,
which wait for review (--update-record).

A consultation report sent from the web form waits --edit-window (default
3h, the process map's wait) before it goes, so that a correction made in
that time replaces it; the outbox shows until when, with "Send now" and
"Cancel" (GPCM-SD-CS-075/076). --edit-window 0 sends at once.

The embedded receiver takes the acceptance flags of gpcm receiver.
` + receiverPolicyHelp + `

Prints the web UI URL on the first line of stdout when ready. Stops cleanly
on SIGINT/SIGTERM.

Examples:
  gpcm serve
  gpcm serve --listen 127.0.0.1:9090 --data /var/lib/gpcm
  gpcm serve --data ./empty --demo=false
  gpcm serve --listen 10.0.0.5:8080 --trusted-proxy 10.0.0.2 --data /var/lib/gpcm
  gpcm serve --listen 127.0.0.1:9090 --secure-cookies --postgres postgres://gpcm@db:5432/gpcm
  gpcm serve --attachment-types application/pdf,image/jpeg,image/png
`

// Demo organisations.
const (
	servePracticeODS     = "X26"
	servePracticeName    = "Demo Practice"
	servePracticeMailbox = "X26ABC1"
	serveSenderODS       = "X27"
	serveSenderName      = "Demo Provider"
	serveSenderMailbox   = "X27ABC1"
	// The demo community pharmacy sends GP Connect Update Records.
	servePharmacyODS     = "FX123"
	servePharmacyName    = "Park Road Pharmacy"
	servePharmacyMailbox = "FX123OT001"
)

// serveAuthor is the demo provider as its reports name it.
var serveAuthor = senddoc.OrganisationInput{ODSCode: serveSenderODS, Name: serveSenderName, Phone: "0113 496 0100",
	Email: "demo-provider@example.nhs.uk", Address: &senddoc.Address{Lines: []string{"2 Park Row"}, City: "Leeds", Postcode: "LS1 5AB"}}

// serveState is DIR/serve.json.
type serveState struct {
	SharedKey        string `json:"shared_key"`
	PracticePassword string `json:"practice_mailbox_password"`
	SenderPassword   string `json:"sender_mailbox_password"`
	// PharmacyPassword is the demo pharmacy's mailbox password; made on
	// the first start that lacks it.
	PharmacyPassword string      `json:"pharmacy_mailbox_password,omitempty"`
	Users            []serveUser `json:"users"`
	// Demo is asked for at creation; DemoSeeded is set once the demo
	// register and reports are in, so an interrupted first start seeds
	// again (the reports are idempotent).
	Demo       bool `json:"demo"`
	DemoSeeded bool `json:"demo_seeded"`
	// CookieKey signs the login form's cookie (base64, 32 bytes); made on
	// the first start that lacks it.
	CookieKey string `json:"cookie_key,omitempty"`
}

type serveUser struct {
	Username     string   `json:"username"`
	Name         string   `json:"name"`
	Role         web.Role `json:"role"`
	ODS          string   `json:"ods,omitempty"`
	PasswordHash string   `json:"password_hash"`
}

func randomSecret() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func loadServeState(path string) (serveState, bool, error) {
	if err := restrictFile(path); err != nil {
		return serveState{}, false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return serveState{}, false, nil
	}
	if err != nil {
		return serveState{}, false, err
	}
	var st serveState
	if err := json.Unmarshal(b, &st); err != nil {
		return serveState{}, false, fmt.Errorf("%s: %w (delete the data directory to start afresh)", path, err)
	}
	return st, true, nil
}

func saveServeState(path string, st serveState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // a leftover would keep its mode
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// newServeState makes fresh secrets and the three logins; it returns the
// passwords in clear to print once. The bcrypt hashes are computed in
// parallel (each takes tens of milliseconds by design).
func newServeState() (serveState, [][2]string, error) {
	st := serveState{SharedKey: randomSecret(), PracticePassword: randomSecret(), SenderPassword: randomSecret()}
	st.Users = []serveUser{
		{Username: "practice", Name: "Practice staff (" + servePracticeName + ")", Role: web.RolePractice, ODS: servePracticeODS},
		{Username: "sender", Name: "Sender staff (" + serveSenderName + ")", Role: web.RoleSender, ODS: serveSenderODS},
		{Username: "admin", Name: "Administrator", Role: web.RoleAdmin},
	}
	logins := make([][2]string, len(st.Users))
	errs := make([]error, len(st.Users))
	var wg sync.WaitGroup
	for i := range st.Users {
		pw := randomSecret()
		logins[i] = [2]string{st.Users[i].Username, pw}
		wg.Go(func() {
			h, err := web.HashPassword(pw)
			st.Users[i].PasswordHash, errs[i] = string(h), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return serveState{}, nil, err
	}
	return st, logins, nil
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", serveHelp)
	listen := fs.String("listen", "127.0.0.1:8080", "web UI `address` (plain HTTP)")
	data := fs.String("data", "./gpcm-data", "data `directory` (created if missing)")
	demo := fs.Bool("demo", false, "seed demo patients and documents (default: on when the data directory is new)")
	secureCookies := fs.Bool("secure-cookies", false, "mark every cookie Secure (__Host- names) and send Strict-Transport-Security, for a TLS proxy in front (default: on when --listen is not a loopback address)")
	var proxies prefixList
	fs.Var(&proxies, "trusted-proxy", "`addresses` (IPs or CIDRs, comma-separated or repeated) of reverse proxies whose X-Forwarded-For names the client")
	var stor storageFlags
	stor.register(fs, true)
	editWindow := fs.Duration("edit-window", sender.DefaultEditWindow, "a consultation report waits this `long` after its last edit before it is sent (0: at once)")
	var policy receiverPolicyFlags
	policy.register(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *editWindow == 0 {
		*editWindow = -1
	}
	if fs.NArg() > 0 {
		return usagef("gpcm serve --help", "serve: unexpected argument %q", fs.Arg(0))
	}
	if err := stor.check("serve", "gpcm serve --help"); err != nil {
		return err
	}
	rcfg := receiver.Config{PollInterval: time.Second, AllowTestNHSNumbers: true}
	if err := policy.apply(&rcfg); err != nil {
		return usagef("gpcm serve --help", "serve: %v", err)
	}
	demoSet, secureSet := false, false
	fs.Visit(func(f *flag.Flag) {
		demoSet = demoSet || f.Name == "demo"
		secureSet = secureSet || f.Name == "secure-cookies"
	})
	if !secureSet {
		*secureCookies = !loopbackListen(*listen)
	}
	start := time.Now()
	log := env.Logger()

	if err := dataDir(log, *data); err != nil {
		return fmt.Errorf("serve: data directory: %w", err)
	}
	statePath := filepath.Join(*data, "serve.json")
	st, existed, err := loadServeState(statePath)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	var logins [][2]string
	if !existed {
		if st, logins, err = newServeState(); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		st.Demo = !demoSet || *demo
		if err := saveServeState(statePath, st); err != nil {
			return fmt.Errorf("serve: saving %s: %w", statePath, err)
		}
	}
	cookieKey, err := ensureCookieKey(statePath, &st)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if st.PharmacyPassword == "" {
		st.PharmacyPassword = randomSecret()
		if err := saveServeState(statePath, st); err != nil {
			return fmt.Errorf("serve: saving %s: %w", statePath, err)
		}
	}
	phase := func(name string) { log.Debug("serve startup", "phase", name, "after", time.Since(start)) }
	phase("settings")
	seed := !st.DemoSeeded && (st.Demo || *demo)

	// Storage: a SQLite file per service in the data directory, or one
	// PostgreSQL database for all of them (--postgres).
	var pg *serviceDB
	if stor.postgres != "" {
		if pg, err = stor.openDB(ctx, *data, "", pgstore.Options{MinConns: 4}); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer pg.Close()
	}
	open := func(dir, file string, payloads bool) (*serviceDB, blob.Store, error) {
		d := filepath.Join(*data, dir)
		if err := dataDir(log, d); err != nil {
			return nil, nil, err
		}
		db := pg
		if db == nil {
			var err error
			if db, err = stor.openDB(ctx, d, file, pgstore.Options{}); err != nil {
				return nil, nil, err
			}
		}
		if !payloads {
			return db, nil, nil
		}
		blobs, err := stor.openBlobs(ctx, d, db)
		if err != nil && db != pg {
			db.Close()
		}
		return db, blobs, err
	}
	closeDB := func(db *serviceDB) {
		if db != pg {
			db.Close()
		}
	}
	meshDB, meshBlobs, err := open("mesh", "mesh.db", true)
	if err != nil {
		return fmt.Errorf("serve: mesh storage: %w", err)
	}
	defer closeDB(meshDB)
	rcvDB, rcvBlobs, err := open("receiver", "receiver.db", true)
	if err != nil {
		return fmt.Errorf("serve: receiver storage: %w", err)
	}
	defer closeDB(rcvDB)
	sndDB, _, err := open("sender", "sender.db", false)
	if err != nil {
		return fmt.Errorf("serve: sender storage: %w", err)
	}
	defer closeDB(sndDB)
	webDB, _, err := open("web", "web.db", false)
	if err != nil {
		return fmt.Errorf("serve: web session and account storage: %w", err)
	}
	defer closeDB(webDB)
	// A sender's outbox is one mailbox's: the demo pharmacy keeps its own
	// (its own file, or its own PostgreSQL schema).
	phDB, err := stor.openOwnDB(ctx, filepath.Join(*data, "pharmacy"), "sender.db", "pharmacy")
	if err != nil {
		return fmt.Errorf("serve: pharmacy sender storage: %w", err)
	}
	defer phDB.Close()
	users := web.NewStoreUsers(webDB.Users(), nil)
	if err := seedUsers(ctx, users, st.Users); err != nil {
		return fmt.Errorf("serve: %s: %w", statePath, err)
	}

	phase("storage")
	// Demo register: the same patients in the MESH register (GPPROVIDER
	// routing) and the practice register (matching).
	var patients []demoPatient
	if seed {
		patients = demoPatients()
	}
	fc := meshserver.FileConfig{SharedKey: st.SharedKey, Mailboxes: []meshserver.MailboxJSON{
		{ID: servePracticeMailbox, Password: st.PracticePassword, ODSCode: servePracticeODS, Name: servePracticeName},
		{ID: serveSenderMailbox, Password: st.SenderPassword, ODSCode: serveSenderODS, Name: serveSenderName},
		{ID: servePharmacyMailbox, Password: st.PharmacyPassword, ODSCode: servePharmacyODS, Name: servePharmacyName},
	}}
	for _, p := range patients {
		fc.Patients = append(fc.Patients, meshserver.PatientJSON{NHSNumber: p.nhs, BirthDate: p.birth, Surname: p.family, PracticeODS: servePracticeODS})
	}
	meshStore := meshDB.Mesh()
	if err := fc.Apply(ctx, meshStore); err != nil {
		return fmt.Errorf("serve: mesh mailboxes: %w", err)
	}
	msrv, err := meshserver.New(meshserver.Config{Store: meshStore, Blobs: meshBlobs, SharedKey: st.SharedKey, Logger: log.With("component", "mesh")})
	if err != nil {
		return fmt.Errorf("serve: mesh server: %w", err)
	}

	// MESH over loopback TLS with a CA made for this run.
	ca, err := meshserver.NewCA("gpcm serve local CA")
	if err != nil {
		return fmt.Errorf("serve: mesh CA: %w", err)
	}
	_, _, cert, err := ca.Issue("gpcm serve mesh", []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"}, false)
	if err != nil {
		return fmt.Errorf("serve: mesh certificate: %w", err)
	}
	meshLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serve: mesh listener: %w", err)
	}
	defer meshLn.Close()
	meshHS := newHTTPServer(msrv, httptimeout.Limits{}, meshserver.HTTPErrorLog(log))
	meshHS.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	meshURL := "https://" + meshLn.Addr().String()
	client := func(mailbox, password string) (*mesh.Client, error) {
		return mesh.NewClient(mesh.Config{URL: meshURL, Mailbox: mailbox, Password: password, SharedKey: st.SharedKey,
			TLS: mesh.TLSConfig{RootCAs: ca.Pool()}, Logger: log.With("component", "mesh-client", "mailbox", mailbox)})
	}
	rcvMesh, err := client(servePracticeMailbox, st.PracticePassword)
	if err != nil {
		return fmt.Errorf("serve: receiver mesh client: %w", err)
	}
	sndMesh, err := client(serveSenderMailbox, st.SenderPassword)
	if err != nil {
		return fmt.Errorf("serve: sender mesh client: %w", err)
	}
	phMesh, err := client(servePharmacyMailbox, st.PharmacyPassword)
	if err != nil {
		return fmt.Errorf("serve: pharmacy mesh client: %w", err)
	}

	rcfg.Store, rcfg.Blobs, rcfg.Mesh, rcfg.ODSCode, rcfg.Logger = rcvDB.Receiver(), rcvBlobs, rcvMesh, servePracticeODS, log.With("component", "receiver")
	rcv, err := receiver.New(rcfg)
	if err != nil {
		return fmt.Errorf("serve: receiver: %w", err)
	}
	if len(patients) > 0 {
		var csv strings.Builder
		csv.WriteString(receiver.RegisterHeader + "\n")
		for _, p := range patients {
			fmt.Fprintf(&csv, "%s,%s-%s-%s,%s,%s\n", p.nhs, p.birth[:4], p.birth[4:6], p.birth[6:], p.family, p.given)
		}
		if _, err := rcv.ImportRegister(ctx, strings.NewReader(csv.String()), "csv"); err != nil {
			return fmt.Errorf("serve: demo register: %w", err)
		}
	}
	svc, err := sender.New(sender.Config{Store: sndDB.Sender(), Mesh: sndMesh, Routing: sender.RouteAuto,
		PollInterval: 2 * time.Second, TrackInterval: time.Minute, SendInterval: 5 * time.Second,
		RenderPDF: senddoc.RenderReport, AllowTestNHSNumbers: true, Logger: log, EditWindow: *editWindow})
	if err != nil {
		return fmt.Errorf("serve: sender: %w", err)
	}
	// The demo pharmacy's outbox: its Update Records go to the patients'
	// GPPROVIDER_ addresses, and their acks come back to it.
	phSvc, err := sender.New(sender.Config{Store: phDB.Sender(), Mesh: phMesh, Routing: sender.RouteAuto,
		PollInterval: 2 * time.Second, TrackInterval: time.Minute, SendInterval: 5 * time.Second,
		AllowTestNHSNumbers: true, Logger: log.With("component", "pharmacy"), EditWindow: -1})
	if err != nil {
		return fmt.Errorf("serve: pharmacy sender: %w", err)
	}

	inbox := web.NewReceiverInbox(rcv, servePracticeODS, func(m string) string {
		switch m {
		case serveSenderMailbox:
			return serveSenderName
		case servePharmacyMailbox:
			return servePharmacyName
		}
		return m
	})
	outbox := web.NewSenderOutbox(svc, web.SenderOutboxConfig{Mailbox: serveSenderMailbox, Author: serveAuthor})
	ui, err := web.New(web.Config{Users: users, Inbox: inbox, Outbox: outbox, Mesh: meshStore, AuthFailures: web.MeshAuthFailures(msrv), Logger: log.With("component", "web"),
		Sessions: webDB.Sessions(), CookieKey: cookieKey, SecureCookies: *secureCookies, TrustedProxies: proxies})
	if err != nil {
		return fmt.Errorf("serve: web: %w", err)
	}
	webLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w (choose another with --listen)", *listen, err)
	}
	defer webLn.Close()
	webHS := newHTTPServer(ui, httptimeout.Limits{}, debugLog(log))
	// Open live-update streams never finish by themselves: end them as
	// soon as shutdown begins, so that it does not wait for them.
	webHS.RegisterOnShutdown(ui.Stop)

	phase("configured")
	// Start everything; stop in reverse order.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if err := msrv.Start(runCtx); err != nil {
		return fmt.Errorf("serve: mesh server: %w", err)
	}
	defer msrv.Stop()
	meshErr, webErr := make(chan error, 1), make(chan error, 1)
	go func() { meshErr <- meshHS.ServeTLS(meshLn, "", "") }()
	defer shutdown(meshHS, meshErr, meshShutdownGrace)
	if err := ui.Start(runCtx); err != nil {
		return fmt.Errorf("serve: web: %w", err)
	}
	defer ui.Stop()
	if err := rcv.Start(runCtx); err != nil {
		return fmt.Errorf("serve: receiver: %w", err)
	}
	defer rcv.Stop()
	if err := svc.Start(runCtx); err != nil {
		return fmt.Errorf("serve: sender: %w", err)
	}
	defer svc.Stop()
	if err := phSvc.Start(runCtx); err != nil {
		return fmt.Errorf("serve: pharmacy sender: %w", err)
	}
	defer phSvc.Stop()
	for _, w := range []*web.Watcher{inbox.WatchInbox(ui.Publish), outbox.WatchOutbox(ui.Publish, time.Second)} {
		if err := w.Start(runCtx); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer w.Stop()
	}
	go func() { webErr <- webHS.Serve(webLn) }()
	defer shutdown(webHS, webErr, webShutdownGrace)

	phase("started")
	if seed {
		if err := sendDemoReports(ctx, svc, patients); err != nil {
			return fmt.Errorf("serve: demo reports: %w", err)
		}
		updates, err := sendDemoUpdates(ctx, phSvc, patients, time.Now())
		if err != nil {
			return fmt.Errorf("serve: demo updates: %w", err)
		}
		phase("demo reports submitted")
		if err := awaitDemoLoop(ctx, []*sender.Service{svc, phSvc}, rcv, len(patients)+updates); err != nil {
			log.Warn("demo reports still on their way", "err", err)
		}
		st.DemoSeeded = true
		if err := saveServeState(statePath, st); err != nil {
			return fmt.Errorf("serve: saving %s: %w", statePath, err)
		}
	}
	// Startup (migrations, bcrypt, the demo PDFs) is the process's peak;
	// hand that memory back now rather than when the scavenger gets to it.
	debug.FreeOSMemory()

	url := "http://" + urlHost(webLn.Addr().(*net.TCPAddr))
	fmt.Fprintln(env.Stdout, url)
	if len(logins) > 0 {
		fmt.Fprintf(env.Stdout, "Demo logins (shown once; hashes kept in %s):\n", statePath)
		for _, l := range logins {
			fmt.Fprintf(env.Stdout, "  %-9s %s\n", l[0], l[1])
		}
	} else {
		fmt.Fprintf(env.Stdout, "Logins: practice, sender, admin (passwords as printed on the first start) and the accounts added since; manage them on the Users page or with gpcm users\n")
	}
	log.Info("gpcm serve ready", "web", url, "mesh", meshURL, "data", *data, "demo_seeded", seed, "secure_cookies", *secureCookies,
		"startup", time.Since(start).Round(time.Millisecond))

	select {
	case <-ctx.Done():
		log.Info("gpcm serve stopping")
		return nil
	case err := <-meshErr:
		meshErr <- err
		return fmt.Errorf("serve: mesh server: %w", err)
	case err := <-webErr:
		webErr <- err
		return fmt.Errorf("serve: web: %w", err)
	}
}

// seedUsers creates the logins of serve.json in the account store, each
// unless an account of that username exists: the store is the truth once
// an account is in it (a password changed or reset, or an account
// disabled, on the Users page or with gpcm users, stays so).
func seedUsers(ctx context.Context, users *web.StoreUsers, seed []serveUser) error {
	for _, u := range seed {
		err := users.CreateUser(ctx, web.User{Username: u.Username, Name: u.Name, Role: u.Role, ODS: u.ODS, PasswordHash: []byte(u.PasswordHash)})
		if err != nil && !errors.Is(err, web.ErrConflict) {
			return fmt.Errorf("seeding login %q: %w", u.Username, err)
		}
	}
	return nil
}

// ensureCookieKey returns the key that signs the login form's cookie,
// making and saving one in serve.json when it has none (a data directory
// from before it existed).
func ensureCookieKey(path string, st *serveState) ([]byte, error) {
	if st.CookieKey != "" {
		key, err := base64.StdEncoding.DecodeString(st.CookieKey)
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s: cookie_key is not base64 of at least 32 bytes (delete the line to make a new one)", path)
		}
		return key, nil
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	st.CookieKey = base64.StdEncoding.EncodeToString(key)
	if err := saveServeState(path, *st); err != nil {
		return nil, fmt.Errorf("saving %s: %w", path, err)
	}
	return key, nil
}

// prefixList is a flag of IP addresses and CIDR prefixes, comma-separated
// or repeated.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	var parts []string
	for _, x := range *p {
		parts = append(parts, x.String())
	}
	return strings.Join(parts, ",")
}

func (p *prefixList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(part); err == nil {
			*p = append(*p, pre.Masked())
			continue
		}
		ip, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR prefix (for example 10.0.0.2 or 10.0.0.0/24)", part)
		}
		*p = append(*p, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return nil
}

// Shutdown grace periods of gpcm serve, which must stop within 2 s
// (issue 24 §6) even with pages open. Forms already answered are durable
// (the stores commit before the reply), so cutting a slow request short
// loses nothing accepted.
const (
	// webShutdownGrace lets the web UI's requests in flight finish.
	webShutdownGrace = time.Second
	// meshShutdownGrace is short: the embedded MESH server's only clients
	// are this process's receiver and sender, stopped before it.
	meshShutdownGrace = 250 * time.Millisecond
)

// shutdown stops hs, letting requests in flight finish for up to grace,
// then closes what is left (http.Server.Shutdown would otherwise wait up
// to 5 s for a connection that never sent a request), and waits for its
// Serve call (whose result lands in served) to return.
func shutdown(hs *http.Server, served <-chan error, grace time.Duration) {
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-served
}

// awaitDemoLoop waits (at most 10 s) until the sender has handed the n
// demo reports to MESH, then wakes the receiver and waits until it has
// recorded them, so the inbox has data when the URL is printed.
func awaitDemoLoop(ctx context.Context, svcs []*sender.Service, rcv *receiver.Receiver, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	kicked := false
	for {
		if !kicked {
			left := 0
			for _, svc := range svcs {
				waiting, err := svc.Unsent(ctx, n)
				if err != nil {
					return err
				}
				left += len(waiting)
			}
			if left == 0 {
				rcv.Kick()
				kicked = true
			}
		} else {
			docs, err := rcv.ListDocuments(ctx, receiver.ListDocumentsParams{Limit: n})
			if err != nil {
				return err
			}
			if len(docs) >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

type demoPatient struct{ nhs, birth, family, given, gender string }

// demoPatients returns the demo register: valid test NHS numbers drawn
// from a fixed seed, so every fresh data directory gets the same ones.
func demoPatients() []demoPatient {
	r := mrand.New(mrand.NewPCG(2026, 9))
	ps := []demoPatient{
		{birth: "19670126", family: "Smith", given: "Jane", gender: "female"},
		{birth: "19800214", family: "Patel", given: "Arjun", gender: "male"},
		{birth: "19451103", family: "Jones", given: "Megan", gender: "female"},
		{birth: "20010530", family: "Okafor", given: "David", gender: "male"},
	}
	for i := range ps {
		ps[i].nhs = patient.GenerateTestNHSNumber(r)
	}
	return ps
}

// sendDemoReports submits one consultation report per demo patient to the
// sender (a consultation summary is always For Action); the last names the patient with another given name, so the
// receiver holds it for a person to match.
func sendDemoReports(ctx context.Context, svc *sender.Service, ps []demoPatient) error {
	for i, p := range ps {
		in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
		in.SenderMailbox = serveSenderMailbox
		in.RecipientMailbox = ""
		in.Author = serveAuthor
		in.RegisteredPractice = &senddoc.OrganisationInput{ODSCode: servePracticeODS, Name: servePracticeName}
		given := p.given
		if i == len(ps)-1 {
			given = "Dave"
		}
		in.Patient.NHSNumber, in.Patient.Family, in.Patient.Given, in.Patient.Prefix = p.nhs, p.family, []string{given}, ""
		in.Patient.BirthDate, in.Patient.Gender = p.birth[:4]+"-"+p.birth[4:6]+"-"+p.birth[6:], p.gender
		in.PDF = nil
		if _, _, err := svc.Submit(ctx, sender.Submission{Input: &in, Key: fmt.Sprintf("gpcm-serve-demo-%d", i+1), SendNow: true}); err != nil {
			return err
		}
	}
	return nil
}

// sendDemoUpdates submits the demo pharmacy's GP Connect Update Records
// (updaterecord.DemoInputs: a Blood Pressure Check with a raised reading,
// Pharmacy First, an urgent supply, contraception) about the first demo
// patient, and a Blood Pressure Check about the second, to the pharmacy's
// outbox; it returns how many.
func sendDemoUpdates(ctx context.Context, svc *sender.Service, ps []demoPatient, now time.Time) (int, error) {
	var ins []updaterecord.Input
	for i, p := range ps[:min(2, len(ps))] {
		pt := updaterecord.PatientInput{NHSNumber: p.nhs, Family: p.family, Given: []string{p.given},
			BirthDate: p.birth[:4] + "-" + p.birth[4:6] + "-" + p.birth[6:], Gender: p.gender}
		got := updaterecord.DemoInputs(pt, now.Add(-time.Duration(i)*30*time.Hour))
		if i > 0 {
			got = got[:1]
		}
		ins = append(ins, got...)
	}
	for i := range ins {
		in := &ins[i]
		in.SenderMailbox = servePharmacyMailbox
		in.Pharmacy.ODSCode, in.Pharmacy.Name = servePharmacyODS, servePharmacyName
		if _, _, err := svc.Submit(ctx, sender.Submission{UpdateRecord: in, Key: fmt.Sprintf("gpcm-serve-demo-update-%d", i+1), SendNow: true}); err != nil {
			return 0, err
		}
	}
	return len(ins), nil
}
