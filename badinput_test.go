package videoauth_test

// Bad-input tables, end to end (docs/security.md, checklist items 11–17): every
// provider flow that reads a token-endpoint answer is pointed at a loopback
// server that answers its token path — and only that — with a hostile status,
// content type and body. Every flow runs every shared row; the body of a row is
// built from the flow's own good answer, so one table serves OAuth token
// responses and Viki's v5 session answer alike.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// badSecret is planted in the access_token, refresh_token and description
// values of every hostile body; it must never reach an error's text.
const badSecret = "SENTINEL-7f3a"

// badT0 is the injected clock's start: expiries are asserted exactly.
var badT0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// badMaxBody is the token-response cap (internal/wire.MaxBody, 1 MiB).
const badMaxBody = 1 << 20

// badMaxExpiresIn is the clamp of huge expires_in values (token.go
// maxExpiresIn: 20 years).
const badMaxExpiresIn = 20 * 365 * 24 * time.Hour

// Lifetimes an accepted row expects.
const (
	badLifeGood time.Duration = -1 // whatever the flow's good body gives
	badLifeNone time.Duration = 0  // no lifetime given: the provider's default, if any
)

// badKV is one member of a JSON object, its value raw.
type badKV struct{ k, v string }

// badObj is a JSON object with ordered, raw members, so rows can plant
// values json.Marshal would refuse or rewrite (invalid UTF-8, 1e12, 3600.5).
type badObj []badKV

// with returns o with member k set to the raw value v.
func (o badObj) with(k, v string) badObj {
	out := make(badObj, 0, len(o)+1)
	set := false
	for _, kv := range o {
		if kv.k == k {
			if !set {
				out = append(out, badKV{k, v})
				set = true
			}
			continue
		}
		out = append(out, kv)
	}
	if !set {
		out = append(out, badKV{k, v})
	}
	return out
}

// without returns o without member k.
func (o badObj) without(k string) badObj {
	out := make(badObj, 0, len(o))
	for _, kv := range o {
		if kv.k != k {
			out = append(out, kv)
		}
	}
	return out
}

func (o badObj) bytes() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.k)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(kv.v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// badFlow is one provider flow that reads a token-endpoint answer.
type badFlow struct {
	name     string
	provider string // *Error.Provider and Token.Provider
	op       string // *Error.Op
	path     string // the token path the server answers
	tokenKey string // "access_token", or "token" in a Viki v5 session answer
	// session: Viki's v5 session answer, which is not an OAuth token
	// response: it has no token_type, expires_in or refresh_token, and
	// parseVikiSession reads only token and user.
	session  bool
	good     badObj
	access   string        // the access token good carries
	goodLife time.Duration // lifetime good gives (0: none)
	defLife  time.Duration // what the provider's finish func gives a token without lifetime
	// source: the flow mints through a Source, which remembers a failure for
	// RetryInterval; holdsToken: the Source holds a (stale) token, so an
	// ErrReauthRequired failure marks it revoked for good.
	source, holdsToken bool
	// codes maps an RFC 6749 error code in a token-endpoint body to the
	// sentinel this flow documents.
	codes   map[string]error
	simklV1 bool
	// start builds the provider against app and returns the call under test.
	start func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error)
}

// badWant is a row's documented result for one flow.
type badWant struct {
	accept bool
	life   time.Duration // accepted: badLifeGood, badLifeNone or the lifetime
	extra  string        // accepted: Token.Extra["foo"], raw, when not ""
	err    error         // failed: the sentinel
	status int           // failed: *Error.Status; 0 means the row's status, -1 unchecked
	code   string        // failed: *Error.Code, when not ""
}

func badOK(life time.Duration) badWant { return badWant{accept: true, life: life} }
func badErr(err error) badWant         { return badWant{err: err} }

// badOAuth is w for OAuth token responses; a v5 session answer ignores the
// member the row spoils, so it is accepted as the good one.
func badOAuth(w badWant) func(*badFlow) badWant {
	return func(f *badFlow) badWant {
		if f.session {
			return badOK(badLifeGood)
		}
		return w
	}
}

