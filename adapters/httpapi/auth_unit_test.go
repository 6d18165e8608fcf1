package httpapi

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/adapters/jwtauth"
	"github.com/engram-memory/engram/domain"
)

func TestCredentialsOf(t *testing.T) {
	cases := []struct {
		name       string
		authz      []string
		dpop       []string
		wantScheme string
		wantToken  string
		wantProof  string
		wantCode   string // AuthError code; "none" for errNoCredentials
	}{
		{"no header", nil, nil, "", "", "", "none"},
		{"basic is no credential of ours", []string{"Basic dTpw"}, nil, "", "", "", "none"},
		{"bearer", []string{"Bearer abc.def.ghi"}, nil, jwtauth.SchemeBearer, "abc.def.ghi", "", ""},
		{"scheme is case-insensitive", []string{"bearer abc"}, nil, jwtauth.SchemeBearer, "abc", "", ""},
		{"dpop with proof", []string{"DPoP tok"}, []string{"proof"}, jwtauth.SchemeDPoP, "tok", "proof", ""},
		{"dpop lower case", []string{"dpop tok"}, []string{"proof"}, jwtauth.SchemeDPoP, "tok", "proof", ""},
		{"bearer with a proof passes both on", []string{"Bearer tok"}, []string{"proof"}, jwtauth.SchemeBearer, "tok", "proof", ""},
		{"empty token", []string{"Bearer "}, nil, "", "", "", "invalid_request"},
		{"token with spaces", []string{"Bearer a b"}, nil, "", "", "", "invalid_request"},
		{"two authorization headers", []string{"Bearer a", "Bearer b"}, nil, "", "", "", "invalid_request"},
		{"two dpop headers", []string{"DPoP a"}, []string{"p1", "p2"}, "", "", "", "invalid_dpop_proof"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := credentialsOf(tc.authz, tc.dpop)
			switch tc.wantCode {
			case "":
				require.NoError(t, err)
				require.Equal(t, tc.wantScheme, c.Scheme)
				require.Equal(t, tc.wantToken, c.Token)
				require.Equal(t, tc.wantProof, c.DPoPProof)
			case "none":
				require.ErrorIs(t, err, errNoCredentials)
			default:
				var ae *domain.AuthError
				require.True(t, errors.As(err, &ae), "%v", err)
				require.Equal(t, tc.wantCode, ae.Code)
				require.ErrorIs(t, err, domain.ErrUnauthenticated)
			}
		})
	}
}

func TestNormalizeOrigin(t *testing.T) {
	good := map[string]string{
		"http://127.0.0.1:8765":      "http://127.0.0.1:8765",
		"https://Memory.Example.COM": "https://memory.example.com",
		"https://example.com:443/":   "https://example.com",
		"http://example.com:80":      "http://example.com",
		"https://[::1]:443":          "https://[::1]",
		"https://example.com:8443":   "https://example.com:8443",
	}
	for in, want := range good {
		got, err := normalizeOrigin(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "example.com", "ftp://example.com", "https://example.com/api", "https://example.com?x=1", "https://u:p@example.com", "https://"} {
		_, err := normalizeOrigin(bad)
		require.Error(t, err, bad)
	}
}
