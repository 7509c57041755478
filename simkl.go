package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// Simkl's two hosts (docs/simkl.md#hosts): consent pages on SimklWebURL,
// everything programmatic on SimklAPIURL. An authorize URL on the API host
// is a 404, so this package builds consent URLs only from the web base and
// token and API URLs only from the API base.
const (
	SimklWebURL = "https://simkl.com"
	SimklAPIURL = "https://api.simkl.com"
)

// Simkl V2 scopes (docs/simkl.md#scopes). Without SimklScopeWrite a V2 token
// is read-only and fails only at the first write, with a 403.
const (
	SimklScopeRead  = "media:read"
	SimklScopeWrite = "media:write"
)

// SimklGeneration is one of Simkl's two auth generations. They differ in
// endpoints, tokens and flows, apps of one cannot use the other, and tokens
// cannot be converted, so the caller chooses explicitly.
type SimklGeneration int

const (
	// SimklV1 is the first generation: /oauth/* endpoints, five-year access
	// tokens without refresh, the PIN flow, PKCE for public clients.
	// Simkl retires it around April 2027 (docs/simkl.md#generations).
	SimklV1 SimklGeneration = 1
	// SimklV2 is the second generation (September 2026): /oauth2/*
	// endpoints, 7-day access tokens with 180-day refresh tokens, scopes,
	// S256-only PKCE with iss on the redirect, RFC 8628 device flow,
	// revocation.
	SimklV2 SimklGeneration = 2
)

// String returns "v1" or "v2", the value stored in Token.Meta["simkl_auth"].
func (g SimklGeneration) String() string {
	switch g {
	case SimklV1:
		return "v1"
	case SimklV2:
		return "v2"
	}
	return fmt.Sprintf("SimklGeneration(%d)", int(g))
}

// simklMetaKey marks a token's generation in Token.Meta.
const simklMetaKey = "simkl_auth"

// SimklGenerationOf tells which Simkl generation issued t: from the mark
// this package stores in t.Meta, else from the token's shape (V2 access
// tokens start with "simkl_at_"). It returns 0 for a token that is not
// Simkl's. Use it to pick the provider for a stored token.
func SimklGenerationOf(t *Token) SimklGeneration {
	if t == nil {
		return 0
	}
	switch t.Meta[simklMetaKey] {
	case "v1":
		return SimklV1
	case "v2":
		return SimklV2
	}
	switch {
	case strings.HasPrefix(t.AccessToken, "simkl_at_"):
		return SimklV2
	case t.Provider == "simkl":
		return SimklV1
	}
	return 0
}

// Simkl waits when it rate-limits without saying how long
// (docs/simkl.md#rate-limits): the write lock lasts 20 s [S]; for 429 and the
// 412 throttling block the documented back-off starts at 1 s [I].
const (
	simklWriteLockWait = 20 * time.Second
	simklBackoffWait   = time.Second
)

// Simkl is the Simkl provider for one auth generation. Every request it
// sends or authorizes — consent URL, token endpoints, PIN and device calls,
// API calls through Transport — carries the client_id, app-name and
// app-version query parameters and a User-Agent, as Simkl requires since
// April 2026, and the simkl-api-key header.
type Simkl struct {
	app       App
	gen       SimklGeneration
	web, api  *url.URL
	apiParams string // client_id, app-name, app-version, encoded
	webParams string // app-name, app-version (x/oauth2 adds client_id)
	ep        *endpoint

	// What authorizeWith adds, built once: suffix[m] is "&k=v" for each
	// parameter in the mask m of simklParamBit (client_id, app-name,
	// app-version, in that order); ua and key are the User-Agent and
	// simkl-api-key values, their len equal to their cap, so an append
	// copies them and only the Transport's own clone shares them.
	suffix  [8]string
	ua, key []string

	// refreshFn and revokeFn are s.refresh and s.Revoke, made once so that
	// a Source per user does not allocate its own method values.
	refreshFn MintFunc
	revokeFn  func(context.Context, *Token) error
}

