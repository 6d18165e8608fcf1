package valkeystore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Config is what Open needs: where the server is and how to name keys.
type Config struct {
	// URL is valkey://, redis://, valkeys:// or rediss:// (TLS), with
	// optional user:password and /db, e.g. rediss://:secret@cache:6380/0.
	URL         string
	DialTimeout time.Duration // default the URL's dial_timeout, else 2s
	// TLS, when set, replaces the client TLS settings of a valkeys:// or
	// rediss:// URL (a private CA in RootCAs, a client certificate for
	// mutual TLS). Nil uses the system roots. Ignored for plain URLs.
	TLS *tls.Config
	Options
}

// Options tune a Store. Zero fields take the defaults.
type Options struct {
	Prefix    string        // key prefix per deployment; default "engram"
	OpTimeout time.Duration // deadline of each call unless ctx has an earlier one; default 2s
	// SessionTTL is how long a session lives after its last write; default
	// domain.DefaultSessionTTL.
	SessionTTL time.Duration
	MaxEvents  int // per session; default domain.MaxSessionEvents
	// MaxBytesPerUser bounds the bytes of one user's sessions and
	// idempotency records together (quota.go); a write past it wraps
	// domain.ErrRateLimited (429). Default DefaultMaxBytesPerUser.
	MaxBytesPerUser int64
	HalfLife        time.Duration // recency decay of Recent; default domain.DefaultRecencyHalfLife
	Clock           ports.Clock   // for recency scores; default the system clock
	// SessionKeys lends the users' data keys (the system of record's):
	// with encryption on, each session event's text and metadata are
	// stored sealed (ports.SessionSealer). Nil: stored as written.
	SessionKeys ports.SessionKeys
}

// Store implements ports.SessionStore, ports.ReplayCache and
// ports.RateLimiter on one Valkey client.
type Store struct {
	c     valkey.Client
	o     Options
	owned bool // Close closes c only when Open created it
}

var (
	_ ports.SessionStore = (*Store)(nil)
	_ ports.ReplayCache  = (*Store)(nil)
	_ ports.RateLimiter  = (*Store)(nil)
)

// Open parses cfg.URL, connects and pings. A server that cannot be reached
// wraps domain.ErrUnavailable; a bad URL wraps domain.ErrInvalid.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	opt, err := valkey.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("valkeystore: ENGRAM_VALKEY_URL: %w", domain.Invalid("valkey_url", "%v", err))
	}
	if opt.TLSConfig != nil && cfg.TLS != nil {
		t := cfg.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = opt.TLSConfig.ServerName
		}
		t.MinVersion = max(t.MinVersion, tls.VersionTLS12)
		opt.TLSConfig = t
	}
	// Explicit settings win over the URL's dial_timeout and write_timeout
	// parameters, which win over the defaults.
	if cfg.DialTimeout > 0 {
		opt.Dialer.Timeout = cfg.DialTimeout
	} else if opt.Dialer.Timeout <= 0 {
		opt.Dialer.Timeout = 2 * time.Second
	}
	if opt.ConnWriteTimeout <= 0 {
		// Detect a server that accepts but does not answer within a few
		// seconds rather than the client's default ten.
		opt.ConnWriteTimeout = 3 * time.Second
	}
	// Client-side caching buys nothing here (every read is of fresh state).
	opt.DisableCache = true
	c, err := valkey.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("valkeystore: connect to %s: %w", strings.Join(opt.InitAddress, ","), mapErr(err))
	}
	s := New(c, cfg.Options)
	s.owned = true
	if err := s.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// New wraps an existing client. Close does not close it.
func New(c valkey.Client, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "engram"
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 2 * time.Second
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = domain.DefaultSessionTTL
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = domain.MaxSessionEvents
	}
	if o.MaxBytesPerUser <= 0 {
		o.MaxBytesPerUser = DefaultMaxBytesPerUser
	}
	if o.HalfLife <= 0 {
		o.HalfLife = domain.DefaultRecencyHalfLife
	}
	if o.Clock == nil {
		o.Clock = ports.SystemClock{}
	}
	return &Store{c: c, o: o}
}

// Close releases the client when Open created it.
func (s *Store) Close() error {
	if s.owned {
		s.c.Close()
	}
	return nil
}

// Client returns the underlying client (for benchmarks and health checks).
func (s *Store) Client() valkey.Client { return s.c }

// Ping checks the server answers; /readyz calls it.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.c.Do(ctx, s.c.B().Ping().Build()).Error(); err != nil {
		return fmt.Errorf("valkeystore: ping: %w", mapErr(err))
	}
	return nil
}

// MaxMemoryPolicy returns the server's maxmemory-policy. Anything other than
// "noeviction" lets Valkey evict unexpired replay keys under memory pressure,
// which reopens those DPoP proofs to replay; engramd warns at start. It reads
// INFO rather than CONFIG GET because managed services often disable CONFIG.
func (s *Store) MaxMemoryPolicy(ctx context.Context) (string, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	info, err := s.c.Do(ctx, s.c.B().Info().Section("memory").Build()).ToString()
	if err != nil {
		return "", fmt.Errorf("valkeystore: info memory: %w", mapErr(err))
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "maxmemory_policy:"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("valkeystore: info memory has no maxmemory_policy: %w", domain.ErrUnavailable)
}

func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.o.OpTimeout)
}

// errNil marks a nil reply; callers turn it into their own meaning.
var errNil = errors.New("nil reply")

// mapErr is the adapter's one translation of client errors: a nil reply is
// errNil, anything else means the server could not serve the call.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if valkey.IsValkeyNil(err) {
		return errNil
	}
	retry := 1
	if errors.Is(err, context.Canceled) {
		retry = 0
	}
	return &domain.UnavailableError{Dependency: "valkey", RetryAfter: retry, Err: err}
}

// Prefix returns the key prefix in use.
func (s *Store) Prefix() string { return s.o.Prefix }
