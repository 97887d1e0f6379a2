package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/html"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// Test accounts; every one has password testPassword.
const testPassword = "correct horse battery staple"

var testAccounts = []web.User{
	{Username: "practice-a", Name: "Pat Practice", Role: web.RolePractice, ODS: "A11111"},
	{Username: "practice-b", Name: "Bea Practice", Role: web.RolePractice, ODS: "B22222"},
	{Username: "sender", Name: "Sam Sender", Role: web.RoleSender, ODS: "X99"},
	{Username: "admin", Name: "Ada Admin", Role: web.RoleAdmin},
}

var (
	usersOnce sync.Once
	users     *web.MemUsers
)

// testUsers hashes the accounts once per test binary, at bcrypt's minimum
// cost so that logins stay fast under the race detector.
func testUsers(tb testing.TB) *web.MemUsers {
	tb.Helper()
	usersOnce.Do(func() {
		users = web.NewMemUsers()
		h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		for _, u := range testAccounts {
			u.PasswordHash = h
			if err := users.Put(u); err != nil {
				panic(err)
			}
		}
	})
	return users
}

// testLogger sends component logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testEnv is a running UI over loopback with test back ends.
type testEnv struct {
	t      *testing.T
	srv    *web.Server
	ts     *httptest.Server
	inbox  *memInbox
	outbox *memOutbox
}

// MustServer starts the UI on loopback with in-memory back ends (cfg may
// override them) and stops it when the test ends.
func MustServer(t *testing.T, cfg web.Config) *testEnv {
	t.Helper()
	env := &testEnv{t: t, inbox: newMemInbox(), outbox: newMemOutbox()}
	if cfg.Users == nil {
		cfg.Users = testUsers(t)
	}
	if cfg.Inbox == nil {
		cfg.Inbox = env.inbox
	}
	if cfg.Outbox == nil {
		cfg.Outbox = env.outbox
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	if err := srv.Start(context.WithoutCancel(t.Context())); err != nil {
		t.Fatalf("Start: %v", err)
	}
	env.srv = srv
	env.ts = httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Stop() // closes event streams first so Close does not wait on them
		env.ts.Close()
	})
	return env
}

// client is one browser: a cookie jar and the last CSRF token seen.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
	// from, if set, is sent as X-Forwarded-For: the client's address for
	// a server that trusts loopback proxies.
	from string
}

func (e *testEnv) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.ts.URL, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// login signs in as username and fails the test if it does not work.
func (e *testEnv) login(username string) *client {
	e.t.Helper()
	c := e.newClient()
	c.get("/login")
	res, _ := c.postForm("/login", url.Values{"username": {username}, "password": {testPassword}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		e.t.Fatalf("login as %s: got %d at %s, want 200 away from /login", username, res.StatusCode, res.Request.URL.Path)
	}
	return c
}

// do sends a request and reads the body, remembering any CSRF token shown.
func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	if c.from != "" {
		req.Header.Set("X-Forwarded-For", c.from)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if doc, err := html.Parse(bytes.NewReader(b)); err == nil {
			if n := htmlcheck.MustSelector(`input[name=csrf_token]`).First(doc); n != nil {
				c.csrf, _ = htmlcheck.Attr(n, "value")
			}
		}
	}
	return res, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.base+path, nil)
	return c.do(req)
}

// postForm posts form with the client's CSRF token added (unless form
// already has the field).
func (c *client) postForm(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.csrf)
	}
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// postMultipart posts fields and one file as multipart/form-data with the
// CSRF token.
func (c *client) postMultipart(path string, fields map[string]string, fileField, fileName string, file []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", c.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := mw.CreateFormFile(fileField, fileName)
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// mustHTML checks a page with htmlcheck and fails the test on a mismatch.
func mustHTML(t *testing.T, body string, checks ...htmlcheck.Checker) {
	t.Helper()
	if err := htmlcheck.Run(strings.NewReader(body), checks...); err != nil {
		t.Fatal(err)
	}
}

// memInbox is a test Inbox: documents of several practices in memory,
// scoped by practice as the receiver must.
type memInbox struct {
	mu       sync.Mutex
	docs     map[string]web.Document
	pdf      []byte
	register map[string][]web.RegisterPatient // by practice
}

func newMemInbox() *memInbox {
	return &memInbox{docs: map[string]web.Document{}, pdf: []byte("%PDF-1.4 test\n")}
}

func (m *memInbox) add(d web.Document) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[d.ID] = d
}

