package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// Trakt's two hosts (docs/trakt.md#hosts). Since Trakt's auth migration of
// July 2026 every OAuth call — the consent page, the token exchange and
// refresh, revocation, the device code and its polls — goes to
// TraktAuthURL, never to the API host; the API stays on TraktAPIURL, and
// never on apiz.trakt.tv, which Trakt keeps for its own apps.
const (
	TraktAuthURL = "https://auth.trakt.tv"
	TraktAPIURL  = "https://api.trakt.tv"
)

// Trakt scopes (docs/trakt.md#scopes). Trakt documents no scope parameter;
// without one its new auth stack grants "public offline_access" [S], and a
// grant without offline_access probably gets no refresh token [I].
const (
	TraktScopePublic        = "public"
	TraktScopeOfflineAccess = "offline_access"
)

// Errors of Trakt's answers that no other service's sentinel names. Each is
// named for what the caller does about it, so another service with the
// same answer can use it too.
var (
	// ErrBlocked: the service's edge (a CDN or firewall in front of it,
	// such as Cloudflare) refused the request before the service saw it,
	// answering an HTML page instead of the service's own answer. Trakt's
	// edge answers a request without a real User-Agent this way, with a 403
	// (docs/trakt.md#headers). It is not an auth failure: the token and the
	// client credentials are fine, and nothing is renewed or revoked. Fix
	// the request's headers, or try again later.
	ErrBlocked = errors.New("videoauth: request blocked by the service's edge (CDN or firewall), not by its auth")
	// ErrUpgradeRequired: the request needs more than the user's account
	// allows: an account limit is reached (Trakt's 420) or the endpoint is
	// for paying members (Trakt's 426, VIP only). The service's answer
	// names the upgrade page (Trakt's X-Upgrade-URL header). Asking again
	// will not help until the user upgrades.
	ErrUpgradeRequired = errors.New("videoauth: the user's account must be upgraded for this request")
	// ErrAccountLocked: the user's account is locked or deactivated
	// (Trakt's 423, with X-Account-Locked and X-Account-Deactivated): the
	// user must contact the service; no token helps.
	ErrAccountLocked = errors.New("videoauth: the user's account is locked or deactivated")
)

// errTraktMigrated is a refresh token that predates Trakt's auth migration:
// invalid_grant "session not found" (docs/trakt.md#migration) [C].
var errTraktMigrated = fmt.Errorf("%w: the refresh token predates Trakt's July 2026 auth migration, so the user must authorize the app once more",
	ErrReauthRequired)

// errTraktBadKey is a 403 that is not the edge's: an invalid API key, an
// unapproved app or a limited-access endpoint, which Trakt answers alike
// (docs/trakt.md#api-errors) [C].
var errTraktBadKey = &eitherError{
	msg:  "videoauth: API key invalid, app unapproved, or endpoint of limited access",
	errs: []error{ErrInvalidClient, ErrForbidden},
}

// Trakt's timing and bookkeeping; each is one line to change when Trakt's
// behaviour turns out otherwise.
const (
	// traktAPIVersion is the trakt-api-version every request carries [C].
	traktAPIVersion = "2"
	// traktRefreshAhead is how long before a token stops being usable its
	// Source renews it: an hour of a seven-day token [I], so a renewal
	// rarely meets a request in flight.
	traktRefreshAhead = time.Hour
	// traktPostWait is the wait a 429 gets when Trakt names none: its
	// per-user write limit is one call per second, and a 429 from its
	// abuse systems may carry neither Retry-After nor X-Ratelimit [C].
	traktPostWait = time.Second
	// traktMaxSkew is how far ahead of our clock created_at may be before
	// it is taken for a wrong clock and now + expires_in is used [I].
	traktMaxSkew = 5 * time.Minute
	// traktKeepUnrotated keeps the old refresh token when a refresh answer
	// has none (RFC 6749 §6). Trakt rotates on every refresh [C], so this
	// only matters if that changes [I].
	traktKeepUnrotated = true
	// traktIssuer is the iss a callback must carry when it carries one;
	// "" ignores iss. No source says whether Trakt's new stack sends RFC
	// 9207's iss, nor its value (docs/trakt.md#open-questions), and a wrong
	// guess would fail every sign-in, so it is not checked [I].
	traktIssuer = ""
	// traktMetaRedirect is the Token.Meta key of the redirect URI a grant
	// was made with, sent again with its refreshes.
	traktMetaRedirect = "trakt_redirect_uri"
)

// Trakt is the Trakt provider (docs/trakt.md): the authorization-code grant
// with S256 PKCE always, Trakt's own device flow, refresh with single-use
// rotating refresh tokens, revocation and Identify, all on auth.trakt.tv
// with JSON bodies, and the API on api.trakt.tv.
//
// Trakt departs from the RFCs in ways the Standard provider cannot follow,
// so it is its own provider built from the same pieces: every OAuth body is
// JSON, not a form (RFC 6749 §4.1.3), with the client credentials in it;
// the device flow is not RFC 8628 (the poll sends code, not device_code,
// has no grant_type, and is answered by HTTP status alone); and every
// request, token endpoints included, carries trakt-api-key (the client
// id), trakt-api-version: 2, Content-Type: application/json and a real
// User-Agent. A Trakt value prints without its client secret.
type Trakt struct {
	app  App
	api  *url.URL // api.trakt.tv, or App.APIURL
	auth *url.URL // auth.trakt.tv, or App.WebURL
	ua   string
	ep   *endpoint
	// oauth is the header of every OAuth request.
	oauth http.Header
	// The header values the Transport's requests share: len == cap, so an
	// append copies them and only the Transport's own clone holds them.
	uaVals, keyVals, versionVals, jsonVals []string
	// revokeFn is t.Revoke, made once so that a Source per user does not
	// allocate its own method value.
	revokeFn func(context.Context, *Token) error
}

