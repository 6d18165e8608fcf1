package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// Consistency is a position in the system of record's commit log
// (PostgreSQL: a WAL location, LSN). A response to a write carries the
// position its commit reached; a read that presents it back is served only
// by a copy of the data that has replayed at least that far, so a client
// reads its own writes even when reads go to replicas. Zero means "no
// requirement".
//
// Its text form is PostgreSQL's: two hexadecimal halves of the 64-bit
// position separated by a slash ("0/16B3748"), at most 8 digits each.
type Consistency uint64

// ParseConsistency parses the text form. Anything else (empty halves, more
// than 8 digits, a sign, spaces) is a *ValidationError on field
// "consistency".
func ParseConsistency(s string) (Consistency, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || !lsnHalf(hi) || !lsnHalf(lo) {
		return 0, Invalid("consistency", "must be a commit position like 0/16B3748, as returned in the Engram-Consistency header")
	}
	h, _ := strconv.ParseUint(hi, 16, 32)
	l, _ := strconv.ParseUint(lo, 16, 32)
	return Consistency(h<<32 | l), nil
}

func lsnHalf(s string) bool {
	if s == "" || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}

// String is the text form ParseConsistency reads.
func (c Consistency) String() string {
	return fmt.Sprintf("%X/%X", uint64(c)>>32, uint64(c)&0xFFFFFFFF)
}
