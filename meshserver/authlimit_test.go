package meshserver_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshtest"
)

// throttleServer is a MESH server whose clock the test moves.
func throttleServer(t *testing.T) (*meshtest.Server, *atomic.Int64) {
	var offset atomic.Int64
	mbs := []meshtest.Mailbox{{ID: "X26ABC1", Password: "password", ODSCode: "X26"}, {ID: "X27ABC1", Password: "password", ODSCode: "X27"}}
	for i := range 60 {
		mbs = append(mbs, meshtest.Mailbox{ID: fmt.Sprintf("SPRAY%03d", i), Password: "password", ODSCode: "S01"})
	}
	srv := meshtest.NewServer(t, meshtest.Options{Mailboxes: mbs, Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	return srv, &offset
}

// from makes c's requests come from the loopback address ip.
func (c *client) from(ip string) *client {
	tr := c.http.Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	c.http = &http.Client{Transport: tr}
	c.t.Cleanup(tr.CloseIdleConnections)
	return c
}

func wrong(c *client) *client { c.mb.Password = "not the password"; return c }

// Issue 18 §2: MESH authentication failures back off per mailbox and
// address, answered 429 with Retry-After; the owner elsewhere is not kept
// out.
func TestMeshAuthThrottle(t *testing.T) {
	srv, offset := throttleServer(t)
	guesser := wrong(newClient(t, srv, "X26ABC1"))
	for i := range 11 {
		wantStatus(t, fmt.Sprintf("wrong password %d", i+1), guesser.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusForbidden)
	}
	right := newClient(t, srv, "X26ABC1")
	r := right.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil)
	wantStatus(t, "the right password from the guessing address", r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	if r.json(t); !strings.Contains(string(r.body), "Too many failed authentication attempts") {
		t.Fatalf("429 body: %s", r.body)
	}
	wantStatus(t, "another mailbox from the same address", newClient(t, srv, "X27ABC1").do("GET", "/messageexchange/X27ABC1/inbox", nil, nil), http.StatusOK)
	owner := newClient(t, srv, "X26ABC1").from("127.0.0.2")
	wantStatus(t, "the owner from another address", owner.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)
	offset.Add(int64(time.Second))
	wantStatus(t, "after the wait", right.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)
}

// Issue 18 §2: spraying one password across many mailboxes from one
// address is slowed.
func TestMeshAuthSprayIsSlowed(t *testing.T) {
	srv, _ := throttleServer(t)
	for i := range 51 {
		id := fmt.Sprintf("SPRAY%03d", i)
		wantStatus(t, "spray "+id, wrong(newClient(t, srv, id)).do("GET", "/messageexchange/"+id+"/inbox", nil, nil), http.StatusForbidden)
	}
	wantStatus(t, "the 52nd mailbox", wrong(newClient(t, srv, "SPRAY051")).do("GET", "/messageexchange/SPRAY051/inbox", nil, nil), http.StatusTooManyRequests)
	wantStatus(t, "another address", newClient(t, srv, "SPRAY052").from("127.0.0.3").do("GET", "/messageexchange/SPRAY052/inbox", nil, nil), http.StatusOK)
}

// Issue 18 §2: wrong admin tokens are throttled by address.
func TestAdminTokenThrottle(t *testing.T) {
	srv, _ := throttleServer(t)
	call := func(c *http.Client, token string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/admin/mailboxes", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for i := range 51 {
		if res := call(srv.Client(), fmt.Sprintf("guess-%d", i)); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: got %d, want 401", i+1, res.StatusCode)
		}
	}
	res := call(srv.Client(), srv.AdminToken)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("the right token after 51 guesses: got %d Retry-After %q, want 429", res.StatusCode, res.Header.Get("Retry-After"))
	}
	other := newClient(t, srv, "X26ABC1").from("127.0.0.4")
	if res := call(other.http, srv.AdminToken); res.StatusCode != http.StatusOK {
		t.Fatalf("the right token from another address: got %d, want 200", res.StatusCode)
	}
}
