package videoauthtest

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	twitchJSON = "application/json"

	twitchUserTTL          = 14124 * time.Second   // [S] a captured expires_in of a user token (about 4 h)
	twitchAppTTL           = 5011271 * time.Second // [S] a captured app token's (about 58 days)
	twitchPublicRefreshTTL = 30 * 24 * time.Hour   // [S] a public client's refresh token
	twitchCodeTTL          = 10 * time.Minute      // [I] not documented
	twitchDeviceTTL        = 1800 * time.Second    // [S]
	twitchDeviceStep       = 5 * time.Second       // [S] interval; [I] +5 s on slow_down
	twitchRateLimit        = 800                   // [S] points per minute per bucket
	twitchMaxBody          = 1 << 20

	// TwitchPollScope is the scope the fake's POST /helix/polls needs, as
	// Twitch's Create Poll does.
	TwitchPollScope = "channel:manage:polls"
)

// Twitch is a fake of Twitch's identity service (id.twitch.tv: the consent
// page and /oauth2/token, /oauth2/device, /oauth2/validate,
// /oauth2/revoke) and of a few Helix routes (api.twitch.tv), served by two
// httptest.Servers: IDURL stands for https://id.twitch.tv and APIURL for
// https://api.twitch.tv. It follows docs/twitch.md and is strict where
// Twitch is, and about what a client must not send:
//
//   - two apps: a confidential one (ClientID, ClientSecret) and a public
//     one (PublicClientID), which has no secret, cannot exchange a code
//     or mint app tokens (400 Invalid client credentials), and refreshes
//     with client_id alone; a confidential client must send its secret to
//     exchange, mint and refresh (400 missing client secret), and a wrong
//     one is 403 invalid client secret;
//   - every error is {"status":N,"message":…} (Helix adds "error", the
//     HTTP reason), with Twitch's messages; token answers carry scope as a
//     JSON array, left out when empty, and token_type "bearer";
//   - /oauth2/token reads its parameters from a form body, a multipart
//     body or the query string, as Twitch accepts all three; every refresh
//     rotates the refresh token, and a spent one is refused (400 Invalid
//     refresh token) and counted (SpentRefreshTokenUses); a public
//     client's refresh token dies 30 days after it was issued;
//   - /oauth2/device reads client_id and scopes from the body only:
//     parameters in the query string, or scope in place of scopes, are
//     ignored, as Twitch ignores them, and counted as malformed; polls
//     answer 400 authorization_pending until ApproveCode or DenyCode,
//     slow_down when polled faster than the interval, and invalid device
//     code once the code is spent or expired;
//   - /oauth2/validate takes Authorization: OAuth (or Bearer), and
//     answers login and user_id null for an app token and scopes null
//     when none was granted;
//   - Helix requires Authorization: Bearer and a Client-Id matching the
//     token's client; it answers 401 Invalid OAuth token for a dead token,
//     and 401 too — not 403 — for a missing scope, an ID that is not the
//     token's user and an app token on a user route; every answer carries
//     Ratelimit-Limit, Ratelimit-Remaining and Ratelimit-Reset.
//
// Requests that break what Twitch requires, or that send what a client
// must not (Basic credentials or PKCE parameters, which Twitch does not
// support; a public client's secret; a secret sent to revoke; a Helix call
// without Bearer or Client-Id), are counted by Malformed and listed by
// MalformedRequests, whatever the fake answers them.
//
// The consent page approves at once (DenyConsent denies). There is a
// single user, UserID "141981764", login "twitchdev". Expiry decisions read
// the Clock given to SetClock, real time by default. The exported fields
// are set by NewTwitch; change them, if at all, before the first request.
// All methods are safe for concurrent use.
type Twitch struct {
	IDURL          string // identity host, stands for https://id.twitch.tv
	APIURL         string // Helix host, stands for https://api.twitch.tv
	ClientID       string // the confidential app; default "twitch-client"
	ClientSecret   string // its secret; default "twitch-secret"
	PublicClientID string // the public app (no secret); default "twitch-public-client"
	UserID, Login  string // the user: "141981764", "twitchdev"

	core // core.mu guards the fields below

	deny          bool
	withhold      string
	killOnRefresh bool
	nextErr       *twitchErrorJSON
	rateN         int
	verify        string

	codes   map[string]*twitchCode
	devices map[string]*twitchDevice
	access  map[string]*twitchAccess // by access token
	grants  map[string]*twitchGrant  // by current refresh token
	spent   map[string]time.Time     // refresh tokens rotated away, when

	tokenCalls, exchanges, mints, refreshes, spentUses  int
	deviceStarts, devicePolls, validations, revocations int
	apiCalls                                            int
	malformed                                           []string
}

// twitchCode is an authorization code waiting for its exchange.
type twitchCode struct {
	clientID, redirectURI string
	scopes                []string
	expires               time.Time
}

type twitchDecision int

const (
	twitchPending twitchDecision = iota
	twitchApproved
	twitchDenied
)

