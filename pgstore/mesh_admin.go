package pgstore

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
		_, err = s.pool().Exec(ctx, meshsql.PutMailbox, args...)
	}
	return meshsql.Err("pgstore", "put mailbox "+mb.ID, err)
}

// GetMailbox returns meshserver.ErrNotFound for an unknown id.
func (s *MeshStore) GetMailbox(ctx context.Context, id string) (meshserver.Mailbox, error) {
	mb, err := scanMailbox(s.pool().QueryRow(ctx, meshsql.MailboxByID, id))
	if errors.Is(err, meshsql.ErrNoRows) {
		return mb, fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return mb, meshsql.Err("pgstore", "get mailbox "+id, err)
}

// ListMailboxes lists mailboxes by id, optionally of one ODS code.
func (s *MeshStore) ListMailboxes(ctx context.Context, odsCode string) ([]meshserver.Mailbox, error) {
	rows, err := s.pool().Query(ctx, meshsql.ListMailboxes, odsCode)
	var out []meshserver.Mailbox
	if err == nil {
		out, err = meshsql.Collect(rows, scanMailbox)
	}
	return out, meshsql.Err("pgstore", "list mailboxes", err)
}

// SetMailboxActive enables or disables a mailbox.
func (s *MeshStore) SetMailboxActive(ctx context.Context, id string, active bool) error {
	n, err := s.pool().Exec(ctx, meshsql.SetMailboxActive, active, id)
	if err != nil {
		return meshsql.Err("pgstore", "set mailbox "+id+" active", err)
	}
	if n == 0 {
		return fmt.Errorf("mailbox %s: %w", id, meshserver.ErrNotFound)
	}
	return nil
}

// PutPatient creates or replaces a patient register row.
func (s *MeshStore) PutPatient(ctx context.Context, p meshserver.Patient) error {
	_, err := s.pool().Exec(ctx, meshsql.PutPatient, p.NHSNumber, p.BirthDate, p.Surname, p.PracticeODS)
	return meshsql.Err("pgstore", "put patient", err)
}

// GetPatient returns meshserver.ErrNotFound for an unknown NHS number. The
// error never carries the number itself.
func (s *MeshStore) GetPatient(ctx context.Context, nhsNumber string) (meshserver.Patient, error) {
	p := meshserver.Patient{NHSNumber: nhsNumber}
	err := s.pool().QueryRow(ctx, meshsql.PatientByNHSNumber, nhsNumber).Scan(&p.BirthDate, &p.Surname, &p.PracticeODS)
	if errors.Is(err, meshsql.ErrNoRows) {
		return p, fmt.Errorf("patient: %w", meshserver.ErrNotFound)
	}
	return p, meshsql.Err("pgstore", "get patient", err)
}

// CountByStatus counts messages per status.
func (s *MeshStore) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool().Query(ctx, meshsql.CountByStatus)
	if err != nil {
		return nil, meshsql.Err("pgstore", "count by status", err)
	}
	return meshsql.StatusCounts(rows)
}
