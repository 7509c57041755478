package videoauth

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/internal/wire"
)

func newTestSimkl(t *testing.T, gen SimklGeneration, secret string) *Simkl {
	t.Helper()
	s, err := NewSimkl(App{ClientID: "cid", ClientSecret: secret, AppName: "my-app", AppVersion: "1.0",
		APIURL: "http://127.0.0.1:1", WebURL: "http://127.0.0.1:2"}, gen)
	require.NoError(t, err)
	return s
}

func TestNewSimklRefusesBadConfig(t *testing.T) {
	ok := App{ClientID: "cid", AppName: "my-app", AppVersion: "1.0"}
	for _, tc := range []struct {
		name string
		edit func(*App)
		gen  SimklGeneration
	}{
		{"no generation", func(*App) {}, 0},
		{"unknown generation", func(*App) {}, 3},
		{"no client id", func(a *App) { a.ClientID = "" }, SimklV1},
		{"no app name", func(a *App) { a.AppName = "" }, SimklV2},
		{"uppercase app name", func(a *App) { a.AppName = "MyApp" }, SimklV2},
		{"app name with space", func(a *App) { a.AppName = "my app" }, SimklV2},
		{"no app version", func(a *App) { a.AppVersion = "" }, SimklV1},
		{"http API host", func(a *App) { a.APIURL = "http://api.simkl.com" }, SimklV1},
		{"http web host", func(a *App) { a.WebURL = "http://simkl.com" }, SimklV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			tc.edit(&a)
			_, err := NewSimkl(a, tc.gen)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidConfig) || errors.Is(err, ErrInsecureEndpoint), "%v", err)
		})
	}
	s, err := NewSimkl(ok, SimklV2)
	require.NoError(t, err)
	require.Equal(t, "simkl", s.Name())
	require.Equal(t, SimklV2, s.Generation())
}

func TestSimklHostsAreSplit(t *testing.T) {
	s, err := NewSimkl(App{ClientID: "cid", AppName: "my-app", AppVersion: "1.0", RedirectURL: "https://app.example/cb"}, SimklV2)
	require.NoError(t, err)
	cfg := s.Config()
	require.True(t, strings.HasPrefix(cfg.Endpoint.AuthURL, "https://simkl.com/oauth2/authorize?"), cfg.Endpoint.AuthURL)
	require.True(t, strings.HasPrefix(cfg.Endpoint.TokenURL, "https://api.simkl.com/oauth2/token?"), cfg.Endpoint.TokenURL)
	require.True(t, strings.HasPrefix(cfg.Endpoint.DeviceAuthURL, "https://api.simkl.com/oauth2/device?"))
	ar, err := s.AuthRequest("")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ar.URL, "https://simkl.com/oauth2/authorize?"))
	require.True(t, s.Owns(&url.URL{Scheme: "https", Host: "api.simkl.com", Path: "/sync/all-items"}))
	require.False(t, s.Owns(&url.URL{Scheme: "https", Host: "simkl.com", Path: "/"}), "the consent host never gets a token")
	require.False(t, s.Owns(&url.URL{Scheme: "http", Host: "api.simkl.com"}))
	require.False(t, s.Owns(&url.URL{Scheme: "https", Host: "api.simkl.com.evil.example"}))

	v1, err := NewSimkl(App{ClientID: "cid", AppName: "my-app", AppVersion: "1.0"}, SimklV1)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(v1.Config().Endpoint.AuthURL, "https://simkl.com/oauth/authorize?"))
	require.True(t, strings.HasPrefix(v1.Config().Endpoint.TokenURL, "https://api.simkl.com/oauth/token?"))
	require.Empty(t, v1.Config().Endpoint.DeviceAuthURL)
}

