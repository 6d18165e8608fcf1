package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// PrivacyDeps are the ports PrivacyService needs. Text, Vectors, Sessions
// and Idempotency are optional: a profile without one has nothing there
// to erase.
type PrivacyDeps struct {
	Jobs        ports.ErasureJobs
	Store       ports.SubjectStore
	Audit       ports.AuditLog
	Text        ports.TextIndex
	Vectors     ports.VectorIndex
	Sessions    ports.SessionEraser
	Idempotency ports.IdempotencyEraser
	// HashKey keys the HMAC that names subjects and actors in jobs and the
	// audit trail; at least 32 bytes, the same on every server.
	HashKey []byte
	Clock   ports.Clock
	Logger  *slog.Logger
	// Grace is how long after a job starts every server is sure to refuse
	// the subject's writes (the guard's refresh interval, twice); the job
	// is not done before a final pass that starts after it. 0 means 2 s.
	Grace time.Duration
	// Batch is how many memories one step erases; 0 means 1000.
	Batch int
	// Export are the stores a subject access export reads.
	Export ExportDeps
	// Retention keeps org retention policies and finds expired memories
	// for the sweeper (Sweep); nil turns expiry sweeping and policies off.
	Retention ports.RetentionStore
	// Compact, when set, purges erased bytes the stores keep after their
	// rows are gone (SQLite: FTS5 segment pages, the WAL). It runs once
	// before a job is done and after a sweep that erased memories.
	Compact func(context.Context) error
	// KeyCache, when set, is told to forget the cached data keys of every
	// subject whose erasure Refresh sees running or ending: the job may
	// run in another process, whose key destruction this process's cache
	// would not otherwise learn of (ports.DataKeyForgetter).
	KeyCache ports.DataKeyForgetter
}

// WriteGuard refuses writes by a tenant whose erasure has started, with an
// error wrapping domain.ErrConflict (*domain.ErasureInProgressError).
// PrivacyService is one.
type WriteGuard interface {
	AllowWrite(ctx context.Context, t domain.Tenant) error
}

func allowWrite(ctx context.Context, g WriteGuard, t domain.Tenant) error {
	if g == nil {
		return nil
	}
	return g.AllowWrite(ctx, t)
}

// PrivacyService runs erasure: it records requests as jobs, runs them to
// the end across every store, and refuses writes by a subject whose
// erasure has started.
type PrivacyService struct {
	d PrivacyDeps

	mu     sync.Mutex
	active map[domain.Subject]domain.ErasureID // unfinished jobs, as last seen
	wake   chan struct{}

	ttls  retentionCache
	sweep sweepState
}

