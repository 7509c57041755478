package videoauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
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
	// appParam is "app=" and the escaped app id, for queries that lack it.
	appParam string
	// offset is the server clock minus ours, in seconds. It and the signer
	// state are behind pointers, set by NewVikiAPI, so that VikiAPI holds
	// no lock and its printing methods can have value receivers (see
	// print.go): the copy they make reads only the pointers, never what a
	// signer stores.
	offset *atomic.Int64
	state  *vikiState
	ep     *endpoint
}

// vikiState is what the signers of one VikiAPI share.
type vikiState struct {
	// macs holds *vikiMAC keyed with the app secret: a request costs no
	// hmac.New and no key schedule.
	macs sync.Pool
	// signer is the signer wrapBase built last; the Transport asks for one
	// on every request, over the same base.
	signer atomic.Pointer[vikiSigner]
}

// vikiMAC is an HMAC-SHA1 keyed with the app secret, with room for the
// signed message and the sum, so that signing allocates nothing.
type vikiMAC struct {
	h   hash.Hash
	buf []byte
	sum [sha1.Size]byte
}

// maxPooledBuf bounds the message buffer a pooled MAC keeps.
const maxPooledBuf = 64 << 10

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
	a := &VikiAPI{app: app, api: api, signing: signing, appParam: "app=" + url.QueryEscape(app.ClientID),
		offset: new(atomic.Int64), state: new(vikiState)}
	secret := app.ClientSecret
	a.state.macs.New = func() any {
		m := &vikiMAC{h: hmac.New(sha1.New, []byte(secret))}
		m.h.Reset() // keeps the keyed state, so that later Resets allocate nothing
		return m
	}
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
func (a *VikiAPI) Owns(u *url.URL) bool {
	// The base's own spelling is the common case, and the same origin.
	return u != nil && a.api != nil && u.Host == a.api.Host && u.Scheme == a.api.Scheme || sameOrigin(u, a.api)
}

// Authorize puts the session token in the token query parameter, replacing
// any the query had, and signs the request with it as the signer does
// (Signer): r leaves complete, ready for any transport. A body is read to
// be signed and put back, replayable (GetBody); a body that cannot be read
// is an error and is left to the caller to close. Under NewClient's
// Transport the signer sends what Authorize signed as it is, and signs it
// again only to correct a stale timestamp.
func (a *VikiAPI) Authorize(r *http.Request, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("viki: no session token")
	}
	return a.authorizeWith(r, t, a.credential(t))
}

// credential is the session token as it rides in the query; the Transport
// builds it once per token (credentialer).
func (a *VikiAPI) credential(t *Token) string { return url.QueryEscape(t.AccessToken) }

// authorizeWith is Authorize with the session token escaped (credential).
func (a *VikiAPI) authorizeWith(r *http.Request, _ *Token, session string) error {
	if a.state == nil {
		return configErr("viki: a VikiAPI is made by NewVikiAPI")
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := readSignedBody(r.Body)
		if err != nil {
			return err
		}
		r.Body.Close()
		setBody(r, b)
		body = b
	}
	a.sign(r, session, body)
	return nil
}

// readSignedBody reads a request body to sign it.
func readSignedBody(rc io.Reader) ([]byte, error) {
	b, err := wire.ReadCapped(rc, maxSignedBody)
	if err != nil {
		return nil, errorf("viki: cannot read the request body to sign it: %w", err)
	}
	return b, nil
}

// setBody makes body r's body, replayable.
func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// sign signs r in place, over body: it drops the query's empty parameters
// and any t and sig (and token, when session is set), keeping the rest
// byte for byte, then appends token=session (when set), app (unless the
// query has it) and t, and the signature: as &sig= (query signing), or as
// the Timestamp and Signature headers with t left out of the URL. The
// query, the timestamp and the signature are one allocation.
func (a *VikiAPI) sign(r *http.Request, session string, body []byte) {
	ts := a.ep.clock.Now().Unix() + a.offset.Load()
	m := a.state.macs.Get().(*vikiMAC)
	b := append(m.buf[:0], r.URL.EscapedPath()...)
	b = append(b, '?')
	q := len(b) // the query starts here
	b, hasApp := appendKept(b, r.URL.RawQuery, session != "")
	if session != "" {
		b = appendParam(b, q, "token=")
		b = append(b, session...)
	}
	if !hasApp {
		b = appendParam(b, q, a.appParam)
	}
	qEnd := len(b) // and ends here in header signing
	b = appendParam(b, q, "t=")
	tsAt := len(b)
	b = strconv.AppendInt(b, ts, 10)
	tsEnd := len(b)

	m.h.Reset()
	m.h.Write(b) // path ? query & t=TS
	m.h.Write(body)
	sum := m.h.Sum(m.sum[:0])
	if a.signing == VikiSignQuery {
		b = append(b, "&sig="...)
	}
	b = hex.AppendEncode(b, sum)
	s := string(b[q:])
	if cap(b) <= maxPooledBuf {
		m.buf = b
	}
	a.state.macs.Put(m)

	if a.signing == VikiSignQuery {
		r.URL.RawQuery = s
		return
	}
	r.URL.RawQuery = s[:qEnd-q]
	// The header may be the caller's (keepsHeader): the signature goes in a
	// copy.
	h, vals := cloneHeader(r.Header, 2)
	vals[0], vals[1] = s[tsAt-q:tsEnd-q], s[tsEnd-q:]
	h["Timestamp"] = vals[0:1:1]
	h["Signature"] = vals[1:2:2]
	r.Header = h
}

