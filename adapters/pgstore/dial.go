package pgstore

import (
	"context"
	"database/sql/driver"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// Client-side bounds that do not need the server's cooperation. lib/pq
// cancels a query whose context ended by asking the server (on a second
// connection) to abort it, then keeps reading the first: a frozen server
// (SIGSTOP, a hung VM, a black-holed network) answers neither, so the call
// would block until it thaws. Three bounds close that hole, each on the
// socket itself:
//
//   - the call's own deadline: before each call the connection's socket
//     deadline is set from the call's context (boundedDriverConn), so a
//     request with 1.5 s left fails after 1.5 s, not after a fixed bound;
//   - idle: each Read and Write must make progress within it, for calls
//     whose context has no deadline (a result may stream for minutes, a
//     silence longer than idle is not fine); a server that is merely busy
//     still answers within statement_timeout, which idle exceeds;
//   - TCP_USER_TIMEOUT (Linux) and keepalives: data the peer's kernel never
//     acknowledges (host down, network cut) fails the socket within idle
//     even while no call is waiting on it.
//
// A call that hits a bound fails with a net.Error (domain.ErrUnavailable)
// and its connection is discarded.

// boundedDialer dials connections bounded by idle and, when limit is not
// zero, by limit (a pool-wide deadline: Migrate's, since golang-migrate
// passes no context of its own to its statements).
type boundedDialer struct {
	d     net.Dialer
	idle  time.Duration
	limit time.Time
}

func newBoundedDialer(idle time.Duration, limit time.Time) *boundedDialer {
	dialTimeout := idle
	if dialTimeout <= 0 {
		dialTimeout = 30 * time.Second
	}
	return &boundedDialer{idle: idle, limit: limit, d: net.Dialer{
		Timeout: dialTimeout,
		// Keepalives find a peer that vanished (host down, cable cut)
		// while the connection sat idle in the pool.
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
		Control:         userTimeoutControl(dialTimeout),
	}}
}

func (b *boundedDialer) Dial(network, address string) (net.Conn, error) {
	return b.DialContext(context.Background(), network, address)
}

func (b *boundedDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return b.DialContext(ctx, network, address)
}

func (b *boundedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if !b.limit.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, b.limit)
		defer cancel()
	}
	c, err := b.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &boundedConn{Conn: c, dialer: b}, nil
}

// boundedConn sets a fresh deadline before every Read and Write: the
// earliest of now + idle, the current call's deadline and the dialer's
// limit.
type boundedConn struct {
	net.Conn
	dialer *boundedDialer
	call   atomic.Int64 // unix nanoseconds of the current call's deadline; 0 = none
}

func (c *boundedConn) deadline() time.Time {
	var d time.Time
	if c.dialer.idle > 0 {
		d = time.Now().Add(c.dialer.idle)
	}
	for _, t := range []time.Time{c.callDeadline(), c.dialer.limit} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

func (c *boundedConn) callDeadline() time.Time {
	if n := c.call.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// setCall bounds the waits of the call ctx belongs to by its deadline.
func (c *boundedConn) setCall(ctx context.Context) {
	if d, ok := ctx.Deadline(); ok {
		c.call.Store(d.UnixNano())
		return
	}
	c.call.Store(0)
}

func (c *boundedConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *boundedConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// boundedConnector opens lib/pq connections through a boundedDialer and
// hands database/sql a driver.Conn that sets the socket's call deadline
// from each call's context.
type boundedConnector struct {
	base   *pq.Connector
	dialer *boundedDialer
}

func (bc *boundedConnector) Driver() driver.Driver { return bc.base.Driver() }

func (bc *boundedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	// A copy of the connector per connection, whose dialer remembers the
	// socket it dialed for the session (later dials are lib/pq's cancel
	// requests, which are bounded too but are not the session's socket).
	pc := *bc.base
	var (
		mu     sync.Mutex
		sealed bool
		sock   *boundedConn
	)
	pc.Dialer(dialerFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := bc.dialer.DialContext(ctx, network, address)
		if err == nil {
			mu.Lock()
			if !sealed {
				// The startup and authentication exchange is bounded
				// by the connect's context (lib/pq's reads do not
				// watch it).
				sock = c.(*boundedConn)
				sock.setCall(ctx)
			}
			mu.Unlock()
		}
		return c, err
	}))
	conn, err := pc.Connect(ctx)
	mu.Lock()
	sealed = true
	s := sock
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	if s == nil { // not dialed through bc.dialer: nothing to bound
		return conn, nil
	}
	s.call.Store(0)
	return &boundedDriverConn{Conn: conn, sock: s}, nil
}

type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) Dial(network, address string) (net.Conn, error) {
	return f(context.Background(), network, address)
}

func (f dialerFunc) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f(ctx, network, address)
}

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}
