package mesh

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// MessageIDLayout is the time part of a live MESH message ID (UTC, to the
// microsecond, without the dot): yyyyMMddHHmmssffffff.
const messageIDTime = "20060102150405.000000"

// IDGenerator mints message IDs in the live form
// yyyyMMddHHmmssffffff_XXXXXX (20 digits, "_", 6 upper-case hex). IDs from
// one generator are unique and increase strictly even when the clock stalls
// or steps back. The zero value is ready to use; it is safe for concurrent use.
type IDGenerator struct {
	mu   sync.Mutex
	last time.Time
}

// New returns an ID stamped with now (or just after the previous ID).
func (g *IDGenerator) New(now time.Time) string {
	g.mu.Lock()
	now = now.UTC().Truncate(time.Microsecond)
	if !now.After(g.last) {
		now = g.last.Add(time.Microsecond)
	}
	g.last = now
	g.mu.Unlock()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return strings.Replace(now.Format(messageIDTime), ".", "", 1) + "_" + strings.ToUpper(hex.EncodeToString(b[:]))
}

// IsLiveMessageID reports whether s has the live form (20 or 17 time digits,
// "_", 6 hex). Clients must treat IDs as opaque: the NHS sandbox uses 32 hex
// characters. Use [ValidMessageID] to vet IDs from outside.
func IsLiveMessageID(s string) bool {
	digits, suffix, ok := strings.Cut(s, "_")
	if !ok || (len(digits) != 20 && len(digits) != 17) || len(suffix) != 6 {
		return false
	}
	return allDigits(digits) && isHex(suffix)
}

// MessageIDTime returns the time encoded in a live message ID.
func MessageIDTime(s string) (time.Time, bool) {
	if !IsLiveMessageID(s) {
		return time.Time{}, false
	}
	digits, _, _ := strings.Cut(s, "_")
	t, err := time.ParseInLocation("20060102150405", digits[:14], time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	frac := digits[14:]
	var ns int
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int(frac[i] - '0')
		}
	}
	return t.Add(time.Duration(ns)), true
}

// ValidMessageID reports whether s is acceptable as a message ID in a URL
// path: 1–100 characters of letters, digits, "_" and "-". Both live and
// sandbox forms pass.
func ValidMessageID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
