package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// Twitch's two hosts (docs/twitch.md#hosts): the identity host serves the
// consent page and every OAuth endpoint under /oauth2/ (authorize, token,
// device, validate, revoke); Helix, the API, lives on the API host under
// /helix/. Tokens are attached to requests for the API host only.
const (
	TwitchIDURL  = "https://id.twitch.tv"
	TwitchAPIURL = "https://api.twitch.tv"
)

// TwitchValidateInterval is how often RunValidation validates each grant:
// Twitch requires an app that keeps an OAuth session to call
// /oauth2/validate when it starts and hourly after that
// (docs/twitch.md#validation).
const TwitchValidateInterval = time.Hour

// ErrMissingScope: the service refused the request because the token lacks
// a scope it needs (Twitch answers 401, not 403, for it). A new token from
// the same grant carries the same scopes: only a new authorization asking
// for the scope helps. It matches ErrForbidden too.
var ErrMissingScope = fmt.Errorf("%w: the token lacks a scope the request needs", ErrForbidden)

// Token.Meta keys of Twitch tokens: the client the token was issued to
// (Helix wants a Client-Id header matching it) and its kind, "user" or
// "app" (an app token is minted again, never refreshed).
const (
	twitchClientKey = "twitch_client"
	twitchKindKey   = "twitch_token"
)

// twitchRefreshAhead is the Source's RefreshAhead for user tokens: Twitch
// discourages refreshing before a token is rejected and recommends reacting
// to a 401 [C] (refresh-tokens page), and every refresh rotates the refresh
// token [S], so the fewer the better. A user token is renewed when it
// expires (a tenth of its life, at most 10 s, before, as every Source
// does) or when Helix rejects it, not in the background. Set
// Source.RefreshAhead before first use to change it.
const twitchRefreshAhead = time.Nanosecond

// Twitch is the Twitch provider (id.twitch.tv OAuth, Helix API): the
// authorization-code grant for confidential clients (state, no PKCE:
// Twitch has none), the implicit grant, client credentials (app tokens,
// minted again, never refreshed), the device code grant for public and
// confidential clients, validation (required hourly) and revocation.
//
// An App with a ClientSecret is a confidential client: the secret is sent,
// in the form body (Twitch documents no other way; never Basic, never
// auto-detected), with every request to the token and device endpoints. An
// App without one is a public client: it sends only client_id, and can use
// only the device and implicit grants. Every Helix request carries
// Authorization: Bearer and a Client-Id header with App.ClientID, which
// must be the client the token was issued to.
//
// Twitch treats a refresh token as spent once used [S], so the Sources of
// this provider refresh one grant at most once at a time, across
// goroutines and, with a Store, across processes and replicas, and save
// the new pair before it is used (see Source and Store).
type Twitch struct {
	app         App
	std         *Standard // the token endpoint, client authentication and the refresh grant
	id, api     *url.URL
	public      bool
	forceVerify bool
	hosts       []string // where a device verification URI may point
	// clientIDVals is the Client-Id header's value slice, shared by the
	// Transport's requests (len == cap, so an append copies).
	clientIDVals []string
	// revokeFn is t.Revoke, made once so that a Source per user does not
	// allocate its own method value.
	revokeFn func(context.Context, *Token) error
}

// NewTwitch returns the Twitch provider for app. App.ClientID is required;
// App.ClientSecret makes it a confidential client (see Twitch).
// App.WebURL points it at another identity host (a fake's IDURL, or a
// proxy) and App.APIURL at another Helix host.
func NewTwitch(app App) (*Twitch, error) {
	if app.ClientID == "" {
		return nil, configErr("twitch: App.ClientID is required")
	}
	id, err := baseURL(app.WebURL, TwitchIDURL)
	if err != nil {
		return nil, err
	}
	api, err := baseURL(app.APIURL, TwitchAPIURL)
	if err != nil {
		return nil, err
	}
	t := &Twitch{app: app, id: id, api: api, public: app.ClientSecret == "", clientIDVals: []string{app.ClientID}}
	// [C] Twitch documents client_id and client_secret as parameters only;
	// a public client sends no secret [S]. One style, never auto-detected.
	auth := ClientSecretPost
	if t.public {
		auth = ClientAuthNone
	}
	o := id.String() + "/oauth2/"
	t.std, err = NewStandard(app, StandardConfig{
		Name: "twitch", AuthURL: o + "authorize", TokenURL: o + "token", DeviceURL: o + "device", RevokeURL: o + "revoke",
		APIURL: api.String(), ClientAuth: auth,
	})
	if err != nil {
		return nil, err
	}
	// Twitch departs from RFC 6749 §5.2: its errors are {status, message},
	// with no error code (docs/twitch.md#errors). The Standard provider's
	// endpoint reads them with Twitch's shape; refine types them.
	t.std.ep.errorShape = twitchErrorShape
	t.hosts = verificationHosts([]*url.URL{id, api}, "www.twitch.tv", "twitch.tv", "id.twitch.tv")
	t.revokeFn = t.Revoke
	return t, nil
}

