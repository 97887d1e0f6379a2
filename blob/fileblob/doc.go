// Package fileblob implements blob.Store on a local directory: each object is
// a file written to a temporary name, fsynced, renamed into place and its
// directory fsynced, so a crash leaves either the old object or the new one.
package fileblob
