package meshserver_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
)

// TestAuthReusedNonceOnMessageRequests: the requests of every message
// (send, inbox page, download, acknowledge) refuse a token used before with
// the live 403 and do nothing, whatever they would otherwise have
// answered. They record their token in the store method that does their
// work, so each case runs after the server has seen both mailboxes (its
// cached guess) and on a fresh server (the mailbox read first).
func TestAuthReusedNonceOnMessageRequests(t *testing.T) {
	for _, warm := range []bool{true, false} {
		name := "cold"
		if warm {
			name = "warm"
		}
		t.Run(name, func(t *testing.T) { reusedNonceCases(t, warm) })
	}
}

func reusedNonceCases(t *testing.T, warm bool) {
	srv := newServer(t, meshtest.Options{})
	snd := newClient(t, srv, "X26ABC1")
	rcv := newClient(t, srv, "X26ABC2")
	id := snd.mustSend("X26ABC2", "WF", []byte("first"), nil)
	if !warm {
		srv = restart(t, srv)
		snd, rcv = newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	} else {
		rcv.inbox("")
	}
	// once makes a request with a token of its own, then again with the
	// same token, and returns both answers.
	once := func(c *client, method, path string, hdr map[string]string, body string) (first, again resp) {
		t.Helper()
		tok := token(c.mb.ID, c.mb.Password, c.srv.SharedKey, time.Now())
		h := map[string]string{"Authorization": tok}
		for k, v := range hdr {
			h[k] = v
		}
		first = c.do(method, path, h, strings.NewReader(body))
		again = c.do(method, path, h, strings.NewReader(body))
		return first, again
	}
	sendHdr := map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "WF", "Content-Type": "application/octet-stream"}
	tests := []struct {
		name      string
		c         *client
		method    string
		path      string
		hdr       map[string]string
		body      string
		wantFirst int
	}{
		{"send", snd, "POST", "/messageexchange/X26ABC1/outbox", sendHdr, "second", http.StatusAccepted},
		{"send refused as malformed", snd, "POST", "/messageexchange/X26ABC1/outbox", map[string]string{"Mex-WorkflowID": "WF"}, "x", http.StatusExpectationFailed},
		{"send of a large body", snd, "POST", "/messageexchange/X26ABC1/outbox", sendHdr, strings.Repeat("L", 100<<10), http.StatusAccepted},
		{"inbox page", rcv, "GET", "/messageexchange/X26ABC2/inbox", nil, "", http.StatusOK},
		{"inbox page refused as malformed", rcv, "GET", "/messageexchange/X26ABC2/inbox?max_results=x", nil, "", http.StatusBadRequest},
		{"download", rcv, "GET", "/messageexchange/X26ABC2/inbox/" + id, nil, "", http.StatusOK},
		{"HEAD of a message", rcv, "HEAD", "/messageexchange/X26ABC2/inbox/" + id, nil, "", http.StatusOK},
		{"download of an unknown message", rcv, "GET", "/messageexchange/X26ABC2/inbox/20260101000000000000_ABCDEF", nil, "", http.StatusNotFound},
		{"download of another mailbox's message", snd, "GET", "/messageexchange/X26ABC1/inbox/" + id, nil, "", http.StatusForbidden},
		{"acknowledge", rcv, "PUT", "/messageexchange/X26ABC2/inbox/" + id + "/status/acknowledged", nil, "", http.StatusOK},
		{"acknowledge again", rcv, "PUT", "/messageexchange/X26ABC2/inbox/" + id + "/status/acknowledged", nil, "", http.StatusOK},
		{"acknowledge an unknown message", rcv, "PUT", "/messageexchange/X26ABC2/inbox/20260101000000000000_ABCDEF/status/acknowledged", nil, "", http.StatusNotFound},
	}
	for _, tt := range tests {
		first, again := once(tt.c, tt.method, tt.path, tt.hdr, tt.body)
		wantStatus(t, tt.name+": first use", first, tt.wantFirst)
		wantStatus(t, tt.name+": same token again", again, http.StatusForbidden)
		if tt.method != "HEAD" && !bytes.Contains(again.body, []byte("Invalid Authentication Token")) {
			t.Fatalf("%s: same token again: body %s, want the authentication error", tt.name, again.body)
		}
		for _, h := range []string{"Mex-Messageid", "Mex-From", "Mex-To", "Etag"} {
			if v := again.header.Get(h); v != "" {
				t.Fatalf("%s: same token again: refused answer carries %s: %q", tt.name, h, v)
			}
		}
	}
	// The replayed sends stored nothing: the first message (acknowledged)
	// and one of each accepted send are all the recipient has.
	if got := rcv.inbox(""); len(got) != 2 {
		t.Fatalf("inbox after replayed sends: %d messages %v, want 2", len(got), got)
	}
}

// restart starts a second server on the first one's storage, which has
// seen no caller yet.
func restart(t *testing.T, srv *meshtest.Server) *meshtest.Server {
	t.Helper()
	return meshtest.NewServer(t, meshtest.Options{Store: srv.Store, Blobs: srv.Blobs})
}

// TestCallerChangedSinceSeen: a server remembers the mailboxes of its
// callers only as a guess. When a mailbox changes after the server saw it
// (in this process or another), its next send, download and
// acknowledgement are decided on the mailbox as stored now.
func TestCallerChangedSinceSeen(t *testing.T) {
	tests := []struct {
		name      string
		workflows []string
		password  string // stored from now on
		inactive  bool
		pw        string // the password the client signs with afterwards
		wantSnd   int
	}{
		{"workflow granted", []string{"WF"}, "password", false, "password", http.StatusAccepted},
		{"workflow withdrawn", []string{"OTHER"}, "password", false, "password", http.StatusExpectationFailed},
		{"password changed, client still on the old one", nil, "new", false, "password", http.StatusForbidden},
		{"password changed, client on the new one", nil, "new", false, "new", http.StatusAccepted},
		{"mailbox disabled", nil, "password", true, "password", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, meshtest.Options{})
			snd := newClient(t, srv, "X26ABC1")
			rcv := newClient(t, srv, "X26ABC2")
			id := snd.mustSend("X26ABC2", "WF", []byte("seen"), nil)
			wantStatus(t, "download before the change", rcv.get(id), http.StatusOK)
			mb := meshserver.Mailbox{ID: "X26ABC1", Password: tt.password, ODSCode: "X26", Active: !tt.inactive, Workflows: tt.workflows}
			if err := srv.Store.PutMailbox(t.Context(), mb); err != nil {
				t.Fatal(err)
			}
			snd.mb.Password = tt.pw
			r := snd.send("X26ABC2", "WF", []byte("after"), nil)
			wantStatus(t, "send after the change", r, tt.wantSnd)
			want := 1
			if tt.wantSnd == http.StatusAccepted {
				want = 2
			}
			if got := rcv.inbox(""); len(got) != want {
				t.Fatalf("inbox: %d messages, want %d", len(got), want)
			}
			// The recipient changes the same way: its download and
			// acknowledgement follow the stored mailbox too.
			rb := mb
			rb.ID = "X26ABC2"
			rb.Workflows = nil
			if err := srv.Store.PutMailbox(t.Context(), rb); err != nil {
				t.Fatal(err)
			}
			rcv.mb.Password = tt.pw
			wantRcv := http.StatusOK
			if tt.wantSnd == http.StatusForbidden {
				wantRcv = http.StatusForbidden
			}
			wantStatus(t, "download after the change", rcv.get(id), wantRcv)
			wantStatus(t, "acknowledge after the change", rcv.ack(id), wantRcv)
		})
	}
}
