package domain

import "math"

// z95 is the 97.5th percentile of the standard normal distribution: the z
// of a two-sided 95% interval.
const z95 = 1.959963984540054

// Interval is a closed confidence interval for a proportion.
type Interval struct {
	Low, High float64
}

// WilsonInterval is the 95% Wilson score interval for successes out of n
// (Wilson, 1927). Unlike the normal approximation it stays inside [0,1] and
// behaves at 0 and n successes and for small n, which is where a young
// experiment lives. n == 0 gives the uninformative [0,1].
func WilsonInterval(successes, n int) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z95 * z95
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	return Interval{Low: math.Max(0, center-half), High: math.Min(1, center+half)}
}

// TwoProportionPValue is the two-sided p-value of the pooled two-proportion
// z-test of x1/n1 against x2/n2. ok is false when the test is undefined: an
// empty group, or both groups all successes or all failures (zero variance).
func TwoProportionPValue(x1, n1, x2, n2 int) (p float64, ok bool) {
	if n1 <= 0 || n2 <= 0 {
		return 0, false
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pool := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 || math.IsNaN(se) {
		return 0, false
	}
	z := (p1 - p2) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2), true
}

// VariantResult is one variant's line of an experiment's results.
type VariantResult struct {
	Name      string
	Control   bool
	Users     int // users assigned (sticky assignments)
	Exposures int // searches served under the variant
	Outcomes  OutcomeCounts
	Feedback  int
	Accepted  int
	Rate      float64  // Accepted / Feedback
	CI95      Interval // Wilson
	// PValue compares Rate with the control's (two-proportion z-test);
	// nil for the control and when the test is undefined.
	PValue *float64
}

// ExperimentResults are an experiment's per-variant statistics; the first
// variant is the control.
type ExperimentResults struct {
	Experiment Experiment
	Variants   []VariantResult
}

// ComputeResults joins counts gathered from the stores into results. users
// and exposures are keyed by variant name; feedback holds one group per
// variant (by name) as FeedbackMetrics.ByVariant gives it.
func ComputeResults(e Experiment, users, exposures map[string]int, feedback []FeedbackGroup) ExperimentResults {
	byName := make(map[string]OutcomeCounts, len(feedback))
	for _, g := range feedback {
		byName[g.Key] = g.Outcomes
	}
	res := ExperimentResults{Experiment: e, Variants: make([]VariantResult, 0, len(e.Variants))}
	for i, v := range e.Variants {
		oc := byName[v.Name]
		if oc == nil {
			oc = OutcomeCounts{}
		}
		n, x := oc.Total(), oc[OutcomeAccepted]
		res.Variants = append(res.Variants, VariantResult{
			Name: v.Name, Control: i == 0, Users: users[v.Name], Exposures: exposures[v.Name],
			Outcomes: oc, Feedback: n, Accepted: x, Rate: oc.AcceptanceRate(), CI95: WilsonInterval(x, n),
		})
	}
	if len(res.Variants) == 0 {
		return res
	}
	ctl := res.Variants[0]
	for i := 1; i < len(res.Variants); i++ {
		r := &res.Variants[i]
		if p, ok := TwoProportionPValue(r.Accepted, r.Feedback, ctl.Accepted, ctl.Feedback); ok {
			r.PValue = &p
		}
	}
	return res
}
