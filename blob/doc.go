// Package blob stores message payloads (MESH chunk bodies) as opaque byte
// streams under string keys, behind a small interface that a local directory
// (package fileblob) or S3-compatible object storage can implement.
//
// A Put is atomic and durable: when it returns nil the whole body is stored
// and survives a crash, and a reader never sees a partly written object.
package blob
