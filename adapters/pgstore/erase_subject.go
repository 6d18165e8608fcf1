package pgstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.SubjectStore = (*Store)(nil)

// subjectWhere is the predicate on (org_id, user_id) for a subject; the
// org is also the transaction's engram.org_id, so row-level security
// agrees. An org-wide subject passes ” for the user.
const subjectWhere = `org_id = $1 AND ($2 = '' OR user_id = $2)`

// SubjectMemories implements ports.SubjectStore.
func (s *Store) SubjectMemories(ctx context.Context, subj domain.Subject, limit int) ([]ports.MemoryRef, error) {
	if err := subj.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: subject memories: %w", err)
	}
	var out []ports.MemoryRef
	err := s.inTx(ctx, subj.OrgID, true, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, user_id FROM memories WHERE `+subjectWhere+` LIMIT $3`, subj.OrgID, subj.UserID, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r ports.MemoryRef
			if err := rows.Scan(&r.ID, &r.Tenant.UserID); err != nil {
				return err
			}
			r.Tenant.OrgID = subj.OrgID
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: subject memories: %w", mapErr(err))
	}
	return out, nil
}

// EraseMemories implements ports.SubjectStore.
func (s *Store) EraseMemories(ctx context.Context, subj domain.Subject, ids []domain.MemoryID) (map[string]int64, error) {
	if err := subj.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: erase memories: %w", err)
	}
	list := make([]string, 0, len(ids))
	for _, id := range ids {
		if domain.ValidID(string(id)) {
			list = append(list, string(id))
		}
	}
	counts := map[string]int64{}
	err := s.inTx(ctx, subj.OrgID, false, func(tx *sqlx.Tx) error {
		for _, q := range []struct{ store, table, col string }{
			{domain.StoreAccessLog, "memory_access", "memory_id"},
			{domain.StoreHistory, "memory_changes", "memory_id"},
			{domain.StoreEntities, "entity_links", "memory_id"},
			{domain.StoreMemories, "memories", "id"},
		} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+q.table+` WHERE `+subjectWhere+` AND `+q.col+` = ANY($3::uuid[])`,
				subj.OrgID, subj.UserID, pq.Array(list))
			if err != nil {
				return err
			}
			counts[q.store], _ = res.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: erase memories: %w", mapErr(err))
	}
	return counts, nil
}

// EraseSubjectData implements ports.SubjectStore. Deleting feedback events
// fires the rollup triggers, which keep feedback_rollups exact.
func (s *Store) EraseSubjectData(ctx context.Context, subj domain.Subject) (map[string]int64, error) {
	if err := subj.Validate(); err != nil {
		return nil, fmt.Errorf("pgstore: erase subject data: %w", err)
	}
	steps := []struct{ store, table string }{
		{domain.StoreAccessLog, "memory_access"},
		{domain.StoreHistory, "memory_changes"},
		// Inference events: the conversation while pending, what changed after.
		{domain.StoreHistory, "inference_events"},
		{domain.StoreFeedback, "feedback_events"},
		{domain.StoreQueryLog, "query_logs"},
		{domain.StoreExperiments, "experiment_assignments"},
		{domain.StoreApps, "apps"},
		// Entities are derived from the memories' text: every row goes.
		{domain.StoreEntities, "entity_links"},
		{domain.StoreEntities, "entity_edges"},
		{domain.StoreEntities, "entity_aliases"},
		{domain.StoreEntities, "entities"},
		// Entries of the store's own text index whose memory is already
		// gone (a Delete the index missed): erasure must not leave them.
		{domain.StoreTextIndex, "memory_search"},
	}
	counts := map[string]int64{}
	err := s.inTx(ctx, subj.OrgID, false, func(tx *sqlx.Tx) error {
		for _, st := range steps {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+st.table+` WHERE `+subjectWhere, subj.OrgID, subj.UserID)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			counts[st.store] += n
		}
		// API keys are deleted; a key the subject issued for others (a
		// project key) belongs to the org and only loses their id. Sign-in:
		// the user and their grants; a grant's codes and refresh tokens go
		// with it (ON DELETE CASCADE) and are counted with it.
		for _, st := range []struct{ store, sql string }{
			{domain.StoreAPIKeys, `DELETE FROM api_keys WHERE ` + subjectWhere},
			{"", `UPDATE api_keys SET created_by = '` + string(domain.ErasedActor) +
				`' WHERE org_id = $1 AND $2 <> '' AND created_by = $2`},
			{domain.StoreOAuth, `DELETE FROM oauth_grants WHERE ` + subjectWhere},
			{domain.StoreOAuth, `DELETE FROM oauth_users WHERE ` + subjectWhere},
			// Dashboard sessions hold the subject's tokens (migration 0311).
			{domain.StoreOAuth, `DELETE FROM ui_sessions WHERE ` + subjectWhere},
		} {
			res, err := tx.ExecContext(ctx, st.sql, subj.OrgID, subj.UserID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); st.store != "" {
				counts[st.store] += n
			}
		}
		if subj.OrgWide() {
			// History and assignments go with their experiment (ON DELETE CASCADE).
			res, err := tx.ExecContext(ctx, `DELETE FROM experiments WHERE org_id = $1`, subj.OrgID)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			counts[domain.StoreExperiments] += n
		}
		// Last, after every row it sealed: the subject's data key. Old
		// archives and dumps keep sealed values that nothing can open.
		res, err := tx.ExecContext(ctx, `DELETE FROM data_keys WHERE `+subjectWhere, subj.OrgID, subj.UserID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		counts[domain.StoreDataKeys] += n
		return nil
	})
	s.keys.cache.Forget(subj)
	if err != nil {
		return nil, fmt.Errorf("pgstore: erase subject data: %w", mapErr(err))
	}
	return counts, nil
}
