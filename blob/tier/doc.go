// Package tier stores each object in one of two blob stores by size: bodies
// up to a threshold go to a small-object store (in gpcm, the service's own
// metadata database, so a small Put costs one row in a group commit instead
// of creating, syncing and renaming a file), larger ones stream to a
// large-object store (files or S3).
//
// A Store is itself a blob.Store. Put reads at most threshold+1 bytes into
// memory to decide; a larger body is streamed to the large store behind the
// bytes already read, never buffered whole. Open and Size look in the small
// store first, then in the large one; Delete and DeletePrefix act on both.
//
// Both stores must honour the blob.Store durability contract (durable when
// Put returns nil); the tier adds no guarantee of its own beyond choosing.
// A small object that replaces a large one under the same key shadows it
// (reads find the small one first) until Delete removes both copies; a
// large object that replaces a small one deletes the small copy before Put
// returns.
package tier