// twitchDevice is a device code.
type twitchDevice struct {
	clientID, userCode string
	scopes             []string
	expires, lastPoll  time.Time
	interval           time.Duration
	state              twitchDecision
}

// twitchGrant is a user's grant: its current refresh and access tokens.
type twitchGrant struct {
	clientID       string
	public         bool
	scopes         []string
	refresh        string
	refreshExpires time.Time // zero: none (a confidential client's)
	access         string
}

// twitchAccess is an access token.
type twitchAccess struct {
	clientID string
	app      bool
	scopes   []string
	expires  time.Time
	grant    *twitchGrant // nil for app and implicit tokens
}

// Wire shapes.
type (
	twitchErrorJSON struct {
		Error   string `json:"error,omitempty"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	twitchTokenJSON struct {
		AccessToken  string   `json:"access_token"`
		ExpiresIn    int      `json:"expires_in"`
		RefreshToken string   `json:"refresh_token,omitempty"`
		Scope        []string `json:"scope,omitempty"`
		TokenType    string   `json:"token_type"`
	}
	twitchDeviceJSON struct {
		DeviceCode      string `json:"device_code"`
		ExpiresIn       int    `json:"expires_in"`
		Interval        int    `json:"interval"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
	}
	twitchValidateJSON struct {
		ClientID  string   `json:"client_id"`
		Login     *string  `json:"login"`
		Scopes    []string `json:"scopes"`
		UserID    *string  `json:"user_id"`
		ExpiresIn int      `json:"expires_in"`
	}
)

// NewTwitch starts a fake Twitch on two plain-HTTP httptest.Servers
// listening on 127.0.0.1, one for IDURL and one for APIURL. The caller must
// Close it.
func NewTwitch() *Twitch {
	s := &Twitch{
		ClientID:       "twitch-client",
		ClientSecret:   "twitch-secret",
		PublicClientID: "twitch-public-client",
		UserID:         "141981764",
		Login:          "twitchdev",
		codes:          make(map[string]*twitchCode),
		devices:        make(map[string]*twitchDevice),
		access:         make(map[string]*twitchAccess),
		grants:         make(map[string]*twitchGrant),
		spent:          make(map[string]time.Time),
	}
	// The API host first: Respond sends it every host but id.twitch.tv's.
	urls := s.start("Twitch", serves(s.serveAPI, "api.twitch.tv"), serves(s.serveID, "id.twitch.tv", "www.twitch.tv", "twitch.tv"))
	s.APIURL, s.IDURL = urls[0], urls[1]
	return s
}

// SetClock makes the fake read the time from c for every expiry decision
// (codes, device codes and their poll interval, tokens, refresh tokens). A
// nil c restores real time.
func (s *Twitch) SetClock(c *Clock) { s.setClock(c) }

// FailTokenCalls makes the next n requests to /oauth2/token or
// /oauth2/device fail as mode says: Fail5xx answers 503
// {"status":503,"message":…}, FailHTML a 502 HTML page. Such a request is
// counted but consumes no code or refresh token and mints nothing. It
// replaces an earlier setting; n <= 0 turns failures off.
func (s *Twitch) FailTokenCalls(n int, mode FailMode) { s.failTokenCalls(n, mode) }

// SetLatency makes every request to /oauth2/token and /oauth2/device wait
// d, in real time, before it is answered.
func (s *Twitch) SetLatency(d time.Duration) { s.setLatency(d) }

// NextTokenError makes the next request to /oauth2/token or /oauth2/device
// answer status with {"status":status,"message":message} instead of doing
// its work (after FailTokenCalls' failures): any answer of Twitch's error
// table, or one it may send some day.
func (s *Twitch) NextTokenError(status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextErr = &twitchErrorJSON{Status: status, Message: message}
}

// DenyConsent makes the consent page deny while deny is true: it
// redirects with error=access_denied (in the query, for the implicit grant
// too) and the state.
func (s *Twitch) DenyConsent(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// WithholdScope makes later consents (code, implicit and device) grant
// every requested scope but scope; "" grants everything again.
func (s *Twitch) WithholdScope(scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withhold = scope
}

// SetRefreshKillsAccess makes a refresh kill the grant's previous access
// token at once, while on is true. Whether Twitch does is not documented
// (docs/twitch.md#open-questions); by default the old access token lives
// until it expires.
func (s *Twitch) SetRefreshKillsAccess(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killOnRefresh = on
}

// RateLimitNext makes the next n Helix calls answer 429 with
// Ratelimit-Remaining 0 and Ratelimit-Reset a minute ahead, after the
// credential checks. n <= 0 turns it off.
func (s *Twitch) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateN = max(n, 0)
}

// SetVerificationURI makes /oauth2/device answer uri as its
// verification_uri instead of the fake's activation page: a hostile or
// broken service, for tests of what a client shows its user. "" restores
// the default.
func (s *Twitch) SetVerificationURI(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verify = uri
}

// ApproveCode approves the device user code userCode, as if the user
// entered it at the activation page: the next poll receives the tokens. It
// reports false if no such code is pending.
func (s *Twitch) ApproveCode(userCode string) bool { return s.decide(userCode, twitchApproved) }

