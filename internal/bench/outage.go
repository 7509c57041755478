package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runOutage takes the token endpoint down (503 after 1 ms) for 7.5 s (2 s
// with -quick) while each library's token is stale, with 100 requests a
// second per library (both at once), then brings it back, and reports the
// token-endpoint calls during the outage, the time from recovery to the first
// successful request and the requests that failed after recovery. It does so
// twice: a bare 503, and a 503 with Retry-After: 3.
//
// videoauth's Source shares one failed mint among its waiters and hands its
// error out, without calling, for RetryInterval (the first time after a
// success a random part of it, between half and all), or for Retry-After
// when that is longer. The program fails if, with a bare 503, videoauth
// calls more than floor(outage/RetryInterval) + 2 times during the outage or
// first succeeds later than RetryInterval + 50 ms after recovery, or if, with
// Retry-After, two of its calls come less than Retry-After apart or it first
// succeeds later than Retry-After + 50 ms after recovery. x/oauth2's
// ReuseTokenSource fetches again in every request that finds no valid token.
func runOutage(quick bool) error {
	window := 7500 * time.Millisecond
	if quick {
		window = 2 * time.Second
	}
	for _, retryAfter := range []int{0, 3} {
		if err := outage(window, retryAfter); err != nil {
			return err
		}
		if retryAfter == 0 {
			fmt.Println()
		}
	}
	return nil
}

// slack is what scheduling on a busy machine may add to a wait: the bench's
// allowance when it checks videoauth's first success after recovery.
const slack = 50 * time.Millisecond

// sent is one request of the outage run: when it started and ended, and
// whether it succeeded.
type sent struct {
	start, end time.Time
	ok         bool
}

// outage runs one outage with both libraries at once on their own server:
// a warm-up token that lives 1 s, so that when the outage starts a second
// later both libraries hold a stale one (no request runs in between, so
// videoauth's background renewal does not either), then the outage with
// steady traffic, then recovery, after which tokens live an hour.
func outage(window time.Duration, retryAfter int) error {
	const gap = 10 * time.Millisecond
	s := newServer(time.Millisecond, time.Second)
	defer s.Close()
	base := newBase()
	defer base.CloseIdleConnections()
	ours, src, err := videoauthClient(s, base)
	if err != nil {
		return err
	}
	clients := []struct {
		name, id string
		c        *http.Client
	}{{"x/oauth2", idXOAuth2, xoauth2Client(s, base)}, {"videoauth", idVideoauth, ours}}
	for _, c := range clients {
		if code, err := get(c.c, s); code != http.StatusOK {
			return fmt.Errorf("warm-up: %d %v", code, err)
		}
	}
	time.Sleep(time.Second)
	s.ttl.Store(int64(time.Hour))

	ri := retryInterval(src)
	wait, what := ri, "a bare 503"
	if retryAfter > 0 {
		wait, what = max(ri, time.Duration(retryAfter)*time.Second), fmt.Sprintf("503 with Retry-After: %d", retryAfter)
	}
	fmt.Printf("### Token endpoint outage, %s: the endpoint answers every call so (after 1 ms) for %v while both libraries' tokens are stale, then recovers; %d requests a second per library, both at once, until 500 ms after both have succeeded again\n\n",
		what, window, time.Second/gap)

	var stopAt, upNano atomic.Int64
	stopAt.Store(time.Now().Add(time.Hour).UnixNano())
	upNano.Store(stopAt.Load())
	var recovered [2]atomic.Bool // a request succeeded after recovery
	logs := make([][]sent, len(clients))
	var wg sync.WaitGroup
	header := ""
	if retryAfter > 0 {
		header = fmt.Sprint(retryAfter)
	}
	downAt := s.setDown(true, header)
	for i, c := range clients {
		wg.Go(func() {
			var mu sync.Mutex
			paced(gap, func(t time.Time) bool { return t.UnixNano() >= stopAt.Load() }, func() {
				t0 := time.Now()
				code, _ := get(c.c, s)
				r := sent{start: t0, end: time.Now(), ok: code == http.StatusOK}
				if r.ok && r.end.UnixNano() >= upNano.Load() {
					recovered[i].Store(true)
				}
				mu.Lock()
				logs[i] = append(logs[i], r)
				mu.Unlock()
			})
		})
	}
	time.Sleep(time.Until(downAt.Add(window)))
	upAt := s.setDown(false, "")
	upNano.Store(upAt.UnixNano())
	// Stop 500 ms after both libraries have succeeded again, or that long
	// past the latest videoauth may take to.
	deadline := upAt.Add(wait + slack + 500*time.Millisecond)
	for time.Now().Before(deadline) && (!recovered[0].Load() || !recovered[1].Load()) {
		time.Sleep(5 * time.Millisecond)
	}
	stopAt.Store(min(time.Now().Add(500*time.Millisecond).UnixNano(), deadline.UnixNano()))
	wg.Wait()
	outageLen := upAt.Sub(downAt)

	fmt.Println("| library | requests failed during the outage | token-endpoint calls during the outage | calls per second | shortest time between two calls | first success after recovery | requests failed after recovery |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	var fail error
	var timeline string
	for i, c := range clients {
		var failedDuring, failedAfter int
		var first time.Time
		for _, r := range logs[i] {
			switch {
			case r.ok && r.end.Before(upAt):
				return fmt.Errorf("%s: a request succeeded during the outage", c.name)
			case r.ok:
				if first.IsZero() || r.end.Before(first) {
					first = r.end
				}
			case r.start.Before(upAt):
				failedDuring++
			default:
				failedAfter++
			}
		}
		// The calls from the start of the outage to the first that
		// succeeded: those the retry wait spaces.
		var calls []call
		during := 0
		for _, k := range s.tokenCalls(c.id) {
			if k.at.Before(downAt) {
				continue
			}
			calls = append(calls, k)
			if k.failed {
				during++
			} else {
				break
			}
		}
		shortest := time.Duration(-1)
		for j := 1; j < len(calls); j++ {
			if d := calls[j].at.Sub(calls[j-1].at); shortest < 0 || d < shortest {
				shortest = d
			}
		}
		firstAfter := "never"
		if !first.IsZero() {
			firstAfter = ms(first.Sub(upAt))
		}
		gapText := "—"
		if shortest >= 0 {
			gapText = ms(shortest)
		}
		if c.id == idVideoauth {
			timeline = offsets(calls, downAt)
		}
		fmt.Printf("| %s | %d | %d | %.1f | %s | %s | %d |\n", c.name, failedDuring, during, float64(during)/outageLen.Seconds(), gapText, firstAfter, failedAfter)
		if c.id != idVideoauth || fail != nil {
			continue
		}
		switch {
		case first.IsZero() || first.Sub(upAt) > wait+slack:
			fail = fmt.Errorf("videoauth first succeeded %s after recovery, later than %v + %v", firstAfter, wait, slack)
		case retryAfter == 0 && during > int(outageLen/ri)+2:
			fail = fmt.Errorf("videoauth made %d token calls during a %v outage, more than floor(%v / %v) + 2 = %d", during, outageLen.Round(time.Millisecond), outageLen.Round(time.Millisecond), ri, int(outageLen/ri)+2)
		case retryAfter > 0 && shortest >= 0 && shortest < wait:
			fail = fmt.Errorf("videoauth called the token endpoint %s after a 503 with Retry-After: %d", gapText, retryAfter)
		}
	}
	fmt.Printf("\nvideoauth's token calls, seconds after the outage began (recovery at %.2f), up to its first success: %s\n", outageLen.Seconds(), timeline)
	if retryAfter == 0 {
		fmt.Printf("\nbounds for videoauth, checked: at most floor(%v / %v) + 2 = %d calls during the outage; first success at most %v + %v after recovery.\n",
			outageLen.Round(time.Millisecond), ri, int(outageLen/ri)+2, ri, slack)
	} else {
		fmt.Printf("\nbounds for videoauth, checked: no two calls (from the outage to the first success) less than %v apart; first success at most %v + %v after recovery.\n",
			wait, wait, slack)
	}
	return fail
}
