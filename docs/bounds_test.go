package docs

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// TestEveryRequestFieldIsBounded holds every request schema of the OpenAPI
// description (docs/openapi.yaml and every fragment) to issue 12's rule
// that inputs are bounded and the bound is documented: each string a
// client sends has maxLength (or an enum, a const, a uuid or date-time
// format), each array maxItems, each open object maxProperties, each number
// a maximum. Request bodies and query parameters are walked through every
// $ref, allOf/oneOf/anyOf and nested item. Binary uploads (the archive
// import) are bounded by their byte limit instead.
func TestEveryRequestFieldIsBounded(t *testing.T) {
	docs := []map[string]any{load(t, OpenAPI)}
	for _, f := range OpenAPIFragments() {
		docs = append(docs, load(t, f.YAML))
	}
	schemas := map[string]any{}
	params := map[string]any{}
	for _, d := range docs {
		comp, _ := d["components"].(map[string]any)
		for k, v := range asMap(comp["schemas"]) {
			schemas[k] = v
		}
		for k, v := range asMap(comp["parameters"]) {
			params[k] = v
		}
	}
	w := &boundsWalker{schemas: schemas, seen: map[string]bool{}}
	for _, d := range docs {
		for path, item := range asMap(d["paths"]) {
			for method, op := range asMap(item) {
				opm := asMap(op)
				if opm == nil {
					continue
				}
				where := strings.ToUpper(method) + " " + path
				for _, p := range asList(opm["parameters"]) {
					pm := asMap(p)
					if ref, ok := pm["$ref"].(string); ok {
						pm = asMap(params[strings.TrimPrefix(ref, "#/components/parameters/")])
					}
					if pm["in"] != "query" {
						continue
					}
					w.walk(fmt.Sprintf("%s ?%v", where, pm["name"]), pm["schema"])
				}
				body := asMap(asMap(opm["requestBody"])["content"])
				for ct, media := range body {
					if !strings.Contains(ct, "json") {
						continue
					}
					w.walk(where+" body", asMap(media)["schema"])
				}
			}
		}
	}
	sort.Strings(w.missing)
	for _, m := range w.missing {
		t.Error(m)
	}

	// The documented bounds are the code's: each names the constant the
	// validation uses, so neither can move without the other.
	main, frags := docs[0], map[string]map[string]any{}
	for i, f := range OpenAPIFragments() {
		frags[f.Name] = docs[i+1]
	}
	feedback := fragmentNamed(t, frags, "feedback")
	searchProps := slices.Clip([]any{"paths", "/api/v1/search", "post", "requestBody", "content", "application/json", "schema", "properties"})
	for _, c := range []struct {
		doc  map[string]any
		path []any
		want int
	}{
		{main, []any{"components", "schemas", "CreateMemory", "properties", "text", "maxLength"}, domain.MaxTextBytes},
		{main, []any{"components", "schemas", "Categories", "maxItems"}, domain.MaxCategories},
		{main, []any{"components", "schemas", "Categories", "items", "maxLength"}, domain.MaxCategoryLen},
		{main, []any{"components", "schemas", "Metadata", "x-max-bytes"}, domain.MaxMetadataBytes},
		{main, []any{"components", "schemas", "IDs", "maxItems"}, app.MaxBulkIDs},
		{main, []any{"components", "parameters", "Limit", "schema", "maximum"}, domain.MaxListLimit},
		{main, []any{"components", "parameters", "Cursor", "schema", "maxLength"}, domain.MaxCursorLen},
		{main, []any{"components", "parameters", "State", "schema", "maxItems"}, domain.MaxStateFilters},
		{main, []any{"components", "parameters", "Category", "schema", "maxItems"}, domain.MaxCategories},
		{feedback, append(searchProps, "query", "maxLength"), domain.MaxQueryBytes},
		{feedback, append(searchProps, "limit", "maximum"), domain.MaxSearchLimit},
		{feedback, append(searchProps, "metadata", "maxProperties"), domain.MaxFilterKeys},
		{fragmentNamed(t, frags, "keys"), []any{"paths", "/api/v1/keys", "post", "requestBody", "content", "application/json", "schema", "properties", "scopes", "maxItems"}, app.MaxKeyScopes},
		{feedback, []any{"components", "schemas", "FeedbackInput", "properties", "latency_ms", "maximum"}, domain.MaxFeedbackLatencyMS},
	} {
		got, ok := at(c.doc, c.path...).(int)
		if !ok || got != c.want {
			t.Errorf("%v: documented %v, the code enforces %d", c.path, at(c.doc, c.path...), c.want)
		}
	}
}

// at walks maps by key.
func at(v any, path ...any) any {
	for _, k := range path {
		v = asMap(v)[k.(string)]
	}
	return v
}

func fragmentNamed(t *testing.T, frags map[string]map[string]any, part string) map[string]any {
	t.Helper()
	for name, d := range frags {
		if strings.Contains(name, part) {
			return d
		}
	}
	t.Fatalf("no openapi fragment named %q", part)
	return nil
}

type boundsWalker struct {
	schemas map[string]any
	seen    map[string]bool
	missing []string
}

func (w *boundsWalker) walk(where string, s any) {
	m := asMap(s)
	if m == nil {
		return
	}
	if ref, ok := m["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if w.seen[name] {
			return
		}
		w.seen[name] = true
		w.walk(where+" → "+name, w.schemas[name])
		return
	}
	for _, k := range []string{"allOf", "oneOf", "anyOf"} {
		for i, sub := range asList(m[k]) {
			w.walk(fmt.Sprintf("%s %s[%d]", where, k, i), sub)
		}
	}
	has := func(k string) bool { _, ok := m[k]; return ok }
	types := []string{}
	switch t := m["type"].(type) {
	case string:
		types = append(types, t)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				types = append(types, s)
			}
		}
	}
	for _, typ := range types {
		switch typ {
		case "string":
			f, _ := m["format"].(string)
			if !has("maxLength") && !has("enum") && !has("const") && f != "uuid" && f != "date-time" && f != "binary" {
				w.missing = append(w.missing, where+": string without maxLength")
			}
		case "array":
			if !has("maxItems") {
				w.missing = append(w.missing, where+": array without maxItems")
			}
			w.walk(where+"[]", m["items"])
		case "integer", "number":
			// x-unbounded documents a number that is a value, not a size
			// (an equality filter, a relative weight), with the reason.
			if !has("maximum") && !has("enum") && !has("const") && !has("x-unbounded") {
				w.missing = append(w.missing, where+": number without maximum")
			}
		case "object":
			// x-max-bytes bounds an object by its encoded size (metadata).
			closed := m["additionalProperties"] == false
			if !closed && !has("maxProperties") && !has("x-max-bytes") {
				w.missing = append(w.missing, where+": open object without maxProperties")
			}
			if ap := asMap(m["additionalProperties"]); ap != nil {
				w.walk(where+".*", ap)
			}
		}
	}
	for name, p := range asMap(m["properties"]) {
		w.walk(where+"."+name, p)
	}
}

func load(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var d map[string]any
	if err := yaml.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }
