package sender_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/sender"
)

// TestStartHandshakes (mesh-api.md E1): the running sender validates its
// mailbox at start and again every HandshakeInterval; a failure is logged
// and counted, and the next try follows.
func TestStartHandshakes(t *testing.T) {
	var logs syncBuffer
	e := mustEnv(t, envOptions{tweak: func(c *sender.Config) {
		c.HandshakeInterval = 5 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		// The other workers wait: only the handshakes reach the server.
		c.SendInterval, c.PollInterval, c.TrackInterval = time.Hour, time.Hour, time.Hour
	}})
	seen := make(chan struct{}, 100)
	var mu sync.Mutex
	n := 0
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/messageexchange/"+senderMailbox {
			return false
		}
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		seen <- struct{}{}
		if first {
			http.Error(w, `{"errorDescription":"refused by the test"}`, http.StatusForbidden)
			return true
		}
		return false
	})
	if err := e.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		<-seen
	}
	e.svc.Stop()

	rec := httptest.NewRecorder()
	e.svc.Handler("tok").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics := rec.Body.String()
	if !strings.Contains(metrics, "gpcm_sender_mesh_handshake_errors_total 1\n") {
		t.Errorf("metrics do not count the one failed handshake:\n%s", metrics)
	}
	if strings.Contains(metrics, "gpcm_sender_mesh_handshakes_total 0\n") || strings.Contains(metrics, "gpcm_sender_mesh_handshakes_total 1\n") {
		t.Errorf("metrics count fewer than 2 handshakes:\n%s", metrics)
	}
	if !strings.Contains(logs.String(), "MESH handshake failed") {
		t.Errorf("the failure is not logged: %s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the workers' concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
