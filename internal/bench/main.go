// Command bench measures what Go benchmarks cannot: how videoauth and
// golang.org/x/oauth2 behave over seconds of real traffic against one OAuth
// service on loopback. It runs five scenarios and prints Markdown tables
// for BENCHMARKS.md:
//
//   - expiry: requests flow steadily while tokens of 5 s, 15 s and 25 s
//     reach their expiry and the token endpoint takes 200 ms; the worst
//     request latency and the requests that waited on a renewal.
//   - stampede: 1000 concurrent requests meet a token the API rejects; the
//     time until all have succeeded and the token-endpoint calls.
//   - rejection: an API that rejects every token, 100 requests a second;
//     the token-endpoint calls (x/oauth2 also under a retry-on-401 wrapper).
//   - scale: memory retained per user by a service holding many users'
//     Sources and Transports, at three sizes to show it grows linearly.
//   - outage: the token endpoint answers 503 (bare, then with Retry-After)
//     for a while, 100 requests a second; the token-endpoint calls during
//     the outage and the time from recovery to the first success.
//
// The program exits non-zero when videoauth breaks a bound its Source
// documents (each scenario's comment says which).
//
// Usage:
//
//	go run ./internal/bench            # the figures in BENCHMARKS.md (about a minute and a half)
//	go run ./internal/bench -quick     # smaller and shorter, as CI runs it
//	go run ./internal/bench -run expiry,outage
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "smaller and shorter runs (CI)")
	only := flag.String("run", "expiry,stampede,rejection,scale,outage", "comma-separated scenarios to run")
	flag.Parse()
	fmt.Printf("go %s, %s/%s, %d CPUs, GOMAXPROCS %d\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	scenarios := map[string]func(bool) error{
		"expiry": runExpiry, "stampede": runStampede, "rejection": runRejection, "scale": runScale, "outage": runOutage,
	}
	for _, name := range strings.Split(*only, ",") {
		f, ok := scenarios[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown scenario %q\n", name)
			os.Exit(2)
		}
		if err := f(*quick); err != nil {
			fmt.Fprintf(os.Stderr, "%s: FAIL: %v\n", name, err)
			os.Exit(1)
		}
		fmt.Println()
	}
}

// newBase is the connection pool both libraries send through: enough idle
// connections that a thousand concurrent requests do not churn sockets.
func newBase() *http.Transport {
	return &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000, IdleConnTimeout: time.Minute}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
