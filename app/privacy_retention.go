package app

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/engram-memory/engram/domain"
)

// DefaultTTLs tells the memory service an app's default time to live in
// an org (0: none). PrivacyService is one.
type DefaultTTLs interface {
	DefaultTTL(ctx context.Context, org domain.OrgID, app domain.AppID) (time.Duration, error)
}

// retentionCacheFor is how long a server keeps an org's policy before
// reading it again: a change made through another server reaches this one
// within it.
const retentionCacheFor = 10 * time.Second

// retentionCache holds org policies read recently, for DefaultTTL, which
// runs on every memory added.
type retentionCache struct {
	mu    sync.Mutex
	byOrg map[domain.OrgID]cachedRetention
}

type cachedRetention struct {
	r  domain.Retention
	at time.Time
}

// SweepStats are the sweeper's metrics: rows erased per store since the
// process started, and the start of the last sweep that finished (every
// memory that had expired by then is gone, as are retained rows older
// than their cutoff).
type SweepStats struct {
	Swept     map[string]int64
	LastSweep time.Time
	Failures  int64
}

type sweepState struct {
	mu    sync.Mutex
	stats SweepStats
}

// GetRetention returns the caller's org's retention policy (scope
// privacy:admin).
func (s *PrivacyService) GetRetention(ctx context.Context, p domain.Principal) (domain.Retention, error) {
	if err := p.Require(domain.ScopePrivacyAdmin); err != nil {
		return domain.Retention{}, err
	}
	if s.d.Retention == nil {
		return domain.Retention{}, fmt.Errorf("app: retention: %w", domain.ErrUnavailable)
	}
	return s.d.Retention.GetRetention(ctx, p.OrgID)
}

// SetRetention replaces the caller's org's retention policy (scope
// privacy:admin). It applies to data already stored on the next sweep,
// and to new memories' default expiry within retentionCacheFor on every
// server.
func (s *PrivacyService) SetRetention(ctx context.Context, p domain.Principal, r domain.Retention) (domain.Retention, error) {
	if err := p.Require(domain.ScopePrivacyAdmin); err != nil {
		return domain.Retention{}, err
	}
	if s.d.Retention == nil {
		return domain.Retention{}, fmt.Errorf("app: retention: %w", domain.ErrUnavailable)
	}
	if err := r.Validate(); err != nil {
		return domain.Retention{}, err
	}
	r.UpdatedAt = s.d.Clock.Now().UTC()
	if err := s.d.Retention.SetRetention(ctx, p.OrgID, r); err != nil {
		return domain.Retention{}, err
	}
	s.ttls.mu.Lock()
	delete(s.ttls.byOrg, p.OrgID)
	s.ttls.mu.Unlock()
	return s.d.Retention.GetRetention(ctx, p.OrgID)
}

// DefaultTTL implements DefaultTTLs from the org's policy, cached for
// retentionCacheFor.
func (s *PrivacyService) DefaultTTL(ctx context.Context, org domain.OrgID, app domain.AppID) (time.Duration, error) {
	if s.d.Retention == nil {
		return 0, nil
	}
	now := s.d.Clock.Now()
	s.ttls.mu.Lock()
	c, ok := s.ttls.byOrg[org]
	s.ttls.mu.Unlock()
	if ok && now.Sub(c.at) < retentionCacheFor {
		return c.r.MemoryTTL(app), nil
	}
	r, err := s.d.Retention.GetRetention(ctx, org)
	if err != nil {
		return 0, err
	}
	s.ttls.mu.Lock()
	if s.ttls.byOrg == nil || len(s.ttls.byOrg) > 10000 {
		s.ttls.byOrg = map[domain.OrgID]cachedRetention{} // bounded: start over
	}
	s.ttls.byOrg[org] = cachedRetention{r: r, at: now}
	s.ttls.mu.Unlock()
	return r.MemoryTTL(app), nil
}

// SweepStats returns a copy of the sweeper's metrics.
func (s *PrivacyService) SweepStats() SweepStats {
	s.sweep.mu.Lock()
	defer s.sweep.mu.Unlock()
	out := s.sweep.stats
	out.Swept = maps.Clone(out.Swept)
	return out
}

