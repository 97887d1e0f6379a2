package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/patient"
)

// ErrInvalid is matched by errors from actions given bad input.
var ErrInvalid = errors.New("receiver: invalid request")

// GetDocument returns a document with its attachments.
func (r *Receiver) GetDocument(ctx context.Context, id int64) (Document, error) {
	return r.cfg.Store.GetDocument(ctx, id)
}

// OpenAttachment opens attachment n of a document.
func (r *Receiver) OpenAttachment(ctx context.Context, id int64, n int) (Attachment, io.ReadCloser, error) {
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range d.Attachments {
		if a.Index != n {
			continue
		}
		body, _, err := r.openPayload(ctx, Message{ID: d.MessageID, BlobKey: a.BlobKey})
		if err != nil {
			return a, nil, fmt.Errorf("document %d: %w", id, err)
		}
		p, ok := parseMessage(ctx, body, r.cfg.MaxMessageBytes)
		if !ok || n >= len(p.Attachments) || int64(len(p.Attachments[n].Data)) != a.Size {
			return a, nil, fmt.Errorf("receiver: attachment %d of document %d no longer matches the stored message", n, id)
		}
		return a, io.NopCloser(bytes.NewReader(p.Attachments[n].Data)), nil
	}
	return Attachment{}, nil, fmt.Errorf("attachment %d of document %d: %w", n, id, ErrNotFound)
}

// FileDocument marks a document awaiting filing as filed.
func (r *Receiver) FileDocument(ctx context.Context, id int64) (Document, error) {
	return r.FileDocumentBy(ctx, id, "")
}

// FileDocumentBy marks a document awaiting filing as filed by the person
// named (recorded as Document.FiledBy and in its history; never patient
// data).
func (r *Receiver) FileDocumentBy(ctx context.Context, id int64, by string) (Document, error) {
	d, err := r.cfg.Store.TransitionDocument(ctx, TransitionParams{ID: id, From: []DocumentState{DocAwaitingFiling}, To: DocFiled, Now: r.cfg.Now(), By: by,
		Events: []NewDocumentEvent{{Kind: EventFiled, By: by}}})
	if err != nil {
		return d, err
	}
	r.metrics.filed.Add(1)
	r.log.Info("document filed", "document", id, "message", d.MessageID)
	r.changes.publish(DocumentChange{ID: d.ID})
	return d, nil
}

// MatchDocument confirms by hand that a held document is about the
// register patient its NHS number names: MatchDocumentTo with that number.
func (r *Receiver) MatchDocument(ctx context.Context, id int64) (Document, error) {
	return r.MatchDocumentTo(ctx, id, MatchParams{Reason: "confirmed as the patient the document names"})
}

// MatchParams is a person's choice of register patient for a held document.
type MatchParams struct {
	// NHSNumber is the register patient's ("" means the number the
	// document carries).
	NHSNumber string
	// By names the person (recorded on the document; never patient data).
	By string
	// Reason is why the person is sure, required when the chosen
	// patient's demographics differ from the document's (every held
	// document's do): recorded in the history.
	Reason string
}

// Differences names the demographics in which the register patient p
// differs from the document's patient d ("NHS number", "family name",
// "given name", "date of birth"), ignoring case and spacing.
func Differences(d DocPatient, p Patient) []string {
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToUpper(s)), " ") }
	var out []string
	if norm(d.NHSNumber) != norm(p.NHSNumber) {
		out = append(out, "NHS number")
	}
	if norm(d.Family) != norm(p.Family) {
		out = append(out, "family name")
	}
	if norm(d.Given) != norm(p.Given) {
		out = append(out, "given name")
	}
	if norm(d.BirthDate) != norm(p.BirthDate) {
		out = append(out, "date of birth")
	}
	return out
}

// ErrNotMatchable is matched by errors from MatchDocumentTo when the chosen
// patient cannot receive the document: not on the register, left the
// practice, or died more than six months ago. The message says which,
// without patient data.
var ErrNotMatchable = errors.New("receiver: patient cannot be matched")

