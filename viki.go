package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// VikiV3URL is the host of Viki's v3 API and its OAuth token endpoint.
// Viki's v3 auth page (dev.viki.com/v3/auth) shows http://viki.com; tokens
// and passwords never travel in the clear here, so https is the default
// (docs/viki.md#hosts).
const VikiV3URL = "https://viki.com"

// vikiTokenLife is the lifetime of a v3 token when the answer has no
// expires_in: 24 hours, as Viki documents.
const vikiTokenLife = 24 * time.Hour

// Viki is Viki's v3 API (OAuth 2.0, deprecated and closed to new apps, still
// used by existing ones; docs/viki.md#v3-oauth): client credentials and the
// password grant (username and password, or a Facebook access token),
// credentials sent in the form body, 24-hour tokens without refresh.
//
// v3 carries the token in the URL (?access_token=), against RFC 9700 §4.3.
// The library contains it: the token is attached only to Viki's host, on a
// clone of the request; every URL in an error or log line is redacted; and
// responses point at the caller's request, not at the clone. For Viki's
// current API, which signs requests instead, see VikiAPI.
type Viki struct {
	app  App
	base *url.URL
	ep   *endpoint
}

// NewViki returns the Viki v3 provider for app (ClientID and ClientSecret
// of a v3 application). App.APIURL points it at a fake or a proxy.
func NewViki(app App) (*Viki, error) {
	base, err := baseURL(app.APIURL, VikiV3URL)
	if err != nil {
		return nil, err
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return nil, configErr("viki: App.ClientID and App.ClientSecret are required")
	}
	v := &Viki{app: app, base: base}
	v.ep = newEndpoint("viki", app, http.Header{"Accept": {"application/json"}}, vikiErrorShape, v.finish)
	return v, nil
}

// Name returns "viki".
func (v *Viki) Name() string { return "viki" }

func (v *Viki) appHTTPClient() *http.Client { return v.app.HTTPClient }

// Config returns the x/oauth2 configuration of Viki v3: the token endpoint
// with AuthStyleInParams set explicitly (Viki reads the credentials from the
// form body).
func (v *Viki) Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     v.app.ClientID,
		ClientSecret: v.app.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: v.base.String() + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
}

// Owns reports whether u is on Viki's v3 origin: scheme, host (in any
// case) and port, the scheme's default port being the same as none.
func (v *Viki) Owns(u *url.URL) bool {
	// The exact spelling of the base is the common case, and the same origin.
	return u != nil && u.Host == v.base.Host && u.Scheme == v.base.Scheme || sameOrigin(u, v.base)
}

// Authorize puts t in the access_token query parameter, where Viki v3
// reads it, replacing any the caller set.
func (v *Viki) Authorize(r *http.Request, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("viki: no access token")
	}
	return v.authorizeWith(r, t, v.credential(t))
}

// credential is the query parameter that carries t, built once per token
// by the Transport.
func (v *Viki) credential(t *Token) string { return "access_token=" + url.QueryEscape(t.AccessToken) }

// authorizeWith puts cred last in r's query. A query with no empty
// parameter and no key that is or may unescape to access_token gets cred
// appended, in one allocation; any other goes through setParam, which drops
// the empty parameters and the caller's access_token: the result is the
// same either way.
func (v *Viki) authorizeWith(r *http.Request, t *Token, cred string) error {
	raw := r.URL.RawQuery
	switch {
	case raw == "":
		r.URL.RawQuery = cred
	case vikiPlainQuery(raw):
		r.URL.RawQuery = raw + "&" + cred
	default:
		r.URL.RawQuery = setParam(raw, "access_token", t.AccessToken)
	}
	return nil
}

// keepsHeader tells the Transport that Authorize never changes the
// request's header, so the caller's can be sent as it is.
func (v *Viki) keepsHeader() {}

// vikiPlainQuery reports whether setParam would keep every parameter of raw
// (not empty) byte for byte: none is empty, and no key is access_token or
// has an escape ('%', '+') that might unescape to it.
func vikiPlainQuery(raw string) bool {
	for rest, more := raw, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, "&")
		k, _, _ := strings.Cut(p, "=")
		if p == "" || k == "access_token" || queryKeyEscaped(k) {
			return false
		}
	}
	return true
}

// queryKeyEscaped reports whether the query key k has something to unescape:
// a '%' or a '+'.
func queryKeyEscaped(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] == '%' || k[i] == '+' {
			return true
		}
	}
	return false
}

