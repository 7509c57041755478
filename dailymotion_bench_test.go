package videoauth_test

// Dailymotion's request styles side by side with x/oauth2 and the limit,
// as styles_bench_test.go does for the other services (BENCHMARKS.md,
// section 1): a public key's user token on the legacy API, and a private
// key's JWT on API v2, whose token goes to /v2 paths only. Both are one
// Authorization: Bearer header, so the x/oauth2 user needs no RoundTripper
// of their own.

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// dmStyleNames are the Dailymotion styles measured.
var dmStyleNames = []string{"dailymotion", "dailymotion-v2"}

const (
	dmStyleKey    = "x1a2b3c4d5e6f7a8b9c0" // 20 characters, as Dailymotion's API keys
	dmStyleToken  = "ZGFpbHltb3Rpb24tdXNlci10b2tlbi0wMTIzNDU2Nzg5YWJjZGVm"
	dmStyleJWT    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4OWZha2VvcmciLCJzY29wZSI6ImJ1bmRsZS5wdWJsaWMifQ.c2lnbmF0dXJlLTAxMjM0NTY3ODlhYmNkZWY"
	dmStyleSecret = "secret"
)

// Allocation budgets of videoauth's request path for the Dailymotion
// styles (BenchmarkDailymotionStyle's impl=videoauth over benchNoop, whose
// own response is 2 of them): the hand-written limit's count. Lower them as
// the request path gets cheaper, never raise one to make a change pass.
const (
	dmStyleAllocBudget   = 5
	dmStyleAllocBudgetV2 = 5
)

var dmStyleAllocBudgets = map[string]float64{"dailymotion": dmStyleAllocBudget, "dailymotion-v2": dmStyleAllocBudgetV2}

// dmStyleRequest is the caller's request of each style.
func dmStyleRequest(tb testing.TB, style string) *http.Request {
	tb.Helper()
	u := videoauth.DailymotionAPIURL + "/me/videos?fields=id,title&limit=25"
	if style == "dailymotion-v2" {
		u = videoauth.DailymotionAPIURL + "/v2/videos?limit=25"
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// newDMStyle returns style's three implementations over base.
func newDMStyle(tb testing.TB, style string, base http.RoundTripper, clock videoauth.Clock) map[string]http.RoundTripper {
	tb.Helper()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	t0 := now()
	reuse := func(tok *videoauth.Token) oauth2.TokenSource {
		return oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2()))
	}
	app := videoauth.App{ClientID: dmStyleKey, ClientSecret: dmStyleSecret, Clock: clock}
	var p videoauth.Provider
	var src *videoauth.Source
	var tok *videoauth.Token
	v2 := style == "dailymotion-v2"
	if v2 {
		dp, err := videoauth.NewDailymotionPrivate(app, videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionV2})
		if err != nil {
			tb.Fatal(err)
		}
		// A client-credentials JWT, with half of its 30 minutes left.
		tok = &videoauth.Token{Provider: "dailymotion", AccessToken: dmStyleJWT, TokenType: "Bearer", Expiry: t0.Add(15 * time.Minute),
			Scopes: []string{"bundle.public"}, Meta: map[string]string{"dailymotion_key": "v2"}}
		src = dp.ClientCredentials()
		src.SetToken(tok)
		p = dp
	} else {
		dp, err := videoauth.NewDailymotion(app, videoauth.DailymotionConfig{})
		if err != nil {
			tb.Fatal(err)
		}
		// A user token from the code flow, ten hours to live.
		tok = &videoauth.Token{Provider: "dailymotion", AccessToken: dmStyleToken, TokenType: "Bearer", RefreshToken: "rt",
			Expiry: t0.Add(10 * time.Hour), Scopes: []string{"manage_videos"}, UserID: "x1fakeuser", Meta: map[string]string{"dailymotion_key": "public"}}
		src = dp.Source(tok)
		p = dp
	}
	return map[string]http.RoundTripper{
		"limit":     newDMStyleLimit(p, tok, v2, base, now),
		"xoauth2":   &oauth2.Transport{Source: reuse(tok), Base: base},
		"videoauth": &videoauth.Transport{Provider: p, Source: src, Base: base},
	}
}

// dmStyleLimit: the Bearer header in a copied header, the URL shared; the
// credential's value slice built once per token. For v2 the token goes to
// /v2 paths only, as DailymotionPrivate.Owns says.
type dmStyleLimit struct {
	p    videoauth.Provider
	v2   bool
	base http.RoundTripper
	now  func() time.Time
	cur  atomic.Pointer[styleLimitToken[[]string]]
}

