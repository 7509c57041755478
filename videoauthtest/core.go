package videoauthtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// core is the plumbing every fake shares, so that a fake holds only what
// its service does: the servers and the handler behind each host, the lock
// over the fake's state, the clock, the injected token-endpoint failures
// and latency, the request log (last token form, last authorize query, API
// bodies, last request) and the counter reads. A fake embeds one core, calls
// start with its handlers, and guards its own tables with mu.
//
// Close, Respond and RoundTripper are promoted to every fake. The knobs
// whose meaning differs per service (SetClock, FailTokenCalls, SetLatency,
// LastTokenForm, ...) are the fake's own methods, documented there, that
// call the core.
//
// A new fake is then: a struct with its exported URLs and credentials, an
// embedded core and its own tables; a constructor that sets the defaults
// and calls start with one serves per host (the real host names it stands
// for, the API host first); handlers that hold mu while they touch state,
// read the time with nowLocked, take an injected failure with
// takeFailLocked and the latency with wait on their token endpoints, log
// with lastTokenForm, apiBodies or recordLocked, and bound their tables
// with makeRoom or dropDead (table.go); and the one-line knob and counter
// methods, documented for the service.
type core struct {
	name      string // the service, for errors: "Vimeo"
	hosts     []fakeHost
	closed    chan struct{}
	closeOnce sync.Once

	// mu guards the fields below and the embedding fake's own state.
	mu       sync.Mutex
	clock    *Clock        // nil: real time
	skew     time.Duration // added to every time the fake reads (SetServerSkew)
	failN    int
	failMode FailMode
	latency  time.Duration

	lastTokenForm, lastAuthorizeQuery url.Values
	apiBodies                         [][]byte
	lastRequest                       *http.Request // a clone with an empty Body; lastBody is its body
	lastBody                          []byte
}

// fakeHost is one host of a fake: the handler, the httptest.Server that
// serves it on a socket, and the real service's host names it stands for,
// so Respond sends a request for "api.simkl.com" to the right handler.
type fakeHost struct {
	handler http.Handler
	names   []string
	srv     *httptest.Server
	addr    string // srv's host:port
}

// serves describes a host of a fake for start: handler stands for the real
// service's hosts names.
func serves(handler http.HandlerFunc, names ...string) fakeHost {
	return fakeHost{handler: handler, names: names}
}

// start starts a plain-HTTP httptest.Server on 127.0.0.1 for each host and
// returns their base URLs, in order. The first host is the default one:
// Respond sends it every request for a host no other one stands for.
func (c *core) start(name string, hosts ...fakeHost) []string {
	c.name = name
	c.closed = make(chan struct{})
	c.hosts = hosts
	urls := make([]string, len(hosts))
	for i := range c.hosts {
		h := &c.hosts[i]
		h.srv = httptest.NewServer(h.handler)
		h.addr = h.srv.Listener.Addr().String()
		urls[i] = h.srv.URL
	}
	return urls
}

// Close shuts the fake down: its servers stop, requests held by SetLatency
// end at once without an answer, and Respond fails from then on. It is safe
// to call more than once.
func (c *core) Close() {
	c.closeOnce.Do(func() {
		close(c.closed)
		for _, h := range c.hosts {
			h.srv.Close()
		}
	})
}

// client returns the httptest client of the first server.
func (c *core) client() *http.Client { return c.hosts[0].srv.Client() }

// setClock makes the fake read clk (nil: real time).
func (c *core) setClock(clk *Clock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock = clk
}

// nowLocked returns the fake's time: the Clock, or the real time, plus the
// skew. c.mu must be held.
func (c *core) nowLocked() time.Time {
	t := time.Now()
	if c.clock != nil {
		t = c.clock.Now()
	}
	return t.Add(c.skew)
}

// now is nowLocked for a caller not holding c.mu.
func (c *core) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *core) failTokenCalls(n int, mode FailMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failN, c.failMode = max(n, 0), mode
}

// takeFailLocked consumes one injected failure, if any. c.mu must be held.
func (c *core) takeFailLocked() (bool, FailMode) {
	if c.failN <= 0 {
		return false, 0
	}
	c.failN--
	return true, c.failMode
}

