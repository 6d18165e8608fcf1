package domain

import (
	"regexp"
	"strings"
	"testing"
)

// The hand-written validators must accept exactly what the patterns they
// replace accept.
func TestHandWrittenValidatorsMatchTheirPatterns(t *testing.T) {
	tenant := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@|+-]{0,254}$`)
	app := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	cases := []string{
		"", "a", "A", "0", "-", ".a", "a.b", "a_b", "a:b", "a@b", "a|b", "a+b", "a-b", "a b", "a/b",
		"é", "aé", "A-Z_09", "acme", "user@example.com", "org|1", "x\x00", "a\n",
		strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("a", 255), strings.Repeat("a", 256),
		"Claude", "claude-desktop", "cursor.v1",
	}
	for _, c := range cases {
		if got, want := validTenantPart(c), tenant.MatchString(c); got != want {
			t.Errorf("validTenantPart(%q) = %v, pattern says %v", c, got, want)
		}
		if got, want := validAppID(c), app.MatchString(c); got != want {
			t.Errorf("validAppID(%q) = %v, pattern says %v", c, got, want)
		}
	}
}

func FuzzValidatorsMatchPatterns(f *testing.F) {
	tenant := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@|+-]{0,254}$`)
	app := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	for _, s := range []string{"acme", "a-b", "A|b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validTenantPart(s) != tenant.MatchString(s) {
			t.Fatalf("tenant %q", s)
		}
		if validAppID(s) != app.MatchString(s) {
			t.Fatalf("app %q", s)
		}
	})
}
