package videoauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// ClientAuth is how a client authenticates at the token, device
// authorization and revocation endpoints (RFC 6749 §2.3; the names are
// RFC 8414's token_endpoint_auth_methods). It is always explicit: a request
// is sent once, in one style, never tried again in another.
type ClientAuth int

const (
	// ClientAuthDefault is ClientSecretBasic for an App with a client
	// secret and ClientAuthNone for one without (RFC 6749 §2.3.1: servers
	// must support Basic; RFC 8414 §2: it is the default method).
	ClientAuthDefault ClientAuth = iota
	// ClientSecretBasic sends HTTP Basic credentials, the client id and the
	// secret each form-urlencoded first (RFC 6749 §2.3.1).
	ClientSecretBasic
	// ClientSecretPost sends client_id and client_secret in the form body
	// (RFC 6749 §2.3.1).
	ClientSecretPost
	// ClientAuthNone is a public client (RFC 6749 §2.1): client_id in the
	// form body, no secret. PKCE binds its codes (RFC 7636).
	ClientAuthNone
)

// String returns the RFC 8414 name of the method ("client_secret_basic",
// "client_secret_post", "none"), or "default".
func (c ClientAuth) String() string {
	switch c {
	case ClientAuthDefault:
		return "default"
	case ClientSecretBasic:
		return "client_secret_basic"
	case ClientSecretPost:
		return "client_secret_post"
	case ClientAuthNone:
		return "none"
	}
	return "ClientAuth(" + strconv.Itoa(int(c)) + ")"
}

// StandardConfig describes a service that follows the OAuth 2.0 RFCs, for
// NewStandard. DiscoverStandard fills the endpoints from the server's
// metadata (RFC 8414).
//
// Every URL must be absolute, without user info or fragment, and https;
// plain http is accepted only to a loopback host (127.0.0.1, ::1,
// localhost), where tests and local proxies run.
type StandardConfig struct {
	// Name is the provider's name, stored in its tokens (Token.Provider)
	// and shown in errors: required, lowercase letters, digits, '.', '_'
	// and '-'.
	Name string
	// Issuer is the authorization server's issuer identifier (RFC 8414 §2,
	// RFC 9207). When set, a callback carrying iss must carry exactly this
	// value (simple string comparison, RFC 9207 §2.4); when empty, iss is
	// not checked.
	Issuer string
	// RequireIss refuses a callback without iss (RFC 9207 §2.4: a client
	// must do so when the server's metadata has
	// authorization_response_iss_parameter_supported, which
	// DiscoverStandard reads into this field). It needs Issuer.
	RequireIss bool
	// AuthURL is the authorization endpoint (RFC 6749 §3.1) and TokenURL
	// the token endpoint (§3.2); both required.
	AuthURL, TokenURL string
	// DeviceURL is the device authorization endpoint (RFC 8628 §3.1) and
	// RevokeURL the revocation endpoint (RFC 7009 §2); both optional:
	// without them Device and Revoke return ErrUnsupportedGrant.
	DeviceURL, RevokeURL string
	// APIURL is the origin of the API (the resource server) that receives
	// the token: the Transport attaches it to this origin only. Required;
	// a path is ignored.
	APIURL string
	// ClientAuth is how the client authenticates; ClientAuthDefault picks
	// from App.ClientSecret.
	ClientAuth ClientAuth
	// Scopes are requested when a grant is given none and App.Scopes is
	// empty too; with neither, no scope parameter is sent (RFC 6749 §3.3:
	// the server's default applies).
	Scopes []string
}

