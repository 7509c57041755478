package videoauthtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TraktFailure selects the answer FailAPICalls makes API calls give: each
// is one of the answers Trakt documents, with the headers it documents.
type TraktFailure int

const (
	// TraktBlocked answers 403 with Cloudflare's HTML page ("Sorry, you
	// have been blocked"), as Trakt's edge answers a request without a real
	// User-Agent.
	TraktBlocked TraktFailure = iota
	// TraktBadAPIKey answers 403 with an empty body: "invalid API key or
	// unapproved app".
	TraktBadAPIKey
	// TraktWrongContentType answers 412: "use application/json content
	// type".
	TraktWrongContentType
	// TraktAccountLimit answers 420 with X-Upgrade-URL, X-VIP-User and
	// X-Account-Limit: an account limit is reached.
	TraktAccountLimit
	// TraktLocked answers 423 with X-Account-Locked: true and
	// X-Account-Deactivated: false.
	TraktLocked
	// TraktVIPOnly answers 426 with X-Upgrade-URL: a VIP-only endpoint.
	TraktVIPOnly
	// TraktRateLimited answers 429 with Retry-After: 2 and an X-Ratelimit
	// header whose until is 2 s ahead.
	TraktRateLimited
	// TraktRateLimitedBare answers 429 with neither Retry-After nor
	// X-Ratelimit, as Trakt's abuse systems may.
	TraktRateLimitedBare
	// TraktOverloaded answers 503 "server overloaded".
	TraktOverloaded
	// TraktCloudflareError answers 520 with an HTML page.
	TraktCloudflareError
)

const (
	traktJSON = "application/json"

	traktAccessTTL   = 7 * 24 * time.Hour // [C] 604800 s
	traktCodeTTL     = 10 * time.Minute   // [I] codes are short-lived
	traktDeviceTTL   = 600 * time.Second  // [S] expires_in 600
	traktDeviceStep  = 5 * time.Second    // [S] interval 5
	traktPostPeriod  = time.Second        // [C] AUTHED_API_POST_LIMIT: 1 call per second
	traktRetryAfter  = 2                  // [I] seconds, TraktRateLimited
	traktMaxBody     = 1 << 20
	traktMaxAPIBody  = 8 << 20
	traktUserUUID    = "5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17" // [I] the fake user's ids.uuid
	traktUsername    = "fake-user"
	traktDefaultCID  = "trakt-fake-client-id"
	traktDefaultSec  = "trakt-fake-client-secret"
	traktDefaultURI  = "https://videoauth.example/trakt/callback"
	traktScopeOffln  = "offline_access"
	traktDefaultScop = "public offline_access" // [S] what the new stack grants without a scope parameter
	// [S] the constant challenge the new stack injects into an authorize
	// request without PKCE (stremthru #571): no verifier a client holds
	// matches it.
	traktInjectedChallenge = "trakt-server-generated-challenge-no-client-knows-the-verifier"
	// [C] the Doorkeeper-era invalid_grant text (trakt-api #48).
	traktDoorkeeperGrant = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
)

// Trakt is a fake of Trakt's OAuth host and of a few API routes, served by
// two httptest.Servers: AuthURL stands for https://auth.trakt.tv and APIURL
// for https://api.trakt.tv. It follows docs/trakt.md, and plays either era
// of Trakt's auth:
//
//   - after the July 2026 migration (the default): every OAuth call on
//     AuthURL with JSON bodies — GET /oauth/authorize (S256 PKCE enforced:
//     without a challenge the server puts in one of its own, so the code can
//     never be redeemed, or refuses when a scope was asked for; exact,
//     case-sensitive redirect_uri), POST /oauth/token (authorization_code
//     and refresh_token; single-use refresh tokens rotated on every
//     refresh, a reused one ending the whole grant; pre-migration refresh
//     tokens answered 400 invalid_grant "session not found"; 7-day access
//     tokens with created_at), POST /oauth/device/code and
//     /oauth/device/token (answered by status alone: 400 pending, 404, 409,
//     410, 418, 429), POST /oauth/revoke; OAuth paths on APIURL are
//     refused;
//   - before it (SetLegacy): the same endpoints on APIURL, Doorkeeper style
//     (bad grants as 401 with the error in WWW-Authenticate, the client
//     secret required, PKCE optional), and nothing on AuthURL;
//   - the API: every request must carry a real User-Agent (else the edge's
//     HTML 403), trakt-api-key (else 403), trakt-api-version: 2 and a JSON
//     Content-Type (else 412); GET /users/settings, GET
//     /sync/last_activities, POST /sync/history (one write per second per
//     user, else 429) and GET /movies/trending (API key only).
//
// Every request the spec calls malformed — a missing header, a form body,
// Basic client authentication, an RFC 8628 device poll, an authorize
// request without S256 PKCE, an OAuth call on the API host — is answered as
// Trakt would and counted: Malformed and MalformedReasons tell a test what
// its client got wrong. The consent page approves at once (DenyConsent
// denies); device codes wait for ApproveCode or DenyCode. There is a single
// user. Expiry decisions read the Clock given to SetClock, real time by
// default.
//
// The exported fields are set by NewTrakt; change them, if at all, before
// the first request. All methods are safe for concurrent use.
type Trakt struct {
	AuthURL      string // OAuth host, stands for https://auth.trakt.tv
	APIURL       string // API host, stands for https://api.trakt.tv
	ClientID     string // the app; default "trakt-fake-client-id"
	ClientSecret string // the app's (deprecated) secret; default "trakt-fake-client-secret"
	RedirectURI  string // the app's registered redirect URI; default "https://videoauth.example/trakt/callback"

	core // core.mu guards the fields below

	legacy, deny, omitChallenge, keepOldAccess bool
	redirects                                  []string // more registered redirect URIs
	verify                                     string   // SetVerificationURL ("": AuthURL+"/activate")
	failAPIN, blockAuthN                       int
	failAPIKind                                TraktFailure

	codes   map[string]*traktCode
	devices map[string]*traktDevice
	grants  map[string]*traktGrant // by current refresh token
	access  map[string]*traktGrant // by current access token
	spent   map[string]*traktGrant // rotated-away refresh tokens, for reuse detection
	killed  map[string]time.Time   // access tokens a refresh killed, with their expiry
	// lastWrite is the user's last accepted write, for the 1/s limit.
	lastWrite time.Time

	tokenCalls, exchanges, refreshes, reuses, migrated   int
	deviceStarts, devicePolls, tooFast, revocations      int
	apiCalls, killedUses, blocked, oauthOnAPI, unauthAPI int
	malformed                                            []string
}

