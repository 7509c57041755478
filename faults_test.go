package videoauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Fault tests: the renewable Source of every provider (Vimeo client
// credentials, Simkl V2 refresh, Viki v3 client credentials, Viki v5
// sessions) against its fake, with the token endpoint failing, refusing
// connections or hanging, callers giving up, and the API failing.
//
// Each provider runs in a rig: the fake, a reverse proxy that only the token
// requests reach (faultNet, the App's transport, re-routes them there) and,
// where a test injects API failures, a reverse proxy in front of the API
// (App.APIURL then points at it; it answers 5xx after forwarding, so the
// fake still counts the call). The token proxy can hold requests until
// released, and can be closed and later re-opened on the same address, so a
// mint really meets ECONNREFUSED at the dial while the API stays up.
// Time-based behaviour (expiry, RetryInterval) runs on a manual
// videoauthtest.Clock shared by the fake and the provider; only
// MintTimeout, which bounds a real network request, is wall-clock.

const (
	faultCallers = 200 // goroutines per storm
	// faultGuard only fails a test that would otherwise hang; it measures
	// nothing.
	faultGuard = 10 * time.Second
	// faultMintTimeout is Source.MintTimeout where the test waits for it to
	// end a hanging mint; the mints that must succeed under it take
	// milliseconds.
	faultMintTimeout = time.Second
)

// faultIsToken reports whether an API-host path is a token endpoint: every
// OAuth path of Vimeo, Simkl and Viki v3, and Viki's v5 login.
func faultIsToken(path string) bool {
	return strings.HasPrefix(path, "/oauth") || path == "/v5/sessions.json"
}

// faultProxy is a reverse proxy in front of a fake, on a loopback address
// it keeps across close and re-open.
type faultProxy struct {
	target string          // the fake's base URL
	up     *http.Transport // to the fake
	addr   string          // host:port, the same after reopen

	mu         sync.Mutex
	srv        *httptest.Server // nil while closed
	gate       chan struct{}    // non-nil: requests wait until it is closed
	failN      int              // answer the next failN requests with failStatus
	failStatus int

	seen atomic.Int64 // requests that reached the proxy
	held atomic.Int64 // requests waiting at the gate now
}

// faultNewProxy starts a proxy to target on host (an IP; port chosen by the
// system), falling back to 127.0.0.1 when host cannot be bound.
func faultNewProxy(t *testing.T, target, host string) *faultProxy {
	t.Helper()
	p := &faultProxy{target: target, up: &http.Transport{MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32}}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serveOn(ln)
	return p
}

func (p *faultProxy) serveOn(ln net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
}

func (p *faultProxy) url() string { return "http://" + p.addr }

// close stops listening: a dial to the address is then refused.
func (p *faultProxy) close() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// reopen listens again on the same address.
func (p *faultProxy) reopen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err, "re-open the proxy on %s", p.addr)
	p.serveOn(ln)
}

// block makes requests wait (a hanging endpoint) until release.
func (p *faultProxy) block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate == nil {
		p.gate = make(chan struct{})
	}
}