func (m *memInbox) ListDocuments(_ context.Context, ods string, f web.DocumentFilter) (web.DocumentPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []web.DocumentSummary{}
	for _, d := range m.docs {
		switch {
		case d.PracticeODS != ods,
			f.State != "" && d.State != f.State,
			f.Type != "" && d.Type != f.Type,
			f.Action == "action" && !d.ForAction,
			f.Action == "information" && d.ForAction,
			!f.From.IsZero() && d.ReceivedAt.Before(f.From),
			!f.To.IsZero() && !d.ReceivedAt.Before(f.To),
			f.NHSNumber != "" && d.NHSNumber != f.NHSNumber,
			f.Name != "" && !strings.Contains(strings.ToUpper(d.PatientName), strings.ToUpper(f.Name)),
			!f.BirthDate.IsZero() && !d.BirthDate.Equal(f.BirthDate),
			f.AssignedTo != "" && d.AssignedTo != f.AssignedTo:
			continue
		}
		out = append(out, d.DocumentSummary)
	}
	sort.Slice(out, func(i, j int) bool {
		if f.Sort == web.SortNewest {
			return out[i].ReceivedAt.After(out[j].ReceivedAt)
		}
		return out[i].ReceivedAt.Before(out[j].ReceivedAt)
	})
	total := len(out)
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return web.DocumentPage{Documents: out, Total: total}, nil
}

func (m *memInbox) CountDocuments(_ context.Context, ods string) (map[web.DocumentState]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := map[web.DocumentState]int{}
	for _, d := range m.docs {
		if d.PracticeODS == ods {
			c[d.State]++
		}
	}
	return c, nil
}

func (m *memInbox) GetDocument(_ context.Context, ods, id string) (web.Document, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || d.PracticeODS != ods {
		return web.Document{}, fmt.Errorf("document %s: %w", id, web.ErrNotFound)
	}
	return d, nil
}

func (m *memInbox) OpenPDF(ctx context.Context, ods, id string) (io.ReadCloser, error) {
	if _, err := m.GetDocument(ctx, ods, id); err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(m.pdf)), nil
}

func (m *memInbox) transition(ods, id string, from []web.DocumentState, to web.DocumentState, event, detail, user string, change func(*web.Document)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || d.PracticeODS != ods {
		return fmt.Errorf("document %s: %w", id, web.ErrNotFound)
	}
	if !slices.Contains(from, d.State) {
		return fmt.Errorf("document %s is %s: %w", id, d.State, web.ErrConflict)
	}
	d.State = to
	if change != nil {
		change(&d)
	}
	d.History = append(d.History, web.HistoryEvent{At: time.Now(), Event: event, Detail: detail, By: user})
	m.docs[id] = d
	return nil
}

func (m *memInbox) File(_ context.Context, ods, id, user string) error {
	return m.transition(ods, id, []web.DocumentState{web.StateAwaitingFiling}, web.StateFiled, "Filed", "", user, nil)
}

