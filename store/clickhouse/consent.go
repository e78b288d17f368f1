package clickhouse

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

var (
	qConsentAppend        = mustQuery("consent_append")
	qConsentRecordsBySite = mustQuery("consent_records_by_site")
	qConsentRecordsByID   = mustQuery("consent_records_by_id")
	qConsentWithdrawals   = mustQuery("consent_withdrawals")
	qConsentChanges       = mustQuery("consent_changes")
	qConsentUpdateAdd     = mustQuery("consent_update_add")
	qConsentKeys          = mustQuery("consent_keys")
	qConsentKeyAdd        = mustQuery("consent_key_add")
	qConsentKeyByID       = mustQuery("consent_key_by_id")
	qEventsByConsent      = mustQuery("events_by_consent")
	qEventsCountByConsent = mustQuery("events_count_by_consent")
	qEventsEraseByConsent = mustQuery("events_erase_by_consent")
	qMutationsPending     = mustQuery("mutations_pending")
	qMutationsPendingAll  = mustQuery("mutations_pending_cluster")
)

// AppendConsent adds one record to the consent ledger.
func (s *Store) AppendConsent(ctx context.Context, r store.ConsentRecord) error {
	batch, err := s.conn.PrepareBatch(ctx, qConsentAppend)
	if err != nil {
		return fmt.Errorf("append consent record: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(r.SiteID, r.ChainID, r.Seq, r.ConsentID, r.Time.UTC(), string(r.Action),
		uint8(r.Granted), r.PolicyVersion, r.BannerHash, r.Language, boolUInt8(r.GPC), boolUInt8(r.DNT),
		r.SnippetVersion, string(r.Signal), hex.EncodeToString(r.PrevHash[:]), hex.EncodeToString(r.Hash[:])); err != nil {
		return fmt.Errorf("append consent record: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("append consent record: %w", err)
	}
	return nil
}

// ConsentRecords returns one site's ledger records in [from, to), by time.
func (s *Store) ConsentRecords(ctx context.Context, siteID uint32, from, to time.Time) ([]store.ConsentRecord, error) {
	rows, err := s.conn.Query(ctx, qConsentRecordsBySite, siteID, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("read consent ledger: %w", err)
	}
	return scanRecords(rows)
}

// ConsentHistory returns every ledger record of one consent id, by time.
func (s *Store) ConsentHistory(ctx context.Context, consentID uuid.UUID) ([]store.ConsentRecord, error) {
	rows, err := s.conn.Query(ctx, qConsentRecordsByID, consentID.String())
	if err != nil {
		return nil, fmt.Errorf("read consent history: %w", err)
	}
	return scanRecords(rows)
}

func scanRecords(rows driver.Rows) ([]store.ConsentRecord, error) {
	defer rows.Close()
	var out []store.ConsentRecord
	for rows.Next() {
		var (
			r                store.ConsentRecord
			action, signal   string
			granted, gpc, dn uint8
			prev, hash       string
			err              error
		)
		if err = rows.Scan(&r.SiteID, &r.ChainID, &r.Seq, &r.ConsentID, &r.Time, &action, &granted, &r.PolicyVersion,
			&r.BannerHash, &r.Language, &gpc, &dn, &r.SnippetVersion, &signal, &prev, &hash); err != nil {
			return nil, fmt.Errorf("read consent ledger: %w", err)
		}
		if r.PrevHash, err = store.ParseHash(prev); err != nil {
			return nil, fmt.Errorf("read consent ledger: prev hash: %w", err)
		}
		if r.Hash, err = store.ParseHash(hash); err != nil {
			return nil, fmt.Errorf("read consent ledger: hash: %w", err)
		}
		r.Time = r.Time.UTC()
		r.Action = store.ConsentAction(action)
		r.Signal = store.ConsentSignal(signal)
		r.Granted = store.Categories(granted)
		r.GPC, r.DNT = gpc == 1, dn == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent ledger: %w", err)
	}
	return out, nil
}

// Withdrawals returns the consent ids withdrawn at or after since, with when.
func (s *Store) Withdrawals(ctx context.Context, since time.Time) ([]store.Withdrawal, error) {
	rows, err := s.conn.Query(ctx, qConsentWithdrawals, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	defer rows.Close()
	var out []store.Withdrawal
	for rows.Next() {
		var w store.Withdrawal
		if err := rows.Scan(&w.ConsentID, &w.Time); err != nil {
			return nil, fmt.Errorf("read withdrawals: %w", err)
		}
		w.Time = w.Time.UTC()
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read withdrawals: %w", err)
	}
	return out, nil
}

// AppendConsentUpdate records that a consent id's decision was updated
// (the ledger record is appended apart, as proof).
func (s *Store) AppendConsentUpdate(ctx context.Context, siteID uint32, c store.ConsentChange) error {
	batch, err := s.conn.PrepareBatch(ctx, qConsentUpdateAdd)
	if err != nil {
		return fmt.Errorf("record consent update: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(siteID, c.ConsentID, c.Time.UTC(), uint8(c.Granted)); err != nil {
		return fmt.Errorf("record consent update: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record consent update: %w", err)
	}
	return nil
}

// ConsentChanges returns the updates and withdrawals at or after since, in
// no particular order (store.ConsentHead.Apply needs none).
func (s *Store) ConsentChanges(ctx context.Context, since time.Time) ([]store.ConsentChange, error) {
	rows, err := s.conn.Query(ctx, qConsentChanges, since.UTC(), since.UTC())
	if err != nil {
		return nil, fmt.Errorf("read consent changes: %w", err)
	}
	defer rows.Close()
	var out []store.ConsentChange
	for rows.Next() {
		var (
			c                  store.ConsentChange
			withdrawn, granted uint8
		)
		if err := rows.Scan(&c.ConsentID, &c.Time, &withdrawn, &granted); err != nil {
			return nil, fmt.Errorf("read consent changes: %w", err)
		}
		c.Time = c.Time.UTC()
		c.Granted, c.Withdrawn = store.Categories(granted), withdrawn == 1
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent changes: %w", err)
	}
	return out, nil
}

// ConsentKeys returns every token-signing key, oldest first.
func (s *Store) ConsentKeys(ctx context.Context) ([]store.ConsentKey, error) {
	rows, err := s.conn.Query(ctx, qConsentKeys)
	if err != nil {
		return nil, fmt.Errorf("read consent keys: %w", err)
	}
	return scanKeys(rows)
}

func scanKeys(rows driver.Rows) ([]store.ConsentKey, error) {
	defer rows.Close()
	var out []store.ConsentKey
	for rows.Next() {
		var k store.ConsentKey
		var secret string
		var retired uint8
		if err := rows.Scan(&k.ID, &secret, &k.Created, &retired); err != nil {
			return nil, fmt.Errorf("read consent keys: %w", err)
		}
		var err error
		if k.Secret, err = hex.DecodeString(secret); err != nil {
			return nil, fmt.Errorf("read consent keys: %w", err)
		}
		k.Created = k.Created.UTC()
		k.Retired = retired == 1
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent keys: %w", err)
	}
	return out, nil
}

// AddConsentKey stores a new token-signing key.
func (s *Store) AddConsentKey(ctx context.Context, k store.ConsentKey) error {
	return s.putKey(ctx, k)
}

// putKey writes a version of a key; the newest version wins (FINAL).
func (s *Store) putKey(ctx context.Context, k store.ConsentKey) error {
	batch, err := s.conn.PrepareBatch(ctx, qConsentKeyAdd)
	if err != nil {
		return fmt.Errorf("write consent key: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(k.ID, hex.EncodeToString(k.Secret), k.Created.UTC(), boolUInt8(k.Retired), uint64(time.Now().UnixNano())); err != nil {
		return fmt.Errorf("write consent key: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("write consent key: %w", err)
	}
	return nil
}

// RetireConsentKey stops a key from verifying tokens.
func (s *Store) RetireConsentKey(ctx context.Context, kid string) error {
	rows, err := s.conn.Query(ctx, qConsentKeyByID, kid)
	if err != nil {
		return fmt.Errorf("retire consent key: %w", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return fmt.Errorf("retire consent key: %w", err)
	}
	if len(keys) == 0 {
		return fmt.Errorf("retire consent key %s: %w", kid, store.ErrNotFound)
	}
	k := keys[0]
	k.Retired = true
	return s.putKey(ctx, k)
}

// EventsByConsent returns every stored event that a consent id allowed.
func (s *Store) EventsByConsent(ctx context.Context, consentID uuid.UUID) ([]store.Event, error) {
	rows, err := s.conn.Query(ctx, qEventsByConsent, consentID.String())
	if err != nil {
		return nil, fmt.Errorf("read events of a consent: %w", err)
	}
	return scanEvents(rows)
}

// EraseEventsByConsent deletes every event a consent id allowed, waits until
// ClickHouse has applied the deletion, and returns how many there were.
func (s *Store) EraseEventsByConsent(ctx context.Context, consentID uuid.UUID) (int64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, qEventsCountByConsent, consentID.String()).Scan(&n); err != nil {
		return 0, fmt.Errorf("erase events of a consent: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	events, err := s.EventsByConsent(ctx, consentID)
	if err != nil {
		return 0, fmt.Errorf("erase events of a consent: %w", err)
	}
	if err := s.eraseVisits(ctx, events); err != nil {
		return 0, fmt.Errorf("erase events of a consent: %w", err)
	}
	if err := s.alter(ctx, qEventsEraseByConsent, consentID.String()); err != nil {
		return 0, fmt.Errorf("erase events of a consent: %w", err)
	}
	if err := s.waitMutations(ctx, "events"); err != nil {
		return 0, fmt.Errorf("erase events of a consent: %w", err)
	}
	return int64(n), nil
}

// waitMutations polls system.mutations until table has none pending: 18.16
// has no mutations_sync setting. In cluster mode it waits for the local
// table on every node.
func (s *Store) waitMutations(ctx context.Context, table string) error {
	query, args := qMutationsPending, []any{table}
	if s.cluster.on() {
		query, args = qMutationsPendingAll, []any{s.cluster.name, s.cluster.database, s.cluster.local(table)}
	}
	delay := 20 * time.Millisecond
	for {
		var pending uint64
		if err := s.conn.QueryRow(ctx, query, args...).Scan(&pending); err != nil {
			return fmt.Errorf("wait for mutations on %s: %w", table, err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for mutations on %s: %w", table, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}
