package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

func bad(key, format string, args ...any) error {
	return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
}

func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return bad("ENGRAM_ADDR", "must be host:port: %v", err)
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			return bad("ENGRAM_ADMIN_ADDR", "must be host:port: %v", err)
		}
		// pprof and the log level must not be open to a network: off
		// loopback the listener needs a token.
		if !loopback(c.AdminAddr) && c.AdminToken == "" {
			return bad("ENGRAM_ADMIN_TOKEN", "is required when ENGRAM_ADMIN_ADDR (%s) is not a loopback address", c.AdminAddr)
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 32 {
		return bad("ENGRAM_ADMIN_TOKEN", "must be at least 32 characters")
	}
	if c.PublicURL == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.PublicURL = scheme + "://" + c.Addr
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return bad("ENGRAM_PUBLIC_URL", "must be an origin like https://engram.example.com")
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if c.DataDir == "" {
		return bad("ENGRAM_DATA_DIR", "must not be empty")
	}
	if c.PostgresURL != "" {
		pu, err := url.Parse(c.PostgresURL)
		if err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") {
			return bad("ENGRAM_POSTGRES_URL", "must be a postgres:// URL")
		}
	}
	for i, r := range c.ReplicaURLs() {
		ru, err := url.Parse(r)
		if err != nil || (ru.Scheme != "postgres" && ru.Scheme != "postgresql") {
			return bad("ENGRAM_POSTGRES_REPLICA_URLS", "entry %d must be a postgres:// URL", i+1)
		}
	}
	if c.PGReplicaURLs != "" && c.PostgresURL == "" {
		return bad("ENGRAM_POSTGRES_REPLICA_URLS", "needs ENGRAM_POSTGRES_URL (replicas serve reads of a PostgreSQL primary)")
	}
	if c.ValkeyURL != "" {
		vu, err := url.Parse(c.ValkeyURL)
		if err != nil || (vu.Scheme != "redis" && vu.Scheme != "rediss" && vu.Scheme != "valkey" && vu.Scheme != "valkeys" && vu.Scheme != "unix") {
			return bad("ENGRAM_VALKEY_URL", "must be a redis://, rediss://, valkey:// or unix:// URL")
		}
	}
	if c.ReplayValkeyURL != "" {
		vu, err := url.Parse(c.ReplayValkeyURL)
		if err != nil || (vu.Scheme != "redis" && vu.Scheme != "rediss" && vu.Scheme != "valkey" && vu.Scheme != "valkeys" && vu.Scheme != "unix") {
			return bad("ENGRAM_REPLAY_VALKEY_URL", "must be a redis://, rediss://, valkey:// or unix:// URL")
		}
	}
	if c.JWKSURL != "" {
		ju, err := url.Parse(c.JWKSURL)
		if err != nil || (ju.Scheme != "https" && ju.Scheme != "http") || ju.Host == "" {
			return bad("ENGRAM_AUTH_JWKS_URL", "must be an http(s) URL")
		}
		if c.Issuer == "" {
			return bad("ENGRAM_AUTH_ISSUER", "is required when ENGRAM_AUTH_JWKS_URL is set")
		}
		if c.Audience == "" {
			return bad("ENGRAM_AUTH_AUDIENCE", "is required when ENGRAM_AUTH_JWKS_URL is set")
		}
	} else if !c.InsecureLocalKey && !loopback(c.Addr) {
		return bad("ENGRAM_ADDR", "%s is not a loopback address and no ENGRAM_AUTH_JWKS_URL is configured; the local signing key is meant for one machine. Set ENGRAM_AUTH_JWKS_URL (with ENGRAM_AUTH_ISSUER and ENGRAM_AUTH_AUDIENCE) for your identity provider, or ENGRAM_INSECURE_LOCAL_KEY=true for a demo", c.Addr)
	} else if !c.InsecureLocalKey && !loopback(u.Host) && !loopback(u.Host+":0") {
		// A loopback listener behind a reverse proxy is reachable from
		// wherever the public URL is: the local key must not serve it.
		return bad("ENGRAM_PUBLIC_URL", "%s is not a loopback origin and no ENGRAM_AUTH_JWKS_URL is configured; the local signing key is meant for one machine. Set ENGRAM_AUTH_JWKS_URL (with ENGRAM_AUTH_ISSUER and ENGRAM_AUTH_AUDIENCE), or ENGRAM_INSECURE_LOCAL_KEY=true for a demo", c.PublicURL)
	}
	if c.Audience == "" {
		c.Audience = c.PublicURL
	}
	if err := c.validateDashboardOIDC(); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("ENGRAM_TLS_CERT", "ENGRAM_TLS_CERT and ENGRAM_TLS_KEY go together")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("ENGRAM_LOG_LEVEL", "must be debug, info, warn or error")
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		return bad("ENGRAM_LOG_FORMAT", "must be auto, json or text")
	}
	switch c.Embedder {
	case "local":
	case "openai":
		if c.EmbedURL == "" || c.EmbedModel == "" {
			return bad("ENGRAM_EMBED_URL", "ENGRAM_EMBED_URL and ENGRAM_EMBED_MODEL are required with ENGRAM_EMBEDDER=openai")
		}
	default:
		return bad("ENGRAM_EMBEDDER", "must be local or openai")
	}
	if (c.LLMURL == "") != (c.LLMModel == "") {
		return bad("ENGRAM_LLM_URL", "ENGRAM_LLM_URL and ENGRAM_LLM_MODEL are set together (or neither: no inference model)")
	}
	if c.LLMURL != "" && !strings.HasPrefix(c.LLMURL, "http://") && !strings.HasPrefix(c.LLMURL, "https://") {
		return bad("ENGRAM_LLM_URL", "must be an http(s) URL ending in /v1")
	}
	if c.LLMTimeout <= 0 {
		return bad("ENGRAM_LLM_TIMEOUT", "must be positive")
	}
	if c.LLMMaxTokens < 64 || c.LLMMaxTokens > 32768 {
		return bad("ENGRAM_LLM_MAX_TOKENS", "must be between 64 and 32768")
	}
	if err := c.validateIndexes(); err != nil {
		return err
	}
	if c.PGMaxConns < 1 {
		return bad("ENGRAM_PG_MAX_CONNS", "must be at least 1")
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("config: ENGRAM_SHUTDOWN_TIMEOUT: must be positive")
	}
	return nil
}

