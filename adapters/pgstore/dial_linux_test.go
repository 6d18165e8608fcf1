package pgstore

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Every PostgreSQL socket carries TCP_USER_TIMEOUT, so data the peer's
// kernel never acknowledges fails the connection within the bound.
func TestSocketsCarryTCPUserTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	c, err := newBoundedDialer(3*time.Second, time.Time{}).DialContext(context.Background(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	raw, err := c.(*boundedConn).Conn.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var got int
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		got, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
	}))
	require.NoError(t, serr)
	require.Equal(t, 3000, got)
}
