package mesh_test

// An in-test MESH server over loopback HTTPS with mutual TLS. It implements
// only what these tests exercise and stands in until gpcm's meshserver (and
// its meshtest helper) can be used. It checks every NHSMESH token with the
// package's own ParseAuthorization/Verify, including single use.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

const (
	testKey = "TestKey"
	testPW  = "password"
)

type fakeMsg struct {
	id, from, to, workflow, localID, subject, filename, checksum, ctype, encoding string
	msgType, linked, statusCode, statusDesc                                       string
	total                                                                         int
	chunks                                                                        map[int]string // chunk number -> file
	status                                                                        string
	seq                                                                           int
}

type fakeMESH struct {
	t       testing.TB
	dir     string
	mu      sync.Mutex
	boxes   map[string]bool // mailbox -> active
	msgs    map[string]*fakeMsg
	seq     int
	ids     mesh.IDGenerator
	seen    map[string]bool // used tokens
	posts   int             // first POSTs that created a message
	hook    func(w http.ResponseWriter, r *http.Request) bool
	lookups map[string][]mesh.LookupResult
}

func newFakeMESH(t testing.TB, mailboxes ...string) *fakeMESH {
	f := &fakeMESH{t: t, dir: t.TempDir(), boxes: map[string]bool{}, msgs: map[string]*fakeMsg{}, seen: map[string]bool{},
		lookups: map[string][]mesh.LookupResult{}}
	for _, m := range mailboxes {
		f.boxes[m] = true
	}
	return f
}

func (f *fakeMESH) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

func (f *fakeMESH) messagesCreated() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts
}

func (f *fakeMESH) fail(w http.ResponseWriter, status int, event, code string) {
	mesh.WriteError(w, 2, mesh.NewError(status, event, code))
}

