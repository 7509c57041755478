package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// VimeoURL is Vimeo's API host; OAuth pages and token endpoints live there
// too (docs/vimeo.md#hosts).
const VimeoURL = "https://api.vimeo.com"

// VimeoVersion is the API version requested in the Accept header when
// App.APIVersion is empty (docs/vimeo.md#headers: 3.4 is the current default).
const VimeoVersion = "3.4"

// Vimeo scopes (developer.vimeo.com/api/authentication; email and stats from
// Vimeo's OpenAPI security scheme, github.com/vimeo/openapi).
const (
	VimeoScopePublic     = "public"
	VimeoScopePrivate    = "private"
	VimeoScopePurchased  = "purchased"
	VimeoScopePurchase   = "purchase"
	VimeoScopeCreate     = "create"
	VimeoScopeEdit       = "edit"
	VimeoScopeDelete     = "delete"
	VimeoScopeInteract   = "interact"
	VimeoScopeUpload     = "upload"
	VimeoScopePromoCodes = "promo_codes"
	VimeoScopeVideoFiles = "video_files"
	VimeoScopeEmail      = "email"
	VimeoScopeStats      = "stats"
)

// Vimeo is the Vimeo provider: client credentials, authorization code,
// implicit and device grants, token verification and revocation, on
// api.vimeo.com. Every request it sends, token endpoints included, carries
// the versioned Accept header and, when the App names one, a User-Agent;
// token endpoints get Basic client auth over the raw id:secret, as Vimeo's
// own SDKs send it. A grant that returns fewer scopes than were asked for
// is reported to App.Logger.
type Vimeo struct {
	app     App
	api     *url.URL
	accept  string // the versioned Accept header
	version string // ";version=" + the API version
	ua      string // User-Agent; "" leaves net/http's default
	// acceptVals and uaVals are the header value slices of accept and ua,
	// shared by the Transport's requests (len == cap, so an append copies).
	acceptVals, uaVals []string
	ep                 *endpoint
	// revokeFn is v.Revoke, made once so that a Source per user does not
	// allocate its own method value.
	revokeFn func(context.Context, *Token) error
}

// NewVimeo returns the Vimeo provider for app. App.APIURL points it at a
// fake or a proxy; App.APIVersion overrides the API version.
func NewVimeo(app App) (*Vimeo, error) {
	api, err := baseURL(app.APIURL, VimeoURL)
	if err != nil {
		return nil, err
	}
	if app.ClientID == "" {
		return nil, configErr("vimeo: App.ClientID is required")
	}
	version := app.APIVersion
	if version == "" {
		version = VimeoVersion
	}
	ua := vimeoUserAgent(app)
	if strings.ContainsFunc(ua, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) {
		return nil, configErr("vimeo: App.UserAgent (or AppName/AppVersion) holds a control character")
	}
	v := &Vimeo{app: app, api: api, accept: vimeoMediaType + ";version=" + version, version: ";version=" + version, ua: ua}
	v.acceptVals = []string{v.accept}
	v.revokeFn = v.Revoke
	v.uaVals = []string{ua}
	h := http.Header{"Accept": {v.accept}}
	if ua != "" {
		h["User-Agent"] = []string{ua}
	}
	v.ep = newEndpoint("vimeo", app, h, vimeoErrorShape, func(t *Token) { vimeoFinish(t, v.ep.clock.Now()) })
	return v, nil
}

// vimeoMediaType is the range of Vimeo's own media types, in which its API
// answers (developer.vimeo.com/api/common-formats).
const vimeoMediaType = "application/vnd.vimeo.*+json"

// vimeoUserAgent is the User-Agent of Vimeo requests: App.UserAgent, else
// AppName/AppVersion (AppName alone without a version). An App naming
// neither gets none: net/http then sends its own default, as it does for
// every other request of the caller's client, and a User-Agent set by the
// caller's own RoundTripper is not overridden. Vimeo requires none [I];
// its SDKs send theirs to identify themselves, which only the App can do.
func vimeoUserAgent(a App) string {
	if a.UserAgent == "" && a.AppName == "" {
		return ""
	}
	return strings.TrimSuffix(a.userAgent(), "/")
}

// Name returns "vimeo".
func (v *Vimeo) Name() string { return "vimeo" }

func (v *Vimeo) appHTTPClient() *http.Client { return v.app.HTTPClient }