func TestSimklAuthRequestURL(t *testing.T) {
	parse := func(t *testing.T, ar *AuthRequest) url.Values {
		t.Helper()
		u, err := url.Parse(ar.URL)
		require.NoError(t, err)
		require.Equal(t, 1, strings.Count(u.RawQuery, "client_id="), "client_id exactly once: %s", u.RawQuery)
		return u.Query()
	}
	t.Run("v1 confidential: state, no PKCE, no scope", func(t *testing.T) {
		ar, err := newTestSimkl(t, SimklV1, "sec").AuthRequest("http://127.0.0.1:9/cb")
		require.NoError(t, err)
		q := parse(t, ar)
		require.Equal(t, "code", q.Get("response_type"))
		require.Equal(t, "cid", q.Get("client_id"))
		require.Equal(t, "my-app", q.Get("app-name"))
		require.Equal(t, "1.0", q.Get("app-version"))
		require.Equal(t, ar.State, q.Get("state"))
		require.Empty(t, q.Get("code_challenge"))
		require.Empty(t, q.Get("scope"))
		require.Empty(t, ar.Verifier)
		require.Empty(t, ar.Issuer)
	})
	t.Run("v1 public: PKCE with S256 spelled exactly", func(t *testing.T) {
		ar, err := newTestSimkl(t, SimklV1, "").AuthRequest("http://127.0.0.1:9/cb")
		require.NoError(t, err)
		q := parse(t, ar)
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.Contains(t, ar.URL, "code_challenge_method=S256")
		require.NotEmpty(t, q.Get("code_challenge"))
		require.NotEmpty(t, ar.Verifier)
	})
	t.Run("v2: S256 always, scopes with %20, issuer expected", func(t *testing.T) {
		ar, err := newTestSimkl(t, SimklV2, "sec").AuthRequest("http://127.0.0.1:9/cb", SimklScopeRead, SimklScopeWrite)
		require.NoError(t, err)
		q := parse(t, ar)
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.Equal(t, "media:read media:write", q.Get("scope"))
		require.Contains(t, ar.URL, "scope=media%3Aread%20media%3Awrite")
		require.NotContains(t, ar.URL, "+")
		require.Equal(t, "http://127.0.0.1:2", ar.Issuer)
		require.Equal(t, []string{SimklScopeRead, SimklScopeWrite}, ar.Scopes)
	})
	t.Run("v2 default scope is media:read, stated explicitly", func(t *testing.T) {
		ar, err := newTestSimkl(t, SimklV2, "").AuthRequest("http://127.0.0.1:9/cb")
		require.NoError(t, err)
		require.Equal(t, "media:read", parse(t, ar).Get("scope"))
	})
	t.Run("a redirect URL is required", func(t *testing.T) {
		_, err := newTestSimkl(t, SimklV2, "").AuthRequest("")
		require.ErrorIs(t, err, ErrInvalidConfig)
	})
}

func TestSimklAuthorize(t *testing.T) {
	s := newTestSimkl(t, SimklV2, "")
	v2 := &Token{Provider: "simkl", AccessToken: "simkl_at_x", Meta: map[string]string{"simkl_auth": "v2"}}
	for _, tc := range []struct {
		name, in string
		want     url.Values
	}{
		{"no query", "", url.Values{"client_id": {"cid"}, "app-name": {"my-app"}, "app-version": {"1.0"}}},
		{"caller query kept", "type=movies&date_from=2026-01-01", url.Values{"type": {"movies"}, "date_from": {"2026-01-01"}, "client_id": {"cid"}, "app-name": {"my-app"}, "app-version": {"1.0"}}},
		{"present params not doubled", "client_id=cid&app-name=other", url.Values{"client_id": {"cid"}, "app-name": {"other"}, "app-version": {"1.0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://127.0.0.1:1/sync/activities?"+tc.in, nil)
			require.NoError(t, s.Authorize(r, v2))
			require.Equal(t, tc.want, r.URL.Query())
			require.Equal(t, "Bearer simkl_at_x", r.Header.Get("Authorization"))
			require.Equal(t, "my-app/1.0", r.Header.Get("User-Agent"))
			require.Equal(t, "cid", r.Header.Get("simkl-api-key"))
		})
	}
	r, _ := http.NewRequest("GET", "http://127.0.0.1:1/x", nil)
	r.Header.Set("User-Agent", "mine/2")
	require.NoError(t, s.Authorize(r, v2))
	require.Equal(t, "mine/2", r.Header.Get("User-Agent"), "the caller's User-Agent wins")

	v1 := &Token{Provider: "simkl", AccessToken: "abc", Meta: map[string]string{"simkl_auth": "v1"}}
	require.ErrorIs(t, s.Authorize(r, v1), ErrInvalidConfig, "a V1 token on the V2 provider")
	require.ErrorIs(t, s.Authorize(r, nil), ErrInvalidConfig)
}

func TestSimklGenerationOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		tok  *Token
		want SimklGeneration
	}{
		{"nil", nil, 0},
		{"vimeo", &Token{Provider: "vimeo", AccessToken: "a"}, 0},
		{"marked v1", &Token{Provider: "simkl", AccessToken: "a", Meta: map[string]string{"simkl_auth": "v1"}}, SimklV1},
		{"marked v2", &Token{Provider: "simkl", AccessToken: "a", Meta: map[string]string{"simkl_auth": "v2"}}, SimklV2},
		{"v2 by prefix", &Token{AccessToken: "simkl_at_abc"}, SimklV2},
		{"v1 by provider", &Token{Provider: "simkl", AccessToken: "0123abcd"}, SimklV1},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, SimklGenerationOf(tc.tok)) })
	}
	require.Equal(t, "v1", SimklV1.String())
	require.Equal(t, "v2", SimklV2.String())
	require.Equal(t, "SimklGeneration(7)", SimklGeneration(7).String())
}

func TestSimklVerdict(t *testing.T) {
	resp := func(status int, body string, hdr ...string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}, Body: ioNopCloser(body)}
		if len(hdr) == 2 {
			r.Header.Set(hdr[0], hdr[1])
		}
		return r
	}
	v1, v2 := newTestSimkl(t, SimklV1, ""), newTestSimkl(t, SimklV2, "")
	for _, tc := range []struct {
		name   string
		resp   func() *http.Response
		v1, v2 Verdict
	}{
		{"200", func() *http.Response { return resp(200, `{}`) }, VerdictOK, VerdictOK},
		{"401 user_token_failed", func() *http.Response { return resp(401, `{"error":"user_token_failed","code":401}`) }, VerdictRevoked, VerdictExpired},
		{"401 invalid_token header", func() *http.Response {
			return resp(401, ``, "WWW-Authenticate", `Bearer realm="api.simkl.com", error="invalid_token"`)
		}, VerdictRevoked, VerdictExpired},
		{"401 user_token_required: no token was sent, a refresh would not help", func() *http.Response {
			return resp(401, `{"error":"user_token_required","code":401}`)
		}, VerdictOK, VerdictOK},
		{"403 forbidden", func() *http.Response { return resp(403, `{"error":"forbidden","code":403}`) }, VerdictOK, VerdictOK},
		{"429", func() *http.Response { return resp(429, `{"error":"rate_limit","code":429}`) }, VerdictOK, VerdictOK},
		{"412", func() *http.Response { return resp(412, `{"error":"client_id_failed","code":412}`) }, VerdictOK, VerdictOK},
		{"400 RATE_LIMIT", func() *http.Response { return resp(400, `{"error":"RATE_LIMIT","code":400}`) }, VerdictOK, VerdictOK},
		{"502 html", func() *http.Response { return resp(502, `<html>bad gateway</html>`) }, VerdictOK, VerdictOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.resp()
			require.Equal(t, tc.v1, v1.Verdict(r))
			r = tc.resp()
			require.Equal(t, tc.v2, v2.Verdict(r))
		})
	}
	r := resp(401, `{"error":"user_token_failed","code":401}`)
	v2.Verdict(r)
	b := readAllString(t, r)
	require.Equal(t, `{"error":"user_token_failed","code":401}`, b, "Verdict leaves the body readable")
}

