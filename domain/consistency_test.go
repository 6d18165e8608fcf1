package domain_test

import (
	"errors"
	"testing"

	"github.com/engram-memory/engram/domain"
)

func TestConsistencyRoundTrips(t *testing.T) {
	for _, s := range []string{"0/0", "0/16B3748", "1/0", "FFFFFFFF/FFFFFFFF", "A/B"} {
		c, err := domain.ParseConsistency(s)
		if err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
		if c.String() != s {
			t.Fatalf("%q came back as %q", s, c.String())
		}
	}
	c, _ := domain.ParseConsistency("1/2")
	if uint64(c) != 1<<32|2 {
		t.Fatalf("1/2 = %d", uint64(c))
	}
	if c, _ := domain.ParseConsistency("0/16b3748"); c.String() != "0/16B3748" {
		t.Fatalf("lower case: %s", c)
	}
}

func TestConsistencyRejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "/", "0/", "/1", "0x1/2", "1/2/3", "123456789/0", "0/-1", " 0/1", "0/1 ", "g/1", "+1/2"} {
		_, err := domain.ParseConsistency(s)
		var v *domain.ValidationError
		if !errors.Is(err, domain.ErrInvalid) || !errors.As(err, &v) || v.Field != "consistency" {
			t.Fatalf("%q: want a validation error on consistency, got %v", s, err)
		}
	}
}
