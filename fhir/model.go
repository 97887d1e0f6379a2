package fhir

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

//go:generate go run -C internal/fhirgen . -o ../..

// Resource is any FHIR STU3 resource of this package (*Patient, *Bundle, ...).
// Bundle.entry.resource and every contained list hold Resources.
type Resource interface {
	// ResourceType returns the FHIR name of the resource, e.g. "Patient".
	ResourceType() string
}

// NewResource returns an empty resource of the named FHIR type, or nil if
// the name is not an STU3 resource.
func NewResource(resourceType string) Resource {
	if f, ok := resourceTypes[resourceType]; ok {
		return f()
	}
	return nil
}

// primitive is the shape every generated primitive type shares.
type primitive struct {
	ID        string
	Extension []*Extension
	Value     string
}

// primitiveValue is implemented by every primitive type.
type primitiveValue interface{ prim() *primitive }

func (p *primitive) empty() bool {
	return p.Value == "" && p.ID == "" && len(p.Extension) == 0
}

// primKind is how a primitive is written in JSON.
type primKind uint8

const (
	primString primKind = iota
	primBool
	primNumber
)

// choiceAlt is one alternative of a choice element value[x].
type choiceAlt struct {
	suffix string // "String", "CodeableConcept", ...
	typ    reflect.Type
}

// NewBoolean returns a boolean primitive holding b.
func NewBoolean(b bool) *Boolean { return &Boolean{Value: strconv.FormatBool(b)} }

// Bool reports whether the boolean's value is "true".
func (p *Boolean) Bool() bool { return p != nil && p.Value == "true" }

// NewInteger returns an integer primitive holding n.
func NewInteger(n int64) *Integer { return &Integer{Value: strconv.FormatInt(n, 10)} }

// Int returns the integer's value.
func (p *Integer) Int() (int64, error) { return strconv.ParseInt(p.String(), 10, 32) }

// Int returns the value.
func (p *PositiveInt) Int() (int64, error) { return strconv.ParseInt(p.String(), 10, 32) }

// Int returns the value.
func (p *UnsignedInt) Int() (int64, error) { return strconv.ParseInt(p.String(), 10, 32) }

// Float64 returns the decimal's value as the nearest float64; Value keeps
// the exact digits.
func (p *Decimal) Float64() (float64, error) { return strconv.ParseFloat(p.String(), 64) }

// DateTimeOf returns a dateTime with second precision in t's offset.
func DateTimeOf(t time.Time) *DateTime { return &DateTime{Value: t.Format(time.RFC3339)} }

// InstantOf returns an instant with the precision of t (RFC 3339, nanoseconds trimmed).
func InstantOf(t time.Time) *Instant { return &Instant{Value: t.Format(time.RFC3339Nano)} }

// Time parses the dateTime; partial dates (year, year-month, date) give the
// first instant in UTC.
func (p *DateTime) Time() (time.Time, error) { return parseFHIRTime(p.String()) }

// Time parses the instant.
func (p *Instant) Time() (time.Time, error) { return time.Parse(time.RFC3339Nano, p.String()) }

// Time parses the date (year, year-month or full date) in UTC.
func (p *Date) Time() (time.Time, error) { return parseFHIRTime(p.String()) }

func parseFHIRTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("fhir: %q is not a FHIR date or dateTime", s)
}

// checkLexical validates a primitive's value for its JSON kind, so that
// numbers and booleans can be written to JSON unquoted, and its characters.
func checkLexical(kind primKind, integer bool, v string) string {
	if msg := checkValue(kind, integer, v); msg != "" {
		return msg
	}
	if !validChars(v) {
		return "value contains a control character that XML cannot carry"
	}
	return ""
}

// checkValue is checkLexical without the check of characters, for values
// whose characters the XML scanner has checked.
func checkValue(kind primKind, integer bool, v string) string {
	switch kind {
	case primBool:
		if v != "true" && v != "false" {
			return "boolean value must be true or false"
		}
	case primNumber:
		if !validNumber(v, integer) {
			if integer {
				return "integer value is not a valid 32-bit integer"
			}
			return "decimal value is not a valid decimal"
		}
	}
	if v == "" {
		return "empty value (FHIR values must not be empty)"
	}
	return ""
}

// validChars reports whether s has no characters that XML 1.0 forbids
// (controls other than tab, newline and carriage return; U+FFFE, U+FFFF),
// so that anything read from JSON can be written as XML.
func validChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
		if c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF) {
			return false // U+FFFE or U+FFFF
		}
	}
	return true
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (no
// fraction or exponent when integer).
func validNumber(s string, integer bool) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if integer {
		if i != len(s) {
			return false
		}
		_, err := strconv.ParseInt(s, 10, 32)
		return err == nil
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// clip shortens a value quoted in an error message.
func clip(s string) string { return clipN(s, 40) }

// clipN shortens s to n bytes and marks the cut.
func clipN(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
