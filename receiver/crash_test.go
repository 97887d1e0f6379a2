package receiver_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
)

// crashChild runs a receiver until it is killed; the crash test starts the
// test binary itself as that child (GPCM_RECEIVER_CRASH_CHILD=1).
func crashChild() {
	get := os.Getenv
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	pem, err := os.ReadFile(get("CRASH_CA"))
	if err != nil {
		fail(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := mesh.NewClient(mesh.Config{URL: get("CRASH_URL"), Mailbox: practiceMailbox, Password: "password", SharedKey: get("CRASH_KEY"),
		TLS: mesh.TLSConfig{RootCAs: pool}, Retry: mesh.Backoff{Retries: 2, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		fail(err)
	}
	db, err := sqlitestore.Open(ctx, get("CRASH_DB"))
	if err != nil {
		fail(err)
	}
	blobs, err := fileblob.Open(get("CRASH_BLOBS"))
	if err != nil {
		fail(err)
	}
	r, err := receiver.New(receiver.Config{Store: db.Receiver(), Blobs: blobs, Mesh: c, ODSCode: "X26",
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		PollInterval: 20 * time.Millisecond, Lease: time.Second, Batch: 10, PageSize: 100})
	if err != nil {
		fail(err)
	}
	if err := r.Start(ctx); err != nil {
		fail(err)
	}
	<-ctx.Done()
	r.Stop()
	db.Close()
	os.Exit(0)
}

// TestCrashExactlyOnce kills a receiver process with SIGKILL at random
// moments while it works through a stream of messages, restarting it each
// time; afterwards every message is filed once and answered with exactly
// one InfAck and one BusAck. 200 messages by default, 2 000 with
// GPCM_TEST_LARGE=1.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts receiver processes")
	}
	n := 200
	if os.Getenv("GPCM_TEST_LARGE") == "1" {
		n = 2000
	}
	e := MustEnv(t, nil)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, e.mesh.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// The child uses its own database; the register goes there first.
	dbPath := filepath.Join(dir, "crash.db")
	db, err := sqlitestore.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var hdrs []string
	var regs []receiver.Patient
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	for range n {
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		regs = append(regs, regOf(in))
		b := mustBuild(t, in)
		hdrs = append(hdrs, b.HeaderID)
		e.sendBuilt(t, b)
	}
	if _, err := db.Receiver().UpsertPatients(t.Context(), regs, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "GPCM_RECEIVER_CRASH_CHILD=1", "CRASH_CA="+ca, "CRASH_URL="+e.mesh.URL, "CRASH_KEY="+e.mesh.SharedKey,
			"CRASH_DB="+dbPath, "CRASH_BLOBS="+filepath.Join(dir, "blobs"))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	acksSeen := func() int {
		ids, err := e.sender.Inbox(t.Context(), mesh.InboxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	kills, maxKills := 0, 25
	if n > 200 {
		maxKills = 400
	}
	deadline := time.Now().Add(5 * time.Minute)
	for kills < maxKills && acksSeen() < 2*n && time.Now().Before(deadline) {
		cmd := start()
		time.Sleep(time.Duration(50+rng.IntN(700)) * time.Millisecond)
		if acksSeen() >= 2*n {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			break
		}
		_ = cmd.Process.Kill() // SIGKILL
		_ = cmd.Wait()
		kills++
	}
	// A last clean run finishes anything left (leases of the killed
	// processes expire after a second) and proves nothing more is sent.
	cmd := start()
	time.Sleep(3 * time.Second)
	finish := time.Now().Add(5 * time.Minute)
	for acksSeen() < 2*n && time.Now().Before(finish) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("clean stop: %v", err)
	}
	t.Logf("%d messages, %d SIGKILLs", n, kills)

	e.readAcks(t)
	for _, h := range hdrs {
		got := e.codes(h)
		slices.Sort(got)
		if !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
			t.Errorf("message %s: acks %v, want exactly [20013 30001]", h, got)
		}
	}
	if extra := len(e.acks) - len(hdrs); extra != 0 {
		t.Errorf("%d acks for unknown messages", extra)
	}
	db, err = sqlitestore.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	docs, err := db.Receiver().CountDocuments(t.Context())
	if err != nil || docs[receiver.DocAwaitingFiling] != n || len(docs) != 1 {
		t.Fatalf("documents: %v, %v; want %d awaiting filing", docs, err, n)
	}
	msgs, _ := db.Receiver().CountMessages(t.Context())
	if msgs[receiver.MessageAccepted] != n || len(msgs) != 1 {
		t.Fatalf("messages: %v; want %d accepted", msgs, n)
	}
}
