package videoauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// YouTubeThrottle selects the answer YouTube's RateLimitNext makes API
// calls give.
type YouTubeThrottle int

const (
	// YouTubeRateLimit403 answers 403 with reason rateLimitExceeded
	// (domain usageLimits), Google's throttling answer.
	YouTubeRateLimit403 YouTubeThrottle = iota
	// YouTubeRateLimit429 answers 429 with status RESOURCE_EXHAUSTED and
	// Retry-After: 3.
	YouTubeRateLimit429
)

const (
	ytJSON = "application/json; charset=utf-8"

	ytAccessTTL      = 3599 * time.Second // [S] real answers say 3599
	ytCodeTTL        = 10 * time.Minute   // [I] Google does not publish it
	ytDeviceTTL      = 1800 * time.Second // [C] device guide example
	ytDeviceInterval = 5 * time.Second    // [C]
	ytTestingLife    = 7 * 24 * time.Hour // [C]/[S] Testing-mode grants, refresh_token_expires_in 604799
	ytMaxRefresh     = 100                // [C] refresh tokens per account per client
	ytDailyQuota     = 10000              // [C] default daily units
	ytMaxBody        = 1 << 20
	ytChannelID      = "UCfakeChannel0123456789" // 24 characters, as real channel ids
	ytChannelTitle   = "Fake Channel"

	ytScopeYouTube  = "https://www.googleapis.com/auth/youtube"
	ytScopeReadOnly = "https://www.googleapis.com/auth/youtube.readonly"
	ytScopeForceSSL = "https://www.googleapis.com/auth/youtube.force-ssl"
	ytScopePartner  = "https://www.googleapis.com/auth/youtubepartner"

	ytGrantCode    = "authorization_code"
	ytGrantRefresh = "refresh_token"
	ytGrantDevice  = "urn:ietf:params:oauth:grant-type:device_code"

	// [S] captured texts.
	ytMsgRevoked      = "Token has been expired or revoked."
	ytMsgNoSecret     = "client_secret is missing."
	ytMsgInvalidCreds = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	ytMsgMissingCreds = "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	ytMsgQuota        = "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>."
	ytRealm           = `Bearer realm="https://accounts.google.com/"`
)

// ytDeviceScopes are the scopes Google allows in the device flow [C].
var ytDeviceScopes = []string{
	"email", "openid", "profile",
	"https://www.googleapis.com/auth/drive.appdata", "https://www.googleapis.com/auth/drive.file",
	ytScopeYouTube, ytScopeReadOnly,
}

// YouTube is a fake of Google's OAuth 2.0 endpoints and of a few YouTube
// Data API v3 routes, served by two httptest.Servers: WebURL stands for
// https://accounts.google.com (the consent page) and https://www.google.com
// (the device page), APIURL for https://oauth2.googleapis.com (token,
// device, revocation) and the API hosts https://www.googleapis.com and
// https://youtube.googleapis.com. It follows docs/youtube.md, and is
// strict where Google is; Malformed counts every request refused for a
// missing or malformed parameter Google requires:
//
//   - GET /o/oauth2/v2/auth (and /o/oauth2/auth) approves at once: it
//     needs client_id (of the Web/Desktop client), response_type=code, a
//     non-empty scope and a redirect_uri that is one of RedirectURIs or
//     http on a loopback host with any port; code_challenge_method
//     defaults to plain (PlainChallenges counts those), access_type to
//     online (no refresh token), and prompt may not combine none with
//     another value. The consent screen (Consents counts it) shows for a
//     first grant, new scopes, or prompt=consent; only then does an
//     offline request get a refresh token, of which a client keeps 100,
//     the 101st silently killing the oldest. The redirect carries code,
//     state, the granted scope space-separated, authuser and prompt.
//   - POST /token (form body only; client credentials in the body or
//     Basic; client_secret required, else 400 invalid_request "client_secret
//     is missing."): authorization_code (single use, identical
//     redirect_uri, PKCE plain or S256), refresh_token (no refresh_token in
//     the answer; a dead one is 400 invalid_grant "Token has been expired
//     or revoked."), and the device_code grant of the TV client: 428
//     authorization_pending, 403 slow_down when polled faster than the
//     interval, 403 access_denied, 400 expired_token after expires_in.
//     Access tokens last 3599 s; the previous one stays valid after a
//     refresh [I].
//   - POST /device/code for the TV client only (401 invalid_client for
//     another type): the answer names verification_url (not RFC 8628's
//     verification_uri), 1800 s and interval 5; a scope outside Google's
//     allow-list is 400 invalid_scope.
//   - POST /revoke with token in the query or the form body: it ends every
//     grant of the project (both clients); an unknown token is 400
//     invalid_token.
//   - /youtube/v3/channels (GET, mine=true or id), /youtube/v3/playlists
//     (GET mine=true; POST inserts, needs youtube or youtube.force-ssl and
//     a channel), /youtube/v3/search (GET) and /youtube/v3/videos (GET),
//     answering Google's error envelope: 401 authError with
//     WWW-Authenticate error="invalid_token", 401 CREDENTIALS_MISSING, 403
//     insufficientPermissions with error="insufficient_scope", 401
//     youtubeSignupRequired for a channel-less account (SetNoChannel), and
//     403 quotaExceeded once the project's daily units (10,000, SetQuota)
//     are spent. Every call with a valid token costs at least one unit,
//     failed ones included; the counter resets at midnight Pacific Time.
//
// There is a single Google account. Expiry decisions read the Clock given
// to SetClock, real time by default. The exported fields are set by
// NewYouTube; change them, if at all, before the first request. All
// methods are safe for concurrent use.
type YouTube struct {
	WebURL         string   // stands for https://accounts.google.com and https://www.google.com
	APIURL         string   // stands for https://oauth2.googleapis.com, www.googleapis.com and youtube.googleapis.com
	ClientID       string   // a Web/Desktop client; default "fake-web.apps.googleusercontent.com"
	ClientSecret   string   // its secret; default "fake-web-secret"
	TVClientID     string   // a "TVs and Limited Input devices" client; default "fake-tv.apps.googleusercontent.com"
	TVClientSecret string   // its secret; default "fake-tv-secret"
	RedirectURIs   []string // the Web client's registered redirect URIs (loopback http with any port is always accepted)

	core // core.mu guards the fields below

	deny, testing, rotate, noChannel bool
	withhold                         string
	raptN, deviceQuotaN, rateN       int
	rateKind                         YouTubeThrottle
	verify                           string
	quotaLimit, quotaUsed            int
	quotaDay                         string

	codes   map[string]*ytCode
	devices map[string]*ytDevice  // by device code
	grants  map[string]*ytGrant   // the account's grant per client id
	refresh map[string]*ytRefresh // live refresh tokens
	access  map[string]*ytAccess  // live access tokens

	tokenCalls, exchanges, refreshes, deviceStarts, devicePolls int
	revocations, apiCalls, malformed, consents, refreshIssued   int
	plainChallenges, queryTokens                                int
}

