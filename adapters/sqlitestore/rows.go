package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/engram-memory/engram/domain"
)

// mapErr translates a driver failure into a domain error kind. It is the one
// place that knows SQLite result codes. Context errors pass through so callers
// can tell a cancelled request from a sick database.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", domain.ErrNotFound, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", domain.ErrAlreadyExists, err)
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %w", domain.ErrConflict, err)
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_ERROR, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			// SQLite refused the statement for its shape: "too many SQL
			// variables", "Expression tree is too large", a string or blob
			// over SQLITE_MAX_LENGTH. The same request fails the same way
			// on a healthy database, so it is the caller's input; as an
			// outage it would be retried and open the breaker that every
			// other tenant shares.
			return fmt.Errorf("%w: the request is too large or complex for one statement: %w", domain.ErrInvalid, err)
		}
	}
	return &domain.UnavailableError{Dependency: "sqlite", Err: err}
}

// memoryCols is the column list every memory query selects, in scanMemory's
// order.
const memoryCols = `id, org_id, user_id, app_id, text, metadata, categories, state, content_hash, created_at, updated_at, agent_id, run_id, expires_at, observed_at, valid_from, valid_to`

// liveSQL keeps memories that have not expired at the instant bound to its
// one parameter (Unix nanoseconds): every read of a memory adds it, so an
// expired memory is gone before the sweeper erases it.
const liveSQL = `(expires_at = 0 OR expires_at > ?)`

// expiryNanos is the stored form of an expiry: 0 for never.
func expiryNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func expiryFromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

// observedNanos is the stored form of a memory's observed_at: created_at
// when the memory was never normalised with one (0 is never stored for a
// memory written by this store; migration 0431 backfilled older rows).
func observedNanos(m domain.Memory) int64 {
	if m.ObservedAt.IsZero() {
		return toNanos(m.CreatedAt)
	}
	return toNanos(m.ObservedAt)
}

// observedFromNanos reads observed_at; 0 (a row an older import wrote
// without it) reads as the creation time, its meaning by default.
func observedFromNanos(n int64, created time.Time) time.Time {
	if n == 0 {
		return created
	}
	return fromNanos(n)
}

// nowNanos is the instant liveSQL compares with.
func nowNanos() int64 { return time.Now().UnixNano() }

type scanner interface{ Scan(dest ...any) error }

func scanMemory(sc scanner) (domain.Memory, error) {
	var (
		m              domain.Memory
		md, cats       string
		created, upd   int64
		expires        int64
		observed       int64
		vfrom, vto     int64
		id, org, user  string
		app, state, ch string
	)
	if err := sc.Scan(&id, &org, &user, &app, &m.Text, &md, &cats, &state, &ch, &created, &upd, &m.AgentID, &m.RunID, &expires, &observed, &vfrom, &vto); err != nil {
		return domain.Memory{}, err
	}
	m.ID, m.OrgID, m.UserID, m.AppID = domain.MemoryID(id), domain.OrgID(org), domain.UserID(user), domain.AppID(app)
	m.State, m.ContentHash = domain.State(state), ch
	m.CreatedAt, m.UpdatedAt, m.ExpiresAt = fromNanos(created), fromNanos(upd), expiryFromNanos(expires)
	m.ObservedAt, m.ValidFrom, m.ValidTo = observedFromNanos(observed, m.CreatedAt), expiryFromNanos(vfrom), expiryFromNanos(vto)
	if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
		return domain.Memory{}, fmt.Errorf("decode metadata of %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(cats), &m.Categories); err != nil {
		return domain.Memory{}, fmt.Errorf("decode categories of %s: %w", id, err)
	}
	return m, nil
}

// memoryArgs returns m's values in memoryCols order, JSON encoded where the
// column is JSON.
func memoryArgs(m domain.Memory) ([]any, error) {
	md, err := json.Marshal(nonNilMD(m.Metadata))
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	cats, err := json.Marshal(nonNilCats(m.Categories))
	if err != nil {
		return nil, fmt.Errorf("encode categories: %w", err)
	}
	return []any{
		string(m.ID), string(m.OrgID), string(m.UserID), string(m.AppID), m.Text, string(md), string(cats),
		string(m.State), m.ContentHash, toNanos(m.CreatedAt), toNanos(m.UpdatedAt), m.AgentID, m.RunID, expiryNanos(m.ExpiresAt),
		observedNanos(m), expiryNanos(m.ValidFrom), expiryNanos(m.ValidTo),
	}, nil
}

func nonNilMD(md domain.Metadata) domain.Metadata {
	if md == nil {
		return domain.Metadata{}
	}
	return md
}

func nonNilCats(c []string) []string {
	if c == nil {
		return []string{}
	}
	return c
}

// valuesJSON is the stored form of a history entry's old or new values.
type valuesJSON struct {
	Text       string          `json:"text"`
	Metadata   domain.Metadata `json:"metadata"`
	Categories []string        `json:"categories"`
	State      domain.State    `json:"state"`
}

func encodeValues(v *domain.MemoryValues) (any, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(valuesJSON{Text: v.Text, Metadata: nonNilMD(v.Metadata), Categories: nonNilCats(v.Categories), State: v.State})
	if err != nil {
		return nil, fmt.Errorf("encode history values: %w", err)
	}
	return string(raw), nil
}

func decodeValues(raw sql.NullString) (*domain.MemoryValues, error) {
	if !raw.Valid {
		return nil, nil
	}
	var v valuesJSON
	if err := json.Unmarshal([]byte(raw.String), &v); err != nil {
		return nil, fmt.Errorf("decode history values: %w", err)
	}
	return &domain.MemoryValues{Text: v.Text, Metadata: v.Metadata, Categories: v.Categories, State: v.State}, nil
}

// Times are stored as Unix nanoseconds: exact, and ordered as integers.
func toNanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// now returns the current time, strictly after prev, so that UpdatedAt never
// stands still or runs backwards even when the caller's clock did.
func now(prev time.Time) time.Time {
	t := time.Now().UTC()
	if !t.After(prev) {
		t = prev.Add(time.Microsecond)
	}
	return t
}
