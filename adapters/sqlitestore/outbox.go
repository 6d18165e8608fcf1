package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Outbox is the store's index outbox (ports.IndexOutbox, migrations 0101
// and 0181).
//
// Writes pay nothing for it: memory_changes, written in every change's
// transaction, is the outbox's log (SQLite's single writer hands out its
// seq in commit order, so no change can appear behind one already read).
// Each index keeps the seq it has pulled up to; a claim first pulls the
// changes past it into index_outbox, one row per memory at its latest seq,
// in the same transaction that moves the seq on, so a crash between the two
// loses nothing. From there rows are claimed, acked, failed and parked per
// index. An erasure deletes a memory's change rows: the forget trigger arms
// its outbox rows directly.
type Outbox struct{ s *Store }

// pullBatch bounds the change rows one pull copies, so a relay catching up
// on a long backlog holds the write lock briefly each time.
const pullBatch = 10000

// lastSeqSQL is the highest memory_changes seq ever handed out (deleted
// rows included).
const lastSeqSQL = `coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'memory_changes'), 0)`

// pull copies index's changes past its pulled_seq into index_outbox (one
// row per memory, re-arming a parked or failed row; a claim is kept, so
// the relay's ack of the older version releases the row instead of
// deleting it) and moves pulled_seq on. enqueued_at is the change's time,
// but never before the previous pull (an imported change carries its
// original time).
func (o Outbox) pull(ctx context.Context, tx *sql.Tx, index string, now int64) error {
	var from, hi int64
	err := tx.QueryRowContext(ctx, `SELECT pulled_seq, min(`+lastSeqSQL+`, pulled_seq + ?2)
		FROM index_outbox_targets WHERE name = ?1`, index, pullBatch).Scan(&from, &hi)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && hi <= from) {
		return nil
	}
	if err != nil {
		return mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
		SELECT t.name, c.memory_id, c.org_id, c.user_id, max(c.seq), max(min(c.changed_at), t.pulled_at)
		FROM index_outbox_targets t JOIN memory_changes c ON c.seq > t.pulled_seq AND c.seq <= ?2
		WHERE t.name = ?1 GROUP BY c.memory_id
		ON CONFLICT (index_name, memory_id) DO UPDATE SET
			version     = max(version, excluded.version),
			enqueued_at = CASE WHEN parked_at <> 0 THEN excluded.enqueued_at ELSE enqueued_at END,
			due_at = 0, attempts = 0, last_error = '', parked_at = 0`, index, hi); err != nil {
		return mapErr(err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE index_outbox_targets SET pulled_seq = ?2, pulled_at = ?3 WHERE name = ?1`, index, hi, now)
	return mapErr(err)
}

var _ ports.IndexOutbox = Outbox{}

// Outbox returns the store's index outbox.
func (s *Store) Outbox() Outbox { return Outbox{s: s} }

// Register implements ports.IndexOutbox.
func (o Outbox) Register(ctx context.Context, index string) error {
	if index == "" {
		return fmt.Errorf("sqlitestore: outbox: %w", domain.Invalid("index", "must not be empty"))
	}
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		_, err := tx.ExecContext(ctx, `INSERT INTO index_outbox_targets (name, registered_at, pulled_seq, pulled_at)
			VALUES (?1, ?2, `+lastSeqSQL+`, ?2) ON CONFLICT (name) DO NOTHING`, index, now)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: outbox register %s: %w", index, err)
	}
	return nil
}

// Claim implements ports.IndexOutbox. An idle poll is one read on the read
// pool: the write transaction (which would queue behind writers) is taken
// only when a change is unpulled or a row is due.
func (o Outbox) Claim(ctx context.Context, index string, limit int, lease time.Duration) ([]ports.OutboxRow, error) {
	now := time.Now().UnixNano()
	var work bool
	err := o.s.r.QueryRowContext(ctx, `SELECT
			coalesce((SELECT pulled_seq < `+lastSeqSQL+` FROM index_outbox_targets WHERE name = ?1), 0)
			OR EXISTS (SELECT 1 FROM index_outbox
				WHERE index_name = ?1 AND parked_at = 0 AND due_at <= ?2 AND claimed_until <= ?2)`, index, now).Scan(&work)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: outbox claim: %w", mapErr(err))
	}
	if !work {
		return nil, nil
	}
	var out []ports.OutboxRow
	err = o.s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		now := time.Now().UnixNano()
		if err := o.pull(ctx, tx, index, now); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE index_outbox SET claimed_until = ?1
			WHERE index_name = ?2 AND memory_id IN (
				SELECT memory_id FROM index_outbox
				WHERE index_name = ?2 AND parked_at = 0 AND due_at <= ?3 AND claimed_until <= ?3
				ORDER BY enqueued_at LIMIT ?4)
			RETURNING memory_id, org_id, user_id, version, attempts, enqueued_at`,
			now+lease.Nanoseconds(), index, now, limit)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var r ports.OutboxRow
			var id, org, user string
			var enq int64
			if err := rows.Scan(&id, &org, &user, &r.Version, &r.Attempts, &enq); err != nil {
				return mapErr(err)
			}
			r.Tenant = domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
			r.ID, r.Enqueued = domain.MemoryID(id), fromNanos(enq)
			out = append(out, r)
		}
		return mapErr(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: outbox claim: %w", err)
	}
	return out, nil
}

// Ack implements ports.IndexOutbox.
func (o Outbox) Ack(ctx context.Context, index string, rows []ports.OutboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			n, err := execCount(ctx, tx, `DELETE FROM index_outbox WHERE index_name = ? AND memory_id = ? AND version = ?`,
				index, string(r.ID), r.Version)
			if err != nil {
				return err
			}
			if n == 0 {
				// A newer change arrived meanwhile: give the row back.
				if _, err := tx.ExecContext(ctx, `UPDATE index_outbox SET claimed_until = 0 WHERE index_name = ? AND memory_id = ?`,
					index, string(r.ID)); err != nil {
					return mapErr(err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: outbox ack: %w", err)
	}
	return nil
}

// Release implements ports.IndexOutbox.
func (o Outbox) Release(ctx context.Context, index string, rows []ports.OutboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `UPDATE index_outbox SET claimed_until = 0 WHERE index_name = ? AND memory_id = ?`,
				index, string(r.ID)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: outbox release: %w", err)
	}
	return nil
}

// Fail implements ports.IndexOutbox. A row whose version moved on since
// the claim was re-armed by that change: it is only released.
func (o Outbox) Fail(ctx context.Context, index string, row ports.OutboxRow, cause string, retryAfter time.Duration, park bool) error {
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		var parkedAt int64
		if park {
			parkedAt = now
		}
		n, err := execCount(ctx, tx, `UPDATE index_outbox SET claimed_until = 0, attempts = attempts + 1,
			last_error = ?, due_at = ?, parked_at = ?
			WHERE index_name = ? AND memory_id = ? AND version = ?`,
			cause, now+retryAfter.Nanoseconds(), parkedAt, index, string(row.ID), row.Version)
		if err != nil || n > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE index_outbox SET claimed_until = 0 WHERE index_name = ? AND memory_id = ?`,
			index, string(row.ID))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: outbox fail: %w", err)
	}
	return nil
}

