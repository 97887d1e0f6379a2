package mesh_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// TestHandshakeLoop (mesh-api.md E1, "handshake at start-up and every
// 24 h"): the loop handshakes at once, retries after a failure, goes on
// after a success, reports every outcome, and ends with its context.
func TestHandshakeLoop(t *testing.T) {
	e := mustEnv(t, func(c *mesh.Config) { c.Retry = mesh.NoRetry })
	var seen, refuse atomic.Int32
	refuse.Store(2)
	e.front.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/messageexchange/X26ABC1" {
			return false
		}
		seen.Add(1)
		if refuse.Add(-1) >= 0 {
			http.Error(w, `{"errorDescription":"refused by the test"}`, http.StatusForbidden)
			return true
		}
		return false
	})
	results := make(chan error, 16)
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		mesh.HandshakeLoop{Client: e.a, Every: 5 * time.Millisecond, RetryAfter: time.Millisecond,
			Done: func(err error) { results <- err }}.Run(ctx)
	}()
	var got []error
	for len(got) < 4 {
		got = append(got, <-results)
	}
	cancel()
	<-ended
	for i, err := range got {
		var me *mesh.Error
		switch {
		case i < 2 && !errors.As(err, &me):
			t.Errorf("handshake %d: got %v, want the server's refusal", i+1, err)
		case i >= 2 && err != nil:
			t.Errorf("handshake %d: got %v, want success", i+1, err)
		}
	}
	if n := seen.Load(); n < 4 {
		t.Errorf("server saw %d handshakes, want at least 4", n)
	}
}
