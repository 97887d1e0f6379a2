package web

import (
	"net/http"
	"strings"
)

// dateArgs is what the "datefield" partial renders: the NHS date input
// pattern (day, month and year fields).
type dateArgs struct {
	ID, Legend, Hint, Error string
	Day, Month, Year        string
	// Autocomplete is "bday" for a person's own date of birth, else "".
	Autocomplete string
}

// newDateArgs splits value (YYYY-MM-DD, or what dateValue made of a
// partly filled form) into the three fields; day and month lose a leading
// zero, as people type them.
func newDateArgs(id, legend, hint, value, errMsg string) dateArgs {
	d := dateArgs{ID: id, Legend: legend, Hint: hint, Error: errMsg}
	parts := strings.SplitN(value, "-", 3)
	if len(parts) == 3 {
		d.Year, d.Month, d.Day = parts[0], strings.TrimPrefix(parts[1], "0"), strings.TrimPrefix(parts[2], "0")
	} else {
		d.Day = value
	}
	return d
}

// dateValue reads a date entered with the "datefield" partial as
// YYYY-MM-DD (to be parsed with dateLayout): day and month of one digit
// get a leading zero. A form without the three fields but with one field
// named name (an older page, a script) is taken as it is. The result is
// not checked: an impossible date fails the parse.
func dateValue(r *http.Request, name string) string {
	day := strings.TrimSpace(r.PostFormValue(name + "-day"))
	month := strings.TrimSpace(r.PostFormValue(name + "-month"))
	year := strings.TrimSpace(r.PostFormValue(name + "-year"))
	if day == "" && month == "" && year == "" {
		return strings.TrimSpace(r.PostFormValue(name))
	}
	pad := func(s string) string {
		if len(s) == 1 {
			return "0" + s
		}
		return s
	}
	return year + "-" + pad(month) + "-" + pad(day)
}
