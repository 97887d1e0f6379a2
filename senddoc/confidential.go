package senddoc

import (
	"fmt"
	"strings"
)

// ConfidentialityRestricted is the Composition.confidentiality code of a
// confidential document (GPCM-SD-CS-021); N is normal.
const ConfidentialityRestricted = "R"

// SaysWhereSeen reports whether a narrative or MESH subject still names
// where the patient was seen: the "seen at {Practice Name}" and "ODS Code
// {ODS Code}" parts (v2: "seen at [location-name], [ods-code]") that a
// confidential document leaves out (GPCM-SD-CS-023, GPCM-SD-CS-030).
func SaysWhereSeen(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "seen at ") || strings.Contains(l, "ods code ")
}

// DisplaySubject returns the MESH subject a worklist shows: as sent, or,
// for a confidential (R) document, without its "seen at …" and "ODS Code …"
// parts (GPCM-SD-CS-030; GPCM-SD-GE-014), whatever the sender put there.
// The subject names the patient: never log it.
func DisplaySubject(subject, confidentiality string) string {
	if confidentiality != ConfidentialityRestricted {
		return subject
	}
	s := subject
	if i := indexFold(s, ", seen at ", 0); i >= 0 {
		// "seen at {place}, ODS Code {code}" (v1) or "seen at {place}, {code}"
		// (v2) runs up to the version, or to the end.
		end := indexFold(s, ", version", i+1)
		if end < 0 {
			end = len(s)
		}
		s = s[:i] + s[end:]
	}
	for {
		i := indexFold(s, ", ods code ", 0)
		if i < 0 {
			break
		}
		end := strings.Index(s[i+2:], ", ")
		if end < 0 {
			s = s[:i]
		} else {
			s = s[:i] + s[i+2+end:]
		}
	}
	return s
}

// indexFold is strings.Index ignoring ASCII case, from byte from.
func indexFold(s, sub string, from int) int {
	if i := strings.Index(strings.ToLower(s[from:]), sub); i >= 0 {
		return from + i
	}
	return -1
}

// confidentialLeak says what a confidential consultation report still
// gives away in text (a narrative or subject), "" when nothing.
func confidentialLeak(what, text string) string {
	if !SaysWhereSeen(text) {
		return ""
	}
	return fmt.Sprintf("the document is confidential (Composition.confidentiality R) but its %s still says where the patient was seen (\"seen at …\" or \"ODS Code …\"); a confidential consultation report leaves both out", what)
}

// subjectRule is GPCM-SD-CS-030 as a sender can check it: the subject of a
// confidential consultation report is shown in the practice worklist, so
// it must not say where the patient was seen.
func checkConfidentialSubject(c *checker, _ *entry, r rep) {
	m := c.opts.Mesh
	if m == nil || c.confidentiality() != ConfidentialityRestricted {
		return
	}
	if msg := confidentialLeak("MESH subject", m.Subject); msg != "" {
		r.bad("MESH.Subject", "%s", msg)
	}
}

// confidentiality returns Composition.confidentiality ("" without one).
func (c *checker) confidentiality() string {
	if c.comp == nil {
		return ""
	}
	return str(c.comp.res["confidentiality"])
}

// SubjectFinding checks the MESH subject a validated message is sent with,
// as Validate does when given Options.Mesh: the subject of a confidential
// consultation report must not say where the patient was seen
// (GPCM-SD-CS-030). A sender that routes to a fixed mailbox, and so
// validates without MESH metadata, calls it on its own.
func SubjectFinding(rep Report, subject string) (Finding, bool) {
	if rep.Kind != KindSendDocument || rep.UseCase != UseCaseConsultation || rep.Confidentiality != ConfidentialityRestricted {
		return Finding{}, false
	}
	msg := confidentialLeak("MESH subject", subject)
	if msg == "" {
		return Finding{}, false
	}
	f := findingFor("GPCM-SD-CS-030", "MESH.Subject", msg)
	cite(&f, rep.Generation)
	return f, true
}