// traktCode is an authorization code waiting for its exchange.
type traktCode struct {
	redirectURI, challenge, scope string
	legacy                        bool
	expires                       time.Time
}

type traktDecision int

const (
	traktPending traktDecision = iota
	traktApproved
	traktDenied
	traktUsed
)

// traktDevice is a device code.
type traktDevice struct {
	userCode          string
	expires, lastPoll time.Time
	state             traktDecision
}

// traktGrant is one grant: its current access and refresh tokens.
type traktGrant struct {
	access, refresh, scope, redirect string
	accessExpires                    time.Time
	legacy                           bool // issued before the migration
	dead                             bool
}

type traktTokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	CreatedAt    int64  `json:"created_at"`
}

type traktDeviceJSON struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURL string `json:"verification_url"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
}

// NewTrakt starts a fake Trakt on two plain-HTTP httptest.Servers listening
// on 127.0.0.1, one for AuthURL and one for APIURL, in the post-migration
// era. The caller must Close it.
func NewTrakt() *Trakt {
	f := &Trakt{
		ClientID:     traktDefaultCID,
		ClientSecret: traktDefaultSec,
		RedirectURI:  traktDefaultURI,
		codes:        make(map[string]*traktCode),
		devices:      make(map[string]*traktDevice),
		grants:       make(map[string]*traktGrant),
		access:       make(map[string]*traktGrant),
		spent:        make(map[string]*traktGrant),
		killed:       make(map[string]time.Time),
	}
	// The API host first: Respond sends it every host but the OAuth host's.
	urls := f.start("Trakt", serves(f.serveAPI, "api.trakt.tv", "apiz.trakt.tv"), serves(f.serveAuth, "auth.trakt.tv"))
	f.APIURL, f.AuthURL = urls[0], urls[1]
	return f
}

// SetClock makes the fake read the time from c for every expiry decision
// (codes, device codes and their poll intervals, tokens, created_at, the
// write limit). A nil c restores real time.
func (f *Trakt) SetClock(c *Clock) { f.setClock(c) }

// SetLegacy makes the fake play Trakt before its July 2026 auth migration
// (legacy true): the OAuth endpoints on APIURL, Doorkeeper style, and
// nothing on AuthURL; or after it (false, the default). Grants keep what
// they were issued as; Migrate ends the legacy era for them too.
func (f *Trakt) SetLegacy(legacy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.legacy = legacy
}

// Migrate plays the migration: the fake leaves the legacy era (as
// SetLegacy(false)), and every grant issued so far becomes a pre-migration
// grant, whose access token works until it expires and whose refresh token
// is answered 400 invalid_grant "session not found". Codes and device codes
// in flight are dropped.
func (f *Trakt) Migrate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.legacy = false
	for _, g := range f.grants {
		g.legacy = true
	}
	for _, g := range f.access {
		g.legacy = true
	}
	clear(f.codes)
	clear(f.devices)
}

// DenyConsent makes the consent page deny, as if the user clicked "No",
// while deny is true: it redirects back with error=access_denied and the
// state.
func (f *Trakt) DenyConsent(deny bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = deny
}

// RegisterRedirectURI registers one more redirect URI of the app, besides
// RedirectURI (a loopback listener's, for one): Trakt compares them byte for
// byte.
func (f *Trakt) RegisterRedirectURI(uri string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redirects = append(f.redirects, uri)
}

// SetVerificationURL makes device code answers name uri as their
// verification_url instead of AuthURL+"/activate": a hostile or broken
// service, for tests of what a client shows its user. "" restores the
// default.
func (f *Trakt) SetVerificationURL(uri string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verify = uri
}

// KeepOldAccessTokens makes a refresh leave the grant's previous access
// tokens working while the grant lives (keep true). By default a refresh kills it
// at once, the strictest reading of what Trakt leaves undocumented; a
// request that carries a killed token is answered 401 and counted
// (KilledTokenUses).
func (f *Trakt) KeepOldAccessTokens(keep bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keepOldAccess = keep
}

// OmitChallenge makes the API's 401 answers come without
// WWW-Authenticate (omit true); by default they carry
// Bearer error="invalid_token". Whether Trakt always sends it is not
// documented.
func (f *Trakt) OmitChallenge(omit bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.omitChallenge = omit
}

// ApproveCode approves the device user code userCode, as if the user
// entered it on the activation page: the next poll receives a token. It
// reports false if no such code is pending (unknown, expired or decided).
func (f *Trakt) ApproveCode(userCode string) bool { return f.decide(userCode, traktApproved) }

// DenyCode denies the device user code userCode: the next poll is answered
// 418. It reports false if no such code is pending.
func (f *Trakt) DenyCode(userCode string) bool { return f.decide(userCode, traktDenied) }

func (f *Trakt) decide(userCode string, d traktDecision) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.nowLocked()
	for _, dev := range f.devices {
		if dev.userCode == userCode {
			if dev.state != traktPending || !now.Before(dev.expires) {
				return false
			}
			dev.state = d
			return true
		}
	}
	return false
}

// IssueToken opens a grant without any OAuth flow, in the current era, with
// scopes (none means "public offline_access"), and returns its access and
// refresh tokens (refresh "" when the scopes lack offline_access).
func (f *Trakt) IssueToken(scopes ...string) (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.newGrantLocked(f.nowLocked(), traktScopes(strings.Join(scopes, " "), false), "", false)
	return g.access, g.refresh
}

// IssueLegacyToken opens a grant as one issued before the migration: its
// access token works until it expires (7 days from now), and its refresh
// token is answered 400 invalid_grant "session not found" in the current
// era.
func (f *Trakt) IssueLegacyToken() (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.newGrantLocked(f.nowLocked(), "public", "", true)
	return g.access, g.refresh
}

// RestoreToken makes the fake accept a current-era grant an earlier fake
// issued: access valid until expiry (zero means 7 days from now; a past
// expiry restores an expired token, which a refresh can still replace),
// refresh its refresh token ("" for none), scopes filtered as IssueToken's.
// A grant already holding either token ends first.
func (f *Trakt) RestoreToken(access, refresh string, expiry time.Time, scopes ...string) {
	if access == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.nowLocked()
	f.revokeLocked(access)
	f.revokeLocked(refresh)
	delete(f.killed, access)
	if expiry.IsZero() {
		expiry = now.Add(traktAccessTTL)
	}
	g := &traktGrant{access: access, refresh: refresh, scope: traktScopes(strings.Join(scopes, " "), false), accessExpires: expiry}
	f.addGrantLocked(now, g)
}

// ExpireAccessToken ends the access token access before its expires_in,
// as a service may: the API answers it 401, and its grant's refresh token
// still works. Unknown tokens are ignored.
func (f *Trakt) ExpireAccessToken(access string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.access[access]; g != nil && g.access == access {
		g.accessExpires = f.nowLocked()
	}
}

// RevokeToken ends the grant of token (access or refresh), as when the user
// revokes the app in Trakt's settings: its access token is answered 401 and
// its refresh token invalid_grant. Unknown tokens are ignored.
func (f *Trakt) RevokeToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revokeLocked(token)
}

// FailTokenCalls makes the next n requests to the OAuth POST endpoints
// (/oauth/token, /oauth/device/code, /oauth/device/token, /oauth/revoke)
// fail as mode says: Fail5xx answers 503
// {"error":"server_error",...}, FailHTML a 502 HTML page. Such a request is
// counted but consumes no code and mints no token. It replaces an earlier
// setting; n <= 0 turns failures off.
func (f *Trakt) FailTokenCalls(n int, mode FailMode) { f.failTokenCalls(n, mode) }

// BlockAuthCalls makes the next n requests to the OAuth POST endpoints answer 403
// with Cloudflare's HTML page, as Trakt's edge does for a request it
// blocks. They are counted (Blocked) but reach no endpoint. n <= 0 turns it
// off.
func (f *Trakt) BlockAuthCalls(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blockAuthN = max(n, 0)
}

// FailAPICalls makes the next n API calls (not the OAuth endpoints) answer
// as failure says, after the header checks and before the token check. It
// replaces an earlier setting; n <= 0 turns it off.
func (f *Trakt) FailAPICalls(n int, failure TraktFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAPIN, f.failAPIKind = max(n, 0), failure
}

// SetLatency makes every request to an OAuth POST endpoint (the
// FailTokenCalls set) wait d, in real time, before it is answered. A
// request whose client goes away, or that is still waiting at Close, is
// abandoned without an answer.
func (f *Trakt) SetLatency(d time.Duration) { f.setLatency(d) }

// TokenCalls returns how many requests reached /oauth/token, whatever their
// grant type and outcome.
func (f *Trakt) TokenCalls() int { return f.count(&f.tokenCalls) }

// Exchanges returns how many authorization_code grants reached
// /oauth/token, successful or not.
func (f *Trakt) Exchanges() int { return f.count(&f.exchanges) }

// Refreshes returns how many refresh_token grants reached /oauth/token,
// successful or not.
func (f *Trakt) Refreshes() int { return f.count(&f.refreshes) }

// RefreshReuses returns how many refreshes presented a refresh token that
// an earlier refresh had already rotated away: each ended its whole grant,
// logging the user out, as two concurrent refreshes of one grant do.
func (f *Trakt) RefreshReuses() int { return f.count(&f.reuses) }

// MigratedRefreshes returns how many refreshes presented a pre-migration
// refresh token and were answered "session not found".
func (f *Trakt) MigratedRefreshes() int { return f.count(&f.migrated) }

// DeviceStarts returns how many requests reached /oauth/device/code.
func (f *Trakt) DeviceStarts() int { return f.count(&f.deviceStarts) }

// DevicePolls returns how many requests reached /oauth/device/token.
func (f *Trakt) DevicePolls() int { return f.count(&f.devicePolls) }

// TooFastPolls returns how many device polls came sooner than the interval
// after the previous one and were answered 429.
func (f *Trakt) TooFastPolls() int { return f.count(&f.tooFast) }

// Revocations returns how many requests reached /oauth/revoke.
func (f *Trakt) Revocations() int { return f.count(&f.revocations) }

// APICalls returns how many requests reached the API host outside /oauth/
// (known routes or not, refused or not).
func (f *Trakt) APICalls() int { return f.count(&f.apiCalls) }

// UnauthorizedAPICalls returns how many API calls were answered 401.
func (f *Trakt) UnauthorizedAPICalls() int { return f.count(&f.unauthAPI) }

// KilledTokenUses returns how many API requests carried an access token
// that a later refresh of its grant had killed.
func (f *Trakt) KilledTokenUses() int { return f.count(&f.killedUses) }

// Blocked returns how many requests the fake's edge answered with its HTML
// 403: those without a real User-Agent, and those BlockAuthCalls and
// FailAPICalls(TraktBlocked) chose.
func (f *Trakt) Blocked() int { return f.count(&f.blocked) }

// OAuthOnAPIHost returns how many OAuth requests reached the API host in
// the current era (they belong on AuthURL).
func (f *Trakt) OAuthOnAPIHost() int { return f.count(&f.oauthOnAPI) }

// Malformed returns how many requests broke a rule the spec says Trakt
// requires (see MalformedReasons).
func (f *Trakt) Malformed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.malformed)
}

// MalformedReasons returns, in order, why each malformed request was, such
// as "POST /oauth/token: form body, not JSON" or "GET /users/settings: no
// trakt-api-key".
func (f *Trakt) MalformedReasons() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.malformed)
}

// LastTokenForm returns a copy of the JSON fields (strings, numbers and
// booleans, as text) of the most recent POST to an OAuth endpoint, or nil
// if there was none.
func (f *Trakt) LastTokenForm() url.Values { return f.tokenForm() }

// LastAuthorizeQuery returns a copy of the query of the most recent request
// to /oauth/authorize, or nil if there was none.
func (f *Trakt) LastAuthorizeQuery() url.Values { return f.authorizeQuery() }

// LastRequestHeader returns a copy of the header of the most recent request
// to either host, or nil if there was none.
func (f *Trakt) LastRequestHeader() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastRequest == nil {
		return nil
	}
	return f.lastRequest.Header.Clone()
}

// APIBodies returns a copy of the bodies of the API calls received (see
// APICalls), in order.
func (f *Trakt) APIBodies() [][]byte { return f.bodies() }

// badLocked records a malformed request. f.mu must be held.
func (f *Trakt) badLocked(r *http.Request, why string) {
	f.malformed = append(f.malformed, r.Method+" "+r.URL.Path+": "+why)
	if len(f.malformed) > maxEntries {
		f.malformed = f.malformed[len(f.malformed)-maxEntries:]
	}
}

// realUA reports whether ua is one Trakt's edge lets through: present, and
// not a library default [S] (trakt-api #670, #804).
func realUA(ua string) bool {
	l := strings.ToLower(strings.TrimSpace(ua))
	return l != "" && !strings.HasPrefix(l, "go-http-client")
}

// traktBlockedPage answers as Cloudflare does for a blocked request.
func traktBlockedPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Server", "cloudflare")
	w.Header().Set("Cf-Ray", "0000000000000000-FAK")
	w.WriteHeader(http.StatusForbidden)
	io.WriteString(w, "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>"+
		"<body><h1>Sorry, you have been blocked</h1><p>You are unable to access trakt.tv</p></body></html>\n")
}

// traktOAuthErr writes an RFC 6749 error body [C].
func traktOAuthErr(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, traktJSON, authErrorJSON{Error: code, Description: desc})
}

// traktLegacyErr writes a Doorkeeper-era error: the code in
// WWW-Authenticate too, and 401 for a bad grant [C] (trakt-api #48).
func traktLegacyErr(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="`+code+`", error_description="`+desc+`"`)
	}
	traktOAuthErr(w, status, code, desc)
}