func (v *Vimeo) url(p string) string { return v.api.String() + p }

// Config returns the x/oauth2 configuration of Vimeo's code flow, with
// AuthStyleInHeader set explicitly. (This library sends Vimeo's token
// requests itself: x/oauth2 URL-escapes the Basic credentials, Vimeo's SDKs
// do not — docs/vimeo.md#client-authentication.)
func (v *Vimeo) Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     v.app.ClientID,
		ClientSecret: v.app.ClientSecret,
		RedirectURL:  v.app.RedirectURL,
		Scopes:       v.app.scopes(nil),
		Endpoint: oauth2.Endpoint{
			AuthURL:       v.url("/oauth/authorize"),
			TokenURL:      v.url("/oauth/access_token"),
			DeviceAuthURL: v.url("/oauth/device"),
			AuthStyle:     oauth2.AuthStyleInHeader,
		},
	}
}

// Owns reports whether u is on Vimeo's API origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none.
func (v *Vimeo) Owns(u *url.URL) bool { return sameOrigin(u, v.api) }

// Authorize sets the bearer token, the versioned Accept header and, unless
// the caller set one (even empty, which net/http reads as "send none"), the
// App's User-Agent. A caller's Accept naming a Vimeo media type
// (application/vnd.vimeo.*+json, application/vnd.vimeo.video+json, ...) is
// kept, with ;version= added where it names none; a version it gives is
// kept. Any other Accept (application/json, */*) is replaced: Vimeo answers
// only in its own media types, and the version must ride on every request
// so that Vimeo's changes do not break the caller
// (developer.vimeo.com/api/common-formats).
func (v *Vimeo) Authorize(r *http.Request, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("vimeo: no access token")
	}
	return v.authorizeWith(r, t, v.credential(t))
}

func (v *Vimeo) keepsURL() {}

func (v *Vimeo) credential(t *Token) string { return "Bearer " + t.AccessToken }

func (v *Vimeo) authorizeWith(r *http.Request, _ *Token, cred string) error {
	versioned, named := v.versionAccept(r.Header["Accept"])
	addUA := v.addsUA(r)
	// The values set here share one allocation; the three-index slices keep
	// an append to one from writing into another.
	n := 1
	if !named {
		n++
	}
	if addUA {
		n++
	}
	vals := make([]string, n)
	vals[0] = cred
	r.Header["Authorization"] = vals[0:1:1]
	i := 1
	switch {
	case versioned != nil:
		r.Header["Accept"] = versioned
	case !named:
		vals[i] = v.accept
		r.Header["Accept"] = vals[i : i+1 : i+1]
		i++
	}
	if addUA {
		vals[i] = v.ua
		r.Header["User-Agent"] = vals[i : i+1 : i+1]
	}
	return nil
}

// authorizeWithValues is authorizeWith with the Authorization value slice
// the Transport built once for the token (headerCredentialer), and the
// provider's own Accept and User-Agent slices: nothing is allocated unless
// a caller's Accept needs a version added.
func (v *Vimeo) authorizeWithValues(r *http.Request, _ *Token, values []string) error {
	versioned, named := v.versionAccept(r.Header["Accept"])
	r.Header["Authorization"] = values
	switch {
	case versioned != nil:
		r.Header["Accept"] = versioned
	case !named:
		r.Header["Accept"] = v.acceptVals
	}
	if v.addsUA(r) {
		r.Header["User-Agent"] = v.uaVals
	}
	return nil
}

// addsUA reports whether r gets the App's User-Agent: when the App names
// one and the caller set none (an empty one means "send none" to net/http).
func (v *Vimeo) addsUA(r *http.Request) bool {
	if v.ua == "" {
		return false
	}
	_, set := r.Header["User-Agent"]
	return !set
}

// versionAccept reads a request's Accept values: named reports whether one
// names a Vimeo media type, and versioned, when not nil, is a copy of
// values with ;version= added to each Vimeo media type that has none. It
// allocates only when a version is added.
func (v *Vimeo) versionAccept(values []string) (versioned []string, named bool) {
	for i, val := range values {
		n, missing := vimeoAcceptNeeds(val)
		named = named || n
		if !missing {
			continue
		}
		if versioned == nil {
			versioned = make([]string, len(values))
			copy(versioned, values)
		}
		versioned[i] = v.addVersion(val)
	}
	return versioned, named
}

