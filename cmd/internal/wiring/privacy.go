package wiring

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/engram-memory/engram/adapters/telemetry"
	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/ports"
)

// privacyPoll is how often each server reloads unfinished erasure jobs
// (to refuse their subjects' writes, and to run them); a job's final pass
// waits out privacyGrace, longer than a poll, so every server has seen it.
const (
	privacyPoll  = 2 * time.Second
	privacyGrace = 5 * time.Second
)

// CacheErasers are the undecorated session and idempotency stores, which
// erasure and subject access reach through ports the decorators do not
// carry.
type CacheErasers struct {
	Sessions interface {
		ports.SessionStore
		ports.SessionEraser
		ports.SessionLister
	}
	Idempotency ports.IdempotencyEraser
}

// newPrivacy wires erasure, subject access and the audit trail over the
// store's job, subject and audit tables (b's undecorated capabilities),
// the search indexes and the caches. Its WriteGuard goes into every
// service that writes for a user.
func newPrivacy(cfg config.Config, log *slog.Logger, b Backend, s Search, c Caches) (*app.PrivacyService, error) {
	if b.Erasure == nil || b.Subjects == nil || b.Audit == nil {
		return nil, fmt.Errorf("wiring: store %s lacks erasure or audit tables", b.Name)
	}
	key, err := privacyKey(cfg.PrivacyKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return app.NewPrivacyService(app.PrivacyDeps{
		Jobs: b.Erasure, Store: b.Subjects, Audit: b.Audit, Text: s.Text, Vectors: s.Vectors,
		Sessions: c.Erasers.Sessions, Idempotency: c.Erasers.Idempotency, HashKey: key, Logger: log,
		Grace: privacyGrace, Retention: b.Retention, Compact: b.Compact, KeyCache: b.KeyCache,
		Export: app.ExportDeps{
			Memories: b.Memories, Apps: b.Apps, Access: b.Access, Feedback: b.Feedback, Queries: b.QueryLog,
			Sessions: c.Erasers.Sessions, Entities: b.Entities,
		},
	})
}

// StartPrivacyWorker runs erasure jobs in the background until the System
// closes: those started here at once, others (another server's, a crashed
// run's, retries) every privacyPoll. engramd starts it; CLI commands that
// build a System do not.
func (s *System) StartPrivacyWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Privacy.Run(ctx, privacyPoll)
	}()
	sweeping := make(chan struct{})
	if every := s.Config.RetentionSweep; every > 0 {
		go func() {
			defer close(sweeping)
			s.Privacy.RunSweeper(ctx, every)
		}()
		if err := s.tel.WatchSweeper(func() telemetry.SweepStats {
			st := s.Privacy.SweepStats()
			return telemetry.SweepStats{Swept: st.Swept, LastSweep: st.LastSweep, Failures: st.Failures}
		}); err != nil {
			s.Logger.Warn("retention sweeper metrics not registered", "err", err)
		}
	} else {
		close(sweeping)
	}
	// Added last, so it stops before the stores close.
	s.closers.add(func() error { cancel(); <-done; <-sweeping; return nil })
}

// privacyKey decodes ENGRAM_PRIVACY_KEY, or reads (creating it on first
// use, 0600) privacy.key in the data directory.
func privacyKey(configured, dataDir string) ([]byte, error) {
	if configured != "" {
		key, err := hex.DecodeString(strings.TrimSpace(configured))
		if err != nil || len(key) < 32 {
			return nil, errors.New("ENGRAM_PRIVACY_KEY: must be at least 64 hex digits")
		}
		return key, nil
	}
	path := filepath.Join(dataDir, "privacy.key")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
		}
		// O_EXCL: of two processes starting at once, one writes the key
		// and the other reads it.
		f, oerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if oerr == nil {
			_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return nil, fmt.Errorf("ENGRAM_DATA_DIR: privacy key: %w", werr)
			}
			return key, nil
		}
		if !errors.Is(oerr, os.ErrExist) {
			return nil, fmt.Errorf("ENGRAM_DATA_DIR: privacy key: %w", oerr)
		}
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("ENGRAM_DATA_DIR: privacy key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("ENGRAM_DATA_DIR: privacy key %s is malformed", path)
	}
	return key, nil
}
