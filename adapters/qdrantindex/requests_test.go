package qdrantindex

import (
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var tenant = domain.Tenant{OrgID: "org-a", UserID: "alice"}

// keywordMatches collects field=keyword pairs of a filter's must conditions.
func keywordMatches(f *qdrant.Filter) map[string][]string {
	out := map[string][]string{}
	for _, c := range f.GetMust() {
		if fc := c.GetField(); fc != nil && fc.GetMatch() != nil {
			if kw := fc.GetMatch().GetKeyword(); kw != "" {
				out[fc.GetKey()] = append(out[fc.GetKey()], kw)
			}
		}
	}
	return out
}

func TestCollectionName(t *testing.T) {
	require.Equal(t, "engram_text-embedding-3-small", CollectionName("engram_", "text-embedding-3-small"))
	require.Equal(t, "engram_nomic_embed_text_v1_5", CollectionName("engram_", "nomic/embed:text v1.5"))
}

func TestSearchRequestAlwaysFiltersTenant(t *testing.T) {
	for _, f := range []domain.SearchFilter{{}, {App: "cursor"}, {Categories: []string{"food", "travel"}}} {
		req, err := searchRequest("c", tenant, []float32{1, 0}, 7, f)
		require.NoError(t, err)
		require.Equal(t, "c", req.GetCollectionName())
		require.EqualValues(t, 7, req.GetLimit())
		m := keywordMatches(req.GetFilter())
		require.Equal(t, []string{"org-a"}, m[keyOrg])
		require.Equal(t, []string{"alice"}, m[keyUser])
		require.Empty(t, req.GetFilter().GetShould(), "no OR branch may bypass the tenant")
		require.Equal(t, []float32{1, 0}, req.GetQuery().GetNearest().GetDense().GetData())
	}
}

func TestSearchRequestFilters(t *testing.T) {
	after := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	req, err := searchRequest("c", tenant, []float32{1}, 3, domain.SearchFilter{
		App: "cursor", Categories: []string{"food"}, CreatedAfter: after,
		Metadata: domain.Metadata{"kind": "fact", "pinned": true, "n": float64(2)},
	})
	require.NoError(t, err)
	m := keywordMatches(req.GetFilter())
	require.Equal(t, []string{"cursor"}, m[keyApp])
	require.Equal(t, []string{"food"}, m[keyCategories])
	require.Equal(t, []string{"fact"}, m["metadata.kind"])
	var sawBool, sawNumber, sawCreated bool
	for _, c := range req.GetFilter().GetMust() {
		fc := c.GetField()
		switch fc.GetKey() {
		case "metadata.pinned":
			sawBool = fc.GetMatch().GetBoolean()
		case "metadata.n":
			sawNumber = fc.GetRange().GetGte() == 2 && fc.GetRange().GetLte() == 2
		case keyCreated:
			sawCreated = fc.GetRange().GetGte() == float64(after.UnixMilli()) && fc.GetRange().Lt == nil
		}
	}
	require.True(t, sawBool && sawNumber && sawCreated)
	_, err = searchRequest("c", tenant, []float32{1}, 3, domain.SearchFilter{Metadata: domain.Metadata{"x": []any{}}})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func TestDeleteRequestIsScopedToTenant(t *testing.T) {
	id := domain.NewMemoryID(time.Now())
	req := deleteRequest("c", tenant, []domain.MemoryID{id})
	f := req.GetPoints().GetFilter()
	require.NotNil(t, f, "delete by filter, never by bare ids")
	m := keywordMatches(f)
	require.Equal(t, []string{"org-a"}, m[keyOrg])
	require.Equal(t, []string{"alice"}, m[keyUser])
	var ids []string
	for _, c := range f.GetMust() {
		for _, p := range c.GetHasId().GetHasId() {
			ids = append(ids, p.GetUuid())
		}
	}
	require.Equal(t, []string{string(id)}, ids)
	require.True(t, req.GetWait())
}

func TestUpsertRequestCarriesTenantAndFilterFields(t *testing.T) {
	id := domain.NewMemoryID(time.Now())
	created := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	req, err := upsertRequest("c", tenant, []ports.VectorDoc{{ID: id, Vector: []float32{0.6, 0.8}, AppID: "cursor",
		Categories: []string{"food"}, Metadata: domain.Metadata{"kind": "fact"}, CreatedAt: created}})
	require.NoError(t, err)
	p := req.GetPoints()[0]
	require.Equal(t, string(id), p.GetId().GetUuid())
	pl := p.GetPayload()
	require.Equal(t, "org-a", pl[keyOrg].GetStringValue())
	require.Equal(t, "alice", pl[keyUser].GetStringValue())
	require.Equal(t, "cursor", pl[keyApp].GetStringValue())
	require.Equal(t, "food", pl[keyCategories].GetListValue().GetValues()[0].GetStringValue())
	require.Equal(t, "fact", pl[keyMetadata].GetStructValue().GetFields()["kind"].GetStringValue())
	require.Equal(t, created.UnixMilli(), pl[keyCreated].GetIntegerValue())
	require.True(t, req.GetWait(), "upserts wait so the next search sees them")
}
