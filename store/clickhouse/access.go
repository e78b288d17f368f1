package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/footfall/footfall/store"
)

// Users, tokens and sessions live in ReplacingMergeTree tables read with
// FINAL (see migrations/004_access.sql): a change is a newer row of the
// same id, and a deletion a row whose version is above every ordinary
// version, so that no update racing it can bring the row back. Deleted rows
// are filtered in Go, after FINAL's merge.

var (
	qAuthUserInsert           = mustQuery("auth_user_insert")
	qAuthUserByEmail          = mustQuery("auth_user_by_email")
	qAuthUserByID             = mustQuery("auth_user_by_id")
	qAuthUsers                = mustQuery("auth_users")
	qAuthTokenInsert          = mustQuery("auth_token_insert")
	qAuthTokenByID            = mustQuery("auth_token_by_id")
	qAuthTokens               = mustQuery("auth_tokens")
	qAuthTokenUseInsert       = mustQuery("auth_token_use_insert")
	qAuthTokenLastUse         = mustQuery("auth_token_last_use")
	qAuthTokenLastUses        = mustQuery("auth_token_last_uses")
	qAuthSessionInsert        = mustQuery("auth_session_insert")
	qAuthSessionByID          = mustQuery("auth_session_by_id")
	qAuthSessionsDeleteBefore = mustQuery("auth_sessions_delete_before")
	qAuthTOTPInsert           = mustQuery("auth_totp_insert")
	qAuthTOTPByUser           = mustQuery("auth_totp_by_user")
)

// accessVersion orders the ordinary versions of a row: nanoseconds now.
func accessVersion() uint64 { return uint64(time.Now().UnixNano()) }

// accessTombstone is the version of a deletion: 2^63 + nanoseconds now,
// above every accessVersion until the year 2262.
func accessTombstone() uint64 { return 1<<63 + uint64(time.Now().UnixNano()) }

// epochOr stores the zero time as 1970-01-01, the smallest DateTime;
// zeroIfEpoch reads it back.
func epochOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}

func zeroIfEpoch(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// scope splits a site scope into the all_sites flag and the id list.
func scope(sites []uint32) (uint8, []uint32) {
	if sites == nil {
		return 1, []uint32{}
	}
	return 0, sites
}

func unscope(all uint8, sites []uint32) []uint32 {
	if all != 0 {
		return nil // every site
	}
	if sites == nil {
		return []uint32{}
	}
	return sites
}

// insertOne writes one row as a one-row batch: an INSERT … VALUES sent with
// Exec hangs on 18.16.
func (s *Store) insertOne(ctx context.Context, query string, values ...any) error {
	batch, err := s.conn.PrepareBatch(ctx, query)
	if err != nil {
		return err
	}
	defer batch.Close()
	if err := batch.Append(values...); err != nil {
		return err
	}
	return batch.Send()
}

// AddUser stores a new user, or returns store.ErrUserExists when the e-mail
// address is taken. The check and the insert are not atomic, so users are
// added by one admin process (as sites are).
func (s *Store) AddUser(ctx context.Context, u store.User) error {
	if _, err := s.UserByEmail(ctx, u.Email); err == nil {
		return fmt.Errorf("add user: %w", store.ErrUserExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("add user: %w", err)
	}
	if err := s.putUser(ctx, u, false, accessVersion()); err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	return nil
}

func (s *Store) putUser(ctx context.Context, u store.User, deleted bool, version uint64) error {
	all, sites := scope(u.Sites)
	return s.insertOne(ctx, qAuthUserInsert, u.ID, u.Email, u.PasswordHash, u.Role, u.Partner,
		all, sites, u.CreatedAt.UTC(), boolUInt8(deleted), version)
}

// UserByEmail returns the user with that (lower-case) address, or
// store.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	rows, err := s.conn.Query(ctx, qAuthUserByEmail, email)
	if err != nil {
		return store.User{}, fmt.Errorf("user by e-mail: %w", err)
	}
	users, err := scanUsers(rows)
	if err != nil {
		return store.User{}, fmt.Errorf("user by e-mail: %w", err)
	}
	if len(users) == 0 {
		return store.User{}, fmt.Errorf("user by e-mail: %w", store.ErrNotFound)
	}
	return users[0], nil
}

// UserByID returns the user with that id, or store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	rows, err := s.conn.Query(ctx, qAuthUserByID, id)
	if err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	users, err := scanUsers(rows)
	if err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	if len(users) == 0 {
		return store.User{}, fmt.Errorf("user %s: %w", id, store.ErrNotFound)
	}
	return users[0], nil
}

