package app

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
)

// The sections of a SAR document. Each pages through its store so that
// memory use stays flat however much the subject holds.

type sarValues struct {
	Text       string          `json:"text"`
	Metadata   domain.Metadata `json:"metadata,omitempty"`
	Categories []string        `json:"categories,omitempty"`
	State      domain.State    `json:"state,omitempty"`
}

type sarChange struct {
	Kind      domain.ChangeKind `json:"kind"`
	Old       *sarValues        `json:"old,omitempty"`
	New       *sarValues        `json:"new,omitempty"`
	App       domain.AppID      `json:"app"`
	ChangedAt time.Time         `json:"changed_at"`
}

func sarValuesOf(v *domain.MemoryValues) *sarValues {
	if v == nil {
		return nil
	}
	return &sarValues{Text: v.Text, Metadata: v.Metadata, Categories: v.Categories, State: v.State}
}

func exportMemories(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	q := domain.ListQuery{States: allStates, Limit: domain.MaxListLimit}
	for {
		page, err := d.Memories.List(ctx, t, q)
		if err != nil {
			return err
		}
		for _, m := range page.Items {
			hist, err := d.Memories.History(ctx, t, m.ID)
			if err != nil {
				return err
			}
			changes := make([]sarChange, len(hist))
			for i, c := range hist {
				changes[i] = sarChange{Kind: c.Kind, Old: sarValuesOf(c.Old), New: sarValuesOf(c.New), App: c.ActorApp, ChangedAt: c.ChangedAt.UTC()}
			}
			x.counts["history"] += int64(len(hist))
			if err := x.item("memories", map[string]any{
				"id": m.ID, "app": m.AppID, "agent_id": nullIfEmpty(m.AgentID), "run_id": nullIfEmpty(m.RunID),
				"text": m.Text, "metadata": m.Metadata, "categories": m.Categories,
				"state": m.State, "created_at": m.CreatedAt.UTC(), "updated_at": m.UpdatedAt.UTC(),
				"expires_at": nullIfZero(m.ExpiresAt), "observed_at": m.ObservedAt.UTC(),
				"valid_from": nullIfZero(m.ValidFrom), "valid_to": nullIfZero(m.ValidTo), "history": changes,
			}); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

func exportApps(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	apps, err := d.Apps.ListApps(ctx, t)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if err := x.item("apps", map[string]any{
			"id": a.ID, "description": a.Description, "active": a.Active, "created_at": a.CreatedAt.UTC(), "updated_at": a.UpdatedAt.UTC(),
		}); err != nil {
			return err
		}
	}
	return nil
}

func exportAccess(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	apps, err := d.Apps.ListApps(ctx, t)
	if err != nil {
		return err
	}
	for _, a := range apps {
		cursor := ""
		for {
			entries, next, err := d.Access.ListAccess(ctx, t, a.ID, domain.MaxListLimit, cursor)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if err := x.item("access_log", map[string]any{
					"memory_id": e.MemoryID, "app": e.AppID, "kind": e.Kind, "accessed_at": e.AccessedAt.UTC(),
				}); err != nil {
					return err
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return nil
}

func exportFeedback(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	cursor := ""
	for {
		page, err := d.Feedback.ListFeedback(ctx, t.OrgID, domain.FeedbackFilter{UserID: t.UserID}, domain.MaxListLimit, cursor)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if err := x.item("feedback", map[string]any{
				"id": e.ID, "query_id": e.QueryID, "memory_id": e.MemoryID, "app": e.App, "outcome": e.Outcome,
				"rating": e.Rating, "created_at": e.CreatedAt.UTC(),
			}); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}

// exportQueries reads the org's query log and keeps the subject's: the
// port lists by org (tune-fusion replays whole orgs). Slow for a large org,
// which a SAR can afford.
func exportQueries(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	cursor := ""
	for {
		logs, next, err := d.Queries.ListQueries(ctx, t.OrgID, time.Time{}, domain.MaxListLimit, cursor)
		if err != nil {
			return err
		}
		for _, q := range logs {
			if q.UserID != t.UserID {
				continue
			}
			if err := x.item("query_log", map[string]any{
				"id": q.ID, "query": q.Query, "result_ids": q.ResultIDs, "created_at": q.CreatedAt.UTC(),
			}); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

func exportSessions(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	if d.Sessions == nil {
		return nil
	}
	ids, err := d.Sessions.SubjectSessions(ctx, t)
	if err != nil {
		return err
	}
	for _, id := range ids {
		events, err := d.Sessions.Recent(ctx, t, id, domain.MaxRecentEvents)
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(events))
		for i, e := range events {
			out[len(events)-1-i] = map[string]any{"id": e.ID, "role": e.Role, "text": e.Text, "metadata": e.Metadata, "created_at": e.CreatedAt.UTC()}
		}
		x.counts["session_events"] += int64(len(events))
		if err := x.item("sessions", map[string]any{"session_id": id, "events": out}); err != nil {
			return err
		}
	}
	return nil
}

// nullIfEmpty is s, or JSON null for a scope the memory does not have.
func exportEntities(ctx context.Context, t domain.Tenant, d ExportDeps, x *sarWriter) error {
	q := domain.EntityQuery{Limit: domain.MaxEntityPageSize}
	for {
		page, err := d.Entities.ListEntities(ctx, t, q)
		if err != nil {
			return err
		}
		for _, e := range page.Items {
			mems, err := d.Entities.EntityMemories(ctx, t, []domain.EntityID{e.ID}, max(e.Memories, 1))
			if err != nil {
				return err
			}
			if err := x.item("entities", map[string]any{
				"id": e.ID, "name": e.Name, "type": e.Type, "aliases": e.Aliases, "memory_ids": mems,
				"created_at": e.CreatedAt.UTC(), "updated_at": e.UpdatedAt.UTC(),
			}); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		q.After = page.Next
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullIfZero is t in UTC, or JSON null for a memory that never expires.
func nullIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
