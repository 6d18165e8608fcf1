package pgstore_test

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
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/pgstore"
	"github.com/engram-memory/engram/contracttest"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// The failover test builds its own two-server cluster (initdb, then
// pg_basebackup -R from it) in a temporary directory on free ports, so it
// may crash the primary and promote the replica: the shared primary and
// replica of scripts/test-services.sh are never touched. It runs where the
// replica tests run (ENGRAM_TEST_POSTGRES_REPLICA_URL set) and skips with a
// line when the PostgreSQL server binaries are missing.

// pgCluster is one PostgreSQL server the test started.
type pgCluster struct {
	t    *testing.T
	bin  string
	dir  string
	port int
}

func pgBinDir(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	if contracttest.Required(contracttest.Replica) {
		t.Fatal("replica tests are required but initdb/pg_ctl/pg_basebackup are not installed")
	}
	t.Skip("SKIP failover test: initdb, pg_ctl and pg_basebackup not found (apt-get install postgresql)")
	return ""
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// pgRun runs a server binary as the postgres user when the test runs as
// root (initdb and the server refuse root).
func pgRun(t *testing.T, timeout time.Duration, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", filepath.Base(bin), strings.Join(args, " "), out)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// pgDataDir makes an empty directory the server's user owns (t.TempDir's
// parent is private to root).
func pgDataDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "engram-failover-"+name+"-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs a postgres user to run the server")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	require.NoError(t, os.Chmod(dir, 0o700))
	return dir
}

func (c *pgCluster) appendConf(file, text string) {
	c.t.Helper()
	// Written through the server's user so the file keeps its owner.
	path := filepath.Join(c.dir, file)
	b, err := os.ReadFile(path)
	require.NoError(c.t, err)
	st, err := os.Stat(path)
	require.NoError(c.t, err)
	require.NoError(c.t, os.WriteFile(path, append(b, []byte("\n"+text+"\n")...), st.Mode()))
}

func (c *pgCluster) start() {
	c.t.Helper()
	pgRun(c.t, 60*time.Second, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "50", "start")
}

