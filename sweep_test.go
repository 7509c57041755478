package videoauth_test

// Two whole-library sweeps. Both run every flow of every provider — success
// and failure — against the videoauthtest fakes (sweepAll), through the same
// stack of test transports:
//
//	library ─▶ sweepCounter ─▶ sweepWire ─▶ fake
//
// sweepWire plants one sentinel in every token the fakes issue (and takes it
// back out of what the library sends, re-signing Viki v4/v5 requests), in
// every failing body, and can fail a request on demand. sweepCounter wraps
// every request and response body the library hands down or receives.
//
// TestSecretsNeverPrinted prints every error and every value the library
// lets a caller print, and everything it writes to App.Logger, and looks for
// the sentinel. TestEveryBodyClosed checks that every body was closed exactly
// once, and that the loopback listener is gone on every way out of Loopback.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

const (
	// sweepSecret is planted in every place a secret can be.
	sweepSecret = "PLANTED-9c1e"
	// sweepTok prefixes every token a fake issues, as the library sees it.
	sweepTok = sweepSecret + "-tok-"
)

var (
	sweepModes = []videoauthtest.FailMode{videoauthtest.Fail5xx, videoauthtest.FailHTML}
	// sweepVerbs print errors and values; %x and %d reach struct fields of
	// types without a Format method.
	sweepVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"}
	// sweepForms are the ways the sentinel can show up in printed text.
	sweepForms = sweepEncodings(sweepSecret)
)

// sweepEncodings returns s as printed raw, as fmt prints a []byte (%v,
// %#v), in hex and in base64 at every alignment.
func sweepEncodings(s string) []string {
	b := []byte(s)
	forms := []string{s, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b))}
	dec, hx := make([]string, len(b)), make([]string, len(b))
	for i, c := range b {
		dec[i], hx[i] = strconv.Itoa(int(c)), fmt.Sprintf("%#x", c)
	}
	forms = append(forms, strings.Join(dec, " "), strings.Join(hx, ", "))
	for k := range 3 {
		data := append(make([]byte, k), b...)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			full := enc.EncodeToString(data)
			start, end := 0, len(full)
			if k > 0 {
				start = 4
			}
			if (k+len(b))%3 != 0 {
				end -= 4
			}
			forms = append(forms, full[start:end])
		}
	}
	return forms
}

func sweepLeaky(text string) bool {
	for _, f := range sweepForms {
		if strings.Contains(text, f) {
			return true
		}
	}
	return false
}

// sweepClip shows the neighbourhood of the first leak.
func sweepClip(text string) string {
	for _, f := range sweepForms {
		if i := strings.Index(text, f); i >= 0 {
			lo, hi := max(i-160, 0), min(i+len(f)+160, len(text))
			return text[lo:hi]
		}
	}
	return text
}

// sweepReal is the fake's own token behind a planted one.
func sweepReal(tok string) string { return strings.TrimPrefix(tok, sweepTok) }

// sweepSlog prints v through slog's JSON or text handler, as a plain
// attribute, through slog.Any and inside a group.
func sweepSlog(asJSON bool, v any) string {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if asJSON {
		h = slog.NewJSONHandler(&buf, nil)
	}
	l := slog.New(h)
	l.Info("sweep", "v", v)
	l.Error("sweep", slog.Any("v", v))
	l.Info("sweep", slog.Group("g", slog.Any("v", v)))
	return buf.String()
}

// ---- the environment both sweeps share ----

type sweepEnv struct {
	printing bool // TestSecretsNeverPrinted: print and scan
	ctx      context.Context
	ledger   *sweepLedger
	logs     *sweepSyncBuffer
	logger   *slog.Logger // App.Logger of every App: text and JSON handlers
	browser  *http.Client // the user's browser, not following redirects
	navig    *http.Client // the user's browser, following redirects (loopback)
	plants   atomic.Int64

	mu                                            sync.Mutex
	wires                                         []*sweepWire
	errs, errStructs, values, armed, scans, ports int
	// callerURLs are requests whose URL the caller (the test) built with a
	// secret in it: their resp.Request shows it, by the caller's doing.
	callerURLs map[*http.Request]bool
}

func sweepNew(t *testing.T, printing bool) *sweepEnv {
	e := &sweepEnv{
		printing: printing,
		ctx:      context.Background(),
		ledger:   &sweepLedger{byResp: map[*http.Response]*sweepBody{}},
		logs:     &sweepSyncBuffer{},
	}
	e.callerURLs = map[*http.Request]bool{}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	e.logger = slog.New(slog.NewMultiHandler(slog.NewTextHandler(e.logs, opts), slog.NewJSONHandler(e.logs, opts)))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections) // registered first: runs after every fake closed
	e.browser = &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.navig = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return e
}

// client returns the HTTP client of an App under test and its two layers.
// vikiSecret, when set, is the Viki app secret the wire re-signs v4/v5
// requests with after taking planted tokens out of their query.
func (e *sweepEnv) client(base http.RoundTripper, vikiSecret string) (*http.Client, *sweepWire, *sweepCounter) {
	w := &sweepWire{base: base, vikiSecret: vikiSecret, faults: map[string][]sweepFault{}, hooks: map[string][]func(){}}
	c := &sweepCounter{base: w, ledger: e.ledger}
	e.mu.Lock()
	e.wires = append(e.wires, w)
	e.mu.Unlock()
	return &http.Client{Transport: c}, w, c
}

func (e *sweepEnv) add(n *int, d int) {
	e.mu.Lock()
	*n += d
	e.mu.Unlock()
}

// scan looks for the sentinel in text, printed by channel for label.
func (e *sweepEnv) scan(t *testing.T, label, channel, text string) {
	t.Helper()
	e.add(&e.scans, 1)
	if !sweepLeaky(text) {
		return
	}
	t.Errorf("secret printed: %s via %s:\n…%s…", label, channel, sweepClip(text))
}

// show prints a value the library lets a caller print, every way.
func (e *sweepEnv) show(t *testing.T, label string, v any) {
	t.Helper()
	if !e.printing {
		return
	}
	for _, verb := range sweepVerbs {
		e.scan(t, label, "fmt "+verb, fmt.Sprintf(verb, v))
	}
	e.scan(t, label, "slog JSON handler", sweepSlog(true, v))
	e.scan(t, label, "slog text handler", sweepSlog(false, v))
	e.add(&e.values, 1)
}

// scanError prints one error every way.
func (e *sweepEnv) scanError(t *testing.T, label string, err error) {
	t.Helper()
	e.scan(t, label, "Error()", err.Error())
	for _, verb := range sweepVerbs {
		e.scan(t, label, "fmt "+verb, fmt.Sprintf(verb, err))
	}
	e.scan(t, label, "slog JSON handler", sweepSlog(true, err))
	e.scan(t, label, "slog text handler", sweepSlog(false, err))
}

// fail checks an error the library returned: it is one, it matches want
// (when set), and — armed — the raw failure behind it carried the
// sentinel, so a missing redaction would show. Then it prints it.
func (e *sweepEnv) fail(t *testing.T, label string, err, want error, armed bool) {
	t.Helper()
	require.Error(t, err, label)
	if want != nil {
		require.ErrorIs(t, err, want, label)
	}
	var ve *videoauth.Error
	found := errors.As(err, &ve)
	if armed {
		require.True(t, found && (bytes.Contains(ve.Body, []byte(sweepSecret)) || strings.Contains(ve.Description, sweepSecret)),
			"%s: the failure behind %q should carry the sentinel, or the sweep proves nothing", label, err)
		e.add(&e.armed, 1)
	}
	if !e.printing {
		return
	}
	e.add(&e.errs, 1)
	e.scanError(t, label, err)
	if found {
		e.add(&e.errStructs, 1)
		if error(ve) != err {
			e.scanError(t, label+" [its *videoauth.Error]", ve)
		}
		e.scan(t, label, "Error.URL (documented as redacted)", ve.URL)
	}
}

// answer takes a response the library handed to the caller: types it with
// CheckResponse (which must leave the body readable), reads it to the end,
// closes it — the caller's job, done once — and checks the status.
func (e *sweepEnv) answer(t *testing.T, label string, p videoauth.Provider, resp *http.Response, err error, status int, want error) {
	t.Helper()
	require.NoError(t, err, label)
	e.ledger.shown(t, label, resp)
	cerr := videoauth.CheckResponse(p, resp)
	body, rerr := io.ReadAll(resp.Body)
	require.NoError(t, rerr, label)
	require.NoError(t, resp.Body.Close(), label)
	require.Equal(t, status, resp.StatusCode, "%s: %s", label, body)
	if status < 300 {
		require.NoError(t, cerr, label)
	} else {
		require.Contains(t, string(body), sweepSecret, "%s: the failing answer carries the sentinel", label)
		e.fail(t, label+" (CheckResponse)", cerr, want, true)
	}
	if e.printing {
		require.NotNil(t, resp.Request, label)
		e.mu.Lock()
		own := e.callerURLs[resp.Request]
		e.mu.Unlock()
		if !own {
			e.scan(t, label, "resp.Request.URL", resp.Request.URL.String())
		}
		e.scan(t, label, "resp.Request.Header", fmt.Sprint(resp.Request.Header))
	}
}

// request builds a caller's request whose body (and every body GetBody
// makes, when replayable) is counted; payload "" sends none.
func (e *sweepEnv) request(t *testing.T, method, u, payload string, replayable bool) *http.Request {
	t.Helper()
	what := method + " " + u
	path := ""
	if pu, err := url.Parse(u); err == nil {
		path = pu.Path
	}
	var body io.ReadCloser
	if payload != "" {
		body = e.ledger.add("caller request", what, path, 0, io.NopCloser(strings.NewReader(payload)))
	}
	req, err := http.NewRequestWithContext(e.ctx, method, u, body)
	require.NoError(t, err)
	if payload != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.Contains(u, sweepSecret) {
		e.mu.Lock()
		e.callerURLs[req] = true
		e.mu.Unlock()
	}
	if replayable && payload != "" {
		req.GetBody = func() (io.ReadCloser, error) {
			return e.ledger.add("caller request (GetBody)", what, path, 0, io.NopCloser(strings.NewReader(payload))), nil
		}
	}
	return req
}

