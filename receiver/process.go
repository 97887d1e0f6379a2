package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
	"github.com/gpcm/gpcm/senddoc"
)

// Process claims a batch of stored messages and takes each through
// validation, the infrastructure ack, patient matching, the business ack
// and the worklist. It returns how many messages it completed.
//
// The messages are decided in parallel (decoding, validation, matching and
// building the acks need nothing from each other), each within
// Config.ProcessBudget, then their outcomes are recorded in arrival order
// in one transaction, so that an original is in the worklist before its
// replacement or repeat is judged, exactly as if they were processed one at
// a time. A message still being decided after a moment does not hold the
// others up: those decided are recorded first, except a replacement behind
// it (see schedule.go).
func (r *Receiver) Process(ctx context.Context) (int, error) {
	return r.process(ctx, false, nil)
}

// finish records the outcomes of decided items (in order) and gives back
// the items that failed, or all of them when ctx ended.
func (r *Receiver) finish(ctx context.Context, items []*item) (int, error) {
	if ctx.Err() != nil {
		r.releaseAll(ctx, items, ctx.Err())
		return 0, ctx.Err()
	}
	var errs []error
	var ready []*item
	for _, it := range items {
		if it.err != nil {
			errs = append(errs, r.release(ctx, it.m, it.err))
			continue
		}
		ready = append(ready, it)
	}
	n, err := r.completeAll(ctx, ready)
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, errors.Join(append(errs, err)...)
}

// item is one claimed message on its way through Process.
type item struct {
	m       Message
	start   time.Time
	o       outcome
	p       CompleteParams
	changes int // times the store changed the outcome
	err     error
}

// prepare reads and decides one message within the processing budget and
// builds its outcome.
func (r *Receiver) prepare(ctx context.Context, m Message) *item {
	it := &item{m: m, start: r.cfg.Now()}
	bctx, cancel := context.WithTimeout(ctx, r.cfg.ProcessBudget)
	defer cancel()
	body, tooBig, err := r.openPayload(bctx, m)
	if err == nil {
		it.o = r.decide(bctx, m, body, tooBig)
	}
	switch {
	case overBudget(ctx, bctx) && m.Attempts < budgetAttempts:
		// Perhaps only a busy moment: once more after a backoff.
		it.err = fmt.Errorf("receiver: message %d was not read within the processing budget (%s); trying again", m.ID, r.cfg.ProcessBudget)
		return it
	case overBudget(ctx, bctx):
		it.o = r.overBudget(ctx, body)
	case err != nil:
		it.err = err
		return it
	}
	it.p, it.err = r.completeParams(ctx, m, it.o)
	return it
}

// completeAll records the outcomes in order, in as few transactions as
// the store allows: when it refuses an item (a repeat, an unknown
// replacement target, or a claim lost to another worker), the items before
// it are committed, the item's outcome is decided again, and recording
// goes on from there.
func (r *Receiver) completeAll(ctx context.Context, items []*item) (int, error) {
	var errs []error
	n := 0
	for len(items) > 0 {
		ps := make([]CompleteParams, len(items))
		for i, it := range items {
			ps[i] = it.p
		}
		docs, err := r.cfg.Store.CompleteMessages(ctx, ps)
		for i, doc := range docs {
			r.completed(items[i], doc)
			n++
		}
		items = items[len(docs):]
		if err == nil {
			break
		}
		if len(items) == 0 || !isRefusal(err) {
			// Nothing was recorded from here on: give the rest back.
			for _, it := range items {
				if rerr := r.release(ctx, it.m, err); rerr != nil {
					errs = append(errs, rerr)
				}
			}
			if ctx.Err() == nil {
				errs = append(errs, err)
			}
			break
		}
		it := items[0]
		if err := r.redecide(ctx, it, err); err != nil {
			if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
				errs = append(errs, r.release(ctx, it.m, err))
			} else {
				// Another worker took the message over (our lease ran
				// out): it is theirs to finish.
				r.log.Warn("claim lost; left to the worker holding it", "id", it.m.ID, "mesh_id", it.m.MeshID, "err", err)
				errs = append(errs, err)
			}
			items = items[1:]
		}
	}
	return n, errors.Join(errs...)
}

