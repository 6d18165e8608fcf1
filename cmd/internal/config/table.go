package config

import (
	"fmt"
	"strings"
)

// value renders the current value of the key env for String().
func (c Config) value(env string) string {
	fields := map[string]any{
		"ENGRAM_ADDR": c.Addr, "ENGRAM_PUBLIC_URL": c.PublicURL, "ENGRAM_DATA_DIR": c.DataDir,
		"ENGRAM_ADMIN_ADDR": c.AdminAddr, "ENGRAM_ADMIN_TOKEN": c.AdminToken, "ENGRAM_POSTGRES_URL": c.PostgresURL, "ENGRAM_NO_MIGRATE": c.NoMigrate,
		"ENGRAM_PG_MAX_CONNS": c.PGMaxConns, "ENGRAM_PG_STATEMENT_TIMEOUT": c.PGStmtTimeout,
		"ENGRAM_POSTGRES_REPLICA_URLS": c.PGReplicaURLs, "ENGRAM_PG_REPLICA_MAX_LAG": c.PGReplicaMaxLag, "ENGRAM_PG_REPLICA_WAIT": c.PGReplicaWait,
		"ENGRAM_VALKEY_URL": c.ValkeyURL, "ENGRAM_VALKEY_PREFIX": c.ValkeyPrefix, "ENGRAM_VALKEY_BYTES_PER_USER": c.ValkeyUserBytes, "ENGRAM_VECTOR_CACHE_BYTES": c.VectorCacheBytes, "ENGRAM_REPLAY_VALKEY_URL": c.ReplayValkeyURL, "ENGRAM_AUTH_JWKS_URL": c.JWKSURL,
		"ENGRAM_AUTH_ISSUER": c.Issuer, "ENGRAM_AUTH_AUDIENCE": c.Audience, "ENGRAM_AUTH_SERVERS": c.AuthServers, "ENGRAM_AUTH_REQUIRE_AT_JWT": c.RequireATJWT,
		"ENGRAM_DASHBOARD_OIDC_ISSUER": c.DashboardIssuer, "ENGRAM_DASHBOARD_OIDC_CLIENT_ID": c.DashboardClientID, "ENGRAM_DASHBOARD_OIDC_CLIENT_SECRET": c.DashboardClientSecret,
		"ENGRAM_DASHBOARD_OIDC_SCOPES": c.DashboardScopes, "ENGRAM_DASHBOARD_OIDC_AUDIENCE": c.DashboardAudience,
		"ENGRAM_INSECURE_LOCAL_KEY": c.InsecureLocalKey, "ENGRAM_BODY_LIMIT": c.BodyLimit,
		"ENGRAM_IMPORT_MAX_BYTES": c.ImportMaxBytes,
		"ENGRAM_TLS_CERT":         c.TLSCert, "ENGRAM_TLS_KEY": c.TLSKey, "ENGRAM_LOG_LEVEL": c.LogLevel,
		"ENGRAM_LOG_FORMAT": c.LogFormat, "ENGRAM_OTLP_ENDPOINT": c.OTLPEndpoint,
		"ENGRAM_SHUTDOWN_TIMEOUT": c.ShutdownTimeout, "ENGRAM_EMBEDDER": c.Embedder, "ENGRAM_EMBED_URL": c.EmbedURL,
		"ENGRAM_EMBED_API_KEY": c.EmbedAPIKey, "ENGRAM_EMBED_MODEL": c.EmbedModel,
		"ENGRAM_LLM_URL": c.LLMURL, "ENGRAM_LLM_MODEL": c.LLMModel, "ENGRAM_LLM_API_KEY": c.LLMAPIKey, "ENGRAM_LLM_TIMEOUT": c.LLMTimeout,
		"ENGRAM_LLM_MAX_TOKENS": c.LLMMaxTokens, "ENGRAM_RATE_READS": c.RateReads,
		"ENGRAM_RATE_WRITES": c.RateWrites, "ENGRAM_RATE_SEARCH": c.RateSearch, "ENGRAM_RATE_AUTH_FAILURES": c.RateAuthFailures,
		"ENGRAM_MCP_SESSIONS_PER_USER": c.MCPSessionsUser, "ENGRAM_MCP_SESSION_IDLE": c.MCPSessionIdle, "ENGRAM_MCP_SESSION_MAX_AGE": c.MCPSessionMaxAge, "ENGRAM_ALLOWED_ORIGINS": c.AllowedOrigins,
		"ENGRAM_QDRANT_URL": c.QdrantURL, "ENGRAM_QDRANT_API_KEY": c.QdrantAPIKey, "ENGRAM_ELASTICSEARCH_URL": c.ElasticURL,
		"ENGRAM_ELASTICSEARCH_USERNAME": c.ElasticUser, "ENGRAM_ELASTICSEARCH_PASSWORD": c.ElasticPassword,
		"ENGRAM_PRIVACY_KEY": c.PrivacyKey, "ENGRAM_RETENTION_SWEEP": c.RetentionSweep,
		"ENGRAM_ENCRYPTION": c.Encryption, "ENGRAM_KEK": c.KEK, "ENGRAM_KEK_PREVIOUS": c.KEKPrevious,
	}
	v, ok := fields[env]
	if !ok {
		return "?"
	}
	return fmt.Sprint(v)
}

// MarkdownTable renders the configuration table the README carries.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | %s |\n", s.env, s.flag, def, s.help)
	}
	return b.String()
}

// EnvNames lists every variable, for the README check.
func EnvNames() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.env
	}
	return out
}
