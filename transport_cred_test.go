package videoauth

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// sentBase records the request each RoundTrip receives and answers 200.
type sentBase struct {
	mu   sync.Mutex
	sent []*http.Request
}

func (b *sentBase) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	b.sent = append(b.sent, r)
	b.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

func (b *sentBase) last() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sent[len(b.sent)-1]
}

// credProviders returns the two header providers: Vimeo, whose credential
// is in headers only, and Simkl V2, which also adds query parameters.
func credProviders(t *testing.T) (*Vimeo, *Simkl) {
	t.Helper()
	v, err := NewVimeo(App{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	s, err := NewSimkl(App{ClientID: "id", AppName: "a", AppVersion: "1"}, SimklV2)
	require.NoError(t, err)
	return v, s
}

// The Transport builds a header provider's credential once per token: a new
// token, or a token whose AccessToken was changed in place, must never be
// sent with the previous credential.
func TestTransportCredentialFollowsTheToken(t *testing.T) {
	v, s1 := credProviders(t)
	for _, tc := range []struct {
		p   Provider
		url string
	}{{v, VimeoURL + "/me"}, {s1, SimklAPIURL + "/sync/all-items"}} {
		t.Run(tc.p.Name(), func(t *testing.T) {
			base := &sentBase{}
			src := NewSource(nil, nil)
			tr := &Transport{Provider: tc.p, Source: src, Base: base}
			send := func() string {
				req, err := http.NewRequest(http.MethodGet, tc.url, nil)
				require.NoError(t, err)
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				return base.last().Header.Get("Authorization")
			}
			a := &Token{AccessToken: "tok-A"}
			src.SetToken(a)
			require.Equal(t, "Bearer tok-A", send())
			require.Equal(t, "Bearer tok-A", send(), "the cached credential")
			src.SetToken(&Token{AccessToken: "tok-B"})
			require.Equal(t, "Bearer tok-B", send(), "a new token")
			src.SetToken(a)
			require.Equal(t, "Bearer tok-A", send(), "back to the first token")
			a.AccessToken = "tok-C"
			require.Equal(t, "Bearer tok-C", send(), "the same token changed in place")
			// Two requests never share a header value slice.
			h1, h2 := base.sent[len(base.sent)-2].Header["Authorization"], base.last().Header["Authorization"]
			require.NotSame(t, &h1[0], &h2[0])
		})
	}
}

// Vimeo's clone shares the caller's URL (its credential is in headers only);
// Simkl adds parameters to the query, so its clone has its own URL. Neither
// changes the caller's request.
func TestTransportLeavesTheCallersRequestAlone(t *testing.T) {
	v, s1 := credProviders(t)
	for _, tc := range []struct {
		p         Provider
		url       string
		sharesURL bool
	}{{v, VimeoURL + "/me?fields=uri", true}, {s1, SimklAPIURL + "/sync/all-items?x=1", false}} {
		t.Run(tc.p.Name(), func(t *testing.T) {
			base := &sentBase{}
			tr := &Transport{Provider: tc.p, Source: NewSource(&Token{AccessToken: "tok"}, nil), Base: base}
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			require.NoError(t, err)
			req.Header.Set("X-Caller", "kept")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Same(t, req, resp.Request)
			require.Equal(t, tc.url, req.URL.String())
			require.Equal(t, http.Header{"X-Caller": {"kept"}}, req.Header)
			sent := base.last()
			require.Equal(t, "kept", sent.Header.Get("X-Caller"))
			if tc.sharesURL {
				require.Same(t, req.URL, sent.URL)
			} else {
				require.NotSame(t, req.URL, sent.URL)
				require.Contains(t, sent.URL.RawQuery, "client_id=id")
			}
		})
	}
}

// The Transport's shared-value path (the credential's, and Vimeo's Accept
// and User-Agent slices, built once) sends exactly what the provider's
// Authorize sets on a request of the caller's, for every shape of caller
// header; and an append to a value slice of one sent request reaches
// neither the next request nor the provider.
func TestTransportSharedValuesMatchAuthorize(t *testing.T) {
	v, s1 := credProviders(t)
	vua, err := NewVimeo(App{ClientID: "id", ClientSecret: "secret", UserAgent: "ua/1"})
	require.NoError(t, err)
	tok := &Token{AccessToken: "tok", Expiry: time.Now().Add(time.Hour)}
	headers := []http.Header{
		nil,
		{},
		{"Accept": {"application/json"}},
		{"Accept": {"application/vnd.vimeo.video+json"}},
		{"Accept": {"application/vnd.vimeo.*+json;version=3.2"}},
		{"User-Agent": {"caller/2"}},
		{"User-Agent": {""}},
		{"X-Caller": {"a", "b"}},
	}
	for _, tc := range []struct {
		p   Provider
		url string
	}{{v, VimeoURL + "/me"}, {vua, VimeoURL + "/me"}, {s1, SimklAPIURL + "/sync/all-items?x=1"}} {
		for i, h := range headers {
			base := &sentBase{}
			tr := &Transport{Provider: tc.p, Source: NewSource(tok, nil), Base: base}
			for range 2 { // the second request uses the cached credential
				req, err := http.NewRequest(http.MethodGet, tc.url, nil)
				require.NoError(t, err)
				req.Header = h.Clone()
				want := req.Clone(req.Context())
				if want.Header == nil {
					want.Header = http.Header{}
				}
				require.NoError(t, tc.p.Authorize(want, tok))
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				sent := base.last()
				require.Equal(t, want.Header, sent.Header, "%s, header %d", tc.p.Name(), i)
				require.Equal(t, want.URL.String(), sent.URL.String(), "%s, header %d", tc.p.Name(), i)
				for k := range sent.Header {
					sent.Header[k] = append(sent.Header[k], "appended")
				}
			}
		}
	}
}

// fixedBase answers every request with the same response, allocating
// nothing, so AllocsPerRun counts only the auth layer.
type fixedBase struct{ resp *http.Response }

func (b fixedBase) RoundTrip(*http.Request) (*http.Response, error) { return b.resp, nil }

// The request path allocates less than x/oauth2's Transport for a fresh
// token, and Owns and Verdict allocate nothing for a successful response
// (counts, not timings: deterministic on any machine).
func TestTransportAllocatesLessThanXOAuth2(t *testing.T) {
	v, err := NewVimeo(App{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	tok := &Token{AccessToken: "tok", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	base := fixedBase{&http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}}
	ours := &Transport{Provider: v, Source: v.Source(tok), Base: base}
	theirs := &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2())), Base: base}
	req, err := http.NewRequest(http.MethodGet, VimeoURL+"/me", nil)
	require.NoError(t, err)
	allocs := func(rt http.RoundTripper) float64 {
		return testing.AllocsPerRun(200, func() {
			resp, err := rt.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatal(err)
			}
		})
	}
	a, b := allocs(ours), allocs(theirs)
	t.Logf("allocs/op: videoauth %v, x/oauth2 %v", a, b)
	require.Less(t, a, b)
	require.Zero(t, testing.AllocsPerRun(200, func() {
		if !v.Owns(req.URL) || v.Verdict(base.resp) != VerdictOK {
			t.Fatal("not owned or not OK")
		}
	}))
}
