package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/senddoc"
)

// Process claims a batch of stored messages and takes each through
// validation, the infrastructure ack, patient matching, the business ack
// and the worklist. It returns how many messages it completed.
func (r *Receiver) Process(ctx context.Context) (int, error) {
	msgs, err := r.cfg.Store.ClaimMessages(ctx, ClaimParams{Owner: r.cfg.Owner, Now: r.cfg.Now(), Lease: r.cfg.Lease, Limit: r.cfg.Batch})
	if err != nil {
		return 0, err
	}
	// Messages are processed one after another, in arrival order, so that
	// an original is in the worklist before its replacement or duplicate is
	// judged; downloads and ack sends run concurrently.
	var n atomic.Int64
	err = forEach(1, msgs, func(m Message) error {
		err := r.processOne(ctx, m)
		if err == nil {
			n.Add(1)
			return nil
		}
		errs := []error{err}
		retry := r.cfg.Now().Add(backoff(m.Attempts))
		if rerr := r.cfg.Store.ReleaseMessage(context.WithoutCancel(ctx), ReleaseParams{ID: m.ID, Owner: r.cfg.Owner, Error: err.Error(), RetryAt: retry}); rerr != nil {
			errs = append(errs, rerr)
		}
		if ctx.Err() == nil {
			r.log.Warn("processing failed; will retry", "id", m.ID, "mesh_id", m.MeshID, "attempt", m.Attempts, "err", err)
		}
		return errors.Join(errs...)
	})
	if ctx.Err() != nil {
		return int(n.Load()), ctx.Err()
	}
	return int(n.Load()), err
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt, 1), 12)
	return min(d, time.Hour)
}

// outcome is the decision about one message.
type outcome struct {
	code        itk3.ResponseCode
	diagnostics string
	rep         senddoc.Report
	readable    bool // the header could be read
	p           parsed
	findings    []string
}

func (r *Receiver) processOne(ctx context.Context, m Message) error {
	start := r.cfg.Now()
	rc, err := r.cfg.Blobs.Open(ctx, m.BlobKey, 0)
	if err != nil {
		return fmt.Errorf("receiver: open payload of message %d: %w", m.ID, err)
	}
	body, tooBig, err := readAllLimit(rc, r.cfg.MaxMessageBytes)
	rc.Close()
	if err != nil {
		return fmt.Errorf("receiver: read payload of message %d: %w", m.ID, err)
	}
	o := r.decide(ctx, m, body, tooBig)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	doc, err := r.complete(ctx, m, o)
	if err != nil {
		return err
	}
	r.metrics.observeLatency(r.cfg.Now().Sub(start))
	attrs := []any{"id", m.ID, "mesh_id", m.MeshID, "header_id", o.rep.MessageHeaderID, "infack", int(o.code)}
	if doc.ID != 0 {
		attrs = append(attrs, "document", doc.ID, "state", doc.State, "busack", doc.BusAckCode)
	}
	r.log.Info("message processed", attrs...)
	return nil
}

// decide validates a message and chooses its infrastructure response.
func (r *Receiver) decide(ctx context.Context, m Message, body []byte, tooBig bool) outcome {
	var o outcome
	if tooBig {
		o.code = itk3.CodeMessageTooLarge
		o.diagnostics = fmt.Sprintf("the message is larger than the %d bytes this receiver accepts", r.cfg.MaxMessageBytes)
		o.rep.MessageHeaderID = itk3.UnreadableIdentifier
		return o
	}
	meta := &senddoc.MeshMetadata{Transport: "api", WorkflowID: m.WorkflowID, From: m.From, To: m.To, Subject: m.Subject, LocalID: m.LocalID}
	rep, err := senddoc.Validate(ctx, bytes.NewReader(body), senddoc.Options{
		Mesh: meta, AllowTestNHSNumbers: r.cfg.AllowTestNHSNumbers, MaxBytes: r.cfg.MaxMessageBytes, Now: r.cfg.Now,
	})
	o.rep = rep
	if err != nil {
		o.code = rep.ResponseCode
		if o.code == 0 || o.code.Class() != itk3.ClassInfAck || o.code.Positive() {
			o.code = itk3.CodeUnreadableMessage
		}
		o.diagnostics = "the message could not be read as a FHIR STU3 message bundle in XML or JSON"
		o.rep.MessageHeaderID = itk3.UnreadableIdentifier
		return o
	}
	o.readable = rep.MessageHeaderID != "" && rep.MessageHeaderID != itk3.UnreadableIdentifier
	o.p, _ = parseMessage(body, r.cfg.MaxMessageBytes)

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
	if best != 0 {
		o.code = best
		var fs []senddoc.Finding
		for _, f := range errs {
			if f.Code == best {
				fs = append(fs, f)
			}
		}
		o.diagnostics = diagnostics(fs)
		return o
	}
	o.code = itk3.CodeSuccess
	return o
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// diagnostics puts the findings behind a negative code into
// OperationOutcome.issue.diagnostics (GPCM-SD-042). Findings name
// requirements and paths, never values.
func diagnostics(fs []senddoc.Finding) string {
	var b strings.Builder
	for i, f := range fs {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(fs)-5)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s at %s: %s", f.Requirement, f.Path, f.Message)
	}
	return b.String()
}