// ForceVerify returns a copy of t whose AuthRequest and ImplicitRequest
// ask Twitch to show the consent page even to a user who already
// authorized the app (force_verify=true): the way to let a user switch
// accounts.
func (t *Twitch) ForceVerify() *Twitch {
	c := *t
	c.forceVerify = true
	c.revokeFn = c.Revoke
	return &c
}

// Name returns "twitch".
func (t *Twitch) Name() string { return "twitch" }

func (t *Twitch) appHTTPClient() *http.Client { return t.app.HTTPClient }

// Config returns the x/oauth2 configuration of Twitch's code flow, with
// AuthStyleInParams set explicitly (x/oauth2's endpoints.Twitch leaves it
// to auto-detection, which sends every exchange twice on a failure). Note
// that x/oauth2's DeviceAuth sends scope, which Twitch ignores (it reads
// scopes), and its DeviceAccessToken stops at Twitch's first pending
// answer: use Device.
func (t *Twitch) Config() *oauth2.Config { return t.std.Config() }

// Owns reports whether u is on the Helix origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none.
func (t *Twitch) Owns(u *url.URL) bool { return t.std.Owns(u) }

func (t *Twitch) keepsURL() {}

// Authorize sets Authorization: Bearer and Client-Id, both of which Helix
// requires on every call [C]. A token of another provider, of a type other
// than Bearer, or issued to another Twitch client (Token.Meta records the
// client of the tokens this provider obtains) is refused before anything
// is attached: Helix would answer 401 to a Client-Id that does not match
// the token.
func (t *Twitch) Authorize(r *http.Request, tok *Token) error {
	if err := t.checkToken(tok); err != nil {
		return err
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	vals := []string{"Bearer " + tok.AccessToken, t.app.ClientID}
	r.Header["Authorization"] = vals[0:1:1]
	r.Header["Client-Id"] = vals[1:2:2]
	return nil
}

func (t *Twitch) credential(tok *Token) string { return "Bearer " + tok.AccessToken }

// authorizeWith is Authorize for the Transport, on its clone: the
// Client-Id value slice is shared (nothing but the base transport, which
// must not modify the request, sees it).
func (t *Twitch) authorizeWith(r *http.Request, tok *Token, cred string) error {
	return t.authorizeWithValues(r, tok, []string{cred})
}

// authorizeWithValues is authorizeWith with the Authorization value slice
// the Transport built once for the token (headerCredentialer).
func (t *Twitch) authorizeWithValues(r *http.Request, tok *Token, values []string) error {
	if err := t.checkToken(tok); err != nil {
		return err
	}
	r.Header["Authorization"] = values
	r.Header["Client-Id"] = t.clientIDVals
	return nil
}

// checkToken refuses what Helix must not be sent.
func (t *Twitch) checkToken(tok *Token) error {
	switch {
	case tok == nil || tok.AccessToken == "":
		return configErr("twitch: no access token")
	case tok.Provider != "" && tok.Provider != "twitch":
		return configErr("a %s token cannot be sent to twitch", safeCode(truncate(tok.Provider, 32)))
	case tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer"):
		return fmt.Errorf("%w: twitch: token type %q", ErrUnsupportedTokenType, safeCode(truncate(tok.TokenType, 32)))
	}
	if c := tok.Meta[twitchClientKey]; c != "" && c != t.app.ClientID {
		return configErr("twitch: the token was issued to another client than App.ClientID (Helix wants a Client-Id matching the token)")
	}
	return nil
}

// Verdict reads a Helix answer (docs/twitch.md#api-errors). Twitch answers
// 401 both for a token that is no longer good and for requests a new token
// would not fix — a missing scope, an ID that is not the token's user, a
// Client-Id that does not match the token, an app token on a user
// endpoint — and tells them apart only by the message [C] [S]. Only
// "Invalid OAuth token" (or an RFC 6750 invalid_token challenge, should
// Twitch ever send one [I]) is VerdictExpired: the Source refreshes a user
// token, or mints a new app token, once, and the Transport replays the
// request once. Every other answer is VerdictOK and returned as it is, so
// no request loops; CheckResponse types it (ErrMissingScope,
// ErrUserTokenRequired, ErrInvalidClient, ErrForbidden, ErrRateLimited).
//
// [I] A 401 with a message not listed is returned too, not retried: Twitch
// documents only this one message for a dead token, and retrying on any
// 401 is the loop Twitch clients are known for. twitchRejected is the one
// place that decides.
func (t *Twitch) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode != http.StatusUnauthorized {
		return VerdictOK
	}
	code, _ := twitchErrorShape(peekBody(resp, 4<<10))
	if twitchRejected(code) || bearerChallengeError(resp.Header) == "invalid_token" {
		return VerdictExpired
	}
	return VerdictOK
}