// plant puts the sentinel in an AuthRequest's state and PKCE verifier, and
// rebuilds its URL to match (state, code_challenge), so the flow still
// succeeds with the planted values.
func (e *sweepEnv) plant(ar *videoauth.AuthRequest) {
	n := e.plants.Add(1)
	u, err := url.Parse(ar.URL)
	if err != nil {
		panic(err) // the library built it
	}
	q := u.Query()
	ar.State = fmt.Sprintf("%s-state-%d", sweepSecret, n)
	q.Set("state", ar.State)
	if ar.Verifier != "" {
		ar.Verifier = fmt.Sprintf("%s-verifier-%d-%s", sweepSecret, n, strings.Repeat("v", 32))
		sum := sha256.Sum256([]byte(ar.Verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	ar.URL = u.String()
}

func (e *sweepEnv) authRequest(t *testing.T, f videoauth.CodeFlow, scopes ...string) *videoauth.AuthRequest {
	t.Helper()
	ar, err := f.AuthRequest("", scopes...)
	require.NoError(t, err)
	e.plant(ar)
	return ar
}

// consent opens an authorize URL in the browser and returns where the
// consent page sent it.
func (e *sweepEnv) consent(t *testing.T, authURL string) *url.URL {
	t.Helper()
	resp, err := e.browser.Get(authURL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, authURL)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

// navigate follows u to the end in the browser (loopback flows).
func (e *sweepEnv) navigate(u string) error {
	resp, err := e.navig.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// planted checks that a token the library holds carries the sentinel.
func (e *sweepEnv) planted(t *testing.T, tok *videoauth.Token) {
	t.Helper()
	require.NotNil(t, tok)
	require.True(t, strings.HasPrefix(tok.AccessToken, sweepTok), "access token planted")
	if tok.RefreshToken != "" {
		require.True(t, strings.HasPrefix(tok.RefreshToken, sweepTok), "refresh token planted")
	}
}

// loopback runs Loopback with browse as the user's browser, then checks
// that its listener is gone.
func (e *sweepEnv) loopback(t *testing.T, label string, ctx context.Context, flow videoauth.CodeFlow, clock videoauth.Clock,
	browse func(authURL, redirect, state string) error) (*videoauth.Token, error) {
	addrs := make(chan string, 1)
	tok, err := videoauth.Loopback(ctx, flow, videoauth.LoopbackConfig{Clock: clock, Open: func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		redirect := u.Query().Get("redirect_uri")
		ru, err := url.Parse(redirect)
		if err != nil {
			return err
		}
		addrs <- ru.Host
		return browse(authURL, redirect, u.Query().Get("state"))
	}})
	select {
	case addr := <-addrs:
		if conn, derr := net.Dial("tcp", addr); derr == nil {
			conn.Close()
			t.Errorf("%s: the loopback listener %s still accepts connections after Loopback returned", label, addr)
		}
		e.add(&e.ports, 1)
	default:
		t.Errorf("%s: Loopback returned without opening the browser", label)
	}
	return tok, err
}

// loopbackTimeout runs loopback until it waits for the callback, then lets
// its timeout fire.
func (e *sweepEnv) loopbackTimeout(t *testing.T, label string, flow videoauth.CodeFlow,
	browse func(authURL, redirect, state string) error) (*videoauth.Token, error) {
	clk := &sweepTimer{asked: make(chan time.Duration, 1), fire: make(chan time.Time)}
	type result struct {
		tok *videoauth.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := e.loopback(t, label, e.ctx, flow, clk, browse)
		done <- result{tok, err}
	}()
	select {
	case <-clk.asked:
	case <-time.After(10 * time.Second): // guard only: a correct Loopback asks at once
		t.Fatalf("%s: Loopback never armed its timeout", label)
	}
	close(clk.fire)
	r := <-done
	return r.tok, r.err
}

// sweepTimer is the clock of a Loopback whose timeout the test fires.
type sweepTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func (c *sweepTimer) Now() time.Time { return time.Now() }

func (c *sweepTimer) After(d time.Duration) <-chan time.Time {
	c.asked <- d
	return c.fire
}

// sweepPlanted is a CodeFlow whose AuthRequests carry the planted state and
// verifier (for Loopback, which builds its own).
type sweepPlanted struct {
	videoauth.CodeFlow
	plant func(*videoauth.AuthRequest)

	mu   sync.Mutex
	last *videoauth.AuthRequest
}

func (f *sweepPlanted) AuthRequest(redirectURL string, scopes ...string) (*videoauth.AuthRequest, error) {
	ar, err := f.CodeFlow.AuthRequest(redirectURL, scopes...)
	if err == nil {
		f.plant(ar)
		f.mu.Lock()
		f.last = ar
		f.mu.Unlock()
	}
	return ar, err
}

func (f *sweepPlanted) lastRequest() *videoauth.AuthRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

type sweepSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *sweepSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *sweepSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ---- sweepWire: plants the sentinel, fails on demand ----

// sweepFault replaces the fake's answer to one request: status 0 is a
// transport error naming the request URL (as a proxy's error might), any
// other status a response with body.
type sweepFault struct {
	status      int
	ctype, body string
}

type sweepWire struct {
	base       http.RoundTripper
	vikiSecret string

	mu     sync.Mutex
	faults map[string][]sweepFault // by path, in order
	hooks  map[string][]func()     // by path: run once, after the fake answered
	tokens int                     // tokens planted in answers
	bodies int                     // failing answers the sentinel was planted in
	urls   int                     // transport errors whose URL carried a planted token
}

// failNext makes the next request to path fail as f says.
func (w *sweepWire) failNext(path string, f sweepFault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults[path] = append(w.faults[path], f)
}

// urlErrors counts the transport errors whose URL carried a planted token.
func (w *sweepWire) urlErrors() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.urls
}

// after runs fn once the fake has answered the next request to path, before
// the library sees the answer.
func (w *sweepWire) after(path string, fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hooks[path] = append(w.hooks[path], fn)
}

func (w *sweepWire) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	w.mu.Lock()
	var fault *sweepFault
	if fs := w.faults[path]; len(fs) > 0 {
		fault, w.faults[path] = &fs[0], fs[1:]
	}
	w.mu.Unlock()
	if fault != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		if fault.status == 0 {
			u := req.URL.String()
			if strings.Contains(u, sweepSecret) {
				w.mu.Lock()
				w.urls++
				w.mu.Unlock()
			}
			return nil, &url.Error{Op: req.Method, URL: u, Err: errors.New("sweep: connection reset by peer")}
		}
		resp := &http.Response{
			Status: strconv.Itoa(fault.status) + " " + http.StatusText(fault.status), StatusCode: fault.status,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {fault.ctype}}, Body: io.NopCloser(strings.NewReader(fault.body)),
			ContentLength: int64(len(fault.body)), Request: req,
		}
		return w.plant(path, resp)
	}
	r, err := w.unplant(req)
	if err != nil {
		return nil, err
	}
	resp, err := w.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	var hook func()
	if hs := w.hooks[path]; len(hs) > 0 {
		hook, w.hooks[path] = hs[0], hs[1:]
	}
	w.mu.Unlock()
	if hook != nil {
		hook()
	}
	return w.plant(path, resp)
}

// unplant takes planted tokens out of a copy of req (headers, query, body)
// and re-signs a Viki v4/v5 request whose query changed.
func (w *sweepWire) unplant(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	for _, vs := range r.Header {
		for i, v := range vs {
			vs[i] = strings.ReplaceAll(v, sweepTok, "")
		}
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = bytes.ReplaceAll(b, []byte(sweepTok), nil)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if strings.Contains(r.URL.RawQuery, sweepTok) {
		r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, sweepTok, "")
		if w.vikiSecret != "" {
			w.resign(r, body)
		}
	}
	return r, nil
}

// resign signs r again, in whichever mode the library signed it.
func (w *sweepWire) resign(r *http.Request, body []byte) {
	path, raw := r.URL.EscapedPath(), r.URL.RawQuery
	if i := strings.LastIndex(raw, "&sig="); i >= 0 {
		rest := raw[:i]
		r.URL.RawQuery = rest + "&sig=" + videoauthtest.VikiSign(w.vikiSecret, path+"?"+rest, body)
		return
	}
	if r.Header.Get("Signature") != "" {
		r.Header.Set("Signature", videoauthtest.VikiSign(w.vikiSecret, path+"?"+raw+"&t="+r.Header.Get("Timestamp"), body))
	}
}

// plant rewrites an answer: the sentinel prefixes every token of a 2xx JSON
// answer, and goes into the prose (error_description, message,
// developer_message, the HTML page) of every failing one.
func (w *sweepWire) plant(path string, resp *http.Response) (*http.Response, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	out := b
	if resp.StatusCode >= 400 {
		out = sweepPlantFailure(b)
		w.mu.Lock()
		w.bodies++
		w.mu.Unlock()
	} else if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var n int
		out, n = sweepPlantTokens(b, path)
		w.mu.Lock()
		w.tokens += n
		w.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	if resp.Header.Get("Content-Length") != "" {
		resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	}
	return resp, nil
}

