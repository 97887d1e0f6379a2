// Package uuid makes the random UUIDs gpcm writes: MESH nonces, ITK3 bundle,
// header and resource ids, and outbox transmission ids. It imports only the
// standard library.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random UUID (RFC 9562 version 4, variant 10) in the
// lower-case hyphenated form, e.g. "1c6e2ffb-0c9a-4b4e-9a4f-7d1a2f3e4b5c".
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}
