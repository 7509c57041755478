package videoauth_test

// Trakt's request style, implemented three ways over the same base, as
// styles_bench_test.go does for the other services (see its comment):
//
//   - impl=limit: a hand-written minimal RoundTripper: the request struct
//     copied, the caller's header copied with room for Trakt's five keys
//     (Authorization, trakt-api-key, trakt-api-version, and Content-Type and
//     User-Agent when the caller set none), every value a slice built once
//     per token and shared; the URL is the caller's. It checks the host and
//     the token's expiry and nothing more.
//   - impl=xoauth2: oauth2.Transport over oauth2.ReuseTokenSource, with
//     below it the RoundTripper a user writes to add Trakt's headers
//     (req.Clone and Header.Set).
//   - impl=videoauth: videoauth.Transport over Trakt's Source.
//
// TestTraktStyleSameRequest checks that the three send the identical
// request; TestTraktStyleAllocBudget holds videoauth's allocations to a
// budget.

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Credentials of the Trakt style, of Trakt's shapes and lengths.
const (
	styleTraktClientID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" // 64 hex
	styleTraktToken    = "fedcba9876543210fedcba9876543210"                                 // 32 characters
	styleTraktUA       = "bench-app/1.4.2"
)

// styleAllocBudgetTrakt is videoauth's allocations per request of
// BenchmarkTraktStyle's impl=videoauth (2 of them are benchNoop's
// response): the limit's count. Lower it as the request path gets cheaper,
// never raise it to make a change pass.
const styleAllocBudgetTrakt = 5

func styleTraktRequest(tb testing.TB) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, videoauth.TraktAPIURL+"/sync/watched/shows?extended=full", nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// newTraktStyle returns the Trakt style's three implementations over base.
func newTraktStyle(tb testing.TB, base http.RoundTripper, clock videoauth.Clock) map[string]http.RoundTripper {
	tb.Helper()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	p, err := videoauth.NewTrakt(videoauth.App{ClientID: styleTraktClientID, UserAgent: styleTraktUA, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	// A seven-day user token with its single-use refresh token.
	tok := &videoauth.Token{Provider: "trakt", AccessToken: styleTraktToken, TokenType: "Bearer", RefreshToken: "rt",
		Expiry: now().Add(7 * 24 * time.Hour), Scopes: []string{"public", "offline_access"}}
	return map[string]http.RoundTripper{
		"limit":     newStyleTraktLimit(p, tok, base, now),
		"xoauth2":   &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2())), Base: styleTraktUser{base: base}},
		"videoauth": &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: base},
	}
}

// BenchmarkTraktStyle measures one authorized GET of Trakt's style through
// each implementation, serially and in parallel, over benchNoop:
//
//	go test -run '^$' -bench TraktStyle -benchmem -count 8 . > trakt.txt
//	benchstat -col '/impl@(limit xoauth2 videoauth)' trakt.txt
func BenchmarkTraktStyle(b *testing.B) {
	impls := newTraktStyle(b, benchNoop{}, nil)
	req := styleTraktRequest(b)
	benchStyleImpls(b, "style=trakt", impls, req)
}

// styleTraktLimit: Bearer and Trakt's headers in a copied header; the URL
// is shared.
type styleTraktLimit struct {
	p    *videoauth.Trakt
	base http.RoundTripper
	now  func() time.Time
	cur  atomic.Pointer[styleLimitToken[styleTraktValues]]
}

type styleTraktValues struct{ auth, key, version, json, ua []string }

func newStyleTraktLimit(p *videoauth.Trakt, tok *videoauth.Token, base http.RoundTripper, now func() time.Time) *styleTraktLimit {
	l := &styleTraktLimit{p: p, base: base, now: now}
	l.cur.Store(newStyleLimitToken(tok, now(), styleTraktValues{
		auth: []string{"Bearer " + tok.AccessToken}, key: []string{styleTraktClientID}, version: []string{"2"},
		json: []string{"application/json"}, ua: []string{styleTraktUA},
	}))
	return l
}

func (l *styleTraktLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "api.trakt.tv", req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	r := new(http.Request)
	*r = *req
	h := styleCopyHeader(req.Header, 5)
	h["Authorization"] = t.v.auth
	h["Trakt-Api-Key"] = t.v.key
	h["Trakt-Api-Version"] = t.v.version
	if _, ok := req.Header["Content-Type"]; !ok {
		h["Content-Type"] = t.v.json
	}
	if ua := req.Header["User-Agent"]; len(ua) == 0 || ua[0] == "" {
		h["User-Agent"] = t.v.ua
	}
	r.Header = h
	return l.base.RoundTrip(r)
}

// styleTraktUser adds Trakt's headers below oauth2.Transport, as a user
// writes it.
type styleTraktUser struct{ base http.RoundTripper }

func (t styleTraktUser) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Trakt-Api-Key", styleTraktClientID)
	r.Header.Set("Trakt-Api-Version", "2")
	if _, ok := r.Header["Content-Type"]; !ok {
		r.Header.Set("Content-Type", "application/json")
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", styleTraktUA)
	}
	return t.base.RoundTrip(r)
}

// TestTraktStyleAllocBudget holds videoauth's allocations per Trakt request
// to the budget (counts, never timings) and logs the three counts. Under
// the race detector the counts are logged only.
func TestTraktStyleAllocBudget(t *testing.T) {
	impls := newTraktStyle(t, benchNoop{}, nil)
	req := styleTraktRequest(t)
	checkStyleBudget(t, impls, req, float64(styleAllocBudgetTrakt))
}

// TestTraktStyleSameRequest checks that the limit, x/oauth2 with its user's
// RoundTripper and videoauth send the base the identical request for the
// benchmark's request and its variations, and that none modifies the
// caller's request.
func TestTraktStyleSameRequest(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	base := &styleRecorder{}
	impls := newTraktStyle(t, base, clock)
	shapes := map[string]func() *http.Request{
		"benchmark": func() *http.Request { return styleTraktRequest(t) },
		"no query":  func() *http.Request { r := styleTraktRequest(t); r.URL.RawQuery = ""; return r },
		"caller header": func() *http.Request {
			r := styleTraktRequest(t)
			r.Header.Set("X-Request-Id", "42")
			r.Header.Add("X-Multi", "a")
			r.Header.Add("X-Multi", "b")
			return r
		},
		"caller UA": func() *http.Request { r := styleTraktRequest(t); r.Header.Set("User-Agent", "caller/1.0"); return r },
		"caller content type": func() *http.Request {
			r := styleTraktRequest(t)
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			return r
		},
		"caller's api key": func() *http.Request { r := styleTraktRequest(t); r.Header.Set("Trakt-Api-Key", "other"); return r },
	}
	for shape, mk := range shapes {
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
			require.Equal(t, got[0], got[1], "%s, %s: the second request differs from the first", shape, impl)
			sent[impl] = got[0]
		}
		for _, impl := range []string{"limit", "xoauth2"} {
			require.Equal(t, sent["videoauth"], sent[impl], "%s: %s sends another request than videoauth", shape, impl)
		}
		h := sent["videoauth"].Header
		require.Equal(t, "Bearer "+styleTraktToken, h.Get("Authorization"), shape)
		require.Equal(t, []string{styleTraktClientID}, h["Trakt-Api-Key"], shape)
		require.Equal(t, []string{"2"}, h["Trakt-Api-Version"], shape)
		require.NotEmpty(t, h.Get("Content-Type"), shape)
		require.NotEmpty(t, h.Get("User-Agent"), shape)
	}
	require.Empty(t, clock.AfterCalls(), "nothing waited on the clock")
}
