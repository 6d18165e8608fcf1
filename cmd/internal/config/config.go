// Package config is engramd's and engram's one typed configuration, filled
// from flags and ENGRAM_* environment variables (flags win), validated at
// start so a bad value fails fast and names its key. Secrets are never
// printed: String() redacts them.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of an Engram process.
type Config struct {
	Addr             string
	PublicURL        string
	DataDir          string
	AdminAddr        string
	AdminToken       string
	PostgresURL      string
	NoMigrate        bool
	PGMaxConns       int
	PGStmtTimeout    time.Duration
	PGReplicaURLs    string // comma-separated
	PGReplicaMaxLag  time.Duration
	PGReplicaWait    time.Duration
	ValkeyURL        string
	ValkeyPrefix     string
	ValkeyUserBytes  int64
	VectorCacheBytes int64
	ReplayValkeyURL  string
	JWKSURL          string
	Issuer           string
	Audience         string
	AuthServers      string
	RequireATJWT     bool
	InsecureLocalKey bool
	BodyLimit        int64
	ImportMaxBytes   int64
	TLSCert          string
	TLSKey           string
	LogLevel         string
	LogFormat        string
	OTLPEndpoint     string
	ShutdownTimeout  time.Duration
	Embedder         string
	EmbedURL         string
	EmbedAPIKey      string
	EmbedModel       string
	LLMURL           string
	LLMModel         string
	LLMAPIKey        string
	LLMTimeout       time.Duration
	LLMMaxTokens     int
	RateReads        int
	RateWrites       int
	RateSearch       int
	RateAuthFailures int
	MCPSessionsUser  int
	MCPSessionIdle   time.Duration
	MCPSessionMaxAge time.Duration
	AllowedOrigins   string
	QdrantURL        string
	QdrantAPIKey     string
	ElasticURL       string
	ElasticUser      string
	ElasticPassword  string
	PrivacyKey       string
	RetentionSweep   time.Duration
	Encryption       string
	KEK              string
	KEKPrevious      string

	// Dashboard* sign the dashboard in at the external issuer
	// (ENGRAM_DASHBOARD_OIDC_*); unused without ENGRAM_AUTH_JWKS_URL.
	DashboardIssuer       string
	DashboardClientID     string
	DashboardClientSecret string
	DashboardScopes       string
	DashboardAudience     string
}

// setting describes one key: its flag, its variable, its default, and how to
// store a parsed value. The same table prints the README's configuration
// table, and a test checks the README against it.
type setting struct {
	flag, env, def, help string
	secret               bool
	set                  func(c *Config, v string) error
}

// flagValue lets boolean keys be given as a bare --flag.
type flagValue struct {
	v      string
	isBool bool
}

func (f *flagValue) String() string     { return f.v }
func (f *flagValue) Set(v string) error { f.v = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*p(c) = b
		return nil
	}
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("must be a non-negative integer")
		}
		*p(c) = n
		return nil
	}
}

func duration(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("must be a duration such as 5s or 2m")
		}
		*p(c) = d
		return nil
	}
}

func positiveDuration(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 30m or 8h")
		}
		*p(c) = d
		return nil
	}
}

