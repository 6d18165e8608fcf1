package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// memRow is a validated memory with its INSERT arguments, encoded before the
// write transaction so that the single writer spends its time in SQLite.
type memRow struct {
	m    domain.Memory
	mem  []any // memoryCols order
	hist []any // histCols order
}

func encodeRow(dk *ports.DataKey, m domain.Memory, at time.Time) (memRow, error) {
	m.ContentHash = contentHash(dk, m.Text)
	sm, err := sealMemory(dk, m)
	if err != nil {
		return memRow{}, err
	}
	stored := sm.Text
	mem, err := memoryArgs(sm)
	if err != nil {
		return memRow{}, err
	}
	// The add entry's values are the row's own: reuse the metadata and
	// category encodings instead of marshalling them a second time.
	text, err := json.Marshal(stored)
	if err != nil {
		return memRow{}, fmt.Errorf("encode text: %w", err)
	}
	state, _ := json.Marshal(string(m.State))
	nv := `{"text":` + string(text) + `,"metadata":` + mem[5].(string) + `,"categories":` + mem[6].(string) + `,"state":` + string(state) + `}`
	hist := []any{string(m.ID), string(m.OrgID), string(m.UserID), string(domain.ChangeAdd), nil, nv, string(m.AppID), toNanos(at)}
	return memRow{m: m, mem: mem, hist: hist}, nil
}

// encoding validates and encodes a batch in chunks of insertChunk on up to
// GOMAXPROCS-1 goroutines; chunk k is ready when done[k] is closed.
type encoding struct {
	chunks  int
	rows    [][]memRow
	errs    []error
	done    []chan struct{}
	next    atomic.Int64
	stopped atomic.Bool
}

func startEncoding(dk *ports.DataKey, t domain.Tenant, ms []domain.Memory) *encoding {
	n := (len(ms) + insertChunk - 1) / insertChunk
	e := &encoding{chunks: n, rows: make([][]memRow, n), errs: make([]error, n), done: make([]chan struct{}, n)}
	for k := range e.done {
		e.done[k] = make(chan struct{})
	}
	at := now(time.Time{})
	// One core stays with the writer, which is the bottleneck.
	for range min(max(1, runtime.GOMAXPROCS(0)-1), n) {
		go func() {
			for {
				k := int(e.next.Add(1) - 1)
				if k >= n {
					return
				}
				if !e.stopped.Load() {
					lo := k * insertChunk
					e.rows[k], e.errs[k] = encodeChunk(dk, t, ms[lo:min(lo+insertChunk, len(ms))], lo, at)
				}
				close(e.done[k])
			}
		}()
	}
	return e
}

// wait returns chunk k, or the error of its first invalid memory. Chunks are
// consumed in order, so the error reported is the batch's first.
func (e *encoding) wait(ctx context.Context, k int) ([]memRow, error) {
	select {
	case <-e.done[k]:
		return e.rows[k], e.errs[k]
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stop tells the workers to skip the chunks they have not started.
func (e *encoding) stop() { e.stopped.Store(true) }

func encodeChunk(dk *ports.DataKey, t domain.Tenant, ms []domain.Memory, offset int, at time.Time) ([]memRow, error) {
	out := make([]memRow, len(ms))
	for i := range ms {
		m := ms[i]
		if err := checkOwned(t, &m); err != nil {
			return nil, fmt.Errorf("memory %d: %w", offset+i, err)
		}
		r, err := encodeRow(dk, m, at)
		if err != nil {
			return nil, fmt.Errorf("memory %d: %w", offset+i, err)
		}
		out[i] = r
	}
	return out, nil
}
