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
	"strconv"
	"strings"
	"time"
)

// RateLimit selects the answer RateLimitNext makes API calls give.
type RateLimit int

const (
	// RateLimit429 answers 429 {"error":"rate_limit","code":429} with
	// Retry-After: 7, as Simkl does past 10 GET/s (docs/simkl.md#rate-limits).
	RateLimit429 RateLimit = iota
	// RateLimit412 answers 412 {"error":"client_id_failed","code":412,...},
	// the throttling block Simkl starts past 1 POST/s: not a 429.
	RateLimit412
	// RateLimitWriteLock answers 400 {"error":"RATE_LIMIT","code":400,...},
	// the 20-second per-user write lock on scrobble and sync: not a 429.
	RateLimitWriteLock
)

const (
	simklJSON = "application/json"

	simklUserID      = 4242
	simklV1TTL       = 157680000 * time.Second // [C] 5 years
	simklCodeTTL     = 10 * time.Minute        // [I] "codes are short-lived"
	simklPINTTL      = 900 * time.Second       // [C]
	simklPINInterval = 5 * time.Second         // [C]
	simklDeviceTTL   = 900 * time.Second       // [I] as the V1 PIN
	simklDeviceStep  = 5 * time.Second         // [I] interval; RFC 8628 §3.5's +5 s on slow_down
	simklAccessTTL   = 7 * 24 * time.Hour      // [S] 604800 s
	simklRefreshTTL  = 180 * 24 * time.Hour    // [S] sliding
	simklRetryAfter  = "7"
	simklMaxBody     = 1 << 20
	simklMaxAPIBody  = 8 << 20

	simklScopeRead  = "media:read"
	simklScopeWrite = "media:write"

	simklGrantCode    = "authorization_code"
	simklGrantRefresh = "refresh_token"
	simklGrantDevice  = "urn:ietf:params:oauth:grant-type:device_code"

	// [C] captured envelope texts (docs/simkl.md#error-codes).
	simklMsgClientID      = "Your client_id is wrong. Try another one"
	simklMsgTokenRequired = "This client_id requires a user access token on every request"
	simklMsgCodeInvalid   = "Authorization code is invalid, expired, or already used"
)

// Simkl is a fake of Simkl's two auth generations and of a few API routes,
// served by two httptest.Servers: WebURL stands for https://simkl.com (the
// browser consent pages) and APIURL for https://api.simkl.com (everything
// programmatic). It follows docs/simkl.md:
//
//   - every request must carry the query parameters client_id (or the
//     simkl-api-key header), app-name and app-version, and a User-Agent
//     header; otherwise it gets 412 client_id_failed (MissingParams counts it);
//   - AUTH V1 (ClientID): /oauth/authorize on the web host, /oauth/token
//     (form or JSON, credentials in the body or Basic) and the PIN flow
//     /oauth/pin, /oauth/pin/{user_code} on the API host, with Simkl's own
//     error codes, codes burnt by any exchange attempt, one never-refreshed
//     token per user, a case-sensitive PKCE method and the "new code" trap;
//     a PKCE request without redirect_uri ends on a page showing the code
//     (ShownCode), which is exchanged without redirect_uri;
//   - AUTH V2 (V2ClientID): /oauth2/authorize (S256 only, iss on the
//     redirect, error=access_denied on denial), /oauth2/token (form only,
//     credentials in the body only; authorization_code, refresh_token and
//     RFC 8628 device_code grants), /oauth2/device and /oauth2/revoke, with
//     7-day access tokens, 180-day sliding non-rotating refresh tokens and a
//     refresh that kills the grant's previous access token at once;
//   - API routes GET /users/settings, GET /sync/activities,
//     POST /sync/history (needs media:write for V2 tokens) and
//     GET /search/movie (anonymous for V1 client ids only).
//
// The consent pages approve at once (DenyConsent denies), and PIN and device
// codes wait for ApproveCode or DenyCode. There is a single user, id 4242.
// Expiry decisions read the Clock given to SetClock, real time by default.
//
// The exported fields are set by NewSimkl; change them, if at all, before the
// first request. All methods are safe for concurrent use.
type Simkl struct {
	WebURL         string // consent pages host, stands for https://simkl.com
	APIURL         string // programmatic host, stands for https://api.simkl.com
	ClientID       string // the V1 app; default "simkl-v1-client"
	ClientSecret   string // the V1 app's secret; default "simkl-v1-secret"
	V2ClientID     string // the V2 app; default "simkl-v2-client"
	V2ClientSecret string // the V2 app's secret ("Server apps"); default "simkl-v2-secret"

	core // core.mu guards the fields below

	deny     bool
	withhold string // a scope the user's consent drops
	rateN    int
	rateKind RateLimit
	verify   [2]string // SetVerificationURI: verification_uri, verification_uri_complete ("": the pages on WebURL)

	v1Token   string // the user's V1 token ("same user, same token"); "" once revoked
	v1Expires time.Time
	codes     map[string]*simklCode   // authorization codes, V1 and V2
	pins      map[string]*simklPIN    // V1 PIN codes, by user code
	devices   map[string]*simklDevice // V2 device codes, by device code
	grants    map[string]*simklGrant  // V2 grants, by refresh token
	access    map[string]*simklGrant  // V2 grants, by current access token
	killed    map[string]time.Time    // V2 access tokens killed by a refresh, with their expiry

	tokenCalls, exchanges, refreshes, pinPolls, devicePolls int
	revocations, apiCalls, missingParams, killedUses        int
	shownCode                                               string
}

// simklApp is the generation of the app a client_id names.
type simklApp int

const (
	simklUnknownApp simklApp = iota
	simklV1
	simklV2
)

// simklCode is an authorization code waiting for its exchange.
type simklCode struct {
	v2                bool
	redirectURI       string
	challenge, method string // "" if no challenge was recorded
	scope             string // V2 only
	expires           time.Time
}

type simklDecision int

const (
	simklPending simklDecision = iota
	simklApproved
	simklDenied
)

// simklPIN is a V1 PIN code.
type simklPIN struct {
	expires, lastPoll time.Time
	state             simklDecision
}

// simklDevice is a V2 device code.
type simklDevice struct {
	userCode, scope   string
	expires, lastPoll time.Time
	interval          time.Duration
	state             simklDecision
}

// simklGrant is a V2 grant: one refresh token and its current access token.
type simklGrant struct {
	access, refresh, scope       string
	accessExpires, refreshExpiry time.Time
}

// Wire shapes.
type (
	simklEnvelope struct {
		Error   string `json:"error"`
		Code    int    `json:"code"`
		Message string `json:"message,omitempty"`
	}
	simklOAuthError struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}
	simklV1TokenJSON struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
		ExpiresIn   int    `json:"expires_in"`
	}
	simklV2TokenJSON struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	simklPINJSON struct {
		Result          string `json:"result"`
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
		VerificationURL string `json:"verification_url"`
		ExpiresIn       int    `json:"expires_in"`
		Interval        int    `json:"interval"`
	}
	simklPINResultJSON struct {
		Result      string `json:"result"`
		Message     string `json:"message,omitempty"`
		AccessToken string `json:"access_token,omitempty"`
	}
	simklDeviceJSON struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int    `json:"expires_in"`
		Interval                int    `json:"interval"`
	}
)

