package meshserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
)

const v2 = "application/vnd.mesh.v2+json"

// client drives one mailbox over raw HTTP with fresh NHSMESH tokens.
type client struct {
	t       *testing.T
	srv     *meshtest.Server
	mb      meshtest.Mailbox
	http    *http.Client
	accept  string
	lastTok string
	// tokenTime overrides the token timestamp when non-zero.
	tokenTime time.Time
}

func newClient(t *testing.T, srv *meshtest.Server, id string) *client {
	t.Helper()
	return &client{t: t, srv: srv, mb: srv.Mailbox(t, id), http: srv.ClientFor(t, id), accept: v2}
}

func token(mailbox, password, key string, at time.Time) string {
	return mesh.NewToken(mailbox, password, key, mesh.NewNonce(), 0, at).String()
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return m
}

func (c *client) do(method, path string, hdr map[string]string, body io.Reader) resp {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	at := time.Now()
	if !c.tokenTime.IsZero() {
		at = c.tokenTime
	}
	c.lastTok = token(c.mb.ID, c.mb.Password, c.srv.SharedKey, at)
	req.Header.Set("Authorization", c.lastTok)
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (c *client) send(to, wf string, body []byte, hdr map[string]string) resp {
	c.t.Helper()
	h := map[string]string{"Mex-To": to, "Mex-WorkflowID": wf, "Content-Type": "application/octet-stream"}
	for k, v := range hdr {
		h[k] = v
	}
	return c.do("POST", "/messageexchange/"+c.mb.ID+"/outbox", h, bytes.NewReader(body))
}

// mustSend sends and returns the new message id.
func (c *client) mustSend(to, wf string, body []byte, hdr map[string]string) string {
	c.t.Helper()
	r := c.send(to, wf, body, hdr)
	if r.status != http.StatusAccepted {
		c.t.Fatalf("send: got %d %s, want 202", r.status, r.body)
	}
	id, _ := r.json(c.t)["message_id"].(string)
	if id == "" {
		c.t.Fatalf("send: no message_id in %s", r.body)
	}
	return id
}

func (c *client) inbox(query string) []string {
	c.t.Helper()
	r := c.do("GET", "/messageexchange/"+c.mb.ID+"/inbox"+query, nil, nil)
	if r.status != http.StatusOK {
		c.t.Fatalf("inbox: got %d %s", r.status, r.body)
	}
	var body struct{ Messages []string }
	if err := json.Unmarshal(r.body, &body); err != nil {
		c.t.Fatal(err)
	}
	return body.Messages
}

func (c *client) get(id string) resp {
	c.t.Helper()
	return c.do("GET", "/messageexchange/"+c.mb.ID+"/inbox/"+id, nil, nil)
}

func (c *client) ack(id string) resp {
	c.t.Helper()
	return c.do("PUT", "/messageexchange/"+c.mb.ID+"/inbox/"+id+"/status/acknowledged", nil, nil)
}

func errCode(t *testing.T, r resp) string {
	t.Helper()
	return errField(t, r, "code", "errorCode")
}

// errEvent returns the MESH event of an error body.
func errEvent(t *testing.T, r resp) string {
	t.Helper()
	return errField(t, r, "event", "errorEvent")
}

// errField reads field v2 of the first v2 detail, or v1 of a v1 body.
func errField(t *testing.T, r resp, v2, v1 string) string {
	t.Helper()
	m := r.json(t)
	if d, ok := m["detail"].([]any); ok && len(d) > 0 {
		v, _ := d[0].(map[string]any)[v2].(string)
		return v
	}
	v, _ := m[v1].(string)
	return v
}

func wantStatus(t *testing.T, what string, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: got status %d (body %s), want %d", what, r.status, strings.TrimSpace(string(r.body)), want)
	}
}
