package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Idempotency-Key handling (draft-ietf-httpapi-idempotency-key-header):
// a write sent with the header is run once per principal and key; a retry
// with the same body gets the first answer again, byte for byte, and writes
// nothing; the same key with another body is 422; a retry while the first
// request still runs is 409.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	// idempotencyTTL is how long a finished answer is replayed.
	idempotencyTTL = 24 * time.Hour
	// idempotencyLease is a claim's lifetime unless its owner renews it:
	// the request renews it every idempotencyRenew while it runs, so a
	// claim whose process died frees its key within one lease and the
	// client's retry runs (or, if the first attempt committed, finds its
	// memory through the store's duplicate check).
	idempotencyLease = 6 * time.Second
	idempotencyRenew = 2 * time.Second
	// maxReplayBody bounds what is stored; a larger answer is not kept
	// and its key is released (such answers come from bulk-state, which
	// is idempotent by itself).
	maxReplayBody = 4 << 20
)

// EnableIdempotency honours Idempotency-Key on POST /api/v1/memories and the
// bulk endpoints, keeping answers in store for 24 h. Call it before serving.
func (s *Server) EnableIdempotency(store ports.IdempotencyStore) {
	once := idempotent(store)
	// Registering a route again replaces its handler; the stack in front
	// of it (deadline, authentication, rate limit, scope) stays, so the
	// principal is known when the key is looked up.
	s.route(http.MethodPost, "/memories", domain.ScopeMemoriesWrite, once(s.createMemory))
	s.route(http.MethodPost, "/memories/bulk-delete", domain.ScopeMemoriesWrite, once(s.bulkDelete))
	s.route(http.MethodPost, "/memories/bulk-state", domain.ScopeMemoriesWrite, once(s.bulkState))
}

func idempotent(store ports.IdempotencyStore) func(echo.HandlerFunc) echo.HandlerFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(headerIdempotencyKey)
			p, ok := principalOf(c)
			if key == "" || !ok {
				return next(c)
			}
			if !saneIdempotencyKey(key) {
				return domain.Invalid(headerIdempotencyKey, "must be 1 to 255 printable ASCII characters")
			}
			req := c.Request()
			body, err := io.ReadAll(req.Body)
			if err != nil {
				if tl, ok := asTooLarge(err); ok {
					return tl
				}
				return domain.Invalid("body", "could not be read")
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			fp := fingerprint(req.Method, req.URL.Path, body)
			// Length-prefixed so that no org/user split can forge another's;
			// erasure finds a subject's records by it.
			scope := ports.IdempotencyScope(p.Tenant())
			ctx := req.Context()
			rec, claimed, err := store.Begin(ctx, scope, key, fp, idempotencyLease)
			if err != nil {
				return fmt.Errorf("httpapi: idempotency key: %w", err)
			}
			if !claimed {
				return replay(c, rec, fp)
			}
			tee := &teeWriter{ResponseWriter: c.Response().Writer}
			c.Response().Writer = tee
			stopRenewing := renewWhileRunning(ctx, store, scope, key, fp)
			if err := next(c); err != nil {
				c.Error(err) // render now, so the answer is what is kept
			}
			stopRenewing()
			// The client may have gone; the record must still be settled.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			res := c.Response()
			if res.Status >= 500 || !res.Committed || tee.overflow {
				// A failure worth retrying (or an answer too big to keep):
				// free the key so the retry runs.
				_ = store.Abandon(sctx, scope, key)
				return nil
			}
			rec.Response = ports.IdempotentResponse{Status: res.Status, Body: tee.buf.Bytes(), Header: map[string]string{}}
			for _, h := range []string{echo.HeaderContentType, echo.HeaderLocation} {
				if v := res.Header().Get(h); v != "" {
					rec.Response.Header[h] = v
				}
			}
			// A lost record costs at most a duplicate on retry, which the
			// store's content-hash dedup turns into a 200 of the same
			// memory; the answer already given stands.
			_ = store.Finish(sctx, scope, key, rec, idempotencyTTL)
			return nil
		}
	}
}

// renewWhileRunning renews the claim every idempotencyRenew until the
// returned stop is called. A failed renewal is not fatal: the request goes
// on and the claim may lapse early, which at worst lets a concurrent retry
// run (and the store's duplicate check collapse the two creates). stop does
// not wait for a renewal in flight: one that lands after Finish or Abandon
// finds no running claim and changes nothing (the port's contract).
func renewWhileRunning(ctx context.Context, store ports.IdempotencyStore, scope, key, fp string) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(idempotencyRenew)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idempotencyRenew)
				_, _ = store.Renew(rctx, scope, key, fp, idempotencyLease)
				cancel()
			}
		}
	}()
	return func() { close(done) }
}

// replay answers a request whose key is already held.
func replay(c echo.Context, rec ports.IdempotencyRecord, fp string) error {
	switch {
	case rec.Fingerprint != fp:
		return writeProblem(c, problem{Type: problemType("idempotency-key-reused"), Title: "Idempotency-Key reused", Status: http.StatusUnprocessableEntity,
			Detail: "this Idempotency-Key was used with another request; use a new key for a new request"})
	case !rec.Done:
		return writeProblem(c, problem{Type: problemType("idempotency-in-progress"), Title: "Request in progress", Status: http.StatusConflict,
			Detail: "a request with this Idempotency-Key is still being processed; retry later", retryAfter: claimSeconds(rec.LockedFor)})
	}
	h := c.Response().Header()
	for k, v := range rec.Response.Header {
		h.Set(k, v)
	}
	h.Set(headerReplayed, "true")
	c.Response().WriteHeader(rec.Response.Status)
	_, err := c.Response().Write(rec.Response.Body)
	return err
}

// claimSeconds is Retry-After for a held claim: how long it can still last
// unless renewed, rounded up, at least 1 s. Its owner, if alive, will have
// finished or renewed it by then; if dead, the key is free.
func claimSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

func saneIdempotencyKey(k string) bool {
	if len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// teeWriter keeps a copy of the response body as it is written.
type teeWriter struct {
	http.ResponseWriter
	buf      bytes.Buffer
	overflow bool
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if !w.overflow {
		if w.buf.Len()+len(b) > maxReplayBody {
			w.overflow = true
			w.buf.Reset()
		} else {
			w.buf.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
