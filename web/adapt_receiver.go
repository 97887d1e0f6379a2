package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/receiver"
)

// ReceiverInbox adapts a receiver (one practice mailbox) to Inbox. The
// receiver serves a single practice, practiceODS: every other ODS code sees
// no documents and gets ErrNotFound.
type ReceiverInbox struct {
	rcv         *receiver.Receiver
	practiceODS string
	sender      func(from string) string
}

// NewReceiverInbox returns the Inbox of practiceODS backed by rcv. senderName
// maps a sending mailbox ID to a display name; nil shows the mailbox ID.
func NewReceiverInbox(rcv *receiver.Receiver, practiceODS string, senderName func(mailbox string) string) *ReceiverInbox {
	if senderName == nil {
		senderName = func(m string) string { return m }
	}
	return &ReceiverInbox{rcv: rcv, practiceODS: practiceODS, sender: senderName}
}

var _ Inbox = (*ReceiverInbox)(nil)

// receiverStates maps each web state to the receiver states it shows.
var receiverStates = map[DocumentState][]receiver.DocumentState{
	StateAwaitingFiling: {receiver.DocAwaitingFiling},
	StateUnmatched:      {receiver.DocHeld},
	StateReplaced:       {receiver.DocReplaced},
	StateRejected:       {receiver.DocRejected, receiver.DocNotFiled, receiver.DocVoid},
	StateFiled:          {receiver.DocFiled},
}

func webState(s receiver.DocumentState) DocumentState {
	for ws, rs := range receiverStates {
		if slices.Contains(rs, s) {
			return ws
		}
	}
	return DocumentState(s)
}

func (ri *ReceiverInbox) mine(practiceODS string) bool {
	return practiceODS != "" && practiceODS == ri.practiceODS
}

// displayName is "FAMILY, Given".
func displayName(family, given string) string {
	name := strings.TrimSpace(strings.ToUpper(family) + ", " + given)
	return strings.TrimSuffix(strings.TrimPrefix(name, ", "), ",")
}

// patientOf is the patient of record: the register patient a person
// matched the document to, else the patient the message names.
func patientOf(d receiver.Document) receiver.DocPatient {
	if d.MatchedPatient != nil {
		return *d.MatchedPatient
	}
	return d.Patient
}

func (ri *ReceiverInbox) summary(d receiver.Document) DocumentSummary {
	pt := patientOf(d)
	name := displayName(pt.Family, pt.Given)
	typ := d.TypeLabel
	if typ == "" {
		typ = "Document"
	}
	return DocumentSummary{
		ID: strconv.FormatInt(d.ID, 10), PracticeODS: ri.practiceODS, State: webState(d.State),
		Type: typ, ForAction: d.ForAction, ReceivedAt: d.CreatedAt,
		PatientName: name, NHSNumber: pt.NHSNumber, Sender: ri.sender(d.From), Replacement: d.Replacement,
		AssignedTo: d.AssignedTo, HoldUntil: d.HoldUntil,
	}
}

// receiverSorts maps the inbox orders to the receiver's.
var receiverSorts = map[string]receiver.DocumentSort{
	"": receiver.SortOldest, SortOldest: receiver.SortOldest, SortNewest: receiver.SortNewest, SortPatient: receiver.SortPatient,
}

// ListDocuments implements Inbox with one page query and one count in the
// receiver's store.
func (ri *ReceiverInbox) ListDocuments(ctx context.Context, practiceODS string, f DocumentFilter) (DocumentPage, error) {
	out := DocumentPage{Documents: []DocumentSummary{}}
	if !ri.mine(practiceODS) {
		return out, nil
	}
	q := receiver.DocumentQuery{TypeLabel: f.Type, NHSNumber: f.NHSNumber, Name: f.Name, AssignedTo: f.AssignedTo,
		ReceivedFrom: f.From, ReceivedBefore: f.To, Offset: f.Offset, Limit: f.Limit, WithTotal: true}
	if f.State != "" {
		var ok bool
		if q.States, ok = receiverStates[f.State]; !ok {
			return out, nil
		}
	}
	var ok bool
	if q.Sort, ok = receiverSorts[f.Sort]; !ok {
		return out, fmt.Errorf("inbox order %q: %w", f.Sort, ErrNotFound)
	}
	switch f.Action {
	case "action", "information":
		forAction := f.Action == "action"
		q.ForAction = &forAction
	}
	if !f.BirthDate.IsZero() {
		q.BirthDate = f.BirthDate.Format(time.DateOnly)
	}
	page, err := ri.rcv.Documents(ctx, q)
	if err != nil {
		return out, fmt.Errorf("listing documents: %w", err)
	}
	for _, d := range page.Documents {
		out.Documents = append(out.Documents, ri.summary(d))
	}
	out.Total = page.Total
	return out, nil
}