// NewSimkl returns the Simkl provider of generation gen for app.
// App.ClientID, App.AppName (a short lowercase identifier) and
// App.AppVersion are required. An App without ClientSecret is a public
// client: its code flow uses PKCE and no secret. App.WebURL and App.APIURL
// point it at a fake or a proxy.
func NewSimkl(app App, gen SimklGeneration) (*Simkl, error) {
	if gen != SimklV1 && gen != SimklV2 {
		return nil, configErr("simkl: generation must be SimklV1 or SimklV2")
	}
	if app.ClientID == "" {
		return nil, configErr("simkl: App.ClientID is required")
	}
	if app.AppName == "" || app.AppName != strings.ToLower(app.AppName) || strings.ContainsAny(app.AppName, " /?&#=") {
		return nil, configErr("simkl: App.AppName must be a short lowercase identifier, such as \"my-app\"")
	}
	if app.AppVersion == "" {
		return nil, configErr("simkl: App.AppVersion is required")
	}
	web, err := baseURL(app.WebURL, SimklWebURL)
	if err != nil {
		return nil, err
	}
	api, err := baseURL(app.APIURL, SimklAPIURL)
	if err != nil {
		return nil, err
	}
	s := &Simkl{
		app: app, gen: gen, web: web, api: api,
		apiParams: url.Values{"client_id": {app.ClientID}, "app-name": {app.AppName}, "app-version": {app.AppVersion}}.Encode(),
		webParams: url.Values{"app-name": {app.AppName}, "app-version": {app.AppVersion}}.Encode(),
	}
	for m := range s.suffix {
		var b strings.Builder
		for i, kv := range [...][2]string{{"client_id", app.ClientID}, {"app-name", app.AppName}, {"app-version", app.AppVersion}} {
			if m&(1<<i) != 0 {
				b.WriteString("&" + kv[0] + "=" + url.QueryEscape(kv[1]))
			}
		}
		s.suffix[m] = b.String()
	}
	s.ua = []string{app.userAgent()}
	s.key = []string{app.ClientID}
	s.ep = newEndpoint("simkl", app, http.Header{
		"User-Agent":    {app.userAgent()},
		"Simkl-Api-Key": {app.ClientID},
		"Accept":        {"application/json"},
	}, simklErrorShape, s.finish)
	s.refreshFn, s.revokeFn = s.refresh, s.Revoke
	return s, nil
}

// Name returns "simkl".
func (s *Simkl) Name() string { return "simkl" }

// Generation returns the auth generation this provider speaks.
func (s *Simkl) Generation() SimklGeneration { return s.gen }

func (s *Simkl) appHTTPClient() *http.Client { return s.app.HTTPClient }

// apiURL is p on the API host with the required parameters.
func (s *Simkl) apiURL(p string) string { return s.api.String() + p + "?" + s.apiParams }

// webURL is p on the consent host with app-name and app-version.
func (s *Simkl) webURL(p string) string { return s.web.String() + p + "?" + s.webParams }

// oauthPath is the path of an OAuth endpoint of this generation: /oauth/x
// for V1, /oauth2/x for V2.
func (s *Simkl) oauthPath(x string) string {
	if s.gen == SimklV2 {
		return "/oauth2/" + x
	}
	return "/oauth/" + x
}

// Config returns the x/oauth2 configuration of this generation's code
// flow, with the required parameters in the URLs and AuthStyleInParams set
// explicitly (never auto-detect: Simkl burns a code on the first attempt).
func (s *Simkl) Config() *oauth2.Config {
	c := &oauth2.Config{
		ClientID:     s.app.ClientID,
		ClientSecret: s.app.ClientSecret,
		RedirectURL:  s.app.RedirectURL,
		Scopes:       s.app.scopes(nil),
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.webURL(s.oauthPath("authorize")),
			TokenURL:  s.apiURL(s.oauthPath("token")),
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	if s.gen == SimklV2 {
		c.Endpoint.DeviceAuthURL = s.apiURL("/oauth2/device")
	} else {
		c.Scopes = nil // V1 has no scopes: every token is "public"
	}
	return c
}

// Owns reports whether u is on Simkl's API origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none.
func (s *Simkl) Owns(u *url.URL) bool {
	// The exact spelling of the base is the common case, and the same origin.
	return u != nil && u.Host == s.api.Host && u.Scheme == s.api.Scheme || sameOrigin(u, s.api)
}

// Authorize sets the bearer token, adds whichever of client_id, app-name
// and app-version the URL lacks, and sets User-Agent (unless the caller set
// one) and simkl-api-key. A token of the other generation is refused: it
// would only be rejected.
func (s *Simkl) Authorize(r *http.Request, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("simkl: no access token")
	}
	return s.authorize(r, t, s.credential(t), nil, false)
}

func (s *Simkl) credential(t *Token) string { return "Bearer " + t.AccessToken }

