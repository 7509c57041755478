package videoauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/internal/wire"
)

// dailymotionFuzzProviders are the two providers the fuzz targets parse
// with, on the fuzz clock.
func dailymotionFuzzProviders(t testing.TB) (*Dailymotion, *DailymotionPrivate) {
	t.Helper()
	d, err := NewDailymotion(App{ClientID: "key", ClientSecret: "secret", RedirectURL: "https://app.example/cb",
		Scopes: []string{"email"}, Clock: fixedClock(fuzzTestNow)}, DailymotionConfig{})
	require.NoError(t, err)
	p, err := NewDailymotionPrivate(App{ClientID: "key", ClientSecret: "secret", Clock: fixedClock(fuzzTestNow)},
		DailymotionPrivateConfig{Endpoint: DailymotionV2})
	require.NoError(t, err)
	return d, p
}

// FuzzDailymotionErrorBody feeds every Dailymotion error reader any body
// and status: the RFC 6749 shape, the legacy envelope with an integer code,
// API v2's with a string code. Nothing panics, a code is code-like, prose
// stays out of Error(), the body is left for the caller, and Verdict
// replays only on the documented signals.
func FuzzDailymotionErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_grant","error_description":"Invalid refresh token"}`,
		`{"error":{"more_info":"https://developer.dailymotion.com/api#error-codes","code":404,"message":"Can't find object video for ` + "`id'" + ` parameter","type":"not_found","error_data":{"reason":"object_not_found","object_type":"video","object_id":"xnotfound","param":"id"}}}`,
		`{"error":{"code":403,"message":"Insufficient rights for route GET /user/x/players","type":"access_forbidden"}}`,
		`{"error":{"code":400,"message":"PROSE","type":"invalid_parameter"}}`,
		`{"error":{"code":"MISSING_PERMISSIONS","message":"PROSE","correlation_id":null,"details":{},"documentation_url":"https://developers.dailymotion.com/reference/api-errors"}}`,
		`{"error":{"code":"RESOURCE_NOT_FOUND","message":"x","correlation_id":"550e8400"}}`,
		`{"error":{"code":1.5}}`, `{"error":{"code":-3}}`, `{"error":{"code":"PROSE with spaces"}}`,
		`{"error":{"code":401,"type":7,"error_data":[1]}}`, `{"error":"PROSE, not a code","error_description":"PROSE"}`,
		`{"error":["x"]}`, `{"error":null}`, `{"error":{}}`, `<html>502</html>`, `[]`, ``,
	} {
		f.Add(s, 401, `Bearer error="invalid_token"`)
		f.Add(s, 403, ``)
	}
	d, p := dailymotionFuzzProviders(f)
	f.Fuzz(func(t *testing.T, body string, status int, challenge string) {
		if status < 100 || status > 599 {
			return
		}
		pe := parseDailymotionError([]byte(body))
		require.Equal(t, safeCode(pe.code), pe.code, "a code is code-like or empty")
		require.Equal(t, safeCode(pe.typ), pe.typ)
		require.Equal(t, safeCode(pe.reason), pe.reason)
		if pe.shape == dailymotionLegacyShape && pe.code != "" {
			require.True(t, digits(pe.code), "a legacy code is an integer: %q", pe.code)
		}
		h := http.Header{}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		for _, op := range []string{"exchange", "refresh", "password", "client_credentials", "api"} {
			e := dailymotionRefine(op, d.std.ep.errorFrom(op, "http://127.0.0.1:1/x?access_token=SECRET", &wire.Response{Status: status, Header: h, Body: []byte(body)}))
			if op == "api" {
				e = dailymotionAPIError(d.std.ep, "http://127.0.0.1:1/x?access_token=SECRET", &wire.Response{Status: status, Header: h, Body: []byte(body)})
			}
			msg := e.Error()
			require.True(t, strings.HasPrefix(msg, "videoauth: dailymotion "+op), msg)
			require.NotContains(t, e.URL, "SECRET")
			if !strings.Contains(body, "SECRET") {
				require.NotContains(t, msg, "SECRET")
			}
			if !strings.Contains(e.Code, "PROSE") {
				require.NotContains(t, msg, "PROSE", "prose stays out of Error()")
			}
			require.LessOrEqual(t, len(e.Body), maxErrBody)
			if pe.shape == dailymotionV2Shape && pe.code == "MISSING_PERMISSIONS" && bearerChallengeError(h) != "invalid_token" {
				require.ErrorIs(t, e, ErrForbidden)
			}
		}
		for _, prov := range []Provider{d, p} {
			resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
			v := prov.Verdict(resp)
			rest, _ := io.ReadAll(resp.Body)
			require.Equal(t, body, string(rest), "Verdict leaves the body")
			if status != 400 && status != 401 && status != 403 {
				require.Equal(t, VerdictOK, v, "only 400, 401 and 403 can mean a dead token")
			}
			if status != 401 && bearerChallengeError(h) != "invalid_token" {
				require.Equal(t, VerdictOK, v, "a 400 or 403 without the challenge is never replayed")
			}
		}
	})
}

