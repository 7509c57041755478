package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
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
// counted in both. It measures twice: with tokens the caller built (as a
// service loads them from its storage), and with tokens each library got
// from the token endpoint, where x/oauth2 keeps the whole decoded answer
// (Token.Extra's raw map) and videoauth the members it does not parse.
func runScale(quick bool) error {
	sizes := []int{10_000, 50_000, 100_000}
	if quick {
		sizes = []int{5_000, 10_000, 20_000}
	}
	simkl, err := videoauth.NewSimkl(videoauth.App{ClientID: "id", ClientSecret: "secret", AppName: "bench", AppVersion: "1"}, videoauth.SimklV2)
	if err != nil {
		return err
	}
	// For the second table: the same provider and Config over an in-process
	// token endpoint (no sockets), which answers every refresh with a new
	// Simkl-shaped token.
	endpoint := &http.Client{Transport: simklRefresher{}}
	refreshing, err := videoauth.NewSimkl(videoauth.App{ClientID: "id", ClientSecret: "secret", AppName: "bench", AppVersion: "1", HTTPClient: endpoint}, videoauth.SimklV2)
	if err != nil {
		return err
	}
	conf := &oauth2.Config{ClientID: "id", ClientSecret: "secret", Endpoint: oauth2.Endpoint{TokenURL: videoauth.SimklAPIURL + "/oauth2/token"}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, endpoint)

	fmt.Println("### Scale: memory retained per user (Sources and Transports held, one request sent by each)")
	fmt.Println()
	fmt.Println("Tokens built by the caller (as from storage):")
	fmt.Println()
	fmt.Println("| users | videoauth bytes/user | x/oauth2 bytes/user | videoauth allocations/user | x/oauth2 allocations/user |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, n := range sizes {
		ours, oursObjs, err := retained(n, func(i int) (any, error) {
			tok := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_" + randomHex(), RefreshToken: "simkl_rt_" + randomHex(), TokenType: "Bearer",
				Expiry: time.Now().Add(24 * time.Hour), Scopes: []string{"public"}}
			tr := &videoauth.Transport{Provider: simkl, Source: simkl.Source(tok), Base: noop{}}
			return tr, send(tr)
		})
		if err != nil {
			return err
		}
		theirs, theirsObjs, err := retained(n, func(i int) (any, error) {
			tok := &oauth2.Token{AccessToken: "simkl_at_" + randomHex(), RefreshToken: "simkl_rt_" + randomHex(), TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
			tr := &oauth2.Transport{Source: conf.TokenSource(context.Background(), tok), Base: noop{}}
			return tr, send(tr)
		})
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %.0f | %.0f | %.1f | %.1f |\n", n, ours, theirs, oursObjs, theirsObjs)
	}
	fmt.Println()
	fmt.Println("Tokens each library got from the token endpoint (the first request refreshed an expired token):")
	fmt.Println()
	fmt.Println("| users | videoauth bytes/user | x/oauth2 bytes/user | videoauth allocations/user | x/oauth2 allocations/user |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, n := range sizes {
		ours, oursObjs, err := retained(n, func(i int) (any, error) {
			tok := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_" + randomHex(), RefreshToken: "simkl_rt_" + randomHex(), TokenType: "Bearer",
				Expiry: time.Now().Add(-time.Minute), Scopes: []string{"public"}}
			src := refreshing.Source(tok)
			tr := &videoauth.Transport{Provider: refreshing, Source: src, Base: noop{}}
			if err := send(tr); err != nil {
				return nil, err
			}
			if src.Current() == tok {
				return nil, fmt.Errorf("videoauth did not refresh")
			}
			return tr, nil
		})
		if err != nil {
			return err
		}
		theirs, theirsObjs, err := retained(n, func(i int) (any, error) {
			tok := &oauth2.Token{AccessToken: "simkl_at_" + randomHex(), RefreshToken: "simkl_rt_" + randomHex(), TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute)}
			tr := &oauth2.Transport{Source: conf.TokenSource(ctx, tok), Base: noop{}}
			return tr, send(tr)
		})
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %.0f | %.0f | %.1f | %.1f |\n", n, ours, theirs, oursObjs, theirsObjs)
	}
	return nil
}

// simklRefresher is an in-process Simkl token endpoint: it answers every
// request with a new token pair as Simkl's /oauth2/token does (7 days,
// "public"), without a socket.
type simklRefresher struct{}

func (simklRefresher) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	body := `{"access_token":"simkl_at_` + randomHex() + `","token_type":"bearer","expires_in":604800,"refresh_token":"simkl_rt_` + randomHex() + `","scope":"public"}`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
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