// authorizeWith is Authorize for the Transport, on the clone it made: the
// clone's header may share the provider's User-Agent and simkl-api-key
// values, since nothing but the base transport, which must not modify the
// request, ever sees it.
func (s *Simkl) authorizeWith(r *http.Request, t *Token, cred string) error {
	return s.authorize(r, t, cred, nil, true)
}

// authorizeWithValues is authorizeWith with the Authorization value slice
// the Transport built once for the token (headerCredentialer).
func (s *Simkl) authorizeWithValues(r *http.Request, t *Token, values []string) error {
	return s.authorize(r, t, values[0], values, true)
}

// authorize attaches cred and the required parameters and headers to r.
// With shared unset (a caller's own request) every value set is r's own;
// with it set, authz (when given) is the Authorization value slice the
// Transport keeps for the token.
func (s *Simkl) authorize(r *http.Request, t *Token, cred string, authz []string, shared bool) error {
	if g := SimklGenerationOf(t); g != 0 && g != s.gen {
		return configErr("simkl: a %s token cannot be used with the %s provider", g, s.gen)
	}
	// The User-Agent is the App's unless the caller set a non-empty one
	// (Header.Get's reading: the first value).
	ua := r.Header["User-Agent"]
	addUA := len(ua) == 0 || ua[0] == ""
	if shared {
		if authz == nil {
			authz = []string{cred}
		}
		r.Header["Authorization"] = authz
		if addUA {
			r.Header["User-Agent"] = s.ua
		}
		r.Header["Simkl-Api-Key"] = s.key
	} else {
		// One allocation; the three-index slices keep an append to one
		// value from writing into another.
		vals := []string{cred, s.key[0], s.ua[0]}
		r.Header["Authorization"] = vals[0:1:1]
		r.Header["Simkl-Api-Key"] = vals[1:2:2]
		if addUA {
			r.Header["User-Agent"] = vals[2:3:3]
		}
	}
	r.URL.RawQuery = s.withParams(r.URL.RawQuery)
	return nil
}

// withParams appends the required parameters raw lacks, leaving the
// caller's own parameters as they are: one pass over raw, and one
// allocation when something is missing.
func (s *Simkl) withParams(raw string) string {
	if raw == "" {
		return s.apiParams
	}
	missing := 7 // the bits of simklParamBit not seen yet
	for rest, more := raw, true; more && missing != 0; {
		var p string
		p, rest, more = strings.Cut(rest, "&")
		k, _, _ := strings.Cut(p, "=")
		missing &^= simklParamBit(k)
	}
	return raw + s.suffix[missing]
}

// simklParamBit is the bit of the required parameter the query key k
// names, once unescaped (0 for any other key, or one that does not
// unescape).
func simklParamBit(k string) int {
	if queryKeyEscaped(k) {
		uk, err := url.QueryUnescape(k)
		if err != nil {
			return 0
		}
		k = uk
	}
	switch k {
	case "client_id":
		return 1
	case "app-name":
		return 2
	case "app-version":
		return 4
	}
	return 0
}

// Verdict reads a Simkl API response (docs/simkl.md#error-codes). A 401
// user_token_failed (or WWW-Authenticate invalid_token) means the token is
// dead: for V2 it is Expired — refresh once and replay, and only a failed
// refresh means a new sign-in [I]; for V1, which has no refresh, it means
// the user revoked the app: Revoked. Rate limits (429, 412
// client_id_failed, 400 RATE_LIMIT), 403 and 5xx are returned as they are;
// CheckResponse turns them into typed errors.
func (s *Simkl) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode != http.StatusUnauthorized {
		return VerdictOK
	}
	code, _ := simklErrorShape(peekBody(resp, 4<<10))
	if code != "user_token_failed" && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		return VerdictOK
	}
	if s.gen == SimklV2 {
		return VerdictExpired
	}
	return VerdictRevoked
}

// simklErrorShape reads Simkl's error bodies: the API envelope
// {error, code, message}, V1's token errors {error} and V2's RFC 6749
// {error, error_description} (docs/simkl.md#error-shapes).
func simklErrorShape(body []byte) (code, desc string) {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	desc = e.ErrorDescription
	if desc == "" {
		desc = e.Message
	}
	if safeCode(e.Error) == "" {
		return "", strings.TrimSpace(e.Error + " " + desc)
	}
	return e.Error, desc
}