// RunSweeper sweeps every interval until ctx ends.
func (s *PrivacyService) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.d.Logger.Warn("retention sweep will be retried", "err", errorKind(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep erases, in every org, the memories and dashboard sessions whose
// expiry has passed, the OAuth codes and refresh tokens expired more than
// their grace ago, and the access-log rows, query logs and feedback
// events older than the org's retention policy allows. Expired memories are erased exactly as an
// erasure erases them (docs/privacy.md): their text and vector index
// entries first, then the rows with their history and access-log rows,
// hard. It returns what it erased, by store; a failure stops the sweep
// (the next one resumes, nothing is done twice).
func (s *PrivacyService) Sweep(ctx context.Context) (map[string]int64, error) {
	if s.d.Retention == nil {
		return nil, nil
	}
	start := s.d.Clock.Now().UTC()
	total := map[string]int64{}
	err := s.sweepAll(ctx, start, total)
	if err == nil && total[domain.StoreMemories] > 0 && s.d.Compact != nil {
		err = s.d.Compact(ctx)
	}
	s.sweep.mu.Lock()
	if s.sweep.stats.Swept == nil {
		s.sweep.stats.Swept = map[string]int64{}
	}
	for k, n := range total {
		s.sweep.stats.Swept[k] += n
	}
	if err == nil {
		s.sweep.stats.LastSweep = start
	} else {
		s.sweep.stats.Failures++
	}
	s.sweep.mu.Unlock()
	if err != nil {
		return total, fmt.Errorf("app: retention sweep: %w", err)
	}
	return total, nil
}

func (s *PrivacyService) sweepAll(ctx context.Context, now time.Time, total map[string]int64) error {
	orgs, err := s.d.Retention.SweepOrgs(ctx)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		counts, err := s.sweepOrg(ctx, org, now)
		for k, n := range counts {
			total[k] += n
		}
		if len(counts) > 0 {
			// Recorded even when the org's sweep stopped half way: what
			// was erased is gone and will not be found again.
			if aerr := s.auditSweep(ctx, org, counts, err); aerr != nil && err == nil {
				err = aerr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// auditSweep records what a sweep erased in org. The event names no
// subject (a sweep erases for many users, and the trail must hold no
// personal data) and its actor is the sweeper.
func (s *PrivacyService) auditSweep(ctx context.Context, org domain.OrgID, counts map[string]int64, sweepErr error) error {
	outcome := "done"
	if sweepErr != nil {
		outcome = errorKind(sweepErr)
	}
	now := s.d.Clock.Now().UTC()
	err := s.d.Audit.AppendAudit(ctx, domain.AuditEvent{
		ID: domain.NewAuditID(now), OrgID: org, At: now, Action: domain.AuditRetentionSwept,
		ActorHash: s.Hash("operator", "retention-sweeper"), Counts: counts, Outcome: outcome,
	})
	if err != nil {
		return fmt.Errorf("app: audit %s: %w", domain.AuditRetentionSwept, err)
	}
	return nil
}

// sweepOrg erases what has expired in org and reports it by store, also
// when it stops at an error.
func (s *PrivacyService) sweepOrg(ctx context.Context, org domain.OrgID, now time.Time) (map[string]int64, error) {
	total := map[string]int64{}
	add := func(counts map[string]int64) {
		for k, n := range counts {
			if n != 0 {
				total[k] += n
			}
		}
	}
	for {
		refs, err := s.d.Retention.ExpiredMemories(ctx, org, now, s.d.Batch)
		if err != nil {
			return total, err
		}
		if len(refs) == 0 {
			break
		}
		counts, err := s.eraseIndexed(ctx, refs)
		if err != nil {
			return total, err
		}
		add(counts)
		byTenant := map[domain.Tenant][]domain.MemoryID{}
		for _, r := range refs {
			byTenant[r.Tenant] = append(byTenant[r.Tenant], r.ID)
		}
		for t, ids := range byTenant {
			counts, err := s.d.Store.EraseMemories(ctx, domain.Subject(t), ids)
			if err != nil {
				return total, err
			}
			add(counts)
		}
		if len(refs) < s.d.Batch {
			break
		}
	}
	// Dashboard sessions carry their own expiry, whatever the policy; a
	// sign-in deletes only the signing-in user's expired ones.
	n, err := s.d.Retention.PurgeExpiredUISessions(ctx, org, now)
	if err != nil {
		return total, err
	}
	add(map[string]int64{domain.StoreUISessions: n})
	// So do OAuth codes and refresh tokens, kept a grace past their expiry
	// for reuse detection (ports.RetentionStore.PurgeExpiredOAuthTokens).
	n, err = s.d.Retention.PurgeExpiredOAuthTokens(ctx, org, now.Add(-domain.OAuthCodeGrace), now.Add(-domain.OAuthRefreshGrace))
	if err != nil {
		return total, err
	}
	add(map[string]int64{domain.StoreOAuthTokens: n})
	r, err := s.d.Retention.GetRetention(ctx, org)
	if err != nil {
		return total, err
	}
	if r.AccessLog == 0 && r.QueryLog == 0 && r.Feedback == 0 {
		return total, nil
	}
	counts, err := s.d.Retention.PurgeRetained(ctx, org,
		domain.Cutoff(now, r.AccessLog), domain.Cutoff(now, r.QueryLog), domain.Cutoff(now, r.Feedback))
	if err != nil {
		return total, err
	}
	add(counts)
	return total, nil
}

var _ DefaultTTLs = (*PrivacyService)(nil)
