package report

import (
	"strings"
	"time"
	"unicode"

	"github.com/gpcm/gpcm/patient"
)

// displayName formats a patient name as the layout asks: "SURNAME,
// Forename(s) (Title)".
func displayName(p Patient) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(clean(p.Family)))
	given := clean(strings.Join(p.Given, " "))
	if given != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(given)
	}
	if t := clean(p.Title); t != "" {
		b.WriteString(" (" + t + ")")
	}
	return b.String()
}

// displayDate formats a date as dd-Mmm-yyyy (09-Jan-1957).
func displayDate(d patient.Date) string { return d.Format(patient.DateDisplay) }

// displayDateTime formats a time as dd-Mmm-yyyy hh:mm in t's own location.
func displayDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("02-Jan-2006 15:04")
}

// displayGender turns a FHIR administrative gender code into a label.
func displayGender(g string) string {
	g = clean(g)
	switch strings.ToLower(g) {
	case "male":
		return "Male"
	case "female":
		return "Female"
	case "other":
		return "Other"
	case "unknown":
		return "Unknown"
	}
	return g
}

// displayPhone formats a UK telephone number as "area code, space, local
// number", with a space before the last four digits of a local number longer
// than six digits: 01136323200 → "0113 632 3200", 02079460000 → "020 7946
// 0000", 07700900123 → "07700 900123". An extension ("x123", "ext 123") is
// kept. Anything that is not an 11-digit UK number starting with 0 (after
// removing spaces, hyphens and brackets, and turning +44 into 0) is printed
// as given.
func displayPhone(s string) string {
	s = clean(s)
	main, ext := s, ""
	lower := asciiLower(s) // same byte offsets as s
	for _, sep := range []string{" ext.", " ext", "ext", " x", "x"} {
		if i := strings.Index(lower, sep); i > 0 {
			main, ext = s[:i], strings.TrimSpace(s[i+len(sep):])
			break
		}
	}
	var digits []byte
	for i, r := range main {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			digits = append(digits, '+')
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return s
		}
	}
	d := string(digits)
	if strings.HasPrefix(d, "+44") {
		d = "0" + d[3:]
	}
	if len(d) != 11 || d[0] != '0' {
		return s
	}
	var area int
	switch {
	case d[1] == '2':
		area = 3 // 020, 023, 024, 028, 029
	case d[1] == '1' && (d[2] == '1' || d[3] == '1'):
		area = 4 // 0113, 0121, 0161 ...
	case d[1] == '1' || d[1] == '7':
		area = 5 // 01xxx, mobiles 07xxx
	default:
		area = 4 // 03xx, 08xx, 09xx
	}
	local := d[area:]
	if len(local) > 6 {
		local = local[:len(local)-4] + " " + local[len(local)-4:]
	}
	out := d[:area] + " " + local
	if ext != "" {
		out += " x " + ext
	}
	return out
}

// clean removes control characters (keeping line breaks), turns tabs into
// spaces and trims surrounding white space.
func clean(s string) string {
	return strings.TrimSpace(cleanText(s))
}

// cleanText normalises line breaks to "\n", turns tabs into four spaces,
// drops other control characters, and replaces invalid UTF-8 and characters
// outside the Basic Multilingual Plane with U+FFFD.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\r':
			b.WriteRune('\n')
		case r == '\t':
			b.WriteString("    ")
		case r == '\u2028' || r == '\u2029':
			b.WriteRune('\n')
		case unicode.IsControl(r):
		case r > 0xFFFF:
			// The PDF writer handles the Basic Multilingual Plane only (and
			// the Go fonts have no glyphs beyond it): print a replacement
			// box rather than drop the character silently.
			b.WriteRune(unicode.ReplacementChar)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// joinNonEmpty joins the non-empty, cleaned parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = clean(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