// NewSimkl starts a fake Simkl on two plain-HTTP httptest.Servers listening
// on 127.0.0.1, one for WebURL and one for APIURL. The caller must Close it.
func NewSimkl() *Simkl {
	s := &Simkl{
		ClientID:       "simkl-v1-client",
		ClientSecret:   "simkl-v1-secret",
		V2ClientID:     "simkl-v2-client",
		V2ClientSecret: "simkl-v2-secret",
		codes:          make(map[string]*simklCode),
		pins:           make(map[string]*simklPIN),
		devices:        make(map[string]*simklDevice),
		grants:         make(map[string]*simklGrant),
		access:         make(map[string]*simklGrant),
		killed:         make(map[string]time.Time),
	}
	// The API host first: Respond sends it every host but the web host's.
	urls := s.start("Simkl", serves(s.serveAPI, "api.simkl.com"), serves(s.serveWeb, "simkl.com", "www.simkl.com"))
	s.APIURL, s.WebURL = urls[0], urls[1]
	return s
}

// SetClock makes the fake read the time from c for every expiry decision
// (codes, PIN and device codes, poll intervals, tokens). A nil c restores
// real time.
func (s *Simkl) SetClock(c *Clock) { s.setClock(c) }

// DenyConsent makes the consent pages deny, as if the user clicked "No",
// while deny is true. V1 (/oauth/authorize) then redirects to WebURL+"/",
// not back to the redirect_uri: Simkl V1 has no denial signal. V2
// (/oauth2/authorize) redirects back with error=access_denied, state and iss.
func (s *Simkl) DenyConsent(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// WithholdScope makes later V2 consents (code and device) grant every
// requested scope but scope, as when the user's consent drops it; "" grants
// everything again. With media:write withheld a token comes back read-only,
// which Simkl reports only in the granted scope (docs/simkl.md#scopes).
func (s *Simkl) WithholdScope(scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withhold = scope
}

func (s *Simkl) withholdLocked(granted string) string {
	if s.withhold == "" {
		return granted
	}
	var kept []string
	for _, sc := range strings.Fields(granted) {
		if sc != s.withhold {
			kept = append(kept, sc)
		}
	}
	if len(kept) == 0 {
		return simklScopeRead
	}
	return strings.Join(kept, " ")
}

// ApproveCode approves the V1 PIN code or V2 device user code userCode, as if
// the user entered it at WebURL+"/pin": the next poll receives a token. It
// reports false if no such code is pending (unknown, expired, already
// approved or denied).
func (s *Simkl) ApproveCode(userCode string) bool { return s.decide(userCode, simklApproved) }

// DenyCode denies the V2 device user code userCode: polls then answer
// access_denied. Simkl's V1 PIN flow has no denial signal, so a denied PIN
// code just stays "Authorization pending" until it expires (ApproveCode then
// refuses it). It reports false if no such code is pending.
func (s *Simkl) DenyCode(userCode string) bool { return s.decide(userCode, simklDenied) }

func (s *Simkl) decide(userCode string, d simklDecision) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	if p, ok := s.pins[userCode]; ok {
		if p.state != simklPending || !now.Before(p.expires) {
			return false
		}
		p.state = d
		return true
	}
	for _, dev := range s.devices {
		if dev.userCode == userCode {
			if dev.state != simklPending || !now.Before(dev.expires) {
				return false
			}
			dev.state = d
			return true
		}
	}
	return false
}

// RevokeToken ends the grant of token, as when the user disconnects the app
// in Simkl's Connected Apps. For the V1 token the API then answers 401
// user_token_failed (and the next V1 flow issues a new token). For a V2
// access or refresh token both tokens of its grant die: the API answers 401
// user_token_failed and a refresh answers invalid_grant. Unknown tokens are
// ignored.
func (s *Simkl) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != "" && token == s.v1Token {
		s.v1Token = ""
	}
	s.revokeV2Locked(token)
}

// FailTokenCalls makes the next n requests to a token endpoint
// (/oauth/token, /oauth/pin, /oauth/pin/{code}, /oauth2/token,
// /oauth2/device) fail as mode says: Fail5xx answers 503
// {"error":"server_error","code":503,...}, FailHTML a 502 HTML page. Such a
// request is counted but consumes no code and mints no token. It replaces an
// earlier setting; n <= 0 turns failures off.
func (s *Simkl) FailTokenCalls(n int, mode FailMode) { s.failTokenCalls(n, mode) }

// RateLimitNext makes the next n API calls (the API routes, not the OAuth
// endpoints) answer the rate limit kind, after the per-request parameter
// check and before any token check. It replaces an earlier setting; n <= 0
// turns it off.
func (s *Simkl) RateLimitNext(n int, kind RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateN, s.rateKind = max(n, 0), kind
}

// SetLatency makes every request to a token endpoint (the FailTokenCalls
// set) wait d, in real time, before it is answered. A request whose client
// goes away, or that is still waiting at Close, is abandoned without an
// answer.
func (s *Simkl) SetLatency(d time.Duration) { s.setLatency(d) }

// SetVerificationURI makes the PIN answers (/oauth/pin, and the new code a
// poll may answer) name uri as their verification_uri and verification_url,
// and the V2 device answers (/oauth2/device) name uri as verification_uri
// and complete as verification_uri_complete, instead of the pages on
// WebURL: a hostile or broken service (another host, a javascript: or data:
// URI), for tests of what a client shows its user. "" restores the default
// of each.
func (s *Simkl) SetVerificationURI(uri, complete string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verify = [2]string{uri, complete}
}

// verificationLocked returns the verification_uri and
// verification_uri_complete to send for userCode. s.mu must be held.
func (s *Simkl) verificationLocked(userCode string) (uri, complete string) {
	uri, complete = s.verify[0], s.verify[1]
	if uri == "" {
		uri = s.WebURL + "/pin"
	}
	if complete == "" {
		complete = s.WebURL + "/pin/" + userCode
	}
	return uri, complete
}

// IssueToken mints a user token without any OAuth flow. For V1 (v2 false) it
// returns the user's V1 access token, the same one every flow returns, and
// refresh "" (scopes are ignored: V1 tokens are always "public"). For V2 it
// opens a new grant with scopes (media:read and media:write; others are
// dropped, none means media:read) and returns its access and refresh tokens.
func (s *Simkl) IssueToken(v2 bool, scopes ...string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	if !v2 {
		return s.v1TokenLocked(now), ""
	}
	g := s.newGrantLocked(now, simklScopes(strings.Join(scopes, " ")))
	return g.access, g.refresh
}

