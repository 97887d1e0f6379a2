// Package rcvsql declares once, for both SQL drivers (sqlitestore,
// pgstore), how a receiver.DocumentQuery becomes SQL: its conditions, its
// order and its paging. The drivers give the placeholder style and run the
// statements.
package rcvsql

import (
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/receiver"
)

// Args collects a statement's arguments and writes their placeholders.
type Args struct {
	// Dollar writes $1, $2, … (PostgreSQL); otherwise ? (SQLite).
	Dollar bool
	List   []any
}

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.List = append(a.List, v)
	if a.Dollar {
		return "$" + strconv.Itoa(len(a.List))
	}
	return "?"
}

// micros is a time as the receiver tables store it (Unix µs, 0 for none).
func micros(q receiver.DocumentQuery) (from, before int64) {
	if !q.ReceivedFrom.IsZero() {
		from = q.ReceivedFrom.UnixMicro()
	}
	if !q.ReceivedBefore.IsZero() {
		before = q.ReceivedBefore.UnixMicro()
	}
	return from, before
}

// likeEscape escapes s for LIKE … ESCAPE '\'.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Where is the WHERE clause (with its keyword) of q over receiver_documents
// as d; every value goes through a.
func Where(q receiver.DocumentQuery, a *Args) string {
	var w []string
	if len(q.States) > 0 {
		ps := make([]string, len(q.States))
		for i, s := range q.States {
			ps[i] = a.Add(string(s))
		}
		w = append(w, "d.state IN ("+strings.Join(ps, ", ")+")")
	}
	if q.TypeLabel != "" {
		w = append(w, "d.type_label = "+a.Add(q.TypeLabel))
	}
	if q.ForAction != nil {
		if *q.ForAction {
			w = append(w, "d.recipient_type <> 'FI'")
		} else {
			w = append(w, "d.recipient_type = 'FI'")
		}
	}
	// Each placeholder is used once: SQLite's ? cannot be repeated.
	if q.NHSNumber != "" {
		w = append(w, "(d.nhs_number = "+a.Add(q.NHSNumber)+" OR d.matched_nhs_number = "+a.Add(q.NHSNumber)+")")
	}
	if q.BirthDate != "" {
		w = append(w, "(d.birth_date = "+a.Add(q.BirthDate)+" OR d.matched_birth_date = "+a.Add(q.BirthDate)+")")
	}
	for _, word := range strings.FieldsFunc(q.Name, func(r rune) bool { return r == ' ' || r == ',' }) {
		pattern := "%" + likeEscape.Replace(strings.ToUpper(word)) + "%"
		var or []string
		for _, c := range []string{"d.family", "d.given", "d.matched_family", "d.matched_given"} {
			or = append(or, "upper("+c+") LIKE "+a.Add(pattern)+` ESCAPE '\'`)
		}
		w = append(w, "("+strings.Join(or, " OR ")+")")
	}
	from, before := micros(q)
	if from != 0 {
		w = append(w, "d.created_at >= "+a.Add(from))
	}
	if before != 0 {
		w = append(w, "d.created_at < "+a.Add(before))
	}
	if q.AssignedTo != "" {
		w = append(w, "d.assigned_to = "+a.Add(q.AssignedTo))
	}
	if q.AfterID > 0 {
		w = append(w, "d.id > "+a.Add(q.AfterID))
	}
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}

// OrderBy is the ORDER BY clause (with its keyword) of s.
func OrderBy(s receiver.DocumentSort) string {
	switch s {
	case receiver.SortOldest:
		return " ORDER BY d.created_at, d.id"
	case receiver.SortNewest:
		return " ORDER BY d.created_at DESC, d.id DESC"
	case receiver.SortPatient:
		return ` ORDER BY upper(CASE WHEN d.matched_nhs_number <> '' THEN d.matched_family ELSE d.family END),
			upper(CASE WHEN d.matched_nhs_number <> '' THEN d.matched_given ELSE d.given END), d.created_at, d.id`
	}
	return " ORDER BY d.id"
}

