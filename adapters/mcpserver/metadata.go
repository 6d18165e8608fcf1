package mcpserver

import (
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/engram-memory/engram/domain"
)

// MetadataHandler serves the OAuth 2.0 Protected Resource Metadata (RFC
// 9728) that the 401 challenge points to; mount it at MetadataPath. MCP
// clients read it to find the authorization server that issues tokens for
// this resource.
func (s *Server) MetadataHandler() http.Handler {
	scopes := s.cfg.ScopesSupported
	if len(scopes) == 0 {
		for _, sc := range domain.DefaultUserScopes {
			scopes = append(scopes, string(sc))
		}
	}
	h := auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:                      s.cfg.Resource,
		AuthorizationServers:          s.cfg.AuthorizationServers,
		ScopesSupported:               scopes,
		BearerMethodsSupported:        []string{"header"},
		DPOPSigningAlgValuesSupported: s.cfg.DPoPAlgs,
		ResourceName:                  "Engram memory",
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			w.Header().Set("Allow", "GET, HEAD, OPTIONS")
			writeProblem(w, http.StatusMethodNotAllowed, "metadata is read-only")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
