package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gpcm/gpcm/account"
)

// UserStore keeps the web UI's login accounts (web.NewStoreUsers wraps it).
type UserStore struct{ db *DB }

// Users returns the account store on db.
func (db *DB) Users() *UserStore { return &UserStore{db: db} }

const accountColumns = `username, name, role, ods, password_hash, disabled, created_at, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (account.Account, error) {
	var a account.Account
	var created, updated int64
	if err := row.Scan(&a.Username, &a.Name, &a.Role, &a.ODS, &a.PasswordHash, &a.Disabled, &created, &updated); err != nil {
		return account.Account{}, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

func stamp(t time.Time) int64 {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UnixMicro()
}

// GetAccount returns the account with this username, or an error wrapping
// account.ErrNotFound.
func (s *UserStore) GetAccount(ctx context.Context, username string) (account.Account, error) {
	a, err := scanAccount(s.db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM web_users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Account{}, fmt.Errorf("sqlitestore: account %q: %w", username, account.ErrNotFound)
	}
	if err != nil {
		return account.Account{}, fmt.Errorf("sqlitestore: get account: %w", err)
	}
	return a, nil
}

// ListAccounts returns every account, by username.
func (s *UserStore) ListAccounts(ctx context.Context) ([]account.Account, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM web_users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list accounts: %w", err)
	}
	defer rows.Close()
	var out []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list accounts: %w", err)
	}
	return out, nil
}

// CreateAccount stores a new account; a taken username is an error
// wrapping account.ErrExists.
func (s *UserStore) CreateAccount(ctx context.Context, a account.Account) error {
	_, err := s.db.write.ExecContext(ctx, `INSERT INTO web_users (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Username, a.Name, a.Role, a.ODS, nonNil(a.PasswordHash), a.Disabled, stamp(a.CreatedAt), stamp(a.UpdatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlitestore: account %q: %w", a.Username, account.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: create account: %w", err)
	}
	return nil
}

// UpdateAccount replaces everything but the username and creation time of
// the account a.Username; a missing account is an error wrapping
// account.ErrNotFound.
func (s *UserStore) UpdateAccount(ctx context.Context, a account.Account) error {
	res, err := s.db.write.ExecContext(ctx, `UPDATE web_users SET name = ?, role = ?, ods = ?, password_hash = ?, disabled = ?, updated_at = ?
		WHERE username = ?`, a.Name, a.Role, a.ODS, nonNil(a.PasswordHash), a.Disabled, stamp(a.UpdatedAt), a.Username)
	if err != nil {
		return fmt.Errorf("sqlitestore: update account: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlitestore: update account: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlitestore: account %q: %w", a.Username, account.ErrNotFound)
	}
	return nil
}