// vimeoAcceptNeeds reports whether the Accept value val names a Vimeo media
// type, and whether one of those lacks a version parameter. Media types and
// parameter names are case-insensitive (RFC 9110 §8.3.1, §5.6.6).
func vimeoAcceptNeeds(val string) (named, missing bool) {
	for el := range strings.SplitSeq(val, ",") {
		mt, params, _ := strings.Cut(el, ";")
		if !isVimeoMediaType(mt) {
			continue
		}
		named = true
		if !hasMediaParam(params, "version") {
			missing = true
		}
	}
	return named, missing
}

func isVimeoMediaType(mt string) bool {
	const prefix = "application/vnd.vimeo."
	mt = strings.TrimSpace(mt)
	return len(mt) > len(prefix) && strings.EqualFold(mt[:len(prefix)], prefix)
}

// hasMediaParam reports whether the ';'-separated media-type parameters
// name key.
func hasMediaParam(params, key string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), key) {
			return true
		}
	}
	return false
}

// addVersion adds ;version= to each Vimeo media type of the Accept value
// val that has none, before its q parameter if any: q ends a media range's
// own parameters (RFC 9110 §12.5.1).
func (v *Vimeo) addVersion(val string) string {
	if strings.EqualFold(val, vimeoMediaType) {
		return v.accept // the common case, without building a string
	}
	var b strings.Builder
	first := true
	for el := range strings.SplitSeq(val, ",") {
		if !first {
			b.WriteByte(',')
		}
		first = false
		mt, params, _ := strings.Cut(el, ";")
		if !isVimeoMediaType(mt) || hasMediaParam(params, "version") {
			b.WriteString(el)
			continue
		}
		at := len(el)
		for i := len(mt); i < len(el); i++ {
			if el[i] != ';' {
				continue
			}
			k, _, _ := strings.Cut(el[i+1:], "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				at = i
				break
			}
		}
		head := strings.TrimRight(el[:at], " \t")
		b.WriteString(head)
		b.WriteString(v.version)
		b.WriteString(el[len(head):])
	}
	return b.String()
}

// Verdict reads a Vimeo API response. A 401 with WWW-Authenticate:
// Bearer error="invalid_token" (what Vimeo's own SDK keys on) or with
// error_code 8000, 8001 or 8003 means the token is no good: Expired, so a
// client-credentials source re-mints and the request is replayed once; for a
// user token, which cannot be re-minted, the Transport turns that into
// Revoked. error_code 8002 ("no user associated with the token": an app
// token on a user endpoint) is returned as it is, since a new app token would
// not help [I]. 403 (missing scope) is never retried.
func (v *Vimeo) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode != http.StatusUnauthorized {
		return VerdictOK
	}
	code, _ := vimeoErrorShape(peekBody(resp, 4<<10))
	switch code {
	case "8002":
		// An app token on a user endpoint: the token is fine, whatever
		// challenge comes with the answer; replacing it would not help.
		return VerdictOK
	case "8000", "8001", "8003":
		return VerdictExpired
	}
	if strings.Contains(resp.Header.Get("WWW-Authenticate"), `invalid_token`) {
		return VerdictExpired
	}
	return VerdictOK
}

// peekBody reads up to n bytes of resp.Body and puts them back (inside
// the Transport's rejectedBody mark, when there is one). A body already
// read or closed gives what is left: nothing.
func peekBody(resp *http.Response, n int64) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	rb, marked := resp.Body.(*rejectedBody)
	inner := resp.Body
	if marked {
		inner = rb.ReadCloser
	}
	b, _ := io.ReadAll(io.LimitReader(inner, n))
	again := struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), inner), inner}
	if marked {
		rb.ReadCloser = again
	} else {
		resp.Body = again
	}
	return b
}

