package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpcm/gpcm/account"
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
	// Disabled accounts cannot sign in; their sessions end at once.
	Disabled bool
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

// Users finds login accounts. StoreUsers keeps them in a database;
// MemUsers is an in-memory one for tests and demos.
type Users interface {
	// FindUser returns the account with this username (case-sensitive), or
	// an error wrapping ErrNotFound.
	FindUser(ctx context.Context, username string) (User, error)
}

// UserAdmin is a Users that can also list, create and change accounts.
// When Config.Users is one, administrators manage accounts on the Users
// page and every user may change their own password.
type UserAdmin interface {
	Users
	// ListUsers returns every account, by username.
	ListUsers(ctx context.Context) ([]User, error)
	// CreateUser stores a new account; a taken username is an error
	// wrapping ErrConflict.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser replaces the account u.Username (name, role, ODS code,
	// password hash, disabled); a missing one is an error wrapping
	// ErrNotFound.
	UpdateUser(ctx context.Context, u User) error
}

// Password rules for passwords people choose (NCSC guidance: length, not
// composition rules). bcrypt reads at most 72 bytes.
const (
	MinPasswordLen   = 10
	MaxPasswordBytes = 72
)

// CheckNewPassword says what is wrong with a password someone chose, in
// words for them, or returns nil.
func CheckNewPassword(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Errorf("Password must be %d characters or more", MinPasswordLen)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("Password must be %d characters or fewer", MaxPasswordBytes)
	case strings.TrimSpace(password) == "":
		return errors.New("Password must not be only spaces")
	}
	return nil
}

// NewPassword returns a random password for a new account or a reset:
// 16 lower-case letters and digits (about 80 bits), in groups of four.
func NewPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return out.String()
}

// usernamePattern is what new usernames may be: lower case, so that two
// accounts never differ by case alone.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]*$`)

// CheckUsername says what is wrong with a new account's username, or
// returns nil.
func CheckUsername(username string) error {
	switch {
	case username == "":
		return errors.New("Enter a username")
	case len(username) > 64:
		return errors.New("Username must be 64 characters or fewer")
	case !usernamePattern.MatchString(username):
		return errors.New("Username must start with a lower-case letter or digit and contain only lower-case letters, digits, dots, hyphens, underscores and @")
	}
	return nil
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

// ListUsers implements UserAdmin.
func (m *MemUsers) ListUsers(context.Context) ([]User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]User, 0, len(m.m))
	for _, u := range m.m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// CreateUser implements UserAdmin.
func (m *MemUsers) CreateUser(_ context.Context, u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[u.Username]; ok {
		return fmt.Errorf("web: user %q: %w", u.Username, ErrConflict)
	}
	m.m[u.Username] = u
	return nil
}

// UpdateUser implements UserAdmin.
func (m *MemUsers) UpdateUser(_ context.Context, u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[u.Username]; !ok {
		return fmt.Errorf("web: user %q: %w", u.Username, ErrNotFound)
	}
	m.m[u.Username] = u
	return nil
}

var _ UserAdmin = (*MemUsers)(nil)

// AccountStore is the database of login accounts that StoreUsers wraps
// (sqlitestore.UserStore and pgstore.UserStore implement it).
type AccountStore interface {
	GetAccount(ctx context.Context, username string) (account.Account, error)
	ListAccounts(ctx context.Context) ([]account.Account, error)
	CreateAccount(ctx context.Context, a account.Account) error
	UpdateAccount(ctx context.Context, a account.Account) error
}

// StoreUsers is the UserAdmin of a deployment: accounts in a database
// that every process serving the UI shares.
type StoreUsers struct {
	st  AccountStore
	now func() time.Time
}

// NewStoreUsers returns the accounts kept in st; now is the clock of
// their change times (nil: time.Now).
func NewStoreUsers(st AccountStore, now func() time.Time) *StoreUsers {
	if now == nil {
		now = time.Now
	}
	return &StoreUsers{st: st, now: now}
}

func userOf(a account.Account) User {
	return User{Username: a.Username, Name: a.Name, Role: Role(a.Role), ODS: a.ODS, PasswordHash: a.PasswordHash, Disabled: a.Disabled}
}

func accountOf(u User, now time.Time) account.Account {
	return account.Account{Username: u.Username, Name: u.Name, Role: string(u.Role), ODS: u.ODS, PasswordHash: u.PasswordHash,
		Disabled: u.Disabled, CreatedAt: now, UpdatedAt: now}
}

// storeErr maps the store's sentinel errors to web's.
func storeErr(err error) error {
	switch {
	case errors.Is(err, account.ErrNotFound):
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	case errors.Is(err, account.ErrExists):
		return fmt.Errorf("%w (%w)", ErrConflict, err)
	}
	return err
}

// FindUser implements Users.
func (s *StoreUsers) FindUser(ctx context.Context, username string) (User, error) {
	a, err := s.st.GetAccount(ctx, username)
	if err != nil {
		return User{}, storeErr(err)
	}
	return userOf(a), nil
}

// ListUsers implements UserAdmin.
func (s *StoreUsers) ListUsers(ctx context.Context) ([]User, error) {
	as, err := s.st.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(as))
	for i, a := range as {
		out[i] = userOf(a)
	}
	return out, nil
}

// CreateUser implements UserAdmin.
func (s *StoreUsers) CreateUser(ctx context.Context, u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return storeErr(s.st.CreateAccount(ctx, accountOf(u, s.now())))
}

// UpdateUser implements UserAdmin.
func (s *StoreUsers) UpdateUser(ctx context.Context, u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return storeErr(s.st.UpdateAccount(ctx, accountOf(u, s.now())))
}

var _ UserAdmin = (*StoreUsers)(nil)
