package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/internal/wire"
)

// fuzzParsersSecret is the credential planted in the seeds: token-like
// (see fuzzParsersTokenLike), so every check below looks for it.
const fuzzParsersSecret = "SENTINEL-SECRET"

// fuzzParsersSentinels are the sentinels a token-endpoint failure may map
// to: parseToken's own, every one sentinelFor returns, and those the
// providers' refine functions set.
var fuzzParsersSentinels = []error{
	ErrBadResponse, ErrUnsupportedTokenType,
	ErrAccessDenied, ErrCodeUsed, ErrExpiredCode, ErrUnsupportedGrant, ErrInvalidRequest,
	ErrInvalidClient, ErrRateLimited, ErrServer,
	ErrReauthRequired, ErrRedirectMismatch, ErrInvalidCredentials,
}

func fuzzParsersTyped(err error) bool {
	for _, s := range fuzzParsersSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// fuzzParsersTokenLike reports whether s is searched for in messages: at
// least 8 bytes of the RFC 6750 b64token alphabet with an upper-case
// letter. No fixed text of the package (provider, op, "HTTP", sentinel
// messages, media types) holds such a run, so when one shows up in a
// message it came from the body: through the error code or the token_type,
// which may show, or through a leak.
func fuzzParsersTokenLike(s string) bool {
	if len(s) < 8 {
		return false
	}
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte("-._~+/=", c) >= 0:
		default:
			return false
		}
	}
	return upper
}

// fuzzParsersCredRE finds credential values in any body, JSON, form or HTML.
var fuzzParsersCredRE = regexp.MustCompile(`(?i)(?:access_token|refresh_token|id_token|token)"?\s*[:=]\s*"?([A-Za-z0-9._~+/=-]{8,})`)

// fuzzParsersSecrets returns the token-like credentials body carries: the
// string values of its credential members, decoded, and whatever follows a
// credential name in the raw bytes.
func fuzzParsersSecrets(body []byte) []string {
	var out []string
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token", "token"} {
			if s, ok := jsonString(m[k]); ok && fuzzParsersTokenLike(s) {
				out = append(out, s)
			}
		}
	}
	for _, sm := range fuzzParsersCredRE.FindAllSubmatch(body, -1) {
		if s := string(sm[1]); fuzzParsersTokenLike(s) {
			out = append(out, s)
		}
	}
	return out
}

// fuzzParsersNoLeak fails if a credential of body shows in msg other than
// through what Error() may show: the service's code and the token_type.
func fuzzParsersNoLeak(t *testing.T, msg string, e *Error, body []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	_ = json.Unmarshal(body, &m)
	tt, _ := jsonString(m["token_type"])
	shown := e.Code + "\x00" + tt + "\x00" + strconv.Quote(truncate(tt, 32))
	for _, s := range fuzzParsersSecrets(body) {
		if strings.Contains(shown, s) {
			continue
		}
		require.NotContains(t, msg, s, "a credential of the body leaked into Error()")
	}
}

// fuzzParsersResponse is a 2xx token-endpoint answer with body and
// contentType ("" sends no Content-Type).
func fuzzParsersResponse(body []byte, contentType string) *wire.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &wire.Response{Status: http.StatusOK, Header: h, Body: body}
}

// fuzzParsersParse runs ep.parse on a copy of body, then scribbles over the
// copy: the token must not alias the response buffer.
func fuzzParsersParse(t *testing.T, ep *endpoint, op, rawURL string, body []byte, contentType string) (*Token, error) {
	t.Helper()
	buf := bytes.Clone(body)
	tok, err := ep.parse(op, rawURL, fuzzParsersResponse(buf, contentType))
	require.True(t, bytes.Equal(body, buf), "parse modified the body")
	if tok == nil {
		return tok, err
	}
	fuzzParsersNoAlias(t, tok, buf)
	return tok, err
}

// fuzzParsersNoAlias checks that tok can be stored and shares no memory
// with buf, the body it was parsed from: buf is overwritten.
func fuzzParsersNoAlias(t *testing.T, tok *Token, buf []byte) {
	t.Helper()
	before, err := EncodeToken(tok)
	require.NoError(t, err, "a parsed token can be stored")
	for i := range buf {
		buf[i] = '#'
	}
	after, err := EncodeToken(tok)
	require.NoError(t, err)
	require.Equal(t, string(before), string(after), "the token aliases the response body")
}

// fuzzParsersTokenFailure checks a failed token response as the caller of
// provider's grant sees it.
func fuzzParsersTokenFailure(t *testing.T, tok *Token, err error, provider, op string, body []byte) {
	t.Helper()
	require.Nil(t, tok, "a failure returns no token")
	var e *Error
	require.ErrorAs(t, err, &e, "a token-endpoint failure is an *Error: %v", err)
	require.Equal(t, provider, e.Provider)
	require.Equal(t, op, e.Op)
	require.Equal(t, http.StatusOK, e.Status)
	require.LessOrEqual(t, len(e.Body), maxErrBody)
	require.True(t, bytes.HasPrefix(body, e.Body), "Body is a prefix of the response")
	if !errors.Is(err, ErrRateLimited) {
		require.Zero(t, e.RetryAfter, "no Retry-After was sent")
	}
	msg := e.Error()
	require.True(t, strings.HasPrefix(msg, "videoauth: "+provider+" "+op+": HTTP 200"), "message %q", msg)
	require.NotContains(t, msg, "\n")
	require.True(t, fuzzParsersTyped(err), "untyped token error: %v", err)
	fuzzParsersNoLeak(t, msg, e, body)
}

