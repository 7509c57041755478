package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// runExpiry sends a steady flow of requests through each library while the
// token reaches its expiry, the token endpoint taking 200 ms, and reports
// the request latencies. Both libraries treat a token as expired 10 s early;
// videoauth also starts a background renewal half a lifetime (at most 2 min)
// before expiry, so its lifetime must exceed 20 s for refresh-ahead to open
// before the token turns stale: 30 s (21 s with -quick).
func runExpiry(quick bool) error {
	ttl, workers, gap := 30*time.Second, 8, 2*time.Millisecond
	if quick {
		ttl = 21 * time.Second
	}
	const latency = 200 * time.Millisecond
	s := newServer(latency, ttl)
	defer s.Close()
	base := newBase()
	defer base.CloseIdleConnections()
	ours, _, err := videoauthClient(s, base)
	if err != nil {
		return err
	}
	theirs := xoauth2Client(s, base)
	// Warm up: each library mints its first token (that wait is not the
	// boundary's) and opens its connections.
	for _, c := range []*http.Client{ours, theirs} {
		if code, err := get(c, s); code != http.StatusOK {
			return fmt.Errorf("warm-up: %d %v", code, err)
		}
	}
	// Run until 2 s past the moment x/oauth2 treats the token as expired.
	until := time.Now().Add(ttl - 10*time.Second + 2*time.Second)
	fmt.Printf("### Expiry boundary: token endpoint latency %v, token lifetime %v, %d workers per library, a request every %v per worker, %v of traffic\n\n",
		latency, ttl, workers, gap, time.Until(until).Round(time.Second))
	var wg sync.WaitGroup
	results := make([][]time.Duration, 2)
	errs := make([]error, 2)
	for i, c := range []*http.Client{theirs, ours} {
		wg.Go(func() { results[i], errs[i] = flow(c, s, workers, gap, until) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Println("| library | requests | worst latency | p99.9 | median | requests that waited > 100 ms | token-endpoint calls |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for i, name := range []string{idXOAuth2, idVideoauth} {
		l := results[i]
		slices.Sort(l)
		waited := len(l) - slices.IndexFunc(l, func(d time.Duration) bool { return d > 100*time.Millisecond })
		if waited > len(l) {
			waited = 0 // IndexFunc gave -1: none
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %d | %d |\n", name, len(l), ms(l[len(l)-1]),
			ms(l[len(l)*999/1000]), ms(l[len(l)/2]), waited, len(s.tokenCalls(name)))
	}
	return nil
}

// flow runs workers goroutines, each sending a request every gap until
// until, and returns every request's latency; any failed request is an
// error.
func flow(c *http.Client, s *server, workers int, gap time.Duration, until time.Time) ([]time.Duration, error) {
	var (
		mu  sync.Mutex
		all []time.Duration
		bad error
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(until) {
				t0 := time.Now()
				code, err := get(c, s)
				mine = append(mine, time.Since(t0))
				if code != http.StatusOK {
					mu.Lock()
					bad = fmt.Errorf("request failed: %d %v", code, err)
					mu.Unlock()
					return
				}
				time.Sleep(gap)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, bad
}
