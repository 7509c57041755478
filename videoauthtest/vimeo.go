package videoauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FailMode selects how FailTokenCalls fails.
type FailMode int

const (
	// Fail5xx answers 503 with a JSON auth-error body
	// {"error":"server_error","error_description":"..."}.
	Fail5xx FailMode = iota
	// FailHTML answers 502 with a text/html page, as a proxy in front of
	// Vimeo would.
	FailHTML
)

const (
	authType  = "application/vnd.vimeo.auth+json"
	errorType = "application/vnd.vimeo.error+json"
	userType  = "application/vnd.vimeo.user+json"
	videoType = "application/vnd.vimeo.video+json"

	codeTTL        = 10 * time.Minute   // [I] RFC 6749 §4.1.2's recommended most; Vimeo's own is unpublished
	deviceTTL      = 300 * time.Second  // [I] expires_in of a device code
	deviceInterval = 5                  // [I] seconds between device polls
	implicitTTL    = 3600 * time.Second // [C] developer.vimeo.com/api/authentication: expires_in=3600 in the example
	maxTokenBody   = 1 << 20
	maxAPIBody     = 32 << 20
)

// acceptRE matches the versioned Accept header Vimeo asks for on every
// request, with or without a space after the ';'.
var acceptRE = regexp.MustCompile(`^application/vnd\.vimeo\.\*\+json; ?version=[0-9]+\.[0-9]+$`)

// Vimeo is a fake of Vimeo's OAuth endpoints and of a few API routes, served
// by an httptest.Server. Create it with NewVimeo and stop it with Close.
//
// The exported fields are set by NewVimeo; change ClientID or ClientSecret, if
// at all, before the first request.
type Vimeo struct {
	URL          string // base URL of the fake, e.g. http://127.0.0.1:PORT (use as API and auth base)
	ClientID     string // default "vimeo-test-client"
	ClientSecret string // default "s3cr+t/with=reserved" (reserved characters on purpose: Vimeo expects Basic over the RAW id:secret, not URL-escaped)

	core // core.mu guards the fields below

	tokens   map[string]token
	codes    map[string]authCode
	devices  map[string]*device // by device_code
	deny     bool
	activate string // SetActivateLink; "" is URL+"/activate"

	sweepTokens int // the size at which tokens is next swept (dropDead)

	mints, tokenCalls, exchanges, devicePolls, apiCalls, missingAccept int
}

// token is an issued access token.
type token struct {
	scope   string    // granted scopes, space separated
	user    bool      // a user token; false for client credentials
	expires time.Time // zero: never
}

// authCode is an authorization code waiting for its exchange.
type authCode struct {
	redirectURI, scope, challenge, method string
	expires                               time.Time
}

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
)

// device is a device-grant code waiting for the user.
type device struct {
	userCode, scope string
	expires         time.Time
	state           deviceState
}

// JSON bodies. Field order follows Vimeo's documentation.
type (
	userJSON struct {
		URI  string `json:"uri"`
		Name string `json:"name"`
		Link string `json:"link"`
	}
	appJSON struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	authJSON struct {
		AccessToken string    `json:"access_token"`
		TokenType   string    `json:"token_type"`
		Scope       string    `json:"scope"`
		User        *userJSON `json:"user,omitempty"`
		App         appJSON   `json:"app"`
	}
	apiErrorJSON struct {
		Error            string  `json:"error"`
		DeveloperMessage string  `json:"developer_message"`
		ErrorCode        int     `json:"error_code"`
		Link             *string `json:"link"`
	}
	videoJSON struct {
		URI  string `json:"uri"`
		Name string `json:"name"`
		Link string `json:"link"`
	}
)

