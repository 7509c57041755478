package videoauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// testProvider owns one host; 401 means Expired, 498 means Revoked.
type testProvider struct{ host string }

func (p testProvider) Name() string           { return "test" }
func (p testProvider) Config() *oauth2.Config { return &oauth2.Config{} }
func (p testProvider) Owns(u *url.URL) bool   { return u.Host == p.host }
func (p testProvider) Authorize(r *http.Request, t *Token) error {
	r.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}
func (p testProvider) Verdict(resp *http.Response) Verdict {
	switch resp.StatusCode {
	case 401:
		return VerdictExpired
	case 498:
		return VerdictRevoked
	}
	return VerdictOK
}

// apiServer accepts only the tokens in valid and records what it saw.
type apiServer struct {
	*httptest.Server
	mu     sync.Mutex
	valid  map[string]bool
	seen   []string // Authorization headers
	bodies [][]byte
	status int // forced status when non-zero
}

func newAPIServer(t *testing.T) *apiServer {
	a := &apiServer{valid: map[string]bool{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		auth := r.Header.Get("Authorization")
		a.seen = append(a.seen, auth)
		a.bodies = append(a.bodies, b)
		ok := a.valid[strings.TrimPrefix(auth, "Bearer ")]
		status := a.status
		a.mu.Unlock()
		switch {
		case status != 0:
			w.WriteHeader(status)
		case !ok:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, strings.Repeat("x", 1<<20)) // a big body the transport must not read whole
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *apiServer) allow(tok string) {
	a.mu.Lock()
	a.valid = map[string]bool{tok: true}
	a.mu.Unlock()
}

func (a *apiServer) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

func hostOf(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

// countingBody counts Close calls.
type countingBody struct {
	io.Reader
	closes *atomic.Int64
}

func (c countingBody) Close() error { c.closes.Add(1); return nil }

// replayableRequest builds a POST whose every body (first and GetBody's)
// counts its closes.
func replayableRequest(t *testing.T, u string, payload []byte, closes *atomic.Int64) *http.Request {
	req, err := http.NewRequest(http.MethodPost, u, countingBody{bytes.NewReader(payload), closes})
	require.NoError(t, err)
	req.GetBody = func() (io.ReadCloser, error) { return countingBody{bytes.NewReader(payload), closes}, nil }
	req.ContentLength = int64(len(payload))
	return req
}

func TestTransportReplaysOnceWithNewTokenAndIdenticalBody(t *testing.T) {
	api := newAPIServer(t)
	m := &counterMint{}
	src := &Source{Mint: m.mint}
	src.SetToken(&Token{AccessToken: "stale"})
	api.allow("tok-1")
	client := &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}}

	payload := []byte("name=demo&bytes=\x00\x01\xff")
	var closes atomic.Int64
	req := replayableRequest(t, api.URL+"/me", payload, &closes)
	req.Header.Set("X-Caller", "kept")
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "ok", string(body))
	require.Equal(t, []string{"Bearer stale", "Bearer tok-1"}, api.seen)
	require.Equal(t, payload, api.bodies[0])
	require.Equal(t, payload, api.bodies[1], "replayed body is byte-identical")
	require.EqualValues(t, 1, m.n.Load())
	// net/http may close a request body in its write goroutine after
	// RoundTrip returns (the RoundTripper contract allows it): wait for it.
	require.Eventually(t, func() bool { return closes.Load() >= 2 }, 5*time.Second, time.Millisecond)
	require.EqualValues(t, 2, closes.Load(), "each body closed exactly once")
	require.Empty(t, req.Header.Get("Authorization"), "caller's request not mutated")
	require.Equal(t, "kept", req.Header.Get("X-Caller"))
}

func TestTransportSecondRejectionReturnedAsIs(t *testing.T) {
	api := newAPIServer(t) // accepts nothing
	m := &counterMint{}
	src := &Source{Mint: m.mint}
	client := &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}}
	resp, err := client.Get(api.URL + "/x")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, 2, api.requests(), "one replay, no loop")
	require.EqualValues(t, 2, m.n.Load(), "first token, then one re-mint")
}