// Standard is a provider for any service that follows the OAuth 2.0 RFCs:
// the authorization-code grant with state and S256 PKCE always (RFC 6749
// §4.1, RFC 7636), RFC 9207 issuer checks, client credentials (§4.4),
// refresh with rotation (§6), the device grant (RFC 8628), revocation (RFC
// 7009) and bearer tokens (RFC 6750). Build it with NewStandard, or with
// DiscoverStandard from the server's metadata. It prints with its client
// secret redacted.
type Standard struct {
	app        App
	name       string
	issuer     string
	requireIss bool
	authURL    string
	tokenURL   string
	deviceURL  string
	revokeURL  string
	api        *url.URL
	auth       ClientAuth // resolved: never ClientAuthDefault
	scopes     []string
	hosts      []string // where a device verification URI may point
	ep         *endpoint
	// revokeFn is s.Revoke when there is a revocation endpoint, made once
	// so that a Source per user does not allocate its own method value.
	revokeFn func(context.Context, *Token) error
}

// NewStandard returns the provider of the service c describes, for app.
// App.ClientID is required; App.ClientSecret decides the default client
// authentication. Every misconfiguration is an error wrapping
// ErrInvalidConfig (and ErrInsecureEndpoint for a plain-http URL to a host
// that is not loopback); nothing is sent.
func NewStandard(app App, c StandardConfig) (*Standard, error) {
	if err := checkStandardName(c.Name); err != nil {
		return nil, err
	}
	if app.ClientID == "" {
		return nil, configErr("%s: App.ClientID is required", c.Name)
	}
	s := &Standard{app: app, name: c.Name, scopes: slices.Clone(c.Scopes)}
	var err error
	if s.authURL, err = standardURL(c.Name, "AuthURL", c.AuthURL, true); err != nil {
		return nil, err
	}
	if s.tokenURL, err = standardURL(c.Name, "TokenURL", c.TokenURL, true); err != nil {
		return nil, err
	}
	if s.deviceURL, err = standardURL(c.Name, "DeviceURL", c.DeviceURL, false); err != nil {
		return nil, err
	}
	if s.revokeURL, err = standardURL(c.Name, "RevokeURL", c.RevokeURL, false); err != nil {
		return nil, err
	}
	api, err := standardURL(c.Name, "APIURL", c.APIURL, true)
	if err != nil {
		return nil, err
	}
	s.api, _ = url.Parse(api)
	s.api.Path, s.api.RawPath, s.api.RawQuery, s.api.ForceQuery = "", "", "", false
	if c.Issuer != "" {
		if _, err := checkIssuer(c.Name, c.Issuer); err != nil {
			return nil, err
		}
		s.issuer = c.Issuer
	}
	if c.RequireIss && s.issuer == "" {
		return nil, configErr("%s: RequireIss needs the Issuer to compare iss with", c.Name)
	}
	s.requireIss = c.RequireIss
	if s.auth, err = resolveClientAuth(c.Name, c.ClientAuth, app.ClientSecret != ""); err != nil {
		return nil, err
	}
	for _, raw := range []string{s.issuer, s.authURL, s.deviceURL, s.tokenURL} {
		if u, err := url.Parse(raw); err == nil && raw != "" && !slices.Contains(s.hosts, canonHost(u)) {
			s.hosts = append(s.hosts, canonHost(u))
		}
	}
	h := http.Header{"Accept": {"application/json"}}
	if app.UserAgent != "" || app.AppName != "" {
		ua := strings.TrimSuffix(app.userAgent(), "/")
		if strings.ContainsFunc(ua, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) {
			return nil, configErr("%s: App.UserAgent (or AppName/AppVersion) holds a control character", c.Name)
		}
		h["User-Agent"] = []string{ua}
	}
	s.ep = newEndpoint(c.Name, app, h, standardErrorShape, nil)
	if s.revokeURL != "" {
		s.revokeFn = s.Revoke
	}
	return s, nil
}

// checkStandardName refuses a name that is empty, not lowercase, or would
// not print as it is in an error (safeCode).
func checkStandardName(name string) error {
	if name == "" || len(name) > 64 {
		return configErr("standard: StandardConfig.Name is required (at most 64 characters)")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')) {
			return configErr("standard: StandardConfig.Name must be lowercase letters, digits, '.', '_' and '-', starting with a letter or digit")
		}
	}
	return nil
}