var (
	fakeUser = userJSON{URI: "/users/4242", Name: "Fake User", Link: "https://vimeo.com/user4242"}
	fakeApp  = appJSON{Name: "Fake App", URI: "/apps/1"}

	// [S] captured 401 for a request without credentials
	// (docs/vimeo.md#error-codes).
	errNoCredentials = apiErrorJSON{Error: "Something strange occurred.", DeveloperMessage: "The app didn't receive the user's credentials.", ErrorCode: 8003}
	// [C] 8000 "user access token is invalid".
	errInvalidToken = apiErrorJSON{Error: "Something strange occurred.", DeveloperMessage: "The user access token is invalid.", ErrorCode: 8000}
	// [C] 8002, an app token on a user-only endpoint.
	errNoUser = apiErrorJSON{Error: "You must provide a valid authenticated access token.", DeveloperMessage: "No user is associated with the access token.", ErrorCode: 8002}
	// [C] 3200 permission denied, 403.
	errScope = apiErrorJSON{Error: "You don't have permission to do this.", DeveloperMessage: "The supplied token doesn't have the proper scopes.", ErrorCode: 3200}
	// [I] codes from vimeo-networking-java ErrorCodeType: 5000 resource not
	// found, 6000 method not implemented, 2205 invalid body.
	errNotFound  = apiErrorJSON{Error: "The requested page couldn't be found.", DeveloperMessage: "The requested resource does not exist.", ErrorCode: 5000}
	errMethod    = apiErrorJSON{Error: "Something strange occurred.", DeveloperMessage: "The method is not allowed on this resource.", ErrorCode: 6000}
	errBodyLarge = apiErrorJSON{Error: "Something strange occurred.", DeveloperMessage: "The request body is too large.", ErrorCode: 2205}
)

// NewVimeo starts a fake Vimeo on a plain-HTTP httptest.Server listening on
// 127.0.0.1. The caller must Close it.
func NewVimeo() *Vimeo {
	v := &Vimeo{
		ClientID:     "vimeo-test-client",
		ClientSecret: "s3cr+t/with=reserved",
		tokens:       make(map[string]token),
		codes:        make(map[string]authCode),
		devices:      make(map[string]*device),
	}
	// One host serves OAuth and the API, as api.vimeo.com does.
	v.URL = v.start("Vimeo", serves(v.serve, "api.vimeo.com"))[0]
	return v
}

// Client returns an *http.Client for the fake (the httptest server's client).
func (v *Vimeo) Client() *http.Client { return v.client() }

// SetClock makes the fake read the time from c for every expiry decision
// (device codes, implicit-grant tokens). A nil c restores real time.
func (v *Vimeo) SetClock(c *Clock) { v.setClock(c) }

// DeleteToken forgets accessToken: the API then answers 401 as for an
// invalid token, as when Vimeo deletes an unused or revoked token.
func (v *Vimeo) DeleteToken(accessToken string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.tokens, accessToken)
}

// DeleteAllTokens forgets every access token issued so far.
func (v *Vimeo) DeleteAllTokens() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.tokens)
}

// DenyConsent makes the authorize page redirect with error=access_denied
// instead of a code or token, as if the user clicked "deny", while deny is
// true.
func (v *Vimeo) DenyConsent(deny bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.deny = deny
}

// ApproveDevice approves the device-grant request shown to the user as
// userCode; the next poll receives a user token. It reports false if no such
// user code is pending (unknown, expired, already approved or denied).
func (v *Vimeo) ApproveDevice(userCode string) bool { return v.decide(userCode, deviceApproved) }

// DenyDevice denies the device-grant request shown to the user as userCode;
// polls then fail with access_denied. It reports false if no such user code is
// pending.
func (v *Vimeo) DenyDevice(userCode string) bool { return v.decide(userCode, deviceDenied) }

func (v *Vimeo) decide(userCode string, s deviceState) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.nowLocked()
	for _, d := range v.devices {
		if d.userCode == userCode && d.state == devicePending && now.Before(d.expires) {
			d.state = s
			return true
		}
	}
	return false
}

// FailTokenCalls makes the next n requests to any token endpoint
// (/oauth/authorize/client, /oauth/access_token, /oauth/device,
// /oauth/device/authorize) fail as mode says, before any other check: such a
// request consumes no code and mints no token. It replaces an earlier
// setting; n <= 0 turns failures off.
func (v *Vimeo) FailTokenCalls(n int, mode FailMode) { v.failTokenCalls(n, mode) }

// SetLatency makes every token-endpoint request wait d before it is answered.
// A request whose client goes away (or that is still waiting at Close) is
// abandoned without an answer.
func (v *Vimeo) SetLatency(d time.Duration) { v.setLatency(d) }

// SetActivateLink makes the answers of /oauth/device name link as their
// activate_link, the page the user is told to open, instead of URL+
// "/activate": a hostile or broken service (another host, a javascript: or
// data: URI), for tests of what a client shows its user. "" restores the
// default.
func (v *Vimeo) SetActivateLink(link string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.activate = link
}

// IssueUserToken mints a user token with the given scopes (plus "public",
// which Vimeo always grants) without any OAuth flow, and returns the access
// token.
func (v *Vimeo) IssueUserToken(scopes ...string) string {
	return v.mint(token{scope: grantScopes(strings.Join(scopes, " "), "public"), user: true})
}

