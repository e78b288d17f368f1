package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/footfall/footfall/store"
)

// AddUser stores a new user, or returns store.ErrUserExists when the e-mail
// address is taken.
func (s *Store) AddUser(ctx context.Context, u store.User) error {
	all, sites := encodeSites(u.Sites)
	_, err := s.db.ExecContext(ctx, s.query("auth_user_insert"),
		u.ID, u.Email, u.PasswordHash, u.Role, u.Partner, all, sites, u.CreatedAt.Unix())
	if err != nil {
		var se *sqlite3.Error
		if errors.As(err, &se) && se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(err.Error(), "auth_users.email") {
			return fmt.Errorf("add user: %w", store.ErrUserExists)
		}
		return fmt.Errorf("add user: %w", err)
	}
	return nil
}

// UserByEmail returns the user with that (lower-case) address, or
// store.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.query("auth_user_by_email"), email))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("user by e-mail: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("user by e-mail: %w", err)
	}
	return u, nil
}

// UserByID returns the user with that id, or store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.query("auth_user_by_id"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("user %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// Users lists every user by e-mail address.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, s.query("auth_users"))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// DeleteUser removes a user, their second factor, and ends their sessions, or returns
// store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.query("auth_user_delete"), id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete user: %w", err)
	} else if n == 0 {
		return fmt.Errorf("delete user %s: %w", id, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.query("auth_sessions_delete_by_user"), id); err != nil {
		return fmt.Errorf("delete user: sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.query("auth_totp_delete"), id); err != nil {
		return fmt.Errorf("delete user: two-factor secret: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var all int64
	var sites string
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Partner, &all, &sites, &created); err != nil {
		return store.User{}, err
	}
	var err error
	if u.Sites, err = decodeSites(all, sites); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = time.Unix(created, 0).UTC()
	return u, nil
}

// AddToken stores a new API token.
func (s *Store) AddToken(ctx context.Context, t store.Token) error {
	all, sites := encodeSites(t.Sites)
	if _, err := s.db.ExecContext(ctx, s.query("auth_token_insert"),
		t.ID, t.SecretHash, t.Name, t.Role, t.Partner, all, sites, t.CreatedAt.Unix()); err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	return nil
}

// TokenByID returns a token, revoked or not, or store.ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.query("auth_token_by_id"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("token %s: %w", id, err)
	}
	return t, nil
}

// Tokens lists every token, revoked ones too, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, s.query("auth_tokens"))
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token at at, or returns store.ErrNotFound. Revoking
// a revoked token keeps the first revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.query("auth_token_revoke"), max(at.Unix(), 1), id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n == 0 {
		// Already revoked, or no such token.
		if _, err := s.TokenByID(ctx, id); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
	}
	return nil
}

// TouchToken records that a token was used at at; the last use only moves
// forward.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.query("auth_token_touch"), at.Unix(), id, at.Unix()); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

func scanToken(row scanner) (store.Token, error) {
	var t store.Token
	var all, created, used, revoked int64
	var sites string
	if err := row.Scan(&t.ID, &t.SecretHash, &t.Name, &t.Role, &t.Partner, &all, &sites, &created, &used, &revoked); err != nil {
		return store.Token{}, err
	}
	var err error
	if t.Sites, err = decodeSites(all, sites); err != nil {
		return store.Token{}, err
	}
	t.CreatedAt = time.Unix(created, 0).UTC()
	t.LastUsed = unixOrZero(used)
	t.RevokedAt = unixOrZero(revoked)
	return t, nil
}

// AddSession stores a new session.
func (s *Store) AddSession(ctx context.Context, sess store.Session) error {
	if _, err := s.db.ExecContext(ctx, s.query("auth_session_insert"),
		sess.ID, sess.UserID, sess.CreatedAt.Unix(), sess.ExpiresAt.Unix()); err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	return nil
}

// SessionByID returns a session, expired or not, or store.ErrNotFound when
// there is none (or it was deleted).
func (s *Store) SessionByID(ctx context.Context, id string) (store.Session, error) {
	var sess store.Session
	var created, expires int64
	err := s.db.QueryRowContext(ctx, s.query("auth_session_by_id"), id).Scan(&sess.ID, &sess.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	sess.CreatedAt = time.Unix(created, 0).UTC()
	sess.ExpiresAt = time.Unix(expires, 0).UTC()
	return sess, nil
}

// ExtendSession moves a session's expiry forward to expires. It never moves
// it back and never brings back a deleted session.
func (s *Store) ExtendSession(ctx context.Context, id string, expires time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.query("auth_session_extend"), expires.Unix(), id, expires.Unix()); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// DeleteSession ends a session; deleting a missing session is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.query("auth_session_delete"), id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore deletes every session created before t.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.query("auth_sessions_delete_before"), t.Unix()); err != nil {
		return fmt.Errorf("delete old sessions: %w", err)
	}
	return nil
}

// encodeSites stores a site scope as all_sites and a comma-separated list.
func encodeSites(sites []uint32) (all int64, list string) {
	if sites == nil {
		return 1, ""
	}
	parts := make([]string, len(sites))
	for i, id := range sites {
		parts[i] = strconv.FormatUint(uint64(id), 10)
	}
	return 0, strings.Join(parts, ",")
}

func decodeSites(all int64, list string) ([]uint32, error) {
	if all != 0 {
		return nil, nil
	}
	out := []uint32{}
	if list == "" {
		return out, nil
	}
	for _, p := range strings.Split(list, ",") {
		id, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("site scope %q: %w", list, err)
		}
		out = append(out, uint32(id))
	}
	return out, nil
}

func unixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// SetTOTP stores a user's second factor, replacing any earlier one.
func (s *Store) SetTOTP(ctx context.Context, t store.TOTP) error {
	if _, err := s.db.ExecContext(ctx, s.query("auth_totp_put"), t.UserID, t.Secret, t.CreatedAt.Unix()); err != nil {
		return fmt.Errorf("set two-factor secret: %w", err)
	}
	return nil
}

// TOTPByUser returns a user's second factor, or store.ErrNotFound when
// they have none.
func (s *Store) TOTPByUser(ctx context.Context, userID string) (store.TOTP, error) {
	var t store.TOTP
	var created int64
	err := s.db.QueryRowContext(ctx, s.query("auth_totp_by_user"), userID).Scan(&t.UserID, &t.Secret, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.TOTP{}, fmt.Errorf("two-factor secret of %s: %w", userID, store.ErrNotFound)
	}
	if err != nil {
		return store.TOTP{}, fmt.Errorf("two-factor secret of %s: %w", userID, err)
	}
	t.CreatedAt = time.Unix(created, 0).UTC()
	return t, nil
}

// DeleteTOTP removes a user's second factor, or returns store.ErrNotFound
// when they have none.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	res, err := s.db.ExecContext(ctx, s.query("auth_totp_delete"), userID)
	if err != nil {
		return fmt.Errorf("delete two-factor secret: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete two-factor secret: %w", err)
	} else if n == 0 {
		return fmt.Errorf("delete two-factor secret of %s: %w", userID, store.ErrNotFound)
	}
	return nil
}
