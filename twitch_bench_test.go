package videoauth_test

// Twitch's request style — Authorization: Bearer and a Client-Id header on
// every Helix call — implemented three ways over the same base, as
// styles_bench_test.go does for the other services (its comment says what
// each implementation is and may do):
//
//   - impl=limit: a hand-written minimal RoundTripper: it copies the
//     request struct and the header (with room for the two values) and
//     shares the caller's values, its per-token Authorization value and its
//     one Client-Id value; it checks the host and the token's expiry, and
//     nothing of the answer.
//   - impl=xoauth2: oauth2.Transport over oauth2.ReuseTokenSource, with
//     below it the RoundTripper an x/oauth2 user writes to add Client-Id
//     (req.Clone, Header.Set).
//   - impl=videoauth: videoauth.Transport over the provider's Source.
//
// Two styles: a user token (four hours, refreshable) and an app token
// (client credentials, 58 days).

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

var twitchStyleNames = []string{"twitch-user", "twitch-app"}

// Credentials of Twitch's shapes and lengths: 30-character client ids and
// access tokens, 50-character refresh tokens.
const (
	styleTwitchClientID = "wbmytr93xzw8zbg0p1izqyzzc5mbiz"
	styleTwitchToken    = "rfx2uswqe8l4g1mkagrvg5tv0ks3ab"
	styleTwitchRefresh  = "5b93chm6hdve3mycz05zfzatkfdenfspp1h1ar2xxdalen01ab"
)

// Allocation budget of videoauth's Twitch request path: allocations per
// request of BenchmarkTwitchStyle's impl=videoauth over benchNoop (2 of them
// benchNoop's response), the count as it is now, which is the hand-written
// limit's. Lower it as the path gets cheaper, never raise it to make a
// change pass.
const styleAllocBudgetTwitch = 5

func twitchStyleRequest(tb testing.TB) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, videoauth.TwitchAPIURL+"/helix/users?login=twitchdev", nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// newTwitchStyle returns style's three implementations over base.
func newTwitchStyle(tb testing.TB, style string, base http.RoundTripper, clock videoauth.Clock) map[string]http.RoundTripper {
	tb.Helper()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	p, err := videoauth.NewTwitch(videoauth.App{ClientID: styleTwitchClientID, ClientSecret: "secret", Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	tok := &videoauth.Token{Provider: "twitch", AccessToken: styleTwitchToken, TokenType: "Bearer", RefreshToken: styleTwitchRefresh,
		Expiry: now().Add(14124 * time.Second), Scopes: []string{"user:read:email", "chat:read"},
		Meta: map[string]string{"twitch_client": styleTwitchClientID, "twitch_token": "user"}}
	src := p.Source(tok)
	if style == "twitch-app" {
		tok = &videoauth.Token{Provider: "twitch", AccessToken: styleTwitchToken, TokenType: "Bearer",
			Expiry: now().Add(5011271 * time.Second), Meta: map[string]string{"twitch_client": styleTwitchClientID, "twitch_token": "app"}}
		src = p.ClientCredentials()
		src.SetToken(tok)
	}
	return map[string]http.RoundTripper{
		"limit": newStyleTwitchLimit(p, tok, base, now),
		"xoauth2": &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2())),
			Base: styleTwitchUser{clientID: styleTwitchClientID, base: base}},
		"videoauth": &videoauth.Transport{Provider: p, Source: src, Base: base},
	}
}

// BenchmarkTwitchStyle measures one authorized Helix GET through each
// implementation, serially and with b.RunParallel, over benchNoop:
//
//	go test -run '^$' -bench TwitchStyle -benchmem -count 8 . > twitch.txt
//	benchstat -col '/impl@(limit xoauth2 videoauth)' twitch.txt
func BenchmarkTwitchStyle(b *testing.B) {
	for _, style := range twitchStyleNames {
		impls := newTwitchStyle(b, style, benchNoop{}, nil)
		req := twitchStyleRequest(b)
		benchStyleImpls(b, "style="+style, impls, req)
	}
}