func (m *memInbox) Match(ctx context.Context, ods, id, nhs, reason, user string) error {
	m.mu.Lock()
	reg := m.register[ods]
	m.mu.Unlock()
	var chosen *web.RegisterPatient
	for _, p := range reg {
		if p.NHSNumber == nhs {
			chosen = &p
		}
	}
	switch {
	case reg != nil && chosen == nil:
		return &web.RefusedError{Reason: "That NHS number is not on the practice register"}
	case chosen != nil && !chosen.Matchable:
		return &web.RefusedError{Reason: chosen.Reason}
	}
	return m.transition(ods, id, []web.DocumentState{web.StateUnmatched}, web.StateAwaitingFiling, "Matched by hand", "", user,
		func(d *web.Document) {
			if chosen != nil {
				d.AsSent = &web.PatientDetails{NHSNumber: d.NHSNumber, Name: d.PatientName, BirthDate: d.BirthDate}
				d.PatientName, d.BirthDate = chosen.Name, chosen.BirthDate
			}
			d.NHSNumber = nhs
		})
}

// FindPatients searches the practice's test register.
func (m *memInbox) FindPatients(_ context.Context, ods string, q web.PatientQuery) ([]web.RegisterPatient, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []web.RegisterPatient
	for _, p := range m.register[ods] {
		family, _, _ := strings.Cut(p.Name, ",")
		if (q.NHSNumber != "" && p.NHSNumber == q.NHSNumber) ||
			(q.NHSNumber == "" && strings.EqualFold(family, q.Family) && p.BirthDate.Equal(q.BirthDate)) {
			out = append(out, p)
		}
	}
	return out, nil
}

var _ web.RegisterSearch = (*memInbox)(nil)

func (m *memInbox) Reject(_ context.Context, ods, id, reason, user string) error {
	return m.transition(ods, id, []web.DocumentState{web.StateAwaitingFiling, web.StateUnmatched}, web.StateRejected, "Rejected", reason, user,
		func(d *web.Document) { d.RejectReason = reason })
}

func (m *memInbox) Assign(_ context.Context, ods, id, to, user string) error {
	return m.annotate(ods, id, "Assigned", "to "+to, user, func(d *web.Document) { d.AssignedTo = to })
}

func (m *memInbox) Note(_ context.Context, ods, id, note, user string) error {
	return m.annotate(ods, id, "Note", note, user, nil)
}

func (m *memInbox) annotate(ods, id, event, detail, user string, change func(*web.Document)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	if !ok || d.PracticeODS != ods {
		return fmt.Errorf("document %s: %w", id, web.ErrNotFound)
	}
	if change != nil {
		change(&d)
	}
	d.History = append(d.History, web.HistoryEvent{At: time.Now(), Event: event, Detail: detail, By: user})
	m.docs[id] = d
	return nil
}

var _ web.Inbox = (*memInbox)(nil)

// memOutbox is a test Outbox scoped by sending organisation.
type memOutbox struct {
	mu     sync.Mutex
	sent   []senddoc.Input
	inputs map[string]senddoc.Input
	tx     map[string]web.Transmission
	alerts []web.Alert
	keys   map[string]string // idempotency key → transmission
}

func newMemOutbox() *memOutbox { return &memOutbox{tx: map[string]web.Transmission{}} }

func (m *memOutbox) add(t web.Transmission, alert string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tx[t.ID] = t
	if alert != "" {
		m.alerts = append(m.alerts, web.Alert{ID: "al-" + t.ID, TransmissionID: t.ID, RaisedAt: t.UpdatedAt, Reason: alert})
	}
}