// RestoreToken makes the fake accept access as a token it issued, as when a
// token saved by an earlier fake is used again: a user token if user is true
// (what the code and device grants give), else an app token (what client
// credentials give). It is granted scopes plus "public", which Vimeo always
// grants, and never expires. It replaces any token with the same value. An
// empty access is ignored. It does not count as a mint.
func (v *Vimeo) RestoreToken(access string, user bool, scopes ...string) {
	if access == "" {
		return
	}
	t := token{scope: grantScopes(strings.Join(scopes, " "), "public"), user: user}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tokens[access] = t
}

// Mints returns how many client-credentials tokens were issued (successful
// requests to /oauth/authorize/client).
func (v *Vimeo) Mints() int { return v.count(&v.mints) }

// TokenCalls returns how many requests reached any token endpoint, success
// or not.
func (v *Vimeo) TokenCalls() int { return v.count(&v.tokenCalls) }

// Exchanges returns how many requests reached /oauth/access_token, success or
// not.
func (v *Vimeo) Exchanges() int { return v.count(&v.exchanges) }

// DevicePolls returns how many requests reached /oauth/device/authorize.
func (v *Vimeo) DevicePolls() int { return v.count(&v.devicePolls) }

// APICalls returns how many requests reached API paths (every path outside
// /oauth/, /tokens included).
func (v *Vimeo) APICalls() int { return v.count(&v.apiCalls) }

// MissingAccept returns how many requests lacked an Accept header matching
// application/vnd.vimeo.*+json;version=X.Y (an optional space after the ';').
// Every path counts except the browser-facing consent page /oauth/authorize.
func (v *Vimeo) MissingAccept() int { return v.count(&v.missingAccept) }

// APIBodies returns a copy of the bodies of the API requests received, in
// order (an empty slice for a request without a body).
func (v *Vimeo) APIBodies() [][]byte { return v.bodies() }

// LastTokenForm returns a copy of the form body of the most recent
// token-endpoint request, or nil if there was none.
func (v *Vimeo) LastTokenForm() url.Values { return v.tokenForm() }

// LastAuthorizeQuery returns a copy of the query of the most recent
// /oauth/authorize request, or nil if there was none.
func (v *Vimeo) LastAuthorizeQuery() url.Values { return v.authorizeQuery() }

func (v *Vimeo) serve(w http.ResponseWriter, r *http.Request) {
	// The consent page is opened by a browser, which cannot send Vimeo's
	// Accept header; every other request should carry it.
	if r.URL.Path != "/oauth/authorize" && !acceptOK(r.Header.Values("Accept")) {
		v.mu.Lock()
		v.missingAccept++
		v.mu.Unlock()
	}
	switch p := r.URL.Path; {
	case p == "/oauth/authorize":
		v.authorize(w, r)
	case p == "/oauth/authorize/client":
		v.tokenEndpoint(w, r, nil, v.clientCredentials)
	case p == "/oauth/access_token":
		v.tokenEndpoint(w, r, &v.exchanges, v.exchange)
	case p == "/oauth/device":
		v.tokenEndpoint(w, r, nil, v.deviceStart)
	case p == "/oauth/device/authorize":
		v.tokenEndpoint(w, r, &v.devicePolls, v.devicePoll)
	case p == "/oauth/verify":
		v.verify(w, r)
	case p == "/oauth" || strings.HasPrefix(p, "/oauth/"):
		writeJSON(w, http.StatusNotFound, errorType, map[string]string{"error": "Not found."}) // [I]
	default:
		v.api(w, r)
	}
}

func acceptOK(headers []string) bool {
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ",") {
			if acceptRE.MatchString(strings.TrimSpace(part)) {
				return true
			}
		}
	}
	return false
}

// tokenEndpoint does what all token endpoints share: counting, injected
// failures and latency, method, client authentication and body type. Then
// grant answers.
func (v *Vimeo) tokenEndpoint(w http.ResponseWriter, r *http.Request, counter *int, grant func(http.ResponseWriter, url.Values)) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	_ = r.ParseForm() // a bad body leaves PostForm short; the checks below reject it
	v.mu.Lock()
	v.tokenCalls++
	if counter != nil {
		*counter++
	}
	v.lastTokenForm = cloneValues(r.PostForm)
	fail, mode := v.takeFailLocked()
	latency := v.latency
	v.mu.Unlock()

	if !v.wait(r.Context(), latency) {
		panic(http.ErrAbortHandler) // nobody is waiting for the answer
	}
	if fail {
		writeFailure(w, mode)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		authError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST only.") // [I]
		return
	}
	// [C] Basic over the raw id:secret, as Vimeo's SDKs send it; an
	// URL-escaped id or secret (x/oauth2's default) does not match. [I] that
	// Vimeo does not URL-decode.
	if id, secret, ok := r.BasicAuth(); !ok || id != v.ClientID || secret != v.ClientSecret {
		authError(w, http.StatusUnauthorized, "invalid_client", "A valid client ID must be provided along with any request made to Vimeo's API")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		authError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded.") // [I]
		return
	}
	grant(w, r.PostForm)
}

