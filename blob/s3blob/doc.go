// Package s3blob implements blob.Store on S3-compatible object storage, so
// that several MESH server processes can share payloads. Objects are written
// with one PUT (or a multipart upload for large bodies), which S3 makes
// visible only when complete.
package s3blob
