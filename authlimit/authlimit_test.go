package authlimit_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/authlimit"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testPolicy = authlimit.Config{
	Pair:    authlimit.Policy{Free: 3, Base: time.Second, Max: time.Minute},
	Account: authlimit.Policy{Free: 10, Base: time.Second, Max: 10 * time.Second},
	Address: authlimit.Policy{Free: 5, Base: time.Second, Max: time.Minute},
}

func mustLimiter(t *testing.T, cfg authlimit.Config) (*authlimit.Limiter, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg.Now = c.now
	l, err := authlimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

func TestBackOffDoubles(t *testing.T) {
	l, c := mustLimiter(t, authlimit.Config{Pair: authlimit.Policy{Free: 3, Base: time.Second, Max: 10 * time.Second}})
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := l.Wait("alice", "192.0.2.1"); got != 0 {
			t.Fatalf("before failure %d: wait %s, want 0", i+1, got)
		}
		l.Fail("alice", "192.0.2.1")
		if got := l.Wait("alice", "192.0.2.1"); got != w {
			t.Fatalf("after failure %d: wait %s, want %s", i+1, got, w)
		}
		c.advance(w)
	}
	// A success clears the pair.
	l.Fail("alice", "192.0.2.1")
	c.advance(10 * time.Second)
	l.Succeed("alice", "192.0.2.1")
	l.Fail("alice", "192.0.2.1")
	if got := l.Wait("alice", "192.0.2.1"); got != 0 {
		t.Fatalf("first failure after a success: wait %s, want 0", got)
	}
}

func TestSprayingOnePasswordIsSlowed(t *testing.T) {
	l, c := mustLimiter(t, testPolicy)
	spray := "198.51.100.7"
	for i := range 5 {
		l.Fail(fmt.Sprintf("user%d", i), spray)
	}
	if got := l.Wait("user99", spray); got != 0 {
		t.Fatalf("after 5 accounts: wait %s, want 0 (Address.Free)", got)
	}
	l.Fail("user5", spray)
	if got := l.Wait("user99", spray); got != time.Second {
		t.Fatalf("after 6 accounts, a new account from the same address: wait %s, want 1s", got)
	}
	// The sprayer is held to one try per Max; in an hour of trying as
	// fast as allowed it reaches far fewer accounts than without the limit.
	tried := 6
	for end := c.now().Add(time.Hour); c.now().Before(end); {
		if w := l.Wait(fmt.Sprintf("user%d", tried), spray); w > 0 {
			c.advance(w)
			continue
		}
		l.Fail(fmt.Sprintf("user%d", tried), spray)
		tried++
	}
	if tried > 6+7+60 {
		t.Fatalf("sprayer tried %d accounts in an hour, want at most %d", tried, 6+7+60)
	}
	// Other addresses are not slowed by it.
	if got := l.Wait("user99", "203.0.113.9"); got != 0 {
		t.Fatalf("another address: wait %s, want 0", got)
	}
}

func TestOneAddressCannotLockAnAccountForOthers(t *testing.T) {
	l, c := mustLimiter(t, testPolicy)
	attacker, owner := "198.51.100.7", "203.0.113.9"
	for range 1000 {
		if w := l.Wait("practice", attacker); w > 0 {
			c.advance(w)
		}
		l.Fail("practice", attacker)
	}
	if got := l.Wait("practice", attacker); got == 0 {
		t.Fatal("the attacker's own address is not slowed")
	}
	if got := l.Wait("practice", owner); got != 0 {
		t.Fatalf("the owner from another address: wait %s, want 0", got)
	}
}

func TestGuessingFromManyAddressesIsSlowed(t *testing.T) {
	l, _ := mustLimiter(t, testPolicy)
	// Each address contributes at most Pair.Free (3) failures to the
	// account: 4 addresses give 12 > Account.Free (10).
	for a := range 4 {
		for range 10 {
			l.Fail("practice", fmt.Sprintf("198.51.100.%d", a))
		}
	}
	if got := l.Wait("practice", "203.0.113.9"); got != 2*time.Second {
		t.Fatalf("after 12 counted failures from 4 addresses: wait %s, want 2s", got)
	}
	// Never longer than the account's Max.
	for a := range 100 {
		for range 3 {
			l.Fail("practice", fmt.Sprintf("192.0.2.%d", a))
		}
	}
	if got := l.Wait("practice", "203.0.113.9"); got != 10*time.Second {
		t.Fatalf("after 300 more: wait %s, want the 10s cap", got)
	}
}

