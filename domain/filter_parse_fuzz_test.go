package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/engram-memory/engram/domain"
)

// FuzzParseFilter feeds arbitrary JSON to the filter language's parser: it
// never panics, what it accepts stays within the bounds the stores' SQL
// relies on (depth, comparisons, in-list length), every comparison has a
// known field and operator, and Eval runs on whatever it built.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		`{"user_id": "alice", "agent_id": "planner"}`,
		`{"AND": [{"run_id": {"in": ["a", "b"]}}, {"OR": [{"metadata.k": {"gte": 3}}, {"NOT": {"categories": "x"}}]}]}`,
		`{"metadata": {"tag": {"icontains": "MORN"}, "ok": true}, "created_at": {"gte": "2026-01-01"}}`,
		`{"NOT": [{"app_id": {"contains": "cur"}}, {"updated_at": {"lt": "2026-01-01T00:00:00Z"}}]}`,
		`{"agent_id": "*", "OR": [{"user_id": "a"}]}`,
		`{"AND": [{"AND": [{"AND": [{"AND": [{"AND": [{"run_id": "x"}]}]}]}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var obj map[string]any
		if json.Unmarshal(raw, &obj) != nil || obj == nil {
			return
		}
		flt, err := domain.ParseFilter(obj)
		if err != nil {
			return
		}
		if d := depth(flt); d > domain.MaxFilterDepth+2 {
			t.Fatalf("accepted a filter %d levels deep", d)
		}
		n := 0
		flt.Leaves(func(l domain.Filter) {
			n++
			switch l.Field {
			case domain.FieldUserID, domain.FieldAgentID, domain.FieldRunID, domain.FieldAppID, domain.FieldCategories,
				domain.FieldMetadata, domain.FieldCreatedAt, domain.FieldUpdatedAt:
			default:
				t.Fatalf("accepted field %q", l.Field)
			}
			if vs, ok := l.Value.([]any); ok && len(vs) > domain.MaxFilterInValues {
				t.Fatalf("accepted %d values", len(vs))
			}
		})
		if n > domain.MaxFilterLeaves {
			t.Fatalf("accepted %d comparisons", n)
		}
		flt.Eval(domain.Memory{Metadata: domain.Metadata{"k": 3.0, "tag": "Morning"}, Categories: []string{"x"}})
		_, _, _ = domain.SplitUser(flt)
	})
}

func depth(f domain.Filter) int {
	d := 0
	for _, x := range append(append([]domain.Filter{}, f.And...), f.Or...) {
		d = max(d, depth(x))
	}
	if f.Not != nil {
		d = max(d, depth(*f.Not))
	}
	if f.Field != "" {
		return 0
	}
	return d + 1
}