// twitchRejected reports whether a Helix 401's code means the token itself
// is no good (expired, revoked, unknown): the only case a new token helps.
func twitchRejected(code string) bool { return code == "invalid_oauth_token" }

// apiError implements apiErrorer for CheckResponse.
func (t *Twitch) apiError(rawURL string, resp *wire.Response) *Error {
	e := twitchRefine("api", t.std.ep.errorFrom("api", rawURL, resp))
	if e.RetryAfter == 0 {
		e.RetryAfter = twitchRateLimitReset(resp.Header, t.std.ep.clock.Now())
	}
	return e
}

// twitchRateLimitReset reads Helix's Ratelimit-Reset, "a Unix epoch
// timestamp of when your rate-limit window will reset" [S], as a wait from
// now, at most maxRetryAfter; 0 when absent, unreadable or past.
func twitchRateLimitReset(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Ratelimit-Reset"))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= now.Unix() {
		return 0
	}
	if n-now.Unix() > int64(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Unix(n, 0).Sub(now)
}

// twitchErrorShape reads Twitch's error body, {"status":N,"message":"…"}
// with sometimes "error" holding the HTTP reason phrase [S]: the message
// is the description, and a message this package knows gives the code
// (twitchCode). A body without message is read as RFC 6749's, should
// Twitch send one [I].
func twitchErrorShape(body []byte) (code, desc string) {
	var e struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	msg, _ := jsonString(e.Message)
	if strings.TrimSpace(msg) == "" {
		return standardErrorShape(body)
	}
	return twitchCode(msg), msg
}

// twitchCode names a Twitch error message with a code a caller can branch
// on (*Error.Code), or "" for a message this package does not know. The
// messages are Twitch's own [S] (docs/twitch.md#errors lists them with
// their sources), compared without case and surrounding space; the
// slow_down, access_denied and expired_token answers of the device flow
// are not documented by Twitch and assumed [I].
func twitchCode(msg string) string {
	m := strings.ToLower(strings.TrimSpace(msg))
	switch m {
	case "authorization_pending", "slow_down", "access_denied", "expired_token":
		return m // the device flow's RFC 8628 words, in the message
	case "invalid device code":
		return "invalid_device_code"
	case "invalid client":
		return "invalid_client"
	case "invalid client secret":
		return "invalid_client_secret"
	case "missing client secret":
		return "missing_client_secret"
	case "invalid client credentials":
		return "invalid_client_credentials"
	case "invalid refresh token":
		return "invalid_refresh_token"
	case "invalid authorization code":
		return "invalid_authorization_code"
	case "invalid token":
		return "invalid_token"
	case "client does not exist":
		return "client_does_not_exist"
	case "invalid access token":
		return "invalid_access_token"
	case "invalid oauth token":
		return "invalid_oauth_token"
	case "oauth token is missing":
		return "oauth_token_missing"
	case "client id and oauth token do not match":
		return "client_id_mismatch"
	case "missing user oauth token":
		return "user_token_required"
	}
	switch {
	case strings.HasPrefix(m, "parameter redirect_uri does not match"):
		return "redirect_mismatch"
	case strings.HasPrefix(m, "invalid scope requested"):
		return "invalid_scope"
	case strings.HasPrefix(m, "invalid client_id"):
		return "invalid_client"
	case strings.HasPrefix(m, "missing scope"),
		strings.Contains(m, "scope") && strings.Contains(m, "must include"):
		// "Missing scope: channel:manage:polls" [S]; the API reference's
		// "The user access token must include the … scope" [C].
		return "missing_scope"
	case strings.Contains(m, "must match the user id"):
		// [C] "The ID in broadcaster_id must match the user ID found in
		// the request's OAuth token." (the parameter's name varies)
		return "user_mismatch"
	case strings.HasPrefix(m, "missing "):
		// "missing refresh token", "missing oauth token", "missing
		// authorization token", "missing device_code" [S]: a parameter
		// the request lacked.
		if c := "missing_" + strings.ReplaceAll(strings.TrimSpace(m[len("missing "):]), " ", "_"); safeCode(c) != "" {
			return c
		}
	}
	return ""
}