// MatchDocumentTo matches a held document by hand to the register patient
// with p.NHSNumber, chosen by a person. The document keeps the
// demographics its message carried and records the chosen patient, who
// matched it and when; it goes to awaiting filing and the business ack
// follows the patient's register status: 30001 registered, 30004 died
// within six months. A patient who left (or died longer ago) or is not on
// the register is refused with ErrNotMatchable; a document that is not held
// with ErrConflict.
func (r *Receiver) MatchDocumentTo(ctx context.Context, id int64, p MatchParams) (Document, error) {
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return d, err
	}
	if d.State != DocHeld {
		return d, fmt.Errorf("document %d is %s, only a held document can be matched: %w", id, d.State, ErrConflict)
	}
	raw := p.NHSNumber
	if raw == "" {
		raw = d.Patient.NHSNumber
	}
	nhs, err := patient.ParseNHSNumber(raw, false)
	if err != nil {
		return d, fmt.Errorf("%w: the NHS number must be 10 digits", ErrInvalid)
	}
	reg, err := r.cfg.Store.GetPatient(ctx, nhs)
	if errors.Is(err, ErrNotFound) {
		return d, fmt.Errorf("%w: that NHS number is not on the practice register", ErrNotMatchable)
	}
	if err != nil {
		return d, err
	}
	now := r.cfg.Now()
	code, err := ManualMatchCode(reg, now)
	if err != nil {
		return d, err
	}
	detail := "by hand to NHS number " + patient.FormatNHSNumber(reg.NHSNumber)
	if diff := Differences(d.Patient, reg); len(diff) > 0 {
		reason := strings.TrimSpace(p.Reason)
		if reason == "" {
			return d, fmt.Errorf("%w: the document and the register differ in %s; give the reason you are sure it is this patient", ErrInvalid, strings.Join(diff, ", "))
		}
		if utf8.RuneCountInString(reason) > MaxNoteLength {
			return d, fmt.Errorf("%w: a reason is at most %d characters", ErrInvalid, MaxNoteLength)
		}
		detail += "; differs in " + strings.Join(diff, ", ") + "; reason: " + reason
	}
	return r.resolveHold(ctx, d, TransitionParams{To: DocAwaitingFiling, Now: now,
		Match:  &ManualMatch{Patient: DocPatient{NHSNumber: reg.NHSNumber, BirthDate: reg.BirthDate, Family: reg.Family, Given: reg.Given}, By: p.By},
		Events: []NewDocumentEvent{{Kind: EventMatched, By: p.By, Detail: detail}}}, code, "")
}

// ManualMatchCode is the business ack a document matched by hand to
// register patient p sends at now: 30001 for a registered patient, 30004
// for one who died within the last six months (or has no date of death).
// A patient who left the practice or died longer ago cannot be matched: the
// error matches ErrNotMatchable and says why, without patient data.
func ManualMatchCode(p Patient, now time.Time) (itk3.ResponseCode, error) {
	e := registerEntry(p)
	out := patient.Match(&e, patient.Demographics{NHSNumber: p.NHSNumber, BirthDate: e.BirthDate, Family: p.Family, Given: p.Given}, now)
	switch out.Confirmed {
	case patient.Matched:
		return itk3.CodePatientKnown, nil
	case patient.RecentlyDeceased:
		return itk3.CodePatientRecentlyDeceased, nil
	}
	return 0, fmt.Errorf("%w: %s; choose another patient or reject the document", ErrNotMatchable, out.Reason)
}

// MaxFindPatients bounds a register search.
const MaxFindPatients = 50

// FindPatientsParams searches the register by family name and date of
// birth (YYYY-MM-DD), or by NHS number alone. Limit defaults to (and is at
// most) MaxFindPatients.
type FindPatientsParams struct {
	NHSNumber string
	Family    string
	BirthDate string
	Limit     int
}

