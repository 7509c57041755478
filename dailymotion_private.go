package videoauth

import (
	"context"
	"encoding/json"
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

// DailymotionEndpoint selects where a Dailymotion private API key gets its
// tokens and sends its requests (docs/dailymotion.md#keys).
type DailymotionEndpoint int

const (
	// DailymotionV2 is API v2, "the current and recommended version":
	// client_credentials at https://oauth2.dailymotion.com/v2/token, short
	// JWTs (about 30 minutes [S]) without refresh tokens, and the API at
	// https://api.dailymotion.com/v2.
	DailymotionV2 DailymotionEndpoint = iota + 1
	// DailymotionPartner is the legacy Platform API for private keys:
	// client_credentials at https://partner.api.dailymotion.com/oauth/v1/token
	// and the API at https://partner.api.dailymotion.com/rest.
	DailymotionPartner
)

// String returns "v2" or "partner", the value stored in the tokens' Meta.
func (e DailymotionEndpoint) String() string {
	switch e {
	case DailymotionV2:
		return "v2"
	case DailymotionPartner:
		return "partner"
	}
	return "DailymotionEndpoint(" + strconv.Itoa(int(e)) + ")"
}

// dailymotionV2Lifetime is the lifetime assumed for a v2 token whose
// answer names none: the JWTs last about 30 minutes [S], and one
// integration falls back to 1800 s. The v2 token answer's fields are an
// open question (the stored OpenAPI schema was cut off).
const dailymotionV2Lifetime = 1800 * time.Second

// DailymotionPrivateConfig is the configuration of the private-key
// provider beyond its App.
type DailymotionPrivateConfig struct {
	// Endpoint is DailymotionV2 or DailymotionPartner; required.
	Endpoint DailymotionEndpoint
	// TokenURL overrides the token endpoint (a fake, a proxy). "" is the
	// endpoint's: https://oauth2.dailymotion.com/v2/token, or /oauth/v1/token
	// on the partner host (moved by App.APIURL with the API). For
	// DailymotionV2, whose token host is not the API host, setting App.APIURL
	// without TokenURL is refused: the key's secret would go to the real
	// service while the API goes elsewhere.
	TokenURL string
}

// DailymotionPrivate is the provider of a Dailymotion private API key:
// server-to-server access with permissions fixed when the key was created
// in Dailymotion Studio, no user. Its only grant is client credentials
// (ClientCredentials), minted lazily, minted again — never refreshed,
// Dailymotion issues no refresh token for it [C] — ahead of expiry and
// once when the API rejects the token, then the request is replayed once.
// Client credentials go in the form body. No revocation is documented for
// these tokens [I]: they are short-lived and left to expire. It is built
// on the Standard provider's client credentials grant, and prints with its
// secret redacted.
type DailymotionPrivate struct {
	app      App
	endpoint DailymotionEndpoint
	std      *Standard
	api      *url.URL
	tokenURL string
	kind     string // endpoint.String(), the tokens' Meta mark
}

// NewDailymotionPrivate returns the private-key provider for app:
// App.ClientID is the API key and App.ClientSecret its secret (shown once
// in Studio), both required. App.APIURL points the API at a fake or a
// proxy, and c.TokenURL the token endpoint.
func NewDailymotionPrivate(app App, c DailymotionPrivateConfig) (*DailymotionPrivate, error) {
	if c.Endpoint != DailymotionV2 && c.Endpoint != DailymotionPartner {
		return nil, configErr("dailymotion: DailymotionPrivateConfig.Endpoint must be DailymotionV2 or DailymotionPartner")
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return nil, configErr("dailymotion: a private key needs App.ClientID (the API key) and App.ClientSecret (its secret)")
	}
	def := DailymotionAPIURL
	if c.Endpoint == DailymotionPartner {
		def = DailymotionPartnerURL
	}
	api, err := baseURL(app.APIURL, def)
	if err != nil {
		return nil, err
	}
	tokenURL := c.TokenURL
	switch {
	case tokenURL != "":
	case c.Endpoint == DailymotionPartner:
		tokenURL = api.String() + "/oauth/v1/token" // [C]
	case app.APIURL != "":
		return nil, configErr("dailymotion: with App.APIURL set, DailymotionV2 needs DailymotionPrivateConfig.TokenURL too (its token host is not the API host)")
	default:
		tokenURL = DailymotionOAuthURL + "/v2/token" // [C]
	}
	std, err := NewStandard(app, StandardConfig{
		Name: dailymotionName,
		// A private key has no consent page; Standard requires an
		// AuthURL, which nothing here ever uses.
		AuthURL:    tokenURL,
		TokenURL:   tokenURL,
		APIURL:     api.String(),
		ClientAuth: ClientSecretPost, // [C] client_id and client_secret in the form body
	})
	if err != nil {
		return nil, err
	}
	p := &DailymotionPrivate{app: app, endpoint: c.Endpoint, std: std, api: api, tokenURL: tokenURL, kind: c.Endpoint.String()}
	std.ep.errorShape = dailymotionErrorShape
	std.ep.finish = func(t *Token) {
		dailymotionFinish(t, p.kind)
		if p.endpoint == DailymotionV2 && t.Expiry.IsZero() {
			t.Expiry = std.ep.clock.Now().Add(dailymotionV2Lifetime)
		}
	}
	return p, nil
}

// Name returns "dailymotion".
func (p *DailymotionPrivate) Name() string { return dailymotionName }

// Endpoint returns the endpoint this provider speaks.
func (p *DailymotionPrivate) Endpoint() DailymotionEndpoint { return p.endpoint }

func (p *DailymotionPrivate) appHTTPClient() *http.Client { return p.app.HTTPClient }

// Config returns the x/oauth2 configuration of the client credentials
// grant (use golang.org/x/oauth2/clientcredentials with its TokenURL and
// AuthStyle), with AuthStyleInParams set explicitly. It has no AuthURL: a
// private key has no consent page.
func (p *DailymotionPrivate) Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.app.ClientID,
		ClientSecret: p.app.ClientSecret,
		Scopes:       p.app.scopes(nil),
		Endpoint:     oauth2.Endpoint{TokenURL: p.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

// Owns reports whether u is one of the key's API URLs: for DailymotionV2,
// a path under /v2 of https://api.dailymotion.com (the legacy API on the
// same host takes public keys only [C]); for DailymotionPartner, the
// partner host. Scheme and host compare in any case, the scheme's default
// port being the same as none.
func (p *DailymotionPrivate) Owns(u *url.URL) bool {
	if !sameOrigin(u, p.api) {
		return false
	}
	return p.endpoint != DailymotionV2 || u.Path == "/v2" || strings.HasPrefix(u.Path, "/v2/")
}

func (p *DailymotionPrivate) keepsURL() {}

// Authorize sets Authorization: Bearer ("all requests require a Bearer
// access token" [C]). A token of another provider or another kind of key,
// or one whose type is not Bearer, is refused.
func (p *DailymotionPrivate) Authorize(r *http.Request, t *Token) error {
	if err := dailymotionCheckToken(t, p.kind); err != nil {
		return err
	}
	if t.Provider != "" && t.Provider != dailymotionName {
		return configErr("a %s token cannot be sent to dailymotion", safeCode(truncate(t.Provider, 32)))
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header["Authorization"] = []string{p.credential(t)}
	return nil
}

func (p *DailymotionPrivate) credential(t *Token) string { return "Bearer " + t.AccessToken }

func (p *DailymotionPrivate) authorizeWith(r *http.Request, t *Token, cred string) error {
	return p.authorizeWithValues(r, t, []string{cred})
}

func (p *DailymotionPrivate) authorizeWithValues(r *http.Request, t *Token, values []string) error {
	if err := dailymotionCheckToken(t, p.kind); err != nil {
		return err
	}
	r.Header["Authorization"] = values
	return nil
}

// Verdict reads an API answer. For DailymotionV2 every 401 is Expired
// (missing, malformed, expired or badly signed JWT [C]: mint another and
// replay once); for DailymotionPartner the legacy rules of
// Dailymotion.Verdict hold. A 403 (v2 MISSING_PERMISSIONS, legacy
// "Insufficient rights") is returned as it is and never retried: the key's
// permissions are fixed in Studio.
func (p *DailymotionPrivate) Verdict(resp *http.Response) Verdict {
	return dailymotionVerdict(resp, p.endpoint == DailymotionV2)
}

// apiError implements apiErrorer for CheckResponse.
func (p *DailymotionPrivate) apiError(rawURL string, resp *wire.Response) *Error {
	return dailymotionAPIError(p.std.ep, rawURL, resp)
}

// ClientCredentials returns a Source of the key's tokens
// (grant_type=client_credentials with client_id, client_secret and the
// space-separated scope in the form body), minted lazily and minted again
// when one expires or the API rejects it. scopes default to App.Scopes;
// with none, no scope is sent and the key's own permissions apply [I].
// Scopes the key does not hold are narrowed or refused by Dailymotion
// [I]: the granted ones are in the token, and fewer than asked for are
// reported to App.Logger.
func (p *DailymotionPrivate) ClientCredentials(scopes ...string) *Source {
	sc := p.app.scopes(scopes)
	src := p.std.ClientCredentials(sc...)
	mint := src.Mint
	src.Mint = func(ctx context.Context, cur *Token) (*Token, error) {
		tok, err := mint(ctx, cur)
		if err != nil {
			return nil, dailymotionRefineErr("client_credentials", err)
		}
		dailymotionCheckScopes(p.app, "client_credentials", sc, tok)
		return tok, nil
	}
	return src
}

// Identify asks Dailymotion whom the key's token acts for: for
// DailymotionV2, GET /v2/me (it needs the account.read scope [C]), whose
// user_id is the UserID and whose first profile's name is the Name [I];
// for DailymotionPartner, GET /rest/auth [I], read as the legacy /auth. A
// token the API rejects matches ErrTokenExpired (client credentials mint
// another); a missing permission matches ErrForbidden. See Identifier.
func (p *DailymotionPrivate) Identify(ctx context.Context, t *Token) (*Identity, error) {
	if err := checkIdentifyToken(p, t); err != nil {
		return nil, err
	}
	if err := dailymotionCheckToken(t, p.kind); err != nil {
		return nil, err
	}
	u := p.api.String() + "/v2/me"
	parse := parseDailymotionV2Identity
	if p.endpoint == DailymotionPartner {
		u, parse = p.api.String()+"/rest/auth", parseDailymotionIdentity
	}
	resp, err := identifyGet(ctx, p, p.std.ep.hc, u, u, t, nil)
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := dailymotionAPIError(p.std.ep, u, resp)
		return nil, identifyFailed(e, t, u, rejection(verdictOf(p, resp), true))
	}
	id, err := parse(resp.Body)
	if err != nil {
		return nil, badIdentity(dailymotionName, resp, t, u, err)
	}
	return identified(id, t), nil
}

// parseDailymotionV2Identity reads GET /v2/me:
// {"user_id":"xyz789","profiles":[{"profile_id":"x1y2z3","name":"…"}]} [C].
func parseDailymotionV2Identity(body []byte) (*Identity, error) {
	var me struct {
		UserID   json.RawMessage `json:"user_id"`
		Profiles json.RawMessage `json:"profiles"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &me) != nil {
		return nil, fmt.Errorf("%w: /v2/me answer is not a JSON object", ErrBadResponse)
	}
	id, ok := jsonString(me.UserID)
	if !ok || id == "" {
		return nil, fmt.Errorf("%w: /v2/me answer has no user_id", ErrBadResponse)
	}
	out := &Identity{Provider: dailymotionName, UserID: id}
	if len(me.Profiles) > 0 && string(me.Profiles) != "null" {
		var profiles []struct {
			Name json.RawMessage `json:"name"`
		}
		if json.Unmarshal(me.Profiles, &profiles) != nil {
			return nil, fmt.Errorf("%w: /v2/me answer's profiles is not a list of objects", ErrBadResponse)
		}
		if len(profiles) > 0 {
			if out.Name, ok = jsonText(profiles[0].Name); !ok {
				return nil, fmt.Errorf("%w: /v2/me answer's profile name is not a string", ErrBadResponse)
			}
		}
	}
	out.User, _ = userObject(body)
	return out, nil
}

// String describes the provider without its client secret.
func (p *DailymotionPrivate) String() string {
	if p == nil {
		return "videoauth.DailymotionPrivate(nil)"
	}
	return providerString("DailymotionPrivate["+p.kind+"]", p.app)
}

// GoString makes %#v print String.
func (p *DailymotionPrivate) GoString() string { return p.String() }

// Format makes every fmt verb print String.
func (p DailymotionPrivate) Format(f fmt.State, verb rune) { printRedacted(f, verb, p.String()) }

// LogValue makes slog print the provider without its client secret.
func (p *DailymotionPrivate) LogValue() slog.Value {
	if p == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(p.Name(), p.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (p DailymotionPrivate) MarshalJSON() ([]byte, error) { return providerJSON(p.Name(), p.app) }
