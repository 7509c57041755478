package videoauth_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// rfcServer is an authorization server and resource server that follow the
// RFCs strictly, for the Standard provider's tests: it accepts exactly one
// client-authentication method (RFC 6749 §2.3), verifies the S256 PKCE
// challenge (RFC 7636 §4.6), single-use codes bound to their redirect_uri
// (§4.1.3), rotates refresh tokens and refuses a used one (RFC 9700
// §4.14.2), runs the RFC 8628 device grant on the shared clock, revokes
// per RFC 7009, and answers API requests with RFC 6750 challenges.
type rfcServer struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *videoauthtest.Clock
	issuer string

	clientID, secret string
	auth             string // the one method accepted: client_secret_basic, client_secret_post, none

	mu         sync.Mutex
	rotate     bool          // refresh tokens rotate
	accessTTL  time.Duration // 0: no expires_in
	noRefresh  bool          // issue no refresh tokens
	ccRefresh  bool          // (wrongly) send a refresh token with client credentials
	sendIss    string        // iss put on redirects; "" sends none
	deny       bool          // the user denies consent
	deviceTTL  int           // device code lifetime, seconds
	script     []string      // device poll answers after approval is scripted: authorization_pending, slow_down, access_denied, expired_token, ok
	plain401   bool          // /api answers 401 without an error attribute
	codes      map[string]*rfcCode
	access     map[string]rfcAccess
	refresh    map[string]*rfcRefresh
	devices    map[string]*rfcDevice
	calls      map[string]int
	authSeen   []string // method used, per authenticated request
	revoked    []url.Values
	pollTimes  []time.Time
	apiAuth    []string   // Authorization of each API request
	metadata   func() any // served at the well-known paths below; nil: 404
	mdPaths    []string   // paths of the metadata document
	mdRequests []string   // metadata paths requested, in order
	failBody   string     // when set, the token endpoint answers 400 with this body
	verifyURI  string     // when set, the device endpoint names this verification_uri
	basicSeen  []string   // raw Authorization header of each Basic-authenticated request
}

type rfcCode struct {
	clientID, redirect, challenge string
	scopes                        []string
	used                          bool
}

type rfcAccess struct {
	scopes []string
	exp    time.Time // zero: no expiry
}

type rfcRefresh struct {
	scopes []string
	used   bool
}

type rfcDevice struct {
	scopes []string
	exp    time.Time
	polls  int
	done   bool
}

const (
	rfcClientID = "client-1"
	rfcSecret   = "secret-1"
)

var rfcStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// newRFCServer starts a server accepting clientID and secret with method
// auth; its clock starts at rfcStart.
func newRFCServer(t *testing.T, clientID, secret, auth string) *rfcServer {
	t.Helper()
	s := &rfcServer{
		t: t, clock: videoauthtest.NewClock(rfcStart), clientID: clientID, secret: secret, auth: auth,
		rotate: true, accessTTL: time.Hour, deviceTTL: 600,
		codes: map[string]*rfcCode{}, access: map[string]rfcAccess{}, refresh: map[string]*rfcRefresh{},
		devices: map[string]*rfcDevice{}, calls: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /device", s.device)
	mux.HandleFunc("POST /revoke", s.revoke)
	mux.HandleFunc("/api/", s.api)
	mux.HandleFunc("GET /.well-known/", s.wellKnown)
	mux.HandleFunc("GET /tenant/.well-known/", s.wellKnown)
	s.srv = httptest.NewServer(mux)
	s.issuer = s.srv.URL
	s.sendIss = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// config is the StandardConfig of this server.
func (s *rfcServer) config() videoauth.StandardConfig {
	return videoauth.StandardConfig{
		Name: "rfc", Issuer: s.issuer,
		AuthURL: s.srv.URL + "/authorize", TokenURL: s.srv.URL + "/token",
		DeviceURL: s.srv.URL + "/device", RevokeURL: s.srv.URL + "/revoke",
		APIURL: s.srv.URL,
	}
}

// app is an App for this server's client, on the server's clock.
func (s *rfcServer) app() videoauth.App {
	return videoauth.App{ClientID: s.clientID, ClientSecret: s.secret, RedirectURL: "https://app.example/cb",
		HTTPClient: s.srv.Client(), Clock: s.clock}
}

func (s *rfcServer) count(what string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[what]
}

// Snapshots of what the server saw, read under its lock.
func (s *rfcServer) seen() []string   { return lockedCopy(s, &s.authSeen) }
func (s *rfcServer) basics() []string { return lockedCopy(s, &s.basicSeen) }
func (s *rfcServer) apiAuths() []string {
	return lockedCopy(s, &s.apiAuth)
}
func (s *rfcServer) mdReqs() []string          { return lockedCopy(s, &s.mdRequests) }
func (s *rfcServer) revocations() []url.Values { return lockedCopy(s, &s.revoked) }
func (s *rfcServer) polls() []time.Time        { return lockedCopy(s, &s.pollTimes) }
func lockedCopy[T any](s *rfcServer, p *[]T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(*p)
}

func (s *rfcServer) set(f func(s *rfcServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func randomToken(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // RFC 6749 §5.1
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError answers an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, status int, code string) {
	if code == "invalid_client" {
		w.Header().Set("WWW-Authenticate", `Basic realm="rfc"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": "rfcServer: " + code})
}

// authenticate checks the client's credentials (RFC 6749 §2.3): exactly one
// method, the configured one; Basic credentials are form-urlencoded before
// base64 (§2.3.1) and decoded so. Credentials in the URL are refused.
func (s *rfcServer) authenticate(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		oauthError(w, 400, "invalid_request")
		return false
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request")
		return false
	}
	if q := r.URL.Query(); q.Has("client_secret") || q.Has("client_id") || q.Has("code") || q.Has("refresh_token") {
		oauthError(w, 400, "invalid_request") // RFC 6749 §2.3.1: never in the URI
		return false
	}
	method, id, secret := "", "", ""
	n := 0
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		raw, err := base64.StdEncoding.DecodeString(cred)
		u, p, ok := strings.Cut(string(raw), ":")
		if !strings.EqualFold(scheme, "Basic") || err != nil || !ok {
			oauthError(w, 401, "invalid_client")
			return false
		}
		if id, err = url.QueryUnescape(u); err != nil {
			oauthError(w, 401, "invalid_client")
			return false
		}
		if secret, err = url.QueryUnescape(p); err != nil {
			oauthError(w, 401, "invalid_client")
			return false
		}
		method = "client_secret_basic"
		n++
		s.mu.Lock()
		s.basicSeen = append(s.basicSeen, h)
		s.mu.Unlock()
		if bid := r.PostForm.Get("client_id"); bid != "" && bid != id {
			oauthError(w, 400, "invalid_request")
			return false
		}
	}
	if r.PostForm.Has("client_secret") {
		method, id, secret = "client_secret_post", r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		n++
	}
	if n > 1 {
		oauthError(w, 400, "invalid_request") // RFC 6749 §2.3: one method per request
		return false
	}
	if n == 0 {
		method, id = "none", r.PostForm.Get("client_id")
	}
	s.mu.Lock()
	s.authSeen = append(s.authSeen, method)
	want := s.auth
	s.mu.Unlock()
	if method != want || id != s.clientID || secret != s.secret {
		oauthError(w, 401, "invalid_client")
		return false
	}
	return true
}

func (s *rfcServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.clientID || redirect == "" {
		http.Error(w, "bad client or redirect_uri", 400) // never redirect to an unchecked URI (RFC 6749 §4.1.2.1)
		return
	}
	back, _ := url.Parse(redirect)
	out := url.Values{"state": {q.Get("state")}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sendIss != "" {
		out.Set("iss", s.sendIss)
	}
	challenge := q.Get("code_challenge")
	switch {
	case q.Get("response_type") != "code" || q.Get("state") == "":
		out.Set("error", "invalid_request")
	case q.Get("code_challenge_method") != "S256" || len(challenge) != 43:
		out.Set("error", "invalid_request") // S256 only (RFC 9700 §2.1.1)
	case s.deny:
		out.Set("error", "access_denied")
		out.Set("error_description", "the user said no")
	default:
		code := randomToken("code-")
		s.codes[code] = &rfcCode{clientID: s.clientID, redirect: redirect, challenge: challenge, scopes: strings.Fields(q.Get("scope"))}
		out.Set("code", code)
	}
	back.RawQuery = out.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// issue answers a token response for scopes; withRefresh adds a refresh
// token.
func (s *rfcServer) issue(w http.ResponseWriter, scopes []string, withRefresh bool) {
	at := randomToken("at-")
	a := rfcAccess{scopes: scopes}
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "scope": strings.Join(scopes, " ")}
	if s.accessTTL > 0 {
		a.exp = s.clock.Now().Add(s.accessTTL)
		resp["expires_in"] = int(s.accessTTL / time.Second)
	}
	s.access[at] = a
	if withRefresh && !s.noRefresh {
		rt := randomToken("rt-")
		s.refresh[rt] = &rfcRefresh{scopes: scopes}
		resp["refresh_token"] = rt
	}
	writeJSON(w, 200, resp)
}

var verifierChars = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func (s *rfcServer) token(w http.ResponseWriter, r *http.Request) {
	if !s.authenticate(w, r) {
		return
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failBody != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		w.Write([]byte(s.failBody))
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.calls["exchange"]++
		c := s.codes[f.Get("code")]
		v := f.Get("code_verifier")
		switch {
		case c == nil || c.used:
			oauthError(w, 400, "invalid_grant")
		case f.Get("redirect_uri") != c.redirect:
			oauthError(w, 400, "invalid_grant") // RFC 6749 §4.1.3: identical
		case !verifierChars.MatchString(v) || s256(v) != c.challenge:
			oauthError(w, 400, "invalid_grant") // RFC 7636 §4.6
		default:
			c.used = true
			s.issue(w, c.scopes, true)
		}
		if c != nil {
			c.used = true // single use even when it failed (RFC 6749 §4.1.2)
		}
	case "refresh_token":
		s.calls["refresh"]++
		rt := s.refresh[f.Get("refresh_token")]
		if rt == nil || rt.used {
			oauthError(w, 400, "invalid_grant")
			return
		}
		if s.rotate {
			rt.used = true
			s.issue(w, rt.scopes, true)
			return
		}
		s.issue(w, rt.scopes, false) // no refresh_token in the answer: RFC 6749 §6 makes it optional
	case "client_credentials":
		s.calls["client_credentials"]++
		if s.auth == "none" {
			oauthError(w, 400, "unauthorized_client")
			return
		}
		s.issue(w, strings.Fields(f.Get("scope")), s.ccRefresh)
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.calls["device_poll"]++
		s.pollTimes = append(s.pollTimes, s.clock.Now())
		d := s.devices[f.Get("device_code")]
		switch {
		case d == nil || d.done:
			oauthError(w, 400, "invalid_grant")
			return
		case !s.clock.Now().Before(d.exp):
			oauthError(w, 400, "expired_token")
			return
		}
		answer := "ok"
		if d.polls < len(s.script) {
			answer = s.script[d.polls]
		}
		d.polls++
		if answer == "ok" {
			d.done = true
			s.issue(w, d.scopes, true)
			return
		}
		oauthError(w, 400, answer)
	default:
		oauthError(w, 400, "unsupported_grant_type")
	}
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *rfcServer) device(w http.ResponseWriter, r *http.Request) {
	if !s.authenticate(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["device"]++
	dc := randomToken("dc-")
	verify := s.srv.URL + "/activate"
	if s.verifyURI != "" {
		verify = s.verifyURI
	}
	s.devices[dc] = &rfcDevice{scopes: strings.Fields(r.PostForm.Get("scope")), exp: s.clock.Now().Add(time.Duration(s.deviceTTL) * time.Second)}
	writeJSON(w, 200, map[string]any{
		"device_code": dc, "user_code": "WDJB-MJHT",
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=WDJB-MJHT",
		"expires_in":                s.deviceTTL, "interval": 5,
	})
}

func (s *rfcServer) revoke(w http.ResponseWriter, r *http.Request) {
	if !s.authenticate(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["revoke"]++
	if r.PostForm.Get("token") == "" {
		oauthError(w, 400, "invalid_request")
		return
	}
	s.revoked = append(s.revoked, r.PostForm)
	tok := r.PostForm.Get("token")
	delete(s.access, tok)
	delete(s.refresh, tok)
	w.WriteHeader(200) // RFC 7009 §2.2: also for an unknown token
}

// api is the resource server: GET /api/me needs any valid token,
// /api/admin the admin scope.
func (s *rfcServer) api(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["api"]++
	h := r.Header.Get("Authorization")
	s.apiAuth = append(s.apiAuth, h)
	at, ok := strings.CutPrefix(h, "Bearer ")
	a, known := s.access[at]
	switch {
	case !ok:
		w.Header().Set("WWW-Authenticate", `Bearer realm="rfc"`) // RFC 6750 §3.1: no error code
		w.WriteHeader(401)
		return
	case !known || !a.exp.IsZero() && !s.clock.Now().Before(a.exp):
		if s.plain401 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rfc"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rfc", error="invalid_token", error_description="The access token expired"`)
		}
		w.WriteHeader(401)
		return
	case r.URL.Path == "/api/admin" && !slices.Contains(a.scopes, "admin"):
		w.Header().Set("WWW-Authenticate", `Bearer realm="rfc", error="insufficient_scope", scope="admin"`)
		w.WriteHeader(403)
		return
	}
	writeJSON(w, 200, map[string]string{"sub": "user-1", "path": r.URL.Path})
}

// forget makes the server drop every access token: the next API request
// gets invalid_token.
func (s *rfcServer) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

func (s *rfcServer) wellKnown(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.mdRequests = append(s.mdRequests, r.URL.Path)
	md, paths := s.metadata, s.mdPaths
	s.mu.Unlock()
	if md == nil || !slices.Contains(paths, r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, 200, md())
}

// approve plays the browser: it follows ar.URL to the server's consent,
// which approves at once, and returns the callback's query.
func (s *rfcServer) approve(t *testing.T, authURL string) url.Values {
	t.Helper()
	c := &http.Client{Transport: s.srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: HTTP %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}
