package httpapi_test

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/engram-memory/engram/domain"
)

// BenchmarkKeyVersusTokenAuth is issue 17's "API-key authentication costs
// no more than JWT authentication, same benchmark, side by side": one
// server, one user, one cheap authenticated request (a list of one
// memory), sent alternately with the user's API key (`Token egm_…`) and
// with an EdDSA access token (`Bearer …`) for the same user, which goes
// first alternating too, so the machine's load at any moment falls on both
// alike. Both credentials are verified once and then served from their
// caches, as a client repeating its credential is; the difference between
// the two rows is the whole cost of the credential kind on a request.
//
//	go test -run '^$' -bench 'BenchmarkKeyVersusTokenAuth' -benchtime 2000x -count 3 ./adapters/httpapi/
func BenchmarkKeyVersusTokenAuth(b *testing.B) {
	s := newMem0Server(b, feedbackBackends["sqlite"])
	key := s.key("acme", domain.KeyUser, "alice")
	token := s.iss.sign(b, claims("acme", "alice"))
	if status, body := s.call(key, http.MethodPost, "/api/v1/memories", map[string]any{"text": "alice drinks green tea"}); status != http.StatusCreated {
		b.Fatalf("add: %d %v", status, body)
	}
	creds := []struct{ name, header string }{
		{"key", "Token " + key},
		{"jwt", "Bearer " + token},
	}
	send := func(header string) time.Duration {
		req, err := http.NewRequest(http.MethodGet, s.url+"/api/v1/memories?limit=1", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", header)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", header[:5], resp.StatusCode)
		}
		return took
	}
	for _, c := range creds { // warm both caches and the connection
		send(c.header)
	}
	lat := make([][]time.Duration, len(creds))
	i := 0
	for b.Loop() {
		for k := range creds {
			j := (k + i) % len(creds)
			lat[j] = append(lat[j], send(creds[j].header))
		}
		i++
	}
	var p50, p95 [2]float64
	for k, c := range creds {
		l := lat[k]
		slices.Sort(l)
		p50[k] = float64(l[len(l)/2].Microseconds())
		p95[k] = float64(l[len(l)*95/100].Microseconds())
		b.ReportMetric(p50[k], c.name+"-p50-µs")
		b.ReportMetric(p95[k], c.name+"-p95-µs")
	}
	b.ReportMetric(100*(p50[0]-p50[1])/p50[1], "key-p50-over-jwt-%")
	b.ReportMetric(100*(p95[0]-p95[1])/p95[1], "key-p95-over-jwt-%")
}
