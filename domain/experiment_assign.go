package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Assignment is a user's sticky variant in one experiment, fixed at first
// exposure.
type Assignment struct {
	ExperimentID ExperimentID
	UserID       UserID
	Variant      string
	AssignedAt   time.Time
}

// AssignVariant picks a variant for user, deterministically: a SHA-256 of
// experiment id and user gives a point in [0,1) that falls into one variant's
// share of the cumulative weights. The same inputs give the same variant on
// every server; the store persists the first pick so that later weight
// changes move no existing user. Variants of weight 0 are never picked.
func AssignVariant(id ExperimentID, user UserID, vs []Variant) string {
	h := sha256.Sum256([]byte(string(id) + "\x00" + string(user)))
	u := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53) // 53 bits: exact in a float64
	total := 0.0
	for _, v := range vs {
		total += v.Weight
	}
	point, acc := u*total, 0.0
	last := ""
	for _, v := range vs {
		if v.Weight <= 0 {
			continue
		}
		acc += v.Weight
		last = v.Name
		if point < acc {
			return v.Name
		}
	}
	return last // rounding at the very top of the range
}