// fuzzParsersTokenSuccess checks a parsed token against the body it came from.
func fuzzParsersTokenSuccess(t *testing.T, tok *Token, provider string, body []byte) {
	t.Helper()
	fuzzTestTokenInvariants(t, tok)
	require.Equal(t, provider, tok.Provider)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m), "a token comes from a JSON object")
	at, ok := jsonString(m["access_token"])
	require.True(t, ok)
	require.Equal(t, at, tok.AccessToken)
	for _, k := range []string{"access_token", "token_type", "refresh_token", "expires_in", "scope", "user"} {
		require.NotContains(t, tok.Extra, k, "%s is a token field, not an extra", k)
	}
	for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
		if s == "" {
			continue
		}
		c := tok.Clone()
		c.AccessToken, c.RefreshToken = fuzzParsersOther(tok.AccessToken), fuzzParsersOther(tok.RefreshToken)
		require.Equal(t, c.String(), tok.String(), "String depends on a secret's value")
		require.Equal(t, fmt.Sprintf("%+v", c), fmt.Sprintf("%+v", tok))
	}
}

// fuzzParsersOther returns a value of the same presence as s and no
// content in common with it.
func fuzzParsersOther(s string) string {
	switch s {
	case "":
		return ""
	case "\x01":
		return "\x02"
	}
	return "\x01"
}

func fuzzParsersTokenSeeds(f *testing.F, extra ...[2]string) {
	const js = "application/json"
	seeds := [][2]string{
		{`{"access_token":"` + fuzzParsersSecret + `","token_type":"bearer","refresh_token":"` + fuzzParsersSecret + `-R","expires_in":3600,"scope":"public private"}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":"3600"}`, "application/json; charset=utf-8"},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":null}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":0}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":-1}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":1e308}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":0.5}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","expires_in":"1e3"}`, js},
		{`{"access_token":12,"refresh_token":"` + fuzzParsersSecret + `"}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","token_type":"mac"}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","token_type":"` + fuzzParsersSecret + `"}`, js},
		{`{"access_token":"` + fuzzParsersSecret + `","refresh_token":7}`, js},
		{`{"error":"invalid_grant","error_description":"` + fuzzParsersSecret + `","refresh_token":"` + fuzzParsersSecret + `"}`, js},
		{`{"error":"bad_verification_code","access_token":"` + fuzzParsersSecret + `"}`, js},
		{`{"error":"Something strange occurred.","access_token":"` + fuzzParsersSecret + `"}`, js},
		{`<html><body>502 Bad Gateway access_token=` + fuzzParsersSecret + `</body></html>`, "text/html"},
		{`access_token=` + fuzzParsersSecret + `&token_type=bearer&expires_in=3600`, "application/x-www-form-urlencoded"},
		{`{"access_token":"` + fuzzParsersSecret + `","x":[[[[[[[[[[[[[[[[{"y":null}]]]]]]]]]]]]]]]]}`, ""},
		{"{\"access_token\":\"\xff\xfe" + fuzzParsersSecret + "\",\"scope\":\"a\xe8b\"}", js},
		{`[]`, js},
		{`null`, js},
		{``, ""},
	}
	for _, s := range append(seeds, extra...) {
		f.Add([]byte(s[0]), s[1])
	}
}

func FuzzVimeoTokenResponse(f *testing.F) {
	fuzzParsersTokenSeeds(f,
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","token_type":"bearer","scope":"public private","app":{"name":"x","uri":"/apps/1"},"user":{"uri":"/users/4242","name":"n"}}`, "application/vnd.vimeo.auth+json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","user":{"uri":"/users/"}}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","user":{"uri":"/users/1/../../me"}}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_on":"` + strconv.FormatInt(fuzzTestNow.Add(time.Hour).Unix(), 10) + `"}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","error_code":8003,"error":"` + fuzzParsersSecret + `"}`, "application/json"},
	)
	v, err := NewVimeo(App{ClientID: "id", ClientSecret: "secret", Clock: fixedClock(fuzzTestNow)})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, op := range []string{"exchange", "client_credentials", "device_poll", "verify"} {
			tok, err := fuzzParsersParse(t, v.ep, op, v.url("/oauth/access_token"), body, contentType)
			if err != nil {
				var e *Error
				if (op == "exchange" || op == "client_credentials") && errors.As(err, &e) {
					v.refine(e) // as v.call does
				}
				fuzzParsersTokenFailure(t, tok, err, "vimeo", op, body)
				continue
			}
			fuzzParsersTokenSuccess(t, tok, "vimeo", body)
			var u struct {
				URI string `json:"uri"`
			}
			if len(tok.User) > 0 && json.Unmarshal(tok.User, &u) == nil && strings.HasPrefix(u.URI, "/users/") {
				require.Equal(t, path.Base(u.URI), tok.UserID)
			} else {
				require.Empty(t, tok.UserID)
			}
		}
	})
}