// NewTrakt returns the Trakt provider for app. App.ClientID is required,
// and so is a User-Agent — App.UserAgent, else AppName/AppVersion — since
// Trakt's edge blocks requests without a real one; a library default
// ("Go-http-client/…") is refused. App.ClientSecret is optional and
// deprecated for user sign-in: only a server of the app's own should have
// one, and when it is set it goes in the body of every token, device and
// revocation call. App.WebURL points the OAuth host (auth.trakt.tv: the
// consent page and every token endpoint) at a fake or a proxy, and
// App.APIURL the API host. The pre-migration OAuth hosts (trakt.tv,
// api.trakt.tv) are refused as the OAuth host, and apiz.trakt.tv, Trakt's
// private host, as either.
func NewTrakt(app App) (*Trakt, error) {
	if app.ClientID == "" {
		return nil, configErr("trakt: App.ClientID is required")
	}
	ua := strings.TrimSuffix(app.userAgent(), "/")
	switch {
	case app.UserAgent == "" && app.AppName == "":
		return nil, configErr("trakt: a User-Agent is required (App.UserAgent, or App.AppName and App.AppVersion): Trakt blocks requests without one")
	case strings.ContainsFunc(ua, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }):
		return nil, configErr("trakt: App.UserAgent (or AppName/AppVersion) holds a control character")
	case strings.HasPrefix(strings.ToLower(ua), "go-http-client"):
		return nil, configErr("trakt: the User-Agent must name the app (\"MyApp/1.0.0\"), not the HTTP library: Trakt blocks library defaults")
	}
	api, err := baseURL(app.APIURL, TraktAPIURL)
	if err != nil {
		return nil, err
	}
	auth, err := baseURL(app.WebURL, TraktAuthURL)
	if err != nil {
		return nil, err
	}
	// [C] "make sure … that you are not hitting apiz" (trakt-api #847);
	// "Do not use the API hostname for these requests" (guide).
	if strings.EqualFold(api.Hostname(), "apiz.trakt.tv") {
		return nil, configErr("trakt: apiz.trakt.tv is Trakt's private host; apps use api.trakt.tv")
	}
	switch strings.ToLower(auth.Hostname()) {
	case "api.trakt.tv", "apiz.trakt.tv", "trakt.tv", "www.trakt.tv":
		return nil, configErr("trakt: OAuth calls go to auth.trakt.tv since Trakt's auth migration, not to %s", strings.ToLower(auth.Hostname()))
	}
	t := &Trakt{app: app, api: api, auth: auth, ua: ua}
	t.uaVals, t.keyVals = []string{ua}, []string{app.ClientID}
	t.versionVals, t.jsonVals = []string{traktAPIVersion}, []string{"application/json"}
	t.oauth = http.Header{
		"Content-Type":      t.jsonVals,
		"Accept":            t.jsonVals,
		"User-Agent":        t.uaVals,
		"Trakt-Api-Key":     t.keyVals,
		"Trakt-Api-Version": t.versionVals,
	}
	t.ep = newEndpoint("trakt", app, nil, standardErrorShape, nil)
	t.revokeFn = t.Revoke
	return t, nil
}

// Name returns "trakt".
func (t *Trakt) Name() string { return "trakt" }

func (t *Trakt) appHTTPClient() *http.Client { return t.app.HTTPClient }

// authPath is p on the OAuth host.
func (t *Trakt) authPath(p string) string { return t.auth.String() + p }