// styleTwitchLimit: Bearer and Client-Id in a copied header; the URL is
// shared.
type styleTwitchLimit struct {
	p    *videoauth.Twitch
	base http.RoundTripper
	now  func() time.Time
	id   []string // the Client-Id value, shared by every request
	cur  atomic.Pointer[styleLimitToken[[]string]]
}

func newStyleTwitchLimit(p *videoauth.Twitch, tok *videoauth.Token, base http.RoundTripper, now func() time.Time) *styleTwitchLimit {
	l := &styleTwitchLimit{p: p, base: base, now: now, id: []string{styleTwitchClientID}}
	l.cur.Store(newStyleLimitToken(tok, now(), []string{"Bearer " + tok.AccessToken}))
	return l
}

func (l *styleTwitchLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "api.twitch.tv", req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	r := new(http.Request)
	*r = *req
	h := styleCopyHeader(req.Header, 2)
	h["Authorization"] = t.v
	h["Client-Id"] = l.id
	r.Header = h
	return l.base.RoundTrip(r)
}

// styleTwitchUser adds Client-Id below oauth2.Transport.
type styleTwitchUser struct {
	clientID string
	base     http.RoundTripper
}

func (t styleTwitchUser) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Client-Id", t.clientID)
	return t.base.RoundTrip(r)
}

// TestTwitchStyleAllocBudget holds videoauth's Twitch request path to its
// budget and logs the three implementations' counts (counts only: the race
// detector's are not checked).
func TestTwitchStyleAllocBudget(t *testing.T) {
	for _, style := range twitchStyleNames {
		t.Run(style, func(t *testing.T) {
			impls := newTwitchStyle(t, style, benchNoop{}, nil)
			req := twitchStyleRequest(t)
			checkStyleBudget(t, impls, req, float64(styleAllocBudgetTwitch))
		})
	}
}

// TestTwitchStyleSameRequest checks that the limit, x/oauth2 with its
// user's RoundTripper and videoauth send the base the identical Twitch
// request — method, URL with its query in order, every header, body — for
// the benchmark's request and its variations, that it carries the
// credential, and that none modifies the caller's request.
func TestTwitchStyleSameRequest(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	with := func(f func(r *http.Request)) func() *http.Request {
		return func() *http.Request {
			r := twitchStyleRequest(t)
			f(r)
			return r
		}
	}
	shapes := map[string]func() *http.Request{
		"benchmark":      func() *http.Request { return twitchStyleRequest(t) },
		"no query":       with(func(r *http.Request) { r.URL.RawQuery = "" }),
		"two parameters": with(func(r *http.Request) { r.URL.RawQuery = "id=141981764&id=12826" }),
		"caller header": with(func(r *http.Request) {
			r.Header.Set("X-Request-Id", "42")
			r.Header.Add("X-Multi", "a")
			r.Header.Add("X-Multi", "b")
		}),
		"caller UA":          with(func(r *http.Request) { r.Header.Set("User-Agent", "caller/1.0") }),
		"escaped value":      with(func(r *http.Request) { r.URL.RawQuery += "&after=a%20b%26c" }),
		"caller's Client-Id": with(func(r *http.Request) { r.Header.Set("Client-Id", "another") }),
		"caller's Accept":    with(func(r *http.Request) { r.Header.Set("Accept", "application/json") }),
	}
	for _, style := range twitchStyleNames {
		t.Run(style, func(t *testing.T) {
			base := &styleRecorder{}
			impls := newTwitchStyle(t, style, base, clock)
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
				require.Equal(t, "Bearer "+styleTwitchToken, sent["videoauth"].Header.Get("Authorization"), shape)
				require.Equal(t, []string{styleTwitchClientID}, sent["videoauth"].Header["Client-Id"], shape)
			}
		})
	}
	require.Empty(t, clock.AfterCalls(), "nothing waited on the clock")
}