func writeFailure(w http.ResponseWriter, mode FailMode) {
	if mode == FailHTML {
		writeHTMLFailure(w)
		return
	}
	authError(w, http.StatusServiceUnavailable, "server_error", "The fake Vimeo fails on purpose (FailTokenCalls).")
}

// clientCredentials serves POST /oauth/authorize/client.
func (v *Vimeo) clientCredentials(w http.ResponseWriter, form url.Values) {
	if form.Get("grant_type") != "client_credentials" {
		unsupportedGrant(w)
		return
	}
	// [C] client-credentials tokens are public-only, whatever scope is asked.
	t := token{scope: "public"}
	access := v.mint(t)
	v.mu.Lock()
	v.mints++
	v.mu.Unlock()
	writeAuth(w, http.StatusOK, authObject(access, t))
}

// authorize serves GET /oauth/authorize, the consent page, which approves
// (or, with DenyConsent, denies) at once.
func (v *Vimeo) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v.mu.Lock()
	v.lastAuthorizeQuery = cloneValues(q)
	deny := v.deny
	v.mu.Unlock()

	// Errors before the redirect target is trusted are pages, not redirects.
	// [I] the texts and the 400 status.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if q.Get("client_id") != v.ClientID {
		http.Error(w, "invalid client_id", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		http.Error(w, "redirect_uri is required and must be an absolute URL", http.StatusBadRequest)
		return
	}
	rt := q.Get("response_type")
	if rt != "code" && rt != "token" {
		http.Error(w, "response_type must be code or token", http.StatusBadRequest)
		return
	}
	state := q.Get("state") // [C] required by Vimeo's docs
	if state == "" {
		http.Error(w, "state is required", http.StatusBadRequest)
		return
	}
	method := q.Get("code_challenge_method")
	if method != "" && method != "plain" && method != "S256" {
		http.Error(w, "unsupported code_challenge_method", http.StatusBadRequest) // [I]
		return
	}

	// [C] developer.vimeo.com/api/authentication: the redirect_uri's own query is kept, its fragment dropped.
	redirect.Fragment, redirect.RawFragment = "", ""
	scope := grantScopes(q.Get("scope"), "public private") // [C] developer.vimeo.com/api/authentication: default "public" and "private"
	var params string
	switch {
	case deny: // [I] Vimeo's denial redirect is undocumented; RFC 6749 §4.1.2.1
		params = "error=access_denied&error_description=The+user+denied+the+request&state=" + url.QueryEscape(state)
	case rt == "code":
		code := randomHex(16)
		v.mu.Lock()
		now := v.nowLocked()
		makeRoom(v.codes, func(c authCode) bool { return !now.Before(c.expires) }, nil)
		v.codes[code] = authCode{redirectURI: q.Get("redirect_uri"), scope: scope, challenge: q.Get("code_challenge"), method: method, expires: now.Add(codeTTL)}
		v.mu.Unlock()
		params = "code=" + code + "&state=" + url.QueryEscape(state)
	default: // implicit: [C] developer.vimeo.com/api/authentication example, parameters in this order
		access := v.mint(token{scope: scope, user: true, expires: v.now().Add(implicitTTL)})
		params = "access_token=" + access + "&token_type=bearer&scope=" + url.QueryEscape(scope) +
			"&state=" + url.QueryEscape(state) + "&expires_in=" + strconv.Itoa(int(implicitTTL.Seconds()))
	}
	var loc string
	if rt == "token" {
		loc = redirect.String() + "#" + params
	} else {
		if redirect.RawQuery != "" {
			redirect.RawQuery += "&"
		}
		redirect.RawQuery += params
		loc = redirect.String()
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// exchange serves POST /oauth/access_token.
func (v *Vimeo) exchange(w http.ResponseWriter, form url.Values) {
	if form.Get("grant_type") != "authorization_code" {
		unsupportedGrant(w)
		return
	}
	v.mu.Lock()
	c, ok := v.codes[form.Get("code")]
	delete(v.codes, form.Get("code")) // [I] single use, even when this attempt fails
	ok = ok && v.nowLocked().Before(c.expires)
	v.mu.Unlock()
	switch {
	case !ok:
		authError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid, expired or already used")
	case form.Get("redirect_uri") != c.redirectURI: // [C] must be the same, byte for byte [I]
		authError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
	// [I] Vimeo's PKCE support is undocumented: check a verifier when both
	// it and a challenge were sent, accept its absence.
	case c.challenge != "" && form.Has("code_verifier") && !pkceOK(c, form.Get("code_verifier")):
		authError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
	default:
		t := token{scope: c.scope, user: true}
		writeAuth(w, http.StatusOK, authObject(v.mint(t), t))
	}
}

func pkceOK(c authCode, verifier string) bool {
	if c.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == c.challenge
	}
	return verifier == c.challenge // "plain", RFC 7636's default
}

