package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcm/gpcm/account"
)

// UserStore keeps the web UI's login accounts (web.NewStoreUsers wraps
// it). Every process on the schema sees every account.
type UserStore struct{ db *DB }

// Users returns the account store on db.
func (db *DB) Users() *UserStore { return &UserStore{db: db} }

const accountColumns = `username, name, role, ods, password_hash, disabled, created_at, updated_at`

func scanAccount(row pgx.Row) (account.Account, error) {
	var a account.Account
	var created, updated int64
	if err := row.Scan(&a.Username, &a.Name, &a.Role, &a.ODS, &a.PasswordHash, &a.Disabled, &created, &updated); err != nil {
		return account.Account{}, err
	}
	a.CreatedAt, a.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return a, nil
}

func stamp(t time.Time) int64 {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UnixMicro()
}

func hashBytes(h []byte) []byte {
	if h == nil {
		return []byte{}
	}
	return h
}

// GetAccount returns the account with this username, or an error wrapping
// account.ErrNotFound.
func (s *UserStore) GetAccount(ctx context.Context, username string) (account.Account, error) {
	a, err := scanAccount(s.db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM web_users WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return account.Account{}, fmt.Errorf("pgstore: account %q: %w", username, account.ErrNotFound)
	}
	if err != nil {
		return account.Account{}, fmt.Errorf("pgstore: get account: %w", err)
	}
	return a, nil
}

// ListAccounts returns every account, by username.
func (s *UserStore) ListAccounts(ctx context.Context) ([]account.Account, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+accountColumns+` FROM web_users ORDER BY username COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list accounts: %w", err)
	}
	defer rows.Close()
	var out []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list accounts: %w", err)
	}
	return out, nil
}

// CreateAccount stores a new account; a taken username is an error
// wrapping account.ErrExists.
func (s *UserStore) CreateAccount(ctx context.Context, a account.Account) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO web_users (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.Username, a.Name, a.Role, a.ODS, hashBytes(a.PasswordHash), a.Disabled, stamp(a.CreatedAt), stamp(a.UpdatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("pgstore: account %q: %w", a.Username, account.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("pgstore: create account: %w", err)
	}
	return nil
}

// UpdateAccount replaces everything but the username and creation time of
// the account a.Username; a missing account is an error wrapping
// account.ErrNotFound.
func (s *UserStore) UpdateAccount(ctx context.Context, a account.Account) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE web_users SET name = $1, role = $2, ods = $3, password_hash = $4, disabled = $5, updated_at = $6
		WHERE username = $7`, a.Name, a.Role, a.ODS, hashBytes(a.PasswordHash), a.Disabled, stamp(a.UpdatedAt), a.Username)
	if err != nil {
		return fmt.Errorf("pgstore: update account: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: account %q: %w", a.Username, account.ErrNotFound)
	}
	return nil
}