// isRefusal reports an error CompleteMessages returns for one item.
func isRefusal(err error) bool {
	for _, s := range []error{ErrNotFound, ErrConflict, ErrDuplicateMessage, ErrDuplicateDocument, ErrReplacementTarget} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// redecide turns a repeat or unknown replacement found by the store into
// the matching negative response; other refusals are returned.
func (r *Receiver) redecide(ctx context.Context, it *item, err error) error {
	o := &it.o
	switch {
	case errors.Is(err, ErrDuplicateMessage):
		o.code, o.diagnostics = itk3.CodeDuplicateMessage, "a message with this MessageHeader.id or Bundle.identifier was already received"
	case errors.Is(err, ErrDuplicateDocument):
		o.code, o.diagnostics = itk3.CodeDuplicateDocument, "a document with this Composition.identifier was already received"
	case errors.Is(err, ErrReplacementTarget):
		o.code, o.diagnostics = itk3.CodeReplacementFailed, "the document named in Composition.relatesTo (replaces) is not one this receiver holds from the same sending organisation for the same patient; the replacement cannot be processed, and the original is void"
	default:
		return err
	}
	if it.changes++; it.changes > 3 {
		return fmt.Errorf("receiver: message %d: outcome kept changing", it.m.ID)
	}
	p, perr := r.completeParams(ctx, it.m, *o)
	if perr != nil {
		return perr
	}
	it.p = p
	return nil
}

// completed counts and logs a recorded outcome.
func (r *Receiver) completed(it *item, doc Document) {
	r.countOutcome(it.p, doc)
	r.metrics.observeLatency(r.cfg.Now().Sub(it.start))
	attrs := []any{"id", it.m.ID, "mesh_id", it.m.MeshID, "header_id", it.o.rep.MessageHeaderID, "infack", int(it.o.code)}
	if doc.ID != 0 {
		attrs = append(attrs, "document", doc.ID, "state", doc.State, "busack", doc.BusAckCode)
	}
	r.log.Info("message processed", attrs...)
	if doc.ID != 0 {
		r.changes.publish(DocumentChange{ID: doc.ID})
	}
}

// release gives a claimed message back for a retry after a backoff and
// returns cause joined with any release failure.
func (r *Receiver) release(ctx context.Context, m Message, cause error) error {
	errs := []error{cause}
	retry := r.cfg.Now().Add(backoff(m.Attempts))
	if rerr := r.cfg.Store.ReleaseMessage(context.WithoutCancel(ctx), ReleaseParams{ID: m.ID, Owner: r.cfg.Owner, Error: cause.Error(), RetryAt: retry}); rerr != nil {
		errs = append(errs, rerr)
	}
	if ctx.Err() == nil {
		r.log.Warn("processing failed; will retry", "id", m.ID, "mesh_id", m.MeshID, "attempt", m.Attempts, "err", cause)
	}
	return errors.Join(errs...)
}

func (r *Receiver) releaseAll(ctx context.Context, items []*item, cause error) {
	for _, it := range items {
		if it != nil {
			_ = r.release(ctx, it.m, cause)
		}
	}
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt, 1), 12)
	return min(d, time.Hour)
}

// outcome is the decision about one message.
type outcome struct {
	code         itk3.ResponseCode
	diagnostics  string
	rep          senddoc.Report
	readable     bool // the header could be read
	p            parsed
	findings     []string
	meshFindings []DocFinding
	// autoFile files the document of a registered patient at once (the
	// Update Record practice setting).
	autoFile bool
}

// decide validates a message and chooses its infrastructure response.
func (r *Receiver) decide(ctx context.Context, m Message, body []byte, tooBig bool) outcome {
	var o outcome
	if tooBig {
		o.code = itk3.CodeMessageTooLarge
		o.diagnostics = fmt.Sprintf("the message is larger than the %d bytes this receiver accepts", r.cfg.MaxMessageBytes)
		o.rep.MessageHeaderID = itk3.UnreadableIdentifier
		// Its head names the original (the MessageHeader comes first).
		if rep := senddoc.ScanReport(ctx, body); rep.MessageHeaderID != itk3.UnreadableIdentifier {
			o.rep, o.readable = rep, true
		}
		return o
	}
	c := r.capabilityFor(m.WorkflowID)
	if c == nil {
		// Collect leaves other workflows in the inbox; a message stored by
		// an older version on a workflow no capability takes now.
		o.code = itk3.CodeUnrecognisedPayloadOrg
		o.diagnostics = "this receiver does not take messages on the MESH workflow " + m.WorkflowID
		o.rep = senddoc.ScanReport(ctx, body)
		o.readable = o.rep.MessageHeaderID != itk3.UnreadableIdentifier
		return o
	}
	return c.assess(ctx, m, body)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// findingsWith returns the error findings that carry code.
func findingsWith(fs []senddoc.Finding, code itk3.ResponseCode) []senddoc.Finding {
	var out []senddoc.Finding
	for _, f := range fs {
		if f.Code == code && f.Severity == senddoc.SeverityError {
			out = append(out, f)
		}
	}
	return out
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
		fmt.Fprintf(&b, "%s at %s: %s", f.Cite(), f.Path, f.Message)
	}
	return b.String()
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
		for _, f := range p.Document.MeshFindings {
			r.metrics.meshFinding(f.Requirement)
		}
	}
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
		if o.code == itk3.CodeReplacementFailed && len(o.p.ReplacesIDs) > 0 {
			// GPCM-SD-034: the original is void as well, as the sender
			// will mark it (GPCM-SD-035), if it is that sender's.
			p.Void = &VoidTarget{Identifier: o.p.ReplacesIDs[0], SenderODS: o.p.SenderODS, From: m.From,
				Reason: "void: a replacement of this document could not be processed (ITK3 20014, GPCM-SD-034)"}
		}
		return p, nil
	}
	p.State = MessageAccepted
	d := &NewDocument{
		DocumentID: rep.DocumentID, DocBundleID: o.p.DocBundleID, MessageBundleID: rep.BundleIdentifier,
		Subject: senddoc.DisplaySubject(m.Subject, rep.Confidentiality), TypeLabel: o.p.TypeLabel, RecipientType: o.p.RecipientType, Patient: o.p.Patient,
		Version: rep.Version, SenderReference: rep.SenderReference, From: m.From, Findings: o.findings,
		MeshFindings: o.meshFindings, SenderODS: o.p.SenderODS,
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
		if o.autoFile {
			d.State, d.FiledBy = DocFiled, AutoFiledBy
		}
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
	d.Events = creationEvents(d, m.MeshID)
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
	return NewAck{Kind: kind, Code: int(code), To: to, WorkflowID: r.ackWorkflow(m.WorkflowID), HeaderID: resp.Header.ID.String(), Body: buf.Bytes()}, nil
}