// ytCode is an authorization code waiting for its exchange.
type ytCode struct {
	client, redirectURI, challenge, method, scope string
	offline, consent                              bool
	expires                                       time.Time
}

type ytDecision int

const (
	ytPending ytDecision = iota
	ytApproved
	ytDenied
)

// ytDevice is a device code.
type ytDevice struct {
	client, userCode, scope string
	expires, lastPoll       time.Time
	interval                time.Duration
	state                   ytDecision
}

// ytGrant is what the account granted one client: the scopes, the live
// refresh tokens (oldest first) and, in Testing mode, the grant's end.
type ytGrant struct {
	client  string
	scopes  []string
	tokens  []string
	expires time.Time // zero: no end
}

type ytRefresh struct {
	grant *ytGrant
	scope string
}

type ytAccess struct {
	client, scope string
	expires       time.Time
}

// Wire shapes.
type (
	ytTokenJSON struct {
		AccessToken           string `json:"access_token"`
		ExpiresIn             int    `json:"expires_in"`
		RefreshToken          string `json:"refresh_token,omitempty"`
		RefreshTokenExpiresIn int    `json:"refresh_token_expires_in,omitempty"`
		Scope                 string `json:"scope"`
		TokenType             string `json:"token_type"`
	}
	ytOAuthError struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
		Subtype     string `json:"error_subtype,omitempty"`
	}
	ytAPIErrorItem struct {
		Message      string `json:"message"`
		Domain       string `json:"domain"`
		Reason       string `json:"reason"`
		Location     string `json:"location,omitempty"`
		LocationType string `json:"locationType,omitempty"`
	}
	ytAPIErrorBody struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Errors  []ytAPIErrorItem `json:"errors,omitempty"`
		Status  string           `json:"status,omitempty"`
		Details []map[string]any `json:"details,omitempty"`
	}
	ytAPIError struct {
		Error ytAPIErrorBody `json:"error"`
	}
)

// NewYouTube starts a fake Google/YouTube on two plain-HTTP
// httptest.Servers listening on 127.0.0.1, one for WebURL and one for
// APIURL. The caller must Close it.
func NewYouTube() *YouTube {
	y := &YouTube{
		ClientID:       "fake-web.apps.googleusercontent.com",
		ClientSecret:   "fake-web-secret",
		TVClientID:     "fake-tv.apps.googleusercontent.com",
		TVClientSecret: "fake-tv-secret",
		RedirectURIs:   []string{"https://app.example/callback"},
		quotaLimit:     ytDailyQuota,
		codes:          make(map[string]*ytCode),
		devices:        make(map[string]*ytDevice),
		grants:         make(map[string]*ytGrant),
		refresh:        make(map[string]*ytRefresh),
		access:         make(map[string]*ytAccess),
	}
	urls := y.start("YouTube",
		serves(y.serveAPI, "oauth2.googleapis.com", "www.googleapis.com", "youtube.googleapis.com"),
		serves(y.serveWeb, "accounts.google.com", "www.google.com", "google.com"))
	y.APIURL, y.WebURL = urls[0], urls[1]
	return y
}

// SetClock makes the fake read the time from c for every expiry decision
// (codes, device codes and their intervals, tokens, Testing-mode grants,
// the quota's day). A nil c restores real time.
func (y *YouTube) SetClock(c *Clock) { y.setClock(c) }

// DenyConsent makes the consent page redirect back with
// error=access_denied, as if the user clicked "Cancel", while deny is
// true.
func (y *YouTube) DenyConsent(deny bool) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.deny = deny
}

// WithholdScope makes later consents (code and device) grant every
// requested scope but scope, as when the user unticks it on Google's
// granular consent screen; "" grants everything again.
func (y *YouTube) WithholdScope(scope string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.withhold = scope
}

// SetTestingMode puts the project's OAuth consent screen in Testing mode
// (on) or production (off): while it is on, every consent (and a grant
// IssueToken opens) makes the grant end 7 days later, its refresh tokens
// dying with it, and the code and device answers carry
// refresh_token_expires_in (as do refreshes, [I]).
func (y *YouTube) SetTestingMode(on bool) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.testing = on
}

// RotateRefreshTokens makes every refresh answer carry a new refresh token
// and kill the one it used. Google does not do this [C]; the switch is for
// tests of what a client does when a service rotates.
func (y *YouTube) RotateRefreshTokens(on bool) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.rotate = on
}

// SetNoChannel makes the account a Google account without a YouTube
// channel (on): channels.list with mine=true answers no items, and
// playlist inserts answer 401 youtubeSignupRequired.
func (y *YouTube) SetNoChannel(on bool) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.noChannel = on
}

// RequireReauth makes the next n refreshes fail as a session-control
// policy does: 400 invalid_grant with error_subtype invalid_rapt. The
// grant stays alive. n <= 0 turns it off.
func (y *YouTube) RequireReauth(n int) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.raptN = max(n, 0)
}

// DeviceQuotaExceeded makes the next n device starts (/device/code)
// answer 403 {"error_code":"rate_limit_exceeded"}, Google's quota answer
// there. n <= 0 turns it off.
func (y *YouTube) DeviceQuotaExceeded(n int) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.deviceQuotaN = max(n, 0)
}

// RateLimitNext makes the next n API calls with a valid token answer the
// throttling kind (each costs a unit). n <= 0 turns it off.
func (y *YouTube) RateLimitNext(n int, kind YouTubeThrottle) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.rateN, y.rateKind = max(n, 0), kind
}

// SetQuota sets the project's daily quota in units (10,000 by default)
// and the units spent today: SetQuota(100, 100) makes the next API call
// answer 403 quotaExceeded until midnight Pacific Time.
func (y *YouTube) SetQuota(limit, used int) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.quotaLimit, y.quotaUsed = max(limit, 0), max(used, 0)
	y.quotaDay = ytPacificDay(y.nowLocked())
}

