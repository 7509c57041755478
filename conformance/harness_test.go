package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The one user of every server, and the registered redirect URI of every
// web client. The redirect URI is never served: the browser stops at it and
// hands its query to the application, as a real browser would hand it to
// the application's callback handler.
const (
	userName    = "alice"
	userPass    = "wonder land&co"
	redirectURL = "https://app.example/callback"
	apiScope    = "api:read"
)

// Client authentication methods (RFC 6749 §2.3.1, RFC 7591 §2).
const (
	methodBasic = "client_secret_basic"
	methodPost  = "client_secret_post"
)

func TestMain(m *testing.M) {
	// zitadel's op package logs through slog's default logger; keep a test
	// run's output to what matters.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	os.Exit(m.Run())
}

// client is one client registered at a server.
type client struct {
	ID, Secret string
	Method     string // methodBasic or methodPost: what the server expects
}

// authServer is one authorization server under test, started on an
// httptest server with its clients registered. Every field is filled by
// the server's constructor.
type authServer struct {
	name   string
	issuer string
	// Endpoints (RFC 6749 §3, RFC 8628 §3.1, RFC 7009 §2, RFC 7662 §2);
	// deviceURL is "" where the server has no device authorization.
	authURL, tokenURL, deviceURL, revokeURL, introspectURL string
	// discovery: the server serves its metadata at
	// issuer + "/.well-known/openid-configuration".
	discovery bool
	// basic and post are confidential web clients registered for the
	// authorization code, refresh token and client credentials grants (and
	// the device grant where the server has one, for basic), expecting
	// client_secret_basic and client_secret_post. Their IDs and secrets hold
	// characters that RFC 6749 §2.3.1 makes the client form-encode in the
	// Basic header.
	basic, post client
	// rs is the resource server's credential for introspection.
	rs client
	// userScopes are the scopes a user grant asks for, including the one
	// that makes the server issue a refresh token.
	userScopes []string
	// ccScopes are the scopes a client credentials grant asks for.
	ccScopes []string
	// rec sees every request to the token, device, revocation and
	// introspection endpoints.
	rec *recorder
	// expireAccess makes the server stop accepting accessToken, as when it
	// expires, while its refresh token stays good.
	expireAccess func(t *testing.T, accessToken string)
}

// servers lists the servers every conformance test runs against.
var servers = []struct {
	name  string
	start func(t *testing.T) *authServer
}{
	{"zitadel", newZitadel},
	{"fosite", newFosite},
}

// forEachServer runs f against a fresh instance of every server.
func forEachServer(t *testing.T, f func(t *testing.T, as *authServer)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) { f(t, s.start(t)) })
	}
}

// ctxT is a context that ends with the test, or after 30 s.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// exchange is one request to an endpoint the recorder watches, with the
// server's answer.
type exchange struct {
	Path     string
	Grant    string // grant_type
	ClientID string // the client as it authenticated (Basic decoded, or the form)
	Auth     string // methodBasic, methodPost, "none", or "basic+post"
	Form     url.Values
	Status   int
	Error    string // the error code of an error answer (RFC 6749 §5.2)
	Body     []byte
}

// recorder keeps every exchange with the watched endpoints. It also
// passes each one to the channel of await, so a test can wait for the
// server to have answered a poll.
type recorder struct {
	paths map[string]bool
	mu    sync.Mutex
	log   []exchange
	ch    chan exchange
}

func newRecorder(paths ...string) *recorder {
	r := &recorder{paths: map[string]bool{}, ch: make(chan exchange, 1024)}
	for _, p := range paths {
		r.paths[p] = true
	}
	return r
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
	c.ResponseWriter.WriteHeader(s)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len() < 1<<16 {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// wrap records the exchanges of h with the recorder's paths.
func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.paths[req.URL.Path] {
			h.ServeHTTP(w, req)
			return
		}
		raw, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		req.Body = io.NopCloser(bytes.NewReader(raw))
		form, _ := url.ParseQuery(string(raw))
		ex := exchange{Path: req.URL.Path, Grant: form.Get("grant_type"), Form: form}
		id, _, basic := req.BasicAuth()
		post := form.Get("client_secret") != ""
		switch {
		case basic && post:
			ex.Auth = "basic+post"
		case basic:
			ex.Auth = methodBasic
			ex.ClientID, _ = url.QueryUnescape(id)
		case post:
			ex.Auth = methodPost
			ex.ClientID = form.Get("client_id")
		default:
			ex.Auth = "none"
			ex.ClientID = form.Get("client_id")
		}
		cw := &captureWriter{ResponseWriter: w}
		h.ServeHTTP(cw, req)
		ex.Status = cw.status
		ex.Body = cw.body.Bytes()
		if ex.Status >= 400 {
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(ex.Body, &e) == nil {
				ex.Error = e.Error
			}
		}
		r.mu.Lock()
		r.log = append(r.log, ex)
		r.mu.Unlock()
		select {
		case r.ch <- ex:
		default:
		}
	})
}