// twitchSentinel is the sentinel of a Twitch code, or nil when the generic
// mapping (by HTTP status: 403, 429, 5xx) stands.
func twitchSentinel(code string) error {
	switch code {
	case "invalid_device_code", "expired_token":
		return ErrExpiredCode // restart the device flow
	case "access_denied":
		return ErrAccessDenied
	case "slow_down":
		return ErrRateLimited
	case "invalid_client", "invalid_client_secret", "missing_client_secret", "invalid_client_credentials",
		"client_does_not_exist", "client_id_mismatch":
		return ErrInvalidClient
	case "invalid_refresh_token", "invalid_token", "invalid_access_token", "invalid_oauth_token":
		return ErrReauthRequired // the refresh token or the token is dead
	case "invalid_authorization_code":
		return ErrCodeUsed
	case "redirect_mismatch":
		return ErrRedirectMismatch
	case "invalid_scope":
		return ErrInvalidScope
	case "missing_scope":
		return ErrMissingScope
	case "user_token_required":
		return ErrUserTokenRequired
	case "user_mismatch":
		return ErrForbidden
	case "oauth_token_missing":
		return ErrInvalidRequest
	}
	if strings.HasPrefix(code, "missing_") {
		return ErrInvalidRequest
	}
	return nil
}

// twitchRefine types e by its Twitch code. op is kept for symmetry with
// the other providers' refine; Twitch's messages say the same everywhere.
func twitchRefine(_ string, e *Error) *Error {
	if s := twitchSentinel(e.Code); s != nil {
		e.Err = s
	}
	return e
}

// refineErr types err when it is a service's *Error.
func (t *Twitch) refineErr(op string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Provider == "twitch" && e.Status != 0 {
		twitchRefine(op, e)
	}
	return err
}

// token posts form to the token endpoint, authenticated as the client's
// type says, and parses and marks the token.
func (t *Twitch) token(ctx context.Context, op string, form url.Values, kind string) (*Token, error) {
	tok, err := t.std.token(ctx, op, form)
	if err != nil {
		return nil, t.refineErr(op, err)
	}
	t.finish(tok, kind)
	return tok, nil
}

// finish marks a token with the client it was issued to and its kind.
// The scopes are what Twitch sent: a JSON array, absent when none was
// granted [S] (so, unlike RFC 6749 §5.1, absent does not mean "as
// requested").
func (t *Twitch) finish(tok *Token, kind string) {
	if tok.Meta == nil {
		tok.Meta = map[string]string{}
	}
	tok.Meta[twitchClientKey] = t.app.ClientID
	tok.Meta[twitchKindKey] = kind
}

// AuthRequest starts the authorization-code grant: the consent URL on
// id.twitch.tv with client_id, the redirect URI, the scopes
// (space-separated and URL-encoded, as Twitch asks) and a fresh state
// (256 bits, single use). No PKCE challenge is sent: Twitch does not
// support PKCE [S]. redirectURL "" means App.RedirectURL; it must match a
// registered URL exactly. No scopes means App.Scopes (an empty scope
// parameter when there are none: Twitch requires the parameter [C]).
//
// A public client (no App.ClientSecret) cannot exchange a code [S]: it
// gets ErrUnsupportedGrant and should use Device.
func (t *Twitch) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	if t.public {
		// [S] Twitch answers a public client's exchange with 400 Invalid
		// client credentials (docs/twitch.md#client-types). Refusing here
		// spares the user a consent that cannot end in a token.
		return nil, fmt.Errorf("%w: twitch: a public client cannot use the authorization-code grant; use Device", ErrUnsupportedGrant)
	}
	return t.authRequest(redirectURL, scopes, false)
}