// PatientFinder is the optional extra of a Store, found by type assertion,
// that searches the register by family name and date of birth (both
// sqlitestore and pgstore have it). Family is compared ignoring case.
type PatientFinder interface {
	FindPatients(ctx context.Context, p FindPatientsParams) ([]Patient, error)
}

// FindPatients searches the practice register for a person choosing the
// patient of a held document: by NHS number, or by family name and date of
// birth. Bad or missing search terms are ErrInvalid.
func (r *Receiver) FindPatients(ctx context.Context, p FindPatientsParams) ([]Patient, error) {
	if strings.TrimSpace(p.NHSNumber) != "" {
		nhs, err := patient.ParseNHSNumber(p.NHSNumber, false)
		if err != nil {
			return nil, fmt.Errorf("%w: the NHS number must be 10 digits", ErrInvalid)
		}
		pt, err := r.cfg.Store.GetPatient(ctx, nhs)
		if errors.Is(err, ErrNotFound) {
			return []Patient{}, nil
		}
		if err != nil {
			return nil, err
		}
		return []Patient{pt}, nil
	}
	p.Family = strings.TrimSpace(p.Family)
	if p.Family == "" || p.BirthDate == "" {
		return nil, fmt.Errorf("%w: search by NHS number, or by family name and date of birth", ErrInvalid)
	}
	if _, err := time.Parse(time.DateOnly, p.BirthDate); err != nil {
		return nil, fmt.Errorf("%w: the date of birth must be YYYY-MM-DD", ErrInvalid)
	}
	f, ok := r.cfg.Store.(PatientFinder)
	if !ok {
		return nil, fmt.Errorf("%w: this store cannot search the register by name; search by NHS number", ErrInvalid)
	}
	return f.FindPatients(ctx, p)
}

// RejectParams is a person's rejection of a document.
type RejectParams struct {
	// Reason is required. For a held document it is sent to the sender in
	// the negative business ack's diagnostics, so it must not hold patient
	// details; for one already acknowledged the sender is not told.
	Reason string
	By     string
}

// RejectDocument rejects a document with a reason. A held document is
// answered 30002 with the reason as diagnostics; a document already
// acknowledged gets no second ack.
func (r *Receiver) RejectDocument(ctx context.Context, id int64, p RejectParams) (Document, error) {
	reason := strings.TrimSpace(p.Reason)
	if reason == "" {
		return Document{}, fmt.Errorf("%w: a reason is required to reject a document", ErrInvalid)
	}
	if utf8.RuneCountInString(reason) > MaxNoteLength {
		return Document{}, fmt.Errorf("%w: a reason is at most %d characters", ErrInvalid, MaxNoteLength)
	}
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return d, err
	}
	ev := []NewDocumentEvent{{Kind: EventRejected, By: p.By, Detail: reason}}
	if d.State == DocHeld {
		return r.resolveHold(ctx, d, TransitionParams{To: DocRejected, Reason: reason, Now: r.cfg.Now(), Events: ev}, itk3.CodePatientNotKnown, reason)
	}
	d, err = r.cfg.Store.TransitionDocument(ctx, TransitionParams{ID: id, From: []DocumentState{DocAwaitingFiling, DocNotFiled}, To: DocRejected,
		Reason: reason, Now: r.cfg.Now(), Events: ev})
	if err != nil {
		return d, err
	}
	r.log.Info("document rejected", "document", id, "message", d.MessageID)
	r.changes.publish(DocumentChange{ID: d.ID})
	return d, nil
}

// SenderToldOfRejection reports whether rejecting d now would reach the
// sender: only a held document's business ack is still to be sent (the
// rejection's reason then travels in it). A document already answered
// 30001 (or not filed, 30002/30003) cannot be answered again.
func SenderToldOfRejection(d Document) bool {
	return d.State == DocHeld
}