// Config returns the x/oauth2 configuration of Trakt's code flow, for code
// that speaks x/oauth2, with AuthStyleInParams set explicitly (Trakt does
// not accept Basic client authentication [C]). This package does not use
// it for its own calls: x/oauth2 sends form bodies, and whether
// auth.trakt.tv accepts them is an open question (docs/trakt.md#open-questions);
// every official example is JSON, which is what this package sends.
func (t *Trakt) Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     t.app.ClientID,
		ClientSecret: t.app.ClientSecret,
		RedirectURL:  t.app.RedirectURL,
		Scopes:       t.app.scopes(nil),
		Endpoint: oauth2.Endpoint{
			AuthURL:       t.authPath("/oauth/authorize"),
			TokenURL:      t.authPath("/oauth/token"),
			DeviceAuthURL: t.authPath("/oauth/device/code"),
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// Owns reports whether u is on Trakt's API origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none. The
// OAuth host is not owned: tokens reach it only in the bodies this package
// sends itself.
func (t *Trakt) Owns(u *url.URL) bool {
	return u != nil && u.Host == t.api.Host && u.Scheme == t.api.Scheme || sameOrigin(u, t.api)
}

func (t *Trakt) keepsURL() {}

// Authorize sets the bearer token and the headers Trakt requires on every
// request (docs/trakt.md#headers): trakt-api-key (the client id) and
// trakt-api-version: 2, always; Content-Type: application/json and the
// App's User-Agent unless the caller set them (a caller's own
// Content-Type is kept, and Trakt answers a non-JSON one with a 412). A
// token of another service, or of a type other than Bearer, is refused.
func (t *Trakt) Authorize(r *http.Request, tok *Token) error {
	if tok == nil || tok.AccessToken == "" {
		return configErr("trakt: no access token")
	}
	return t.authorize(r, tok, t.credential(tok), nil, false)
}

func (t *Trakt) credential(tok *Token) string { return "Bearer " + tok.AccessToken }

// authorizeWith is Authorize for the Transport, on the clone it made: the
// clone's header may share the provider's value slices, since nothing but
// the base transport, which must not modify the request, sees it.
func (t *Trakt) authorizeWith(r *http.Request, tok *Token, cred string) error {
	return t.authorize(r, tok, cred, nil, true)
}

// authorizeWithValues is authorizeWith with the Authorization value slice
// the Transport built once for the token (headerCredentialer).
func (t *Trakt) authorizeWithValues(r *http.Request, tok *Token, values []string) error {
	return t.authorize(r, tok, values[0], values, true)
}

// authorize attaches cred and the required headers to r. With shared unset
// (a caller's own request) every value set is r's own.
func (t *Trakt) authorize(r *http.Request, tok *Token, cred string, authz []string, shared bool) error {
	if tok.Provider != "" && tok.Provider != "trakt" {
		return configErr("a %s token cannot be sent to trakt", safeCode(truncate(tok.Provider, 32)))
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return fmt.Errorf("%w: trakt: token type %q", ErrUnsupportedTokenType, safeCode(truncate(tok.TokenType, 32)))
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ua := r.Header["User-Agent"]
	addUA := len(ua) == 0 || ua[0] == ""
	_, hasCT := r.Header["Content-Type"]
	if shared {
		if authz == nil {
			authz = []string{cred}
		}
		r.Header["Authorization"] = authz
		r.Header["Trakt-Api-Key"] = t.keyVals
		r.Header["Trakt-Api-Version"] = t.versionVals
		if !hasCT {
			r.Header["Content-Type"] = t.jsonVals
		}
		if addUA {
			r.Header["User-Agent"] = t.uaVals
		}
		return nil
	}
	// One allocation; the three-index slices keep an append to one value
	// from writing into another.
	vals := []string{cred, t.keyVals[0], traktAPIVersion, "application/json", t.ua}
	r.Header["Authorization"] = vals[0:1:1]
	r.Header["Trakt-Api-Key"] = vals[1:2:2]
	r.Header["Trakt-Api-Version"] = vals[2:3:3]
	if !hasCT {
		r.Header["Content-Type"] = vals[3:4:4]
	}
	if addUA {
		r.Header["User-Agent"] = vals[4:5:5]
	}
	return nil
}

// Verdict reads a Trakt API response (docs/trakt.md#api-errors). A 401 is
// Expired: the Source refreshes once (one refresh per grant, whatever the
// number of rejected requests) and the Transport replays the request once;
// a failed refresh makes the Source answer ErrReauthRequired. Trakt's 401
// says only "OAuth must be provided" [C]; whether it always carries
// WWW-Authenticate: Bearer error="invalid_token" is an open question
// (docs/trakt.md#open-questions), so the status alone decides [I]. Every
// other answer — 403 (invalid API key, or the edge's HTML page), 412, 420,
// 423, 426, 429, 5xx — is returned as it is, never retried; CheckResponse
// types it. The body is not read.
func (t *Trakt) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode == http.StatusUnauthorized {
		return VerdictExpired
	}
	return VerdictOK
}

// apiError implements apiErrorer for CheckResponse.
func (t *Trakt) apiError(rawURL string, resp *wire.Response) *Error {
	return t.refine("api", t.ep.errorFrom("api", rawURL, resp), resp)
}

// errorFrom is the *Error of a failed answer to op, in Trakt's terms.
func (t *Trakt) errorFrom(op, rawURL string, resp *wire.Response) *Error {
	return t.refine(op, t.ep.errorFrom(op, rawURL, resp), resp)
}

// refine maps Trakt's answers to sentinels (docs/trakt.md#api-errors,
// #token-errors). The OAuth error body is RFC 6749's {error,
// error_description}; before the migration a bad grant came back as a 401
// with the code only in WWW-Authenticate (Doorkeeper) [C], which is read
// when the body names none.
func (t *Trakt) refine(op string, e *Error, resp *wire.Response) *Error {
	if e.Code == "" {
		if c := safeCode(bearerChallengeError(resp.Header)); c != "" && c != "invalid_token" {
			e.Code = c
			if s := sentinelFor(op, c, e.Status, resp.Header); s != nil {
				e.Err = s
			}
		}
	}
	desc := strings.ToLower(strings.TrimSpace(e.Description))
	switch {
	case e.Status == http.StatusForbidden && traktHTML(resp):
		e.Err = ErrBlocked // [C]/[S] Cloudflare's "Sorry, you have been blocked"
	case e.Status == http.StatusForbidden && e.Code == "":
		e.Err = errTraktBadKey
	case e.Status == http.StatusPreconditionFailed:
		e.Err = ErrInvalidRequest // [C] "use application/json content type"
	case e.Status == 420, e.Status == http.StatusUpgradeRequired:
		e.Err = ErrUpgradeRequired // [C] account limit; VIP only
	case e.Status == http.StatusLocked:
		e.Err = ErrAccountLocked // [C]
	case e.Status == http.StatusTooManyRequests:
		e.Err = ErrRateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = traktRateLimitWait(resp.Header, t.ep.clock.Now())
		}
	case e.Status >= 520 && e.Status <= 530:
		e.Err = ErrServer // [C] "Cloudflare error"
	case op == "api" && e.Status == http.StatusUnauthorized:
		e.Err = ErrTokenExpired // a refresh may help; the Transport knows better when it sent the request
	case e.Code == "invalid_grant" && op == "refresh" && desc == "session not found":
		e.Err = errTraktMigrated
	case e.Code == "invalid_request" && strings.Contains(desc, "redirect_uri"):
		e.Err = ErrRedirectMismatch // [C] "redirect_uri mismatch" (trakt-api #863)
	case op == "refresh" && e.Code == "" && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnauthorized):
		// [S] trakt-api #888: a pre-migration refresh token seen as a bare
		// 400 by a client that dropped the body. [I] a refresh answered
		// 400/401 with no error code will not succeed when asked again
		// with the same refresh token; retrying it would only hammer the
		// token endpoint.
		e.Err = ErrReauthRequired
	}
	return e
}