// RestoreToken makes the fake accept tokens it issued, as when tokens saved
// by an earlier fake are used again. An empty access is ignored.
//
// For V1 (v2 false) access becomes the user's V1 token, the one every V1 flow
// and IssueToken(false) then return, valid 5 years from now; refresh, expiry
// and scopes are ignored, as V1 tokens are "public" and never refreshed.
//
// For V2 it opens a grant that behaves as one the fake issued (refresh,
// revocation, scope checks): its access token is access, valid until expiry
// (zero means the usual 7 days from now; a past expiry restores an expired
// token, which a refresh can still replace), its refresh token is refresh,
// valid 180 days from now and sliding, and its scopes are filtered as
// IssueToken's. With refresh "" the grant has no usable refresh token: its
// access token works until it expires or is revoked, and every refresh
// attempt fails as for an unknown refresh token. A grant already holding
// access or refresh ends first, and an access token that an earlier refresh
// killed is alive again.
func (s *Simkl) RestoreToken(v2 bool, access, refresh string, expiry time.Time, scopes ...string) {
	if access == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	delete(s.killed, access) // the killed list is checked first, for any app
	if !v2 {
		s.v1Token, s.v1Expires = access, now.Add(simklV1TTL)
		return
	}
	s.revokeV2Locked(access)
	s.revokeV2Locked(refresh)
	if expiry.IsZero() {
		expiry = now.Add(simklAccessTTL)
	}
	g := &simklGrant{
		access:        access,
		refresh:       refresh,
		scope:         simklScopes(strings.Join(scopes, " ")),
		accessExpires: expiry,
		refreshExpiry: now.Add(simklRefreshTTL),
	}
	if refresh == "" {
		// The grants map is keyed by refresh token: key this grant by one
		// that is never disclosed, so no refresh request can reach it, and
		// let it die with its access token.
		g.refresh = "simkl_rt_unusable_" + randomHex(24)
		g.refreshExpiry = expiry
	}
	s.addGrantLocked(now, g)
}

// TokenCalls returns how many requests reached /oauth/token or
// /oauth2/token, whatever their grant type and outcome.
func (s *Simkl) TokenCalls() int { return s.count(&s.tokenCalls) }

// Exchanges returns how many authorization_code grants reached /oauth/token
// or /oauth2/token, successful or not.
func (s *Simkl) Exchanges() int { return s.count(&s.exchanges) }

// Refreshes returns how many refresh_token grants reached /oauth/token or
// /oauth2/token, successful or not (V1 has no refresh grant: those fail).
func (s *Simkl) Refreshes() int { return s.count(&s.refreshes) }

// PINPolls returns how many requests reached /oauth/pin/{code}.
func (s *Simkl) PINPolls() int { return s.count(&s.pinPolls) }

// DevicePolls returns how many device_code grants reached /oauth2/token.
func (s *Simkl) DevicePolls() int { return s.count(&s.devicePolls) }

// Revocations returns how many requests reached /oauth2/revoke.
func (s *Simkl) Revocations() int { return s.count(&s.revocations) }

// APICalls returns how many requests reached the API host outside /oauth/
// and /oauth2/ (known routes or not, refused or not).
func (s *Simkl) APICalls() int { return s.count(&s.apiCalls) }

// MissingParams returns how many requests lacked client_id (query parameter,
// or simkl-api-key header), app-name or app-version query parameters, or a
// User-Agent header. Every API-host request counts, and the web host's
// consent pages /oauth/authorize and /oauth2/authorize.
func (s *Simkl) MissingParams() int { return s.count(&s.missingParams) }

// KilledTokenUses returns how many API requests carried a V2 access token
// that a later refresh of its grant killed.
func (s *Simkl) KilledTokenUses() int { return s.count(&s.killedUses) }

// APIBodies returns a copy of the bodies of the API calls received (see
// APICalls), in order, refused ones included (an empty slice for a request
// without a body).
func (s *Simkl) APIBodies() [][]byte { return s.bodies() }

// LastTokenForm returns a copy of the body fields (form-encoded or JSON) of
// the most recent POST to /oauth/token, /oauth2/token, /oauth2/device or
// /oauth2/revoke, or nil if there was none. Basic credentials are not
// included.
func (s *Simkl) LastTokenForm() url.Values { return s.tokenForm() }

// LastAuthorizeQuery returns a copy of the query of the most recent request
// to /oauth/authorize or /oauth2/authorize on the web host, or nil if there
// was none.
func (s *Simkl) LastAuthorizeQuery() url.Values { return s.authorizeQuery() }

// ShownCode returns the code the V1 consent page last showed the user, as
// it does for a PKCE request without redirect_uri instead of redirecting:
// the code a user would paste into the app. It is "" if there was none.
func (s *Simkl) ShownCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shownCode
}

// LastRequestHeader returns a copy of the header of the most recent request
// to the API host (any path), or nil if there was none.
func (s *Simkl) LastRequestHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastRequest == nil {
		return nil
	}
	return s.lastRequest.Header.Clone()
}

// appOf returns the generation of the app clientID names.
func (s *Simkl) appOf(clientID string) simklApp {
	switch {
	case clientID == "":
		return simklUnknownApp
	case clientID == s.ClientID:
		return simklV1
	case clientID == s.V2ClientID:
		return simklV2
	}
	return simklUnknownApp
}

// simklParams returns the request's client_id (query parameter, or
// simkl-api-key header) and whether any per-request parameter is missing.
func simklParams(r *http.Request) (clientID string, missing bool) {
	q := r.URL.Query()
	clientID = q.Get("client_id") // [I] the query wins over the header
	if clientID == "" {
		clientID = r.Header.Get("simkl-api-key")
	}
	missing = clientID == "" || q.Get("app-name") == "" || q.Get("app-version") == "" || r.Header.Get("User-Agent") == ""
	return clientID, missing
}

// simklEndpoint names what a path of the API host serves.
type simklEndpoint int

const (
	simklNoEndpoint simklEndpoint = iota // under /oauth/ or /oauth2/ but unknown: 404
	simklV1Token                         // POST /oauth/token
	simklPINStart                        // GET /oauth/pin
	simklPINPoll                         // GET /oauth/pin/{code}
	simklV2Token                         // POST /oauth2/token
	simklV2Device                        // POST /oauth2/device
	simklV2Revoke                        // POST /oauth2/revoke
	simklAPIRoute                        // everything else
)

func simklClassify(p string) simklEndpoint {
	switch {
	case p == "/oauth/token":
		return simklV1Token
	case p == "/oauth/pin":
		return simklPINStart
	case strings.HasPrefix(p, "/oauth/pin/"):
		return simklPINPoll
	case p == "/oauth2/token":
		return simklV2Token
	case p == "/oauth2/device":
		return simklV2Device
	case p == "/oauth2/revoke":
		return simklV2Revoke
	case p == "/oauth" || p == "/oauth2" || strings.HasPrefix(p, "/oauth/") || strings.HasPrefix(p, "/oauth2/"):
		return simklNoEndpoint // /oauth/authorize lives on the web host only [C]
	}
	return simklAPIRoute
}

