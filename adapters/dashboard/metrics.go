package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// searchTraffic is engramd's own record of searches since it started,
// read from its Prometheus collectors in process (no scrape).
type searchTraffic struct {
	Requests        uint64
	ServerErrors    uint64 // 5xx
	ClientErrors    uint64 // 4xx
	ErrorRate       float64
	P50, P95        string // bucket upper bounds, "≤ 25 ms"
	Latency         []bar  // requests per latency bucket
	LatencyChart    template.HTML
	Routes          []string
	MetricsReadable bool
}

// isSearchRoute: the REST search (GET /api/v1/memories with q, labelled
// apart by the API) and the mem0-compatible search routes.
func isSearchRoute(route string) bool {
	return route == "/api/v1/memories?q" || strings.HasSuffix(route, "/memories/search")
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// readSearchTraffic folds the search routes' series of
// engram_http_requests_total and engram_http_request_duration_seconds.
func (x *Dashboard) readSearchTraffic() searchTraffic {
	var st searchTraffic
	if x.d.Metrics == nil {
		return st
	}
	fams, err := x.d.Metrics.Gather()
	if err != nil {
		x.d.Logger.Warn("dashboard: metrics not readable", "err", err)
		return st
	}
	st.MetricsReadable = true
	routes := map[string]bool{}
	var bounds []float64
	var cum []uint64
	for _, f := range fams {
		switch f.GetName() {
		case "engram_http_requests_total":
			for _, m := range f.GetMetric() {
				route := labelOf(m, "route")
				if !isSearchRoute(route) {
					continue
				}
				routes[route] = true
				n := uint64(m.GetCounter().GetValue())
				st.Requests += n
				switch s := labelOf(m, "status"); {
				case strings.HasPrefix(s, "5"):
					st.ServerErrors += n
				case strings.HasPrefix(s, "4"):
					st.ClientErrors += n
				}
			}
		case "engram_http_request_duration_seconds":
			for _, m := range f.GetMetric() {
				if !isSearchRoute(labelOf(m, "route")) {
					continue
				}
				for i, b := range m.GetHistogram().GetBucket() {
					if len(bounds) <= i {
						bounds = append(bounds, b.GetUpperBound())
						cum = append(cum, 0)
					}
					cum[i] += b.GetCumulativeCount()
				}
			}
		}
	}
	for r := range routes {
		st.Routes = append(st.Routes, r)
	}
	if st.Requests > 0 {
		st.ErrorRate = float64(st.ServerErrors) / float64(st.Requests)
	}
	var total uint64
	if len(cum) > 0 {
		total = cum[len(cum)-1]
	}
	quantile := func(q float64) string {
		if total == 0 {
			return "—"
		}
		for i, c := range cum {
			if float64(c) >= q*float64(total) {
				return "≤ " + ms(bounds[i])
			}
		}
		return "> " + ms(bounds[len(bounds)-1])
	}
	st.P50, st.P95 = quantile(0.5), quantile(0.95)
	prev := uint64(0)
	for i, c := range cum {
		st.Latency = append(st.Latency, bar{Label: "≤ " + ms(bounds[i]), Value: float64(c - prev)})
		prev = c
	}
	if total > 0 {
		st.LatencyChart = barChart("Searches by server time", st.Latency)
	}
	return st
}

func ms(seconds float64) string {
	v := seconds * 1000
	if v < 10 {
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", math.Round(v))
}