// traktHTML reports whether an answer is an HTML page: the edge's, not
// Trakt's JSON.
func traktHTML(resp *wire.Response) bool {
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == "text/html" {
		return true
	}
	b := bytes.TrimSpace(resp.Body)
	return len(b) > 0 && b[0] == '<'
}

// traktRateLimitWait is how long a 429 without Retry-After asks to wait:
// until X-Ratelimit's until, else traktPostWait (docs/trakt.md#rate-limits).
func traktRateLimitWait(h http.Header, now time.Time) time.Duration {
	if until, ok := parseTraktRateLimit(h.Get("X-Ratelimit")); ok && until.After(now) {
		return min(until.Sub(now), maxRetryAfter)
	}
	return traktPostWait
}

// parseTraktRateLimit reads the X-Ratelimit header, JSON such as
// {"name":"UNAUTHED_API_GET_LIMIT","period":300,"limit":500,"remaining":0,"until":"2020-10-10T00:24:00Z"}
// [C], for its until.
func parseTraktRateLimit(v string) (time.Time, bool) {
	if v == "" || len(v) > 1024 {
		return time.Time{}, false
	}
	var rl struct {
		Until string `json:"until"`
	}
	if json.Unmarshal([]byte(v), &rl) != nil || rl.Until == "" {
		return time.Time{}, false
	}
	until, err := time.Parse(time.RFC3339, rl.Until)
	return until, err == nil
}

// post sends body as JSON to rawURL, an OAuth endpoint, with the headers
// of every Trakt request, by the App's client following no redirect, and
// returns the answer read in full (at most 1 MiB), or a transport *Error.
// (internal/wire sends form bodies only; Trakt's OAuth bodies are JSON.)
func (t *Trakt) post(ctx context.Context, op, rawURL string, body map[string]string) (*wire.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, configErr("trakt: malformed endpoint URL")
	}
	if err := wire.CheckEndpoint(u); err != nil {
		return nil, transportError("trakt", op, u, err)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, configErr("trakt: cannot encode the request")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return nil, configErr("trakt: cannot build the request")
	}
	req.Header = t.oauth.Clone()
	resp, err := t.ep.hc.Do(req)
	if err != nil {
		return nil, transportError("trakt", op, u, wire.StripURL(err))
	}
	defer resp.Body.Close()
	rb, err := wire.ReadCapped(resp.Body, wire.MaxBody)
	if err != nil {
		return nil, transportError("trakt", op, u, wire.StripURL(err))
	}
	if o := t.app.Observer; o != nil {
		now := t.ep.clock.Now()
		if limited, wait := rateLimit(resp.StatusCode, resp.Header, now); limited {
			observe(ctx, o, Event{Kind: EventRateLimited, Provider: "trakt", Op: op, At: now,
				Status: resp.StatusCode, Outcome: "rate_limited", RetryAfter: wait})
		}
	}
	return &wire.Response{Status: resp.StatusCode, Header: resp.Header, Body: rb}, nil
}

// withSecret adds the client secret to body when the App has one (Trakt:
// "Deprecated. Only send it from your own server" [C]).
func (t *Trakt) withSecret(body map[string]string) map[string]string {
	if t.app.ClientSecret != "" {
		body["client_secret"] = t.app.ClientSecret
	}
	return body
}

// token posts body to the token endpoint and parses the token; anything
// else is an *Error.
func (t *Trakt) token(ctx context.Context, op string, body map[string]string) (*Token, error) {
	u := t.authPath("/oauth/token")
	resp, err := t.post(ctx, op, u, body)
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		return nil, t.errorFrom(op, u, resp)
	}
	return t.parse(op, u, resp)
}