// auth checks the token and returns the caller's mailbox.
func (f *fakeMESH) auth(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok, err := mesh.ParseAuthorization(r.Header.Get("Authorization"))
	if err == nil {
		err = tok.Verify(testKey, testPW, time.Now(), mesh.DefaultAuthWindow)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := tok.Mailbox + ":" + tok.Nonce + ":" + tok.NonceCount
	if err == nil && f.seen[key] {
		err = fmt.Errorf("replayed token")
	}
	mb := strings.ToUpper(r.PathValue("mb"))
	if err == nil && tok.Mailbox != mb && mb != "" {
		err = fmt.Errorf("mailbox mismatch")
	}
	if err == nil && !f.boxes[tok.Mailbox] {
		err = fmt.Errorf("inactive or unknown mailbox")
	}
	if err != nil {
		f.t.Logf("fake MESH: 403: %v", err)
		w.WriteHeader(http.StatusForbidden)
		return "", false
	}
	f.seen[key] = true
	return tok.Mailbox, true
}

func (f *fakeMESH) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /messageexchange/{mb}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.auth(w, r); !ok {
			return
		}
		for _, h := range []string{mesh.HeaderClientVersion, mesh.HeaderOSName, mesh.HeaderOSVersion} {
			if r.Header.Get(h) == "" {
				f.fail(w, 400, mesh.EventTransfer, mesh.CodeMalformedHeaders)
				return
			}
		}
		w.Header().Set("Content-Type", mesh.MediaTypeV2)
	})
	mux.HandleFunc("POST /messageexchange/{mb}/outbox", f.send)
	mux.HandleFunc("POST /messageexchange/{mb}/outbox/{id}/{n}", f.chunk)
	mux.HandleFunc("GET /messageexchange/{mb}/inbox", f.inbox)
	mux.HandleFunc("GET /messageexchange/{mb}/inbox/{id}", f.download)
	mux.HandleFunc("HEAD /messageexchange/{mb}/inbox/{id}", f.download)
	mux.HandleFunc("GET /messageexchange/{mb}/inbox/{id}/{n}", f.download)
	mux.HandleFunc("PUT /messageexchange/{mb}/inbox/{id}/status/acknowledged", f.ack)
	mux.HandleFunc("GET /messageexchange/{mb}/count", func(w http.ResponseWriter, r *http.Request) {
		mb, ok := f.auth(w, r)
		if !ok {
			return
		}
		f.mu.Lock()
		n := len(f.inboxOf(mb, nil))
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(mesh.CountResponse{Count: n})
	})
	mux.HandleFunc("GET /messageexchange/{mb}/outbox/tracking", func(w http.ResponseWriter, r *http.Request) {
		mb, ok := f.auth(w, r)
		if !ok {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		m := f.msgs[r.URL.Query().Get("messageID")]
		if m == nil || m.from != mb {
			f.fail(w, 404, mesh.EventReceive, mesh.CodeMessageDoesNotExist)
			return
		}
		_ = json.NewEncoder(w).Encode(mesh.Tracking{MessageID: m.id, LocalID: m.localID, WorkflowID: m.workflow, Recipient: m.to, Status: m.status})
	})
	mux.HandleFunc("GET /messageexchange/{mb}/outbox/tracking/{local}", func(w http.ResponseWriter, r *http.Request) {
		mb, ok := f.auth(w, r)
		if !ok {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		var found []*fakeMsg
		for _, m := range f.msgs {
			if m.from == mb && m.localID == r.PathValue("local") {
				found = append(found, m)
			}
		}
		switch len(found) {
		case 0:
			f.fail(w, 404, mesh.EventReceive, mesh.CodeMessageDoesNotExist)
		case 1:
			st := strings.ToUpper(found[0].status[:1]) + found[0].status[1:]
			_ = json.NewEncoder(w).Encode(mesh.TrackingV1{MessageID: found[0].id, DTSID: found[0].id, Status: st, LocalID: &found[0].localID})
		default:
			w.WriteHeader(http.StatusMultipleChoices)
		}
	})
	lookup := func(w http.ResponseWriter, r *http.Request) {
		res := f.lookups[r.PathValue("ods")+"/"+r.PathValue("wf")]
		if r.PathValue("ods") == "" {
			res = f.lookups[r.PathValue("wf")]
		}
		_ = json.NewEncoder(w).Encode(mesh.LookupResponse{Results: append([]mesh.LookupResult{}, res...)})
	}
	lookups := http.NewServeMux() // separate: these patterns overlap the mailbox ones
	lookups.HandleFunc("GET /messageexchange/endpointlookup/{ods}/{wf}", lookup)
	lookups.HandleFunc("GET /messageexchange/workflowsearch/{wf}", lookup)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.hook
		f.mu.Unlock()
		if h != nil && h(w, r) {
			return
		}
		if r.Header.Get("Accept") != mesh.MediaTypeV2 {
			f.t.Errorf("fake MESH: Accept %q", r.Header.Get("Accept"))
		}
		if strings.HasPrefix(r.URL.Path, "/messageexchange/endpointlookup/") || strings.HasPrefix(r.URL.Path, "/messageexchange/workflowsearch/") {
			lookups.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (f *fakeMESH) store(id string, n int, r io.Reader) (string, int64, error) {
	name := filepath.Join(f.dir, id+"."+strconv.Itoa(n))
	file, err := os.Create(name)
	if err != nil {
		return "", 0, err
	}
	defer file.Close()
	size, err := io.Copy(file, io.LimitReader(r, mesh.MaxRequestBytes+1))
	return name, size, err
}

func (f *fakeMESH) send(w http.ResponseWriter, r *http.Request) {
	mb, ok := f.auth(w, r)
	if !ok {
		return
	}
	cr, err := mesh.ParseChunkRange(r.Header.Get(mesh.HeaderChunkRange))
	if err != nil || cr.N != 1 {
		f.fail(w, 417, mesh.EventSend, mesh.CodeInvalidHeaderChunks)
		return
	}
	to := strings.ToUpper(strings.TrimSpace(r.Header.Get(mesh.HeaderTo)))
	f.mu.Lock()
	_, known := f.boxes[to]
	id := f.ids.New(time.Now())
	f.mu.Unlock()
	if r.Header.Get(mesh.HeaderWorkflowID) == "" || to == "" {
		f.fail(w, 400, mesh.EventSend, mesh.CodeMissingTo)
		return
	}
	if !known {
		e := mesh.NewError(417, mesh.EventSend, mesh.CodeUnregisteredRecipient)
		e.MessageID = id
		mesh.WriteError(w, 2, e)
		return
	}
	file, size, err := f.store(id, 1, r.Body)
	if err != nil {
		w.WriteHeader(500)
		return
	}
	if size == 0 {
		f.fail(w, 417, mesh.EventCollect, mesh.CodeMissingData)
		return
	}
	m := &fakeMsg{id: id, from: mb, to: to, workflow: r.Header.Get(mesh.HeaderWorkflowID), localID: r.Header.Get(mesh.HeaderLocalID),
		subject: r.Header.Get(mesh.HeaderSubject), filename: r.Header.Get(mesh.HeaderFileName), checksum: r.Header.Get(mesh.HeaderContentChecksum),
		ctype: r.Header.Get(mesh.HeaderMexContentType), encoding: r.Header.Get(mesh.HeaderContentEncoding), msgType: mesh.MessageTypeData,
		total: cr.Total, chunks: map[int]string{1: file}, status: mesh.StatusUploading}
	if cr.Total == 1 {
		m.status = mesh.StatusAccepted
	}
	f.mu.Lock()
	f.seq++
	m.seq = f.seq
	f.msgs[id] = m
	f.posts++
	f.mu.Unlock()
	w.Header().Set("Content-Type", mesh.MediaTypeV2)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(mesh.SendResponse{MessageID: id})
}

func (f *fakeMESH) chunk(w http.ResponseWriter, r *http.Request) {
	mb, ok := f.auth(w, r)
	if !ok {
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	f.mu.Lock()
	m := f.msgs[r.PathValue("id")]
	f.mu.Unlock()
	cr, err := mesh.ParseChunkRange(r.Header.Get(mesh.HeaderChunkRange))
	switch {
	case m == nil:
		f.fail(w, 404, mesh.EventSend, mesh.CodeMessageDoesNotExist)
		return
	case m.from != mb:
		w.WriteHeader(403)
		return
	case err != nil || cr.N != n || cr.Total != m.total || n < 2:
		f.fail(w, 417, mesh.EventSend, mesh.CodeInvalidHeaderChunks)
		return
	case r.Header.Get(mesh.HeaderContentEncoding) != m.encoding:
		f.fail(w, 417, mesh.EventSend, mesh.CodeInvalidHeaderChunks)
		return
	}
	file, _, err := f.store(m.id, n, r.Body)
	if err != nil {
		w.WriteHeader(500)
		return
	}
	f.mu.Lock()
	if m.status != mesh.StatusUploading {
		f.mu.Unlock()
		w.WriteHeader(http.StatusLocked)
		return
	}
	m.chunks[n] = file
	if len(m.chunks) == m.total {
		m.status = mesh.StatusAccepted
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(mesh.SendResponse{MessageID: m.id})
}

// inboxOf lists accepted messages to mb passing filter, oldest first. Call with f.mu held.
func (f *fakeMESH) inboxOf(mb string, filter *mesh.WorkflowFilter) []*fakeMsg {
	var out []*fakeMsg
	for _, m := range f.msgs {
		if m.to == mb && m.status == mesh.StatusAccepted && (filter == nil || filter.Match(m.workflow)) {
			out = append(out, m)
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort by seq; fine for test sizes
		for j := i; j > 0 && out[j].seq < out[j-1].seq; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (f *fakeMESH) inbox(w http.ResponseWriter, r *http.Request) {
	mb, ok := f.auth(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	max := 500
	if s := q.Get("max_results"); s != "" {
		max, _ = strconv.Atoi(s)
		if max < 10 || max > 5000 {
			w.WriteHeader(400)
			return
		}
	}
	var filter *mesh.WorkflowFilter
	if s := q.Get("workflow_filter"); s != "" {
		wf, err := mesh.ParseWorkflowFilter(s)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		filter = &wf
	}
	after := 0
	if c := q.Get("continue_from"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		num, _, _ := strings.Cut(strings.TrimPrefix(string(b), "after-seq-"), "-")
		after, _ = strconv.Atoi(num)
	}
	f.mu.Lock()
	all := f.inboxOf(mb, filter)
	f.mu.Unlock()
	resp := mesh.InboxResponse{Messages: []string{}, ApproxInboxCount: len(all)}
	last := 0
	for _, m := range all {
		if m.seq <= after {
			continue
		}
		if len(resp.Messages) == max {
			q.Set("continue_from", base64.RawURLEncoding.EncodeToString([]byte("after-seq-"+strconv.Itoa(last)+strings.Repeat("-", 20))))
			resp.Links.Next = r.URL.Path + "?" + q.Encode()
			break
		}
		resp.Messages = append(resp.Messages, m.id)
		last = m.seq
	}
	resp.Links.Self = r.URL.RequestURI()
	w.Header().Set("Content-Type", mesh.MediaTypeV2)
	_ = json.NewEncoder(w).Encode(resp)
}

func (f *fakeMESH) download(w http.ResponseWriter, r *http.Request) {
	mb, ok := f.auth(w, r)
	if !ok {
		return
	}
	n := 1
	if s := r.PathValue("n"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	f.mu.Lock()
	m := f.msgs[strings.ToUpper(r.PathValue("id"))]
	f.mu.Unlock()
	switch {
	case m == nil || (m.total > 0 && (n < 1 || n > m.total)):
		f.fail(w, 404, mesh.EventReceive, mesh.CodeMessageDoesNotExist)
		return
	case m.to != mb:
		w.WriteHeader(403)
		return
	case m.status != mesh.StatusAccepted:
		w.WriteHeader(410)
		return
	}
	h := w.Header()
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(mesh.HeaderMessageID, m.id)
	set(mesh.HeaderMessageType, m.msgType)
	set(mesh.HeaderFrom, m.from)
	set(mesh.HeaderTo, m.to)
	set(mesh.HeaderWorkflowID, m.workflow)
	set(mesh.HeaderLocalID, m.localID)
	set(mesh.HeaderSubject, m.subject)
	set(mesh.HeaderFileName, m.filename)
	set(mesh.HeaderContentChecksum, m.checksum)
	set(mesh.HeaderMexContentType, m.ctype)
	set(mesh.HeaderLinkedMsgID, m.linked)
	if m.msgType == mesh.MessageTypeReport {
		set(mesh.HeaderStatusCode, m.statusCode)
		set(mesh.HeaderStatusDescription, m.statusDesc)
		set(mesh.HeaderStatusSuccess, mesh.StatusSuccessError)
		set(mesh.HeaderStatusEvent, mesh.EventSend)
		h.Set(mesh.HeaderChunkRange, "1:0")
		w.WriteHeader(200)
		return
	}
	set(mesh.HeaderStatusCode, mesh.CodeSuccess)
	set(mesh.HeaderStatusSuccess, mesh.StatusSuccessOK)
	set(mesh.HeaderContentEncoding, m.encoding)
	h.Set(mesh.HeaderChunkRange, mesh.ChunkRange{N: n, Total: m.total}.String())
	h.Set("Content-Type", "application/octet-stream")
	file, err := os.Open(m.chunks[n])
	if err != nil {
		w.WriteHeader(500)
		return
	}
	defer file.Close()
	fi, _ := file.Stat()
	h.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	status := 200
	if n < m.total {
		status = 206
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, file)
	}
}

func (f *fakeMESH) ack(w http.ResponseWriter, r *http.Request) {
	mb, ok := f.auth(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs[strings.ToUpper(r.PathValue("id"))]
	switch {
	case m == nil:
		f.fail(w, 404, mesh.EventReceive, mesh.CodeMessageDoesNotExist)
	case m.to != mb:
		w.WriteHeader(403)
	default:
		m.status = mesh.StatusAcknowledged
		w.Header().Set("Content-Type", mesh.MediaTypeV2)
	}
}

// addReport puts a REPORT about linked into mb's inbox.
func (f *fakeMESH) addReport(mb, linked, code, desc, workflow string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.ids.New(time.Now())
	f.seq++
	f.msgs[id] = &fakeMsg{id: id, to: mb, msgType: mesh.MessageTypeReport, linked: linked, statusCode: code, statusDesc: desc,
		workflow: workflow, status: mesh.StatusAccepted, seq: f.seq, total: 0, chunks: map[int]string{}}
	return id
}

// pki is a throw-away CA with a server and a client certificate.
type pki struct {
	caPool    *x509.CertPool
	caPEMFile string
	server    tls.Certificate
	client    tls.Certificate
	certFile  string
	keyFile   string
}

func mustPKI(tb testing.TB) *pki {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gpcm test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(cn string, usage x509.ExtKeyUsage, serial int64) (tls.Certificate, []byte, []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			tb.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		certPEM := pemBlock("CERTIFICATE", der)
		keyPEM := pemBlock("EC PRIVATE KEY", kder)
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			tb.Fatal(err)
		}
		return c, certPEM, keyPEM
	}
	p := &pki{caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.server, _, _ = leaf("localhost", x509.ExtKeyUsageServerAuth, 2)
	var certPEM, keyPEM []byte
	p.client, certPEM, keyPEM = leaf("SERVER001.X26.api.mesh-client.nhs.uk", x509.ExtKeyUsageClientAuth, 3)
	dir := tb.TempDir()
	p.caPEMFile = filepath.Join(dir, "ca.pem")
	p.certFile = filepath.Join(dir, "client.pem")
	p.keyFile = filepath.Join(dir, "client.key")
	for name, b := range map[string][]byte{p.caPEMFile: pemBlock("CERTIFICATE", caDER), p.certFile: certPEM, p.keyFile: keyPEM} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// mustServeTLS starts h on loopback HTTPS requiring a client certificate
// signed by p's CA.
func mustServeTLS(tb testing.TB, p *pki, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.caPool,
		MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

// mustClient returns a client for mailbox on srv using p's client certificate files.
func mustClient(tb testing.TB, p *pki, srv *httptest.Server, mailbox string, tweak func(*mesh.Config)) *mesh.Client {
	tb.Helper()
	cfg := mesh.Config{URL: srv.URL, Mailbox: mailbox, Password: testPW, SharedKey: testKey,
		TLS:   mesh.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, CAFile: p.caPEMFile},
		Retry: mesh.Backoff{Retries: 3, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := mesh.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