// QuotaUsed returns the units spent today (Pacific Time).
func (y *YouTube) QuotaUsed() int {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.quotaRollLocked()
	return y.quotaUsed
}

// SetVerificationURL makes device answers name uri as verification_url
// instead of WebURL+"/device": a hostile or broken service, for tests of
// what a client shows its user. "" restores the default.
func (y *YouTube) SetVerificationURL(uri string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.verify = uri
}

// ApproveCode approves the device user code userCode, as if the user
// entered it at the verification page and consented: the next poll
// receives a token. It reports false if no such code is pending.
func (y *YouTube) ApproveCode(userCode string) bool { return y.decide(userCode, ytApproved) }

// DenyCode denies the device user code userCode: polls then answer 403
// access_denied. It reports false if no such code is pending.
func (y *YouTube) DenyCode(userCode string) bool { return y.decide(userCode, ytDenied) }

func (y *YouTube) decide(userCode string, d ytDecision) bool {
	y.mu.Lock()
	defer y.mu.Unlock()
	now := y.nowLocked()
	for _, dev := range y.devices {
		if dev.userCode == userCode && dev.state == ytPending && now.Before(dev.expires) {
			dev.state = d
			return true
		}
	}
	return false
}

// RevokeToken ends the project's grants, as when the user removes the app
// at myaccount.google.com: every access and refresh token of every client
// of the project dies, whichever token is named. An unknown token is
// ignored.
func (y *YouTube) RevokeToken(token string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.access[token] != nil || y.refresh[token] != nil {
		y.revokeAllLocked()
	}
}

// ExpireAccessToken makes the access token token invalid at once, as an
// early expiry: the API answers it 401 authError, and the refresh token
// still works. An unknown token is ignored.
func (y *YouTube) ExpireAccessToken(token string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	delete(y.access, token)
}

// FailTokenCalls makes the next n requests to /token or /device/code fail
// as mode says: Fail5xx answers 503 {"error":"server_error",...}, FailHTML
// a 502 HTML page. Such a request is counted but consumes no code and
// mints no token. n <= 0 turns failures off.
func (y *YouTube) FailTokenCalls(n int, mode FailMode) { y.failTokenCalls(n, mode) }

// SetLatency makes every request to /token or /device/code wait d, in
// real time, before it is answered; one whose client goes away first is
// abandoned.
func (y *YouTube) SetLatency(d time.Duration) { y.setLatency(d) }

// IssueToken opens a grant of the Web client without any flow and returns
// its access and refresh tokens, with scopes (none means youtube.readonly).
func (y *YouTube) IssueToken(scopes ...string) (access, refresh string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	scope := strings.Join(scopes, " ")
	if scope == "" {
		scope = ytScopeReadOnly
	}
	now := y.nowLocked()
	g := y.grantLocked(y.ClientID, now, strings.Fields(scope))
	refresh = y.newRefreshLocked(g, scope)
	return y.newAccessLocked(y.ClientID, scope, now), refresh
}

// RestoreToken makes the fake accept tokens it issued, as when tokens
// saved by an earlier fake are used again: access (valid until expiry;
// zero means 3599 s from now) and refresh, of the Web client, with scopes
// (none means youtube.readonly). Either may be "".
func (y *YouTube) RestoreToken(access, refresh string, expiry time.Time, scopes ...string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	scope := strings.Join(scopes, " ")
	if scope == "" {
		scope = ytScopeReadOnly
	}
	now := y.nowLocked()
	if expiry.IsZero() {
		expiry = now.Add(ytAccessTTL)
	}
	g := y.grantLocked(y.ClientID, now, strings.Fields(scope))
	if refresh != "" && y.refresh[refresh] == nil {
		g.tokens = append(g.tokens, refresh)
		y.refresh[refresh] = &ytRefresh{grant: g, scope: scope}
	}
	if access != "" {
		y.access[access] = &ytAccess{client: y.ClientID, scope: scope, expires: expiry}
	}
}

// TokenCalls returns how many requests reached /token, whatever their
// grant and outcome.
func (y *YouTube) TokenCalls() int { return y.count(&y.tokenCalls) }

// Exchanges returns how many authorization_code grants reached /token.
func (y *YouTube) Exchanges() int { return y.count(&y.exchanges) }

// Refreshes returns how many refresh_token grants reached /token.
func (y *YouTube) Refreshes() int { return y.count(&y.refreshes) }

// DeviceStarts returns how many requests reached /device/code.
func (y *YouTube) DeviceStarts() int { return y.count(&y.deviceStarts) }

// DevicePolls returns how many device_code grants reached /token.
func (y *YouTube) DevicePolls() int { return y.count(&y.devicePolls) }

// Revocations returns how many requests reached /revoke.
func (y *YouTube) Revocations() int { return y.count(&y.revocations) }

// APICalls returns how many requests reached /youtube/v3/.
func (y *YouTube) APICalls() int { return y.count(&y.apiCalls) }

// Malformed returns how many requests were refused for a parameter Google
// requires that was missing or malformed: a token request without
// client_id or client_secret, or not form-encoded; an unknown grant type;
// an authorize request without client_id, response_type=code, scope or
// an accepted redirect_uri, or with a bad code_challenge_method,
// access_type or prompt; an exchange whose redirect_uri differs; a device
// start without scope or with one Google does not allow there; a
// revocation without token; an API call without any credential.
func (y *YouTube) Malformed() int { return y.count(&y.malformed) }

// Consents returns how many times the consent screen was shown (code and
// device flows).
func (y *YouTube) Consents() int { return y.count(&y.consents) }

// RefreshTokensIssued returns how many refresh tokens the fake issued.
func (y *YouTube) RefreshTokensIssued() int { return y.count(&y.refreshIssued) }

// LiveRefreshTokens returns how many refresh tokens of the Web client's
// grant are alive (at most 100).
func (y *YouTube) LiveRefreshTokens() int {
	y.mu.Lock()
	defer y.mu.Unlock()
	if g := y.grants[y.ClientID]; g != nil && !y.grantDeadLocked(g, y.nowLocked()) {
		return len(g.tokens)
	}
	return 0
}

// PlainChallenges returns how many authorize requests carried a PKCE
// challenge of method plain, or without code_challenge_method (which
// Google reads as plain).
func (y *YouTube) PlainChallenges() int { return y.count(&y.plainChallenges) }

