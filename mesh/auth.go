package mesh

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gpcm/gpcm/internal/uuid"
)

// AuthScheme is the Authorization scheme of MESH tokens. It is followed by
// exactly one space and five colon-separated fields.
const AuthScheme = "NHSMESH"

// TimestampLayout is the layout of the token timestamp: UTC, minute precision.
const TimestampLayout = "200601021504"

// DefaultAuthWindow is the clock skew a live MESH server tolerates either side.
const DefaultAuthWindow = 2 * time.Hour

// ErrAuth is matched (errors.Is) by every failure of [ParseAuthorization] and
// [Token.Verify]. Servers answer all of them with 403 and must not tell the
// caller which check failed; the wrapped text is for server logs only and
// never contains the password, the shared key or the expected MAC.
var ErrAuth = errors.New("mesh: authentication failed")

// Token is one NHSMESH authorisation token:
//
//	NHSMESH <mailbox>:<nonce>:<nonce count>:<timestamp>:<hmac hex>
//
// The MAC is HMAC-SHA256 keyed with the environment shared key over
// "mailbox:nonce:count:password:timestamp".
type Token struct {
	Mailbox    string
	Nonce      string
	NonceCount string // decimal digits, as sent (the MAC covers this text)
	Timestamp  string // yyyyMMddHHmm in UTC, as sent
	MAC        string // lower-case hex HMAC-SHA256
}

// NewToken returns a signed token for mailbox at time now (converted to UTC).
func NewToken(mailbox, password, sharedKey, nonce string, count uint64, now time.Time) Token {
	t := Token{
		Mailbox:    mailbox,
		Nonce:      nonce,
		NonceCount: strconv.FormatUint(count, 10),
		Timestamp:  now.UTC().Format(TimestampLayout),
	}
	t.MAC = t.Sign(sharedKey, password)
	return t
}

// Sign returns the lower-case hex HMAC of t's fields with password, keyed by
// sharedKey. It ignores t.MAC.
func (t Token) Sign(sharedKey, password string) string {
	m := hmac.New(sha256.New, []byte(sharedKey))
	m.Write([]byte(t.Mailbox + ":" + t.Nonce + ":" + t.NonceCount + ":" + password + ":" + t.Timestamp))
	return hex.EncodeToString(m.Sum(nil))
}

// String returns the Authorization header value.
func (t Token) String() string {
	return AuthScheme + " " + t.Mailbox + ":" + t.Nonce + ":" + t.NonceCount + ":" + t.Timestamp + ":" + t.MAC
}

// Time returns the token timestamp as a UTC time.
func (t Token) Time() (time.Time, error) {
	ts, err := time.ParseInLocation(TimestampLayout, t.Timestamp, time.UTC)
	if err != nil || len(t.Timestamp) != len(TimestampLayout) {
		return time.Time{}, fmt.Errorf("%w: timestamp is not yyyyMMddHHmm", ErrAuth)
	}
	return ts, nil
}

// maxAuthHeader bounds the header a server will look at.
const maxAuthHeader = 1024

// ParseAuthorization parses an Authorization header value. It checks the
// shape only (scheme, five fields, digits, timestamp format); [Token.Verify]
// checks the MAC and the clock. Errors match [ErrAuth].
func ParseAuthorization(header string) (Token, error) {
	if header == "" {
		return Token{}, fmt.Errorf("%w: no Authorization header", ErrAuth)
	}
	if len(header) > maxAuthHeader {
		return Token{}, fmt.Errorf("%w: Authorization header longer than %d bytes", ErrAuth, maxAuthHeader)
	}
	h := strings.TrimSpace(header)
	rest, ok := strings.CutPrefix(h, AuthScheme+" ")
	if !ok {
		return Token{}, fmt.Errorf("%w: scheme is not %q", ErrAuth, AuthScheme)
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 5 {
		return Token{}, fmt.Errorf("%w: token has %d fields, want 5", ErrAuth, len(parts))
	}
	t := Token{Mailbox: parts[0], Nonce: parts[1], NonceCount: parts[2], Timestamp: parts[3], MAC: parts[4]}
	switch {
	case t.Mailbox == "" || strings.ContainsFunc(t.Mailbox, isSpaceOrControl):
		return Token{}, fmt.Errorf("%w: mailbox field is empty or has spaces", ErrAuth)
	case t.Nonce == "" || strings.ContainsFunc(t.Nonce, isSpaceOrControl):
		return Token{}, fmt.Errorf("%w: nonce is empty or has spaces", ErrAuth)
	case !allDigits(t.NonceCount):
		return Token{}, fmt.Errorf("%w: nonce count is not decimal digits", ErrAuth)
	case len(t.MAC) != sha256.Size*2 || !isHex(t.MAC):
		return Token{}, fmt.Errorf("%w: MAC is not 64 hex digits", ErrAuth)
	}
	if _, err := t.Time(); err != nil {
		return Token{}, err
	}
	t.MAC = strings.ToLower(t.MAC)
	return t, nil
}

// Verify checks the token's MAC against the mailbox password and shared key
// in constant time, and, when window > 0, that its timestamp lies within
// window of now. Errors match [ErrAuth]. Checking that the mailbox matches the
// URL and that the token is not replayed is the server's job.
func (t Token) Verify(sharedKey, password string, now time.Time, window time.Duration) error {
	if window > 0 {
		ts, err := t.Time()
		if err != nil {
			return err
		}
		d := now.UTC().Sub(ts)
		// The timestamp has minute precision: allow the rest of its minute.
		if d < -window || d > window+time.Minute {
			return fmt.Errorf("%w: timestamp outside the %v window", ErrAuth, window)
		}
	}
	want := t.Sign(sharedKey, password)
	if !hmac.Equal([]byte(strings.ToLower(t.MAC)), []byte(want)) {
		return fmt.Errorf("%w: MAC does not match", ErrAuth)
	}
	return nil
}

// Signer makes a fresh token for every request: one random nonce per Signer
// and a nonce count that increases with every token, as the NHS client does.
// It is safe for concurrent use.
type Signer struct {
	mailbox, password, sharedKey string
	nonce                        string
	count                        atomic.Uint64
}

// NewSigner returns a Signer for mailbox with a random UUID nonce.
func NewSigner(mailbox, password, sharedKey string) *Signer {
	return &Signer{mailbox: mailbox, password: password, sharedKey: sharedKey, nonce: NewNonce()}
}

// Token returns the next token, stamped with now.
func (s *Signer) Token(now time.Time) Token {
	n := s.count.Add(1) - 1
	return NewToken(s.mailbox, s.password, s.sharedKey, s.nonce, n, now)
}

// NewNonce returns a random UUID (version 4), lower-case and hyphenated:
// the nonce a Signer puts in its tokens.
func NewNonce() string { return uuid.New() }

func allDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }
