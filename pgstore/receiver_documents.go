package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

func scanRDoc(sc pgx.Row) (receiver.Document, error) {
	var d receiver.Document
	var state, findings, atts, meshFindings string
	var hold, created, updated, matchedAt, filedAt int64
	var mp receiver.DocPatient
	err := sc.Scan(&d.ID, &d.MessageID, &d.MeshID, &d.HeaderID, &d.DocumentID, &d.DocBundleID, &d.MessageBundleID, &state, &d.Subject,
		&d.TypeLabel, &d.RecipientType, &d.Patient.NHSNumber, &d.Patient.BirthDate, &d.Patient.Family, &d.Patient.Given, &d.Version,
		&d.SenderReference, &d.From, &d.Replacement, &d.ReplacesID, &d.ReplacedByID, &d.MatchReason, &d.Reason, &d.BusAckCode,
		&d.ConfirmedAckCode, &hold, &findings, &atts, &created, &updated,
		&mp.NHSNumber, &mp.BirthDate, &mp.Family, &mp.Given, &d.MatchedBy, &matchedAt,
		&meshFindings, &d.SenderODS, &d.FiledBy, &filedAt, &d.AssignedTo)
	if err != nil {
		return d, err
	}
	d.State = receiver.DocumentState(state)
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

func collectRDocs(rows pgx.Rows, err error) ([]receiver.Document, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receiver.Document, error) { return scanRDoc(r) })
}

// rcvGetDoc reads one document; lock is "" or a locking clause.
func rcvGetDoc(ctx context.Context, q querier, id int64, lock string) (receiver.Document, error) {
	d, err := scanRDoc(q.QueryRow(ctx, `SELECT `+rdocCols+rdocFrom+` WHERE d.id = $1`+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("document %d: %w", id, receiver.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("pgstore: get document %d: %w", id, err)
	}
	return d, nil
}

// GetDocument returns receiver.ErrNotFound for an unknown id.
func (s *ReceiverStore) GetDocument(ctx context.Context, id int64) (receiver.Document, error) {
	return rcvGetDoc(ctx, s.db.pool, id, "")
}

// QueryDocuments returns one page of the documents q selects.
func (s *ReceiverStore) QueryDocuments(ctx context.Context, q receiver.DocumentQuery) (receiver.DocumentPage, error) {
	page := receiver.DocumentPage{Documents: []receiver.Document{}}
	a := rcvsql.Args{Dollar: true}
	docs, err := collectRDocs(s.db.pool.Query(ctx, `SELECT `+rdocCols+rdocFrom+rcvsql.Where(q, &a)+rcvsql.OrderBy(q.Sort)+rcvsql.Page(q, &a), a.List...))
	if err != nil {
		return page, fmt.Errorf("pgstore: list documents: %w", err)
	}
	page.Documents = append(page.Documents, docs...)
	if q.WithTotal {
		c := rcvsql.Args{Dollar: true}
		if err := s.db.pool.QueryRow(ctx, rcvsql.Count(q, &c), c.List...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("pgstore: count documents: %w", err)
		}
	}
	return page, nil
}

// TransitionDocument moves a document between states with its acks, holding
// the document row locked so that two processes cannot both move it.
func (s *ReceiverStore) TransitionDocument(ctx context.Context, p receiver.TransitionParams) (receiver.Document, error) {
	var doc receiver.Document
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := rcvGetDoc(ctx, tx, p.ID, ` FOR UPDATE OF d`)
		if err != nil {
			return err
		}
		if !slices.Contains(p.From, cur.State) {
			doc = cur
			return fmt.Errorf("document %d is %s, not %v: %w", p.ID, cur.State, p.From, receiver.ErrConflict)
		}
		now := micros(p.Now)
		if _, err := tx.Exec(ctx, `UPDATE receiver_documents SET state = $1, reason = CASE WHEN $2 <> '' THEN $2 ELSE reason END,
			busack_code = CASE WHEN $3::bigint <> 0 THEN $3 ELSE busack_code END, updated_at = $4 WHERE id = $5`,
			string(p.To), p.Reason, p.BusAckCode, now, p.ID); err != nil {
			return err
		}
		if p.To == receiver.DocFiled {
			if _, err := tx.Exec(ctx, `UPDATE receiver_documents SET filed_by = $1, filed_at = $2 WHERE id = $3`, p.By, now, p.ID); err != nil {
				return err
			}
		}
		if m := p.Match; m != nil {
			if _, err := tx.Exec(ctx, `UPDATE receiver_documents SET matched_nhs_number = $1, matched_birth_date = $2, matched_family = $3,
				matched_given = $4, matched_by = $5, matched_at = $6 WHERE id = $7`,
				m.Patient.NHSNumber, m.Patient.BirthDate, m.Patient.Family, m.Patient.Given, m.By, now, p.ID); err != nil {
				return err
			}
		}
		if err := rcvAddEvents(ctx, tx, p.ID, now, p.Events); err != nil {
			return err
		}
		if cur.ReplacesID != 0 {
			if err := rcvArchiveReplaced(ctx, tx, p.To, cur.ReplacesID, p.ID, now, rcvsql.Actor(p.Events)); err != nil {
				return err
			}
		}
		if err := rcvInsertAcks(ctx, tx, cur.MessageID, p.Acks, now); err != nil {
			return err
		}
		doc, err = rcvGetDoc(ctx, tx, p.ID, "")
		return err
	})
	if err != nil {
		return doc, rcvErr(fmt.Sprintf("document %d", p.ID), err)
	}
	return doc, nil
}

