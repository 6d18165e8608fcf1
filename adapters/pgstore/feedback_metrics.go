package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
)

// FeedbackMetrics implements ports.FeedbackStore. Org-wide questions are
// answered from feedback_rollups (whole UTC days) plus the raw events of the
// partial days at the edges of the range; questions about one user or one
// query are answered from the raw events, through their indexes. Every
// part is one GROUP BY whose few cells are folded together in Go.
func (s *Store) FeedbackMetrics(ctx context.Context, org domain.OrgID, f domain.FeedbackFilter) (domain.FeedbackMetrics, error) {
	var parts []metricsPart
	if f.UserID != "" || f.QueryID != "" {
		parts = []metricsPart{rawPart(org, f)}
	} else {
		parts = rollupParts(org, f)
	}
	var m domain.FeedbackMetrics
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		for _, p := range parts {
			if err := foldMetrics(ctx, tx, &m, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return domain.FeedbackMetrics{}, fmt.Errorf("pgstore: feedback metrics: %w", mapErr(err))
	}
	m.Finish()
	return m, nil
}

// metricsPart is one query returning (app, variant, outcome, events,
// rating sum, rated) rows.
type metricsPart struct {
	query string
	args  []any
}

func rawPart(org domain.OrgID, f domain.FeedbackFilter) metricsPart {
	where, args := feedbackWhere(org, f)
	return metricsPart{`SELECT app_id, COALESCE(variant, ''), outcome, count(*), COALESCE(sum(rating), 0), count(rating)
		FROM feedback_events WHERE ` + where + ` GROUP BY app_id, variant, outcome`, args}
}

// rollupParts splits [Since, Until) into whole UTC days, read from the
// rollups, and the partial days before and after them, read raw.
func rollupParts(org domain.OrgID, f domain.FeedbackFilter) []metricsPart {
	lo, hi := time.Time{}, time.Time{} // whole days: [lo, hi); zero is unbounded
	if !f.Since.IsZero() {
		lo = f.Since.UTC().Truncate(24 * time.Hour)
		if lo.Before(f.Since) {
			lo = lo.Add(24 * time.Hour)
		}
	}
	if !f.Until.IsZero() {
		hi = f.Until.UTC().Truncate(24 * time.Hour)
	}
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		return []metricsPart{rawPart(org, f)} // less than one whole day
	}
	conds, args := []string{"org_id = $1"}, []any{string(org)}
	if f.ExperimentID != "" {
		args = append(args, string(f.ExperimentID))
		conds = append(conds, "experiment_id = $"+strconv.Itoa(len(args)))
	}
	if !lo.IsZero() {
		args = append(args, lo)
		conds = append(conds, "day >= $"+strconv.Itoa(len(args)))
	}
	if !hi.IsZero() {
		args = append(args, hi)
		conds = append(conds, "day < $"+strconv.Itoa(len(args)))
	}
	parts := []metricsPart{{`SELECT app_id, variant, outcome, sum(events), sum(rating_sum), sum(rated)
		FROM feedback_rollups WHERE ` + strings.Join(conds, " AND ") + ` GROUP BY app_id, variant, outcome`, args}}
	if !lo.IsZero() && f.Since.Before(lo) {
		edge := f
		edge.Until = lo
		parts = append(parts, rawPart(org, edge))
	}
	if !hi.IsZero() && hi.Before(f.Until) {
		edge := f
		edge.Since = hi
		parts = append(parts, rawPart(org, edge))
	}
	return parts
}

func foldMetrics(ctx context.Context, tx *sqlx.Tx, m *domain.FeedbackMetrics, p metricsPart) error {
	rows, err := tx.QueryContext(ctx, p.query, p.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			app, variant, outcome string
			n, rated              int
			sum                   float64
		)
		if err := rows.Scan(&app, &variant, &outcome, &n, &sum, &rated); err != nil {
			return err
		}
		m.AddCount(domain.AppID(app), variant, domain.Outcome(outcome), n, sum, rated)
	}
	return rows.Err()
}