func TestSimklErrorMapping(t *testing.T) {
	s := newTestSimkl(t, SimklV2, "")
	for _, tc := range []struct {
		name, op  string
		status    int
		body      string
		header    http.Header
		want      []error
		wantWait  time.Duration
		wantCode  string
		wantDescr string
	}{
		{"v1 grant_error", "exchange", 401, `{"error":"grant_error"}`, nil, []error{ErrCodeUsed}, 0, "grant_error", ""},
		{"v1 secret_error", "exchange", 401, `{"error":"secret_error"}`, nil, []error{ErrInvalidClient}, 0, "secret_error", ""},
		{"v1 redirect_failed", "exchange", 403, `{"error":"redirect_failed"}`, nil, []error{ErrRedirectMismatch}, 0, "redirect_failed", ""},
		{"v1 empty_field", "exchange", 403, `{"error":"empty_field"}`, nil, []error{ErrInvalidRequest}, 0, "empty_field", ""},
		{"v2 invalid_grant on exchange", "exchange", 400, `{"error":"invalid_grant","error_description":"used"}`, nil, []error{ErrCodeUsed}, 0, "invalid_grant", "used"},
		{"v2 invalid_grant on refresh", "refresh", 400, `{"error":"invalid_grant"}`, nil, []error{ErrReauthRequired}, 0, "invalid_grant", ""},
		{"user_token_failed", "api", 401, `{"error":"user_token_failed","code":401}`, nil, []error{ErrReauthRequired}, 0, "user_token_failed", ""},
		{"429 with Retry-After", "api", 429, `{"error":"rate_limit","code":429}`, http.Header{"Retry-After": {"7"}}, []error{ErrRateLimited}, 7 * time.Second, "rate_limit", ""},
		{"429 without Retry-After", "api", 429, `{"error":"rate_limit","code":429}`, nil, []error{ErrRateLimited}, time.Second, "rate_limit", ""},
		{"412 client_id_failed", "api", 412, `{"error":"client_id_failed","code":412,"message":"Your client_id is wrong. Try another one"}`, nil, []error{ErrRateLimited, ErrInvalidClient}, time.Second, "client_id_failed", "Your client_id is wrong. Try another one"},
		{"400 RATE_LIMIT write lock", "api", 400, `{"error":"RATE_LIMIT","code":400}`, nil, []error{ErrRateLimited}, 20 * time.Second, "RATE_LIMIT", ""},
		{"502 html", "api", 502, `<html>oops</html>`, nil, []error{ErrServer}, 0, "", ""},
		{"prose in error stays out of Code", "api", 403, `{"error":"you are not allowed <b>"}`, nil, []error{ErrForbidden}, 0, "", "you are not allowed <b>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := s.refine(tc.op, s.ep.errorFrom(tc.op, "http://127.0.0.1:1/x?client_id=cid", &wire.Response{Status: tc.status, Header: tc.header, Body: []byte(tc.body)}))
			for _, w := range tc.want {
				require.ErrorIs(t, e, w)
			}
			if tc.want == nil {
				require.Nil(t, e.Err)
			}
			require.Equal(t, tc.wantCode, e.Code)
			require.Equal(t, tc.wantDescr, e.Description)
			require.Equal(t, tc.wantWait, e.RetryAfter)
			require.NotContains(t, e.Error(), tc.body)
		})
	}
}