// simklBody is a parsed token-endpoint body.
type simklBody struct {
	fields   url.Values
	form     bool // Content-Type application/x-www-form-urlencoded (else JSON, or ignored)
	bad      bool // unreadable, too large or malformed
	hasBasic bool
}

func simklReadBody(w http.ResponseWriter, r *http.Request) simklBody {
	b := simklBody{fields: url.Values{}}
	_, _, b.hasBasic = r.BasicAuth()
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, simklMaxBody))
	if err != nil {
		b.bad = true
		return b
	}
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "application/x-www-form-urlencoded":
		b.form = true
		vals, err := url.ParseQuery(string(raw))
		b.fields, b.bad = vals, err != nil
	case "application/json":
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			b.bad = true
		}
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
	default:
		// [I] any other Content-Type: the body is not read, so the
		// required fields come out missing.
	}
	return b
}

// serveAPI serves the API host: per-request parameters, counters, injected
// failures and latency, then the endpoint.
func (s *Simkl) serveAPI(w http.ResponseWriter, r *http.Request) {
	clientID, missing := simklParams(r)
	ep := simklClassify(r.URL.Path)
	var body simklBody
	var apiBody []byte
	var apiBodyErr error
	switch ep {
	case simklV1Token, simklV2Token, simklV2Device, simklV2Revoke:
		body = simklReadBody(w, r)
	case simklAPIRoute:
		apiBody, apiBodyErr = io.ReadAll(http.MaxBytesReader(w, r.Body, simklMaxAPIBody))
	}

	s.mu.Lock()
	s.recordLocked(r, apiBody)
	if missing {
		s.missingParams++
	}
	grant := body.fields.Get("grant_type")
	switch ep {
	case simklV1Token, simklV2Token:
		s.tokenCalls++
		switch grant {
		case simklGrantCode:
			s.exchanges++
		case simklGrantRefresh:
			s.refreshes++
		case simklGrantDevice:
			if ep == simklV2Token {
				s.devicePolls++
			}
		}
	case simklPINPoll:
		s.pinPolls++
	case simklV2Revoke:
		s.revocations++
	case simklAPIRoute:
		s.apiCalls++
		s.apiBodies = append(s.apiBodies, apiBody)
	}
	if body.fields != nil && r.Method == http.MethodPost {
		s.lastTokenForm = cloneValues(body.fields)
	}
	var fail bool
	var mode FailMode
	var latency time.Duration
	switch ep {
	case simklV1Token, simklPINStart, simklPINPoll, simklV2Token, simklV2Device:
		fail, mode = s.takeFailLocked()
		latency = s.latency
	}
	s.mu.Unlock()

	if !s.wait(r.Context(), latency) {
		panic(http.ErrAbortHandler) // nobody is waiting for the answer
	}
	if fail {
		simklFailure(w, mode)
		return
	}
	app := s.appOf(clientID)
	if missing || app == simklUnknownApp {
		simklError(w, http.StatusPreconditionFailed, "client_id_failed", simklMsgClientID)
		return
	}

	switch ep {
	case simklNoEndpoint:
		simklError(w, http.StatusNotFound, "not_found", "No such endpoint on this host.") // [I] body
	case simklV1Token:
		if simklMethod(w, r, http.MethodPost) {
			s.v1Exchange(w, r, app, body)
		}
	case simklPINStart:
		if simklMethod(w, r, http.MethodGet) {
			s.pinStart(w, app)
		}
	case simklPINPoll:
		if simklMethod(w, r, http.MethodGet) {
			s.pinPoll(w, app, strings.TrimPrefix(r.URL.Path, "/oauth/pin/"))
		}
	case simklV2Token:
		if simklMethod(w, r, http.MethodPost) {
			s.v2Token(w, app, body)
		}
	case simklV2Device:
		if simklMethod(w, r, http.MethodPost) {
			s.v2Device(w, app, body)
		}
	case simklV2Revoke:
		if simklMethod(w, r, http.MethodPost) {
			s.v2Revoke(w, app, body)
		}
	default:
		s.route(w, r, app, apiBody, apiBodyErr)
	}
}

func simklFailure(w http.ResponseWriter, mode FailMode) {
	if mode == FailHTML { // as a CDN in front of Simkl would
		writeHTMLFailure(w)
		return
	}
	simklError(w, http.StatusServiceUnavailable, "server_error", "The fake Simkl fails on purpose (FailTokenCalls).")
}

// simklMethod reports whether r.Method is method, and answers 405 if not.
func simklMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	simklError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use "+method+".") // [I]
	return false
}

// simklError writes Simkl's error envelope.
func simklError(w http.ResponseWriter, status int, id, message string) {
	writeJSON(w, status, simklJSON, simklEnvelope{Error: id, Code: status, Message: message})
}

// simklV1Error writes a V1 token-endpoint error: the envelope, no-store, and
// on a 401 the documented WWW-Authenticate header.
func simklV1Error(w http.ResponseWriter, status int, id, message string) {
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api.simkl.com", error="`+id+`"`) // [S] realm literal
	}
	simklError(w, status, id, message)
}

// simklOAuthErr writes a V2 (RFC 6749-shaped) token-endpoint error.
func simklOAuthErr(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, simklJSON, simklOAuthError{Error: code, Description: description})
}

func simklToken(w http.ResponseWriter, body any) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, simklJSON, body)
}

