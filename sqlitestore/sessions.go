package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SessionStore keeps the web UI's signed-in sessions (it implements
// web.SessionStore; web declares the interface and sqlitestore need not
// import it).
type SessionStore struct{ db *DB }

// Sessions returns the web session store on db.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

// SaveSession stores data under id until expires, replacing any session
// with that id.
func (s *SessionStore) SaveSession(ctx context.Context, id string, data []byte, expires time.Time) error {
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO web_sessions (id, data, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`, id, nonNil(data), expires.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlitestore: save session: %w", err)
	}
	return nil
}

// LoadSession returns the session's data; ok is false when there is none
// or it expired before now.
func (s *SessionStore) LoadSession(ctx context.Context, id string, now time.Time) ([]byte, bool, error) {
	var data []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT data FROM web_sessions WHERE id = ? AND expires_at > ?`, id, now.UnixMicro()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: load session: %w", err)
	}
	return data, true, nil
}

// DeleteSession removes a session; removing none is not an error.
func (s *SessionStore) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlitestore: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions that expired before now.
func (s *SessionStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