func sweepPlantFailure(b []byte) []byte {
	if trim := bytes.TrimSpace(b); len(trim) > 0 && trim[0] == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal(trim, &m) == nil {
			planted := false
			for _, k := range []string{"error_description", "message", "developer_message"} {
				var s string
				if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil {
					m[k], _ = json.Marshal(sweepSecret + " (" + s + ")")
					planted = true
				}
			}
			if !planted {
				m["message"], _ = json.Marshal(sweepSecret + " says no")
			}
			if out, err := json.Marshal(m); err == nil {
				return out
			}
		}
	}
	if i := bytes.Index(b, []byte("<h1>")); i >= 0 {
		return slices.Concat(b[:i+4], []byte(sweepSecret+" "), b[i+4:])
	}
	return slices.Concat([]byte(sweepSecret+" "), b)
}

func sweepPlantTokens(b []byte, path string) ([]byte, int) {
	trim := bytes.TrimSpace(b)
	if len(trim) == 0 || trim[0] != '{' {
		return b, 0
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(trim, &m) != nil {
		return b, 0
	}
	keys := []string{"access_token", "refresh_token", "device_code"}
	if path == "/v5/sessions.json" {
		keys = append(keys, "token") // a Viki session
	}
	n := 0
	for _, k := range keys {
		var s string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" && !strings.HasPrefix(s, sweepTok) {
			m[k], _ = json.Marshal(sweepTok + s)
			n++
		}
	}
	if n == 0 {
		return b, 0
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b, 0
	}
	return out, n
}

// ---- sweepCounter and sweepLedger: every body, counted ----

type sweepCounter struct {
	base   http.RoundTripper
	ledger *sweepLedger
}

func (c *sweepCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	what := req.Method + " " + req.URL.Path
	r := req
	if req.Body != nil && req.Body != http.NoBody {
		r = req.Clone(req.Context())
		r.Body = c.ledger.add("request", what, req.URL.Path, 0, req.Body)
	}
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b := c.ledger.add("response", fmt.Sprintf("%s → %d", what, resp.StatusCode), req.URL.Path, resp.StatusCode, resp.Body)
	resp.Body = b
	c.ledger.mu.Lock()
	c.ledger.byResp[resp] = b
	c.ledger.mu.Unlock()
	return resp, nil
}

type sweepBody struct {
	io.ReadCloser
	kind   string // "response", "request", "caller request", "caller request (GetBody)"
	what   string
	path   string
	status int
	closes atomic.Int32
	eof    atomic.Bool
	shown  atomic.Bool // handed to the caller, who closes it
}

func (b *sweepBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *sweepBody) Close() error {
	if b.closes.Add(1) > 1 {
		return nil
	}
	return b.ReadCloser.Close()
}

type sweepLedger struct {
	mu      sync.Mutex
	bodies  []*sweepBody
	byResp  map[*http.Response]*sweepBody
	checked int
}

func (l *sweepLedger) add(kind, what, path string, status int, rc io.ReadCloser) *sweepBody {
	b := &sweepBody{ReadCloser: rc, kind: kind, what: what, path: path, status: status}
	l.mu.Lock()
	l.bodies = append(l.bodies, b)
	l.mu.Unlock()
	return b
}

// shown marks resp as handed to the caller.
func (l *sweepLedger) shown(t *testing.T, label string, resp *http.Response) {
	t.Helper()
	l.mu.Lock()
	b := l.byResp[resp]
	l.mu.Unlock()
	require.NotNil(t, b, "%s: the caller got a response the counting transport never saw", label)
	b.shown.Store(true)
}