func newDMStyleLimit(p videoauth.Provider, tok *videoauth.Token, v2 bool, base http.RoundTripper, now func() time.Time) *dmStyleLimit {
	l := &dmStyleLimit{p: p, v2: v2, base: base, now: now}
	l.cur.Store(newStyleLimitToken(tok, now(), []string{"Bearer " + tok.AccessToken}))
	return l
}

func (l *dmStyleLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "api.dailymotion.com", req) || l.v2 && !(req.URL.Path == "/v2" || strings.HasPrefix(req.URL.Path, "/v2/")) {
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

// BenchmarkDailymotionStyle measures one authorized GET of each Dailymotion
// style through each implementation, serially and in parallel, over
// benchNoop; the names match BenchmarkStyle's for benchstat:
//
//	go test -run '^$' -bench DailymotionStyle -benchmem -count 8 . > dm.txt
//	benchstat -col '/impl@(limit xoauth2 videoauth)' dm.txt
func BenchmarkDailymotionStyle(b *testing.B) {
	for _, style := range dmStyleNames {
		impls := newDMStyle(b, style, benchNoop{}, nil)
		req := dmStyleRequest(b, style)
		benchStyleImpls(b, "style="+style, impls, req)
	}
}

// TestDailymotionStyleAllocBudget holds videoauth's allocations per
// Dailymotion request to the budget and logs the three implementations'
// counts (not under the race detector).
func TestDailymotionStyleAllocBudget(t *testing.T) {
	for _, style := range dmStyleNames {
		t.Run(style, func(t *testing.T) {
			impls := newDMStyle(t, style, benchNoop{}, nil)
			req := dmStyleRequest(t, style)
			checkStyleBudget(t, impls, req, float64(dmStyleAllocBudgets[style]))
		})
	}
}

// dmStyleShapes are the caller's requests the styles are checked with.
func dmStyleShapes(t *testing.T, style string) map[string]func() *http.Request {
	t.Helper()
	with := func(f func(r *http.Request)) func() *http.Request {
		return func() *http.Request {
			r := dmStyleRequest(t, style)
			f(r)
			return r
		}
	}
	return map[string]func() *http.Request{
		"benchmark":     func() *http.Request { return dmStyleRequest(t, style) },
		"no query":      with(func(r *http.Request) { r.URL.RawQuery = "" }),
		"escaped value": with(func(r *http.Request) { r.URL.RawQuery += "&search=a%20b%26c" }),
		"caller header": with(func(r *http.Request) {
			r.Header.Set("X-Request-Id", "42")
			r.Header.Add("X-Multi", "a")
			r.Header.Add("X-Multi", "b")
		}),
		"caller UA":      with(func(r *http.Request) { r.Header.Set("User-Agent", "caller/1.0") }),
		"caller's token": with(func(r *http.Request) { r.Header.Set("Authorization", "Bearer stale") }),
		"caller Accept":  with(func(r *http.Request) { r.Header.Set("Accept", "application/json") }),
	}
}

// TestDailymotionStyleSameRequest checks that the limit, x/oauth2 and
// videoauth send the base the identical request for every shape, that none
// modifies the caller's request, and that the credential is there.
func TestDailymotionStyleSameRequest(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	for _, style := range dmStyleNames {
		t.Run(style, func(t *testing.T) {
			base := &styleRecorder{}
			impls := newDMStyle(t, style, base, clock)
			for shape, mk := range dmStyleShapes(t, style) {
				sent := map[string]styleSent{}
				for _, impl := range styleImplNames {
					req := mk()
					wantURL, wantHeader := req.URL.String(), req.Header.Clone()
					for range 2 {
						resp, err := impls[impl].RoundTrip(req)
						require.NoError(t, err, "%s, %s", shape, impl)
						resp.Body.Close()
					}
					require.Equal(t, wantURL, req.URL.String(), "%s, %s modified the caller's URL", shape, impl)
					require.Equal(t, wantHeader, req.Header, "%s, %s modified the caller's header", shape, impl)
					got := base.take(t)
					require.Len(t, got, 2)
					require.Equal(t, got[0], got[1], "%s, %s: the second request differs", shape, impl)
					sent[impl] = got[0]
				}
				for _, impl := range []string{"limit", "xoauth2"} {
					require.Equal(t, sent["videoauth"], sent[impl], "%s: %s sends another request than videoauth", shape, impl)
				}
				want := "Bearer " + dmStyleToken
				if style == "dailymotion-v2" {
					want = "Bearer " + dmStyleJWT
				}
				require.Equal(t, want, sent["videoauth"].Header.Get("Authorization"), shape)
				require.NotContains(t, sent["videoauth"].URL, "access_token", "never in the URL")
			}
		})
	}
	require.Empty(t, clock.AfterCalls(), "nothing waited on the clock")
}