func (c *core) setLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// wait sleeps d in real time (SetLatency), and reports false if the client
// went away or the fake closed first.
func (c *core) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-c.closed:
		return false
	}
}

// count reads the counter n of the fake under c.mu.
func (c *core) count(n *int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return *n
}

// tokenForm returns a copy of the last token form logged.
func (c *core) tokenForm() url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cloneValues(c.lastTokenForm)
}

// authorizeQuery returns a copy of the last authorize query logged.
func (c *core) authorizeQuery() url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cloneValues(c.lastAuthorizeQuery)
}

// bodies returns a copy of the API bodies logged, in order.
func (c *core) bodies() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(c.apiBodies))
	for i, b := range c.apiBodies {
		out[i] = bytes.Clone(b)
	}
	return out
}

// recordLocked keeps a clone of r, and body, as the last request. c.mu
// must be held.
func (c *core) recordLocked(r *http.Request, body []byte) {
	rc := r.Clone(context.Background())
	rc.Body = http.NoBody
	c.lastRequest, c.lastBody = rc, body
}

// record is recordLocked for a caller not holding c.mu.
func (c *core) record(r *http.Request, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recordLocked(r, body)
}

// requestClone returns a new clone of the last request recorded, whose
// Body (and GetBody) read its body again, or nil if there was none.
func (c *core) requestClone() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastRequest == nil {
		return nil
	}
	r := c.lastRequest.Clone(context.Background())
	body := c.lastBody
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return r
}

// Respond serves req in the calling goroutine with the fake's own
// handlers, with no socket, and returns the response a client would read
// from the fake's server. Its signature is that of an httpmock.Responder,
// so a test that mocks HTTP with github.com/jarcoal/httpmock can put the
// fake behind its MockTransport:
//
//	mt := httpmock.NewMockTransport()
//	mt.RegisterNoResponder(fake.Respond)
//
// Every request gets an answer, whatever its host: a fake with one host
// (Vimeo, Viki) serves them all, so the code under test may keep the
// service's real URLs; Simkl's fake sends the hosts of WebURL, simkl.com
// and www.simkl.com to its consent pages and every other host to its API.
// The fake sees the request as its server would, as net/http's Transport
// sends it: the raw request target of req.URL (Viki's signatures cover it
// byte for byte), Host, a Content-Length, a Basic header from the URL's
// user info, and the default User-Agent "Go-http-client/1.1" when req sets
// none (an empty one sends none); counters, knobs and the Clock work as over
// a socket. The response is complete: StatusCode, Status, Header,
// ContentLength and a Content-Length header giving the body's length (none
// for 1xx, 204 and 304), a Body to read once (http.NoBody when empty; empty
// for HEAD), Proto HTTP/1.1 and Request set to req.
//
// Respond closes req.Body. It returns an error, and no response, when the
// fake is closed, or when it abandons the request (SetLatency with a ctx
// that ends first: then the error is the ctx's). It is safe for concurrent
// use.
func (c *core) Respond(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	select {
	case <-c.closed:
		return nil, fmt.Errorf("videoauthtest: the fake %s is closed", c.name)
	default:
	}
	sr, err := serverRequest(req)
	if err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	if !serveInProcess(c.handlerFor(req.URL), rec, sr) {
		if err := req.Context().Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("videoauthtest: the fake %s abandoned the request: %w", c.name, io.EOF)
	}
	return clientResponse(req, rec), nil
}

// RoundTripper returns an http.RoundTripper that answers every request
// with Respond, in process: &http.Client{Transport: fake.RoundTripper()}
// reaches the fake without a socket, and so does any client of the code
// under test whose transport is replaced by it.
func (c *core) RoundTripper() http.RoundTripper { return respondFunc(c.Respond) }

// respondFunc makes a Respond method an http.RoundTripper.
type respondFunc func(*http.Request) (*http.Response, error)