func (m *memOutbox) ListTransmissions(_ context.Context, ods string, f web.TransmissionFilter) ([]web.Transmission, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []web.Transmission
	for _, t := range m.tx {
		if t.SenderODS == ods && (f.State == "" || f.State == t.State) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

func (m *memOutbox) GetTransmission(_ context.Context, ods, id string) (web.Transmission, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tx[id]
	if !ok || t.SenderODS != ods {
		return web.Transmission{}, fmt.Errorf("transmission %s: %w", id, web.ErrNotFound)
	}
	_, hasInput := m.inputs[id]
	t.CanReplace = hasInput && (t.State == "sent" || t.State == "complete") && t.ReplacedBy == ""
	return t, nil
}

func (m *memOutbox) ListAlerts(_ context.Context, ods string) ([]web.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []web.Alert
	for _, a := range m.alerts {
		if m.tx[a.TransmissionID].SenderODS == ods {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memOutbox) Resend(_ context.Context, ods, id, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tx[id]
	if !ok || t.SenderODS != ods {
		return fmt.Errorf("transmission %s: %w", id, web.ErrNotFound)
	}
	if !t.Failed {
		return fmt.Errorf("transmission %s is %s: %w", id, t.State, web.ErrConflict)
	}
	t.State, t.Failed = "queued", false
	t.Timeline = append(t.Timeline, web.TransmissionEvent{At: time.Now(), State: "queued", Detail: "resent by " + user})
	m.tx[id] = t
	return nil
}

var _ web.Outbox = (*memOutbox)(nil)

// seed puts documents of two practices and transmissions of two senders in
// the env's back ends.
func (e *testEnv) seed() {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	e.inbox.add(web.Document{
		DocumentSummary: web.DocumentSummary{ID: "doc-a1", PracticeODS: "A11111", State: web.StateAwaitingFiling, Type: "Consultation report",
			ForAction: true, ReceivedAt: now, PatientName: "Alice ALPHA", NHSNumber: "9990000018", Sender: "Demo Urgent Care (X99)"},
		MeshMessageID: "20261124100000000000_AAAAAA", MeshSubject: "Consultation report for Alice ALPHA", HasPDF: true,
		History: []web.HistoryEvent{{At: now, Event: "Received"}, {At: now, Event: "Infrastructure acknowledgement sent"}},
	})
	e.inbox.add(web.Document{
		DocumentSummary: web.DocumentSummary{ID: "doc-a2", PracticeODS: "A11111", State: web.StateUnmatched, Type: "Consultation report",
			ReceivedAt: now.Add(-time.Hour), PatientName: "Unknown UNMATCHED", NHSNumber: "9990000026", Sender: "Demo Urgent Care (X99)"},
	})
	e.inbox.add(web.Document{
		DocumentSummary: web.DocumentSummary{ID: "doc-b1", PracticeODS: "B22222", State: web.StateAwaitingFiling, Type: "Consultation report",
			ReceivedAt: now, PatientName: "Bob BRAVO-SECRET", NHSNumber: "9990000034", Sender: "Demo Urgent Care (X99)"},
	})
	e.outbox.add(web.Transmission{ID: "tx-1", SenderODS: "X99", State: "complete", Recipient: "A11111", DocumentType: "Consultation report",
		CreatedAt: now, UpdatedAt: now, Timeline: []web.TransmissionEvent{{At: now, State: "queued"}, {At: now, State: "complete"}}}, "")
	e.outbox.add(web.Transmission{ID: "tx-2", SenderODS: "X99", State: "failed", Failed: true, Recipient: "A11111", DocumentType: "Consultation report",
		CreatedAt: now.Add(-time.Hour), UpdatedAt: now}, "No business acknowledgement within 48 hours")
	e.outbox.add(web.Transmission{ID: "tx-other", SenderODS: "Y88", State: "failed", Failed: true, Recipient: "B22222", DocumentType: "Consultation report",
		CreatedAt: now, UpdatedAt: now}, "Other organisation's alert")
}

type htmlNode = html.Node

// fsWalk calls f with every file of fsys.
func fsWalk(fsys fs.FS, f func(string, []byte)) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f(p, b)
		return nil
	})
}

// complete fills what the sender back end knows about itself.
func (m *memOutbox) complete(ods string, in senddoc.Input) senddoc.Input {
	in.Generation = senddoc.GenerationV1
	in.SenderMailbox = ods + "OT001"
	in.Author = senddoc.OrganisationInput{ODSCode: ods, Name: "Demo Urgent Care", Phone: "01234 567890"}
	if len(in.PDF) == 0 {
		in.PDF = senddoc.ExamplePDF()
	}
	return in
}

// check builds and validates with senddoc, as the sender would.
func (m *memOutbox) check(ctx context.Context, ods string, in senddoc.Input) error {
	in = m.complete(ods, in)
	built, err := senddoc.Build(in, senddoc.BuildOptions{})
	if err != nil {
		return err
	}
	xml, err := built.XML()
	if err != nil {
		return err
	}
	rep, err := senddoc.ValidateBytes(ctx, xml, senddoc.Options{})
	if err != nil {
		return err
	}
	if rep.Errors() > 0 {
		return &web.ReportRefusedError{Report: rep}
	}
	return nil
}

func (m *memOutbox) SendReport(ctx context.Context, ods string, in senddoc.Input, user, key string) (string, error) {
	m.mu.Lock()
	id, seen := m.keys[key]
	m.mu.Unlock()
	if key != "" && seen {
		return id, nil
	}
	if err := m.check(ctx, ods, in); err != nil {
		return "", err
	}
	id = m.store(ods, in, user, "")
	if key != "" {
		m.mu.Lock()
		if m.keys == nil {
			m.keys = map[string]string{}
		}
		m.keys[key] = id
		m.mu.Unlock()
	}
	return id, nil
}

// store records a sent report as a queued transmission (replacing
// transmission replaces, if set) and returns its id.
func (m *memOutbox) store(ods string, in senddoc.Input, user, replaces string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, in)
	id := fmt.Sprintf("tx-sent-%d", len(m.sent))
	now := time.Now()
	if m.inputs == nil {
		m.inputs = map[string]senddoc.Input{}
	}
	m.inputs[id] = in
	m.tx[id] = web.Transmission{ID: id, SenderODS: ods, State: "queued", Recipient: "GPPROVIDER", DocumentType: "Consultation report",
		CreatedAt: now, UpdatedAt: now, Timeline: []web.TransmissionEvent{{At: now, State: "queued", Detail: "by " + user}},
		Replacement: replaces != "", Replaces: replaces}
	if replaces != "" {
		old := m.tx[replaces]
		old.ReplacedBy = id
		m.tx[replaces] = old
	}
	return id
}