// Settings is the table of every key, in README order.
var settings = []setting{
	{"addr", "ENGRAM_ADDR", "127.0.0.1:8765", "HTTP listen address", false, str(func(c *Config) *string { return &c.Addr })},
	{"public-url", "ENGRAM_PUBLIC_URL", "", "Public origin clients use (DPoP htu, MCP metadata); default http://ADDR", false, str(func(c *Config) *string { return &c.PublicURL })},
	{"data-dir", "ENGRAM_DATA_DIR", "./data", "Directory for the SQLite file and the local signing key", false, str(func(c *Config) *string { return &c.DataDir })},
	{"admin-addr", "ENGRAM_ADMIN_ADDR", "127.0.0.1:9464", "Admin listener (metrics, pprof, log level); empty or `off` disables", false, func(c *Config, v string) error {
		if v == "off" {
			v = ""
		}
		c.AdminAddr = v
		return nil
	}},
	{"admin-token", "ENGRAM_ADMIN_TOKEN", "", "Bearer token the admin listener requires (at least 32 characters); required when ENGRAM_ADMIN_ADDR is not loopback", true, str(func(c *Config) *string { return &c.AdminToken })},
	{"postgres-url", "ENGRAM_POSTGRES_URL", "", "Use PostgreSQL instead of SQLite (runtime role must not own the tables)", true, str(func(c *Config) *string { return &c.PostgresURL })},
	{"no-migrate", "ENGRAM_NO_MIGRATE", "false", "Do not apply migrations at start; refuse to start if the schema is behind", false, boolean(func(c *Config) *bool { return &c.NoMigrate })},
	{"pg-max-conns", "ENGRAM_PG_MAX_CONNS", "20", "PostgreSQL pool size", false, integer(func(c *Config) *int { return &c.PGMaxConns })},
	{"pg-statement-timeout", "ENGRAM_PG_STATEMENT_TIMEOUT", "5s", "PostgreSQL statement timeout", false, duration(func(c *Config) *time.Duration { return &c.PGStmtTimeout })},
	{"postgres-replica-urls", "ENGRAM_POSTGRES_REPLICA_URLS", "", "Comma-separated PostgreSQL streaming replicas: lists, search hydration, stats, history and exports read from a healthy one (read-your-writes through the Engram-Consistency header); an unreachable one is skipped", true, str(func(c *Config) *string { return &c.PGReplicaURLs })},
	{"pg-replica-max-lag", "ENGRAM_PG_REPLICA_MAX_LAG", "10s", "A replica further behind the primary than this is skipped", false, positiveDuration(func(c *Config) *time.Duration { return &c.PGReplicaMaxLag })},
	{"pg-replica-wait", "ENGRAM_PG_REPLICA_WAIT", "250ms", "How long a read with a consistency token waits for a replica to replay it before the primary serves it", false, positiveDuration(func(c *Config) *time.Duration { return &c.PGReplicaWait })},
	{"valkey-url", "ENGRAM_VALKEY_URL", "", "Valkey/Redis for sessions, DPoP replay and rate limits (redis://, rediss://); in-process when empty", true, str(func(c *Config) *string { return &c.ValkeyURL })},
	{"valkey-prefix", "ENGRAM_VALKEY_PREFIX", "engram", "Key prefix for this deployment in Valkey", false, str(func(c *Config) *string { return &c.ValkeyPrefix })},
	{"valkey-bytes-per-user", "ENGRAM_VALKEY_BYTES_PER_USER", "33554432", "Bytes one user's sessions and idempotency records may hold in Valkey together; a write past it is refused 429 for that user alone", false, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return errors.New("must be an integer of at least 1024")
		}
		c.ValkeyUserBytes = n
		return nil
	}},
	{"replay-valkey-url", "ENGRAM_REPLAY_VALKEY_URL", "", "A Valkey/Redis of its own for DPoP replay keys (same prefix), so user-filled sessions and idempotency records can never crowd them out; empty: ENGRAM_VALKEY_URL's (or in-process)", true, str(func(c *Config) *string { return &c.ReplayValkeyURL })},
	{"auth-jwks-url", "ENGRAM_AUTH_JWKS_URL", "", "JWKS of the token issuer; empty: zero-config local Ed25519 key", false, str(func(c *Config) *string { return &c.JWKSURL })},
	{"auth-issuer", "ENGRAM_AUTH_ISSUER", "", "Required iss of access tokens (required with a JWKS)", false, str(func(c *Config) *string { return &c.Issuer })},
	{"auth-audience", "ENGRAM_AUTH_AUDIENCE", "", "Required aud of access tokens (required with a JWKS; default the public URL, which is always accepted too)", false, str(func(c *Config) *string { return &c.Audience })},
	{"auth-servers", "ENGRAM_AUTH_SERVERS", "", "Space-separated authorization server URLs for MCP protected resource metadata", false, str(func(c *Config) *string { return &c.AuthServers })},
	{"auth-require-at-jwt", "ENGRAM_AUTH_REQUIRE_AT_JWT", "false", "Refuse JWKS-issued access tokens not typed at+jwt (RFC 9068); local-key tokens always must be", false, boolean(func(c *Config) *bool { return &c.RequireATJWT })},
	{"dashboard-oidc-client-id", "ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "", "With ENGRAM_AUTH_JWKS_URL: the dashboard's client at the external issuer (redirect URI ENGRAM_PUBLIC_URL/ui/callback); set, the dashboard signs in there with authorization code + PKCE; empty, it is not served", false, str(func(c *Config) *string { return &c.DashboardClientID })},
	{"dashboard-oidc-issuer", "ENGRAM_DASHBOARD_OIDC_ISSUER", "", "The issuer the dashboard signs in at, found by OpenID Connect or RFC 8414 discovery; default ENGRAM_AUTH_ISSUER", false, str(func(c *Config) *string { return &c.DashboardIssuer })},
	{"dashboard-oidc-client-secret", "ENGRAM_DASHBOARD_OIDC_CLIENT_SECRET", "", "The dashboard client's secret (a confidential client); empty: a public client (PKCE alone)", true, str(func(c *Config) *string { return &c.DashboardClientSecret })},
	{"dashboard-oidc-scopes", "ENGRAM_DASHBOARD_OIDC_SCOPES", "", "Space-separated scopes the dashboard asks the issuer for; empty: openid, offline_access and the dashboard's Engram scopes (memories:read … keys:write, experiments:read)", false, str(func(c *Config) *string { return &c.DashboardScopes })},
	{"dashboard-oidc-audience", "ENGRAM_DASHBOARD_OIDC_AUDIENCE", "", "Sent as the audience parameter of the dashboard's authorization request, for issuers that need it to mint an access token for this API (Auth0: ENGRAM_AUTH_AUDIENCE)", false, str(func(c *Config) *string { return &c.DashboardAudience })},
	{"insecure-local-key", "ENGRAM_INSECURE_LOCAL_KEY", "false", "Allow the local key on a non-loopback address", false, boolean(func(c *Config) *bool { return &c.InsecureLocalKey })},
	{"body-limit", "ENGRAM_BODY_LIMIT", "1048576", "Maximum request body in bytes", false, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return errors.New("must be an integer of at least 1024")
		}
		c.BodyLimit = n
		return nil
	}},
	{"import-max-bytes", "ENGRAM_IMPORT_MAX_BYTES", "67108864", "Maximum archive upload to POST /api/v1/import in bytes", false, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return errors.New("must be an integer of at least 1024")
		}
		c.ImportMaxBytes = n
		return nil
	}},
	{"tls-cert", "ENGRAM_TLS_CERT", "", "TLS certificate file (serve HTTPS, enables HSTS)", false, str(func(c *Config) *string { return &c.TLSCert })},
	{"tls-key", "ENGRAM_TLS_KEY", "", "TLS private key file", false, str(func(c *Config) *string { return &c.TLSKey })},
	{"log-level", "ENGRAM_LOG_LEVEL", "info", "debug, info, warn or error", false, str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "ENGRAM_LOG_FORMAT", "auto", "json, text, or auto (text on a terminal)", false, str(func(c *Config) *string { return &c.LogFormat })},
	{"otlp-endpoint", "ENGRAM_OTLP_ENDPOINT", "", "OTLP/HTTP endpoint for traces; no-op when empty", false, str(func(c *Config) *string { return &c.OTLPEndpoint })},
	{"shutdown-timeout", "ENGRAM_SHUTDOWN_TIMEOUT", "20s", "How long SIGTERM waits for in-flight requests", false, duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"embedder", "ENGRAM_EMBEDDER", "local", "local (offline hashed n-grams) or openai (any /v1/embeddings server)", false, str(func(c *Config) *string { return &c.Embedder })},
	{"embed-url", "ENGRAM_EMBED_URL", "", "Base URL of the OpenAI-compatible embeddings server", false, str(func(c *Config) *string { return &c.EmbedURL })},
	{"embed-api-key", "ENGRAM_EMBED_API_KEY", "", "API key for the embeddings server", true, str(func(c *Config) *string { return &c.EmbedAPIKey })},
	{"embed-model", "ENGRAM_EMBED_MODEL", "", "Embedding model name", false, str(func(c *Config) *string { return &c.EmbedModel })},
	{"llm-url", "ENGRAM_LLM_URL", "", "Base URL (ending in /v1) of an OpenAI-compatible chat completions server for inference (infer: true); empty stores texts as given", false, str(func(c *Config) *string { return &c.LLMURL })},
	{"llm-model", "ENGRAM_LLM_MODEL", "", "Chat model name for inference", false, str(func(c *Config) *string { return &c.LLMModel })},
	{"llm-api-key", "ENGRAM_LLM_API_KEY", "", "API key for the chat completions server", true, str(func(c *Config) *string { return &c.LLMAPIKey })},
	{"llm-timeout", "ENGRAM_LLM_TIMEOUT", "60s", "Deadline of one chat completions request", false, duration(func(c *Config) *time.Duration { return &c.LLMTimeout })},
	{"llm-max-tokens", "ENGRAM_LLM_MAX_TOKENS", "1024", "Bound on the tokens of one chat answer", false, integer(func(c *Config) *int { return &c.LLMMaxTokens })},
	{"rate-reads", "ENGRAM_RATE_READS", "600", "Read requests per minute per principal (0 disables)", false, integer(func(c *Config) *int { return &c.RateReads })},
	{"rate-writes", "ENGRAM_RATE_WRITES", "120", "Write requests per minute per principal (0 disables)", false, integer(func(c *Config) *int { return &c.RateWrites })},
	{"rate-search", "ENGRAM_RATE_SEARCH", "300", "Search requests per minute per principal (0 disables)", false, integer(func(c *Config) *int { return &c.RateSearch })},
	{"rate-auth-failures", "ENGRAM_RATE_AUTH_FAILURES", "60", "Failed authentications per minute per client address (IPv6: per /64) before that address is refused 429 ahead of any credential check (0 disables)", false, integer(func(c *Config) *int { return &c.RateAuthFailures })},
	{"mcp-sessions-per-user", "ENGRAM_MCP_SESSIONS_PER_USER", "16", "Open MCP Streamable HTTP sessions one user may hold; the next initialize is refused 429", false, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("must be a positive integer")
		}
		c.MCPSessionsUser = n
		return nil
	}},
	{"mcp-session-idle", "ENGRAM_MCP_SESSION_IDLE", "30m", "An MCP Streamable HTTP session with no request for this long is closed", false, positiveDuration(func(c *Config) *time.Duration { return &c.MCPSessionIdle })},
	{"mcp-session-max-age", "ENGRAM_MCP_SESSION_MAX_AGE", "8h", "An MCP Streamable HTTP session this old is closed however busy (the client initializes again)", false, positiveDuration(func(c *Config) *time.Duration { return &c.MCPSessionMaxAge })},
	{"vector-cache-bytes", "ENGRAM_VECTOR_CACHE_BYTES", "0", "Memory budget of the in-process vector index: tenants are paged in from the store on their first search and the least recently searched dropped; 0 keeps every tenant, loaded at start. Unused with ENGRAM_QDRANT_URL (no vectors in process)", false, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || (n > 0 && n < 1<<20) {
			return errors.New("must be 0 (no budget) or an integer of at least 1048576 bytes")
		}
		c.VectorCacheBytes = n
		return nil
	}},
	{"qdrant-url", "ENGRAM_QDRANT_URL", "", "Qdrant gRPC endpoint (http://host:6334) as the vector index instead of the in-process one", true, str(func(c *Config) *string { return &c.QdrantURL })},
	{"qdrant-api-key", "ENGRAM_QDRANT_API_KEY", "", "API key for Qdrant", true, str(func(c *Config) *string { return &c.QdrantAPIKey })},
	{"elasticsearch-url", "ENGRAM_ELASTICSEARCH_URL", "", "Elasticsearch or OpenSearch URL as the text index instead of the store's own", true, str(func(c *Config) *string { return &c.ElasticURL })},
	{"elasticsearch-username", "ENGRAM_ELASTICSEARCH_USERNAME", "", "Elasticsearch basic-auth user", false, str(func(c *Config) *string { return &c.ElasticUser })},
	{"elasticsearch-password", "ENGRAM_ELASTICSEARCH_PASSWORD", "", "Elasticsearch basic-auth password", true, str(func(c *Config) *string { return &c.ElasticPassword })},
	{"allowed-origins", "ENGRAM_ALLOWED_ORIGINS", "", "Space-separated browser origins allowed on /mcp (DNS-rebinding guard; loopback always allowed) and granted CORS on /mcp and /api/v1", false, str(func(c *Config) *string { return &c.AllowedOrigins })},
	{"privacy-key", "ENGRAM_PRIVACY_KEY", "", "Key (64+ hex digits) of the HMAC naming subjects in erasure jobs and the audit trail; the same on every server; empty: privacy.key in the data dir", true, str(func(c *Config) *string { return &c.PrivacyKey })},
	{"encryption", "ENGRAM_ENCRYPTION", "auto", "on: seal memory text, metadata values, history, query-log text and session events with per-user data keys (crypto-shredding, docs/privacy.md); off: write plaintext (sealed values still read); auto: on when a key-encryption key exists (ENGRAM_KEK or the key file) and when engramd first starts on a new SQLite store (the key file is created beside it), else off", false, func(c *Config, v string) error {
		switch v {
		case "on", "off", "auto":
			c.Encryption = v
			return nil
		}
		return errors.New("must be on, off or auto")
	}},
	{"kek", "ENGRAM_KEK", "", "Key-encryption key (64 hex digits) wrapping the per-user data keys; empty: data-keys.kek in the data dir (created 0600)", true, str(func(c *Config) *string { return &c.KEK })},
	{"kek-previous", "ENGRAM_KEK_PREVIOUS", "", "Earlier key-encryption keys (comma-separated), kept to unwrap until `engram keys rotate` has rewrapped every data key", true, str(func(c *Config) *string { return &c.KEKPrevious })},
	{"retention-sweep", "ENGRAM_RETENTION_SWEEP", "1m", "How often engramd erases expired memories and access logs, query logs and feedback past the org's retention (docs/privacy.md); 0 turns the sweeper off", false, duration(func(c *Config) *time.Duration { return &c.RetentionSweep })},
}

