package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runRejection sends a steady 100 requests a second through each library to
// an API that answers every token with 401 and WWW-Authenticate: Bearer
// error="invalid_token" (a clock skew, a wrong environment, a revoked app),
// and counts the token-endpoint calls. Three clients run at once against one
// server:
//
//   - x/oauth2 as users write it: it never reads the API's answer, so it
//     mints once and every request fails with the 401;
//   - x/oauth2 under the wrapper a user writes to get replace-and-replay
//     (clients.go, retry401): every 401 replaces the token and replays once;
//   - videoauth: its Transport replaces the rejected first token once; a
//     replacement rejected within RetryInterval of its arrival is not
//     replaced again, and each further such rejection doubles that guard (up
//     to 32 times) while no request succeeds.
//
// The program fails if videoauth makes more calls than that guard allows
// (rejectionBound).
func runRejection(quick bool) error {
	const gap, latency = 10 * time.Millisecond, 5 * time.Millisecond
	d := 10 * time.Second
	if quick {
		d = 2 * time.Second
	}
	s := newServer(latency, time.Hour)
	defer s.Close()
	s.rejectAll.Store(true)
	base := newBase()
	defer base.CloseIdleConnections()
	ours, src, err := videoauthClient(s, base)
	if err != nil {
		return err
	}
	clients := []struct {
		name, id string
		c        *http.Client
	}{
		{"x/oauth2", idXOAuth2, xoauth2Client(s, base)},
		{"x/oauth2 + retry-on-401 wrapper", idXOAuth2Retry, xoauth2RetryClient(s, base)},
		{"videoauth", idVideoauth, ours},
	}
	fmt.Printf("### Rejection: the API answers 401 (invalid_token) to every token; %d requests a second per library for %v, all three at once; token endpoint latency %v\n\n",
		time.Second/gap, d, latency)
	type result struct {
		requests int
		not401   int64
		start    time.Time
		elapsed  time.Duration
	}
	results := make([]result, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			var not401 atomic.Int64
			start := time.Now()
			until := start.Add(d)
			n := paced(gap, func(t time.Time) bool { return !t.Before(until) }, func() {
				if code, _ := get(c.c, s); code != http.StatusUnauthorized {
					not401.Add(1)
				}
			})
			results[i] = result{n, not401.Load(), start, time.Since(start)}
		})
	}
	wg.Wait()
	ri := retryInterval(src)
	fmt.Println("| library | requests (all answered 401) | token-endpoint calls | calls per second | bound for videoauth |")
	fmt.Println("|---|---:|---:|---:|---:|")
	var fail error
	for i, c := range clients {
		r := results[i]
		if r.not401 > 0 {
			return fmt.Errorf("%s: %d requests were not answered 401", c.name, r.not401)
		}
		calls := len(s.tokenCalls(c.id))
		b := "—"
		if c.id == idVideoauth {
			bound := rejectionBound(ri, r.elapsed)
			b = fmt.Sprint(bound)
			if calls > bound {
				fail = fmt.Errorf("videoauth made %d token calls in %v of rejections, more than %d", calls, r.elapsed.Round(time.Millisecond), bound)
			}
		}
		fmt.Printf("| %s | %d | %d | %.1f | %s |\n", c.name, r.requests, calls, float64(calls)/r.elapsed.Seconds(), b)
	}
	fmt.Printf("\nvideoauth's token calls, seconds after its first request: %s\n", offsets(s.tokenCalls(idVideoauth), results[len(results)-1].start))
	fmt.Printf("\nbound for videoauth: the first token, its replacement, and one more replacement each time a guard interval has passed since the last one (RetryInterval %v, doubled after each, at most ×32), within the %v from the first request to the last answer.\n",
		ri, results[len(results)-1].elapsed.Round(time.Millisecond))
	return fail
}

// rejectionBound is the most token calls a Source with retry interval ri
// makes in d when every token is rejected: the first token, its replacement
// (1 + 1), then one for each guard interval that has passed — a replacement
// is replaced only once it is older than ri×2^k, k the replacements rejected
// in a row before it, k capped at 5 — since each mint starts after the
// previous replacement arrived.
func rejectionBound(ri, d time.Duration) int {
	n := 2
	var sum time.Duration
	for k := 0; ; k++ {
		sum += ri << min(k, 5)
		if sum > d {
			return n
		}
		n++
	}
}

// offsets lists the times of calls as seconds after t0.
func offsets(calls []call, t0 time.Time) string {
	var b strings.Builder
	for i, c := range calls {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.2f", c.at.Sub(t0).Seconds())
	}
	return b.String()
}