// NewPrivacyService checks deps and returns the service.
func NewPrivacyService(d PrivacyDeps) (*PrivacyService, error) {
	if d.Jobs == nil || d.Store == nil || d.Audit == nil {
		return nil, errors.New("app: PrivacyDeps needs Jobs, Store and Audit")
	}
	if len(d.HashKey) < 32 {
		return nil, errors.New("app: PrivacyDeps.HashKey must be at least 32 bytes")
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Grace == 0 {
		d.Grace = 2 * time.Second
	}
	if d.Batch == 0 {
		d.Batch = 1000
	}
	return &PrivacyService{d: d, active: map[domain.Subject]domain.ErasureID{}, wake: make(chan struct{}, 1)}, nil
}

// Hash is the keyed hash naming a subject (or an actor) without holding
// its ids: HMAC-SHA256 over org and user, hex.
func (s *PrivacyService) Hash(org domain.OrgID, user domain.UserID) string {
	m := hmac.New(sha256.New, s.d.HashKey)
	m.Write([]byte(org))
	m.Write([]byte{0})
	m.Write([]byte(user))
	return hex.EncodeToString(m.Sum(nil))
}

// EraseMe starts (or joins) the erasure of the caller.
func (s *PrivacyService) EraseMe(ctx context.Context, p domain.Principal) (domain.Erasure, bool, error) {
	if err := p.Require(domain.ScopeMemoriesWrite); err != nil {
		return domain.Erasure{}, false, err
	}
	return s.start(ctx, domain.Subject{OrgID: p.OrgID, UserID: p.UserID}, s.Hash(p.OrgID, p.UserID))
}

// EraseInOrg starts (or joins) the erasure of a user of the caller's org,
// or of the whole org when user is empty. It needs privacy:admin; the org
// is always the caller's.
func (s *PrivacyService) EraseInOrg(ctx context.Context, p domain.Principal, user domain.UserID) (domain.Erasure, bool, error) {
	if err := p.Require(domain.ScopePrivacyAdmin); err != nil {
		return domain.Erasure{}, false, err
	}
	return s.start(ctx, domain.Subject{OrgID: p.OrgID, UserID: user}, s.Hash(p.OrgID, p.UserID))
}

// EraseAsOperator starts (or joins) an erasure for an operator with direct
// access to the stores (engram erase); actor names them in the job.
func (s *PrivacyService) EraseAsOperator(ctx context.Context, subj domain.Subject, actor string) (domain.Erasure, bool, error) {
	return s.start(ctx, subj, s.Hash("operator", domain.UserID(actor)))
}

func (s *PrivacyService) start(ctx context.Context, subj domain.Subject, actorHash string) (domain.Erasure, bool, error) {
	if err := subj.Validate(); err != nil {
		return domain.Erasure{}, false, err
	}
	now := s.d.Clock.Now().UTC()
	e := domain.Erasure{
		ID: domain.NewErasureID(now), OrgID: subj.OrgID, UserID: subj.UserID, OrgWide: subj.OrgWide(),
		SubjectHash: s.Hash(subj.OrgID, subj.UserID), RequestedBy: actorHash,
		Status: domain.ErasurePending, CreatedAt: now, UpdatedAt: now,
	}
	job, joined, err := s.d.Jobs.StartErasure(ctx, e)
	if err != nil {
		return domain.Erasure{}, false, fmt.Errorf("app: start erasure: %w", err)
	}
	outcome := "accepted"
	if joined {
		outcome = "joined"
	}
	// After the job exists: a failure here answers an error, and the
	// retry joins the job and is recorded then.
	if err := s.audit(ctx, job, domain.AuditErasureRequested, actorHash, nil, outcome); err != nil {
		return domain.Erasure{}, false, err
	}
	s.mu.Lock()
	s.active[subj] = job.ID
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return job, joined, nil
}

// audit appends one event about job; it holds hashes and counts only.
func (s *PrivacyService) audit(ctx context.Context, job domain.Erasure, action, actor string, counts map[string]int64, outcome string) error {
	now := s.d.Clock.Now().UTC()
	err := s.d.Audit.AppendAudit(ctx, domain.AuditEvent{
		ID: domain.NewAuditID(now), OrgID: job.OrgID, At: now, Action: action, ActorHash: actor,
		SubjectHash: job.SubjectHash, OrgWide: job.OrgWide, ErasureID: job.ID, Counts: counts, Outcome: outcome,
	})
	if err != nil {
		return fmt.Errorf("app: audit %s: %w", action, err)
	}
	return nil
}

// AuditTrail lists the audit events of the caller's org, newest first; it
// needs privacy:admin.
func (s *PrivacyService) AuditTrail(ctx context.Context, p domain.Principal, limit int, cursor string) ([]domain.AuditEvent, string, error) {
	if err := p.Require(domain.ScopePrivacyAdmin); err != nil {
		return nil, "", err
	}
	return s.d.Audit.ListAudit(ctx, p.OrgID, limit, cursor)
}

// Erasure returns a job the caller may see: their own (not org-wide) job,
// or any job of their org with privacy:admin. Anything else is
// domain.ErrNotFound.
func (s *PrivacyService) Erasure(ctx context.Context, p domain.Principal, id domain.ErasureID) (domain.Erasure, error) {
	e, err := s.d.Jobs.GetErasure(ctx, p.OrgID, id)
	if err != nil {
		return domain.Erasure{}, fmt.Errorf("app: erasure %s: %w", id, err)
	}
	if p.HasScope(domain.ScopePrivacyAdmin) || (!e.OrgWide && e.SubjectHash == s.Hash(p.OrgID, p.UserID)) {
		return e, nil
	}
	return domain.Erasure{}, fmt.Errorf("app: erasure %s: %w", id, domain.ErrNotFound)
}

// OperatorErasure returns any job, for engram erase.
func (s *PrivacyService) OperatorErasure(ctx context.Context, org domain.OrgID, id domain.ErasureID) (domain.Erasure, error) {
	return s.d.Jobs.GetErasure(ctx, org, id)
}

// AllowWrite refuses a write by a tenant whose erasure (or whose org's
// erasure) has started, as far as this server has seen: jobs started here
// at once, jobs started elsewhere after the next Refresh.
func (s *PrivacyService) AllowWrite(_ context.Context, t domain.Tenant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, subj := range []domain.Subject{{OrgID: t.OrgID, UserID: t.UserID}, {OrgID: t.OrgID}} {
		if id, ok := s.active[subj]; ok {
			return &domain.ErasureInProgressError{ID: id}
		}
	}
	return nil
}

// Refresh reloads the unfinished jobs that AllowWrite refuses writes for,
// and returns them.
func (s *PrivacyService) Refresh(ctx context.Context) ([]domain.Erasure, error) {
	jobs, err := s.d.Jobs.UnfinishedErasures(ctx, 1000)
	if err != nil {
		return nil, fmt.Errorf("app: unfinished erasures: %w", err)
	}
	active := make(map[domain.Subject]domain.ErasureID, len(jobs))
	for _, j := range jobs {
		active[j.Subject()] = j.ID
	}
	s.mu.Lock()
	ended := s.active
	s.active = active
	s.mu.Unlock()
	if s.d.KeyCache != nil {
		// Running: what is cached may be a key the job is destroying.
		// Ended: a read while it ran may have cached the key again
		// before the job destroyed it. Writes are refused in between.
		for subj := range active {
			s.d.KeyCache.ForgetDataKeys(subj)
		}
		for subj := range ended {
			if _, ok := active[subj]; !ok {
				s.d.KeyCache.ForgetDataKeys(subj)
			}
		}
	}
	return jobs, nil
}