// settle checks the bodies counted since the last settle: each closed
// exactly once (the caller's by the test, right after use), and every body
// the library consumed itself read to the end.
func (l *sweepLedger) settle(t *testing.T, when string) {
	t.Helper()
	l.mu.Lock()
	fresh := l.bodies[l.checked:]
	l.checked = len(l.bodies)
	l.mu.Unlock()
	// net/http may close a request body in its write goroutine after
	// RoundTrip returns (the RoundTripper contract allows it): give those
	// closes a moment before counting.
	deadline := time.Now().Add(5 * time.Second)
	for _, b := range fresh {
		for b.closes.Load() == 0 && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
	for _, b := range fresh {
		if n := b.closes.Load(); n != 1 {
			t.Errorf("%s: %s body of %s closed %d times, want exactly once", when, b.kind, b.what, n)
		}
		if b.kind == "response" && !b.shown.Load() && !b.eof.Load() {
			t.Errorf("%s: the library closed the body of %s without reading it to the end", when, b.what)
		}
	}
}

func (l *sweepLedger) report(t *testing.T, ports int) {
	t.Helper()
	l.settle(t, "end of sweep")
	l.mu.Lock()
	defer l.mu.Unlock()
	kinds := map[string]int{}
	internal := map[string]int{}
	shown := 0
	for _, b := range l.bodies {
		kinds[b.kind]++
		if b.kind != "response" {
			continue
		}
		if b.shown.Load() {
			shown++
			continue
		}
		internal[sweepCategory(b)]++
	}
	t.Logf("bodies counted: %d responses (%d handed to the caller and closed by the test, %d consumed by the library), "+
		"%d request bodies below the library, %d caller request bodies + %d made by GetBody; %d loopback listeners checked closed",
		kinds["response"], shown, kinds["response"]-shown, kinds["request"], kinds["caller request"], kinds["caller request (GetBody)"], ports)
	cats := make([]string, 0, len(internal))
	for c := range internal {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		t.Logf("  consumed by the library: %-45s %4d", c, internal[c])
	}
	for _, c := range []string{"token endpoint", "device/PIN poll", "verify", "revoke", "login", "rejected API answer (replayed or re-signed)"} {
		require.NotZero(t, internal[c], "the sweep saw no %s body", c)
	}
	require.NotZero(t, kinds["caller request (GetBody)"], "some caller bodies were replayed")
	require.GreaterOrEqual(t, ports, 10)
}

func sweepCategory(b *sweepBody) string {
	switch {
	case b.path == "/oauth/device/authorize" || strings.HasPrefix(b.path, "/oauth/pin/"):
		return "device/PIN poll"
	case b.path == "/oauth/verify":
		return "verify"
	case b.path == "/tokens" || b.path == "/oauth2/revoke":
		return "revoke"
	case b.path == "/v5/sessions.json":
		return "login"
	case strings.HasPrefix(b.path, "/oauth"):
		return "token endpoint"
	case b.status == http.StatusUnauthorized || b.status == http.StatusForbidden:
		return "rejected API answer (replayed or re-signed)"
	}
	return "other API answer"
}

// ---- the flows ----

// sweepAll runs every flow of every provider.
func sweepAll(t *testing.T, e *sweepEnv) {
	for _, p := range []struct {
		name string
		run  func(*testing.T, *sweepEnv)
	}{
		{"vimeo", sweepVimeo},
		{"simkl v1", sweepSimklV1},
		{"simkl v2", sweepSimklV2},
		{"viki v3", sweepVikiV3},
		{"viki v4-v5", sweepVikiAPI},
		{"loopback", sweepLoopback},
	} {
		t.Run(p.name, func(t *testing.T) {
			p.run(t, e)
			if !e.printing {
				e.ledger.settle(t, p.name)
			}
		})
	}
}

func sweepVimeo(t *testing.T, e *sweepEnv) {
	ctx := e.ctx
	fake := videoauthtest.NewVimeo()
	fake.ClientSecret = sweepSecret + "-vimeo-client-secret"
	t.Cleanup(fake.Close)
	hc, w, c := e.client(fake.Client().Transport, "")
	// The Source's clock: a replacement rejected at once is not replaced
	// again, so the test moves time between rejections.
	vclock := videoauthtest.NewClock(time.Now())
	app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, RedirectURL: "https://app.example/callback",
		APIURL: fake.URL, HTTPClient: hc, Logger: e.logger, Clock: vclock}
	v, err := videoauth.NewVimeo(app)
	require.NoError(t, err)
	bad := app
	bad.ClientSecret = sweepSecret + "-wrong-client-secret"
	vBad, err := videoauth.NewVimeo(bad)
	require.NoError(t, err)
	e.show(t, "vimeo App", app)
	e.show(t, "vimeo provider", v)

	t.Run("client credentials, re-mint and replay", func(t *testing.T) {
		src := v.ClientCredentials()
		client := videoauth.NewClient(v, src)
		e.show(t, "vimeo client-credentials Source", src)
		e.show(t, "vimeo NewClient", client)
		resp, err := client.Get(fake.URL + "/videos?query=cats")
		e.answer(t, "vimeo GET /videos", v, resp, err, 200, nil)
		tok := src.Current()
		e.planted(t, tok)
		e.show(t, "vimeo client-credentials Token", tok)

		fake.DeleteToken(sweepReal(tok.AccessToken))
		resp, err = client.Get(fake.URL + "/videos/1")
		e.answer(t, "vimeo deleted token: re-minted and replayed", v, resp, err, 200, nil)
		require.Equal(t, 2, fake.Mints())

		vclock.Advance(videoauth.DefaultRetryInterval)
		fake.DeleteAllTokens()
		resp, err = client.Do(e.request(t, http.MethodPatch, fake.URL+"/me", `{"name":"sweep"}`, true))
		e.answer(t, "vimeo PATCH replayed with its body (8002 after the replay)", v, resp, err, 401, videoauth.ErrUserTokenRequired)
		require.Equal(t, 3, fake.Mints())

		vclock.Advance(2 * videoauth.DefaultRetryInterval) // the guard doubled after the last rejection
		fake.DeleteAllTokens()
		resp, err = client.Do(e.request(t, http.MethodPatch, fake.URL+"/me", `{"name":"sweep"}`, false))
		e.answer(t, "vimeo PATCH without GetBody: not replayed", v, resp, err, 401, videoauth.ErrTokenExpired)

		tr := &videoauth.Transport{Provider: v, Source: src, Base: c}
		e.show(t, "vimeo Transport", tr)
		resp, err = (&http.Client{Transport: tr}).Get(fake.URL + "/videos")
		e.answer(t, "vimeo explicit Transport", v, resp, err, 200, nil)

		w.failNext("/videos", sweepFault{})
		_, err = client.Get(fake.URL + "/videos")
		e.fail(t, "vimeo API transport error", err, nil, false)

		for _, mode := range sweepModes {
			fake.FailTokenCalls(1, mode)
			_, err = v.ClientCredentials().Token(ctx)
			e.fail(t, "vimeo client credentials, token endpoint failing", err, videoauth.ErrServer, true)
		}
		_, err = vBad.ClientCredentials().Token(ctx)
		e.fail(t, "vimeo client credentials, wrong secret", err, videoauth.ErrInvalidClient, true)
	})

	t.Run("code flow", func(t *testing.T) {
		ar := e.authRequest(t, v, videoauth.VimeoScopePublic, videoauth.VimeoScopePrivate)
		q := e.consent(t, ar.URL).Query()
		tok, err := v.Exchange(ctx, ar, q)
		require.NoError(t, err)
		require.Equal(t, ar.Verifier, fake.LastTokenForm().Get("code_verifier"), "the planted verifier was sent")
		e.planted(t, tok)
		e.show(t, "vimeo AuthRequest", ar)
		e.show(t, "vimeo user Token", tok)
		resp, err := videoauth.NewClient(v, v.Source(tok)).Get(fake.URL + "/me")
		e.answer(t, "vimeo GET /me with the user token", v, resp, err, 200, nil)

		_, err = v.Exchange(ctx, ar, q)
		e.fail(t, "vimeo callback replayed", err, videoauth.ErrStateUsed, false)
		again := &videoauth.AuthRequest{Provider: "vimeo", State: ar.State, Verifier: ar.Verifier, RedirectURL: ar.RedirectURL}
		_, err = v.Exchange(ctx, again, q)
		e.fail(t, "vimeo code reused", err, videoauth.ErrCodeUsed, true)

		ar = e.authRequest(t, v)
		_, err = v.Exchange(ctx, ar, url.Values{"state": {sweepSecret + "-wrong-state"}, "code": {sweepSecret + "-code"}})
		e.fail(t, "vimeo wrong state", err, videoauth.ErrStateMismatch, false)
		_, err = v.Exchange(ctx, ar, url.Values{"state": {ar.State}, "code": {sweepSecret + "-code"}})
		e.fail(t, "vimeo hand-crafted code", err, videoauth.ErrCodeUsed, true)

		e.codeFlowFailures(t, "vimeo", v, vBad, fake)
	})

	t.Run("implicit grant", func(t *testing.T) {
		ar, err := v.ImplicitRequest("")
		require.NoError(t, err)
		e.plant(ar)
		fq, err := url.ParseQuery(e.consent(t, ar.URL).EscapedFragment())
		require.NoError(t, err)
		fq.Set("access_token", sweepTok+fq.Get("access_token"))
		tok, err := v.ImplicitToken(ar, "#"+fq.Encode())
		require.NoError(t, err)
		e.planted(t, tok)
		e.show(t, "vimeo implicit AuthRequest", ar)
		e.show(t, "vimeo implicit Token", tok)
		resp, err := videoauth.NewClient(v, v.Source(tok)).Get(fake.URL + "/me")
		e.answer(t, "vimeo GET /me with the implicit token", v, resp, err, 200, nil)
		_, err = v.ImplicitToken(ar, "#"+fq.Encode())
		e.fail(t, "vimeo implicit fragment replayed", err, videoauth.ErrStateUsed, false)

		ar, err = v.ImplicitRequest("")
		require.NoError(t, err)
		e.plant(ar)
		_, err = v.ImplicitToken(ar, "#access_token="+sweepSecret+"-forged&state="+sweepSecret+"-wrong-state")
		e.fail(t, "vimeo implicit wrong state", err, videoauth.ErrStateMismatch, false)
		fake.DenyConsent(true)
		fq, err = url.ParseQuery(e.consent(t, ar.URL).EscapedFragment())
		fake.DenyConsent(false)
		require.NoError(t, err)
		fq.Set("error_description", sweepSecret+" the user said no")
		_, err = v.ImplicitToken(ar, "#"+fq.Encode())
		e.fail(t, "vimeo implicit denied", err, videoauth.ErrAccessDenied, true)
	})

	t.Run("device grant", func(t *testing.T) {
		clock := videoauthtest.NewClock(time.Now())
		clock.SetAutoAdvance(true) // polling runs at once, seeing the time it would have waited
		dapp, dbad := app, bad
		dapp.Clock, dbad.Clock = clock, clock
		vd, err := videoauth.NewVimeo(dapp)
		require.NoError(t, err)
		vdBad, err := videoauth.NewVimeo(dbad)
		require.NoError(t, err)
		const poll = "/oauth/device/authorize"

		dc, err := vd.Device(ctx, videoauth.VimeoScopePrivate)
		require.NoError(t, err)
		e.show(t, "vimeo DeviceCode", dc)
		require.True(t, fake.ApproveDevice(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		e.planted(t, tok)
		e.show(t, "vimeo device Token", tok)

		dc, err = vd.Device(ctx)
		require.NoError(t, err)
		code := dc.UserCode
		w.after(poll, func() { fake.ApproveDevice(code) }) // the user approves between two polls
		polls := fake.DevicePolls()
		tok, err = dc.Wait(ctx)
		require.NoError(t, err)
		e.planted(t, tok)
		require.Equal(t, polls+2, fake.DevicePolls(), "one pending poll, then the token")

		dc, err = vd.Device(ctx)
		require.NoError(t, err)
		code = dc.UserCode
		fake.FailTokenCalls(1, videoauthtest.Fail5xx)
		w.after(poll, func() { fake.ApproveDevice(code) })
		_, err = dc.Wait(ctx)
		require.NoError(t, err, "a 5xx poll backs off and polls again")

		dc, err = vd.Device(ctx)
		require.NoError(t, err)
		require.True(t, fake.DenyDevice(dc.UserCode))
		_, err = dc.Wait(ctx)
		e.fail(t, "vimeo device denied", err, videoauth.ErrAccessDenied, true)

		dc, err = vd.Device(ctx)
		require.NoError(t, err)
		_, err = dc.Wait(ctx)
		e.fail(t, "vimeo device code expired", err, videoauth.ErrExpiredCode, false)

		dc, err = vd.Device(ctx)
		require.NoError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = dc.Wait(cctx)
		e.fail(t, "vimeo device wait cancelled", err, context.Canceled, false)

		for _, mode := range sweepModes {
			fake.FailTokenCalls(1, mode)
			_, err = vd.Device(ctx)
			e.fail(t, "vimeo device start, endpoint failing", err, videoauth.ErrServer, true)
		}
		_, err = vdBad.Device(ctx)
		e.fail(t, "vimeo device start, wrong secret", err, videoauth.ErrInvalidClient, true)
	})

	t.Run("verify, revoke, deleted user token", func(t *testing.T) {
		tok := &videoauth.Token{Provider: "vimeo", AccessToken: sweepTok + fake.IssueUserToken("private"), TokenType: "Bearer"}
		info, err := v.Verify(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, tok.AccessToken, info.AccessToken)
		e.show(t, "vimeo Verify answer", info)
		client := videoauth.NewClient(v, v.Source(tok))
		resp, err := client.Get(fake.URL + "/me")
		e.answer(t, "vimeo GET /me before the revocation", v, resp, err, 200, nil)

		resp, err = client.Do(e.request(t, http.MethodPost, fake.URL+"/me/videos", `{"upload":{"approach":"post"}}`, true))
		e.answer(t, "vimeo POST /me/videos without the upload scope: the 403 comes back, never retried", v, resp, err, 403, nil)

		require.NoError(t, v.Revoke(ctx, tok))
		_, err = v.Verify(ctx, tok)
		e.fail(t, "vimeo verify of a revoked token", err, videoauth.ErrReauthRequired, true)
		resp, err = client.Get(fake.URL + "/me")
		e.answer(t, "vimeo deleted user token: the 401 comes back", v, resp, err, 401, videoauth.ErrReauthRequired)
		_, err = client.Get(fake.URL + "/me")
		e.fail(t, "vimeo request once the grant is gone", err, videoauth.ErrReauthRequired, false)
		_, err = client.Do(e.request(t, http.MethodPatch, fake.URL+"/me", `{"name":"sweep"}`, true))
		e.fail(t, "vimeo PATCH once the grant is gone", err, videoauth.ErrReauthRequired, false)
		require.NoError(t, v.Revoke(ctx, tok), "a gone token counts as revoked")

		_, err = v.Verify(ctx, &videoauth.Token{AccessToken: sweepSecret + "-unknown-token"})
		e.fail(t, "vimeo verify of an unknown token", err, videoauth.ErrReauthRequired, true)
		w.failNext("/oauth/verify", sweepFault{status: 503, ctype: "application/json", body: `{"error":"server_error","error_description":"down"}`})
		_, err = v.Verify(ctx, tok)
		e.fail(t, "vimeo verify answered 503", err, videoauth.ErrServer, true)
		w.failNext("/tokens", sweepFault{status: 502, ctype: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>"})
		e.fail(t, "vimeo revoke answered 502", v.Revoke(ctx, tok), videoauth.ErrServer, true)
	})
}

// sweepSimklSetup starts a Simkl fake with planted secrets and an
// auto-advancing clock it shares with the App it returns.
func sweepSimklSetup(t *testing.T, e *sweepEnv, gen videoauth.SimklGeneration) (*videoauthtest.Simkl, videoauth.App, *sweepWire, *videoauthtest.Clock) {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	fake := videoauthtest.NewSimkl()
	fake.ClientSecret = sweepSecret + "-simkl-v1-secret"
	fake.V2ClientSecret = sweepSecret + "-simkl-v2-secret"
	t.Cleanup(fake.Close)
	t.Cleanup(func() { require.Zero(t, fake.MissingParams(), "a request lacked a required Simkl parameter") })
	clock := videoauthtest.NewClock(time.Now())
	clock.SetAutoAdvance(true)
	fake.SetClock(clock)
	hc, w, _ := e.client(tr, "")
	app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AppName: "videoauth-sweep", AppVersion: "0.1",
		APIURL: fake.APIURL, WebURL: fake.WebURL, RedirectURL: "http://127.0.0.1:1/callback", HTTPClient: hc, Logger: e.logger, Clock: clock}
	if gen == videoauth.SimklV2 {
		app.ClientID, app.ClientSecret = fake.V2ClientID, fake.V2ClientSecret
	}
	return fake, app, w, clock
}

func sweepSimklV1(t *testing.T, e *sweepEnv) {
	ctx := e.ctx
	fake, app, w, _ := sweepSimklSetup(t, e, videoauth.SimklV1)
	s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
	require.NoError(t, err)
	pub := app
	pub.ClientSecret = ""
	sPub, err := videoauth.NewSimkl(pub, videoauth.SimklV1)
	require.NoError(t, err)
	bad := app
	bad.ClientSecret = sweepSecret + "-wrong-client-secret"
	sBad, err := videoauth.NewSimkl(bad, videoauth.SimklV1)
	require.NoError(t, err)
	e.show(t, "simkl v1 App", app)
	e.show(t, "simkl v1 provider", s)

	t.Run("code flow, confidential client", func(t *testing.T) {
		ar := e.authRequest(t, s)
		q := e.consent(t, ar.URL).Query()
		tok, err := s.Exchange(ctx, ar, q)
		require.NoError(t, err)
		require.Equal(t, fake.ClientSecret, fake.LastTokenForm().Get("client_secret"), "the planted secret was sent")
		e.planted(t, tok)
		e.show(t, "simkl v1 AuthRequest", ar)
		e.show(t, "simkl v1 Token", tok)
		resp, err := videoauth.NewClient(s, s.Source(tok)).Get(fake.APIURL + "/users/settings")
		e.answer(t, "simkl v1 GET /users/settings", s, resp, err, 200, nil)

		_, err = s.Exchange(ctx, ar, q)
		e.fail(t, "simkl v1 callback replayed", err, videoauth.ErrStateUsed, false)
		again := &videoauth.AuthRequest{Provider: "simkl", State: ar.State, RedirectURL: ar.RedirectURL}
		_, err = s.Exchange(ctx, again, q)
		e.fail(t, "simkl v1 code reused", err, videoauth.ErrCodeUsed, true)

		ar = e.authRequest(t, s)
		_, err = s.Exchange(ctx, ar, url.Values{"state": {sweepSecret + "-wrong-state"}, "code": {sweepSecret + "-code"}})
		e.fail(t, "simkl v1 wrong state", err, videoauth.ErrStateMismatch, false)
		_, err = s.Exchange(ctx, ar, url.Values{"state": {ar.State}, "code": {sweepSecret + "-code"}})
		e.fail(t, "simkl v1 hand-crafted code", err, videoauth.ErrCodeUsed, true)

		ar = e.authRequest(t, s)
		q = e.consent(t, ar.URL).Query()
		ar.RedirectURL = "http://127.0.0.1:2/elsewhere"
		_, err = s.Exchange(ctx, ar, q)
		e.fail(t, "simkl v1 redirect mismatch", err, videoauth.ErrRedirectMismatch, true)

		ar = e.authRequest(t, sBad)
		_, err = sBad.Exchange(ctx, ar, e.consent(t, ar.URL).Query())
		e.fail(t, "simkl v1 exchange, wrong secret", err, videoauth.ErrInvalidClient, true)

		for _, mode := range sweepModes {
			ar = e.authRequest(t, s)
			q = e.consent(t, ar.URL).Query()
			fake.FailTokenCalls(1, mode)
			_, err = s.Exchange(ctx, ar, q)
			e.fail(t, "simkl v1 exchange, token endpoint failing", err, videoauth.ErrServer, true)
		}
	})

	t.Run("code flow, public client with PKCE", func(t *testing.T) {
		ar := e.authRequest(t, sPub)
		tok, err := sPub.Exchange(ctx, ar, e.consent(t, ar.URL).Query())
		require.NoError(t, err)
		require.Equal(t, ar.Verifier, fake.LastTokenForm().Get("code_verifier"), "the planted verifier was sent")
		e.planted(t, tok)
		e.show(t, "simkl v1 PKCE AuthRequest", ar)

		ar = e.authRequest(t, sPub)
		q := e.consent(t, ar.URL).Query()
		ar.Verifier = sweepSecret + "-tampered-verifier-" + strings.Repeat("t", 30)
		_, err = sPub.Exchange(ctx, ar, q)
		e.fail(t, "simkl v1 tampered verifier", err, videoauth.ErrInvalidClient, true)
	})

	t.Run("PIN flow", func(t *testing.T) {
		dc, err := s.PIN(ctx)
		require.NoError(t, err)
		e.show(t, "simkl v1 PIN DeviceCode", dc)
		require.True(t, fake.ApproveCode(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		e.planted(t, tok)
		e.show(t, "simkl v1 PIN Token", tok)

		used := *dc // Simkl answers a used code with a brand-new one
		_, err = used.Wait(ctx)
		e.fail(t, "simkl v1 PIN code replaced", err, videoauth.ErrExpiredCode, false)

		dc, err = s.PIN(ctx)
		require.NoError(t, err)
		code := dc.UserCode
		w.after("/oauth/pin/"+code, func() { fake.ApproveCode(code) })
		polls := fake.PINPolls()
		tok, err = dc.Wait(ctx)
		require.NoError(t, err)
		e.planted(t, tok)
		require.Equal(t, polls+2, fake.PINPolls(), "one pending poll, then the token")

		dc, err = s.PIN(ctx)
		require.NoError(t, err)
		code = dc.UserCode
		fake.FailTokenCalls(1, videoauthtest.FailHTML)
		w.after("/oauth/pin/"+code, func() { fake.ApproveCode(code) })
		_, err = dc.Wait(ctx)
		require.NoError(t, err, "a 5xx poll backs off and polls again")

		for _, mode := range sweepModes {
			fake.FailTokenCalls(1, mode)
			_, err = s.PIN(ctx)
			e.fail(t, "simkl v1 PIN start failing", err, videoauth.ErrServer, true)
		}
	})

	t.Run("API calls and a revoked token", func(t *testing.T) {
		access, _ := fake.IssueToken(false)
		tok := &videoauth.Token{Provider: "simkl", AccessToken: sweepTok + access, TokenType: "Bearer", Meta: map[string]string{"simkl_auth": "v1"}}
		client := videoauth.NewClient(s, s.Source(tok))
		resp, err := client.Get(fake.APIURL + "/sync/activities")
		e.answer(t, "simkl v1 GET /sync/activities", s, resp, err, 200, nil)
		fake.RateLimitNext(1, videoauthtest.RateLimit429)
		resp, err = client.Get(fake.APIURL + "/sync/activities")
		e.answer(t, "simkl v1 rate limited", s, resp, err, 429, videoauth.ErrRateLimited)
		w.failNext("/users/settings", sweepFault{})
		_, err = client.Get(fake.APIURL + "/users/settings")
		e.fail(t, "simkl v1 API transport error", err, nil, false)

		fake.RevokeToken(access)
		resp, err = client.Get(fake.APIURL + "/users/settings")
		e.answer(t, "simkl v1 revoked token: the 401 comes back", s, resp, err, 401, videoauth.ErrReauthRequired)
		_, err = client.Get(fake.APIURL + "/users/settings")
		e.fail(t, "simkl v1 request once revoked", err, videoauth.ErrReauthRequired, false)
		_, err = client.Do(e.request(t, http.MethodPost, fake.APIURL+"/sync/history", `{"movies":[]}`, true))
		e.fail(t, "simkl v1 POST once revoked", err, videoauth.ErrReauthRequired, false)
		e.fail(t, "simkl v1 revoke", s.Revoke(ctx, tok), videoauth.ErrUnsupportedGrant, false)
	})
}

func sweepSimklV2(t *testing.T, e *sweepEnv) {
	ctx := e.ctx
	fake, app, w, clock := sweepSimklSetup(t, e, videoauth.SimklV2)
	s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
	require.NoError(t, err)
	bad := app
	bad.ClientSecret = sweepSecret + "-wrong-client-secret"
	sBad, err := videoauth.NewSimkl(bad, videoauth.SimklV2)
	require.NoError(t, err)
	e.show(t, "simkl v2 App", app)
	e.show(t, "simkl v2 provider", s)
	read, write := videoauth.SimklScopeRead, videoauth.SimklScopeWrite

	t.Run("code flow", func(t *testing.T) {
		ar := e.authRequest(t, s, read, write)
		q := e.consent(t, ar.URL).Query()
		require.Equal(t, fake.WebURL, q.Get("iss"))
		tok, err := s.Exchange(ctx, ar, q)
		require.NoError(t, err)
		form := fake.LastTokenForm()
		require.Equal(t, ar.Verifier, form.Get("code_verifier"), "the planted verifier was sent")
		require.Equal(t, fake.V2ClientSecret, form.Get("client_secret"), "the planted secret was sent")
		e.planted(t, tok)
		e.show(t, "simkl v2 AuthRequest", ar)
		e.show(t, "simkl v2 Token", tok)
		resp, err := videoauth.NewClient(s, s.Source(tok)).Get(fake.APIURL + "/sync/activities")
		e.answer(t, "simkl v2 GET /sync/activities", s, resp, err, 200, nil)

		again := &videoauth.AuthRequest{Provider: "simkl", State: ar.State, RedirectURL: ar.RedirectURL, Verifier: ar.Verifier, Issuer: ar.Issuer}
		_, err = s.Exchange(ctx, again, q)
		e.fail(t, "simkl v2 code reused", err, videoauth.ErrCodeUsed, true)

		ar = e.authRequest(t, s)
		_, err = s.Exchange(ctx, ar, url.Values{"state": {sweepSecret + "-wrong-state"}, "code": {sweepSecret + "-code"}})
		e.fail(t, "simkl v2 wrong state", err, videoauth.ErrStateMismatch, false)
		_, err = s.Exchange(ctx, ar, url.Values{"state": {ar.State}, "code": {sweepSecret + "-code"}, "iss": {fake.WebURL}})
		e.fail(t, "simkl v2 hand-crafted code", err, videoauth.ErrCodeUsed, true)

		ar = e.authRequest(t, s)
		q = e.consent(t, ar.URL).Query()
		q.Set("iss", "https://evil.example")
		_, err = s.Exchange(ctx, ar, q)
		e.fail(t, "simkl v2 issuer mismatch", err, videoauth.ErrIssuerMismatch, false)

		e.codeFlowFailures(t, "simkl v2", s, sBad, fake)

		fake.WithholdScope(write) // the user's consent drops media:write: App.Logger is told
		ar = e.authRequest(t, s, read, write)
		tok, err = s.Exchange(ctx, ar, e.consent(t, ar.URL).Query())
		fake.WithholdScope("")
		require.NoError(t, err)
		require.False(t, tok.HasScope(write))
	})

	t.Run("device flow", func(t *testing.T) {
		const poll = "/oauth2/token"
		dc, err := s.Device(ctx, read, write)
		require.NoError(t, err)
		e.show(t, "simkl v2 DeviceCode", dc)
		require.True(t, fake.ApproveCode(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		e.planted(t, tok)
		e.show(t, "simkl v2 device Token", tok)

		dc, err = s.Device(ctx)
		require.NoError(t, err)
		code := dc.UserCode
		w.after(poll, func() { fake.ApproveCode(code) })
		polls := fake.DevicePolls()
		tok, err = dc.Wait(ctx)
		require.NoError(t, err)
		e.planted(t, tok)
		require.Equal(t, polls+2, fake.DevicePolls(), "one pending poll, then the token")

		dc, err = s.Device(ctx)
		require.NoError(t, err)
		code = dc.UserCode
		fake.FailTokenCalls(1, videoauthtest.Fail5xx)
		w.after(poll, func() { fake.ApproveCode(code) })
		_, err = dc.Wait(ctx)
		require.NoError(t, err, "a 5xx poll backs off and polls again")

		dc, err = s.Device(ctx)
		require.NoError(t, err)
		require.True(t, fake.DenyCode(dc.UserCode))
		_, err = dc.Wait(ctx)
		e.fail(t, "simkl v2 device denied", err, videoauth.ErrAccessDenied, true)

		for _, mode := range sweepModes {
			fake.FailTokenCalls(1, mode)
			_, err = s.Device(ctx)
			e.fail(t, "simkl v2 device start failing", err, videoauth.ErrServer, true)
		}
	})

	t.Run("refresh, replay after 401, revoke", func(t *testing.T) {
		access, refresh := fake.IssueToken(true, read, write)
		tok := &videoauth.Token{Provider: "simkl", AccessToken: sweepTok + access, RefreshToken: sweepTok + refresh, TokenType: "Bearer",
			Expiry: clock.Now().Add(7 * 24 * time.Hour), Scopes: []string{read, write}, Meta: map[string]string{"simkl_auth": "v2"}}
		src := s.Source(tok)
		e.show(t, "simkl v2 Source", src)
		client := videoauth.NewClient(s, src)
		resp, err := client.Get(fake.APIURL + "/sync/activities")
		e.answer(t, "simkl v2 GET before expiry", s, resp, err, 200, nil)

		refreshes := fake.Refreshes()
		clock.Advance(7*24*time.Hour + time.Minute) // expired: refreshed before the request
		resp, err = client.Get(fake.APIURL + "/sync/activities")
		e.answer(t, "simkl v2 GET after a refresh", s, resp, err, 200, nil)
		require.Equal(t, refreshes+1, fake.Refreshes())
		e.planted(t, src.Current())
		e.show(t, "simkl v2 refreshed Token", src.Current())

		clock.Advance(7*24*time.Hour + time.Minute)
		fake.FailTokenCalls(1, videoauthtest.Fail5xx)
		_, err = client.Get(fake.APIURL + "/sync/activities")
		e.fail(t, "simkl v2 refresh failing", err, videoauth.ErrServer, true)
		clock.Advance(time.Minute) // past the Source's retry interval
		resp, err = client.Get(fake.APIURL + "/sync/activities")
		e.answer(t, "simkl v2 GET after the refresh recovered", s, resp, err, 200, nil)

		// Another holder of the grant refreshes: our access token dies, the
		// POST is rejected, refreshed once and replayed with its body.
		other := s.Source(src.Current().Clone())
		other.Invalidate(other.Current())
		_, err = other.Token(ctx)
		require.NoError(t, err)
		killed := fake.KilledTokenUses()
		resp, err = client.Do(e.request(t, http.MethodPost, fake.APIURL+"/sync/history", `{"movies":[{"ids":{"simkl":1}}]}`, true))
		e.answer(t, "simkl v2 POST refreshed and replayed after a 401", s, resp, err, 201, nil)
		require.Equal(t, killed+1, fake.KilledTokenUses())

		clock.Advance(videoauth.DefaultRetryInterval) // other's new token is no longer guarded
		other.Invalidate(other.Current())
		_, err = other.Token(ctx)
		require.NoError(t, err)
		resp, err = client.Do(e.request(t, http.MethodPost, fake.APIURL+"/sync/history", `{"movies":[]}`, false))
		e.answer(t, "simkl v2 POST without GetBody: the 401 comes back", s, resp, err, 401, videoauth.ErrTokenExpired)

		require.NoError(t, s.Revoke(ctx, src.Current()))
		require.Equal(t, sweepReal(src.Current().RefreshToken), fake.LastTokenForm().Get("token"))
		_, err = client.Get(fake.APIURL + "/sync/activities")
		e.fail(t, "simkl v2 refresh of a revoked grant", err, videoauth.ErrReauthRequired, true)
		_, err = client.Do(e.request(t, http.MethodPost, fake.APIURL+"/sync/history", `{"movies":[]}`, true))
		e.fail(t, "simkl v2 POST once revoked", err, videoauth.ErrReauthRequired, false)
		w.failNext("/oauth2/revoke", sweepFault{status: 503, ctype: "application/json", body: `{"error":"server_error","code":503,"message":"down"}`})
		e.fail(t, "simkl v2 revoke answered 503", s.Revoke(ctx, tok), videoauth.ErrServer, true)
		e.fail(t, "simkl v2 revoke without a token", s.Revoke(ctx, nil), videoauth.ErrInvalidConfig, false)
	})
}

func sweepVikiV3(t *testing.T, e *sweepEnv) {
	ctx := e.ctx
	fake := videoauthtest.NewViki()
	fake.ClientSecret = sweepSecret + "-viki-v3-secret"
	fake.Password = sweepSecret + "-viki-password"
	fake.FacebookToken = sweepSecret + "-viki-facebook-token"
	t.Cleanup(fake.Close)
	fakeClock := videoauthtest.NewClock(time.Now())
	fake.SetClock(fakeClock) // only Viki's clock moves: our tokens still look valid, Viki answers 403
	hc, w, c := e.client(fake.Client().Transport, "")
	app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, HTTPClient: hc, Logger: e.logger}
	v, err := videoauth.NewViki(app)
	require.NoError(t, err)
	bad := app
	bad.ClientSecret = sweepSecret + "-wrong-client-secret"
	vBad, err := videoauth.NewViki(bad)
	require.NoError(t, err)
	creds := videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}
	e.show(t, "viki v3 App", app)
	e.show(t, "viki v3 provider", v)
	e.show(t, "viki VikiCredentials", creds)

	t.Run("client credentials, token in the URL", func(t *testing.T) {
		src := v.ClientCredentials()
		client := videoauth.NewClient(v, src)
		resp, err := client.Get(fake.URL + "/v3/movies.json?page=2")
		e.answer(t, "viki v3 GET /v3/movies.json", v, resp, err, 200, nil)
		e.planted(t, src.Current())
		e.show(t, "viki v3 client Token", src.Current())

		fakeClock.Advance(24*time.Hour + time.Second)
		resp, err = client.Get(fake.URL + "/v3/movies.json")
		e.answer(t, "viki v3 expired token: re-minted and replayed", v, resp, err, 200, nil)
		require.Equal(t, 2, fake.Mints())
		resp, err = client.Get(fake.URL + "/v3/users/1u.json")
		e.answer(t, "viki v3 second 403 comes back", v, resp, err, 403, nil)

		resp, err = (&http.Client{Transport: &videoauth.Transport{Provider: v, Source: src, Base: c}}).Get(fake.URL + "/v3/series.json")
		e.answer(t, "viki v3 explicit Transport", v, resp, err, 200, nil)

		before := w.urlErrors()
		w.failNext("/v3/movies.json", sweepFault{})
		_, err = client.Get(fake.URL + "/v3/movies.json")
		e.fail(t, "viki v3 transport error naming the URL with the token", err, nil, false)
		require.Equal(t, before+1, w.urlErrors(), "the transport error's URL carried the planted token")

		for _, mode := range sweepModes {
			fake.FailTokenCalls(1, mode)
			_, err = v.ClientCredentials().Token(ctx)
			e.fail(t, "viki v3 token endpoint failing", err, videoauth.ErrServer, true)
		}
		_, err = vBad.ClientCredentials().Token(ctx)
		e.fail(t, "viki v3 wrong client secret", err, videoauth.ErrInvalidClient, true)
	})

	t.Run("password grant", func(t *testing.T) {
		tok, err := v.Password(ctx, creds)
		require.NoError(t, err)
		require.Equal(t, fake.Password, fake.LastTokenForm().Get("password"), "the planted password was sent")
		e.planted(t, tok)
		e.show(t, "viki v3 password Token", tok)
		fb := videoauth.VikiCredentials{FacebookToken: fake.FacebookToken}
		e.show(t, "viki Facebook VikiCredentials", fb)
		tok, err = v.Password(ctx, fb)
		require.NoError(t, err)
		e.planted(t, tok)

		_, err = v.Password(ctx, videoauth.VikiCredentials{Username: fake.Username, Password: sweepSecret + "-wrong-password"})
		e.fail(t, "viki v3 wrong password", err, videoauth.ErrInvalidCredentials, true)
		_, err = v.Password(ctx, videoauth.VikiCredentials{FacebookToken: sweepSecret + "-wrong-facebook-token"})
		e.fail(t, "viki v3 wrong Facebook token", err, videoauth.ErrInvalidCredentials, true)
		fake.FailTokenCalls(1, videoauthtest.Fail5xx)
		_, err = v.Password(ctx, creds)
		e.fail(t, "viki v3 password grant failing", err, videoauth.ErrServer, true)
		_, err = v.Password(ctx, videoauth.VikiCredentials{Password: sweepSecret + "-alone"})
		e.fail(t, "viki v3 password without a username", err, videoauth.ErrInvalidConfig, false)
		_, err = v.Password(ctx, videoauth.VikiCredentials{Username: "fan", Password: sweepSecret + "-pw", FacebookToken: sweepSecret + "-fb"})
		e.fail(t, "viki v3 password and Facebook token", err, videoauth.ErrInvalidConfig, false)
	})

	t.Run("password source and expired user tokens", func(t *testing.T) {
		var asked atomic.Int32
		src := v.PasswordSource(func(context.Context) (videoauth.VikiCredentials, error) {
			asked.Add(1)
			return creds, nil
		})
		client := videoauth.NewClient(v, src)
		resp, err := client.Get(fake.URL + "/v3/users/1u.json")
		e.answer(t, "viki v3 GET /v3/users/1u.json", v, resp, err, 200, nil)
		fakeClock.Advance(25 * time.Hour)
		resp, err = client.Get(fake.URL + "/v3/users/1u.json")
		e.answer(t, "viki v3 expired user token: signed in again and replayed", v, resp, err, 200, nil)
		require.EqualValues(t, 2, asked.Load())
		e.show(t, "viki v3 PasswordSource", src)

		wrong := v.PasswordSource(func(context.Context) (videoauth.VikiCredentials, error) {
			return videoauth.VikiCredentials{Username: fake.Username, Password: sweepSecret + "-wrong-password"}, nil
		})
		_, err = videoauth.NewClient(v, wrong).Get(fake.URL + "/v3/users/1u.json")
		e.fail(t, "viki v3 PasswordSource with a wrong password", err, videoauth.ErrInvalidCredentials, true)

		tok, err := v.Password(ctx, creds)
		require.NoError(t, err)
		once := videoauth.NewClient(v, v.Source(tok))
		fakeClock.Advance(25 * time.Hour)
		resp, err = once.Get(fake.URL + "/v3/users/1u.json")
		e.answer(t, "viki v3 expired token without a way to re-mint: the 403 comes back", v, resp, err, 403, nil)
		_, err = once.Get(fake.URL + "/v3/users/1u.json")
		e.fail(t, "viki v3 request once the token is dead", err, videoauth.ErrReauthRequired, false)
	})
}

func sweepVikiAPI(t *testing.T, e *sweepEnv) {
	ctx := e.ctx
	fake := videoauthtest.NewViki()
	fake.AppSecret = sweepSecret + "-viki-app-secret"
	fake.Password = sweepSecret + "-viki-password"
	fake.FacebookToken = sweepSecret + "-viki-facebook-token"
	t.Cleanup(fake.Close)
	hc, w, c := e.client(fake.Client().Transport, fake.AppSecret)
	creds := videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}
	credsFn := func(context.Context) (videoauth.VikiCredentials, error) { return creds, nil }

	for _, mode := range []videoauth.VikiSigning{videoauth.VikiSignQuery, videoauth.VikiSignHeaders} {
		name := map[videoauth.VikiSigning]string{videoauth.VikiSignQuery: "query signing", videoauth.VikiSignHeaders: "header signing"}[mode]
		t.Run(name, func(t *testing.T) {
			app := videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL, HTTPClient: hc, Logger: e.logger}
			a, err := videoauth.NewVikiAPI(app, mode)
			require.NoError(t, err)
			bad := app
			bad.ClientSecret = sweepSecret + "-wrong-app-secret"
			aBad, err := videoauth.NewVikiAPI(bad, mode)
			require.NoError(t, err)
			e.show(t, "viki v4/v5 App", app)
			e.show(t, "viki v4/v5 provider", a)

			// Signed requests without a user.
			resp, err := a.SignedClient().Get(fake.URL + "/v4/movies.json?sort=views")
			e.answer(t, "viki SignedClient GET /v4/movies.json", a, resp, err, 200, nil)
			resp, err = (&http.Client{Transport: a.Signer(c)}).Get(fake.URL + "/v5/movies.json")
			e.answer(t, "viki Signer over the counting transport", a, resp, err, 200, nil)
			resp, err = aBad.SignedClient().Get(fake.URL + "/v4/movies.json")
			e.answer(t, "viki wrong app secret", aBad, resp, err, 401, videoauth.ErrInvalidClient)
			// The caller's own URL carries a dead session: CheckResponse's
			// Error.URL must redact it.
			resp, err = a.SignedClient().Do(e.request(t, http.MethodGet, fake.URL+"/v5/users/1u.json?token="+sweepSecret+"-dead-session", "", false))
			e.answer(t, "viki caller URL with a dead session", a, resp, err, 401, videoauth.ErrReauthRequired)

			// Stale clock: the first answer is drained, the request re-signed.
			fake.SetServerSkew(10 * time.Minute)
			stale := fake.StaleTimestamps()
			resp, err = a.SignedClient().Do(e.request(t, http.MethodPost,
				fake.URL+"/v4/users/1u/watchlist.json?token="+sweepTok+fake.IssueSession(), `{"id":"1100c"}`, false))
			e.answer(t, "viki stale timestamp corrected", a, resp, err, 201, nil)
			require.Equal(t, stale+1, fake.StaleTimestamps())
			fake.SetServerSkew(0)

			// Login.
			tok, err := a.Login(ctx, creds)
			require.NoError(t, err)
			e.planted(t, tok)
			e.show(t, "viki session Token", tok)
			tok2, err := a.Login(ctx, videoauth.VikiCredentials{FacebookToken: fake.FacebookToken})
			require.NoError(t, err)
			e.planted(t, tok2)
			_, err = a.Login(ctx, videoauth.VikiCredentials{Username: fake.Username, Password: sweepSecret + "-wrong-password"})
			e.fail(t, "viki login, wrong password", err, videoauth.ErrInvalidCredentials, true)
			_, err = a.Login(ctx, videoauth.VikiCredentials{FacebookToken: sweepSecret + "-wrong-facebook-token"})
			e.fail(t, "viki login, wrong Facebook token", err, videoauth.ErrInvalidCredentials, true)
			for _, fm := range sweepModes {
				fake.FailTokenCalls(1, fm)
				_, err = a.Login(ctx, creds)
				e.fail(t, "viki login failing", err, videoauth.ErrServer, true)
			}
			w.failNext("/v5/sessions.json", sweepFault{})
			_, err = a.Login(ctx, creds)
			e.fail(t, "viki login transport error", err, nil, false)

			// Sessions: signed in on first use, again when Viki expires them.
			src := a.SessionSource(credsFn)
			client := videoauth.NewClient(a, src)
			logins := fake.Logins()
			resp, err = client.Get(fake.URL + "/v5/users/1u.json")
			e.answer(t, "viki GET /v5/users/1u.json with a session", a, resp, err, 200, nil)
			e.planted(t, src.Current())
			fake.ExpireSessions()
			resp, err = client.Do(e.request(t, http.MethodPost, fake.URL+"/v4/users/1u/watchlist.json", `{"id":"1100c"}`, true))
			e.answer(t, "viki expired session: signed in again and replayed", a, resp, err, 201, nil)
			require.Equal(t, logins+2, fake.Logins())
			fake.ExpireSessions()
			resp, err = client.Do(e.request(t, http.MethodPost, fake.URL+"/v4/users/1u/watchlist.json", `{"id":"1100c"}`, false))
			e.answer(t, "viki expired session, body without GetBody: the 401 comes back", a, resp, err, 401, videoauth.ErrTokenExpired)
			before := w.urlErrors()
			w.failNext("/v5/users/1u.json", sweepFault{})
			_, err = client.Get(fake.URL + "/v5/users/1u.json")
			e.fail(t, "viki transport error naming the URL with the session", err, nil, false)
			require.Equal(t, before+1, w.urlErrors(), "the transport error's URL carried the planted session")

			once := videoauth.NewClient(a, a.Source(tok))
			fake.ExpireSessions()
			resp, err = once.Get(fake.URL + "/v5/users/1u.json")
			e.answer(t, "viki session without a way to sign in again: the 401 comes back", a, resp, err, 401, videoauth.ErrReauthRequired)
			_, err = once.Get(fake.URL + "/v5/users/1u.json")
			e.fail(t, "viki request once the session is dead", err, videoauth.ErrReauthRequired, false)

			wrong := a.SessionSource(func(context.Context) (videoauth.VikiCredentials, error) {
				return videoauth.VikiCredentials{Username: fake.Username, Password: sweepSecret + "-wrong-password"}, nil
			})
			_, err = videoauth.NewClient(a, wrong).Get(fake.URL + "/v5/users/1u.json")
			e.fail(t, "viki SessionSource with a wrong password", err, videoauth.ErrInvalidCredentials, true)
		})
	}
}

func sweepLoopback(t *testing.T, e *sweepEnv) {
	vimeo := videoauthtest.NewVimeo()
	vimeo.ClientSecret = sweepSecret + "-vimeo-client-secret"
	t.Cleanup(vimeo.Close)
	hc, _, _ := e.client(vimeo.Client().Transport, "")
	app := videoauth.App{ClientID: vimeo.ClientID, ClientSecret: vimeo.ClientSecret, APIURL: vimeo.URL, HTTPClient: hc, Logger: e.logger}
	v, err := videoauth.NewVimeo(app)
	require.NoError(t, err)
	app.ClientSecret = sweepSecret + "-wrong-client-secret"
	vBad, err := videoauth.NewVimeo(app)
	require.NoError(t, err)
	planted := func(f videoauth.CodeFlow) *sweepPlanted { return &sweepPlanted{CodeFlow: f, plant: e.plant} }
	browse := func(authURL, _, _ string) error { return e.navigate(authURL) }

	t.Run("vimeo success", func(t *testing.T) {
		flow := planted(v)
		tok, err := e.loopback(t, "loopback success", e.ctx, flow, nil, browse)
		require.NoError(t, err)
		e.planted(t, tok)
		e.show(t, "loopback AuthRequest", flow.lastRequest())
		e.show(t, "loopback Token", tok)
	})
	t.Run("vimeo wrong state, stray path, then success", func(t *testing.T) {
		tok, err := e.loopback(t, "loopback wrong state then success", e.ctx, planted(v), nil, func(authURL, redirect, _ string) error {
			stray := url.Values{"state": {sweepSecret + "-wrong-state"}, "code": {sweepSecret + "-code"}}
			if err := e.navigate(redirect + "?" + stray.Encode()); err != nil {
				return err
			}
			if err := e.navigate(strings.TrimSuffix(redirect, "/callback") + "/favicon.ico"); err != nil {
				return err
			}
			return e.navigate(authURL)
		})
		require.NoError(t, err)
		e.planted(t, tok)
	})
	t.Run("vimeo denied by the user", func(t *testing.T) {
		vimeo.DenyConsent(true)
		defer vimeo.DenyConsent(false)
		_, err := e.loopback(t, "loopback denied", e.ctx, planted(v), nil, browse)
		e.fail(t, "loopback denied", err, videoauth.ErrAccessDenied, false)
	})
	t.Run("vimeo denied with a description", func(t *testing.T) {
		_, err := e.loopback(t, "loopback denied with a description", e.ctx, planted(v), nil, func(_, redirect, state string) error {
			back := url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {sweepSecret + " the user said no"}}
			return e.navigate(redirect + "?" + back.Encode())
		})
		e.fail(t, "loopback denied with a description", err, videoauth.ErrAccessDenied, true)
	})
	t.Run("vimeo failed exchange", func(t *testing.T) {
		_, err := e.loopback(t, "loopback failed exchange", e.ctx, planted(vBad), nil, browse)
		e.fail(t, "loopback failed exchange", err, videoauth.ErrInvalidClient, true)
	})
	t.Run("ctx cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		_, err := e.loopback(t, "loopback ctx cancelled", ctx, planted(v), nil, func(string, string, string) error {
			cancel()
			return nil
		})
		e.fail(t, "loopback ctx cancelled", err, context.Canceled, false)
	})
	t.Run("timeout", func(t *testing.T) {
		_, err := e.loopbackTimeout(t, "loopback timeout", planted(v), func(string, string, string) error { return nil })
		e.fail(t, "loopback timeout", err, videoauth.ErrAccessDenied, false)
	})
	t.Run("Open fails", func(t *testing.T) {
		_, err := e.loopback(t, "loopback Open fails", e.ctx, planted(v), nil, func(string, string, string) error {
			return errors.New("sweep: no browser")
		})
		e.fail(t, "loopback Open fails", err, nil, false)
	})

	simkl, sapp, _, _ := sweepSimklSetup(t, e, videoauth.SimklV1)
	sapp.ClientSecret = "" // a public client: PKCE
	s1, err := videoauth.NewSimkl(sapp, videoauth.SimklV1)
	require.NoError(t, err)
	sapp.ClientID, sapp.ClientSecret = simkl.V2ClientID, simkl.V2ClientSecret
	s2, err := videoauth.NewSimkl(sapp, videoauth.SimklV2)
	require.NoError(t, err)
	t.Run("simkl v1 PKCE", func(t *testing.T) {
		tok, err := e.loopback(t, "loopback simkl v1", e.ctx, planted(s1), nil, browse)
		require.NoError(t, err)
		e.planted(t, tok)
	})
	t.Run("simkl v1 denial never comes back", func(t *testing.T) {
		simkl.DenyConsent(true)
		defer simkl.DenyConsent(false)
		_, err := e.loopbackTimeout(t, "loopback simkl v1 denial", planted(s1), browse)
		e.fail(t, "loopback simkl v1 denial", err, videoauth.ErrAccessDenied, false)
	})
	t.Run("simkl v2", func(t *testing.T) {
		tok, err := e.loopback(t, "loopback simkl v2", e.ctx, planted(s2), nil, browse)
		require.NoError(t, err)
		e.planted(t, tok)
	})
}

