package videoauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// VikiAPIURL is the host of Viki's current API (v4 and v5).
const VikiAPIURL = "https://api.viki.io"

// maxSignedBody caps a request body the signer reads to sign it.
const maxSignedBody = 16 << 20

// VikiSigning says where the v4/v5 signature travels
// (docs/viki.md#request-signing).
type VikiSigning int

const (
	// VikiSignQuery appends t and sig to the query: ...&app=ID&t=TS&sig=HEX.
	VikiSignQuery VikiSigning = iota
	// VikiSignHeaders sends the timestamp and signature headers and leaves
	// t and sig out of the URL, which keeps URLs cacheable.
	VikiSignHeaders
)

// VikiAPI is Viki's current API (v4/v5), which is not OAuth: every request
// carries the app id and a timestamp and is signed with HMAC-SHA1 keyed by
// the app secret, over the path and query (app and t appended) plus the
// body (docs/viki.md#request-signing). When Viki answers "stale timestamp", the
// signer adopts the server's clock offset and retries once.
//
// Users sign in with v5 sessions (POST /v5/sessions.json); the session
// token travels in the token query parameter, under the signature. VikiAPI
// is a Provider for those sessions: NewClient(api, api.SessionSource(...))
// signs every request, attaches the session, and when Viki answers vcode
// 11 (expired session) signs in again and replays the request once. For
// requests without a user, use SignedClient.
type VikiAPI struct {
	app     App
	api     *url.URL
	signing VikiSigning
	// offset is the server clock minus ours, in seconds. It is behind a
	// pointer, set by NewVikiAPI, so that VikiAPI holds no lock and its
	// printing methods can have value receivers (see print.go): the copy
	// they make reads only the pointer, never what a signer stores.
	offset *atomic.Int64
	ep     *endpoint
}

// NewVikiAPI returns Viki's v4/v5 API for app: App.ClientID is the app id,
// App.ClientSecret the app secret. signing selects query or header
// signatures. App.APIURL points it at a fake or a proxy.
func NewVikiAPI(app App, signing VikiSigning) (*VikiAPI, error) {
	api, err := baseURL(app.APIURL, VikiAPIURL)
	if err != nil {
		return nil, err
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return nil, configErr("viki: App.ClientID (app id) and App.ClientSecret (app secret) are required")
	}
	if signing != VikiSignQuery && signing != VikiSignHeaders {
		return nil, configErr("viki: unknown signing mode %d", int(signing))
	}
	a := &VikiAPI{app: app, api: api, signing: signing, offset: new(atomic.Int64)}
	a.ep = newEndpoint("viki", app, nil, vikiErrorShape, nil)
	return a, nil
}

// Name returns "viki".
func (a *VikiAPI) Name() string { return "viki" }

func (a *VikiAPI) appHTTPClient() *http.Client { return a.app.HTTPClient }

// Config returns a configuration holding only the app id: v4/v5 has no
// OAuth endpoints.
func (a *VikiAPI) Config() *oauth2.Config { return &oauth2.Config{ClientID: a.app.ClientID} }

// Owns reports whether u is on Viki's API origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none. Only
// such requests are signed or carry a session.
func (a *VikiAPI) Owns(u *url.URL) bool { return sameOrigin(u, a.api) }

// Authorize puts the session token in the token query parameter; the
// signer below signs it with the rest of the query.
func (a *VikiAPI) Authorize(r *http.Request, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("viki: no session token")
	}
	r.URL.RawQuery = setParam(r.URL.RawQuery, "token", t.AccessToken)
	return nil
}

// setParam sets name=value in raw, replacing any earlier value and keeping
// the rest of the query byte for byte.
func setParam(raw, name, value string) string {
	var b strings.Builder
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == name {
			continue
		}
		b.WriteString(p)
		b.WriteByte('&')
	}
	b.WriteString(url.QueryEscape(name))
	b.WriteByte('=')
	b.WriteString(url.QueryEscape(value))
	return b.String()
}

// Verdict reads a v4/v5 response: vcode 11 (or 7402) means the session
// expired — sign in again and replay once. Viki may send such bodies with
// any status ≥ 400 (docs/viki.md#error-shapes).
func (a *VikiAPI) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode < 400 {
		return VerdictOK
	}
	switch code, _ := vikiErrorShape(peekBody(resp, 4<<10)); code {
	case "11", "7402":
		return VerdictExpired
	}
	return VerdictOK
}

