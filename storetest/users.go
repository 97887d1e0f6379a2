package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/account"
)

// UserStore is what RunUsers checks: the store of the web UI's login
// accounts (web.AccountStore has the same methods; web's tests hold the two
// method sets equal).
type UserStore interface {
	GetAccount(ctx context.Context, username string) (account.Account, error)
	ListAccounts(ctx context.Context) ([]account.Account, error)
	CreateAccount(ctx context.Context, a account.Account) error
	UpdateAccount(ctx context.Context, a account.Account) error
}

// RunUsers exercises a UserStore. open must return two handles on one
// fresh, empty store, as two processes would open it, and arrange their
// cleanup.
func RunUsers(t *testing.T, open func(t *testing.T) (a, b UserStore)) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	jane := account.Account{Username: "jane.smith", Name: "Jane Smith", Role: "practice", ODS: "A11111",
		PasswordHash: []byte("$2a$10$not-a-real-hash\x00\xff"), CreatedAt: t0, UpdatedAt: t0}

	t.Run("create get list", func(t *testing.T) {
		s, _ := open(t)
		ctx := t.Context()
		if _, err := s.GetAccount(ctx, "jane.smith"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("unknown account: %v, want ErrNotFound", err)
		}
		if list, err := s.ListAccounts(ctx); err != nil || len(list) != 0 {
			t.Fatalf("empty store lists %v %v", list, err)
		}
		admin := account.Account{Username: "admin", Name: "Ada Admin", Role: "admin", PasswordHash: []byte("h2"), CreatedAt: t0, UpdatedAt: t0}
		for _, a := range []account.Account{jane, admin} {
			if err := s.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetAccount(ctx, "jane.smith")
		if err != nil {
			t.Fatal(err)
		}
		if !sameAccount(got, jane) {
			t.Fatalf("get: %+v, want %+v", got, jane)
		}
		if _, err := s.GetAccount(ctx, "Jane.Smith"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("usernames are case-sensitive: got %v, want ErrNotFound", err)
		}
		list, err := s.ListAccounts(ctx)
		if err != nil || len(list) != 2 || list[0].Username != "admin" || list[1].Username != "jane.smith" {
			t.Fatalf("list: %+v %v, want admin then jane.smith", list, err)
		}
	})

	t.Run("username taken", func(t *testing.T) {
		s, _ := open(t)
		ctx := t.Context()
		if err := s.CreateAccount(ctx, jane); err != nil {
			t.Fatal(err)
		}
		other := jane
		other.Name, other.PasswordHash = "Someone Else", []byte("other")
		if err := s.CreateAccount(ctx, other); !errors.Is(err, account.ErrExists) {
			t.Fatalf("second create: %v, want ErrExists", err)
		}
		if got, _ := s.GetAccount(ctx, jane.Username); !sameAccount(got, jane) {
			t.Fatalf("the refused create changed the account: %+v", got)
		}
	})

	t.Run("update", func(t *testing.T) {
		s, _ := open(t)
		ctx := t.Context()
		if err := s.CreateAccount(ctx, jane); err != nil {
			t.Fatal(err)
		}
		up := jane
		up.Name, up.Role, up.ODS, up.PasswordHash, up.Disabled = "Jane Jones", "sender", "X99", []byte("new hash"), true
		up.UpdatedAt = t0.Add(time.Hour)
		up.CreatedAt = t0.Add(48 * time.Hour) // not changed by an update
		if err := s.UpdateAccount(ctx, up); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetAccount(ctx, jane.Username)
		if err != nil {
			t.Fatal(err)
		}
		want := up
		want.CreatedAt = t0
		if !sameAccount(got, want) {
			t.Fatalf("after update: %+v, want %+v", got, want)
		}
		missing := up
		missing.Username = "nobody"
		if err := s.UpdateAccount(ctx, missing); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("update of a missing account: %v, want ErrNotFound", err)
		}
		if list, _ := s.ListAccounts(ctx); len(list) != 1 {
			t.Fatalf("update of a missing account created one: %+v", list)
		}
	})

	t.Run("shared by two handles", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		if err := a.CreateAccount(ctx, jane); err != nil {
			t.Fatal(err)
		}
		up := jane
		up.Disabled = true
		if err := b.UpdateAccount(ctx, up); err != nil {
			t.Fatal(err)
		}
		if got, err := a.GetAccount(ctx, jane.Username); err != nil || !got.Disabled {
			t.Fatalf("a sees b's update: %+v %v", got, err)
		}
	})

	t.Run("concurrent creates of one username", func(t *testing.T) {
		a, b := open(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				acc := jane
				acc.Name = fmt.Sprintf("Jane %d", i)
				errs[i] = s.CreateAccount(ctx, acc)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, account.ErrExists):
				t.Errorf("create: %v, want nil or ErrExists", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d creates of one username succeeded, want 1", won)
		}
	})
}

func sameAccount(a, b account.Account) bool {
	return a.Username == b.Username && a.Name == b.Name && a.Role == b.Role && a.ODS == b.ODS &&
		bytes.Equal(a.PasswordHash, b.PasswordHash) && a.Disabled == b.Disabled &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}
