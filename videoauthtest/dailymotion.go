package videoauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DailymotionExpired selects how the fake's legacy API says that an access
// token is no good (SetExpiredAnswer). Dailymotion's docs give a 401 for an
// expired token, and its official SDKs refresh and replay once on a
// WWW-Authenticate error="invalid_token" on 400, 401 or 403: a client must
// understand each.
type DailymotionExpired int

const (
	// DailymotionExpiredBoth answers 401 with both the challenge and the
	// error envelope (the default).
	DailymotionExpiredBoth DailymotionExpired = iota
	// DailymotionExpiredChallenge answers 401 with the challenge and no body.
	DailymotionExpiredChallenge
	// DailymotionExpiredEnvelope answers 401 with the envelope and no
	// challenge.
	DailymotionExpiredEnvelope
	// DailymotionExpired400 answers 400 with the challenge and the envelope.
	DailymotionExpired400
	// DailymotionExpired403 answers 403 with the challenge and the envelope.
	DailymotionExpired403
)

const (
	dmJSON = "application/json"

	dmAccessTTL  = 36000 * time.Second // [C] the docs' expires_in
	dmPartnerTTL = 3600 * time.Second  // [S]
	dmV2TTL      = 1800 * time.Second  // [S] "30-minute JWT"
	dmCodeTTL    = 10 * time.Minute    // [I]
	dmMaxBody    = 1 << 20
	dmMaxAPIBody = 8 << 20
	dmRetryAfter = "3" // [I] no rate limit is documented

	dmUserID     = "x1fakeuser" // [C] uid is the user's id, a string
	dmOrgUserID  = "x9fakeorg"
	dmScreenname = "Fake User"
)

// dmSlug is the /SLUGNAME a redirect_uri may add to the Callback URL [C];
// [I] the characters allowed.
var dmSlug = regexp.MustCompile(`^/[A-Za-z0-9_.-]+$`)

// dmV2Bundles are API v2's bundles [C], each a superset of the one before.
var dmV2Bundles = map[string][]string{
	"bundle.public":    {"playlist.read", "profile.read", "video.read"},
	"bundle.user":      {"account.manage", "live.manage", "playlist.manage", "profile.manage", "video.manage"},
	"bundle.publisher": {"analytics.manage", "player.manage"},
}

// Dailymotion is a fake of Dailymotion's OAuth and a few API routes, both
// generations, on four httptest.Servers (docs/dailymotion.md):
//
//   - APIURL stands for https://api.dailymotion.com: the consent page as the
//     current docs write it (/oauth/authorize), the public key's token
//     endpoint /oauth/token (authorization_code, password, refresh_token),
//     GET /logout, GET /auth and legacy routes (/me, /me/videos,
//     /me/players, /video/{id}), and API v2 under /v2 (/v2/me, /v2/videos);
//   - WebURL stands for https://www.dailymotion.com: the consent page the
//     official SDKs use (/oauth/authorize);
//   - PartnerURL stands for https://partner.api.dailymotion.com: the
//     private key's legacy token endpoint /oauth/v1/token and /rest routes
//     (/rest/auth, /rest/me/videos);
//   - OAuthURL stands for https://oauth2.dailymotion.com: API v2's
//     /v2/token.
//
// It is strict where Dailymotion's docs are: token requests are
// form-encoded POSTs with client_id and client_secret in the body (a Basic
// header, a JSON body, a duplicated or missing parameter is refused), the
// consent page requires response_type, client_id, redirect_uri and scope,
// and redirect_uri must be the key's CallbackURL or that URL plus /SLUG.
// Each such request is counted by Malformed, which every test can assert
// is zero. The public key works on the API host only and the private key on
// the partner and v2 token hosts only. Legacy access tokens last 36000 s;
// refresh tokens rotate, a rotated one used again is refused and (with
// reuse detection, the default) ends its grant, and a refresh kills the
// grant's previous access token [I: Dailymotion does not say; the fake
// plays the strictest case, and SetRotation turns it off]. v2 tokens are
// JWT-shaped, last 1800 s and have no refresh token. Missing scopes answer
// 403 ("Insufficient rights for route …", or MISSING_PERMISSIONS on v2),
// dead tokens 401 with WWW-Authenticate: Bearer error="invalid_token"
// (SetExpiredAnswer varies it).
//
// The consent page approves at once (DenyConsent denies), granting the
// requested scopes less those UntickScopes names. Expiry decisions read the
// Clock given to SetClock, real time by default. The exported fields are
// set by NewDailymotion; change them, if at all, before the first request.
// All methods are safe for concurrent use.
type Dailymotion struct {
	APIURL     string // stands for https://api.dailymotion.com
	WebURL     string // stands for https://www.dailymotion.com
	PartnerURL string // stands for https://partner.api.dailymotion.com
	OAuthURL   string // stands for https://oauth2.dailymotion.com

	PublicKey    string // the public API key; default "dm-public-key"
	PublicSecret string // its secret; default "dm-public-secret"
	// CallbackURL is the public key's Callback URL; default
	// "http://127.0.0.1/callback". A loopback Callback URL matches any port
	// [I] (RFC 8252 §7.3; Dailymotion does not say).
	CallbackURL   string
	PrivateKey    string   // the private API key; default "dm-private-key"
	PrivateSecret string   // its secret; default "dm-private-secret"
	PrivateScopes []string // the permissions the private key was created with (v2 and legacy names)
	Username      string   // the user of the password grant; default "fake-user"
	Password      string   // default "fake-password"

	core // core.mu guards the fields below

	deny, omitState, enforcePKCE bool
	noRotation, noReuseDetect    bool
	expired                      DailymotionExpired
	untick                       []string
	rateN                        int

	codes   map[string]*dmCode
	grants  map[string]*dmGrant // by current refresh token
	access  map[string]*dmGrant // by current access token
	rotated map[string]*dmGrant // by refresh tokens rotated away
	apps    map[string]*dmAppToken

	tokenCalls, exchanges, refreshes, refreshReuses, passwords, mints int
	logouts, apiCalls, queryTokens, malformed                         int
	lastMalformed                                                     string
}