// ImplicitRequest starts the implicit grant (response_type=token): Twitch
// puts the token in the redirect's fragment, which only the browser sees,
// and errors in its query. RFC 9700 §2.1.2 advises against this grant; it
// exists for browser-only clients. Finish with ImplicitToken. Whether
// public clients may use it is disputed (docs/twitch.md#open-questions):
// it is not refused.
func (t *Twitch) ImplicitRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	return t.authRequest(redirectURL, scopes, true)
}

func (t *Twitch) authRequest(redirectURL string, scopes []string, implicit bool) (*AuthRequest, error) {
	cfg := t.std.Config()
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	if cfg.RedirectURL == "" {
		return nil, configErr("twitch: a redirect URL is required")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || !u.IsAbs() || strings.Contains(cfg.RedirectURL, "#") {
		return nil, configErr("twitch: the redirect URL must be absolute, without a fragment")
	}
	cfg.Scopes = t.app.scopes(scopes)
	var extra []oauth2.AuthCodeOption
	if len(cfg.Scopes) == 0 {
		extra = append(extra, oauth2.SetAuthURLParam("scope", ""))
	}
	if t.forceVerify {
		extra = append(extra, oauth2.SetAuthURLParam("force_verify", "true"))
	}
	return newAuthRequest(authRequestOpts{provider: "twitch", cfg: cfg, pkce: false, implicit: implicit, extraParams: extra})
}

// Exchange checks the callback query q against ar — state first, in
// constant time, single use — and exchanges the code once at
// POST /oauth2/token with client_id, client_secret (form body), the code
// and the identical redirect_uri; no code_verifier. A refused code is
// ErrCodeUsed, a redirect URI that does not match the registered one
// ErrRedirectMismatch, a bad secret ErrInvalidClient; the exchange is never
// retried. The token's scopes are those Twitch returns (a JSON array,
// none when absent).
func (t *Twitch) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	if ar == nil || ar.Provider != t.Name() || ar.Implicit {
		return nil, fmt.Errorf("%w: not a Twitch code-flow request", ErrStateMismatch)
	}
	if t.public {
		return nil, fmt.Errorf("%w: twitch: a public client cannot exchange a code; use Device", ErrUnsupportedGrant)
	}
	code, err := ar.Callback(q)
	if err != nil {
		return nil, err
	}
	return t.token(ctx, "exchange", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ar.RedirectURL},
	}, "user")
}

// ImplicitToken reads the token of an implicit grant from the redirect:
// the whole redirect URL (Twitch sends a denial in its query, the token in
// its fragment), or the fragment alone, with or without its '#'. The state
// is checked first, as in Exchange. The token has the granted scopes
// (space-separated in the fragment), no refresh token and no lifetime
// (Twitch sends none; it lasts about four hours [S]): when Helix rejects
// it, the user must go through again.
func (t *Twitch) ImplicitToken(ar *AuthRequest, redirect string) (*Token, error) {
	if ar == nil || ar.Provider != t.Name() || !ar.Implicit {
		return nil, fmt.Errorf("%w: not a Twitch implicit request", ErrStateMismatch)
	}
	q, err := twitchImplicitValues(redirect)
	if err != nil {
		return nil, err
	}
	if err := ar.consume(q); err != nil {
		return nil, err
	}
	if err := ar.callbackError(q); err != nil {
		return nil, err
	}
	tok, err := parseFragmentToken(q, t.Name(), t.std.ep.clock.Now())
	if err != nil {
		return nil, err
	}
	t.finish(tok, "user")
	return tok, nil
}

// twitchImplicitValues returns the parameters of an implicit redirect:
// the fragment's, or the query's when there is no fragment (an error
// redirect). A string with neither '?' nor '#' is a fragment.
func twitchImplicitValues(redirect string) (url.Values, error) {
	s := redirect
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	} else if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[i+1:]
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("%w: unparsable redirect", ErrBadCallback)
	}
	return q, nil
}

