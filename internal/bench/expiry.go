package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/videoauth/videoauth"
)

// runExpiry sends a steady flow of requests through each library while the
// token reaches its expiry, the token endpoint taking 200 ms, for tokens
// living 5 s, 15 s and 25 s (5 s only with -quick), and reports the request
// latencies. x/oauth2 treats a token as expired a flat 10 s early (so a 5 s
// token is expired from the start, and every request fetches one) and
// fetches in the request that finds it so; videoauth stops handing a token
// out a tenth of its lifetime early and renews it in the background from
// the middle of its usable life. Each run lasts from the first token to
// 1.5 s past the later of the two libraries' expiry points, so both cross
// theirs. The program fails if any videoauth request waited on a renewal:
// if, after the first token, the Source's Observer saw a mint that was not
// a background renewal.
func runExpiry(quick bool) error {
	lifetimes := []time.Duration{5 * time.Second, 15 * time.Second, 25 * time.Second}
	if quick {
		lifetimes = lifetimes[:1]
	}
	const workers, gap, latency, waitedOver = 8, 2 * time.Millisecond, 200 * time.Millisecond, 100 * time.Millisecond
	var spans []string
	for _, ttl := range lifetimes {
		spans = append(spans, fmt.Sprintf("%v for %v tokens", expirySpan(ttl), ttl))
	}
	fmt.Printf("### Expiry boundary: token endpoint latency %v, %d workers per library, a request every %v per worker, the two libraries at once; traffic %s\n\n",
		latency, workers, gap, strings.Join(spans, ", "))
	fmt.Println("| lifetime | library | requests | worst latency | requests that waited > 100 ms | token-endpoint calls |")
	fmt.Println("|---:|---|---:|---:|---:|---:|")
	var fail error
	for _, ttl := range lifetimes {
		s := newServer(latency, ttl)
		base := newBase()
		results, waitedMints, err := expiry(s, base, ttl, workers, gap)
		base.CloseIdleConnections()
		s.Close()
		if err != nil {
			return err
		}
		for i, name := range []string{idXOAuth2, idVideoauth} {
			l := results[i]
			slices.Sort(l)
			waited := 0
			if j := slices.IndexFunc(l, func(d time.Duration) bool { return d > waitedOver }); j >= 0 {
				waited = len(l) - j
			}
			lib := "x/oauth2"
			if name == idVideoauth {
				lib = "videoauth"
				// The bound: no request waited on a renewal. A request's
				// latency alone cannot tell: on a loaded machine the
				// scheduler can stall any request as long as a renewal
				// takes, so the Source's own events are checked.
				if waitedMints > 0 && fail == nil {
					fail = fmt.Errorf("videoauth: %d renewals with %v tokens were not in the background: requests waited for them (%d requests over %v, worst %v)", waitedMints, ttl, waited, waitedOver, ms(l[len(l)-1]))
				}
			}
			fmt.Printf("| %v | %s | %d | %s | %d | %d |\n", ttl, lib, len(l), ms(l[len(l)-1]), waited, len(s.tokenCalls(name)))
		}
	}
	fmt.Println("\ntoken-endpoint calls include each library's first token (the warm-up request, not counted in requests).")
	return fail
}

// expirySpan is how long the traffic of a run with ttl tokens lasts: until
// 1.5 s past the later of the moments x/oauth2 (10 s before expiry) and
// videoauth (a tenth of the lifetime, at most 10 s, before expiry) stop
// using the first token.
func expirySpan(ttl time.Duration) time.Duration {
	return max(ttl-10*time.Second, ttl-min(ttl/10, 10*time.Second)) + 1500*time.Millisecond
}

// expiry runs both libraries at once against s and returns their request
// latencies (x/oauth2's, then videoauth's).
func expiry(s *server, base http.RoundTripper, ttl time.Duration, workers int, gap time.Duration) ([][]time.Duration, int, error) {
	ours, src, err := videoauthClient(s, base)
	if err != nil {
		return nil, 0, err
	}
	// Every mint after the warm-up's must be a background renewal: a mint
	// that is not is one that requests waited for.
	var warm atomic.Bool
	var waitedMints atomic.Int64
	src.Observer = videoauth.ObserverFunc(func(_ context.Context, e videoauth.Event) {
		if warm.Load() && e.Kind == videoauth.EventMintStart && !e.Background {
			waitedMints.Add(1)
		}
	})
	theirs := xoauth2Client(s, base)
	// Warm up: each library gets its first token (that wait is not the
	// boundary's) and opens its connections.
	for _, c := range []*http.Client{ours, theirs} {
		if code, err := get(c, s); code != http.StatusOK {
			return nil, 0, fmt.Errorf("warm-up: %d %v", code, err)
		}
	}
	warm.Store(true)
	until := time.Now().Add(expirySpan(ttl))
	var wg sync.WaitGroup
	results := make([][]time.Duration, 2)
	errs := make([]error, 2)
	for i, c := range []*http.Client{theirs, ours} {
		wg.Go(func() { results[i], errs[i] = flow(c, s, workers, gap, until) })
	}
	wg.Wait()
	return results, int(waitedMints.Load()), errors.Join(errs...)
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
