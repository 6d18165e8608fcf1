// Package esindex is the fleet profile's text index on Elasticsearch
// (go-elasticsearch/v8).
//
// One index holds every tenant's documents; each document is routed by its
// org (all of an org's documents live on one shard, and an org's searches
// touch only that shard) and every query and delete this package builds
// filters on org_id and user_id. Queries are match queries: the text is
// analysed, never parsed as query syntax, so quotes, *, OR, NEAR( and the
// rest are just text. A match_phrase clause boosts exact phrases to the top.
// The request bodies are built by pure functions (requests.go) and checked
// by tests against an httptest server.
package esindex