// ClientCredentials returns a Source of app access tokens
// (grant_type=client_credentials), minted lazily and minted again — Twitch
// cannot refresh app tokens [C] — when one expires (about 58 days [S]) or
// Helix rejects it. No scope is sent: app tokens carry none [S]. A public
// client cannot use this grant [S]: its Source fails with ErrInvalidConfig
// and sends nothing.
func (t *Twitch) ClientCredentials() *Source {
	src := newAppSource(t.app, "twitch", grantClientCredentials, nil, func(ctx context.Context, _ *Token) (*Token, error) {
		if t.public {
			return nil, configErr("twitch: client credentials need a confidential client (App.ClientSecret)")
		}
		tok, err := t.token(ctx, "client_credentials", url.Values{"grant_type": {"client_credentials"}}, "app")
		if err != nil {
			return nil, err
		}
		tok.RefreshToken = "" // [C] app tokens are never refreshed
		return tok, nil
	})
	src.revoker = t.revokeFn
	return src
}

// Source returns a Source holding a user token tok (from Exchange, Device,
// ImplicitToken or storage) that renews it with its refresh token: when it
// expires, and once when Helix rejects it — not ahead of time, as Twitch
// advises (Source.RefreshAhead is a nanosecond; raise it before first use
// to renew in the background). A public client refreshes with client_id
// alone; a confidential one always sends its secret too (Twitch refuses a
// confidential device-flow token's refresh without it [S]).
//
// Every Twitch refresh token is treated as single-use [S] [I]: the Source
// refreshes a grant once at a time, adopts the new refresh token, and
// hands the new pair to OnToken and saves it in Store (a CompareAndSwap
// under the Store's lock, so replicas sharing the Store refresh once and
// adopt each other's pair) before any request uses it. A refresh token
// Twitch refuses (400 Invalid refresh token: spent, revoked, or a public
// client's past its 30 days) makes the Source first look in Store for a
// sibling's newer pair, and otherwise answer ErrReauthRequired. A token
// without a refresh token (implicit) is used until it is rejected or
// expires.
func (t *Twitch) Source(tok *Token) *Source {
	src := newAppSource(t.app, "twitch", grantRefresh, tok, nil)
	src.Mint = func(ctx context.Context, cur *Token) (*Token, error) { return t.refresh(ctx, src, cur) }
	src.RefreshAhead = twitchRefreshAhead
	src.revoker = t.revokeFn
	return src
}

// refresh is the MintFunc of Source: the refresh_token grant, on the
// Standard provider's (which keeps the old refresh token, scopes and
// metadata when an answer lacks them), typed with Twitch's errors.
func (t *Twitch) refresh(ctx context.Context, src *Source, cur *Token) (*Token, error) {
	if cur != nil && cur.Meta[twitchKindKey] == "app" && cur.RefreshToken == "" {
		return nil, errorf("twitch: an app token in a user Source cannot be refreshed (use ClientCredentials): %w", ErrReauthRequired)
	}
	tok, err := t.std.refresh(ctx, src, cur)
	if err != nil {
		return nil, t.refineErr("refresh", err)
	}
	if tok != cur {
		t.finish(tok, "user")
	}
	return tok, nil
}