// Verdict reads a v3 response: 403 is how Viki says the token expired, and
// one wrapper saw 401 for the same, so both mean Expired: mint a new token
// and replay once. A second rejection is returned as it is.
func (v *Viki) Verdict(resp *http.Response) Verdict {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return VerdictExpired
	case http.StatusForbidden:
		// v3 answers an expired or unknown token with 403 "Not
		// Authorized" (a 403 without a readable message is taken for one);
		// another 403 (a title not available, a user route with an app
		// token) is about the request, not the token, and must not cost
		// the grant.
		if _, desc := vikiErrorShape(peekBody(resp, 4<<10)); vikiNotAuthorized(desc) {
			return VerdictExpired
		}
	}
	return VerdictOK
}

// vikiErrorShape reads Viki's error bodies: v3 token errors {error,
// error_description}, v3 API errors {message, status}, and v4/v5 errors
// {error, vcode} where vcode (the code to branch on) may be missing
// (docs/viki.md#error-shapes).
func vikiErrorShape(body []byte) (code, desc string) {
	var e struct {
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Message          string          `json:"message"`
		VCode            json.RawMessage `json:"vcode"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	desc = e.ErrorDescription
	if desc == "" {
		desc = e.Message
	}
	if c := jsonCode(e.VCode); c != "" && safeCode(c) == c {
		if desc == "" {
			desc = e.Error
		}
		return c, desc
	}
	if safeCode(e.Error) == "" {
		return "", strings.TrimSpace(e.Error + " " + desc)
	}
	return e.Error, desc
}

// apiError implements apiErrorer for CheckResponse.
func (v *Viki) apiError(rawURL string, resp *wire.Response) *Error {
	e := vikiRefine(v.ep.errorFrom("api", rawURL, resp))
	// v3 answers an expired or unknown token with 403 "Not Authorized"
	// (Viki's v3 auth page), and some wrappers saw 401 for it: the token
	// can be replaced, as the Transport does. Other 403s stay forbidden.
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden && vikiNotAuthorized(e.Description) {
		e.Err = ErrTokenExpired
	}
	return e
}

// vikiNotAuthorized reports whether a v3 403's message is the one Viki
// gives an expired or unknown token, or none at all.
func vikiNotAuthorized(desc string) bool {
	return desc == "" || strings.Contains(strings.ToLower(desc), "not authorized")
}

// vikiRefine maps Viki's codes: invalid_grant on the password grant means
// the credentials are wrong (ErrInvalidCredentials); vcode 11 and 7402 mean
// the session is gone.
func vikiRefine(e *Error) *Error {
	switch e.Code {
	case "invalid_grant":
		e.Err = ErrInvalidCredentials
	case "11", "7402":
		e.Err = ErrReauthRequired
	}
	return e
}

// finish reads the user id (user_id, else user.id;
// docs/viki.md#v3-password-grant [I]) and gives the token Viki's documented
// 24 hours when expires_in is absent.
func (v *Viki) finish(t *Token) {
	if t.Expiry.IsZero() {
		t.Expiry = v.ep.clock.Now().Add(vikiTokenLife)
	}
	if id := jsonCode(t.Extra["user_id"]); id != "" {
		t.UserID = id
		return
	}
	if len(t.User) > 0 {
		var u struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(t.User, &u) == nil {
			t.UserID = jsonCode(u.ID)
		}
	}
}

func (v *Viki) mint(ctx context.Context, form url.Values) (*Token, error) {
	tok, err := v.ep.token(ctx, "token", &wire.Request{
		URL: v.base.String() + "/oauth/token", Form: form, Style: wire.AuthInParams,
		ClientID: v.app.ClientID, ClientSecret: v.app.ClientSecret,
	})
	var e *Error
	if errors.As(err, &e) {
		vikiRefine(e)
	}
	return tok, err
}

// ClientCredentials returns a Source of app tokens (grant_type
// client_credentials), minted lazily, renewed ahead of their 24-hour expiry
// and re-minted when Viki answers 403 (or 401).
func (v *Viki) ClientCredentials() *Source {
	return newAppSource(v.app, "viki", grantClientCredentials, nil, func(ctx context.Context, _ *Token) (*Token, error) {
		return v.mint(ctx, url.Values{"grant_type": {"client_credentials"}})
	})
}

// VikiCredentials are a Viki user's sign-in: Username and Password, or a
// FacebookToken (Viki creates the user, or links the Facebook account to the
// user with the same email). They print redacted.
type VikiCredentials struct {
	Username      string
	Password      string
	FacebookToken string
}

func (c VikiCredentials) check() error {
	switch {
	case c.FacebookToken != "" && (c.Username != "" || c.Password != ""):
		return configErr("viki: give a username and password, or a Facebook token, not both")
	case c.FacebookToken != "":
		return nil
	case c.Username == "" || c.Password == "":
		return configErr("viki: a username and a password, or a Facebook token, are required")
	}
	return nil
}

// String describes the credentials without their secrets.
func (c VikiCredentials) String() string {
	return fmt.Sprintf("videoauth.VikiCredentials{Username:%s Password:%s FacebookToken:%s}",
		c.Username, presence(c.Password), presence(c.FacebookToken))
}

// GoString makes %#v redacted too.
func (c VikiCredentials) GoString() string { return c.String() }

// Format makes every fmt verb print the redacted form.
func (c VikiCredentials) Format(f fmt.State, verb rune) { printRedacted(f, verb, c.String()) }

// LogValue makes slog print the credentials without their secrets.
func (c VikiCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username),
		slog.String("password", presence(c.Password)), slog.String("facebook_token", presence(c.FacebookToken)))
}

// MarshalJSON gives LogValue's members: encoding/json would write the
// password, and slog's JSON handler marshals credentials held in a struct,
// slice or map with it.
func (c VikiCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username      string `json:"username"`
		Password      string `json:"password"`       // "REDACTED" or "none"
		FacebookToken string `json:"facebook_token"` // likewise
	}{c.Username, presence(c.Password), presence(c.FacebookToken)})
}

// Password signs a user in with the password grant: username and password,
// or fb_access_token (docs/viki.md#v3-password-grant). The token carries the
// user id Viki returns and expires after 24 hours. RFC 9700 §2.4 forbids this
// grant; Viki v3 offers no other way to act for a user.
func (v *Viki) Password(ctx context.Context, c VikiCredentials) (*Token, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"password"}}
	if c.FacebookToken != "" {
		form.Set("fb_access_token", c.FacebookToken)
	} else {
		form.Set("username", c.Username)
		form.Set("password", c.Password)
	}
	return v.mint(ctx, form)
}

// PasswordSource returns a Source of user tokens that signs in again
// whenever the token expires or Viki rejects it, asking creds for the
// credentials each time. Keeping the ability to re-mint is the caller's
// explicit choice: creds may read a secret store, or prompt the user, so
// the library never holds the password itself. Without it, use Source: an
// expired token then means ErrReauthRequired.
func (v *Viki) PasswordSource(creds func(ctx context.Context) (VikiCredentials, error)) *Source {
	return newAppSource(v.app, "viki", grantPassword, nil, func(ctx context.Context, _ *Token) (*Token, error) {
		if creds == nil {
			return nil, configErr("viki: PasswordSource needs a credentials callback")
		}
		c, err := creds(ctx)
		if err != nil {
			return nil, err
		}
		return v.Password(ctx, c)
	})
}

// Source returns a Source holding t without a way to re-mint it: when it
// expires or Viki rejects it, the Source answers ErrReauthRequired.
func (v *Viki) Source(t *Token) *Source {
	return newAppSource(v.app, "viki", grantMint, t, nil)
}

// Identify asks Viki v3 whose token t is: GET /v3/users/<id>.json, the id
// being t's user id (UserID, else the password grant's user_id or
// user.id), with the token in the access_token parameter. The answer's id
// and username (its shape is our inference: docs/viki.md#v3-oauth shows no
// user data) make the Identity. A client-credentials token has no user
// id, and Viki v3 has no route that names a token's owner: Identify then
// sends nothing and returns an Identity with only Provider set, which
// proves nothing about the token. A token Viki rejects (403 Not
// Authorized, or 401) matches ErrReauthRequired: a password-grant token is
// replaced only by signing in again (PasswordSource does that). A v5
// session is refused: VikiAPI identifies it. See Identifier.
func (v *Viki) Identify(ctx context.Context, t *Token) (*Identity, error) {
	if err := checkIdentifyToken(v, t); err != nil {
		return nil, err
	}
	if strings.EqualFold(t.TokenType, vikiSessionType) || t.Meta["viki_api"] == "v5" {
		return nil, configErr("viki: a v5 session is identified by VikiAPI, not by the v3 provider")
	}
	uid := vikiTokenUserID(t)
	if uid == "" {
		return &Identity{Provider: "viki"}, nil
	}
	u := v.base.String() + "/v3/users/" + url.PathEscape(uid) + ".json"
	resp, err := identifyGet(ctx, v, v.ep.hc, u, u, t, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := v.apiError(u, resp)
		return nil, identifyFailed(e, t, u, rejection(verdictOf(v, resp), false))
	}
	id, err := parseVikiV3Identity(resp.Body)
	if err != nil {
		return nil, badIdentity("viki", resp, t, u, err)
	}
	return identified(id, t), nil
}
