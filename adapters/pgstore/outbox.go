package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Outbox is the store's index outbox (ports.IndexOutbox, migrations 0101
// and 0181).
//
// Writes append one plain row per change to index_outbox_pending (a heap
// with no index: the cheapest durable record there is); a claim first moves
// its org's pending rows into index_outbox, one row per registered index
// and memory at its latest version, in the transaction that claims, so a
// crash between the two loses nothing.
//
// The runtime role sees no outbox row across orgs, so the relay's reads
// that must span orgs go through two SECURITY DEFINER functions that return
// org ids and counts only (engram_outbox_due_orgs, engram_outbox_stats), and
// every claim, ack and failure runs inside its org's row-level security,
// the way the change feed catches up org by org. Claims take rows FOR
// UPDATE SKIP LOCKED, so relays of several engramd processes share the work.
type Outbox struct{ s *Store }

var _ ports.IndexOutbox = Outbox{}

// Outbox returns the store's index outbox.
func (s *Store) Outbox() Outbox { return Outbox{s: s} }

// dueOrgsPerClaim bounds the orgs one Claim visits.
const dueOrgsPerClaim = 100

// pullBatch bounds the pending rows one pull moves, so a relay catching up
// on a long backlog holds row locks briefly each time.
const pullBatch = 10000

// pullSQL moves up to $2 of the org's pending rows into index_outbox for
// every registered index: one row per memory at its latest version,
// re-arming a parked or failed row and keeping a claim (the relay's ack of
// the older version releases the row instead of deleting it). Rows another
// pull holds are skipped; the upserts go in key order, so two pulls never
// wait on each other crosswise.
const pullSQL = `WITH moved AS (
		DELETE FROM index_outbox_pending WHERE ctid = ANY(ARRAY(
			SELECT ctid FROM index_outbox_pending WHERE org_id = $1 LIMIT $2 FOR UPDATE SKIP LOCKED))
		RETURNING memory_id, org_id, user_id, version, enqueued_at
	), latest AS (
		SELECT memory_id, min(org_id) AS org_id, min(user_id) AS user_id, max(version) AS version, min(enqueued_at) AS enqueued_at
		FROM moved GROUP BY memory_id
	)
	INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
	SELECT t.name, l.memory_id, l.org_id, l.user_id, l.version, l.enqueued_at
	FROM latest l CROSS JOIN index_outbox_targets t
	ORDER BY t.name, l.memory_id
	ON CONFLICT (index_name, memory_id) DO UPDATE SET
		version     = GREATEST(index_outbox.version, excluded.version),
		enqueued_at = CASE WHEN index_outbox.parked_at IS NULL THEN index_outbox.enqueued_at ELSE excluded.enqueued_at END,
		due_at = '-infinity', attempts = 0, last_error = '', parked_at = NULL`

// Register implements ports.IndexOutbox.
func (o Outbox) Register(ctx context.Context, index string) error {
	if index == "" {
		return fmt.Errorf("pgstore: outbox: %w", domain.Invalid("index", "must not be empty"))
	}
	err := o.s.inTx(ctx, "", false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO index_outbox_targets (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, index)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: outbox register %s: %w", index, mapErr(err))
	}
	return nil
}

type outboxRow struct {
	ID       string    `db:"memory_id"`
	Org      string    `db:"org_id"`
	User     string    `db:"user_id"`
	Version  int64     `db:"version"`
	Attempts int       `db:"attempts"`
	Enqueued time.Time `db:"enqueued_at"`
}

func (r outboxRow) port() ports.OutboxRow {
	return ports.OutboxRow{
		MemoryRef: ports.MemoryRef{Tenant: domain.Tenant{OrgID: domain.OrgID(r.Org), UserID: domain.UserID(r.User)}, ID: domain.MemoryID(r.ID)},
		Version:   r.Version, Attempts: r.Attempts, Enqueued: r.Enqueued,
	}
}

// Claim implements ports.IndexOutbox: the orgs with rows pending or due,
// then, in one transaction per org, its pending rows pulled and its oldest
// rows claimed until limit. The rows are picked in an ARRAY()
// subquery, which runs once: a LIMIT ... FOR UPDATE subquery joined in
// UPDATE ... FROM may be re-scanned and hand out more than the limit.
func (o Outbox) Claim(ctx context.Context, index string, limit int, lease time.Duration) ([]ports.OutboxRow, error) {
	var orgs []string
	err := o.s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &orgs, `SELECT * FROM engram_outbox_due_orgs($1, $2)`, index, dueOrgsPerClaim)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: outbox claim: %w", mapErr(err))
	}
	var out []ports.OutboxRow
	for _, org := range orgs {
		if len(out) >= limit {
			break
		}
		var rows []outboxRow
		err := o.s.inTx(ctx, domain.OrgID(org), false, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, pullSQL, org, pullBatch); err != nil {
				return err
			}
			return tx.SelectContext(ctx, &rows, `UPDATE index_outbox SET claimed_until = clock_timestamp() + make_interval(secs => $3)
				WHERE index_name = $1 AND memory_id = ANY(ARRAY(
					SELECT memory_id FROM index_outbox
					WHERE index_name = $1 AND org_id = $2 AND parked_at IS NULL AND due_at <= now() AND claimed_until <= now()
					ORDER BY enqueued_at LIMIT $4 FOR UPDATE SKIP LOCKED))
				RETURNING memory_id::text AS memory_id, org_id, user_id, version, attempts, enqueued_at`,
				index, org, lease.Seconds(), limit-len(out))
		})
		if err != nil {
			return out, fmt.Errorf("pgstore: outbox claim in org %s: %w", org, mapErr(err))
		}
		for _, r := range rows {
			out = append(out, r.port())
		}
	}
	return out, nil
}