type dmCode struct {
	redirectURI, scope, challenge string
	expires                       time.Time
}

// dmGrant is a user grant: its current access and refresh tokens.
type dmGrant struct {
	access, refresh, scope string
	accessExpires          time.Time
	dead                   bool
}

// dmAppToken is a private key's token.
type dmAppToken struct {
	v2      bool
	scope   string
	expires time.Time
}

type dmTokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	UID          string `json:"uid,omitempty"`
}

// NewDailymotion starts a fake Dailymotion on four plain-HTTP
// httptest.Servers listening on 127.0.0.1. The caller must Close it.
func NewDailymotion() *Dailymotion {
	d := &Dailymotion{
		PublicKey:     "dm-public-key",
		PublicSecret:  "dm-public-secret",
		CallbackURL:   "http://127.0.0.1/callback",
		PrivateKey:    "dm-private-key",
		PrivateSecret: "dm-private-secret",
		PrivateScopes: []string{"bundle.user", "account.read", "manage_videos", "read_video_streams"},
		Username:      "fake-user",
		Password:      "fake-password",
		codes:         map[string]*dmCode{},
		grants:        map[string]*dmGrant{},
		access:        map[string]*dmGrant{},
		rotated:       map[string]*dmGrant{},
		apps:          map[string]*dmAppToken{},
	}
	urls := d.start("Dailymotion",
		serves(d.serveAPI, "api.dailymotion.com"),
		serves(d.serveWeb, "www.dailymotion.com", "dailymotion.com"),
		serves(d.servePartner, "partner.api.dailymotion.com"),
		serves(d.serveOAuth, "oauth2.dailymotion.com"))
	d.APIURL, d.WebURL, d.PartnerURL, d.OAuthURL = urls[0], urls[1], urls[2], urls[3]
	return d
}

// SetClock makes the fake read the time from c for every expiry decision.
// A nil c restores real time.
func (d *Dailymotion) SetClock(c *Clock) { d.setClock(c) }

// DenyConsent makes the consent pages redirect back with
// error=access_denied and error_description, as when the user refuses,
// while deny is true.
func (d *Dailymotion) DenyConsent(deny bool) { d.set(func() { d.deny = deny }) }

// OmitState makes the consent pages leave state out of their redirects
// while omit is true. Whether Dailymotion echoes state is an open question
// (its docs do not list the parameter); a client that checks state, as it
// must, then refuses the callback.
func (d *Dailymotion) OmitState(omit bool) { d.set(func() { d.omitState = omit }) }

// UntickScopes makes later consents grant the requested scopes less these,
// as when the user unticks them on the consent page [C: users may]; none
// grants everything again.
func (d *Dailymotion) UntickScopes(scopes ...string) {
	d.set(func() { d.untick = slices.Clone(scopes) })
}

// EnforcePKCE makes the consent page record an S256 code_challenge and the
// exchange require the matching code_verifier while on. Dailymotion
// documents no PKCE, so by default both are ignored, as an authorization
// server ignores parameters it does not know.
func (d *Dailymotion) EnforcePKCE(on bool) { d.set(func() { d.enforcePKCE = on }) }

// SetRotation turns refresh-token rotation on (the default) or off. Off, a
// refresh answers with the same refresh token, and a refresh no longer
// kills the grant's previous access token.
func (d *Dailymotion) SetRotation(on bool) { d.set(func() { d.noRotation = !on }) }

// SetReuseDetection turns on (the default) or off what a refresh with a
// rotated-away refresh token does besides failing with invalid_grant: on,
// it ends the whole grant, as RFC 9700 §4.14 has servers do against a
// stolen refresh token. RefreshReuses counts such refreshes either way.
func (d *Dailymotion) SetReuseDetection(on bool) { d.set(func() { d.noReuseDetect = !on }) }

// SetExpiredAnswer selects how the legacy API (and the partner API) answer
// a dead access token.
func (d *Dailymotion) SetExpiredAnswer(a DailymotionExpired) { d.set(func() { d.expired = a }) }

// ExpireToken makes the API reject access, a user or a private key's
// access token, as if it expired early; a user grant's refresh token still
// works. Unknown tokens are ignored.
func (d *Dailymotion) ExpireToken(access string) {
	d.set(func() {
		if g := d.access[access]; g != nil {
			delete(d.access, access)
			g.access = ""
		}
		delete(d.apps, access)
	})
}

// RevokeGrant ends the grant of token (its access or refresh token), as
// when the user removes the app from their account: the API answers 401
// and a refresh invalid_grant. Unknown tokens are ignored.
func (d *Dailymotion) RevokeGrant(token string) {
	d.set(func() {
		if g := d.access[token]; g != nil {
			d.killLocked(g)
		}
		if g := d.grants[token]; g != nil {
			d.killLocked(g)
		}
	})
}