func TestTransportNonReplayableBodyNotRetried(t *testing.T) {
	api := newAPIServer(t)
	m := &counterMint{}
	src := &Source{Mint: m.mint}
	src.SetToken(&Token{AccessToken: "stale"})
	api.allow("tok-1")
	var closes atomic.Int64
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/up", countingBody{strings.NewReader("stream"), &closes})
	require.Nil(t, req.GetBody)
	resp, err := (&Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, 1, api.requests())
	require.Eventually(t, func() bool { return closes.Load() >= 1 }, 5*time.Second, time.Millisecond, "net/http may close it after RoundTrip returns")
	require.EqualValues(t, 1, closes.Load())
	// The stale token was dropped: the next request gets a fresh one.
	tok, _ := src.Token(context.Background())
	require.Equal(t, "tok-1", tok.AccessToken)
}

func TestTransportNeverRetries403Or5xx(t *testing.T) {
	for _, status := range []int{403, 500, 502, 503, 429} {
		api := newAPIServer(t)
		api.status = status
		m := &counterMint{}
		src := &Source{Mint: m.mint}
		client := &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}}
		resp, err := client.Get(api.URL)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, status, resp.StatusCode)
		require.Equal(t, 1, api.requests(), "status %d", status)
		require.EqualValues(t, 1, m.n.Load())
	}
}

func TestTransportRevokedStopsTheSource(t *testing.T) {
	api := newAPIServer(t)
	api.status = 498
	m := &counterMint{}
	src := &Source{Mint: m.mint}
	client := &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}}
	resp, err := client.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 498, resp.StatusCode)
	_, err = client.Get(api.URL)
	require.ErrorIs(t, err, ErrReauthRequired)
	require.Equal(t, 1, api.requests(), "no network once revoked")
}

func TestTransportExpiredWithoutMintIsRevoked(t *testing.T) {
	api := newAPIServer(t)
	src := NewSource(&Token{AccessToken: "user-token"}, nil)
	client := &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}}
	resp, err := client.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)
	_, err = src.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
}

func TestTransportForeignHostGetsNoToken(t *testing.T) {
	foreign := newAPIServer(t)
	api := newAPIServer(t)
	api.allow("tok-1")
	src := &Source{Mint: (&counterMint{}).mint}
	client := &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, api.URL)}, Source: src}}

	// A request the caller built for another host.
	resp, err := client.Get(foreign.URL + "/steal")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, []string{""}, foreign.seen)

	// A redirect from the API to another host.
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, foreign.URL+"/landed", http.StatusFound)
	}))
	defer redirector.Close()
	client = &http.Client{Transport: &Transport{Provider: testProvider{hostOf(t, redirector.URL)}, Source: src}}
	resp, err = client.Get(redirector.URL + "/start")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, []string{"", ""}, foreign.seen, "redirected request arrives without Authorization")
}

// recordingBase answers from a script and counts body reads and closes.
type recordingBase struct {
	status  int
	closed  atomic.Int64
	readLen atomic.Int64
	calls   atomic.Int64
	err     error
}

type trackedBody struct {
	r    io.Reader
	base *recordingBase
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.base.readLen.Add(int64(n))
	return n, err
}
func (b *trackedBody) Close() error { b.base.closed.Add(1); return nil }

func (rb *recordingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	rb.calls.Add(1)
	if req.Body != nil {
		req.Body.Close()
	}
	if rb.err != nil {
		return nil, rb.err
	}
	return &http.Response{StatusCode: rb.status, Header: http.Header{}, Request: req,
		Body: &trackedBody{r: strings.NewReader(strings.Repeat("y", 1<<20)), base: rb}}, nil
}