// parse reads a token from a 2xx answer (docs/trakt.md#tokens): RFC 6749's
// members plus created_at, and the expiry Trakt itself computes,
// created_at + expires_in.
func (t *Trakt) parse(op, rawURL string, resp *wire.Response) (*Token, error) {
	tok, err := t.ep.parse(op, rawURL, resp)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			t.refine(op, e, resp)
		}
		return nil, err
	}
	traktExpiry(tok, resp.Body, t.ep.clock.Now())
	return tok, nil
}

// traktExpiry sets tok's expiry to created_at + expires_in, Trakt's own
// view of when the token expires [C], when the answer has both. A
// created_at that would put the expiry in the past, or more than
// traktMaxSkew beyond now + expires_in, is taken for a clock that is off,
// and now + expires_in (parseToken's) stays [I]: an expiry in the past
// would make the Source renew on every call.
func traktExpiry(tok *Token, body []byte, now time.Time) {
	raw, ok := tok.Extra["created_at"]
	if !ok {
		return
	}
	var m struct {
		ExpiresIn json.RawMessage `json:"expires_in"`
	}
	if json.Unmarshal(body, &m) != nil {
		return
	}
	d, err := parseExpiresIn(m.ExpiresIn)
	if err != nil || d <= 0 || d >= maxExpiresIn {
		return
	}
	created, ok := traktUnix(raw)
	if !ok {
		return
	}
	exp := time.Unix(created, 0).Add(d)
	if exp.After(now) && !exp.After(now.Add(d+traktMaxSkew)) {
		tok.Expiry = exp
	}
}

// traktUnix reads a Unix time in seconds sent as a JSON integer or a
// numeric string, within a range time.Unix handles.
func traktUnix(raw json.RawMessage) (int64, bool) {
	s := string(raw)
	if str, ok := jsonString(raw); ok {
		s = strings.TrimSpace(str)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return 0, false
	}
	return n, true
}

// AuthRequest starts Trakt's authorization-code flow
// (docs/trakt.md#authorization-code): the consent URL on auth.trakt.tv with
// a fresh 256-bit state and an S256 PKCE challenge, always: without a
// challenge Trakt's new stack puts in one of its own, and the code can
// never be redeemed [S]. redirectURL "" means App.RedirectURL; it must be
// one the app registered, byte for byte (Trakt compares it exactly and
// case-sensitively, and wants https [C]; a redirect that is not https is
// reported to App.Logger). No scopes means App.Scopes, and with neither no
// scope parameter is sent, so Trakt's default applies ("public
// offline_access" [S]); scopes without offline_access are reported to
// App.Logger, as the token will probably come without a refresh token [I].
func (t *Trakt) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	cfg := t.Config()
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	if cfg.RedirectURL == "" {
		return nil, configErr("trakt: a redirect URL is required (one the app registered at Trakt)")
	}
	ru, err := url.Parse(cfg.RedirectURL)
	if err != nil || !ru.IsAbs() || strings.Contains(cfg.RedirectURL, "#") {
		return nil, configErr("trakt: the redirect URL must be absolute, without a fragment (RFC 6749 §3.1.2)")
	}
	if !strings.EqualFold(ru.Scheme, "https") {
		t.app.warn("videoauth: trakt wants https redirect URIs and may refuse this one; CLIs and TVs use Device", "scheme", ru.Scheme)
	}
	cfg.Scopes = t.app.scopes(scopes)
	t.checkOffline(cfg.Scopes)
	return newAuthRequest(authRequestOpts{provider: "trakt", cfg: cfg, pkce: true, issuer: traktIssuer})
}

// checkOffline warns when scopes are given without offline_access.
func (t *Trakt) checkOffline(scopes []string) {
	if len(scopes) == 0 {
		return
	}
	for _, s := range scopes {
		if s == TraktScopeOfflineAccess {
			return
		}
	}
	t.app.warn("videoauth: trakt scopes without offline_access probably get no refresh token; the user would sign in again when the token expires",
		"scopes", strings.Join(scopes, " "))
}

// Exchange checks the callback query q against ar — state first, in
// constant time, single use — and exchanges the code once at
// POST auth.trakt.tv/oauth/token with a JSON body: code, client_id, the
// identical redirect_uri, grant_type, the PKCE code_verifier, and
// client_secret only when the App has one. A failed exchange is never
// retried. Trakt's refusals are typed: error=access_denied on the
// redirect ErrAccessDenied, invalid_grant (a code that is spent, expired,
// or does not match the verifier) ErrCodeUsed, "redirect_uri mismatch"
// ErrRedirectMismatch.
func (t *Trakt) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	if ar == nil || ar.Provider != "trakt" || ar.Implicit {
		return nil, fmt.Errorf("%w: not a Trakt code-flow request", ErrStateMismatch)
	}
	if ar.RedirectURL == "" || ar.Verifier == "" {
		return nil, configErr("trakt: this AuthRequest has no redirect URL or PKCE verifier; make it with AuthRequest")
	}
	if traktIssuer == "" && q.Has("iss") {
		q = cloneQuery(q)
		q.Del("iss")
	}
	code, err := ar.Callback(q)
	if err != nil {
		return nil, err
	}
	tok, err := t.token(ctx, "exchange", t.withSecret(map[string]string{
		"code": code, "client_id": t.app.ClientID, "redirect_uri": ar.RedirectURL,
		"grant_type": "authorization_code", "code_verifier": ar.Verifier,
	}))
	if err != nil {
		return nil, err
	}
	grantedScopes(tok, ar.Scopes)
	if tok.Meta == nil {
		tok.Meta = map[string]string{}
	}
	tok.Meta[traktMetaRedirect] = ar.RedirectURL
	t.checkRefresh("exchange", tok)
	return tok, nil
}