// RateLimitNext makes the next n API calls answer 429 with Retry-After: 3
// and the legacy envelope [I] (no request-rate limit is documented). n <= 0
// turns it off.
func (d *Dailymotion) RateLimitNext(n int) { d.set(func() { d.rateN = max(n, 0) }) }

// FailTokenCalls makes the next n requests to a token endpoint fail as mode
// says: Fail5xx answers 503 {"error":"server_error",...}, FailHTML a 502
// HTML page. Such a request is counted but consumes no code and mints no
// token. n <= 0 turns failures off.
func (d *Dailymotion) FailTokenCalls(n int, mode FailMode) { d.failTokenCalls(n, mode) }

// SetLatency makes every token-endpoint request wait d, in real time,
// before it is answered.
func (d *Dailymotion) SetLatency(d2 time.Duration) { d.setLatency(d2) }

// IssueUserToken opens a user grant for the public key with scopes,
// without any OAuth flow, and returns its access and refresh tokens.
func (d *Dailymotion) IssueUserToken(scopes ...string) (access, refresh string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.newGrantLocked(strings.Join(scopes, " "))
	return g.access, g.refresh
}

// IssuePrivateToken mints a private key's token, for API v2 (v2 true) or
// the partner API, with scopes (none: every permission of the key).
func (d *Dailymotion) IssuePrivateToken(v2 bool, scopes ...string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	scope, _ := d.keyScopesLocked(strings.Join(scopes, " "))
	return d.newAppTokenLocked(v2, scope)
}

// Counters.

// TokenCalls counts requests to the three token endpoints.
func (d *Dailymotion) TokenCalls() int { return d.count(&d.tokenCalls) }

// Exchanges counts authorization_code grants (successful or not).
func (d *Dailymotion) Exchanges() int { return d.count(&d.exchanges) }

// Refreshes counts refresh_token grants (successful or not).
func (d *Dailymotion) Refreshes() int { return d.count(&d.refreshes) }

// RefreshReuses counts refreshes with a refresh token that had been rotated
// away: two holders of one grant refreshed with the same token.
func (d *Dailymotion) RefreshReuses() int { return d.count(&d.refreshReuses) }

// PasswordGrants counts password grants (successful or not).
func (d *Dailymotion) PasswordGrants() int { return d.count(&d.passwords) }

// Mints counts client_credentials grants, partner and v2 (successful or
// not).
func (d *Dailymotion) Mints() int { return d.count(&d.mints) }

// Logouts counts GET /logout requests.
func (d *Dailymotion) Logouts() int { return d.count(&d.logouts) }

// APICalls counts requests to the API routes (legacy, partner and v2).
func (d *Dailymotion) APICalls() int { return d.count(&d.apiCalls) }

// QueryTokenUses counts API requests that carried the token in the
// access_token query parameter, which the legacy API accepts but a careful
// client never sends (URLs get logged).
func (d *Dailymotion) QueryTokenUses() int { return d.count(&d.queryTokens) }

// Malformed counts requests Dailymotion would refuse as malformed: a token
// request that is not a form POST with the client credentials in its body,
// or lacks a required parameter; a consent request without response_type,
// client_id, redirect_uri or scope; an API request without a token, or with
// two. LastMalformed says what the last one lacked.
func (d *Dailymotion) Malformed() int { return d.count(&d.malformed) }

// LastMalformed describes the last malformed request, or "".
func (d *Dailymotion) LastMalformed() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastMalformed
}

// APIBodies returns the bodies of the API requests, in order.
func (d *Dailymotion) APIBodies() [][]byte { return d.bodies() }

// LastTokenForm returns a copy of the last token-endpoint form.
func (d *Dailymotion) LastTokenForm() url.Values { return d.tokenForm() }

// LastAuthorizeQuery returns a copy of the last consent page query.
func (d *Dailymotion) LastAuthorizeQuery() url.Values { return d.authorizeQuery() }

// LastRequest returns a clone of the last request the fake served, whose
// Body reads its body again, or nil.
func (d *Dailymotion) LastRequest() *http.Request { return d.requestClone() }

func (d *Dailymotion) set(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f()
}

// malformedLocked counts a malformed request. d.mu must be held.
func (d *Dailymotion) malformedLocked(what string) {
	d.malformed++
	d.lastMalformed = what
}

func (d *Dailymotion) badRequest(what string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.malformedLocked(what)
}

// --- hosts ---

func (d *Dailymotion) serveAPI(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/oauth/authorize":
		d.authorize(w, r)
	case p == "/oauth/token":
		d.tokenEndpoint(w, r, "api")
	case p == "/logout":
		d.logout(w, r)
	case p == "/v2" || strings.HasPrefix(p, "/v2/"):
		d.v2API(w, r)
	default:
		d.legacyAPI(w, r, false)
	}
}

func (d *Dailymotion) serveWeb(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/authorize" {
		d.authorize(w, r)
		return
	}
	dmPage(w, http.StatusNotFound, "404 Not Found")
}

func (d *Dailymotion) servePartner(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/oauth/v1/token":
		d.tokenEndpoint(w, r, "partner")
	case strings.HasPrefix(p, "/rest/"):
		d.legacyAPI(w, r, true)
	default:
		dmLegacyError(w, http.StatusNotFound, "not_found", "No such endpoint.") // [I]
	}
}

