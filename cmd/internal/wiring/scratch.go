package wiring

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"

	_ "github.com/lib/pq" // the "postgres" database/sql driver
)

// ScratchSchemaPrefix begins the name of every scratch schema
// ScratchPostgresSchema creates, so that one left by a killed process is
// recognisable (and safe to drop).
const ScratchSchemaPrefix = "engram_scratch_"

// ScratchPostgresSchema creates an empty schema with a fresh random name in
// the database at base and returns a URL whose search_path is that schema
// (opening it migrates the schema like any other) and drop, which removes
// the schema and everything in it. The role of base needs CREATE on the
// database. `engram backup verify --scratch-postgres` restores into one.
func ScratchPostgresSchema(ctx context.Context, base string) (schemaURL string, drop func(context.Context) error, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("scratch schema: the PostgreSQL URL does not parse: %w", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	schema := ScratchSchemaPrefix + hex.EncodeToString(b[:])
	db, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, fmt.Errorf("scratch schema: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = db.Close()
		return "", nil, fmt.Errorf("scratch schema: create %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop = func(ctx context.Context) error {
		defer db.Close()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			return fmt.Errorf("scratch schema: drop %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}