func FuzzSimklTokenResponse(f *testing.F) {
	fuzzParsersTokenSeeds(f,
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","token_type":"bearer","scope":"public"}`, "application/json"},
		[2]string{`{"access_token":"simkl_at_` + fuzzParsersSecret + `","token_type":"Bearer","expires_in":604800,"refresh_token":"simkl_rt_` + fuzzParsersSecret + `","scope":"media:read media:write"}`, "application/json"},
		[2]string{`{"error":"grant_error","access_token":"` + fuzzParsersSecret + `"}`, "application/json"},
		[2]string{`{"error":"client_id_failed","code":412,"message":"Your client_id is wrong"}`, "application/json"},
		[2]string{`{"error":"RATE_LIMIT","code":400}`, "application/json"},
		[2]string{`{"result":"OK","access_token":"` + fuzzParsersSecret + `","meta":{"simkl_auth":"v9"}}`, "application/json"},
	)
	var providers []*Simkl
	for _, gen := range []SimklGeneration{SimklV1, SimklV2} {
		s, err := NewSimkl(App{ClientID: "cid", ClientSecret: "secret", AppName: "fuzz", AppVersion: "1", Clock: fixedClock(fuzzTestNow)}, gen)
		require.NoError(f, err)
		providers = append(providers, s)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, s := range providers {
			ops := []string{"exchange", "pin_poll"}
			if s.gen == SimklV2 {
				ops = []string{"exchange", "refresh", "device_poll"}
			}
			for _, op := range ops {
				tok, err := fuzzParsersParse(t, s.ep, op, s.apiURL(s.oauthPath("token")), body, contentType)
				if err != nil {
					var e *Error
					if op != "pin_poll" && errors.As(err, &e) {
						s.refine(op, e) // as s.token does
					}
					fuzzParsersTokenFailure(t, tok, err, "simkl", op, body)
					if op != "pin_poll" && errors.Is(err, ErrRateLimited) {
						require.Positive(t, e.RetryAfter, "a Simkl rate limit always carries a wait")
					}
					continue
				}
				fuzzParsersTokenSuccess(t, tok, "simkl", body)
				require.Equal(t, s.gen.String(), tok.Meta[simklMetaKey])
				require.Equal(t, s.gen, SimklGenerationOf(tok), "a token names the generation that issued it")
				require.NoError(t, s.Authorize(httptest.NewRequest(http.MethodGet, "https://api.simkl.com/sync", nil), tok))
			}
		}
	})
}

func FuzzVikiTokenResponse(f *testing.F) {
	fuzzParsersTokenSeeds(f,
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","token_type":"bearer","user_id":"1u"}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","user":{"id":"1u","username":"u"}}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","user_id":12,"user":{"id":"2u"}}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","user_id":{"a":1},"user":{"id":null}}`, "application/json"},
		[2]string{`{"error":"invalid_grant","error_description":"bad password ` + fuzzParsersSecret + `"}`, "application/json"},
		[2]string{`{"message":"Not Authorized","status":403,"access_token":"` + fuzzParsersSecret + `"}`, "application/json"},
	)
	v, err := NewViki(App{ClientID: "cid", ClientSecret: "secret", Clock: fixedClock(fuzzTestNow)})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		tok, err := fuzzParsersParse(t, v.ep, "token", v.base.String()+"/oauth/token", body, contentType)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				vikiRefine(e) // as v.mint does
			}
			fuzzParsersTokenFailure(t, tok, err, "viki", "token", body)
			return
		}
		fuzzParsersTokenSuccess(t, tok, "viki", body)
		require.False(t, tok.Expiry.IsZero(), "a Viki v3 token always expires")
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &m))
		if d, err := parseExpiresIn(m["expires_in"]); err == nil && d == 0 {
			require.True(t, tok.Expiry.Equal(fuzzTestNow.Add(vikiTokenLife)), "no lifetime means Viki's 24 hours")
		}
		if id := jsonCode(m["user_id"]); id != "" {
			require.Equal(t, id, tok.UserID, "user_id wins over user.id")
		}
	})
}

func FuzzVikiSession(f *testing.F) {
	for _, s := range []string{
		`{"token":"` + fuzzParsersSecret + `","user":{"id":"1u","username":"u","email":"e@x"}}`,
		`{"token":"` + fuzzParsersSecret + `"}`,
		`{"token":"` + fuzzParsersSecret + `","user":null}`,
		`{"token":"` + fuzzParsersSecret + `","user":{"id":12}}`,
		`{"token":"` + fuzzParsersSecret + `","user":[1,2]}`,
		`{"token":12,"user":{"id":"1u"}}`,
		`{"token":""}`,
		`{"error":"invalid credentials","vcode":7401,"token":"` + fuzzParsersSecret + `"}`,
		"{\"token\":\"\xff" + fuzzParsersSecret + "\",\"user\":{\"id\":\"\xfe\"}}",
		`<html>token=` + fuzzParsersSecret + `</html>`,
		`null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		buf := bytes.Clone(body)
		tok, err := parseVikiSession(buf)
		require.True(t, bytes.Equal(body, buf), "parseVikiSession modified the body")
		if err != nil {
			require.Nil(t, tok)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, ErrBadResponse)
			require.Equal(t, "viki", e.Provider)
			require.Equal(t, "login", e.Op)
			require.LessOrEqual(t, len(e.Body), maxErrBody)
			require.True(t, bytes.HasPrefix(body, e.Body))
			require.Contains(t, []string{
				"videoauth: viki login: HTTP 200: malformed response",
				"videoauth: viki login: HTTP 200: malformed response: session answer is not a JSON object",
			}, e.Error(), "fixed text only")
			return
		}
		require.NotEmpty(t, tok.AccessToken)
		require.Equal(t, "viki", tok.Provider)
		require.Equal(t, "viki-session", tok.TokenType)
		require.True(t, tok.Expiry.IsZero(), "Viki says nothing of a session's lifetime")
		require.Equal(t, "v5", tok.Meta["viki_api"])
		require.True(t, tok.User == nil || json.Valid(tok.User), "User is JSON")
		if tok.UserID != "" {
			require.NotEmpty(t, tok.User, "a user id comes from the user object")
		}
		fuzzParsersNoAlias(t, tok, buf)
		c := tok.Clone()
		c.AccessToken = fuzzParsersOther(tok.AccessToken)
		require.Equal(t, c.String(), tok.String(), "String depends on the session token")
	})
}

// fuzzParsersRender prints v every way fmt can, and through slog's text
// handler (which falls back to %+v).
func fuzzParsersRender(v any) []string {
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: fuzzParsersNoTime})).Info("x", "v", v)
	return append(out, buf.String())
}

// fuzzParsersSlogJSON logs v through slog's JSON handler, which marshals a
// value to JSON unless it is a slog.LogValuer.
func fuzzParsersSlogJSON(v any) string {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: fuzzParsersNoTime})).Info("x", "v", v)
	return buf.String()
}

func fuzzParsersNoTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// fuzzParsersSameToken compares a and b as stored tokens: Expiry by
// instant, User and Extra by JSON value (encoding/json re-encodes raw JSON:
// compacted, with <, > and & escaped), empty collections as absent.
func fuzzParsersSameToken(t *testing.T, a, b *Token) {
	t.Helper()
	require.Equal(t, a.Provider, b.Provider)
	require.Equal(t, a.AccessToken, b.AccessToken)
	require.Equal(t, a.TokenType, b.TokenType)
	require.Equal(t, a.RefreshToken, b.RefreshToken)
	require.True(t, a.Expiry.Equal(b.Expiry), "expiry %v vs %v", a.Expiry, b.Expiry)
	require.Equal(t, a.UserID, b.UserID)
	require.Equal(t, len(a.Scopes), len(b.Scopes))
	for i := range a.Scopes {
		require.Equal(t, a.Scopes[i], b.Scopes[i])
	}
	require.Equal(t, len(a.Meta), len(b.Meta))
	for k, v := range a.Meta {
		require.Equal(t, v, b.Meta[k])
	}
	fuzzParsersSameJSON(t, a.User, b.User)
	require.Equal(t, len(a.Extra), len(b.Extra))
	for k, v := range a.Extra {
		w, ok := b.Extra[k]
		require.True(t, ok, "extra %q lost", k)
		fuzzParsersSameJSON(t, v, w)
	}
}

func fuzzParsersSameJSON(t *testing.T, a, b json.RawMessage) {
	t.Helper()
	if len(a) == 0 || len(b) == 0 {
		require.Equal(t, len(a), len(b), "raw JSON %q vs %q", a, b)
		return
	}
	var x, y any
	require.NoError(t, json.Unmarshal(a, &x))
	require.NoError(t, json.Unmarshal(b, &y))
	require.True(t, reflect.DeepEqual(x, y), "raw JSON %q vs %q", a, b)
}