// deviceStart serves POST /oauth/device.
func (v *Vimeo) deviceStart(w http.ResponseWriter, form url.Values) {
	if form.Get("grant_type") != "device_grant" {
		unsupportedGrant(w)
		return
	}
	deviceCode := randomHex(16)
	d := &device{scope: grantScopes(form.Get("scope"), "public")} // [I] default scope
	v.mu.Lock()
	now := v.nowLocked()
	makeRoom(v.devices, func(d *device) bool { return !now.Before(d.expires) }, nil)
	d.expires = now.Add(deviceTTL)
	for d.userCode == "" || v.userCodeTaken(d.userCode) {
		d.userCode = userCode(6)
	}
	v.devices[deviceCode] = d
	activate := v.activate
	v.mu.Unlock()
	if activate == "" {
		activate = v.URL + "/activate"
	}
	// [C] fields of vimeo-networking-java PinCodeInfo; [I] status 200.
	writeAuth(w, http.StatusOK, struct {
		DeviceCode    string `json:"device_code"`
		UserCode      string `json:"user_code"`
		AuthorizeLink string `json:"authorize_link"`
		ActivateLink  string `json:"activate_link"`
		ExpiresIn     int    `json:"expires_in"`
		Interval      int    `json:"interval"`
	}{deviceCode, d.userCode, v.URL + "/oauth/device/authorize", activate, int(deviceTTL.Seconds()), deviceInterval})
}

// userCodeTaken reports whether code is in use. v.mu must be held.
func (v *Vimeo) userCodeTaken(code string) bool {
	for _, d := range v.devices {
		if d.userCode == code {
			return true
		}
	}
	return false
}

// devicePoll serves POST /oauth/device/authorize.
func (v *Vimeo) devicePoll(w http.ResponseWriter, form url.Values) {
	if form.Get("grant_type") != "device_grant" {
		unsupportedGrant(w)
		return
	}
	deviceCode := form.Get("device_code")
	v.mu.Lock()
	d, ok := v.devices[deviceCode]
	ok = ok && d.userCode == form.Get("user_code")
	var state deviceState
	var expired bool
	var access string
	var t token
	if ok {
		state, expired = d.state, !v.nowLocked().Before(d.expires)
		if state == deviceApproved && !expired {
			delete(v.devices, deviceCode) // the code is gone once it yields its token
			t = token{scope: d.scope, user: true}
			access = v.mintLocked(t)
		}
	}
	v.mu.Unlock()
	// [I] all error statuses and bodies: no source documents them.
	switch {
	case !ok:
		authError(w, http.StatusBadRequest, "invalid_grant", "The device code is invalid or already used")
	case expired:
		authError(w, http.StatusBadRequest, "expired_token", "The device code has expired")
	case state == deviceDenied:
		authError(w, http.StatusBadRequest, "access_denied", "The user denied the device")
	case state == devicePending:
		authError(w, http.StatusBadRequest, "authorization_pending", "The user has not yet authorized the device")
	default:
		writeAuth(w, http.StatusOK, authObject(access, t))
	}
}

// verify serves GET /oauth/verify.
func (v *Vimeo) verify(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, errorType, map[string]string{"error": "Method not allowed."}) // [I]
		return
	}
	access, _ := bearer(r)
	t, ok := v.lookup(access)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusUnauthorized, errorType, map[string]string{"error": "The access token is not a valid OAuth 2 token."})
		return
	}
	writeAuth(w, http.StatusOK, authObject(access, t))
}

