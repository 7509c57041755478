package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runStampede lets 1000 concurrent requests meet a token the API has
// revoked, the token endpoint taking 200 ms, and reports, for each library,
// how many succeeded, the time until the last success, and the
// token-endpoint calls. x/oauth2 does not read the API's answer: its token
// has not expired, so it makes no call and every request fails with the
// 401. videoauth's Transport sees the 401, one mint replaces the token for
// all 1000, and each request is replayed once.
func runStampede(bool) error {
	const n, latency = 1000, 200 * time.Millisecond
	fmt.Printf("### Stampede: %d concurrent requests meet a revoked token, token endpoint latency %v\n\n", n, latency)
	fmt.Println("| library | succeeded | failed (401 or error) | time until all succeeded | token-endpoint calls |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, name := range []string{idXOAuth2, idVideoauth} {
		s := newServer(latency, time.Hour)
		base := newBase()
		c := xoauth2Client(s, base)
		if name == idVideoauth {
			var err error
			if c, _, err = videoauthClient(s, base); err != nil {
				return err
			}
		}
		// Warm up: a token and n open connections.
		if code, err := get(c, s); code != http.StatusOK {
			return fmt.Errorf("warm-up: %d %v", code, err)
		}
		parallel(n, func() { get(c, s) })
		before := len(s.tokenCalls(name))
		s.revokeAll()

		var ok, failed atomic.Int64
		var last atomic.Int64 // nanoseconds after start of the last success
		start := time.Now()
		parallel(n, func() {
			if code, _ := get(c, s); code == http.StatusOK {
				ok.Add(1)
				d := int64(time.Since(start))
				for {
					l := last.Load()
					if d <= l || last.CompareAndSwap(l, d) {
						break
					}
				}
			} else {
				failed.Add(1)
			}
		})
		took := "never (none succeeded)"
		if ok.Load() == n {
			took = ms(time.Duration(last.Load()))
		}
		lib := "x/oauth2"
		if name == idVideoauth {
			lib = "videoauth"
		}
		fmt.Printf("| %s | %d | %d | %s | %d |\n", lib, ok.Load(), failed.Load(), took, len(s.tokenCalls(name))-before)
		base.CloseIdleConnections()
		s.Close()
	}
	return nil
}

// parallel starts n goroutines that run f at the same moment and waits
// for all of them.
func parallel(n int, f func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() { <-start; f() })
	}
	close(start)
	wg.Wait()
}