// QueryTokens returns how many API calls carried the access token in the
// access_token query parameter (Google accepts it, and discourages it).
func (y *YouTube) QueryTokens() int { return y.count(&y.queryTokens) }

// APIBodies returns a copy of the bodies of the API calls received, in
// order (an empty slice for a request without one).
func (y *YouTube) APIBodies() [][]byte { return y.bodies() }

// LastTokenForm returns a copy of the form of the most recent POST to
// /token, /device/code or /revoke, or nil. Basic credentials are not
// included.
func (y *YouTube) LastTokenForm() url.Values { return y.tokenForm() }

// LastAuthorizeQuery returns a copy of the query of the most recent
// request to the consent page, or nil.
func (y *YouTube) LastAuthorizeQuery() url.Values { return y.authorizeQuery() }

// LastRequestHeader returns a copy of the header of the most recent
// request to APIURL (any path), or nil.
func (y *YouTube) LastRequestHeader() http.Header {
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.lastRequest == nil {
		return nil
	}
	return y.lastRequest.Header.Clone()
}

// --- shared pieces ---

func (y *YouTube) oauthErr(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, ytJSON, ytOAuthError{Error: code, Description: desc})
}

// apiErr writes Google's API error envelope.
func ytAPIErr(w http.ResponseWriter, status int, reason, domain, message, statusName string) {
	item := ytAPIErrorItem{Message: message, Domain: domain, Reason: reason}
	writeJSON(w, status, ytJSON, ytAPIError{Error: ytAPIErrorBody{Code: status, Message: message, Errors: []ytAPIErrorItem{item}, Status: statusName}})
}

func (y *YouTube) grantLocked(client string, now time.Time, scopes []string) *ytGrant {
	g := y.grants[client]
	if g == nil || y.grantDeadLocked(g, now) {
		if g != nil {
			y.dropGrantLocked(g)
		}
		g = &ytGrant{client: client}
		if y.testing {
			g.expires = now.Add(ytTestingLife)
		}
		y.grants[client] = g
	}
	for _, s := range scopes {
		if !slices.Contains(g.scopes, s) {
			g.scopes = append(g.scopes, s)
		}
	}
	return g
}

func (y *YouTube) grantDeadLocked(g *ytGrant, now time.Time) bool {
	return !g.expires.IsZero() && !now.Before(g.expires)
}

func (y *YouTube) dropGrantLocked(g *ytGrant) {
	for _, t := range g.tokens {
		delete(y.refresh, t)
	}
	g.tokens = nil
	if y.grants[g.client] == g {
		delete(y.grants, g.client)
	}
}

func (y *YouTube) revokeAllLocked() {
	for _, g := range y.grants {
		y.dropGrantLocked(g)
	}
	clear(y.access)
}

// newRefreshLocked issues a refresh token of g; the 101st kills the
// oldest, without warning [C].
func (y *YouTube) newRefreshLocked(g *ytGrant, scope string) string {
	t := "1//fake-rt-" + randomHex(24)
	if len(g.tokens) >= ytMaxRefresh {
		delete(y.refresh, g.tokens[0])
		g.tokens = g.tokens[1:]
	}
	g.tokens = append(g.tokens, t)
	y.refresh[t] = &ytRefresh{grant: g, scope: scope}
	y.refreshIssued++
	return t
}

func (y *YouTube) newAccessLocked(client, scope string, now time.Time) string {
	t := "ya29.fake-" + randomHex(24)
	makeRoom(y.access, func(a *ytAccess) bool { return !now.Before(a.expires) }, nil)
	y.access[t] = &ytAccess{client: client, scope: scope, expires: now.Add(ytAccessTTL)}
	return t
}

func (y *YouTube) tokenAnswerLocked(w http.ResponseWriter, client, scope, refresh string, g *ytGrant, now time.Time) {
	j := ytTokenJSON{AccessToken: y.newAccessLocked(client, scope, now), ExpiresIn: int(ytAccessTTL / time.Second),
		RefreshToken: refresh, Scope: scope, TokenType: "Bearer"}
	if g != nil && !g.expires.IsZero() {
		j.RefreshTokenExpiresIn = int(g.expires.Sub(now) / time.Second)
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	writeJSON(w, http.StatusOK, ytJSON, j)
}

// withholdLocked drops the withheld scope from granted.
func (y *YouTube) withholdLocked(granted []string) []string {
	if y.withhold == "" {
		return granted
	}
	return slices.DeleteFunc(slices.Clone(granted), func(s string) bool { return s == y.withhold })
}

// --- the API host ---

// ytEndpoint names what a path of the API host serves.
type ytEndpoint int

const (
	ytNone ytEndpoint = iota
	ytToken
	ytDeviceCode
	ytRevoke
	ytAPI
)

func ytClassify(p string) ytEndpoint {
	switch {
	case p == "/token":
		return ytToken
	case p == "/device/code":
		return ytDeviceCode
	case p == "/revoke":
		return ytRevoke
	case strings.HasPrefix(p, "/youtube/v3/"):
		return ytAPI
	}
	return ytNone
}

// ytBody is a parsed OAuth endpoint body.
type ytBody struct {
	fields url.Values
	form   bool // application/x-www-form-urlencoded, parsed
}

func ytReadForm(w http.ResponseWriter, r *http.Request) ytBody {
	b := ytBody{fields: url.Values{}}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ytMaxBody))
	if err != nil {
		return b
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(raw)); err == nil {
			b.fields, b.form = v, true
		}
	} else if len(raw) == 0 {
		b.form = true // no body at all: nothing to misread
	}
	return b
}