// rateLimitOrBadClient is Simkl's 412 client_id_failed: a wrong client_id
// or a POST throttling block, which Simkl reports identically. It matches
// both ErrRateLimited and ErrInvalidClient.
var rateLimitOrBadClient = &eitherError{
	msg: "videoauth: rate limited or client_id rejected", errs: []error{ErrRateLimited, ErrInvalidClient},
}

// eitherError is an error that means one of several sentinels, and the
// service does not say which.
type eitherError struct {
	msg  string
	errs []error
}

func (e *eitherError) Error() string   { return e.msg }
func (e *eitherError) Unwrap() []error { return e.errs }

// refine maps Simkl's own codes to sentinels and fills the rate-limit wait
// Simkl leaves out. op "refresh" turns invalid_grant into ErrReauthRequired:
// the refresh token is revoked or idle past 180 days.
func (s *Simkl) refine(op string, e *Error) *Error {
	switch e.Code {
	case "grant_error":
		e.Err = ErrCodeUsed
	case "secret_error":
		e.Err = ErrInvalidClient // wrong secret, or PKCE verification failed
	case "redirect_failed":
		e.Err = ErrRedirectMismatch
	case "empty_field":
		e.Err = ErrInvalidRequest
	case "user_token_failed", "user_token_required":
		e.Err = ErrReauthRequired
	case "invalid_grant":
		if op == "refresh" {
			e.Err = ErrReauthRequired
		}
	case "client_id_failed":
		e.Err = rateLimitOrBadClient
	case "RATE_LIMIT":
		e.Err = ErrRateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = simklWriteLockWait
		}
	}
	if e.Status == http.StatusTooManyRequests {
		e.Err = ErrRateLimited
	}
	if errors.Is(e.Err, ErrRateLimited) && e.RetryAfter == 0 {
		e.RetryAfter = simklBackoffWait
	}
	return e
}

// apiError implements apiErrorer for CheckResponse.
func (s *Simkl) apiError(rawURL string, resp *wire.Response) *Error {
	return s.refine("api", s.ep.errorFrom("api", rawURL, resp))
}

// finish marks the token's generation.
func (s *Simkl) finish(t *Token) {
	if t.Meta == nil {
		t.Meta = map[string]string{}
	}
	t.Meta[simklMetaKey] = s.gen.String()
}

// token posts form to an OAuth endpoint of the API host and parses the
// token; the client secret goes in the body when secret is true.
func (s *Simkl) token(ctx context.Context, op, path string, form url.Values, secret bool) (*Token, error) {
	r := &wire.Request{URL: s.apiURL(path), Form: form, Style: wire.AuthInParams, ClientID: s.app.ClientID}
	if secret {
		r.ClientSecret = s.app.ClientSecret
	}
	tok, err := s.ep.token(ctx, op, r)
	var e *Error
	if errors.As(err, &e) {
		s.refine(op, e)
	}
	return tok, err
}

// AuthRequest starts the authorization-code flow on simkl.com.
//
// V1 (/oauth/authorize): a confidential client (App.ClientSecret set)
// sends state only, since Simkl takes client_secret and code_verifier as
// mutually exclusive; a public client adds PKCE with code_challenge_method
// "S256", spelled exactly so (Simkl silently ignores "s256"). V1 has no
// scopes. Simkl V1 signals denial by never coming back: wait with a timeout
// (Loopback does, and reports ErrAccessDenied).
//
// V2 (/oauth2/authorize): S256 PKCE always, the scopes (default
// App.Scopes, else media:read) space-separated as %20, and the callback's
// iss required and checked against simkl.com (RFC 9207): Simkl V2 sends it
// on every redirect, so a callback without it is ErrIssuerMismatch.
//
// redirectURL "" means App.RedirectURL. One is required, except for a V1
// public client (no App.ClientSecret) whose Simkl app has no redirect URI
// registered: with neither, the URL carries no redirect_uri, simkl.com
// ends the consent by showing the code to the user, and ExchangeCode
// exchanges the code the user pastes (api.simkl.org/api-reference/simkl/authorize:
// redirect_uri is optional only with PKCE and no registered redirect URI).
func (s *Simkl) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	cfg := s.Config()
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	if cfg.RedirectURL == "" && (s.gen != SimklV1 || s.app.ClientSecret != "") {
		return nil, configErr("simkl: a redirect URL is required (only a V1 public client, without ClientSecret, can do without one)")
	}
	o := authRequestOpts{provider: "simkl", cfg: cfg, pkce: s.gen == SimklV2 || s.app.ClientSecret == ""}
	if s.gen == SimklV2 {
		cfg.Scopes = s.app.scopes(scopes)
		if len(cfg.Scopes) == 0 {
			cfg.Scopes = []string{SimklScopeRead}
		}
		// [S] Simkl V2 sends iss on every redirect (RFC 9207 §2), so one
		// without it did not come from Simkl as sent: it is refused.
		o.issuer, o.requireIss = s.web.String(), true
	}
	ar, err := newAuthRequest(o)
	if err != nil {
		return nil, err
	}
	// Simkl wants spaces in scope as %20; url.Values encodes them as '+'
	// and any literal '+' as %2B, so the swap is exact.
	ar.URL = strings.ReplaceAll(ar.URL, "+", "%20")
	return ar, nil
}