func (d *Dailymotion) serveOAuth(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/token" {
		d.tokenEndpoint(w, r, "v2")
		return
	}
	dmV2Error(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "No such endpoint.")
}

// --- consent ---

// authorize serves GET /oauth/authorize on the web and API hosts, which
// approves (or, with DenyConsent, denies) at once.
func (d *Dailymotion) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d.mu.Lock()
	d.lastAuthorizeQuery = cloneValues(q)
	deny, omitState, untick, pkce := d.deny, d.omitState, slices.Clone(d.untick), d.enforcePKCE
	d.mu.Unlock()
	rt := q.Get("response_type")
	var problem string
	switch {
	case r.Method != http.MethodGet:
		problem = "the consent page takes GET"
	case dmDup(q):
		problem = "a parameter is repeated"
	case rt != "code" && rt != "token": // [C] all four required
		problem = "response_type must be code or token"
	case q.Get("client_id") == "":
		problem = "client_id is required"
	case q.Get("redirect_uri") == "":
		problem = "redirect_uri is required"
	case strings.TrimSpace(q.Get("scope")) == "":
		problem = "scope is required"
	case q.Has("display") && !slices.Contains([]string{"page", "popup", "mobile"}, q.Get("display")):
		problem = "display must be page, popup or mobile"
	}
	if problem != "" {
		d.badRequest("authorize: " + problem)
		dmPage(w, http.StatusBadRequest, problem)
		return
	}
	if q.Get("client_id") != d.PublicKey { // [C] only a public key has a consent page
		dmPage(w, http.StatusBadRequest, "Invalid API key.")
		return
	}
	redirect, ok := d.redirectOK(q.Get("redirect_uri"))
	if !ok { // [C] "the authorization server will reject your request"
		dmPage(w, http.StatusBadRequest, "redirect_uri does not match the Callback URL of the API key.")
		return
	}
	state := ""
	if !omitState {
		state = q.Get("state")
	}
	if deny { // [C] error and error_description added to the redirect's query
		p := url.Values{"error": {"access_denied"}, "error_description": {"The user denied access to your application"}}
		if state != "" {
			p.Set("state", state)
		}
		dmRedirect(w, redirect, p, false)
		return
	}
	var granted []string
	for _, sc := range strings.Fields(q.Get("scope")) {
		if !slices.Contains(untick, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	scope := strings.Join(granted, " ")
	if rt == "token" { // [C] the JS SDK's implicit grant: the token in the fragment
		d.mu.Lock()
		g := d.newGrantLocked(scope)
		d.mu.Unlock()
		p := url.Values{"access_token": {g.access}, "token_type": {"Bearer"}, "expires_in": {strconv.Itoa(int(dmAccessTTL / time.Second))},
			"scope": {scope}, "uid": {dmUserID}}
		if state != "" {
			p.Set("state", state)
		}
		dmRedirect(w, redirect, p, true)
		return
	}
	code := randomHex(16)
	c := &dmCode{redirectURI: q.Get("redirect_uri"), scope: scope}
	if pkce && q.Get("code_challenge_method") == "S256" {
		c.challenge = q.Get("code_challenge")
	}
	d.mu.Lock()
	now := d.nowLocked()
	c.expires = now.Add(dmCodeTTL)
	makeRoom(d.codes, func(c *dmCode) bool { return !now.Before(c.expires) }, nil)
	d.codes[code] = c
	d.mu.Unlock()
	p := url.Values{"code": {code}}
	if state != "" {
		p.Set("state", state)
	}
	dmRedirect(w, redirect, p, false)
}

// redirectOK checks raw against CallbackURL: the same URL, or it plus
// /SLUG [C]; a loopback Callback URL matches any port [I].
func (d *Dailymotion) redirectOK(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	cb, err2 := url.Parse(d.CallbackURL)
	if err != nil || err2 != nil || !u.IsAbs() || u.Fragment != "" || u.User != nil {
		return nil, false
	}
	if u.Scheme != cb.Scheme || !strings.EqualFold(u.Hostname(), cb.Hostname()) || u.RawQuery != cb.RawQuery {
		return nil, false
	}
	if u.Port() != cb.Port() && !(isLoopbackHost(cb.Hostname()) && cb.Port() == "") {
		return nil, false
	}
	rest, found := strings.CutPrefix(u.Path, strings.TrimSuffix(cb.Path, "/"))
	if !found || rest != "" && rest != "/" && !dmSlug.MatchString(rest) {
		return nil, false
	}
	return u, true
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}

// dmRedirect answers 302 to redirect with p in its query (or, for the
// implicit grant, its fragment).
func dmRedirect(w http.ResponseWriter, redirect *url.URL, p url.Values, fragment bool) {
	u := *redirect
	if fragment {
		u.Fragment, u.RawFragment = "", ""
		w.Header().Set("Location", u.String()+"#"+p.Encode())
	} else {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += p.Encode()
		w.Header().Set("Location", u.String())
	}
	w.WriteHeader(http.StatusFound)
}

func dmPage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, "<!DOCTYPE html><html><body><p>"+strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(text)+"</p></body></html>\n")
}

// dmDup reports whether a parameter is repeated.
func dmDup(v url.Values) bool {
	for _, vs := range v {
		if len(vs) > 1 {
			return true
		}
	}
	return false
}

// --- token endpoints ---