func TestTransportDrainsBoundedAndClosesFirstResponse(t *testing.T) {
	base := &recordingBase{status: 401}
	src := &Source{Mint: (&counterMint{}).mint}
	tr := &Transport{Provider: testProvider{"api.test"}, Source: src, Base: base}
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	require.EqualValues(t, 2, base.calls.Load())
	require.EqualValues(t, 1, base.closed.Load(), "first response closed before the replay returns")
	require.LessOrEqual(t, base.readLen.Load(), int64(maxDrain), "drain is bounded")
	resp.Body.Close()
}

func TestTransportClosesBodyWhenNoToken(t *testing.T) {
	src := NewSource(nil, nil)
	tr := &Transport{Provider: testProvider{"api.test"}, Source: src, Base: &recordingBase{status: 200}}
	var closes atomic.Int64
	req, _ := http.NewRequest(http.MethodPost, "https://api.test/x", countingBody{strings.NewReader("b"), &closes})
	_, err := tr.RoundTrip(req)
	require.ErrorIs(t, err, ErrReauthRequired)
	require.EqualValues(t, 1, closes.Load())
}

func TestTransportRedactsURLsInErrors(t *testing.T) {
	secret := "SENTINEL-access-token-9f8e7d"
	base := &recordingBase{err: &url.Error{Op: "Get", URL: "https://api.test/x?access_token=" + secret + "&sig=" + secret, Err: errors.New("connection reset")}}
	src := NewSource(&Token{AccessToken: secret}, nil)
	tr := &Transport{Provider: testProvider{"api.test"}, Source: src, Base: base}
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
	_, err := tr.RoundTrip(req)
	require.Error(t, err)
	require.NotContains(t, err.Error(), secret)
	require.Contains(t, err.Error(), "connection reset")
}

func TestTransportNeedsProviderAndSource(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
	_, err := (&Transport{}).RoundTrip(req)
	require.Error(t, err)
}

// leakyBase is a caller's retrying, logging base transport that puts the
// request's URL and Authorization header in its error.
type leakyBase struct{ cause error }

func (b leakyBase) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("retry: giving up on %s %s (Authorization: %s): %w", r.Method, r.URL, r.Header.Get("Authorization"), b.cause)
}

// Every error out of the Transport is free of the credential, whatever the
// base transport puts in it: Viki v3's access_token and v5's session token
// and signature ride in the query, Bearer tokens in a header.
func TestTransportBaseErrorsCarryNoCredential(t *testing.T) {
	const access = "PLANT-access-token-4f2a"
	tok := func(p string) *Token {
		return &Token{Provider: p, AccessToken: access, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour),
			Meta: map[string]string{"simkl_auth": "v2"}}
	}
	ps := testProviders(t, App{ClientID: "cid", ClientSecret: "secret", APIURL: "http://127.0.0.1:1", AppName: "t", AppVersion: "1"})
	vimeo, simkl, viki, vikiAPI := ps[0].(*Vimeo), ps[1].(*Simkl), ps[2].(*Viki), ps[3].(*VikiAPI)
	for _, tc := range []struct {
		p   Provider
		src *Source
		u   string
	}{
		{vimeo, vimeo.Source(tok("vimeo")), "http://127.0.0.1:1/me"},
		{simkl, simkl.Source(tok("simkl")), "http://127.0.0.1:1/sync/activities"},
		{viki, viki.Source(tok("viki")), "http://127.0.0.1:1/v3/movies.json?page=1"},
		{vikiAPI, vikiAPI.Source(tok("viki")), "http://127.0.0.1:1/v5/users/1u.json"},
	} {
		t.Run(tc.p.Name()+"/"+fmt.Sprintf("%T", tc.p), func(t *testing.T) {
			c := &http.Client{Transport: &Transport{Provider: tc.p, Source: tc.src, Base: leakyBase{cause: context.DeadlineExceeded}}}
			_, err := c.Get(tc.u)
			require.Error(t, err)
			for _, s := range []string{access, "token=" + access} {
				require.NotContains(t, err.Error(), s)
				require.NotContains(t, fmt.Sprintf("%+v %#v", err, err), access)
			}
			if strings.Contains(tc.u, "127.0.0.1:1/v") {
				require.NotRegexp(t, `sig=[0-9a-f]{8}`, err.Error(), "the signature is redacted too")
			}
			require.ErrorIs(t, err, context.DeadlineExceeded, "what the base's error matched still matches")
		})
	}
}

