package resilience

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"

	"github.com/engram-memory/engram/domain"
)

// Options tune one dependency's policies. Zero fields take the defaults
// noted on each.
type Options struct {
	// Timeout bounds each attempt; 5 s when zero.
	Timeout time.Duration
	// Retries is how many times an idempotent call is retried after a
	// backend failure; 2 when zero, none when negative.
	Retries int
	// BackoffMin and BackoffMax bound the exponential backoff between
	// retries (50 ms and 1 s when zero); each delay gets ±25 % jitter so a
	// fleet does not retry in lockstep.
	BackoffMin, BackoffMax time.Duration
	// FailureThreshold consecutive backend failures open the breaker; 5
	// when zero.
	FailureThreshold uint
	// OpenFor is how long an open breaker refuses calls before it lets a
	// trial call through (half-open); 250 ms when zero. Short, because a
	// trial is one call and the breaker's wait is how long writes keep
	// failing after the backend returns (1 s is the documented bound).
	OpenFor time.Duration
	// OnRetry is told about every retry (for a retries counter).
	OnRetry func(dependency, op string)
	// OnStateChange is told when the breaker moves (for a state gauge).
	OnStateChange func(dependency string, s State)
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 50 * time.Millisecond
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(time.Second, o.BackoffMin)
	}
	if o.FailureThreshold == 0 {
		o.FailureThreshold = 5
	}
	if o.OpenFor <= 0 {
		o.OpenFor = 250 * time.Millisecond
	}
}

// State is a breaker's state: closed (calls flow), open (calls refused) or
// half-open (one trial call decides).
type State int

// Breaker states; the values are what the state gauge exports.
const (
	Closed   State = 0
	HalfOpen State = 1
	Open     State = 2
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "closed"
}

// Policy is one dependency's breaker and call policies, shared by every
// decorator of that dependency (the store's memories, apps and access log
// trip one breaker, because they are one database).
type Policy struct {
	dep     string
	o       Options
	breaker circuitbreaker.CircuitBreaker[any]
	// Executors are built once: composing policies per call cost more
	// than the policies themselves.
	reads, writes failsafe.Executor[any]
}

// NewPolicy builds the policies of the dependency named dep ("postgres",
// "valkey", "qdrant", "embedder", ...).
func NewPolicy(dep string, o Options) *Policy {
	o.defaults()
	p := &Policy{dep: dep, o: o}
	cb := circuitbreaker.NewBuilder[any]().
		HandleIf(func(_ any, err error) bool { return isOutage(err) }).
		WithFailureThreshold(o.FailureThreshold).
		WithDelay(o.OpenFor).
		WithSuccessThreshold(1)
	if o.OnStateChange != nil {
		cb = cb.OnStateChanged(func(e circuitbreaker.StateChangedEvent) {
			o.OnStateChange(dep, fromFailsafe(e.NewState))
		})
	}
	p.breaker = cb.Build()
	retry := retrypolicy.NewBuilder[any]().
		HandleIf(func(_ any, err error) bool { return isOutage(err) }).
		// An open breaker will still be open in 50 ms: retrying it only
		// burns the request's time.
		AbortOnErrors(circuitbreaker.ErrOpen).
		WithMaxRetries(o.Retries).
		WithBackoff(o.BackoffMin, o.BackoffMax).
		WithJitterFactor(0.25).
		ReturnLastFailure().
		Build()
	deadline := timeout.New[any](o.Timeout)
	p.writes = failsafe.With[any](p.breaker, deadline)
	p.reads = p.writes
	if o.Retries > 0 {
		p.reads = failsafe.With[any](retry, p.breaker, deadline)
	}
	return p
}

// Probe runs a readiness check through the breaker, so /readyz and the
// breaker agree: an open breaker is "not ready" without touching the
// backend, and once half-open the probe is the trial call whose success
// closes it (the backend's return is noticed by the probe, not only by the
// next user request).
func (p *Policy) Probe(ctx context.Context, check func(context.Context) error) error {
	_, err := do(ctx, p, "readiness_probe", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, check(ctx)
	})
	return err
}