// DenyCode denies the device user code userCode: the next poll answers
// 400 access_denied ([I]: Twitch documents no denial answer), and later
// ones invalid device code. It reports false if no such code is pending.
func (s *Twitch) DenyCode(userCode string) bool { return s.decide(userCode, twitchDenied) }

func (s *Twitch) decide(userCode string, d twitchDecision) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	for _, dev := range s.devices {
		if dev.userCode == userCode && dev.state == twitchPending && now.Before(dev.expires) {
			dev.state = d
			return true
		}
	}
	return false
}

// ExpireToken makes the access token access die at once, as when it
// expired early: Helix answers 401 Invalid OAuth token and /oauth2/validate
// 401 invalid access token. Its grant's refresh token still works.
func (s *Twitch) ExpireToken(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.access, access)
}

// RevokeGrant ends the grant of token (an access or a refresh token), as
// when the user disconnects the app or changes their password: its access
// and refresh tokens die. An app token just dies. Unknown tokens are
// ignored.
func (s *Twitch) RevokeGrant(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(token)
}

func (s *Twitch) revokeLocked(token string) bool {
	if a, ok := s.access[token]; ok {
		delete(s.access, token)
		if a.grant != nil {
			delete(s.grants, a.grant.refresh)
			delete(s.access, a.grant.access)
		}
		return true
	}
	if g, ok := s.grants[token]; ok {
		delete(s.grants, token)
		delete(s.access, g.access)
		return true
	}
	return false
}

// IssueUserToken opens a user grant with scopes without any OAuth flow,
// for the public app when public is set and the confidential one
// otherwise, and returns its access and refresh tokens.
func (s *Twitch) IssueUserToken(public bool, scopes ...string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.ClientID
	if public {
		id = s.PublicClientID
	}
	g := s.newGrantLocked(id, public, slices.Clone(scopes))
	return g.access, g.refresh
}

// IssueAppToken mints an app token of the confidential app without any
// OAuth flow.
func (s *Twitch) IssueAppToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newAppTokenLocked()
}

// TokenCalls returns how many requests reached /oauth2/token.
func (s *Twitch) TokenCalls() int { return s.count(&s.tokenCalls) }

// Exchanges returns how many authorization_code requests arrived.
func (s *Twitch) Exchanges() int { return s.count(&s.exchanges) }

// Mints returns how many client_credentials requests arrived.
func (s *Twitch) Mints() int { return s.count(&s.mints) }

// Refreshes returns how many refresh_token requests arrived.
func (s *Twitch) Refreshes() int { return s.count(&s.refreshes) }

// SpentRefreshTokenUses returns how many refresh requests presented a
// refresh token that an earlier refresh had already rotated away: the
// trace of two refreshes of one grant that were not serialised.
func (s *Twitch) SpentRefreshTokenUses() int { return s.count(&s.spentUses) }

// DeviceStarts returns how many requests reached /oauth2/device.
func (s *Twitch) DeviceStarts() int { return s.count(&s.deviceStarts) }

// DevicePolls returns how many device_code requests arrived.
func (s *Twitch) DevicePolls() int { return s.count(&s.devicePolls) }

// Validations returns how many requests reached /oauth2/validate.
func (s *Twitch) Validations() int { return s.count(&s.validations) }

// Revocations returns how many requests reached /oauth2/revoke.
func (s *Twitch) Revocations() int { return s.count(&s.revocations) }

// APICalls returns how many requests reached Helix.
func (s *Twitch) APICalls() int { return s.count(&s.apiCalls) }

// Malformed returns how many requests broke what Twitch requires or sent
// what a client must not (see Twitch).
func (s *Twitch) Malformed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.malformed)
}

// MalformedRequests describes each malformed request, in order: what a
// failing test prints.
func (s *Twitch) MalformedRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.malformed)
}

// LastTokenForm returns the parameters of the last request to
// /oauth2/token, /oauth2/device or /oauth2/revoke.
func (s *Twitch) LastTokenForm() url.Values { return s.tokenForm() }

// LastAuthorizeQuery returns the query of the last /oauth2/authorize
// request.
func (s *Twitch) LastAuthorizeQuery() url.Values { return s.authorizeQuery() }

// APIBodies returns the bodies of the Helix requests, in order.
func (s *Twitch) APIBodies() [][]byte { return s.bodies() }

// malformedLocked records a malformed request. s.mu must be held.
func (s *Twitch) malformedLocked(r *http.Request, why string) {
	if len(s.malformed) < maxEntries {
		s.malformed = append(s.malformed, r.Method+" "+r.URL.Path+": "+why)
	}
}

func twitchError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, twitchJSON, twitchErrorJSON{Status: status, Message: message})
}

// helixError is a Helix error: with "error", the HTTP reason phrase [S].
func helixError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, twitchJSON, twitchErrorJSON{Error: http.StatusText(status), Status: status, Message: message})
}

