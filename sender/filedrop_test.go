package sender_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

func TestFileDrop(t *testing.T) {
	e := mustEnv(t, envOptions{})
	dir := t.TempDir()
	drop := sender.FileDrop{Out: filepath.Join(dir, "OUT")}
	if err := os.MkdirAll(drop.Out, 0o750); err != nil {
		t.Fatal(err)
	}
	built, err := senddoc.Build(exampleInput(), senddoc.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dat, err := built.XML()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := built.Envelope.ControlFile()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(drop.Out, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "SENT", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("report.dat", dat)
	write("report.ctl", ctl)
	write("garbage.dat", dat)
	write("garbage.ctl", []byte("this is not XML"))
	write("noto.dat", dat)
	write("noto.ctl", []byte(strings.Replace(string(ctl), "<To_DTS>"+built.Envelope.To+"</To_DTS>", "<To_DTS></To_DTS>", 1)))
	write("waiting.ctl", ctl) // its .dat has not arrived

	if n, err := e.svc.ScanDrop(t.Context(), drop); err != nil || n != 2 {
		t.Fatalf("first scan: finished %d, %v; want the 2 malformed pairs", n, err)
	}
	for _, name := range []string{"garbage.ctl", "noto.ctl"} {
		if got := read(name); !strings.Contains(got, "<Status>ERROR</Status>") || !strings.Contains(got, "Malformed control file") {
			t.Fatalf("%s status: %s", name, got)
		}
	}
	e.sendDue(t)
	if n, err := e.svc.ScanDrop(t.Context(), drop); err != nil || n != 1 {
		t.Fatalf("second scan: finished %d, %v; want 1", n, err)
	}
	ts, err := e.store.ListTransmissions(t.Context(), sender.ListParams{})
	if err != nil || len(ts) != 1 {
		t.Fatalf("transmissions: %d, %v; want 1 (malformed pairs send nothing)", len(ts), err)
	}
	status := read("report.ctl")
	if !strings.Contains(status, "<Status>SUCCESS</Status>") || !strings.Contains(status, "<DTSId>"+ts[0].MeshMessageID+"</DTSId>") || !strings.Contains(status, "<StatusCode>00</StatusCode>") {
		t.Fatalf("status file: %s", status)
	}
	if read("report.dat") != string(dat) {
		t.Fatal("the .dat was not moved to SENT intact")
	}
	left, _ := filepath.Glob(filepath.Join(drop.Out, "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "waiting.ctl" {
		t.Fatalf("OUT holds %v, want only waiting.ctl", left)
	}
	if n, err := e.svc.ScanDrop(t.Context(), drop); err != nil || n != 0 {
		t.Fatalf("rescan: %d, %v", n, err)
	}
	if got := e.practiceInbox(t); len(got) != 1 || got[0].headerID != built.HeaderID {
		t.Fatalf("practice got %d messages, want the dropped report once", len(got))
	}
}
