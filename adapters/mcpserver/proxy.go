package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ProxyConfig names the remote Engram whose tools a proxy serves.
type ProxyConfig struct {
	Endpoint   string // the remote Streamable HTTP endpoint, e.g. https://engram.example.com/mcp
	Token      string // a Bearer access token for it
	HTTPClient *http.Client
	Version    string
}

// ServeProxy serves a remote engramd's MCP tools over a local transport
// (stdio for `engram mcp --remote`). It forwards at the MCP level rather than
// re-implementing the tools on the REST API, so the local client sees exactly
// the remote's tools, descriptions, scopes and errors, search and sessions
// included. The remote session is opened on the first tool call under the
// local client's own name, so memories are recorded under that app.
func ServeProxy(ctx context.Context, cfg ProxyConfig, local mcp.Transport) error {
	if cfg.Endpoint == "" || cfg.Token == "" {
		return errors.New("mcpserver: proxy needs an endpoint and a token")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	p := &proxy{cfg: cfg}
	// Learn the tool list once, under the proxy's own name.
	boot, err := p.dial(ctx, "engram-proxy")
	if err != nil {
		return err
	}
	var tools []*mcp.Tool
	for t, err := range boot.Tools(ctx, nil) {
		if err != nil {
			_ = boot.Close()
			return fmt.Errorf("mcpserver: proxy: list remote tools: %w", err)
		}
		tools = append(tools, t)
	}
	_ = boot.Close()

	srv := mcp.NewServer(&mcp.Implementation{Name: "engram-proxy", Version: cfg.Version}, &mcp.ServerOptions{Instructions: instructions})
	for _, t := range tools {
		srv.AddTool(t, p.forward)
	}
	defer p.close()
	err = srv.Run(ctx, local)
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, mcp.ErrConnectionClosed)) {
		return nil
	}
	return err
}

type proxy struct {
	cfg    ProxyConfig
	mu     sync.Mutex
	remote *mcp.ClientSession
}

// bearer adds the token to every request to the remote.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func (p *proxy) dial(ctx context.Context, clientName string) (*mcp.ClientSession, error) {
	next := p.cfg.HTTPClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc := *p.cfg.HTTPClient
	hc.Transport = bearer{token: p.cfg.Token, next: next}
	client := mcp.NewClient(&mcp.Implementation{Name: clientName, Version: p.cfg.Version}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: p.cfg.Endpoint, HTTPClient: &hc}, nil)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: proxy: connect %s: %w", p.cfg.Endpoint, err)
	}
	return cs, nil
}

// session returns the remote session, opening it under the local client's
// name on first use.
func (p *proxy) session(ctx context.Context, req *mcp.CallToolRequest) (*mcp.ClientSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote != nil {
		return p.remote, nil
	}
	name := "engram-proxy"
	if ip := req.Session.InitializeParams(); ip != nil && ip.ClientInfo != nil && strings.TrimSpace(ip.ClientInfo.Name) != "" {
		name = ip.ClientInfo.Name
	}
	cs, err := p.dial(ctx, name)
	if err != nil {
		return nil, err
	}
	p.remote = cs
	return cs, nil
}

// forward relays one call. Tool failures come back as results; an error
// here means the remote session is gone (engramd restarted, session expired),
// so the call is retried once on a fresh session.
func (p *proxy) forward(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	params := &mcp.CallToolParams{Name: req.Params.Name, Arguments: req.Params.Arguments}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var cs *mcp.ClientSession
		if cs, err = p.session(ctx, req); err != nil {
			return nil, err
		}
		var res *mcp.CallToolResult
		if res, err = cs.CallTool(ctx, params); err == nil {
			return res, nil
		}
		p.drop(cs)
	}
	return nil, fmt.Errorf("mcpserver: proxy: call %s: %w", req.Params.Name, err)
}

// drop forgets a broken remote session unless another call replaced it.
func (p *proxy) drop(cs *mcp.ClientSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == cs {
		_ = cs.Close()
		p.remote = nil
	}
}

func (p *proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote != nil {
		_ = p.remote.Close()
	}
}
