package senddoc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/senddoc"
)

func TestInfAck(t *testing.T) {
	r := senddoc.Responder{ODSCode: "B82005", Mailbox: "B82005OT001"}
	x, _ := MustBuild(t, senddoc.UseCaseConsultation, 1)
	good, _ := senddoc.ValidateBytes(context.Background(), x, senddoc.Options{})
	bad, _ := senddoc.ValidateBytes(context.Background(), []byte(strings.Replace(string(x), `<status value="final"/>`, `<status value="preliminary"/>`, 1)), senddoc.Options{})
	unreadable, _ := senddoc.ValidateBytes(context.Background(), []byte("garbage"), senddoc.Options{})
	tests := []struct {
		name     string
		rep      senddoc.Report
		wantCode itk3.ResponseCode
		wantID   string
		wantDiag string
	}{
		{"valid message gets 20013", good, itk3.CodeSuccess, good.MessageHeaderID, ""},
		{"GPCM-SD-CS-018 invalid payload gets 20009", bad, itk3.CodePayloadValidationFailure, bad.MessageHeaderID, "GPCM-SD-CS-018"},
		{"unreadable gets 10009", unreadable, itk3.CodeUnreadableMessage, itk3.UnreadableIdentifier, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := senddoc.InfAck(tt.rep, r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := itk3.ReadResponse(m.Bundle)
			if err != nil {
				t.Fatal(err)
			}
			if got.Code != tt.wantCode || got.RespondsTo != tt.wantID || !strings.Contains(got.Diagnostics, tt.wantDiag) {
				t.Errorf("got %+v, want code %s id %s diagnostics containing %q", got, tt.wantCode, tt.wantID, tt.wantDiag)
			}
			if strings.Contains(got.Diagnostics, "9434765919") || strings.Contains(got.Diagnostics, "Smith") {
				t.Errorf("diagnostics carry patient data: %q", got.Diagnostics)
			}
		})
	}
	if _, err := senddoc.BusAck(good, itk3.CodeSuccess, "", r); err == nil {
		t.Error("BusAck accepted an InfAck code")
	}
	if m, err := senddoc.BusAck(good, itk3.CodePatientKnown, "", r); err != nil || m == nil {
		t.Errorf("BusAck 30001: %v", err)
	}
}
