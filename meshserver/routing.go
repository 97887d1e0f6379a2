package meshserver

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
)

// routeFailure is why a GPPROVIDER address could not be resolved; it
// becomes an EPL REPORT to the sender, never a synchronous error.
type routeFailure struct{ code, desc string }

var (
	eplManyMailboxes = &routeFailure{"EPL-150", "Multiple mailboxes matches"}
	eplNoMailbox     = &routeFailure{"EPL-151", "No mailbox matched"}
	eplInvalidNHS    = &routeFailure{"EPL-152", "Invalid NHS Number"}
	eplNotFound      = &routeFailure{"EPL-153", "NHS Number not found"}
	eplDemographics  = &routeFailure{"EPL-154", "NHS Number supplied does not match the demographics"}
)

// ValidNHSNumber reports whether s is ten digits with a correct modulus-11
// check digit.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	sum := 0
	for i := range 9 {
		sum += int(s[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(s[9]-'0')
}

// NormaliseBirthDate accepts YYYYMMDD or DDMMYYYY and returns YYYYMMDD.
// YYYYMMDD wins when both readings are valid dates.
func NormaliseBirthDate(s string) (string, bool) {
	if len(s) != 8 || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	if t, err := time.Parse("20060102", s); err == nil && t.Year() >= 1850 {
		return s, true
	}
	if t, err := time.Parse("02012006", s); err == nil {
		return t.Format("20060102"), true
	}
	return "", false
}

// routeGPProvider resolves GPPROVIDER_{nhs}_{dob}_{surname} to one mailbox
// of the patient's registered practice that receives wf. A failure is
// returned as a routeFailure (to report), an error only when the store fails.
func (s *Server) routeGPProvider(r *http.Request, to, wf string) (string, *routeFailure, error) {
	rest := to[len("GPPROVIDER_"):]
	parts := strings.SplitN(rest, "_", 3)
	if len(parts) != 3 || !ValidNHSNumber(parts[0]) {
		return "", eplInvalidNHS, nil
	}
	p, err := s.store.GetPatient(r.Context(), parts[0])
	if errors.Is(err, ErrNotFound) {
		return "", eplNotFound, nil
	}
	if err != nil {
		return "", nil, err
	}
	dob, ok := NormaliseBirthDate(parts[1])
	// Senders fold the surname to ASCII for the header ("Müller" travels as
	// Muller); the register keeps it as recorded: compare both folded.
	if !ok || dob != p.BirthDate || !patient.SameAddressSurname(p.Surname, strings.ReplaceAll(parts[2], "_", " ")) {
		return "", eplDemographics, nil
	}
	mbs, err := s.store.ListMailboxes(r.Context(), p.PracticeODS)
	if err != nil {
		return "", nil, err
	}
	var match []Mailbox
	for _, mb := range mbs {
		if mb.Active && allowsWorkflow(mb, wf) {
			match = append(match, mb)
		}
	}
	switch len(match) {
	case 0:
		return "", eplNoMailbox, nil
	case 1:
		return match[0].ID, nil, nil
	}
	return "", eplManyMailboxes, nil
}