// Exchange checks the callback query q against ar — state first, in
// constant time, single use; iss for V2 — and exchanges the code once at
// api.simkl.com (/oauth/token or /oauth2/token), with the identical
// redirect_uri and the PKCE verifier or the client secret. Simkl deletes a
// code at the first attempt even when it fails, so a failed exchange is
// never retried. V1's own error codes come back typed: grant_error as
// ErrCodeUsed, secret_error as ErrInvalidClient, redirect_failed as
// ErrRedirectMismatch, empty_field as ErrInvalidRequest.
func (s *Simkl) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	if ar == nil || ar.Provider != s.Name() || ar.Implicit {
		return nil, fmt.Errorf("%w: not a Simkl code-flow request", ErrStateMismatch)
	}
	if ar.RedirectURL == "" {
		return nil, configErr("simkl: this request has no redirect URL, so no callback: exchange the code the user pastes with ExchangeCode")
	}
	// [S] Simkl V2 puts iss on every redirect: a callback without it is
	// refused even when ar does not ask for it (RequireIss false in a
	// session stored by an earlier version, or an AuthRequest built by
	// hand). Callback's order is kept: a wrong state is ErrStateMismatch and
	// consumes nothing, the right one consumes ar.
	if s.gen == SimklV2 && !ar.RequireIss && !q.Has("iss") && ar.stateMatches(q) && ar.used.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: callback has no iss", ErrIssuerMismatch)
	}
	code, err := ar.Callback(q)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ar.RedirectURL}}
	if ar.Verifier != "" {
		form.Set("code_verifier", ar.Verifier)
	}
	// V1: secret XOR verifier. V2: "server apps" send both.
	secret := s.gen == SimklV2 || ar.Verifier == ""
	tok, err := s.token(ctx, "exchange", s.oauthPath("token"), form, secret)
	if err != nil {
		return nil, err
	}
	s.checkScopes(ar.Scopes, tok)
	return tok, nil
}

// ExchangeCode exchanges the code a user pasted, the end of a V1 consent
// started by AuthRequest without a redirect URL: simkl.com then shows the
// code instead of redirecting (api.simkl.org/api-reference/simkl/authorize).
// There is no callback, hence no state to check; PKCE binds the code to ar,
// whose verifier is sent. Like Exchange it consumes ar — a second call is
// ErrStateUsed — and makes one attempt, never retried: Simkl burns a code at
// the first try, even a failed one. It posts grant_type, code, client_id and
// code_verifier to /oauth/token, with no redirect_uri and no secret
// (api.simkl.org/api-reference/oauth-pkce). Spaces around code are trimmed;
// an empty code, or one with characters no code has (RFC 6749 Appendix A),
// is ErrBadCallback and leaves ar unused, so the user can paste again.
func (s *Simkl) ExchangeCode(ctx context.Context, ar *AuthRequest, code string) (*Token, error) {
	if ar == nil || ar.Provider != s.Name() || ar.Implicit {
		return nil, fmt.Errorf("%w: not a Simkl code-flow request", ErrStateMismatch)
	}
	if s.gen != SimklV1 {
		return nil, fmt.Errorf("%w: a pasted code is Simkl V1's; V2 apps use a redirect or Device", ErrUnsupportedGrant)
	}
	if ar.RedirectURL != "" || ar.Verifier == "" {
		return nil, configErr("simkl: ExchangeCode takes a V1 public client's request made without a redirect URL; a callback goes to Exchange")
	}
	code = strings.TrimSpace(code)
	if code == "" || !vschar(code) || strings.ContainsRune(code, ' ') {
		return nil, fmt.Errorf("%w: the pasted code is empty or malformed", ErrBadCallback)
	}
	if !ar.used.CompareAndSwap(false, true) {
		return nil, ErrStateUsed
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {ar.Verifier}}
	return s.token(ctx, "exchange", "/oauth/token", form, false)
}

