// Package s3blob implements blob.Store on S3-compatible object storage
// (AWS S3, MinIO, Versity's gateway, …), so that several MESH server
// processes can share payloads.
//
// Open takes a URL:
//
//	http://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX][?region=R&create=1]
//	https://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX][?region=R&create=1]
//	s3://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX][?secure=false&region=R&create=1]
//
// create=1 makes a missing bucket; PREFIX is put before every key. OpenConfig
// takes the same settings as a Config.
//
// Bodies stream: up to 1 MiB goes in one PUT from a pooled buffer, larger
// bodies as a multipart upload holding one part (Config.PartSize, default
// 5 MiB) in memory. S3 makes an object visible only when its upload
// completes, so a failed Put leaves nothing behind. Reads are one ranged
// GET from the requested offset.
package s3blob
