// Package meshbench drives load through a MESH server's HTTP API and measures
// it: concurrent senders and one receiver (send → list → download → ack),
// throughput and send→acknowledged latency percentiles, one large chunked
// message against a dd-style disk baseline, and the server's peak memory.
//
// It talks to servers only through the gpcm mesh client (or anything with the
// same methods), so the same driver measures gpcm's server and any other
// MESH implementation, alternately in one process, and reports ratios.
// StartServer runs "gpcm mesh-server" as a child process on a loopback port
// for measurements that need its process ID (peak RSS) or need to kill it.
//
// Every loop is bounded: by the message count, by the caller's context and
// by an idle timeout when messages stop arriving. Payloads are generated from
// a seed and checked byte for byte on download; nothing is logged about them.
package meshbench
