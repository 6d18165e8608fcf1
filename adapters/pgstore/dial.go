package pgstore

import (
	"context"
	"database/sql"
	"net"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// boundedDialer gives every connection a client-side bound that does not
// need the server's cooperation. lib/pq cancels a query whose context ended
// by asking the server (on a second connection) to abort it, then keeps
// reading the first: a frozen server (SIGSTOP, a hung VM, a black-holed
// network) answers neither, so the call would block until it thaws. Here
// each Read and Write on the socket must make progress within idle, so a
// silent server fails the call with a net.Error (domain.ErrUnavailable)
// after at most idle. A server that is merely busy still answers within
// statement_timeout, which idle exceeds.
type boundedDialer struct {
	d    net.Dialer
	idle time.Duration
}

func newBoundedDialer(idle time.Duration) *boundedDialer {
	return &boundedDialer{idle: idle, d: net.Dialer{
		Timeout: idle,
		// Keepalives find a peer that vanished (host down, cable cut)
		// while the connection sat idle in the pool.
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
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
	c, err := b.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &boundedConn{Conn: c, idle: b.idle}, nil
}

// boundedConn sets a fresh deadline before every Read and Write: a result
// that streams for minutes is fine, a silence longer than idle is not.
type boundedConn struct {
	net.Conn
	idle time.Duration
}

func (c *boundedConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *boundedConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// openBounded opens a pool whose connections are bounded by idle (none when
// idle is not positive).
func openBounded(dsn string, idle time.Duration) (*sqlx.DB, error) {
	if idle <= 0 {
		return sqlx.Open("postgres", dsn)
	}
	conn, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	conn.Dialer(newBoundedDialer(idle))
	return sqlx.NewDb(sql.OpenDB(conn), "postgres"), nil
}
