package receiver

import (
	"context"
	"fmt"
	"slices"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

// sendDocument is GP Connect Send Document (ITK007C, workflows
// GPFED_CONSULT_REPORT and GPCONNECT_SEND_DOCUMENT): a PDF or other
// attachment for the practice to file.
type sendDocument struct{ r *Receiver }

func (sendDocument) name() string { return "send-document" }

func (sendDocument) workflows() []string { return []string{senddoc.WorkflowV1, senddoc.WorkflowV2} }

func (s sendDocument) accepts(wf string) bool { return slices.Contains(s.workflows(), wf) }

func (sendDocument) ackWorkflow(wf string) string {
	if wf == senddoc.WorkflowV2 {
		return senddoc.WorkflowV2Ack
	}
	return senddoc.WorkflowV1Ack
}

// structured: a Send Document's content is its attachment, served as such.
func (sendDocument) structured() bool { return false }

func (sendDocument) content(context.Context, []byte) (Content, error) {
	return Content{}, fmt.Errorf("a Send Document has no structured content: %w", ErrNotFound)
}

// assess validates a Send Document message and chooses its infrastructure
// response.
func (s sendDocument) assess(ctx context.Context, m Message, body []byte) outcome {
	r := s.r
	var o outcome
	meta := &senddoc.MeshMetadata{Transport: "api", WorkflowID: m.WorkflowID, From: m.From, To: m.To, Subject: m.Subject, LocalID: m.LocalID}
	// ValidateBundle: the whole message is at hand for the lenient pass,
	// and the bundle it decoded is the one the extraction reads.
	rep, bundle, err := senddoc.ValidateBundle(ctx, body, senddoc.Options{
		Mesh: meta, AllowTestNHSNumbers: r.cfg.AllowTestNHSNumbers, MaxBytes: r.cfg.MaxMessageBytes, Now: r.cfg.Now,
	})
	o.rep = rep
	if err != nil {
		// The reader refused it; the validator's lenient pass may still
		// have read the MessageHeader (issue 20 §5): then the answer names
		// the original and the specific fault.
		o.code = rep.ResponseCode
		if o.code == 0 || o.code.Class() != itk3.ClassInfAck || o.code.Positive() {
			o.code = itk3.CodeUnreadableMessage
		}
		o.diagnostics = "the message could not be read as a FHIR STU3 message bundle in XML or JSON"
		o.readable = rep.MessageHeaderID != "" && rep.MessageHeaderID != itk3.UnreadableIdentifier
		if !o.readable {
			o.rep.MessageHeaderID = itk3.UnreadableIdentifier
		} else if fs := findingsWith(rep.Findings, o.code); len(fs) > 0 {
			o.diagnostics = diagnostics(fs)
		}
		return o
	}
	o.readable = rep.MessageHeaderID != "" && rep.MessageHeaderID != itk3.UnreadableIdentifier
	if ctx.Err() != nil {
		return o // the budget ran out between the stages
	}
	if bundle != nil {
		o.p = parseBundle(bundle)
	}

	// The receiver sees its own mailbox as Mex-To: MESH replaced the
	// GPPROVIDER_ address it routed on, so findings about it do not apply.
	var errs []senddoc.Finding
	for _, f := range rep.Findings {
		if f.Path == "MESH.To" {
			continue
		}
		if f.Severity == senddoc.SeverityError {
			errs = append(errs, f)
		}
		if f.Transport() {
			// Never a reason to reject (issue 17 §2): kept on the
			// document for staff.
			o.meshFindings = append(o.meshFindings, DocFinding{Requirement: f.Requirement, Path: f.Path, Message: f.Message})
		}
		o.findings = append(o.findings, f.String())
	}
	switch {
	case rep.Kind != senddoc.KindSendDocument:
		o.code = rep.ResponseCode
		if o.code == 0 || o.code.Positive() {
			o.code = itk3.CodeHeaderValidationFailure
		}
		o.diagnostics = "the message is not a GP Connect Send Document message (ITK007C)"
		if len(errs) > 0 {
			o.diagnostics = diagnostics(errs)
		}
		return o
	}
	best := itk3.ResponseCode(0)
	for _, f := range errs {
		if f.Code != 0 && (best == 0 || f.Code < best) {
			best = f.Code
		}
	}
	if best == itk3.CodePayloadValidationFailure && r.cfg.AcceptUsable && rep.Usable {
		best = 0 // accepted with findings kept for staff
	}
	// FHIR-RR-01: a header that names another recipient is answered 20002,
	// ahead of the generic header and payload codes (GP Connect messages
	// carry no destination at all, GPCM-SD-CS-053, so one naming this
	// mailbox still gets 20006).
	if (best == 0 || best >= itk3.CodeHeaderValidationFailure) && len(o.p.Destinations) > 0 && !containsFold(o.p.Destinations, r.cfg.Mesh.Mailbox()) {
		o.code = itk3.CodeUnrecognisedRecipientOrg
		o.diagnostics = "MessageHeader.destination names another mailbox; this message is not for this organisation"
		return o
	}
	// Attachments of a type the practice does not accept: 20004 / 20005
	// (send-document.md §6.4), before the header and payload codes.
	if code, diag := r.checkAttachments(o.p.Attachments); code != 0 && (best == 0 || code < best) {
		o.code, o.diagnostics = code, diag
		return o
	}
	if best != 0 {
		o.code = best
		o.diagnostics = diagnostics(findingsWith(errs, best))
		return o
	}
	o.code = itk3.CodeSuccess
	return o
}
