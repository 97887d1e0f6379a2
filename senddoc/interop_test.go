package senddoc_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpcm/gpcm/senddoc"
)

// TestInteropCorpusFindings: every variant of every message of the interop
// corpus (testdata/interop, scripts/interop-corpus: ElementTree, lxml,
// xmllint --format and --c14n, BOM + CRLF, quoting, white space, CDATA and
// comments) gets the same validator report as its original: the same
// findings, response code and identifiers (issue 17, Deliver 5).
func TestInteropCorpusFindings(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "interop", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no interop corpus (run scripts/interop-corpus): %v", err)
	}
	summary := func(t *testing.T, path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := senddoc.Validate(t.Context(), bytes.NewReader(data), senddoc.Options{AllowTestNHSNumbers: true})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "code %d kind %s header %s document %s usable %v\n", rep.ResponseCode, rep.Kind, rep.MessageHeaderID, rep.DocumentID, rep.Usable)
		for _, f := range rep.Findings {
			fmt.Fprintf(&b, "%s %s %s %s %d\n", f.Requirement, f.Severity, f.Path, f.Message, f.Code)
		}
		return b.String()
	}
	for _, dir := range dirs {
		msg := filepath.Base(dir)
		var want string
		t.Run(msg+"/original.xml", func(t *testing.T) { want = summary(t, filepath.Join(dir, "original.xml")) })
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		for _, f := range files {
			if filepath.Base(f) == "original.xml" || want == "" {
				continue
			}
			t.Run(msg+"/"+filepath.Base(f), func(t *testing.T) {
				if got := summary(t, f); got != want {
					t.Errorf("report differs from the original's:\ngot\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}
