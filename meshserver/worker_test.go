package meshserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/sqlitestore"
)

func TestWorkerExpiresInBackground(t *testing.T) {
	db, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := db.Mesh()
	now := time.Now().UTC()
	old := meshserver.Message{ID: "20200101000000000000_AAAAAA", MessageType: meshserver.TypeData, Sender: "A", Recipient: "B",
		WorkflowID: "WF", Status: meshserver.StatusAccepted, TotalChunks: 1, CreatedAt: now, StatusAt: now, ExpiresAt: now.Add(-time.Minute)}
	if err := st.CreateMessage(t.Context(), old, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := meshserver.New(meshserver.Config{Store: st, Blobs: blobs, SharedKey: "k", ExpiryInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop() // stop before start is a no-op
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err == nil {
		t.Fatal("second Start: got nil error")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := st.GetMessage(t.Context(), old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status == meshserver.StatusUndeliverable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("worker did not expire the message")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Stop()
	srv.Stop() // safe twice
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  meshserver.Config
	}{
		{"no store", meshserver.Config{SharedKey: "k"}},
		{"negative expiry", meshserver.Config{SharedKey: "k", Expiry: -time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := meshserver.New(tt.cfg); err == nil {
				t.Fatal("got nil error")
			}
		})
	}
}

func TestStalledUploadExpires(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a := newClient(t, srv, "X26ABC1")
	id := a.mustSend("X26ABC2", "WF", []byte("part 1"), map[string]string{"Mex-Chunk-Range": "1:2"})
	srv.Admin.AdvanceClock(121 * time.Hour)
	if n, err := srv.Admin.ExpireNow(t.Context()); err != nil || n != 1 {
		t.Fatalf("ExpireNow: %d, %v; want 1", n, err)
	}
	r := a.do("POST", "/messageexchange/X26ABC1/outbox/"+id+"/2", map[string]string{"Mex-Chunk-Range": "2:2"}, bytes.NewReader([]byte("late")))
	wantStatus(t, "chunk after expiry", r, http.StatusLocked)
	if got := a.inbox(""); len(got) != 1 {
		t.Fatalf("sender inbox: got %v, want one report", got)
	}
}

func TestGPProviderFailureChunkedSend(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a := newClient(t, srv, "X26ABC1")
	id := a.mustSend("GPPROVIDER_1234567890_19670126_Smith", "GPFED_CONSULT_REPORT", []byte("part 1"), map[string]string{"Mex-Chunk-Range": "1:2"})
	r := a.do("POST", fmt.Sprintf("/messageexchange/X26ABC1/outbox/%s/2", id), map[string]string{"Mex-Chunk-Range": "2:2"}, bytes.NewReader([]byte("part 2")))
	wantStatus(t, "chunk 2 of an unroutable message", r, http.StatusAccepted)
	got := a.inbox("")
	if len(got) != 1 {
		t.Fatalf("sender inbox: got %v, want one EPL report", got)
	}
	if code := a.get(got[0]).header.Get("Mex-StatusCode"); code != "EPL-152" {
		t.Fatalf("report code: got %q, want EPL-152", code)
	}
}