// setState moves a transmission to state (a test stands in for MESH and
// the practice).
func (m *memOutbox) setState(id, state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tx[id]
	t.State = state
	m.tx[id] = t
}

var _ web.ReportSender = (*memOutbox)(nil)

// OriginalReport returns the input a sent or complete transmission was
// built from, as the sender adapter does.
func (m *memOutbox) OriginalReport(ctx context.Context, ods, id string) (senddoc.Input, error) {
	t, err := m.GetTransmission(ctx, ods, id)
	if err != nil {
		return senddoc.Input{}, err
	}
	if !t.CanReplace {
		return senddoc.Input{}, fmt.Errorf("transmission %s: %w", id, web.ErrConflict)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	in := m.inputs[id]
	in.Replaces = &senddoc.Replacement{DocumentID: replacedDocID}
	in.Version = max(in.Version, 1) + 1
	return in, nil
}

func (m *memOutbox) ReplaceReport(ctx context.Context, ods, id string, in senddoc.Input, user string) (string, error) {
	if _, err := m.OriginalReport(ctx, ods, id); err != nil {
		return "", err
	}
	if err := m.check(ctx, ods, in); err != nil {
		return "", err
	}
	return m.store(ods, in, user, id), nil
}

var _ web.ReportReplacer = (*memOutbox)(nil)

// replacedDocID is the Composition identifier memOutbox reports for every
// transmission it replaces.
const replacedDocID = "0b5c2a1e-7a1d-4c59-9a57-3f2a8d1c9e44"

// listDocs is the rows of a ListDocuments page.
func listDocs(p web.DocumentPage, err error) ([]web.DocumentSummary, error) {
	return p.Documents, err
}
