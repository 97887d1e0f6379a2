package meshserver_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"go.yaml.in/yaml/v3"
)

// The contract check: responses validated against the MESH OpenAPI
// specification (testdata/spec/mesh-api.yaml) by a validator gpcm did not
// write, Stoplight Prism (npm @stoplight/prism-cli 5.16.0) run as a
// validating proxy in front of the server. Prism adds an sl-violations
// header to every answer that breaks the document (status not listed,
// media type not listed, body or headers not matching the schema); the
// tests fail on any about a response, except where a tour case names a
// deviation: then only "status not listed" is accepted for it.
//
// Prism reads request and response bodies as text (and up to 10 MB), so
// the gzip cases of the tour are left to the wire tests, and the proxy's
// own complaints about requests (the tour sends invalid ones on purpose)
// are not counted.

// Prism tells media types apart by type and subtype only, reading
// application/vnd.mesh.v2+json as application/json with a suffix
// (wildcardMediaTypeMatch), so it would check a v1 body against the v2
// schema listed first. v1 answers go through a second proxy whose copy of
// the specification lists only the application/json content of each
// response that has both (v1Spec).

// v1Spec writes a copy of the specification at path without the
// application/vnd.mesh.v2+json content of responses that also list
// application/json, and returns the copy's path.
func v1Spec(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	removed := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; k.Value == "content" && v.Kind == yaml.MappingNode && hasKey(v, mesh.MediaTypeJSON) {
					for j := 0; j+1 < len(v.Content); j += 2 {
						if v.Content[j].Value == mesh.MediaTypeV2 {
							v.Content = append(v.Content[:j], v.Content[j+2:]...)
							removed++
							break
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if removed == 0 {
		t.Fatal("v1Spec: no v2 content removed: has the specification changed?")
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mesh-api-v1.yaml")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// specPath is the MESH OpenAPI specification in the repository.
func specPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "testdata", "spec", "mesh-api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// violation is one entry of Prism's sl-violations header.
type violation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Message  string   `json:"message"`
}

// startPrism runs Prism's validating proxy for the specification at spec
// in front of srv and returns its base URL.
func startPrism(t *testing.T, srv *meshtest.Server, spec string) string {
	t.Helper()
	nm, node := testutil.NodeModules(t, "@stoplight/prism-cli")
	dir := t.TempDir()
	ca := caFile(t, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "prism.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(nm, "@stoplight", "prism-cli", "dist", "index.js"), "proxy", spec, srv.URL,
		"--host", "127.0.0.1", "--port", fmt.Sprint(addr.Port), "--errors", "false")
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca, "SCARF_ANALYTICS=false", "DO_NOT_TRACK=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prism log:\n%s", b[max(0, len(b)-8000):])
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr.String()
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("prism did not start listening on %s: %s", addr, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// responseViolations decodes an sl-violations header, keeping those about
// the response.
func responseViolations(t *testing.T, h string) []violation {
	t.Helper()
	if h == "" {
		return nil
	}
	var all []violation
	if err := json.Unmarshal([]byte(h), &all); err != nil {
		t.Fatalf("sl-violations %q: %v", h, err)
	}
	var out []violation
	for _, v := range all {
		if len(v.Location) > 0 && v.Location[0] == "response" {
			out = append(out, v)
		}
	}
	return out
}

// statusNotListed reports whether v is Prism's "status code not in the
// document" finding.
func statusNotListed(v violation) bool {
	return strings.HasPrefix(v.Message, "Unable to match the returned status code")
}

// TestContractTour sends every request of the tour on a route of the
// specification through the validating proxy.
func TestContractTour(t *testing.T) {
	srv := newTourServer(t)
	base := startPrism(t, srv, specPath(t))
	baseV1 := startPrism(t, srv, v1Spec(t, specPath(t)))
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	checked, deviations := 0, 0
	for _, c := range tour(t, srv) {
		if !c.spec || c.gzip {
			continue
		}
		t.Run(tourName(c), func(t *testing.T) {
			b := base
			if c.accept != "" { // a v1 answer
				b = baseV1
			}
			res, err := hc.Do(c.request(t, srv, b))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != c.want {
				t.Errorf("status %d (body %q), want %d", res.StatusCode, body, c.want)
			}
			checked++
			for _, v := range responseViolations(t, res.Header.Get("sl-violations")) {
				if c.deviation != "" && statusNotListed(v) {
					deviations++
					t.Logf("documented deviation: %s (%s)", v.Message, c.deviation)
					continue
				}
				t.Errorf("%s %s → %d: %s %s: %s", c.method, c.path, res.StatusCode, v.Severity, strings.Join(v.Location, "."), v.Message)
			}
		})
	}
	t.Logf("contract check: %d responses validated, %d documented deviations", checked, deviations)
}

// violationRecorder is an http.RoundTripper that keeps the response
// violations the proxy reports.
type violationRecorder struct {
	t     *testing.T
	next  http.RoundTripper
	mu    sync.Mutex
	found []string
	n     int
}

func (v *violationRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := v.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.n++
	for _, x := range responseViolations(v.t, res.Header.Get("sl-violations")) {
		v.found = append(v.found, fmt.Sprintf("%s %s → %d: %s", req.Method, req.URL.Path, res.StatusCode, x.Message))
	}
	return res, nil
}

// TestContractGoClient runs gpcm's own MESH client through the validating
// proxy: every call it makes, against every route it knows, must get an
// answer the specification allows.
func TestContractGoClient(t *testing.T) {
	srv := newTourServer(t)
	base := startPrism(t, srv, specPath(t))
	rec := &violationRecorder{t: t, next: &http.Transport{DisableCompression: true}}
	client := func(id string) *mesh.Client {
		mb := srv.Mailbox(t, id)
		c, err := mesh.NewClient(mesh.Config{URL: base, Mailbox: mb.ID, Password: mb.Password, SharedKey: srv.SharedKey,
			HTTPClient: &http.Client{Transport: rec}, ChunkSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := t.Context()
	a, b := client("X26ABC1"), client("X26ABC2")
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("handshake", a.Handshake(ctx))
	small, err := a.Send(ctx, mesh.SendRequest{To: "X26ABC2", WorkflowID: "WF", LocalID: "contract-small", Subject: "contract",
		ContentType: "text/plain", Body: strings.NewReader("a small message")})
	must("send", err)
	big := strings.Repeat("a chunked message of three chunks\n", 5000) // 170 000 bytes: 3 chunks of 64 KiB
	chunked, err := a.Send(ctx, mesh.SendRequest{To: "X26ABC2", WorkflowID: "WF", LocalID: "contract-chunked", Body: strings.NewReader(big)})
	must("chunked send", err)
	ids, err := b.Inbox(ctx, mesh.InboxOptions{})
	must("inbox", err)
	if len(ids) != 2 {
		t.Fatalf("inbox: got %v, want 2 messages", ids)
	}
	_, err = b.Count(ctx)
	must("count", err)
	for id, want := range map[string]string{small.MessageID: "a small message", chunked.MessageID: big} {
		_, err := b.Head(ctx, id)
		must("head", err)
		d, err := b.Get(ctx, id)
		must("download", err)
		got, err := io.ReadAll(d)
		d.Close()
		must("download body", err)
		if string(got) != want {
			t.Fatalf("download %s: got %d bytes, want %d", id, len(got), len(want))
		}
		must("ack", b.Ack(ctx, id))
	}
	tr, err := a.Track(ctx, small.MessageID)
	must("track", err)
	if _, err := mesh.ParseTimestamp(tr.StatusTimestamp); err != nil || tr.Status != "acknowledged" {
		t.Fatalf("tracking: got %+v (%v)", tr, err)
	}
	_, err = a.TrackLocalID(ctx, "contract-chunked")
	must("track local id", err)
	_, err = a.Lookup(ctx, "X26", "WF")
	must("lookup", err)
	_, err = a.WorkflowSearch(ctx, "WF")
	must("workflow search", err)
	if _, err := b.Get(ctx, small.MessageID); !errors.Is(err, mesh.ErrGone) {
		t.Fatalf("download after ack: got %v, want 410", err)
	}
	for _, f := range rec.found {
		t.Error(f)
	}
	t.Logf("contract check of gpcm's client: %d responses validated, %d violations", rec.n, len(rec.found))
}
