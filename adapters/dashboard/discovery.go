package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// issuerTimeout bounds one request to the external issuer.
	issuerTimeout = 10 * time.Second
	// discoveryTTL is how long a discovery document is used before it
	// is read again (endpoints rarely move; a restart reads it anew).
	discoveryTTL = time.Hour
	// discoveryRetry is the least time between two failed reads: while
	// the issuer is down, a crowd of sign-in clicks costs it one request
	// per interval, not one each.
	discoveryRetry = 5 * time.Second
	maxIssuerBytes = 1 << 20
)

// metadata is what the dashboard needs from an issuer's discovery
// document (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	ChallengeMethods      []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

// discovery reads and caches the issuer's metadata. An issuer down when
// engramd starts is not fatal: the document is read at the first
// sign-in, a failure is retried at most every discoveryRetry, and a
// document read earlier keeps serving while a later read fails.
type discovery struct {
	issuer string
	client *http.Client
	retry  time.Duration // discoveryRetry

	mu     sync.Mutex // one read at a time; guards the fields below
	md     *metadata
	at     time.Time
	err    error
	failed time.Time
}

func (d *discovery) get(ctx context.Context) (*metadata, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.md != nil && now.Sub(d.at) < discoveryTTL {
		return d.md, nil
	}
	if d.err == nil || now.Sub(d.failed) >= d.retry {
		md, err := d.fetch(ctx)
		if err == nil {
			d.md, d.at, d.err = md, now, nil
			return md, nil
		}
		d.err, d.failed = err, now
	}
	if d.md != nil {
		return d.md, nil
	}
	return nil, d.err
}

// wellKnown are where the issuer's metadata may be: OpenID Connect
// Discovery appends its path to the issuer, RFC 8414 inserts its own
// between the host and the issuer's path.
func wellKnown(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	return []string{
		strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration",
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/"),
	}
}

// fetch reads the first document that answers and passes the checks.
// It is not bound to the browser's request: a user who gives up must
// not leave every other waiting sign-in with a cancelled read.
func (d *discovery) fetch(ctx context.Context) (*metadata, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), issuerTimeout)
	defer cancel()
	var errs []error
	for _, u := range wellKnown(d.issuer) {
		md, err := d.fetchOne(ctx, u)
		if err == nil {
			return md, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (d *discovery) fetchOne(ctx context.Context, u string) (*metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d", u, res.StatusCode)
	}
	var md metadata
	if err := json.NewDecoder(io.LimitReader(res.Body, maxIssuerBytes)).Decode(&md); err != nil {
		return nil, fmt.Errorf("%s: not a discovery document: %w", u, err)
	}
	// The document must name the issuer it was asked for (OpenID
	// Connect Discovery §4.3, RFC 8414 §3.3): one naming another may
	// lead sign-ins to endpoints the operator never configured.
	if md.Issuer != d.issuer {
		return nil, fmt.Errorf("%s names the issuer %q, not the configured %q", u, md.Issuer, d.issuer)
	}
	for name, ep := range map[string]string{"authorization_endpoint": md.AuthorizationEndpoint, "token_endpoint": md.TokenEndpoint, "revocation_endpoint": md.RevocationEndpoint} {
		if ep == "" && name == "revocation_endpoint" {
			continue
		}
		if err := checkEndpoint(d.issuer, ep); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", u, name, err)
		}
	}
	if len(md.ChallengeMethods) > 0 && !slices.Contains(md.ChallengeMethods, "S256") {
		return nil, fmt.Errorf("%s: the issuer does not offer PKCE S256 (code_challenge_methods_supported %v)", u, md.ChallengeMethods)
	}
	return &md, nil
}

// checkEndpoint accepts an absolute URL that is https, or http when the
// issuer itself is (a test or a loopback issuer).
func checkEndpoint(issuer, ep string) error {
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL", ep)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && strings.HasPrefix(issuer, "http://")) {
		return fmt.Errorf("%q is not https", ep)
	}
	return nil
}