// FuzzDailymotionTokenResponse parses any token answer as each grant of
// both providers sees it: a valid token, or a typed *Error that leaks no
// credential; the user id is code-like and the key's kind is marked.
func FuzzDailymotionTokenResponse(f *testing.F) {
	fuzzParsersTokenSeeds(f,
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","token_type":"Bearer","expires_in":36000,"refresh_token":"` + fuzzParsersSecret + `-R","scope":"manage_videos email","uid":"x1abc"}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_in":36000,"refresh_token":"` + fuzzParsersSecret + `-R"}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","uid":12345}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","uid":"x y <script>"}`, "application/json"},
		[2]string{`{"access_token":"eyJhbGciOiJIUzI1NiJ9.e30.` + fuzzParsersSecret + `","token_type":"Bearer","expires_in":1800}`, "application/json"},
		[2]string{`{"error":{"code":"INVALID_CLIENT","message":"` + fuzzParsersSecret + `"}}`, "application/json"},
	)
	d, p := dailymotionFuzzProviders(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, c := range []struct {
			ep   *endpoint
			op   string
			kind string
		}{{d.std.ep, "exchange", dailymotionPublic}, {d.std.ep, "refresh", dailymotionPublic}, {d.std.ep, "password", dailymotionPublic},
			{p.std.ep, "client_credentials", "v2"}} {
			tok, err := fuzzParsersParse(t, c.ep, c.op, "https://api.dailymotion.com/oauth/token", body, contentType)
			if err != nil {
				fuzzParsersTokenFailure(t, tok, dailymotionRefineErr(c.op, err), dailymotionName, c.op, body)
				continue
			}
			fuzzParsersTokenSuccess(t, tok, dailymotionName, body)
			require.Equal(t, c.kind, tok.Meta[dailymotionMetaKey])
			require.Equal(t, safeCode(tok.UserID), tok.UserID, "a user id is code-like")
			if c.kind == "v2" {
				require.False(t, tok.Expiry.IsZero(), "a v2 token always has a lifetime")
			}
			req, _ := http.NewRequest(http.MethodGet, "https://api.dailymotion.com/v2/me", nil)
			if c.kind == "v2" {
				require.NoError(t, p.Authorize(req, tok))
				require.ErrorIs(t, d.Authorize(req, tok), ErrInvalidConfig, "a v2 token is refused by the public-key provider")
			} else {
				require.NoError(t, d.Authorize(req, tok))
			}
		}
	})
}

// FuzzDailymotionIdentity feeds GET /auth and GET /v2/me answers to their
// parsers: an Identity with a user id, or ErrBadResponse.
func FuzzDailymotionIdentity(f *testing.F) {
	for _, s := range []string{
		`{"id":"x1fake","username":"fake-user","screenname":"Fake User","scope":["email"]}`,
		`{"id":"x1fake","access_token":"` + fuzzParsersSecret + `"}`,
		`{"user_id":"xyz789","profiles":[{"profile_id":"x1y2z3","name":"officialdailymotion"}]}`,
		`{"user_id":"xyz789","profiles":{}}`, `{"user_id":7}`, `{"id":null}`, `{"id":"x","username":3}`,
		`{"user_id":"u","profiles":[{"name":["x"]}]}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range []func([]byte) (*Identity, error){parseDailymotionIdentity, parseDailymotionV2Identity} {
			id, err := parse(body)
			if err != nil {
				require.Nil(t, id)
				require.ErrorIs(t, err, ErrBadResponse)
				continue
			}
			require.Equal(t, dailymotionName, id.Provider)
			require.NotEmpty(t, id.UserID)
			if len(id.User) > 0 {
				require.NotContains(t, string(id.User), `"access_token"`, "a user object with a credential member is dropped")
			}
		}
	})
}

