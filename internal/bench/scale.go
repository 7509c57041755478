package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
)

// runScale measures the memory a service retains per user when it holds
// many users' Sources and Transports (Simkl V2 users: an expiring access
// token and a refresh token, the case a service keeps for months), after
// each has sent one request through a no-op base. It measures three sizes
// to show the cost per user does not grow with the number of users, and
// the same holding with x/oauth2 (a Config.TokenSource and an
// oauth2.Transport per user) for comparison. The token's own strings are
// counted in both.
func runScale(quick bool) error {
	sizes := []int{25_000, 50_000, 100_000}
	if quick {
		sizes = []int{5_000, 10_000, 20_000}
	}
	simkl, err := videoauth.NewSimkl(videoauth.App{ClientID: "id", ClientSecret: "secret", AppName: "bench", AppVersion: "1"}, videoauth.SimklV2)
	if err != nil {
		return err
	}
	conf := &oauth2.Config{ClientID: "id", ClientSecret: "secret", Endpoint: oauth2.Endpoint{TokenURL: videoauth.SimklAPIURL + "/oauth2/token"}}
	fmt.Println("### Scale: memory retained per user (Sources and Transports held, one request sent by each)")
	fmt.Println()
	fmt.Println("| users | videoauth bytes/user | x/oauth2 bytes/user | videoauth allocations/user |")
	fmt.Println("|---:|---:|---:|---:|")
	for _, n := range sizes {
		ours, objs, err := retained(n, func(i int) (any, error) {
			tok := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_" + randomHex(), RefreshToken: "simkl_rt_" + randomHex(), TokenType: "Bearer",
				Expiry: time.Now().Add(24 * time.Hour), Scopes: []string{"public"}}
			tr := &videoauth.Transport{Provider: simkl, Source: simkl.Source(tok), Base: noop{}}
			return tr, send(tr)
		})
		if err != nil {
			return err
		}
		theirs, _, err := retained(n, func(i int) (any, error) {
			tok := &oauth2.Token{AccessToken: "simkl_at_" + randomHex(), RefreshToken: "simkl_rt_" + randomHex(), TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
			tr := &oauth2.Transport{Source: conf.TokenSource(context.Background(), tok), Base: noop{}}
			return tr, send(tr)
		})
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %.0f | %.0f | %.1f |\n", n, ours, theirs, objs)
	}
	return nil
}

// retained builds n users with mk, keeps them, and returns the heap bytes
// and objects retained per user, measured after full collections.
func retained(n int, mk func(int) (any, error)) (bytesPer, objsPer float64, err error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	users := make([]any, n)
	for i := range users {
		if users[i], err = mk(i); err != nil {
			return 0, 0, err
		}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(users)
	// The slice holding them is the service's, not the library's.
	slice := float64(n * 16)
	return (float64(after.HeapAlloc-before.HeapAlloc) - slice) / float64(n),
		float64(after.HeapObjects-before.HeapObjects-1) / float64(n), nil
}

func send(rt http.RoundTripper) error {
	req, err := http.NewRequest(http.MethodGet, videoauth.SimklAPIURL+"/sync/activities", nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// noop answers at once; nothing leaves the process.
type noop struct{}

func (noop) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// randomHex is a 32-character token, as the services issue.
func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
