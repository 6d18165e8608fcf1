package httpapi

import (
	"strings"
)

// pruneComponents deletes the components that nothing served refers to:
// once servedSpec drops a fragment's paths, the schemas, responses and
// parameters only those paths used would otherwise stay in the document,
// which generators (openapi-typescript) and linters refuse or warn about.
// Reachability starts from everything outside components and follows each
// "$ref" to a component, transitively; a security scheme is reached by
// name from a security requirement. Kinds left empty are removed.
func pruneComponents(doc map[string]any) {
	comps, _ := doc["components"].(map[string]any)
	if comps == nil {
		return
	}
	reached := map[[2]string]bool{}
	var queue [][2]string
	reach := func(kind, name string) {
		k := [2]string{kind, name}
		if !reached[k] {
			reached[k] = true
			queue = append(queue, k)
		}
	}
	rest := make(map[string]any, len(doc))
	for key, v := range doc {
		if key != "components" {
			rest[key] = v // the top level's security list included
		}
	}
	collectRefs(rest, reach)
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if kind, _ := comps[k[0]].(map[string]any); kind != nil {
			collectRefs(kind[k[1]], reach)
		}
	}
	for kind, v := range comps {
		entries, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for name := range entries {
			if !reached[[2]string{kind, name}] {
				delete(entries, name)
			}
		}
		if len(entries) == 0 {
			delete(comps, kind)
		}
	}
}

// collectRefs calls reach for every component v refers to: a $ref of the
// form #/components/KIND/NAME[/…] and every scheme named in a security
// requirement list.
func collectRefs(v any, reach func(kind, name string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			switch k {
			case "$ref":
				if ref, ok := e.(string); ok {
					if rest, ok := strings.CutPrefix(ref, "#/components/"); ok {
						parts := strings.SplitN(rest, "/", 3)
						if len(parts) >= 2 {
							reach(parts[0], unescapePointer(parts[1]))
						}
					}
				}
			case "security":
				if reqs, ok := e.([]any); ok {
					for _, r := range reqs {
						req, _ := r.(map[string]any)
						for name := range req {
							reach("securitySchemes", name)
						}
					}
				}
			}
			collectRefs(e, reach)
		}
	case []any:
		for _, e := range t {
			collectRefs(e, reach)
		}
	}
}

// unescapePointer undoes JSON Pointer escaping (RFC 6901): ~1 is /, ~0 is ~.
func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
