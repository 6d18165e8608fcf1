package qdrantindex

import (
	"strings"

	"github.com/qdrant/go-client/qdrant"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Payload keys. Metadata values sit under metadata.<key>, which Qdrant's
// nested key syntax filters on.
const (
	keyOrg        = "org_id"
	keyUser       = "user_id"
	keyApp        = "app_id"
	keyCategories = "categories"
	keyMetadata   = "metadata"
	keyCreated    = "created_at_ms"
)

// CollectionName maps a model to its collection: engram_ + the model name
// with anything but letters, digits, - and _ replaced by _.
func CollectionName(prefix, model string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(model) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// tenantConditions is the filter every request carries.
func tenantConditions(t domain.Tenant) []*qdrant.Condition {
	return []*qdrant.Condition{
		qdrant.NewMatchKeyword(keyOrg, string(t.OrgID)),
		qdrant.NewMatchKeyword(keyUser, string(t.UserID)),
	}
}

// searchFilter is the tenant plus the search filter, all required (must).
func searchFilter(t domain.Tenant, f domain.SearchFilter) (*qdrant.Filter, error) {
	must := tenantConditions(t)
	if f.App != "" {
		must = append(must, qdrant.NewMatchKeyword(keyApp, string(f.App)))
	}
	for _, c := range f.Categories {
		must = append(must, qdrant.NewMatchKeyword(keyCategories, c))
	}
	for k, v := range f.Metadata {
		field := keyMetadata + "." + k
		switch val := v.(type) {
		case string:
			must = append(must, qdrant.NewMatchKeyword(field, val))
		case bool:
			must = append(must, qdrant.NewMatchBool(field, val))
		case float64:
			// Qdrant matches integers and keywords exactly; a float equality
			// is the closed range [v, v].
			must = append(must, qdrant.NewRange(field, &qdrant.Range{Gte: &val, Lte: &val}))
		default:
			return nil, domain.Invalid("filters.metadata", "filter on %q must be a string, number or boolean", k)
		}
	}
	if !f.CreatedAfter.IsZero() || !f.CreatedBefore.IsZero() {
		r := &qdrant.Range{}
		if !f.CreatedAfter.IsZero() {
			v := float64(f.CreatedAfter.UnixMilli())
			r.Gte = &v
		}
		if !f.CreatedBefore.IsZero() {
			v := float64(f.CreatedBefore.UnixMilli())
			r.Lt = &v
		}
		must = append(must, qdrant.NewRange(keyCreated, r))
	}
	return &qdrant.Filter{Must: must}, nil
}

func searchRequest(collection string, t domain.Tenant, vector []float32, k int, f domain.SearchFilter) (*qdrant.QueryPoints, error) {
	filter, err := searchFilter(t, f)
	if err != nil {
		return nil, err
	}
	limit := uint64(k)
	return &qdrant.QueryPoints{
		CollectionName: collection,
		Query:          qdrant.NewQuery(vector...),
		Filter:         filter,
		Limit:          &limit,
		WithPayload:    qdrant.NewWithPayload(false),
	}, nil
}

func upsertRequest(collection string, t domain.Tenant, docs []ports.VectorDoc) (*qdrant.UpsertPoints, error) {
	points := make([]*qdrant.PointStruct, len(docs))
	for i, d := range docs {
		md, err := qdrant.TryValueMap(map[string]any(d.Metadata))
		if err != nil {
			return nil, domain.Invalid("metadata", "%v", err)
		}
		cats := make([]*qdrant.Value, len(d.Categories))
		for j, c := range d.Categories {
			cats[j] = qdrant.NewValueString(c)
		}
		points[i] = &qdrant.PointStruct{
			Id:      qdrant.NewIDUUID(string(d.ID)),
			Vectors: qdrant.NewVectors(d.Vector...),
			Payload: map[string]*qdrant.Value{
				keyOrg:        qdrant.NewValueString(string(t.OrgID)),
				keyUser:       qdrant.NewValueString(string(t.UserID)),
				keyApp:        qdrant.NewValueString(string(d.AppID)),
				keyCategories: qdrant.NewValueFromList(cats...),
				keyMetadata:   qdrant.NewValueStruct(&qdrant.Struct{Fields: md}),
				keyCreated:    qdrant.NewValueInt(d.CreatedAt.UnixMilli()),
			},
		}
	}
	wait := true
	return &qdrant.UpsertPoints{CollectionName: collection, Points: points, Wait: &wait}, nil
}

// deleteRequest selects points by id AND tenant: a tenant can only delete
// its own points even when it names another tenant's id.
func deleteRequest(collection string, t domain.Tenant, ids []domain.MemoryID) *qdrant.DeletePoints {
	pids := make([]*qdrant.PointId, len(ids))
	for i, id := range ids {
		pids[i] = qdrant.NewIDUUID(string(id))
	}
	must := append(tenantConditions(t), qdrant.NewHasID(pids...))
	wait := true
	return &qdrant.DeletePoints{
		CollectionName: collection,
		Points:         qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: must}),
		Wait:           &wait,
	}
}
