package archive_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/archive"
	"github.com/engram-memory/engram/domain"
)

var alex = domain.Tenant{OrgID: "acme", UserID: "alex"}

// openMemoryZip packs the hand-written fixture as OpenMemory's backup
// export does: memories.json and memories.jsonl.gz in one zip.
func openMemoryZip(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/openmemory/memories.json")
	require.NoError(t, err)
	if edit != nil {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(raw, &doc))
		edit(doc)
		raw, err = json.Marshal(doc)
		require.NoError(t, err)
	}
	lines, err := os.ReadFile("testdata/openmemory/memories.jsonl")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "memories_export_alex.zip")
	f, err := os.Create(path)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	w, err := zw.Create("memories.json")
	require.NoError(t, err)
	_, _ = w.Write(raw)
	w, err = zw.Create("memories.jsonl.gz")
	require.NoError(t, err)
	_, _ = w.Write(gz(lines))
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return path
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestOpenMemoryBackupLandsWithTimesAndCategories(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	path := openMemoryZip(t, nil)
	rep, err := archive.ImportFile(ctx, s, path, archive.ImportOptions{Tenant: &alex})
	require.NoError(t, err)
	require.Equal(t, "openmemory", rep.Format)

	m, err := s.Get(ctx, alex, "a1a1a1a1-1111-4111-8111-111111111111")
	require.NoError(t, err)
	require.Equal(t, "Prefers vegetarian restaurants", m.Text)
	require.Equal(t, []string{"preferences", "food"}, m.Categories)
	require.Equal(t, domain.AppID("claude-desktop"), m.AppID)
	require.Equal(t, "chat", m.Metadata["source"])
	require.True(t, m.CreatedAt.Equal(at("2025-03-02T10:15:30.123456Z")), m.CreatedAt)
	require.True(t, m.ObservedAt.Equal(m.CreatedAt), "mem0's created_at is when it was said: %v", m.ObservedAt)

	trip, err := s.Get(ctx, alex, "a1a1a1a1-2222-4222-8222-222222222222")
	require.NoError(t, err)
	require.Equal(t, domain.StateArchived, trip.State)
	require.Equal(t, []string{"travel"}, trip.Categories)
	require.Equal(t, domain.AppID("cursor"), trip.AppID)
	require.True(t, trip.UpdatedAt.Equal(at("2025-04-01T12:00:00Z")), trip.UpdatedAt)
	h, err := s.History(ctx, alex, trip.ID)
	require.NoError(t, err)
	require.Len(t, h, 2)
	require.Equal(t, domain.ChangeState, h[1].Kind)
	require.Equal(t, domain.StateArchived, h[1].New.State)
	require.True(t, h[1].ChangedAt.Equal(at("2025-04-01T12:00:00Z")))

	cat, err := s.Get(ctx, alex, "a1a1a1a1-3333-4333-8333-333333333333")
	require.NoError(t, err)
	require.Equal(t, domain.AppID("openmemory"), cat.AppID)

	apps, err := s.ListApps(ctx, alex)
	require.NoError(t, err)
	active := map[domain.AppID]bool{}
	for _, a := range apps {
		active[a.ID] = a.Active
	}
	require.Equal(t, map[domain.AppID]bool{"claude-desktop": true, "cursor": false, "openmemory": true}, active)

	again, err := archive.ImportFile(ctx, s, path, archive.ImportOptions{Tenant: &alex})
	require.NoError(t, err)
	for _, tr := range again.Tables {
		require.Zero(t, tr.Inserted, tr.Table)
	}
}

func TestOpenMemoryLinesAreUsedWhenTheRelationalPartIsEmpty(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	path := openMemoryZip(t, func(doc map[string]any) { doc["memories"] = []any{} })
	_, err := archive.ImportFile(ctx, s, path, archive.ImportOptions{Tenant: &alex})
	require.NoError(t, err)
	m, err := s.Get(ctx, alex, "a1a1a1a1-1111-4111-8111-111111111111")
	require.NoError(t, err)
	require.Equal(t, []string{"preferences", "food"}, m.Categories)
	require.Equal(t, domain.AppID("claude-desktop"), m.AppID)
}

func TestMem0ExportLandsWithTimesAndCategories(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	path := "testdata/mem0/get_all.json"
	rep, err := archive.ImportFile(ctx, s, path, archive.ImportOptions{Tenant: &alex})
	require.NoError(t, err)
	require.Equal(t, "mem0", rep.Format)

	trip, err := s.Get(ctx, alex, "f4cbdb08-7062-4f3e-8eb2-9f5c80dfe64c")
	require.NoError(t, err)
	require.Equal(t, []string{"travel", "plans"}, trip.Categories)
	require.True(t, trip.CreatedAt.Equal(at("2024-07-01T19:00:00.654321Z")), trip.CreatedAt)
	require.True(t, trip.ObservedAt.Equal(trip.CreatedAt), "OpenMemory's created_at is when it was said: %v", trip.ObservedAt)
	require.True(t, trip.UpdatedAt.Equal(at("2024-07-02T15:30:00Z")), trip.UpdatedAt)
	require.Equal(t, domain.Metadata{"priority": "high", "mem0_user_id": "alex"}, trip.Metadata)
	require.Equal(t, "travel-agent", trip.AgentID, "mem0's agent_id lands in its column, not in metadata")
	require.Equal(t, domain.AppID("mem0"), trip.AppID)

	veg, err := s.Get(ctx, alex, "0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b")
	require.NoError(t, err)
	require.Equal(t, veg.CreatedAt, veg.UpdatedAt, "no updated_at: the creation time")
	require.Equal(t, "session-42", veg.RunID)
	require.NotContains(t, veg.Metadata, "mem0_run_id")

	page, err := s.List(ctx, alex, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 3, "a non-UUID id gets a derived one")

	again, err := archive.ImportFile(ctx, s, path, archive.ImportOptions{Tenant: &alex})
	require.NoError(t, err)
	require.Zero(t, again.Tables[0].Inserted, "the derived id is the same the second time")
}

func TestForeignImportsNeedATenantAndValidRows(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	_, err := archive.ImportFile(ctx, s, "testdata/mem0/get_all.json", archive.ImportOptions{})
	require.ErrorContains(t, err, "names no Engram org or user")

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`[{"id":"x1","memory":"fine","created_at":"2024-01-01T00:00:00Z"},
		{"id":"x2","memory":"bad category","categories":["<script>"]}]`), 0o600))
	_, err = archive.ImportFile(ctx, s, bad, archive.ImportOptions{Tenant: &alex})
	require.ErrorContains(t, err, "mem0.json line 2: invalid categories[0]")
	page, err := s.List(ctx, alex, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, page.Items, "nothing imported")

	_, err = archive.ImportFile(ctx, s, path(t, "notes.txt", "just some text"), archive.ImportOptions{Tenant: &alex})
	require.ErrorContains(t, err, "not an Engram archive, an OpenMemory backup zip or a mem0 JSON export")
}

func path(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}
