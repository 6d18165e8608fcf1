package main

import (
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"strings"
)

// adminGuard protects the admin listener, which serves pprof (heap and
// goroutine dumps) and changes the log level:
//   - with a token, every request must send Authorization: Bearer <token>;
//   - without one, the Host header must be an IP literal or localhost, so
//     a web page whose name was rebound to 127.0.0.1 (DNS rebinding)
//     cannot read /metrics or pprof from the operator's browser;
//   - a request with a body must be application/json, which a cross-site
//     form or text/plain fetch cannot send without a preflight.
func adminGuard(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case token != "" && !bearerIs(r, token):
			w.Header().Set("WWW-Authenticate", `Bearer realm="engram-admin"`)
			http.Error(w, "admin: send Authorization: Bearer $ENGRAM_ADMIN_TOKEN", http.StatusUnauthorized)
		case token == "" && !localHost(r.Host):
			http.Error(w, "admin: Host must be an IP address or localhost", http.StatusMisdirectedRequest)
		case (r.Method == http.MethodPost || r.Method == http.MethodPut) && !isJSON(r.Header.Get("Content-Type")):
			http.Error(w, "admin: send Content-Type: application/json", http.StatusUnsupportedMediaType)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func bearerIs(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

// localHost accepts a Host that names no DNS name an attacker could
// rebind: an IP literal, or localhost.
func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}
