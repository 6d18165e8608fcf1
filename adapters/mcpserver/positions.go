package mcpserver

import (
	"context"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// sessionPositions is read-your-writes within one MCP session when the
// store reads from replicas: after a write tool succeeds, the session
// remembers the store's commit position, and every later tool call of the
// session reads at least that far (ports.WithReadAfter). A client sees its
// own writes without handling tokens, on whichever instance its session
// lives. Without a source (no replicas) it does nothing.
//
// Entries are keyed by session id (stdio's one session has none) and
// dropped once older than the longest a session may live.
type sessionPositions struct {
	src ports.CommitPositions
	ttl time.Duration

	mu     sync.Mutex
	last   map[string]positionEntry
	pruned time.Time
}

type positionEntry struct {
	pos domain.Consistency
	at  time.Time
}

func sessionKey(ss *mcp.ServerSession) string {
	if ss == nil {
		return ""
	}
	return ss.ID()
}

// readAfter returns ctx asking for the session's last write position.
func (p *sessionPositions) readAfter(ctx context.Context, ss *mcp.ServerSession) context.Context {
	if p.src == nil {
		return ctx
	}
	p.mu.Lock()
	e, ok := p.last[sessionKey(ss)]
	p.mu.Unlock()
	if !ok {
		return ctx
	}
	return ports.WithReadAfter(ctx, e.pos)
}

// wrote records the commit position after a successful write of the
// session. A failure to read it only loses the guarantee for this write
// (the reads may then come from a replica that has not replayed it).
func (p *sessionPositions) wrote(ctx context.Context, ss *mcp.ServerSession) {
	if p.src == nil {
		return
	}
	pos, err := p.src.CommitPosition(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	key := sessionKey(ss)
	if e, ok := p.last[key]; !ok || e.pos < pos {
		p.last[key] = positionEntry{pos: pos, at: now}
	}
	if now.Sub(p.pruned) > time.Minute {
		p.pruned = now
		for k, e := range p.last {
			if now.Sub(e.at) > p.ttl {
				delete(p.last, k)
			}
		}
	}
}