// traktStatus answers a bare status: the device poll's answers [C].
func traktStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

func traktPage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	t := html.EscapeString(text)
	io.WriteString(w, "<!DOCTYPE html><html><head><title>"+t+"</title></head><body><p>"+t+"</p></body></html>\n")
}

// traktBody is a parsed OAuth request body.
type traktBody struct {
	fields   url.Values
	json     bool // a JSON object in a JSON Content-Type
	form     bool // an application/x-www-form-urlencoded body
	hasBasic bool
}

func traktReadBody(w http.ResponseWriter, r *http.Request) traktBody {
	b := traktBody{fields: url.Values{}}
	_, _, b.hasBasic = r.BasicAuth()
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, traktMaxBody))
	if err != nil {
		return b
	}
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case traktJSON:
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&m) != nil || m == nil {
			return b
		}
		b.json = true
		for k, v := range m {
			switch v := v.(type) {
			case string:
				b.fields.Set(k, v)
			case json.Number:
				b.fields.Set(k, v.String())
			case bool:
				b.fields.Set(k, strconv.FormatBool(v))
			}
		}
	case "application/x-www-form-urlencoded":
		if vals, err := url.ParseQuery(string(raw)); err == nil {
			b.fields, b.form = vals, true
		}
	}
	return b
}

