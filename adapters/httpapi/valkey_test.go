package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/valkeystore"
	"github.com/engram-memory/engram/contracttest"
)

// valkeyServer is a throwaway redis-server (or valkey-server) this test
// started on its own port, so it can be killed and restarted to stage an
// outage without touching the shared server other packages test against.
type valkeyServer struct {
	t    *testing.T
	bin  string
	port int
	stop func()
}

// startValkey starts a server, or skips when none is installed (fails when
// ENGRAM_TEST_REQUIRE lists valkey, so CI cannot go green by skipping).
func startValkey(t *testing.T) *valkeyServer {
	t.Helper()
	var bin string
	for _, name := range []string{"valkey-server", "redis-server"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if contracttest.Required(contracttest.Valkey) {
			t.Fatal("valkey is required but neither valkey-server nor redis-server is on PATH (apt-get install redis-server)")
		}
		t.Skip("SKIP valkey outage test: install redis-server or valkey-server to run it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	v := &valkeyServer{t: t, bin: bin, port: port}
	v.start()
	return v
}

// start runs the server on v's port and waits until it answers PING.
func (v *valkeyServer) start() {
	v.t.Helper()
	cmd := exec.Command(v.bin, "--port", strconv.Itoa(v.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction")
	require.NoError(v.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	v.stop = func() {
		_ = cmd.Process.Kill() // SIGKILL: an outage, not a shutdown
		<-done
	}
	v.t.Cleanup(v.stop)
	require.Eventually(v.t, func() bool {
		c, err := net.DialTimeout("tcp", v.addr(), 100*time.Millisecond)
		if err != nil {
			return false
		}
		defer c.Close()
		_, _ = c.Write([]byte("PING\r\n"))
		buf := make([]byte, 7)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _ := c.Read(buf)
		return string(buf[:n]) == "+PONG\r\n"
	}, 10*time.Second, 50*time.Millisecond, "valkey on %s did not come up", v.addr())
}

func (v *valkeyServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(v.port)) }

// open connects a Store with short timeouts, so an outage fails fast.
func (v *valkeyServer) open() *valkeystore.Store {
	v.t.Helper()
	s, err := valkeystore.Open(context.Background(), valkeystore.Config{
		URL:         fmt.Sprintf("redis://%s", v.addr()),
		DialTimeout: 300 * time.Millisecond,
		Options:     valkeystore.Options{Prefix: "httpapi-test", OpTimeout: 500 * time.Millisecond},
	})
	require.NoError(v.t, err)
	v.t.Cleanup(func() { _ = s.Close() })
	return s
}
