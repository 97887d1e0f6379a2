// Package authlimit slows down password and token guessing without letting
// anyone lock an account: it counts failed authentications by account, by
// client address, and by the two together, and answers each new attempt
// with how long the caller must wait first.
//
// # Policy
//
// Each of the three dimensions has a Policy: Free failures are allowed
// without delay, then each further failure doubles the wait before the next
// attempt, from Base up to Max. The delay runs from the latest failure, so
// a person who mistyped waits seconds, while a guesser is held to one try
// per Max. Nothing is ever refused for longer than Max.
//
//   - Pair (one account from one address) catches a single guesser at one
//     account; a success resets it.
//   - Address (one address, any account) catches spraying one password
//     across many accounts.
//   - Account (one account, any address) catches guessing one account
//     from many addresses. Each address contributes at most Pair.Free
//     failures to it, so one address on its own can never delay an account
//     for the others.
//
// # Memory
//
// Keys are hashed (SHA-256 with a per-limiter random salt, 16 bytes kept),
// so a 20 MiB user name costs as much as a short one and no name is kept in
// memory. Each dimension's table holds at most Config.Size keys; when full it
// evicts the least recently failed key that is not being delayed (a delayed
// key met on the way goes back to the front, a few at most), else the
// oldest. New keys are always tracked, so
// filling the table cannot switch throttling off. A key with no failure for
// Config.Forget is dropped.
//
// A Limiter is safe for concurrent use. It keeps no goroutine: expired keys
// are dropped as they are met and by eviction.
package authlimit