func FuzzTokenJSON(f *testing.F) {
	for _, s := range []string{
		`{"provider":"vimeo","access_token":"` + fuzzParsersSecret + `","token_type":"Bearer","refresh_token":"` + fuzzParsersSecret + `-R","expiry":"2026-07-08T10:10:11Z","scopes":["public","private"],"user_id":"4242","user":{"uri":"/users/4242"},"extra":{"app":{"name":"x"}},"meta":{"gen":"1"}}`,
		`{"provider":"simkl","access_token":"simkl_at_` + fuzzParsersSecret + `","expiry":"2026-07-08T11:10:11.123456789+02:00","meta":{"simkl_auth":"v2"}}`,
		`{"access_token":"` + fuzzParsersSecret + `","expiry":"0001-01-01T00:00:00Z","scopes":[],"meta":{},"extra":{}}`,
		`{"access_token":"` + fuzzParsersSecret + `","expiry":"9999-12-31T23:59:59-23:59"}`,
		`{"access_token":"` + fuzzParsersSecret + `","expiry":"2026-13-01T00:00:00Z"}`,
		`{"access_token":"` + fuzzParsersSecret + `","user":null,"extra":{"a":null,"b":"<&>","c":[ 1 , 2 ]}}`,
		`{"ACCESS_TOKEN":"` + fuzzParsersSecret + `","access_token":"x","user_id":"` + fuzzParsersSecret + `"}`,
		"{\"access_token\":\"\xff" + fuzzParsersSecret + "\",\"extra\":{\"u\":\"\xfe\"},\"user\":{\"\xe8\":1}}",
		`{"access_token":12}`,
		`{"access_token":"a","extra":{"x":[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]}}`,
		`null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	// The stored form of any token, EncodeToken's without its checks (which
	// refuse tokens DecodeToken would not read).
	stored := func(tok *Token) ([]byte, error) { return json.Marshal((*storedToken)(tok)) }
	f.Fuzz(func(t *testing.T, data []byte) {
		var tok Token
		if json.Unmarshal(data, &tok) != nil {
			return
		}
		b1, err := stored(&tok)
		require.NoError(t, err, "a token that decodes can be stored again")
		var tok2 Token
		require.NoError(t, json.Unmarshal(b1, &tok2), "a stored token decodes")
		fuzzParsersSameToken(t, &tok, &tok2)
		b2, err := stored(&tok2)
		require.NoError(t, err)
		require.Equal(t, string(b1), string(b2), "the stored form is a fixed point")
		var tok3 Token
		require.NoError(t, json.Unmarshal(b2, &tok3))
		require.Equal(t, &tok2, &tok3)
		if dec, err := DecodeToken(b1); err == nil {
			require.Equal(t, &tok2, dec, "DecodeToken reads what json.Unmarshal reads")
		}

		// json.Marshal gives the redacted description, which never decodes
		// as a token.
		desc, err := json.Marshal(&tok)
		require.NoError(t, err, "a description never fails")
		require.Error(t, json.Unmarshal(desc, new(Token)), "the description is refused")
		_, err = DecodeToken(desc)
		require.ErrorIs(t, err, ErrStoreCorrupt)

		c := tok.Clone()
		require.Equal(t, &tok, c, "Clone is a deep copy")
		if len(c.User) > 0 {
			c.User[0] ^= 0xff
			require.NotEqual(t, c.User[0], tok.User[0], "Clone shares User")
		}

		// Printing never depends on the secrets' values, only on their
		// presence.
		other := tok.Clone()
		other.AccessToken, other.RefreshToken = fuzzParsersOther(tok.AccessToken), fuzzParsersOther(tok.RefreshToken)
		require.Equal(t, fuzzParsersRender(other), fuzzParsersRender(&tok), "printing depends on a secret")
		require.Equal(t, fuzzParsersSlogJSON(other), fuzzParsersSlogJSON(&tok), "slog's JSON depends on a secret")

		o := tok.OAuth2()
		require.Equal(t, tok.AccessToken, o.AccessToken)
		require.Equal(t, tok.RefreshToken, o.RefreshToken)
		require.True(t, tok.Expiry.Equal(o.Expiry))
		require.NotPanics(t, func() {
			tok.Valid(fuzzTestNow)
			tok.HasScope("public")
			_ = tok.RequireScopes("public", "private")
			SimklGenerationOf(&tok)
		})
	})
}

// requireSameAuthRequest compares two AuthRequests field by field (an
// AuthRequest holds an atomic and is never copied).
func requireSameAuthRequest(t *testing.T, a, b *AuthRequest) {
	t.Helper()
	require.Equal(t, a.URL, b.URL)
	require.Equal(t, a.Provider, b.Provider)
	require.Equal(t, a.State, b.State)
	require.Equal(t, a.Verifier, b.Verifier)
	require.Equal(t, a.RedirectURL, b.RedirectURL)
	require.Equal(t, a.Scopes, b.Scopes)
	require.Equal(t, a.Issuer, b.Issuer)
	require.Equal(t, a.RequireIss, b.RequireIss)
	require.Equal(t, a.Implicit, b.Implicit)
}

func FuzzAuthRequestJSON(f *testing.F) {
	for _, s := range []string{
		`{"url":"https://api.vimeo.com/oauth/authorize?state=` + fuzzParsersSecret + `","provider":"vimeo","state":"` + fuzzParsersSecret + `","verifier":"` + fuzzParsersSecret + `-V","redirect_url":"http://127.0.0.1:8080/callback","scopes":["public"],"issuer":"","require_iss":false,"implicit":false}`,
		`{"provider":"simkl","state":"` + fuzzParsersSecret + `","verifier":"v","redirect_url":"https://app/cb","scopes":null,"issuer":"https://simkl.com","require_iss":true,"implicit":false}`,
		`{"provider":"vimeo","state":"` + fuzzParsersSecret + `","implicit":true,"scopes":[]}`,
		`{"state":"","verifier":"` + fuzzParsersSecret + `"}`,
		`{"State":"` + fuzzParsersSecret + `","state":"x","used":true}`,
		"{\"state\":\"\xff" + fuzzParsersSecret + "\",\"redirect_url\":\"\xfe\"}",
		`{"require_iss":"yes"}`,
		`null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ar, err := DecodeAuthRequest(data)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidConfig)
			return
		}
		require.False(t, ar.Used(), "a restored request is fresh")
		b1, err := EncodeAuthRequest(ar)
		require.NoError(t, err)
		ar2, err := DecodeAuthRequest(b1)
		require.NoError(t, err)
		requireSameAuthRequest(t, ar, ar2)
		b2, err := EncodeAuthRequest(ar2)
		require.NoError(t, err)
		require.Equal(t, string(b1), string(b2), "the stored form is a fixed point")
		var ar3 AuthRequest
		require.NoError(t, json.Unmarshal(b1, &ar3), "json.Unmarshal reads the session form")
		requireSameAuthRequest(t, ar, &ar3)

		// json.Marshal gives the redacted description, which never decodes
		// as a request (its placeholder state would match state=REDACTED).
		desc, err := json.Marshal(ar)
		require.NoError(t, err)
		_, err = DecodeAuthRequest(desc)
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.Error(t, json.Unmarshal(desc, new(AuthRequest)))

		// Printing never depends on state or verifier, only on their presence.
		other := &AuthRequest{URL: ar.URL, Provider: ar.Provider, State: fuzzParsersOther(ar.State), Verifier: fuzzParsersOther(ar.Verifier),
			RedirectURL: ar.RedirectURL, Scopes: ar.Scopes, Issuer: ar.Issuer, RequireIss: ar.RequireIss, Implicit: ar.Implicit}
		require.Equal(t, fuzzParsersRender(other), fuzzParsersRender(ar), "printing depends on state or verifier")
		require.Equal(t, fuzzParsersSlogJSON(other), fuzzParsersSlogJSON(ar), "slog's JSON depends on state or verifier")

		// The restored request still checks its callback, once.
		q := url.Values{"state": {ar.State}, "code": {"c"}}
		if ar.Issuer != "" {
			q.Set("iss", ar.Issuer)
		}
		code, err := ar.Callback(q)
		switch {
		case ar.State == "":
			require.ErrorIs(t, err, ErrStateMismatch, "an empty state matches nothing")
			require.False(t, ar.Used())
			return
		case ar.RequireIss && ar.Issuer == "":
			require.ErrorIs(t, err, ErrIssuerMismatch, "no issuer can satisfy require_iss")
		default:
			require.NoError(t, err)
			require.Equal(t, "c", code)
		}
		require.True(t, ar.Used())
		_, err = ar.Callback(q)
		require.ErrorIs(t, err, ErrStateUsed)
		require.False(t, ar2.Used(), "the copies are separate")
	})
}