// apiError implements apiErrorer for CheckResponse.
func (a *VikiAPI) apiError(rawURL string, resp *wire.Response) *Error {
	return vikiAPIRefine(a.ep.errorFrom("api", rawURL, resp))
}

// vikiAPIRefine maps v4/v5 codes: vcode 4 (invalid signature) means the
// app id or secret is wrong.
func vikiAPIRefine(e *Error) *Error {
	vikiRefine(e)
	if e.Code == "4" {
		e.Err = ErrInvalidClient
	}
	return e
}

func (a *VikiAPI) wrapBase(b http.RoundTripper) http.RoundTripper { return &vikiSigner{a: a, base: b} }

// Signer returns an http.RoundTripper that signs every request to Viki's
// API host and sends it with base (nil: the App's HTTP client's transport,
// else http.DefaultTransport); requests to other hosts pass unsigned.
func (a *VikiAPI) Signer(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		if hc := a.app.HTTPClient; hc != nil && hc.Transport != nil {
			base = hc.Transport
		} else {
			base = http.DefaultTransport
		}
	}
	return a.wrapBase(base)
}

// SignedClient returns an *http.Client that signs requests to Viki's API
// without a user session.
func (a *VikiAPI) SignedClient() *http.Client {
	c := http.Client{}
	if a.app.HTTPClient != nil {
		c = *a.app.HTTPClient
	}
	c.Transport = a.Signer(c.Transport)
	return &c
}

