package meshbench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// blockSize is the period of generated payloads; each block starts with a
// stamp naming the run, the message and the block, so a chunk stored in the
// wrong place or under the wrong message does not compare equal.
const (
	blockSize = 64 << 10
	stampSize = 16
)

// Payloads generates message bodies of any size cheaply (one copy per byte)
// and checks them on the way back. The zero value is not usable; use
// NewPayloads.
type Payloads struct {
	run   uint64
	block []byte
}

// NewPayloads returns a generator whose bodies depend on seed.
func NewPayloads(seed uint64) *Payloads {
	r := rand.New(rand.NewChaCha8(seedBytes(seed)))
	b := make([]byte, blockSize)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return &Payloads{run: seed, block: b}
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	copy(s[8:], "gpcm meshbench payloads")
	return s
}

// Reader returns the body of message msg, size bytes long.
func (p *Payloads) Reader(msg uint32, size int64) io.Reader {
	return &payloadReader{p: p, msg: msg, size: size}
}

type payloadReader struct {
	p    *Payloads
	msg  uint32
	size int64
	off  int64
}

func (r *payloadReader) Read(b []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && r.off < r.size {
		in := int(r.off % blockSize)
		end := min(blockSize, in+len(b)-n, in+int(r.size-r.off))
		copy(b[n:], r.p.block[in:end])
		if in < stampSize {
			var st [stampSize]byte
			r.p.stamp(&st, r.msg, uint32(r.off/blockSize))
			copy(b[n:n+min(end, stampSize)-in], st[in:])
		}
		n += end - in
		r.off += int64(end - in)
	}
	return n, nil
}

func (p *Payloads) stamp(st *[stampSize]byte, msg, block uint32) {
	binary.LittleEndian.PutUint64(st[0:], p.run)
	binary.LittleEndian.PutUint32(st[8:], msg)
	binary.LittleEndian.PutUint32(st[12:], block)
}

// ErrMismatch is returned by Check when a body differs from the one sent.
var ErrMismatch = errors.New("meshbench: payload differs from the one sent")

// Check reads r to the end and reports whether it is exactly the body of
// message msg of the given size: nil, ErrMismatch (wrapped with the offset),
// or the read error.
func (p *Payloads) Check(r io.Reader, msg uint32, size int64) error {
	want := p.Reader(msg, size)
	// Buffers no larger than the body: a receiver checks hundreds of small
	// bodies a second, and 2 × 64 KiB each (zeroed, then collected) cost
	// the load driver more CPU than the comparison.
	n := max(min(size, 64<<10), 1)
	got := make([]byte, n)
	exp := make([]byte, n)
	var off int64
	for {
		n, err := io.ReadFull(r, got)
		if n > 0 {
			if _, werr := io.ReadFull(want, exp[:n]); werr != nil {
				return fmt.Errorf("%w: longer than %d bytes", ErrMismatch, size)
			}
			if !bytes.Equal(got[:n], exp[:n]) {
				return fmt.Errorf("%w: at byte offset %d", ErrMismatch, off+int64(firstDiff(got[:n], exp[:n])))
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != size {
		return fmt.Errorf("%w: %d bytes, want %d", ErrMismatch, off, size)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
