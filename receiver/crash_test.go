package receiver_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/s3blob"
	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/updaterecord"
)

// The crash tests start the test binary itself as a receiver process
// (GPCM_RECEIVER_CRASH_CHILD=1, see TestMain). These variables tell the
// child where to work; openCrashStorage reads the storage ones, so the test
// opens exactly what its children open.
const (
	crashEnvCA     = "CRASH_CA"     // PEM file of the MESH server's CA
	crashEnvURL    = "CRASH_URL"    // MESH server URL
	crashEnvKey    = "CRASH_KEY"    // MESH shared key
	crashEnvOwner  = "CRASH_OWNER"  // receiver.Config.Owner
	crashEnvLease  = "CRASH_LEASE"  // receiver.Config.Lease
	crashEnvDB     = "CRASH_DB"     // SQLite database file
	crashEnvPG     = "CRASH_PG"     // PostgreSQL URL
	crashEnvSchema = "CRASH_SCHEMA" // PostgreSQL schema
	crashEnvBlobs  = "CRASH_BLOBS"  // fileblob directory
	crashEnvS3     = "CRASH_S3"     // s3blob URL (http://ACCESS:SECRET@HOST:PORT/BUCKET)
)

// crashReadyLine is what a child writes to stderr once its receiver runs.
const crashReadyLine = "crash child: receiver started"

// crashStorage is what the receivers of a crash test share, opened the way
// gpcm receiver opens it: a metadata database, and blobs tiered by size
// between that database and files or S3.
type crashStorage struct {
	store crashStore
	blobs blob.Store // the tier
	large blob.Store // files or S3 behind the tier
	close func()
}

// crashStore is the receiver store plus what the checks count.
type crashStore interface {
	receiver.Store
	CountAcks(ctx context.Context) (sent map[int]int, pending int, err error)
}

// openCrashStorage opens the storage that the CRASH_* variables (read with
// get) name.
func openCrashStorage(ctx context.Context, get func(string) string) (crashStorage, error) {
	var s crashStorage
	var small blob.Store
	switch {
	case get(crashEnvDB) != "":
		db, err := sqlitestore.Open(ctx, get(crashEnvDB))
		if err != nil {
			return s, err
		}
		s.store, small, s.close = db.Receiver(), db.Blobs(), func() { db.Close() }
	case get(crashEnvPG) != "":
		db, err := pgstore.Open(ctx, get(crashEnvPG), pgstore.Options{Schema: get(crashEnvSchema), MaxConns: 4})
		if err != nil {
			return s, err
		}
		s.store, small, s.close = db.Receiver(), db.Blobs(), func() { db.Close() }
	default:
		return s, fmt.Errorf("crash storage: neither %s nor %s is set", crashEnvDB, crashEnvPG)
	}
	var err error
	switch {
	case get(crashEnvBlobs) != "":
		s.large, err = fileblob.Open(get(crashEnvBlobs))
	case get(crashEnvS3) != "":
		s.large, err = s3blob.Open(ctx, get(crashEnvS3))
	default:
		err = fmt.Errorf("crash storage: neither %s nor %s is set", crashEnvBlobs, crashEnvS3)
	}
	if err != nil {
		s.close()
		return s, err
	}
	s.blobs = tier.New(small, s.large, tier.DefaultThreshold)
	return s, nil
}

