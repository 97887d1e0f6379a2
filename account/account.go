// Package account is the record of a web UI login account as the stores
// keep it. It is a leaf package so that web (which checks and uses
// accounts), the store drivers (which persist them) and storetest (their
// contract suite) share one type without importing each other.
package account

import (
	"errors"
	"time"
)

// Account is one person's login to the web UI.
type Account struct {
	// Username is the sign-in name, unique and case-sensitive.
	Username string
	// Name is the person's name as the UI shows it ("Jane Smith").
	Name string
	// Role is "practice", "sender" or "admin" (web checks it).
	Role string
	// ODS is the practice or sending organisation of practice and sender
	// staff; empty for administrators.
	ODS string
	// PasswordHash is a slow-KDF hash of the password (web.HashPassword);
	// the password itself is never stored.
	PasswordHash []byte
	// Disabled accounts cannot sign in, and their sessions end.
	Disabled bool
	// CreatedAt and UpdatedAt are kept as given (the store uses its clock
	// for a zero time).
	CreatedAt, UpdatedAt time.Time
}

// ErrNotFound is returned for a username that has no account.
var ErrNotFound = errors.New("account: not found")

// ErrExists is returned when creating an account whose username is taken.
var ErrExists = errors.New("account: username already taken")
