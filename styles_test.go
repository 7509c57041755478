package videoauth_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Allocation budgets of videoauth's request path, one per style:
// allocations per request of BenchmarkStyle's impl=videoauth (its request,
// over benchNoop, whose own response is 2 of them). Each is the count of
// the request path as it is now: the hand-written limit's count. Lower them as the request path gets cheaper, never raise
// one to make a change pass. TestStyleAllocBudget logs every
// implementation's count.
const (
	styleAllocBudgetVimeo         = 5
	styleAllocBudgetSimklV2       = 7
	styleAllocBudgetSimklV1       = 7
	styleAllocBudgetVikiV3        = 5
	styleAllocBudgetVikiV4Query   = 5
	styleAllocBudgetVikiV4Headers = 8
)

var styleAllocBudgets = map[string]float64{
	"vimeo":          styleAllocBudgetVimeo,
	"simkl-v2":       styleAllocBudgetSimklV2,
	"simkl-v1":       styleAllocBudgetSimklV1,
	"vikiv3":         styleAllocBudgetVikiV3,
	"vikiv4-query":   styleAllocBudgetVikiV4Query,
	"vikiv4-headers": styleAllocBudgetVikiV4Headers,
}

// TestStyleAllocBudget holds videoauth's allocations per request to each
// style's budget (counts, never timings) and logs the three
// implementations' counts. Under the race detector the counts are logged
// only: sync.Pool drops items at random there.
func TestStyleAllocBudget(t *testing.T) {
	for _, style := range styleNames {
		t.Run(style, func(t *testing.T) {
			impls := newStyle(t, style, benchNoop{}, nil)
			checkStyleBudget(t, impls, styleRequest(t, style), styleAllocBudgets[style])
		})
	}
}