func badAll(w badWant) func(*badFlow) badWant { return func(*badFlow) badWant { return w } }

// badCode is the result of an error member carrying code, sent with status.
func badCode(code string, status int) func(*badFlow) badWant {
	return func(f *badFlow) badWant {
		// An error member is an error whatever the status, also for a v5
		// sign-in (whose documented failures are ≥ 400,
		// docs/viki.md#error-shapes).
		return badWant{err: f.codes[code], code: code}
	}
}

// badRow is one hostile answer.
type badRow struct {
	name   string
	status int    // 0: 200
	ctype  string // "": application/json
	body   func(f *badFlow) []byte
	want   func(f *badFlow) badWant
	only   func(f *badFlow) bool // nil: every flow
}

// badSet returns a body builder setting member k (the flow's token member
// when k is "access_token") to raw v.
func badSet(k, v string) func(*badFlow) []byte {
	return func(f *badFlow) []byte { return f.good.with(f.member(k), v).bytes() }
}

func badDel(k string) func(*badFlow) []byte {
	return func(f *badFlow) []byte { return f.good.without(f.member(k)).bytes() }
}

// member is k, or the flow's token member when k is "access_token".
func (f *badFlow) member(k string) string {
	if k == "access_token" {
		return f.tokenKey
	}
	return k
}

func badRaw(s string) func(*badFlow) []byte { return func(*badFlow) []byte { return []byte(s) } }

// badErrBody is an RFC 6749 §5.2 error body whose description carries the
// planted secret.
func badErrBody(code string) func(*badFlow) []byte {
	return badRaw(`{"error":"` + code + `","error_description":"leaked ` + badSecret + ` here"}`)
}

// badPadded is the good body padded with an unknown member to exactly n bytes.
func badPadded(n int) func(*badFlow) []byte {
	return func(f *badFlow) []byte {
		base := len(f.good.with("pad", `""`).bytes())
		return f.good.with("pad", `"`+strings.Repeat("a", n-base)+`"`).bytes()
	}
}

func badHTML(status int) string {
	return fmt.Sprintf(`<!DOCTYPE html><html><head><title>%d</title></head><body><h1>%d %s</h1><p>access_token=%s</p></body></html>`,
		status, status, http.StatusText(status), badSecret)
}

func badIsSimklV1(f *badFlow) bool { return f.simklV1 }

