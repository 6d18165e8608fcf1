package valkeystore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
)

// listSessions returns the user's live session entries of the ledger
// (quota.go), latest expiry first, at most ARGV[1], as entry, expiry (ms)
// pairs. The ledger also holds idempotency records ("i:"), skipped.
// KEYS: ledger z.
var listSessions = valkey.NewLuaScriptReadOnly(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = tonumber(ARGV[1])
local out = {}
local off = 0
while #out < 2 * want do
  local page = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. now, 'WITHSCORES', 'LIMIT', off, 500)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    if string.sub(page[i], 1, 2) == 's:' and #out < 2 * want then
      out[#out + 1] = page[i]
      out[#out + 1] = page[i + 1]
    end
  end
  off = off + 500
end
return out
`)

// List implements ports.SessionStore from the user's ledger, then counts
// each session's events in one pipelined round trip.
func (s *Store) List(ctx context.Context, t domain.Tenant, limit int) ([]domain.SessionSummary, error) {
	if limit < 1 || limit > domain.MaxSessionList {
		return nil, domain.Invalid("limit", "must be between 1 and %d", domain.MaxSessionList)
	}
	_, z := s.tenantLedger(t)
	raw, err := listSessions.Exec(ctx, s.c, []string{z}, []string{strconv.Itoa(limit)}).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("valkeystore: list sessions: %w", mapErr(err))
	}
	out := make([]domain.SessionSummary, 0, len(raw)/2)
	cmds := make(valkey.Commands, 0, len(raw)/2)
	for i := 0; i+1 < len(raw); i += 2 {
		ms, _ := strconv.ParseFloat(raw[i+1], 64)
		sid := domain.SessionID(strings.TrimPrefix(raw[i], "s:"))
		out = append(out, domain.SessionSummary{ID: sid, ExpiresAt: time.UnixMilli(int64(ms)).UTC()})
		_, ix := s.sessionKeys(t, sid)
		cmds = append(cmds, s.c.B().Zcard().Key(ix).Build())
	}
	if len(cmds) == 0 {
		return out, nil
	}
	for i, r := range s.c.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return nil, fmt.Errorf("valkeystore: list sessions: %w", mapErr(err))
		}
		out[i].Events = int(n)
	}
	// A session whose keys expired a moment before its ledger entry reads
	// as empty: it is gone.
	live := out[:0]
	for _, o := range out {
		if o.Events > 0 {
			live = append(live, o)
		}
	}
	return live, nil
}