// api serves every path outside /oauth/.
func (v *Vimeo) api(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	v.mu.Lock()
	v.apiCalls++
	v.apiBodies = append(v.apiBodies, body)
	v.mu.Unlock()
	if err != nil {
		apiError(w, http.StatusRequestEntityTooLarge, errBodyLarge)
		return
	}
	access, present := bearer(r)
	if !present {
		apiError(w, http.StatusUnauthorized, errNoCredentials)
		return
	}
	t, ok := v.lookup(access)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`) // [C] Vimeo's SDK keys on it
		apiError(w, http.StatusUnauthorized, errInvalidToken)
		return
	}

	switch p := r.URL.Path; {
	case p == "/tokens": // [C] DELETE /tokens revokes the current token
		if allow(w, r, http.MethodDelete) {
			v.DeleteToken(access)
			w.WriteHeader(http.StatusNoContent)
		}
	case p == "/me":
		if !allow(w, r, http.MethodGet, http.MethodPatch) {
			return
		}
		if !t.user {
			apiError(w, http.StatusUnauthorized, errNoUser) // no WWW-Authenticate: the token is fine
			return
		}
		if r.Method == http.MethodPatch {
			w.Header().Set("Content-Type", userType)
			w.Write(body) // [I] echo: the fake keeps no user state
			return
		}
		writeJSON(w, http.StatusOK, userType, fakeUser)
	case p == "/me/videos":
		if !allow(w, r, http.MethodPost) {
			return
		}
		if !t.user || !slices.Contains(strings.Fields(t.scope), "upload") {
			apiError(w, http.StatusForbidden, errScope)
			return
		}
		writeJSON(w, http.StatusCreated, videoType, struct {
			URI           string `json:"uri"`
			ReceivedBytes int    `json:"received_bytes"`
		}{"/videos/1001", len(body)})
	case p == "/videos":
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, videoType, struct {
				Total int         `json:"total"`
				Data  []videoJSON `json:"data"`
			}{1, []videoJSON{video("1")}})
		}
	case strings.HasPrefix(p, "/videos/") && isDigits(p[len("/videos/"):]):
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, videoType, video(p[len("/videos/"):]))
		}
	default:
		apiError(w, http.StatusNotFound, errNotFound)
	}
}

func video(id string) videoJSON {
	return videoJSON{URI: "/videos/" + id, Name: "Fake Video " + id, Link: "https://vimeo.com/" + id}
}

// allow reports whether r.Method is one of methods, and answers 405 if not.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	apiError(w, http.StatusMethodNotAllowed, errMethod)
	return false
}

// lookup returns the token issued as access, if it exists and has not
// expired.
func (v *Vimeo) lookup(access string) (token, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.tokens[access]
	if ok && !t.expires.IsZero() && !v.nowLocked().Before(t.expires) {
		return token{}, false
	}
	return t, ok
}

func (v *Vimeo) mint(t token) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mintLocked(t)
}

// mintLocked issues t under a new access token; v.mu is held. Expired
// tokens are forgotten once the table is full; live ones never are, as
// Vimeo's tokens live until they are revoked.
func (v *Vimeo) mintLocked(t token) string {
	access := randomHex(16)
	now := v.nowLocked()
	dropDead(v.tokens, &v.sweepTokens, func(t token) bool { return !t.expires.IsZero() && !now.Before(t.expires) })
	v.tokens[access] = t
	return access
}

func authObject(access string, t token) authJSON {
	a := authJSON{AccessToken: access, TokenType: "bearer", Scope: t.scope, App: fakeApp}
	if t.user {
		u := fakeUser
		a.User = &u
	}
	return a
}

// grantScopes returns the scopes granted for a request of requested (or def
// if empty): as asked, deduplicated, always with "public" first.
func grantScopes(requested, def string) string {
	asked := strings.Fields(requested)
	if len(asked) == 0 {
		asked = strings.Fields(def)
	}
	out := []string{"public"}
	for _, s := range asked {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// writeAuth writes a token-endpoint answer.
func writeAuth(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, authType, body)
}

func authError(w http.ResponseWriter, status int, code, description string) {
	writeAuth(w, status, authErrorJSON{Error: code, Description: description})
}

func unsupportedGrant(w http.ResponseWriter) {
	authError(w, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported by this endpoint")
}

func apiError(w http.ResponseWriter, status int, e apiErrorJSON) {
	writeJSON(w, status, errorType, e)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