// ---- the two sweeps ----

// sweepConsentFake is a fake whose consent can be denied and whose token
// endpoint can be made to fail.
type sweepConsentFake interface {
	DenyConsent(bool)
	FailTokenCalls(int, videoauthtest.FailMode)
}

// codeFlowFailures runs the failing variants every code flow shares: a
// tampered verifier, a denial whose description carries the sentinel, a
// wrong client secret (bad) and a failing token endpoint.
func (e *sweepEnv) codeFlowFailures(t *testing.T, name string, f, bad videoauth.CodeFlow, fake sweepConsentFake) {
	t.Helper()
	ctx := e.ctx
	ar := e.authRequest(t, f)
	q := e.consent(t, ar.URL).Query()
	ar.Verifier = sweepSecret + "-tampered-verifier-" + strings.Repeat("t", 30)
	_, err := f.Exchange(ctx, ar, q)
	e.fail(t, name+" tampered verifier", err, videoauth.ErrCodeUsed, true)

	fake.DenyConsent(true)
	ar = e.authRequest(t, f)
	q = e.consent(t, ar.URL).Query()
	fake.DenyConsent(false)
	require.Equal(t, "access_denied", q.Get("error"))
	q.Set("error_description", sweepSecret+" the user said no")
	_, err = f.Exchange(ctx, ar, q)
	e.fail(t, name+" denied consent", err, videoauth.ErrAccessDenied, true)

	ar = e.authRequest(t, bad)
	_, err = bad.Exchange(ctx, ar, e.consent(t, ar.URL).Query())
	e.fail(t, name+" exchange, wrong secret", err, videoauth.ErrInvalidClient, true)

	for _, mode := range sweepModes {
		ar = e.authRequest(t, f)
		q = e.consent(t, ar.URL).Query()
		fake.FailTokenCalls(1, mode)
		_, err = f.Exchange(ctx, ar, q)
		e.fail(t, name+" exchange, token endpoint failing", err, videoauth.ErrServer, true)
	}
}

