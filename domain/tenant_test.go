package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestTenantValidate(t *testing.T) {
	ok := []domain.Tenant{
		{OrgID: "acme", UserID: "alice"},
		{OrgID: "org_2x:eu", UserID: "auth0|5f7c8ec7c33c6c004bbafe82"},
		{OrgID: "a", UserID: "alice+test@example.com"},
		{OrgID: domain.OrgID(strings.Repeat("o", 255)), UserID: "u"},
	}
	for _, tn := range ok {
		require.NoError(t, tn.Validate(), "%+v", tn)
	}
	for field, tn := range map[string]domain.Tenant{
		"org_id":  {OrgID: "", UserID: "u"},
		"user_id": {OrgID: "o", UserID: ""},
	} {
		requireInvalidFieldNamed(t, tn.Validate(), field)
	}
	for _, bad := range []string{" o", ".o", "-o", "o o", "o/../p", "o\x00", "ö", strings.Repeat("o", 256)} {
		requireInvalidFieldNamed(t, domain.Tenant{OrgID: domain.OrgID(bad), UserID: "u"}.Validate(), "org_id")
		requireInvalidFieldNamed(t, domain.Tenant{OrgID: "o", UserID: domain.UserID(bad)}.Validate(), "user_id")
	}
}

func TestParseScopes(t *testing.T) {
	require.Equal(t, []domain.Scope{"memories:read", "apps:write"}, domain.ParseScopes("  memories:read \t apps:write "))
	require.Empty(t, domain.ParseScopes(""))
}

func TestPrincipalRequire(t *testing.T) {
	p := domain.Principal{OrgID: "o", UserID: "u", Scopes: []domain.Scope{domain.ScopeMemoriesRead}}
	require.Equal(t, domain.Tenant{OrgID: "o", UserID: "u"}, p.Tenant())
	require.True(t, p.HasScope(domain.ScopeMemoriesRead))
	require.NoError(t, p.Require(domain.ScopeMemoriesRead))
	err := p.Require(domain.ScopeMemoriesWrite)
	require.ErrorIs(t, err, domain.ErrForbidden)
	var fe *domain.ForbiddenError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, domain.ScopeMemoriesWrite, fe.MissingScope)
}

func TestDefaultUserScopesExcludeOperatorScopes(t *testing.T) {
	require.Contains(t, domain.DefaultUserScopes, domain.ScopeMemoriesWrite)
	require.NotContains(t, domain.DefaultUserScopes, domain.ScopeExperimentsWrite)
	require.NotContains(t, domain.DefaultUserScopes, domain.ScopeExperimentsRead)
}

func TestActAs(t *testing.T) {
	user := domain.Principal{OrgID: "acme", UserID: "alice"}
	p, err := user.ActAs("")
	if err != nil || p.UserID != "alice" {
		t.Fatalf("empty user keeps the principal: %v %v", p, err)
	}
	if p, err = user.ActAs("alice"); err != nil || p.UserID != "alice" {
		t.Fatalf("naming oneself: %v %v", p, err)
	}
	if _, err = user.ActAs("bob"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a user naming another user must be forbidden, got %v", err)
	}
	project := domain.Principal{OrgID: "acme", ProjectKey: true}
	if _, err = project.ActAs(""); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("a project key must name a user, got %v", err)
	}
	if _, err = project.ActAs("bad user"); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("a malformed user id must be invalid, got %v", err)
	}
	p, err = project.ActAs("bob")
	if err != nil || p.UserID != "bob" || p.OrgID != "acme" || p.ProjectKey {
		t.Fatalf("a project key acts for bob of its own org: %+v %v", p, err)
	}
}
