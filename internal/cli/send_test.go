package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/internal/cli"
	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sqlitestore"
)

type sendBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *sendBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *sendBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func sendCLI(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	var out, errb sendBuf
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := cli.Main(ctx, e, args)
	return code, out.String(), errb.String()
}

func writeSendInput(t *testing.T, dir, name string, mutate func(*senddoc.Input)) string {
	t.Helper()
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.SenderMailbox = "X26ABC1"
	in.PDF = senddoc.ExamplePDF()
	if mutate != nil {
		mutate(&in)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendHelpAndUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"top help", []string{"send", "--help"}, 0, "Examples:"},
		{"no subcommand", []string{"send"}, 2, "Subcommands:"},
		{"unknown subcommand", []string{"send", "nope"}, 2, `unknown subcommand "nope"`},
		{"submit help", []string{"send", "submit", "--help"}, 0, "Examples:"},
		{"run help", []string{"send", "run", "--help"}, 0, "Examples:"},
		{"list help", []string{"send", "list", "--help"}, 0, "Examples:"},
		{"show help", []string{"send", "show", "--help"}, 0, "Examples:"},
		{"alerts help", []string{"send", "alerts", "--help"}, 0, "Examples:"},
		{"resend help", []string{"send", "resend", "--help"}, 0, "Examples:"},
		{"replace help", []string{"send", "replace", "--help"}, 0, "Examples:"},
		{"submit without data", []string{"send", "submit", "x.json"}, 2, "--data is required"},
		{"list bad state", []string{"send", "list", "--data", t.TempDir(), "--state", "nope"}, 2, `unknown state "nope"`},
		{"run listen without token", []string{"send", "run", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, 2, "needs an API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := sendCLI(t.Context(), nil, tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("got %d, stdout %q stderr %q; want %d containing %q", code, out, errOut, tt.wantCode, tt.want)
			}
		})
	}
}

func TestSendSubmitListShow(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "outbox")
	good := writeSendInput(t, dir, "report.json", nil)
	bad := writeSendInput(t, dir, "bad.json", func(in *senddoc.Input) { in.Patient.NHSNumber = "" })
	code, out, errOut := sendCLI(t.Context(), nil, "send", "submit", "--data", data, good)
	if code != 0 || !strings.Contains(out, "queued") {
		t.Fatalf("submit: %d %q %q", code, out, errOut)
	}
	id := strings.Fields(out)[2]
	code, out, _ = sendCLI(t.Context(), nil, "send", "submit", "--data", data, good)
	if code != 0 || !strings.Contains(out, "already in the outbox "+id) {
		t.Fatalf("submit again: %d %q", code, out)
	}
	code, _, errOut = sendCLI(t.Context(), nil, "send", "submit", "--data", data, bad)
	if code != 1 || !strings.Contains(errOut, "refused, nothing stored") {
		t.Fatalf("submit invalid: %d %q", code, errOut)
	}
	code, out, _ = sendCLI(t.Context(), nil, "send", "list", "--data", data)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, id) || !strings.Contains(out, "queued") {
		t.Fatalf("list: %d %q", code, out)
	}
	code, out, _ = sendCLI(t.Context(), nil, "send", "show", "--data", data, id)
	if code != 0 || !strings.Contains(out, "History:") || !strings.Contains(out, "submitted") {
		t.Fatalf("show: %d %q", code, out)
	}
	if code, _, errOut = sendCLI(t.Context(), nil, "send", "show", "--data", data, "nope"); code != 1 || !strings.Contains(errOut, "no transmission") {
		t.Fatalf("show unknown: %d %q", code, errOut)
	}
	if code, _, errOut = sendCLI(t.Context(), nil, "send", "resend", "--data", data, id); code != 1 || !strings.Contains(errOut, "only failed or overdue") {
		t.Fatalf("resend queued: %d %q", code, errOut)
	}
	// GPCM-SD-038: only a report that was sent can be replaced, as in the web.
	if code, _, errOut = sendCLI(t.Context(), nil, "send", "replace", "--data", data, id, good); code != 1 || !strings.Contains(errOut, "cannot be replaced: it is queued") {
		t.Fatalf("replace queued: %d %q", code, errOut)
	}
}

