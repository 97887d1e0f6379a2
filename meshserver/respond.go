package meshserver

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gpcm/gpcm/mesh"
)

// Every response the server writes goes through writeBody or writeEmpty
// (and download, which streams). The headers net/http itself writes or
// inspects — Content-Type, Content-Length, Content-Encoding — are set under
// their canonical names: net/http looks only for those keys, so a
// lower-case "content-length" in the header map went out beside its own
// Content-Length (and a sniffed Content-Type), a response that Node's
// parser, many proxies and every HTTP/2 client refuse. The mex-* names stay
// lower-case, as live MESH writes them; net/http adds none of its own.

// jsonType is the media type of a JSON body for API version v: the v2
// media type for v2, application/json for v1.
func jsonType(v int) string {
	if v >= 2 {
		return mesh.MediaTypeV2
	}
	return mesh.MediaTypeJSON
}

// writeBody writes status with body b of media type ct.
func writeBody(w http.ResponseWriter, status int, ct string, b []byte) {
	h := w.Header()
	h.Set(mesh.HeaderContentType, ct)
	h.Set(mesh.HeaderContentLength, strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSON writes body as JSON in the media type of API version v.
func writeJSON(w http.ResponseWriter, v, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{}`)
	}
	writeBody(w, status, jsonType(v), b)
}

// writeEmpty writes status with no body and so no Content-Type: an empty
// body is not JSON (the v2 handshake and acknowledgement answer so). For a
// status that may carry a body net/http adds "Content-Length: 0".
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Del(mesh.HeaderContentType)
	w.WriteHeader(status)
}