// complete records the outcome, turning a duplicate or unknown replacement
// found by the store into the matching negative response.
func (r *Receiver) complete(ctx context.Context, m Message, o outcome) (Document, error) {
	for range 3 {
		p, err := r.completeParams(ctx, m, o)
		if err != nil {
			return Document{}, err
		}
		doc, err := r.cfg.Store.CompleteMessage(ctx, p)
		switch {
		case err == nil:
			r.countOutcome(p, doc)
			return doc, nil
		case errors.Is(err, ErrDuplicateMessage):
			o.code, o.diagnostics = itk3.CodeDuplicateMessage, "a message with this MessageHeader.id or Bundle.identifier was already received"
		case errors.Is(err, ErrDuplicateDocument):
			o.code, o.diagnostics = itk3.CodeDuplicateDocument, "a document with this Composition.identifier was already received"
		case errors.Is(err, ErrReplacementTarget):
			o.code, o.diagnostics = itk3.CodeReplacementFailed, "the document named in Composition.relatesTo (replaces) is not known to this receiver; the replacement cannot be processed"
		default:
			return Document{}, err
		}
	}
	return Document{}, fmt.Errorf("receiver: message %d: outcome kept changing", m.ID)
}

func (r *Receiver) countOutcome(p CompleteParams, doc Document) {
	for _, a := range p.Acks {
		r.metrics.ackEnqueued(a.Code)
	}
	if p.Document != nil {
		switch doc.State {
		case DocHeld, DocNotFiled:
			r.metrics.unmatched.Add(1)
		}
	}
}

func ackWorkflow(wf string) string {
	if wf == senddoc.WorkflowV2 {
		return senddoc.WorkflowV2Ack
	}
	return senddoc.WorkflowV1Ack
}

func (r *Receiver) completeParams(ctx context.Context, m Message, o outcome) (CompleteParams, error) {
	now := r.cfg.Now()
	rep := o.rep
	p := CompleteParams{ID: m.ID, Owner: r.cfg.Owner, Now: now, InfAckCode: int(o.code), SenderReference: rep.SenderReference}
	p.BusAckRequested = rep.BusAckRequested != nil && *rep.BusAckRequested
	if o.readable {
		p.HeaderID, p.BundleIdentifier = rep.MessageHeaderID, rep.BundleIdentifier
	}
	negative := !o.code.Positive()
	if o.readable && (o.code != itk3.CodeDuplicateMessage) {
		p.Keys = append(p.Keys, "header:"+rep.MessageHeaderID)
		if rep.BundleIdentifier != "" {
			p.Keys = append(p.Keys, "bundle:"+rep.BundleIdentifier)
		}
	}
	to := m.From
	if to == "" {
		to = rep.SourceEndpoint
	}
	// ITK3: answer when asked, and always when the flags could not be read
	// or the handling specification itself is wrong.
	sendInf := rep.InfAckRequested == nil || *rep.InfAckRequested || (negative && int(o.code) < 20000)
	if sendInf && to != "" {
		ack, err := r.buildAck(AckInf, o.code, o.diagnostics, rep, m, to, now)
		if err != nil {
			return p, err
		}
		p.Acks = append(p.Acks, ack)
	}
	if negative {
		p.State = MessageRejected
		return p, nil
	}
	p.State = MessageAccepted
	d := &NewDocument{
		DocumentID: rep.DocumentID, DocBundleID: o.p.DocBundleID, MessageBundleID: rep.BundleIdentifier,
		Subject: m.Subject, TypeLabel: o.p.TypeLabel, RecipientType: o.p.RecipientType, Patient: o.p.Patient,
		Version: rep.Version, SenderReference: rep.SenderReference, From: m.From, Findings: o.findings,
	}
	if d.RecipientType == "" {
		d.RecipientType = "FA" // ITK3: assume for action
	}
	if len(o.p.ReplacesIDs) > 0 {
		d.ReplacesIdentifier = o.p.ReplacesIDs[0]
	}
	// Attachments stay inside the stored message (one durable copy); they
	// are decoded from it when a person opens one.
	for i, a := range o.p.Attachments {
		d.Attachments = append(d.Attachments, Attachment{Index: i, Title: a.Title, ContentType: a.ContentType, Size: int64(len(a.Data)), BlobKey: m.BlobKey})
	}
	// Patient matching against the practice register.
	out, err := r.match(ctx, o.p.Patient, now)
	if err != nil {
		return p, err
	}
	d.MatchReason = out.Reason
	var bus itk3.ResponseCode
	switch out.State {
	case patient.Matched, patient.RecentlyDeceased:
		d.State = DocAwaitingFiling
		bus = stateCode(out.State)
	case patient.NotKnown, patient.Left:
		d.State = DocNotFiled
		bus = stateCode(out.State)
	case patient.Mismatch:
		d.State = DocHeld
		d.HoldUntil = now.Add(r.cfg.HoldFor)
		d.ConfirmedAckCode = int(stateCode(out.Confirmed))
	}
	if bus != 0 && rep.BusAckRequested != nil && *rep.BusAckRequested && to != "" {
		ack, err := r.buildAck(AckBus, bus, "", rep, m, to, now)
		if err != nil {
			return p, err
		}
		p.Acks = append(p.Acks, ack)
		d.BusAckCode = int(bus)
	}
	p.Document = d
	return p, nil
}

