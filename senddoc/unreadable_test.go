package senddoc_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// TestUnreadableKeepsHeader: a message the FHIR reader refuses still names
// its MessageHeader.id when that can be read (issue 20 §5), and the code
// follows the fault: a handling flag that is not a boolean gets the key's
// 1xxxx code, any other structural fault in well-formed input 20009, input
// that is not well-formed 10009.
func TestUnreadableKeepsHeader(t *testing.T) {
	x, b := MustBuild(t, cs, 1)
	s := string(x)
	flag := func(key, v string) string {
		return regexp.MustCompile(`(url="`+key+`">\s*<valueBoolean value=")true`).ReplaceAllString(s, "${1}"+v)
	}
	rows := []struct {
		name   string
		in     string
		code   itk3.ResponseCode
		id     string
		req    string // a finding must name this requirement
		mbytes int64
	}{
		{name: "GPCM-SD-CS-045 InfAckRequested yes 10002", in: flag("InfAckRequested", "yes"), code: itk3.CodeInfAckValueError, id: b.HeaderID, req: "GPCM-SD-CS-045"},
		{name: "GPCM-SD-CS-044 BusAckRequested yes 10003", in: flag("BusAckRequested", "yes"), code: itk3.CodeBusAckValueError, id: b.HeaderID, req: "GPCM-SD-CS-044"},
		{name: "both flags not boolean 10002", in: strings.Replace(flag("InfAckRequested", "1"), `<valueBoolean value="true"/>`, `<valueBoolean value="0"/>`, 1),
			code: itk3.CodeInfAckValueError, id: b.HeaderID, req: "GPCM-SD-CS-044"},
		{name: "repeated Patient.name.family 20009", in: strings.Replace(s, `<family value="`, `<family value="X"/><family value="`, 1),
			code: itk3.CodePayloadValidationFailure, id: b.HeaderID, req: senddoc.RuleFHIRStructure},
		{name: "unknown element 20009", in: strings.Replace(s, "</Composition>", "<colour value=\"red\"/></Composition>", 1),
			code: itk3.CodePayloadValidationFailure, id: b.HeaderID, req: senddoc.RuleFHIRStructure},
		{name: "truncated after the header 10009 with its id", in: s[:len(s)/2], code: itk3.CodeUnreadableMessage, id: b.HeaderID},
		{name: "no header 10009 unreadable", in: `<Bundle xmlns="http://hl7.org/fhir"><id value="1"/><entry>`, code: itk3.CodeUnreadableMessage, id: itk3.UnreadableIdentifier},
		{name: "too large 20015", in: s, mbytes: 1000, code: itk3.CodeMessageTooLarge, id: itk3.UnreadableIdentifier},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			for _, via := range []string{"Validate", "ValidateBytes"} {
				opts := senddoc.Options{MaxBytes: r.mbytes}
				var rep senddoc.Report
				var err error
				if via == "Validate" {
					rep, err = senddoc.Validate(t.Context(), strings.NewReader(r.in), opts)
				} else {
					rep, err = senddoc.ValidateBytes(t.Context(), []byte(r.in), opts)
				}
				if !errors.Is(err, senddoc.ErrUnreadable) {
					t.Fatalf("%s: error %v, want ErrUnreadable", via, err)
				}
				if rep.ResponseCode != r.code || rep.MessageHeaderID != r.id {
					t.Fatalf("%s: code %s, header id %q; want %s, %q (findings %v)", via, rep.ResponseCode, rep.MessageHeaderID, r.code, r.id, rep.Findings)
				}
				if r.req != "" && len(findingsFor(rep, r.req)) == 0 {
					t.Errorf("%s: no %s finding in %v", via, r.req, rep.Findings)
				}
			}
		})
	}
}

// TestUnreadableStreamedHead: Validate keeps only the first MiB of a
// streamed message for the lenient pass, so a longer refused message keeps
// its header id but not its specific code; ValidateBytes, which has all of
// it, gives the code.
func TestUnreadableStreamedHead(t *testing.T) {
	x, b := MustBuild(t, cs, 1)
	s := strings.Replace(string(x), `<family value="`, `<family value="X"/><family value="`, 1)
	end := strings.LastIndex(s, "</Bundle>")
	s = s[:end] + strings.Repeat(" ", 2<<20) + s[end:]
	rep, err := senddoc.ValidateBytes(t.Context(), []byte(s), senddoc.Options{})
	if !errors.Is(err, senddoc.ErrUnreadable) || rep.ResponseCode != itk3.CodePayloadValidationFailure || rep.MessageHeaderID != b.HeaderID {
		t.Errorf("ValidateBytes: %v, code %s, id %q; want 20009 naming %s", err, rep.ResponseCode, rep.MessageHeaderID, b.HeaderID)
	}
	rep, err = senddoc.Validate(t.Context(), strings.NewReader(s), senddoc.Options{})
	if !errors.Is(err, senddoc.ErrUnreadable) || rep.ResponseCode != itk3.CodeUnreadableMessage || rep.MessageHeaderID != b.HeaderID {
		t.Errorf("Validate: %v, code %s, id %q; want 10009 naming %s", err, rep.ResponseCode, rep.MessageHeaderID, b.HeaderID)
	}
}