// checkRefresh warns when a grant came without a refresh token.
func (t *Trakt) checkRefresh(grant string, tok *Token) {
	if tok.RefreshToken == "" {
		t.app.warn("videoauth: trakt granted no refresh token; the user must sign in again when the access token expires",
			"grant", grant, "scopes", strings.Join(tok.Scopes, " "))
	}
}

// Device starts Trakt's device flow (docs/trakt.md#device-flow) for TVs,
// media centres and command-line tools: POST auth.trakt.tv/oauth/device/code
// with {"client_id"}; show the user UserCode and VerificationURI (Trakt's
// verification_url). Wait polls POST /oauth/device/token with
// {"code","client_id"} (and the client secret when the App has one) on the
// common engine. The flow is not RFC 8628: Trakt answers each poll by its
// HTTP status alone, and the body is never read to decide — 400 pending
// (keep polling at the interval), 429 too fast (5 s more for this and every
// later poll), 404 an unknown code and 409 one already used (ErrCodeUsed:
// start again), 410 expired (ErrExpiredCode), 418 denied by the user
// (ErrAccessDenied); 5xx and network trouble back off. The code's
// expires_in is a hard deadline: Wait stops there with ErrExpiredCode, and
// an answer without one is refused. The verification URL must be an https
// page of trakt.tv (www., auth. or app.), or on the host of App.WebURL;
// any other gives an *Error wrapping ErrBadVerificationURI (RFC 8628 §5.4).
// No pre-filled URL is built: Trakt's current guide points QR codes at
// the bare activation page [C], and the older code-in-the-path form is not
// promised on the new stack.
func (t *Trakt) Device(ctx context.Context) (*DeviceCode, error) {
	u := t.authPath("/oauth/device/code")
	resp, err := t.post(ctx, "device", u, map[string]string{"client_id": t.app.ClientID})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		return nil, t.errorFrom("device", u, resp)
	}
	dr, err := parseTraktDevice(resp.Body)
	if err != nil {
		return nil, &Error{Provider: "trakt", Op: "device", Status: resp.Status, URL: redactString(u), Body: capBody(resp.Body), Err: err}
	}
	pollURL := t.authPath("/oauth/device/token")
	body := t.withSecret(map[string]string{"code": dr.DeviceCode, "client_id": t.app.ClientID})
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		resp, err := t.post(ctx, "device_poll", pollURL, body)
		if err != nil {
			return nil, transportOutcome(err), err
		}
		if ok2xx(resp.Status) {
			tok, err := t.parse("device_poll", pollURL, resp)
			if err != nil {
				return nil, pollFail, err
			}
			t.checkRefresh("device", tok)
			return tok, pollDone, nil
		}
		return t.pollAnswer(pollURL, resp)
	}
	dc := newDeviceCode("trakt", t.app.Clock, time.Duration(dr.ExpiresIn)*time.Second, time.Duration(dr.Interval)*time.Second, poll)
	dc.UserCode, dc.VerificationURI = dr.UserCode, dr.VerificationURL
	hosts := verificationHosts([]*url.URL{t.auth}, "trakt.tv", "www.trakt.tv", "auth.trakt.tv", "app.trakt.tv")
	if err := checkDeviceCode(dc, hosts); err != nil {
		return nil, &Error{Provider: "trakt", Op: "device", Status: resp.Status, URL: redactString(u), Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// Trakt's device-poll statuses [C] (trakt-api contract; docs.trakt.tv
// postoauthdevicetoken). The Code each *Error carries is ours: Trakt's
// answers have no body to take one from.
const (
	traktPollPending  = http.StatusBadRequest      // waiting for the user
	traktPollNotFound = http.StatusNotFound        // invalid device code
	traktPollUsed     = http.StatusConflict        // already approved and used
	traktPollExpired  = http.StatusGone            // expired
	traktPollDenied   = http.StatusTeapot          // 418: the user said no
	traktPollTooFast  = http.StatusTooManyRequests // slow down
)

// pollAnswer classifies a device poll answered with an error status, by the
// status alone [C]; any other status is typed as an OAuth answer (403 the
// edge or the API key, 5xx backs off).
func (t *Trakt) pollAnswer(pollURL string, resp *wire.Response) (*Token, pollOutcome, error) {
	if resp.Status == traktPollPending {
		return nil, pollPending, nil
	}
	e := t.ep.errorFrom("device_poll", pollURL, resp)
	e.Description = "" // the body decides nothing here, nor does its prose
	switch resp.Status {
	case traktPollNotFound:
		e.Code, e.Err = "invalid_device_code", ErrCodeUsed
	case traktPollUsed:
		e.Code, e.Err = "already_used", ErrCodeUsed
	case traktPollExpired:
		e.Code, e.Err = "expired_token", ErrExpiredCode
	case traktPollDenied:
		e.Code, e.Err = "access_denied", ErrAccessDenied
	case traktPollTooFast:
		e.Code, e.Err = "slow_down", ErrRateLimited
		return nil, pollSlowDown, e
	default:
		e.Code = ""
		t.refine("device_poll", e, resp)
		return nil, httpOutcome(e), e
	}
	return nil, pollFail, e
}

// traktDeviceResponse is the answer of /oauth/device/code [C].
type traktDeviceResponse struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURL string `json:"verification_url"`
	VerificationURI string `json:"verification_uri"` // [I] the RFC 8628 spelling, accepted too
	ExpiresIn       int64  `json:"expires_in"`
	Interval        int64  `json:"interval"`
}

// parseTraktDevice reads the answer of /oauth/device/code: device_code,
// user_code (shown to the user: printable ASCII, at most 64 bytes; Trakt's
// are "typically 8 characters" [C]) and verification_url are required, and
// so is a positive expires_in, the flow's hard deadline.
func parseTraktDevice(body []byte) (*traktDeviceResponse, error) {
	var dr traktDeviceResponse
	if !looksJSON(body) || json.Unmarshal(body, &dr) != nil {
		return nil, fmt.Errorf("%w: device code answer is not the expected JSON", ErrBadResponse)
	}
	if dr.VerificationURL == "" {
		dr.VerificationURL = dr.VerificationURI
	}
	if dr.DeviceCode == "" || dr.UserCode == "" || dr.VerificationURL == "" {
		return nil, fmt.Errorf("%w: device code answer lacks device_code, user_code or verification_url", ErrBadResponse)
	}
	if !vschar(dr.DeviceCode) || len(dr.UserCode) > 64 || !vschar(dr.UserCode) || strings.ContainsRune(dr.UserCode, ' ') {
		return nil, fmt.Errorf("%w: device code answer has a malformed device_code or user_code", ErrBadResponse)
	}
	if dr.ExpiresIn <= 0 {
		return nil, fmt.Errorf("%w: device code answer has no expires_in, the flow's deadline", ErrBadResponse)
	}
	if err := checkTiming(dr.ExpiresIn, dr.Interval); err != nil {
		return nil, err
	}
	return &dr, nil
}

// Source returns a Source holding a user token tok (from Exchange, Device or
// storage) that renews it with the refresh_token grant
// (docs/trakt.md#refresh-and-rotation): an hour before it stops being
// usable, and once when Trakt rejects it (one refresh for any number of
// rejected requests). Trakt's refresh tokens are single use: every refresh
// returns a new pair and kills the refresh token it used, so two refreshes
// of one grant at once would end it, logging the user out. The Source
// serialises its refreshes; across processes and replicas give every
// Source of the grant the same Store and Key, whose lock makes one refresh
// for all of them, saved (CompareAndSwap) before any of them uses it, and
// adopted by the others. Set OnToken to persist a Source without a Store:
// it runs before any request uses the new pair. The old access token is
// not used after a refresh (whether Trakt kills it at once is not
// documented [I]).
//
// A refresh token Trakt refuses (invalid_grant) makes the Source answer
// ErrReauthRequired; one issued before Trakt's July 2026 auth migration
// ("session not found") says the user must authorize the app once more. A
// token without a refresh token is used until it expires.
func (t *Trakt) Source(tok *Token) *Source {
	src := newAppSource(t.app, "trakt", grantRefresh, tok, nil)
	src.Mint = func(ctx context.Context, cur *Token) (*Token, error) { return t.refresh(ctx, src, cur) }
	src.RefreshAhead = traktRefreshAhead
	src.revoker = t.revokeFn
	return src
}

// refresh is the MintFunc of Source: POST auth.trakt.tv/oauth/token with
// {"refresh_token","client_id","grant_type":"refresh_token"}, the
// redirect_uri of the grant when it had one (Trakt's schema still marks it
// required; its own app sends none [C]) and the client secret when the App
// has one. Whether a device-flow grant refreshes without a secret is an
// open question (docs/trakt.md#open-questions): Trakt's own app refreshes
// without one, but its grants come from the code flow [I].
func (t *Trakt) refresh(ctx context.Context, src *Source, cur *Token) (*Token, error) {
	if cur == nil {
		return nil, reauthErr(nil)
	}
	if cur.RefreshToken == "" {
		// A renewal ahead of expiry of a token still usable keeps it, as
		// the Standard provider does: ErrReauthRequired would end a grant
		// that is still good.
		if e := src.cur.Load(); e != nil && e.tok == cur && e.usable(src.clock().Now()) {
			return cur, nil
		}
		return nil, errorf("trakt: no refresh token: %w", ErrReauthRequired)
	}
	body := map[string]string{"refresh_token": cur.RefreshToken, "client_id": t.app.ClientID, "grant_type": "refresh_token"}
	if ru := cur.Meta[traktMetaRedirect]; ru != "" {
		body["redirect_uri"] = ru
	}
	tok, err := t.token(ctx, "refresh", t.withSecret(body))
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" && traktKeepUnrotated {
		tok.RefreshToken = cur.RefreshToken
	}
	grantedScopes(tok, cur.Scopes)
	for k, v := range cur.Meta {
		if _, ok := tok.Meta[k]; !ok {
			if tok.Meta == nil {
				tok.Meta = map[string]string{}
			}
			tok.Meta[k] = v
		}
	}
	return tok, nil
}

