package receiver

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts what this receiver process did. It is written in the
// Prometheus text format by WriteMetrics.
type Metrics struct {
	received   atomic.Int64
	filed      atomic.Int64
	unmatched  atomic.Int64
	overBudget atomic.Int64

	mu       sync.Mutex
	enqueued map[int]int64
	sent     map[int]int64
	// meshFindings counts the MESH transport findings documents were
	// accepted with, by requirement.
	meshFindings map[string]int64
	buckets      []float64 // seconds
	counts       []int64
	sum          float64
	n            int64
}

func newMetrics() *Metrics {
	b := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	return &Metrics{enqueued: map[int]int64{}, sent: map[int]int64{}, meshFindings: map[string]int64{}, buckets: b, counts: make([]int64, len(b))}
}

func (m *Metrics) ackEnqueued(code int) {
	m.mu.Lock()
	m.enqueued[code]++
	m.mu.Unlock()
}

func (m *Metrics) ackSent(code int) {
	m.mu.Lock()
	m.sent[code]++
	m.mu.Unlock()
}

func (m *Metrics) meshFinding(requirement string) {
	m.mu.Lock()
	m.meshFindings[requirement]++
	m.mu.Unlock()
}

func (m *Metrics) observeLatency(d time.Duration) {
	s := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, b := range m.buckets {
		if s <= b {
			m.counts[i]++
		}
	}
	m.sum += s
	m.n++
}

// WriteMetrics writes the process counters and the store's gauges.
func (r *Receiver) WriteMetrics(ctx context.Context, w io.Writer) error {
	m := r.metrics
	fmt.Fprintf(w, "# HELP gpcm_receiver_messages_received_total Messages collected from MESH and stored.\n# TYPE gpcm_receiver_messages_received_total counter\ngpcm_receiver_messages_received_total %d\n", m.received.Load())
	fmt.Fprintf(w, "# HELP gpcm_receiver_documents_filed_total Documents filed by a person.\n# TYPE gpcm_receiver_documents_filed_total counter\ngpcm_receiver_documents_filed_total %d\n", m.filed.Load())
	fmt.Fprintf(w, "# HELP gpcm_receiver_messages_over_budget_total Messages answered 10009 because reading them took longer than the processing budget.\n# TYPE gpcm_receiver_messages_over_budget_total counter\ngpcm_receiver_messages_over_budget_total %d\n", m.overBudget.Load())
	fmt.Fprintf(w, "# HELP gpcm_receiver_documents_unmatched_total Documents whose patient was not matched (not known, left or held).\n# TYPE gpcm_receiver_documents_unmatched_total counter\ngpcm_receiver_documents_unmatched_total %d\n", m.unmatched.Load())
	m.mu.Lock()
	fmt.Fprint(w, "# HELP gpcm_receiver_acks_enqueued_total ITK3 responses enqueued, by response code.\n# TYPE gpcm_receiver_acks_enqueued_total counter\n")
	for _, c := range slices.Sorted(maps.Keys(m.enqueued)) {
		fmt.Fprintf(w, "gpcm_receiver_acks_enqueued_total{code=\"%d\"} %d\n", c, m.enqueued[c])
	}
	fmt.Fprint(w, "# HELP gpcm_receiver_acks_sent_total ITK3 responses accepted by MESH, by response code.\n# TYPE gpcm_receiver_acks_sent_total counter\n")
	for _, c := range slices.Sorted(maps.Keys(m.sent)) {
		fmt.Fprintf(w, "gpcm_receiver_acks_sent_total{code=\"%d\"} %d\n", c, m.sent[c])
	}
	fmt.Fprint(w, "# HELP gpcm_receiver_mesh_findings_total MESH transport metadata deviations documents were accepted with (never rejected for), by requirement.\n# TYPE gpcm_receiver_mesh_findings_total counter\n")
	for _, req := range slices.Sorted(maps.Keys(m.meshFindings)) {
		fmt.Fprintf(w, "gpcm_receiver_mesh_findings_total{requirement=%q} %d\n", req, m.meshFindings[req])
	}
	fmt.Fprint(w, "# HELP gpcm_receiver_processing_seconds Time from claiming a message to recording its outcome.\n# TYPE gpcm_receiver_processing_seconds histogram\n")
	for i, b := range m.buckets {
		fmt.Fprintf(w, "gpcm_receiver_processing_seconds_bucket{le=\"%g\"} %d\n", b, m.counts[i])
	}
	fmt.Fprintf(w, "gpcm_receiver_processing_seconds_bucket{le=\"+Inf\"} %d\ngpcm_receiver_processing_seconds_sum %g\ngpcm_receiver_processing_seconds_count %d\n", m.n, m.sum, m.n)
	m.mu.Unlock()
	docs, err := r.cfg.Store.CountDocuments(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(w, "# HELP gpcm_receiver_documents Documents in the worklist by state.\n# TYPE gpcm_receiver_documents gauge\n")
	for _, s := range []DocumentState{DocAwaitingFiling, DocFiled, DocHeld, DocNotFiled, DocRejected, DocReplaced, DocVoid} {
		fmt.Fprintf(w, "gpcm_receiver_documents{state=%q} %d\n", s, docs[s])
	}
	_, pending, err := r.cfg.Store.CountAcks(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "# HELP gpcm_receiver_acks_pending Acknowledgements waiting in the outbox.\n# TYPE gpcm_receiver_acks_pending gauge\ngpcm_receiver_acks_pending %d\n", pending)
	return err
}