// standardURL checks one endpoint URL of the configuration: absolute, no
// user info (a password in a URL is a secret that gets logged), no
// fragment (RFC 6749 §3.1, §3.2), and https or loopback http (RFC 6749
// §3.1, §10.9). A query is kept (RFC 6749 §3.1 allows one).
func standardURL(name, field, raw string, required bool) (string, error) {
	if raw == "" {
		if required {
			return "", configErr("%s: StandardConfig.%s is required", name, field)
		}
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", configErr("%s: StandardConfig.%s is not an absolute URL", name, field)
	}
	if u.User != nil {
		return "", configErr("%s: StandardConfig.%s carries user info", name, field)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", configErr("%s: StandardConfig.%s has a fragment (RFC 6749 §3.1)", name, field)
	}
	if err := checkEndpoint(u); err != nil {
		return "", fmt.Errorf("%w: %s: StandardConfig.%s %s is neither https nor http to a loopback host (%w)",
			ErrInvalidConfig, name, field, RedactURL(u), err)
	}
	return raw, nil
}

// checkIssuer checks an issuer identifier: an https URL (loopback http for
// tests) with no query, fragment or user info (RFC 8414 §2).
func checkIssuer(name, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || u.User != nil || strings.ContainsAny(raw, "?#") {
		return nil, configErr("%s: the issuer must be an absolute URL without user info, query or fragment (RFC 8414 §2)", name)
	}
	// An issuer names a server by an ASCII host (RFC 3986 §3.2.2; an
	// internationalised name in its A-label form): a host with a
	// percent-encoded byte or an IPv6 zone (RFC 6874), which only means
	// something on the client's own link, names no issuer, and the
	// metadata URLs built from it would not parse back.
	if strings.IndexFunc(u.Host, func(c rune) bool { return c <= ' ' || c >= 0x7f || c == '%' }) >= 0 {
		return nil, configErr("%s: the issuer's host must be ASCII, without percent-encoding or an IPv6 zone", name)
	}
	if err := checkEndpoint(u); err != nil {
		return nil, fmt.Errorf("%w: %s: the issuer %s is neither https nor http to a loopback host (%w)",
			ErrInvalidConfig, name, RedactURL(u), err)
	}
	return u, nil
}

// resolveClientAuth turns ClientAuthDefault into a method and refuses the
// combinations that cannot work: a secret method without a secret, and a
// secret that ClientAuthNone would never send (a confidential client
// configured as public by mistake).
func resolveClientAuth(name string, c ClientAuth, hasSecret bool) (ClientAuth, error) {
	switch c {
	case ClientAuthDefault:
		if hasSecret {
			return ClientSecretBasic, nil
		}
		return ClientAuthNone, nil
	case ClientSecretBasic, ClientSecretPost:
		if !hasSecret {
			return 0, configErr("%s: %s needs App.ClientSecret", name, c)
		}
	case ClientAuthNone:
		if hasSecret {
			return 0, configErr("%s: ClientAuthNone would never send App.ClientSecret; leave it empty for a public client", name)
		}
	default:
		return 0, configErr("%s: unknown %s", name, c)
	}
	return c, nil
}

// Name returns StandardConfig.Name.
func (s *Standard) Name() string { return s.name }

func (s *Standard) appHTTPClient() *http.Client { return s.app.HTTPClient }