// basicPart undoes the form-encoding RFC 6749 §2.3.1 puts on Basic
// credentials (x/oauth2 applies it). [I] that Simkl decodes it; the default
// credentials have no reserved characters, so both readings agree.
func basicPart(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// v1Exchange serves POST /oauth/token.
func (s *Simkl) v1Exchange(w http.ResponseWriter, r *http.Request, app simklApp, b simklBody) {
	f := b.fields
	// [C] single use: any attempt that names a code deletes it, whatever
	// follows. [I] a request turned away by the 412 or FailTokenCalls never
	// reached the handler and burns nothing.
	codeStr := f.Get("code")
	s.mu.Lock()
	c := s.codes[codeStr]
	delete(s.codes, codeStr)
	now := s.nowLocked()
	s.mu.Unlock()

	if app != simklV1 { // [S] a V2 app on a V1 endpoint
		simklV1Error(w, http.StatusBadRequest, "invalid_client", "This client_id is not an AUTH V1 app.")
		return
	}
	// [C] credentials in the body or a Basic header, both honoured. [I] the
	// Basic header wins when both are sent.
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = basicPart(u), basicPart(p)
	}
	verifier := f.Get("code_verifier")
	grant := f.Get("grant_type")
	switch {
	case grant != "" && grant != simklGrantCode: // [I] V1 has no other grant; status and id not documented
		simklV1Error(w, http.StatusBadRequest, "unsupported_grant_type", "Only authorization_code is supported.")
	case grant == "" || codeStr == "" || id == "" || (f.Get("redirect_uri") == "" && verifier == "") || (secret == "" && verifier == ""):
		// [C] redirect_uri is required with a secret; a PKCE exchange is
		// code, client_id and code_verifier. [I] a code issued for a
		// redirect_uri still needs it, identical (redirect_failed below).
		simklV1Error(w, http.StatusForbidden, "empty_field", "A required field is empty.")
	// [I] order of the checks: client, then code, then redirect, then PKCE.
	case id != s.ClientID, secret != "" && secret != s.ClientSecret:
		simklV1Error(w, http.StatusUnauthorized, "secret_error", "Wrong Secret")
	case secret != "" && verifier != "": // [C] mutually exclusive; [I] refused as a bad secret
		simklV1Error(w, http.StatusUnauthorized, "secret_error", "Send client_secret or code_verifier, not both.")
	case c == nil || c.v2 || !now.Before(c.expires):
		simklV1Error(w, http.StatusUnauthorized, "grant_error", "The code is invalid, expired or already used.")
	case f.Get("redirect_uri") != c.redirectURI: // [C] byte for byte
		simklV1Error(w, http.StatusForbidden, "redirect_failed", "redirect_uri does not match.")
	// [C] a verifier with no recorded challenge (e.g. method "s256") fails
	// as "Wrong Secret". [I] a secret alone is enough even when a challenge
	// was recorded.
	case verifier != "" && !simklPKCE(c.method, c.challenge, verifier):
		simklV1Error(w, http.StatusUnauthorized, "secret_error", "PKCE verification failed")
	default:
		s.mu.Lock()
		tok := s.v1TokenLocked(now)
		s.mu.Unlock()
		simklToken(w, simklV1TokenJSON{AccessToken: tok, TokenType: "bearer", Scope: "public", ExpiresIn: int(simklV1TTL / time.Second)})
	}
}

// v1TokenLocked returns the user's V1 token, minting it if there is none (or
// it expired). [I] each issue restarts its 5-year lifetime.
func (s *Simkl) v1TokenLocked(now time.Time) string {
	if s.v1Token == "" || !now.Before(s.v1Expires) {
		s.v1Token = randomHex(32)
	}
	s.v1Expires = now.Add(simklV1TTL)
	return s.v1Token
}

// simklPKCE checks verifier against a recorded challenge.
func simklPKCE(method, challenge, verifier string) bool {
	if challenge == "" || !simklVerifierOK(verifier) {
		return false
	}
	switch method {
	case "S256":
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
	case "plain":
		return verifier == challenge
	}
	return false
}

// simklVerifierOK reports whether v is an RFC 7636 code_verifier: 43 to 128
// characters of A-Z a-z 0-9 - . _ ~ ([C] for V1).
func simklVerifierOK(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// pinStart serves GET /oauth/pin.
func (s *Simkl) pinStart(w http.ResponseWriter, app simklApp) {
	if app != simklV1 { // [S] HTTP 400 for a V2 client_id; [I] the body
		simklError(w, http.StatusBadRequest, "invalid_client", "This client_id is not an AUTH V1 app.")
		return
	}
	s.mu.Lock()
	answer := s.pinJSON(s.newPINLocked(s.nowLocked()))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, simklJSON, answer)
}

// pinJSON is the step-1 answer for userCode. s.mu must be held.
func (s *Simkl) pinJSON(userCode string) simklPINJSON {
	uri, _ := s.verificationLocked(userCode)
	return simklPINJSON{
		Result:          "OK",
		DeviceCode:      "DEVICE_CODE", // [C] a literal placeholder
		UserCode:        userCode,
		VerificationURI: uri,
		VerificationURL: uri,
		ExpiresIn:       int(simklPINTTL / time.Second),
		Interval:        int(simklPINInterval / time.Second),
	}
}

func (s *Simkl) newPINLocked(now time.Time) string {
	makeRoom(s.pins, func(p *simklPIN) bool { return !now.Before(p.expires) }, nil)
	var code string
	for code == "" || s.pins[code] != nil {
		code = userCode(5)
	}
	s.pins[code] = &simklPIN{expires: now.Add(simklPINTTL)}
	return code
}

