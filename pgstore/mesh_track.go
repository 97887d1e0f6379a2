package pgstore

import (
	"context"

	"github.com/gpcm/gpcm/internal/meshsql"
	"github.com/gpcm/gpcm/meshserver"
)

// Track records the token, then reads the messages with their mailboxes.
func (s *MeshStore) Track(ctx context.Context, p meshserver.TrackParams) ([]meshserver.Tracked, error) {
	if err := s.record(ctx, p.Token); err != nil {
		return nil, err
	}
	key := p.ID
	if key == "" {
		key = p.LocalID
	}
	rows, err := s.pool().Query(ctx, meshsql.Track(p.ID == ""), p.Sender, key)
	var out []meshserver.Tracked
	if err == nil {
		out, err = meshsql.Collect(rows, scanTracked)
	}
	if err != nil {
		return nil, meshsql.Err("pgstore", "track", err)
	}
	return out, nil
}
