package ports

import "github.com/engram-memory/engram/domain"

// Check validates the arguments of RateLimiter.Allow, so that every adapter
// refuses the same calls with the same domain.ErrInvalid.
func (l RateLimit) Check(key string, cost int) error {
	switch {
	case key == "":
		return domain.Invalid("key", "must not be empty")
	case l.Burst < 1:
		return domain.Invalid("burst", "must be at least 1, got %d", l.Burst)
	case l.Period <= 0:
		return domain.Invalid("period", "must be positive, got %s", l.Period)
	case cost < 1 || cost > l.Burst:
		return domain.Invalid("cost", "must be between 1 and the burst %d, got %d", l.Burst, cost)
	}
	return nil
}