// tokenEndpoint serves /oauth/token (host "api"), /oauth/v1/token
// ("partner") and /v2/token ("v2"): what they share, then the grant.
func (d *Dailymotion) tokenEndpoint(w http.ResponseWriter, r *http.Request, host string) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, dmMaxBody))
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form, perr := url.ParseQuery(string(raw))
	if mt != "application/x-www-form-urlencoded" || perr != nil {
		form = url.Values{}
	}
	d.mu.Lock()
	d.tokenCalls++
	d.recordLocked(r, nil)
	d.lastTokenForm = cloneValues(form)
	switch form.Get("grant_type") {
	case "authorization_code":
		d.exchanges++
	case "refresh_token":
		d.refreshes++
	case "password":
		d.passwords++
	case "client_credentials":
		d.mints++
	}
	fail, mode := d.takeFailLocked()
	latency := d.latency
	d.mu.Unlock()
	if !d.wait(r.Context(), latency) {
		panic(http.ErrAbortHandler)
	}
	if fail {
		if mode == FailHTML {
			writeHTMLFailure(w)
		} else {
			dmOAuthError(w, http.StatusServiceUnavailable, "server_error", "The fake Dailymotion fails on purpose (FailTokenCalls).")
		}
		return
	}
	var problem string
	switch {
	case r.Method != http.MethodPost:
		problem = "the token endpoint takes POST"
	case err != nil:
		problem = "the body is too large or unreadable"
	case mt != "application/x-www-form-urlencoded" || perr != nil: // [C] form-encoded
		problem = "the body must be application/x-www-form-urlencoded"
	case r.Header.Get("Authorization") != "": // [C] credentials in the body; no SDK sends Basic
		problem = "client credentials go in the body, not in an Authorization header"
	case dmDup(form):
		problem = "a parameter is repeated"
	case form.Get("grant_type") == "":
		problem = "grant_type is required"
	case form.Get("client_id") == "" || form.Get("client_secret") == "":
		problem = "client_id and client_secret are required in the body"
	}
	if problem != "" {
		d.badRequest(host + " token: " + problem)
		dmOAuthError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	public := id == d.PublicKey && secret == d.PublicSecret
	private := id == d.PrivateKey && secret == d.PrivateSecret
	// [C] the key/endpoint matrix: a public key on api. only, a private
	// key on the partner and v2 endpoints only.
	if !(host == "api" && public) && !(host != "api" && private) {
		dmOAuthError(w, http.StatusUnauthorized, "invalid_client", "Invalid API key or secret for this endpoint.")
		return
	}
	grant := form.Get("grant_type")
	switch {
	case host == "api" && grant == "authorization_code":
		d.exchange(w, form)
	case host == "api" && grant == "refresh_token":
		d.refresh(w, form)
	case host == "api" && grant == "password":
		d.passwordGrant(w, form)
	case host == "api" && grant == "client_credentials":
		// [C] "only accessible using Private API keys and using the
		// partner.api.dailymotion.com endpoints".
		dmOAuthError(w, http.StatusBadRequest, "unauthorized_client", "client_credentials needs a private API key.")
	case host != "api" && grant == "client_credentials":
		d.clientCredentials(w, form, host == "v2")
	default: // [C] password removed in v2; [I] everything else unknown
		dmOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type.")
	}
}

