package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.RetentionStore = (*Store)(nil)

// SweepOrgs implements ports.RetentionStore.
func (s *Store) SweepOrgs(ctx context.Context) ([]domain.OrgID, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT org_id FROM memories UNION SELECT org_id FROM feedback_events
		UNION SELECT org_id FROM query_logs UNION SELECT org_id FROM ui_sessions
		UNION SELECT org_id FROM oauth_tokens ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: sweep orgs: %w", mapErr(err))
	}
	defer rows.Close()
	var out []domain.OrgID
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("sqlitestore: sweep orgs: %w", mapErr(err))
		}
		out = append(out, domain.OrgID(o))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: sweep orgs: %w", mapErr(err))
	}
	return out, nil
}

// appTTLs is the stored form of the per-app TTLs: app id to seconds.
type appTTLs map[domain.AppID]int64

// GetRetention implements ports.RetentionStore.
func (s *Store) GetRetention(ctx context.Context, org domain.OrgID) (domain.Retention, error) {
	var (
		access, query, feedback, upd int64
		apps                         string
	)
	err := s.r.QueryRowContext(ctx, `SELECT access_log_ttl, query_log_ttl, feedback_ttl, app_ttls, updated_at
		FROM retention_settings WHERE org_id = ?`, string(org)).Scan(&access, &query, &feedback, &apps, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Retention{}, nil
	}
	if err != nil {
		return domain.Retention{}, fmt.Errorf("sqlitestore: retention of %s: %w", org, mapErr(err))
	}
	r := domain.Retention{AccessLog: seconds(access), QueryLog: seconds(query), Feedback: seconds(feedback), UpdatedAt: fromNanos(upd)}
	var ttls appTTLs
	if err := json.Unmarshal([]byte(apps), &ttls); err != nil {
		return domain.Retention{}, fmt.Errorf("sqlitestore: retention of %s: decode app ttls: %w", org, err)
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

func encodeAppTTLs(r domain.Retention) (string, error) {
	ttls := make(appTTLs, len(r.AppTTL))
	for a, d := range r.AppTTL {
		ttls[a] = int64(d / time.Second)
	}
	raw, err := json.Marshal(ttls)
	return string(raw), err
}

// SetRetention implements ports.RetentionStore.
func (s *Store) SetRetention(ctx context.Context, org domain.OrgID, r domain.Retention) error {
	if err := (domain.Subject{OrgID: org}).Validate(); err != nil {
		return fmt.Errorf("sqlitestore: set retention: %w", err)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: set retention: %w", err)
	}
	apps, err := encodeAppTTLs(r)
	if err != nil {
		return fmt.Errorf("sqlitestore: set retention: %w", err)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = time.Now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO retention_settings (org_id, access_log_ttl, query_log_ttl, feedback_ttl, app_ttls, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET access_log_ttl = excluded.access_log_ttl, query_log_ttl = excluded.query_log_ttl,
				feedback_ttl = excluded.feedback_ttl, app_ttls = excluded.app_ttls, updated_at = excluded.updated_at`,
			string(org), int64(r.AccessLog/time.Second), int64(r.QueryLog/time.Second), int64(r.Feedback/time.Second), apps, toNanos(r.UpdatedAt))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: set retention of %s: %w", org, err)
	}
	return nil
}

// ExpiredMemories implements ports.RetentionStore.
func (s *Store) ExpiredMemories(ctx context.Context, org domain.OrgID, now time.Time, limit int) ([]ports.MemoryRef, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id FROM memories
		WHERE org_id = ? AND expires_at <> 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?`, string(org), toNanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: expired memories of %s: %w", org, mapErr(err))
	}
	defer rows.Close()
	var out []ports.MemoryRef
	for rows.Next() {
		var id, user string
		if err := rows.Scan(&id, &user); err != nil {
			return nil, fmt.Errorf("sqlitestore: expired memories of %s: %w", org, mapErr(err))
		}
		out = append(out, ports.MemoryRef{Tenant: domain.Tenant{OrgID: org, UserID: domain.UserID(user)}, ID: domain.MemoryID(id)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: expired memories of %s: %w", org, mapErr(err))
	}
	return out, nil
}

// PurgeRetained implements ports.RetentionStore.
func (s *Store) PurgeRetained(ctx context.Context, org domain.OrgID, accessBefore, queryBefore, feedbackBefore time.Time) (map[string]int64, error) {
	steps := []struct {
		store, sql string
		before     time.Time
	}{
		{domain.StoreAccessLog, `DELETE FROM memory_access WHERE org_id = ? AND accessed_at < ?`, accessBefore},
		{domain.StoreQueryLog, `DELETE FROM query_logs WHERE org_id = ? AND created_at < ?`, queryBefore},
		{domain.StoreFeedback, `DELETE FROM feedback_events WHERE org_id = ? AND created_at < ?`, feedbackBefore},
	}
	counts := map[string]int64{}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, st := range steps {
			if st.before.IsZero() {
				continue
			}
			n, err := execCount(ctx, tx, st.sql, string(org), toNanos(st.before))
			if err != nil {
				return err
			}
			counts[st.store] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: purge retained data of %s: %w", org, err)
	}
	return counts, nil
}

// PurgeExpiredUISessions implements ports.RetentionStore.
func (s *Store) PurgeExpiredUISessions(ctx context.Context, org domain.OrgID, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = execCount(ctx, tx, `DELETE FROM ui_sessions WHERE org_id = ? AND expires_at <= ?`, string(org), toNanos(now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge expired ui sessions of %s: %w", org, err)
	}
	return n, nil
}

// PurgeExpiredOAuthTokens implements ports.RetentionStore (index
// oauth_tokens_expiry, migration 0411).
func (s *Store) PurgeExpiredOAuthTokens(ctx context.Context, org domain.OrgID, codesBefore, refreshBefore time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = execCount(ctx, tx, `DELETE FROM oauth_tokens WHERE org_id = ?
			AND ((kind = 'code' AND expires_at < ?) OR (kind = 'refresh' AND expires_at < ?))`,
			string(org), toNanos(codesBefore), toNanos(refreshBefore))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: purge expired oauth tokens of %s: %w", org, err)
	}
	return n, nil
}