// Stats implements ports.IndexOutbox, read-only: changes not pulled yet
// count as the rows a pull would make of them (a change to a parked memory
// re-arms it).
func (o Outbox) Stats(ctx context.Context, index string) (ports.OutboxStats, error) {
	var st ports.OutboxStats
	var oldest sql.NullInt64
	err := o.s.r.QueryRowContext(ctx, `WITH t AS (SELECT pulled_seq, pulled_at FROM index_outbox_targets WHERE name = ?1),
		fresh AS (SELECT c.memory_id, max(min(c.changed_at), t.pulled_at) AS at
			FROM t JOIN memory_changes c ON c.seq > t.pulled_seq WHERE true GROUP BY c.memory_id)
		SELECT
			(SELECT count(*) FROM index_outbox WHERE index_name = ?1 AND parked_at = 0)
			+ (SELECT count(*) FROM fresh f WHERE NOT EXISTS (SELECT 1 FROM index_outbox o
				WHERE o.index_name = ?1 AND o.memory_id = f.memory_id AND o.parked_at = 0)),
			(SELECT min(at) FROM (SELECT enqueued_at AS at FROM index_outbox WHERE index_name = ?1 AND parked_at = 0
				UNION ALL SELECT at FROM fresh)),
			(SELECT count(*) FROM index_outbox o WHERE o.index_name = ?1 AND o.parked_at <> 0 AND NOT EXISTS (
				SELECT 1 FROM fresh f WHERE f.memory_id = o.memory_id))`, index).Scan(&st.Backlog, &oldest, &st.Parked)
	if err != nil {
		return ports.OutboxStats{}, fmt.Errorf("sqlitestore: outbox stats: %w", mapErr(err))
	}
	if oldest.Valid {
		st.Oldest = fromNanos(oldest.Int64)
	}
	return st, nil
}

// Parked implements ports.IndexOutbox. A parked row whose memory changed
// since (the change is not pulled yet) is re-armed already, not listed.
func (o Outbox) Parked(ctx context.Context, index string, limit int) ([]ports.ParkedRow, error) {
	rows, err := o.s.r.QueryContext(ctx, `SELECT memory_id, org_id, user_id, version, attempts, enqueued_at, last_error, parked_at
		FROM index_outbox o WHERE index_name = ?1 AND parked_at <> 0 AND NOT EXISTS (
			SELECT 1 FROM memory_changes c WHERE c.memory_id = o.memory_id
				AND c.seq > (SELECT pulled_seq FROM index_outbox_targets WHERE name = ?1))
		ORDER BY parked_at, memory_id LIMIT ?2`, index, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: outbox parked: %w", mapErr(err))
	}
	defer rows.Close()
	var out []ports.ParkedRow
	for rows.Next() {
		var p ports.ParkedRow
		var id, org, user string
		var enq, parked int64
		if err := rows.Scan(&id, &org, &user, &p.Version, &p.Attempts, &enq, &p.Error, &parked); err != nil {
			return nil, fmt.Errorf("sqlitestore: outbox parked: %w", mapErr(err))
		}
		p.Tenant = domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
		p.ID, p.Enqueued, p.ParkedAt = domain.MemoryID(id), fromNanos(enq), fromNanos(parked)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: outbox parked: %w", mapErr(err))
	}
	return out, nil
}

// Requeue implements ports.IndexOutbox.
func (o Outbox) Requeue(ctx context.Context, index string) (int, error) {
	var n int64
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		if err := o.pull(ctx, tx, index, now); err != nil {
			return err
		}
		var err error
		n, err = execCount(ctx, tx, `UPDATE index_outbox SET parked_at = 0, attempts = 0, due_at = 0, last_error = '',
			enqueued_at = ? WHERE index_name = ? AND parked_at <> 0`, now, index)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: outbox requeue: %w", err)
	}
	return int(n), nil
}