func (d *Dailymotion) exchange(w http.ResponseWriter, form url.Values) {
	if form.Get("code") == "" || form.Get("redirect_uri") == "" {
		d.badRequest("exchange: code and redirect_uri are required")
		dmOAuthError(w, http.StatusBadRequest, "invalid_request", "code and redirect_uri are required.")
		return
	}
	d.mu.Lock()
	now := d.nowLocked()
	c := d.codes[form.Get("code")]
	delete(d.codes, form.Get("code")) // [I] burnt by any attempt
	var problem string
	switch {
	case c == nil || !now.Before(c.expires):
		problem = "Invalid or expired authorization code."
	case c.redirectURI != form.Get("redirect_uri"): // RFC 6749 §4.1.3
		problem = "redirect_uri does not match the authorization request."
	case c.challenge != "" && dmS256(form.Get("code_verifier")) != c.challenge:
		problem = "code_verifier does not match the code_challenge."
	}
	if problem != "" {
		d.mu.Unlock()
		dmOAuthError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	g := d.newGrantLocked(c.scope)
	out := dmTokenJSON{AccessToken: g.access, TokenType: "Bearer", ExpiresIn: int(dmAccessTTL / time.Second), RefreshToken: g.refresh, Scope: g.scope, UID: dmUserID}
	d.mu.Unlock()
	dmToken(w, out)
}

func dmS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (d *Dailymotion) passwordGrant(w http.ResponseWriter, form url.Values) {
	if form.Get("username") == "" || form.Get("password") == "" {
		d.badRequest("password: username and password are required")
		dmOAuthError(w, http.StatusBadRequest, "invalid_request", "username and password are required.")
		return
	}
	if form.Get("username") != d.Username || form.Get("password") != d.Password {
		dmOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid username or password.") // [I] code and text
		return
	}
	d.mu.Lock()
	g := d.newGrantLocked(form.Get("scope"))
	out := dmTokenJSON{AccessToken: g.access, TokenType: "Bearer", ExpiresIn: int(dmAccessTTL / time.Second), RefreshToken: g.refresh, Scope: g.scope, UID: dmUserID}
	d.mu.Unlock()
	dmToken(w, out)
}

// refresh answers a refresh_token grant: {access_token, expires_in,
// refresh_token} [C], without scope or uid, as the docs show it.
func (d *Dailymotion) refresh(w http.ResponseWriter, form url.Values) {
	rt := form.Get("refresh_token")
	if rt == "" {
		d.badRequest("refresh: refresh_token is required")
		dmOAuthError(w, http.StatusBadRequest, "invalid_request", "refresh_token is required.")
		return
	}
	d.mu.Lock()
	g := d.grants[rt]
	if g == nil {
		if old := d.rotated[rt]; old != nil {
			d.refreshReuses++
			if !d.noReuseDetect {
				d.killLocked(old)
			}
		}
		d.mu.Unlock()
		dmOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token.") // [I] text
		return
	}
	now := d.nowLocked()
	if !d.noRotation {
		delete(d.access, g.access) // [I] the previous access token dies at once
		delete(d.grants, g.refresh)
		d.rotated[g.refresh] = g
		g.refresh = "dm_rt_" + randomHex(16)
		d.grants[g.refresh] = g
	} else if g.access != "" {
		delete(d.access, g.access)
	}
	g.access, g.accessExpires = "dm_at_"+randomHex(16), now.Add(dmAccessTTL)
	d.access[g.access] = g
	out := dmTokenJSON{AccessToken: g.access, ExpiresIn: int(dmAccessTTL / time.Second), RefreshToken: g.refresh}
	d.mu.Unlock()
	dmToken(w, out)
}

func (d *Dailymotion) clientCredentials(w http.ResponseWriter, form url.Values, v2 bool) {
	d.mu.Lock()
	scope, ok := d.keyScopesLocked(form.Get("scope"))
	if !ok {
		d.mu.Unlock()
		dmOAuthError(w, http.StatusBadRequest, "invalid_scope", "The API key holds none of the requested scopes.") // [I]
		return
	}
	access := d.newAppTokenLocked(v2, scope)
	d.mu.Unlock()
	ttl := dmPartnerTTL
	if v2 {
		ttl = dmV2TTL
	}
	dmToken(w, dmTokenJSON{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(ttl / time.Second), Scope: scope})
}

// keyScopesLocked is requested narrowed to the private key's permissions
// [I] (none requested: all of them); false when nothing is left.
func (d *Dailymotion) keyScopesLocked(requested string) (string, bool) {
	if strings.TrimSpace(requested) == "" {
		return strings.Join(d.PrivateScopes, " "), true
	}
	var kept []string
	for _, sc := range strings.Fields(requested) {
		if (slices.Contains(d.PrivateScopes, sc) || v2Has(d.PrivateScopes, sc)) && !slices.Contains(kept, sc) {
			kept = append(kept, sc)
		}
	}
	return strings.Join(kept, " "), len(kept) > 0
}

// newGrantLocked opens a user grant. d.mu must be held.
func (d *Dailymotion) newGrantLocked(scope string) *dmGrant {
	now := d.nowLocked()
	g := &dmGrant{access: "dm_at_" + randomHex(16), refresh: "dm_rt_" + randomHex(16), scope: scope, accessExpires: now.Add(dmAccessTTL)}
	dead := func(g *dmGrant) bool { return g.dead }
	makeRoom(d.grants, dead, nil)
	makeRoom(d.access, func(g *dmGrant) bool { return g.dead || !now.Before(g.accessExpires) }, nil)
	makeRoom(d.rotated, func(*dmGrant) bool { return true }, nil)
	d.grants[g.refresh], d.access[g.access] = g, g
	return g
}

// newAppTokenLocked mints a private key's token: for v2 a JWT-shaped
// string [C: v2 tokens are JWTs], whose claims no client should read.
func (d *Dailymotion) newAppTokenLocked(v2 bool, scope string) string {
	now := d.nowLocked()
	ttl, access := dmPartnerTTL, "dm_pt_"+randomHex(16)
	if v2 {
		ttl = dmV2TTL
		enc := base64.RawURLEncoding
		claims, _ := json.Marshal(map[string]any{"sub": dmOrgUserID, "exp": now.Add(ttl).Unix(), "scope": scope, "jti": randomHex(8)})
		access = enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte(randomHex(16)))
	}
	makeRoom(d.apps, func(t *dmAppToken) bool { return !now.Before(t.expires) }, nil)
	d.apps[access] = &dmAppToken{v2: v2, scope: scope, expires: now.Add(ttl)}
	return access
}

// killLocked ends a grant: both its tokens die.
func (d *Dailymotion) killLocked(g *dmGrant) {
	g.dead = true
	delete(d.access, g.access)
	delete(d.grants, g.refresh)
}

func dmToken(w http.ResponseWriter, body dmTokenJSON) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, dmJSON, body)
}

func dmOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, dmJSON, authErrorJSON{Error: code, Description: desc})
}

// --- API ---

// dmLegacyEnvelope is the legacy API's error body [C]: an integer code.
type dmLegacyEnvelope struct {
	Error struct {
		MoreInfo  string         `json:"more_info"`
		Code      int            `json:"code"`
		Message   string         `json:"message"`
		Type      string         `json:"type"`
		ErrorData map[string]any `json:"error_data,omitempty"`
	} `json:"error"`
}

func dmLegacyErrorData(w http.ResponseWriter, status int, typ, msg string, data map[string]any) {
	var e dmLegacyEnvelope
	e.Error.MoreInfo = "https://developer.dailymotion.com/api#error-codes"
	e.Error.Code, e.Error.Message, e.Error.Type, e.Error.ErrorData = status, msg, typ, data
	writeJSON(w, status, dmJSON, e)
}

