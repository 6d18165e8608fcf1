package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var (
	_ ports.FeedbackStore = (*Store)(nil)
	_ ports.QueryLog      = (*Store)(nil)
)

const feedbackCols = `id, org_id, user_id, query_id, memory_id, app_id, outcome, rating, experiment_id, variant, latency_ms, created_at`

// checkFeedbackBatch validates a batch before anything is written.
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

// nullStr stores "" as NULL so optional columns stay NULL, not empty.
func nullStr[T ~string](s T) any {
	if s == "" {
		return nil
	}
	return string(s)
}

// AppendFeedback implements ports.FeedbackStore.
func (s *Store) AppendFeedback(ctx context.Context, org domain.OrgID, events []domain.FeedbackEvent) error {
	if err := checkFeedbackBatch(org, events); err != nil {
		return fmt.Errorf("sqlitestore: append feedback: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO feedback_events (`+feedbackCols+`) VALUES (`+placeholders(12)+`)`)
		if err != nil {
			return mapErr(err)
		}
		defer st.Close()
		for _, e := range events {
			var rating any
			if e.Rating != 0 {
				rating = e.Rating
			}
			if _, err := st.ExecContext(ctx, e.ID, string(e.OrgID), string(e.UserID), string(e.QueryID),
				nullStr(e.MemoryID), string(e.App), string(e.Outcome), rating, nullStr(e.ExperimentID),
				nullStr(e.Variant), e.LatencyMS, toNanos(e.CreatedAt)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: append %d feedback events: %w", len(events), err)
	}
	return nil
}

// feedbackWhere turns a filter into a WHERE clause over feedback_events.
func feedbackWhere(org domain.OrgID, f domain.FeedbackFilter) (string, []any) {
	conds, args := []string{"org_id = ?"}, []any{string(org)}
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.UserID != "" {
		add("user_id = ?", string(f.UserID))
	}
	if f.QueryID != "" {
		add("query_id = ?", string(f.QueryID))
	}
	if f.ExperimentID != "" {
		add("experiment_id = ?", string(f.ExperimentID))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", toNanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", toNanos(f.Until))
	}
	return strings.Join(conds, " AND "), args
}

// ListFeedback implements ports.FeedbackStore.
func (s *Store) ListFeedback(ctx context.Context, org domain.OrgID, f domain.FeedbackFilter, limit int, cursor string) (domain.FeedbackPage, error) {
	if limit < 1 || limit > domain.MaxListLimit {
		return domain.FeedbackPage{}, fmt.Errorf("sqlitestore: list feedback: %w", domain.Invalid("limit", "must be between 1 and %d", domain.MaxListLimit))
	}
	where, args := feedbackWhere(org, f)
	if cursor != "" {
		at, id, err := decodeAccessCursor(cursor)
		if err != nil {
			return domain.FeedbackPage{}, fmt.Errorf("sqlitestore: list feedback: %w", err)
		}
		where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+feedbackCols+` FROM feedback_events WHERE `+where+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return domain.FeedbackPage{}, fmt.Errorf("sqlitestore: list feedback: %w", mapErr(err))
	}
	defer rows.Close()
	var page domain.FeedbackPage
	for rows.Next() {
		e, err := scanFeedback(rows)
		if err != nil {
			return domain.FeedbackPage{}, fmt.Errorf("sqlitestore: list feedback: %w", mapErr(err))
		}
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return domain.FeedbackPage{}, fmt.Errorf("sqlitestore: list feedback: %w", mapErr(err))
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		last := page.Events[limit-1]
		page.Next = encodeAccessCursor(toNanos(last.CreatedAt), last.ID)
	}
	return page, nil
}

func scanFeedback(sc scanner) (domain.FeedbackEvent, error) {
	var (
		e                     domain.FeedbackEvent
		memory, exp, variant  sql.NullString
		rating                sql.NullInt64
		created               int64
		org, user, query, app string
		outcome               string
	)
	if err := sc.Scan(&e.ID, &org, &user, &query, &memory, &app, &outcome, &rating, &exp, &variant, &e.LatencyMS, &created); err != nil {
		return e, err
	}
	e.OrgID, e.UserID, e.QueryID, e.App = domain.OrgID(org), domain.UserID(user), domain.QueryID(query), domain.AppID(app)
	e.MemoryID, e.Outcome, e.Rating = domain.MemoryID(memory.String), domain.Outcome(outcome), int(rating.Int64)
	e.ExperimentID, e.Variant, e.CreatedAt = domain.ExperimentID(exp.String), variant.String, fromNanos(created)
	return e, nil
}

// FeedbackMetrics implements ports.FeedbackStore with one GROUP BY over the
// three dimensions the answer is sliced by.
func (s *Store) FeedbackMetrics(ctx context.Context, org domain.OrgID, f domain.FeedbackFilter) (domain.FeedbackMetrics, error) {
	where, args := feedbackWhere(org, f)
	rows, err := s.r.QueryContext(ctx, `SELECT app_id, COALESCE(variant, ''), outcome, count(*), COALESCE(sum(rating), 0), count(rating)
		FROM feedback_events WHERE `+where+` GROUP BY app_id, variant, outcome`, args...)
	if err != nil {
		return domain.FeedbackMetrics{}, fmt.Errorf("sqlitestore: feedback metrics: %w", mapErr(err))
	}
	defer rows.Close()
	var m domain.FeedbackMetrics
	for rows.Next() {
		var (
			app, variant, outcome string
			n, rated              int
			sum                   float64
		)
		if err := rows.Scan(&app, &variant, &outcome, &n, &sum, &rated); err != nil {
			return domain.FeedbackMetrics{}, fmt.Errorf("sqlitestore: feedback metrics: %w", mapErr(err))
		}
		m.AddCount(domain.AppID(app), variant, domain.Outcome(outcome), n, sum, rated)
	}
	if err := rows.Err(); err != nil {
		return domain.FeedbackMetrics{}, fmt.Errorf("sqlitestore: feedback metrics: %w", mapErr(err))
	}
	m.Finish()
	return m, nil
}

// PurgeFeedback implements ports.FeedbackStore.
func (s *Store) PurgeFeedback(ctx context.Context, org domain.OrgID, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM feedback_events WHERE org_id = ? AND created_at < ?`, string(org), toNanos(before))
		if err != nil {
			return mapErr(err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM query_logs WHERE org_id = ? AND created_at < ?`, string(org), toNanos(before))
		return mapErr(err)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge feedback of %s: %w", org, err)
	}
	return n, nil
}

// FeedbackOrgs implements ports.FeedbackStore.
func (s *Store) FeedbackOrgs(ctx context.Context) ([]domain.OrgID, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT org_id FROM feedback_events UNION SELECT org_id FROM query_logs ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: feedback orgs: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.OrgID
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("sqlitestore: feedback orgs: %w", mapErr(err))
		}
		out = append(out, domain.OrgID(o))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: feedback orgs: %w", mapErr(err))
	}
	return out, nil
}

// EraseUserFeedback implements ports.FeedbackStore.
func (s *Store) EraseUserFeedback(ctx context.Context, t domain.Tenant) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, fmt.Errorf("sqlitestore: erase feedback: %w", err)
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM feedback_events WHERE org_id = ? AND user_id = ?`, string(t.OrgID), string(t.UserID))
		if err != nil {
			return mapErr(err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return mapErr(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM query_logs WHERE org_id = ? AND user_id = ?`, string(t.OrgID), string(t.UserID))
		return mapErr(err)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: erase feedback of %s/%s: %w", t.OrgID, t.UserID, err)
	}
	return n, nil
}
