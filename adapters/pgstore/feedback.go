package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.FeedbackStore = (*Store)(nil)
	_ ports.QueryLog      = (*Store)(nil)
)

// appendFeedbackSQL inserts a whole batch in one statement from parallel
// arrays: one round trip and one plan whatever the batch size. Empty
// strings and zero ratings stand for NULL. ON CONFLICT DO NOTHING plus a
// row count tells a duplicate id without a failed statement.
const appendFeedbackSQL = `
INSERT INTO feedback_events (id, org_id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at)
SELECT u.id, $1, u.user_id, u.query_id, NULLIF(u.memory_id, '')::uuid, u.app_id, u.outcome, NULLIF(u.rating, 0),
       NULLIF(u.experiment_id, '')::uuid, NULLIF(u.variant, ''), u.latency_ms, u.created_at
FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::smallint[], $9::text[], $10::text[], $11::int[], $12::timestamptz[])
     AS u(id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at)
ON CONFLICT (id) DO NOTHING`

func checkFeedbackBatch(org domain.OrgID, events []domain.FeedbackEvent) error {
	if len(events) == 0 || len(events) > domain.MaxFeedbackBatch {
		return domain.Invalid("events", "must hold 1-%d events", domain.MaxFeedbackBatch)
	}
	for i, e := range events {
		if e.OrgID != org {
			return domain.Invalid("org_id", "event %d belongs to another org", i)
		}
		if err := e.Validate(); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	return nil
}

// AppendFeedback implements ports.FeedbackStore.
func (s *Store) AppendFeedback(ctx context.Context, org domain.OrgID, events []domain.FeedbackEvent) error {
	if err := checkFeedbackBatch(org, events); err != nil {
		return fmt.Errorf("pgstore: append feedback: %w", err)
	}
	n := len(events)
	ids, users, queries, memories := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	apps, outcomes, exps, variants := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	ratings, latencies, ats := make(pq.Int64Array, n), make(pq.Int64Array, n), make(pq.StringArray, n)
	for i, e := range events {
		ids[i], users[i], queries[i], memories[i] = e.ID, string(e.UserID), string(e.QueryID), string(e.MemoryID)
		apps[i], outcomes[i], exps[i], variants[i] = string(e.App), string(e.Outcome), string(e.ExperimentID), e.Variant
		ratings[i], latencies[i], ats[i] = int64(e.Rating), int64(e.LatencyMS), e.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, appendFeedbackSQL, string(org), ids, users, queries, memories, apps, outcomes, ratings, exps, variants, latencies, ats)
		if err != nil {
			return err
		}
		if got, err := res.RowsAffected(); err != nil || got != int64(n) {
			if err != nil {
				return err
			}
			return fmt.Errorf("%d of %d event ids are already stored: %w", int64(n)-got, n, domain.ErrAlreadyExists)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: append %d feedback events: %w", n, mapErr(err))
	}
	return nil
}

// feedbackWhere builds the WHERE clause of a filter; $1 is the org.
func feedbackWhere(org domain.OrgID, f domain.FeedbackFilter) (string, []any) {
	conds, args := []string{"org_id = $1"}, []any{string(org)}
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.UserID != "" {
		add("user_id = ?", string(f.UserID))
	}
	if f.QueryID != "" {
		add("query_id = ?::uuid", string(f.QueryID))
	}
	if f.ExperimentID != "" {
		add("experiment_id = ?::uuid", string(f.ExperimentID))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add("created_at < ?", f.Until.UTC())
	}
	return strings.Join(conds, " AND "), args
}

const feedbackCols = `id::text, org_id, user_id, query_id::text, COALESCE(memory_id::text, ''), app_id, outcome,
	COALESCE(rating, 0), COALESCE(experiment_id::text, ''), COALESCE(variant, ''), latency_ms, created_at`

// ListFeedback implements ports.FeedbackStore: keyset pagination on
// (created_at, id) descending.
func (s *Store) ListFeedback(ctx context.Context, org domain.OrgID, f domain.FeedbackFilter, limit int, cursor string) (domain.FeedbackPage, error) {
	if limit < 1 || limit > domain.MaxListLimit {
		return domain.FeedbackPage{}, fmt.Errorf("pgstore: list feedback: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	where, args := feedbackWhere(org, f)
	if cursor != "" {
		at, id, err := decodeAccessCursor(cursor)
		if err != nil {
			return domain.FeedbackPage{}, fmt.Errorf("pgstore: list feedback: %w", err)
		}
		args = append(args, at, id)
		where += fmt.Sprintf(" AND (created_at, id) < ($%d::timestamptz, $%d::uuid)", len(args)-1, len(args))
	}
	q := `SELECT ` + feedbackCols + ` FROM feedback_events WHERE ` + where +
		` ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(limit+1)
	var page domain.FeedbackPage
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e domain.FeedbackEvent
			if err := rows.Scan(&e.ID, &e.OrgID, &e.UserID, &e.QueryID, &e.MemoryID, &e.App, &e.Outcome,
				&e.Rating, &e.ExperimentID, &e.Variant, &e.LatencyMS, &e.CreatedAt); err != nil {
				return err
			}
			e.CreatedAt = e.CreatedAt.UTC()
			page.Events = append(page.Events, e)
		}
		return rows.Err()
	})
	if err != nil {
		return domain.FeedbackPage{}, fmt.Errorf("pgstore: list feedback: %w", mapErr(err))
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		last := page.Events[limit-1]
		page.Next = encodeAccessCursor(last.CreatedAt, domain.MemoryID(last.ID))
	}
	return page, nil
}

// PurgeFeedback implements ports.FeedbackStore.
func (s *Store) PurgeFeedback(ctx context.Context, org domain.OrgID, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM feedback_events WHERE org_id = $1 AND created_at < $2`, string(org), before.UTC())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM query_logs WHERE org_id = $1 AND created_at < $2`, string(org), before.UTC())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: purge feedback of %s: %w", org, mapErr(err))
	}
	return n, nil
}

// FeedbackOrgs implements ports.FeedbackStore from memory_orgs, which the
// 0003 triggers keep current for feedback and query logs too.
func (s *Store) FeedbackOrgs(ctx context.Context) ([]domain.OrgID, error) {
	var out []domain.OrgID
	if err := s.db.SelectContext(ctx, &out, `SELECT org_id FROM memory_orgs ORDER BY org_id`); err != nil {
		return nil, fmt.Errorf("pgstore: feedback orgs: %w", mapErr(err))
	}
	return out, nil
}

// EraseUserFeedback implements ports.FeedbackStore.
func (s *Store) EraseUserFeedback(ctx context.Context, t domain.Tenant) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, fmt.Errorf("pgstore: erase feedback: %w", err)
	}
	var n int64
	err := s.inTx(ctx, t.OrgID, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM feedback_events WHERE org_id = $1 AND user_id = $2`, string(t.OrgID), string(t.UserID))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM query_logs WHERE org_id = $1 AND user_id = $2`, string(t.OrgID), string(t.UserID))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: erase feedback of %s/%s: %w", t.OrgID, t.UserID, mapErr(err))
	}
	return n, nil
}
