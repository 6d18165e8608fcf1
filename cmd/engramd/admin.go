package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/engram-memory/engram/cmd/internal/wiring"
)

// startAdmin starts the admin listener (metrics, pprof, log level) on
// ENGRAM_ADMIN_ADDR and returns a function that stops it. Off loopback it
// requires ENGRAM_ADMIN_TOKEN (config refuses to start without one); on
// loopback the token is optional and the Host check keeps browsers out.
// A listener that cannot bind is logged and skipped rather than fatal: the
// API must not go down because a metrics port is taken.
func startAdmin(ctx context.Context, sys *wiring.System, level *slog.LevelVar) (stop func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	addr := sys.Config.AdminAddr
	log := sys.Logger
	if addr == "" {
		log.Info("admin listener off (ENGRAM_ADMIN_ADDR is off or set empty)")
		return noop, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("admin listener disabled: metrics, pprof and /admin/loglevel are not served", "addr", addr, "err", err)
		return noop, nil
	}
	srv := &http.Server{
		Handler:           adminGuard(sys.Config.AdminToken, adminHandler(sys.Telemetry().Registry, level, log)),
		ReadHeaderTimeout: 5 * time.Second,
		// No WriteTimeout: /debug/pprof/profile streams for ?seconds=N.
		IdleTimeout: 60 * time.Second,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped", "err", err)
		}
	}()
	log.Info("admin listening", "addr", ln.Addr().String(), "metrics", "http://"+ln.Addr().String()+"/metrics")
	return srv.Shutdown, nil
}

// adminHandler serves /metrics, /debug/pprof/ and /admin/loglevel.
func adminHandler(reg *prometheus.Registry, level *slog.LevelVar, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/admin/loglevel", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
		case http.MethodPut, http.MethodPost:
			var body struct {
				Level string `json:"level"`
			}
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&body); err != nil {
				http.Error(w, `send {"level":"debug|info|warn|error"}`, http.StatusBadRequest)
				return
			}
			var l slog.Level
			if err := l.UnmarshalText([]byte(strings.TrimSpace(body.Level))); err != nil {
				http.Error(w, fmt.Sprintf("unknown level %q: use debug, info, warn or error", body.Level), http.StatusBadRequest)
				return
			}
			old := level.Level()
			level.Set(l)
			log.Warn("log level changed", "from", old.String(), "to", l.String())
		default:
			w.Header().Set("Allow", "GET, PUT, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"level": strings.ToLower(level.Level().String())})
	})
	return mux
}
