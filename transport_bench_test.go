package videoauth_test

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
)

// benchNoop answers every request at once with an empty 200, so only the
// auth layer's cost shows.
type benchNoop struct{}

func (benchNoop) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// benchRaw is the floor: a RoundTripper that clones the request, as the
// RoundTripper contract requires, and sets one header.
type benchRaw struct{ base http.RoundTripper }

func (b benchRaw) RoundTrip(r *http.Request) (*http.Response, error) {
	c := r.Clone(r.Context())
	c.Header.Set("Authorization", "Bearer bench-token")
	return b.base.RoundTrip(c)
}

// benchTransports returns the three transports compared: the floor, x/oauth2's
// Transport over ReuseTokenSource, and ours over a Source, each holding a
// token valid for an hour, over benchNoop.
func benchTransports(b *testing.B) (raw, xoauth2, ours http.RoundTripper, url string) {
	b.Helper()
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "bench", ClientSecret: "bench-secret"})
	if err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	tok := &videoauth.Token{Provider: "vimeo", AccessToken: "bench-token", TokenType: "Bearer", Expiry: exp}
	raw = benchRaw{benchNoop{}}
	xoauth2 = &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2())), Base: benchNoop{}}
	ours = &videoauth.Transport{Provider: v, Source: v.Source(tok), Base: benchNoop{}}
	return raw, xoauth2, ours, videoauth.VimeoURL + "/me/videos"
}

// BenchmarkTransport measures one authorized request through each
// transport, serially and with b.RunParallel. The sub-benchmark names are
// keys benchstat can put side by side:
//
//	benchstat -col '/impl@(xoauth2 videoauth raw)' out.txt
func BenchmarkTransport(b *testing.B) {
	raw, xo, ours, u := benchTransports(b)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{{"raw", raw}, {"xoauth2", xo}, {"videoauth", ours}} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("impl="+tc.name+"/run=serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := tc.rt.RoundTrip(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
		b.Run("impl="+tc.name+"/run=parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := tc.rt.RoundTrip(req)
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Error(err)
						return
					}
					resp.Body.Close()
				}
			})
		})
	}
}