// Revoke ends tok's grant at Trakt (POST auth.trakt.tv/oauth/revoke with
// {"token","client_id"}, and the client secret when the App has one;
// docs/trakt.md#revocation): the access token, as Trakt documents [C], or
// the refresh token when there is no access token. Trakt answers 200 and
// calls revocation optional, so success proves only that the request
// arrived. A token of another service is refused with ErrInvalidConfig
// and not sent.
func (t *Trakt) Revoke(ctx context.Context, tok *Token) error {
	if tok == nil || (tok.AccessToken == "" && tok.RefreshToken == "") {
		return configErr("trakt: no token to revoke")
	}
	if tok.Provider != "" && tok.Provider != "trakt" {
		return configErr("a %s token cannot be revoked at trakt", safeCode(truncate(tok.Provider, 32)))
	}
	v := tok.AccessToken
	if v == "" {
		v = tok.RefreshToken
	}
	u := t.authPath("/oauth/revoke")
	resp, err := t.post(ctx, "revoke", u, t.withSecret(map[string]string{"token": v, "client_id": t.app.ClientID}))
	if err != nil {
		return err
	}
	if ok2xx(resp.Status) {
		return nil
	}
	return t.errorFrom("revoke", u, resp)
}

// Identify asks Trakt whose token tok is (GET api.trakt.tv/users/settings,
// with the headers Authorize adds; docs/trakt.md#identify) and returns
// user.ids.uuid — Trakt's globally unique id of the user — as UserID,
// user.name (else user.username) as Name, and the user object. An answer
// without user.ids.uuid is an *Error matching ErrBadResponse. A token
// Trakt rejects (401) matches ErrTokenExpired when it has a refresh token
// (refresh it and ask again), else ErrReauthRequired; the edge's HTML 403
// matches ErrBlocked. See Identifier.
func (t *Trakt) Identify(ctx context.Context, tok *Token) (*Identity, error) {
	if err := checkIdentifyToken(t, tok); err != nil {
		return nil, err
	}
	u := t.api.String() + "/users/settings"
	resp, err := identifyGet(ctx, t, t.ep.hc, u, u, tok, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := t.refine("api", t.ep.errorFrom("api", u, resp), resp)
		return nil, identifyFailed(e, tok, u, rejection(verdictOf(t, resp), tok.RefreshToken != ""))
	}
	id, err := parseTraktIdentity(resp.Body)
	if err != nil {
		return nil, badIdentity("trakt", resp, tok, u, err)
	}
	return identified(id, tok), nil
}