// serveID serves the identity host.
func (s *Twitch) serveID(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth2/authorize":
		s.authorize(w, r)
	case "/oauth2/token":
		s.tokenEndpoint(w, r, false)
	case "/oauth2/device":
		s.tokenEndpoint(w, r, true)
	case "/oauth2/validate":
		s.validate(w, r)
	case "/oauth2/revoke":
		s.revoke(w, r)
	case "/activate":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><html><body><p>Enter the code shown on your device.</p></body></html>\n")
	default:
		twitchError(w, http.StatusNotFound, "404 page not found") // [I]
	}
}

// twitchParams reads the parameters of an OAuth request: the form or
// multipart body, and, when query is set, the query string under it (the
// body wins). bad reports a body that could not be read.
func twitchParams(r *http.Request, query bool) (p url.Values, bad bool) {
	p = url.Values{}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(nil, r.Body, twitchMaxBody)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(r.Body)
		v, perr := url.ParseQuery(string(b))
		if err != nil || perr != nil {
			return p, true
		}
		p = v
	case "multipart/form-data":
		if err := r.ParseMultipartForm(twitchMaxBody); err != nil {
			return p, true
		}
		for k, vs := range r.MultipartForm.Value {
			p[k] = vs
		}
	}
	if query {
		for k, vs := range r.URL.Query() {
			if !p.Has(k) {
				p[k] = vs
			}
		}
	}
	return p, false
}