// keepsHeader tells the Transport that Authorize never writes into the
// request's header, so the caller's can be passed on uncopied: header
// signing puts its headers in a copy (sign).
func (a *VikiAPI) keepsHeader() {}

// cloneHeader copies h with room for n more keys, and returns n more value
// slots. The values, copied and more, share one array, as Header.Clone's
// do; the three-index slices keep an append to one from writing into the
// next.
func cloneHeader(h http.Header, n int) (http.Header, []string) {
	c := make(http.Header, len(h)+n)
	total := 0
	for _, vs := range h {
		total += len(vs)
	}
	all := make([]string, total+n)
	for k, vs := range h {
		if vs == nil {
			c[k] = nil
			continue
		}
		m := copy(all, vs)
		c[k] = all[:m:m]
		all = all[m:]
	}
	return c, all
}

// appendKept appends to b the parameters of raw that sign keeps, joined
// by '&', and reports whether one of them is app. Names are compared
// unescaped; a name that does not unescape is kept.
func appendKept(b []byte, raw string, dropToken bool) ([]byte, bool) {
	start, hasApp := len(b), false
	for rest, more := raw, raw != ""; more; {
		var p string
		p, rest, more = strings.Cut(rest, "&")
		switch name, ok := paramName(p); {
		case p == "" || ok && (name == "t" || name == "sig" || dropToken && name == "token"):
			continue
		case ok && name == "app":
			hasApp = true
		}
		b = appendParam(b, start, p)
	}
	return b, hasApp
}

// appendParam appends p to b, after a '&' unless b holds no query past
// start yet.
func appendParam(b []byte, start int, p string) []byte {
	if len(b) > start {
		b = append(b, '&')
	}
	return append(b, p...)
}

// paramName returns the unescaped name of the query parameter p ("k" of
// "k=v"), and false when it does not unescape. Only a name with '%' or '+'
// needs unescaping (and only then allocates).
func paramName(p string) (string, bool) {
	k, _, _ := strings.Cut(p, "=")
	if strings.IndexByte(k, '%') < 0 && strings.IndexByte(k, '+') < 0 {
		return k, true
	}
	uk, err := url.QueryUnescape(k)
	return uk, err == nil
}

