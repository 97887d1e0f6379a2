package web

import "github.com/gpcm/gpcm/meshserver"

// A meshserver.Store is the MESH admin page's back end as it is: the wiring
// passes the MESH server's store as Config.Mesh.
var _ MeshAdmin = meshserver.Store(nil)
