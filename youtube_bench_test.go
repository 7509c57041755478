package videoauth_test

// YouTube's request style, implemented three ways over the same base, as
// styles_bench_test.go does for the other services (BENCHMARKS.md,
// section 1): impl=limit, a hand-written minimal RoundTripper sending
// exactly the request videoauth sends (Authorization: Bearer in a copied
// header, the caller's URL shared, the host and path checked as Owns
// checks them); impl=xoauth2, oauth2.Transport over
// oauth2.ReuseTokenSource, which is all an x/oauth2 user needs for a
// bearer-only API; impl=videoauth, videoauth.Transport over the provider's
// Source, as NewClient builds it.
//
//	go test -run '^$' -bench YouTubeStyle -benchmem -count 8 . > youtube.txt
//	benchstat -col '/impl@(limit xoauth2 videoauth)' youtube.txt

import (
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

const (
	styleYouTubeClientID = "123456789012-0123456789abcdefghijklmnopqrstuv.apps.googleusercontent.com"
	// An access token of Google's shape and a typical length.
	styleYouTubeToken = "ya29.a0AfB_byC0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789abcdefghijklmnop"
	styleYouTubeURL   = videoauth.YouTubeAPIURL + "/youtube/v3/channels?part=snippet&mine=true"
)

// Allocation budget of videoauth's YouTube request path, as
// styles_test.go's: the limit's count, 2 of which are benchNoop's
// response. Lower it as the path gets cheaper, never raise it to make a
// change pass.
const styleAllocBudgetYouTube = 5

func styleYouTubeRequest(tb testing.TB) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, styleYouTubeURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// newStyleYouTube returns the three implementations over base; clock as in
// newStyle.
func newStyleYouTube(tb testing.TB, base http.RoundTripper, clock videoauth.Clock) map[string]http.RoundTripper {
	tb.Helper()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	p, err := videoauth.NewYouTube(videoauth.App{ClientID: styleYouTubeClientID, ClientSecret: "secret", Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	// A user token as an exchange returns it: an hour to live, a refresh token.
	tok := &videoauth.Token{Provider: "youtube", AccessToken: styleYouTubeToken, TokenType: "Bearer", RefreshToken: "1//refresh",
		Expiry: now().Add(time.Hour), Scopes: []string{videoauth.YouTubeScopeReadOnly}}
	return map[string]http.RoundTripper{
		"limit":     newStyleYouTubeLimit(p, tok, base, now),
		"xoauth2":   &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2())), Base: base},
		"videoauth": &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: base},
	}
}

// BenchmarkYouTubeStyle measures one authorized GET through each
// implementation, serially and in parallel, over benchNoop.
func BenchmarkYouTubeStyle(b *testing.B) {
	impls := newStyleYouTube(b, benchNoop{}, nil)
	req := styleYouTubeRequest(b)
	benchStyleImpls(b, "style=youtube", impls, req)
}

// styleYouTubeLimit: Bearer in a copied header; the URL is shared.
type styleYouTubeLimit struct {
	p    *videoauth.YouTube
	base http.RoundTripper
	now  func() time.Time
	cur  atomic.Pointer[styleLimitToken[[]string]]
}

func newStyleYouTubeLimit(p *videoauth.YouTube, tok *videoauth.Token, base http.RoundTripper, now func() time.Time) *styleYouTubeLimit {
	l := &styleYouTubeLimit{p: p, base: base, now: now}
	l.cur.Store(newStyleLimitToken(tok, now(), []string{"Bearer " + tok.AccessToken}))
	return l
}

// owned is Owns' rule for the common case (no redirect chain, the
// production host, a clean YouTube path), else Owns itself.
func (l *styleYouTubeLimit) owned(req *http.Request) bool {
	u := req.URL
	if req.Response == nil && u.Scheme == "https" && u.Host == "www.googleapis.com" && path.Clean(u.Path) == u.Path &&
		strings.HasPrefix(u.Path, "/youtube/") {
		return true
	}
	return styleOwned(l.p, "", "", req)
}