// traktOAuthPath reports whether p is one of Trakt's OAuth endpoints (or
// under /oauth/).
func traktOAuthPath(p string) bool { return p == "/oauth" || strings.HasPrefix(p, "/oauth/") }

// oauthPost reports whether p is an OAuth POST endpoint.
func oauthPost(p string) bool {
	switch p {
	case "/oauth/token", "/oauth/device/code", "/oauth/device/token", "/oauth/revoke":
		return true
	}
	return false
}

// serveAuth serves the OAuth host.
func (f *Trakt) serveAuth(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	legacy := f.legacy
	f.mu.Unlock()
	if legacy { // [I] auth.trakt.tv did not exist before the migration
		f.record(r, nil)
		writeJSON(w, http.StatusNotFound, traktJSON, map[string]string{"error": "not_found"})
		return
	}
	f.serveOAuth(w, r, false)
}

// serveOAuth serves the OAuth endpoints: on the OAuth host, or in the
// legacy era on the API host.
func (f *Trakt) serveOAuth(w http.ResponseWriter, r *http.Request, legacy bool) {
	post := oauthPost(r.URL.Path)
	var body traktBody
	if post {
		body = traktReadBody(w, r)
	}
	f.mu.Lock()
	f.recordLocked(r, nil)
	if post {
		f.lastTokenForm = cloneValues(body.fields)
	}
	switch r.URL.Path {
	case "/oauth/token":
		f.tokenCalls++
		switch body.fields.Get("grant_type") {
		case "authorization_code":
			f.exchanges++
		case "refresh_token":
			f.refreshes++
		}
	case "/oauth/device/code":
		f.deviceStarts++
	case "/oauth/device/token":
		f.devicePolls++
	case "/oauth/revoke":
		f.revocations++
	case "/oauth/authorize":
		f.lastAuthorizeQuery = cloneValues(r.URL.Query())
	}
	// The consent and activation pages are the user's browser's, which
	// sends a real User-Agent and no API headers [I]; the POST endpoints
	// are the client's.
	blockedUA := post && !realUA(r.Header.Get("User-Agent"))
	blocked := blockedUA || post && !legacy && f.blockAuthN > 0
	if blocked {
		f.blocked++
		if blockedUA {
			f.badLocked(r, "no real User-Agent")
		} else {
			f.blockAuthN--
		}
	}
	// [I] Trakt's own clients send trakt-api-key and trakt-api-version on
	// OAuth calls too; whether the auth server needs them is not known, so
	// the fake counts a missing one and answers all the same.
	if post && !blocked {
		if k := r.Header.Get("Trakt-Api-Key"); k != f.ClientID {
			f.badLocked(r, "no trakt-api-key, or not the client id")
		}
		if r.Header.Get("Trakt-Api-Version") != "2" {
			f.badLocked(r, "trakt-api-version is not 2")
		}
	}
	var fail bool
	var mode FailMode
	var latency time.Duration
	if post && !blocked {
		fail, mode = f.takeFailLocked()
		latency = f.latency
	}
	f.mu.Unlock()
	if blocked {
		traktBlockedPage(w)
		return
	}
	if !f.wait(r.Context(), latency) {
		panic(http.ErrAbortHandler) // nobody is waiting for the answer
	}
	if fail {
		if mode == FailHTML {
			writeHTMLFailure(w)
		} else {
			traktOAuthErr(w, http.StatusServiceUnavailable, "server_error", "The fake Trakt fails on purpose (FailTokenCalls).")
		}
		return
	}
	if post && r.Method != http.MethodPost || r.URL.Path == "/oauth/authorize" && r.Method != http.MethodGet {
		w.Header().Set("Allow", map[bool]string{true: http.MethodPost, false: http.MethodGet}[post])
		writeJSON(w, http.StatusMethodNotAllowed, traktJSON, map[string]string{"error": "method_not_allowed"})
		return
	}
	if post && !f.checkOAuthBody(w, r, body, legacy) {
		return
	}
	switch r.URL.Path {
	case "/oauth/authorize":
		f.authorize(w, r, legacy)
	case "/oauth/token":
		f.token(w, body.fields, legacy)
	case "/oauth/device/code":
		f.deviceCode(w, body.fields)
	case "/oauth/device/token":
		f.deviceToken(w, r, body.fields)
	case "/oauth/revoke":
		f.revoke(w, body.fields)
	case "/activate":
		traktPage(w, http.StatusOK, "Activate your device")
	default:
		writeJSON(w, http.StatusNotFound, traktJSON, map[string]string{"error": "not_found"})
	}
}