func (y *YouTube) serveAPI(w http.ResponseWriter, r *http.Request) {
	ep := ytClassify(r.URL.Path)
	var body ytBody
	var apiBody []byte
	switch ep {
	case ytToken, ytDeviceCode, ytRevoke:
		body = ytReadForm(w, r)
	case ytAPI:
		apiBody, _ = io.ReadAll(http.MaxBytesReader(w, r.Body, ytMaxBody))
	}
	y.mu.Lock()
	y.recordLocked(r, apiBody)
	switch ep {
	case ytToken:
		y.tokenCalls++
		switch body.fields.Get("grant_type") {
		case ytGrantCode:
			y.exchanges++
		case ytGrantRefresh:
			y.refreshes++
		case ytGrantDevice:
			y.devicePolls++
		}
	case ytDeviceCode:
		y.deviceStarts++
	case ytRevoke:
		y.revocations++
	case ytAPI:
		y.apiCalls++
		y.apiBodies = append(y.apiBodies, apiBody)
	}
	if r.Method == http.MethodPost && ep != ytAPI && ep != ytNone {
		y.lastTokenForm = cloneValues(body.fields)
	}
	var fail bool
	var mode FailMode
	var latency time.Duration
	if ep == ytToken || ep == ytDeviceCode {
		fail, mode = y.takeFailLocked()
		latency = y.latency
	}
	y.mu.Unlock()

	if !y.wait(r.Context(), latency) {
		panic(http.ErrAbortHandler)
	}
	if fail {
		if mode == FailHTML {
			writeHTMLFailure(w)
		} else {
			y.oauthErr(w, http.StatusServiceUnavailable, "server_error", "The fake YouTube fails on purpose (FailTokenCalls).")
		}
		return
	}
	switch ep {
	case ytToken, ytDeviceCode, ytRevoke:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			y.malformedAnswer(w, http.StatusMethodNotAllowed, "invalid_request", "Use POST.")
			return
		}
		if !body.form {
			y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded.")
			return
		}
		switch ep {
		case ytToken:
			y.serveToken(w, r, body.fields)
		case ytDeviceCode:
			y.serveDevice(w, r, body.fields)
		default:
			y.serveRevoke(w, r, body.fields)
		}
	case ytAPI:
		y.serveYouTube(w, r, apiBody)
	default:
		ytAPIErr(w, http.StatusNotFound, "notFound", "global", "Not Found", "NOT_FOUND")
	}
}

// malformedAnswer counts a malformed request and answers an OAuth error.
func (y *YouTube) malformedAnswer(w http.ResponseWriter, status int, code, desc string) {
	y.mu.Lock()
	y.malformed++
	y.mu.Unlock()
	y.oauthErr(w, status, code, desc)
}

