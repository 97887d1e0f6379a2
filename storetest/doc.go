// Package storetest holds the contract suites every store driver runs from
// its own tests (sqlitestore now, pgstore later), so that all drivers behave
// the same: RunMeshServer checks a meshserver.Store, RunSessions the
// store of web sessions (SessionStore: the methods of web.SessionStore).
package storetest
