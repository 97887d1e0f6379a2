package meshserver_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/sqlitestore"
)

// Two servers on one store and one payload directory behave as one MESH:
// the state that matters (messages, payloads, used tokens) is shared.
func TestTwoServersShareState(t *testing.T) {
	dir := t.TempDir()
	open := func() meshtest.Options {
		db, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "mesh.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		blobs, err := fileblob.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return meshtest.Options{Store: db.Mesh(), Blobs: tier.New(db.Blobs(), blobs, tier.DefaultThreshold)}
	}
	one := meshtest.NewServer(t, open())
	two := meshtest.NewServer(t, open())
	a1 := newClient(t, one, "X26ABC1")
	b2 := newClient(t, two, "X26ABC2")
	id := a1.mustSend("X26ABC2", "WF", []byte("across servers"), nil)
	r := b2.get(id)
	wantStatus(t, "download via server 2", r, http.StatusOK)
	if string(r.body) != "across servers" {
		t.Fatalf("body: got %q", r.body)
	}
	wantStatus(t, "ack via server 2", b2.ack(id), http.StatusOK)
	if m := a1.do("GET", "/messageexchange/X26ABC1/outbox/tracking?messageID="+id, nil, nil).json(t); m["status"] != "acknowledged" {
		t.Fatalf("tracking via server 1: got %v", m["status"])
	}
	tok := token("X26ABC1", "password", one.SharedKey, time.Now())
	wantStatus(t, "token on server 1", a1.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": tok}, nil), http.StatusOK)
	a2 := newClient(t, two, "X26ABC1")
	wantStatus(t, "same token on server 2", a2.do("GET", "/messageexchange/X26ABC1/inbox", map[string]string{"Authorization": tok}, nil), http.StatusForbidden)
}