// TestSendRunEndToEnd submits with the CLI, runs "gpcm send run" against a
// real MESH server, answers as the practice and waits for completion.
func TestSendRunEndToEnd(t *testing.T) {
	ms := meshtest.NewServer(t, meshtest.Options{Patients: []meshserver.Patient{{NHSNumber: "9434765919", BirthDate: "19550109", Surname: "Smith", PracticeODS: "X27"}}})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ms.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "outbox")
	env := map[string]string{"MESH_URL": ms.URL, "MESH_MAILBOX": "X26ABC1", "MESH_PASSWORD": "password", "MESH_SHARED_KEY": ms.SharedKey,
		"MESH_CA": ca, "GPCM_SEND_TOKEN": "tok", "GPCM_LOG_LEVEL": "warn"}
	if code, out, errOut := sendCLI(t.Context(), env, "send", "submit", "--data", data, "--send-now", writeSendInput(t, dir, "r.json", nil)); code != 0 {
		t.Fatalf("submit: %d %q %q", code, out, errOut)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var runErr string
	go func() {
		code, _, errOut := sendCLI(ctx, env, "send", "run", "--data", data, "--listen", "127.0.0.1:0", "--poll", "50ms")
		runErr = errOut
		done <- code
	}()
	practice, err := mesh.NewClient(mesh.Config{URL: ms.URL, Mailbox: "X27ABC1", Password: "password", SharedKey: ms.SharedKey,
		TLS: mesh.TLSConfig{RootCAs: ms.CertPool()}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	eventually(t, func() bool {
		ids, err = practice.Inbox(t.Context(), mesh.InboxOptions{})
		return err == nil && len(ids) == 1
	})
	d, err := practice.Get(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(d)
	d.Close()
	rep, err := senddoc.ValidateBytes(t.Context(), body, senddoc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := practice.Ack(t.Context(), ids[0]); err != nil {
		t.Fatal(err)
	}
	for _, code := range []itk3.ResponseCode{20013, itk3.CodePatientKnown} {
		msg, err := itk3.NewResponse(itk3.ResponseParams{Code: code, OriginalHeaderID: rep.MessageHeaderID, SenderReference: rep.SenderReference,
			ResponderODS: "X27", ResponderMailbox: "X27ABC1", Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := fhir.EncodeXML(&buf, msg.Bundle, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := practice.Send(t.Context(), mesh.SendRequest{To: "X26ABC1", WorkflowID: "GPFED_CONSULT_REPORT_ACK", Body: &buf}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() bool {
		_, out, _ := sendCLI(t.Context(), nil, "send", "list", "--data", data, "--state", "complete")
		return strings.Count(out, "\n") == 2
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("send run exited %d: %s", code, runErr)
	}
}

func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSendKill9 runs "gpcm send run" as a real process, kills it with
// SIGKILL three times while it is sending, restarts it, and checks that
// the practice receives every report exactly once.
func TestSendKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpcm and runs it as a subprocess")
	}
	const n = 60
	dir := t.TempDir()
	bin := filepath.Join(dir, "gpcm")
	if err := testutil.BuildGPCM(bin); err != nil {
		t.Fatal(err)
	}
	ms := meshtest.NewServer(t, meshtest.Options{Patients: []meshserver.Patient{{NHSNumber: "9434765919", BirthDate: "19550109", Surname: "Smith", PracticeODS: "X27"}}})
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ms.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "outbox")
	env := map[string]string{"MESH_URL": ms.URL, "MESH_MAILBOX": "X26ABC1", "MESH_PASSWORD": "password", "MESH_SHARED_KEY": ms.SharedKey,
		"MESH_CA": ca, "GPCM_LOG_LEVEL": "error"}
	files := []string{"send", "submit", "--data", data, "--edit-window", "0"}
	for i := range n {
		files = append(files, writeSendInput(t, dir, fmt.Sprintf("r%d.json", i), func(in *senddoc.Input) {
			in.Encounter.ID = fmt.Sprintf("6d6b8a8e-6f0c-4c1f-9a1e-%012d", i)
		}))
	}
	if code, _, errOut := sendCLI(t.Context(), env, files...); code != 0 {
		t.Fatalf("submit: %d %s", code, errOut)
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "send", "run", "--data", data, "--poll", "1h", "--lease", "1s", "--recheck-after", "1s", "--send-interval", "20ms")
		cmd.Env = environ
		var stderr sendBuf
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	inbox := func() int {
		c, err := ms.Store.CountInbox(t.Context(), "X27ABC1")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for k := 1; k <= 3; k++ {
		cmd := start()
		eventually(t, func() bool { return inbox() >= k*n/4 })
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
	cmd := start()
	eventually(t, func() bool {
		_, out, _ := sendCLI(t.Context(), nil, "send", "list", "--data", data, "--state", "sent", "--limit", "1000")
		return strings.Count(out, "\n") == n+1
	})
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	page, err := ms.Store.InboxPage(t.Context(), meshserver.InboxPageParams{Mailbox: "X27ABC1", Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []meshserver.Message
	for _, id := range page.IDs {
		m, err := ms.Store.GetMessage(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	seen := map[string]int{}
	for _, m := range msgs {
		tx, _, _ := strings.Cut(m.FileName, ".xml")
		tx = tx[:strings.LastIndex(tx, "-")]
		seen[tx]++
	}
	if len(msgs) != n || len(seen) != n {
		t.Fatalf("practice inbox holds %d messages for %d reports, want %d each once: %v", len(msgs), len(seen), n, seen)
	}
	db, err := sqlitestore.Open(t.Context(), filepath.Join(data, "sender.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recovered := 0
	for tx := range seen {
		ev, err := db.Sender().Events(t.Context(), tx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ev {
			if e.To == "send_unknown" {
				recovered++
				break
			}
		}
	}
	t.Logf("%d reports, 3 kills; %d were interrupted mid-send and recovered through the outbox check", n, recovered)
}
