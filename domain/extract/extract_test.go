package extract_test

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/domain/extract"
)

type labelled struct {
	Text     string `json:"text"`
	Entities []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"entities"`
}

func readLabelled(t testing.TB) []labelled { return readFile(t, "labelled.jsonl") }

func readFile(t testing.TB, name string) []labelled {
	t.Helper()
	f, err := os.Open("../../testdata/entities/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, l)
	}
	return out
}

// The bounds the offline extractor must keep on the labelled file. A match
// is the same key (domain.EntityKey); typed counts also need the same type.
// Measured when written: see the log line and docs/entities.md.
const (
	minPrecision      = 0.92
	minRecall         = 0.92
	minTypedPrecision = 0.85
	minTypedRecall    = 0.85
)

// TestLabelledPrecisionRecall measures labelled.jsonl, written with the
// word lists in view (optimistic), and heldout.jsonl, written after them
// and never tuned against (the honest figure), each against its bounds.
func TestLabelledPrecisionRecall(t *testing.T) {
	for _, c := range []struct {
		file                     string
		minP, minR, minTP, minTR float64
	}{
		{"labelled.jsonl", minPrecision, minRecall, minTypedPrecision, minTypedRecall},
		{"heldout.jsonl", 0.90, 0.80, 0.70, 0.65},
	} {
		t.Run(c.file, func(t *testing.T) { measure(t, c.file, c.minP, c.minR, c.minTP, c.minTR) })
	}
}

func measure(t *testing.T, file string, minPrecision, minRecall, minTypedPrecision, minTypedRecall float64) {
	var tp, fp, fn, typedTP int
	for _, l := range readFile(t, file) {
		want := map[string]string{}
		for _, e := range l.Entities {
			want[domain.EntityKey(e.Name)] = e.Type
		}
		got := map[string]string{}
		for _, m := range extract.Entities(l.Text) {
			got[domain.EntityKey(m.Name)] = string(m.Type)
		}
		for k, typ := range got {
			wt, ok := want[k]
			switch {
			case !ok:
				fp++
				t.Logf("false positive %q (%s) in %q", k, typ, l.Text)
			case wt == typ:
				tp++
				typedTP++
			default:
				tp++
				t.Logf("wrong type %q: %s, want %s", k, typ, wt)
			}
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				fn++
				t.Logf("missed %q in %q", k, l.Text)
			}
		}
	}
	p := float64(tp) / float64(tp+fp)
	r := float64(tp) / float64(tp+fn)
	tpP := float64(typedTP) / float64(tp+fp)
	tpR := float64(typedTP) / float64(tp+fn)
	t.Logf("entities: precision %.3f recall %.3f; with type: precision %.3f recall %.3f (tp %d fp %d fn %d typed %d)",
		p, r, tpP, tpR, tp, fp, fn, typedTP)
	if p < minPrecision || r < minRecall || tpP < minTypedPrecision || tpR < minTypedRecall {
		t.Errorf("below the bounds: precision %.3f (≥ %.2f), recall %.3f (≥ %.2f), typed %.3f/%.3f (≥ %.2f/%.2f)",
			p, minPrecision, r, minRecall, tpP, tpR, minTypedPrecision, minTypedRecall)
	}
}

func TestKinds(t *testing.T) {
	cases := []struct {
		text string
		want []domain.Mention
	}{
		{"write to Ada.L@Example.org today", []domain.Mention{{Name: "ada.l@example.org", Type: domain.EntityOther, Kind: domain.MentionEmail, Start: 9, End: 26}}},
		{"see https://x.io/a?b=1.", []domain.Mention{{Name: "https://x.io/a?b=1", Type: domain.EntityOther, Kind: domain.MentionURL, Start: 4, End: 22}}},
		{"ping @ada_l now", []domain.Mention{{Name: "@ada_l", Type: domain.EntityPerson, Kind: domain.MentionHandle, Start: 5, End: 11}}},
		{"due June 3, 2019!", []domain.Mention{{Name: "2019-06-03", Type: domain.EntityDate, Kind: domain.MentionDate, Start: 4, End: 16}}},
		{"costs $12.50", []domain.Mention{{Name: "$12.50", Type: domain.EntityOther, Kind: domain.MentionMoney, Start: 6, End: 12}}},
		{"nothing here at all", nil},
	}
	for _, c := range cases {
		got := extract.Entities(c.text)
		if len(got) != len(c.want) {
			t.Fatalf("%q: got %+v, want %+v", c.text, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %+v, want %+v", c.text, got[i], c.want[i])
			}
			if c.text[got[i].Start:got[i].End] == "" {
				t.Errorf("%q: empty span", c.text)
			}
		}
	}
}

func TestBoundedAndDeduplicated(t *testing.T) {
	text := strings.Repeat("Berlin and Lisbon and Paris. ", 10)
	for i := 0; i < 50; i++ {
		text += "Name" + strings.Repeat("x", i%26) + string(rune('A'+i%26)) + "x met Zed" + string(rune('a'+i%26)) + ". "
	}
	got := extract.Entities(text)
	if len(got) > domain.MaxMentionsPerMemory {
		t.Fatalf("%d mentions, bound %d", len(got), domain.MaxMentionsPerMemory)
	}
	seen := map[string]bool{}
	for _, m := range got {
		k := domain.EntityKey(m.Name)
		if seen[k] {
			t.Fatalf("key %q twice", k)
		}
		seen[k] = true
	}
}

func FuzzEntities(f *testing.F) {
	f.Add("Met Dr. Ravi Patel on 2024-05-14 in Berlin for $1,200 (see https://x.io).")
	f.Add("@ @@ $ € 12 EUR June , 2019 of of University of")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range extract.Entities(s) {
			if m.Start < 0 || m.End > len(s) || m.Start >= m.End {
				t.Fatalf("bad span %+v in %q", m, s)
			}
			if err := domain.ValidateEntityName("name", m.Name); err != nil {
				t.Fatalf("invalid name %+v: %v", m, err)
			}
		}
	})
}

// BenchmarkExtract runs the extractor over the labelled texts, reporting
// memories per second (docs/benchmarks.md).
func BenchmarkExtract(b *testing.B) {
	ls := readLabelled(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		extract.Entities(ls[n%len(ls)].Text)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "memories/s")
}
