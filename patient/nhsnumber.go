package patient

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// ErrInvalidNHSNumber is matched by every *NHSNumberError with errors.Is.
var ErrInvalidNHSNumber = errors.New("invalid NHS number")

// NHSNumberErrorKind says why an NHS number was rejected.
type NHSNumberErrorKind int

const (
	// NHSNumberEmpty: nothing was given.
	NHSNumberEmpty NHSNumberErrorKind = iota + 1
	// NHSNumberNotDigits: a character other than a digit (or, for
	// ParseNHSNumber, a grouping space or hyphen in the wrong place).
	NHSNumberNotDigits
	// NHSNumberLength: not exactly ten digits.
	NHSNumberLength
	// NHSNumberCheckDigitTen: the modulus-11 calculation gives 10, which no
	// NHS number can have.
	NHSNumberCheckDigitTen
	// NHSNumberCheckDigit: the tenth digit is not the modulus-11 check digit.
	NHSNumberCheckDigit
)

// String returns a short name for the kind.
func (k NHSNumberErrorKind) String() string {
	switch k {
	case NHSNumberEmpty:
		return "empty"
	case NHSNumberNotDigits:
		return "not digits"
	case NHSNumberLength:
		return "wrong length"
	case NHSNumberCheckDigitTen:
		return "check digit 10"
	case NHSNumberCheckDigit:
		return "check digit mismatch"
	}
	return fmt.Sprintf("NHSNumberErrorKind(%d)", int(k))
}

// NHSNumberError reports why a string is not a valid NHS number. Its message
// never contains the number, so it is safe to log.
type NHSNumberError struct {
	Kind NHSNumberErrorKind
	// Position is the 1-based position of the offending character for
	// NHSNumberNotDigits, the number of digits found for NHSNumberLength,
	// and 0 otherwise.
	Position int
}

func (e *NHSNumberError) Error() string {
	switch e.Kind {
	case NHSNumberEmpty:
		return "invalid NHS number: empty; an NHS number has 10 digits"
	case NHSNumberNotDigits:
		return fmt.Sprintf("invalid NHS number: character %d is not a digit; use 10 digits, optionally grouped 3 3 4", e.Position)
	case NHSNumberLength:
		return fmt.Sprintf("invalid NHS number: %d digits, want 10", e.Position)
	case NHSNumberCheckDigitTen:
		return "invalid NHS number: the first nine digits give check value 10, which is never issued"
	case NHSNumberCheckDigit:
		return "invalid NHS number: the check digit does not match (modulus 11); check for a mistyped digit"
	}
	return "invalid NHS number"
}

// Is makes errors.Is(err, ErrInvalidNHSNumber) true.
func (e *NHSNumberError) Is(target error) bool { return target == ErrInvalidNHSNumber }

// NHSCheckDigit returns the modulus-11 check digit for the first nine digits
// of an NHS number. ok is false when first9 is not nine ASCII digits or when
// the calculation gives 10 (no valid number starts with those digits).
func NHSCheckDigit(first9 string) (digit byte, ok bool) {
	if len(first9) != 9 {
		return 0, false
	}
	sum := 0
	for i := range 9 {
		c := first9[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return '0', true
	case 10:
		return 0, false
	}
	return byte('0' + check), true
}

// ValidateNHSNumber checks that s is exactly ten ASCII digits whose last
// digit is the modulus-11 check digit. It returns nil or an *NHSNumberError.
func ValidateNHSNumber(s string) error {
	if s == "" {
		return &NHSNumberError{Kind: NHSNumberEmpty}
	}
	digits := 0
	for i, r := range s {
		if r < '0' || r > '9' {
			return &NHSNumberError{Kind: NHSNumberNotDigits, Position: i + 1}
		}
		digits++
	}
	if digits != 10 {
		return &NHSNumberError{Kind: NHSNumberLength, Position: digits}
	}
	return checkDigit(s)
}

func checkDigit(s string) error {
	want, ok := NHSCheckDigit(s[:9])
	if !ok {
		return &NHSNumberError{Kind: NHSNumberCheckDigitTen}
	}
	if s[9] != want {
		return &NHSNumberError{Kind: NHSNumberCheckDigit}
	}
	return nil
}

// ParseNHSNumber accepts an NHS number as ten digits or in the printed
// groupings "### ### ####" and "###-###-####" (surrounding white space is
// ignored) and returns the ten digits. With verifyCheckDigit false the modulus-11
// check is skipped (the official examples carry numbers that fail it); the
// shape is still enforced.
func ParseNHSNumber(s string, verifyCheckDigit bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &NHSNumberError{Kind: NHSNumberEmpty}
	}
	digits := make([]byte, 0, 10)
	var sep rune
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
			continue
		case r == ' ' || r == '-':
			// A separator is allowed only after the 3rd and 6th digit, and
			// the same one both times.
			if (len(digits) == 3 || len(digits) == 6) && (sep == 0 || sep == r) && !endsWithSep(s[:i]) {
				sep = r
				continue
			}
		}
		return "", &NHSNumberError{Kind: NHSNumberNotDigits, Position: runeIndex(s, i) + 1}
	}
	if len(digits) != 10 {
		return "", &NHSNumberError{Kind: NHSNumberLength, Position: len(digits)}
	}
	n := string(digits)
	if verifyCheckDigit {
		if err := checkDigit(n); err != nil {
			return "", err
		}
	}
	return n, nil
}

func endsWithSep(s string) bool {
	return strings.HasSuffix(s, " ") || strings.HasSuffix(s, "-")
}

func runeIndex(s string, byteIndex int) int {
	n := 0
	for i := range s {
		if i >= byteIndex {
			break
		}
		n++
	}
	return n
}

// FormatNHSNumber prints a ten-digit NHS number as "### ### ####", the form
// the consultation report and the ITK3 guidance use. Any other input is
// returned unchanged so that a display never hides what was received.
func FormatNHSNumber(s string) string {
	if len(s) != 10 {
		return s
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return s
		}
	}
	return s[:3] + " " + s[3:6] + " " + s[6:]
}

// TestNHSNumberPrefix starts every number GenerateTestNHSNumber makes: NHS
// England issues no NHS numbers in the 999 range, which test systems use.
const TestNHSNumberPrefix = "999"

// GenerateTestNHSNumber returns a random valid NHS number in the 999 test
// range, drawn from r (pass a seeded generator for reproducible tests).
func GenerateTestNHSNumber(r *rand.Rand) string {
	for {
		b := []byte(TestNHSNumberPrefix + "0000000")
		for i := len(TestNHSNumberPrefix); i < 9; i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		d, ok := NHSCheckDigit(string(b[:9]))
		if !ok {
			continue
		}
		b[9] = d
		return string(b)
	}
}
