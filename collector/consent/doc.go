// Package consent is the behaviour of server-side consent: the signed
// consent token every beacon carries (keyring, gate), the field filter that
// strips what a visitor's consent does not cover, and the appender that
// chains consent ledger records. The types it acts on (store.Categories,
// store.ConsentRecord, store.ConsentKey, store.ConsentChange) live in store.
//
// # Tokens
//
// A token is "v1.<kid>.<payload>.<sig>": payload is the base64url (no
// padding) of a fixed 34-byte big-endian encoding of [Claims], sig the
// base64url of HMAC-SHA256 over "v1.<kid>.<payload>" under the key kid names.
// [Keyring.Verify] checks only the signature and the encoding; [Check] then
// decides whether verified claims are acceptable for a beacon (site, expiry,
// policy version), and [Gate] combines both with the withdrawal lookup.
//
// # Ledger chains
//
// Every ledger record ([store.ConsentRecord]) carries the hash of the record
// before it. ClickHouse has no transactions that could serialise appends across replicas, so there
// is no single chain per site: each collector process appends to its own
// chain per site (a random ChainID per process, Seq from 1), and
// [store.VerifyChain] walks each (site, chain) in Seq order. Retention may delete the oldest
// records of a chain; a chain that starts at Seq > 1 is verified from there.
//
// A chain stays intact only if every record handed out is also stored.
// [Chain.Append] guarantees it by holding the site's chain while the record is
// persisted; [Chain.Next] with [Chain.Rollback] is the unlocked variant (see
// Rollback for what a failed write then costs).
package consent