// Dependency names the dependency.
func (p *Policy) Dependency() string { return p.dep }

// State is the breaker's current state.
func (p *Policy) State() State { return fromFailsafe(p.breaker.State()) }

func fromFailsafe(s circuitbreaker.State) State {
	switch s {
	case circuitbreaker.OpenState:
		return Open
	case circuitbreaker.HalfOpenState:
		return HalfOpen
	}
	return Closed
}

// isOutage says whether err is the dependency failing (and so counts
// against the breaker and may be retried), as opposed to a domain answer.
// The caller's own cancellation is neither.
func isOutage(err error) bool {
	var gone callerGoneError
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.As(err, &gone):
		return false
	case errors.Is(err, domain.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, timeout.ErrExceeded):
		return true
	}
	return false
}

// callerGoneError marks a failure caused by the caller's own context ending;
// it is never an outage.
type callerGoneError struct{ err error }

func (e callerGoneError) Error() string { return e.err.Error() }
func (e callerGoneError) Unwrap() error { return e.err }

// do runs fn under the dependency's policies. Writes get the breaker and
// the deadline; idempotent calls get retries too, outermost, so each
// attempt is bounded and counted by the breaker.
func do[R any](ctx context.Context, p *Policy, op string, idempotent bool, fn func(context.Context) (R, error)) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	exec := p.writes
	if idempotent {
		exec = p.reads
	}
	exec = exec.WithContext(ctx)
	attempts := 0
	res, err := exec.GetWithExecution(func(e failsafe.Execution[any]) (any, error) {
		if attempts++; attempts > 1 && p.o.OnRetry != nil {
			p.o.OnRetry(p.dep, op)
		}
		r, err := fn(e.Context())
		if err != nil && ctx.Err() != nil {
			// The caller's deadline or cancellation ended the call: a
			// burst of clients timing out together must not open the
			// breaker and turn their impatience into an outage.
			return r, callerGoneError{err}
		}
		return r, err
	})
	if err != nil {
		return zero, p.unavailable(ctx, op, err)
	}
	out, _ := res.(R) // nil any for a nil slice or map: the zero R
	return out, nil
}

// unavailable turns what the policies answered into the domain's error
// kinds: the caller's cancellation and domain answers as they are, every
// outage as a *domain.UnavailableError with a Retry-After.
func (p *Policy) unavailable(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && !errors.Is(err, circuitbreaker.ErrOpen) {
		// The caller gave up (client gone, request deadline): report
		// that, wrapped, not a fabricated outage.
		return fmt.Errorf("%s %s: %w", p.dep, op, errors.Join(err, ctx.Err()))
	}
	var ue *domain.UnavailableError
	switch {
	case errors.Is(err, circuitbreaker.ErrOpen):
		return &domain.UnavailableError{Dependency: p.dep, RetryAfter: seconds(p.breaker.RemainingDelay()),
			Err: fmt.Errorf("%s: circuit breaker open: %w", op, err)}
	case errors.Is(err, timeout.ErrExceeded):
		return &domain.UnavailableError{Dependency: p.dep, RetryAfter: 1,
			Err: fmt.Errorf("%s: no answer within %s: %w", op, p.o.Timeout, err)}
	case errors.As(err, &ue):
		if ue.RetryAfter <= 0 {
			return &domain.UnavailableError{Dependency: ue.Dependency, RetryAfter: 1, Err: ue.Err}
		}
		return err
	case isOutage(err):
		return &domain.UnavailableError{Dependency: p.dep, RetryAfter: 1, Err: fmt.Errorf("%s: %w", op, err)}
	}
	return err
}

// seconds rounds a delay up to whole seconds, at least 1: Retry-After 0
// would invite an immediate retry into an open breaker.
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