// Page is the LIMIT and OFFSET of q: Limit 100 when not set, at most
// receiver.MaxDocumentPage.
func Page(q receiver.DocumentQuery, a *Args) string {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, receiver.MaxDocumentPage)
	return " LIMIT " + a.Add(limit) + " OFFSET " + a.Add(max(q.Offset, 0))
}

// Count counts every document q selects (its order and page aside).
func Count(q receiver.DocumentQuery, a *Args) string {
	return "SELECT count(*) FROM receiver_documents d" + Where(q, a)
}

// ReplacedEvent is the history event of a document archived because
// document newID replaced it, by the actor of that change.
func ReplacedEvent(newID int64, by string) receiver.NewDocumentEvent {
	return receiver.NewDocumentEvent{Kind: receiver.EventReplaced, By: by, Detail: "by document " + strconv.FormatInt(newID, 10)}
}

// Actor is who made a change: the actor of its first event.
func Actor(evs []receiver.NewDocumentEvent) string {
	if len(evs) == 0 {
		return ""
	}
	return evs[0].By
}

// EventsQuery lists one document's history, oldest first; its one
// argument is the document id, written by the driver's placeholder.
func EventsQuery(placeholder string) string {
	return `SELECT id, document_id, at, kind, actor, detail FROM receiver_document_events WHERE document_id = ` + placeholder + ` ORDER BY id`
}

// EventRow is one row of EventsQuery: Dest are its scan targets, Event
// the event they hold.
type EventRow struct {
	id, doc, at         int64
	kind, actor, detail string
}

// Dest are the scan targets of an EventsQuery row.
func (r *EventRow) Dest() []any {
	return []any{&r.id, &r.doc, &r.at, &r.kind, &r.actor, &r.detail}
}

// Event is the event the row holds.
func (r *EventRow) Event() receiver.DocumentEvent {
	e := receiver.DocumentEvent{ID: r.id, DocumentID: r.doc, Kind: receiver.DocumentEventKind(r.kind), By: r.actor, Detail: r.detail}
	if r.at != 0 {
		e.At = time.UnixMicro(r.at).UTC()
	}
	return e
}

// fromMicros is a stored time (Unix µs, 0 for none).
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// AckColumns are receiver_acks' columns in the order of AckRow.Dest.
const AckColumns = `id, message_id, kind, code, recipient, workflow_id, header_id, body, attempts, created_at, sent_at, mesh_id, last_error`

// AckRow is one row of AckColumns.
type AckRow struct {
	a             receiver.Ack
	kind          string
	created, sent int64
}

// Dest are the scan targets of AckColumns.
func (r *AckRow) Dest() []any {
	a := &r.a
	return []any{&a.ID, &a.MessageID, &r.kind, &a.Code, &a.To, &a.WorkflowID, &a.HeaderID, &a.Body, &a.Attempts, &r.created, &r.sent, &a.MeshID, &a.LastError}
}

// Ack is the ack the row holds.
func (r *AckRow) Ack() receiver.Ack {
	a := r.a
	a.Kind, a.CreatedAt, a.SentAt = receiver.AckKind(r.kind), fromMicros(r.created), fromMicros(r.sent)
	return a
}

// PatientColumns are receiver_patients' columns, NHS number first, in the
// order of PatientRow.Dest.
const PatientColumns = `nhs_number, birth_date, family, given, status, death_date, left_date`

// PatientRow is one row of PatientColumns.
type PatientRow struct {
	p      receiver.Patient
	status string
}

// Dest are the scan targets of PatientColumns.
func (r *PatientRow) Dest() []any {
	p := &r.p
	return []any{&p.NHSNumber, &p.BirthDate, &p.Family, &p.Given, &r.status, &p.DeathDate, &p.LeftDate}
}

// Patient is the register entry the row holds.
func (r *PatientRow) Patient() receiver.Patient {
	p := r.p
	p.Status = receiver.RegisterStatus(r.status)
	return p
}
