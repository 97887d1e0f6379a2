package meshserver_test

import (
	"net/http"
	"testing"

	"github.com/gpcm/gpcm/meshtest"
)

// A mailbox changed in the store behind the server's back (as another
// server process would change it) takes effect on the next request, even
// after the server authenticated it or sent to it: what a server remembers
// of mailboxes to save round trips is checked by the store every time.
func TestMailboxChangesSeenAtOnce(t *testing.T) {
	srv := newServer(t, meshtest.Options{Mailboxes: []meshtest.Mailbox{
		{ID: "X26ABC1", Password: "password", ODSCode: "X26"},
		{ID: "X26ABC2", Password: "password", ODSCode: "X26"},
	}})
	ctx := t.Context()
	a := newClient(t, srv, "X26ABC1")
	body := []byte("small body stored inline")
	a.mustSend("X26ABC2", "WF", body, nil)
	a.mustSend("X26ABC2", "WF", body, nil)

	// Recipient disabled, then limited to another workflow, then back.
	if err := srv.Store.SetMailboxActive(ctx, "X26ABC2", false); err != nil {
		t.Fatal(err)
	}
	r := a.send("X26ABC2", "WF", body, nil)
	wantStatus(t, "send to a recipient disabled since", r, http.StatusExpectationFailed)
	if got := errCode(t, r); got != "12" {
		t.Fatalf("send to a recipient disabled since: error code %q, want 12", got)
	}
	b, err := srv.Store.GetMailbox(ctx, "X26ABC2")
	if err != nil {
		t.Fatal(err)
	}
	b.Active, b.Workflows = true, []string{"OTHER"}
	if err := srv.Store.PutMailbox(ctx, b); err != nil {
		t.Fatal(err)
	}
	r = a.send("X26ABC2", "WF", body, nil)
	wantStatus(t, "send to a recipient no longer taking the workflow", r, http.StatusExpectationFailed)
	if got := errCode(t, r); got != "17" {
		t.Fatalf("send to a recipient no longer taking the workflow: error code %q, want 17", got)
	}
	b.Workflows = nil
	if err := srv.Store.PutMailbox(ctx, b); err != nil {
		t.Fatal(err)
	}
	a.mustSend("X26ABC2", "WF", body, nil)

	// Sender's password changed: the old one no longer authenticates.
	mb, err := srv.Store.GetMailbox(ctx, "X26ABC1")
	if err != nil {
		t.Fatal(err)
	}
	mb.Password = "changed"
	if err := srv.Store.PutMailbox(ctx, mb); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "old password", a.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusForbidden)
	a.mb.Password = "changed"
	wantStatus(t, "new password", a.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)
	wantStatus(t, "new password again", a.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusOK)

	// Sender disabled: refused although just authenticated.
	if err := srv.Store.SetMailboxActive(ctx, "X26ABC1", false); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "disabled sender", a.do("GET", "/messageexchange/X26ABC1/inbox", nil, nil), http.StatusForbidden)
}
