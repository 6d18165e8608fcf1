package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Feed is the store's change feed (ports.ChangeFeed) over memory_changes,
// whose AUTOINCREMENT seq is commit order because SQLite has one writer.
//
// Polling is cheap when idle: Feed keeps one read connection of its own and
// asks it PRAGMA data_version, which changes only when another connection
// (any process's, this one's writer included) committed; when it has not
// changed since the last empty answer, Changes returns without a query.
type Feed struct {
	mu   sync.Mutex
	conn *sql.Conn
	// version and after are the data_version and cursor of the last
	// empty answer.
	version, after int64
	idle           bool
}

var _ ports.ChangeFeed = (*Feed)(nil)

// Feed opens the change feed on a dedicated read connection; Close it
// before the store.
func (s *Store) Feed(ctx context.Context) (*Feed, error) {
	c, err := s.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: feed connection: %w", mapErr(err))
	}
	return &Feed{conn: c}, nil
}

// Close releases the feed's connection.
func (f *Feed) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conn.Close()
}

// Head returns the latest committed seq.
func (f *Feed) Head(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var head sql.NullInt64
	if err := f.conn.QueryRowContext(ctx, `SELECT max(seq) FROM memory_changes`).Scan(&head); err != nil {
		return 0, fmt.Errorf("sqlitestore: feed head: %w", mapErr(err))
	}
	return head.Int64, nil
}

// Changes returns up to limit changes after the cursor, in seq order.
func (f *Feed) Changes(ctx context.Context, after int64, limit int) ([]ports.ChangeRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var version int64
	if err := f.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&version); err != nil {
		return nil, fmt.Errorf("sqlitestore: feed data_version: %w", mapErr(err))
	}
	if f.idle && version == f.version && after == f.after {
		return nil, nil
	}
	rows, err := f.conn.QueryContext(ctx, `SELECT seq, org_id, user_id, memory_id FROM memory_changes
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: feed changes: %w", mapErr(err))
	}
	defer rows.Close()
	var out []ports.ChangeRef
	for rows.Next() {
		var c ports.ChangeRef
		var org, user, id string
		if err := rows.Scan(&c.Seq, &org, &user, &id); err != nil {
			return nil, fmt.Errorf("sqlitestore: feed changes: %w", mapErr(err))
		}
		c.Tenant, c.ID = domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}, domain.MemoryID(id)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: feed changes: %w", mapErr(err))
	}
	// Only an empty answer makes the next call skippable: a full page
	// means more rows wait at the same data_version.
	f.idle, f.version, f.after = len(out) == 0, version, after
	return out, nil
}
