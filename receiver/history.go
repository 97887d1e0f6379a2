package receiver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DocumentEventKind names one step of a document's history.
type DocumentEventKind string

// Document history events.
const (
	EventReceived     DocumentEventKind = "received"     // the message was accepted (positive InfAck)
	EventAcknowledged DocumentEventKind = "acknowledged" // a business ack was queued for the sender
	EventMatched      DocumentEventKind = "matched"      // matched to a register patient (by the receiver or a person)
	EventHeld         DocumentEventKind = "held"         // held for review: the demographics differ
	EventNotFiled     DocumentEventKind = "not_filed"    // not for this practice (not known, left, no decision in time)
	EventFiled        DocumentEventKind = "filed"
	EventRejected     DocumentEventKind = "rejected"
	EventReplaced     DocumentEventKind = "replaced" // archived: a later version replaced it
	EventVoid         DocumentEventKind = "void"
	EventAssigned     DocumentEventKind = "assigned"
	EventNoted        DocumentEventKind = "noted"
)

// NewDocumentEvent is a history event to append: who (a person's user
// name, "API", or "" for the receiver itself) and what (codes and the
// words a person typed; never demographics the receiver copied).
type NewDocumentEvent struct {
	Kind   DocumentEventKind
	By     string
	Detail string
}

// DocumentEvent is one recorded step of a document's history. The history
// is append-only: the store refuses to change or delete an event.
type DocumentEvent struct {
	ID         int64             `json:"id"`
	DocumentID int64             `json:"documentId"`
	At         time.Time         `json:"at"`
	Kind       DocumentEventKind `json:"kind"`
	By         string            `json:"by,omitempty"`
	Detail     string            `json:"detail,omitempty"`
}

// MaxNoteLength bounds a note and an assignee's name, in characters.
const MaxNoteLength = 1000

// History lists a document's events, oldest first.
func (r *Receiver) History(ctx context.Context, id int64) ([]DocumentEvent, error) {
	return r.cfg.Store.DocumentEvents(ctx, id)
}

// Documents returns one page of documents selected, sorted and counted by
// the store.
func (r *Receiver) Documents(ctx context.Context, q DocumentQuery) (DocumentPage, error) {
	if !q.Sort.Valid() {
		return DocumentPage{}, fmt.Errorf("%w: unknown document order %q", ErrInvalid, q.Sort)
	}
	if q.AfterID != 0 && q.Sort != SortID {
		return DocumentPage{}, fmt.Errorf("%w: AfterID pages only in id order", ErrInvalid)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit, q.Offset = min(q.Limit, MaxDocumentPage), max(q.Offset, 0)
	return r.cfg.Store.QueryDocuments(ctx, q)
}

// ListDocuments lists the worklist in id order.
func (r *Receiver) ListDocuments(ctx context.Context, p ListDocumentsParams) ([]Document, error) {
	q := DocumentQuery{NHSNumber: p.NHSNumber, ForAction: p.ForAction, AfterID: p.AfterID, Limit: p.Limit}
	if p.State != "" {
		q.States = []DocumentState{p.State}
	}
	page, err := r.Documents(ctx, q)
	return page.Documents, err
}

// CountDocuments counts documents per state.
func (r *Receiver) CountDocuments(ctx context.Context) (map[DocumentState]int, error) {
	return r.cfg.Store.CountDocuments(ctx)
}

// AssignDocument assigns a document to the person named to ("" unassigns),
// recording who did it.
func (r *Receiver) AssignDocument(ctx context.Context, id int64, to, by string) (Document, error) {
	to = strings.TrimSpace(to)
	if utf8.RuneCountInString(to) > 100 {
		return Document{}, fmt.Errorf("%w: a name is at most 100 characters", ErrInvalid)
	}
	detail := "to " + to
	if to == "" {
		detail = "unassigned"
	}
	return r.annotate(ctx, AnnotateParams{ID: id, AssignTo: &to, Event: NewDocumentEvent{Kind: EventAssigned, By: by, Detail: detail}})
}

// NoteDocument adds a person's note to a document's history.
func (r *Receiver) NoteDocument(ctx context.Context, id int64, note, by string) (Document, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Document{}, fmt.Errorf("%w: a note cannot be empty", ErrInvalid)
	}
	if utf8.RuneCountInString(note) > MaxNoteLength {
		return Document{}, fmt.Errorf("%w: a note is at most %d characters", ErrInvalid, MaxNoteLength)
	}
	return r.annotate(ctx, AnnotateParams{ID: id, Event: NewDocumentEvent{Kind: EventNoted, By: by, Detail: note}})
}

