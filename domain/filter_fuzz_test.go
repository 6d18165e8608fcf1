package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/engram-memory/engram/domain"
)

// FuzzSearchFilter feeds arbitrary JSON filters (as a search request
// carries them) to validation: it never panics, and whatever it accepts is
// within the bounds every store relies on. Seeds: testdata/fuzz/FuzzSearchFilter.
func FuzzSearchFilter(f *testing.F) {
	f.Add([]byte(`{"app":"cli","categories":["food"],"metadata":{"kind":"fact","n":3,"ok":true}}`))
	f.Add([]byte(`{"metadata":{"":"x"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in struct {
			App        domain.AppID    `json:"app"`
			Categories []string        `json:"categories"`
			Metadata   domain.Metadata `json:"metadata"`
		}
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		flt := domain.SearchFilter{App: in.App, Categories: in.Categories, Metadata: in.Metadata}
		if err := flt.Validate(); err != nil {
			return
		}
		if len(flt.Metadata) > domain.MaxFilterKeys || len(flt.Categories) > domain.MaxCategories {
			t.Fatalf("accepted an over-bound filter: %d keys, %d categories", len(flt.Metadata), len(flt.Categories))
		}
		for k, v := range flt.Metadata {
			if k == "" || len(k) > 256 {
				t.Fatalf("accepted key %q", k)
			}
			switch x := v.(type) {
			case string:
				if len(x) > domain.MaxFilterValueBytes {
					t.Fatalf("accepted a %d-byte value", len(x))
				}
			case float64, bool:
			default:
				t.Fatalf("accepted a %T value", v)
			}
		}
		q := domain.ListQuery{Metadata: in.Metadata}
		_ = q.Validate()
	})
}