// Users lists every user by e-mail address.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.conn.Query(ctx, qAuthUsers)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := scanUsers(rows)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// DeleteUser removes a user, or returns store.ErrNotFound. The user's
// sessions stay in the table but no longer authenticate anyone: a session
// is only good while its user exists.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if err := s.putUser(ctx, u, true, accessTombstone()); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// scanUsers reads the rows of the auth_users queries, leaving out deleted
// users.
func scanUsers(rows driver.Rows) ([]store.User, error) {
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var (
			u            store.User
			all, deleted uint8
			sites        []uint32
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Partner, &all, &sites, &u.CreatedAt, &deleted); err != nil {
			return nil, err
		}
		if deleted != 0 {
			continue
		}
		u.Sites = unscope(all, sites)
		u.CreatedAt = u.CreatedAt.UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// AddToken stores a new API token.
func (s *Store) AddToken(ctx context.Context, t store.Token) error {
	if err := s.putToken(ctx, t, accessVersion()); err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	return nil
}

func (s *Store) putToken(ctx context.Context, t store.Token, version uint64) error {
	all, sites := scope(t.Sites)
	return s.insertOne(ctx, qAuthTokenInsert, t.ID, t.SecretHash, t.Name, t.Role, t.Partner,
		all, sites, t.CreatedAt.UTC(), boolUInt8(t.Revoked()), epochOr(t.RevokedAt), version)
}

// TokenByID returns a token, revoked or not, or store.ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, id string) (store.Token, error) {
	rows, err := s.conn.Query(ctx, qAuthTokenByID, id)
	if err != nil {
		return store.Token{}, fmt.Errorf("token %s: %w", id, err)
	}
	tokens, err := scanTokens(rows)
	if err != nil {
		return store.Token{}, fmt.Errorf("token %s: %w", id, err)
	}
	if len(tokens) == 0 {
		return store.Token{}, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	t := tokens[0]
	var used time.Time
	if err := s.conn.QueryRow(ctx, qAuthTokenLastUse, id).Scan(&used); err != nil {
		return store.Token{}, fmt.Errorf("token %s: last use: %w", id, err)
	}
	t.LastUsed = zeroIfEpoch(used)
	return t, nil
}

// Tokens lists every token, revoked ones too, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.conn.Query(ctx, qAuthTokens)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	tokens, err := scanTokens(rows)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	rows, err = s.conn.Query(ctx, qAuthTokenLastUses)
	if err != nil {
		return nil, fmt.Errorf("list tokens: last uses: %w", err)
	}
	defer rows.Close()
	used := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("list tokens: last uses: %w", err)
		}
		used[id] = zeroIfEpoch(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: last uses: %w", err)
	}
	for i := range tokens {
		tokens[i].LastUsed = used[tokens[i].ID]
	}
	return tokens, nil
}

