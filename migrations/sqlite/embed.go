// Package sqlitemigrations holds the numbered golang-migrate migrations of
// the embedded SQLite store, compiled into the binary so that a fresh data
// directory needs nothing but the executable.
//
// Files are NNNN_name.up.sql / NNNN_name.down.sql; each up has a down that
// undoes it exactly.
package sqlitemigrations

import "embed"

// FS holds every migration file of this directory.
//
//go:embed *.sql
var FS embed.FS
