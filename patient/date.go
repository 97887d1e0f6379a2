package patient

import (
	"errors"
	"fmt"
	"time"
)

// DateFormat names a textual form of a date.
type DateFormat int

const (
	// DateISO is YYYY-MM-DD (FHIR date, CSV registers).
	DateISO DateFormat = iota + 1
	// DateCompact is YYYYMMDD, the form to send in GPPROVIDER_ addresses.
	DateCompact
	// DateDayFirst is DDMMYYYY, the legacy GPPROVIDER_ form of the older GP
	// Connect Messaging pages.
	DateDayFirst
	// DateDisplay is dd-Mmm-yyyy (09-Jan-1957), the consultation report
	// form. It is only written, never parsed.
	DateDisplay
)

// String returns the pattern of the format.
func (f DateFormat) String() string {
	switch f {
	case DateISO:
		return "YYYY-MM-DD"
	case DateCompact:
		return "YYYYMMDD"
	case DateDayFirst:
		return "DDMMYYYY"
	case DateDisplay:
		return "dd-Mmm-yyyy"
	}
	return fmt.Sprintf("DateFormat(%d)", int(f))
}

// MinYear is the earliest year accepted for a date of birth or death. It also
// keeps YYYYMMDD and DDMMYYYY apart (see the package documentation).
const MinYear = 1800

// Date is a civil date (no time, no zone). The zero Date means "unknown".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, checking that it exists in the calendar and that
// the year is between MinYear and 9999.
func NewDate(year int, month time.Month, day int) (Date, error) {
	d := Date{year, month, day}
	if err := d.validate(); err != nil {
		return Date{}, err
	}
	return d, nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero (unknown) date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	}
	return cmpInt(d.Day, e.Day)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddMonths returns d moved by n calendar months, clamping the day to the
// end of a shorter month (31 August + 6 months = 28 or 29 February).
func (d Date) AddMonths(n int) Date {
	m := int(d.Month) - 1 + n
	y := d.Year + m/12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	day := d.Day
	if last := daysIn(y, time.Month(m+1)); day > last {
		day = last
	}
	return Date{y, time.Month(m + 1), day}
}

// String returns d as YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string { return d.Format(DateISO) }

// Format writes d in the given format; the zero date gives "".
func (d Date) Format(f DateFormat) string {
	if d.IsZero() {
		return ""
	}
	switch f {
	case DateCompact:
		return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day)
	case DateDayFirst:
		return fmt.Sprintf("%02d%02d%04d", d.Day, int(d.Month), d.Year)
	case DateDisplay:
		return fmt.Sprintf("%02d-%s-%04d", d.Day, d.Month.String()[:3], d.Year)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// ErrInvalidDate is matched by every *DateError with errors.Is.
var ErrInvalidDate = errors.New("invalid date")

// DateError says why a date could not be read. It never holds the input.
type DateError struct {
	// Reason is a plain-English explanation.
	Reason string
}

func (e *DateError) Error() string { return "invalid date: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidDate) true.
func (e *DateError) Is(target error) bool { return target == ErrInvalidDate }

// ParseDate reads a date in any of the formats DateISO, DateCompact and
// DateDayFirst, and reports which one it saw.
func ParseDate(s string) (Date, DateFormat, error) {
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		d, err := ParseDateFormat(s, DateISO)
		return d, DateISO, err
	case len(s) == 8 && allDigits(s):
		if d, err := ParseDateFormat(s, DateCompact); err == nil {
			return d, DateCompact, nil
		}
		if d, err := ParseDateFormat(s, DateDayFirst); err == nil {
			return d, DateDayFirst, nil
		}
		return Date{}, 0, &DateError{Reason: "8 digits that are neither a valid YYYYMMDD nor a valid DDMMYYYY date"}
	}
	return Date{}, 0, &DateError{Reason: "want YYYY-MM-DD, YYYYMMDD or DDMMYYYY"}
}

// ParseDateFormat reads a date in exactly the format f (DateISO,
// DateCompact or DateDayFirst).
func ParseDateFormat(s string, f DateFormat) (Date, error) {
	var ys, ms, ds string
	switch f {
	case DateISO:
		if len(s) != 10 || s[4] != '-' || s[7] != '-' {
			return Date{}, &DateError{Reason: "want YYYY-MM-DD"}
		}
		ys, ms, ds = s[0:4], s[5:7], s[8:10]
	case DateCompact:
		if len(s) != 8 {
			return Date{}, &DateError{Reason: "want YYYYMMDD"}
		}
		ys, ms, ds = s[0:4], s[4:6], s[6:8]
	case DateDayFirst:
		if len(s) != 8 {
			return Date{}, &DateError{Reason: "want DDMMYYYY"}
		}
		ds, ms, ys = s[0:2], s[2:4], s[4:8]
	default:
		return Date{}, &DateError{Reason: fmt.Sprintf("format %v cannot be parsed", f)}
	}
	if !allDigits(ys) || !allDigits(ms) || !allDigits(ds) {
		return Date{}, &DateError{Reason: "want digits in " + f.String()}
	}
	d := Date{atoi(ys), time.Month(atoi(ms)), atoi(ds)}
	if err := d.validate(); err != nil {
		return Date{}, err
	}
	return d, nil
}

func (d Date) validate() error {
	switch {
	case d.Year < MinYear || d.Year > 9999:
		return &DateError{Reason: fmt.Sprintf("year out of range (%d to 9999)", MinYear)}
	case d.Month < 1 || d.Month > 12:
		return &DateError{Reason: "month out of range (01 to 12)"}
	case d.Day < 1 || d.Day > daysIn(d.Year, d.Month):
		return &DateError{Reason: "day does not exist in that month"}
	}
	return nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
