package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/videoauth/videoauth"
)

// The client ids the server counts token calls by.
const (
	idXOAuth2      = "xoauth2"
	idXOAuth2Retry = "xoauth2-retry401"
	idVideoauth    = "videoauth"
)

// xoauth2Client is what a user of golang.org/x/oauth2 writes: client
// credentials (its TokenSource is a ReuseTokenSource) under oauth2.Transport.
func xoauth2Client(s *server, base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &oauth2.Transport{Source: xoauth2Source(s, base, idXOAuth2), Base: base}}
}

// xoauth2Source is x/oauth2's client-credentials TokenSource (a
// ReuseTokenSource) for client id against s.
func xoauth2Source(s *server, base http.RoundTripper, id string) oauth2.TokenSource {
	cc := clientcredentials.Config{
		ClientID: id, ClientSecret: "secret", TokenURL: s.URL + tokenPath,
		Scopes: []string{"public"}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: base})
	return cc.TokenSource(ctx)
}

// xoauth2RetryClient is what a user of x/oauth2 writes to get what
// videoauth's Transport does on a rejected token: on a 401 it replaces the
// token source (a ReuseTokenSource cannot be told to drop its token, so a new
// one) unless a concurrent request already did, and replays the request
// once with the new token.
func xoauth2RetryClient(s *server, base http.RoundTripper) *http.Client {
	t := &retry401{base: base, newSource: func() oauth2.TokenSource { return xoauth2Source(s, base, idXOAuth2Retry) }}
	t.src = t.newSource()
	return &http.Client{Transport: t}
}

type retry401 struct {
	base      http.RoundTripper
	newSource func() oauth2.TokenSource

	mu  sync.Mutex
	src oauth2.TokenSource
}

func (t *retry401) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	src := t.src
	t.mu.Unlock()
	resp, err := (&oauth2.Transport{Source: src, Base: t.base}).RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.mu.Lock()
	if t.src == src {
		t.src = t.newSource()
	}
	src = t.src
	t.mu.Unlock()
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return (&oauth2.Transport{Source: src, Base: t.base}).RoundTrip(r)
}

// videoauthClient is the same with videoauth: Vimeo's client-credentials
// Source, pointed at s, under videoauth's Transport, all defaults.
func videoauthClient(s *server, base http.RoundTripper) (*http.Client, *videoauth.Source, error) {
	v, err := videoauth.NewVimeo(videoauth.App{
		ClientID: idVideoauth, ClientSecret: "secret", APIURL: s.URL,
		HTTPClient: &http.Client{Transport: base},
	})
	if err != nil {
		return nil, nil, err
	}
	src := v.ClientCredentials()
	return videoauth.NewClient(v, src), src, nil
}

// retryInterval is src's RetryInterval as it applies (0 means the default).
func retryInterval(src *videoauth.Source) time.Duration {
	if src.RetryInterval > 0 {
		return src.RetryInterval
	}
	return videoauth.DefaultRetryInterval
}

// get requests /me and reports the status (0 and the error on failure).
func get(c *http.Client, s *server) (int, error) {
	resp, err := c.Get(s.URL + "/me")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// paced starts f in a goroutine of its own every gap (an open loop: a slow
// request does not delay the next) until stop reports true, waits for all
// of them, and returns how many it started.
func paced(gap time.Duration, stop func(time.Time) bool, f func()) int {
	var wg sync.WaitGroup
	n := 0
	for next := time.Now(); !stop(next); next = next.Add(gap) {
		time.Sleep(time.Until(next))
		wg.Go(f)
		n++
	}
	wg.Wait()
	return n
}