// nilBase answers (nil, nil), or a response without a body.
type nilBase struct{ withResponse bool }

func (b nilBase) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.withResponse {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r}, nil
	}
	return nil, nil
}

// A base that breaks the RoundTripper contract gets a typed error, not a
// nil dereference; a response without a body gets an empty one.
func TestTransportBadBaseAndNilInputs(t *testing.T) {
	p := testProvider{host: "api.test"}
	src := NewSource(&Token{AccessToken: "a"}, nil)
	req, _ := http.NewRequest(http.MethodGet, "https://api.test/x", nil)
	_, err := (&Transport{Provider: p, Source: src, Base: nilBase{}}).RoundTrip(req)
	require.ErrorIs(t, err, ErrBadResponse)
	resp, err := (&Transport{Provider: p, Source: src, Base: nilBase{withResponse: true}}).RoundTrip(req)
	require.NoError(t, err)
	require.NotNil(t, resp.Body)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Empty(t, b)
	require.NoError(t, CheckResponse(p, resp))

	var ar *AuthRequest
	_, err = ar.Callback(url.Values{"state": {"s"}, "code": {"c"}})
	require.ErrorIs(t, err, ErrStateMismatch)
	require.False(t, ar.Used())
	v, err := NewVimeo(App{ClientID: "cid", ClientSecret: "s", APIURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	_, err = v.Exchange(context.Background(), nil, url.Values{"state": {"s"}, "code": {"c"}})
	require.ErrorIs(t, err, ErrStateMismatch)
}

// A redirect from a foreign host into the API host does not carry the
// credential (RFC 9700 §4.11): only a chain that started, and stayed, on
// the provider's hosts does.
func TestTransportRedirectIntoTheAPIHostGetsNoToken(t *testing.T) {
	api := newAPIServer(t)
	api.allow("tok")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, api.URL+"/danger", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(evil.Close)
	p := testProvider{host: hostOf(t, api.URL)}
	c := &http.Client{Transport: &Transport{Provider: p, Source: NewSource(&Token{AccessToken: "tok"}, nil), Base: http.DefaultTransport}}
	req, _ := http.NewRequest(http.MethodDelete, evil.URL+"/x", nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, []string{""}, api.seenAuth(), "the redirected DELETE arrived without the token")

	// A redirect within the API host keeps it.
	same := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/from" {
			http.Redirect(w, r, "/to", http.StatusFound)
			return
		}
		w.Write([]byte(r.Header.Get("Authorization")))
	}))
	t.Cleanup(same.Close)
	c2 := &http.Client{Transport: &Transport{Provider: testProvider{host: hostOf(t, same.URL)}, Source: NewSource(&Token{AccessToken: "tok"}, nil), Base: http.DefaultTransport}}
	resp, err = c2.Get(same.URL + "/from")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "Bearer tok", string(b))
}

func (a *apiServer) seenAuth() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// testProviders returns one provider of each kind on app: Vimeo, Simkl V2,
// Viki (v3) and VikiAPI (query signing).
func testProviders(t *testing.T, app App) []Provider {
	t.Helper()
	vimeo, err := NewVimeo(app)
	require.NoError(t, err)
	simkl, err := NewSimkl(app, SimklV2)
	require.NoError(t, err)
	viki, err := NewViki(app)
	require.NoError(t, err)
	vikiAPI, err := NewVikiAPI(app, VikiSignQuery)
	require.NoError(t, err)
	return []Provider{vimeo, simkl, viki, vikiAPI}
}