// tokenEndpoint serves POST /oauth2/token and, with device set,
// POST /oauth2/device.
func (s *Twitch) tokenEndpoint(w http.ResponseWriter, r *http.Request, device bool) {
	p, bad := twitchParams(r, !device)
	s.mu.Lock()
	s.recordLocked(r, nil)
	s.lastTokenForm = cloneValues(p)
	if device {
		s.deviceStarts++
		if r.URL.RawQuery != "" {
			// [S] /oauth2/device ignores the query string: scopes sent
			// there are silently dropped.
			s.malformedLocked(r, "parameters in the query string, which /oauth2/device ignores")
		}
	} else {
		s.tokenCalls++
		switch p.Get("grant_type") {
		case "authorization_code":
			s.exchanges++
		case "client_credentials":
			s.mints++
		case "refresh_token":
			s.refreshes++
		case "urn:ietf:params:oauth:grant-type:device_code":
			s.devicePolls++
		}
	}
	if r.Header.Get("Authorization") != "" {
		// [C] Twitch documents client credentials as parameters; a client
		// that tries Basic first (x/oauth2's auto-detection) sends twice.
		s.malformedLocked(r, "an Authorization header (Twitch takes client credentials as parameters)")
	}
	for _, k := range []string{"code_verifier", "code_challenge", "code_challenge_method"} {
		if p.Has(k) {
			s.malformedLocked(r, k+" sent (Twitch has no PKCE)")
		}
	}
	fail, mode := s.takeFailLocked()
	var next *twitchErrorJSON
	if !fail {
		next, s.nextErr = s.nextErr, nil
	}
	latency := s.latency
	s.mu.Unlock()

	if !s.wait(r.Context(), latency) {
		panic(http.ErrAbortHandler)
	}
	switch {
	case fail && mode == FailHTML:
		writeHTMLFailure(w)
		return
	case fail:
		twitchError(w, http.StatusServiceUnavailable, "the fake Twitch fails on purpose (FailTokenCalls)")
		return
	case next != nil:
		twitchError(w, next.Status, next.Message)
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		twitchError(w, http.StatusMethodNotAllowed, "method not allowed") // [I]
		return
	case bad:
		twitchError(w, http.StatusBadRequest, "invalid request body") // [I]
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	public, status, msg := s.clientLocked(r, p)
	if status != 0 {
		twitchError(w, status, msg)
		return
	}
	if device {
		s.deviceStartLocked(w, r, p, public)
		return
	}
	confidentialWithoutSecret := !public && p.Get("client_secret") == ""
	switch p.Get("grant_type") {
	case "authorization_code":
		s.exchangeLocked(w, p, public, confidentialWithoutSecret)
	case "client_credentials":
		switch {
		case public: // [S] public clients cannot use client credentials
			twitchError(w, http.StatusBadRequest, "Invalid client credentials")
		case confidentialWithoutSecret:
			twitchError(w, http.StatusBadRequest, "missing client secret")
		default:
			writeJSON(w, http.StatusOK, twitchJSON, twitchTokenJSON{AccessToken: s.newAppTokenLocked(),
				ExpiresIn: int(twitchAppTTL / time.Second), TokenType: "bearer"})
		}
	case "refresh_token":
		s.refreshLocked(w, p, public, confidentialWithoutSecret)
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.devicePollLocked(w, p)
	case "":
		twitchError(w, http.StatusBadRequest, "missing grant_type") // [I]
	default:
		twitchError(w, http.StatusBadRequest, "unsupported grant type") // [I]
	}
}

// clientLocked checks client_id and, when sent, client_secret: a status
// other than 0 is the answer. public tells which app it is.
func (s *Twitch) clientLocked(r *http.Request, p url.Values) (public bool, status int, msg string) {
	switch p.Get("client_id") {
	case "":
		return false, http.StatusBadRequest, "missing client_id" // [I]
	case s.ClientID:
	case s.PublicClientID:
		public = true
	default:
		return false, http.StatusBadRequest, "invalid client" // [S]
	}
	if secret := p.Get("client_secret"); p.Has("client_secret") {
		if public {
			s.malformedLocked(r, "a client_secret from the public client, which has none")
			return true, http.StatusForbidden, "invalid client secret" // [I]
		}
		if secret != s.ClientSecret {
			return false, http.StatusForbidden, "invalid client secret" // [S]
		}
	}
	return public, 0, ""
}

// exchangeLocked answers an authorization_code grant.
func (s *Twitch) exchangeLocked(w http.ResponseWriter, p url.Values, public, noSecret bool) {
	switch {
	case public: // [S] a public client's exchange, with or without PKCE
		twitchError(w, http.StatusBadRequest, "Invalid client credentials")
		return
	case noSecret:
		twitchError(w, http.StatusBadRequest, "missing client secret")
		return
	}
	code := p.Get("code")
	c := s.codes[code]
	delete(s.codes, code) // [I] an attempt spends the code, failed or not
	switch {
	case c == nil || !s.nowLocked().Before(c.expires) || c.clientID != p.Get("client_id"):
		twitchError(w, http.StatusBadRequest, "Invalid authorization code") // [S]
		return
	case c.redirectURI != p.Get("redirect_uri"):
		twitchError(w, http.StatusBadRequest, "Parameter redirect_uri does not match registeredURI") // [S]
		return
	}
	g := s.newGrantLocked(c.clientID, false, c.scopes)
	writeJSON(w, http.StatusOK, twitchJSON, s.grantJSONLocked(g))
}

// refreshLocked answers a refresh_token grant: the refresh token rotates.
func (s *Twitch) refreshLocked(w http.ResponseWriter, p url.Values, public, noSecret bool) {
	rt := p.Get("refresh_token")
	switch {
	case rt == "":
		twitchError(w, http.StatusBadRequest, "missing refresh token") // [S]
		return
	case noSecret: // [S] a confidential client's refresh, device-flow tokens too
		twitchError(w, http.StatusBadRequest, "missing client secret")
		return
	}
	now := s.nowLocked()
	g := s.grants[rt]
	if g == nil {
		if _, ok := s.spent[rt]; ok {
			s.spentUses++
		}
		twitchError(w, http.StatusBadRequest, "Invalid refresh token") // [S]
		return
	}
	if g.clientID != p.Get("client_id") || g.public != public {
		twitchError(w, http.StatusBadRequest, "Invalid refresh token") // [I]
		return
	}
	if !g.refreshExpires.IsZero() && !now.Before(g.refreshExpires) {
		delete(s.grants, rt)
		twitchError(w, http.StatusBadRequest, "Invalid refresh token") // [S] 30 days for a public client
		return
	}
	// [S] single use: the old refresh token is spent. [I] the scope
	// parameter is ignored; the grant keeps its scopes.
	delete(s.grants, rt)
	makeRoom(s.spent, func(at time.Time) bool { return now.Sub(at) > twitchPublicRefreshTTL }, nil)
	s.spent[rt] = now
	if s.killOnRefresh {
		delete(s.access, g.access)
	}
	s.rotateLocked(g, now)
	writeJSON(w, http.StatusOK, twitchJSON, s.grantJSONLocked(g))
}

// deviceStartLocked answers POST /oauth2/device.
func (s *Twitch) deviceStartLocked(w http.ResponseWriter, r *http.Request, p url.Values, public bool) {
	var scopes []string
	switch {
	case p.Has("scopes"):
		scopes = strings.Fields(p.Get("scopes"))
	case p.Has("scope"):
		// [S] x/oauth2 sends scope: Twitch silently grants no scope.
		s.malformedLocked(r, "scope instead of scopes, which Twitch ignores")
	default:
		twitchError(w, http.StatusBadRequest, "missing scopes") // [I]
		return
	}
	now := s.nowLocked()
	makeRoom(s.devices, func(d *twitchDevice) bool { return !now.Before(d.expires) }, nil)
	dev := &twitchDevice{clientID: p.Get("client_id"), scopes: s.withholdLocked(scopes), expires: now.Add(twitchDeviceTTL), interval: twitchDeviceStep}
	for dev.userCode == "" || s.userCodeTakenLocked(dev.userCode) {
		dev.userCode = twitchUserCode()
	}
	deviceCode := randomHex(20)
	s.devices[deviceCode] = dev
	uri := s.verify
	if uri == "" {
		q := "device-code=" + dev.userCode
		if public {
			q = "public=true&" + q // [S] the docs' example for a public client
		}
		uri = s.IDURL + "/activate?" + q
	}
	writeJSON(w, http.StatusOK, twitchJSON, twitchDeviceJSON{DeviceCode: deviceCode, ExpiresIn: int(twitchDeviceTTL / time.Second),
		Interval: int(twitchDeviceStep / time.Second), UserCode: dev.userCode, VerificationURI: uri})
}

func (s *Twitch) userCodeTakenLocked(code string) bool {
	for _, d := range s.devices {
		if d.userCode == code {
			return true
		}
	}
	return false
}

// twitchUserCode returns 8 random upper-case letters, the shape of every
// stored example [I].
func twitchUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return string(b)
}

