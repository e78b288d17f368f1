package store

import "time"

// AuditEntry is one administrative action: a login, a token created or
// revoked, an export, an erasure, the configuration a server started with.
// The audit log is append-only. Actor names who acted (a user or token id,
// or "cli" for a command run on the server); it never holds a password, a
// token, a session id or an IP.
type AuditEntry struct {
	Time   time.Time
	Actor  string
	Action string // e.g. login, login_failed, token_create, token_revoke, user_add, export, erase, config
	Target string // what it acted on: a user or token id, a partner, a consent id, a site
	Detail string // a short JSON object with what else matters (counts, receipt)
}
