package meshsql_test

import (
	"testing"

	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/internal/meshsql"
)

// The MESH stores keep inline what the payload store in front of their
// database would put there.
func TestInlineMaxIsTheTierThreshold(t *testing.T) {
	if meshsql.InlineMax != tier.DefaultThreshold {
		t.Fatalf("meshsql.InlineMax = %d, tier.DefaultThreshold = %d: want them equal", meshsql.InlineMax, tier.DefaultThreshold)
	}
}
