package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

func TestValidateAppID(t *testing.T) {
	for _, ok := range []domain.AppID{"cursor", "claude-desktop", "a", "my.agent_v2", domain.AppID(strings.Repeat("a", 64)), domain.DefaultApp} {
		require.NoError(t, domain.ValidateAppID(ok), "%q", ok)
	}
	for _, bad := range []domain.AppID{"", "Cursor", "-cursor", ".hidden", "has space", "slash/app", domain.AppID(strings.Repeat("a", 65)), "naïve"} {
		requireInvalidFieldNamed(t, domain.ValidateAppID(bad), "app")
	}
}

func TestAppIDFromClientName(t *testing.T) {
	for in, want := range map[string]domain.AppID{
		"Claude Desktop":                         "claude-desktop",
		"cursor-vscode 1.2":                      "cursor-vscode-1.2",
		"claude-desktop-via-mcp-remote-0.15.1":   "claude-desktop",
		"Claude Desktop (via mcp-remote 0.1.18)": "claude-desktop",
		"  --Hello--  ":                          "hello",
		"Café Agent":                             "caf-agent",
		"":                                       domain.DefaultApp,
		"!!!":                                    domain.DefaultApp,
		"日本語":                                    domain.DefaultApp,
		strings.Repeat("ab ", 50):                domain.AppID(strings.TrimSuffix(strings.Repeat("ab-", 22), "-")[:64]),
	} {
		got := domain.AppIDFromClientName(in)
		require.Equal(t, want, got, "%q", in)
		require.NoError(t, domain.ValidateAppID(got), "%q gave an invalid id %q", in, got)
	}
}

func TestAppValidate(t *testing.T) {
	a := domain.App{ID: "cursor", OrgID: "o", UserID: "u", Active: true}
	require.NoError(t, a.Validate())
	a.Description = strings.Repeat("d", domain.MaxAppDescription)
	require.NoError(t, a.Validate())
	a.Description += "d"
	requireInvalidFieldNamed(t, a.Validate(), "description")
	requireInvalidFieldNamed(t, domain.App{ID: "Bad", OrgID: "o", UserID: "u"}.Validate(), "app")
	requireInvalidFieldNamed(t, domain.App{ID: "ok", UserID: "u"}.Validate(), "org_id")
}