func (r *Receiver) annotate(ctx context.Context, p AnnotateParams) (Document, error) {
	p.Now = r.cfg.Now()
	d, err := r.cfg.Store.AnnotateDocument(ctx, p)
	if err != nil {
		return d, err
	}
	r.changes.publish(DocumentChange{ID: d.ID})
	return d, nil
}

// creationEvents are the first events of a document the pipeline accepts.
func creationEvents(d *NewDocument, meshID string) []NewDocumentEvent {
	ev := []NewDocumentEvent{{Kind: EventReceived, Detail: "MESH message " + meshID}}
	switch d.State {
	case DocAwaitingFiling:
		ev = append(ev, NewDocumentEvent{Kind: EventMatched, Detail: d.MatchReason})
	case DocHeld:
		ev = append(ev, NewDocumentEvent{Kind: EventHeld, Detail: d.MatchReason})
	case DocNotFiled:
		ev = append(ev, NewDocumentEvent{Kind: EventNotFiled, Detail: d.MatchReason})
	case DocFiled: // filed on arrival, as the practice's setting says
		ev = append(ev, NewDocumentEvent{Kind: EventMatched, Detail: d.MatchReason}, NewDocumentEvent{Kind: EventFiled, By: d.FiledBy})
	}
	if d.BusAckCode != 0 {
		ev = append(ev, busAckEvent(d.BusAckCode, ""))
	}
	return ev
}

func busAckEvent(code int, by string) NewDocumentEvent {
	return NewDocumentEvent{Kind: EventAcknowledged, By: by, Detail: fmt.Sprintf("business acknowledgement %d", code)}
}

// DocumentChange says a document changed (created, filed, rejected,
// matched, annotated, expired).
type DocumentChange struct {
	ID int64
}

// Subscribe returns a channel that receives a DocumentChange after every
// committed change this receiver makes (and, with Config.WatchStore, that
// other processes make). Changes close together may arrive as one; cancel
// ends the subscription and closes the channel.
func (r *Receiver) Subscribe() (changes <-chan DocumentChange, cancel func()) {
	return r.changes.subscribe()
}

// changeHub fans changes out to subscribers without ever blocking the
// writer: each subscriber has a one-slot buffer, so a slow one sees the
// newest change (enough to know it must look again).
type changeHub struct {
	mu   sync.Mutex
	next int
	subs map[int]chan DocumentChange
}

func (h *changeHub) subscribe() (<-chan DocumentChange, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]chan DocumentChange{}
	}
	id, ch := h.next, make(chan DocumentChange, 1)
	h.next++
	h.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs, id)
			close(ch)
		})
	}
}

func (h *changeHub) publish(c DocumentChange) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- c:
		default:
			select { // replace the pending change with the newest
			case <-ch:
			default:
			}
			select {
			case ch <- c:
			default:
			}
		}
	}
}

// watchStore publishes a change when the store's newest history event
// moves, so changes other processes commit reach this process's
// subscribers. It runs until ctx ends.
func (r *Receiver) watchStore(ctx context.Context, every time.Duration) {
	last, _ := r.cfg.Store.LatestDocumentEvent(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := r.cfg.Store.LatestDocumentEvent(ctx)
		if err != nil || n == last {
			continue
		}
		last = n
		r.changes.publish(DocumentChange{})
	}
}
