package itk3_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

func TestCodes(t *testing.T) {
	codes := itk3.Codes()
	if len(codes) != 24+25 {
		t.Fatalf("got %d codes, want 49 (24 InfAck, 25 BusAck)", len(codes))
	}
	for _, tc := range []struct {
		code     itk3.ResponseCode
		class    itk3.Class
		positive bool
		rt       string
	}{
		{10001, itk3.ClassInfAck, false, "fatal-error"},
		{20013, itk3.ClassInfAck, true, "ok"},
		{20015, itk3.ClassInfAck, false, "fatal-error"},
		{30001, itk3.ClassBusAck, true, "ok"},
		{30003, itk3.ClassBusAck, false, "fatal-error"},
		{30004, itk3.ClassBusAck, true, "ok"},
		{30018, itk3.ClassBusAck, false, "fatal-error"},
	} {
		if tc.code.Class() != tc.class || tc.code.Positive() != tc.positive || tc.code.ResponseType() != tc.rt || tc.code.Display() == "" {
			t.Errorf("%s: got class %s positive %v type %s, want %s %v %s", tc.code, tc.code.Class(), tc.code.Positive(), tc.code.ResponseType(), tc.class, tc.positive, tc.rt)
		}
	}
	if _, err := itk3.ParseResponseCode("10006"); err == nil {
		t.Error("10006 does not exist but parsed")
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, code := range itk3.Codes() {
		for _, orig := range []string{"ea7221b8-3a17-4d2e-8a8c-6c5d5b7f9e01", ""} {
			m, err := itk3.NewResponse(itk3.ResponseParams{Code: code, OriginalHeaderID: orig, SenderReference: "enc-1",
				ResponderODS: "B82005", ResponderMailbox: "B82005OT001", Now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := fhir.EncodeXML(&buf, m.Bundle, nil); err != nil {
				t.Fatal(err)
			}
			res, _, err := fhir.DecodeXML(&buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := itk3.ReadResponse(res.(*fhir.Bundle))
			if err != nil {
				t.Fatal(err)
			}
			want := orig
			if want == "" {
				want = itk3.UnreadableIdentifier
			}
			if r.Code != code || r.RespondsTo != want || r.SenderReference != "enc-1" || r.ResponseType != code.ResponseType() {
				t.Errorf("%s: got %+v", code, r)
			}
			h, ok := itk3.ReadHandling(m.Header)
			if !ok || h.InfAckRequested || h.BusAckRequested {
				t.Errorf("%s: a response must not request acknowledgements: %+v", code, h)
			}
		}
	}
}

func TestNewResponseUnknownCode(t *testing.T) {
	if _, err := itk3.NewResponse(itk3.ResponseParams{Code: 12345, ResponderODS: "X", ResponderMailbox: "Y"}); err == nil {
		t.Fatal("got nil error for an unknown code")
	}
}
