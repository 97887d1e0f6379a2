package docview_test

import (
	"testing"

	"github.com/gpcm/gpcm/docview"
)

func TestFlagged(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want bool
	}{
		{docview.FlagHigh, true}, {docview.FlagLow, true}, {docview.FlagAbnormal, true},
		{docview.FlagNormal, false}, {"", false}, {"High", false},
	} {
		if got := docview.Flagged(tc.flag); got != tc.want {
			t.Errorf("Flagged(%q) = %v, want %v", tc.flag, got, tc.want)
		}
	}
}
