package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do.
type Role string

// Roles.
const (
	// RolePractice is practice staff: the inbox of their practice (User.ODS).
	RolePractice Role = "practice"
	// RoleSender is a sending organisation's staff: its dashboard (User.ODS).
	RoleSender Role = "sender"
	// RoleAdmin runs the service: the MESH admin page.
	RoleAdmin Role = "admin"
)

// User is one login account.
type User struct {
	Username string
	// Name is shown in the header.
	Name string
	Role Role
	// ODS is the practice (RolePractice) or sending organisation
	// (RoleSender) the user works for; empty for RoleAdmin.
	ODS string
	// PasswordHash is a bcrypt hash (see HashPassword).
	PasswordHash []byte
}

// Validate checks that the account is usable: a known role, and an ODS code
// for practice and sender staff.
func (u User) Validate() error {
	if err := u.checkIdentity(); err != nil {
		return err
	}
	if len(u.PasswordHash) == 0 {
		return fmt.Errorf("web: user %q has no password hash", u.Username)
	}
	return nil
}

// checkIdentity is Validate without the password hash (sessions drop it).
func (u User) checkIdentity() error {
	if u.Username == "" {
		return errors.New("web: user has no username")
	}
	if len(u.Username) > MaxUsernameBytes {
		return fmt.Errorf("web: username of %d bytes is longer than %d", len(u.Username), MaxUsernameBytes)
	}
	switch u.Role {
	case RolePractice, RoleSender:
		if u.ODS == "" {
			return fmt.Errorf("web: user %q has role %s but no ODS code", u.Username, u.Role)
		}
	case RoleAdmin:
	default:
		return fmt.Errorf("web: user %q has unknown role %q (want practice, sender or admin)", u.Username, u.Role)
	}
	return nil
}

// Users finds login accounts. A persistent implementation lives with the
// stores; MemUsers is an in-memory one for tests and demos.
type Users interface {
	// FindUser returns the account with this username (case-sensitive), or
	// an error wrapping ErrNotFound.
	FindUser(ctx context.Context, username string) (User, error)
}

// HashPassword returns the bcrypt hash of password for User.PasswordHash.
func HashPassword(password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("web: empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("web: hashing password: %w", err)
	}
	return h, nil
}

// dummyHash is compared against when a username is unknown, so that a
// failed login takes as long whether or not the account exists.
var dummyHash = func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)
	return h
}()

// checkPassword reports whether password matches u; u may be the zero User.
func checkPassword(u User, password string) bool {
	h := u.PasswordHash
	if len(h) == 0 {
		h = dummyHash
	}
	err := bcrypt.CompareHashAndPassword(h, []byte(password))
	return err == nil && len(u.PasswordHash) > 0
}

// MemUsers keeps accounts in memory only. It is meant for tests and for
// seeding a throw-away demo; accounts are lost when the process ends, so a
// real deployment uses a persistent Users implementation.
type MemUsers struct {
	mu sync.RWMutex
	m  map[string]User
}

// NewMemUsers returns an empty in-memory account list.
func NewMemUsers() *MemUsers { return &MemUsers{m: make(map[string]User)} }

// Add hashes password into u and stores u, replacing an account with the
// same username.
func (m *MemUsers) Add(u User, password string) error {
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	u.PasswordHash = h
	return m.Put(u)
}

// Put stores u with the bcrypt hash it already carries, replacing an
// account with the same username.
func (m *MemUsers) Put(u User) error {
	u.Username = strings.TrimSpace(u.Username)
	if err := u.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[u.Username] = u
	return nil
}

// FindUser implements Users.
func (m *MemUsers) FindUser(_ context.Context, username string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.m[username]
	if !ok {
		return User{}, fmt.Errorf("web: user: %w", ErrNotFound)
	}
	return u, nil
}

var _ Users = (*MemUsers)(nil)