// validateDashboardOIDC checks the dashboard's external sign-in: all of
// it or none, and only with an external issuer (without one the dashboard
// signs in at the built-in authorization server). A half-configured
// client stops the start naming the missing key rather than leaving the
// dashboard silently off. The issuer is not contacted here: one that is
// down at start is read at the first sign-in.
func (c *Config) validateDashboardOIDC() error {
	set := ""
	for _, kv := range [][2]string{{"ENGRAM_DASHBOARD_OIDC_ISSUER", c.DashboardIssuer}, {"ENGRAM_DASHBOARD_OIDC_CLIENT_SECRET", c.DashboardClientSecret},
		{"ENGRAM_DASHBOARD_OIDC_SCOPES", c.DashboardScopes}, {"ENGRAM_DASHBOARD_OIDC_AUDIENCE", c.DashboardAudience}, {"ENGRAM_DASHBOARD_OIDC_CLIENT_ID", c.DashboardClientID}} {
		if kv[1] != "" {
			set = kv[0]
			break
		}
	}
	switch {
	case set == "":
		return nil
	case c.JWKSURL == "":
		return bad(set, "applies with an external issuer (ENGRAM_AUTH_JWKS_URL); without one the dashboard signs in at engramd's built-in authorization server")
	case c.DashboardClientID == "":
		return bad("ENGRAM_DASHBOARD_OIDC_CLIENT_ID", "is required when %s is set (the dashboard's client at the issuer)", set)
	}
	if c.DashboardIssuer == "" {
		c.DashboardIssuer = c.Issuer
	}
	u, err := url.Parse(c.DashboardIssuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return bad("ENGRAM_DASHBOARD_OIDC_ISSUER", "%q must be the issuer's http(s) URL without query or fragment (default ENGRAM_AUTH_ISSUER)", c.DashboardIssuer)
	}
	if u.Scheme == "http" && !loopback(u.Host) && !loopback(u.Host+":0") {
		return bad("ENGRAM_DASHBOARD_OIDC_ISSUER", "%s must be https (http only on a loopback host): the authorization code and the client secret travel to it", c.DashboardIssuer)
	}
	return nil
}

// validateIndexes checks the external search indexes' URLs, so a typo stops
// the start naming its key instead of surfacing as "index unavailable".
func (c *Config) validateIndexes() error {
	if c.QdrantURL != "" {
		u, err := url.Parse(c.QdrantURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Path != "" && u.Path != "/" {
			return bad("ENGRAM_QDRANT_URL", "must be http(s)://host:port of Qdrant's gRPC endpoint (port 6334 by default)")
		}
		if p := u.Port(); p != "" {
			if _, err := strconv.ParseUint(p, 10, 16); err != nil {
				return bad("ENGRAM_QDRANT_URL", "port %q is not a number", p)
			}
		}
	}
	if c.ElasticURL != "" {
		u, err := url.Parse(c.ElasticURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("ENGRAM_ELASTICSEARCH_URL", "must be an http(s) URL such as http://127.0.0.1:9200")
		}
	}
	if (c.ElasticUser == "") != (c.ElasticPassword == "") {
		return bad("ENGRAM_ELASTICSEARCH_USERNAME", "ENGRAM_ELASTICSEARCH_USERNAME and ENGRAM_ELASTICSEARCH_PASSWORD go together")
	}
	return nil
}

// loopback reports whether addr listens only on a loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String renders the effective configuration with secrets redacted, for the
// start-up log line.
func (c Config) String() string {
	var b strings.Builder
	for _, s := range settings {
		v := c.value(s.env)
		if s.secret && v != "" {
			v = redact(v)
		} else {
			v = redactURL(v)
		}
		fmt.Fprintf(&b, "%s=%s ", s.env, v)
	}
	return strings.TrimSpace(b.String())
}

// redact keeps a URL's scheme and host and drops credentials; anything else
// becomes "[redacted]".
func redact(v string) string {
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host + "/[redacted]"
	}
	return "[redacted]"
}

// redactURL drops the user info and query of a URL that is not a secret
// setting (a JWKS or OTLP URL may still carry a password or a token in its
// query); other values pass unchanged.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || (u.User == nil && u.RawQuery == "") {
		return v
	}
	if u.User != nil {
		u.User = url.User("[redacted]")
	}
	if u.RawQuery != "" {
		u.RawQuery = "[redacted]"
	}
	return u.String()
}

// ReplicaURLs splits ENGRAM_POSTGRES_REPLICA_URLS, leaving out empty entries.
func (c Config) ReplicaURLs() []string {
	var out []string
	for _, u := range strings.Split(c.PGReplicaURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