// Device starts Twitch's device code grant (DCF), which public and
// confidential clients may use: POST /oauth2/device with client_id (and a
// confidential client's secret [I]) and the scopes in the body, under the
// name scopes — Twitch ignores x/oauth2's scope, and anything in the query
// string [S]. Show the user VerificationURI (which already carries the
// code, so VerificationURIComplete is the same URI) and UserCode.
//
// Wait polls POST /oauth2/token with the device_code grant on the common
// engine. Twitch's device flow departs from RFC 8628: every answer is
// {"status":400,"message":…} [S]. "authorization_pending" keeps polling at
// the interval; "slow_down" (not documented [I]) adds 5 s for this and
// every later poll; network trouble and 5xx back off; anything else stops
// at once, typed: "invalid device code" (spent, expired or unknown) and an
// expired code ErrExpiredCode, "access_denied" (not documented [I])
// ErrAccessDenied, a bad client ErrInvalidClient. The scopes of the token
// are those Twitch returns (none when absent). The verification URI must be
// an https page on twitch.tv, www.twitch.tv or id.twitch.tv, or on the host
// of App.WebURL or App.APIURL; any other gives an *Error wrapping
// ErrBadVerificationURI.
func (t *Twitch) Device(ctx context.Context, scopes ...string) (*DeviceCode, error) {
	sc := strings.Join(t.app.scopes(scopes), " ")
	// [C] scopes is required; an empty one asks for no scope [I].
	resp, err := t.std.ep.do(ctx, "device", t.std.request(t.std.deviceURL, url.Values{"scopes": {sc}}))
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		return nil, twitchRefine("device", t.std.ep.errorFrom("device", t.std.deviceURL, resp))
	}
	da, err := parseDeviceAuth(resp.Body)
	if err != nil {
		return nil, &Error{Provider: "twitch", Op: "device", Status: resp.Status, URL: redactString(t.std.deviceURL), Body: capBody(resp.Body), Err: err}
	}
	// [S] the docs list scopes on the poll too; it has no effect.
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}, "scopes": {sc}}
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		tok, err := t.token(ctx, "device_poll", form, "user")
		if err != nil {
			// Twitch's pending and slow_down come as messages, which
			// twitchCode turns into the RFC 8628 codes the engine knows.
			return nil, rfc8628Outcome(err), err
		}
		return tok, pollDone, nil
	}
	dc := newDeviceCode("twitch", t.app.Clock, time.Duration(da.ExpiresIn)*time.Second, time.Duration(da.Interval)*time.Second, poll)
	dc.UserCode, dc.VerificationURI, dc.VerificationURIComplete = da.UserCode, da.VerificationURI, da.VerificationURIComplete
	if dc.VerificationURIComplete == "" && strings.Contains(da.VerificationURI, da.UserCode) {
		dc.VerificationURIComplete = da.VerificationURI // [S] the code rides in device-code=
	}
	if err := checkDeviceCode(dc, t.hosts); err != nil {
		return nil, &Error{Provider: "twitch", Op: "device", Status: resp.Status, URL: redactString(t.std.deviceURL), Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// Revoke revokes tok's access token at POST /oauth2/revoke (client_id and
// token in the form body; no secret, none is documented). 200 is success,
// and so is 400 "Invalid token": the token is already gone [I]. A client
// Twitch does not know is ErrInvalidClient. Whether revoking an access
// token also ends its refresh token is not documented
// (docs/twitch.md#open-questions); Source.Revoke drops both from the
// Source and its Store either way.
func (t *Twitch) Revoke(ctx context.Context, tok *Token) error {
	if tok == nil || tok.AccessToken == "" {
		return configErr("twitch: no access token to revoke")
	}
	if tok.Provider != "" && tok.Provider != "twitch" {
		return configErr("a %s token cannot be revoked at twitch", safeCode(truncate(tok.Provider, 32)))
	}
	u := t.std.revokeURL
	resp, err := t.std.ep.do(ctx, "revoke", &wire.Request{URL: u, Style: wire.AuthInParams, ClientID: t.app.ClientID,
		Form: url.Values{"token": {tok.AccessToken}}})
	if err != nil {
		return err
	}
	if ok2xx(resp.Status) {
		return nil
	}
	e := t.std.ep.errorFrom("revoke", u, resp)
	if resp.Status == http.StatusBadRequest && e.Code == "invalid_token" {
		return nil // [I] already revoked, expired or unknown: gone either way
	}
	return twitchRefine("revoke", e)
}

// String describes the provider without its client secret.
func (t *Twitch) String() string {
	if t == nil {
		return "videoauth.Twitch(nil)"
	}
	kind := "confidential"
	if t.public {
		kind = "public"
	}
	return "videoauth.Twitch{client=" + kind + " " + t.app.String() + "}"
}

// GoString makes %#v print String.
func (t *Twitch) GoString() string { return t.String() }

// Format makes every fmt verb print String (see print.go for why the
// receiver is a value).
func (t Twitch) Format(f fmt.State, verb rune) { printRedacted(f, verb, t.String()) }

// LogValue makes slog print the provider without its client secret.
func (t *Twitch) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(t.Name(), t.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (t Twitch) MarshalJSON() ([]byte, error) { return providerJSON(t.Name(), t.app) }
