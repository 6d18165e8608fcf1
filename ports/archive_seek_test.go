package ports_test

import (
	"slices"
	"testing"

	"github.com/engram-memory/engram/ports"
)

// TestSkipThroughDropsUpToTheDupthRowOfTheKey feeds history rows (keys
// repeat) of two orgs through SkipThrough from a position in the middle of
// a repeated key.
func TestSkipThroughDropsUpToTheDupthRowOfTheKey(t *testing.T) {
	hist, _ := ports.ArchiveTableNamed("memory_history")
	row := func(org, mem, kind string) ports.ArchiveRow {
		v := make([]any, len(hist.Columns))
		v[hist.Col("org_id")], v[hist.Col("memory_id")], v[hist.Col("kind")] = org, mem, kind
		return ports.ArchiveRow{Values: v}
	}
	rows := []ports.ArchiveRow{
		row("a", "m1", "add"), row("a", "m2", "add"), row("a", "m2", "update"), row("a", "m2", "delete"),
		row("b", "m0", "add"), row("b", "m2", "add"),
	}
	cases := []struct {
		pos  ports.CopyPosition
		want []string
	}{
		{ports.CopyPosition{Org: "a", Key: []string{"m2"}, Dup: 2}, []string{"a/m2/delete", "b/m0/add", "b/m2/add"}},
		{ports.CopyPosition{Org: "a", Key: []string{"m2"}, Dup: 3}, []string{"b/m0/add", "b/m2/add"}},
		{ports.CopyPosition{Org: "a", Key: []string{"m1"}, Dup: 1}, []string{"a/m2/add", "a/m2/update", "a/m2/delete", "b/m0/add", "b/m2/add"}},
		{ports.CopyPosition{Org: "b", Key: []string{"m0"}, Dup: 1}, []string{"b/m2/add"}},
		{ports.CopyPosition{Org: "b", Key: []string{"m2"}, Dup: 1}, nil},
	}
	for _, c := range cases {
		var got []string
		fn := ports.SkipThrough(hist, c.pos, func(r ports.ArchiveRow) error {
			got = append(got, r.Values[hist.Col("org_id")].(string)+"/"+r.Values[hist.Col("memory_id")].(string)+"/"+r.Values[hist.Col("kind")].(string))
			return nil
		})
		for _, r := range rows {
			if err := fn(r); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("after %+v: got %q, want %q", c.pos, got, c.want)
		}
	}
}