// Config returns the x/oauth2 configuration of the service, with AuthStyle
// explicit: AuthStyleInHeader for ClientSecretBasic (x/oauth2 form-encodes
// the id and secret, as RFC 6749 §2.3.1 asks), AuthStyleInParams otherwise.
func (s *Standard) Config() *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if s.auth == ClientSecretBasic {
		style = oauth2.AuthStyleInHeader
	}
	secret := s.app.ClientSecret
	if s.auth == ClientAuthNone {
		secret = ""
	}
	return &oauth2.Config{
		ClientID:     s.app.ClientID,
		ClientSecret: secret,
		RedirectURL:  s.app.RedirectURL,
		Scopes:       s.scopesFor(nil),
		Endpoint: oauth2.Endpoint{
			AuthURL:       s.authURL,
			TokenURL:      s.tokenURL,
			DeviceAuthURL: s.deviceURL,
			AuthStyle:     style,
		},
	}
}

// scopesFor is given, else App.Scopes, else StandardConfig.Scopes.
func (s *Standard) scopesFor(given []string) []string {
	if sc := s.app.scopes(given); len(sc) > 0 {
		return sc
	}
	return slices.Clone(s.scopes)
}

// Owns reports whether u is on the APIURL's origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none.
func (s *Standard) Owns(u *url.URL) bool { return sameOrigin(u, s.api) }

func (s *Standard) keepsURL() {}

// Authorize sets Authorization: Bearer (RFC 6750 §2.1). A token of another
// provider, or of a type other than Bearer, is refused (RFC 6749 §7.1: a
// client must not use a token type it does not understand).
func (s *Standard) Authorize(r *http.Request, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("%s: no access token", s.name)
	}
	if t.Provider != "" && t.Provider != s.name {
		return configErr("a %s token cannot be sent to %s", safeCode(truncate(t.Provider, 32)), s.name)
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return fmt.Errorf("%w: %s: token type %q", ErrUnsupportedTokenType, s.name, safeCode(truncate(t.TokenType, 32)))
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}

// Verdict reads an API response by its RFC 6750 §3 challenge. A 401 whose
// Bearer challenge says error="invalid_token" (the token expired, was
// revoked or is malformed, §3.1) is VerdictExpired: the Source refreshes
// (or, for client credentials, mints) once and the Transport replays the
// request once; a token that cannot be refreshed makes the Source answer
// ErrReauthRequired.
//
// Any other answer is VerdictOK and returned as it is: a 403 or
// error="insufficient_scope" (a new token would carry the same scopes),
// error="invalid_request", and a 401 without an error attribute (§3.1:
// such a challenge means the request carried no credential the server
// saw, so a new token would fare no better, and treating it as a dead
// token would sign the user out on a stray proxy's answer). The body is
// not read.
func (s *Standard) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode == http.StatusUnauthorized && bearerChallengeError(resp.Header) == "invalid_token" {
		return VerdictExpired
	}
	return VerdictOK
}

// apiError implements apiErrorer for CheckResponse.
func (s *Standard) apiError(rawURL string, resp *wire.Response) *Error {
	return s.ep.errorFrom("api", rawURL, resp)
}

// standardErrorShape reads an RFC 6749 §5.2 error body: error (a code) and
// error_description. A member of the wrong type is ignored; an error that
// is not code-like is prose, and is not taken for a code.
func standardErrorShape(body []byte) (code, desc string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "", ""
	}
	code, _ = jsonString(m["error"])
	desc, _ = jsonString(m["error_description"])
	if safeCode(code) == "" {
		return "", desc
	}
	return code, desc
}

