package wiring

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/domain"
)

// BenchmarkDashboardPages measures the server time of the dashboard's
// pages for a signed-in user who holds n memories (default 100,000;
// ENGRAM_BENCH_DASH_N), over real HTTP on loopback against a full engramd
// system (SQLite, then PostgreSQL when ENGRAM_TEST_POSTGRES_URL is set):
// each page's handler and every /api/v1 call it makes in process. It
// reports each page's p50 and p95 in ms, and cpu-ms/op, the process's CPU
// per request (load-independent, unlike the percentiles on a shared
// machine); ENGRAM_BENCH_DASH_PROFILE=DIR writes a CPU profile per page. Seeding, the start (the vector
// index loads every memory) and the sign-in are not timed. Rate limits are
// off (a page makes 2-7 API calls; the bench makes hundreds a second).
// Counts (stats, apps, the memories page's app list) come from the
// memory_tallies aggregate (migration 0301), not a scan of the memories.
//
//	nice -n 5 go test -run '^$' -bench DashboardPages -benchtime 200x ./cmd/internal/wiring/
func BenchmarkDashboardPages(b *testing.B) {
	n := benchEnvInt("ENGRAM_BENCH_DASH_N", 100_000)
	b.Run("sqlite", func(b *testing.B) { benchDashboard(b, "sqlite", map[string]string{"ENGRAM_DATA_DIR": b.TempDir()}, n) })
	b.Run("postgres", func(b *testing.B) {
		benchDashboard(b, "postgres", map[string]string{"ENGRAM_DATA_DIR": b.TempDir(), "ENGRAM_POSTGRES_URL": benchSchema(b)}, n)
	})
}

func benchDashboard(b *testing.B, engine string, env map[string]string, n int) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	base := "http://" + ln.Addr().String()
	env["ENGRAM_ADDR"], env["ENGRAM_PUBLIC_URL"] = ln.Addr().String(), base
	env["ENGRAM_RATE_READS"], env["ENGRAM_RATE_WRITES"], env["ENGRAM_RATE_SEARCH"] = "0", "0", "0"
	env["ENGRAM_ADMIN_ADDR"] = "off"
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	require.NoError(b, err)

	// Seed the local user's memories straight into the store, over 20 apps.
	st, err := OpenStore(ctx, cfg, quiet)
	require.NoError(b, err)
	t := domain.Tenant{OrgID: jwtauth.LocalOrg, UserID: LocalUser}
	var someID domain.MemoryID
	for done := 0; done < n; {
		ms := make([]domain.Memory, 0, 1000)
		for i := 0; i < 1000 && done < n; i, done = i+1, done+1 {
			m, err := domain.NewMemory(t, domain.AppID(fmt.Sprintf("app-%02d", done%20)),
				fmt.Sprintf("memory %d: the user prefers topic %d in the morning and tea number %d", done, done%97, done%13), nil, []string{fmt.Sprintf("cat-%d", done%7)}, time.Now())
			require.NoError(b, err)
			ms = append(ms, m)
		}
		_, err := st.Memories.CreateBatch(ctx, t, ms)
		require.NoError(b, err)
		someID = ms[len(ms)/2].ID
	}
	require.NoError(b, st.Close())

	sys, err := Build(ctx, cfg, quiet)
	require.NoError(b, err)
	b.Cleanup(func() { _ = sys.Close() })
	srv := &http.Server{Handler: sys.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	code, err := sys.IssueSignInCode(ctx)
	require.NoError(b, err)
	c := benchSignIn(b, base, code)
	if engine == "postgres" {
		benchAnalyze(b, env["ENGRAM_POSTGRES_URL"])
	}

	// One deep cursor: page 2 of the list.
	_, first := benchGet(b, c, base+"/ui/")
	next := regexp.MustCompile(`href="(/ui/\?cursor=[^"]+)"`).FindStringSubmatch(first)
	require.NotNil(b, next, "the first page links the next")
	pages := []struct{ name, path string }{
		{"memories", "/ui/"},
		{"memories_page2", strings.ReplaceAll(next[1], "&amp;", "&")},
		{"memories_filtered", "/ui/?app=app-03&category=cat-2&from=2000-01-01"},
		{"search", "/ui/?q=" + url.QueryEscape("tea in the morning topic 42")},
		{"memory_detail", "/ui/memories/" + string(someID)},
		{"apps", "/ui/apps"},
		{"stats", "/ui/stats"},
		{"experiments", "/ui/experiments"},
		{"keys", "/ui/keys"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			stop := benchPageProfile(b, engine, p.name)
			defer stop()
			lat := make([]time.Duration, 0, b.N)
			cpu0 := processCPU()
			for range b.N {
				start := time.Now()
				status, _ := benchGet(b, c, base+p.path)
				lat = append(lat, time.Since(start))
				require.Equal(b, http.StatusOK, status, p.path)
			}
			cpu := processCPU() - cpu0
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// benchAnalyze gathers the planner's statistics of the bench's schema, as
// autovacuum does within a minute or so of a bulk load in a deployment.
// The test PostgreSQL may run with autovacuum off (CI's does), and a table
// never analysed gets plans that read the whole tenant: the search hits'
// hydration (memories by id = ANY) took a full scan of the user's 100,000
// memories through another index, 100-170 ms a page.
func benchAnalyze(b *testing.B, url string) {
	db, err := sql.Open("postgres", url)
	require.NoError(b, err)
	defer db.Close()
	rows, err := db.Query(`SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	require.NoError(b, err)
	var tables []string
	for rows.Next() {
		var t string
		require.NoError(b, rows.Scan(&t))
		tables = append(tables, t)
	}
	require.NoError(b, rows.Err())
	require.NoError(b, rows.Close())
	for _, t := range tables {
		_, err = db.Exec(`ANALYZE ` + t)
		require.NoError(b, err)
	}
}

// processCPU is the CPU time (user and system) this process has used: the
// server's, and the bench client's, which is small beside it. Unlike
// wall time it does not grow with the machine's load, which on a shared
// machine decides the percentiles.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPageProfile writes a CPU profile of one page's requests alone to
// $ENGRAM_BENCH_DASH_PROFILE/<engine>_<page>.prof when that directory is
// set: -cpuprofile would also hold the seeding and the start, which cost
// far more than the pages. Not with -cpuprofile (one profile at a time).
func benchPageProfile(b *testing.B, engine, page string) func() {
	dir := os.Getenv("ENGRAM_BENCH_DASH_PROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, engine+"_"+page+".prof"))
	require.NoError(b, err)
	require.NoError(b, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(b, f.Close())
	}
}

func benchGet(b *testing.B, c *http.Client, u string) (int, string) {
	res, err := c.Get(u)
	require.NoError(b, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// benchSignIn signs the local user in to the dashboard with the one-time
// code and returns a client holding the session cookie.
func benchSignIn(b *testing.B, base, code string) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(b, err)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	status, page := benchGet(b, c, base+"/ui/login?next=/ui/")
	require.Equal(b, http.StatusOK, status, page)
	form := url.Values{}
	for _, f := range regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		form.Set(f[1], strings.ReplaceAll(f[2], "&#43;", "+"))
	}
	form.Set("user", "local")
	form.Set("org", "local")
	form.Set("secret", code)
	form.Set("action", "allow")
	res, err := c.PostForm(base+"/authorize", form)
	require.NoError(b, err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(b, http.StatusOK, res.StatusCode, string(raw))
	require.Contains(b, string(raw), "<h1>Memories</h1>")
	return c
}
