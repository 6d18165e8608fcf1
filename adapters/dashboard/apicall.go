package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// problem is an RFC 9457 problem document, as the API answers errors.
type problem struct {
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

func (p *problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// recorder captures an in-process response.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// serve runs req through h in process, as the browser's request: its
// context (deadline, cancellation) and peer address carry over.
func serve(h http.Handler, outer *http.Request, req *http.Request) *recorder {
	req.RemoteAddr = outer.RemoteAddr
	req.Host = outer.Host
	if id := outer.Header.Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	rec := &recorder{h: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}

// api calls the REST API with the session's token. in is sent as JSON
// (nil: no body); a 2xx answer is decoded into out (when not nil); an
// error answer is returned as its problem document.
func (x *Dashboard) api(r *http.Request, s *session, method, path string, in, out any) *problem {
	var body io.Reader = http.NoBody
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return &problem{Title: "Bad request", Status: http.StatusBadRequest, Detail: err.Error()}
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, "/api/v1"+path, body)
	if err != nil {
		return &problem{Title: "Bad request", Status: http.StatusBadRequest, Detail: err.Error()}
	}
	s.mu.Lock()
	req.Header.Set("Authorization", "Bearer "+s.access)
	s.mu.Unlock()
	req.Header.Set("Accept", "application/json")
	s.reads.stamp(req)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := serve(x.d.API, r, req)
	s.reads.observe(rec.status, rec.h, rec.body.Bytes())
	if rec.status >= 300 {
		p := &problem{}
		if json.Unmarshal(rec.body.Bytes(), p) != nil || p.Title == "" {
			p = &problem{Title: http.StatusText(rec.status), Detail: strings.TrimSpace(rec.body.String())}
		}
		p.Status = rec.status
		return p
	}
	if out != nil && rec.body.Len() > 0 {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return &problem{Title: "Unexpected answer", Status: http.StatusBadGateway, Detail: "the API's answer could not be read: " + err.Error()}
		}
	}
	return nil
}

// oauthForm posts a form to the authorization server in process.
func (x *Dashboard) oauthForm(r *http.Request, path string, form map[string]string) *recorder {
	v := url.Values{}
	for k, val := range form {
		v.Set(k, val)
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return serve(x.d.OAuth, r, req)
}

func (x *Dashboard) tokenRequest(r *http.Request, form map[string]string) (tokenResponse, int) {
	rec := x.oauthForm(r, "/token", form)
	var t tokenResponse
	if err := json.Unmarshal(rec.body.Bytes(), &t); err != nil && rec.status == http.StatusOK {
		return tokenResponse{Error: "server_error", Desc: "the token response could not be read"}, http.StatusBadGateway
	}
	return t, rec.status
}

func queryEscape(s string) string { return url.QueryEscape(s) }