// checkOAuthBody checks what every OAuth POST shares: a JSON body, and no
// Basic client authentication. It answers and reports false on failure.
func (f *Trakt) checkOAuthBody(w http.ResponseWriter, r *http.Request, b traktBody, legacy bool) bool {
	switch {
	case !b.json:
		f.mu.Lock()
		if b.form {
			f.badLocked(r, "form body, not JSON")
		} else {
			f.badLocked(r, "body is not a JSON object in an application/json Content-Type")
		}
		f.mu.Unlock()
		// [I] whether the auth host takes form bodies is an open question;
		// every official example is JSON, and the fake takes nothing else.
		traktOAuthErr(w, http.StatusBadRequest, "invalid_request", "The request body must be JSON (Content-Type: application/json).")
		return false
	case b.hasBasic && !legacy:
		f.mu.Lock()
		f.badLocked(r, "Basic client authentication")
		f.mu.Unlock()
		// [C] Basic client authentication is "something the auth server
		// does not accept" (trakt-api fix/readme_pkce a90e686).
		traktOAuthErr(w, http.StatusUnauthorized, "invalid_client", "Send the client credentials in the JSON body.")
		return false
	}
	return true
}

// registeredLocked reports whether uri is a registered redirect URI, byte
// for byte [C]. f.mu must be held.
func (f *Trakt) registeredLocked(uri string) bool {
	return uri != "" && (uri == f.RedirectURI || slices.Contains(f.redirects, uri))
}

