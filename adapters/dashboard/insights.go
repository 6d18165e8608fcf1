package dashboard

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"time"
)

type statsData struct {
	Total, Apps    int
	ByState, ByApp []bar
	StateChart     template.HTML
	AppChart       template.HTML
	// Over time (the last 30 UTC days) and by category (top 20).
	ByDay         []dayCount
	DayChart      template.HTML
	ByCategory    []bar
	CategoryChart template.HTML
	Search        searchTraffic
}

func sortedBars(m map[string]int) []bar {
	out := make([]bar, 0, len(m))
	for k, v := range m {
		out = append(out, bar{Label: k, Value: float64(v)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Label < out[j].Label
	})
	return out
}

func (x *Dashboard) statsPage(w http.ResponseWriter, r *http.Request, s *session) {
	var st struct {
		Total   int            `json:"total"`
		ByState map[string]int `json:"by_state"`
		ByApp   map[string]int `json:"by_app"`
		Apps    int            `json:"apps"`
		ByCat   map[string]int `json:"by_category"`
		ByDay   map[string]int `json:"by_day"`
	}
	p := x.api(r, s, http.MethodGet, "/stats", nil, &st)
	d := statsData{Total: st.Total, Apps: st.Apps, ByState: sortedBars(st.ByState), ByApp: sortedBars(st.ByApp)}
	if len(d.ByApp) > 20 {
		d.ByApp = d.ByApp[:20]
	}
	d.StateChart = barChart("Memories by state", d.ByState)
	d.AppChart = barChart("Memories by app (top 20)", d.ByApp)
	d.ByDay = lastDays(st.ByDay, 30, time.Now())
	d.DayChart = columnChart("chart-days", "Memories created per day, last 30 days (UTC)", d.ByDay)
	if d.ByCategory = sortedBars(st.ByCat); len(d.ByCategory) > 20 {
		d.ByCategory = d.ByCategory[:20]
	}
	d.CategoryChart = barChart("Memories by category (top 20)", d.ByCategory)
	d.Search = x.readSearchTraffic()
	x.render(w, r, s, http.StatusOK, "stats", view{Title: "Stats", Nav: "stats", Error: p, Data: d})
}

type experimentItem struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at"`
	History     []struct {
		From   string    `json:"from"`
		To     string    `json:"to"`
		Actor  string    `json:"actor"`
		Reason string    `json:"reason"`
		At     time.Time `json:"at"`
	} `json:"history"`
}

type variantResult struct {
	Name           string     `json:"name"`
	Control        bool       `json:"control"`
	Users          int        `json:"users"`
	Exposures      int        `json:"exposures"`
	Feedback       int        `json:"feedback"`
	Accepted       int        `json:"accepted"`
	AcceptanceRate float64    `json:"acceptance_rate"`
	CI95           [2]float64 `json:"ci95"`
	PValue         *float64   `json:"p_value"`
}

func (x *Dashboard) experimentsPage(w http.ResponseWriter, r *http.Request, s *session) {
	var list struct {
		Items []experimentItem `json:"items"`
	}
	p := x.api(r, s, http.MethodGet, "/experiments", nil, &list)
	x.render(w, r, s, http.StatusOK, "experiments", view{Title: "Experiments", Nav: "experiments", Error: p, Data: list.Items})
}

type experimentData struct {
	E        experimentItem
	Variants []variantResult
	Method   string
	Chart    template.HTML
}

func (x *Dashboard) experimentPage(w http.ResponseWriter, r *http.Request, s *session) {
	var res struct {
		Experiment experimentItem  `json:"experiment"`
		Variants   []variantResult `json:"variants"`
		Method     string          `json:"method"`
	}
	if p := x.api(r, s, http.MethodGet, "/experiments/"+url.PathEscape(r.PathValue("id"))+"/results", nil, &res); p != nil {
		x.render(w, r, s, http.StatusOK, "error", view{Title: "Experiment", Nav: "experiments", Error: p})
		return
	}
	rows := make([]interval, len(res.Variants))
	for i, v := range res.Variants {
		rows[i] = interval{Label: v.Name, Rate: v.AcceptanceRate, Low: v.CI95[0], High: v.CI95[1], Control: v.Control}
	}
	d := experimentData{E: res.Experiment, Variants: res.Variants, Method: res.Method,
		Chart: ciChart("Acceptance rate with 95% confidence interval, per variant", rows)}
	x.render(w, r, s, http.StatusOK, "experiment", view{Title: "Experiment " + d.E.Name, Nav: "experiments", Data: d})
}
