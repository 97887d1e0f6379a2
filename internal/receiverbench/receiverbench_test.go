package receiverbench_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/internal/receiverbench"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/sqlitestore"
)

func client(t *testing.T, ms *meshtest.Server, mailbox string) *mesh.Client {
	t.Helper()
	c, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: mailbox, Password: "password", SharedKey: ms.SharedKey,
		TLS: mesh.TLSConfig{RootCAs: ms.CertPool()}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A small run over real loopback HTTPS and SQLite + files files every
// message once and finds one InfAck and one BusAck per message.
func TestRun(t *testing.T) {
	ms := meshtest.NewServer(t, meshtest.Options{Mailboxes: []meshtest.Mailbox{
		{ID: "X26ABC1", Password: "password", ODSCode: "X26"},
		{ID: "X26ABC2", Password: "password", ODSCode: "X26"},
	}})
	dir := t.TempDir()
	db, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "receiver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := fileblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	cpuCalls := 0
	res, err := receiverbench.Run(t.Context(), receiverbench.Options{Messages: 12, Sender: client(t, ms, "X26ABC1"),
		Practice: client(t, ms, "X26ABC2"), Store: db.Receiver(), Blobs: tier.New(db.Blobs(), files, tier.DefaultThreshold),
		MeshCPU: func() (time.Duration, error) { cpuCalls++; return time.Duration(cpuCalls) * time.Millisecond, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Filed != 12 || res.Acks != 24 || res.Messages != 12 {
		t.Fatalf("filed %d, acks %d of %d messages; want 12, 24", res.Filed, res.Acks, res.Messages)
	}
	if res.Rate(res.EndToEnd) <= 0 || res.Rate(res.DecodeValidate) <= 0 || res.Ratio() <= 0 || res.MeshCPU != time.Millisecond {
		t.Fatalf("figures missing: %+v", res)
	}
	if res.MessageBytes < 1000 {
		t.Fatalf("mean message size %d B: want a report with its PDF", res.MessageBytes)
	}
}

func TestRunNeedsClients(t *testing.T) {
	_, err := receiverbench.Run(t.Context(), receiverbench.Options{})
	if err == nil || !strings.Contains(err.Error(), "clients are required") {
		t.Fatalf("got %v, want an error naming the missing clients", err)
	}
}
