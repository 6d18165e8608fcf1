package jwtauth

import (
	"net/url"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// CheckRequestPath refuses a request path that a router and a DPoP htu
// comparison could read as two different resources (issue 11): a dot
// segment ("." or "..", also percent-encoded), which RFC 3986 §5.2.4
// removes but a router matches literally, and an encoded slash or
// backslash (%2F, %5C in any case), which a router may decode into a
// separator or not. Transports call it before authentication, so a path
// is either refused or the same path for both.
func CheckRequestPath(u *url.URL) error {
	escaped := u.EscapedPath()
	lower := strings.ToLower(escaped)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(escaped, `\`) {
		return domain.Invalid("path", "must not contain an encoded slash or backslash")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return domain.Invalid("path", "must not contain . or .. segments")
		}
	}
	return nil
}

// normalizePath is RFC 3986 §6.2.2 on an escaped path: percent-escapes
// upper-cased, the unreserved ones decoded, then dot segments removed.
func normalizePath(escaped string) string {
	var b strings.Builder
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' && i+2 < len(escaped) && isHex(escaped[i+1]) && isHex(escaped[i+2]) {
			v := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			if unreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(escaped[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	p := removeDotSegments(b.String())
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

func removeDotSegments(p string) string {
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// unreserved is RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
