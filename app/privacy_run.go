package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// maxPasses bounds the passes of one run: each pass after the first only
// finds what was written while the previous one ran, and writes are
// refused once the grace period is over.
const maxPasses = 5

// Run works unfinished jobs until ctx ends: at once when a job is started
// in this process, and every poll otherwise (jobs started on another
// server, or left by a crash, and retries of failed steps).
func (s *PrivacyService) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := s.RunPending(ctx); err != nil && ctx.Err() == nil {
			s.d.Logger.Warn("erasure will be retried", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// RunPending refreshes the write guard and runs every unfinished job once;
// it returns the errors of jobs that could not finish (they stay running
// and are tried again).
func (s *PrivacyService) RunPending(ctx context.Context) error {
	jobs, err := s.Refresh(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, j := range jobs {
		if _, err := s.RunJob(ctx, j); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunJob runs one job until it is done or a step fails. Every step is
// idempotent and its counts are stored as soon as it succeeds, so a crash
// or a failure resumes with nothing done twice and nothing counted twice.
// The job is done only after a full pass over every store that found
// nothing, started after the grace period: writes that raced the start
// are erased too.
func (s *PrivacyService) RunJob(ctx context.Context, e domain.Erasure) (domain.Erasure, error) {
	if e.Status == domain.ErasureDone {
		return e, nil
	}
	subj := e.Subject()
	e.Status, e.UpdatedAt = domain.ErasureRunning, s.d.Clock.Now().UTC()
	if err := s.d.Jobs.SaveErasure(ctx, e); err != nil {
		return e, fmt.Errorf("app: erasure %s: %w", e.ID, err)
	}
	for pass := 0; ; pass++ {
		started := s.d.Clock.Now()
		found, err := s.pass(ctx, e, subj)
		if err != nil {
			return e, s.fail(ctx, e, err)
		}
		if found == 0 && started.After(e.CreatedAt.Add(s.d.Grace)) {
			break
		}
		if pass >= maxPasses {
			return e, s.fail(ctx, e, errors.New("writes keep arriving"))
		}
		if found == 0 {
			// Wait out the grace period before the final pass.
			select {
			case <-ctx.Done():
				return e, ctx.Err()
			case <-time.After(time.Until(e.CreatedAt.Add(s.d.Grace)) + 10*time.Millisecond):
			}
		}
	}
	if s.d.Compact != nil {
		if err := s.d.Compact(ctx); err != nil {
			return e, s.fail(ctx, e, fmt.Errorf("compact: %w", err))
		}
	}
	// Recorded before the job is marked done: a failure here leaves it
	// running, to be finished (and recorded) on the next attempt.
	counted, err := s.d.Jobs.GetErasure(ctx, e.OrgID, e.ID)
	if err != nil {
		return e, s.fail(ctx, e, err)
	}
	if err := s.audit(ctx, e, domain.AuditErasureDone, e.RequestedBy, counted.Counts, "done"); err != nil {
		return e, s.fail(ctx, e, err)
	}
	now := s.d.Clock.Now().UTC()
	e.Status, e.UserID, e.LastError, e.UpdatedAt, e.FinishedAt = domain.ErasureDone, "", "", now, now
	e.Counts = counted.Counts
	if err := s.d.Jobs.SaveErasure(ctx, e); err != nil {
		return e, fmt.Errorf("app: erasure %s: %w", e.ID, err)
	}
	s.mu.Lock()
	delete(s.active, subj)
	s.mu.Unlock()
	return e, nil
}

// fail records a failed attempt without personal data: the error's kind,
// never its text (which may name the user).
func (s *PrivacyService) fail(ctx context.Context, e domain.Erasure, cause error) error {
	e.Attempts++
	e.LastError = errorKind(cause)
	e.UpdatedAt = s.d.Clock.Now().UTC()
	if e.Attempts == 1 {
		// The first failure only: a long outage would otherwise write an
		// event per poll. Best effort, since the store may be what is down.
		_ = s.audit(ctx, e, domain.AuditErasureFailed, e.RequestedBy, nil, e.LastError)
	}
	if err := s.d.Jobs.SaveErasure(ctx, e); err != nil {
		return errors.Join(cause, err)
	}
	return fmt.Errorf("app: erasure %s: %w", e.ID, cause)
}

func errorKind(err error) string {
	var ue *domain.UnavailableError
	switch {
	case errors.As(err, &ue) && ue.Dependency != "":
		return "unavailable: " + ue.Dependency
	case errors.Is(err, domain.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return "failed"
	}
}

// pass runs every step once and reports how much it erased in total.
func (s *PrivacyService) pass(ctx context.Context, e domain.Erasure, subj domain.Subject) (int64, error) {
	var total int64
	count := func(counts map[string]int64) error {
		for _, n := range counts {
			total += n
		}
		if err := s.d.Jobs.AddErasureCounts(ctx, e.OrgID, e.ID, counts); err != nil {
			return err
		}
		return nil
	}
	for {
		refs, err := s.d.Store.SubjectMemories(ctx, subj, s.d.Batch)
		if err != nil {
			return total, fmt.Errorf("memories: %w", err)
		}
		if len(refs) == 0 {
			break
		}
		// Indexes first: if the store's delete then fails, the ids are
		// still listed next time; the other way round an index could keep
		// an id the store forgot.
		counts, err := s.eraseIndexed(ctx, refs)
		if err != nil {
			return total, err
		}
		ids := make([]domain.MemoryID, len(refs))
		for i, r := range refs {
			ids[i] = r.ID
		}
		stored, err := s.d.Store.EraseMemories(ctx, subj, ids)
		if err != nil {
			return total, fmt.Errorf("memories: %w", err)
		}
		for k, n := range stored {
			counts[k] += n
		}
		if err := count(counts); err != nil {
			return total, err
		}
	}
	rest, err := s.d.Store.EraseSubjectData(ctx, subj)
	if err != nil {
		return total, fmt.Errorf("subject data: %w", err)
	}
	if err := count(rest); err != nil {
		return total, err
	}
	caches := map[string]int64{}
	if s.d.Sessions != nil {
		if caches[domain.StoreSessions], err = s.d.Sessions.EraseSessions(ctx, subj); err != nil {
			return total, fmt.Errorf("sessions: %w", err)
		}
	}
	if s.d.Idempotency != nil {
		if caches[domain.StoreIdempotency], err = s.d.Idempotency.EraseIdempotency(ctx, subj); err != nil {
			return total, fmt.Errorf("idempotency records: %w", err)
		}
	}
	return total, count(caches)
}

// eraseIndexed deletes refs from the text and vector indexes, one call per
// tenant (an org-wide batch spans users).
func (s *PrivacyService) eraseIndexed(ctx context.Context, refs []ports.MemoryRef) (map[string]int64, error) {
	byTenant := map[domain.Tenant][]domain.MemoryID{}
	for _, r := range refs {
		byTenant[r.Tenant] = append(byTenant[r.Tenant], r.ID)
	}
	counts := map[string]int64{}
	for t, ids := range byTenant {
		if s.d.Text != nil {
			if err := s.d.Text.Delete(ctx, t, ids); err != nil {
				return nil, fmt.Errorf("text index: %w", err)
			}
			counts[domain.StoreTextIndex] += int64(len(ids))
		}
		if s.d.Vectors != nil {
			if err := s.d.Vectors.Delete(ctx, t, ids); err != nil {
				return nil, fmt.Errorf("vector index: %w", err)
			}
			counts[domain.StoreVectorIndex] += int64(len(ids))
		}
	}
	return counts, nil
}
