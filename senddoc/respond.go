package senddoc

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gpcm/gpcm/itk3"
)

// Responder identifies the system that answers a message.
type Responder struct {
	ODSCode string
	Mailbox string
	Now     time.Time // default time.Now
}

// InfAck builds the infrastructure acknowledgement for a validated message:
// 20013 when it conforms, otherwise the report's negative code with a
// diagnostics text naming the broken requirements (IDs and paths only, no
// patient data). It also answers unreadable messages (10009, response
// identifier UNREADABLE-IN-ORIGINAL-MESSAGE).
func InfAck(rep Report, r Responder) (*itk3.Message, error) {
	code := rep.ResponseCode
	if code == 0 {
		code = itk3.CodeUnreadableMessage
	}
	if code.Class() != itk3.ClassInfAck {
		return nil, fmt.Errorf("senddoc: %s is not an infrastructure acknowledgement code", code)
	}
	return itk3.NewResponse(itk3.ResponseParams{
		Code: code, OriginalHeaderID: headerIDFor(rep), SenderReference: rep.SenderReference,
		ResponderODS: r.ODSCode, ResponderMailbox: r.Mailbox, Diagnostics: Diagnostics(rep), Now: r.now(),
	})
}

// BusAck builds a business acknowledgement (30001…) for a message that got a
// positive InfAck.
func BusAck(rep Report, code itk3.ResponseCode, diagnostics string, r Responder) (*itk3.Message, error) {
	if code.Class() != itk3.ClassBusAck {
		return nil, fmt.Errorf("senddoc: %s is not a business acknowledgement code", code)
	}
	return itk3.NewResponse(itk3.ResponseParams{
		Code: code, OriginalHeaderID: headerIDFor(rep), SenderReference: rep.SenderReference,
		ResponderODS: r.ODSCode, ResponderMailbox: r.Mailbox, Diagnostics: diagnostics, Now: r.now(),
	})
}

func (r Responder) now() time.Time {
	if r.Now.IsZero() {
		return time.Now()
	}
	return r.Now
}

func headerIDFor(rep Report) string {
	if rep.MessageHeaderID == itk3.UnreadableIdentifier {
		return ""
	}
	return rep.MessageHeaderID
}

// Diagnostics summarises the error findings of a report for
// OperationOutcome.issue.diagnostics (GPCM-SD-042): requirement IDs
// qualified by catalogue version (Finding.Cite), what each asks and where,
// never element values.
func Diagnostics(rep Report) string {
	var parts []string
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Severity != SeverityError {
			continue
		}
		key := f.Requirement + " " + f.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		what := ""
		if r, ok := inventoryIndex[f.Requirement]; ok {
			what = ": " + r.Text
		}
		parts = append(parts, fmt.Sprintf("%s at %s%s", f.Cite(), f.Path, what))
	}
	sort.Strings(parts)
	if len(parts) > 20 {
		parts = append(parts[:20], fmt.Sprintf("and %d more", len(parts)-20))
	}
	return strings.Join(parts, "; ")
}