// basicCredentials is the RFC 6749 §2.3.1 Basic header value: the client
// id and secret each application/x-www-form-urlencoded (RFC 6749 Appendix
// B) before they are joined with ':' and base64-encoded, so that a ':' in
// the id, or any non-ASCII or reserved character, reaches the server
// intact.
func basicCredentials(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// request is a POST of form to rawURL, authenticated as the client's
// method says (one method only, RFC 6749 §2.3).
func (s *Standard) request(rawURL string, form url.Values) *wire.Request {
	r := &wire.Request{URL: rawURL, Form: form}
	switch s.auth {
	case ClientSecretBasic:
		// wire's Basic style does not form-encode; the header is built here.
		r.Header = http.Header{"Authorization": {basicCredentials(s.app.ClientID, s.app.ClientSecret)}}
	case ClientSecretPost:
		r.Style, r.ClientID, r.ClientSecret = wire.AuthInParams, s.app.ClientID, s.app.ClientSecret
	default:
		r.Style, r.ClientID = wire.AuthInParams, s.app.ClientID
	}
	return r
}

// token posts form to the token endpoint and parses the token.
func (s *Standard) token(ctx context.Context, op string, form url.Values) (*Token, error) {
	return s.ep.token(ctx, op, s.request(s.tokenURL, form))
}

// scopeForm adds scope to form when there are scopes (RFC 6749 §3.3).
func scopeForm(form url.Values, scopes []string) url.Values {
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return form
}

// grantedScopes fills tok's scopes with the requested ones when the server
// sent none: RFC 6749 §5.1 omits scope only when it is what was requested.
func grantedScopes(tok *Token, requested []string) {
	if len(tok.Scopes) == 0 {
		tok.Scopes = slices.Clone(requested)
	}
}

// AuthRequest starts the authorization-code flow (RFC 6749 §4.1): the
// authorization URL with a fresh state (256 bits) and an S256 PKCE
// challenge, always (RFC 7636, RFC 9700 §2.1.1), and the scopes.
// redirectURL "" means App.RedirectURL; no scopes means App.Scopes, else
// StandardConfig.Scopes. The AuthRequest remembers the issuer that
// Exchange checks the callback's iss against (RFC 9207).
func (s *Standard) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	cfg := s.Config()
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	if cfg.RedirectURL == "" {
		return nil, configErr("%s: a redirect URL is required", s.name)
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || !u.IsAbs() || strings.Contains(cfg.RedirectURL, "#") {
		return nil, configErr("%s: the redirect URL must be absolute, without a fragment (RFC 6749 §3.1.2)", s.name)
	}
	cfg.Scopes = s.scopesFor(scopes)
	return newAuthRequest(authRequestOpts{provider: s.name, cfg: cfg, pkce: true, issuer: s.issuer, requireIss: s.requireIss})
}

// Exchange checks the callback query q against ar and exchanges the code
// once (RFC 6749 §4.1.3) with the identical redirect_uri and the PKCE
// verifier. The state is checked first, in constant time, single use; a
// wrong one consumes nothing. Then iss, when StandardConfig.Issuer is set
// (RFC 9207 §2.4): a callback whose iss differs is refused with
// ErrIssuerMismatch (the mix-up defence), and so is one without iss when
// the server always sends it (StandardConfig.RequireIss); without an
// Issuer, iss is ignored. An error= callback (RFC 6749 §4.1.2.1) comes
// back as an *Error: access_denied matches ErrAccessDenied. A code the
// server refuses (invalid_grant) is ErrCodeUsed; the exchange is never
// retried.
func (s *Standard) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	if ar == nil || ar.Provider != s.name || ar.Implicit {
		return nil, fmt.Errorf("%w: not a %s code-flow request", ErrStateMismatch, s.name)
	}
	if ar.RedirectURL == "" || ar.Verifier == "" {
		return nil, configErr("%s: this AuthRequest has no redirect URL or PKCE verifier; make it with AuthRequest", s.name)
	}
	// The provider's issuer rules, not what a stored request says. The
	// copy shares ar's single-use mark (made first for a literal).
	ar.used.mark()
	chk := *ar
	chk.Issuer = s.issuer
	chk.RequireIss = s.issuer != "" && (s.requireIss || ar.RequireIss)
	if s.issuer == "" && q.Has("iss") {
		q = cloneQuery(q)
		q.Del("iss")
	}
	code, err := chk.Callback(q)
	if err != nil {
		return nil, err
	}
	tok, err := s.token(ctx, "exchange", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ar.RedirectURL}, "code_verifier": {ar.Verifier},
	})
	if err != nil {
		return nil, err
	}
	grantedScopes(tok, ar.Scopes)
	return tok, nil
}