// CountDocuments implements Inbox from the receiver's count per state.
func (ri *ReceiverInbox) CountDocuments(ctx context.Context, practiceODS string) (map[DocumentState]int, error) {
	counts := make(map[DocumentState]int, len(DocumentStates))
	if !ri.mine(practiceODS) {
		return counts, nil
	}
	byState, err := ri.rcv.CountDocuments(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting documents: %w", err)
	}
	for st, n := range byState {
		counts[webState(st)] += n
	}
	return counts, nil
}

// get loads a document of this practice; any failure to find it is
// ErrNotFound.
func (ri *ReceiverInbox) get(ctx context.Context, practiceODS, id string) (receiver.Document, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || !ri.mine(practiceODS) {
		return receiver.Document{}, fmt.Errorf("document: %w", ErrNotFound)
	}
	d, err := ri.rcv.GetDocument(ctx, n)
	if err != nil {
		return receiver.Document{}, mapReceiverErr(err)
	}
	return d, nil
}

func mapReceiverErr(err error) error {
	switch {
	case errors.Is(err, receiver.ErrNotFound):
		return fmt.Errorf("document: %w", ErrNotFound)
	case errors.Is(err, receiver.ErrConflict):
		return fmt.Errorf("document: %w", ErrConflict)
	}
	return err
}

func pdfIndex(d receiver.Document) int {
	for _, a := range d.Attachments {
		if strings.EqualFold(a.ContentType, "application/pdf") {
			return a.Index
		}
	}
	return -1
}

// GetDocument implements Inbox.
func (ri *ReceiverInbox) GetDocument(ctx context.Context, practiceODS, id string) (Document, error) {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return Document{}, err
	}
	doc := Document{
		DocumentSummary: ri.summary(d),
		MeshMessageID:   d.MeshID,
		MeshSubject:     d.Subject,
		HasPDF:          pdfIndex(d) >= 0,
		RejectReason:    d.Reason,
	}
	if bd, err := time.Parse(time.DateOnly, patientOf(d).BirthDate); err == nil {
		doc.BirthDate = bd
	}
	if d.ReplacedByID != 0 {
		doc.ReplacedBy = strconv.FormatInt(d.ReplacedByID, 10)
	}
	if d.ReplacesID != 0 {
		doc.Replaces = strconv.FormatInt(d.ReplacesID, 10)
	}
	if d.MatchedPatient != nil {
		doc.AsSent = &PatientDetails{NHSNumber: d.Patient.NHSNumber, Name: displayName(d.Patient.Family, d.Patient.Given)}
		doc.AsSent.BirthDate, _ = time.Parse(time.DateOnly, d.Patient.BirthDate)
	}
	for _, f := range d.MeshFindings {
		doc.MeshFindings = append(doc.MeshFindings, DocumentFinding{Requirement: f.Requirement, Message: f.Message})
	}
	switch c, err := ri.rcv.DocumentContent(ctx, d.ID); {
	case err == nil:
		doc.Content = &c.View
	case !errors.Is(err, receiver.ErrNotFound):
		return Document{}, mapReceiverErr(err)
	}
	events, err := ri.rcv.History(ctx, d.ID)
	if err != nil {
		return Document{}, mapReceiverErr(err)
	}
	for _, e := range events {
		doc.History = append(doc.History, HistoryEvent{At: e.At, Event: eventLabel(e), Detail: e.Detail, By: e.By})
	}
	doc.RejectionTold = receiver.SenderToldOfRejection(d)
	return doc, nil
}

