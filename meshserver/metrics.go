package meshserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

type reqKey struct {
	route string
	code  int
}

// metrics counts what /metrics exposes in the Prometheus text format.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]int64
	in, out  atomic.Int64
	authFail atomic.Int64
	expired  atomic.Int64
}

func newMetrics() *metrics { return &metrics{requests: map[reqKey]int64{}} }

func (m *metrics) request(route string, code int, _ int64) {
	if route == "" {
		route = "unmatched"
	}
	m.mu.Lock()
	m.requests[reqKey{route, code}]++
	m.mu.Unlock()
}

func (m *metrics) bytesIn(n int64)  { m.in.Add(n) }
func (m *metrics) bytesOut(n int64) { m.out.Add(n) }
func (m *metrics) authFailure()     { m.authFail.Add(1) }

func promLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	m := s.metrics
	b.WriteString("# HELP gpcm_mesh_requests_total HTTP requests served, by route and status.\n# TYPE gpcm_mesh_requests_total counter\n")
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		return a.code - b.code
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "gpcm_mesh_requests_total{route=\"%s\",code=\"%d\"} %d\n", promLabel(k.route), k.code, m.requests[k])
	}
	m.mu.Unlock()
	fmt.Fprintf(&b, "# HELP gpcm_mesh_received_bytes_total Payload bytes stored from senders.\n# TYPE gpcm_mesh_received_bytes_total counter\ngpcm_mesh_received_bytes_total %d\n", m.in.Load())
	fmt.Fprintf(&b, "# HELP gpcm_mesh_sent_bytes_total Payload bytes served to recipients.\n# TYPE gpcm_mesh_sent_bytes_total counter\ngpcm_mesh_sent_bytes_total %d\n", m.out.Load())
	fmt.Fprintf(&b, "# HELP gpcm_mesh_auth_failures_total Rejected authentication attempts.\n# TYPE gpcm_mesh_auth_failures_total counter\ngpcm_mesh_auth_failures_total %d\n", m.authFail.Load())
	fmt.Fprintf(&b, "# HELP gpcm_mesh_expired_total Messages that became undeliverable after expiry.\n# TYPE gpcm_mesh_expired_total counter\ngpcm_mesh_expired_total %d\n", m.expired.Load())
	counts, err := s.store.CountByStatus(r.Context())
	if err == nil {
		b.WriteString("# HELP gpcm_mesh_messages Messages in the store, by status.\n# TYPE gpcm_mesh_messages gauge\n")
		for _, st := range []string{StatusUploading, StatusAccepted, StatusAcknowledged, StatusUndeliverable, StatusError} {
			fmt.Fprintf(&b, "gpcm_mesh_messages{status=\"%s\"} %d\n", st, counts[st])
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
