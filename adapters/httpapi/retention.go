package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// retentionView is an org's retention policy on the wire, every period in
// seconds (0: kept until erased).
type retentionView struct {
	AccessLogTTL int64                  `json:"access_log_ttl"`
	QueryLogTTL  int64                  `json:"query_log_ttl"`
	FeedbackTTL  int64                  `json:"feedback_ttl"`
	AppTTLs      map[domain.AppID]int64 `json:"app_ttls"`
	UpdatedAt    *time.Time             `json:"updated_at,omitempty"`
}

type retentionRequest struct {
	AccessLogTTL int64                  `json:"access_log_ttl"`
	QueryLogTTL  int64                  `json:"query_log_ttl"`
	FeedbackTTL  int64                  `json:"feedback_ttl"`
	AppTTLs      map[domain.AppID]int64 `json:"app_ttls"`
}

func viewRetention(r domain.Retention) retentionView {
	v := retentionView{
		AccessLogTTL: int64(r.AccessLog / time.Second), QueryLogTTL: int64(r.QueryLog / time.Second),
		FeedbackTTL: int64(r.Feedback / time.Second), AppTTLs: map[domain.AppID]int64{},
	}
	for a, d := range r.AppTTL {
		v.AppTTLs[a] = int64(d / time.Second)
	}
	if !r.UpdatedAt.IsZero() {
		at := r.UpdatedAt.UTC()
		v.UpdatedAt = &at
	}
	return v
}

// EnableRetention serves an org's retention policy: GET and PUT
// /retention (scope privacy:admin).
func (s *Server) EnableRetention(p *app.PrivacyService) {
	s.route(http.MethodGet, "/retention", domain.ScopePrivacyAdmin, func(c echo.Context) error {
		pr, _ := principalOf(c)
		r, err := p.GetRetention(c.Request().Context(), pr)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewRetention(r))
	})
	s.route(http.MethodPut, "/retention", domain.ScopePrivacyAdmin, func(c echo.Context) error {
		var req retentionRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		var r domain.Retention
		for _, f := range []struct {
			name string
			n    int64
			dst  *time.Duration
		}{{"access_log_ttl", req.AccessLogTTL, &r.AccessLog}, {"query_log_ttl", req.QueryLogTTL, &r.QueryLog}, {"feedback_ttl", req.FeedbackTTL, &r.Feedback}} {
			d, err := domain.SecondsTTL(f.name, &f.n)
			if err != nil {
				return err
			}
			*f.dst = *d
		}
		if len(req.AppTTLs) > 0 {
			r.AppTTL = make(map[domain.AppID]time.Duration, len(req.AppTTLs))
			for a, n := range req.AppTTLs {
				d, err := domain.SecondsTTL("app_ttls["+string(a)+"]", &n)
				if err != nil {
					return err
				}
				if *d != 0 { // 0: no default, the same as absent
					r.AppTTL[a] = *d
				}
			}
		}
		pr, _ := principalOf(c)
		saved, err := p.SetRetention(c.Request().Context(), pr, r)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, viewRetention(saved))
	})
}