var _ Identifier = (*Trakt)(nil)

// parseTraktIdentity reads Trakt's GET /users/settings answer [C]
// (trakt-api contract settingsResponseSchema): user.ids.uuid (a string,
// required), user.username, user.name (nullable). Only the user object is
// kept; the rest (account, which may hold a token, connections, limits) is
// not.
func parseTraktIdentity(body []byte) (*Identity, error) {
	var s struct {
		User json.RawMessage `json:"user"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &s) != nil {
		return nil, fmt.Errorf("%w: settings answer is not a JSON object", ErrBadResponse)
	}
	if len(s.User) == 0 || s.User[0] != '{' {
		return nil, fmt.Errorf("%w: settings answer has no user object", ErrBadResponse)
	}
	var u struct {
		Username json.RawMessage `json:"username"`
		Name     json.RawMessage `json:"name"`
		IDs      *struct {
			UUID json.RawMessage `json:"uuid"`
		} `json:"ids"`
	}
	if json.Unmarshal(s.User, &u) != nil || u.IDs == nil {
		return nil, fmt.Errorf("%w: settings answer's user has no ids", ErrBadResponse)
	}
	uuid, ok := jsonString(u.IDs.UUID)
	if !ok || uuid == "" {
		return nil, fmt.Errorf("%w: settings answer's user.ids.uuid is not a string", ErrBadResponse)
	}
	name, ok1 := jsonText(u.Name)
	username, ok2 := jsonText(u.Username)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: settings answer's user.name or user.username is not a string", ErrBadResponse)
	}
	if name == "" {
		name = username
	}
	obj, _ := userObject(s.User) // an object: ok; nil when a member is named like a credential
	return &Identity{Provider: "trakt", UserID: uuid, Name: name, User: obj}, nil
}

// String describes the provider without its client secret.
func (t *Trakt) String() string {
	if t == nil {
		return "videoauth.Trakt(nil)"
	}
	return providerString("Trakt", t.app)
}

// GoString makes %#v print String.
func (t *Trakt) GoString() string { return t.String() }

// Format makes every fmt verb print String (see print.go for why the
// receiver is a value).
func (t Trakt) Format(f fmt.State, verb rune) { printRedacted(f, verb, t.String()) }

// LogValue makes slog print the provider without its client secret.
func (t *Trakt) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue("trakt", t.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (t Trakt) MarshalJSON() ([]byte, error) { return providerJSON("trakt", t.app) }