// client authenticates a token request: client_id and client_secret in
// the body, or Basic. It answers and returns "" when they fail.
func (y *YouTube) client(w http.ResponseWriter, r *http.Request, f url.Values, needSecret bool) string {
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if bu, bp, ok := r.BasicAuth(); ok {
		bu, _ = url.QueryUnescape(bu) // [S] discovery lists client_secret_basic; RFC 6749 §2.3.1 encoding
		bp, _ = url.QueryUnescape(bp)
		if id == "" {
			id = bu
		}
		if secret == "" {
			secret = bp
		}
	}
	if id == "" {
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "Could not determine client ID from request.")
		return ""
	}
	want, ok := map[string]string{y.ClientID: y.ClientSecret, y.TVClientID: y.TVClientSecret}[id]
	if !ok {
		y.oauthErr(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return ""
	}
	if !needSecret {
		return id
	}
	if secret == "" { // [C] staff: Web, Desktop and TV clients must send it, PKCE or not
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", ytMsgNoSecret)
		return ""
	}
	if secret != want {
		y.oauthErr(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return ""
	}
	return id
}

func (y *YouTube) serveToken(w http.ResponseWriter, r *http.Request, f url.Values) {
	client := y.client(w, r, f, true)
	if client == "" {
		return
	}
	switch f.Get("grant_type") {
	case ytGrantCode:
		y.exchange(w, client, f)
	case ytGrantRefresh:
		y.refreshGrant(w, client, f)
	case ytGrantDevice:
		y.devicePoll(w, client, f)
	case "":
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type")
	default:
		y.malformedAnswer(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+f.Get("grant_type"))
	}
}

func (y *YouTube) exchange(w http.ResponseWriter, client string, f url.Values) {
	y.mu.Lock()
	now := y.nowLocked()
	c := y.codes[f.Get("code")]
	delete(y.codes, f.Get("code")) // single use, even when the exchange fails [I]
	y.mu.Unlock()
	switch {
	case f.Get("code") == "":
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: code")
		return
	case c == nil || !now.Before(c.expires) || c.client != client:
		y.oauthErr(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
		return
	case f.Get("redirect_uri") != c.redirectURI:
		y.malformedAnswer(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
		return
	case c.challenge != "" && f.Get("code_verifier") == "":
		y.oauthErr(w, http.StatusBadRequest, "invalid_grant", "Missing code verifier.")
		return
	case c.challenge != "" && !ytPKCE(c.method, c.challenge, f.Get("code_verifier")):
		y.oauthErr(w, http.StatusBadRequest, "invalid_grant", "Invalid code verifier.")
		return
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	g := y.grants[client]
	if g == nil || y.grantDeadLocked(g, now) { // revoked, or expired, since the consent
		y.oauthErr(w, http.StatusBadRequest, "invalid_grant", "Bad Request")
		return
	}
	refresh := ""
	if c.offline && c.consent { // [C] only with access_type=offline, and a consent screen
		refresh = y.newRefreshLocked(g, c.scope)
	}
	y.tokenAnswerLocked(w, client, c.scope, refresh, g, now)
}

// ytPKCE checks a verifier against the recorded challenge (RFC 7636 §4.6).
func ytPKCE(method, challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	if method == "plain" {
		return verifier == challenge
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func (y *YouTube) refreshGrant(w http.ResponseWriter, client string, f url.Values) {
	rt := f.Get("refresh_token")
	if rt == "" {
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token")
		return
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	now := y.nowLocked()
	ref := y.refresh[rt]
	if ref == nil || ref.grant.client != client || y.grantDeadLocked(ref.grant, now) {
		y.oauthErr(w, http.StatusBadRequest, "invalid_grant", ytMsgRevoked) // [S] captured
		return
	}
	if y.raptN > 0 {
		y.raptN--
		writeJSON(w, http.StatusBadRequest, ytJSON, ytOAuthError{Error: "invalid_grant",
			Description: "reauth related error (invalid_rapt)", Subtype: "invalid_rapt"}) // [S] captured
		return
	}
	next := "" // [C] Google's refresh answers carry no refresh_token
	if y.rotate {
		g := ref.grant
		delete(y.refresh, rt)
		g.tokens = slices.DeleteFunc(g.tokens, func(t string) bool { return t == rt })
		next = y.newRefreshLocked(g, ref.scope)
	}
	var g *ytGrant
	if !ref.grant.expires.IsZero() {
		g = ref.grant // [I] refresh_token_expires_in on refreshes too
	}
	y.tokenAnswerLocked(w, client, ref.scope, next, g, now)
}

func (y *YouTube) serveDevice(w http.ResponseWriter, r *http.Request, f url.Values) {
	client := y.client(w, r, f, false)
	if client == "" {
		return
	}
	if client != y.TVClientID {
		y.oauthErr(w, http.StatusUnauthorized, "invalid_client", "Invalid client type.") // [C] "The OAuth client type is incorrect"
		return
	}
	y.mu.Lock()
	quota := y.deviceQuotaN > 0
	if quota {
		y.deviceQuotaN--
	}
	y.mu.Unlock()
	if quota {
		writeJSON(w, http.StatusForbidden, ytJSON, map[string]string{"error_code": "rate_limit_exceeded"}) // [C] error_code, not error
		return
	}
	scopes := strings.Fields(f.Get("scope"))
	if len(scopes) == 0 {
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: scope")
		return
	}
	for _, s := range scopes {
		if !slices.Contains(ytDeviceScopes, s) {
			y.malformedAnswer(w, http.StatusBadRequest, "invalid_scope", "Not authorized to request the scopes: ["+s+"]")
			return
		}
	}
	y.mu.Lock()
	now := y.nowLocked()
	makeRoom(y.devices, func(d *ytDevice) bool { return !now.Before(d.expires) }, nil)
	dc := "4/fake-" + randomHex(20)
	uc := userCode(4) + "-" + userCode(4)
	y.devices[dc] = &ytDevice{client: client, userCode: uc, scope: strings.Join(scopes, " "), expires: now.Add(ytDeviceTTL), interval: ytDeviceInterval}
	verify := y.verify
	if verify == "" {
		verify = y.WebURL + "/device"
	}
	y.mu.Unlock()
	writeJSON(w, http.StatusOK, ytJSON, map[string]any{
		"device_code": dc, "user_code": uc, "verification_url": verify,
		"expires_in": int(ytDeviceTTL / time.Second), "interval": int(ytDeviceInterval / time.Second),
	})
}

func (y *YouTube) devicePoll(w http.ResponseWriter, client string, f url.Values) {
	y.mu.Lock()
	defer y.mu.Unlock()
	now := y.nowLocked()
	d := y.devices[f.Get("device_code")]
	switch {
	case f.Get("device_code") == "":
		y.malformed++
		y.oauthErr(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: device_code")
		return
	case d == nil || d.client != client:
		y.oauthErr(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
		return
	case !now.Before(d.expires): // [I] expired_token or invalid_grant: not documented
		delete(y.devices, f.Get("device_code"))
		y.oauthErr(w, http.StatusBadRequest, "expired_token", "Expired device code.")
		return
	}
	fast := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval
	d.lastPoll = now
	switch {
	case d.state == ytDenied:
		delete(y.devices, f.Get("device_code"))
		y.oauthErr(w, http.StatusForbidden, "access_denied", "Forbidden") // [C] 403, as slow_down
	case fast:
		d.interval += 5 * time.Second // [I] RFC 8628 §3.5
		y.oauthErr(w, http.StatusForbidden, "slow_down", "Forbidden")
	case d.state == ytPending:
		y.oauthErr(w, http.StatusPreconditionRequired, "authorization_pending", "Precondition Required") // [C] 428
	default:
		delete(y.devices, f.Get("device_code"))
		granted := y.withholdLocked(strings.Fields(d.scope))
		g := y.grantLocked(client, now, granted)
		if y.testing {
			g.expires = now.Add(ytTestingLife)
		}
		y.consents++
		scope := strings.Join(granted, " ")
		y.tokenAnswerLocked(w, client, scope, y.newRefreshLocked(g, scope), g, now) // [C] always a refresh token
	}
}

func (y *YouTube) serveRevoke(w http.ResponseWriter, r *http.Request, f url.Values) {
	tok := f.Get("token")
	if tok == "" {
		tok = r.URL.Query().Get("token") // [C] Google's example sends it in the query
	}
	if tok == "" {
		y.malformedAnswer(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: token")
		return
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	now := y.nowLocked()
	a, ref := y.access[tok], y.refresh[tok]
	if (a == nil || !now.Before(a.expires)) && ref == nil {
		y.oauthErr(w, http.StatusBadRequest, "invalid_token", "Token expired or revoked") // [S]
		return
	}
	y.revokeAllLocked() // [C] every scope granted to the project, for all its clients
	writeJSON(w, http.StatusOK, ytJSON, map[string]any{})
}

// --- the YouTube Data API ---

// ytRoute is one API route: its method, cost in units, and the scopes of
// which it needs one.
type ytRoute struct {
	method string
	cost   int
	scopes []string
	write  bool
}

var ytReadScopes = []string{ytScopeYouTube, ytScopeReadOnly, ytScopeForceSSL, ytScopePartner}

func ytRouteOf(r *http.Request) (ytRoute, bool) {
	switch r.URL.Path {
	case "/youtube/v3/channels", "/youtube/v3/videos":
		return ytRoute{method: http.MethodGet, cost: 1, scopes: ytReadScopes}, true // [C] list: 1 unit
	case "/youtube/v3/search":
		return ytRoute{method: http.MethodGet, cost: 100, scopes: ytReadScopes}, true // [C] search.list: 100 units
	case "/youtube/v3/playlists":
		if r.Method == http.MethodPost {
			return ytRoute{method: http.MethodPost, cost: 50, scopes: []string{ytScopeYouTube, ytScopeForceSSL, ytScopePartner}, write: true}, true // [C] insert: 50 units
		}
		return ytRoute{method: http.MethodGet, cost: 1, scopes: ytReadScopes}, true
	}
	return ytRoute{}, false
}

// ytPacificDay is the date in Pacific Time at t, the quota's day [C]: PDT
// from the second Sunday of March to the first Sunday of November (US
// rule since 2007), PST otherwise.
func ytPacificDay(t time.Time) string {
	u := t.UTC()
	yr := u.Year()
	sunday := func(m time.Month, n int) int {
		first := time.Date(yr, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
		return 1 + (7-int(first))%7 + 7*(n-1)
	}
	start := time.Date(yr, time.March, sunday(time.March, 2), 10, 0, 0, 0, time.UTC)
	end := time.Date(yr, time.November, sunday(time.November, 1), 9, 0, 0, 0, time.UTC)
	off := -8 * time.Hour
	if !u.Before(start) && u.Before(end) {
		off = -7 * time.Hour
	}
	return u.Add(off).Format("2006-01-02")
}

// quotaRollLocked resets the quota when the Pacific day changed.
func (y *YouTube) quotaRollLocked() {
	if day := ytPacificDay(y.nowLocked()); day != y.quotaDay {
		y.quotaDay, y.quotaUsed = day, 0
	}
}

func (y *YouTube) serveYouTube(w http.ResponseWriter, r *http.Request, body []byte) {
	route, known := ytRouteOf(r)
	tok, hasBearer := bearer(r)
	if !hasBearer {
		if q := r.URL.Query().Get("access_token"); q != "" {
			tok = q
			y.mu.Lock()
			y.queryTokens++
			y.mu.Unlock()
		}
	}
	if tok == "" {
		y.mu.Lock()
		y.malformed++
		y.mu.Unlock()
		w.Header().Set("WWW-Authenticate", ytRealm) // [S] no error attribute
		writeJSON(w, http.StatusUnauthorized, ytJSON, ytAPIError{Error: ytAPIErrorBody{Code: 401, Message: ytMsgMissingCreds,
			Errors: []ytAPIErrorItem{{Message: "Login Required.", Domain: "global", Reason: "required", Location: "Authorization", LocationType: "header"}},
			Status: "UNAUTHENTICATED",
			Details: []map[string]any{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CREDENTIALS_MISSING",
				"domain": "googleapis.com", "metadata": map[string]string{"service": "youtube.googleapis.com"}}}}})
		return
	}
	y.mu.Lock()
	now := y.nowLocked()
	a := y.access[tok]
	valid := a != nil && now.Before(a.expires)
	if !valid {
		y.mu.Unlock()
		w.Header().Set("WWW-Authenticate", ytRealm+`, error="invalid_token"`) // [S]
		writeJSON(w, http.StatusUnauthorized, ytJSON, ytAPIError{Error: ytAPIErrorBody{Code: 401, Message: ytMsgInvalidCreds,
			Errors: []ytAPIErrorItem{{Message: "Invalid Credentials", Domain: "global", Reason: "authError", Location: "Authorization", LocationType: "header"}},
			Status: "UNAUTHENTICATED"}})
		return
	}
	y.quotaRollLocked()
	if y.quotaUsed >= y.quotaLimit {
		y.mu.Unlock()
		ytAPIErr(w, http.StatusForbidden, "quotaExceeded", "youtube.quota", ytMsgQuota, "") // [S] captured
		return
	}
	y.quotaUsed++ // [C] every request costs at least one unit, failed ones too
	throttled, kind := y.rateN > 0, y.rateKind
	if throttled {
		y.rateN--
	}
	scope, noChannel := a.scope, y.noChannel
	y.mu.Unlock()

	if throttled {
		if kind == YouTubeRateLimit429 {
			w.Header().Set("Retry-After", "3")
			ytAPIErr(w, http.StatusTooManyRequests, "rateLimitExceeded", "usageLimits", "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED")
		} else {
			ytAPIErr(w, http.StatusForbidden, "rateLimitExceeded", "usageLimits", "Rate Limit Exceeded", "PERMISSION_DENIED")
		}
		return
	}
	if !known {
		ytAPIErr(w, http.StatusNotFound, "notFound", "global", "Not Found", "NOT_FOUND")
		return
	}
	if r.Method != route.method {
		ytAPIErr(w, http.StatusMethodNotAllowed, "methodNotAllowed", "global", "Method Not Allowed", "")
		return
	}
	if !slices.ContainsFunc(strings.Fields(scope), func(s string) bool { return slices.Contains(route.scopes, s) }) {
		w.Header().Set("WWW-Authenticate", ytRealm+`, error="insufficient_scope", scope="`+strings.Join(route.scopes, " ")+`"`) // [S]
		ytAPIErr(w, http.StatusForbidden, "insufficientPermissions", "global", "Request had insufficient authentication scopes.", "PERMISSION_DENIED")
		return
	}
	q := r.URL.Query()
	if q.Get("part") == "" {
		ytAPIErr(w, http.StatusBadRequest, "missingRequiredParameter", "youtube.parameter", "No filter selected. Expected one of: part", "INVALID_ARGUMENT") // [I] text
		return
	}
	if route.write && noChannel {
		ytAPIErr(w, http.StatusUnauthorized, "youtubeSignupRequired", "youtube.header", "Unauthorized", "") // [S]
		return
	}
	y.mu.Lock()
	y.quotaUsed += route.cost - 1
	y.mu.Unlock()
	channel := map[string]any{"kind": "youtube#channel", "etag": "fake-etag", "id": ytChannelID,
		"snippet": map[string]any{"title": ytChannelTitle, "description": "A fake channel."}}
	switch r.URL.Path {
	case "/youtube/v3/channels":
		items := []any{channel}
		if noChannel && q.Get("mine") == "true" {
			items = nil // [S] an unlinked Google account has no channel
		}
		resp := map[string]any{"kind": "youtube#channelListResponse", "etag": "fake-etag",
			"pageInfo": map[string]int{"totalResults": len(items), "resultsPerPage": 5}}
		if items != nil {
			resp["items"] = items
		}
		writeJSON(w, http.StatusOK, ytJSON, resp)
	case "/youtube/v3/playlists":
		if route.write {
			var p struct {
				Snippet struct {
					Title string `json:"title"`
				} `json:"snippet"`
			}
			if json.Unmarshal(body, &p) != nil || p.Snippet.Title == "" {
				ytAPIErr(w, http.StatusBadRequest, "playlistTitleRequired", "youtube.playlist", "The request must specify a playlist title.", "INVALID_ARGUMENT")
				return
			}
			writeJSON(w, http.StatusOK, ytJSON, map[string]any{"kind": "youtube#playlist", "id": "PLfake" + randomHex(8),
				"snippet": map[string]any{"title": p.Snippet.Title, "channelId": ytChannelID}})
			return
		}
		writeJSON(w, http.StatusOK, ytJSON, map[string]any{"kind": "youtube#playlistListResponse", "items": []any{}})
	case "/youtube/v3/search":
		writeJSON(w, http.StatusOK, ytJSON, map[string]any{"kind": "youtube#searchListResponse", "items": []any{
			map[string]any{"kind": "youtube#searchResult", "id": map[string]string{"kind": "youtube#video", "videoId": "fakeVideo01"}}}})
	case "/youtube/v3/videos":
		writeJSON(w, http.StatusOK, ytJSON, map[string]any{"kind": "youtube#videoListResponse", "items": []any{
			map[string]any{"kind": "youtube#video", "id": "fakeVideo01", "snippet": map[string]any{"title": "A fake video", "channelId": ytChannelID}}}})
	}
}

// --- the web host ---

func (y *YouTube) serveWeb(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/o/oauth2/v2/auth", "/o/oauth2/auth":
		q := r.URL.Query()
		y.mu.Lock()
		y.lastAuthorizeQuery = cloneValues(q)
		y.mu.Unlock()
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			ytPage(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		y.authorize(w, q)
	case "/device":
		ytPage(w, http.StatusOK, "Enter the code displayed on your device") // [C] www.google.com/device
	default:
		ytPage(w, http.StatusNotFound, "404. That's an error.")
	}
}

func ytPage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	t := html.EscapeString(text)
	io.WriteString(w, "<!DOCTYPE html><html><head><title>"+t+"</title></head><body><p>"+t+"</p></body></html>\n")
}

// authorizeProblem answers a consent request Google shows as an error page
// (it never redirects an untrusted redirect_uri), and counts it.
func (y *YouTube) authorizeProblem(w http.ResponseWriter, code, text string) {
	y.mu.Lock()
	y.malformed++
	y.mu.Unlock()
	ytPage(w, http.StatusBadRequest, "Error 400: "+code+" — "+text)
}

// redirectAllowed reports whether u may receive the Web/Desktop client's
// redirect: a registered URI, or http on a loopback host with a port [C]
// (any port: RFC 8252 §7.3).
func (y *YouTube) redirectAllowed(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return nil, false
	}
	if slices.Contains(y.RedirectURIs, raw) {
		return u, true
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	loop := h == "localhost" || ip != nil && ip.IsLoopback()
	return u, u.Scheme == "http" && loop && u.Port() != ""
}

func (y *YouTube) authorize(w http.ResponseWriter, q url.Values) {
	switch {
	case q.Get("client_id") == "":
		y.authorizeProblem(w, "invalid_request", "Missing required parameter: client_id")
		return
	case q.Get("client_id") != y.ClientID:
		y.authorizeProblem(w, "invalid_client", "The OAuth client was not found.")
		return
	}
	redirect, ok := y.redirectAllowed(q.Get("redirect_uri"))
	if !ok {
		y.authorizeProblem(w, "redirect_uri_mismatch", "The redirect URI in the request does not match the ones authorized for the OAuth client.")
		return
	}
	method := q.Get("code_challenge_method")
	prompts := strings.Fields(q.Get("prompt"))
	switch {
	case q.Get("response_type") != "code":
		y.authorizeProblem(w, "unsupported_response_type", "response_type must be code")
		return
	case strings.TrimSpace(q.Get("scope")) == "":
		y.authorizeProblem(w, "invalid_request", "Missing required parameter: scope")
		return
	case method != "" && method != "plain" && method != "S256":
		y.authorizeProblem(w, "invalid_request", "Invalid code_challenge_method value.")
		return
	case method != "" && q.Get("code_challenge") == "":
		y.authorizeProblem(w, "invalid_request", "Missing code_challenge.")
		return
	case q.Get("access_type") != "" && q.Get("access_type") != "online" && q.Get("access_type") != "offline":
		y.authorizeProblem(w, "invalid_request", "Invalid access_type: "+q.Get("access_type"))
		return
	case slices.Contains(prompts, "none") && len(prompts) > 1: // [S] "Must not be specified with other values"
		y.authorizeProblem(w, "invalid_request", "prompt=none must not be combined with other values")
		return
	case slices.ContainsFunc(prompts, func(p string) bool { return p != "none" && p != "consent" && p != "select_account" }):
		y.authorizeProblem(w, "invalid_request", "Invalid prompt value.")
		return
	}
	if q.Get("code_challenge") != "" && method != "S256" {
		method = "plain" // [C] "defaults to plain if not present"
		y.mu.Lock()
		y.plainChallenges++
		y.mu.Unlock()
	}
	tail := ""
	if st := q.Get("state"); st != "" {
		tail = "&state=" + url.QueryEscape(st)
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	now := y.nowLocked()
	if y.deny {
		ytRedirect(w, redirect, "error=access_denied"+tail) // [C]
		return
	}
	requested := strings.Fields(q.Get("scope"))
	g := y.grants[y.ClientID]
	if g != nil && y.grantDeadLocked(g, now) {
		g = nil
	}
	covered := g != nil && !slices.ContainsFunc(requested, func(s string) bool { return !slices.Contains(g.scopes, s) })
	consent := slices.Contains(prompts, "consent") || !covered
	if consent && slices.Contains(prompts, "none") {
		ytRedirect(w, redirect, "error=consent_required"+tail) // [I] OpenID Connect's answer
		return
	}
	granted := requested
	if consent {
		y.consents++
		granted = y.withholdLocked(requested)
		if len(granted) == 0 {
			ytRedirect(w, redirect, "error=access_denied"+tail)
			return
		}
	}
	g = y.grantLocked(y.ClientID, now, granted)
	if consent && y.testing {
		g.expires = now.Add(ytTestingLife) // [S] "seven days from the time of consent"
	}
	scope := strings.Join(granted, " ")
	if q.Get("include_granted_scopes") == "true" {
		scope = strings.Join(g.scopes, " ")
	}
	code := "4/0fake-" + randomHex(20)
	makeRoom(y.codes, func(c *ytCode) bool { return !now.Before(c.expires) }, nil)
	y.codes[code] = &ytCode{client: y.ClientID, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), method: method,
		scope: scope, offline: q.Get("access_type") == "offline", consent: consent, expires: now.Add(ytCodeTTL)}
	shown := "none"
	if consent {
		shown = "consent"
	}
	// [C]/[S] Google's redirect: code, state, the granted scope, and its own authuser and prompt.
	ytRedirect(w, redirect, "code="+url.QueryEscape(code)+tail+"&scope="+url.QueryEscape(scope)+"&authuser=0&prompt="+shown)
}

// ytRedirect answers 302 to redirect with params appended to its query.
func ytRedirect(w http.ResponseWriter, redirect *url.URL, params string) {
	u := *redirect
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += params
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}
