// Package qdrantindex is the fleet profile's vector index on Qdrant, through
// its gRPC client (github.com/qdrant/go-client).
//
// One collection per embedding model, named engram_<model> (sanitised), with
// cosine distance: vectors of two models can never meet, and switching models
// starts an empty collection that `engram reindex` fills. Every point carries
// org_id and user_id in its payload, both under keyword payload indexes, and
// every search and delete this package builds filters on both — there is no
// code path that queries without the tenant. The request builders are pure
// functions (requests.go) so that tests can check that promise without a
// server.
package qdrantindex