// crash stops the server the way a power cut would to its clients: no
// shutdown checkpoint, every connection dropped.
func (c *pgCluster) crash() {
	c.t.Helper()
	pgRun(c.t, 30*time.Second, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-m", "immediate", "-w", "stop")
}

func (c *pgCluster) promote() {
	c.t.Helper()
	pgRun(c.t, 60*time.Second, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-w", "-t", "50", "promote")
}

func (c *pgCluster) url(userName, schema string) string {
	u := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", userName, c.port)
	if schema != "" {
		u += "&search_path=" + schema
	}
	return u
}

const failoverStandby = "engram_failover_replica"

// newFailoverCluster starts a primary that commits synchronously to one
// standby (a commit is acknowledged only once the standby has flushed it:
// the setting that makes a promotion lose no acknowledged write) and that
// standby.
func newFailoverCluster(t *testing.T) (primary, standby *pgCluster) {
	t.Helper()
	contracttest.BackendAddr(t, contracttest.Replica)
	bin := pgBinDir(t)
	stop := func(c *pgCluster) {
		if _, err := os.Stat(filepath.Join(c.dir, "postmaster.pid")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := []string{filepath.Join(bin, "pg_ctl"), "-D", c.dir, "-m", "immediate", "-w", "stop"}
			if os.Geteuid() == 0 {
				args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
			}
			_ = exec.CommandContext(ctx, args[0], args[1:]...).Run()
		}
	}
	// Settings shared by both servers: small, loopback only, no fsync (the
	// test crashes processes, not the kernel, so the page cache survives).
	conf := func(port int, dir string) string {
		return fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
			"max_connections = 40\nshared_buffers = 16MB\nfsync = off\nhot_standby = on\n", port, dir)
	}
	primary = &pgCluster{t: t, bin: bin, dir: pgDataDir(t, "primary"), port: freePort(t)}
	pgRun(t, 120*time.Second, filepath.Join(bin, "initdb"), "-D", primary.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	primary.appendConf("postgresql.conf", conf(primary.port, primary.dir)+
		"synchronous_standby_names = '"+failoverStandby+"'\nsynchronous_commit = on\n")
	t.Cleanup(func() { stop(primary) })
	primary.start()

	standby = &pgCluster{t: t, bin: bin, dir: pgDataDir(t, "standby"), port: freePort(t)}
	pgRun(t, 120*time.Second, filepath.Join(bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port),
		"-U", "postgres", "-D", standby.dir, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	// The copied postgresql.conf names the primary's port and directory;
	// later lines win. -R wrote a primary_conninfo without an
	// application_name, which synchronous_standby_names matches on.
	standby.appendConf("postgresql.conf", conf(standby.port, standby.dir)+"synchronous_standby_names = ''\n")
	standby.appendConf("postgresql.auto.conf", fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=%s'", primary.port, failoverStandby))
	t.Cleanup(func() { stop(standby) })
	standby.start()
	return primary, standby
}

// failoverSchema migrates a schema on the primary and creates the login
// role there (a physical standby gets both through replication).
func failoverSchema(t *testing.T, c *pgCluster) (appURL func(on *pgCluster) string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sqlx.Open("postgres", c.url("postgres", ""))
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	_, err = db.ExecContext(ctx, `CREATE SCHEMA failover`)
	require.NoError(t, err)
	_, err = pgstore.Migrate(ctx, c.url("postgres", "failover"), pgstore.Up)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `CREATE ROLE `+loginRole+` LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `GRANT engram_app TO `+loginRole)
	require.NoError(t, err)
	return func(on *pgCluster) string { return on.url(loginRole, "failover") }
}

// A replica that disappears while serving is skipped at once (the read
// that met it runs again on the primary) and comes back when it answers.
// When the primary dies, lag-tolerant reads go on from the replica and
// writes fail as unavailable; once the replica is promoted and the store
// opened on it (ENGRAM_POSTGRES_URL pointed at the new primary), every
// write that was acknowledged before the crash is there, and consistency
// tokens from the old primary stay valid.
func TestFailoverReplicaLostThenPrimaryLostAndReplicaPromoted(t *testing.T) {
	primary, standby := newFailoverCluster(t)
	appURL := failoverSchema(t, primary)
	ctx := context.Background()
	// MaxLag is wide: the primary's last sampled WAL position may include
	// records it never flushed before the crash, which the standby will
	// never replay; the standby then counts as falling behind from that
	// sample on and would be skipped after MaxLag.
	s := openWithReplicas(t, appURL(primary), pgstore.Replicas{URLs: []string{appURL(standby)}, Interval: 50 * time.Millisecond, MaxLag: 30 * time.Second})
	waitReplicaUp(t, s, true)
	tn := domain.Tenant{OrgID: "org-a", UserID: "alice"}
	first := addMemory(t, s, tn, "before anything failed")
	require.Eventually(t, func() bool { return listIDs(t, ctx, s, tn)[first.ID] }, 10*time.Second, 20*time.Millisecond)

	// 1. The replica disappears: reads never fail.
	standby.crash()
	for range 5 {
		require.True(t, listIDs(t, ctx, s, tn)[first.ID], "reads fall back to the primary while the replica is gone")
	}
	waitReplicaUp(t, s, false)
	require.Error(t, s.Replicas()[0].Err)
	standby.start()
	waitReplicaUp(t, s, true)

	// 2. The primary dies under concurrent writes.
	var (
		mu    sync.Mutex
		acked []domain.MemoryID
		wg    sync.WaitGroup
	)
	stopWriting := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopWriting:
					return
				default:
				}
				wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				m, _, err := s.Create(wctx, tn, domain.Memory{ID: domain.NewMemoryID(time.Now()), OrgID: tn.OrgID, UserID: tn.UserID,
					AppID: "app", Text: fmt.Sprintf("writer %d write %d", w, i), State: domain.StateActive})
				cancel()
				if err == nil {
					mu.Lock()
					acked = append(acked, m.ID)
					mu.Unlock()
					continue
				}
				assert.ErrorIs(t, err, domain.ErrUnavailable, "a write to a dead primary is unavailable, never a wrong answer")
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 20 }, 60*time.Second, 10*time.Millisecond)
	tokBefore, err := s.CommitPosition(ctx)
	require.NoError(t, err)
	primary.crash()
	time.Sleep(300 * time.Millisecond) // writes meet the dead primary
	close(stopWriting)
	wg.Wait()
	require.NotEmpty(t, acked)

	// Lag-tolerant reads go on from the replica while nothing is promoted.
	ids := listAll(t, ctx, s, tn)
	require.True(t, ids[first.ID], "the replica serves lists while the primary is down")
	_, err = s.Get(ctx, tn, first.ID)
	require.ErrorIs(t, err, domain.ErrUnavailable, "a primary-only read is unavailable, not wrong")

	// 3. Promote the replica and point the store at it.
	standby.promote()
	require.Eventually(t, func() bool { return !s.Replicas()[0].Up }, 10*time.Second, 20*time.Millisecond,
		"a promoted server is no longer read as a replica")
	require.ErrorContains(t, s.Replicas()[0].Err, "not in recovery")
	promoted := openWithReplicas(t, appURL(standby), pgstore.Replicas{})
	after := listAll(t, ports.WithReadAfter(ctx, tokBefore), promoted, tn)
	for _, id := range acked {
		require.True(t, after[id], "acknowledged write %s survives the failover", id)
	}
	require.True(t, after[first.ID])
	m := addMemory(t, promoted, tn, "written to the new primary")
	require.True(t, listAll(t, ctx, promoted, tn)[m.ID])
	t.Logf("failover: %d writes acknowledged before the crash, all %d on the promoted replica (%d rows held)", len(acked), len(acked), len(after))
}

// listAll pages through every memory of tn.
func listAll(t *testing.T, ctx context.Context, s *pgstore.Store, tn domain.Tenant) map[domain.MemoryID]bool {
	t.Helper()
	out := map[domain.MemoryID]bool{}
	q := domain.ListQuery{Limit: 100}
	for {
		page, err := s.List(ctx, tn, q)
		require.NoError(t, err)
		for _, m := range page.Items {
			out[m.ID] = true
		}
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}