// badRows is the shared table: every flow runs every row (except the few
// restricted with only).
func badRows() []badRow {
	return []badRow{
		// expires_in (item 12): number or numeric string, seconds; absent,
		// null, "" and 0 mean "no lifetime given" (never "expired now");
		// negative, non-numeric and non-finite are rejected; huge is clamped.
		{name: "expires_in string 3600", body: badSet("expires_in", `"3600"`), want: badOAuth(badOK(3600 * time.Second))},
		{name: "expires_in padded string", body: badSet("expires_in", `" 3600 "`), want: badOAuth(badOK(3600 * time.Second))},
		{name: "expires_in empty string", body: badSet("expires_in", `""`), want: badOAuth(badOK(badLifeNone))},
		{name: "expires_in null", body: badSet("expires_in", `null`), want: badOAuth(badOK(badLifeNone))},
		{name: "expires_in 0", body: badSet("expires_in", `0`), want: badOAuth(badOK(badLifeNone))},
		{name: "expires_in absent", body: badDel("expires_in"), want: badOAuth(badOK(badLifeNone))},
		{name: "expires_in -1", body: badSet("expires_in", `-1`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "expires_in string -1", body: badSet("expires_in", `"-1"`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "expires_in 1e12 clamped", body: badSet("expires_in", `1e12`), want: badOAuth(badOK(badMaxExpiresIn))},
		{name: "expires_in float 3600.5", body: badSet("expires_in", `3600.5`), want: badOAuth(badOK(3600*time.Second + 500*time.Millisecond))},
		{name: "expires_in 1e3", body: badSet("expires_in", `1e3`), want: badOAuth(badOK(1000 * time.Second))},
		{name: "expires_in abc", body: badSet("expires_in", `"abc"`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "expires_in NaN", body: badSet("expires_in", `"NaN"`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "expires_in true", body: badSet("expires_in", `true`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "expires_in object", body: badSet("expires_in", `{"s":3600}`), want: badOAuth(badErr(videoauth.ErrBadResponse))},

		// access_token (item 11): a non-empty string, or the answer is
		// malformed (Viki v5: the session token, same rule).
		{name: "access_token missing", body: badDel("access_token"), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "access_token empty", body: badSet("access_token", `""`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "access_token number", body: badSet("access_token", `123`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "access_token null", body: badSet("access_token", `null`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "access_token object", body: badSet("access_token", `{}`), want: badAll(badErr(videoauth.ErrBadResponse))},
		// RFC 6749 Appendix A: a token is VSCHARs (%x20-7E). Invalid UTF-8
		// would otherwise be decoded to U+FFFD and a mangled token stored.
		{name: "access_token invalid UTF-8", body: badSet("access_token", "\"at-\xff\xfe-"+badSecret+"\""), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "access_token control byte", body: badSet("access_token", `"at-\u0000-`+badSecret+`"`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "access_token non-ASCII", body: badSet("access_token", `"at-\u00e9-`+badSecret+`"`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "refresh_token control byte", body: badSet("refresh_token", `"rt-\n-`+badSecret+`"`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "access_token array", body: badSet("access_token", `["`+badSecret+`"]`), want: badAll(badErr(videoauth.ErrBadResponse))},

		// token_type (item 13): bearer in any case; absent or null means the
		// provider's default (bearer); other kinds are refused; a non-string
		// is malformed. A v5 session has no token_type.
		{name: "token_type bearer", body: badSet("token_type", `"bearer"`), want: badOAuth(badOK(badLifeGood))},
		{name: "token_type Bearer", body: badSet("token_type", `"Bearer"`), want: badOAuth(badOK(badLifeGood))},
		{name: "token_type BEARER", body: badSet("token_type", `"BEARER"`), want: badOAuth(badOK(badLifeGood))},
		{name: "token_type absent", body: badDel("token_type"), want: badOAuth(badOK(badLifeGood))},
		{name: "token_type null", body: badSet("token_type", `null`), want: badOAuth(badOK(badLifeGood))},
		{name: "token_type mac", body: badSet("token_type", `"mac"`), want: badOAuth(badErr(videoauth.ErrUnsupportedTokenType))},
		{name: "token_type unknown", body: badSet("token_type", `"unknown"`), want: badOAuth(badErr(videoauth.ErrUnsupportedTokenType))},
		{name: "token_type number", body: badSet("token_type", `5`), want: badOAuth(badErr(videoauth.ErrBadResponse))},
		{name: "refresh_token number", body: badSet("refresh_token", `123`), want: badOAuth(badErr(videoauth.ErrBadResponse))},

		// Not JSON where JSON was due (item 14).
		{name: "HTML 500", status: 500, ctype: "text/html; charset=utf-8", body: badRaw(badHTML(500)), want: badAll(badErr(videoauth.ErrServer))},
		{name: "HTML 502", status: 502, ctype: "text/html", body: badRaw(badHTML(502)), want: badAll(badErr(videoauth.ErrServer))},
		// An OAuth endpoint that is not there does not offer the grant.
		{name: "HTML 404", status: 404, ctype: "text/html", body: badRaw(badHTML(404)), want: badAll(badErr(videoauth.ErrUnsupportedGrant))},
		{name: "HTML 200", ctype: "text/html", body: badRaw(badHTML(200)), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "empty body 200", body: badRaw(""), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "empty body 500", status: 500, body: badRaw(""), want: badAll(badErr(videoauth.ErrServer))},
		{name: "text/plain prose", ctype: "text/plain", body: badRaw("ok access_token " + badSecret), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "form-encoded", ctype: "application/x-www-form-urlencoded", body: badRaw("access_token=x" + badSecret + "&token_type=bearer"), want: badAll(badErr(videoauth.ErrBadResponse))},
		// A JSON object served as text/plain is read (parseToken's
		// documented carve-out; the session parser ignores the type).
		{name: "JSON as text/plain", ctype: "text/plain; charset=utf-8", body: func(f *badFlow) []byte { return f.good.bytes() }, want: badAll(badOK(badLifeGood))},

		// An error member is an error whatever the status (items 14, 17).
		{name: "200 error invalid_grant", body: badErrBody("invalid_grant"), want: badCode("invalid_grant", 200)},
		{name: "200 error invalid_client", body: badErrBody("invalid_client"), want: badCode("invalid_client", 200)},
		{name: "400 error invalid_grant", status: 400, body: badErrBody("invalid_grant"), want: badCode("invalid_grant", 400)},
		{name: "401 error invalid_client", status: 401, body: badErrBody("invalid_client"), want: badCode("invalid_client", 401)},
		{name: "200 error beside a token", body: func(f *badFlow) []byte {
			return f.good.with("error", `"invalid_grant"`).with("error_description", `"`+badSecret+`"`).bytes()
		}, want: badCode("invalid_grant", 200)},

		// Simkl V1's own token-endpoint codes (docs/simkl.md#error-codes).
		{name: "V1 401 grant_error", status: 401, only: badIsSimklV1, body: badErrBody("grant_error"), want: badAll(badWant{err: videoauth.ErrCodeUsed, code: "grant_error"})},
		{name: "V1 200 grant_error", only: badIsSimklV1, body: badErrBody("grant_error"), want: badAll(badWant{err: videoauth.ErrCodeUsed, code: "grant_error"})},
		{name: "V1 401 secret_error", status: 401, only: badIsSimklV1, body: badErrBody("secret_error"), want: badAll(badWant{err: videoauth.ErrInvalidClient, code: "secret_error"})},
		{name: "V1 403 redirect_failed", status: 403, only: badIsSimklV1, body: badErrBody("redirect_failed"), want: badAll(badWant{err: videoauth.ErrRedirectMismatch, code: "redirect_failed"})},
		{name: "V1 403 empty_field", status: 403, only: badIsSimklV1, body: badErrBody("empty_field"), want: badAll(badWant{err: videoauth.ErrInvalidRequest, code: "empty_field"})},

		// Wrong JSON shapes and garbage.
		{name: "top-level array", body: func(f *badFlow) []byte { return []byte("[" + string(f.good.bytes()) + "]") }, want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "top-level string", body: badRaw(`"` + badSecret + `"`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "top-level number", body: badRaw(`42`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "top-level null", body: badRaw(`null`), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "truncated JSON", body: func(f *badFlow) []byte { b := f.good.bytes(); return b[:len(b)-3] }, want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "deeply nested garbage", body: func(f *badFlow) []byte {
			return []byte(`{"` + f.tokenKey + `":"` + badSecret + `","x":` + strings.Repeat(`{"a":[`, 50000))
		}, want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "nested past decoder depth", body: badSet("foo", strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), want: badAll(badErr(videoauth.ErrBadResponse))},
		{name: "invalid UTF-8 body", body: func(f *badFlow) []byte { return append([]byte{0xff, 0xfe, 0xfd}, f.good.bytes()...) }, want: badAll(badErr(videoauth.ErrBadResponse))},

		// Size (item 15): over the cap is an explicit error; the cap itself
		// is fine.
		{name: "body 1 MiB + 1", body: badPadded(badMaxBody + 1), want: badAll(badWant{err: videoauth.ErrTokenTooLarge, status: -1})},
		{name: "body exactly 1 MiB", body: badPadded(badMaxBody), want: badAll(badOK(badLifeGood))},

		// Unknown members (item 16) are kept in Extra.
		{name: "unknown member", body: badSet("foo", `{"bar":1}`), want: func(f *badFlow) badWant {
			w := badOK(badLifeGood)
			w.extra = `{"bar":1}`
			return w
		}},
	}
}

// badFlows returns every flow; start builds each against a row's server.
func badFlows() []*badFlow {
	const access = "at-" + badSecret
	oauthCodes := map[string]error{"invalid_grant": videoauth.ErrCodeUsed, "invalid_client": videoauth.ErrInvalidClient}
	vimeoGood := badObj{{"access_token", `"` + access + `"`}, {"token_type", `"bearer"`}, {"scope", `"public"`},
		{"refresh_token", `"rt-` + badSecret + `"`}, {"app", `{"name":"bad","uri":"/apps/1"}`}}
	simklV1Good := badObj{{"access_token", `"` + access + `"`}, {"token_type", `"bearer"`}, {"scope", `"public"`}, {"expires_in", `157680000`}}
	simklV2Good := badObj{{"access_token", `"simkl_at_` + badSecret + `"`}, {"token_type", `"Bearer"`}, {"expires_in", `604800`},
		{"refresh_token", `"simkl_rt_` + badSecret + `"`}, {"scope", `"media:read media:write"`}}
	vikiGood := badObj{{"access_token", `"` + access + `"`}, {"expires_in", `86400`}, {"scope", `"public"`}, {"token_type", `"bearer"`}}
	sessionGood := badObj{{"token", `"` + access + `"`}, {"user", `{"id":"1u","username":"bad"}`}}

	vimeo := func(t *testing.T, app videoauth.App) *videoauth.Vimeo {
		v, err := videoauth.NewVimeo(app)
		require.NoError(t, err)
		return v
	}
	simkl := func(t *testing.T, app videoauth.App, gen videoauth.SimklGeneration) *videoauth.Simkl {
		s, err := videoauth.NewSimkl(app, gen)
		require.NoError(t, err)
		return s
	}
	simklExchange := func(gen videoauth.SimklGeneration) func(*testing.T, videoauth.App) func(context.Context) (*videoauth.Token, error) {
		return func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error) {
			s := simkl(t, app, gen)
			ar, err := s.AuthRequest("")
			require.NoError(t, err)
			q := url.Values{"state": {ar.State}, "code": {"the-code"}}
			if ar.Issuer != "" { // V2's callback always carries iss (RFC 9207)
				q.Set("iss", ar.Issuer)
			}
			return func(ctx context.Context) (*videoauth.Token, error) {
				return s.Exchange(ctx, ar, q)
			}
		}
	}
	return []*badFlow{
		{
			name: "vimeo client_credentials", provider: "vimeo", op: "client_credentials", path: "/oauth/authorize/client",
			tokenKey: "access_token", good: vimeoGood, access: access, source: true,
			// invalid_grant in a client-credentials grant: the client's own
			// credentials are the grant (RFC 6749 §4.4).
			codes: map[string]error{"invalid_grant": videoauth.ErrInvalidClient, "invalid_client": videoauth.ErrInvalidClient},
			start: func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error) {
				return vimeo(t, app).ClientCredentials().Token
			},
		},
		{
			name: "vimeo exchange", provider: "vimeo", op: "exchange", path: "/oauth/access_token",
			tokenKey: "access_token", good: vimeoGood.with("user", `{"uri":"/users/4242"}`), access: access, codes: oauthCodes,
			start: func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error) {
				v := vimeo(t, app)
				ar, err := v.AuthRequest("")
				require.NoError(t, err)
				return func(ctx context.Context) (*videoauth.Token, error) {
					return v.Exchange(ctx, ar, url.Values{"state": {ar.State}, "code": {"the-code"}})
				}
			},
		},
		{
			name: "simkl v1 exchange", provider: "simkl", op: "exchange", path: "/oauth/token", simklV1: true,
			tokenKey: "access_token", good: simklV1Good, access: access, goodLife: 157680000 * time.Second, codes: oauthCodes,
			start: simklExchange(videoauth.SimklV1),
		},
		{
			name: "simkl v2 exchange", provider: "simkl", op: "exchange", path: "/oauth2/token",
			tokenKey: "access_token", good: simklV2Good, access: "simkl_at_" + badSecret, goodLife: 604800 * time.Second, codes: oauthCodes,
			start: simklExchange(videoauth.SimklV2),
		},
		{
			name: "simkl v2 refresh", provider: "simkl", op: "refresh", path: "/oauth2/token",
			tokenKey: "access_token", good: simklV2Good, access: "simkl_at_" + badSecret, goodLife: 604800 * time.Second,
			source: true, holdsToken: true,
			// A dead refresh token means a new sign-in (simkl.go refine).
			codes: map[string]error{"invalid_grant": videoauth.ErrReauthRequired, "invalid_client": videoauth.ErrInvalidClient},
			start: func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error) {
				expired := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_old", TokenType: "Bearer",
					RefreshToken: "simkl_rt_old", Expiry: badT0.Add(-time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
				return simkl(t, app, videoauth.SimklV2).Source(expired).Token
			},
		},
		{
			name: "viki v3 client_credentials", provider: "viki", op: "token", path: "/oauth/token",
			tokenKey: "access_token", good: vikiGood, access: access, goodLife: 86400 * time.Second, defLife: 24 * time.Hour,
			source: true,
			// vikiRefine maps invalid_grant to ErrInvalidCredentials for
			// every v3 grant, client credentials included.
			codes: map[string]error{"invalid_grant": videoauth.ErrInvalidCredentials, "invalid_client": videoauth.ErrInvalidClient},
			start: func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error) {
				v, err := videoauth.NewViki(app)
				require.NoError(t, err)
				return v.ClientCredentials().Token
			},
		},
		{
			name: "viki v5 login", provider: "viki", op: "login", path: "/v5/sessions.json", session: true,
			tokenKey: "token", good: sessionGood, access: access,
			codes: map[string]error{"invalid_grant": videoauth.ErrInvalidCredentials, "invalid_client": videoauth.ErrInvalidClient},
			start: func(t *testing.T, app videoauth.App) func(context.Context) (*videoauth.Token, error) {
				a, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
				require.NoError(t, err)
				return func(ctx context.Context) (*videoauth.Token, error) {
					return a.Login(ctx, videoauth.VikiCredentials{Username: "user", Password: "pw"})
				}
			},
		},
	}
}

// badServer answers the flow's token path with the row's answer, counts the
// calls and the bytes written, and 404s (and counts) anything else.
type badServer struct {
	*httptest.Server
	hits, stray, written atomic.Int64
}

func badServe(t *testing.T, f *badFlow, status int, ctype string, body []byte) *badServer {
	s := &badServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPost || r.URL.Path != f.path {
			s.stray.Add(1)
			http.NotFound(w, r)
			return
		}
		s.hits.Add(1)
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		n, _ := w.Write(body)
		s.written.Add(int64(n))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestBadTokenEndpointAnswers(t *testing.T) {
	rows := badRows()
	for _, f := range badFlows() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range rows {
				if r.only != nil && !r.only(f) {
					continue
				}
				t.Run(r.name, func(t *testing.T) { badRun(t, f, r) })
			}
		})
	}
}

func badRun(t *testing.T, f *badFlow, r badRow) {
	status, ctype := r.status, r.ctype
	if status == 0 {
		status = http.StatusOK
	}
	if ctype == "" {
		ctype = "application/json"
	}
	body := r.body(f)
	want := r.want(f)
	srv := badServe(t, f, status, ctype, body)
	clock := videoauthtest.NewClock(badT0)
	call := f.start(t, videoauth.App{
		ClientID: "bad-client", ClientSecret: "bad-client-secret", RedirectURL: "https://app.example/cb",
		AppName: "badtest", AppVersion: "1.0", APIURL: srv.URL, WebURL: srv.URL,
		HTTPClient: srv.Client(), Clock: clock,
	})
	ctx := t.Context()

	tok, err := call(ctx)
	require.EqualValues(t, 1, srv.hits.Load(), "one call to the token endpoint")
	require.Zero(t, srv.stray.Load(), "nothing but the token path is asked")

	if want.accept {
		require.NoError(t, err)
		require.NotNil(t, tok)
		require.Equal(t, f.provider, tok.Provider)
		require.Equal(t, f.access, tok.AccessToken)
		if f.session {
			require.Equal(t, "viki-session", tok.TokenType)
			require.Equal(t, "1u", tok.UserID)
		} else {
			require.Equal(t, "Bearer", tok.TokenType)
		}
		life := want.life
		if life == badLifeGood {
			life = f.goodLife
		}
		if life == badLifeNone {
			life = f.defLife
		}
		var exp time.Time
		if life > 0 {
			exp = badT0.Add(life)
		}
		require.True(t, exp.Equal(tok.Expiry), "expiry: want %v, got %v", exp, tok.Expiry)
		if want.extra != "" {
			require.JSONEq(t, want.extra, string(tok.Extra["foo"]))
		}
		if f.source {
			again, err := call(ctx)
			require.NoError(t, err)
			require.Same(t, tok, again, "the Source caches the token")
			require.EqualValues(t, 1, srv.hits.Load())
		}
		return
	}

	require.Nil(t, tok)
	require.Error(t, err)
	wantStatus := want.status
	if wantStatus == 0 {
		wantStatus = status
	}
	badCheckErr(t, f, err, want.err, wantStatus, want.code)

	if f.source {
		badNoRetry(t, srv, f, call, clock, want.err)
	}
	if errors.Is(want.err, videoauth.ErrTokenTooLarge) {
		srv.Close() // waits for the handlers: written is final
		require.Greater(t, srv.written.Load(), srv.hits.Load()*badMaxBody, "the server did send more than the cap")
		require.Equal(t, srv.hits.Load()*int64(len(body)), srv.written.Load())
	}
}

// badNoRetry asserts a Source's failed mint is not repeated within
// RetryInterval, and is tried once again after it unless the grant is dead.
func badNoRetry(t *testing.T, srv *badServer, f *badFlow, call func(context.Context) (*videoauth.Token, error), clock *videoauthtest.Clock, sentinel error) {
	t.Helper()
	ctx := t.Context()
	// A failed mint is remembered: no second call within RetryInterval.
	_, err2 := call(ctx)
	require.ErrorIs(t, err2, sentinel)
	badNoSecret(t, err2)
	require.EqualValues(t, 1, srv.hits.Load(), "no retry within RetryInterval")
	// After it, one new attempt — except once the grant is known dead.
	clock.Advance(videoauth.DefaultRetryInterval)
	_, err3 := call(ctx)
	require.ErrorIs(t, err3, sentinel)
	badNoSecret(t, err3)
	wantHits := int64(2)
	if f.holdsToken && errors.Is(sentinel, videoauth.ErrReauthRequired) {
		wantHits = 1 // revoked: ErrReauthRequired without touching the network
	}
	require.Equal(t, wantHits, srv.hits.Load())
}

// badCheckErr asserts the documented typed failure.
func badCheckErr(t *testing.T, f *badFlow, err, sentinel error, status int, code string) {
	t.Helper()
	require.NotNil(t, sentinel, "row has no sentinel for %s", f.name)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, f.provider, e.Provider)
	require.Equal(t, f.op, e.Op)
	require.ErrorIs(t, err, sentinel)
	if status >= 0 {
		require.Equal(t, status, e.Status)
	}
	if code != "" {
		require.Equal(t, code, e.Code)
	}
	require.LessOrEqual(t, len(e.Body), 4<<10, "the kept body is capped")
	badNoSecret(t, err)
}

// badNoSecret asserts the planted secret reaches no printed form of err.
func badNoSecret(t *testing.T, err error) {
	t.Helper()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Error("failed", "err", err)
	slog.New(slog.NewTextHandler(&logs, nil)).Error("failed", slog.Any("err", err))
	for _, out := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %s %q %x %d", err, err, err, err, err, err, err), logs.String()} {
		require.NotContains(t, out, badSecret)
	}
}
