package authlimit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Policy is the back-off of one dimension. The zero Policy switches the
// dimension off.
type Policy struct {
	// Free failures are allowed without delay.
	Free int
	// Base is the wait after failure Free+1; each further failure doubles
	// it, up to Max.
	Base time.Duration
	Max  time.Duration
}

func (p Policy) off() bool { return p.Base <= 0 }

// delay is the wait after the n-th failure.
func (p Policy) delay(n int) time.Duration {
	if p.off() || n <= p.Free {
		return 0
	}
	d := p.Base
	for i := p.Free + 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Config configures a Limiter.
type Config struct {
	// Pair limits one account from one address.
	Pair Policy
	// Account limits one account from every address; each address counts
	// for at most Pair.Free failures (all of them when Pair is off).
	Account Policy
	// Address limits one client address, whatever the account.
	Address Policy
	// Forget drops a key this long after its latest failure. Default (and
	// minimum) twice the largest Max, at least an hour.
	Forget time.Duration
	// Size bounds each dimension's table (default 10 000 keys; each costs
	// about 100 bytes).
	Size int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultSize is Config.Size when unset.
const DefaultSize = 10000

func (c Config) withDefaults() Config {
	longest := max(c.Pair.Max, c.Account.Max, c.Address.Max)
	c.Forget = max(c.Forget, 2*longest, time.Hour)
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	for _, d := range []struct {
		name string
		p    Policy
	}{{"Pair", c.Pair}, {"Account", c.Account}, {"Address", c.Address}} {
		if d.p.off() {
			continue
		}
		if d.p.Free < 0 || d.p.Max < d.p.Base {
			return fmt.Errorf("authlimit: %s policy %+v: want Free ≥ 0 and Max ≥ Base", d.name, d.p)
		}
	}
	if c.Size < 1 {
		return errors.New("authlimit: Size must be at least 1")
	}
	return nil
}

// Limiter counts authentication failures and says how long an attempt must
// wait. The zero value is not usable; call New.
type Limiter struct {
	cfg  Config
	salt [16]byte

	mu                     sync.Mutex
	pair, account, address table
	// keys counts the keys in all tables, so that Wait and Succeed on a
	// quiet server take no lock and hash nothing.
	keys atomic.Int64
}

// New checks cfg and returns a Limiter.
func New(cfg Config) (*Limiter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Limiter{cfg: cfg}
	_, _ = rand.Read(l.salt[:]) // never fails (crypto/rand)
	for _, t := range []*table{&l.pair, &l.account, &l.address} {
		t.m = make(map[key]*entry)
		t.size = cfg.Size
		t.keys = &l.keys
	}
	l.pair.p, l.account.p, l.address.p = cfg.Pair, cfg.Account, cfg.Address
	return l, nil
}

// key is a hashed account, address or pair.
type key [16]byte

// hash makes the key of the parts given; parts are length-prefixed so that
// ("ab", "c") and ("a", "bc") differ.
func (l *Limiter) hash(dim byte, parts ...string) key {
	h := sha256.New()
	h.Write(l.salt[:])
	h.Write([]byte{dim})
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var k key
	copy(k[:], h.Sum(nil))
	return k
}

// keys are the three keys of an attempt; a dimension whose part is empty
// (or whose policy is off) has ok false.
type keys struct {
	pair, account, address       key
	hasPair, hasAccount, hasAddr bool
}

func (l *Limiter) keysOf(account, addr string) keys {
	var k keys
	if account != "" && addr != "" && !l.cfg.Pair.off() {
		k.pair, k.hasPair = l.hash('p', account, addr), true
	}
	if account != "" && !l.cfg.Account.off() {
		k.account, k.hasAccount = l.hash('c', account), true
	}
	if addr != "" && !l.cfg.Address.off() {
		k.address, k.hasAddr = l.hash('a', addr), true
	}
	return k
}

// Wait reports how long an attempt at account from addr must wait; 0 means
// it may go ahead. Either may be empty (an admin token has no account).
func (l *Limiter) Wait(account, addr string) time.Duration {
	if l.keys.Load() == 0 {
		return 0
	}
	k := l.keysOf(account, addr)
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var w time.Duration
	if k.hasPair {
		w = max(w, l.pair.wait(k.pair, now, l.cfg.Forget))
	}
	if k.hasAccount {
		w = max(w, l.account.wait(k.account, now, l.cfg.Forget))
	}
	if k.hasAddr {
		w = max(w, l.address.wait(k.address, now, l.cfg.Forget))
	}
	return w
}

// Fail records a failed attempt at account from addr.
func (l *Limiter) Fail(account, addr string) {
	k := l.keysOf(account, addr)
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	countAccount := true
	if k.hasPair {
		n := l.pair.fail(k.pair, now, l.cfg.Forget)
		countAccount = n <= l.cfg.Pair.Free
	}
	if k.hasAccount && countAccount {
		l.account.fail(k.account, now, l.cfg.Forget)
	}
	if k.hasAddr {
		l.address.fail(k.address, now, l.cfg.Forget)
	}
}

// Succeed records a successful attempt: the pair's failures are forgotten.
// The account's and the address's are not, so that a guesser cannot clear
// them by signing in to an account of their own.
func (l *Limiter) Succeed(account, addr string) {
	if l.keys.Load() == 0 {
		return
	}
	k := l.keysOf(account, addr)
	if !k.hasPair {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pair.remove(k.pair)
}

// Address is the client part of a remote address ("host:port" or a bare
// IP) to count failures by: an IPv4 address, or the /64 network of an IPv6
// address (one host usually holds a whole /64). Anything else is returned
// as it is.
func Address(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}