// HeldPastDeadline lists held documents whose deadline has passed.
func (s *ReceiverStore) HeldPastDeadline(ctx context.Context, now time.Time, limit int) ([]receiver.Document, error) {
	out, err := collectRDocs(s.db.pool.Query(ctx, `SELECT `+rdocCols+rdocFrom+` WHERE d.state = $1 AND d.hold_until < $2 ORDER BY d.id LIMIT $3`,
		string(receiver.DocHeld), micros(now), limit))
	if err != nil {
		return nil, fmt.Errorf("pgstore: held documents: %w", err)
	}
	return out, nil
}

// CountDocuments counts documents per state.
func (s *ReceiverStore) CountDocuments(ctx context.Context) (map[receiver.DocumentState]int, error) {
	out := map[receiver.DocumentState]int{}
	err := s.countBy(ctx, `SELECT state, count(*) FROM receiver_documents GROUP BY state`, func(k string, n int) { out[receiver.DocumentState(k)] = n })
	return out, err
}

// UpsertPatients inserts or replaces register entries in one transaction.
func (s *ReceiverStore) UpsertPatients(ctx context.Context, ps []receiver.Patient, now time.Time) (receiver.UpsertResult, error) {
	var res receiver.UpsertResult
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		res = receiver.UpsertResult{}
		for i, p := range ps {
			var old receiver.Patient
			var st string
			e := tx.QueryRow(ctx, `SELECT birth_date, family, given, status, death_date, left_date FROM receiver_patients WHERE nhs_number = $1 FOR UPDATE`,
				p.NHSNumber).Scan(&old.BirthDate, &old.Family, &old.Given, &st, &old.DeathDate, &old.LeftDate)
			switch {
			case errors.Is(e, pgx.ErrNoRows):
				res.Inserted++
			case e != nil:
				return fmt.Errorf("upsert patient %d of %d: %w", i+1, len(ps), e)
			default:
				old.NHSNumber, old.Status = p.NHSNumber, receiver.RegisterStatus(st)
				if old == p {
					res.Unchanged++
					continue
				}
				res.Updated++
			}
			if _, err := tx.Exec(ctx, `INSERT INTO receiver_patients (nhs_number, birth_date, family, given, status, death_date, left_date, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (nhs_number) DO UPDATE SET birth_date = excluded.birth_date, family = excluded.family,
				given = excluded.given, status = excluded.status, death_date = excluded.death_date, left_date = excluded.left_date,
				updated_at = excluded.updated_at`,
				p.NHSNumber, p.BirthDate, p.Family, p.Given, string(p.Status), p.DeathDate, p.LeftDate, micros(now)); err != nil {
				return fmt.Errorf("upsert patient %d of %d: %w", i+1, len(ps), err)
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("pgstore: %w", err)
	}
	return res, nil
}

// GetPatient returns receiver.ErrNotFound for an unknown NHS number; the
// error does not carry the number.
func (s *ReceiverStore) GetPatient(ctx context.Context, nhsNumber string) (receiver.Patient, error) {
	var r rcvsql.PatientRow
	err := s.db.pool.QueryRow(ctx, `SELECT `+rcvsql.PatientColumns+` FROM receiver_patients WHERE nhs_number = $1`, nhsNumber).Scan(r.Dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return receiver.Patient{NHSNumber: nhsNumber}, fmt.Errorf("register entry: %w", receiver.ErrNotFound)
	}
	if err != nil {
		return receiver.Patient{NHSNumber: nhsNumber}, fmt.Errorf("pgstore: get register entry: %w", err)
	}
	return r.Patient(), nil
}

// CountPatients counts register entries.
func (s *ReceiverStore) CountPatients(ctx context.Context) (int, error) {
	var n int
	if err := s.db.pool.QueryRow(ctx, `SELECT count(*) FROM receiver_patients`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: count patients: %w", err)
	}
	return n, nil
}

func scanRAck(sc pgx.Row) (receiver.Ack, error) {
	var r rcvsql.AckRow
	err := sc.Scan(r.Dest()...)
	return r.Ack(), err
}

func collectRAcks(rows pgx.Rows, err error) ([]receiver.Ack, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receiver.Ack, error) { return scanRAck(r) })
}

