package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// PutMailbox creates or replaces a mailbox.
func (s *MeshStore) PutMailbox(ctx context.Context, mb meshserver.Mailbox) error {
	args, err := meshsql.MailboxArgs(workflows, mb)
	if err == nil {
		_, err = s.db.write.ExecContext(ctx, meshsql.PutMailbox, args...)
	}
	return meshsql.Err("sqlitestore", "put mailbox "+mb.ID, err)
}

// GetMailbox returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMailbox(ctx context.Context, id string) (meshserver.Mailbox, error) {
	mb, err := scanMailbox(reads{s.db}.QueryRow(ctx, meshsql.MailboxByID, id))
	if errors.Is(err, meshsql.ErrNoRows) {
		return mb, fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return mb, meshsql.Err("sqlitestore", "get mailbox "+id, err)
}

// ListMailboxes lists mailboxes by id, optionally of one ODS code.
func (s *MeshStore) ListMailboxes(ctx context.Context, odsCode string) ([]meshserver.Mailbox, error) {
	rows, err := reads{s.db}.Query(ctx, meshsql.ListMailboxes, odsCode)
	var out []meshserver.Mailbox
	if err == nil {
		out, err = meshsql.Collect(rows, scanMailbox)
	}
	return out, meshsql.Err("sqlitestore", "list mailboxes", err)
}

// SetMailboxActive enables or disables a mailbox.
func (s *MeshStore) SetMailboxActive(ctx context.Context, id string, active bool) error {
	res, err := s.db.write.ExecContext(ctx, meshsql.SetMailboxActive, active, id)
	if err != nil {
		return meshsql.Err("sqlitestore", "set mailbox "+id+" active", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return nil
}

// PutPatient creates or replaces a patient register row.
func (s *MeshStore) PutPatient(ctx context.Context, p meshserver.Patient) error {
	_, err := s.db.write.ExecContext(ctx, meshsql.PutPatient, p.NHSNumber, p.BirthDate, p.Surname, p.PracticeODS)
	return meshsql.Err("sqlitestore", "put patient", err)
}

// GetPatient returns meshserver.ErrNotFound for an unknown NHS number. The
// error never carries the number itself.
func (s *MeshStore) GetPatient(ctx context.Context, nhsNumber string) (meshserver.Patient, error) {
	p := meshserver.Patient{NHSNumber: nhsNumber}
	err := reads{s.db}.QueryRow(ctx, meshsql.PatientByNHSNumber, nhsNumber).Scan(&p.BirthDate, &p.Surname, &p.PracticeODS)
	if errors.Is(err, meshsql.ErrNoRows) {
		return p, fmt.Errorf("patient: %w", meshserver.ErrNotFound)
	}
	return p, meshsql.Err("sqlitestore", "get patient", err)
}

// CountByStatus counts messages per status.
func (s *MeshStore) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := reads{s.db}.Query(ctx, meshsql.CountByStatus)
	if err != nil {
		return nil, meshsql.Err("sqlitestore", "count by status", err)
	}
	return meshsql.StatusCounts(rows)
}
