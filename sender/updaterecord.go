package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

// prepareUpdateRecord builds a GP Connect Update Record input and prepares
// it as a ready message.
func (s *Service) prepareUpdateRecord(ctx context.Context, sub Submission) (NewTransmission, error) {
	in := *sub.UpdateRecord
	inputJSON, err := json.Marshal(in)
	if err != nil {
		return NewTransmission{}, fmt.Errorf("sender: encode update record input: %w", err)
	}
	built, err := updaterecord.Build(in, updaterecord.BuildOptions{Now: s.cfg.Now})
	if err != nil {
		if ie, ok := errors.AsType[*updaterecord.InputError](err); ok {
			return NewTransmission{}, &InvalidError{Problems: problemsOf(ie)}
		}
		return NewTransmission{}, fmt.Errorf("sender: build update record: %w", err)
	}
	payload, err := built.XML()
	if err != nil {
		return NewTransmission{}, fmt.Errorf("sender: build update record: %w", err)
	}
	if sub.Key == "" {
		sub.Key = "update-record:" + hashHex(inputJSON)
	}
	nt, err := s.prepareUpdateRecordMessage(ctx, sub, payload, built.Envelope)
	nt.Source = SourceInput
	return nt, err
}

// isUpdateRecord reports whether a ready message is an Update Record: by
// the workflow it is to go on when given, else by MessageHeader.event
// ITK014M (updaterecord.Recognise).
func isUpdateRecord(ctx context.Context, payload []byte, workflow string) bool {
	if workflow != "" {
		return updaterecord.Recognise(workflow, "")
	}
	res, _, _, err := fhir.DecodeContext(ctx, bytes.NewReader(payload), nil)
	if err != nil {
		return false
	}
	b, ok := res.(*fhir.Bundle)
	if !ok {
		return false
	}
	for _, e := range b.Entry {
		if mh, ok := e.Resource.(*fhir.MessageHeader); ok && mh.Event != nil {
			return updaterecord.Recognise("", mh.Event.Code.String())
		}
	}
	return false
}

// prepareUpdateRecordMessage validates a ready Update Record message
// (updaterecord.Validate, with its MESH values when it goes to the
// patient's GPPROVIDER_ address) and prepares its transmission on
// GPCONNECT_UPDATE_RECORD; acks come back on GPCONNECT_UPDATE_RECORD_ACK
// and are reconciled as Send Document's (UR-B02, UR-B03). Errors, and
// any finding on the MESH values (the sender's own obligation), refuse it.
func (s *Service) prepareUpdateRecordMessage(ctx context.Context, sub Submission, payload []byte, env senddoc.Envelope) (NewTransmission, error) {
	var nt NewTransmission
	if int64(len(payload)) > s.cfg.MaxPayload {
		return nt, refused(fmt.Sprintf("the message is %d bytes, more than the %d allowed", len(payload), s.cfg.MaxPayload))
	}
	nt.Source = SourceMessage
	if sub.Key == "" {
		sub.Key = "message:" + hashHex(payload)
	}
	if env.WorkflowID == "" {
		env.WorkflowID = updaterecord.Workflow
	}
	if env.WorkflowID != updaterecord.Workflow {
		return nt, refused(fmt.Sprintf("an Update Record goes on the MESH workflow %s, not %s (UR-B02)", updaterecord.Workflow, env.WorkflowID))
	}
	env.AckWorkflowID = updaterecord.WorkflowAck
	opts := updaterecord.Options{AllowTestNHSNumbers: s.cfg.AllowTestNHSNumbers, MaxBytes: s.cfg.MaxPayload}
	pre, err := updaterecord.ValidateBytes(ctx, payload, opts)
	if err != nil {
		return nt, refused("the message cannot be read: " + err.Error())
	}
	if pre.Kind != updaterecord.KindUpdateRecord {
		return nt, refused(fmt.Sprintf("the message is a %q, not an Update Record message", pre.Kind))
	}
	if env.From == "" && s.cfg.Mesh != nil {
		env.From = s.cfg.Mesh.Mailbox()
	}
	if env.From == "" {
		env.From = pre.SourceEndpoint
	}
	if mb := s.mailbox(); mb != "" && !strings.EqualFold(env.From, mb) {
		return nt, refused(fmt.Sprintf("the update's sender mailbox %s is not this sender's MESH mailbox %s: acknowledgements would go elsewhere", env.From, mb))
	}
	checkMesh := false
	switch s.cfg.Routing {
	case RouteMailbox:
		env.To = s.cfg.Mailbox
	case RouteLookup:
		to, err := s.lookup(ctx, sub.RecipientODS, env.WorkflowID)
		if err != nil {
			return nt, err
		}
		env.To = to
	default:
		checkMesh = true
	}
	if env.To == "" {
		return nt, refused("no recipient: a ready message needs its MESH address (To: the patient's GPPROVIDER_… address)")
	}
	rep := pre
	if checkMesh {
		opts.Mesh = &updaterecord.MeshMetadata{Transport: "api", WorkflowID: env.WorkflowID, From: env.From, To: env.To, Subject: env.Subject, LocalID: env.LocalID}
		if rep, err = updaterecord.ValidateBytes(ctx, payload, opts); err != nil {
			return nt, refused("the message cannot be read: " + err.Error())
		}
	}
	ie := &InvalidError{}
	for _, f := range rep.Findings {
		if f.Severity == senddoc.SeverityError || (strings.HasPrefix(f.Path, "MESH.") && f.Severity == senddoc.SeverityWarning) {
			ie.Findings = append(ie.Findings, f)
		}
	}
	if len(ie.Findings) > 0 {
		return nt, ie
	}
	nt.queue(sub, env, idsOf(rep.MessageHeaderID, rep.BundleID, rep.BundleIdentifier, rep.DocumentID, rep.SenderReference, rep.Version), payload)
	return nt, nil
}

// problemsOf is an Update Record refusal's problems, each about the input
// as a whole (updaterecord names the field in the text).
func problemsOf(ie *updaterecord.InputError) []senddoc.Problem {
	out := make([]senddoc.Problem, len(ie.Problems))
	for i, m := range ie.Problems {
		out[i] = senddoc.Problem{Message: m}
	}
	return out
}