func TestForget(t *testing.T) {
	l, c := mustLimiter(t, testPolicy)
	for range 20 {
		l.Fail("alice", "192.0.2.1")
	}
	c.advance(time.Hour)
	if got := l.Wait("alice", "192.0.2.1"); got != 0 {
		t.Fatalf("an hour after the last failure: wait %s, want 0", got)
	}
	l.Fail("alice", "192.0.2.1")
	if got := l.Wait("alice", "192.0.2.1"); got != 0 {
		t.Fatalf("first failure after being forgotten: wait %s, want 0", got)
	}
}

func TestFullTableKeepsThrottling(t *testing.T) {
	cfg := testPolicy
	cfg.Size = 100
	l, c := mustLimiter(t, cfg)
	// A guesser is being delayed…
	for range 10 {
		l.Fail("practice", "198.51.100.7")
	}
	held := l.Wait("practice", "198.51.100.7")
	if held == 0 {
		t.Fatal("guesser not delayed")
	}
	// …then fills every table ten times over with new keys, one failure
	// each (none delayed).
	for i := range 1000 {
		l.Fail(fmt.Sprintf("filler%d", i), fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255))
	}
	if got := l.Wait("practice", "198.51.100.7"); got != held {
		t.Fatalf("after the flood the guesser waits %s, want %s still", got, held)
	}
	// New keys are still tracked and throttled.
	for range 10 {
		l.Fail("newcomer", "192.0.2.200")
	}
	if l.Wait("newcomer", "192.0.2.200") == 0 {
		t.Fatal("a key first seen with the table full is not throttled")
	}
	// When every key is delayed, the oldest goes.
	c.advance(time.Second)
	for i := range 200 {
		for range 10 {
			l.Fail(fmt.Sprintf("delayed%d", i), "192.0.2.201")
		}
	}
	if l.Wait("delayed199", "192.0.2.201") == 0 {
		t.Fatal("newest delayed key was evicted")
	}
}

func TestLongNamesAreHashed(t *testing.T) {
	l, _ := mustLimiter(t, testPolicy)
	long := strings.Repeat("a", 4<<20)
	for range 5 {
		l.Fail(long, "192.0.2.1")
	}
	if l.Wait(long, "192.0.2.1") == 0 {
		t.Fatal("a 4 MiB account name is not throttled")
	}
	if l.Wait(long+"b", "192.0.2.2") != 0 || l.Wait(long[:len(long)-1], "192.0.2.2") != 0 {
		t.Fatal("names that differ in one byte share a key")
	}
	// ("ab", "c") and ("a", "bc") are different pairs.
	l2, _ := mustLimiter(t, authlimit.Config{Pair: authlimit.Policy{Free: 0, Base: time.Second, Max: time.Second}})
	l2.Fail("ab", "c")
	if l2.Wait("a", "bc") != 0 {
		t.Fatal("pair keys are ambiguous")
	}
}

func TestEmptyPartsSkipDimensions(t *testing.T) {
	l, _ := mustLimiter(t, testPolicy)
	for range 10 {
		l.Fail("", "192.0.2.1") // an admin token: no account
	}
	if l.Wait("", "192.0.2.1") == 0 {
		t.Fatal("address not throttled without an account")
	}
	if l.Wait("", "192.0.2.2") != 0 {
		t.Fatal("another address throttled")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  authlimit.Config
	}{
		{"max below base", authlimit.Config{Pair: authlimit.Policy{Base: time.Minute, Max: time.Second}}},
		{"negative free", authlimit.Config{Address: authlimit.Policy{Free: -1, Base: time.Second, Max: time.Second}}},
		{"negative size", authlimit.Config{Size: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := authlimit.New(tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1:5678", "192.0.2.1"},
		{"192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1%eth0]:443", "2001:db8:1:2::/64"},
		{"@", "@"},
		{"unix-socket", "unix-socket"},
	} {
		if got := authlimit.Address(tc.in); got != tc.want {
			t.Errorf("Address(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	l, _ := mustLimiter(t, authlimit.Config{Pair: testPolicy.Pair, Account: testPolicy.Account, Address: testPolicy.Address, Size: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				acct, addr := fmt.Sprintf("u%d", i%70), fmt.Sprintf("192.0.2.%d", g)
				l.Wait(acct, addr)
				if i%3 == 0 {
					l.Succeed(acct, addr)
				} else {
					l.Fail(acct, addr)
				}
			}
		})
	}
	wg.Wait()
}