// Usage writes every flag with its variable, default and meaning, for
// engramd -h (flag.ErrHelp from Load).
func Usage(w io.Writer, name string) {
	fmt.Fprintf(w, "usage: %s [flags]\n\n", name)
	fmt.Fprintln(w, "Every setting is a flag or an ENGRAM_* environment variable; a flag wins.")
	fmt.Fprintln(w)
	for _, s := range settings {
		arg := " VALUE"
		if s.isBool() {
			arg = ""
		}
		def := ""
		if s.def != "" {
			def = ", default " + s.def
		}
		fmt.Fprintf(w, "  --%s%s\n        %s (%s%s)\n", s.flag, arg, s.help, s.env, def)
	}
}

// Load fills a Config from defaults, then getenv, then args (flags win), and
// validates it. getenv is os.Getenv in production and a map in tests.
func Load(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("engramd", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	for _, s := range settings {
		fs.Var(&flagValue{isBool: s.isBool()}, s.flag, s.help+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		// -h and --help wrap flag.ErrHelp: the caller prints Usage and
		// exits 0 rather than calling a request for help an error.
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	given := map[string]string{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = f.Value.String() })
	return resolve(given, getenv)
}

func (s setting) isBool() bool { return s.def == "true" || s.def == "false" }

// resolve fills a Config from defaults, getenv and the flags given (by
// flag name; flags win), then validates it.
func resolve(given map[string]string, getenv func(string) string) (Config, error) {
	var c Config
	for _, s := range settings {
		v, src := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, src = e, s.env
		}
		if f, ok := given[s.flag]; ok {
			v, src = f, "--"+s.flag
		}
		if err := s.set(&c, v); err != nil {
			return c, fmt.Errorf("config: %s (from %s): %w", s.env, src, err)
		}
	}
	return c, c.validate()
}
