// Package pgmigrations embeds Engram's PostgreSQL schema as numbered
// golang-migrate files (NNNN_name.up.sql / .down.sql).
//
// The migrations run as the schema owner (the migrator role) into the
// current schema, so a search_path in the URL places them anywhere. They
// create the NOLOGIN role engram_app when it is missing and grant it DML only:
// the server's login role is made a member of engram_app and is neither the
// owner nor BYPASSRLS, so row-level security always applies to it.
// Every later migration that adds a tenant table must enable and force
// row-level security on it and grant it to engram_app the same way.
package pgmigrations

import "embed"

// FS holds the migration files for golang-migrate's iofs source.
//
//go:embed *.sql
var FS embed.FS
