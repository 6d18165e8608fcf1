package config

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestZeroConfigDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8765", c.Addr)
	require.Equal(t, "./data", c.DataDir)
	require.Equal(t, "http://127.0.0.1:8765", c.PublicURL)
	require.Equal(t, c.PublicURL, c.Audience)
	require.Empty(t, c.PostgresURL)
	require.EqualValues(t, 1<<20, c.BodyLimit)
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	c, err := Load([]string{"--addr", "127.0.0.1:9000", "--no-migrate"}, env(map[string]string{
		"ENGRAM_ADDR": "127.0.0.1:8000", "ENGRAM_DATA_DIR": "/tmp/x",
	}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9000", c.Addr)
	require.Equal(t, "/tmp/x", c.DataDir)
	require.True(t, c.NoMigrate)
}

func TestBadValuesNameTheirKey(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		key  string
	}{
		{map[string]string{"ENGRAM_ADDR": "nope"}, nil, "ENGRAM_ADDR"},
		{map[string]string{"ENGRAM_BODY_LIMIT": "ten"}, nil, "ENGRAM_BODY_LIMIT"},
		{map[string]string{"ENGRAM_POSTGRES_URL": "mysql://x"}, nil, "ENGRAM_POSTGRES_URL"},
		{map[string]string{"ENGRAM_POSTGRES_URL": "postgres://p/db", "ENGRAM_POSTGRES_REPLICA_URLS": "postgres://r1/db, mysql://r2"}, nil, "ENGRAM_POSTGRES_REPLICA_URLS"},
		{map[string]string{"ENGRAM_POSTGRES_REPLICA_URLS": "postgres://r1/db"}, nil, "ENGRAM_POSTGRES_REPLICA_URLS"},
		{map[string]string{"ENGRAM_POSTGRES_URL": "postgres://p/db", "ENGRAM_PG_REPLICA_WAIT": "0s"}, nil, "ENGRAM_PG_REPLICA_WAIT"},
		{map[string]string{"ENGRAM_AUTH_JWKS_URL": "https://idp/jwks"}, nil, "ENGRAM_AUTH_ISSUER"},
		{map[string]string{"ENGRAM_AUTH_JWKS_URL": "https://idp/jwks", "ENGRAM_AUTH_ISSUER": "https://idp"}, nil, "ENGRAM_AUTH_AUDIENCE"},
		{map[string]string{"ENGRAM_LOG_LEVEL": "loud"}, nil, "ENGRAM_LOG_LEVEL"},
		{map[string]string{"ENGRAM_SHUTDOWN_TIMEOUT": "soon"}, nil, "ENGRAM_SHUTDOWN_TIMEOUT"},
		{nil, []string{"--addr", "0.0.0.0:8765"}, "ENGRAM_ADDR"},
		{map[string]string{"ENGRAM_PUBLIC_URL": "ftp://x"}, nil, "ENGRAM_PUBLIC_URL"},
		// The local key behind a reverse proxy: loopback listener, public origin.
		{map[string]string{"ENGRAM_PUBLIC_URL": "https://memory.example.com"}, nil, "ENGRAM_PUBLIC_URL"},
		{map[string]string{"ENGRAM_ADMIN_ADDR": "0.0.0.0:9464"}, nil, "ENGRAM_ADMIN_TOKEN"},
		{map[string]string{"ENGRAM_ADMIN_TOKEN": "short"}, nil, "ENGRAM_ADMIN_TOKEN"},
		{map[string]string{"ENGRAM_QDRANT_URL": "qdrant:6334"}, nil, "ENGRAM_QDRANT_URL"},
		{map[string]string{"ENGRAM_QDRANT_URL": "http://qdrant:grpc"}, nil, "ENGRAM_QDRANT_URL"},
		{map[string]string{"ENGRAM_QDRANT_URL": "http://qdrant:6334/collections"}, nil, "ENGRAM_QDRANT_URL"},
		{map[string]string{"ENGRAM_ELASTICSEARCH_URL": "es:9200"}, nil, "ENGRAM_ELASTICSEARCH_URL"},
		{map[string]string{"ENGRAM_ELASTICSEARCH_URL": "http://es:9200", "ENGRAM_ELASTICSEARCH_USERNAME": "elastic"}, nil, "ENGRAM_ELASTICSEARCH_USERNAME"},
	}
	for _, tc := range cases {
		_, err := Load(tc.args, env(tc.env))
		require.Error(t, err, "%v %v", tc.env, tc.args)
		require.Contains(t, err.Error(), tc.key)
	}
}