// pinPoll serves GET /oauth/pin/{user_code}. Every answer is HTTP 200 [C].
func (s *Simkl) pinPoll(w http.ResponseWriter, app simklApp, userCode string) {
	if app != simklV1 { // [I] as GET /oauth/pin
		simklError(w, http.StatusBadRequest, "invalid_client", "This client_id is not an AUTH V1 app.")
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	p := s.pins[userCode]
	if p != nil && !now.Before(p.expires) {
		delete(s.pins, userCode)
		p = nil
	}
	var answer any
	switch {
	case p == nil:
		// [C] the trap: a deleted, expired or unknown code falls through to
		// "create a new code" and answers the step-1 shape.
		answer = s.pinJSON(s.newPINLocked(now))
	case p.state == simklApproved:
		delete(s.pins, userCode) // [C] deleted once it yields its token
		answer = simklPINResultJSON{Result: "OK", AccessToken: s.v1TokenLocked(now)}
	// [C] Apiary: "Slow down" below the interval. [I] measured from the
	// previous poll (the first poll is never early), every poll restarts
	// the interval, and an approved code answers at once.
	case !p.lastPoll.IsZero() && now.Sub(p.lastPoll) < simklPINInterval:
		p.lastPoll = now
		answer = simklPINResultJSON{Result: "KO", Message: "Slow down"}
	default: // pending, or denied: V1 has no denial signal
		p.lastPoll = now
		answer = simklPINResultJSON{Result: "KO", Message: "Authorization pending"}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, simklJSON, answer)
}

// v2Client checks what every V2 token endpoint shares: a V2 app in the
// query, a form body, and the client credentials in it. It answers and
// reports false on failure.
func (s *Simkl) v2Client(w http.ResponseWriter, app simklApp, b simklBody) bool {
	switch {
	case app != simklV2: // [S] 401 invalid_client when not a V2 app
		simklOAuthErr(w, http.StatusUnauthorized, "invalid_client", "This client_id is not an AUTH V2 app.")
	case !b.form || b.bad: // [S] form-encoded only; JSON fails
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.")
	// [I] credentials go in the body only: a Basic header is refused, so a
	// client that tries Basic first (x/oauth2's auto-detect) burns its code.
	case b.hasBasic:
		simklOAuthErr(w, http.StatusUnauthorized, "invalid_client", "Send client credentials in the body, not in an Authorization header.")
	case b.fields.Get("client_id") != s.V2ClientID: // [I] the body's client_id is required
		simklOAuthErr(w, http.StatusUnauthorized, "invalid_client", "client_id is missing or does not match.")
	case b.fields.Has("client_secret") && b.fields.Get("client_secret") != s.V2ClientSecret:
		simklOAuthErr(w, http.StatusUnauthorized, "invalid_client", "Wrong client_secret.")
	default:
		return true
	}
	return false
}

// v2Token serves POST /oauth2/token.
func (s *Simkl) v2Token(w http.ResponseWriter, app simklApp, b simklBody) {
	f := b.fields
	var c *simklCode
	if b.form && f.Get("grant_type") == simklGrantCode {
		// [S] a failed exchange still burns the code. [I] a JSON body is
		// refused before the code is read.
		s.mu.Lock()
		c = s.codes[f.Get("code")]
		delete(s.codes, f.Get("code"))
		s.mu.Unlock()
	}
	if !s.v2Client(w, app, b) {
		return
	}
	switch f.Get("grant_type") {
	case simklGrantCode:
		s.v2Exchange(w, f, c)
	case simklGrantRefresh:
		s.v2Refresh(w, f)
	case simklGrantDevice:
		s.v2DevicePoll(w, f)
	case "":
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "grant_type is required.")
	default:
		simklOAuthErr(w, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported.")
	}
}

func (s *Simkl) v2Exchange(w http.ResponseWriter, f url.Values, c *simklCode) {
	if f.Get("code") == "" {
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "code is required.")
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	ok := c != nil && c.v2 && now.Before(c.expires)
	var g *simklGrant
	var desc string
	switch {
	case !ok:
		desc = simklMsgCodeInvalid // [S]
	case f.Get("redirect_uri") != c.redirectURI: // [S] identical string
		desc = "redirect_uri does not match the authorization request." // [I]
	case !simklPKCE(c.method, c.challenge, f.Get("code_verifier")): // [S] S256 only
		desc = "code_verifier does not match the code_challenge." // [I]
	default:
		g = s.newGrantLocked(now, c.scope)
	}
	s.mu.Unlock()
	if g == nil {
		simklOAuthErr(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}
	simklToken(w, g.json())
}

func (g *simklGrant) json() simklV2TokenJSON {
	return simklV2TokenJSON{
		AccessToken:  g.access,
		TokenType:    "Bearer",
		ExpiresIn:    int(simklAccessTTL / time.Second),
		RefreshToken: g.refresh,
		Scope:        g.scope,
	}
}

// newGrantLocked opens a V2 grant. [I] each flow opens a new grant, unlike
// V1's "same user, same token".
func (s *Simkl) newGrantLocked(now time.Time, scope string) *simklGrant {
	return s.addGrantLocked(now, &simklGrant{
		access:        "simkl_at_" + randomHex(24),
		refresh:       "simkl_rt_" + randomHex(24),
		scope:         scope,
		accessExpires: now.Add(simklAccessTTL),
		refreshExpiry: now.Add(simklRefreshTTL),
	})
}

// addGrantLocked stores g under its refresh and access tokens, making room
// for it, and returns it.
func (s *Simkl) addGrantLocked(now time.Time, g *simklGrant) *simklGrant {
	makeRoom(s.grants, func(g *simklGrant) bool { return !now.Before(g.refreshExpiry) },
		func(g *simklGrant) { delete(s.access, g.access) })
	s.grants[g.refresh] = g
	s.access[g.access] = g
	return g
}

// revokeV2Locked ends the grant that token (access or refresh) belongs to.
func (s *Simkl) revokeV2Locked(token string) {
	g := s.grants[token]
	if g == nil {
		g = s.access[token]
	}
	if g != nil {
		delete(s.grants, g.refresh)
		delete(s.access, g.access)
	}
}

func (s *Simkl) v2Refresh(w http.ResponseWriter, f url.Values) {
	rt := f.Get("refresh_token")
	if rt == "" {
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "refresh_token is required.")
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	g := s.grants[rt]
	var out simklV2TokenJSON
	if g != nil && !now.Before(g.refreshExpiry) { // idle more than 180 days
		s.revokeV2Locked(rt)
		g = nil
	}
	if g != nil {
		// [S] the previous access token dies at once; the refresh token
		// stays (non-rotating) and its 180 days restart (sliding). [I] a
		// scope parameter is ignored: the grant keeps its scope.
		delete(s.access, g.access)
		makeRoom(s.killed, func(exp time.Time) bool { return !now.Before(exp) }, nil)
		s.killed[g.access] = g.accessExpires
		g.access = "simkl_at_" + randomHex(24)
		g.accessExpires = now.Add(simklAccessTTL)
		g.refreshExpiry = now.Add(simklRefreshTTL)
		s.access[g.access] = g
		out = g.json()
	}
	s.mu.Unlock()
	if g == nil {
		simklOAuthErr(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or revoked.")
		return
	}
	simklToken(w, out)
}

// v2Device serves POST /oauth2/device.
func (s *Simkl) v2Device(w http.ResponseWriter, app simklApp, b simklBody) {
	if !s.v2Client(w, app, b) {
		return
	}
	dev := &simklDevice{scope: simklScopes(b.fields.Get("scope")), interval: simklDeviceStep}
	deviceCode := randomHex(20)
	s.mu.Lock()
	dev.scope = s.withholdLocked(dev.scope)
	now := s.nowLocked()
	dev.expires = now.Add(simklDeviceTTL)
	makeRoom(s.devices, func(d *simklDevice) bool { return !now.Before(d.expires) }, nil)
	for dev.userCode == "" || s.deviceUserCodeTakenLocked(dev.userCode) {
		dev.userCode = userCode(8) // [I] 8 characters, no dash
	}
	s.devices[deviceCode] = dev
	uri, complete := s.verificationLocked(dev.userCode)
	s.mu.Unlock()
	simklToken(w, simklDeviceJSON{
		DeviceCode:              deviceCode,
		UserCode:                dev.userCode,
		VerificationURI:         uri,
		VerificationURIComplete: complete,
		ExpiresIn:               int(simklDeviceTTL / time.Second),
		Interval:                int(simklDeviceStep / time.Second),
	})
}

func (s *Simkl) deviceUserCodeTakenLocked(code string) bool {
	for _, d := range s.devices {
		if d.userCode == code {
			return true
		}
	}
	return false
}

// v2DevicePoll answers a device_code grant.
func (s *Simkl) v2DevicePoll(w http.ResponseWriter, f url.Values) {
	deviceCode := f.Get("device_code")
	if deviceCode == "" {
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "device_code is required.")
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	dev := s.devices[deviceCode]
	var code, desc string
	var g *simklGrant
	switch {
	case dev == nil:
		code, desc = "invalid_grant", "The device code is invalid or already used."
	case !now.Before(dev.expires):
		code, desc = "expired_token", "The device code has expired."
	case dev.state == simklApproved:
		delete(s.devices, deviceCode) // [I] gone once it yields its grant
		g = s.newGrantLocked(now, dev.scope)
	case dev.state == simklDenied:
		delete(s.devices, deviceCode) // [I] terminal: later polls answer invalid_grant
		code, desc = "access_denied", "The user denied the request."
	// [I] RFC 8628 §3.5: polled sooner than the interval after the previous
	// poll (the first poll is never early) answers slow_down and adds 5 s to
	// the interval for the rest of this code's life. A decided code answers
	// at once.
	case !dev.lastPoll.IsZero() && now.Sub(dev.lastPoll) < dev.interval:
		dev.lastPoll = now
		dev.interval += simklDeviceStep
		code, desc = "slow_down", "Polling too fast; add 5 seconds to the interval."
	default:
		dev.lastPoll = now
		code, desc = "authorization_pending", "The user has not yet approved the request."
	}
	var out simklV2TokenJSON
	if g != nil {
		out = g.json()
	}
	s.mu.Unlock()
	if g == nil {
		simklOAuthErr(w, http.StatusBadRequest, code, desc)
		return
	}
	simklToken(w, out)
}

// v2Revoke serves POST /oauth2/revoke.
func (s *Simkl) v2Revoke(w http.ResponseWriter, app simklApp, b simklBody) {
	switch {
	case app != simklV2:
		simklOAuthErr(w, http.StatusUnauthorized, "invalid_client", "This client_id is not an AUTH V2 app.")
		return
	case !b.form || b.bad:
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.")
		return
	// [I] client_id in the body is optional here; a secret, when sent, must
	// match (RFC 7009 §2.1 client authentication).
	case b.fields.Has("client_id") && b.fields.Get("client_id") != s.V2ClientID,
		b.fields.Has("client_secret") && b.fields.Get("client_secret") != s.V2ClientSecret:
		simklOAuthErr(w, http.StatusUnauthorized, "invalid_client", "Wrong client credentials.")
		return
	case b.fields.Get("token") == "": // RFC 7009 §2.1: token is required
		simklOAuthErr(w, http.StatusBadRequest, "invalid_request", "token is required.")
		return
	}
	s.mu.Lock()
	s.revokeV2Locked(b.fields.Get("token")) // [I] a V1 token is left alone: V1 revocation is user-side only
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK) // [S] 200 whatever the token; [I] empty body
}

// simklScopes returns the V2 scopes granted for requested: the known ones
// (media:read, media:write) in that order; none means media:read [S].
func simklScopes(requested string) string {
	var read, write bool
	for _, sc := range strings.Fields(requested) {
		switch sc {
		case simklScopeRead:
			read = true
		case simklScopeWrite:
			write = true
		}
	}
	switch {
	case read && write:
		return simklScopeRead + " " + simklScopeWrite
	case write: // [I] granted as asked; reads need no scope in the fake
		return simklScopeWrite
	}
	return simklScopeRead
}

// simklUserToken is what an API call's bearer token turned out to be.
type simklUserToken struct {
	present bool   // an Authorization: Bearer header was sent
	ok      bool   // valid for the request's client_id
	v2      bool   // a V2 access token
	scope   string // V2 scope
}

// userToken checks the request's bearer token against the app of its
// client_id. [S] a token works only with the client_id that issued it.
func (s *Simkl) userToken(r *http.Request, app simklApp) simklUserToken {
	tok, present := bearer(r)
	if !present {
		return simklUserToken{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	if _, dead := s.killed[tok]; dead {
		s.killedUses++
		return simklUserToken{present: true}
	}
	switch app {
	case simklV1:
		return simklUserToken{present: true, ok: tok == s.v1Token && now.Before(s.v1Expires)}
	case simklV2:
		g := s.access[tok]
		if g == nil || !now.Before(g.accessExpires) {
			return simklUserToken{present: true}
		}
		return simklUserToken{present: true, ok: true, v2: true, scope: g.scope}
	}
	return simklUserToken{present: true}
}

// route serves the API routes.
func (s *Simkl) route(w http.ResponseWriter, r *http.Request, app simklApp, body []byte, bodyErr error) {
	s.mu.Lock()
	limited, kind := s.rateN > 0, s.rateKind
	if limited {
		s.rateN--
	}
	s.mu.Unlock()
	if limited {
		switch kind {
		case RateLimit412:
			simklError(w, http.StatusPreconditionFailed, "client_id_failed", simklMsgClientID)
		case RateLimitWriteLock:
			simklError(w, http.StatusBadRequest, "RATE_LIMIT", "Too many writes for this user; wait 20 seconds.") // [I] message
		default:
			w.Header().Set("Retry-After", simklRetryAfter)
			writeJSON(w, http.StatusTooManyRequests, simklJSON, simklEnvelope{Error: "rate_limit", Code: http.StatusTooManyRequests})
		}
		return
	}
	if bodyErr != nil {
		simklError(w, http.StatusRequestEntityTooLarge, "too_large", "The request body is too large.") // [I]
		return
	}

	var method string
	anonymousOK := false
	switch r.URL.Path {
	case "/users/settings", "/sync/activities":
		method = http.MethodGet
	case "/sync/history":
		method = http.MethodPost
	case "/search/movie":
		method, anonymousOK = http.MethodGet, app == simklV1 // [S] V2 client ids withdraw anonymous access
	default:
		simklError(w, http.StatusNotFound, "not_found", "No such endpoint.") // [I]
		return
	}
	if !simklMethod(w, r, method) {
		return
	}
	ut := s.userToken(r, app)
	switch {
	case !ut.present && anonymousOK:
	case !ut.present && app == simklV2:
		simklError(w, http.StatusUnauthorized, "user_token_required", simklMsgTokenRequired) // [S] captured
		return
	case !ut.ok: // [S]; [I] also a V1 client without a token
		simklError(w, http.StatusUnauthorized, "user_token_failed", "The user token is invalid, expired or revoked.")
		return
	}

	switch r.URL.Path {
	case "/users/settings":
		writeJSON(w, http.StatusOK, simklJSON, map[string]any{
			"user":    map[string]any{"name": "Fake User"},
			"account": map[string]any{"id": simklUserID},
		})
	case "/sync/activities": // [I] a small slice of the real shape
		writeJSON(w, http.StatusOK, simklJSON, map[string]any{
			"all":    "2026-01-01T00:00:00Z",
			"movies": map[string]any{"all": "2026-01-01T00:00:00Z"},
		})
	case "/sync/history":
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case ut.v2 && !strings.Contains(" "+ut.scope+" ", " "+simklScopeWrite+" "): // [S] read-only token fails on the first write
			simklError(w, http.StatusForbidden, "forbidden", "This token lacks the media:write scope.")
		case mt != simklJSON: // [I] status and id
			simklError(w, http.StatusUnsupportedMediaType, "bad_content_type", "Content-Type must be application/json.")
		case !json.Valid(body): // [I]
			simklError(w, http.StatusBadRequest, "bad_request", "The body is not valid JSON.")
		default: // [I] the fake records nothing but the body
			writeJSON(w, http.StatusCreated, simklJSON, map[string]any{
				"added":     map[string]int{"movies": 0, "shows": 0, "episodes": 0},
				"not_found": map[string][]any{"movies": {}, "shows": {}},
			})
		}
	case "/search/movie":
		results := []map[string]any{}
		if q := r.URL.Query().Get("q"); q != "" {
			results = append(results, map[string]any{"title": q, "year": 2020, "ids": map[string]any{"simkl": 1}})
		}
		writeJSON(w, http.StatusOK, simklJSON, results)
	}
}

// serveWeb serves the web host: the consent pages and the pages a user
// reads. Token endpoints and every unknown path are 404s here [C].
func (s *Simkl) serveWeb(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/oauth/authorize" || p == "/oauth2/authorize":
		q := r.URL.Query()
		clientID, missing := simklParams(r)
		s.mu.Lock()
		s.lastAuthorizeQuery = cloneValues(q)
		if missing {
			s.missingParams++
		}
		deny := s.deny
		s.mu.Unlock()
		app := s.appOf(clientID)
		if missing || app == simklUnknownApp {
			simklError(w, http.StatusPreconditionFailed, "client_id_failed", simklMsgClientID)
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			simklPage(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		if p == "/oauth/authorize" {
			s.v1Authorize(w, q, app, deny)
		} else {
			s.v2Authorize(w, q, app, deny)
		}
	// [I] the pages a user opens by hand, or that Simkl itself redirects to
	// (V1 denial lands on "/"), need none of the per-request parameters.
	case p == "/":
		simklPage(w, http.StatusOK, "Simkl (fake)")
	case p == "/pin" || strings.HasPrefix(p, "/pin/"):
		simklPage(w, http.StatusOK, "Enter your code: "+strings.TrimPrefix(strings.TrimPrefix(p, "/pin"), "/"))
	default:
		simklPage(w, http.StatusNotFound, "404 Not Found")
	}
}

func simklPage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	t := html.EscapeString(text)
	io.WriteString(w, "<!DOCTYPE html><html><head><title>"+t+"</title></head><body><p>"+t+"</p></body></html>\n")
}

// simklRedirect answers 302 to redirect with params appended to the query
// it already has (its fragment dropped).
func simklRedirect(w http.ResponseWriter, redirect *url.URL, params string) {
	u := *redirect
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += params
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// v1Authorize serves GET /oauth/authorize, which approves (or, with
// DenyConsent, sends the user to "/") at once. Errors are 400 pages [I].
func (s *Simkl) v1Authorize(w http.ResponseWriter, q url.Values, app simklApp, deny bool) {
	redirect, err := url.Parse(q.Get("redirect_uri"))
	// [C] redirect_uri may be left out only with PKCE by an app with no
	// redirect URI registered: consent then ends on simkl.com, which shows
	// the code for the user to paste. [I] the fake has no app settings: a
	// request with a code_challenge and no redirect_uri is such an app's.
	paste := q.Get("redirect_uri") == "" && q.Get("code_challenge") != ""
	switch {
	case app != simklV1: // [I] a V2 app on the V1 page
		simklPage(w, http.StatusBadRequest, "This client_id is not an AUTH V1 app.")
		return
	case q.Get("response_type") != "code":
		simklPage(w, http.StatusBadRequest, "response_type must be code.")
		return
	// [I] any absolute URI counts as registered; the fake has no app
	// settings. [C] without PKCE (confidential clients) one is required.
	case !paste && (err != nil || !redirect.IsAbs()):
		simklPage(w, http.StatusBadRequest, "redirect_uri is required.")
		return
	}
	if deny { // [S] no error redirect: the user lands on simkl.com's home page
		w.Header().Set("Location", s.WebURL+"/")
		w.WriteHeader(http.StatusFound)
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		method = ""
	case method == "": // [I] the docs call S256 the default
		method = "S256"
	case method != "S256" && method != "plain":
		challenge, method = "", "" // [C] case-sensitive; anything else is silently ignored
	}
	code := randomHex(16)
	s.mu.Lock()
	now := s.nowLocked()
	makeRoom(s.codes, func(c *simklCode) bool { return !now.Before(c.expires) }, nil)
	s.codes[code] = &simklCode{redirectURI: q.Get("redirect_uri"), challenge: challenge, method: method, expires: now.Add(simklCodeTTL)}
	if paste {
		s.shownCode = code
	}
	s.mu.Unlock()
	if paste { // [C] the code is shown; [I] the wording, and state is not shown
		simklPage(w, http.StatusOK, "Copy this code into the app: "+code)
		return
	}
	params := "code=" + code
	if st := q.Get("state"); st != "" { // [C] state is optional, echoed if sent
		params += "&state=" + url.QueryEscape(st)
	}
	simklRedirect(w, redirect, params)
}

// v2Authorize serves GET /oauth2/authorize, which approves (or, with
// DenyConsent, denies) at once. Errors before the redirect is trusted are
// 400 pages [I].
func (s *Simkl) v2Authorize(w http.ResponseWriter, q url.Values, app simklApp, deny bool) {
	redirect, err := url.Parse(q.Get("redirect_uri"))
	var problem string
	switch {
	case app != simklV2:
		problem = "This client_id is not an AUTH V2 app."
	case q.Get("response_type") != "code":
		problem = "response_type must be code."
	case err != nil || !redirect.IsAbs():
		problem = "redirect_uri is required."
	case q.Get("state") == "": // [I] required, as the redirect carries it
		problem = "state is required."
	case q.Get("code_challenge") == "":
		problem = "code_challenge is required."
	case q.Get("code_challenge_method") != "S256": // [S] S256 only, plain refused
		problem = "code_challenge_method must be S256."
	}
	if problem != "" {
		simklPage(w, http.StatusBadRequest, problem)
		return
	}
	tail := "&state=" + url.QueryEscape(q.Get("state")) + "&iss=" + url.QueryEscape(s.WebURL) // [S] RFC 9207 iss
	if deny {
		simklRedirect(w, redirect, "error=access_denied"+tail)
		return
	}
	code := randomHex(16)
	s.mu.Lock()
	now := s.nowLocked()
	makeRoom(s.codes, func(c *simklCode) bool { return !now.Before(c.expires) }, nil)
	s.codes[code] = &simklCode{
		v2:          true,
		redirectURI: q.Get("redirect_uri"),
		challenge:   q.Get("code_challenge"),
		method:      "S256",
		scope:       s.withholdLocked(simklScopes(q.Get("scope"))), // [S] unknown dropped, none ⇒ read-only
		expires:     now.Add(simklCodeTTL),
	}
	s.mu.Unlock()
	simklRedirect(w, redirect, "code="+code+tail)
}