// devicePollLocked answers a device_code grant.
func (s *Twitch) devicePollLocked(w http.ResponseWriter, p url.Values) {
	dc := p.Get("device_code")
	if dc == "" {
		twitchError(w, http.StatusBadRequest, "missing device_code") // [S]
		return
	}
	now := s.nowLocked()
	dev := s.devices[dc]
	switch {
	case dev == nil || dev.clientID != p.Get("client_id"):
		twitchError(w, http.StatusBadRequest, "invalid device code") // [S] spent, expired or unknown
	case !now.Before(dev.expires):
		delete(s.devices, dc)
		twitchError(w, http.StatusBadRequest, "invalid device code") // [S]
	case dev.state == twitchApproved:
		delete(s.devices, dc) // [S] one time use only
		g := s.newGrantLocked(dev.clientID, dev.clientID == s.PublicClientID, dev.scopes)
		writeJSON(w, http.StatusOK, twitchJSON, s.grantJSONLocked(g))
	case dev.state == twitchDenied:
		delete(s.devices, dc)
		twitchError(w, http.StatusBadRequest, "access_denied") // [I]
	case !dev.lastPoll.IsZero() && now.Sub(dev.lastPoll) < dev.interval:
		// [I] RFC 8628 §3.5's answer in Twitch's shape: +5 s for the rest
		// of this code's life.
		dev.lastPoll = now
		dev.interval += twitchDeviceStep
		twitchError(w, http.StatusBadRequest, "slow_down")
	default:
		dev.lastPoll = now
		twitchError(w, http.StatusBadRequest, "authorization_pending") // [S]
	}
}

func (s *Twitch) withholdLocked(scopes []string) []string {
	if s.withhold == "" {
		return scopes
	}
	return slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return sc == s.withhold })
}

// newGrantLocked opens a grant with a fresh token pair.
func (s *Twitch) newGrantLocked(clientID string, public bool, scopes []string) *twitchGrant {
	g := &twitchGrant{clientID: clientID, public: public, scopes: scopes}
	s.rotateLocked(g, s.nowLocked())
	return g
}

// rotateLocked gives g a new access and refresh token.
func (s *Twitch) rotateLocked(g *twitchGrant, now time.Time) {
	makeRoom(s.grants, func(g *twitchGrant) bool { return !g.refreshExpires.IsZero() && !now.Before(g.refreshExpires) }, nil)
	makeRoom(s.access, func(a *twitchAccess) bool { return !now.Before(a.expires) }, nil)
	g.refresh = randomHex(25) // [S] 50 characters
	if g.public {
		g.refreshExpires = now.Add(twitchPublicRefreshTTL)
	}
	g.access = randomHex(15) // [S] 30 characters
	s.grants[g.refresh] = g
	s.access[g.access] = &twitchAccess{clientID: g.clientID, scopes: g.scopes, expires: now.Add(twitchUserTTL), grant: g}
}

func (s *Twitch) newAppTokenLocked() string {
	now := s.nowLocked()
	makeRoom(s.access, func(a *twitchAccess) bool { return !now.Before(a.expires) }, nil)
	tok := randomHex(15)
	s.access[tok] = &twitchAccess{clientID: s.ClientID, app: true, expires: now.Add(twitchAppTTL)}
	return tok
}

func (s *Twitch) grantJSONLocked(g *twitchGrant) twitchTokenJSON {
	return twitchTokenJSON{AccessToken: g.access, ExpiresIn: int(twitchUserTTL / time.Second), RefreshToken: g.refresh,
		Scope: g.scopes, TokenType: "bearer"} // [S] scope an array, left out when empty; bearer in lower case
}