func TestLoopbackPublicURLsAreLocal(t *testing.T) {
	for _, pub := range []string{"http://localhost:8765", "http://127.0.0.1:8765", "http://[::1]:8765", "http://localhost"} {
		_, err := Load(nil, env(map[string]string{"ENGRAM_PUBLIC_URL": pub}))
		require.NoError(t, err, pub)
	}
	_, err := Load(nil, env(map[string]string{"ENGRAM_PUBLIC_URL": "https://memory.example.com", "ENGRAM_INSECURE_LOCAL_KEY": "true"}))
	require.NoError(t, err)
}

// URLs in the start-up log keep no credentials and no query strings, even
// in settings that are not secrets.
func TestStringRedactsURLCredentialsAndQueries(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"ENGRAM_OTLP_ENDPOINT": "https://user:otlp-pw@collector:4318?token=otlp-token",
		"ENGRAM_AUTH_JWKS_URL": "https://idp/jwks?key=jwks-key", "ENGRAM_AUTH_ISSUER": "https://idp", "ENGRAM_AUTH_AUDIENCE": "engram",
	}))
	require.NoError(t, err)
	s := c.String()
	for _, leak := range []string{"otlp-pw", "otlp-token", "jwks-key"} {
		require.NotContains(t, s, leak)
	}
	require.Contains(t, s, "https://idp/jwks?[redacted]")
}

func TestNonLoopbackNeedsJWKSOrExplicitOverride(t *testing.T) {
	_, err := Load([]string{"--addr", "0.0.0.0:8765", "--insecure-local-key"}, env(nil))
	require.NoError(t, err)
	_, err = Load([]string{"--addr", "0.0.0.0:8765"}, env(map[string]string{
		"ENGRAM_AUTH_JWKS_URL": "https://idp/jwks", "ENGRAM_AUTH_ISSUER": "https://idp", "ENGRAM_AUTH_AUDIENCE": "engram",
	}))
	require.NoError(t, err)
}

func TestStringRedactsSecrets(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"ENGRAM_POSTGRES_URL":   "postgres://app:hunter2@db:5432/engram",
		"ENGRAM_EMBED_API_KEY":  "sk-secret",
		"ENGRAM_QDRANT_API_KEY": "qk-secret", "ENGRAM_ELASTICSEARCH_URL": "https://elastic:espw@es:9200",
		"ENGRAM_ELASTICSEARCH_USERNAME": "elastic", "ENGRAM_ELASTICSEARCH_PASSWORD": "pw-secret",
		"ENGRAM_KEK": strings.Repeat("ab", 32), "ENGRAM_KEK_PREVIOUS": strings.Repeat("cd", 32),
	}))
	require.NoError(t, err)
	s := c.String()
	require.NotContains(t, s, "abababab", "the key-encryption key is a secret")
	require.NotContains(t, s, "cdcdcdcd")
	require.NotContains(t, s, "hunter2")
	require.NotContains(t, s, "sk-secret")
	for _, secret := range []string{"qk-secret", "espw", "pw-secret"} {
		require.NotContains(t, s, secret)
	}
	require.Contains(t, s, "postgres://db:5432/[redacted]")
	require.NotContains(t, s, "=?")
}

// TestReadmeListsEveryKey keeps the README's configuration table honest.
func TestReadmeListsEveryKey(t *testing.T) {
	raw, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	for _, name := range EnvNames() {
		require.True(t, strings.Contains(string(raw), "`"+name+"`"), "README.md does not document %s; paste config.MarkdownTable()", name)
	}
}