// traktRedirect answers 302 to redirect with params appended to its query.
func traktRedirect(w http.ResponseWriter, redirect string, params url.Values) {
	u, _ := url.Parse(redirect)
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += params.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// authorize serves GET /oauth/authorize, which approves (or, with
// DenyConsent, denies) at once.
func (f *Trakt) authorize(w http.ResponseWriter, r *http.Request, legacy bool) {
	q := r.URL.Query()
	ru := q.Get("redirect_uri")
	f.mu.Lock()
	registered := f.registeredLocked(ru)
	deny := f.deny
	f.mu.Unlock()
	switch {
	case q.Get("client_id") != f.ClientID:
		traktOAuthErr(w, http.StatusBadRequest, "invalid_client", "Unknown client_id.") // [I]
		return
	case !registered: // [C] exact and case-sensitive; [I] refused before any redirect
		traktOAuthErr(w, http.StatusBadRequest, "invalid_request", "redirect_uri mismatch")
		return
	case q.Get("response_type") != "code":
		traktRedirect(w, ru, url.Values{"error": {"unsupported_response_type"}, "state": q["state"]})
		return
	}
	out := url.Values{}
	if st := q.Get("state"); st != "" { // [C] state comes back as sent
		out.Set("state", st)
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	scope := q.Get("scope")
	if !legacy {
		switch {
		case challenge != "" && method != "S256":
			f.mu.Lock()
			f.badLocked(r, "code_challenge_method is not S256")
			f.mu.Unlock()
			out.Set("error", "invalid_request")
			out.Set("error_description", "Trakt only supports the S256 method") // [C] pkce.md
			traktRedirect(w, ru, out)
			return
		case challenge == "" && scope != "":
			f.mu.Lock()
			f.badLocked(r, "no PKCE code_challenge")
			f.mu.Unlock()
			out.Set("error", "invalid_request")
			out.Set("error_description", "pkce is required when requesting offline_access scope") // [S] stremthru #571
			traktRedirect(w, ru, out)
			return
		case challenge == "":
			f.mu.Lock()
			f.badLocked(r, "no PKCE code_challenge")
			f.mu.Unlock()
			// [S] the new stack injects a challenge of its own and the
			// default scope: the code is issued, and can never be redeemed.
			challenge, scope = traktInjectedChallenge, traktDefaultScop
		}
	}
	if deny {
		out.Set("error", "access_denied")
		out.Set("error_description", "The user denied the request.") // [I] wording
		traktRedirect(w, ru, out)
		return
	}
	code := randomHex(16)
	f.mu.Lock()
	now := f.nowLocked()
	makeRoom(f.codes, func(c *traktCode) bool { return !now.Before(c.expires) }, nil)
	f.codes[code] = &traktCode{redirectURI: ru, challenge: challenge, scope: traktScopes(scope, legacy), legacy: legacy, expires: now.Add(traktCodeTTL)}
	f.mu.Unlock()
	out.Set("code", code)
	traktRedirect(w, ru, out)
}

// traktScopes returns the scopes a grant gets for requested: the known ones
// in a fixed order; none means "public offline_access" [S]. Before the
// migration every grant was "public" [S].
func traktScopes(requested string, legacy bool) string {
	if legacy {
		return "public"
	}
	if strings.TrimSpace(requested) == "" {
		return traktDefaultScop
	}
	var kept []string
	for _, known := range []string{"public", traktScopeOffln, "openid", "profile", "email"} {
		if slices.Contains(strings.Fields(requested), known) {
			kept = append(kept, known)
		}
	}
	if len(kept) == 0 {
		return "public"
	}
	return strings.Join(kept, " ")
}

// clientOK checks the body's client_id and, when sent or when the era
// requires it, client_secret.
func (f *Trakt) clientOK(b url.Values, secretRequired bool) bool {
	if b.Get("client_id") != f.ClientID {
		return false
	}
	if b.Has("client_secret") || secretRequired {
		return b.Get("client_secret") == f.ClientSecret
	}
	return true
}

// token serves POST /oauth/token.
func (f *Trakt) token(w http.ResponseWriter, b url.Values, legacy bool) {
	fail := traktOAuthErr
	if legacy {
		fail = traktLegacyErr
	}
	var c *traktCode
	if b.Get("grant_type") == "authorization_code" {
		// [I] a code is spent by any attempt that names it.
		f.mu.Lock()
		c = f.codes[b.Get("code")]
		delete(f.codes, b.Get("code"))
		f.mu.Unlock()
	}
	// [C] the client secret is deprecated (optional) since the migration;
	// before it, the docs required it.
	if !f.clientOK(b, legacy) {
		fail(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	switch b.Get("grant_type") {
	case "authorization_code":
		f.exchange(w, b, c, legacy)
	case "refresh_token":
		f.refresh(w, b, legacy)
	case "":
		fail(w, http.StatusBadRequest, "invalid_request", "grant_type is required.")
	default:
		fail(w, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported.")
	}
}

func traktPKCE(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range []byte(verifier) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func (f *Trakt) exchange(w http.ResponseWriter, b url.Values, c *traktCode, legacy bool) {
	fail := traktOAuthErr
	status := http.StatusBadRequest // [C] "returns a 400 response with an OAuth error"
	if legacy {
		fail, status = traktLegacyErr, http.StatusUnauthorized
	}
	switch {
	case b.Get("code") == "":
		fail(w, http.StatusBadRequest, "invalid_request", "code is required.")
		return
	case b.Get("redirect_uri") == "": // [C] tokenBaseSchema marks it required
		fail(w, http.StatusBadRequest, "invalid_request", "redirect_uri is required.")
		return
	case c == nil || c.legacy != legacy:
		fail(w, status, "invalid_grant", traktDoorkeeperGrant)
		return
	case b.Get("redirect_uri") != c.redirectURI: // [C] identical in both requests
		fail(w, http.StatusBadRequest, "invalid_request", "redirect_uri mismatch")
		return
	}
	f.mu.Lock()
	now := f.nowLocked()
	f.mu.Unlock()
	switch {
	case !now.Before(c.expires):
		fail(w, status, "invalid_grant", "The authorization code has expired.")
		return
	case !legacy && b.Get("code_verifier") == "":
		fail(w, status, "invalid_grant", "code_verifier is required.")
		return
	case c.challenge != "" && !traktPKCE(c.challenge, b.Get("code_verifier")):
		fail(w, status, "invalid_grant", "code_verifier does not match the code_challenge.")
		return
	}
	f.mu.Lock()
	g := f.newGrantLocked(now, c.scope, c.redirectURI, legacy)
	out := f.tokenJSONLocked(g, now)
	f.mu.Unlock()
	traktTokenAnswer(w, out)
}

func traktTokenAnswer(w http.ResponseWriter, out traktTokenJSON) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, traktJSON, out)
}

// tokenJSONLocked is g's token answer at now. f.mu must be held.
func (f *Trakt) tokenJSONLocked(g *traktGrant, now time.Time) traktTokenJSON {
	return traktTokenJSON{
		AccessToken:  g.access,
		TokenType:    "bearer", // [S] historic example; mocks use "Bearer"
		ExpiresIn:    int(g.accessExpires.Sub(now) / time.Second),
		RefreshToken: g.refresh,
		Scope:        g.scope,
		CreatedAt:    now.Unix(),
	}
}

// newGrantLocked opens a grant. [I] a refresh token only with
// offline_access (Better Auth semantics); every legacy grant had one.
func (f *Trakt) newGrantLocked(now time.Time, scope, redirect string, legacy bool) *traktGrant {
	g := &traktGrant{access: randomHex(16), scope: scope, redirect: redirect, accessExpires: now.Add(traktAccessTTL), legacy: legacy}
	if legacy || slices.Contains(strings.Fields(scope), traktScopeOffln) {
		g.refresh = randomHex(16)
	}
	return f.addGrantLocked(now, g)
}

// addGrantLocked stores g under its tokens, making room for it.
func (f *Trakt) addGrantLocked(now time.Time, g *traktGrant) *traktGrant {
	dead := func(g *traktGrant) bool { return g.dead || g.refresh == "" && !now.Before(g.accessExpires) }
	drop := func(g *traktGrant) { delete(f.access, g.access); delete(f.grants, g.refresh) }
	if g.refresh != "" {
		makeRoom(f.grants, dead, drop)
		f.grants[g.refresh] = g
	}
	makeRoom(f.access, dead, drop)
	f.access[g.access] = g
	return g
}

// revokeLocked ends the grant token (access, refresh or a spent refresh
// token) belongs to.
func (f *Trakt) revokeLocked(token string) {
	if token == "" {
		return
	}
	g := f.grants[token]
	if g == nil {
		g = f.access[token]
	}
	if g == nil {
		g = f.spent[token]
	}
	if g == nil {
		return
	}
	g.dead = true
	delete(f.grants, g.refresh)
	delete(f.access, g.access)
}

func (f *Trakt) refresh(w http.ResponseWriter, b url.Values, legacy bool) {
	fail := traktOAuthErr
	status := http.StatusBadRequest
	if legacy {
		fail, status = traktLegacyErr, http.StatusUnauthorized
	}
	rt := b.Get("refresh_token")
	if rt == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "refresh_token is required.")
		return
	}
	f.mu.Lock()
	now := f.nowLocked()
	g := f.grants[rt]
	var desc string
	switch {
	case g == nil && f.spent[rt] != nil:
		// [C] single use: the refresh token was rotated away. [I] its
		// reuse ends the whole grant (RFC 9700 §4.14): two refreshes of
		// one grant log the user out.
		f.reuses++
		f.revokeLocked(rt)
		desc = "The refresh token was already used."
	case g == nil:
		desc = traktDoorkeeperGrant
	case g.legacy && !legacy:
		f.migrated++
		g = nil
		desc = "session not found" // [C] guide; trakt-api #888
	case b.Has("redirect_uri") && g.redirect != "" && b.Get("redirect_uri") != g.redirect:
		f.mu.Unlock()
		fail(w, http.StatusBadRequest, "invalid_request", "redirect_uri mismatch")
		return
	}
	if g == nil {
		f.mu.Unlock()
		fail(w, status, "invalid_grant", desc)
		return
	}
	// [C] "Every successful refresh returns a new access_token and
	// refresh_token. The refresh token used in the request is immediately
	// invalidated."
	delete(f.grants, g.refresh)
	makeRoom(f.spent, func(g *traktGrant) bool { return g.dead }, nil)
	f.spent[g.refresh] = g
	delete(f.access, g.access)
	if f.keepOldAccess {
		f.access[g.access] = g // [I] works while the grant lives
	} else {
		makeRoom(f.killed, func(exp time.Time) bool { return !now.Before(exp) }, nil)
		f.killed[g.access] = g.accessExpires
	}
	g.access, g.refresh, g.accessExpires = randomHex(16), randomHex(16), now.Add(traktAccessTTL)
	f.grants[g.refresh] = g
	f.access[g.access] = g
	out := f.tokenJSONLocked(g, now)
	f.mu.Unlock()
	traktTokenAnswer(w, out)
}

// deviceCode serves POST /oauth/device/code.
func (f *Trakt) deviceCode(w http.ResponseWriter, b url.Values) {
	if b.Get("client_id") != f.ClientID {
		traktStatus(w, http.StatusForbidden) // [S] invalid API key or unapproved app
		return
	}
	dc := randomHex(32)
	f.mu.Lock()
	now := f.nowLocked()
	makeRoom(f.devices, func(d *traktDevice) bool { return !now.Before(d.expires) }, nil)
	dev := &traktDevice{expires: now.Add(traktDeviceTTL)}
	for dev.userCode == "" || f.userCodeTakenLocked(dev.userCode) {
		dev.userCode = userCode(8) // [C] "typically 8 characters"
	}
	f.devices[dc] = dev
	verify := f.verify
	if verify == "" {
		verify = f.AuthURL + "/activate" // [C] the QR code should use auth.trakt.tv/activate
	}
	f.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, traktJSON, traktDeviceJSON{
		DeviceCode: dc, UserCode: dev.userCode, VerificationURL: verify,
		ExpiresIn: int(traktDeviceTTL / time.Second), Interval: int(traktDeviceStep / time.Second),
	})
}

func (f *Trakt) userCodeTakenLocked(code string) bool {
	for _, d := range f.devices {
		if d.userCode == code {
			return true
		}
	}
	return false
}

// deviceToken serves POST /oauth/device/token: answered by status alone
// [C], the token on 200.
func (f *Trakt) deviceToken(w http.ResponseWriter, r *http.Request, b url.Values) {
	f.mu.Lock()
	if b.Has("grant_type") || b.Has("device_code") {
		// [C] the field is code, not device_code, and there is no grant_type.
		f.badLocked(r, "an RFC 8628 device poll (grant_type or device_code), not Trakt's")
	}
	f.mu.Unlock()
	if !f.clientOK(b, false) {
		traktStatus(w, http.StatusForbidden) // [S] invalid API key or unapproved app
		return
	}
	f.mu.Lock()
	now := f.nowLocked()
	dev := f.devices[b.Get("code")]
	status := http.StatusBadRequest
	var out traktTokenJSON
	switch {
	case dev == nil:
		status = http.StatusNotFound
	case !now.Before(dev.expires):
		status = http.StatusGone
	case dev.state == traktUsed:
		status = http.StatusConflict
	case dev.state == traktDenied:
		status = http.StatusTeapot
	case dev.state == traktApproved:
		dev.state = traktUsed // [C] 200 once, then 409
		status = http.StatusOK
		g := f.newGrantLocked(now, traktDefaultScop, "", f.legacy)
		out = f.tokenJSONLocked(g, now)
	// [C] 429 "your app is polling too quickly": sooner than the interval
	// after the previous poll (the first poll is never early). [I] the
	// interval is measured against the code's own, never raised.
	case !dev.lastPoll.IsZero() && now.Sub(dev.lastPoll) < traktDeviceStep:
		dev.lastPoll = now
		f.tooFast++
		status = http.StatusTooManyRequests
	default:
		dev.lastPoll = now
	}
	f.mu.Unlock()
	if status == http.StatusOK {
		traktTokenAnswer(w, out)
		return
	}
	traktStatus(w, status) // [C] 400's body is empty; the others are undocumented
}

// revoke serves POST /oauth/revoke.
func (f *Trakt) revoke(w http.ResponseWriter, b url.Values) {
	switch {
	case !f.clientOK(b, false):
		traktOAuthErr(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.") // [I]
		return
	case b.Get("token") == "":
		traktOAuthErr(w, http.StatusBadRequest, "invalid_request", "token is required.") // [I]
		return
	}
	f.mu.Lock()
	f.revokeLocked(b.Get("token")) // [I] revoking either token ends the grant
	f.mu.Unlock()
	traktStatus(w, http.StatusOK) // [C] 200
}

// serveAPI serves the API host.
func (f *Trakt) serveAPI(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	legacy := f.legacy
	f.mu.Unlock()
	if traktOAuthPath(r.URL.Path) {
		if legacy {
			f.serveOAuth(w, r, true)
			return
		}
		f.mu.Lock()
		f.recordLocked(r, nil)
		f.oauthOnAPI++
		f.badLocked(r, "OAuth call on the API host; it belongs on auth.trakt.tv")
		f.mu.Unlock()
		if r.URL.Path == "/oauth/authorize" { // [S] 301 on its way to the new stack (trakt-api #887)
			w.Header().Set("Location", f.AuthURL+r.URL.RequestURI())
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		// [I] the old token host is gone in the fake (trakt.tv/oauth/token
		// answers 404 since January 2026, trakt-api #676).
		writeJSON(w, http.StatusNotFound, traktJSON, map[string]string{"error": "not_found"})
		return
	}
	body, bodyErr := io.ReadAll(http.MaxBytesReader(w, r.Body, traktMaxAPIBody))
	f.mu.Lock()
	f.recordLocked(r, body)
	f.apiCalls++
	f.apiBodies = append(f.apiBodies, body)
	answer := f.checkAPILocked(r, body)
	failing, kind := f.failAPIN > 0, f.failAPIKind
	if answer == nil && failing {
		f.failAPIN--
		if kind == TraktBlocked {
			f.blocked++
		}
	}
	now := f.nowLocked()
	f.mu.Unlock()
	switch {
	case answer != nil:
		answer(w)
		return
	case failing:
		traktFail(w, kind, now)
		return
	case bodyErr != nil:
		writeJSON(w, http.StatusRequestEntityTooLarge, traktJSON, map[string]string{"error": "too_large"}) // [I]
		return
	}
	f.route(w, r, body)
}

// checkAPILocked checks the headers every API request needs [C] and
// returns the answer of a request that fails them, or nil. f.mu must be
// held.
func (f *Trakt) checkAPILocked(r *http.Request, body []byte) func(http.ResponseWriter) {
	if !realUA(r.Header.Get("User-Agent")) {
		f.blocked++
		f.badLocked(r, "no real User-Agent")
		return traktBlockedPage
	}
	if r.Header.Get("Trakt-Api-Key") != f.ClientID {
		f.badLocked(r, "no trakt-api-key, or not the client id")
		return func(w http.ResponseWriter) { traktStatus(w, http.StatusForbidden) } // [C] invalid API key
	}
	if r.Header.Get("Trakt-Api-Version") != "2" {
		f.badLocked(r, "trakt-api-version is not 2")
		return func(w http.ResponseWriter) { // [I] status and body
			writeJSON(w, http.StatusBadRequest, traktJSON, map[string]string{"error": "trakt-api-version must be 2"})
		}
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case ct == "" && len(body) == 0:
		// [C] required on every request; [I] the API answers a GET without
		// one, so the fake counts it and serves it.
		f.badLocked(r, "no Content-Type")
	case mt != traktJSON:
		f.badLocked(r, "Content-Type is not application/json")
		return func(w http.ResponseWriter) { // [C] 412
			writeJSON(w, http.StatusPreconditionFailed, traktJSON, map[string]string{"error": "Precondition Failed - use application/json content type"})
		}
	}
	return nil
}

// traktFail writes a FailAPICalls answer.
func traktFail(w http.ResponseWriter, kind TraktFailure, now time.Time) {
	h := w.Header()
	switch kind {
	case TraktBlocked:
		traktBlockedPage(w)
	case TraktBadAPIKey:
		traktStatus(w, http.StatusForbidden)
	case TraktWrongContentType:
		writeJSON(w, http.StatusPreconditionFailed, traktJSON, map[string]string{"error": "Precondition Failed - use application/json content type"})
	case TraktAccountLimit:
		h.Set("X-Upgrade-URL", "https://trakt.tv/vip")
		h.Set("X-VIP-User", "false")
		h.Set("X-Account-Limit", "100")
		traktStatus(w, 420)
	case TraktLocked:
		h.Set("X-Account-Locked", "true")
		h.Set("X-Account-Deactivated", "false")
		traktStatus(w, http.StatusLocked)
	case TraktVIPOnly:
		h.Set("X-Upgrade-URL", "https://trakt.tv/vip")
		traktStatus(w, http.StatusUpgradeRequired)
	case TraktRateLimited:
		h.Set("Retry-After", strconv.Itoa(traktRetryAfter))
		h.Set("X-Ratelimit", traktRateLimitHeader("AUTHED_API_GET_LIMIT", 300, 500, now.Add(traktRetryAfter*time.Second)))
		writeJSON(w, http.StatusTooManyRequests, traktJSON, map[string]string{"error": "rate_limit"})
	case TraktRateLimitedBare:
		traktStatus(w, http.StatusTooManyRequests)
	case TraktOverloaded:
		traktStatus(w, http.StatusServiceUnavailable)
	case TraktCloudflareError:
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(520)
		io.WriteString(w, "<!DOCTYPE html><html><body><h1>Web server is returning an unknown error</h1></body></html>\n")
	}
}

// traktRateLimitHeader is an X-Ratelimit value [C].
func traktRateLimitHeader(name string, period, limit int, until time.Time) string {
	b, _ := json.Marshal(map[string]any{"name": name, "period": period, "limit": limit, "remaining": 0, "until": until.UTC().Format(time.RFC3339)})
	return string(b)
}

// bearerGrantLocked returns the grant of the request's bearer token, and
// whether the request carried one. f.mu must be held.
func (f *Trakt) bearerGrantLocked(r *http.Request, now time.Time) (*traktGrant, bool) {
	tok, present := bearer(r)
	if !present {
		return nil, false
	}
	if _, dead := f.killed[tok]; dead {
		f.killedUses++
		return nil, true
	}
	g := f.access[tok]
	if g == nil || g.dead || !now.Before(g.accessExpires) {
		return nil, true
	}
	return g, true
}

// route serves the API routes.
func (f *Trakt) route(w http.ResponseWriter, r *http.Request, body []byte) {
	var method string
	public := false
	switch r.URL.Path {
	case "/users/settings", "/sync/last_activities":
		method = http.MethodGet
	case "/sync/history":
		method = http.MethodPost
	case "/movies/trending":
		method, public = http.MethodGet, true
	default:
		writeJSON(w, http.StatusNotFound, traktJSON, map[string]string{"error": "not_found"})
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		traktStatus(w, http.StatusMethodNotAllowed) // [C] 405
		return
	}
	f.mu.Lock()
	now := f.nowLocked()
	g, present := f.bearerGrantLocked(r, now)
	if !public && g == nil {
		f.unauthAPI++
		omit := f.omitChallenge
		f.mu.Unlock()
		if !omit {
			challenge := `Bearer realm="trakt"`
			if present {
				challenge += `, error="invalid_token", error_description="The access token is invalid, expired or revoked"` // [S]
			}
			w.Header().Set("WWW-Authenticate", challenge)
		}
		writeJSON(w, http.StatusUnauthorized, traktJSON, map[string]string{"error": "unauthorized"}) // [C] "OAuth must be provided"; [I] body
		return
	}
	if method == http.MethodPost {
		if !f.lastWrite.IsZero() && now.Sub(f.lastWrite) < traktPostPeriod {
			until := f.lastWrite.Add(traktPostPeriod)
			f.mu.Unlock()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-Ratelimit", traktRateLimitHeader("AUTHED_API_POST_LIMIT", 1, 1, until))
			writeJSON(w, http.StatusTooManyRequests, traktJSON, map[string]string{"error": "rate_limit"})
			return
		}
		f.lastWrite = now
	}
	f.mu.Unlock()
	switch r.URL.Path {
	case "/users/settings": // [C] a slice of settingsResponseSchema
		writeJSON(w, http.StatusOK, traktJSON, map[string]any{
			"user": map[string]any{
				"username": traktUsername, "private": false, "name": "Fake User", "vip": false, "vip_ep": false, "director": false,
				"ids":       map[string]any{"slug": traktUsername, "trakt": 4242, "uuid": traktUserUUID},
				"joined_at": "2015-01-01T00:00:00.000Z",
			},
			"account": map[string]any{"timezone": "UTC", "date_format": "dmy", "time_24hr": true, "cover_image": nil, "token": nil},
		})
	case "/sync/last_activities":
		writeJSON(w, http.StatusOK, traktJSON, map[string]any{"all": "2026-01-01T00:00:00.000Z"})
	case "/sync/history":
		if !json.Valid(body) {
			writeJSON(w, http.StatusBadRequest, traktJSON, map[string]string{"error": "bad_request"}) // [I]
			return
		}
		writeJSON(w, http.StatusCreated, traktJSON, map[string]any{
			"added":     map[string]int{"movies": 0, "episodes": 0},
			"not_found": map[string][]any{"movies": {}, "shows": {}, "episodes": {}},
		})
	case "/movies/trending":
		writeJSON(w, http.StatusOK, traktJSON, []any{})
	}
}
