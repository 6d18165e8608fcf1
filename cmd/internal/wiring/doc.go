// Package wiring is Engram's one composition root: the only place that
// chooses adapters. Every binary resolves a config.Config (config.Load for
// engramd, config.ForCommand for an engram subcommand) and then calls the
// pieces it needs; none imports an adapter to pick a backend itself.
//
// The pieces, each one switch on the configuration, each returning a value
// that owns what it opened (call its Close):
//
//	OpenStore(ctx, cfg, log)      the system of record (SQLite or PostgreSQL) as a Backend:
//	                              every port its tables serve, plus its optional
//	                              capabilities (scanner, own text index, drift), undecorated
//	OpenCaches(ctx, cfg, log, keys) replay cache, rate limiter, sessions, idempotency (in-process or Valkey)
//	OpenSearch(ctx, cfg, b)       embedder, vector index (in-process or Qdrant) and text
//	                              index (the store's own or Elasticsearch)
//	NewCore(ctx, b, s, opts)      the memory, search and index-maintenance use cases over them
//	Migrate / SchemaVersion / ForceVersion   PostgreSQL schema management
//
// Build composes them in a straight line for a serving process (engramd,
// `engram mcp`): open, take capabilities, decorate every port alike with
// telemetry and resilience, build the use cases and transports, and return
// a System. A CLI command that only needs a store writes:
//
//	cfg, err := cc.Load()                  // config.ForCommand(fs, getenv, "data-dir", "postgres-url")
//	b, err := wiring.OpenStore(ctx, cfg, log)
//	defer b.Close()
//	svc := app.NewFeedbackService(app.FeedbackDeps{Feedback: b.Feedback, ...})
//
// Subcommands run with cfg.NoMigrate set (the CLI never migrates behind the
// operator's back; `engram migrate` does that).
package wiring