func FuzzRetryAfter(f *testing.F) {
	future := fuzzTestNow.Add(90 * time.Second)
	for _, s := range [][2]string{
		{"120", ""},
		{"0", ""},
		{" 5 ", ""},
		{"-1", ""},
		{"1e3", ""},
		{"9300000000", ""},
		{"99999999999999999999", ""},
		{future.Format(http.TimeFormat), ""},
		{"Wed, 21 Oct 2015 07:28:00 GMT", ""},
		{"", strconv.FormatInt(future.Unix(), 10)},
		{"", future.Format(time.RFC3339)},
		{"", "-9223372036854775808"},
		{"", "9223372036854775807"},
		{"soon", "1"},
		{"\xff", "\x00"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, retryAfterHeader, resetHeader string) {
		h := http.Header{}
		if retryAfterHeader != "" {
			h.Set("Retry-After", retryAfterHeader)
		}
		if resetHeader != "" {
			h.Set("X-RateLimit-Reset", resetHeader)
		}
		d := retryAfter(h, fuzzTestNow)
		n, nerr := strconv.ParseInt(strings.TrimSpace(retryAfterHeader), 10, 64)
		require.GreaterOrEqual(t, d, time.Duration(0), "a wait is never negative")
		require.LessOrEqual(t, d, maxRetryAfter, "a wait is capped")
		if nerr == nil && n >= 0 {
			require.Equal(t, time.Duration(min(n, int64(maxRetryAfter/time.Second)))*time.Second, d, "Retry-After in seconds")
		}
		if strings.TrimSpace(retryAfterHeader) == "" && strings.TrimSpace(resetHeader) == "" {
			require.Zero(t, d, "no header, no wait")
		}

		// The same through an error response.
		e := (&endpoint{provider: "vimeo", clock: fixedClock(fuzzTestNow)}).errorFrom("api", "https://api.vimeo.com/me", &wire.Response{Status: 429, Header: h, Body: []byte(`{}`)})
		require.Equal(t, d, e.RetryAfter)
		require.ErrorIs(t, e, ErrRateLimited)
	})
}

// fuzzParsersStaleBody is what staleTimestamp reads, decoded the same way
// (struct field names match case-insensitively; the last duplicate wins).
type fuzzParsersStaleBody struct {
	Error   string `json:"error"`
	Current any    `json:"current_timestamp"`
}

func FuzzVikiStaleTimestamp(f *testing.F) {
	for _, s := range []string{
		`{"error":"stale timestamp","current_timestamp":1783501811}`,
		`{"error":"stale timestamp","current_timestamp":"1783501811"}`,
		`{"error":" Stale Timestamp ","current_timestamp":" 1783501811 "}`,
		`{"error":"stale timestamp","current_timestamp":1.5e9}`,
		`{"error":"stale timestamp","current_timestamp":-5}`,
		`{"error":"stale timestamp","current_timestamp":0}`,
		`{"error":"stale timestamp","current_timestamp":9223372036854775807}`,
		`{"error":"stale timestamp","current_timestamp":9223372036854775808}`,
		`{"error":"stale timestamp","current_timestamp":null}`,
		`{"error":"stale timestamp","CURRENT_TIMESTAMP":1,"current_timestamp":2}`,
		`{"error":"invalid signature","vcode":4,"current_timestamp":1783501811}`,
		`<html>stale timestamp</html>`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, ok := staleTimestamp(body)
		var sb fuzzParsersStaleBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		decoded := dec.Decode(&sb) == nil && !dec.More()
		if ok {
			require.Positive(t, n)
			require.True(t, decoded, "a stale-timestamp answer is one JSON value")
			require.True(t, strings.EqualFold(strings.TrimSpace(sb.Error), "stale timestamp"))
			var s string
			switch c := sb.Current.(type) {
			case json.Number:
				s = c.String()
			case string:
				s = strings.TrimSpace(c)
			default:
				t.Fatalf("current_timestamp %T accepted", sb.Current)
			}
			require.Equal(t, strconv.FormatInt(n, 10), strings.TrimLeft(strings.TrimPrefix(s, "+"), "0"), "the server's clock as sent")
		}
		// The signer reads the first 4 KiB of the answer.
		peekN, peekOK := staleTimestamp(body[:min(len(body), 4<<10)])

		// The signer adopts that clock and retries once, only then.
		a, err := NewVikiAPI(App{ClientID: "9001", ClientSecret: "viki-app-secret", APIURL: "http://127.0.0.1:1", Clock: fixedClock(fuzzTestNow)}, VikiSignQuery)
		require.NoError(t, err)
		var ts []string
		rt := a.Signer(roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			ts = append(ts, r.URL.Query().Get("t"))
			return &http.Response{StatusCode: 401, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		}))
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1:1/v4/x.json", nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.True(t, bytes.Equal(body, got), "the caller reads the whole body")
		require.Equal(t, strconv.FormatInt(fuzzTestNow.Unix(), 10), ts[0])
		if !peekOK {
			require.Len(t, ts, 1, "no retry without a stale timestamp")
			return
		}
		require.Len(t, ts, 2, "exactly one retry")
		require.Equal(t, strconv.FormatInt(peekN, 10), ts[1], "the retry is signed at the server's clock")
	})
}