func (l *styleYouTubeLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !l.owned(req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	r := new(http.Request)
	*r = *req
	h := styleCopyHeader(req.Header, 1)
	h["Authorization"] = t.v
	r.Header = h
	return l.base.RoundTrip(r)
}

// TestYouTubeStyleAllocBudget holds videoauth's allocations per YouTube
// request to its budget and logs the three implementations' counts.
func TestYouTubeStyleAllocBudget(t *testing.T) {
	impls := newStyleYouTube(t, benchNoop{}, nil)
	req := styleYouTubeRequest(t)
	checkStyleBudget(t, impls, req, float64(styleAllocBudgetYouTube))
}

// TestYouTubeStyleSameRequest checks that the limit, x/oauth2 and videoauth
// send the base the identical request for the benchmark's request and its
// variations, that none modifies the caller's request, and that a request
// to another Google API on the same host gets no token from any of them
// but x/oauth2 (which attaches its token to every host).
func TestYouTubeStyleSameRequest(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	base := &styleRecorder{}
	impls := newStyleYouTube(t, base, clock)
	with := func(f func(r *http.Request)) func() *http.Request {
		return func() *http.Request {
			r := styleYouTubeRequest(t)
			f(r)
			return r
		}
	}
	shapes := map[string]func() *http.Request{
		"benchmark": func() *http.Request { return styleYouTubeRequest(t) },
		"no query":  with(func(r *http.Request) { r.URL.RawQuery = "" }),
		"caller header": with(func(r *http.Request) {
			r.Header.Set("X-Request-Id", "42")
			r.Header.Add("X-Multi", "a")
			r.Header.Add("X-Multi", "b")
		}),
		"caller UA":      with(func(r *http.Request) { r.Header.Set("User-Agent", "caller/1.0") }),
		"caller Accept":  with(func(r *http.Request) { r.Header.Set("Accept", "application/json") }),
		"escaped value":  with(func(r *http.Request) { r.URL.RawQuery += "&q=a%20b%26c" }),
		"youtube host":   with(func(r *http.Request) { r.URL.Host = "youtube.googleapis.com" }),
		"upload path":    with(func(r *http.Request) { r.URL.Path = "/upload/youtube/v3/videos" }),
		"dot segments":   with(func(r *http.Request) { r.URL.Path = "/youtube/v3/../v3/channels" }),
		"caller's Authz": with(func(r *http.Request) { r.Header.Set("Authorization", "Bearer old") }),
	}
	for shape, mk := range shapes {
		sent := map[string]styleSent{}
		for _, impl := range styleImplNames {
			req := mk()
			wantURL, wantHeader := req.URL.String(), req.Header.Clone()
			for range 2 {
				resp, err := impls[impl].RoundTrip(req)
				require.NoError(t, err, "%s, %s", shape, impl)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				resp.Body.Close()
			}
			require.Equal(t, wantURL, req.URL.String(), "%s, %s modified the caller's URL", shape, impl)
			require.Equal(t, wantHeader, req.Header, "%s, %s modified the caller's header", shape, impl)
			got := base.take(t)
			require.Len(t, got, 2, "%s, %s", shape, impl)
			require.Equal(t, got[0], got[1], "%s, %s: the second request differs from the first", shape, impl)
			sent[impl] = got[0]
		}
		for _, impl := range []string{"limit", "xoauth2"} {
			require.Equal(t, sent["videoauth"], sent[impl], "%s: %s sends another request than videoauth", shape, impl)
		}
		require.Equal(t, "Bearer "+styleYouTubeToken, sent["videoauth"].Header.Get("Authorization"), shape)
		require.Len(t, sent["videoauth"].Header["Authorization"], 1, shape)
	}

	// Drive on the same host: videoauth and the limit send it untouched.
	for _, impl := range []string{"limit", "videoauth"} {
		req, err := http.NewRequest(http.MethodGet, videoauth.YouTubeAPIURL+"/drive/v3/files", nil)
		require.NoError(t, err)
		resp, err := impls[impl].RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		got := base.take(t)
		require.Len(t, got, 1)
		require.Empty(t, got[0].Header.Get("Authorization"), "%s sent the YouTube token to Drive", impl)
	}
	require.Empty(t, clock.AfterCalls(), "nothing waited on the clock")
}