// checkScopes warns through App.Logger when media:write was asked for but
// not granted: such a token fails only at the first write
// (docs/simkl.md#scopes). Token.RequireScopes gives the same answer as an
// error.
func (s *Simkl) checkScopes(requested []string, tok *Token) {
	if s.gen != SimklV2 {
		return
	}
	for _, sc := range requested {
		if sc == SimklScopeWrite && !tok.HasScope(SimklScopeWrite) {
			s.app.warn("videoauth: simkl granted no media:write although it was requested; the token is read-only",
				"granted", strings.Join(tok.Scopes, " "))
			return
		}
	}
}

// PIN starts Simkl V1's PIN flow (GET /oauth/pin; docs/simkl.md#v1-pin-flow)
// for TVs and command-line tools: no secret, no redirect. Show the user
// VerificationURI and UserCode; Wait polls GET /oauth/pin/{user_code} on the
// common engine. The response's device_code is a literal placeholder and is
// ignored. When a poll answers with a new code, the old one is gone
// (expired or already used) and Wait stops with ErrExpiredCode. Simkl has no
// deny answer: a code the user never approves ends at its expiry. A
// verification URI that is not an https page on simkl.com (or on the host
// of App.WebURL) gives an *Error wrapping ErrBadVerificationURI (RFC 8628
// §5.4); so does one from Device.
func (s *Simkl) PIN(ctx context.Context) (*DeviceCode, error) {
	if s.gen != SimklV1 {
		return nil, fmt.Errorf("%w: the PIN flow is Simkl V1's; V2 apps use Device", ErrUnsupportedGrant)
	}
	u := s.apiURL("/oauth/pin")
	resp, err := s.ep.do(ctx, "pin", &wire.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, s.refine("pin", s.ep.errorFrom("pin", u, resp))
	}
	pr, err := parseSimklPIN(resp.Body)
	if err != nil {
		return nil, &Error{Provider: "simkl", Op: "pin", Status: resp.Status, Body: capBody(resp.Body), Err: err}
	}
	pollURL := s.apiURL("/oauth/pin/" + pr.UserCode) // user code checked to be [A-Za-z0-9]
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		resp, err := s.ep.do(ctx, "pin_poll", &wire.Request{Method: http.MethodGet, URL: pollURL})
		if err != nil {
			return nil, transportOutcome(err), err
		}
		if resp.Status < 200 || resp.Status > 299 {
			e := s.refine("pin_poll", s.ep.errorFrom("pin_poll", pollURL, resp))
			return nil, httpOutcome(e), e
		}
		return s.pinPollResult(pollURL, resp)
	}
	dc := newDeviceCode("simkl", s.app.Clock, time.Duration(pr.ExpiresIn)*time.Second, time.Duration(pr.Interval)*time.Second, poll)
	dc.UserCode = pr.UserCode
	dc.VerificationURI = pr.VerificationURI
	// [S] simkl.com/pin/{code} opens the page with the code filled in.
	dc.VerificationURIComplete = strings.TrimRight(pr.VerificationURI, "/") + "/" + pr.UserCode
	if err := checkDeviceCode(dc, s.verificationHosts()); err != nil {
		return nil, &Error{Provider: "simkl", Op: "pin", Status: resp.Status, Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// verificationHosts are the hosts a PIN or device verification URI may be
// on: simkl.com (www. too), where the PIN page is, and the host of
// App.WebURL (a fake or a proxy). The API host serves no page for users.
func (s *Simkl) verificationHosts() []string {
	return verificationHosts([]*url.URL{s.web}, "simkl.com", "www.simkl.com")
}

// pinPollResult reads one 200 answer of GET /oauth/pin/{code}.
func (s *Simkl) pinPollResult(pollURL string, resp *wire.Response) (*Token, pollOutcome, error) {
	var p struct {
		Result      string          `json:"result"`
		Message     string          `json:"message"`
		AccessToken json.RawMessage `json:"access_token"`
		DeviceCode  json.RawMessage `json:"device_code"`
	}
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return nil, pollFail, &Error{Provider: "simkl", Op: "pin_poll", Status: resp.Status, Body: capBody(resp.Body),
			Err: fmt.Errorf("%w: PIN poll answer is not a JSON object", ErrBadResponse)}
	}
	switch {
	case len(p.DeviceCode) > 0:
		// The trap of docs/simkl.md#v1-pin-flow: a gone or unknown code is
		// answered with a brand-new code. Ours will never be approved.
		return nil, pollFail, &Error{Provider: "simkl", Op: "pin_poll", Status: resp.Status, Code: "code_replaced",
			Description: "the PIN code expired or was already used; Simkl issued a new one", Err: ErrExpiredCode}
	case p.Result == "OK" && len(p.AccessToken) > 0:
		tok, err := s.ep.parse("pin_poll", pollURL, resp)
		if err != nil {
			return nil, pollFail, err
		}
		return tok, pollDone, nil
	case strings.EqualFold(strings.TrimSpace(p.Message), "slow down"):
		return nil, pollSlowDown, nil
	case p.Result == "KO":
		return nil, pollPending, nil
	}
	return nil, pollFail, &Error{Provider: "simkl", Op: "pin_poll", Status: resp.Status, Body: capBody(resp.Body),
		Err: fmt.Errorf("%w: PIN poll answer has neither a result nor a token", ErrBadResponse)}
}

// parseSimklPIN reads the /oauth/pin answer, an RFC 8628 shape whose
// device_code is a placeholder (ignored). verification_url is accepted for
// verification_uri; the user code must be alphanumeric, since it becomes
// part of the poll URL's path.
func parseSimklPIN(body []byte) (*deviceAuth, error) {
	var pr deviceAuth
	if err := json.Unmarshal(body, &pr); err != nil {
		return nil, fmt.Errorf("%w: PIN response is not the expected JSON", ErrBadResponse)
	}
	if pr.VerificationURI == "" {
		pr.VerificationURI = pr.VerificationURL
	}
	if pr.UserCode == "" || pr.VerificationURI == "" {
		return nil, fmt.Errorf("%w: PIN response lacks user_code or verification_uri", ErrBadResponse)
	}
	if len(pr.UserCode) > 32 || strings.IndexFunc(pr.UserCode, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return nil, fmt.Errorf("%w: PIN user_code is not alphanumeric", ErrBadResponse)
	}
	if err := checkTiming(pr.ExpiresIn, pr.Interval); err != nil {
		return nil, err
	}
	return &pr, nil
}

// Device starts Simkl V2's device flow (RFC 8628;
// docs/simkl.md#v2-device-flow): POST /oauth2/device, then Wait polls
// /oauth2/token with the device_code grant on the common engine
// (authorization_pending, slow_down +5 s, back-off on network errors,
// access_denied and expired_token typed). x/oauth2's DeviceAccessToken is not
// used: it reads the real clock, gives up on the first network error where
// RFC 8628 §3.5 asks for back-off, and truncates large bodies silently.
func (s *Simkl) Device(ctx context.Context, scopes ...string) (*DeviceCode, error) {
	if s.gen != SimklV2 {
		return nil, fmt.Errorf("%w: the device flow is Simkl V2's; V1 apps use PIN", ErrUnsupportedGrant)
	}
	sc := s.app.scopes(scopes)
	if len(sc) == 0 {
		sc = []string{SimklScopeRead}
	}
	u := s.apiURL("/oauth2/device")
	resp, err := s.ep.do(ctx, "device", &wire.Request{URL: u, Style: wire.AuthInParams, ClientID: s.app.ClientID,
		Form: url.Values{"scope": {strings.Join(sc, " ")}}})
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, s.refine("device", s.ep.errorFrom("device", u, resp))
	}
	da, err := parseDeviceAuth(resp.Body)
	if err != nil {
		return nil, &Error{Provider: "simkl", Op: "device", Status: resp.Status, Body: capBody(resp.Body), Err: err}
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		tok, err := s.token(ctx, "device_poll", "/oauth2/token", form, true)
		if err != nil {
			return nil, rfc8628Outcome(err), err
		}
		s.checkScopes(sc, tok)
		return tok, pollDone, nil
	}
	dc := newDeviceCode("simkl", s.app.Clock, time.Duration(da.ExpiresIn)*time.Second, time.Duration(da.Interval)*time.Second, poll)
	dc.UserCode, dc.VerificationURI, dc.VerificationURIComplete = da.UserCode, da.VerificationURI, da.VerificationURIComplete
	if err := checkDeviceCode(dc, s.verificationHosts()); err != nil {
		return nil, &Error{Provider: "simkl", Op: "device", Status: resp.Status, Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// Source returns a Source holding a user token t (from Exchange, PIN,
// Device or storage).
//
// V2: the Source refreshes t with its refresh token a day before it
// expires (Simkl's advice) and once when Simkl rejects it, serialised so
// one grant never sees two refreshes at once (each refresh kills the
// previous access token). Set OnToken to persist each new token; it runs
// before any request uses it. A dead refresh token (revoked, idle past 180
// days) makes the Source answer ErrReauthRequired.
//
// V1: tokens last five years and cannot be refreshed; a rejected token
// means the user revoked the app, and the Source answers ErrReauthRequired.
func (s *Simkl) Source(t *Token) *Source {
	src := newAppSource(s.app, "simkl", grantRefresh, t, nil)
	if s.gen == SimklV2 {
		src.Mint = s.refreshFn
		src.RefreshAhead = 24 * time.Hour
		src.revoker = s.revokeFn
	}
	return src
}

// refresh is the V2 MintFunc: grant_type=refresh_token at /oauth2/token.
// Simkl's refresh tokens do not rotate, and RFC 6749 §6 keeps the old one
// when the answer has none.
func (s *Simkl) refresh(ctx context.Context, cur *Token) (*Token, error) {
	if cur == nil || cur.RefreshToken == "" {
		return nil, errorf("simkl: no refresh token: %w", ErrReauthRequired)
	}
	tok, err := s.token(ctx, "refresh", "/oauth2/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cur.RefreshToken}}, true)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = cur.RefreshToken
	}
	if len(tok.Scopes) == 0 {
		tok.Scopes = cur.Scopes
	}
	for k, v := range cur.Meta {
		if _, ok := tok.Meta[k]; !ok {
			tok.Meta[k] = v
		}
	}
	return tok, nil
}

// Revoke ends a V2 grant (POST /oauth2/revoke, RFC 7009): revoking either
// token ends both, so the refresh token is sent when t has one. Simkl
// answers 200 whatever the token, so success proves only that the request
// arrived. V1 tokens are revoked by the user at simkl.com (Connected Apps):
// ErrUnsupportedGrant.
func (s *Simkl) Revoke(ctx context.Context, t *Token) error {
	if s.gen != SimklV2 {
		return fmt.Errorf("%w: Simkl V1 tokens are revoked by the user in simkl.com's Connected Apps", ErrUnsupportedGrant)
	}
	if t == nil || (t.AccessToken == "" && t.RefreshToken == "") {
		return configErr("simkl: no token to revoke")
	}
	tok := t.RefreshToken
	if tok == "" {
		tok = t.AccessToken
	}
	u := s.apiURL("/oauth2/revoke")
	resp, err := s.ep.do(ctx, "revoke", &wire.Request{URL: u, Style: wire.AuthInParams, ClientID: s.app.ClientID,
		ClientSecret: s.app.ClientSecret, Form: url.Values{"token": {tok}}})
	if err != nil {
		return err
	}
	if resp.Status >= 200 && resp.Status <= 299 {
		return nil
	}
	return s.refine("revoke", s.ep.errorFrom("revoke", u, resp))
}

// Identify asks Simkl whose token t is (GET /users/settings on the API
// host, with the client_id, app-name and app-version parameters, the
// simkl-api-key header and the User-Agent Authorize adds) and returns
// account.id as UserID, user.name as Name and the user object. The shape
// of that answer is not documented (docs/simkl.md#open-questions [I]): an
// answer without a numeric account.id is an *Error matching
// ErrBadResponse. A token Simkl rejects (401 user_token_failed) matches
// ErrTokenExpired when it is a V2 token with a refresh token (refresh it
// and ask again), else ErrReauthRequired. A token of the other generation
// is refused before anything is sent. See Identifier.
func (s *Simkl) Identify(ctx context.Context, t *Token) (*Identity, error) {
	if err := checkIdentifyToken(s, t); err != nil {
		return nil, err
	}
	u := s.api.String() + "/users/settings"
	resp, err := identifyGet(ctx, s, s.ep.hc, u, u, t, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := s.refine("api", s.ep.errorFrom("api", u, resp))
		return nil, identifyFailed(e, t, u, rejection(verdictOf(s, resp), t.RefreshToken != ""))
	}
	id, err := parseSimklIdentity(resp.Body)
	if err != nil {
		return nil, badIdentity("simkl", resp, t, u, err)
	}
	return identified(id, t), nil
}