func cloneQuery(q url.Values) url.Values {
	c := make(url.Values, len(q))
	for k, v := range q {
		c[k] = slices.Clone(v)
	}
	return c
}

// ClientCredentials returns a Source of app tokens (RFC 6749 §4.4), minted
// lazily and minted again — never refreshed — when one expires or the
// service rejects it. A refresh token in the answer is dropped (§4.4.3:
// the server should not send one). scopes default to App.Scopes, else
// StandardConfig.Scopes. A public client (ClientAuthNone) cannot use this
// grant: the Source's tokens fail with ErrInvalidConfig, and nothing is
// sent.
func (s *Standard) ClientCredentials(scopes ...string) *Source {
	sc := s.scopesFor(scopes)
	src := newAppSource(s.app, s.name, grantClientCredentials, nil, func(ctx context.Context, _ *Token) (*Token, error) {
		if s.auth == ClientAuthNone {
			return nil, configErr("%s: client credentials need a confidential client (RFC 6749 §4.4)", s.name)
		}
		tok, err := s.token(ctx, "client_credentials", scopeForm(url.Values{"grant_type": {"client_credentials"}}, sc))
		if err != nil {
			return nil, err
		}
		tok.RefreshToken = ""
		grantedScopes(tok, sc)
		return tok, nil
	})
	src.revoker = s.revokeFn
	return src
}

// Source returns a Source holding a user token t (from Exchange, Device or
// storage) that renews it with the refresh_token grant (RFC 6749 §6): ahead
// of its expiry, and once when the service rejects it. A rotated refresh
// token replaces the old one; an answer without one keeps the old, and one
// without scope keeps the old scopes (§6, §5.1). A refresh token the
// server refuses (invalid_grant) makes the Source answer ErrReauthRequired.
// Set OnToken to persist each new token (a rotated refresh token must not
// be lost).
//
// A token without a refresh token is used until it expires — a renewal
// ahead of its expiry keeps it as it is, without a request — and then, or
// when the service rejects it, the Source answers ErrReauthRequired.
func (s *Standard) Source(t *Token) *Source {
	src := newAppSource(s.app, s.name, grantRefresh, t, nil)
	src.Mint = func(ctx context.Context, cur *Token) (*Token, error) { return s.refresh(ctx, src, cur) }
	src.revoker = s.revokeFn
	return src
}