// find returns the recorded exchanges with path and, unless grant is "",
// that grant type.
func (r *recorder) find(path, grant string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, ex := range r.log {
		if ex.Path == path && (grant == "" || ex.Grant == grant) {
			out = append(out, ex)
		}
	}
	return out
}

// await waits (10 s at most, real time: this is the server answering, not
// a token expiring) for an exchange for which match is true.
func (r *recorder) await(t *testing.T, what string, match func(exchange) bool) exchange {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ex := <-r.ch:
			if match(ex) {
				return ex
			}
		case <-timeout:
			t.Fatalf("no %s seen by the server", what)
		}
	}
}

// mark drops what await has not read yet, so the next await sees only
// exchanges from now on.
func (r *recorder) mark() {
	for {
		select {
		case <-r.ch:
		default:
			return
		}
	}
}

// lastAuth is the client authentication of the last exchange with path
// and grant.
func (r *recorder) lastAuth(t *testing.T, path, grant string) exchange {
	t.Helper()
	exs := r.find(path, grant)
	if len(exs) == 0 {
		t.Fatalf("the server saw no %s request with grant %q", path, grant)
	}
	return exs[len(exs)-1]
}

// browser is a user agent: it keeps cookies, follows redirects by hand,
// fills the one form of a page and stops at the application's redirect URI.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var (
	formTag   = regexp.MustCompile(`(?is)<form\b([^>]*)>`)
	inputTag  = regexp.MustCompile(`(?is)<(?:input|button)\b([^>]*)>`)
	attribute = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*"([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attribute.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// page is an HTML page with one form.
type page struct {
	url    *url.URL
	body   string
	action *url.URL
	method string
	fields url.Values
	submit map[string]bool // the values of the submit buttons named "action"
}

func (b *browser) parse(u *url.URL, body string) *page {
	b.t.Helper()
	p := &page{url: u, body: body, fields: url.Values{}, submit: map[string]bool{}}
	m := formTag.FindStringSubmatch(body)
	if m == nil {
		return p
	}
	fa := attrs(m[1])
	action, err := u.Parse(fa["action"])
	if err != nil {
		b.t.Fatalf("form action %q: %v", fa["action"], err)
	}
	p.action, p.method = action, strings.ToUpper(fa["method"])
	for _, in := range inputTag.FindAllStringSubmatch(body, -1) {
		a := attrs(in[1])
		switch {
		case a["type"] == "submit" && a["name"] == "action":
			p.submit[a["value"]] = true
		case a["name"] != "":
			p.fields.Set(a["name"], a["value"])
		}
	}
	return p
}

// get loads u, following redirects by hand until a page is served or the
// next location starts with stop; it returns the page, or the location
// where it stopped.
func (b *browser) get(u *url.URL, stop string) (*page, *url.URL) {
	return b.do(http.MethodGet, u, nil, stop)
}

func (b *browser) do(method string, u *url.URL, form url.Values, stop string) (*page, *url.URL) {
	b.t.Helper()
	for range 10 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, u.String(), body)
		if err != nil {
			b.t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := b.c.Do(req)
		if err != nil {
			b.t.Fatalf("browser: %s %s: %v", method, u, err)
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := u.Parse(resp.Header.Get("Location"))
			if err != nil {
				b.t.Fatalf("browser: bad Location %q: %v", resp.Header.Get("Location"), err)
			}
			if stop != "" && strings.HasPrefix(loc.String(), stop) {
				return nil, loc
			}
			u, method, form = loc, http.MethodGet, nil
			continue
		}
		if resp.StatusCode != http.StatusOK {
			b.t.Fatalf("browser: %s %s: %s: %s", method, u, resp.Status, raw)
		}
		return b.parse(u, string(raw)), nil
	}
	b.t.Fatalf("browser: too many redirects from %s", u)
	return nil, nil
}

// signIn fills the page's form as the user and presses the button
// answering action ("allow" or "deny"), with extra fields set.
func (b *browser) signIn(p *page, action string, extra url.Values, stop string) (*page, *url.URL) {
	b.t.Helper()
	if p.action == nil {
		b.t.Fatalf("browser: no form on %s:\n%s", p.url, p.body)
	}
	if !p.submit[action] {
		b.t.Fatalf("browser: the form on %s has no %q button:\n%s", p.url, action, p.body)
	}
	f := url.Values{}
	for k, v := range p.fields {
		f[k] = v
	}
	f.Set("username", userName)
	f.Set("password", userPass)
	f.Set("action", action)
	for k, v := range extra {
		f[k] = v
	}
	return b.do(p.method, p.action, f, stop)
}