func TestParseSimklPIN(t *testing.T) {
	good := `{"result":"OK","device_code":"DEVICE_CODE","user_code":"ABCDE","verification_uri":"https://simkl.com/pin","verification_url":"https://simkl.com/pin","expires_in":900,"interval":5}`
	pr, err := parseSimklPIN([]byte(good))
	require.NoError(t, err)
	require.Equal(t, "ABCDE", pr.UserCode)
	require.Equal(t, "https://simkl.com/pin", pr.VerificationURI)
	require.EqualValues(t, 900, pr.ExpiresIn)
	require.EqualValues(t, 5, pr.Interval)

	pr, err = parseSimklPIN([]byte(`{"user_code":"X1","verification_url":"https://simkl.com/pin"}`))
	require.NoError(t, err, "verification_url alone is accepted")
	require.Equal(t, "https://simkl.com/pin", pr.VerificationURI)

	for name, body := range map[string]string{
		"not json":             `<html>`,
		"no user code":         `{"verification_uri":"https://simkl.com/pin"}`,
		"no verification uri":  `{"user_code":"ABCDE"}`,
		"user code with slash": `{"user_code":"../token","verification_uri":"https://simkl.com/pin"}`,
		"user code too long":   `{"user_code":"` + strings.Repeat("A", 33) + `","verification_uri":"https://simkl.com/pin"}`,
		"negative interval":    `{"user_code":"ABCDE","verification_uri":"https://simkl.com/pin","interval":-1}`,
		"absurd expires_in":    `{"user_code":"ABCDE","verification_uri":"https://simkl.com/pin","expires_in":99999999}`,
		"expires_in a string":  `{"user_code":"ABCDE","verification_uri":"https://simkl.com/pin","expires_in":"900"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseSimklPIN([]byte(body))
			require.ErrorIs(t, err, ErrBadResponse)
		})
	}
}

func TestSimklPINPollResult(t *testing.T) {
	s := newTestSimkl(t, SimklV1, "")
	for _, tc := range []struct {
		name    string
		body    string
		want    pollOutcome
		wantErr error
	}{
		{"pending", `{"result":"KO","message":"Authorization pending"}`, pollPending, nil},
		{"slow down", `{"result":"KO","message":"Slow down"}`, pollSlowDown, nil},
		{"approved", `{"result":"OK","access_token":"tok"}`, pollDone, nil},
		{"code replaced by a new one", `{"result":"OK","device_code":"DEVICE_CODE","user_code":"ZZZZZ","verification_uri":"https://simkl.com/pin","expires_in":900,"interval":5}`, pollFail, ErrExpiredCode},
		{"not json", `<html>`, pollFail, ErrBadResponse},
		{"nothing known", `{"foo":1}`, pollFail, ErrBadResponse},
		{"ok with empty token", `{"result":"OK","access_token":""}`, pollFail, ErrBadResponse},
		{"ok with numeric token", `{"result":"OK","access_token":12}`, pollFail, ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, out, err := s.pinPollResult("http://127.0.0.1:1/oauth/pin/ABCDE", &wire.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(tc.body)})
			require.Equal(t, tc.want, out)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			if out == pollDone {
				require.NoError(t, err)
				require.Equal(t, "tok", tok.AccessToken)
				require.Equal(t, "Bearer", tok.TokenType)
				require.True(t, tok.Expiry.IsZero(), "PIN tokens come without expires_in")
				require.Equal(t, SimklV1, SimklGenerationOf(tok))
			}
		})
	}
}

func TestParseDeviceAuth(t *testing.T) {
	da, err := parseDeviceAuth([]byte(`{"device_code":"d","user_code":"U","verification_uri":"https://simkl.com/pin","verification_uri_complete":"https://simkl.com/pin/U","expires_in":900,"interval":5}`))
	require.NoError(t, err)
	require.Equal(t, "https://simkl.com/pin/U", da.VerificationURIComplete)
	da, err = parseDeviceAuth([]byte(`{"device_code":"d","user_code":"U","verification_url":"https://x/pin"}`))
	require.NoError(t, err)
	require.Equal(t, "https://x/pin", da.VerificationURI, "the verification_url misspelling is accepted")
	for name, body := range map[string]string{
		"no device code": `{"user_code":"U","verification_uri":"https://x"}`,
		"no user code":   `{"device_code":"d","verification_uri":"https://x"}`,
		"no uri":         `{"device_code":"d","user_code":"U"}`,
		"garbage":        `[]`,
		"huge interval":  `{"device_code":"d","user_code":"U","verification_uri":"https://x","interval":100000}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseDeviceAuth([]byte(body))
			require.ErrorIs(t, err, ErrBadResponse)
		})
	}
}

func TestRFC8628Outcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want pollOutcome
	}{
		{"pending", &Error{Status: 400, Code: "authorization_pending"}, pollPending},
		{"slow down", &Error{Status: 400, Code: "slow_down"}, pollSlowDown},
		{"429", &Error{Status: 429}, pollSlowDown},
		{"503", &Error{Status: 503}, pollRetry},
		{"network", &Error{Err: errors.New("connection refused")}, pollRetry},
		{"too large", &Error{Err: ErrTokenTooLarge}, pollFail},
		{"denied", &Error{Status: 400, Code: "access_denied"}, pollFail},
		{"expired", &Error{Status: 400, Code: "expired_token"}, pollFail},
		{"unknown", &Error{Status: 400, Code: "weird"}, pollFail},
		{"untyped", errors.New("x"), pollFail},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, rfc8628Outcome(tc.err)) })
	}
}

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func readAllString(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(b)
}