// refresh is the MintFunc of Source.
func (s *Standard) refresh(ctx context.Context, src *Source, cur *Token) (*Token, error) {
	if cur == nil {
		return nil, reauthErr(nil)
	}
	if cur.RefreshToken == "" {
		// Nothing to refresh with. A renewal ahead of expiry of a token
		// still held and usable keeps it: failing with ErrReauthRequired
		// would end a grant that is still good (the Source reads that
		// error as a dead grant).
		if e := src.cur.Load(); e != nil && e.tok == cur && e.usable(src.clock().Now()) {
			return cur, nil
		}
		return nil, errorf("%s: no refresh token: %w", s.name, ErrReauthRequired)
	}
	tok, err := s.token(ctx, "refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cur.RefreshToken}})
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
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

// Device starts the device authorization grant (RFC 8628): POST to the
// device endpoint with the scopes, authenticated as at the token endpoint
// (§3.1: a confidential client authenticates), and returns the code to
// show. Wait polls the token endpoint with the device_code grant on the
// common engine: authorization_pending keeps the interval, slow_down adds
// 5 s for this and every later poll, network trouble and 5xx back off,
// access_denied is ErrAccessDenied and expired_token (or the code's
// lifetime running out) ErrExpiredCode (§3.5). The verification URIs must
// be https pages on the host of the issuer or of an endpoint (§5.4); any
// other gives an *Error wrapping ErrBadVerificationURI. Without a device
// endpoint, ErrUnsupportedGrant.
func (s *Standard) Device(ctx context.Context, scopes ...string) (*DeviceCode, error) {
	if s.deviceURL == "" {
		return nil, fmt.Errorf("%w: %s has no device authorization endpoint (StandardConfig.DeviceURL)", ErrUnsupportedGrant, s.name)
	}
	sc := s.scopesFor(scopes)
	resp, err := s.ep.do(ctx, "device", s.request(s.deviceURL, scopeForm(url.Values{}, sc)))
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, s.ep.errorFrom("device", s.deviceURL, resp)
	}
	da, err := parseDeviceAuth(resp.Body)
	if err != nil {
		return nil, &Error{Provider: s.name, Op: "device", Status: resp.Status, URL: redactString(s.deviceURL), Body: capBody(resp.Body), Err: err}
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		tok, err := s.token(ctx, "device_poll", form)
		if err != nil {
			return nil, rfc8628Outcome(err), err
		}
		grantedScopes(tok, sc)
		return tok, pollDone, nil
	}
	dc := newDeviceCode(s.name, s.app.Clock, time.Duration(da.ExpiresIn)*time.Second, time.Duration(da.Interval)*time.Second, poll)
	dc.UserCode, dc.VerificationURI, dc.VerificationURIComplete = da.UserCode, da.VerificationURI, da.VerificationURIComplete
	if err := checkDeviceCode(dc, s.hosts); err != nil {
		return nil, &Error{Provider: s.name, Op: "device", Status: resp.Status, URL: redactString(s.deviceURL), Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// Revoke ends t's grant at the revocation endpoint (RFC 7009 §2.1),
// authenticated as at the token endpoint: the refresh token with
// token_type_hint=refresh_token when t has one (revoking it should end the
// grant's access tokens too, §2.1), else the access token with
// token_type_hint=access_token. A 200 is success, also for a token the
// server did not know (§2.2). A token of another provider is refused with
// ErrInvalidConfig and not sent; without a revocation endpoint,
// ErrUnsupportedGrant.
func (s *Standard) Revoke(ctx context.Context, t *Token) error {
	if s.revokeURL == "" {
		return fmt.Errorf("%w: %s has no revocation endpoint (StandardConfig.RevokeURL)", ErrUnsupportedGrant, s.name)
	}
	if t == nil || (t.AccessToken == "" && t.RefreshToken == "") {
		return configErr("%s: no token to revoke", s.name)
	}
	if t.Provider != "" && t.Provider != s.name {
		return configErr("a %s token cannot be revoked at %s", safeCode(truncate(t.Provider, 32)), s.name)
	}
	form := url.Values{"token": {t.RefreshToken}, "token_type_hint": {"refresh_token"}}
	if t.RefreshToken == "" {
		form = url.Values{"token": {t.AccessToken}, "token_type_hint": {"access_token"}}
	}
	resp, err := s.ep.do(ctx, "revoke", s.request(s.revokeURL, form))
	if err != nil {
		return err
	}
	if resp.Status >= 200 && resp.Status <= 299 {
		return nil
	}
	return s.ep.errorFrom("revoke", s.revokeURL, resp)
}

// String describes the provider without its client secret.
func (s *Standard) String() string {
	if s == nil {
		return "videoauth.Standard(nil)"
	}
	return "videoauth.Standard{name=" + s.name + " " + s.app.String() + "}"
}

// GoString makes %#v print String.
func (s *Standard) GoString() string { return s.String() }

// Format makes every fmt verb print String (see print.go for why the
// receiver is a value).
func (s Standard) Format(f fmt.State, verb rune) { printRedacted(f, verb, s.String()) }

// LogValue makes slog print the provider without its client secret.
func (s *Standard) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(s.name, s.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (s Standard) MarshalJSON() ([]byte, error) { return providerJSON(s.name, s.app) }
