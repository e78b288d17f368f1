package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// AppendConsent adds one record to the consent ledger.
func (s *Store) AppendConsent(ctx context.Context, r store.ConsentRecord) error {
	_, err := s.db.ExecContext(ctx, s.query("consent_append"),
		r.SiteID, r.ChainID.String(), int64(r.Seq), r.ConsentID.String(), r.Time.Unix(), string(r.Action),
		uint8(r.Granted), r.PolicyVersion, r.BannerHash, r.Language, r.GPC, r.DNT, r.SnippetVersion,
		string(r.Signal), hex.EncodeToString(r.PrevHash[:]), hex.EncodeToString(r.Hash[:]))
	if err != nil {
		return fmt.Errorf("append consent record: %w", err)
	}
	return nil
}

// ConsentRecords returns one site's ledger records in [from, to), by time.
func (s *Store) ConsentRecords(ctx context.Context, siteID uint32, from, to time.Time) ([]store.ConsentRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.query("consent_records_by_site"), siteID, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("read consent ledger: %w", err)
	}
	return scanRecords(rows)
}

// ConsentHistory returns every ledger record of one consent id, by time.
func (s *Store) ConsentHistory(ctx context.Context, consentID uuid.UUID) ([]store.ConsentRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.query("consent_records_by_id"), consentID.String())
	if err != nil {
		return nil, fmt.Errorf("read consent history: %w", err)
	}
	return scanRecords(rows)
}

func scanRecords(rows *sql.Rows) ([]store.ConsentRecord, error) {
	defer rows.Close()
	var out []store.ConsentRecord
	for rows.Next() {
		var (
			r                  store.ConsentRecord
			chainID, consentID string
			seq, ts            int64
			action, signal     string
			granted            uint8
			prev, hash         string
		)
		if err := rows.Scan(&r.SiteID, &chainID, &seq, &consentID, &ts, &action, &granted, &r.PolicyVersion,
			&r.BannerHash, &r.Language, &r.GPC, &r.DNT, &r.SnippetVersion, &signal, &prev, &hash); err != nil {
			return nil, fmt.Errorf("read consent ledger: %w", err)
		}
		var err error
		if r.ChainID, err = uuid.Parse(chainID); err != nil {
			return nil, fmt.Errorf("read consent ledger: chain id: %w", err)
		}
		if r.ConsentID, err = uuid.Parse(consentID); err != nil {
			return nil, fmt.Errorf("read consent ledger: consent id: %w", err)
		}
		if r.PrevHash, err = store.ParseHash(prev); err != nil {
			return nil, fmt.Errorf("read consent ledger: prev hash: %w", err)
		}
		if r.Hash, err = store.ParseHash(hash); err != nil {
			return nil, fmt.Errorf("read consent ledger: hash: %w", err)
		}
		r.Seq = uint64(seq)
		r.Signal = store.ConsentSignal(signal)
		r.Time = time.Unix(ts, 0).UTC()
		r.Action = store.ConsentAction(action)
		r.Granted = store.Categories(granted)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent ledger: %w", err)
	}
	return out, nil
}

// Withdrawals returns the consent ids withdrawn at or after since, with when.
func (s *Store) Withdrawals(ctx context.Context, since time.Time) ([]store.Withdrawal, error) {
	rows, err := s.db.QueryContext(ctx, s.query("consent_withdrawals"), since.Unix())
	if err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	defer rows.Close()
	var out []store.Withdrawal
	for rows.Next() {
		var id string
		var ts int64
		if err := rows.Scan(&id, &ts); err != nil {
			return nil, fmt.Errorf("read withdrawals: %w", err)
		}
		cid, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("read withdrawals: %w", err)
		}
		out = append(out, store.Withdrawal{ConsentID: cid, Time: time.Unix(ts, 0).UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	return out, nil
}

// AppendConsentUpdate records that a consent id's decision was updated
// (the ledger record is appended apart, as proof).
func (s *Store) AppendConsentUpdate(ctx context.Context, siteID uint32, c store.ConsentChange) error {
	if _, err := s.db.ExecContext(ctx, s.query("consent_update_add"), siteID, c.ConsentID.String(), c.Time.Unix(), uint8(c.Granted)); err != nil {
		return fmt.Errorf("record consent update: %w", err)
	}
	return nil
}

// ConsentChanges returns the updates and withdrawals at or after since, in
// no particular order (store.ConsentHead.Apply needs none).
func (s *Store) ConsentChanges(ctx context.Context, since time.Time) ([]store.ConsentChange, error) {
	rows, err := s.db.QueryContext(ctx, s.query("consent_changes"), since.Unix(), since.Unix())
	if err != nil {
		return nil, fmt.Errorf("read consent changes: %w", err)
	}
	defer rows.Close()
	var out []store.ConsentChange
	for rows.Next() {
		var id string
		var ts int64
		var withdrawn bool
		var granted uint8
		if err := rows.Scan(&id, &ts, &withdrawn, &granted); err != nil {
			return nil, fmt.Errorf("read consent changes: %w", err)
		}
		cid, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("read consent changes: %w", err)
		}
		out = append(out, store.ConsentChange{ConsentID: cid, Time: time.Unix(ts, 0).UTC(), Granted: store.Categories(granted), Withdrawn: withdrawn})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent changes: %w", err)
	}
	return out, nil
}

// ConsentKeys returns every token-signing key, oldest first.
func (s *Store) ConsentKeys(ctx context.Context) ([]store.ConsentKey, error) {
	rows, err := s.db.QueryContext(ctx, s.query("consent_keys"))
	if err != nil {
		return nil, fmt.Errorf("read consent keys: %w", err)
	}
	defer rows.Close()
	var out []store.ConsentKey
	for rows.Next() {
		var k store.ConsentKey
		var secret string
		var created int64
		if err := rows.Scan(&k.ID, &secret, &created, &k.Retired); err != nil {
			return nil, fmt.Errorf("read consent keys: %w", err)
		}
		if k.Secret, err = hex.DecodeString(secret); err != nil {
			return nil, fmt.Errorf("read consent keys: %w", err)
		}
		k.Created = time.Unix(created, 0).UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent keys: %w", err)
	}
	return out, nil
}

// AddConsentKey stores a new token-signing key.
func (s *Store) AddConsentKey(ctx context.Context, k store.ConsentKey) error {
	if _, err := s.db.ExecContext(ctx, s.query("consent_key_add"), k.ID, hex.EncodeToString(k.Secret), k.Created.Unix(), k.Retired); err != nil {
		return fmt.Errorf("add consent key: %w", err)
	}
	return nil
}

// RetireConsentKey stops a key from verifying tokens.
func (s *Store) RetireConsentKey(ctx context.Context, kid string) error {
	res, err := s.db.ExecContext(ctx, s.query("consent_key_retire"), kid)
	if err != nil {
		return fmt.Errorf("retire consent key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("retire consent key %s: %w", kid, notFoundOr(err))
	}
	return nil
}

// notFoundOr returns err, or store.ErrNotFound when there is none.
func notFoundOr(err error) error {
	if err != nil {
		return err
	}
	return store.ErrNotFound
}
