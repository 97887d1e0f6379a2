package sender_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// dropFirstPost breaks the connection of the next message POST, after
// letting the server act on it (forward=true) or before (forward=false).
func (e *env) dropFirstPost(forward bool) *atomic.Int32 {
	var dropped atomic.Int32
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/outbox") || !dropped.CompareAndSwap(0, 1) {
			return false
		}
		if forward {
			e.front.next.ServeHTTP(httptest.NewRecorder(), r)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return true
	})
	return &dropped
}

// TestAmbiguousSendNeverDuplicates breaks the first POST of a report in
// every way and checks that the practice receives it exactly once.
func TestAmbiguousSendNeverDuplicates(t *testing.T) {
	tests := []struct {
		name    string
		forward bool // the server created the message before the connection broke
		earlier int  // reports sent before (makes the ODS-code local ID ambiguous)
		unknown bool // the sender must park the report as send_unknown first
	}{
		{name: "created, reconciled by the client", forward: true},
		{name: "created, local ID ambiguous, found by file name", forward: true, earlier: 2, unknown: true},
		{name: "not created, local ID ambiguous, sent again after the check", forward: false, earlier: 2, unknown: true},
		{name: "not created, nothing sent before", forward: false, unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{})
			for i := range tt.earlier {
				in := exampleInput()
				in.Encounter.ID = []string{"0b5e8d2a-0f6e-4a59-9d55-1c1d3c2b6a01", "0b5e8d2a-0f6e-4a59-9d55-1c1d3c2b6a02"}[i]
				e.submit(t, in)
			}
			e.sendDue(t)
			dropped := e.dropFirstPost(tt.forward)
			tr := e.submit(t, exampleInput())
			if _, err := e.svc.SendDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			if dropped.Load() != 1 {
				t.Fatal("the fault was not injected")
			}
			if tt.unknown {
				e.mustState(t, tr.ID, sender.StateSendUnknown)
				e.sendDue(t) // not due yet: nothing happens
				e.mustState(t, tr.ID, sender.StateSendUnknown)
				e.clock.Advance(11 * time.Minute)
				e.sendDue(t)
				e.sendDue(t)
			}
			tr = e.mustState(t, tr.ID, sender.StateSent)
			if wantAttempts := map[bool]int{true: 1, false: 2}[tt.forward]; tr.Attempts != wantAttempts {
				t.Fatalf("attempts: got %d, want %d", tr.Attempts, wantAttempts)
			}
			got := e.practiceInbox(t)
			n := 0
			for _, r := range got {
				if r.headerID == tr.HeaderID {
					n++
					if r.meshID != tr.MeshMessageID {
						t.Fatalf("recorded MESH id %s, practice got %s", tr.MeshMessageID, r.meshID)
					}
				}
			}
			if n != 1 || len(got) != tt.earlier+1 {
				t.Fatalf("practice got the report %d times (%d messages in all), want once (%d in all)", n, len(got), tt.earlier+1)
			}
		})
	}
}
