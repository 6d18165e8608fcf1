package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.PlaintextSealer = (*Store)(nil)

// sealRow is one row of a sealed table as a batch reads it: its keyset key
// (as text), the row id its values are bound to, its user and the stored
// values of the table's columns (as text).
type sealRow struct {
	key, id string
	t       domain.Tenant
	vals    []sql.NullString
}

// sealedTable is a table holding sealed columns: how to walk it (keyset on
// key, cast from text by keyType) and how to seal one row in the batch's
// transaction.
type sealedTable struct {
	name, key, keyType, id string
	cols                   []string // selected as text
	where                  string
	start                  string
	seal                   func(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error
}

// sealedTables are every column the store seals (datakeys.go, the
// uisessions and feedback_querylog writers), in the order walked.
func sealedTables() []sealedTable {
	const zeroUUID = "00000000-0000-0000-0000-000000000000"
	return []sealedTable{
		{name: "memories", key: "id", keyType: "uuid", id: "id::text", cols: []string{"text", "metadata::text", "content_hash", "state", "agent_id", "run_id"},
			where: "erased_at IS NULL", start: zeroUUID, seal: sealMemoryRow},
		{name: "memory_changes", key: "seq", keyType: "bigint", id: "memory_id::text", cols: []string{"old_values::text", "new_values::text"}, start: "0", seal: sealChangeRow},
		{name: "query_logs", key: "id", keyType: "uuid", id: "id::text", cols: []string{"query"}, start: zeroUUID,
			seal: sealTextColumns("query_logs", "id", "uuid", "query")},
		{name: "ui_sessions", key: "id_hash", keyType: "text", id: "id_hash", cols: []string{"access_token", "refresh_token"}, start: "",
			seal: sealTextColumns("ui_sessions", "id_hash", "text", "access_token", "refresh_token")},
	}
}

// SealPlaintext implements ports.PlaintextSealer, org by org (memory_orgs
// lists every org that holds a sealed table's row), each batch in a
// transaction of the org's row-level security scope, as every write. A
// batch reads its rows' users first and makes their data keys (sealingKey
// commits a new key in a transaction of its own), then reads the same key
// range again FOR UPDATE in the write transaction: a row a server rewrites
// meanwhile waits or is read as rewritten.
func (s *Store) SealPlaintext(ctx context.Context, batch int, progress func(ports.SealCount)) ([]ports.SealCount, error) {
	if s.keys.w == nil || !s.keys.encrypt {
		return nil, domain.Invalid("encryption", "is off or no key-encryption key is configured: nothing to seal with")
	}
	if batch <= 0 {
		return nil, domain.Invalid("batch", "must be positive, got %d", batch)
	}
	orgs, err := s.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	var out []ports.SealCount
	for _, tb := range sealedTables() {
		c := ports.SealCount{Table: tb.name}
		for _, org := range orgs {
			if err := s.sealTable(ctx, org, tb, batch, &c, progress); err != nil {
				return append(out, c), fmt.Errorf("pgstore: seal plaintext %s of org %s: %w", tb.name, org, mapErr(err))
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Store) sealTable(ctx context.Context, org domain.OrgID, tb sealedTable, batch int, c *ports.SealCount, progress func(ports.SealCount)) error {
	where := ""
	if tb.where != "" {
		where = " AND " + tb.where
	}
	cols := ", " + strings.Join(tb.cols, ", ")
	cursor := tb.start
	for {
		var head []struct {
			Key    string `db:"k"`
			UserID string `db:"user_id"`
		}
		if err := s.inTx(ctx, org, true, func(tx *sqlx.Tx) error {
			return tx.SelectContext(ctx, &head, `SELECT `+tb.key+`::text AS k, user_id FROM `+tb.name+`
				WHERE org_id = $1 AND `+tb.key+` > $2::`+tb.keyType+where+` ORDER BY `+tb.key+` LIMIT $3`, org, cursor, batch)
		}); err != nil {
			return err
		}
		if len(head) == 0 {
			return nil
		}
		last := head[len(head)-1].Key
		keys := map[domain.UserID]*ports.DataKey{}
		for _, h := range head {
			u := domain.UserID(h.UserID)
			if _, ok := keys[u]; ok {
				continue
			}
			dk, err := s.sealingKey(ctx, domain.Tenant{OrgID: org, UserID: u})
			if err != nil && !errors.Is(err, ports.ErrKeyDestroyed) {
				return err
			}
			keys[u] = dk
		}
		run := *c
		err := s.inTx(ctx, org, false, func(tx *sqlx.Tx) error {
			run = *c
			rows, err := tx.QueryContext(ctx, `SELECT `+tb.key+`::text, `+tb.id+`, user_id`+cols+` FROM `+tb.name+`
				WHERE org_id = $1 AND `+tb.key+` > $2::`+tb.keyType+` AND `+tb.key+` <= $3::`+tb.keyType+where+`
				ORDER BY `+tb.key+` FOR UPDATE`, org, cursor, last)
			if err != nil {
				return err
			}
			var rs []sealRow
			for rows.Next() {
				r := sealRow{vals: make([]sql.NullString, len(tb.cols))}
				var user string
				dest := []any{&r.key, &r.id, &user}
				for i := range r.vals {
					dest = append(dest, &r.vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return err
				}
				r.t = domain.Tenant{OrgID: org, UserID: domain.UserID(user)}
				rs = append(rs, r)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range rs {
				run.Read++
				dk := keys[r.t.UserID]
				if dk == nil {
					// A user that appeared after the range was read, or
					// whose key an erasure destroyed: the next run.
					run.Skipped++
					continue
				}
				if err := tb.seal(ctx, tx, dk, r, &run); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		*c = run
		cursor = last
		if progress != nil {
			progress(*c)
		}
	}
}

// sealMemoryRow seals a memory's text and metadata values and keys its
// content hash. The text index's entry (memory_search, when this store is
// the text index) gets the new hash too, so that it does not read as drift.
func sealMemoryRow(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error {
	text, md, hash, state, agent, run := r.vals[0].String, r.vals[1].String, r.vals[2].String, r.vals[3].String, r.vals[4].String, r.vals[5].String
	newText, sealedText := ports.SealPlain(dk, r.id, "text", text)
	newMD, sealedMD, err := ports.SealPlainMetadata(dk, r.id, []byte(md))
	if err != nil {
		return err
	}
	plain := text
	if !sealedText && ports.Sealed(text) {
		if plain, err = dk.Open(r.id, "text", text); err != nil {
			c.Skipped++
			return nil
		}
	}
	newHash := dk.Hash(plain)
	if newHash != hash && state == string(domain.StateActive) {
		var dup bool
		if err := tx.GetContext(ctx, &dup, `SELECT EXISTS (SELECT 1 FROM memories WHERE org_id = $1 AND user_id = $2 AND agent_id = $3
			AND run_id = $4 AND content_hash = $5 AND state = 'active' AND id <> $6::uuid)`,
			r.t.OrgID, r.t.UserID, agent, run, newHash, r.id); err != nil {
			return err
		}
		if dup {
			c.Kept++
			newHash = hash
		}
	}
	if !sealedText && !sealedMD && newHash == hash {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE memories SET text = $2, metadata = $3::jsonb, content_hash = $4 WHERE id = $1::uuid`,
		r.id, newText, string(newMD), newHash); err != nil {
		return err
	}
	if newHash != hash {
		c.Rehashed++
		if _, err := tx.ExecContext(ctx, `UPDATE memory_search SET content_hash = $4 WHERE org_id = $1 AND user_id = $2 AND memory_id = $3::uuid AND content_hash = $5`,
			r.t.OrgID, r.t.UserID, r.id, newHash, hash); err != nil {
			return err
		}
	}
	if sealedText || sealedMD {
		c.Sealed++
	}
	return nil
}

// sealChangeRow seals a history entry's snapshots (text and metadata
// values, bound to the memory's id as the row's own are).
func sealChangeRow(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error {
	vals := make([]any, 2)
	changed := false
	for i, v := range r.vals {
		if !v.Valid {
			continue
		}
		out, ok, err := ports.SealPlainSnapshot(dk, r.id, []byte(v.String))
		if err != nil {
			return err
		}
		vals[i], changed = string(out), changed || ok
	}
	if !changed {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE memory_changes SET old_values = $2::jsonb, new_values = $3::jsonb WHERE seq = $1::bigint`, r.key, vals[0], vals[1]); err != nil {
		return err
	}
	c.Sealed++
	return nil
}

// sealTextColumns seals plain text columns whose field names are the
// column names, bound to the row's id column.
func sealTextColumns(table, id, idType string, cols ...string) func(context.Context, *sqlx.Tx, *ports.DataKey, sealRow, *ports.SealCount) error {
	set := make([]string, len(cols))
	for i, col := range cols {
		set[i] = fmt.Sprintf("%s = $%d", col, i+2)
	}
	return func(ctx context.Context, tx *sqlx.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error {
		args := []any{r.id}
		changed := false
		for i, col := range cols {
			v, ok := ports.SealPlain(dk, r.id, col, r.vals[i].String)
			args, changed = append(args, v), changed || ok
		}
		if !changed {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+strings.Join(set, ", ")+` WHERE `+id+` = $1::`+idType, args...); err != nil {
			return err
		}
		c.Sealed++
		return nil
	}
}