// setParam sets name=value in raw, replacing any earlier value and keeping
// the rest of the query byte for byte (empty parameters are dropped).
func setParam(raw, name, value string) string {
	escName, escValue := url.QueryEscape(name), url.QueryEscape(value)
	var b strings.Builder
	b.Grow(len(raw) + 1 + len(escName) + 1 + len(escValue))
	for rest, more := raw, raw != ""; more; {
		var p string
		p, rest, more = strings.Cut(rest, "&")
		if k, ok := paramName(p); p == "" || ok && k == name {
			continue
		}
		b.WriteString(p)
		b.WriteByte('&')
	}
	b.WriteString(escName)
	b.WriteByte('=')
	b.WriteString(escValue)
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

// wrapBase returns the signer the Transport puts below itself. The
// Transport authorizes every request to the API that follows no redirect
// (Transport.owned), and Authorize signs it: the signer sends those as they
// are, and signs any other it owns. The Transport asks for the signer on
// every request, so the last one built is kept.
func (a *VikiAPI) wrapBase(b http.RoundTripper) http.RoundTripper {
	if s := a.state.signer.Load(); s != nil && sameRoundTripper(s.base, b) {
		return s
	}
	s := &vikiSigner{a: a, base: b, belowTransport: true}
	a.state.signer.Store(s)
	return s
}

// sameRoundTripper reports whether x and y are the same RoundTripper:
// equal values of one comparable type. A func type never matches, and a
// comparable type whose == panics (an interface field holding a func)
// does not match either.
func sameRoundTripper(x, y http.RoundTripper) (same bool) {
	switch t := reflect.TypeOf(x); {
	case t == nil || t != reflect.TypeOf(y) || !t.Comparable():
		return false
	case t.Kind() == reflect.Pointer: // the common case, and == cannot panic
		return x == y
	}
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return x == y
}

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
	return &vikiSigner{a: a, base: base}
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
	if a.state == nil { // a VikiAPI not made by NewVikiAPI
		m := hmac.New(sha1.New, []byte(a.app.ClientSecret))
		io.WriteString(m, pathAndQuery)
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	m := a.state.macs.Get().(*vikiMAC)
	m.h.Reset()
	m.buf = append(m.buf[:0], pathAndQuery...)
	m.h.Write(m.buf)
	m.h.Write(body)
	sig := hex.EncodeToString(m.h.Sum(m.sum[:0]))
	if cap(m.buf) > maxPooledBuf {
		m.buf = nil
	}
	a.state.macs.Put(m)
	return sig
}

// vikiSigner signs requests, and corrects the clock once on "stale
// timestamp".
type vikiSigner struct {
	a    *VikiAPI
	base http.RoundTripper
	// belowTransport is set for the signer below NewClient's Transport,
	// which sends the requests the Transport authorized as they are:
	// Authorize signed them, on a copy that is the Transport's own.
	belowTransport bool
}

// RoundTrip implements http.RoundTripper.
func (s *vikiSigner) RoundTrip(req *http.Request) (*http.Response, error) {
	if !s.a.Owns(req.URL) {
		return s.base.RoundTrip(req)
	}
	if s.belowTransport && req.Response == nil {
		// A request to the API that follows no redirect: the Transport
		// authorized it, so Authorize signed it, and req is the
		// Transport's own copy. (One that follows a redirect is signed
		// again below, whether the Transport authorized it or not.)
		return s.roundTrip(req, req, nil)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := readSignedBody(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	return s.roundTrip(req, s.a.signedCopy(req, body), body)
}

// roundTrip sends r, req signed, whose body is body (nil: whatever r
// holds). When Viki answers "stale timestamp" it adopts the server's clock
// and sends r signed again, once.
func (s *vikiSigner) roundTrip(req, r *http.Request, body []byte) (*http.Response, error) {
	resp, err := s.send(req, r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	server, ok := staleTimestamp(peekBody(resp, 4<<10))
	if !ok {
		return resp, nil
	}
	s.a.offset.Store(server - s.a.ep.clock.Now().Unix())
	drain(resp)
	if body == nil && r.Body != nil && r.Body != http.NoBody {
		if body, err = replayBody(r); err != nil {
			return nil, err
		}
	}
	return s.send(req, s.a.signedCopy(r, body))
}

// replayBody reads r's body again, for a retry.
func replayBody(r *http.Request) ([]byte, error) {
	if r.GetBody == nil {
		return nil, errorf("viki: cannot replay the request body to sign it again")
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil, errorf("viki: cannot replay the request body to sign it again: %w", err)
	}
	defer rc.Close()
	return readSignedBody(rc)
}

// signedCopy returns a copy of req with body, signed: the request struct
// and URL are copied, and sign copies the header in header signing.
func (a *VikiAPI) signedCopy(req *http.Request, body []byte) *http.Request {
	r := new(http.Request)
	*r = *req
	u := *req.URL
	r.URL = &u
	if body != nil {
		setBody(r, body)
	}
	a.sign(r, "", body)
	return r
}

// send sends r, req signed, and hands back the answer as the answer to req.
func (s *vikiSigner) send(req, r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err != nil {
		return nil, redactErr(err)
	}
	resp.Request = req
	return resp, nil
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

// hasParam reports whether the query raw has a parameter named name
// (compared unescaped).
func hasParam(raw, name string) bool {
	for rest, more := raw, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, "&")
		if k, ok := paramName(p); ok && k == name {
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
	return newAppSource(a.app, "viki", grantLogin, nil, func(ctx context.Context, _ *Token) (*Token, error) {
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
	return newAppSource(a.app, "viki", grantMint, t, nil)
}

// Identify asks Viki whose session t is (GET /v5/sessions/TOKEN.json,
// which "shows the token's user": docs/viki.md#v5-sessions), signed and
// with the session in the token parameter as Authorize attaches it, a
// stale timestamp corrected once as the signer does. The answer echoes the
// session; only its user is kept: id as UserID, username as Name. The
// session rides in the URL's path here, as Viki's route asks: errors show
// that path with it redacted. A session Viki rejects (vcode 11 or 7402)
// matches ErrReauthRequired: only a new Login replaces it (SessionSource
// does that). A v3 OAuth token is refused: Viki identifies it. See
// Identifier.
func (a *VikiAPI) Identify(ctx context.Context, t *Token) (*Identity, error) {
	if err := checkIdentifyToken(a, t); err != nil {
		return nil, err
	}
	if a.state == nil {
		return nil, configErr("viki: a VikiAPI is made by NewVikiAPI")
	}
	if strings.EqualFold(t.TokenType, "bearer") {
		return nil, configErr("viki: a v3 OAuth token is identified by Viki, not by VikiAPI")
	}
	base := a.api.String() + "/v5/sessions/"
	u, shown := base+url.PathEscape(t.AccessToken)+".json", base+"REDACTED.json"
	hc := wire.NoRedirect(a.app.httpClient())
	hc.Transport = a.Signer(hc.Transport)
	resp, err := identifyGet(ctx, a, hc, u, shown, t, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := a.apiError(shown, resp)
		return nil, identifyFailed(e, t, shown, rejection(verdictOf(a, resp), false))
	}
	id, err := parseVikiSessionIdentity(resp.Body)
	if err != nil {
		return nil, badIdentity("viki", resp, t, shown, err)
	}
	return identified(id, t), nil
}