// eventLabel is a history event as the document page names it.
func eventLabel(e receiver.DocumentEvent) string {
	switch e.Kind {
	case receiver.EventReceived:
		return "Received"
	case receiver.EventAcknowledged:
		return "Sender told"
	case receiver.EventMatched:
		if e.By != "" {
			return "Matched by hand"
		}
		return "Matched to the patient"
	case receiver.EventHeld:
		return "Held for review"
	case receiver.EventNotFiled:
		return "Not filed"
	case receiver.EventFiled:
		return "Filed"
	case receiver.EventRejected:
		return "Rejected"
	case receiver.EventReplaced:
		return "Replaced"
	case receiver.EventVoid:
		return "Void"
	case receiver.EventAssigned:
		return "Assigned"
	case receiver.EventNoted:
		return "Note"
	}
	return string(e.Kind)
}

// OpenPDF implements Inbox.
func (ri *ReceiverInbox) OpenPDF(ctx context.Context, practiceODS, id string) (io.ReadCloser, error) {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return nil, err
	}
	n := pdfIndex(d)
	if n < 0 {
		return nil, fmt.Errorf("document pdf: %w", ErrNotFound)
	}
	_, rc, err := ri.rcv.OpenAttachment(ctx, d.ID, n)
	if err != nil {
		return nil, mapReceiverErr(err)
	}
	return rc, nil
}

// File implements Inbox.
func (ri *ReceiverInbox) File(ctx context.Context, practiceODS, id, user string) error {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return err
	}
	_, err = ri.rcv.FileDocumentBy(ctx, d.ID, user)
	return mapReceiverErr(err)
}

// Assign implements Inbox.
func (ri *ReceiverInbox) Assign(ctx context.Context, practiceODS, id, to, user string) error {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return err
	}
	_, err = ri.rcv.AssignDocument(ctx, d.ID, to, user)
	return refusedOr(err)
}

// Note implements Inbox.
func (ri *ReceiverInbox) Note(ctx context.Context, practiceODS, id, note, user string) error {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return err
	}
	_, err = ri.rcv.NoteDocument(ctx, d.ID, note, user)
	return refusedOr(err)
}

// refusedOr turns the receiver's refusal of bad input into a
// *RefusedError.
func refusedOr(err error) error {
	if errors.Is(err, receiver.ErrNotMatchable) || errors.Is(err, receiver.ErrInvalid) {
		return &RefusedError{Reason: refusalText(err)}
	}
	return mapReceiverErr(err)
}

// Match implements Inbox: the receiver matches the held document to the
// register patient with nhsNumber, recording user; a patient who cannot
// receive it (left, died long ago, not on the register) is a
// *RefusedError.
func (ri *ReceiverInbox) Match(ctx context.Context, practiceODS, id, nhsNumber, reason, user string) error {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return err
	}
	_, err = ri.rcv.MatchDocumentTo(ctx, d.ID, receiver.MatchParams{NHSNumber: nhsNumber, By: user, Reason: reason})
	return refusedOr(err)
}