// ClaimAcks leases unsent acks, skipping rows locked by another process; a
// BusAck waits until its InfAck was sent.
func (s *ReceiverStore) ClaimAcks(ctx context.Context, p receiver.ClaimParams) ([]receiver.Ack, error) {
	now := micros(p.Now)
	out, err := collectRAcks(s.db.pool.Query(ctx, `UPDATE receiver_acks SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT a.id FROM receiver_acks a WHERE a.sent_at = 0 AND a.lease_until < $3 AND a.next_attempt_at <= $3
			AND (a.kind = 'inf' OR NOT EXISTS (SELECT 1 FROM receiver_acks i WHERE i.message_id = a.message_id AND i.kind = 'inf' AND i.sent_at = 0))
			ORDER BY a.id LIMIT $4 FOR UPDATE OF a SKIP LOCKED)
		RETURNING `+rcvsql.AckColumns, p.Owner, micros(p.Now.Add(p.Lease)), now, p.Limit))
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim acks: %w", err)
	}
	slices.SortFunc(out, func(a, b receiver.Ack) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// MarkAckSent records MESH's acceptance; marking twice is not an error.
func (s *ReceiverStore) MarkAckSent(ctx context.Context, id int64, meshID string, now time.Time) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE receiver_acks SET sent_at = $1, mesh_id = $2, lease_owner = '', lease_until = 0, last_error = ''
		WHERE id = $3 AND sent_at = 0`, micros(now), meshID, id)
	if err != nil {
		return fmt.Errorf("pgstore: mark ack %d sent: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		var x int
		err := s.db.pool.QueryRow(ctx, `SELECT 1 FROM receiver_acks WHERE id = $1`, id).Scan(&x)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("ack %d: %w", id, receiver.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("pgstore: mark ack %d sent: %w", id, err)
		}
	}
	return nil
}

// ReleaseAck ends a claim and schedules a retry.
func (s *ReceiverStore) ReleaseAck(ctx context.Context, id int64, owner, errText string, retryAt time.Time) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE receiver_acks SET lease_owner = '', lease_until = 0, last_error = $1, next_attempt_at = $2
		WHERE id = $3 AND lease_owner = $4 AND sent_at = 0`, errText, micros(retryAt), id, owner)
	if err != nil {
		return fmt.Errorf("pgstore: release ack %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release ack %d: %w", id, receiver.ErrConflict)
	}
	return nil
}

// ListAcks lists a message's acks in creation order.
func (s *ReceiverStore) ListAcks(ctx context.Context, messageID int64) ([]receiver.Ack, error) {
	out, err := collectRAcks(s.db.pool.Query(ctx, `SELECT `+rcvsql.AckColumns+` FROM receiver_acks WHERE message_id = $1 ORDER BY id`, messageID))
	if err != nil {
		return nil, fmt.Errorf("pgstore: list acks: %w", err)
	}
	return out, nil
}

// CountAcks counts sent acks per code and unsent acks.
func (s *ReceiverStore) CountAcks(ctx context.Context) (map[int]int, int, error) {
	sent := map[int]int{}
	pending := 0
	rows, err := s.db.pool.Query(ctx, `SELECT code, sent_at <> 0, count(*) FROM receiver_acks GROUP BY code, sent_at <> 0`)
	if err != nil {
		return nil, 0, fmt.Errorf("pgstore: count acks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, n int
		var isSent bool
		if err := rows.Scan(&code, &isSent, &n); err != nil {
			return nil, 0, fmt.Errorf("pgstore: count acks: %w", err)
		}
		if isSent {
			sent[code] += n
		} else {
			pending += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("pgstore: count acks: %w", err)
	}
	return sent, pending, nil
}

var _ receiver.PatientFinder = (*ReceiverStore)(nil)

// FindPatients lists register entries born on p.BirthDate whose family name
// is p.Family, ignoring case, ordered by name.
func (s *ReceiverStore) FindPatients(ctx context.Context, p receiver.FindPatientsParams) ([]receiver.Patient, error) {
	limit := p.Limit
	if limit <= 0 || limit > receiver.MaxFindPatients {
		limit = receiver.MaxFindPatients
	}
	rows, err := s.db.pool.Query(ctx, `SELECT `+rcvsql.PatientColumns+` FROM receiver_patients
		WHERE birth_date = $1 AND upper(family) = upper($2) ORDER BY family, given, nhs_number LIMIT $3`, p.BirthDate, strings.TrimSpace(p.Family), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: find patients: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (receiver.Patient, error) {
		var pr rcvsql.PatientRow
		err := r.Scan(pr.Dest()...)
		return pr.Patient(), err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: find patients: %w", err)
	}
	if out == nil {
		out = []receiver.Patient{}
	}
	return out, nil
}

// SentAckMeshIDs looks the ids up in one query.
func (s *ReceiverStore) SentAckMeshIDs(ctx context.Context, meshIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(meshIDs))
	if len(meshIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT mesh_id FROM receiver_acks WHERE mesh_id <> '' AND mesh_id = ANY($1)`, meshIDs)
	if err != nil {
		return nil, fmt.Errorf("pgstore: look up %d ack MESH ids: %w", len(meshIDs), err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: look up %d ack MESH ids: %w", len(meshIDs), err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
