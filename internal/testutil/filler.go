package testutil

import "io"

// Filler yields n copies of one byte without holding them: a large body
// for size and decompression tests.
func Filler(b byte, n int64) io.Reader { return &filler{b: b, left: n} }

type filler struct {
	b    byte
	left int64
}

func (f *filler) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), f.left))
	for i := range p[:n] {
		p[i] = f.b
	}
	f.left -= int64(n)
	return n, nil
}
