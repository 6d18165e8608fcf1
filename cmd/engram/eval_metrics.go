package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// evalMetrics are one query's scores: recall at 1, 5 and 10 (share of the
// relevant ids found), NDCG@10 with binary relevance, and the reciprocal
// rank of the first relevant result within the top 10 (0 if none).
type evalMetrics struct {
	R1, R5, R10, NDCG10, MRR float64
}

func (m *evalMetrics) plus(o evalMetrics) {
	m.R1, m.R5, m.R10, m.NDCG10, m.MRR = m.R1+o.R1, m.R5+o.R5, m.R10+o.R10, m.NDCG10+o.NDCG10, m.MRR+o.MRR
}

func (m *evalMetrics) div(n float64) {
	m.R1, m.R5, m.R10, m.NDCG10, m.MRR = m.R1/n, m.R5/n, m.R10/n, m.NDCG10/n, m.MRR/n
}

// evalScores are means over the queries of one mode: overall (the embedded
// evalMetrics) and By group — a question type ("temporal"), a split
// ("heldout") or both ("heldout/temporal"), for sets that label them.
type evalScores struct {
	Mode domain.SearchMode
	evalMetrics
	Queries, Unanswered int
	By                  map[string]*evalGroup
}

// evalGroup is the mean over one group's queries.
type evalGroup struct {
	evalMetrics
	Queries int
}

func (s *evalScores) add(q evalQuery, m evalMetrics) {
	s.Queries++
	s.plus(m)
	if m.R10 == 0 {
		s.Unanswered++
	}
	for _, g := range evalGroups(q) {
		if s.By == nil {
			s.By = map[string]*evalGroup{}
		}
		if s.By[g] == nil {
			s.By[g] = &evalGroup{}
		}
		s.By[g].Queries++
		s.By[g].plus(m)
	}
}

func (s *evalScores) finish() {
	if s.Queries > 0 {
		s.div(float64(s.Queries))
	}
	for _, g := range s.By {
		g.div(float64(g.Queries))
	}
}

// evalGroups names the groups a query counts in.
func evalGroups(q evalQuery) []string {
	var gs []string
	if q.Type != "" {
		gs = append(gs, q.Type)
	}
	if q.Split != "" {
		gs = append(gs, q.Split)
		if q.Type != "" {
			gs = append(gs, q.Split+"/"+q.Type)
		}
	}
	return gs
}

// rankMetrics scores one ranking against the relevant ids.
func rankMetrics(ranked, relevant []string) evalMetrics {
	rel := map[string]bool{}
	for _, id := range relevant {
		rel[id] = true
	}
	var m evalMetrics
	found := 0
	var dcg float64
	for i, id := range ranked {
		if i >= 10 {
			break
		}
		if rel[id] {
			found++
			dcg += 1 / math.Log2(float64(i+2))
			if m.MRR == 0 {
				m.MRR = 1 / float64(i+1)
			}
		}
		recall := float64(found) / float64(len(rel))
		switch i {
		case 0:
			m.R1 = recall
		case 4:
			m.R5 = recall
		}
		m.R10 = recall
	}
	if len(ranked) < 5 {
		m.R5 = m.R10
	}
	var ideal float64
	for i := range min(len(rel), 10) {
		ideal += 1 / math.Log2(float64(i+2))
	}
	if ideal > 0 {
		m.NDCG10 = dcg / ideal
	}
	return m
}

// printEval prints one line per mode overall, then one per group and mode.
func printEval(w io.Writer, scores []evalScores) {
	if len(scores) == 0 {
		return
	}
	line := func(group string, n int, mode domain.SearchMode, m evalMetrics) {
		fmt.Fprintf(w, "%-22s %4d  %-8s %8.3f %8.3f %9.3f %8.3f %6.3f\n", group, n, mode, m.R1, m.R5, m.R10, m.NDCG10, m.MRR)
	}
	fmt.Fprintf(w, "%-22s %4s  %-8s %8s %8s %9s %8s %6s\n", "group", "n", "mode", "recall@1", "recall@5", "recall@10", "ndcg@10", "mrr")
	for _, s := range scores {
		line("all", s.Queries, s.Mode, s.evalMetrics)
	}
	groups := make([]string, 0, len(scores[0].By))
	for g := range scores[0].By {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return groupOrder(groups[i]) < groupOrder(groups[j]) })
	for _, g := range groups {
		for _, s := range scores {
			if b := s.By[g]; b != nil {
				line(g, b.Queries, s.Mode, b.evalMetrics)
			}
		}
	}
}

// groupOrder sorts types first, then splits, then split/type pairs.
func groupOrder(g string) string {
	switch {
	case g == "dev" || g == "heldout":
		return "1" + g
	case strings.HasPrefix(g, "dev/") || strings.HasPrefix(g, "heldout/"):
		return "2" + g
	}
	return "0" + g
}
