package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SessionStore keeps the web UI's signed-in sessions (it implements
// web.SessionStore; web declares the interface and pgstore need not import
// it). Every process on the schema sees every session.
type SessionStore struct{ db *DB }

// Sessions returns the web session store on db.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

// SaveSession stores data under id until expires, replacing any session
// with that id.
func (s *SessionStore) SaveSession(ctx context.Context, id string, data []byte, expires time.Time) error {
	if data == nil {
		data = []byte{}
	}
	_, err := s.db.pool.Exec(ctx, `INSERT INTO web_sessions (id, data, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`, id, data, expires.UnixMicro())
	if err != nil {
		return fmt.Errorf("pgstore: save session: %w", err)
	}
	return nil
}

// LoadSession returns the session's data; ok is false when there is none
// or it expired before now.
func (s *SessionStore) LoadSession(ctx context.Context, id string, now time.Time) ([]byte, bool, error) {
	var data []byte
	err := s.db.pool.QueryRow(ctx, `SELECT data FROM web_sessions WHERE id = $1 AND expires_at > $2`, id, now.UnixMicro()).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: load session: %w", err)
	}
	return data, true, nil
}

// DeleteSession removes a session; removing none is not an error.
func (s *SessionStore) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("pgstore: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions that expired before now.
func (s *SessionStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("pgstore: delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
