package receiver

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

// UpdateRecordMode is a practice's setting for GP Connect Update Record.
type UpdateRecordMode string

// Update Record settings (Config.UpdateRecord).
const (
	// UpdateRecordReview: an update for a registered patient waits in the
	// worklist for a person to review and file it (the guide: never
	// auto-filed, update-record.md §7.1 step 10).
	UpdateRecordReview UpdateRecordMode = "review"
	// UpdateRecordAutoFile: an update for a registered patient is filed at
	// once, its worklist item recording the setting as who filed it
	// (1.2.1 lets the practice choose, §7.1 step 12).
	UpdateRecordAutoFile UpdateRecordMode = "auto-file"
	// UpdateRecordOff: the practice does not take Update Record; every
	// update is answered 20010 (UR-F08, §7.5).
	UpdateRecordOff UpdateRecordMode = "off"
)

// ParseUpdateRecordMode reads a setting: review, auto-file or off.
func ParseUpdateRecordMode(s string) (UpdateRecordMode, error) {
	switch m := UpdateRecordMode(strings.TrimSpace(s)); m {
	case UpdateRecordReview, UpdateRecordAutoFile, UpdateRecordOff:
		return m, nil
	}
	return "", fmt.Errorf("update record setting %q: use review, auto-file or off", s)
}

// AutoFiledBy is who a document auto-filed by the practice setting was
// filed by.
const AutoFiledBy = "practice setting: auto-file"

// updateRecord is GP Connect Update Record (ITK014M, workflow
// GPCONNECT_UPDATE_RECORD): a structured consultation summary from a
// community pharmacy.
type updateRecord struct{ r *Receiver }

func (updateRecord) name() string { return "update-record" }

func (updateRecord) workflows() []string { return []string{updaterecord.Workflow} }

func (updateRecord) accepts(wf string) bool { return wf == updaterecord.Workflow }

func (updateRecord) ackWorkflow(string) string { return updaterecord.WorkflowAck } // UR-B03

// assess validates an Update Record message (update-record.md §7.1 steps
// 2–6): 20010 when the practice has it switched off, the handling
// specification codes and 20006 for the header, 20009 for anything wrong
// in the payload or outside iteration 1 (the whole message). Findings on
// the MESH envelope are kept for staff and never reject (issue 17 §2); the
// receiver sees its own mailbox as Mex-To, so UR-B01/B05 on it do not
// apply.
func (u updateRecord) assess(ctx context.Context, m Message, body []byte) outcome {
	r := u.r
	var o outcome
	meta := &updaterecord.MeshMetadata{Transport: "api", WorkflowID: m.WorkflowID, From: m.From, To: m.To, Subject: m.Subject, LocalID: m.LocalID}
	rep, err := updaterecord.ValidateBytes(ctx, body, updaterecord.Options{
		Mesh: meta, Disabled: r.cfg.UpdateRecord == UpdateRecordOff,
		AllowTestNHSNumbers: r.cfg.AllowTestNHSNumbers, MaxBytes: r.cfg.MaxMessageBytes,
	})
	o.rep = headerReport(rep)
	o.readable = rep.MessageHeaderID != "" && rep.MessageHeaderID != itk3.UnreadableIdentifier
	if err != nil {
		o.code = rep.ResponseCode
		if o.code == 0 || o.code.Class() != itk3.ClassInfAck || o.code.Positive() {
			o.code = itk3.CodeUnreadableMessage
		}
		o.diagnostics = "the message could not be read as a FHIR STU3 message bundle in XML or JSON"
		if !o.readable {
			// A lenient scan may still find the header to name.
			if sr := senddoc.ScanReport(ctx, body); sr.MessageHeaderID != itk3.UnreadableIdentifier {
				o.rep, o.readable = sr, true
			}
		}
		return o
	}
	if ctx.Err() != nil {
		return o // the budget ran out between the stages
	}
	var errs []senddoc.Finding
	for _, f := range rep.Findings {
		switch {
		case f.Path == "MESH.To":
			continue
		case strings.HasPrefix(f.Path, "MESH."):
			o.meshFindings = append(o.meshFindings, DocFinding{Requirement: f.Requirement, Path: f.Path, Message: f.Message})
		case f.Severity == senddoc.SeverityError:
			errs = append(errs, f)
		}
		o.findings = append(o.findings, f.String())
	}
	switch {
	case rep.Kind != updaterecord.KindUpdateRecord:
		o.code = itk3.CodeHeaderValidationFailure
		o.diagnostics = "the message is not a GP Connect Update Record message (ITK014M)"
		return o
	case rep.ResponseCode == itk3.CodeUnrecognisedPayloadOrg:
		o.code = rep.ResponseCode
		o.diagnostics = diagnostics(findingsWith(rep.Findings, o.code))
		return o
	}
	best := itk3.ResponseCode(0)
	for _, f := range errs {
		if f.Code != 0 && (best == 0 || f.Code < best) {
			best = f.Code
		}
	}
	if best != 0 {
		o.code = best
		o.diagnostics = diagnostics(findingsWith(errs, best))
		return o
	}
	o.p, _ = parseMessage(ctx, body, r.cfg.MaxMessageBytes)
	o.autoFile = r.cfg.UpdateRecord == UpdateRecordAutoFile
	o.code = itk3.CodeSuccess
	return o
}

// headerReport carries the correlation values of an Update Record report
// in the shape the pipeline keeps for every message.
func headerReport(rep updaterecord.Report) senddoc.Report {
	return senddoc.Report{
		Kind: rep.Kind, MessageHeaderID: rep.MessageHeaderID, BundleIdentifier: rep.BundleIdentifier,
		SenderReference: rep.SenderReference, SourceEndpoint: rep.SourceEndpoint, DocumentID: rep.DocumentID,
		Version: rep.Version, InfAckRequested: rep.InfAckRequested, BusAckRequested: rep.BusAckRequested,
	}
}

func (updateRecord) structured() bool { return true }

// content reads the update for staff (updaterecord.Summary.View) and
// writes its document Bundle as FHIR JSON.
func (updateRecord) content(ctx context.Context, body []byte) (Content, error) {
	res, _, _, err := fhir.DecodeContext(ctx, bytes.NewReader(body), nil)
	if err != nil {
		return Content{}, fmt.Errorf("read update record: %w", err)
	}
	s, err := updaterecord.Read(res)
	if err != nil {
		return Content{}, err
	}
	var b bytes.Buffer
	if err := updaterecord.WriteDocumentJSON(&b, res); err != nil {
		return Content{}, fmt.Errorf("write update record as FHIR JSON: %w", err)
	}
	return Content{View: s.View(), FHIR: b.Bytes()}, nil
}