// checkStyleBudget counts the allocations of req through each
// implementation (styleAllocs), logs the three counts, and holds
// videoauth's to budget. Under the race detector the counts are logged
// only: sync.Pool drops items at random there. Every style's budget test
// shares it.
func checkStyleBudget(t *testing.T, impls map[string]http.RoundTripper, req *http.Request, budget float64) {
	t.Helper()
	got := styleAllocs(t, impls, req)
	t.Logf("allocs/op: limit %v, xoauth2 %v, videoauth %v (budget %v; 2 of each are benchNoop's response)",
		got["limit"], got["xoauth2"], got["videoauth"], budget)
	if raceEnabled() {
		t.Log("race detector on: budget not checked")
		return
	}
	require.LessOrEqual(t, got["videoauth"], budget, "videoauth allocations per request")
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// styleSent is what a base received: everything of a request that goes on
// the wire.
type styleSent struct {
	Method        string
	URL           string // scheme, host, path and the query byte for byte
	Host          string
	Header        http.Header
	Body          string
	ContentLength int64
}

// styleRecorder is a base that records each request and answers 200.
type styleRecorder struct {
	mu   sync.Mutex
	sent []styleSent
}

func (b *styleRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	s := styleSent{Method: r.Method, URL: r.URL.String(), Host: r.Host, Header: r.Header.Clone(), ContentLength: r.ContentLength}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		s.Body = string(body)
	}
	b.mu.Lock()
	b.sent = append(b.sent, s)
	b.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

func (b *styleRecorder) take(t *testing.T) []styleSent {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sent
	b.sent = nil
	return s
}

// styleShapes are the caller's requests a style is checked with: the
// benchmark's, and variations that take each implementation through its
// other branches.
func styleShapes(t *testing.T, style string) map[string]func() *http.Request {
	t.Helper()
	with := func(f func(r *http.Request)) func() *http.Request {
		return func() *http.Request {
			r := styleRequest(t, style)
			f(r)
			return r
		}
	}
	shapes := map[string]func() *http.Request{
		"benchmark":      func() *http.Request { return styleRequest(t, style) },
		"no query":       with(func(r *http.Request) { r.URL.RawQuery = "" }),
		"two parameters": with(func(r *http.Request) { r.URL.RawQuery = "page=2&per_page=50" }),
		"caller header": with(func(r *http.Request) {
			r.Header.Set("X-Request-Id", "42")
			r.Header.Add("X-Multi", "a")
			r.Header.Add("X-Multi", "b")
		}),
		"caller UA":      with(func(r *http.Request) { r.Header.Set("User-Agent", "caller/1.0") }),
		"one more param": with(func(r *http.Request) { r.URL.RawQuery += "&sort=newest" }),
		"escaped value":  with(func(r *http.Request) { r.URL.RawQuery += "&q=a%20b%26c" }),
	}
	// The style's own parameters, already in the caller's query.
	switch style {
	case "vimeo":
		shapes["caller's Accept"] = with(func(r *http.Request) { r.Header.Set("Accept", "application/json") })
	case "simkl-v2", "simkl-v1":
		shapes["caller's client_id"] = with(func(r *http.Request) { r.URL.RawQuery += "&client_id=" + styleSimklClientID })
	case "vikiv3":
		shapes["caller's access_token"] = with(func(r *http.Request) { r.URL.RawQuery += "&access_token=old" })
	case "vikiv4-query", "vikiv4-headers":
		shapes["stale t and sig"] = with(func(r *http.Request) { r.URL.RawQuery += "&t=1&sig=00" })
		shapes["caller's app"] = with(func(r *http.Request) { r.URL.RawQuery = "app=" + styleVikiAppID + "&" + r.URL.RawQuery })
	}
	return shapes
}

// TestStyleSameRequest checks that, for every style, the limit, x/oauth2
// with its user's RoundTripper and videoauth send the base the identical
// request (method, URL with its query in order, every header, body) for
// the benchmark's request and its variations, so that no implementation is
// measured doing less than another; and that none modifies the caller's
// request. All three read one clock that stands still, so Viki's
// signatures compare.
func TestStyleSameRequest(t *testing.T) {
	// A manual clock stands still (nothing advances it), so that Viki's
	// timestamps, and so its signatures, are the same whichever
	// implementation reads it.
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	t.Cleanup(func() { require.Empty(t, clock.AfterCalls(), "nothing waited on the clock") })
	for _, style := range styleNames {
		t.Run(style, func(t *testing.T) {
			base := &styleRecorder{}
			impls := newStyle(t, style, base, clock)
			for shape, mk := range styleShapes(t, style) {
				sent := map[string]styleSent{}
				for _, impl := range styleImplNames {
					req := mk()
					wantURL, wantHeader := req.URL.String(), req.Header.Clone()
					for range 2 { // the second time from what was built the first
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
				styleCheckCredential(t, style, shape, sent["videoauth"])
				if shape == "benchmark" {
					t.Logf("sent: %s %s %v", sent["videoauth"].Method, sent["videoauth"].URL, sent["videoauth"].Header)
				}
			}
		})
	}
}

// styleCheckCredential checks that sent carries style's credential, so the
// comparison above is not between requests that all lack it; Viki's
// signature is re-derived here.
func styleCheckCredential(t *testing.T, style, shape string, sent styleSent) {
	t.Helper()
	u, err := url.Parse(sent.URL)
	require.NoError(t, err)
	q := u.Query()
	switch style {
	case "vimeo":
		require.Equal(t, "Bearer "+styleVimeoToken, sent.Header.Get("Authorization"), shape)
		require.Equal(t, "application/vnd.vimeo.*+json;version=3.4", sent.Header.Get("Accept"), shape)
	case "simkl-v2", "simkl-v1":
		tok := styleSimklV2Token
		if style == "simkl-v1" {
			tok = styleSimklV1Token
		}
		require.Equal(t, "Bearer "+tok, sent.Header.Get("Authorization"), shape)
		require.Equal(t, styleSimklClientID, sent.Header.Get("Simkl-Api-Key"), shape)
		require.NotEmpty(t, sent.Header.Get("User-Agent"), shape)
		require.Equal(t, styleSimklClientID, q.Get("client_id"), shape)
		require.Equal(t, styleSimklAppName, q.Get("app-name"), shape)
		require.Equal(t, styleSimklVersion, q.Get("app-version"), shape)
	case "vikiv3":
		require.Equal(t, []string{styleVikiV3Token}, q["access_token"], shape)
		require.Empty(t, sent.Header.Get("Authorization"), shape)
	case "vikiv4-query", "vikiv4-headers":
		require.Equal(t, []string{styleVikiSession}, q["token"], shape)
		require.Equal(t, []string{styleVikiAppID}, q["app"], shape)
		require.Empty(t, sent.Header.Get("Authorization"), shape)
		signed, sig := "", ""
		if style == "vikiv4-query" {
			i := strings.LastIndex(sent.URL, "&sig=")
			require.Positive(t, i, shape)
			signed, sig = u.EscapedPath()+"?"+strings.TrimPrefix(sent.URL[:i], u.Scheme+"://"+u.Host+u.EscapedPath()+"?"), sent.URL[i+len("&sig="):]
		} else {
			require.NotContains(t, q, "t", shape)
			require.NotContains(t, q, "sig", shape)
			signed, sig = u.EscapedPath()+"?"+u.RawQuery+"&t="+sent.Header.Get("Timestamp"), sent.Header.Get("Signature")
		}
		require.Equal(t, styleSign(signed), sig, shape)
	}
}

// styleSign is Viki's signature, derived independently of every
// implementation: hex HMAC-SHA1 keyed by the app secret.
func styleSign(s string) string {
	m := hmac.New(sha1.New, []byte(styleVikiSecret))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// perUserAllocBudget is what a service pays in allocations to hold one more
// Simkl V2 user: the user's Source and Transport (the token is the
// caller's), and the credential built on the user's first request, over
// benchNoop (whose own response is 2 of them). internal/bench's scale run
// measures the bytes they retain. Lower it as the holding gets smaller,
// never raise it to make a change pass.
const perUserAllocBudget = 12

// TestPerUserAllocBudget holds the allocations of a new user's Source,
// Transport and first request to perUserAllocBudget.
func TestPerUserAllocBudget(t *testing.T) {
	p, err := videoauth.NewSimkl(videoauth.App{ClientID: "id", ClientSecret: "secret", AppName: "bench", AppVersion: "1"}, videoauth.SimklV2)
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_0123456789abcdef", RefreshToken: "simkl_rt_0123456789abcdef",
		TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour), Scopes: []string{"public"}}
	req, err := http.NewRequest(http.MethodGet, videoauth.SimklAPIURL+"/sync/activities", nil)
	require.NoError(t, err)
	got := testing.AllocsPerRun(200, func() {
		tr := &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: benchNoop{}}
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	t.Logf("allocs per new user and its first request: %v (budget %v)", got, perUserAllocBudget)
	if raceEnabled() {
		t.Log("race detector on: budget not checked")
		return
	}
	require.LessOrEqual(t, got, float64(perUserAllocBudget))
}

// styleAllocs counts the allocations of one authorized GET (req) through
// each implementation of a style (testing.AllocsPerRun; counts, never
// timings). Every style's budget test shares it.
func styleAllocs(t *testing.T, impls map[string]http.RoundTripper, req *http.Request) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, impl := range styleImplNames {
		rt := impls[impl]
		got[impl] = testing.AllocsPerRun(500, func() {
			resp, err := rt.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatal(err)
			}
			resp.Body.Close()
		})
	}
	return got
}
