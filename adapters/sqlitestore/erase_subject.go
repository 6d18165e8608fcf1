package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.SubjectStore = (*Store)(nil)

// subjectWhere is the predicate on (org_id, user_id) for a subject, and
// its arguments.
func subjectWhere(s domain.Subject) (string, []any) {
	if s.OrgWide() {
		return "org_id = ?", []any{string(s.OrgID)}
	}
	return "org_id = ? AND user_id = ?", []any{string(s.OrgID), string(s.UserID)}
}

// SubjectMemories implements ports.SubjectStore.
func (s *Store) SubjectMemories(ctx context.Context, subj domain.Subject, limit int) ([]ports.MemoryRef, error) {
	if err := subj.Validate(); err != nil {
		return nil, fmt.Errorf("sqlitestore: subject memories: %w", err)
	}
	where, args := subjectWhere(subj)
	rows, err := s.r.QueryContext(ctx, `SELECT id, org_id, user_id FROM memories WHERE `+where+` LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: subject memories: %w", mapErr(err))
	}
	defer rows.Close()
	var out []ports.MemoryRef
	for rows.Next() {
		var id, org, user string
		if err := rows.Scan(&id, &org, &user); err != nil {
			return nil, fmt.Errorf("sqlitestore: subject memories: %w", mapErr(err))
		}
		out = append(out, ports.MemoryRef{Tenant: domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}, ID: domain.MemoryID(id)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: subject memories: %w", mapErr(err))
	}
	return out, nil
}

// EraseMemories implements ports.SubjectStore: children first, because
// memory_changes and memory_access reference memories.
func (s *Store) EraseMemories(ctx context.Context, subj domain.Subject, ids []domain.MemoryID) (map[string]int64, error) {
	if err := subj.Validate(); err != nil {
		return nil, fmt.Errorf("sqlitestore: erase memories: %w", err)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: erase memories: %w", err)
	}
	where, args := subjectWhere(subj)
	args = append(args, string(list))
	counts := map[string]int64{}
	err = s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct{ store, table, col string }{
			{domain.StoreAccessLog, "memory_access", "memory_id"},
			{domain.StoreHistory, "memory_changes", "memory_id"},
			{domain.StoreEntities, "entity_links", "memory_id"},
			{domain.StoreMemories, "memories", "id"},
		} {
			n, err := execCount(ctx, tx, `DELETE FROM `+q.table+` WHERE `+where+` AND `+q.col+` IN (SELECT value FROM json_each(?))`, args...)
			if err != nil {
				return err
			}
			counts[q.store] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: erase memories: %w", err)
	}
	return counts, nil
}

// EraseSubjectData implements ports.SubjectStore.
func (s *Store) EraseSubjectData(ctx context.Context, subj domain.Subject) (map[string]int64, error) {
	if err := subj.Validate(); err != nil {
		return nil, fmt.Errorf("sqlitestore: erase subject data: %w", err)
	}
	where, args := subjectWhere(subj)
	steps := []struct{ store, sql string }{
		{domain.StoreAccessLog, `DELETE FROM memory_access WHERE ` + where},
		{domain.StoreHistory, `DELETE FROM memory_changes WHERE ` + where},
		// Inference events: the conversation while pending, what changed after.
		{domain.StoreHistory, `DELETE FROM inference_events WHERE ` + where},
		{domain.StoreFeedback, `DELETE FROM feedback_events WHERE ` + where},
		{domain.StoreQueryLog, `DELETE FROM query_logs WHERE ` + where},
		{domain.StoreExperiments, `DELETE FROM experiment_assignments WHERE ` + where},
		{domain.StoreApps, `DELETE FROM apps WHERE ` + where},
		// Entities are derived from the memories' text: every row goes.
		{domain.StoreEntities, `DELETE FROM entity_links WHERE ` + where},
		{domain.StoreEntities, `DELETE FROM entity_edges WHERE ` + where},
		{domain.StoreEntities, `DELETE FROM entity_aliases WHERE ` + where},
		{domain.StoreEntities, `DELETE FROM entities WHERE ` + where},
		// API keys are deleted; a key the subject issued for others (a
		// project key) belongs to the org and only loses their id.
		{domain.StoreAPIKeys, `DELETE FROM api_keys WHERE ` + where},
		{"", `UPDATE api_keys SET created_by = '` + string(domain.ErasedActor) + `' WHERE ` +
			strings.Replace(where, "user_id", "created_by", 1)},
		// Sign-in: the user, their grants and the grants' codes and
		// refresh tokens (counted with their grant).
		{"", `DELETE FROM oauth_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE ` + where + `)`},
		{domain.StoreOAuth, `DELETE FROM oauth_grants WHERE ` + where},
		{domain.StoreOAuth, `DELETE FROM oauth_users WHERE ` + where},
		// Dashboard sessions hold the subject's tokens (migration 0311).
		{domain.StoreOAuth, `DELETE FROM ui_sessions WHERE ` + where},
	}
	if subj.OrgWide() {
		// History and assignments go with their experiment (ON DELETE CASCADE).
		steps = append(steps, struct{ store, sql string }{domain.StoreExperiments, `DELETE FROM experiments WHERE org_id = ?`})
	}
	// Last, after every row it sealed: the subject's data key. Old archives
	// and file copies keep sealed values that nothing can open any more.
	steps = append(steps, struct{ store, sql string }{domain.StoreDataKeys, `DELETE FROM data_keys WHERE ` + where})
	counts := map[string]int64{}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, st := range steps {
			n, err := execCount(ctx, tx, st.sql, args...)
			if err != nil {
				return err
			}
			if st.store != "" {
				counts[st.store] += n
			}
		}
		return nil
	})
	s.keys.cache.Forget(subj)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: erase subject data: %w", err)
	}
	return counts, nil
}

func execCount(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}
