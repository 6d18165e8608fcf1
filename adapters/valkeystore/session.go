package valkeystore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// A session is two keys sharing the user's hash tag (keys.go): "ix", a sorted set of event ids
// scored by creation time in microseconds (exact in a float64 until 2255),
// and "ev", a hash from event id to the event's JSON. Equal scores order by
// id, and ids are UUIDv7, so the set's order is (CreatedAt, ID).

// appendEvent adds one event, trims the oldest beyond the cap, refreshes
// both keys' TTL and books the session's bytes in the user's ledger
// (quota.go), atomically.
// KEYS: ev, ix, ledger h, ledger z. ARGV: id, score, json, ttl ms, max
// events, the user's quota in bytes (0: none), the ledger entry.
// Returns the event count, -1 when the id is already there, or -2
// (overQuota) when the event would take the user past the quota.
var appendEvent = valkey.NewLuaScript(ledgerPrelude + `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return -1 end
local ttl = tonumber(ARGV[4])
local n = redis.call('ZCARD', KEYS[2]) + 1
local drop = n - tonumber(ARGV[5])
local old = {}
local freed = 0
if drop > 0 then
  old = redis.call('ZRANGE', KEYS[2], 0, drop - 1)
  for i = 1, #old do freed = freed + redis.call('HSTRLEN', KEYS[1], old[i]) end
end
local grow = #ARGV[3] - freed
local used = prune(KEYS[3], KEYS[4])
local quota = tonumber(ARGV[6])
if quota > 0 and grow > 0 and used + grow > quota then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if drop > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, drop - 1)
  -- unpack is bounded by the Lua stack (about 8000 values): delete in chunks
  -- in case the cap was lowered under a long session.
  for i = 1, #old, 1000 do
    redis.call('HDEL', KEYS[1], unpack(old, i, math.min(i + 999, #old)))
  end
  n = n - drop
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local size = math.max(0, (tonumber(redis.call('HGET', KEYS[3], ARGV[7])) or 0) + grow)
set(KEYS[3], KEYS[4], ARGV[7], size, ttl)
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
	ex, err := s.appendExec(ctx, t, sid, &e)
	if err != nil {
		return domain.SessionEvent{}, fmt.Errorf("valkeystore: append to session %s: %w", sid, err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	n, err := appendEvent.Exec(ctx, s.c, ex.Keys, ex.Args).AsInt64()
	if err := appendResult(n, err, e.ID, s.quotaError); err != nil {
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
		ex, err := s.appendExec(ctx, t, sid, &es[i])
		if err != nil {
			return fmt.Errorf("valkeystore: append batch to session %s: event %d: %w", sid, i, err)
		}
		execs[i] = ex
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	for i, r := range appendEvent.ExecMulti(ctx, s.c, execs...) {
		n, err := r.AsInt64()
		if err := appendResult(n, err, es[i].ID, s.quotaError); err != nil {
			return fmt.Errorf("valkeystore: append batch to session %s: %w", sid, err)
		}
	}
	return nil
}

// appendExec validates e (the plaintext, so that sealing never turns a
// valid event invalid) and seals it: the script stores, and the ledger
// counts, the sealed form.
func (s *Store) appendExec(ctx context.Context, t domain.Tenant, sid domain.SessionID, e *domain.SessionEvent) (valkey.LuaExec, error) {
	if err := e.Normalize(); err != nil {
		return valkey.LuaExec{}, err
	}
	se, err := ports.SessionSealer{Keys: s.o.SessionKeys}.Seal(ctx, t, sid, *e)
	if err != nil {
		return valkey.LuaExec{}, err
	}
	at := e.CreatedAt.UnixMicro()
	raw, err := json.Marshal(storedEvent{ID: se.ID, Role: se.Role, Text: se.Text, Metadata: se.Metadata, At: at})
	if err != nil {
		return valkey.LuaExec{}, domain.Invalid("metadata", "%v", err)
	}
	ev, ix := s.sessionKeys(t, sid)
	h, z := s.tenantLedger(t)
	return valkey.LuaExec{
		Keys: []string{ev, ix, h, z},
		Args: []string{e.ID, strconv.FormatInt(at, 10), string(raw),
			strconv.FormatInt(max(1, s.o.SessionTTL.Milliseconds()), 10), strconv.Itoa(s.o.MaxEvents),
			strconv.FormatInt(s.o.MaxBytesPerUser, 10), sessionEntry(sid)},
	}, nil
}

func appendResult(n int64, err error, id string, quota func() error) error {
	if err != nil {
		return mapErr(err)
	}
	switch n {
	case overQuota:
		return fmt.Errorf("event %s: %w", id, quota())
	case -1:
		return fmt.Errorf("event %s: %w", id, domain.ErrAlreadyExists)
	}
	return nil
}

// decodeEvent reads an event's JSON as stored; still sealed when it was
// stored sealed (EventOpener opens it).
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