func scanTokens(rows driver.Rows) ([]store.Token, error) {
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		var (
			t            store.Token
			all, revoked uint8
			sites        []uint32
			revokedAt    time.Time
		)
		if err := rows.Scan(&t.ID, &t.SecretHash, &t.Name, &t.Role, &t.Partner, &all, &sites, &t.CreatedAt, &revoked, &revokedAt); err != nil {
			return nil, err
		}
		t.Sites = unscope(all, sites)
		t.CreatedAt = t.CreatedAt.UTC()
		if revoked != 0 {
			t.RevokedAt = revokedAt.UTC()
			if t.RevokedAt.Unix() <= 0 {
				t.RevokedAt = time.Unix(1, 0).UTC() // revoked at an unknown time is still revoked
			}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token at at, or returns store.ErrNotFound. Revoking
// a revoked token keeps the first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	t, err := s.TokenByID(ctx, id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if t.Revoked() {
		return nil
	}
	t.RevokedAt = at.UTC()
	if err := s.putToken(ctx, t, accessTombstone()); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// TouchToken records that a token was used at at. Readers take the latest
// use, so the last use only moves forward.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if err := s.insertOne(ctx, qAuthTokenUseInsert, id, at.UTC()); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// AddSession stores a new session.
func (s *Store) AddSession(ctx context.Context, sess store.Session) error {
	if err := s.putSession(ctx, sess, false, accessVersion()); err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	return nil
}

func (s *Store) putSession(ctx context.Context, sess store.Session, deleted bool, version uint64) error {
	return s.insertOne(ctx, qAuthSessionInsert, sess.ID, sess.UserID, sess.CreatedAt.UTC(), sess.ExpiresAt.UTC(), boolUInt8(deleted), version)
}

// SessionByID returns a session, expired or not, or store.ErrNotFound when
// there is none (or it was deleted).
func (s *Store) SessionByID(ctx context.Context, id string) (store.Session, error) {
	rows, err := s.conn.Query(ctx, qAuthSessionByID, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sess store.Session
		var deleted uint8
		if err := rows.Scan(&sess.ID, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt, &deleted); err != nil {
			return store.Session{}, fmt.Errorf("session: %w", err)
		}
		if deleted != 0 {
			continue
		}
		sess.CreatedAt, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()
		return sess, nil
	}
	if err := rows.Err(); err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
}

// ExtendSession moves a session's expiry forward to expires. It never moves
// it back and never brings back a deleted session.
func (s *Store) ExtendSession(ctx context.Context, id string, expires time.Time) error {
	sess, err := s.SessionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	if !expires.After(sess.ExpiresAt) {
		return nil
	}
	sess.ExpiresAt = expires
	if err := s.putSession(ctx, sess, false, accessVersion()); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// DeleteSession ends a session; deleting a missing session is no error. The
// deletion copies the session's created_at, so DeleteSessionsBefore removes
// it together with the versions it hides.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	sess, err := s.SessionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if err := s.putSession(ctx, sess, true, accessTombstone()); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore deletes every session created before t. The deletion
// is a mutation ClickHouse applies in the background; it is not waited for.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) error {
	if err := s.alter(ctx, qAuthSessionsDeleteBefore, t.Unix()); err != nil {
		return fmt.Errorf("delete old sessions: %w", err)
	}
	return nil
}

// SetTOTP stores a user's second factor, replacing any earlier one.
func (s *Store) SetTOTP(ctx context.Context, t store.TOTP) error {
	if err := s.insertOne(ctx, qAuthTOTPInsert, t.UserID, t.Secret, t.CreatedAt.UTC(), uint8(0), accessVersion()); err != nil {
		return fmt.Errorf("set two-factor secret: %w", err)
	}
	return nil
}

// TOTPByUser returns a user's second factor, or store.ErrNotFound when
// they have none (or it was removed).
func (s *Store) TOTPByUser(ctx context.Context, userID string) (store.TOTP, error) {
	rows, err := s.conn.Query(ctx, qAuthTOTPByUser, userID)
	if err != nil {
		return store.TOTP{}, fmt.Errorf("two-factor secret of %s: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t store.TOTP
		var deleted uint8
		if err := rows.Scan(&t.UserID, &t.Secret, &t.CreatedAt, &deleted); err != nil {
			return store.TOTP{}, fmt.Errorf("two-factor secret of %s: %w", userID, err)
		}
		if deleted != 0 {
			continue
		}
		t.CreatedAt = t.CreatedAt.UTC()
		return t, nil
	}
	if err := rows.Err(); err != nil {
		return store.TOTP{}, fmt.Errorf("two-factor secret of %s: %w", userID, err)
	}
	return store.TOTP{}, fmt.Errorf("two-factor secret of %s: %w", userID, store.ErrNotFound)
}

// DeleteTOTP removes a user's second factor, or returns store.ErrNotFound
// when they have none. The removal is a newer row without the secret (the
// old row goes at the next merge); unlike a deleted user's, its version is
// an ordinary one, so that the user can enrol again later.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	t, err := s.TOTPByUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("delete two-factor secret: %w", err)
	}
	if err := s.insertOne(ctx, qAuthTOTPInsert, t.UserID, "", t.CreatedAt.UTC(), uint8(1), accessVersion()); err != nil {
		return fmt.Errorf("delete two-factor secret: %w", err)
	}
	return nil
}
