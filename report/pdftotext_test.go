package report_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mustPoppler returns the path of a poppler-utils tool. Without it the test
// skips, or fails when GPCM_TEST_STRICT=1 (CI), as the test script installs
// poppler-utils there.
func mustPoppler(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		msg := tool + " not found: install Debian package poppler-utils (apt-get install -y poppler-utils)"
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// mustPDFText extracts the text of pdf with pdftotext and the given flags
// (e.g. "-layout"). Pages are separated by form feeds.
func mustPDFText(t testing.TB, pdf []byte, flags ...string) string {
	t.Helper()
	tool := mustPoppler(t, "pdftotext")
	in := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), tool, append(append([]string{"-enc", "UTF-8"}, flags...), in, "-")...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pdftotext: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Fatalf("pdftotext complained: %s", stderr.String())
	}
	return stdout.String()
}

// pages splits pdftotext output into pages.
func pages(text string) []string {
	p := strings.Split(text, "\f")
	if n := len(p); n > 0 && strings.TrimSpace(p[n-1]) == "" {
		p = p[:n-1]
	}
	return p
}

// assertInOrder checks that every want string occurs in text, each after the
// previous one.
func assertInOrder(t *testing.T, text string, want ...string) {
	t.Helper()
	rest, pos := text, 0
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			if strings.Contains(text, w) {
				t.Fatalf("%q is out of order (looked after offset %d)\n%s", w, pos, text)
			}
			t.Fatalf("%q missing from the text\n%s", w, text)
		}
		pos += i + len(w)
		rest = rest[i+len(w):]
	}
}