func stateCode(s patient.State) itk3.ResponseCode {
	switch s {
	case patient.Matched:
		return itk3.CodePatientKnown
	case patient.RecentlyDeceased:
		return itk3.CodePatientRecentlyDeceased
	case patient.Left:
		return itk3.CodePatientNoLongerHere
	default:
		return itk3.CodePatientNotKnown
	}
}

// match looks the patient up in the register and applies patient.Match.
func (r *Receiver) match(ctx context.Context, dp DocPatient, now time.Time) (patient.Outcome, error) {
	in := patient.Demographics{NHSNumber: dp.NHSNumber, Family: dp.Family, Given: dp.Given}
	in.BirthDate, _ = patient.ParseDateFormat(dp.BirthDate, patient.DateISO)
	if dp.NHSNumber == "" {
		return patient.Match(nil, in, now), nil
	}
	reg, err := r.cfg.Store.GetPatient(ctx, dp.NHSNumber)
	if errors.Is(err, ErrNotFound) {
		return patient.Match(nil, in, now), nil
	}
	if err != nil {
		return patient.Outcome{}, err
	}
	e := registerEntry(reg)
	return patient.Match(&e, in, now), nil
}

func registerEntry(p Patient) patient.RegisterEntry {
	e := patient.RegisterEntry{NHSNumber: p.NHSNumber, Family: p.Family, Given: p.Given}
	e.BirthDate, _ = patient.ParseDateFormat(p.BirthDate, patient.DateISO)
	switch p.Status {
	case StatusLeft:
		e.Status = patient.LeftPractice
		e.LeftDate, _ = patient.ParseDateFormat(p.LeftDate, patient.DateISO)
	case StatusDeceased:
		e.Status = patient.Deceased
		e.DeathDate, _ = patient.ParseDateFormat(p.DeathDate, patient.DateISO)
	}
	return e
}

// buildAck builds an ITK3 response (ITK008M) to the message.
func (r *Receiver) buildAck(kind AckKind, code itk3.ResponseCode, diag string, rep senddoc.Report, m Message, to string, now time.Time) (NewAck, error) {
	orig := rep.MessageHeaderID
	if orig == itk3.UnreadableIdentifier {
		orig = ""
	}
	sref := rep.SenderReference
	if sref == "" {
		sref = "None"
	}
	resp, err := itk3.NewResponse(itk3.ResponseParams{
		Code: code, OriginalHeaderID: orig, SenderReference: sref,
		ResponderODS: r.cfg.ODSCode, ResponderMailbox: r.cfg.Mesh.Mailbox(), Diagnostics: diag, Now: now,
	})
	if err != nil {
		return NewAck{}, fmt.Errorf("receiver: build %s ack for message %d: %w", code, m.ID, err)
	}
	var buf bytes.Buffer
	if err := fhir.EncodeXML(&buf, resp.Bundle, nil); err != nil {
		return NewAck{}, fmt.Errorf("receiver: encode %s ack for message %d: %w", code, m.ID, err)
	}
	return NewAck{Kind: kind, Code: int(code), To: to, WorkflowID: ackWorkflow(m.WorkflowID), HeaderID: resp.Header.ID.String(), Body: buf.Bytes()}, nil
}