// vimeoErrorShape reads any of Vimeo's three error shapes
// (docs/vimeo.md#error-shapes): {error, developer_message, error_code (number
// or string), link}, the token endpoints' {error, error_description}, and the
// legacy {error}.
func vimeoErrorShape(body []byte) (code, desc string) {
	var e struct {
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		DeveloperMessage string          `json:"developer_message"`
		ErrorCode        json.RawMessage `json:"error_code"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	if c := jsonCode(e.ErrorCode); c != "" {
		desc = e.DeveloperMessage
		if desc == "" {
			desc = e.Error
		}
		return c, desc
	}
	if safeCode(e.Error) != "" {
		return e.Error, e.ErrorDescription
	}
	// The legacy shape's error is prose, not a code.
	if e.ErrorDescription != "" {
		return "", e.ErrorDescription
	}
	return "", e.Error
}

// jsonCode reads a code sent as a JSON number or string.
func jsonCode(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if s, ok := jsonString(raw); ok {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// vimeoFinish takes the user id from user.uri ("/users/4242") and an expiry
// from expires_on (epoch seconds) when expires_in was absent. An expires_on
// in the past means "no lifetime given" rather than "expired on arrival"
// (which would make a Source mint on every call), and one beyond
// maxExpiresIn is clamped, as expires_in is.
func vimeoFinish(t *Token, now time.Time) {
	if len(t.User) > 0 {
		var u struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(t.User, &u) == nil && strings.HasPrefix(u.URI, "/users/") {
			t.UserID = path.Base(u.URI)
		}
	}
	if raw, ok := t.Extra["expires_on"]; ok && t.Expiry.IsZero() {
		if s := jsonCode(raw); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > now.Unix() {
				t.Expiry = time.Unix(min(n, now.Add(maxExpiresIn).Unix()), 0)
			}
		}
	}
}

// vimeoSentinel refines the generic mapping with Vimeo's numeric codes.
func (v *Vimeo) refine(e *Error) *Error {
	switch e.Code {
	case "8000", "8003", "2300", "2302":
		e.Err = ErrReauthRequired // the token is invalid, malformed or gone
	case "8002":
		// A user endpoint called with an app token: the token is fine for
		// what app tokens do, and must not be thrown away.
		e.Err = ErrUserTokenRequired
	case "8001":
		e.Err = ErrInvalidClient
	case "3200":
		e.Err = ErrForbidden // permission denied (403)
	}
	return e
}

// apiError implements apiErrorer for CheckResponse.
func (v *Vimeo) apiError(rawURL string, resp *wire.Response) *Error {
	return v.refine(v.ep.errorFrom("api", rawURL, resp))
}

func (v *Vimeo) call(ctx context.Context, op, p string, form url.Values) (*Token, error) {
	tok, err := v.ep.token(ctx, op, &wire.Request{
		URL: v.url(p), Form: form, Style: wire.AuthBasicRaw,
		ClientID: v.app.ClientID, ClientSecret: v.app.ClientSecret,
	})
	var e *Error
	if errors.As(err, &e) {
		v.refine(e)
	}
	return tok, err
}

func scopeParam(s []string) string {
	if len(s) == 0 {
		return VimeoScopePublic
	}
	return strings.Join(s, " ")
}

// ClientCredentials returns a Source of app-only tokens from
// POST /oauth/authorize/client (docs/vimeo.md#client-credentials), minted
// lazily and re-minted when Vimeo rejects one. Such tokens read public data
// only, whatever scopes are asked for; scopes default to the App's, else
// "public".
func (v *Vimeo) ClientCredentials(scopes ...string) *Source {
	sc := scopeParam(v.app.scopes(scopes))
	s := newAppSource(v.app, "vimeo", grantClientCredentials, nil, func(ctx context.Context, _ *Token) (*Token, error) {
		tok, err := v.call(ctx, "client_credentials", "/oauth/authorize/client",
			url.Values{"grant_type": {"client_credentials"}, "scope": {sc}})
		if err == nil {
			v.checkScopes("client_credentials", strings.Fields(sc), tok)
		}
		return tok, err
	})
	s.revoker = v.revokeFn
	return s
}

// checkScopes warns through App.Logger when Vimeo granted fewer scopes than
// were asked for — the granted list may differ from the requested one, and
// a client-credentials token is public-only whatever is asked — since such
// a token fails only at the first request that needs a missing scope, with
// a 403. Token.RequireScopes gives the same answer as an error. A response
// without scope granted what was asked (RFC 6749 §5.1). Only scope names
// are logged.
func (v *Vimeo) checkScopes(grant string, requested []string, tok *Token) {
	if v.app.Logger == nil || tok == nil || len(tok.Scopes) == 0 {
		return
	}
	var missing []string
	for _, sc := range requested {
		if !tok.HasScope(sc) && !slices.Contains(missing, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		v.app.warn("videoauth: vimeo granted fewer scopes than requested; requests needing the missing ones will fail",
			"grant", grant, "missing", strings.Join(missing, " "),
			"requested", strings.Join(requested, " "), "granted", strings.Join(tok.Scopes, " "))
	}
}

// AuthRequest starts the authorization-code flow: the authorize URL on
// api.vimeo.com with a fresh state (Vimeo requires one) and the scopes, and
// an S256 PKCE challenge. Vimeo does not document PKCE; authorization
// servers must ignore parameters they do not know (RFC 6749 §3.1), so it
// costs nothing and protects if Vimeo honours it [I]. redirectURL "" means
// App.RedirectURL; no scopes means App.Scopes, else "public".
func (v *Vimeo) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	return v.authRequest(redirectURL, scopes, false)
}

// ImplicitRequest starts the implicit grant (response_type=token): the token
// comes back in the redirect's fragment, short-lived. RFC 9700 §2.1.2 advises
// against it; it exists for browser-only clients. Finish with ImplicitToken.
func (v *Vimeo) ImplicitRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	return v.authRequest(redirectURL, scopes, true)
}

func (v *Vimeo) authRequest(redirectURL string, scopes []string, implicit bool) (*AuthRequest, error) {
	cfg := v.Config()
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	if cfg.RedirectURL == "" {
		return nil, configErr("vimeo: a redirect URL is required")
	}
	cfg.Scopes = strings.Fields(scopeParam(v.app.scopes(scopes)))
	return newAuthRequest(authRequestOpts{provider: "vimeo", cfg: cfg, pkce: !implicit, implicit: implicit})
}

// Exchange checks the callback query q against ar — state first, in
// constant time, single use — and exchanges the code once at
// POST /oauth/access_token with Basic client auth and the identical
// redirect_uri. A failed exchange is never retried: the code is spent.
func (v *Vimeo) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	if ar == nil || ar.Provider != v.Name() || ar.Implicit {
		return nil, fmt.Errorf("%w: not a Vimeo code-flow request", ErrStateMismatch)
	}
	code, err := ar.Callback(q)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ar.RedirectURL}}
	if ar.Verifier != "" {
		form.Set("code_verifier", ar.Verifier)
	}
	tok, err := v.call(ctx, "exchange", "/oauth/access_token", form)
	if err == nil {
		v.checkScopes("exchange", ar.Scopes, tok)
	}
	return tok, err
}

// ImplicitToken reads the token from the implicit grant's redirect fragment
// (with or without the leading '#', or the whole redirect URL), after the
// same state checks as Exchange. The token expires after expires_in.
func (v *Vimeo) ImplicitToken(ar *AuthRequest, fragment string) (*Token, error) {
	if ar == nil || ar.Provider != v.Name() || !ar.Implicit {
		return nil, fmt.Errorf("%w: not a Vimeo implicit request", ErrStateMismatch)
	}
	if i := strings.IndexByte(fragment, '#'); i >= 0 {
		fragment = fragment[i+1:]
	}
	q, err := url.ParseQuery(fragment)
	if err != nil {
		return nil, fmt.Errorf("%w: unparsable fragment", ErrBadCallback)
	}
	if err := ar.consume(q); err != nil {
		return nil, err
	}
	if err := ar.callbackError(q); err != nil {
		return nil, err
	}
	tok, err := parseFragmentToken(q, v.Name(), v.ep.clock.Now())
	if err == nil {
		v.checkScopes("implicit", ar.Scopes, tok)
	}
	return tok, err
}

// parseFragmentToken applies the token-response rules to fragment values.
func parseFragmentToken(q url.Values, provider string, now time.Time) (*Token, error) {
	m := make(map[string]json.RawMessage, len(q))
	for k, vs := range q {
		if k == "state" || len(vs) != 1 {
			continue
		}
		b, _ := json.Marshal(vs[0])
		m[k] = b
	}
	body, _ := json.Marshal(m)
	tok, err := parseToken(body, "application/json", "bearer", now)
	if err != nil {
		var be *tokenBodyError
		if errors.As(err, &be) {
			return nil, &Error{Provider: provider, Op: "implicit", Code: be.code, Err: ErrAccessDenied}
		}
		return nil, err
	}
	tok.Provider = provider
	return tok, nil
}

// Device starts Vimeo's device grant (POST /oauth/device, grant_type
// device_grant; docs/vimeo.md#device-grant) and returns the code to show. Wait
// polls POST /oauth/device/authorize on the common engine. Vimeo's device flow
// is not RFC 8628: Basic client auth, its own grant type, the user_code sent
// back with every poll. The poll always goes to api.vimeo.com, never to the
// authorize_link the response names, so client credentials cannot be sent
// elsewhere. The activate_link shown to the user must be an https page on
// vimeo.com, www.vimeo.com or api.vimeo.com, or on the host of App.APIURL
// or App.WebURL (a fake's activation page); any other link gives an *Error
// wrapping ErrBadVerificationURI (RFC 8628 §5.4).
func (v *Vimeo) Device(ctx context.Context, scopes ...string) (*DeviceCode, error) {
	web, err := baseURL(v.app.WebURL, VimeoURL)
	if err != nil {
		return nil, err
	}
	hosts := verificationHosts([]*url.URL{v.api, web}, "vimeo.com", "www.vimeo.com", "api.vimeo.com")
	sc := scopeParam(v.app.scopes(scopes))
	resp, err := v.ep.do(ctx, "device", &wire.Request{
		URL: v.url("/oauth/device"), Style: wire.AuthBasicRaw, ClientID: v.app.ClientID, ClientSecret: v.app.ClientSecret,
		Header: http.Header{"Cache-Control": {"no-cache, no-store"}},
		Form:   url.Values{"grant_type": {"device_grant"}, "scope": {sc}},
	})
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, v.refine(v.ep.errorFrom("device", v.url("/oauth/device"), resp))
	}
	dr, err := parseVimeoDevice(resp.Body)
	if err != nil {
		return nil, &Error{Provider: "vimeo", Op: "device", Status: resp.Status, Body: capBody(resp.Body), Err: err}
	}
	form := url.Values{"grant_type": {"device_grant"}, "user_code": {dr.UserCode}, "device_code": {dr.DeviceCode}, "scope": {sc}}
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		r := &wire.Request{URL: v.url("/oauth/device/authorize"), Form: form, Style: wire.AuthBasicRaw,
			ClientID: v.app.ClientID, ClientSecret: v.app.ClientSecret}
		resp, err := v.ep.do(ctx, "device_poll", r)
		if err != nil {
			return nil, transportOutcome(err), err
		}
		if resp.Status >= 200 && resp.Status <= 299 {
			tok, err := v.ep.parse("device_poll", r.URL, resp)
			if err != nil {
				return nil, pollFail, err
			}
			v.checkScopes("device", strings.Fields(sc), tok)
			return tok, pollDone, nil
		}
		e := v.refine(v.ep.errorFrom("device_poll", r.URL, resp))
		return nil, vimeoPollOutcome(e), e
	}
	dc := newDeviceCode("vimeo", v.app.Clock, time.Duration(dr.ExpiresIn)*time.Second, time.Duration(dr.Interval)*time.Second, poll)
	dc.UserCode, dc.VerificationURI = dr.UserCode, dr.ActivateLink
	if err := checkDeviceCode(dc, hosts); err != nil {
		return nil, &Error{Provider: "vimeo", Op: "device", Status: resp.Status, Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// vimeoPollOutcome classifies a failed device poll. Vimeo does not document
// its "not yet" answer, and clients treat any 4xx as pending [I]; answers
// that can never turn into a token stop at once (RFC 8628 §3.5).
func vimeoPollOutcome(e *Error) pollOutcome {
	switch {
	case e.Status == 429 || e.Code == "slow_down":
		return pollSlowDown
	case e.Status >= 500:
		return pollRetry
	}
	switch e.Code {
	case "access_denied", "expired_token", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "8001":
		return pollFail
	}
	return pollPending
}

type vimeoDeviceResponse struct {
	DeviceCode    string `json:"device_code"`
	UserCode      string `json:"user_code"`
	AuthorizeLink string `json:"authorize_link"`
	ActivateLink  string `json:"activate_link"`
	ExpiresIn     int64  `json:"expires_in"`
	Interval      int64  `json:"interval"`
}

// parseVimeoDevice reads the /oauth/device answer (Vimeo's PinCodeInfo).
func parseVimeoDevice(body []byte) (*vimeoDeviceResponse, error) {
	var dr vimeoDeviceResponse
	if err := json.Unmarshal(body, &dr); err != nil {
		return nil, fmt.Errorf("%w: device response is not the expected JSON", ErrBadResponse)
	}
	if dr.DeviceCode == "" || dr.UserCode == "" || dr.ActivateLink == "" {
		return nil, fmt.Errorf("%w: device response lacks device_code, user_code or activate_link", ErrBadResponse)
	}
	if err := checkTiming(dr.ExpiresIn, dr.Interval); err != nil {
		return nil, err
	}
	return &dr, nil
}

// Verify asks Vimeo whether t is still valid (GET /oauth/verify) and
// returns what Vimeo knows of it: granted scopes, user, app. A token Vimeo
// no longer knows (deleted after six months unused, revoked) gives an *Error
// matching ErrReauthRequired.
func (v *Vimeo) Verify(ctx context.Context, t *Token) (*Token, error) {
	if t == nil || t.AccessToken == "" {
		return nil, configErr("vimeo: no token to verify")
	}
	r := &wire.Request{Method: http.MethodGet, URL: v.url("/oauth/verify"), Header: http.Header{"Authorization": {"Bearer " + t.AccessToken}}}
	resp, err := v.ep.do(ctx, "verify", r)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusUnauthorized {
		e := v.ep.errorFrom("verify", r.URL, resp)
		e.Err = ErrReauthRequired
		return nil, e
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, v.refine(v.ep.errorFrom("verify", r.URL, resp))
	}
	info, err := v.ep.parse("verify", r.URL, resp)
	if err != nil {
		return nil, err
	}
	info.AccessToken = t.AccessToken // Vimeo echoes it; keep ours either way
	info.RefreshToken = t.RefreshToken
	return info, nil
}

// Revoke deletes t at Vimeo (DELETE /tokens). A token Vimeo already does not
// know (401) counts as revoked.
func (v *Vimeo) Revoke(ctx context.Context, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("vimeo: no token to revoke")
	}
	r := &wire.Request{Method: http.MethodDelete, URL: v.url("/tokens"), Header: http.Header{"Authorization": {"Bearer " + t.AccessToken}}}
	resp, err := v.ep.do(ctx, "revoke", r)
	if err != nil {
		return err
	}
	if resp.Status >= 200 && resp.Status <= 299 || resp.Status == http.StatusUnauthorized {
		return nil
	}
	return v.refine(v.ep.errorFrom("revoke", r.URL, resp))
}

// Source returns a Source holding a user token t (from Exchange, Device or
// storage). A user token cannot be re-minted without the user: when Vimeo
// rejects it the Source answers ErrReauthRequired.
func (v *Vimeo) Source(t *Token) *Source {
	s := newAppSource(v.app, "vimeo", grantMint, t, nil)
	s.revoker = v.revokeFn
	return s
}

// Identify asks Vimeo whose token t is (GET /oauth/verify,
// docs/vimeo.md#verification-and-revocation) and returns the user: the id
// of user.uri (/users/<id>), user.name, and the user object. Vimeo's answer
// echoes the access token; only its user is kept. A client-credentials
// token has no user: the Identity's UserID is empty. Vimeo answers 401 for
// a token it does not know (revoked, or deleted after six months unused):
// an app token's *Error matches ErrTokenExpired (client credentials mint
// another), a user token's ErrReauthRequired. A token without UserID and
// User is taken for an app token: Exchange and Device fill both for a user
// token. See Identifier.
func (v *Vimeo) Identify(ctx context.Context, t *Token) (*Identity, error) {
	if err := checkIdentifyToken(v, t); err != nil {
		return nil, err
	}
	u := v.url("/oauth/verify")
	resp, err := identifyGet(ctx, v, v.ep.hc, u, u, t, nil)
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := v.refine(v.ep.errorFrom("api", u, resp))
		verdict := verdictOf(v, resp)
		if resp.Status == http.StatusUnauthorized && e.Code != "8002" {
			verdict = VerdictExpired // verify's 401: Vimeo does not know the token [C]
		}
		return nil, identifyFailed(e, t, u, rejection(verdict, appToken(t)))
	}
	id, err := parseVimeoIdentity(resp.Body)
	if err != nil {
		return nil, badIdentity("vimeo", resp, t, u, err)
	}
	return identified(id, t), nil
}