func FuzzCheckResponse(f *testing.F) {
	for _, s := range []struct {
		status     int
		body, wait string
	}{
		{401, `{"error":"Unable to authenticate","error_code":8003,"developer_message":"` + fuzzParsersSecret + `"}`, ""},
		{429, `{"error":"rate_limit"}`, "30"},
		{412, `{"error":"client_id_failed","code":412,"message":"Your client_id is wrong"}`, ""},
		{400, `{"error":"RATE_LIMIT","code":400}`, ""},
		{401, `{"error":"user_token_failed","token":"` + fuzzParsersSecret + `"}`, ""},
		{403, `{"error":"Invalid session token","vcode":11}`, ""},
		{502, `<html>502 access_token=` + fuzzParsersSecret + `</html>`, "Wed, 21 Oct 2015 07:28:00 GMT"},
		{200, `{"access_token":"` + fuzzParsersSecret + `"}`, ""},
		{500, ``, "120"},
		{503, `{"error":"server_error"}`, " 7 "},
	} {
		f.Add(s.status, []byte(s.body), s.wait)
	}
	v, err := NewVimeo(App{ClientID: "id"})
	require.NoError(f, err)
	s1, err := NewSimkl(App{ClientID: "cid", AppName: "fuzz", AppVersion: "1"}, SimklV1)
	require.NoError(f, err)
	s2, err := NewSimkl(App{ClientID: "cid", AppName: "fuzz", AppVersion: "1"}, SimklV2)
	require.NoError(f, err)
	vk, err := NewViki(App{ClientID: "cid", ClientSecret: "secret"})
	require.NoError(f, err)
	va, err := NewVikiAPI(App{ClientID: "cid", ClientSecret: "secret"}, VikiSignQuery)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, status int, body []byte, wait string) {
		if status < 100 || status > 999 {
			return
		}
		if n, err := strconv.Atoi(strings.TrimSpace(wait)); err == nil && n > math.MaxInt64/int(time.Second) {
			return // the Retry-After overflow FuzzRetryAfter documents
		}
		for _, p := range []Provider{v, s1, s2, vk, va, nil} {
			h := http.Header{}
			if wait != "" {
				h.Set("Retry-After", wait)
			}
			req := httptest.NewRequest(http.MethodGet, "https://api.example/x?access_token=URL-"+fuzzParsersSecret+"&sig=SIG-"+fuzzParsersSecret, nil)
			resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
			err := CheckResponse(p, resp)
			got, rerr := io.ReadAll(resp.Body)
			require.NoError(t, rerr)
			require.True(t, bytes.Equal(body, got), "the body is whole after CheckResponse")
			if status >= 200 && status <= 299 {
				require.NoError(t, err)
				continue
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			name := ""
			if p != nil {
				name = p.Name()
			}
			require.Equal(t, name, e.Provider)
			require.Equal(t, status, e.Status)
			require.GreaterOrEqual(t, e.RetryAfter, time.Duration(0))
			require.LessOrEqual(t, len(e.Body), maxErrBody)
			require.True(t, bytes.HasPrefix(body, e.Body))
			require.NotContains(t, e.URL, fuzzParsersSecret)
			msg := e.Error()
			require.True(t, strings.HasPrefix(msg, "videoauth: "), msg)
			if !bytes.Contains(body, []byte(fuzzParsersSecret)) {
				require.NotContains(t, msg, fuzzParsersSecret, "the URL's credentials never reach Error()")
			}
			fuzzParsersNoLeak(t, msg, e, body)
			if status >= 500 && e.Err == nil {
				t.Fatalf("a 5xx without a sentinel: %v", err)
			}
		}
	})
}

func FuzzVimeoImplicitToken(f *testing.F) {
	for _, s := range []string{
		"https://app.example/cb#access_token=" + fuzzParsersSecret + "&token_type=bearer&expires_in=3600&scope=public&state=" + fuzzTestState,
		"#access_token=" + fuzzParsersSecret + "&state=" + fuzzTestState,
		"access_token=" + fuzzParsersSecret + "&state=" + fuzzTestState + "&expires_in=-1",
		"access_token=" + fuzzParsersSecret + "&state=" + fuzzTestState + "&token_type=mac",
		"error=access_denied&error_description=" + fuzzParsersSecret + "&state=" + fuzzTestState,
		"access_token=" + fuzzParsersSecret + "&state=wrong",
		"access_token=" + fuzzParsersSecret + "&state=" + fuzzTestState + "&state=" + fuzzTestState,
		"access_token=" + fuzzParsersSecret + "&state=" + fuzzTestState + "&iss=https://evil",
		"a#b#access_token=x&state=" + fuzzTestState,
		"access_token=%zz&state=" + fuzzTestState,
		"access_token=x;state=" + fuzzTestState,
		"",
	} {
		f.Add(s)
	}
	v, err := NewVimeo(App{ClientID: "id", Clock: fixedClock(fuzzTestNow)})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, fragment string) {
		ar := &AuthRequest{Provider: "vimeo", State: fuzzTestState, Implicit: true}
		tok, err := v.ImplicitToken(ar, fragment)
		frag := fragment
		if i := strings.IndexByte(frag, '#'); i >= 0 {
			frag = frag[i+1:]
		}
		q, perr := url.ParseQuery(frag)
		ours := perr == nil && len(q["state"]) == 1 && q["state"][0] == fuzzTestState
		if !ours {
			require.Nil(t, tok)
			require.False(t, ar.Used(), "a foreign or unparsable fragment never consumes")
			require.True(t, errors.Is(err, ErrStateMismatch) || errors.Is(err, ErrBadCallback), "error %v", err)
			return
		}
		require.True(t, ar.Used())
		if err != nil {
			require.Nil(t, tok)
			var e *Error
			typed := errors.Is(err, ErrIssuerMismatch) || errors.Is(err, ErrBadResponse) || errors.Is(err, ErrUnsupportedTokenType) ||
				errors.As(err, &e) && e.Err != nil
			require.True(t, typed, "untyped implicit error: %v", err)
			require.True(t, strings.HasPrefix(err.Error(), "videoauth: "), err.Error())
			for _, s := range q["access_token"] {
				if fuzzParsersTokenLike(s) && !strings.Contains(q.Get("error"), s) && !strings.Contains(q.Get("token_type"), s) {
					require.NotContains(t, err.Error(), s, "the fragment's token leaked into Error()")
				}
			}
			if q.Get("error") != "" && !q.Has("iss") {
				require.ErrorAs(t, err, &e, "an error fragment is an *Error")
				require.Equal(t, "authorize", e.Op)
			}
		} else {
			fuzzTestTokenInvariants(t, tok)
			require.Equal(t, "vimeo", tok.Provider)
			require.Empty(t, q.Get("error"), "an error fragment never yields a token")
			require.False(t, q.Has("iss"), "no issuer is expected from Vimeo")
		}
		_, err = v.ImplicitToken(ar, fragment)
		require.ErrorIs(t, err, ErrStateUsed, "single use")
	})
}

// fuzzParsersLoopbackHost is the listener address the handler answers for.
const fuzzParsersLoopbackHost = "127.0.0.1:53682"