// authorize serves GET /oauth2/authorize, which approves (or, with
// DenyConsent, denies) at once.
func (s *Twitch) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastAuthorizeQuery = cloneValues(q)
	for _, k := range []string{"code_challenge", "code_challenge_method"} {
		if q.Has(k) {
			s.malformedLocked(r, k+" sent (Twitch has no PKCE)")
		}
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	rt := q.Get("response_type")
	switch {
	case r.Method != http.MethodGet:
		twitchError(w, http.StatusMethodNotAllowed, "method not allowed") // [I]
		return
	case q.Get("client_id") != s.ClientID && q.Get("client_id") != s.PublicClientID:
		twitchError(w, http.StatusBadRequest, "invalid client") // [I]
		return
	case rt != "code" && rt != "token":
		twitchError(w, http.StatusBadRequest, "unsupported response_type") // [I]
		return
	case err != nil || !redirect.IsAbs() || redirect.Fragment != "":
		twitchError(w, http.StatusBadRequest, "Parameter redirect_uri does not match registeredURI") // [I]
		return
	case !q.Has("scope"):
		s.malformedLocked(r, "no scope parameter, which /oauth2/authorize requires")
		twitchError(w, http.StatusBadRequest, "missing scope") // [I]
		return
	}
	state := ""
	if st := q.Get("state"); st != "" { // [C] optional, echoed when sent
		state = "&state=" + url.QueryEscape(st)
	}
	if s.deny { // [C] in the query, for the implicit grant too [S]
		twitchRedirect(w, redirect, "error=access_denied&error_description="+url.QueryEscape("The user denied you access")+state, false)
		return
	}
	now := s.nowLocked()
	scopes := s.withholdLocked(strings.Fields(q.Get("scope")))
	scope := "&scope=" + url.QueryEscape(strings.Join(scopes, " ")) // [C] space-separated
	if rt == "token" {
		makeRoom(s.access, func(a *twitchAccess) bool { return !now.Before(a.expires) }, nil)
		tok := randomHex(15)
		s.access[tok] = &twitchAccess{clientID: q.Get("client_id"), scopes: scopes, expires: now.Add(twitchUserTTL)}
		// [S] no expires_in, no refresh token
		twitchRedirect(w, redirect, "access_token="+tok+scope+state+"&token_type=bearer", true)
		return
	}
	makeRoom(s.codes, func(c *twitchCode) bool { return !now.Before(c.expires) }, nil)
	code := randomHex(15)
	s.codes[code] = &twitchCode{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), scopes: scopes, expires: now.Add(twitchCodeTTL)}
	twitchRedirect(w, redirect, "code="+code+scope+state, false)
}

// twitchRedirect answers 302 to redirect with params in its query, or as
// its fragment.
func twitchRedirect(w http.ResponseWriter, redirect *url.URL, params string, fragment bool) {
	u := *redirect
	if fragment {
		u.Fragment, u.RawFragment = "", ""
		w.Header().Set("Location", u.String()+"#"+params)
	} else {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += params
		w.Header().Set("Location", u.String())
	}
	w.WriteHeader(http.StatusFound)
}

// validate serves GET /oauth2/validate.
func (s *Twitch) validate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validations++
	s.recordLocked(r, nil)
	if r.Method != http.MethodGet {
		twitchError(w, http.StatusMethodNotAllowed, "method not allowed") // [I]
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	switch {
	case tok == "":
		twitchError(w, http.StatusUnauthorized, "missing authorization token") // [S]
		return
	case !strings.EqualFold(scheme, "OAuth") && !strings.EqualFold(scheme, "Bearer"): // [C]
		s.malformedLocked(r, "an Authorization scheme other than OAuth or Bearer")
		twitchError(w, http.StatusUnauthorized, "invalid access token")
		return
	}
	now := s.nowLocked()
	a := s.access[tok]
	if a == nil || !now.Before(a.expires) {
		twitchError(w, http.StatusUnauthorized, "invalid access token") // [C]
		return
	}
	out := twitchValidateJSON{ClientID: a.clientID, Scopes: a.scopes, ExpiresIn: int(a.expires.Sub(now) / time.Second)}
	if len(out.Scopes) == 0 {
		out.Scopes = nil // [S] null when none
	}
	if !a.app { // [C] null for an app token
		out.Login, out.UserID = &s.Login, &s.UserID
	}
	writeJSON(w, http.StatusOK, twitchJSON, out)
}