// crashChild runs a receiver until it is killed or sent SIGTERM.
func crashChild() {
	get := os.Getenv
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	pem, err := os.ReadFile(get(crashEnvCA))
	if err != nil {
		fail(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	lease, err := time.ParseDuration(get(crashEnvLease))
	if err != nil {
		fail(err)
	}
	c, err := mesh.NewClient(mesh.Config{URL: get(crashEnvURL), Mailbox: practiceMailbox, Password: "password", SharedKey: get(crashEnvKey),
		TLS: mesh.TLSConfig{RootCAs: pool}, Retry: mesh.Backoff{Retries: 2, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		fail(err)
	}
	st, err := openCrashStorage(ctx, get)
	if err != nil {
		fail(err)
	}
	r, err := receiver.New(receiver.Config{Store: st.store, Blobs: st.blobs, Mesh: c, ODSCode: "X26",
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		PollInterval: 20 * time.Millisecond, Lease: lease, Batch: 10, PageSize: 10, Owner: get(crashEnvOwner)})
	if err != nil {
		fail(err)
	}
	if err := r.Start(ctx); err != nil {
		fail(err)
	}
	fmt.Fprintln(os.Stderr, crashReadyLine)
	<-ctx.Done()
	r.Stop()
	st.close()
	os.Exit(0)
}

// crashBackend is one storage combination the crash tests run on.
type crashBackend struct {
	name string
	// setup makes fresh, empty storage (skipping the test when its service
	// is not configured, failing under GPCM_TEST_STRICT=1) and returns the
	// CRASH_* variables naming it.
	setup func(t *testing.T) map[string]string
}

var (
	sqliteFiles = crashBackend{name: "sqlite+files", setup: func(t *testing.T) map[string]string {
		dir := t.TempDir()
		return map[string]string{crashEnvDB: filepath.Join(dir, "crash.db"), crashEnvBlobs: filepath.Join(dir, "blobs")}
	}}
	postgresS3 = crashBackend{name: "postgres+s3", setup: func(t *testing.T) map[string]string {
		vars := map[string]string{crashEnvPG: pgstoretest.URL(t), crashEnvSchema: pgstoretest.Schema(t)}
		b := s3blobtest.Bucket(t)
		scheme := "http"
		if b.Secure {
			scheme = "https"
		}
		q := url.Values{"create": {"1"}}
		if b.Region != "" {
			q.Set("region", b.Region)
		}
		vars[crashEnvS3] = (&url.URL{Scheme: scheme, User: url.UserPassword(b.AccessKey, b.SecretKey), Host: b.Endpoint,
			Path: "/" + b.Bucket + "/receiver", RawQuery: q.Encode()}).String()
		return vars
	}}
)

// crashScale is how many messages a crash test sends and how many kills it
// allows: 200 and 25 by default, 2 000 and 400 with GPCM_TEST_LARGE=1.
func crashScale() (messages, maxKills int, phase time.Duration) {
	if os.Getenv("GPCM_TEST_LARGE") == "1" {
		return 2000, 400, 10 * time.Minute
	}
	return 200, 25, 3 * time.Minute
}

// TestCrashExactlyOnce kills a receiver process with SIGKILL at random
// moments while it works through a stream of messages, restarting it each
// time; afterwards every message is filed once and answered with exactly
// one InfAck and one BusAck, the store holds one sent InfAck and BusAck per
// message and nothing pending, the practice inbox is empty and every filed
// attachment reads back from the blob store.
//
// Rows: SQLite with files (the embedded default), and PostgreSQL
// (GPCM_TEST_POSTGRES_URL, a fresh schema) with S3 objects
// (GPCM_TEST_S3_URL, a fresh bucket); the PostgreSQL row skips without its
// services unless GPCM_TEST_STRICT=1.
//
// 200 messages and at most 25 kills per row by default; GPCM_TEST_LARGE=1
// runs the acceptance size, 2 000 messages and at most 400 kills:
//
//	GPCM_TEST_LARGE=1 go test -run TestCrash -v ./receiver/
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts receiver processes")
	}
	for _, b := range []crashBackend{sqliteFiles, postgresS3} {
		t.Run(b.name, func(t *testing.T) {
			runCrash(t, b, false)
		})
	}
}

// runCrash runs one crash test. With pair, a second receiver process on the
// same storage runs throughout and is never killed; only the other one is.
func runCrash(t *testing.T, b crashBackend, pair bool) {
	began := time.Now()
	n, maxKills, phase := crashScale()
	vars := b.setup(t) // first: it may skip
	e := MustEnv(t, nil)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, e.mesh.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	lease := time.Second
	if pair {
		// Two live receivers: a lease must outlast the slowest batch on a
		// loaded machine, or the other one legitimately takes it over.
		lease = 3 * time.Second
	}

	// The register goes into the children's storage first. Every tenth
	// message carries a PDF too large to be kept inside the database;
	// every fifth is a GP Connect Update Record instead of a Send Document
	// (the capabilities share the pipeline's guarantees). Half the messages
	// wait in the inbox when the first receiver starts; the other half
	// arrive while receivers are being killed.
	st, err := openCrashStorage(t.Context(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var hdrs []string
	var later []crashMsg
	pdfs := map[string][]byte{} // by MessageHeader.id
	urs := map[string]bool{}    // the Update Records, by MessageHeader.id
	var regs []receiver.Patient
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	for i := range n {
		if i%5 == 2 {
			ur := urInput(t, e, rng, updaterecord.UseCases()[i%4], false)
			regs = append(regs, receiver.Patient{NHSNumber: ur.Patient.NHSNumber, BirthDate: ur.Patient.BirthDate, Family: ur.Patient.Family,
				Given: ur.Patient.Given[0], Status: receiver.StatusRegistered})
			ub := urBuild(t, e, ur)
			x, err := ub.XML()
			if err != nil {
				t.Fatal(err)
			}
			hdrs = append(hdrs, ub.HeaderID)
			urs[ub.HeaderID] = true
			m := crashMsg{ub.HeaderID, ub.Envelope.WorkflowID, ub.Envelope.Subject, x}
			if i%2 == 1 {
				later = append(later, m)
				continue
			}
			e.send(t, x, m.workflow, m.subject)
			continue
		}
		in.Patient.NHSNumber = patient.GenerateTestNHSNumber(rng)
		in.PDF = senddoc.ExamplePDF()
		if i%10 == 0 {
			in.PDF = largePDF(rng, largePDFSize)
		}
		regs = append(regs, regOf(in))
		b := mustBuild(t, in)
		hdrs = append(hdrs, b.HeaderID)
		pdfs[b.HeaderID] = in.PDF
		if i%2 == 1 {
			later = append(later, crashMsg{b.HeaderID, b.Envelope.WorkflowID, b.Envelope.Subject, mustXML(t, b)})
			continue
		}
		e.sendBuilt(t, b)
	}
	if _, err := st.store.UpsertPatients(t.Context(), regs, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.close()
	sent := time.Now()

	var logs childLogs
	// running holds the children not yet reaped; a test that stops early
	// kills them.
	running := map[*exec.Cmd]bool{}
	defer func() {
		for cmd := range running {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	// start starts a child. Its writer tells when its receiver runs and
	// when it has logged killAfter INFO lines (steps done: a message stored
	// or processed, an ack sent); 0 never.
	start := func(owner string, killAfter int) (*exec.Cmd, *childWriter) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "GPCM_RECEIVER_CRASH_CHILD=1", crashEnvCA+"="+ca, crashEnvURL+"="+e.mesh.URL,
			crashEnvKey+"="+e.mesh.SharedKey, crashEnvOwner+"="+owner, crashEnvLease+"="+lease.String())
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		w := logs.writer(owner, killAfter)
		cmd.Stderr = w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		running[cmd] = true
		return cmd, w
	}
	// wait reaps a child; one that ended by itself, other than by the
	// signal it was sent, is a failure.
	wait := func(cmd *exec.Cmd, sent syscall.Signal) {
		t.Helper()
		err := cmd.Wait()
		delete(running, cmd)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == sent {
			return
		}
		if err != nil {
			logs.dump(t)
			t.Fatalf("receiver process %d: %v", cmd.Process.Pid, err)
		}
	}
	// stop ends a child with SIGTERM, as an operator would; one that has
	// not exited 30s later is killed and fails the test.
	stop := func(cmd *exec.Cmd) {
		t.Helper()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		hung := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
		defer hung.Stop()
		wait(cmd, syscall.SIGTERM)
	}
	acksSeen := func() int {
		t.Helper()
		ids, err := e.sender.Inbox(t.Context(), mesh.InboxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}

	sendCtx, cancelSend := context.WithCancel(t.Context())
	var sending sync.WaitGroup
	var sendErr error
	defer func() {
		cancelSend()
		sending.Wait()
	}()
	sending.Go(func() {
		for _, m := range later {
			_, err := e.sender.Send(sendCtx, mesh.SendRequest{To: practiceMailbox, WorkflowID: m.workflow,
				Subject: m.subject, LocalID: "X26", Body: bytes.NewReader(m.body), Size: int64(len(m.body))})
			if err != nil {
				sendErr = fmt.Errorf("sending message %s during the kills: %w", m.headerID, err)
				return
			}
		}
	})

	var steady *exec.Cmd
	if pair {
		steady, _ = start("steady", 0)
	}
	// A victim is killed at one of three kinds of moment, at random: while
	// it starts up (0-300ms after exec, one in five); 0-700ms after its
	// receiver started (two in five); or right after its n-th step, n
	// from 1 to 60 (two in five), which also reaches deep into the
	// pipeline on a slow machine (the race detector, a loaded CI runner).
	kills, early, timed, stepped := 0, 0, 0, 0
	deadline := time.Now().Add(phase)
	for kills < maxKills && acksSeen() < 2*n && time.Now().Before(deadline) {
		kind, steps := rng.IntN(5), 0
		if kind >= 3 {
			steps = 1 + rng.IntN(60)
		}
		cmd, w := start(fmt.Sprint("victim-", kills), steps)
		switch {
		case kind == 0:
			early++
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		case kind <= 2:
			timed++
			select {
			case <-w.ready:
			case <-time.After(30 * time.Second): // wait below tells why
			}
			time.Sleep(time.Duration(rng.IntN(700)) * time.Millisecond)
		default:
			stepped++
			select {
			case <-w.ready:
			case <-time.After(30 * time.Second):
			}
			select {
			case <-w.stepped:
			case <-time.After(3 * time.Second): // little work left, or wait below tells why
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		wait(cmd, syscall.SIGKILL)
		kills++
	}
	killed := time.Now()
	sending.Wait()
	if sendErr != nil {
		t.Fatal(sendErr)
	}

	// A receiver left running finishes anything left (claims of the killed
	// processes expire after the lease) and, once every ack is in, is given
	// two more leases to show that nothing more is sent.
	last := steady
	if !pair {
		last, _ = start("last", 0)
	}
	for finish := time.Now().Add(phase); acksSeen() < 2*n && time.Now().Before(finish); {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2*lease + time.Second)
	stop(last)
	done := time.Now()

	e.readAcks(t)
	infAcks, busAcks := 0, 0
	for _, h := range hdrs {
		got := e.codes(h)
		slices.Sort(got)
		if !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
			t.Errorf("message %s: acks %v, want exactly [20013 30001]", h, got)
		}
		for _, c := range got {
			if c < 30000 {
				infAcks++
			} else {
				busAcks++
			}
		}
	}
	if extra := len(e.acks) - len(hdrs); extra != 0 {
		t.Errorf("%d acks for unknown messages", extra)
	}
	left, err := mustClient(t, e.mesh, practiceMailbox).Inbox(t.Context(), mesh.InboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("practice inbox: %d messages never acknowledged on MESH", len(left))
	}
	checkCrashStorage(t, vars, pdfs, urs, mustClient(t, e.mesh, practiceMailbox))
	if t.Failed() {
		logs.dump(t)
	}
	t.Logf("%s: %d messages, %d SIGKILLs (%d starting, %d timed, %d after a step), sender inbox %d InfAcks + %d BusAcks; send %v, kill phase %v, finish %v, whole test %v; %s",
		b.name, n, kills, early, timed, stepped, infAcks, busAcks, sent.Sub(began).Round(time.Millisecond), killed.Sub(sent).Round(time.Millisecond),
		done.Sub(killed).Round(time.Millisecond), time.Since(began).Round(time.Millisecond), logs.shares())
}

// crashMsg is a message a crash test sends while receivers are killed.
type crashMsg struct {
	headerID, workflow, subject string
	body                        []byte
}

// largePDFSize is the size of the large PDFs: far above the largest
// message the receiver keeps inline in its store (64 KiB by default) and
// the tier's threshold, so their messages go to files or S3.
const largePDFSize = 128 << 10

// largePDF returns a PDF of more than size bytes: the example padded with
// random comment lines.
func largePDF(rng *rand.Rand, size int64) []byte {
	pdf := senddoc.ExamplePDF()
	head, rest, _ := bytes.Cut(pdf, []byte("\n"))
	out := append(slices.Clip(head), '\n')
	for int64(len(out)) <= size {
		line := make([]byte, 64)
		for i := range line {
			line[i] = 'a' + byte(rng.IntN(26))
		}
		out = append(append(append(out, '%'), line...), '\n')
	}
	return append(out, rest...)
}

// checkCrashStorage checks what the receivers left in their storage: every
// message accepted, one document per message awaiting filing whose
// attachment reads back as the PDF sent (the large ones from files or S3),
// one InfAck and one BusAck sent per message and none pending. pdfs holds
// the PDF sent by MessageHeader.id, urs the Update Records (no attachment;
// their structured content reads back); c is the practice's MESH client (a
// receiver needs one; the checks do not call it).
func checkCrashStorage(t *testing.T, vars map[string]string, pdfs map[string][]byte, urs map[string]bool, c *mesh.Client) {
	t.Helper()
	ctx := t.Context()
	st, err := openCrashStorage(ctx, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	n := len(pdfs) + len(urs)
	msgs, err := st.store.CountMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[receiver.MessageState]int{receiver.MessageAccepted: n}; !maps.Equal(msgs, want) {
		t.Errorf("messages: got %v, want %v", msgs, want)
	}
	sent, pending, err := st.store.CountAcks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]int{int(itk3.CodeSuccess): n, int(itk3.CodePatientKnown): n}; !maps.Equal(sent, want) || pending != 0 {
		t.Errorf("acks in the store: sent %v, %d pending; want %v, 0 pending", sent, pending, want)
	}

	// A receiver that is not started reads documents and attachments.
	r, err := receiver.New(receiver.Config{Store: st.store, Blobs: st.blobs, Mesh: c, ODSCode: "X26"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	inLarge, wantLarge := 0, 0
	var after int64
	for {
		docs, err := r.ListDocuments(ctx, receiver.ListDocumentsParams{AfterID: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) == 0 {
			break
		}
		for _, d := range docs {
			after = d.ID
			seen[d.HeaderID]++
			if d.State != receiver.DocAwaitingFiling {
				t.Errorf("document %d: state %s, want %s", d.ID, d.State, receiver.DocAwaitingFiling)
			}
			if urs[d.HeaderID] {
				if c, err := r.DocumentContent(ctx, d.ID); err != nil || len(c.View.Sections) == 0 || len(d.Attachments) != 0 {
					t.Errorf("update record %d: %d attachments, content %d sections, %v", d.ID, len(d.Attachments), len(c.View.Sections), err)
				}
				continue
			}
			if len(d.Attachments) != 1 {
				t.Errorf("document %d: %d attachments, want 1", d.ID, len(d.Attachments))
				continue
			}
			a, rc, err := r.OpenAttachment(ctx, d.ID, d.Attachments[0].Index)
			if err != nil {
				t.Errorf("document %d: %v", d.ID, err)
				continue
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			want := pdfs[d.HeaderID]
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("document %d: attachment of %d bytes (%v), want the %d-byte PDF sent", d.ID, len(got), err, len(want))
			}
			if len(want) >= largePDFSize {
				wantLarge++
				if _, err := st.large.Size(ctx, a.BlobKey); err == nil {
					inLarge++
				}
			}
		}
	}
	for h := range urs {
		if seen[h] != 1 {
			t.Errorf("update record %s: %d documents, want 1", h, seen[h])
		}
	}
	for h := range pdfs {
		if seen[h] != 1 {
			t.Errorf("message %s: %d documents, want 1", h, seen[h])
		}
	}
	if len(seen) != n {
		t.Errorf("documents for %d distinct messages, want %d", len(seen), n)
	}
	if inLarge != wantLarge || wantLarge == 0 {
		t.Errorf("%d of the %d messages with a large PDF are in the large-object store, want all", inLarge, wantLarge)
	}
}

// childLogs keeps what the receiver processes wrote to stderr: lines above
// INFO in full (prefixed with the process's name) to show when a test
// fails, INFO lines only counted per role (victim, steady, last) and
// message, to show how the work was shared.
type childLogs struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	counts map[string]map[string]int // role → msg → lines
}

// writer returns the stderr of child name (see childWriter).
func (l *childLogs) writer(name string, killAfter int) *childWriter {
	role, _, _ := strings.Cut(name, "-")
	return &childWriter{l: l, name: name, role: role, ready: make(chan struct{}), stepped: make(chan struct{}), killAfter: killAfter}
}

// childWriter is one child's stderr. ready is closed when the child writes
// crashReadyLine, stepped when it has written killAfter INFO lines.
type childWriter struct {
	l              *childLogs
	name, role     string
	ready, stepped chan struct{}
	killAfter      int
	readySeen      bool
	steps          int
}

func (w *childWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	for line := range strings.Lines(string(p)) {
		if strings.TrimSpace(line) == crashReadyLine {
			if !w.readySeen {
				w.readySeen = true
				close(w.ready)
			}
			continue
		}
		if strings.Contains(line, " level=INFO ") {
			if w.steps++; w.steps == w.killAfter {
				close(w.stepped)
			}
			_, msg, _ := strings.Cut(line, ` msg="`)
			msg, _, _ = strings.Cut(msg, `"`)
			if w.l.counts == nil {
				w.l.counts = map[string]map[string]int{}
			}
			if w.l.counts[w.role] == nil {
				w.l.counts[w.role] = map[string]int{}
			}
			w.l.counts[w.role][msg]++
			continue
		}
		w.l.buf.WriteString(w.name + ": " + line)
	}
	return len(p), nil
}

// shares says how many messages each role stored and processed and how
// many acks it sent, as its INFO logs tell.
func (l *childLogs) shares() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, role := range slices.Sorted(maps.Keys(l.counts)) {
		c := l.counts[role]
		parts = append(parts, fmt.Sprintf("%s stored %d, processed %d, sent %d acks", role, c["message stored"], c["message processed"], c["ack sent"]))
	}
	return strings.Join(parts, "; ")
}

// dump logs the last 200 lines above INFO the children wrote.
func (l *childLogs) dump(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(l.buf.String(), "\n"), "\n")
	if len(lines) > 200 {
		t.Logf("receiver processes: %d lines of stderr, the last 200:", len(lines))
		lines = lines[len(lines)-200:]
	}
	for _, s := range lines {
		t.Log(s)
	}
}
