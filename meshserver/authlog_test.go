package meshserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshtest"
)

// TestRecentAuthFailures checks that rejected tokens are kept for the admin
// page, newest first, naming the mailbox and the failed check but never the
// password or the MAC.
func TestRecentAuthFailures(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	c := newClient(t, srv, "X26ABC1")
	bad := token("X26ABC1", "wrong-password", srv.SharedKey, time.Now())
	r := c.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": bad}, nil)
	wantStatus(t, "wrong HMAC", r, http.StatusForbidden)
	r = c.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": ""}, nil)
	wantStatus(t, "missing header", r, http.StatusForbidden)

	fs, err := srv.Admin.RecentAuthFailures(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d failures, want 2: %+v", len(fs), fs)
	}
	if !strings.Contains(fs[0].Reason, "Authorization") || !strings.Contains(fs[1].Reason, "MAC") {
		t.Errorf("reasons newest first: got %q then %q", fs[0].Reason, fs[1].Reason)
	}
	mac := bad[strings.LastIndex(bad, ":")+1:]
	for _, f := range fs {
		if f.Mailbox != "X26ABC1" || f.At.IsZero() || f.RemoteAddr == "" {
			t.Errorf("failure %+v: want mailbox X26ABC1, a time and an address", f)
		}
		if strings.Contains(f.Reason, "wrong-password") || strings.Contains(f.Reason, mac) {
			t.Errorf("failure reason leaks a secret: %q", f.Reason)
		}
	}
	if fs, _ := srv.Admin.RecentAuthFailures(t.Context(), 1); len(fs) != 1 {
		t.Errorf("limit 1: got %d failures", len(fs))
	}
}
