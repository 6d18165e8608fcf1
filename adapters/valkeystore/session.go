package valkeystore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
)

// A session is two keys sharing a hash tag: "ix", a sorted set of event ids
// scored by creation time in microseconds (exact in a float64 until 2255),
// and "ev", a hash from event id to the event's JSON. Equal scores order by
// id, and ids are UUIDv7, so the set's order is (CreatedAt, ID).

// appendEvent adds one event, trims the oldest beyond the cap and refreshes
// both keys' TTL, atomically.
// KEYS: ev, ix. ARGV: id, score, json, ttl ms, max events.
// Returns the event count, or -1 when the id is already there.
var appendEvent = valkey.NewLuaScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return -1 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local n = redis.call('ZCARD', KEYS[2])
local drop = n - tonumber(ARGV[5])
if drop > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, drop - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, drop - 1)
  -- unpack is bounded by the Lua stack (about 8000 values): delete in chunks
  -- in case the cap was lowered under a long session.
  for i = 1, #old, 1000 do
    redis.call('HDEL', KEYS[1], unpack(old, i, math.min(i + 999, #old)))
  end
  n = n - drop
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return n
`)

// newestEvents returns the events of ranks ARGV[1]..ARGV[2], newest first,
// in one round trip and one consistent view.
// KEYS: ev, ix.
var newestEvents = valkey.NewLuaScriptReadOnly(`
local ids = redis.call('ZREVRANGE', KEYS[2], ARGV[1], ARGV[2])
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(ids))
`)

// storedEvent is an event's JSON in the "ev" hash.
type storedEvent struct {
	ID       string          `json:"id"`
	Role     domain.Role     `json:"role"`
	Text     string          `json:"text"`
	Metadata domain.Metadata `json:"md,omitempty"`
	At       int64           `json:"at"` // unix microseconds
}

// Append implements ports.SessionStore.
func (s *Store) Append(ctx context.Context, t domain.Tenant, sid domain.SessionID, e domain.SessionEvent) (domain.SessionEvent, error) {
	ex, err := s.appendExec(t, sid, &e)
	if err != nil {
		return domain.SessionEvent{}, fmt.Errorf("valkeystore: append to session %s: %w", sid, err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	n, err := appendEvent.Exec(ctx, s.c, ex.Keys, ex.Args).AsInt64()
	if err := appendResult(n, err, e.ID); err != nil {
		return domain.SessionEvent{}, fmt.Errorf("valkeystore: append to session %s: %w", sid, err)
	}
	return e, nil
}

// AppendBatch appends many events to one session in one pipelined round
// trip (DoMulti). Each event is atomic on its own; the batch is not: on
// error some events may have landed. It is for bulk import and benchmarks.
func (s *Store) AppendBatch(ctx context.Context, t domain.Tenant, sid domain.SessionID, es []domain.SessionEvent) error {
	execs := make([]valkey.LuaExec, len(es))
	for i := range es {
		ex, err := s.appendExec(t, sid, &es[i])
		if err != nil {
			return fmt.Errorf("valkeystore: append batch to session %s: event %d: %w", sid, i, err)
		}
		execs[i] = ex
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	for i, r := range appendEvent.ExecMulti(ctx, s.c, execs...) {
		n, err := r.AsInt64()
		if err := appendResult(n, err, es[i].ID); err != nil {
			return fmt.Errorf("valkeystore: append batch to session %s: %w", sid, err)
		}
	}
	return nil
}

func (s *Store) appendExec(t domain.Tenant, sid domain.SessionID, e *domain.SessionEvent) (valkey.LuaExec, error) {
	if err := e.Normalize(); err != nil {
		return valkey.LuaExec{}, err
	}
	at := e.CreatedAt.UnixMicro()
	raw, err := json.Marshal(storedEvent{ID: e.ID, Role: e.Role, Text: e.Text, Metadata: e.Metadata, At: at})
	if err != nil {
		return valkey.LuaExec{}, domain.Invalid("metadata", "%v", err)
	}
	ev, ix := s.sessionKeys(t, sid)
	return valkey.LuaExec{
		Keys: []string{ev, ix},
		Args: []string{e.ID, strconv.FormatInt(at, 10), string(raw),
			strconv.FormatInt(max(1, s.o.SessionTTL.Milliseconds()), 10), strconv.Itoa(s.o.MaxEvents)},
	}, nil
}

func appendResult(n int64, err error, id string) error {
	if err != nil {
		return mapErr(err)
	}
	if n < 0 {
		return fmt.Errorf("event %s: %w", id, domain.ErrAlreadyExists)
	}
	return nil
}

// sessionKeys names the two keys of a session. Tenant ids may contain ':'
// (the separator), so it is escaped, and '%' with it; session ids cannot
// contain either.
func (s *Store) sessionKeys(t domain.Tenant, sid domain.SessionID) (ev, ix string) {
	base := s.o.Prefix + ":sess:{" + escapeKeyPart(string(t.OrgID)) + ":" + escapeKeyPart(string(t.UserID)) + ":" + string(sid) + "}:"
	return base + "ev", base + "ix"
}

var keyPartEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

func escapeKeyPart(p string) string { return keyPartEscaper.Replace(p) }

func decodeEvent(raw string) (domain.SessionEvent, error) {
	var se storedEvent
	if err := json.Unmarshal([]byte(raw), &se); err != nil {
		return domain.SessionEvent{}, fmt.Errorf("decode event: %w", err)
	}
	md := se.Metadata
	if md == nil {
		md = domain.Metadata{}
	}
	return domain.SessionEvent{
		ID: se.ID, Role: se.Role, Text: se.Text, Metadata: md,
		CreatedAt: time.UnixMicro(se.At).UTC(),
	}, nil
}
