package domain

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// MemoryID is a UUIDv7 (RFC 9562) in canonical text form. Its first 48 bits are
// the creation time in milliseconds, so ids sort by creation time and keyset
// pagination over them is stable.
type MemoryID string

var idGen struct {
	sync.Mutex
	lastMS  int64
	counter uint16 // 12 bits used, RFC 9562 §6.2 method 1
}

// NewID returns a fresh UUIDv7 string for now. Within one millisecond the
// 12-bit rand_a field is a counter, so ids from one process are strictly
// increasing; across processes they are ordered to the millisecond.
func NewID(now time.Time) string {
	ms := now.UnixMilli()
	idGen.Lock()
	if ms <= idGen.lastMS {
		ms = idGen.lastMS
		idGen.counter++
		if idGen.counter > 0x0fff {
			ms++
			idGen.counter = 0
		}
	} else {
		idGen.counter = 0
	}
	idGen.lastMS = ms
	counter := idGen.counter
	idGen.Unlock()

	var b [16]byte
	_, _ = rand.Read(b[8:]) // crypto/rand.Read never fails on supported platforms
	binary.BigEndian.PutUint64(b[0:8], uint64(ms)<<16)
	b[6] = 0x70 | byte(counter>>8)
	b[7] = byte(counter)
	b[8] = (b[8] & 0x3f) | 0x80
	return formatUUID(b)
}

// NewMemoryID returns a new time-sortable memory id.
func NewMemoryID(now time.Time) MemoryID { return MemoryID(NewID(now)) }

func formatUUID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// ValidID reports whether s is a canonical lower-case UUID.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// ParseMemoryID validates an id taken from a request.
func ParseMemoryID(s string) (MemoryID, error) {
	if !ValidID(s) {
		return "", Invalid("id", "must be a lower-case UUID")
	}
	return MemoryID(s), nil
}