// authorize opens authURL as the user would after the application sent
// them there, signs in, answers the consent with action and returns the
// query of the redirect back to the application (RFC 6749 §4.1.2).
func (b *browser) authorize(authURL, action string) url.Values {
	b.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		b.t.Fatal(err)
	}
	p, loc := b.get(u, redirectURL)
	if loc == nil {
		_, loc = b.signIn(p, action, nil, redirectURL)
	}
	if loc == nil {
		b.t.Fatalf("browser: the server did not send the user back to %s", redirectURL)
	}
	return loc.Query()
}

// approveDevice is the user on another device: they open
// verificationURI, enter userCode, sign in and answer action. It returns
// the text of the last page.
func (b *browser) approveDevice(verificationURI, userCode, action string) string {
	b.t.Helper()
	u, err := url.Parse(verificationURI)
	if err != nil {
		b.t.Fatal(err)
	}
	p, _ := b.get(u, "")
	p, _ = b.signIn(p, action, url.Values{"user_code": {userCode}}, "")
	return p.body
}

// postForm sends an RFC 6749 form request to endpoint, authenticating as
// c with c.Method, and decodes the JSON answer.
func postForm(t *testing.T, endpoint string, c client, form url.Values) (int, map[string]any) {
	t.Helper()
	form = cloneValues(form)
	if c.Method == methodPost {
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.Method == methodBasic {
		// RFC 6749 §2.3.1: id and secret are form-encoded, then Basic.
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// refreshRefused asserts that the server refuses refreshToken for c now:
// a 400 invalid_grant (RFC 6749 §5.2). Call it last: fosite answers a
// rotated-out refresh token by revoking the whole grant, the new tokens
// with it (reuse detection, RFC 9700 §4.14.2).
func (as *authServer) refreshRefused(t *testing.T, c client, refreshToken string) {
	t.Helper()
	status, body := postForm(t, as.tokenURL, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("%s: refresh with a dead refresh token: got %d %v, want 400 invalid_grant", as.name, status, body)
	}
}

// introspection is an RFC 7662 §2.2 answer.
type introspection struct {
	Active   bool   `json:"active"`
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	Sub      string `json:"sub"`
}

// introspect asks the server about token as the resource server does.
func (as *authServer) introspect(ctx context.Context, token string) (introspection, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.introspectURL, strings.NewReader(form.Encode()))
	if err != nil {
		return introspection{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(as.rs.ID), url.QueryEscape(as.rs.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return introspection{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return introspection{}, fmt.Errorf("introspection: %s: %s", resp.Status, raw)
	}
	var in introspection
	if err := json.Unmarshal(raw, &in); err != nil {
		return introspection{}, fmt.Errorf("introspection: %v: %s", err, raw)
	}
	return in, nil
}

// active asserts what introspection says of token.
func (as *authServer) active(t *testing.T, token string, want bool) introspection {
	t.Helper()
	in, err := as.introspect(ctxT(t), token)
	if err != nil {
		t.Fatal(err)
	}
	if in.Active != want {
		t.Errorf("%s: introspection of the token: active=%v, want %v", as.name, in.Active, want)
	}
	return in
}

// apiServer is a resource server on its own httptest server. It accepts a
// Bearer token (RFC 6750 §2.1) only when the authorization server's
// introspection calls it active, and answers anything else with 401 and
// WWW-Authenticate: Bearer error="invalid_token" (RFC 6750 §3.1).
type apiServer struct {
	*httptest.Server
	as   *authServer
	mu   sync.Mutex
	hits []apiHit
}

// apiHit is one request the API answered.
type apiHit struct {
	Method, Token, Body string
	Status              int
}

func newAPI(t *testing.T, as *authServer) *apiServer {
	a := &apiServer{as: as}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	hit := apiHit{Method: r.Method, Body: string(body)}
	defer func() {
		a.mu.Lock()
		a.hits = append(a.hits, hit)
		a.mu.Unlock()
	}()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		hit.Status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="conformance"`)
		w.WriteHeader(hit.Status)
		return
	}
	hit.Token = tok
	in, err := a.as.introspect(r.Context(), tok)
	if err != nil {
		hit.Status = http.StatusBadGateway
		http.Error(w, err.Error(), hit.Status)
		return
	}
	if !in.Active {
		hit.Status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="conformance", error="invalid_token", error_description="The access token is not active"`)
		w.WriteHeader(hit.Status)
		return
	}
	hit.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": in.Sub, "client_id": in.ClientID, "echo": string(body)})
}

func (a *apiServer) log() []apiHit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]apiHit(nil), a.hits...)
}

// waitFor waits (real time, 10 s at most) until cond holds: for another
// goroutine to reach a state, never for a token or code to age.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
