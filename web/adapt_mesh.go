package web

import (
	"context"

	"github.com/gpcm/gpcm/meshserver"
)

// A meshserver.Store is the MESH admin page's back end as it is: the wiring
// passes the MESH server's store as Config.Mesh.
var _ MeshAdmin = meshserver.Store(nil)

// authFailureSource is what MeshAuthFailures needs of the MESH server.
type authFailureSource interface {
	RecentAuthFailures(ctx context.Context, limit int) ([]meshserver.AuthFailure, error)
}

var _ authFailureSource = (*meshserver.Server)(nil)

// MeshAuthFailures shows the MESH server's recent authentication failures on
// the MESH admin page (Config.AuthFailures).
func MeshAuthFailures(src authFailureSource) AuthFailureLog { return meshAuthFailures{src} }

type meshAuthFailures struct{ src authFailureSource }

func (m meshAuthFailures) RecentAuthFailures(ctx context.Context, limit int) ([]AuthFailure, error) {
	fs, err := m.src.RecentAuthFailures(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]AuthFailure, len(fs))
	for i, f := range fs {
		out[i] = AuthFailure{At: f.At, Mailbox: f.Mailbox, Reason: f.Reason, RemoteAddr: f.RemoteAddr}
	}
	return out, nil
}