func (p *faultProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

// failNext makes the next n requests reach the fake and then answer status
// instead of the fake's answer.
func (p *faultProxy) failNext(n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failN, p.failStatus = n, status
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.seen.Add(1)
	p.mu.Lock()
	gate, inject := p.gate, 0
	if p.failN > 0 {
		p.failN--
		inject = p.failStatus
	}
	p.mu.Unlock()
	// Read the body first: only then does the server watch the connection
	// and cancel r.Context() when the client goes away.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if gate != nil {
		p.held.Add(1)
		select {
		case <-gate:
			p.held.Add(-1)
		case <-r.Context().Done(): // the client gave up (MintTimeout)
			p.held.Add(-1)
			return
		}
	}
	// RequestURI is the raw target: Viki's signature covers it byte for byte.
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := p.up.RoundTrip(out)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if inject != 0 {
		io.Copy(io.Discard, resp.Body)
		if inject == http.StatusBadGateway {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(inject)
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(inject)
		io.WriteString(w, `{"error":"server_error","error_description":"injected by the fault proxy"}`)
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// faultNet is the App's HTTP transport: API requests go where their URL
// says (the fake, or the API proxy), token requests to the token proxy's
// address. It counts what the library sent, and the dials to the token
// address.
type faultNet struct {
	tr        *http.Transport
	tokenAddr string

	tokenTrips atomic.Int64 // token requests the library sent: mint attempts
	apiTrips   atomic.Int64
	tokenDials atomic.Int64
	refused    atomic.Int64 // token dials that failed with ECONNREFUSED
}

func faultNewNet(tokenAddr string) *faultNet {
	n := &faultNet{tokenAddr: tokenAddr}
	var d net.Dialer
	n.tr = &http.Transport{
		MaxConnsPerHost:     32,
		MaxIdleConnsPerHost: 32,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if addr == n.tokenAddr {
				n.tokenDials.Add(1)
				if errors.Is(err, syscall.ECONNREFUSED) {
					n.refused.Add(1)
				}
			}
			return c, err
		},
	}
	return n
}

func (n *faultNet) RoundTrip(r *http.Request) (*http.Response, error) {
	if !faultIsToken(r.URL.Path) {
		n.apiTrips.Add(1)
		return n.tr.RoundTrip(r)
	}
	n.tokenTrips.Add(1)
	r2 := r.Clone(r.Context())
	r2.URL.Host = n.tokenAddr
	resp, err := n.tr.RoundTrip(r2)
	if resp != nil {
		resp.Request = r
	}
	return resp, err
}

// faultRig is one provider wired to its fake through the proxies.
type faultRig struct {
	t     *testing.T
	clock *videoauthtest.Clock
	base  string      // App.APIURL: the fake's API host, or api
	api   *faultProxy // in front of the API host; nil unless asked for
	tok   *faultProxy // token requests only
	net   *faultNet
	hc    *http.Client // App.HTTPClient

	p         videoauth.Provider
	newSource func() *videoauth.Source // a Source that must mint before its first use
	apiURL    string                   // GET answered 200 with a good token
	// stale makes the current token unusable: expired by the clock, or
	// rejected by the service (the Transport then sees VerdictExpired).
	stale          func()
	failTokens     func(n int, mode videoauthtest.FailMode)
	fakeTokenCalls func() int // token-endpoint requests the fake saw
	fakeAPICalls   func() int // API requests the fake saw
	// forbidden builds a request the fake answers 403 to with a good
	// token; nil for Viki v3, where 403 means an expired token.
	forbidden func() *http.Request

	src    *videoauth.Source
	client *http.Client // videoauth.NewClient(p, src)
}

func faultNewRig(t *testing.T, fakeAPI string, apiProxy bool) *faultRig {
	t.Helper()
	r := &faultRig{t: t, clock: videoauthtest.NewClock(time.Now()), base: fakeAPI}
	// The token proxy listens on 127.0.0.2 where it can: no client socket
	// of this process takes a port there, so re-opening it on the same
	// port cannot collide with one.
	r.tok = faultNewProxy(t, fakeAPI, "127.0.0.2")
	if apiProxy {
		r.api = faultNewProxy(t, fakeAPI, "127.0.0.1")
		r.base = r.api.url()
	}
	r.net = faultNewNet(r.tok.addr)
	r.hc = &http.Client{Transport: r.net}
	t.Cleanup(func() {
		for _, p := range []*faultProxy{r.tok, r.api} {
			if p != nil {
				p.release()
				p.close()
			}
		}
		r.net.tr.CloseIdleConnections()
		for _, p := range []*faultProxy{r.tok, r.api} {
			if p != nil {
				p.up.CloseIdleConnections()
			}
		}
	})
	return r
}

// use gives the rig a fresh Source (mintTimeout 0: the default) and a client.
func (r *faultRig) use(mintTimeout time.Duration) {
	r.src = r.newSource()
	r.src.MintTimeout = mintTimeout
	r.client = videoauth.NewClient(r.p, r.src)
}

// attempts is the number of mint attempts the library made.
func (r *faultRig) attempts() int64 { return r.net.tokenTrips.Load() }

// get sends a GET and types an answer that is not a 2xx with
// CheckResponse, as a caller does: the Transport returns the service's
// answer whenever there is one.
func (r *faultRig) get(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.apiURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	cerr := videoauth.CheckResponse(r.p, resp)
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, cerr
}

// faultErrorIn reports whether an *Error in err's chain (the API's answer,
// then the token endpoint's failure it wraps) satisfies ok.
func faultErrorIn(err error, ok func(*videoauth.Error) bool) bool {
	for err != nil {
		var e *videoauth.Error
		if !errors.As(err, &e) {
			return false
		}
		if ok(e) {
			return true
		}
		err = e.Err
	}
	return false
}

// mustGet is a GET bounded by the guard.
func (r *faultRig) mustGet() int {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultGuard)
	defer cancel()
	status, err := r.get(ctx)
	require.NoError(r.t, err)
	return status
}

func faultVimeo(t *testing.T, apiProxy bool) *faultRig {
	fake := videoauthtest.NewVimeo()
	t.Cleanup(fake.Close)
	r := faultNewRig(t, fake.URL, apiProxy)
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		APIURL: r.base, HTTPClient: r.hc, Clock: r.clock})
	require.NoError(t, err)
	r.p = v
	r.newSource = func() *videoauth.Source { return v.ClientCredentials() }
	r.apiURL = r.base + "/videos"
	r.stale = fake.DeleteAllTokens // Vimeo answers 401 invalid_token
	r.failTokens = fake.FailTokenCalls
	r.fakeTokenCalls = fake.TokenCalls
	r.fakeAPICalls = fake.APICalls
	r.forbidden = func() *http.Request { // an app token cannot upload: 403 error_code 3200
		req, _ := http.NewRequest(http.MethodPost, r.base+"/me/videos", strings.NewReader("video bytes"))
		return req
	}
	return r
}