// TestSecretsNeverPrinted plants one sentinel in every place a secret can
// be — client secrets, passwords and Facebook tokens, states and PKCE
// verifiers, hand-crafted codes, every access, refresh, device and session
// token the fakes issue (so also the Viki v3 access_token and v5 token query
// parameters), and the prose and HTML of every failing answer — runs every
// flow, and prints every error (Error(), %v, %+v, %#v, %s, %q, slog JSON and
// text), every value a caller may print (App, providers, AuthRequest, Token,
// DeviceCode, VikiCredentials, Source, Transport, NewClient's client, the
// request behind a returned response) and all App.Logger output, looking for
// the sentinel in any encoding.
func TestSecretsNeverPrinted(t *testing.T) {
	e := sweepNew(t, true)
	sweepAll(t, e)

	logs := e.logs.String()
	e.scan(t, "App.Logger", "the library's own log output", logs)
	require.Contains(t, logs, "media:write", "App.Logger is wired: Simkl's scope warning reached it")
	require.Contains(t, logs, `"level":"WARN"`, "…through the JSON handler too")

	var tokens, bodies, urls int
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range e.wires {
		w.mu.Lock()
		tokens, bodies, urls = tokens+w.tokens, bodies+w.bodies, urls+w.urls
		w.mu.Unlock()
	}
	t.Logf("checked: %d errors (%d *videoauth.Error among them), %d values, %d printed texts scanned, %d bytes of App.Logger output",
		e.errs, e.errStructs, e.values, e.scans, len(logs))
	t.Logf("planted: %d tokens in answers, %d failing answers, %d AuthRequests (state, verifier); %d errors proven armed "+
		"(their raw body or description held the sentinel), %d transport errors whose URL held a planted token",
		tokens, bodies, e.plants.Load(), e.armed, urls)
	require.GreaterOrEqual(t, e.armed, 60, "most failures carried the sentinel")
	// A failed replacement after a rejection is now the service's answer
	// (typed by CheckResponse), not a transport error; what is left are
	// the network failures.
	require.GreaterOrEqual(t, urls, 1)
	require.GreaterOrEqual(t, tokens, 40)
}

// TestEveryBodyClosed runs the same flows with every body counted: each
// response body the library received was closed exactly once — by the
// library when it consumed it (token endpoints, device and PIN polls,
// verify, revoke, logins, the first answer of a replayed or re-signed
// request), read to the end first, and by the test when the library handed
// it over — and every request body given to the library (and every one
// GetBody made) was closed exactly once. Loopback's listener is gone on
// every way out.
func TestEveryBodyClosed(t *testing.T) {
	e := sweepNew(t, false)
	sweepAll(t, e)
	e.ledger.report(t, e.ports)
}
