package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

var _ ports.PlaintextSealer = (*Store)(nil)

// sealRow is one row of a sealed table as a batch reads it: its keyset
// key, the row id its values are bound to, its user and the stored values
// of the table's columns (sealedTable.cols).
type sealRow struct {
	key  any
	id   string
	t    domain.Tenant
	vals []sql.NullString
}

// sealedTable is a table holding sealed columns: how to walk it and how to
// seal one row in the batch's transaction.
type sealedTable struct {
	name, key, id string
	cols          []string
	where         string // rows worth reading
	start         any    // the key before every key
	seal          func(ctx context.Context, tx *sql.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error
}

// sealedTables are every column the store seals (datakeys.go, the
// uisessions and feedback_querylog writers), in the order walked.
func (s *Store) sealedTables() []sealedTable {
	return []sealedTable{
		{name: "memories", key: "id", id: "id", cols: []string{"text", "metadata", "content_hash", "state", "agent_id", "run_id"},
			where: "erased = 0", start: "", seal: s.sealMemoryRow},
		{name: "memory_changes", key: "seq", id: "memory_id", cols: []string{"old_values", "new_values"}, start: int64(0), seal: sealChangeRow},
		{name: "query_logs", key: "id", id: "id", cols: []string{"query"}, start: "", seal: sealTextColumns("query_logs", "id", "query")},
		{name: "ui_sessions", key: "id_hash", id: "id_hash", cols: []string{"access_token", "refresh_token"}, start: "",
			seal: sealTextColumns("ui_sessions", "id_hash", "access_token", "refresh_token")},
	}
}

// SealPlaintext implements ports.PlaintextSealer. Each batch reads its
// rows' users first and makes their data keys (sealingKey commits a new key
// in a transaction of its own, as every writer does), then reads the same
// key range again in the write transaction, which SQLite runs alone: a row
// a server rewrote meanwhile is read as rewritten.
func (s *Store) SealPlaintext(ctx context.Context, batch int, progress func(ports.SealCount)) ([]ports.SealCount, error) {
	if s.keys.w == nil || !s.keys.encrypt {
		return nil, domain.Invalid("encryption", "is off or no key-encryption key is configured: nothing to seal with")
	}
	if batch <= 0 {
		return nil, domain.Invalid("batch", "must be positive, got %d", batch)
	}
	var out []ports.SealCount
	for _, tb := range s.sealedTables() {
		c, err := s.sealTable(ctx, tb, batch, progress)
		out = append(out, c)
		if err != nil {
			return out, fmt.Errorf("sqlitestore: seal plaintext %s: %w", tb.name, err)
		}
	}
	return out, nil
}

func (s *Store) sealTable(ctx context.Context, tb sealedTable, batch int, progress func(ports.SealCount)) (ports.SealCount, error) {
	c := ports.SealCount{Table: tb.name}
	where := ""
	if tb.where != "" {
		where = " AND " + tb.where
	}
	cols := ""
	for _, col := range tb.cols {
		cols += ", " + col
	}
	cursor := tb.start
	for {
		// The batch's key range and users, read outside the write lock.
		last, users, err := s.sealBatchRange(ctx, tb, where, cursor, batch)
		if err != nil || last == nil {
			return c, err
		}
		keys := map[domain.Tenant]*ports.DataKey{}
		for _, t := range users {
			dk, err := s.sealingKey(ctx, t)
			if err != nil && !errors.Is(err, ports.ErrKeyDestroyed) {
				return c, err
			}
			keys[t] = dk
		}
		err = s.write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT `+tb.key+`, `+tb.id+`, org_id, user_id`+cols+` FROM `+tb.name+`
				WHERE `+tb.key+` > ? AND `+tb.key+` <= ?`+where+` ORDER BY `+tb.key, cursor, last)
			if err != nil {
				return mapErr(err)
			}
			var rs []sealRow
			for rows.Next() {
				r := sealRow{vals: make([]sql.NullString, len(tb.cols))}
				var org, user string
				dest := []any{&r.key, &r.id, &org, &user}
				for i := range r.vals {
					dest = append(dest, &r.vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return mapErr(err)
				}
				r.t = domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
				rs = append(rs, r)
			}
			if err := rows.Close(); err != nil {
				return mapErr(err)
			}
			if err := rows.Err(); err != nil {
				return mapErr(err)
			}
			for _, r := range rs {
				c.Read++
				dk := keys[r.t]
				if dk == nil {
					// A user that appeared after the range was read, or
					// whose key an erasure destroyed: the next run.
					c.Skipped++
					continue
				}
				if err := tb.seal(ctx, tx, dk, r, &c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return c, err
		}
		cursor = last
		if progress != nil {
			progress(c)
		}
	}
}

// sealBatchRange returns the last key of the next batch after cursor (nil
// when there is none) and the users of its rows.
func (s *Store) sealBatchRange(ctx context.Context, tb sealedTable, where string, cursor any, batch int) (any, []domain.Tenant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tb.key+`, org_id, user_id FROM `+tb.name+`
		WHERE `+tb.key+` > ?`+where+` ORDER BY `+tb.key+` LIMIT ?`, cursor, batch)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	defer rows.Close()
	var (
		last  any
		users []domain.Tenant
	)
	seen := map[domain.Tenant]bool{}
	for rows.Next() {
		var org, user string
		if err := rows.Scan(&last, &org, &user); err != nil {
			return nil, nil, mapErr(err)
		}
		t := domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
		if !seen[t] {
			seen[t] = true
			users = append(users, t)
		}
	}
	return last, users, mapErr(rows.Err())
}

// sealMemoryRow seals a memory's text and metadata values and keys its
// content hash. The text index's entry gets the new hash too (it is in
// this file), so that it does not read as drift.
func (s *Store) sealMemoryRow(ctx context.Context, tx *sql.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error {
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
		var dup int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM memories WHERE org_id = ? AND user_id = ? AND agent_id = ? AND run_id = ?
			AND content_hash = ? AND state = 'active' AND id <> ?`, string(r.t.OrgID), string(r.t.UserID), agent, run, newHash, r.id).Scan(&dup)
		if err != nil {
			return mapErr(err)
		}
		if dup > 0 {
			c.Kept++
			newHash = hash
		}
	}
	if !sealedText && !sealedMD && newHash == hash {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE memories SET text = ?, metadata = ?, content_hash = ? WHERE id = ?`,
		newText, string(newMD), newHash, r.id); err != nil {
		return mapErr(err)
	}
	if newHash != hash {
		c.Rehashed++
		if _, err := tx.ExecContext(ctx, `UPDATE search_docs SET content_hash = ? WHERE org_id = ? AND user_id = ? AND memory_id = ? AND content_hash = ?`,
			newHash, string(r.t.OrgID), string(r.t.UserID), r.id, hash); err != nil {
			return mapErr(err)
		}
	}
	if sealedText || sealedMD {
		c.Sealed++
	}
	return nil
}

// sealChangeRow seals a history entry's snapshots (text and metadata
// values, bound to the memory's id as the row's own are).
func sealChangeRow(ctx context.Context, tx *sql.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error {
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
	if _, err := tx.ExecContext(ctx, `UPDATE memory_changes SET old_values = ?, new_values = ? WHERE seq = ?`, vals[0], vals[1], r.key); err != nil {
		return mapErr(err)
	}
	c.Sealed++
	return nil
}

// sealTextColumns seals plain text columns whose field names are the
// column names, bound to the row's id column.
func sealTextColumns(table, id string, cols ...string) func(context.Context, *sql.Tx, *ports.DataKey, sealRow, *ports.SealCount) error {
	set := ""
	for i, col := range cols {
		if i > 0 {
			set += ", "
		}
		set += col + " = ?"
	}
	return func(ctx context.Context, tx *sql.Tx, dk *ports.DataKey, r sealRow, c *ports.SealCount) error {
		args := make([]any, 0, len(cols)+1)
		changed := false
		for i, col := range cols {
			v, ok := ports.SealPlain(dk, r.id, col, r.vals[i].String)
			args, changed = append(args, v), changed || ok
		}
		if !changed {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET `+set+` WHERE `+id+` = ?`, append(args, r.id)...); err != nil {
			return mapErr(err)
		}
		c.Sealed++
		return nil
	}
}