// FuzzDailymotionImplicitToken feeds ImplicitToken any fragment: a token
// only for this request's state, once, and typed refusals.
func FuzzDailymotionImplicitToken(f *testing.F) {
	for _, s := range []string{
		"access_token=" + fuzzParsersSecret + "&token_type=Bearer&expires_in=36000&scope=email&uid=x1&state=STATE",
		"#access_token=a&state=STATE",
		"error=access_denied&error_description=no&state=STATE",
		"access_token=a&state=other", "access_token=a&state=STATE&state=STATE", "access_token=&state=STATE",
		"access_token=a&expires_in=-1&state=STATE", "https://app.example/cb#access_token=a&state=STATE", "%zz",
	} {
		f.Add(s)
	}
	d, _ := dailymotionFuzzProviders(f)
	f.Fuzz(func(t *testing.T, fragment string) {
		ar, err := d.ImplicitRequest("")
		require.NoError(t, err)
		fragment = strings.ReplaceAll(fragment, "STATE", ar.State)
		tok, err := d.ImplicitToken(ar, fragment)
		if err == nil {
			fuzzTestTokenInvariants(t, tok)
			require.Equal(t, dailymotionName, tok.Provider)
			require.Equal(t, dailymotionPublic, tok.Meta[dailymotionMetaKey])
			require.True(t, ar.Used())
			_, err = d.ImplicitToken(ar, fragment)
			require.ErrorIs(t, err, ErrStateUsed)
			return
		}
		require.Nil(t, tok)
		var e *Error
		typed := errors.Is(err, ErrStateMismatch) || errors.Is(err, ErrStateUsed) || errors.Is(err, ErrIssuerMismatch) ||
			errors.Is(err, ErrBadCallback) || errors.Is(err, ErrBadResponse) || errors.Is(err, ErrUnsupportedTokenType) || errors.As(err, &e)
		require.True(t, typed, "untyped refusal: %v", err)
		require.NotContains(t, err.Error(), fuzzParsersSecret)
	})
}

// FuzzDailymotionCallback feeds Exchange any callback query: the code is
// exchanged only for this request's state, without iss, at most once, and
// every refusal is typed.
func FuzzDailymotionCallback(f *testing.F) {
	for _, s := range []string{"code=c", "code=c&iss=https%3A%2F%2Fx", "error=access_denied&error_description=no", "error=weird",
		"code=", "code=c&state=x", "code=c&uid=x1&sig=abc&scope=email"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, query string, rightState bool) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		rt := &fuzzTokenTransport{}
		d, err := NewDailymotion(App{ClientID: "key", ClientSecret: "secret", RedirectURL: "https://app.example/cb", Scopes: []string{"email"},
			HTTPClient: &http.Client{Transport: rt}}, DailymotionConfig{})
		require.NoError(t, err)
		ar, err := d.AuthRequest("")
		require.NoError(t, err)
		if rightState {
			q.Set("state", ar.State)
		}
		tok, err := d.Exchange(context.Background(), ar, q)
		if err == nil {
			require.NotNil(t, tok)
			require.Equal(t, 1, rt.calls)
			require.Equal(t, []string{ar.State}, q["state"])
			require.False(t, q.Has("iss"), "Dailymotion sends no iss: one is a mix-up")
		} else {
			require.Zero(t, rt.calls, "a refused callback is not exchanged")
			var e *Error
			typed := errors.Is(err, ErrStateMismatch) || errors.Is(err, ErrStateUsed) || errors.Is(err, ErrIssuerMismatch) ||
				errors.Is(err, ErrBadCallback) || errors.As(err, &e) && e.Op == "authorize"
			require.True(t, typed, "untyped refusal: %v", err)
		}
		_, err = d.Exchange(context.Background(), ar, q)
		require.Error(t, err)
		require.LessOrEqual(t, rt.calls, 1, "exchanged at most once")
	})
}