// refusalText is the receiver's reason without its package prefixes,
// starting with a capital letter.
func refusalText(err error) string {
	msg := err.Error()
	for _, p := range []string{receiver.ErrNotMatchable.Error() + ": ", receiver.ErrInvalid.Error() + ": "} {
		if i := strings.LastIndex(msg, p); i >= 0 {
			msg = msg[i+len(p):]
		}
	}
	if msg == "" {
		return "This patient cannot be matched"
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

var _ RegisterSearch = (*ReceiverInbox)(nil)

// FindPatients implements RegisterSearch on the receiver's register.
func (ri *ReceiverInbox) FindPatients(ctx context.Context, practiceODS string, q PatientQuery) ([]RegisterPatient, error) {
	if !ri.mine(practiceODS) {
		return nil, nil
	}
	p := receiver.FindPatientsParams{NHSNumber: q.NHSNumber, Family: q.Family}
	if !q.BirthDate.IsZero() {
		p.BirthDate = q.BirthDate.Format(time.DateOnly)
	}
	ps, err := ri.rcv.FindPatients(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("searching the register: %w", err)
	}
	now := time.Now()
	out := make([]RegisterPatient, 0, len(ps))
	for _, pt := range ps {
		rp := RegisterPatient{PatientDetails: PatientDetails{NHSNumber: pt.NHSNumber, Name: displayName(pt.Family, pt.Given)}}
		rp.BirthDate, _ = time.Parse(time.DateOnly, pt.BirthDate)
		switch pt.Status {
		case receiver.StatusLeft:
			rp.Status = "Left the practice"
		case receiver.StatusDeceased:
			rp.Status = "Deceased"
			if pt.DeathDate != "" {
				rp.Status += " (" + pt.DeathDate + ")"
			}
		default:
			rp.Status = "Registered"
		}
		code, err := receiver.ManualMatchCode(pt, now)
		if err != nil {
			rp.Reason = refusalText(err)
		} else {
			rp.Matchable = true
			rp.Reason = fmt.Sprintf("The sender is told the document reached the patient's practice (business acknowledgement %d).", int(code))
			if code == itk3.CodePatientRecentlyDeceased {
				rp.Reason = fmt.Sprintf("The sender is told the patient died recently (business acknowledgement %d).", int(code))
			}
		}
		out = append(out, rp)
	}
	return out, nil
}

// Reject implements Inbox.
func (ri *ReceiverInbox) Reject(ctx context.Context, practiceODS, id, reason, user string) error {
	d, err := ri.get(ctx, practiceODS, id)
	if err != nil {
		return err
	}
	_, err = ri.rcv.RejectDocument(ctx, d.ID, receiver.RejectParams{Reason: reason, By: user})
	return mapReceiverErr(err)
}

// Watcher publishes an event when a back end changes: it polls a
// fingerprint, or listens to the back end's own change notification.
// Start runs it in one goroutine; Stop ends it.
type Watcher struct {
	pub   func(Event)
	topic string
	name  string
	every time.Duration
	print func(context.Context) (string, error)
	// subscribe, when set, is listened to instead of polling print.
	subscribe func() (<-chan string, func())
	mu        sync.Mutex
	cancel    context.CancelFunc
	done      chan struct{}
	lastSeen  string
}

// WatchInbox returns a Watcher that publishes a "document" event on
// InboxTopic(practice) after every change of the practice's documents, as
// the receiver announces them (no listing).
func (ri *ReceiverInbox) WatchInbox(pub func(Event)) *Watcher {
	return &Watcher{pub: pub, topic: InboxTopic(ri.practiceODS), name: "document",
		subscribe: func() (<-chan string, func()) {
			changes, cancel := ri.rcv.Subscribe()
			out := make(chan string)
			go func() {
				defer close(out)
				for c := range changes {
					out <- strconv.FormatInt(c.ID, 10)
				}
			}()
			return out, func() {
				cancel()
				for range out { // until the relay ends
				}
			}
		}}
}

// Start begins watching until Stop or ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		return errors.New("web: watcher already started")
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	if w.subscribe != nil {
		changes, cancel := w.subscribe()
		go w.listen(ctx, changes, cancel)
		return nil
	}
	w.lastSeen, _ = w.print(ctx)
	go w.run(ctx)
	return nil
}

func (w *Watcher) listen(ctx context.Context, changes <-chan string, cancel func()) {
	defer close(w.done)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case data, ok := <-changes:
			if !ok {
				return
			}
			w.pub(Event{Topic: w.topic, Name: w.name, Data: data})
		}
	}
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp, err := w.print(ctx)
		if err != nil || fp == w.lastSeen {
			continue
		}
		data := ""
		if i := strings.IndexByte(fp, '|'); i > 0 {
			data = fp[:i]
		}
		w.lastSeen = fp
		w.pub(Event{Topic: w.topic, Name: w.name, Data: data})
	}
}

// Stop ends watching and waits for the goroutine.
func (w *Watcher) Stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}
