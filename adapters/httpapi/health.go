package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz is liveness: the process serves HTTP. It checks nothing else, so
// an orchestrator does not restart a healthy process because a database is
// down.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

type checkView struct {
	Status    string      `json:"status"` // "ok" or "down"
	Required  bool        `json:"required"`
	LatencyMS float64     `json:"latency_ms"`
	Pending   *int        `json:"pending,omitempty"`
	Outbox    *outboxView `json:"outbox,omitempty"`
	// LagSeconds is a read replica's replay lag behind the primary.
	LagSeconds *float64 `json:"lag_seconds,omitempty"`
}

// outboxView is an external index's outbox: rows waiting, how long the
// oldest has waited, rows given up on (docs/operations.md).
type outboxView struct {
	Backlog          int     `json:"backlog"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Parked           int     `json:"parked"`
}

type readyView struct {
	Status string               `json:"status"` // "ready" or "not_ready"
	Checks map[string]checkView `json:"checks"`
}

// readyCache holds the last readiness answer. /readyz is unauthenticated,
// so without it a flood of probes would be a flood of PostgreSQL and Valkey
// round trips; with it the dependencies see at most one probe round per TTL
// however many callers ask, and callers arriving while a round runs wait
// for that round instead of starting their own.
type readyCache struct {
	mu       sync.Mutex
	started  time.Time     // when the cached round began
	status   int           // its HTTP status
	view     readyView     // its answer
	inflight chan struct{} // closed when the running round ends; nil when none runs
}

// readyz answers from the last probe round when it began less than
// ReadyCacheTTL ago (the age counts from the round's start, so an answer is
// never older than the TTL plus one round), and otherwise runs a new round.
func (s *Server) readyz(c echo.Context) error {
	if s.cfg.ReadyCacheTTL < 0 {
		status, view := s.probeAll(c)
		return c.JSON(status, view)
	}
	rc := &s.ready
	rc.mu.Lock()
	if !rc.started.IsZero() && time.Since(rc.started) < s.cfg.ReadyCacheTTL {
		status, view := rc.status, rc.view
		rc.mu.Unlock()
		return c.JSON(status, view)
	}
	if wait := rc.inflight; wait != nil {
		rc.mu.Unlock()
		select {
		case <-wait:
			// The round this caller waited for has just ended: its
			// answer is the freshest there is. Starting another round
			// because the cached one began more than a TTL ago would
			// make this caller wait two rounds, past ReadyTimeout.
			rc.mu.Lock()
			status, view := rc.status, rc.view
			rc.mu.Unlock()
			return c.JSON(status, view)
		case <-c.Request().Context().Done():
			return c.Request().Context().Err()
		}
	}
	done := make(chan struct{})
	rc.inflight = done
	rc.mu.Unlock()

	started := time.Now()
	status, view := s.probeAll(c)
	rc.mu.Lock()
	rc.started, rc.status, rc.view, rc.inflight = started, status, view, nil
	rc.mu.Unlock()
	close(done)
	return c.JSON(status, view)
}

// probeAll probes every dependency concurrently, each under ReadyTimeout,
// and answers 503 when a required one is down. Probe errors go to the log,
// not the response: /readyz is unauthenticated and errors name hosts. The
// probes run detached from the asking request, whose round other callers
// may be waiting on.
func (s *Server) probeAll(c echo.Context) (int, readyView) {
	ctx := context.WithoutCancel(c.Request().Context())
	out := readyView{Status: "ready", Checks: make(map[string]checkView, len(s.d.Ready))}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, chk := range s.d.Ready {
		wg.Go(func() {
			v, err := s.probe(ctx, chk)
			if err != nil {
				s.log.WarnContext(ctx, "readiness check failed", "request_id", requestIDOf(c), "check", chk.Name, "err", err)
			}
			mu.Lock()
			defer mu.Unlock()
			out.Checks[chk.Name] = v
			if err != nil && chk.Required {
				out.Status = "not_ready"
			}
		})
	}
	wg.Wait()
	status := http.StatusOK
	if out.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	return status, out
}

func (s *Server) probe(ctx context.Context, chk Check) (checkView, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	start := time.Now()
	// The probe runs beside the wait: a driver that ignores its context
	// (lib/pq waiting on a frozen server cannot cancel) must not hold the
	// answer past ReadyTimeout. The stuck probe ends when its driver does.
	done := make(chan error, 1)
	go func() { done <- chk.Probe(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("no answer within %s: %w", s.cfg.ReadyTimeout, ctx.Err())
	}
	v := checkView{Status: "ok", Required: chk.Required, LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		v.Status = "down"
	}
	if chk.Pending != nil {
		n := chk.Pending()
		v.Pending = &n
	}
	if chk.LagSeconds != nil {
		lag := chk.LagSeconds()
		v.LagSeconds = &lag
	}
	if chk.Outbox != nil {
		// Read beside the probe's answer, under the same deadline: an
		// unreadable outbox (the store is down) shows no outbox entry.
		if st, oerr := chk.Outbox(ctx); oerr == nil {
			ov := &outboxView{Backlog: st.Backlog, Parked: st.Parked}
			if !st.Oldest.IsZero() {
				ov.OldestAgeSeconds = max(0, time.Since(st.Oldest).Seconds())
			}
			v.Outbox = ov
		} else {
			s.log.WarnContext(ctx, "reading the index outbox failed", "check", chk.Name, "err", oerr)
		}
	}
	return v, err
}