func dmLegacyError(w http.ResponseWriter, status int, typ, msg string) {
	dmLegacyErrorData(w, status, typ, msg, nil)
}

// dmV2Error writes API v2's error body [C]: a string code.
func dmV2Error(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, dmJSON, map[string]any{"error": map[string]any{
		"code": code, "message": msg, "correlation_id": randomHex(8), "details": map[string]any{},
		"documentation_url": "https://developers.dailymotion.com/reference/api-errors",
	}})
}

// apiToken reads an API request's token: Authorization: Bearer, or
// (legacy only) ?access_token=. ok is false, and the request counted
// malformed, when it has none or both.
func (d *Dailymotion) apiToken(r *http.Request, legacy bool) (tok string, ok bool) {
	hdr, hasHdr := bearer(r)
	q := r.URL.Query().Get("access_token")
	d.mu.Lock()
	defer d.mu.Unlock()
	if q != "" {
		d.queryTokens++
	}
	switch {
	case hasHdr && q != "":
		d.malformedLocked("api: a token in both the header and the query")
		return "", false
	case hasHdr:
		return hdr, true
	case q != "" && legacy: // [C] the legacy API takes the query form
		return q, true
	}
	d.malformedLocked("api: no Bearer token")
	return "", false
}

// takeRateLocked consumes one RateLimitNext answer.
func (d *Dailymotion) takeRate() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rateN > 0 {
		d.rateN--
		return true
	}
	return false
}

// expiredAnswer writes the answer to a dead token on the legacy API.
func (d *Dailymotion) expiredAnswer(w http.ResponseWriter) {
	d.mu.Lock()
	mode := d.expired
	d.mu.Unlock()
	const challenge = `Bearer realm="api.dailymotion.com", error="invalid_token", error_description="Invalid access token"`
	status := http.StatusUnauthorized
	switch mode {
	case DailymotionExpired400:
		status = http.StatusBadRequest
	case DailymotionExpired403:
		status = http.StatusForbidden
	}
	if mode != DailymotionExpiredEnvelope {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if mode == DailymotionExpiredChallenge {
		w.WriteHeader(status)
		return
	}
	// [C] "A valid access token should be provided. This error may come from
	// an expired access token."; [I] the type.
	dmLegacyError(w, status, "invalid_token", "A valid access token should be provided. This error may come from an expired access token.")
}

// legacyAPI serves the legacy routes of the API host (partner false: a
// public key's user token) and of the partner host (/rest/..., a private
// key's partner token).
func (d *Dailymotion) legacyAPI(w http.ResponseWriter, r *http.Request, partner bool) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, dmMaxAPIBody))
	d.mu.Lock()
	d.apiCalls++
	d.apiBodies = append(d.apiBodies, body)
	d.recordLocked(r, body)
	d.mu.Unlock()
	if d.takeRate() {
		w.Header().Set("Retry-After", dmRetryAfter)
		dmLegacyError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Too many requests.") // [I]
		return
	}
	tok, ok := d.apiToken(r, true)
	if !ok {
		dmLegacyError(w, http.StatusBadRequest, "access_required", "This call requires authentication.") // [I]
		return
	}
	d.mu.Lock()
	now := d.nowLocked()
	var scope, user string
	alive := false
	if partner {
		if t := d.apps[tok]; t != nil && !t.v2 && now.Before(t.expires) {
			alive, scope, user = true, t.scope, dmOrgUserID
		}
	} else if g := d.access[tok]; g != nil && !g.dead && now.Before(g.accessExpires) {
		alive, scope, user = true, g.scope, dmUserID
	}
	d.mu.Unlock()
	if !alive { // [C] a token of the other kind of key, too: "Public API key required"
		d.expiredAnswer(w)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/rest")
	need := func(sc string) bool {
		if slices.Contains(strings.Fields(scope), sc) {
			return true
		}
		// [C] the PHP SDK's test: a manage_videos token on /me/players.
		dmLegacyError(w, http.StatusForbidden, "access_forbidden", "Insufficient rights for route "+r.Method+" /user/"+user+strings.TrimPrefix(path, "/me"))
		return false
	}
	switch {
	case path == "/auth" && r.Method == http.MethodGet:
		name := dmScreenname
		if partner {
			name = "Fake Org"
		}
		writeJSON(w, http.StatusOK, dmJSON, map[string]any{"id": user, "username": strings.ToLower(strings.ReplaceAll(name, " ", "-")),
			"screenname": name, "scope": strings.Fields(scope)})
	case path == "/me" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, dmJSON, map[string]any{"id": user, "screenname": dmScreenname})
	case path == "/me/videos" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, dmJSON, map[string]any{"page": 1, "limit": 10, "has_more": false, "list": []any{}})
	case path == "/me/videos" && r.Method == http.MethodPost:
		if need("manage_videos") {
			writeJSON(w, http.StatusOK, dmJSON, map[string]any{"id": "x" + randomHex(3), "title": "uploaded"})
		}
	case path == "/me/players" && r.Method == http.MethodGet:
		if need("manage_players") {
			writeJSON(w, http.StatusOK, dmJSON, map[string]any{"list": []any{}})
		}
	case strings.HasPrefix(path, "/video/") && r.Method == http.MethodGet:
		id := strings.TrimPrefix(path, "/video/")
		if f := r.URL.Query().Get("fields"); f != "" && f != "id,title" {
			dmLegacyError(w, http.StatusBadRequest, "invalid_parameter", "Unknown field in `fields' parameter") // [I] text
			return
		}
		if id == "xnotfound" { // [C] the docs' example
			dmLegacyErrorData(w, http.StatusNotFound, "not_found", "Can't find object video for `id' parameter",
				map[string]any{"reason": "object_not_found", "object_type": "video", "object_id": id, "param": "id"})
			return
		}
		writeJSON(w, http.StatusOK, dmJSON, map[string]any{"id": id, "title": "A video"})
	default:
		dmLegacyError(w, http.StatusNotFound, "not_found", "No such route.") // [I]
	}
}

