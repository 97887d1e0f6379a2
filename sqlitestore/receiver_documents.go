package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/rcvsql"
	"github.com/gpcm/gpcm/receiver"
)

const rdocCols = `d.id, d.message_id, m.mesh_id, m.header_id, d.document_id, d.doc_bundle_id, d.message_bundle_id, d.state, d.subject,
	d.type_label, d.recipient_type, d.nhs_number, d.birth_date, d.family, d.given, d.version, d.sender_reference, d.sender,
	d.replacement, d.replaces_id, d.replaced_by_id, d.match_reason, d.reason, d.busack_code, d.confirmed_ack_code, d.hold_until,
	d.findings, d.attachments, d.created_at, d.updated_at,
	d.matched_nhs_number, d.matched_birth_date, d.matched_family, d.matched_given, d.matched_by, d.matched_at,
	d.mesh_findings, d.sender_ods, d.filed_by, d.filed_at, d.assigned_to`

const rdocFrom = ` FROM receiver_documents d JOIN receiver_messages m ON m.id = d.message_id`

func scanRDoc(sc rcvScanner) (receiver.Document, error) {
	var d receiver.Document
	var state, findings, atts, meshFindings string
	var repl int
	var hold, created, updated, matchedAt, filedAt int64
	var mp receiver.DocPatient
	err := sc.Scan(&d.ID, &d.MessageID, &d.MeshID, &d.HeaderID, &d.DocumentID, &d.DocBundleID, &d.MessageBundleID, &state, &d.Subject,
		&d.TypeLabel, &d.RecipientType, &d.Patient.NHSNumber, &d.Patient.BirthDate, &d.Patient.Family, &d.Patient.Given, &d.Version,
		&d.SenderReference, &d.From, &repl, &d.ReplacesID, &d.ReplacedByID, &d.MatchReason, &d.Reason, &d.BusAckCode,
		&d.ConfirmedAckCode, &hold, &findings, &atts, &created, &updated,
		&mp.NHSNumber, &mp.BirthDate, &mp.Family, &mp.Given, &d.MatchedBy, &matchedAt,
		&meshFindings, &d.SenderODS, &d.FiledBy, &filedAt, &d.AssignedTo)
	if err != nil {
		return d, err
	}
	d.State, d.Replacement = receiver.DocumentState(state), repl != 0
	d.ForAction = d.RecipientType != "FI"
	d.HoldUntil, d.CreatedAt, d.UpdatedAt = fromMicros(hold), fromMicros(created), fromMicros(updated)
	d.FiledAt = fromMicros(filedAt)
	if mp.NHSNumber != "" {
		d.MatchedPatient, d.MatchedAt = &mp, fromMicros(matchedAt)
	}
	if err := json.Unmarshal([]byte(findings), &d.Findings); err != nil {
		return d, fmt.Errorf("findings of document %d: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(meshFindings), &d.MeshFindings); err != nil {
		return d, fmt.Errorf("MESH findings of document %d: %w", d.ID, err)
	}
	var sa []rcvStoredAtt
	if err := json.Unmarshal([]byte(atts), &sa); err != nil {
		return d, fmt.Errorf("attachments of document %d: %w", d.ID, err)
	}
	d.Attachments = make([]receiver.Attachment, 0, len(sa))
	for _, a := range sa {
		d.Attachments = append(d.Attachments, receiver.Attachment(a))
	}
	return d, nil
}

func rcvGetDoc(ctx context.Context, q rcvQuerier, id int64) (receiver.Document, error) {
	d, err := scanRDoc(q.QueryRowContext(ctx, `SELECT `+rdocCols+rdocFrom+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("document %d: %w", id, receiver.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("sqlitestore: get document %d: %w", id, err)
	}
	return d, nil
}

// GetDocument returns receiver.ErrNotFound for an unknown id.
func (s *ReceiverStore) GetDocument(ctx context.Context, id int64) (receiver.Document, error) {
	return rcvGetDoc(ctx, s.db.read, id)
}

// QueryDocuments returns one page of the documents q selects.
func (s *ReceiverStore) QueryDocuments(ctx context.Context, q receiver.DocumentQuery) (receiver.DocumentPage, error) {
	page := receiver.DocumentPage{Documents: []receiver.Document{}}
	var a rcvsql.Args
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+rdocCols+rdocFrom+rcvsql.Where(q, &a)+rcvsql.OrderBy(q.Sort)+rcvsql.Page(q, &a), a.List...)
	if err != nil {
		return page, fmt.Errorf("sqlitestore: list documents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanRDoc(rows)
		if err != nil {
			return page, fmt.Errorf("sqlitestore: list documents: %w", err)
		}
		page.Documents = append(page.Documents, d)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("sqlitestore: list documents: %w", err)
	}
	if q.WithTotal {
		var c rcvsql.Args
		if err := s.db.read.QueryRowContext(ctx, rcvsql.Count(q, &c), c.List...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("sqlitestore: count documents: %w", err)
		}
	}
	return page, nil
}

// TransitionDocument moves a document between states with its acks.
func (s *ReceiverStore) TransitionDocument(ctx context.Context, p receiver.TransitionParams) (doc receiver.Document, err error) {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	cur, err := rcvGetDoc(ctx, tx, p.ID)
	if err != nil {
		return doc, err
	}
	if !slices.Contains(p.From, cur.State) {
		err = fmt.Errorf("document %d is %s, not %v: %w", p.ID, cur.State, p.From, receiver.ErrConflict)
		return cur, err
	}
	now := toMicros(p.Now)
	if _, err = tx.ExecContext(ctx, `UPDATE receiver_documents SET state = ?, reason = CASE WHEN ? <> '' THEN ? ELSE reason END,
		busack_code = CASE WHEN ? <> 0 THEN ? ELSE busack_code END, updated_at = ? WHERE id = ?`,
		string(p.To), p.Reason, p.Reason, p.BusAckCode, p.BusAckCode, now, p.ID); err != nil {
		return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
	}
	if p.To == receiver.DocFiled {
		if _, err = tx.ExecContext(ctx, `UPDATE receiver_documents SET filed_by = ?, filed_at = ? WHERE id = ?`, p.By, now, p.ID); err != nil {
			return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
		}
	}
	if m := p.Match; m != nil {
		if _, err = tx.ExecContext(ctx, `UPDATE receiver_documents SET matched_nhs_number = ?, matched_birth_date = ?, matched_family = ?,
			matched_given = ?, matched_by = ?, matched_at = ? WHERE id = ?`,
			m.Patient.NHSNumber, m.Patient.BirthDate, m.Patient.Family, m.Patient.Given, m.By, now, p.ID); err != nil {
			return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
		}
	}
	if err = rcvAddEvents(ctx, tx, p.ID, now, p.Events); err != nil {
		return doc, err
	}
	if cur.ReplacesID != 0 {
		if err = rcvArchiveReplaced(ctx, tx, p.To, cur.ReplacesID, p.ID, now, rcvsql.Actor(p.Events)); err != nil {
			return doc, err
		}
	}
	if err = rcvInsertAcks(ctx, tx, cur.MessageID, p.Acks, now); err != nil {
		return doc, err
	}
	if doc, err = rcvGetDoc(ctx, tx, p.ID); err != nil {
		return doc, err
	}
	if err = tx.Commit(); err != nil {
		return doc, fmt.Errorf("sqlitestore: document %d: %w", p.ID, err)
	}
	return doc, nil
}

// HeldPastDeadline lists held documents whose deadline has passed.
func (s *ReceiverStore) HeldPastDeadline(ctx context.Context, now time.Time, limit int) ([]receiver.Document, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+rdocCols+rdocFrom+` WHERE d.state = ? AND d.hold_until < ? ORDER BY d.id LIMIT ?`,
		string(receiver.DocHeld), toMicros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: held documents: %w", err)
	}
	defer rows.Close()
	var out []receiver.Document
	for rows.Next() {
		d, err := scanRDoc(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: held documents: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountDocuments counts documents per state.
func (s *ReceiverStore) CountDocuments(ctx context.Context) (map[receiver.DocumentState]int, error) {
	out := map[receiver.DocumentState]int{}
	err := s.countBy(ctx, `SELECT state, count(*) FROM receiver_documents GROUP BY state`, func(k string, n int) { out[receiver.DocumentState(k)] = n })
	return out, err
}

// UpsertPatients inserts or replaces register entries in one transaction.
func (s *ReceiverStore) UpsertPatients(ctx context.Context, ps []receiver.Patient, now time.Time) (res receiver.UpsertResult, err error) {
	tx, err := s.db.write.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlitestore: upsert patients: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for i, p := range ps {
		var old receiver.Patient
		var st string
		e := tx.QueryRowContext(ctx, `SELECT birth_date, family, given, status, death_date, left_date FROM receiver_patients WHERE nhs_number = ?`,
			p.NHSNumber).Scan(&old.BirthDate, &old.Family, &old.Given, &st, &old.DeathDate, &old.LeftDate)
		switch {
		case errors.Is(e, sql.ErrNoRows):
			res.Inserted++
		case e != nil:
			err = fmt.Errorf("sqlitestore: upsert patient %d of %d: %w", i+1, len(ps), e)
			return res, err
		default:
			old.NHSNumber, old.Status = p.NHSNumber, receiver.RegisterStatus(st)
			if old == p {
				res.Unchanged++
				continue
			}
			res.Updated++
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO receiver_patients (nhs_number, birth_date, family, given, status, death_date, left_date, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (nhs_number) DO UPDATE SET birth_date = excluded.birth_date, family = excluded.family,
			given = excluded.given, status = excluded.status, death_date = excluded.death_date, left_date = excluded.left_date,
			updated_at = excluded.updated_at`,
			p.NHSNumber, p.BirthDate, p.Family, p.Given, string(p.Status), p.DeathDate, p.LeftDate, toMicros(now)); err != nil {
			return res, fmt.Errorf("sqlitestore: upsert patient %d of %d: %w", i+1, len(ps), err)
		}
	}
	if err = tx.Commit(); err != nil {
		return res, fmt.Errorf("sqlitestore: upsert patients: %w", err)
	}
	return res, nil
}

// GetPatient returns receiver.ErrNotFound for an unknown NHS number; the
// error does not carry the number.
func (s *ReceiverStore) GetPatient(ctx context.Context, nhsNumber string) (receiver.Patient, error) {
	var r rcvsql.PatientRow
	err := s.db.read.QueryRowContext(ctx, `SELECT `+rcvsql.PatientColumns+` FROM receiver_patients WHERE nhs_number = ?`, nhsNumber).Scan(r.Dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return receiver.Patient{NHSNumber: nhsNumber}, fmt.Errorf("register entry: %w", receiver.ErrNotFound)
	}
	if err != nil {
		return receiver.Patient{NHSNumber: nhsNumber}, fmt.Errorf("sqlitestore: get register entry: %w", err)
	}
	return r.Patient(), nil
}

// CountPatients counts register entries.
func (s *ReceiverStore) CountPatients(ctx context.Context) (int, error) {
	var n int
	if err := s.db.read.QueryRowContext(ctx, `SELECT count(*) FROM receiver_patients`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: count patients: %w", err)
	}
	return n, nil
}

func scanRAck(sc rcvScanner) (receiver.Ack, error) {
	var r rcvsql.AckRow
	err := sc.Scan(r.Dest()...)
	return r.Ack(), err
}

// ClaimAcks leases unsent acks; a BusAck waits for its InfAck.
func (s *ReceiverStore) ClaimAcks(ctx context.Context, p receiver.ClaimParams) ([]receiver.Ack, error) {
	now := toMicros(p.Now)
	rows, err := s.db.write.QueryContext(ctx, `UPDATE receiver_acks SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT a.id FROM receiver_acks a INDEXED BY receiver_acks_unsent WHERE a.sent_at = 0 AND a.lease_until < ? AND a.next_attempt_at <= ?
			AND (a.kind = 'inf' OR NOT EXISTS (SELECT 1 FROM receiver_acks i WHERE i.message_id = a.message_id AND i.kind = 'inf' AND i.sent_at = 0))
			ORDER BY a.id LIMIT ?)
		RETURNING `+rcvsql.AckColumns, p.Owner, toMicros(p.Now.Add(p.Lease)), now, now, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim acks: %w", err)
	}
	defer rows.Close()
	var out []receiver.Ack
	for rows.Next() {
		a, err := scanRAck(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: claim acks: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: claim acks: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// MarkAckSent records MESH's acceptance; marking twice is not an error.
func (s *ReceiverStore) MarkAckSent(ctx context.Context, id int64, meshID string, now time.Time) error {
	res, err := s.db.write.ExecContext(ctx, `UPDATE receiver_acks SET sent_at = ?, mesh_id = ?, lease_owner = '', lease_until = 0, last_error = ''
		WHERE id = ? AND sent_at = 0`, toMicros(now), meshID, id)
	if err != nil {
		return fmt.Errorf("sqlitestore: mark ack %d sent: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var x int
		if err := s.db.write.QueryRowContext(ctx, `SELECT 1 FROM receiver_acks WHERE id = ?`, id).Scan(&x); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("ack %d: %w", id, receiver.ErrNotFound)
		}
	}
	return nil
}

// ReleaseAck ends a claim and schedules a retry.
func (s *ReceiverStore) ReleaseAck(ctx context.Context, id int64, owner, errText string, retryAt time.Time) error {
	res, err := s.db.write.ExecContext(ctx, `UPDATE receiver_acks SET lease_owner = '', lease_until = 0, last_error = ?, next_attempt_at = ?
		WHERE id = ? AND lease_owner = ? AND sent_at = 0`, errText, toMicros(retryAt), id, owner)
	if err != nil {
		return fmt.Errorf("sqlitestore: release ack %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("release ack %d: %w", id, receiver.ErrConflict)
	}
	return nil
}

// ListAcks lists a message's acks in creation order.
func (s *ReceiverStore) ListAcks(ctx context.Context, messageID int64) ([]receiver.Ack, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+rcvsql.AckColumns+` FROM receiver_acks WHERE message_id = ? ORDER BY id`, messageID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list acks: %w", err)
	}
	defer rows.Close()
	var out []receiver.Ack
	for rows.Next() {
		a, err := scanRAck(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list acks: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountAcks counts sent acks per code and unsent acks.
func (s *ReceiverStore) CountAcks(ctx context.Context) (map[int]int, int, error) {
	sent := map[int]int{}
	pending := 0
	rows, err := s.db.read.QueryContext(ctx, `SELECT code, sent_at <> 0, count(*) FROM receiver_acks GROUP BY code, sent_at <> 0`)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlitestore: count acks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, isSent, n int
		if err := rows.Scan(&code, &isSent, &n); err != nil {
			return nil, 0, fmt.Errorf("sqlitestore: count acks: %w", err)
		}
		if isSent != 0 {
			sent[code] += n
		} else {
			pending += n
		}
	}
	return sent, pending, rows.Err()
}

var _ receiver.PatientFinder = (*ReceiverStore)(nil)

// FindPatients lists register entries born on p.BirthDate whose family name
// is p.Family, ignoring case, ordered by name.
func (s *ReceiverStore) FindPatients(ctx context.Context, p receiver.FindPatientsParams) ([]receiver.Patient, error) {
	limit := p.Limit
	if limit <= 0 || limit > receiver.MaxFindPatients {
		limit = receiver.MaxFindPatients
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+rcvsql.PatientColumns+` FROM receiver_patients
		WHERE birth_date = ? AND upper(family) = upper(?) ORDER BY family, given, nhs_number LIMIT ?`, p.BirthDate, strings.TrimSpace(p.Family), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: find patients: %w", err)
	}
	defer rows.Close()
	out := []receiver.Patient{}
	for rows.Next() {
		var r rcvsql.PatientRow
		if err := rows.Scan(r.Dest()...); err != nil {
			return nil, fmt.Errorf("sqlitestore: find patients: %w", err)
		}
		out = append(out, r.Patient())
	}
	return out, rows.Err()
}

// SentAckMeshIDs looks the ids up in one query.
func (s *ReceiverStore) SentAckMeshIDs(ctx context.Context, meshIDs []string) (map[string]bool, error) {
	return s.meshIDFlags(ctx, `SELECT mesh_id, 1 FROM receiver_acks WHERE mesh_id <> '' AND mesh_id IN `, meshIDs, "ack MESH ids")
}
