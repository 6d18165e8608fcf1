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

// Outbox is the store's index outbox (ports.IndexOutbox, migration 0101).
type Outbox struct{ s *Store }

var _ ports.IndexOutbox = Outbox{}

// Outbox returns the store's index outbox.
func (s *Store) Outbox() Outbox { return Outbox{s: s} }

// Register implements ports.IndexOutbox.
func (o Outbox) Register(ctx context.Context, index string) error {
	if index == "" {
		return fmt.Errorf("sqlitestore: outbox: %w", domain.Invalid("index", "must not be empty"))
	}
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO index_outbox_targets (name, registered_at) VALUES (?, ?)
			ON CONFLICT (name) DO NOTHING`, index, time.Now().UnixNano())
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: outbox register %s: %w", index, err)
	}
	return nil
}

// Claim implements ports.IndexOutbox. An idle poll is one read on the read
// pool: the write transaction (which would queue behind writers) is taken
// only when something is due.
func (o Outbox) Claim(ctx context.Context, index string, limit int, lease time.Duration) ([]ports.OutboxRow, error) {
	now := time.Now().UnixNano()
	var one int
	err := o.s.r.QueryRowContext(ctx, `SELECT 1 FROM index_outbox
		WHERE index_name = ? AND parked_at = 0 AND due_at <= ? AND claimed_until <= ? LIMIT 1`, index, now, now).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: outbox claim: %w", mapErr(err))
	}
	var out []ports.OutboxRow
	err = o.s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		now := time.Now().UnixNano()
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

// Stats implements ports.IndexOutbox.
func (o Outbox) Stats(ctx context.Context, index string) (ports.OutboxStats, error) {
	var st ports.OutboxStats
	var oldest sql.NullInt64
	err := o.s.r.QueryRowContext(ctx, `SELECT
			coalesce(sum(parked_at = 0), 0), min(CASE WHEN parked_at = 0 THEN enqueued_at END), coalesce(sum(parked_at <> 0), 0)
		FROM index_outbox WHERE index_name = ?`, index).Scan(&st.Backlog, &oldest, &st.Parked)
	if err != nil {
		return ports.OutboxStats{}, fmt.Errorf("sqlitestore: outbox stats: %w", mapErr(err))
	}
	if oldest.Valid {
		st.Oldest = fromNanos(oldest.Int64)
	}
	return st, nil
}

// Parked implements ports.IndexOutbox.
func (o Outbox) Parked(ctx context.Context, index string, limit int) ([]ports.ParkedRow, error) {
	rows, err := o.s.r.QueryContext(ctx, `SELECT memory_id, org_id, user_id, version, attempts, enqueued_at, last_error, parked_at
		FROM index_outbox WHERE index_name = ? AND parked_at <> 0 ORDER BY parked_at, memory_id LIMIT ?`, index, limit)
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
		var err error
		n, err = execCount(ctx, tx, `UPDATE index_outbox SET parked_at = 0, attempts = 0, due_at = 0, last_error = '',
			enqueued_at = ? WHERE index_name = ? AND parked_at <> 0`, time.Now().UnixNano(), index)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: outbox requeue: %w", err)
	}
	return int(n), nil
}