// Sign returns the hex HMAC-SHA1 of pathAndQuery followed by body, keyed by
// the app secret: Viki's request signature.
func (a *VikiAPI) Sign(pathAndQuery string, body []byte) string {
	m := hmac.New(sha1.New, []byte(a.app.ClientSecret))
	io.WriteString(m, pathAndQuery)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// vikiSigner signs requests, and corrects the clock once on "stale
// timestamp".
type vikiSigner struct {
	a    *VikiAPI
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (s *vikiSigner) RoundTrip(req *http.Request) (*http.Response, error) {
	if !s.a.Owns(req.URL) {
		return s.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := wire.ReadCapped(req.Body, maxSignedBody)
		req.Body.Close()
		if err != nil {
			return nil, errorf("viki: cannot read the request body to sign it: %w", err)
		}
		body = b
	}
	resp, err := s.send(req, body)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	server, ok := staleTimestamp(peekBody(resp, 4<<10))
	if !ok {
		return resp, nil
	}
	s.a.offset.Store(server - s.a.ep.clock.Now().Unix())
	drain(resp)
	return s.send(req, body)
}

// staleTimestamp reads {"error":"stale timestamp","current_timestamp":N}.
func staleTimestamp(body []byte) (int64, bool) {
	var e struct {
		Error   string          `json:"error"`
		Current json.RawMessage `json:"current_timestamp"`
	}
	if json.Unmarshal(body, &e) != nil || !strings.EqualFold(strings.TrimSpace(e.Error), "stale timestamp") {
		return 0, false
	}
	n, err := strconv.ParseInt(jsonCode(e.Current), 10, 64)
	return n, err == nil && n > 0
}

// send signs a clone of req with body and sends it.
func (s *vikiSigner) send(req *http.Request, body []byte) (*http.Response, error) {
	r := req.Clone(req.Context())
	ts := strconv.FormatInt(s.a.ep.clock.Now().Unix()+s.a.offset.Load(), 10)
	q := stripParams(r.URL.RawQuery, "t", "sig")
	if !hasParam(q, "app") {
		q = joinQuery(q, "app="+url.QueryEscape(s.a.app.ClientID))
	}
	path := r.URL.EscapedPath()
	if s.a.signing == VikiSignHeaders {
		r.Header.Set("timestamp", ts)
		r.Header.Set("signature", s.a.Sign(path+"?"+q+"&t="+ts, body))
	} else {
		q = joinQuery(q, "t="+ts)
		q += "&sig=" + s.a.Sign(path+"?"+q, body)
	}
	r.URL.RawQuery = q
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.base.RoundTrip(r)
	if err != nil {
		return nil, redactErr(err)
	}
	resp.Request = req
	return resp, nil
}

func joinQuery(q, p string) string {
	if q == "" {
		return p
	}
	return q + "&" + p
}

func hasParam(raw, name string) bool {
	for _, p := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == name {
			return true
		}
	}
	return false
}

// stripParams drops the named parameters (a signature or timestamp from an
// earlier attempt) and keeps the rest byte for byte.
func stripParams(raw string, names ...string) string {
	if raw == "" {
		return ""
	}
	kept := make([]string, 0, 4)
	for _, p := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(p, "=")
		uk, err := url.QueryUnescape(k)
		if p == "" || err == nil && containsString(names, uk) {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Login signs a user in to Viki v5 (POST /v5/sessions.json, signed, with
// {"username","password"} or {"facebook_token"}) and returns the session as
// a Token: AccessToken is the session token, UserID the user's id ("1u"),
// User the user object as sent. Wrong credentials give an *Error matching
// ErrInvalidCredentials.
func (a *VikiAPI) Login(ctx context.Context, c VikiCredentials) (*Token, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	payload := map[string]string{"username": c.Username, "password": c.Password}
	if c.FacebookToken != "" {
		payload = map[string]string{"facebook_token": c.FacebookToken}
	}
	body, _ := json.Marshal(payload)
	u := a.api.String() + "/v5/sessions.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, configErr("viki: cannot build the login request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := wire.NoRedirect(a.app.httpClient())
	hc.Transport = a.Signer(hc.Transport)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError("viki", "login", req.URL, wire.StripURL(err))
	}
	defer resp.Body.Close()
	b, err := wire.ReadCapped(resp.Body, wire.MaxBody)
	if err != nil {
		return nil, transportError("viki", "login", req.URL, err)
	}
	wr := &wire.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	// An error member is an error whatever the status, as on token endpoints.
	if resp.StatusCode < 200 || resp.StatusCode > 299 || hasErrorMember(b) {
		e := vikiAPIRefine(a.ep.errorFrom("login", u, wr))
		switch {
		case e.Err != nil:
		case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
			e.Err = ErrInvalidCredentials
		case e.Status >= 200 && e.Status <= 299:
			e.Err = ErrBadResponse // an error in a success answer
		}
		return nil, e
	}
	return parseVikiSession(b)
}

// hasErrorMember reports whether body is a JSON object with a non-empty
// string "error".
func hasErrorMember(body []byte) bool {
	if !looksJSON(body) {
		return false
	}
	var m struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	code, ok := jsonString(m.Error)
	return ok && code != ""
}

// parseVikiSession reads {"token":"…","user":{"id":"1u",…}}.
func parseVikiSession(body []byte) (*Token, error) {
	var s struct {
		Token json.RawMessage `json:"token"`
		User  json.RawMessage `json:"user"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, &Error{Provider: "viki", Op: "login", Status: 200, Body: capBody(body), Err: fmt.Errorf("%w: session answer is not a JSON object", ErrBadResponse)}
	}
	tok, ok := jsonString(s.Token)
	if !ok || tok == "" || !vschar(tok) {
		return nil, &Error{Provider: "viki", Op: "login", Status: 200, Body: capBody(body), Err: ErrBadResponse}
	}
	t := &Token{Provider: "viki", AccessToken: tok, TokenType: "viki-session", Meta: map[string]string{"viki_api": "v5"}}
	var extra map[string]json.RawMessage
	if json.Unmarshal(body, &extra) == nil {
		delete(extra, "token")
		delete(extra, "user")
		if len(extra) > 0 {
			t.Extra = extra
		}
	}
	if len(s.User) > 0 && string(s.User) != "null" {
		t.User = bytes.Clone(s.User)
		var u struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(s.User, &u) == nil {
			t.UserID = jsonCode(u.ID)
		}
	}
	return t, nil
}

// SessionSource returns a Source of v5 sessions that signs in with the
// credentials creds supplies, on first use and again whenever Viki reports
// the session expired (vcode 11). Keeping the ability to sign in again is
// the caller's explicit choice; creds may read a secret store or ask the
// user, so the library never holds the password.
func (a *VikiAPI) SessionSource(creds func(ctx context.Context) (VikiCredentials, error)) *Source {
	return newSource("viki", a.app.Clock, nil, func(ctx context.Context, _ *Token) (*Token, error) {
		if creds == nil {
			return nil, configErr("viki: SessionSource needs a credentials callback")
		}
		c, err := creds(ctx)
		if err != nil {
			return nil, err
		}
		return a.Login(ctx, c)
	})
}

// Source returns a Source holding the session t without a way to sign in
// again: once Viki expires it, the Source answers ErrReauthRequired.
func (a *VikiAPI) Source(t *Token) *Source {
	return newSource("viki", a.app.Clock, t, nil)
}
