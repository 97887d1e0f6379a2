package meshserver

import (
	"net/http"
	"strings"
	"testing"
)

// Parsers of outside input must never panic and must keep their promises.

func FuzzWorkflowFilter(f *testing.F) {
	for _, s := range []string{"WF", "!WF", "WF*", "!WF*", "*WF*", "!*WF*", "*", "!*", "**", "!", "a*b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := parseWorkflowFilter(s)
		if err == nil && s != "" && (flt.Value == "" || strings.Contains(flt.Value, "*")) {
			t.Fatalf("accepted %q with value %q", s, flt.Value)
		}
	})
}

func FuzzCursor(f *testing.F) {
	f.Add("20260115103000123456_ABCDEF")
	f.Add(encodeCursor("20260115103000123456_ABCDEF"))
	f.Add("not a cursor at all, but long enough")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := decodeCursor(s)
		if err == nil && s != "" && !validID(id) {
			t.Fatalf("cursor %q gave invalid id %q", s, id)
		}
		if validID(s) {
			if got, err := decodeCursor(encodeCursor(s)); len(encodeCursor(s)) >= 24 && len(encodeCursor(s)) <= 1000 && (err != nil || got != s) {
				t.Fatalf("round trip %q: got %q, %v", s, got, err)
			}
		}
	})
}

func FuzzMexHeaders(f *testing.F) {
	f.Add("X26ABC1", "WF", "sha256:abc", "1:2")
	f.Add("https://x", "WF\x01", "md5=!", "0:0")
	f.Fuzz(func(t *testing.T, to, wf, sum, rng string) {
		h := http.Header{}
		h.Set("Mex-To", to)
		h.Set("Mex-WorkflowID", wf)
		h.Set("Mex-Content-Checksum", sum)
		_ = checkMexHeaders(h)
		n, total, err := parseChunkRange(rng)
		if err == nil && (n < 1 || n > total) {
			t.Fatalf("range %q gave %d:%d", rng, n, total)
		}
	})
}

func FuzzBirthDateAndNHSNumber(f *testing.F) {
	f.Add("19670126", "9690937286")
	f.Add("26011967", "1234567890")
	f.Fuzz(func(t *testing.T, dob, nhs string) {
		if got, ok := NormaliseBirthDate(dob); ok && len(got) != 8 {
			t.Fatalf("NormaliseBirthDate(%q) = %q", dob, got)
		}
		if ValidNHSNumber(nhs) && len(nhs) != 10 {
			t.Fatalf("ValidNHSNumber(%q) = true", nhs)
		}
	})
}

func FuzzFileConfig(f *testing.F) {
	f.Add(`{"shared_key": "TestKey", "mailboxes": [{"id": "X26ABC1", "password": "password", "ods_code": "X26"}]}`)
	f.Add(`{"mailboxes": [], "patients": [{"nhs_number": "9690937286"}]}`)
	f.Add(`{"mailboxes": [{"id": "a"}], "expiry": "-1h"}`)
	f.Fuzz(func(t *testing.T, s string) {
		fc, err := ParseFileConfig(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, mb := range fc.Mailboxes {
			if ValidateMailbox(mb.Mailbox()) != nil {
				t.Fatalf("accepted invalid mailbox %+v", mb)
			}
		}
	})
}