func faultSimkl(t *testing.T, apiProxy bool) *faultRig {
	fake := videoauthtest.NewSimkl()
	t.Cleanup(fake.Close)
	r := faultNewRig(t, fake.APIURL, apiProxy)
	fake.SetClock(r.clock)
	t.Cleanup(func() {
		require.Zero(t, fake.MissingParams(), "client_id, app-name, app-version and User-Agent on every request")
	})
	s, err := videoauth.NewSimkl(videoauth.App{ClientID: fake.V2ClientID, ClientSecret: fake.V2ClientSecret,
		AppName: "videoauth-test", AppVersion: "0.1", APIURL: r.base, WebURL: fake.WebURL,
		HTTPClient: r.hc, Clock: r.clock}, videoauth.SimklV2)
	require.NoError(t, err)
	r.p = s
	r.newSource = func() *videoauth.Source {
		// A read-only grant whose access token is already past its expiry
		// here: the first use refreshes it.
		access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
		return s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
			Expiry: r.clock.Now().Add(-time.Minute), Scopes: []string{videoauth.SimklScopeRead},
			Meta: map[string]string{"simkl_auth": "v2"}})
	}
	r.apiURL = r.base + "/sync/activities"
	r.stale = func() { r.clock.Advance(7*24*time.Hour + time.Minute) } // the 7-day access token expires
	r.failTokens = fake.FailTokenCalls
	r.fakeTokenCalls = fake.TokenCalls
	r.fakeAPICalls = fake.APICalls
	r.forbidden = func() *http.Request { // a media:read token cannot write: 403
		req, _ := http.NewRequest(http.MethodPost, r.base+"/sync/history", strings.NewReader(`{"movies":[]}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	return r
}

func faultViki(t *testing.T, apiProxy bool) *faultRig {
	fake := videoauthtest.NewViki()
	t.Cleanup(fake.Close)
	r := faultNewRig(t, fake.URL, apiProxy)
	fake.SetClock(r.clock)
	v, err := videoauth.NewViki(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		APIURL: r.base, HTTPClient: r.hc, Clock: r.clock})
	require.NoError(t, err)
	r.p = v
	r.newSource = v.ClientCredentials
	r.apiURL = r.base + "/v3/movies.json"
	r.stale = func() { r.clock.Advance(24*time.Hour + time.Minute) } // the 24-hour token expires
	r.failTokens = fake.FailTokenCalls
	r.fakeTokenCalls = fake.TokenCalls
	r.fakeAPICalls = fake.APICalls
	return r
}

func faultVikiSession(t *testing.T, apiProxy bool) *faultRig {
	fake := videoauthtest.NewViki()
	t.Cleanup(fake.Close)
	r := faultNewRig(t, fake.URL, apiProxy)
	fake.SetClock(r.clock)
	t.Cleanup(func() {
		require.Zero(t, fake.BadSignatures(), "every request signed")
		require.Zero(t, fake.StaleTimestamps(), "client and fake share the clock")
	})
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret,
		APIURL: r.base, HTTPClient: r.hc, Clock: r.clock}, videoauth.VikiSignQuery)
	require.NoError(t, err)
	r.p = a
	r.newSource = func() *videoauth.Source {
		return a.SessionSource(func(context.Context) (videoauth.VikiCredentials, error) {
			return videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}, nil
		})
	}
	r.apiURL = r.base + "/v5/users/1u.json"
	r.stale = fake.ExpireSessions // Viki answers vcode 11
	r.failTokens = fake.FailTokenCalls
	r.fakeTokenCalls = fake.Logins
	r.fakeAPICalls = fake.SignedCalls    // logins count too; none happen where it is read
	r.forbidden = func() *http.Request { // v4 sessions are for official apps only: 403 vcode 15
		req, _ := http.NewRequest(http.MethodPost, r.base+"/v4/sessions.json", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	return r
}

var faultProviders = []struct {
	name  string
	build func(t *testing.T, apiProxy bool) *faultRig
}{
	{"vimeo-client-credentials", faultVimeo},
	{"simkl-v2-refresh", faultSimkl},
	{"viki-v3-client-credentials", faultViki},
	{"viki-v5-session", faultVikiSession},
}

type faultResult struct {
	status int
	err    error
}

// faultStorm runs call in n goroutines at once and returns what each got;
// it fails the test if they are not all back within the guard.
func faultStorm(t *testing.T, n int, call func() (int, error)) []faultResult {
	t.Helper()
	res := make([]faultResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := call()
			res[i] = faultResult{s, err}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(faultGuard):
		t.Fatalf("callers still blocked after %v; goroutines:\n%s", faultGuard, faultStacks())
	}
	return res
}

// faultRequireAll fails unless ok holds for every result.
func faultRequireAll(t *testing.T, res []faultResult, what string, ok func(faultResult) bool) {
	t.Helper()
	bad := 0
	var first faultResult
	for _, x := range res {
		if !ok(x) {
			if bad == 0 {
				first = x
			}
			bad++
		}
	}
	require.Zero(t, bad, "%s: %d of %d callers got something else, e.g. status %d, err %v", what, bad, len(res), first.status, first.err)
}

func faultIs200(x faultResult) bool { return x.err == nil && x.status == http.StatusOK }

// faultOwnCtxErr reports whether err is the caller's own ctx error (target),
// not the error of a mint.
func faultOwnCtxErr(err, target error) bool {
	var e *videoauth.Error
	return errors.Is(err, target) && !errors.As(err, &e)
}

// faultRecv receives from ch within the guard.
func faultRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(faultGuard):
		t.Fatalf("%s: nothing after %v; goroutines:\n%s", what, faultGuard, faultStacks())
	}
	panic("unreachable")
}

// faultEventually polls cond until it holds, failing after the guard.
func faultEventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, faultGuard, time.Millisecond, what)
}

// faultStacks returns the stacks of all goroutines.
func faultStacks() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// faultParked counts goroutines blocked in the select of Source.slow:
// callers waiting on a shared mint.
func faultParked() int {
	count := 0
	for _, g := range bytes.Split(faultStacks(), []byte("\n\n")) {
		if bytes.Contains(g, []byte("[select")) && bytes.Contains(g, []byte("videoauth.(*Source).slow(")) {
			count++
		}
	}
	return count
}

// TestFaultTokenEndpointDown: with the token endpoint failing (5xx, an HTML
// 502 from a proxy, or refusing connections) while storms of 200 callers
// use the API with a dead token, every caller gets a typed error at once,
// the endpoint sees one mint attempt per RetryInterval of clock time (the
// first retry jittered between half and all of it), and
// service resumes by itself once it is back and the interval has passed.
// faultMode is one way the token endpoint is down, how it comes back, and
// the typed error callers must get meanwhile.
type faultMode struct {
	name     string
	down, up func(t *testing.T, r *faultRig)
	typed    func(r *faultRig, err error) bool
}

// faultServerMode is the token endpoint answering mode (a 5xx) until up.
func faultServerMode(name string, mode videoauthtest.FailMode, status int) faultMode {
	return faultMode{
		name: name,
		down: func(_ *testing.T, r *faultRig) { r.failTokens(1<<20, mode) },
		up:   func(_ *testing.T, r *faultRig) { r.failTokens(0, mode) },
		typed: func(r *faultRig, err error) bool {
			return faultErrorIn(err, func(e *videoauth.Error) bool { return e.Provider == r.p.Name() && e.Status == status }) &&
				errors.Is(err, videoauth.ErrServer)
		},
	}
}

func TestFaultTokenEndpointDown(t *testing.T) {
	modes := []faultMode{
		faultServerMode("5xx", videoauthtest.Fail5xx, http.StatusServiceUnavailable),
		faultServerMode("html502", videoauthtest.FailHTML, http.StatusBadGateway),
		{
			name: "refused",
			down: func(_ *testing.T, r *faultRig) {
				r.tok.close()
				r.net.tr.CloseIdleConnections() // no pooled connection to the old listener
			},
			up: func(t *testing.T, r *faultRig) { r.tok.reopen(t) },
			typed: func(r *faultRig, err error) bool {
				return faultErrorIn(err, func(e *videoauth.Error) bool { return e.Provider == r.p.Name() && e.Status == 0 }) &&
					errors.Is(err, syscall.ECONNREFUSED)
			},
		},
	}
	for _, m := range modes {
		for _, pv := range faultProviders {
			t.Run(m.name+"/"+pv.name, func(t *testing.T) {
				r := pv.build(t, false)
				r.use(0)
				require.Equal(t, http.StatusOK, r.mustGet())
				base, fakeBase, refusedBase := r.attempts(), r.fakeTokenCalls(), r.net.refused.Load()
				apiBase, dialBase := r.net.apiTrips.Load(), r.net.tokenDials.Load()

				r.stale()
				m.down(t, r)
				calls, errs := 0, 0
				round := func(wantAttempts int64, what string) {
					t.Helper()
					res := faultStorm(t, faultCallers, func() (int, error) { return r.get(context.Background()) })
					faultRequireAll(t, res, what, func(x faultResult) bool { return x.err != nil && m.typed(r, x.err) })
					calls += len(res)
					errs += len(res)
					require.Equal(t, base+wantAttempts, r.attempts(), "%s: mint attempts", what)
				}
				for i := range 3 {
					round(1, fmt.Sprintf("outage, round %d", i+1))
				}
				// The first retry after a success is jittered between half
				// and all of RetryInterval; before half, none.
				r.clock.Advance(videoauth.DefaultRetryInterval/2 - time.Millisecond)
				round(1, "outage, just before half of RetryInterval")
				r.clock.Advance(videoauth.DefaultRetryInterval/2 + time.Millisecond)
				round(2, "outage, RetryInterval passed")
				if m.name == "refused" {
					require.Equal(t, refusedBase+2, r.net.refused.Load(), "each attempt met ECONNREFUSED at the dial")
					require.Equal(t, dialBase+2, r.net.tokenDials.Load(), "one dial per attempt, no retries below")
					require.Equal(t, fakeBase, r.fakeTokenCalls(), "nothing reached the fake")
				} else {
					require.Equal(t, fakeBase+2, r.fakeTokenCalls(), "the fake saw each attempt once")
				}

				m.up(t, r)
				round(2, "endpoint back, RetryInterval not passed: the remembered error")
				r.clock.Advance(videoauth.DefaultRetryInterval)
				res := faultStorm(t, faultCallers, func() (int, error) { return r.get(context.Background()) })
				faultRequireAll(t, res, "service resumed", faultIs200)
				calls += len(res)
				require.Equal(t, base+3, r.attempts(), "one more mint for the whole storm")
				if m.name == "refused" {
					require.Equal(t, fakeBase+1, r.fakeTokenCalls())
				} else {
					require.Equal(t, fakeBase+3, r.fakeTokenCalls())
				}
				t.Logf("%d calls, %d typed errors, %d mint attempts (%d refused dials) over %v of clock time, %d API requests sent",
					calls, errs, r.attempts()-base, r.net.refused.Load()-refusedBase,
					2*videoauth.DefaultRetryInterval, r.net.apiTrips.Load()-apiBase)
			})
		}
	}
}

// TestFaultTokenEndpointSlow: with the token endpoint hanging, callers
// with short deadlines get their own context.DeadlineExceeded at once while
// the one mint goes on in the background, and its token serves everyone
// once the endpoint answers. A mint that hangs longer than MintTimeout ends
// with a typed error, remembered for RetryInterval; then service resumes by
// itself.
func TestFaultTokenEndpointSlow(t *testing.T) {
	for _, pv := range faultProviders {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			r := pv.build(t, false)
			r.use(0) // MintTimeout: the default 30 s, far beyond this phase
			require.Equal(t, http.StatusOK, r.mustGet())
			base, seenBase := r.attempts(), r.tok.seen.Load()
			within := func(d time.Duration) (int, error) {
				ctx, cancel := context.WithTimeout(context.Background(), d)
				defer cancel()
				return r.get(ctx)
			}

			r.tok.block()
			r.stale()
			starter := make(chan faultResult, 1)
			go func() { s, err := r.get(context.Background()); starter <- faultResult{s, err} }()
			faultEventually(t, func() bool { return r.tok.held.Load() == 1 }, "the mint hangs at the token endpoint")
			for range 3 {
				res := faultStorm(t, faultCallers, func() (int, error) { return within(30 * time.Millisecond) })
				faultRequireAll(t, res, "callers with a 30 ms deadline", func(x faultResult) bool {
					return faultOwnCtxErr(x.err, context.DeadlineExceeded)
				})
			}
			require.EqualValues(t, 1, r.tok.held.Load(), "the callers gave up, the mint goes on")
			require.Empty(t, starter)
			require.Equal(t, base+1, r.attempts())

			r.tok.release()
			x := faultRecv(t, starter, "the caller that waited")
			require.True(t, faultIs200(x), "status %d, err %v", x.status, x.err)
			res := faultStorm(t, faultCallers, func() (int, error) { return r.get(context.Background()) })
			faultRequireAll(t, res, "after the slow mint", faultIs200)
			require.Equal(t, base+1, r.attempts(), "the slow mint's token serves everyone")

			// A new Source whose mints give up after faultMintTimeout.
			r.use(faultMintTimeout)
			base = r.attempts()
			r.tok.block()
			ctx, cancel := context.WithTimeout(context.Background(), faultGuard)
			defer cancel()
			_, err := r.get(ctx)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e, "the mint's own failure, typed")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Equal(t, r.p.Name(), e.Provider)
			require.Equal(t, base+1, r.attempts())
			faultEventually(t, func() bool { return r.tok.held.Load() == 0 }, "the timed-out mint left the endpoint")

			res = faultStorm(t, faultCallers, func() (int, error) { return r.get(context.Background()) })
			faultRequireAll(t, res, "within RetryInterval: the remembered error", func(x faultResult) bool {
				var e *videoauth.Error
				return errors.As(x.err, &e) && errors.Is(x.err, context.DeadlineExceeded)
			})
			r.tok.release()
			_, err = r.get(ctx)
			require.ErrorAs(t, err, &e, "endpoint back, RetryInterval not passed")
			require.Equal(t, base+1, r.attempts())

			r.clock.Advance(videoauth.DefaultRetryInterval)
			require.Equal(t, http.StatusOK, r.mustGet())
			res = faultStorm(t, faultCallers, func() (int, error) { return r.get(context.Background()) })
			faultRequireAll(t, res, "service resumed", faultIs200)
			require.Equal(t, base+2, r.attempts())
			require.Equal(t, seenBase+3, r.tok.seen.Load(), "the token endpoint saw three mints: slow, timed out, good")
		})
	}
}

// TestFaultCancelledWaiterOnlyAffectsItself: callers waiting on a shared
// mint whose ctx is cancelled return context.Canceled at once; the mint and
// the other waiters are untouched and get the token when it comes.
func TestFaultCancelledWaiterOnlyAffectsItself(t *testing.T) {
	const waiters, cancelled = 49, 10
	for _, pv := range faultProviders {
		t.Run(pv.name, func(t *testing.T) {
			r := pv.build(t, false)
			r.use(0)
			require.Equal(t, http.StatusOK, r.mustGet())
			base := r.attempts()
			r.tok.block()
			r.stale()

			stay := make(chan faultResult, 1+waiters)
			call := func() { s, err := r.get(context.Background()); stay <- faultResult{s, err} }
			go call() // starts the mint
			faultEventually(t, func() bool { return r.tok.held.Load() == 1 }, "the mint hangs at the token endpoint")
			for range waiters {
				go call()
			}
			gone := make(chan error, cancelled)
			cancels := make([]context.CancelFunc, cancelled)
			for i := range cancelled {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cancels[i] = cancel
				go func() { _, err := r.get(ctx); gone <- err }()
			}
			faultEventually(t, func() bool { return faultParked() >= 1+waiters+cancelled }, "every caller waits on the mint")

			for _, cancel := range cancels {
				cancel()
			}
			for range cancelled {
				err := faultRecv(t, gone, "cancelled waiter")
				require.True(t, faultOwnCtxErr(err, context.Canceled), "got %v", err)
			}
			require.EqualValues(t, 1, r.tok.held.Load(), "the mint is still running")
			require.Empty(t, stay, "no other waiter returned")

			r.tok.release()
			for range 1 + waiters {
				x := faultRecv(t, stay, "waiter")
				require.True(t, faultIs200(x), "status %d, err %v", x.status, x.err)
			}
			require.Equal(t, base+1, r.attempts(), "one mint for all of them")
		})
	}
}

// TestFaultCancelledStarterDoesNotBreakTheMint: the ctx of the call that
// started a mint is detached from it, so cancelling that ctx (during the
// mint, or before the call) never breaks the mint or poisons the Source.
func TestFaultCancelledStarterDoesNotBreakTheMint(t *testing.T) {
	for _, pv := range faultProviders {
		t.Run(pv.name, func(t *testing.T) {
			t.Run("cancelled during the mint", func(t *testing.T) {
				r := pv.build(t, false)
				r.use(0)
				require.Equal(t, http.StatusOK, r.mustGet())
				base, fakeBase := r.attempts(), r.fakeTokenCalls()
				r.tok.block()
				r.stale()

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				first := make(chan error, 1)
				go func() { _, err := r.get(ctx); first <- err }()
				faultEventually(t, func() bool { return r.tok.held.Load() == 1 }, "the starter's mint hangs")
				cancel()
				err := faultRecv(t, first, "cancelled starter")
				require.True(t, faultOwnCtxErr(err, context.Canceled), "got %v", err)
				require.EqualValues(t, 1, r.tok.held.Load(), "the mint outlives its starter's ctx")

				later := make(chan faultResult, 1)
				go func() { s, err := r.get(context.Background()); later <- faultResult{s, err} }()
				faultEventually(t, func() bool { return faultParked() >= 1 }, "the later caller waits on that mint")
				r.tok.release()
				x := faultRecv(t, later, "later caller")
				require.True(t, faultIs200(x), "status %d, err %v", x.status, x.err)
				require.Equal(t, http.StatusOK, r.mustGet())
				require.Equal(t, base+1, r.attempts(), "the starter's mint served everyone")
				require.Equal(t, fakeBase+1, r.fakeTokenCalls())
			})
			t.Run("already cancelled first call", func(t *testing.T) {
				r := pv.build(t, false)
				r.use(0) // nothing usable yet: the first call must mint
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				_, err := r.get(ctx)
				require.True(t, faultOwnCtxErr(err, context.Canceled), "got %v", err)
				require.Equal(t, http.StatusOK, r.mustGet(), "the Source is not poisoned")
				require.Equal(t, http.StatusOK, r.mustGet())
				require.EqualValues(t, 1, r.attempts(), "one mint in all")
				require.Equal(t, 1, r.fakeTokenCalls())
			})
		})
	}
}

// TestFaultAPIErrorsAreReturnedNotRetried: API 5xx answers, and 403 where it
// is not an expiry signal (all but Viki v3), reach the caller as they are:
// one API request each, no mint, the token kept.
func TestFaultAPIErrorsAreReturnedNotRetried(t *testing.T) {
	for _, pv := range faultProviders {
		t.Run(pv.name, func(t *testing.T) {
			r := pv.build(t, true)
			r.use(0)
			require.Equal(t, http.StatusOK, r.mustGet())
			tok, base, fakeTok := r.src.Current(), r.attempts(), r.fakeTokenCalls()
			ctx, cancel := context.WithTimeout(context.Background(), faultGuard)
			defer cancel()

			send := func(req *http.Request, want int, wantVerdict videoauth.Verdict) error {
				t.Helper()
				api, seen := r.fakeAPICalls(), r.api.seen.Load()
				resp, err := r.client.Do(req.WithContext(ctx))
				require.NoError(t, err)
				defer resp.Body.Close()
				require.Equal(t, want, resp.StatusCode)
				require.Equal(t, wantVerdict, r.p.Verdict(resp))
				require.Equal(t, api+1, r.fakeAPICalls(), "exactly one API call reached the fake")
				require.Equal(t, seen+1, r.api.seen.Load())
				return videoauth.CheckResponse(r.p, resp)
			}
			for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable} {
				r.api.failNext(1, status)
				req, _ := http.NewRequest(http.MethodGet, r.apiURL, nil)
				err := send(req, status, videoauth.VerdictOK)
				require.ErrorIs(t, err, videoauth.ErrServer)
			}
			if r.forbidden != nil {
				err := send(r.forbidden(), http.StatusForbidden, videoauth.VerdictOK)
				var e *videoauth.Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, http.StatusForbidden, e.Status)
			} else {
				// Viki v3 says "expired" with 403: that one is replayed
				// (TestVikiExpiredTokenRemintedAndReplayedOnce).
				resp := &http.Response{StatusCode: http.StatusForbidden, Body: http.NoBody}
				require.Equal(t, videoauth.VerdictExpired, r.p.Verdict(resp))
			}
			require.Equal(t, base, r.attempts(), "no mint")
			require.Equal(t, fakeTok, r.fakeTokenCalls())
			require.Same(t, tok, r.src.Current(), "the token is kept")
			require.Equal(t, http.StatusOK, r.mustGet())
			require.Equal(t, base, r.attempts())
		})
	}
}
