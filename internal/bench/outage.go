package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/videoauth/videoauth"
)

// runOutage takes the token endpoint down (503 in 1 ms) just as each
// library's token goes stale, lets 200 goroutines keep requesting for 10 s
// (3 s with -quick), and reports the token-endpoint calls per second.
// videoauth's Source shares one failed mint among its waiters and tries
// again at most once per RetryInterval (5 s by default), so the endpoint
// sees about one call per 5 s; x/oauth2's ReuseTokenSource fetches again on
// every request that finds no valid token.
func runOutage(quick bool) error {
	const goroutines = 200
	window := 10 * time.Second
	if quick {
		window = 3 * time.Second
	}
	fmt.Printf("### Token endpoint outage: %d goroutines keep requesting for %v while every token call fails (503 after 1 ms); minimum retry interval %v. Each library runs alone.\n\n",
		goroutines, window, videoauth.DefaultRetryInterval)
	fmt.Println("| library | requests (all failed) | token-endpoint calls | calls per second | bound for videoauth (the first, then 1 per retry interval) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	bound := int(window/videoauth.DefaultRetryInterval) + 1
	for _, name := range []string{idXOAuth2, idVideoauth} {
		requests, calls, elapsed, err := outage(name, goroutines, window)
		if err != nil {
			return err
		}
		b := "—"
		if name == idVideoauth {
			b = fmt.Sprint(bound)
			if calls > bound {
				return fmt.Errorf("videoauth made %d token calls in %v, more than %d", calls, window, bound)
			}
		}
		fmt.Printf("| %s | %d | %d | %.1f | %s |\n", name, requests, calls, float64(calls)/elapsed.Seconds(), b)
	}
	return nil
}

// outage runs the outage for one library: its own server, a warm-up, the
// token endpoint down as the token goes stale, then the goroutines.
func outage(name string, goroutines int, window time.Duration) (requests int64, calls int, elapsed time.Duration, err error) {
	// Tokens live 12 s: both libraries treat them as stale 10 s early, so
	// 2.5 s after the warm-up a new one is needed.
	s := newServer(time.Millisecond, 12*time.Second)
	defer s.Close()
	base := newBase()
	defer base.CloseIdleConnections()
	c := xoauth2Client(s, base)
	if name == idVideoauth {
		if c, _, err = videoauthClient(s, base); err != nil {
			return 0, 0, 0, err
		}
	}
	if code, err := get(c, s); code != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("warm-up: %d %v", code, err)
	}
	s.down.Store(true)
	time.Sleep(2500 * time.Millisecond)
	before := len(s.tokenCalls(name))
	var n atomic.Int64
	var succeeded atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(window)
	for range goroutines {
		wg.Go(func() {
			for time.Now().Before(until) {
				if code, _ := get(c, s); code == http.StatusOK {
					succeeded.Store(true)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	if succeeded.Load() {
		return 0, 0, 0, fmt.Errorf("%s: a request succeeded during the outage", name)
	}
	return n.Load(), len(s.tokenCalls(name)) - before, elapsed, nil
}
