package openaihttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	require.Equal(t, 7*time.Second, retryAfter(" 7"))
	require.Zero(t, retryAfter(""))
	require.Zero(t, retryAfter("-1"))
	require.Zero(t, retryAfter("soon"))
	require.Zero(t, retryAfter(time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)), "a date in the past asks for no wait")
	d := retryAfter(time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat))
	require.Greater(t, d, 25*time.Second)
	require.LessOrEqual(t, d, 30*time.Second)
}

func TestPostRetries429And5xxOnlyAndCapsRetryAfter(t *testing.T) {
	var calls atomic.Int32
	codes := []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusOK}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/v1/things" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "wrong route or key", http.StatusNotFound)
			return
		}
		w.Header().Set("Retry-After", "3600") // capped at MaxDelay
		w.WriteHeader(codes[n-1])
		_, _ = w.Write([]byte("answer"))
	}))
	defer ts.Close()
	c := New(Config{BaseURL: ts.URL + "/v1", APIKey: "k"},
		Defaults{Timeout: time.Second, MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
		Endpoint{Name: "things", Path: "/things", MaxAnswer: 3})
	start := time.Now()
	raw, err := c.Post(context.Background(), []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, "ans", string(raw), "read up to MaxAnswer")
	require.Equal(t, int32(3), calls.Load())
	require.Less(t, time.Since(start), 2*time.Second, "Retry-After waits at most MaxDelay")

	calls.Store(0)
	codes = []int{http.StatusBadRequest}
	_, err = c.Post(context.Background(), []byte(`{}`))
	var se *StatusError
	require.True(t, errors.As(err, &se))
	require.Equal(t, http.StatusBadRequest, se.Code)
	require.Equal(t, "things endpoint answered 400: ans", se.Error())
	require.Equal(t, int32(1), calls.Load(), "a 400 is not retried")
}
