package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/loadgen"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("bench-http", command{
		summary: "HTTP stack overhead: GET and POST a memory with DPoP vs direct MemoryService calls",
		run:     runBenchHTTP,
	})
}

// runBenchHTTP starts a full engramd stack in this process on a loopback
// port (embedded store in a temporary directory unless --data-dir), binds a
// token to an Ed25519 DPoP key, and measures the same operations through
// HTTP and directly on MemoryService.
func runBenchHTTP(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench http", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 5*time.Second, "time per measurement (bounded)")
	conc := fs.String("concurrency", "1,8", "comma-separated worker counts")
	dataDir := fs.String("data-dir", "", "data directory (default: a temporary one, removed after)")
	pgURL := fs.String("postgres-url", "", "bench the Postgres profile instead of SQLite")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	levels, err := parseLevels(*conc)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "engram-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	}
	env := map[string]string{
		"ENGRAM_DATA_DIR": *dataDir, "ENGRAM_ADDR": "127.0.0.1:0", "ENGRAM_POSTGRES_URL": *pgURL,
		"ENGRAM_RATE_READS": "0", "ENGRAM_RATE_WRITES": "0", "ENGRAM_RATE_SEARCH": "0", "ENGRAM_ADMIN_ADDR": "off",
	}
	h, err := startBenchServer(ctx, env)
	if err != nil {
		return err
	}
	defer h.close()

	fmt.Fprintf(stdout, "engram bench http: %s, GOMAXPROCS=%d, store=%s, %s per run\n", cpuModel(), runtimeProcs(), h.storeName(), *duration)
	id, err := h.seed(ctx)
	if err != nil {
		return err
	}
	p := h.principal
	// cpu runs one measurement and reports the process's CPU time during
	// it: requests per CPU-second is the rate per core, whatever else the
	// machine runs (the client's share included, PostgreSQL's not).
	type measured struct {
		loadgen.Result
		cpu float64
	}
	cpu := func(name string, c int, fn func(ctx context.Context, w, i int) error) measured {
		before := cpuSeconds()
		r := loadgen.Run(ctx, name, c, *duration, 0, fn)
		return measured{r, cpuSeconds() - before}
	}
	for _, c := range levels {
		direct := loadgen.Run(ctx, "direct Get", c, *duration, 0, func(ctx context.Context, _, _ int) error {
			_, err := h.sys.Memories.Get(ctx, p, id, "bench")
			return err
		})
		viaHTTP := cpu("HTTP GET /memories/{id} DPoP", c, func(ctx context.Context, _, _ int) error {
			return h.call(ctx, http.MethodGet, "/api/v1/memories/"+string(id), nil, http.StatusOK)
		})
		directAdd := loadgen.Run(ctx, "direct Add", c, *duration, 0, func(ctx context.Context, w, i int) error {
			_, _, err := h.sys.Memories.Add(ctx, p, app.AddInput{Text: fmt.Sprintf("direct memory %d-%d-%d", c, w, i)})
			return err
		})
		viaHTTPAdd := cpu("HTTP POST /memories DPoP", c, func(ctx context.Context, w, i int) error {
			body := fmt.Sprintf(`{"text":"http memory %d-%d-%d"}`, c, w, i)
			return h.call(ctx, http.MethodPost, "/api/v1/memories", []byte(body), http.StatusCreated)
		})
		// Hybrid search (embed the query, vector and full-text, fuse,
		// hydrate) over what the POST runs wrote.
		viaHTTPSearch := cpu("HTTP POST /search DPoP", c, func(ctx context.Context, w, i int) error {
			body := fmt.Sprintf(`{"query":"http memory %d-%d","limit":10}`, w, i%50)
			return h.call(ctx, http.MethodPost, "/api/v1/search", []byte(body), http.StatusOK)
		})
		for _, r := range []loadgen.Result{direct, viaHTTP.Result, directAdd, viaHTTPAdd.Result, viaHTTPSearch.Result} {
			fmt.Fprintln(stdout, r)
			if r.FirstErr != nil {
				fmt.Fprintln(stdout, "  first error:", r.FirstErr)
			}
		}
		for _, m := range []measured{viaHTTP, viaHTTPAdd, viaHTTPSearch} {
			if m.cpu > 0 {
				fmt.Fprintf(stdout, "  %s c=%d: %.2f CPU-s for %d requests: %.0f requests per CPU-second (engramd and client in this process)\n",
					m.Name, c, m.cpu, m.Count-m.Errors, float64(m.Count-m.Errors)/m.cpu)
			}
		}
		report := func(name string, d, hh loadgen.Result) {
			budget := time.Duration(1.3*float64(d.P50)) + 300*time.Microsecond
			verdict := "meets"
			if hh.P50 > budget {
				verdict = "MISSES"
			}
			fmt.Fprintf(stdout, "  %s c=%d: p50 overhead %.3fms over direct %.3fms; target 1.3x+0.3ms = %.3fms: %s\n",
				name, c, msf(hh.P50-d.P50), msf(d.P50), msf(budget), verdict)
		}
		report("GET ", direct, viaHTTP.Result)
		report("POST", directAdd, viaHTTPAdd.Result)
	}
	return nil
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return nil, fmt.Errorf("--concurrency: %q is not a worker count between 1 and 256", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchServer is a whole engramd in this process plus a DPoP-bound client.
type benchServer struct {
	sys       *wiring.System
	srv       *http.Server
	base      string
	client    *http.Client
	prover    *jwtauth.DPoPProver
	token     string
	principal domain.Principal
}

func startBenchServer(ctx context.Context, env map[string]string) (*benchServer, error) {
	// Listen first: the public URL (DPoP htu) must name the real port, so
	// the configuration is built from the listener's address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	env["ENGRAM_ADDR"] = ln.Addr().String()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	sys, err := wiring.Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	h := &benchServer{sys: sys, base: cfg.PublicURL, srv: &http.Server{Handler: sys.Handler(), ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = h.srv.Serve(ln) }()

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if h.prover, err = jwtauth.NewDPoPProver(priv); err != nil {
		return nil, err
	}
	h.principal = domain.Principal{OrgID: "bench", UserID: "bench", Scopes: domain.DefaultUserScopes, ClientID: "bench"}
	if h.token, err = sys.MintLocal(jwtauth.Claims{Subject: "bench", OrgID: "bench", ClientID: "bench", JKT: h.prover.JKT(), TTL: time.Hour}); err != nil {
		return nil, err
	}
	h.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}, Timeout: 10 * time.Second}
	return h, nil
}

func (h *benchServer) storeName() string {
	if h.sys.Config.PostgresURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func (h *benchServer) close() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.srv.Shutdown(sctx)
	_ = h.sys.Close()
}

// seed stores the memory the GET runs read.
func (h *benchServer) seed(ctx context.Context) (domain.MemoryID, error) {
	m, _, err := h.sys.Memories.Add(ctx, h.principal, app.AddInput{Text: "the memory every GET reads"})
	return m.ID, err
}

// call sends one DPoP request with a fresh proof and checks the status.
func (h *benchServer) call(ctx context.Context, method, path string, body []byte, want int) error {
	u := h.base + path
	proof, err := h.prover.Proof(method, u, h.token)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+h.token)
	req.Header.Set("DPoP", proof)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var problem map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&problem)
		return fmt.Errorf("%s %s: status %d: %v", method, path, resp.StatusCode, problem)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
