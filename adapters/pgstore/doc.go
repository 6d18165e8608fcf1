// Package pgstore is the PostgreSQL system of record: memories, their
// history, apps and the access log, behind ports.MemoryStore, ports.AppStore
// and ports.AccessLog. It uses sqlx over lib/pq and golang-migrate for the
// schema in migrations/postgres.
//
// # Tenancy
//
// Two walls keep tenants apart. Every query names org_id and user_id in its
// predicates, and every tenant table has row-level security forced on it
// with a policy on the transaction-local setting engram.org_id. Each call
// runs in an explicit transaction whose first statement is
//
//	SELECT set_config('role', 'engram_app', true),
//	       set_config('engram.org_id', '<org>', true), ...
//
// set_config(..., true) is SET LOCAL: it ends with the transaction, so a
// pooled connection never carries one request's org into the next (a plain
// SET would). An unset org matches no row.
//
// # Roles
//
// Row-level security binds neither superusers nor BYPASSRLS roles, so the
// store never queries as the role it logged in with: each transaction first
// switches to Options.Role (engram_app by default), a NOLOGIN role the
// migrations create with DML grants only. The login role must be a member of
// it; Open and New's Check verify that and that the role cannot bypass
// row-level security. The recommended deployment still gives the server its
// own login role (CREATE ROLE engram LOGIN IN ROLE engram_app) and keeps the
// owner/migrator role for `engram migrate`, so a bug that escaped the role
// switch would hold no more than DML rights.
package pgstore