// revoke serves POST /oauth2/revoke.
func (s *Twitch) revoke(w http.ResponseWriter, r *http.Request) {
	p, bad := twitchParams(r, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revocations++
	s.recordLocked(r, nil)
	s.lastTokenForm = cloneValues(p)
	if p.Has("client_secret") {
		s.malformedLocked(r, "a client_secret, which /oauth2/revoke does not take")
	}
	switch id := p.Get("client_id"); {
	case r.Method != http.MethodPost:
		twitchError(w, http.StatusMethodNotAllowed, "method not allowed") // [I]
	case bad:
		twitchError(w, http.StatusBadRequest, "invalid request body") // [I]
	case id == "":
		twitchError(w, http.StatusBadRequest, "missing client_id") // [I]
	case id != s.ClientID && id != s.PublicClientID:
		twitchError(w, http.StatusNotFound, "client does not exist") // [S]
	case p.Get("token") == "":
		twitchError(w, http.StatusBadRequest, "missing oauth token") // [S]
	case !s.ownsTokenLocked(id, p.Get("token")) || !s.revokeLocked(p.Get("token")):
		twitchError(w, http.StatusBadRequest, "Invalid token") // [S]
	default:
		w.WriteHeader(http.StatusOK) // [S] no body; [I] the whole grant ends
	}
}

func (s *Twitch) ownsTokenLocked(clientID, token string) bool {
	if a, ok := s.access[token]; ok {
		return a.clientID == clientID
	}
	if g, ok := s.grants[token]; ok {
		return g.clientID == clientID
	}
	return false
}

// serveAPI serves Helix.
func (s *Twitch) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, bodyErr := io.ReadAll(http.MaxBytesReader(w, r.Body, twitchMaxBody))
	s.mu.Lock()
	s.apiCalls++
	s.recordLocked(r, body)
	s.apiBodies = append(s.apiBodies, body)
	if len(s.apiBodies) > maxEntries {
		s.apiBodies = s.apiBodies[1:]
	}
	now := s.nowLocked()
	h := w.Header()
	h.Set("Ratelimit-Limit", strconv.Itoa(twitchRateLimit))
	h.Set("Ratelimit-Reset", strconv.FormatInt(now.Add(time.Minute).Unix(), 10))
	h.Set("Ratelimit-Remaining", strconv.Itoa(twitchRateLimit-1))
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	clientID := r.Header.Get("Client-Id")
	var a *twitchAccess
	status, msg := 0, ""
	switch {
	case tok == "":
		s.malformedLocked(r, "no Authorization header")
		status, msg = http.StatusUnauthorized, "OAuth token is missing" // [S]
	case !strings.EqualFold(scheme, "Bearer"):
		s.malformedLocked(r, "an Authorization scheme other than Bearer")
		status, msg = http.StatusUnauthorized, "Invalid OAuth token" // [I]
	case clientID == "":
		s.malformedLocked(r, "no Client-Id header")
		status, msg = http.StatusUnauthorized, "Client ID and OAuth token do not match" // [I]
	default:
		a = s.access[tok]
		switch {
		case a == nil || !now.Before(a.expires):
			status, msg = http.StatusUnauthorized, "Invalid OAuth token" // [S]
		case a.clientID != clientID:
			status, msg = http.StatusUnauthorized, "Client ID and OAuth token do not match" // [S]
		}
	}
	limited := status == 0 && s.rateN > 0
	if limited {
		s.rateN--
		h.Set("Ratelimit-Remaining", "0")
	}
	var scopes []string
	app := false
	if a != nil {
		scopes, app = a.scopes, a.app
	}
	s.mu.Unlock()
	switch {
	case status != 0:
		helixError(w, status, msg)
		return
	case limited:
		helixError(w, http.StatusTooManyRequests, "Too Many Requests") // [S]
		return
	case bodyErr != nil:
		helixError(w, http.StatusRequestEntityTooLarge, "request body too large") // [I]
		return
	}
	s.route(w, r, body, scopes, app)
}

// route serves the Helix routes of an authorized request.
func (s *Twitch) route(w http.ResponseWriter, r *http.Request, body []byte, scopes []string, app bool) {
	method := http.MethodGet
	switch r.URL.Path {
	case "/helix/users", "/helix/channels":
	case "/helix/polls":
		method = http.MethodPost
	default:
		helixError(w, http.StatusNotFound, "") // [I]
		return
	}
	if r.Method != method {
		helixError(w, http.StatusMethodNotAllowed, "method not allowed") // [I]
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/helix/users":
		if app && !q.Has("id") && !q.Has("login") { // [I]
			helixError(w, http.StatusBadRequest, `Missing required parameter "id" or "login"`)
			return
		}
		writeJSON(w, http.StatusOK, twitchJSON, map[string]any{"data": []map[string]any{{
			"id": s.UserID, "login": s.Login, "display_name": "TwitchDev", "type": "", "broadcaster_type": "partner",
		}}})
	case "/helix/channels":
		if q.Get("broadcaster_id") == "" {
			helixError(w, http.StatusBadRequest, `Missing required parameter "broadcaster_id"`) // [I]
			return
		}
		writeJSON(w, http.StatusOK, twitchJSON, map[string]any{"data": []map[string]any{{
			"broadcaster_id": q.Get("broadcaster_id"), "broadcaster_login": s.Login, "title": "a fake stream",
		}}})
	case "/helix/polls":
		var poll struct {
			BroadcasterID string `json:"broadcaster_id"`
			Title         string `json:"title"`
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case app: // [S]
			helixError(w, http.StatusUnauthorized, "Missing User OAUTH Token")
		case !slices.Contains(scopes, TwitchPollScope): // [C] [X] a missing scope is a 401
			helixError(w, http.StatusUnauthorized, "Missing scope: "+TwitchPollScope)
		case mt != twitchJSON || json.Unmarshal(body, &poll) != nil:
			helixError(w, http.StatusBadRequest, "The body is not valid JSON") // [I]
		case poll.BroadcasterID != s.UserID: // [C]
			helixError(w, http.StatusUnauthorized, "The ID in broadcaster_id must match the user ID found in the request's OAuth token.")
		default:
			writeJSON(w, http.StatusOK, twitchJSON, map[string]any{"data": []map[string]any{{
				"id": "ed961efd-8a3f-4cf5-a9d0-e616c590cd2a", "broadcaster_id": poll.BroadcasterID, "title": poll.Title, "status": "ACTIVE",
			}}})
		}
	}
}
