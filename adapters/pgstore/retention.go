package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.RetentionStore = (*Store)(nil)

// SweepOrgs implements ports.RetentionStore from memory_orgs, which the
// 0002 and 0003 triggers keep current for memories, feedback and query
// logs (0401 and 0411 for dashboard sessions and OAuth tokens).
func (s *Store) SweepOrgs(ctx context.Context) ([]domain.OrgID, error) {
	out, err := s.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: sweep orgs: %w", err)
	}
	return out, nil
}

// appTTLs is the stored form of the per-app TTLs: app id to seconds.
type appTTLs map[domain.AppID]int64

// GetRetention implements ports.RetentionStore.
func (s *Store) GetRetention(ctx context.Context, org domain.OrgID) (domain.Retention, error) {
	if err := (domain.Subject{OrgID: org}).Validate(); err != nil {
		return domain.Retention{}, fmt.Errorf("pgstore: retention: %w", err)
	}
	var row struct {
		Access   int64     `db:"access_log_ttl"`
		Query    int64     `db:"query_log_ttl"`
		Feedback int64     `db:"feedback_ttl"`
		Apps     []byte    `db:"app_ttls"`
		Updated  time.Time `db:"updated_at"`
	}
	found := true
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &row, `SELECT access_log_ttl, query_log_ttl, feedback_ttl, app_ttls, updated_at
			FROM retention_settings WHERE org_id = $1`, string(org))
		if errors.Is(err, sql.ErrNoRows) {
			found = false
			return nil
		}
		return err
	})
	if err != nil {
		return domain.Retention{}, fmt.Errorf("pgstore: retention of %s: %w", org, mapErr(err))
	}
	if !found {
		return domain.Retention{}, nil
	}
	r := domain.Retention{AccessLog: seconds(row.Access), QueryLog: seconds(row.Query), Feedback: seconds(row.Feedback), UpdatedAt: row.Updated.UTC()}
	var ttls appTTLs
	if err := json.Unmarshal(row.Apps, &ttls); err != nil {
		return domain.Retention{}, fmt.Errorf("pgstore: retention of %s: decode app ttls: %w", org, err)
	}
	if len(ttls) > 0 {
		r.AppTTL = make(map[domain.AppID]time.Duration, len(ttls))
		for a, n := range ttls {
			r.AppTTL[a] = seconds(n)
		}
	}
	return r, nil
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// SetRetention implements ports.RetentionStore.
func (s *Store) SetRetention(ctx context.Context, org domain.OrgID, r domain.Retention) error {
	if err := (domain.Subject{OrgID: org}).Validate(); err != nil {
		return fmt.Errorf("pgstore: set retention: %w", err)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("pgstore: set retention: %w", err)
	}
	ttls := make(appTTLs, len(r.AppTTL))
	for a, d := range r.AppTTL {
		ttls[a] = int64(d / time.Second)
	}
	apps, err := json.Marshal(ttls)
	if err != nil {
		return fmt.Errorf("pgstore: set retention: %w", err)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = s.now()
	}
	err = s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO retention_settings (org_id, access_log_ttl, query_log_ttl, feedback_ttl, app_ttls, updated_at)
			VALUES ($1, $2, $3, $4, $5::jsonb, $6)
			ON CONFLICT (org_id) DO UPDATE SET access_log_ttl = excluded.access_log_ttl, query_log_ttl = excluded.query_log_ttl,
				feedback_ttl = excluded.feedback_ttl, app_ttls = excluded.app_ttls, updated_at = excluded.updated_at`,
			string(org), int64(r.AccessLog/time.Second), int64(r.QueryLog/time.Second), int64(r.Feedback/time.Second), string(apps), r.UpdatedAt.UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: set retention of %s: %w", org, mapErr(err))
	}
	return nil
}

// ExpiredMemories implements ports.RetentionStore.
func (s *Store) ExpiredMemories(ctx context.Context, org domain.OrgID, now time.Time, limit int) ([]ports.MemoryRef, error) {
	var out []ports.MemoryRef
	err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
		var rows []struct {
			ID   string `db:"id"`
			User string `db:"user_id"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT id::text AS id, user_id FROM memories
			WHERE org_id = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3`, string(org), now.UTC(), limit); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(r.User)}, ID: domain.MemoryID(r.ID)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: expired memories of %s: %w", org, mapErr(err))
	}
	return out, nil
}

// PurgeRetained implements ports.RetentionStore.
func (s *Store) PurgeRetained(ctx context.Context, org domain.OrgID, accessBefore, queryBefore, feedbackBefore time.Time) (map[string]int64, error) {
	steps := []struct {
		store, sql string
		before     time.Time
	}{
		{domain.StoreAccessLog, `DELETE FROM memory_access WHERE org_id = $1 AND accessed_at < $2`, accessBefore},
		{domain.StoreQueryLog, `DELETE FROM query_logs WHERE org_id = $1 AND created_at < $2`, queryBefore},
		{domain.StoreFeedback, `DELETE FROM feedback_events WHERE org_id = $1 AND created_at < $2`, feedbackBefore},
	}
	counts := map[string]int64{}
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		for _, st := range steps {
			if st.before.IsZero() {
				continue
			}
			res, err := tx.ExecContext(ctx, st.sql, string(org), st.before.UTC())
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			counts[st.store] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: purge retained data of %s: %w", org, mapErr(err))
	}
	return counts, nil
}

// PurgeExpiredUISessions implements ports.RetentionStore, inside org's
// row-level security scope (ui_sessions' delete policy needs it bound).
func (s *Store) PurgeExpiredUISessions(ctx context.Context, org domain.OrgID, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE org_id = $1 AND expires_at <= $2`, string(org), micro(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: purge expired ui sessions of %s: %w", org, mapErr(err))
	}
	return n, nil
}

// PurgeExpiredOAuthTokens implements ports.RetentionStore, inside org's
// row-level security scope (oauth_tokens' delete policy needs it bound;
// index oauth_tokens_expiry_idx, migration 0411).
func (s *Store) PurgeExpiredOAuthTokens(ctx context.Context, org domain.OrgID, codesBefore, refreshBefore time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE org_id = $1
			AND ((kind = 'code' AND expires_at < $2) OR (kind = 'refresh' AND expires_at < $3))`,
			string(org), micro(codesBefore), micro(refreshBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: purge expired oauth tokens of %s: %w", org, mapErr(err))
	}
	return n, nil
}
