package htmlcheck_test

import (
	"strings"
	"testing"

	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

const page = `<!DOCTYPE html><html><body>
<main id="maincontent"><h1>Results</h1>
<table id="findings" class="nhsuk-table gpcm"><tbody>
<tr><td class="req">GPCM-SD-CS-061</td><td>error</td></tr>
<tr><td class="req">FHIR-STU3</td><td>warning</td></tr>
</tbody></table>
<input type="hidden" name="csrf_token" value="abc">
<p>  many
   spaces </p>
</main></body></html>`

func TestCheckers(t *testing.T) {
	tests := []struct {
		name    string
		check   htmlcheck.Checker
		wantErr string
	}{
		{"id and descendant", htmlcheck.In("#findings tbody tr td.req", htmlcheck.HasText("GPCM-SD-CS-061")), ""},
		{"compound tag class", htmlcheck.In("table.nhsuk-table.gpcm", htmlcheck.HasAttr("id", "findings")), ""},
		{"attribute value", htmlcheck.In(`input[name="csrf_token"]`, htmlcheck.HasAttr("value", "abc")), ""},
		{"attribute presence", htmlcheck.Count(1, "input[value]"), ""},
		{"count rows", htmlcheck.Count(2, "#findings tr"), ""},
		{"collapsed text", htmlcheck.In("main p", htmlcheck.HasExactText("many spaces")), ""},
		{"absent ok", htmlcheck.Absent("script"), ""},
		{"in all", htmlcheck.InAll("td.req", htmlcheck.HasText("-")), ""},
		{"no match", htmlcheck.In("#nothing"), `no element matches "#nothing"`},
		{"wrong text", htmlcheck.In("h1", htmlcheck.HasText("Findings")), `text "Results" does not contain "Findings"`},
		{"wrong count", htmlcheck.Count(3, "tr"), "matches 2 elements, want 3"},
		{"absent fails", htmlcheck.Absent("h1"), `"h1" matches <h1>`},
		{"wrong attr", htmlcheck.In("input", htmlcheck.HasAttr("name", "x")), `attribute name is "csrf_token", want "x"`},
		{"in all fails", htmlcheck.InAll("td.req", htmlcheck.HasText("GPCM")), `#1: text "FHIR-STU3"`},
		{"order of ancestors", htmlcheck.Count(0, "tbody table td"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := htmlcheck.Run(strings.NewReader(page), tt.check)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSelectorErrors(t *testing.T) {
	for _, s := range []string{"", "#", "a[", "a.", "a>b", "[=x]"} {
		if _, err := htmlcheck.ParseSelector(s); err == nil {
			t.Errorf("ParseSelector(%q): got no error, want one", s)
		}
	}
}