func (f respondFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// handlerFor returns the handler of the host u names: the server whose
// address it is, else the host that stands for its host name, else the
// first host.
func (c *core) handlerFor(u *url.URL) http.Handler {
	name := strings.ToLower(u.Hostname())
	for _, h := range c.hosts {
		if strings.EqualFold(u.Host, h.addr) {
			return h.handler
		}
	}
	for _, h := range c.hosts {
		if slices.Contains(h.names, name) {
			return h.handler
		}
	}
	return c.hosts[0].handler
}

// serveInProcess runs h, and reports false if it abandoned the request
// (panic(http.ErrAbortHandler), as a server would drop the connection).
// Any other panic goes on up.
func serveInProcess(h http.Handler, w http.ResponseWriter, r *http.Request) (answered bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			answered = false
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// defaultUserAgent is what net/http's Transport sends for a request
// without a User-Agent header.
const defaultUserAgent = "Go-http-client/1.1"

// serverRequest returns req as a server reading it off the wire would see
// it: a new request (req is not modified), its URL parsed from the request
// target, its Header as net/http's Transport would write it.
func serverRequest(req *http.Request) (*http.Request, error) {
	if req.URL == nil {
		return nil, errors.New("videoauthtest: Respond: nil Request.URL")
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	target := req.URL.RequestURI()
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, fmt.Errorf("videoauthtest: Respond: bad request target %q: %w", target, err)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	// The Transport writes these from the request's fields, not its Header.
	for _, k := range []string{"Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection"} {
		delete(h, k)
	}
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", defaultUserAgent)
	} else if h.Get("User-Agent") == "" {
		delete(h, "User-Agent") // an empty User-Agent is not sent
	}
	if ui := req.URL.User; ui != nil && h.Get("Authorization") == "" {
		pass, _ := ui.Password()
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ui.Username()+":"+pass)))
	}
	sr := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       host,
		RemoteAddr: "192.0.2.1:1234",
		RequestURI: target,
	}
	switch body := req.Body; {
	case body == nil || body == http.NoBody:
		sr.Body = http.NoBody
		if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
			h.Set("Content-Length", "0")
		}
	case req.ContentLength > 0:
		sr.Body, sr.ContentLength = io.NopCloser(io.LimitReader(body, req.ContentLength)), req.ContentLength
		h.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	default: // unknown length: sent chunked
		sr.Body, sr.ContentLength, sr.TransferEncoding = io.NopCloser(body), -1, []string{"chunked"}
	}
	return sr.WithContext(req.Context()), nil
}

// clientResponse turns what the handler wrote into the *http.Response a
// client of the server would read.
func clientResponse(req *http.Request, rec *httptest.ResponseRecorder) *http.Response {
	res := rec.Result()
	res.Request = req
	body := rec.Body.Bytes()
	switch {
	case res.StatusCode < 200 || res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusNotModified:
		res.Header.Del("Content-Length")
		res.ContentLength, body = 0, nil
	default:
		if res.Header.Get("Content-Length") == "" {
			res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		}
		res.ContentLength = int64(len(body))
		if req.Method == http.MethodHead {
			body = nil
		}
	}
	res.Body = http.NoBody
	if len(body) > 0 {
		res.Body = io.NopCloser(bytes.NewReader(bytes.Clone(body)))
	}
	return res
}

// authErrorJSON is the RFC 6749 §5.2 error body, as Vimeo and Viki send it.
type authErrorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, contentType string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // only fixed, marshalable types are passed
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

// writeHTMLFailure answers 502 with a text/html page, as a proxy or CDN in
// front of a service would (FailHTML).
func writeHTMLFailure(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n")
}

// bearer returns the token of an "Authorization: Bearer" header, and whether
// there was a non-empty one.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != "" // [I] an empty one is no credential
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// randomHex returns n random bytes from crypto/rand, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// userCodeAlphabet has 32 upper-case letters and digits, without the
// look-alikes I, O, 0 and 1 [I], so a random byte maps without bias.
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// userCode returns n random characters of userCodeAlphabet, a code a user
// types.
func userCode(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[b[i]%byte(len(userCodeAlphabet))]
	}
	return string(b)
}
