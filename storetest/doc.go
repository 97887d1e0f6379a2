// Package storetest holds the contract suites every store driver runs from
// its own tests (sqlitestore now, pgstore later), so that all drivers behave
// the same: RunMeshServer checks a meshserver.Store, RunSessions a
// web.SessionStore.
package storetest