// logout serves GET /logout [C]: the session of the token ends.
func (d *Dailymotion) logout(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.logouts++
	d.recordLocked(r, nil)
	d.mu.Unlock()
	if r.Method != http.MethodGet {
		d.badRequest("logout: takes GET")
		w.Header().Set("Allow", http.MethodGet)
		dmLegacyError(w, http.StatusMethodNotAllowed, "method_not_allowed", "GET only.") // [I]
		return
	}
	tok, ok := d.apiToken(r, true)
	if !ok {
		dmLegacyError(w, http.StatusBadRequest, "access_required", "This call requires authentication.")
		return
	}
	d.mu.Lock()
	g := d.access[tok]
	alive := g != nil && !g.dead && d.nowLocked().Before(g.accessExpires)
	if alive {
		d.killLocked(g)
	}
	d.mu.Unlock()
	if !alive {
		d.expiredAnswer(w)
		return
	}
	writeJSON(w, http.StatusOK, dmJSON, map[string]any{}) // [C] the JS SDK's "{} for retro-compat"
}

// v2Has reports whether the v2 scope list granted gives need, through the
// bundles [C] and *.manage giving *.read [I].
func v2Has(granted []string, need string) bool {
	var expand func(sc string, depth int) bool
	expand = func(sc string, depth int) bool {
		if sc == need || strings.TrimSuffix(sc, ".manage") == strings.TrimSuffix(need, ".read") && strings.HasSuffix(sc, ".manage") && strings.HasSuffix(need, ".read") {
			return true
		}
		if depth > 4 {
			return false
		}
		switch sc {
		case "bundle.user":
			if expand("bundle.public", depth+1) {
				return true
			}
		case "bundle.publisher":
			if expand("bundle.user", depth+1) {
				return true
			}
		case "bundle.organization":
			if expand("bundle.publisher", depth+1) || expand("organization.manage", depth+1) {
				return true
			}
		}
		for _, s := range dmV2Bundles[sc] {
			if expand(s, depth+1) {
				return true
			}
		}
		return false
	}
	for _, sc := range granted {
		if expand(sc, 0) {
			return true
		}
	}
	return false
}

// v2API serves API v2 on the API host: Bearer JWTs only.
func (d *Dailymotion) v2API(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, dmMaxAPIBody))
	d.mu.Lock()
	d.apiCalls++
	d.apiBodies = append(d.apiBodies, body)
	d.recordLocked(r, body)
	d.mu.Unlock()
	if d.takeRate() {
		w.Header().Set("Retry-After", dmRetryAfter)
		dmV2Error(w, http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests.") // [I] code
		return
	}
	tok, ok := d.apiToken(r, false)
	if !ok {
		dmV2Error(w, http.StatusUnauthorized, "UNAUTHORIZED", "No Authorization: Bearer header.") // [C] status; [I] code
		return
	}
	d.mu.Lock()
	t := d.apps[tok]
	alive := t != nil && t.v2 && d.nowLocked().Before(t.expires)
	d.mu.Unlock()
	if !alive { // [C] "malformed JWT, expired token, or invalid signature"
		dmV2Error(w, http.StatusUnauthorized, "UNAUTHORIZED", "Malformed, expired or invalid access token.")
		return
	}
	granted := strings.Fields(t.scope)
	need := func(sc string) bool {
		if v2Has(granted, sc) {
			return true
		}
		dmV2Error(w, http.StatusForbidden, "MISSING_PERMISSIONS", "The access token lacks the "+sc+" permission.") // [C] code
		return false
	}
	switch {
	case r.URL.Path == "/v2/me" && r.Method == http.MethodGet:
		if need("account.read") { // [C]
			writeJSON(w, http.StatusOK, dmJSON, map[string]any{"user_id": dmOrgUserID,
				"profiles": []any{map[string]any{"profile_id": "x1y2z3", "name": "fakeprofile"}}})
		}
	case r.URL.Path == "/v2/videos" && r.Method == http.MethodGet:
		if need("video.read") {
			writeJSON(w, http.StatusOK, dmJSON, map[string]any{"data": []any{}})
		}
	case r.URL.Path == "/v2/videos" && r.Method == http.MethodPost:
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != dmJSON || !json.Valid(body) { // [C] JSON bodies
			dmV2Error(w, http.StatusBadRequest, "INVALID_REQUEST", "The body must be JSON.") // [I] code
			return
		}
		if need("video.manage") {
			writeJSON(w, http.StatusCreated, dmJSON, map[string]any{"id": "x" + randomHex(3)})
		}
	default:
		dmV2Error(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "No such resource.") // [C] code
	}
}
