package updaterecord_test

import (
	"testing"

	"github.com/gpcm/gpcm/updaterecord"
)

func TestRecognise(t *testing.T) {
	tests := []struct {
		workflow, event string
		want            bool
	}{
		{"GPCONNECT_UPDATE_RECORD", "ITK014M", true},
		{"GPCONNECT_UPDATE_RECORD_ACK", "ITK008M", true},
		{"", "ITK014M", true},
		{"", "ITK007C", false},
		{"", "ITK008M", false},
		{"GPCONNECT_SEND_DOCUMENT", "ITK014M", false}, // Send Document 2.0.1's mistaken event
		{"GPFED_CONSULT_REPORT", "ITK007C", false},
	}
	for _, tt := range tests {
		if got := updaterecord.Recognise(tt.workflow, tt.event); got != tt.want {
			t.Errorf("Recognise(%q, %q) = %v, want %v", tt.workflow, tt.event, got, tt.want)
		}
	}
}
