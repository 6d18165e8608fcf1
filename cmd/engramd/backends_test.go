package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/contracttest"
)

// Private backends for tests that must stop and restart them: the
// machine's shared PostgreSQL and Redis serve other tests concurrently and
// are never touched.

// needBinary finds a server binary, or skips (fails when
// ENGRAM_TEST_REQUIRE lists the backend) with how to install it.
func needBinary(t *testing.T, backend, pattern, install string) string {
	t.Helper()
	matches, _ := filepath.Glob(pattern)
	if len(matches) == 0 {
		if p, err := exec.LookPath(filepath.Base(pattern)); err == nil {
			matches = []string{p}
		}
	}
	if len(matches) == 0 {
		if contracttest.Required(backend) {
			t.Fatalf("%s is required (ENGRAM_TEST_REQUIRE) but %s is not installed: %s", backend, pattern, install)
		}
		t.Skipf("%s not found: %s to run this test", pattern, install)
	}
	sort.Strings(matches)
	return matches[len(matches)-1] // the newest PostgreSQL major
}

func freePort(t *testing.T) int {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
}

func waitDial(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			return c.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not accept connections within %s", addr, within)
}

// privateRedis is a redis-server this test owns.
type privateRedis struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	r := &privateRedis{t: t, bin: needBinary(t, contracttest.Valkey, "/usr/bin/redis-server", "apt-get install redis-server"), port: freePort(t)}
	r.start()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *privateRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--maxmemory-policy", "noeviction")
	require.NoError(r.t, r.cmd.Start())
	require.NoError(r.t, waitDial(r.addr(), 10*time.Second))
}

func (r *privateRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// privatePostgres is a PostgreSQL cluster this test owns, in a temp dir,
// on its own port and socket directory.
type privatePostgres struct {
	t       *testing.T
	bin     string // the bin directory
	dir     string
	port    int
	running bool
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	initdb := needBinary(t, contracttest.Postgres, "/usr/lib/postgresql/*/bin/initdb", "apt-get install postgresql")
	dir, err := os.MkdirTemp("", "engram-fault-pg-")
	require.NoError(t, err)
	p := &privatePostgres{t: t, bin: filepath.Dir(initdb), dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		p.stop()
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the cluster belongs to postgres.
		pg, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs a postgres user to own the cluster")
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	p.pgRun("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	p.start()
	return p
}

func (p *privatePostgres) data() string { return filepath.Join(p.dir, "data") }

// URL is the DSN engramd uses.
func (p *privatePostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// pgRun runs a PostgreSQL tool, as the postgres user when we are root.
func (p *privatePostgres) pgRun(tool string, args ...string) {
	p.t.Helper()
	name, argv := filepath.Join(p.bin, tool), args
	if os.Geteuid() == 0 {
		name, argv = "runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, tool)}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, argv...).CombinedOutput()
	require.NoError(p.t, err, "%s %s: %s", tool, strings.Join(args, " "), out)
}

func (p *privatePostgres) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60", p.port, p.dir)
	p.pgRun("pg_ctl", "-D", p.data(), "-o", opts, "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30", "start")
	p.running = true
}

// stop is pg_ctl stop -m fast: sessions are terminated, the cluster shuts
// down cleanly (what an orchestrated restart or failover does).
func (p *privatePostgres) stop() {
	if !p.running {
		return
	}
	p.pgRun("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "-t", "30", "stop")
	p.running = false
}