func FuzzLoopbackCallback(f *testing.F) {
	for _, s := range [][4]string{
		{"GET", fuzzParsersLoopbackHost, "/callback", "code=" + fuzzParsersSecret + "&state=" + fuzzTestState},
		{"GET", fuzzParsersLoopbackHost, "/callback", "error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=" + fuzzTestState},
		{"GET", fuzzParsersLoopbackHost, "/callback", "error=server_error&error_description=" + strings.Repeat("%C3%A9", 400) + "&state=" + fuzzTestState},
		{"GET", fuzzParsersLoopbackHost, "/callback", "code=" + fuzzParsersSecret + "&state=wrong"},
		{"GET", fuzzParsersLoopbackHost, "/favicon.ico", "code=x&state=" + fuzzTestState},
		{"POST", fuzzParsersLoopbackHost, "/callback", "code=x&state=" + fuzzTestState},
		{"GET", "evil.example:53682", "/callback", "code=x&state=" + fuzzTestState},
		{"GET", "127.0.0.1:53682", "/callback", "state=" + fuzzTestState},
		{"GET", fuzzParsersLoopbackHost, "/callback", "code=%zz&state=" + fuzzTestState + "&error_description=\xff\xfe"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, method, host, urlPath, rawQuery string) {
		ar := &AuthRequest{Provider: "vimeo", State: fuzzTestState}
		h := &loopbackHandler{host: fuzzParsersLoopbackHost, path: "/callback", provider: "vimeo", ar: ar, callbacks: make(chan loopbackCallback, 1)}
		q, _ := url.ParseQuery(rawQuery)
		serve := func() (*httptest.ResponseRecorder, bool) {
			req := (&http.Request{Method: method, Host: host, URL: &url.URL{Path: urlPath, RawQuery: rawQuery}, Header: http.Header{}}).WithContext(context.Background())
			w := httptest.NewRecorder()
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(w, req)
			}()
			claimed := false
			select {
			case cb := <-h.callbacks:
				claimed = true
				_, err := ar.Callback(cb.q)
				cb.reply <- loopbackOutcome{err: err}
				<-done
			case <-done:
			}
			return w, claimed
		}
		w, claimed := serve()
		ours := strings.EqualFold(host, fuzzParsersLoopbackHost) && urlPath == "/callback" && method == http.MethodGet &&
			len(q["state"]) == 1 && q["state"][0] == fuzzTestState
		require.Equal(t, ours, claimed, "only our browser's callback is handed on")
		switch {
		case !strings.EqualFold(host, fuzzParsersLoopbackHost) || urlPath != "/callback":
			require.Equal(t, http.StatusNotFound, w.Code)
		case method != http.MethodGet:
			require.Equal(t, http.StatusMethodNotAllowed, w.Code)
		case !ours:
			require.Equal(t, http.StatusBadRequest, w.Code)
		default:
			require.Contains(t, []int{http.StatusOK, http.StatusForbidden, http.StatusInternalServerError}, w.Code)
			if q.Get("error") != "" {
				require.NotEqual(t, http.StatusOK, w.Code, "an error callback is never a success page")
			}
		}
		hd := w.Header()
		require.Equal(t, "text/html; charset=utf-8", hd.Get("Content-Type"))
		require.Equal(t, "no-referrer", hd.Get("Referrer-Policy"))
		require.Equal(t, "no-store", hd.Get("Cache-Control"))
		require.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"))
		require.Contains(t, hd.Get("Content-Security-Policy"), "default-src 'none'")
		page := w.Body.String()
		require.Equal(t, strconv.Itoa(len(page)), hd.Get("Content-Length"))
		for _, tag := range []string{"<script", "<img", "<a ", "<link", "<iframe", "<style"} {
			require.NotContains(t, strings.ToLower(page), tag, "the page reflects markup")
		}
		for _, s := range append(q["code"], fuzzTestState) {
			if fuzzParsersTokenLike(s) && !strings.Contains(q.Get("error_description"), s) {
				require.NotContains(t, page, s, "the page shows the code or the state")
			}
		}
		if claimed {
			w2, again := serve()
			require.False(t, again, "one claim ever")
			require.Equal(t, http.StatusConflict, w2.Code)
		}
	})
}

func FuzzVikiAuthorize(f *testing.F) {
	for _, s := range []string{
		"",
		"per_page=10&page=2",
		"access_token=OLD-" + fuzzParsersSecret + "&page=2",
		"page=2&access_token=a&access_token=b",
		"q=access_token",
		"a=%zz&access_token=old",
		"a=1;b=2&access_token=old",
		"access%5Ftoken=escaped",
		"ACCESS_TOKEN=upper",
	} {
		f.Add(s)
	}
	v, err := NewViki(App{ClientID: "cid", ClientSecret: "secret"})
	require.NoError(f, err)
	tok := &Token{Provider: "viki", AccessToken: "NEW-" + fuzzParsersSecret, TokenType: "Bearer"}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "viki.com", Path: "/v3/x.json", RawQuery: rawQuery}, Header: http.Header{}}
		require.NoError(t, v.Authorize(r, tok))
		got, _ := url.ParseQuery(r.URL.RawQuery)
		in, _ := url.ParseQuery(rawQuery)
		require.True(t, strings.HasSuffix(r.URL.RawQuery, "access_token="+url.QueryEscape(tok.AccessToken)), "ours comes last")
		if !strings.Contains(rawQuery, "access") && !strings.Contains(rawQuery, "&&") && !strings.HasPrefix(rawQuery, "&") {
			require.True(t, strings.HasPrefix(r.URL.RawQuery, rawQuery), "the caller's query is kept byte for byte")
		}
		require.Equal(t, []string{tok.AccessToken}, got["access_token"], "exactly one access_token: ours, however the caller spelled theirs")
		for k, vs := range in {
			if k != "access_token" {
				require.Equal(t, vs, got[k], "the caller's %q is kept", k)
			}
		}
	})
}
