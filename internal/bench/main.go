// Command bench measures what Go benchmarks cannot: how videoauth and
// golang.org/x/oauth2 behave over seconds of real traffic against one OAuth
// service on loopback. It runs four scenarios and prints Markdown tables
// for BENCHMARKS.md:
//
//   - expiry: requests flow steadily while the token reaches its expiry and
//     the token endpoint takes 200 ms; the worst request latency across the
//     boundary.
//   - stampede: 1000 concurrent requests meet a token the API rejects; the
//     time until all have succeeded and the token-endpoint calls.
//   - scale: memory retained per user by a service holding many users'
//     Sources and Transports, at three sizes to show it grows linearly.
//   - outage: token-endpoint calls per second while 200 goroutines keep
//     requesting during an outage of the token endpoint.
//
// Usage:
//
//	go run ./internal/bench            # the figures in BENCHMARKS.md (about a minute)
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
	only := flag.String("run", "expiry,stampede,scale,outage", "comma-separated scenarios to run")
	flag.Parse()
	fmt.Printf("go %s, %s/%s, %d CPUs, GOMAXPROCS %d\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	scenarios := map[string]func(bool) error{
		"expiry": runExpiry, "stampede": runStampede, "scale": runScale, "outage": runOutage,
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
