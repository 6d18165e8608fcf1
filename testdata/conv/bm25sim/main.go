// Command bm25sim ranks testdata/conv's questions with BM25 computed in Go
// over the same words the SQLite index holds (folded, English Snowball
// stems, one user's turns as the collection), for BM25 parameters that
// FTS5's bm25() does not expose (k1, b). At k1 1.2, b 0.75 it reproduces
// `engram eval --data testdata/conv`'s lexical recall@5 and NDCG@10.
// Environment: X_STOP=1 drops Snowball's English stop words from queries,
// X_BIN=1 counts each word once per turn, X_DESC=1 breaks score ties newest
// first (default: oldest first, as the index does).
//
//	go run ./testdata/conv/bm25sim
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/kljensen/snowball/english"

	"github.com/engram-memory/engram/adapters/textfold"
	"github.com/engram-memory/engram/domain"
)

type mem struct{ ID, User, Text string }
type q struct {
	User, Query, Type, Split string
	Relevant                 []string
}

func main() {
	var mems []mem
	var qs []q
	f, _ := os.Open("testdata/conv/memories.jsonl")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m mem
		json.Unmarshal(sc.Bytes(), &m)
		mems = append(mems, m)
	}
	f, _ = os.Open("testdata/conv/queries.jsonl")
	sc = bufio.NewScanner(f)
	for sc.Scan() {
		var x q
		json.Unmarshal(sc.Bytes(), &x)
		qs = append(qs, x)
	}
	type doc struct {
		id  string
		tf  map[string]int
		len int
	}
	byUser := map[string][]doc{}
	for _, m := range mems {
		ws := textfold.Words(m.Text)
		tf := map[string]int{}
		for _, w := range ws {
			tf[w]++
		}
		byUser[m.User] = append(byUser[m.User], doc{m.ID, tf, len(ws)})
	}
	stop := os.Getenv("X_STOP") == "1"
	binTF := os.Getenv("X_BIN") == "1"
	desc := os.Getenv("X_DESC") == "1"
	for _, k1 := range []float64{0.6, 0.9, 1.2, 1.6} {
		for _, b := range []float64{0, 0.1, 0.25, 0.5, 0.75, 1} {
			res := map[string][2]float64{}
			cnt := map[string]int{}
			for _, x := range qs {
				ds := byUser[x.User]
				var terms []string
				seen := map[string]bool{}
				for _, t := range domain.QueryTerms(x.Query) {
					if stop && english.IsStopWord(t) {
						continue
					}
					for _, w := range textfold.Words(t) {
						if !seen[w] {
							seen[w] = true
							terms = append(terms, w)
						}
					}
				}
				N := float64(len(ds))
				avg := 0.0
				for _, d := range ds {
					avg += float64(d.len)
				}
				avg /= N
				df := map[string]float64{}
				for _, d := range ds {
					for _, t := range terms {
						if d.tf[t] > 0 {
							df[t]++
						}
					}
				}
				type sc struct {
					id string
					s  float64
				}
				var scs []sc
				for _, d := range ds {
					s := 0.0
					for _, t := range terms {
						tf := float64(d.tf[t])
						if tf == 0 {
							continue
						}
						if binTF {
							tf = 1
						}
						idf := math.Log((N - df[t] + 0.5) / (df[t] + 0.5))
						if idf <= 0 {
							idf = 1e-6
						}
						s += idf * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(d.len)/avg))
					}
					if s > 0 {
						scs = append(scs, sc{d.id, s})
					}
				}
				sort.Slice(scs, func(i, j int) bool {
					if scs[i].s != scs[j].s {
						return scs[i].s > scs[j].s
					}
					return (scs[i].id < scs[j].id) != desc
				})
				rel := map[string]bool{}
				for _, r := range x.Relevant {
					rel[r] = true
				}
				hit5, dcg, idcg := 0.0, 0.0, 0.0
				for i := 0; i < 10 && i < len(scs); i++ {
					if rel[scs[i].id] {
						if i < 5 {
							hit5++
						}
						dcg += 1 / math.Log2(float64(i+2))
					}
				}
				for i := 0; i < len(rel) && i < 10; i++ {
					idcg += 1 / math.Log2(float64(i+2))
				}
				for _, g := range []string{"all", x.Split, x.Type} {
					r := res[g]
					r[0] += hit5 / float64(len(rel))
					r[1] += dcg / idcg
					res[g] = r
					cnt[g]++
				}
			}
			fmt.Printf("k1=%.1f b=%.2f", k1, b)
			for _, g := range []string{"all", "dev", "heldout", "single-hop", "multi-hop", "temporal", "open-domain"} {
				fmt.Printf("  %s %.3f/%.3f", g, res[g][0]/float64(cnt[g]), res[g][1]/float64(cnt[g]))
			}
			fmt.Println()
		}
	}
}
