package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// sliceRows is how many rowids inSlices reads at a time, with no lock on
// the file: a few milliseconds of scanning.
const sliceRows = 20_000

// inSlices deletes or changes, slice by slice of table's rowids up to its
// last at the start, the rows that the query match finds (a SELECT of
// rowids bounded by rowid > :lo AND rowid <= :hi), with the query change
// (taking the JSON array :rowids), and returns how many it changed.
//
// Finding rows reads a snapshot and takes no lock; each change is its own
// short write transaction, and after it inSlices pauses as long as it
// took, so a writer waiting for the file (a consent decision, the beacon
// writer, often another process) gets in between two changes instead of
// waiting for the whole erasure or retention pass (#18, finding 8). Rows
// added after the start are newer than any cut-off or erasure asked for.
func (s *Store) inSlices(ctx context.Context, table, match, change string, args ...any) (int64, error) {
	var end int64
	if err := s.db.QueryRowContext(ctx, s.query(table+"_last_rowid")).Scan(&end); err != nil {
		return 0, err
	}
	var total int64
	for lo := int64(0); lo < end; lo += sliceRows {
		ids, err := s.rowids(ctx, match, append(args[:len(args):len(args)], sql.Named("lo", lo), sql.Named("hi", lo+sliceRows)))
		if err != nil || len(ids) == 0 {
			if err != nil {
				return total, err
			}
			continue
		}
		list, _ := json.Marshal(ids) // cannot fail: integers only
		start := time.Now()
		res, err := s.db.ExecContext(ctx, s.query(change), sql.Named("rowids", string(list)))
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if err := pause(ctx, time.Since(start)); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Store) rowids(ctx context.Context, match string, args []any) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.query(match), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
