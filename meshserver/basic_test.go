package meshserver_test

import (
	"net/http"
	"testing"

	"github.com/gpcm/gpcm/meshtest"
)

func TestSendListDownloadAck(t *testing.T) {
	srv := newServer(t, meshtest.Options{})
	a, b := newClient(t, srv, "X26ABC1"), newClient(t, srv, "X26ABC2")
	id := a.mustSend("X26ABC2", "TEST_WORKFLOW", []byte("hello"), map[string]string{"Mex-Subject": "s", "Mex-LocalID": "L1"})
	if got := b.inbox(""); len(got) != 1 || got[0] != id {
		t.Fatalf("inbox: got %v, want [%s]", got, id)
	}
	r := b.get(id)
	wantStatus(t, "download", r, http.StatusOK)
	if string(r.body) != "hello" || r.header.Get("Mex-MessageID") != id || r.header.Get("Mex-LocalID") != "L1" {
		t.Fatalf("download: got %q headers %v", r.body, r.header)
	}
	wantStatus(t, "ack", b.ack(id), http.StatusOK)
	if got := b.inbox(""); len(got) != 0 {
		t.Fatalf("inbox after ack: got %v, want empty", got)
	}
}