// byOrg runs fn in one transaction per org of rows, in memory id order
// (the order a pull locks rows in).
func (o Outbox) byOrg(ctx context.Context, rows []ports.OutboxRow, fn func(tx *sqlx.Tx, r ports.OutboxRow) error) error {
	groups := map[domain.OrgID][]ports.OutboxRow{}
	var order []domain.OrgID
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b ports.OutboxRow) int { return strings.Compare(string(a.ID), string(b.ID)) })
	for _, r := range rows {
		if groups[r.Tenant.OrgID] == nil {
			order = append(order, r.Tenant.OrgID)
		}
		groups[r.Tenant.OrgID] = append(groups[r.Tenant.OrgID], r)
	}
	for _, org := range order {
		err := o.s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
			for _, r := range groups[org] {
				if err := fn(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return mapErr(err)
		}
	}
	return nil
}

const releaseSQL = `UPDATE index_outbox SET claimed_until = '-infinity' WHERE index_name = $1 AND memory_id = $2::uuid`

// Ack implements ports.IndexOutbox.
func (o Outbox) Ack(ctx context.Context, index string, rows []ports.OutboxRow) error {
	err := o.byOrg(ctx, rows, func(tx *sqlx.Tx, r ports.OutboxRow) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM index_outbox WHERE index_name = $1 AND memory_id = $2::uuid AND version = $3`,
			index, string(r.ID), r.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// A newer change arrived meanwhile: give the row back.
		_, err = tx.ExecContext(ctx, releaseSQL, index, string(r.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: outbox ack: %w", err)
	}
	return nil
}

// Release implements ports.IndexOutbox.
func (o Outbox) Release(ctx context.Context, index string, rows []ports.OutboxRow) error {
	err := o.byOrg(ctx, rows, func(tx *sqlx.Tx, r ports.OutboxRow) error {
		_, err := tx.ExecContext(ctx, releaseSQL, index, string(r.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: outbox release: %w", err)
	}
	return nil
}

// Fail implements ports.IndexOutbox. A row whose version moved on since
// the claim was re-armed by that change: it is only released.
func (o Outbox) Fail(ctx context.Context, index string, row ports.OutboxRow, cause string, retryAfter time.Duration, park bool) error {
	err := o.byOrg(ctx, []ports.OutboxRow{row}, func(tx *sqlx.Tx, r ports.OutboxRow) error {
		res, err := tx.ExecContext(ctx, `UPDATE index_outbox SET claimed_until = '-infinity', attempts = attempts + 1,
				last_error = $4, due_at = clock_timestamp() + make_interval(secs => $5),
				parked_at = CASE WHEN $6 THEN clock_timestamp() END
			WHERE index_name = $1 AND memory_id = $2::uuid AND version = $3`,
			index, string(r.ID), r.Version, cause, retryAfter.Seconds(), park)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, releaseSQL, index, string(r.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: outbox fail: %w", err)
	}
	return nil
}

// Stats implements ports.IndexOutbox.
func (o Outbox) Stats(ctx context.Context, index string) (ports.OutboxStats, error) {
	var st ports.OutboxStats
	var oldest sql.NullTime
	err := o.s.inTx(ctx, "", true, func(tx *sqlx.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT backlog, oldest, parked FROM engram_outbox_stats($1)`, index).
			Scan(&st.Backlog, &oldest, &st.Parked)
	})
	if err != nil {
		return ports.OutboxStats{}, fmt.Errorf("pgstore: outbox stats: %w", mapErr(err))
	}
	if oldest.Valid {
		st.Oldest = oldest.Time
	}
	return st, nil
}

// Parked implements ports.IndexOutbox, org by org. A parked row whose
// memory changed since (the change is still pending) is re-armed already,
// not listed.
func (o Outbox) Parked(ctx context.Context, index string, limit int) ([]ports.ParkedRow, error) {
	orgs, err := o.s.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	var out []ports.ParkedRow
	for _, org := range orgs {
		if len(out) >= limit {
			break
		}
		var rows []struct {
			outboxRow
			Error    string    `db:"last_error"`
			ParkedAt time.Time `db:"parked_at"`
		}
		err := o.s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
			return tx.SelectContext(ctx, &rows, `SELECT memory_id::text AS memory_id, org_id, user_id, version, attempts,
					enqueued_at, last_error, parked_at
				FROM index_outbox o WHERE index_name = $1 AND org_id = $2 AND parked_at IS NOT NULL
					AND NOT EXISTS (SELECT 1 FROM index_outbox_pending p WHERE p.org_id = $2 AND p.memory_id = o.memory_id)
				ORDER BY parked_at, memory_id LIMIT $3`, index, string(org), limit-len(out))
		})
		if err != nil {
			return out, fmt.Errorf("pgstore: outbox parked in org %s: %w", org, mapErr(err))
		}
		for _, r := range rows {
			out = append(out, ports.ParkedRow{OutboxRow: r.port(), Error: r.Error, ParkedAt: r.ParkedAt})
		}
	}
	return out, nil
}

// Requeue implements ports.IndexOutbox, org by org.
func (o Outbox) Requeue(ctx context.Context, index string) (int, error) {
	orgs, err := o.s.Orgs(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, org := range orgs {
		err := o.s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, pullSQL, string(org), pullBatch); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE index_outbox SET parked_at = NULL, attempts = 0, due_at = '-infinity',
				last_error = '', enqueued_at = clock_timestamp() WHERE index_name = $1 AND org_id = $2 AND parked_at IS NOT NULL`,
				index, string(org))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			total += int(n)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("pgstore: outbox requeue in org %s: %w", org, mapErr(err))
		}
	}
	return total, nil
}