// TestForCommandResolvesLikeEngramd: a subcommand's config flags win over
// the environment, its own flags stay its own, and the rest comes from the
// environment exactly as engramd reads it.
func TestForCommandResolvesLikeEngramd(t *testing.T) {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	cc := ForCommand(fs, env(map[string]string{
		"ENGRAM_DATA_DIR": "/from/env", "ENGRAM_EMBEDDER": "local", "ENGRAM_ADDR": "0.0.0.0:8765",
		"ENGRAM_QDRANT_URL": "http://qdrant:6334",
	}), "data-dir", "postgres-url")
	own := fs.String("embedder", "ignored-by-config", "a subcommand flag that happens to share a setting's name")
	require.NoError(t, fs.Parse([]string{"--data-dir", "/from/flag", "--embedder", "openai"}))
	c, err := cc.Load()
	require.NoError(t, err, "a command opens no listener: the loopback rule of the local key is waived")
	require.Equal(t, "/from/flag", c.DataDir)
	require.Equal(t, "local", c.Embedder, "only registered settings are read from the command's flags")
	require.Equal(t, "openai", *own)
	require.Equal(t, "http://qdrant:6334", c.QdrantURL)
	require.Panics(t, func() { ForCommand(flag.NewFlagSet("x", flag.ContinueOnError), env(nil), "no-such-setting") })

	fs = flag.NewFlagSet("purge", flag.ContinueOnError)
	cc = ForCommand(fs, env(nil), "postgres-url")
	require.NoError(t, fs.Parse([]string{"--postgres-url", "mysql://x"}))
	_, err = cc.Load()
	require.ErrorContains(t, err, "ENGRAM_POSTGRES_URL")
}

func TestReplicaURLsSplitOnCommas(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"ENGRAM_POSTGRES_URL": "postgres://p/db", "ENGRAM_POSTGRES_REPLICA_URLS": " postgres://u:secret@r1/db ,,postgres://r2/db"}))
	require.NoError(t, err)
	require.Equal(t, []string{"postgres://u:secret@r1/db", "postgres://r2/db"}, c.ReplicaURLs())
	require.Equal(t, 10*time.Second, c.PGReplicaMaxLag)
	require.Equal(t, 250*time.Millisecond, c.PGReplicaWait)
	require.NotContains(t, c.String(), "secret")
}

// TestDashboardOIDCIsAllOrNothing: the dashboard's external sign-in needs
// an external issuer and a client id; half of it stops the start naming
// the missing key, and the issuer defaults to ENGRAM_AUTH_ISSUER.
func TestDashboardOIDCIsAllOrNothing(t *testing.T) {
	jwks := map[string]string{"ENGRAM_AUTH_JWKS_URL": "https://idp.example/jwks", "ENGRAM_AUTH_ISSUER": "https://idp.example/realms/acme", "ENGRAM_AUTH_AUDIENCE": "engram"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range jwks {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		env map[string]string
		key string
	}{
		{map[string]string{"ENGRAM_DASHBOARD_OIDC_CLIENT_ID": "dash"}, "ENGRAM_DASHBOARD_OIDC_CLIENT_ID"},
		{with("ENGRAM_DASHBOARD_OIDC_CLIENT_SECRET", "s3cret"), "ENGRAM_DASHBOARD_OIDC_CLIENT_ID"},
		{with("ENGRAM_DASHBOARD_OIDC_AUDIENCE", "engram"), "ENGRAM_DASHBOARD_OIDC_CLIENT_ID"},
		{with("ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "dash", "ENGRAM_DASHBOARD_OIDC_ISSUER", "idp.example"), "ENGRAM_DASHBOARD_OIDC_ISSUER"},
		{with("ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "dash", "ENGRAM_DASHBOARD_OIDC_ISSUER", "http://idp.example"), "ENGRAM_DASHBOARD_OIDC_ISSUER"},
	} {
		_, err := Load(nil, env(tc.env))
		require.Error(t, err, tc.env)
		require.Contains(t, err.Error(), tc.key+":", tc.env)
	}
	c, err := Load(nil, env(with("ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "dash")))
	require.NoError(t, err)
	require.Equal(t, "https://idp.example/realms/acme", c.DashboardIssuer)
	c, err = Load(nil, env(with("ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "dash", "ENGRAM_DASHBOARD_OIDC_ISSUER", "http://127.0.0.1:8080/realms/dev")))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8080/realms/dev", c.DashboardIssuer)
	require.Contains(t, c.String(), "ENGRAM_DASHBOARD_OIDC_CLIENT_ID=dash")
	c, err = Load(nil, env(with("ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "dash", "ENGRAM_DASHBOARD_OIDC_CLIENT_SECRET", "do-not-log-me")))
	require.NoError(t, err)
	require.NotContains(t, c.String(), "do-not-log-me")
}
