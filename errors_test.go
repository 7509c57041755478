package videoauth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// errTestNow is the fixed "now" of the Retry-After tests.
var errTestNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// errTestParse parses raw or fails the test.
func errTestParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err, raw)
	return u
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{
			name: "viki query token and signature",
			raw:  "https://api.viki.io/v4/videos.json?access_token=SECRETaccess1&app=100&sig=SECRETsig2&t=1700000000",
			want: "https://api.viki.io/v4/videos.json?access_token=REDACTED&app=100&sig=REDACTED&t=1700000000",
		},
		{name: "token", raw: "https://h/p?token=SECRET1", want: "https://h/p?token=REDACTED"},
		{name: "code and state", raw: "https://h/cb?code=SECRETcode&state=SECRETstate&x=1", want: "https://h/cb?code=REDACTED&state=REDACTED&x=1"},
		{name: "client_secret", raw: "https://h/t?client_id=cid&client_secret=SECRET", want: "https://h/t?client_id=cid&client_secret=REDACTED"},
		{name: "password", raw: "https://h/t?username=u&password=SECRET", want: "https://h/t?username=u&password=REDACTED"},
		{name: "refresh_token", raw: "https://h/t?refresh_token=SECRET&grant_type=refresh_token", want: "https://h/t?refresh_token=REDACTED&grant_type=refresh_token"},
		{name: "other credentials", raw: "https://h/t?code_verifier=A&device_code=B&id_token=C&api_key=D&signature=E&key=F&secret=G&assertion=H&fb_access_token=I&facebook_token=J", want: "https://h/t?code_verifier=REDACTED&device_code=REDACTED&id_token=REDACTED&api_key=REDACTED&signature=REDACTED&key=REDACTED&secret=REDACTED&assertion=REDACTED&fb_access_token=REDACTED&facebook_token=REDACTED"},
		{name: "upper case key", raw: "https://h/p?ACCESS_TOKEN=SECRET&Code=SECRET2", want: "https://h/p?ACCESS_TOKEN=REDACTED&Code=REDACTED"},
		{name: "escaped key", raw: "https://h/p?access%5Ftoken=SECRET&%63ode=SECRET2", want: "https://h/p?access%5Ftoken=REDACTED&%63ode=REDACTED"},
		{name: "repeated key", raw: "https://h/p?code=A1&code=B2", want: "https://h/p?code=REDACTED&code=REDACTED"},
		{name: "value holding equals", raw: "https://h/p?code=a=b", want: "https://h/p?code=REDACTED"},
		{name: "empty value", raw: "https://h/p?code=&x=1", want: "https://h/p?code=REDACTED&x=1"},
		{name: "key without value", raw: "https://h/p?code&x=1", want: "https://h/p?code&x=1"},
		{name: "similar names kept", raw: "https://h/p?tokens=1&my_code=2&state_x=3", want: "https://h/p?tokens=1&my_code=2&state_x=3"},
		{name: "non-sensitive kept verbatim", raw: "https://h/p?page=2&per_page=10&fields=uri%2Cname&q=a+b", want: "https://h/p?page=2&per_page=10&fields=uri%2Cname&q=a+b"},
		{name: "user info dropped", raw: "https://user:SECRETpass@h/p?x=1", want: "https://h/p?x=1"},
		{name: "user without password dropped", raw: "https://SECRETuser@h/p", want: "https://h/p"},
		{name: "fragment token", raw: "https://h/cb#access_token=SECRET&token_type=bearer&state=S2&expires_in=3600", want: "https://h/cb#access_token=REDACTED&token_type=bearer&state=REDACTED&expires_in=3600"},
		{name: "fragment and query", raw: "https://h/cb?code=A#access_token=B", want: "https://h/cb?code=REDACTED#access_token=REDACTED"},
		{name: "fragment without params", raw: "https://h/p#section", want: "https://h/p#section"},
		{name: "no query", raw: "https://h/p", want: "https://h/p"},
		{name: "path kept", raw: "https://h/users/4242/videos", want: "https://h/users/4242/videos"},
		{name: "opaque with query", raw: "urn:x?code=A", want: "urn:x?code=REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, RedactURL(errTestParse(t, tc.raw)))
		})
	}
	t.Run("nil", func(t *testing.T) {
		require.Equal(t, "", RedactURL(nil))
	})
	t.Run("input not modified", func(t *testing.T) {
		u := errTestParse(t, "https://u:p@h/p?code=A#access_token=B")
		before := u.String()
		_ = RedactURL(u)
		require.Equal(t, before, u.String())
	})
	t.Run("fragment escapes kept", func(t *testing.T) {
		got := RedactURL(errTestParse(t, "https://h/cb#access_token=SECRET&x=a%2Fb"))
		require.NotContains(t, got, "SECRET")
		require.Equal(t, "https://h/cb#access_token=REDACTED&x=a%2Fb", got, "escapes kept, not doubled")
	})
}

func TestRedactErr(t *testing.T) {
	secretURL := "https://api.viki.io/v4/videos.json?access_token=SECRETtok&app=100"
	inner := errors.New("connection refused")
	tests := []struct {
		name    string
		err     error
		wantURL string // "" when err is not a *url.Error chain
	}{
		{name: "url error", err: &url.Error{Op: "Get", URL: secretURL, Err: inner}, wantURL: "https://api.viki.io/v4/videos.json?access_token=REDACTED&app=100"},
		{name: "wrapped url error", err: fmt.Errorf("send: %w", &url.Error{Op: "Post", URL: secretURL, Err: inner}), wantURL: "https://api.viki.io/v4/videos.json?access_token=REDACTED&app=100"},
		{name: "user info", err: &url.Error{Op: "Get", URL: "https://u:SECRETpw@h/p", Err: inner}, wantURL: "https://h/p"},
		{name: "unparsable url", err: &url.Error{Op: "Get", URL: "http://[::1%zz/SECRET?access_token=SECRET", Err: inner}, wantURL: "(unparsable URL)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redactErr(tc.err)
			var ue *url.Error
			require.ErrorAs(t, got, &ue)
			require.Equal(t, tc.wantURL, ue.URL)
			require.NotContains(t, got.Error(), "SECRET")
			require.ErrorIs(t, got, inner)
		})
	}
	t.Run("other errors pass", func(t *testing.T) {
		plain := errors.New("plain")
		require.Same(t, plain, redactErr(plain))
		require.NoError(t, redactErr(nil))
	})
	t.Run("transportError", func(t *testing.T) {
		u := errTestParse(t, secretURL)
		err := transportError("viki", "api", u, &url.Error{Op: "Get", URL: secretURL, Err: inner})
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "https://api.viki.io/v4/videos.json?access_token=REDACTED&app=100", e.URL)
		require.NotContains(t, err.Error(), "SECRET")
		require.NotContains(t, fmt.Sprintf("%+v", err), "SECRET")
		require.ErrorIs(t, err, inner)
	})
}

func TestErrorStringHidesSecrets(t *testing.T) {
	const s = "SENTINEL-err-9d1"
	e := &Error{
		Provider:    "vimeo",
		Op:          "exchange",
		Status:      400,
		Code:        "invalid_grant",
		Description: "the code " + s + " is bad",
		URL:         "https://api.vimeo.com/oauth/access_token?code=" + s,
		RetryAfter:  time.Second,
		Body:        []byte(`{"error":"invalid_grant","access_token":"` + s + `"}`),
		Err:         ErrCodeUsed,
	}
	require.Equal(t, "videoauth: vimeo exchange: HTTP 400: invalid_grant: authorization code invalid or already used", e.Error())
	for _, verb := range []string{"%v", "%+v", "%s", "%q", "%x"} {
		require.NotContains(t, fmt.Sprintf(verb, e), s, verb)
		require.NotContains(t, fmt.Sprintf(verb, fmt.Errorf("wrapped: %w", e)), s, verb)
	}
	// Every verb, the Go-syntax one and the non-string ones included, stays
	// off Description, URL secrets and Body.
	for _, verb := range []string{"%#v", "%d", "%x", "%X", "%T %v", "%+q", "%10s"} {
		require.NotContains(t, fmt.Sprintf(verb, e), s, verb)
		require.NotContains(t, fmt.Sprintf(verb, fmt.Errorf("wrapped: %w", e)), s, verb)
	}
	require.Contains(t, fmt.Sprintf("%#v", e), `Code:"invalid_grant"`)
	require.Contains(t, fmt.Sprintf("%#v", e), "code=REDACTED")
	require.Equal(t, "(*videoauth.Error)(nil)", fmt.Sprintf("%#v", (*Error)(nil)))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("failed", "err", e)
	slog.New(slog.NewTextHandler(&buf, nil)).Error("failed", "err", e)
	slog.New(slog.NewTextHandler(&buf, nil)).Error("failed", slog.Any("err", error(e)))
	require.NotContains(t, buf.String(), s)
	require.Contains(t, buf.String(), "invalid_grant")

	t.Run("code that is prose is dropped", func(t *testing.T) {
		e := &Error{Provider: "vimeo", Code: "bad " + s, Err: ErrAccessDenied}
		require.Equal(t, "videoauth: vimeo: access denied", e.Error())
	})
	t.Run("minimal", func(t *testing.T) {
		require.Equal(t, "videoauth: viki", (&Error{Provider: "viki"}).Error())
		require.Equal(t, "videoauth: viki api: HTTP 502: server error", (&Error{Provider: "viki", Op: "api", Status: 502, Err: ErrServer}).Error())
	})
}

func TestErrorIsAndAs(t *testing.T) {
	e := &Error{Provider: "vimeo", Op: "authorize", Code: "access_denied", Err: ErrAccessDenied}
	require.ErrorIs(t, e, ErrAccessDenied)
	require.NotErrorIs(t, e, ErrReauthRequired)
	wrapped := fmt.Errorf("login: %w", e)
	require.ErrorIs(t, wrapped, ErrAccessDenied)
	var got *Error
	require.ErrorAs(t, wrapped, &got)
	require.Same(t, e, got)
	require.Equal(t, ErrAccessDenied, e.Unwrap())
	require.NotErrorIs(t, &Error{Provider: "vimeo"}, ErrAccessDenied)

	// A transport error inside keeps its own chain.
	tr := &Error{Provider: "vimeo", Err: io.ErrUnexpectedEOF}
	require.ErrorIs(t, tr, io.ErrUnexpectedEOF)
}

func TestSafeCode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "rfc code", in: "invalid_grant", want: "invalid_grant"},
		{name: "vimeo number", in: "8003", want: "8003"},
		{name: "dots colons dashes", in: "a.b:c-d_e", want: "a.b:c-d_e"},
		{name: "64 chars", in: strings.Repeat("a", 64), want: strings.Repeat("a", 64)},
		{name: "65 chars", in: strings.Repeat("a", 65), want: ""},
		{name: "empty", in: "", want: ""},
		{name: "space", in: "invalid grant", want: ""},
		{name: "prose", in: "You must provide a valid authenticated access token.", want: ""},
		{name: "html", in: "<script>", want: ""},
		{name: "newline", in: "x\ny", want: ""},
		{name: "equals", in: "access_token=x", want: ""},
		{name: "non-ascii", in: "caf\u00e9", want: ""},
		{name: "nul", in: "a\x00", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, safeCode(tc.in))
		})
	}
}

func TestSentinelFor(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   error
	}{
		{code: "access_denied", want: ErrAccessDenied},
		{code: "authorization_declined", want: ErrAccessDenied},
		{code: "invalid_grant", status: 400, want: ErrCodeUsed},
		{code: "expired_token", want: ErrExpiredCode},
		{code: "unsupported_grant_type", want: ErrUnsupportedGrant},
		{code: "invalid_client", status: 401, want: ErrInvalidClient},
		{code: "unauthorized_client", want: ErrInvalidClient},
		{code: "slow_down", want: ErrRateLimited},
		{code: "rate_limit", want: ErrRateLimited},
		{code: "rate_limited", want: ErrRateLimited},
		{code: "invalid_grant", status: 500, want: ErrCodeUsed},
		{code: "", status: 429, want: ErrRateLimited},
		{code: "something", status: 429, want: ErrRateLimited},
		{code: "", status: 500, want: ErrServer},
		{code: "", status: 503, want: ErrServer},
		{code: "", status: 400, want: nil},
		{code: "", status: 0, want: nil},
		{code: "invalid_scope", status: 400, want: nil},
		{code: "server_error", status: 0, want: nil},
		{code: "ACCESS_DENIED", status: 0, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.code+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			require.Equal(t, tc.want, sentinelFor(tc.code, tc.status))
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{name: "none", header: nil, want: 0},
		{name: "seconds", header: map[string]string{"Retry-After": "120"}, want: 120 * time.Second},
		{name: "seconds padded", header: map[string]string{"Retry-After": " 7 "}, want: 7 * time.Second},
		{name: "zero", header: map[string]string{"Retry-After": "0"}, want: 0},
		{name: "negative", header: map[string]string{"Retry-After": "-5"}, want: 0},
		{name: "fraction", header: map[string]string{"Retry-After": "1.5"}, want: 0},
		{name: "http date", header: map[string]string{"Retry-After": errTestNow.Add(90 * time.Second).Format(http.TimeFormat)}, want: 90 * time.Second},
		{name: "http date past", header: map[string]string{"Retry-After": errTestNow.Add(-90 * time.Second).Format(http.TimeFormat)}, want: 0},
		{name: "garbage", header: map[string]string{"Retry-After": "soon"}, want: 0},
		{name: "reset unix", header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(errTestNow.Add(30*time.Second).Unix(), 10)}, want: 30 * time.Second},
		{name: "reset unix past", header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(errTestNow.Add(-30*time.Second).Unix(), 10)}, want: 0},
		{name: "reset rfc3339", header: map[string]string{"X-RateLimit-Reset": errTestNow.Add(45 * time.Second).Format(time.RFC3339)}, want: 45 * time.Second},
		{name: "reset rfc3339 offset", header: map[string]string{"X-RateLimit-Reset": errTestNow.Add(45 * time.Second).In(time.FixedZone("X", -5*3600)).Format(time.RFC3339)}, want: 45 * time.Second},
		{name: "reset rfc3339 past", header: map[string]string{"X-RateLimit-Reset": errTestNow.Add(-45 * time.Second).Format(time.RFC3339)}, want: 0},
		{name: "reset garbage", header: map[string]string{"X-RateLimit-Reset": "tomorrow"}, want: 0},
		{name: "retry-after wins", header: map[string]string{"Retry-After": "3", "X-RateLimit-Reset": strconv.FormatInt(errTestNow.Add(time.Hour).Unix(), 10)}, want: 3 * time.Second},
		{name: "bad retry-after falls back", header: map[string]string{"Retry-After": "soon", "X-RateLimit-Reset": strconv.FormatInt(errTestNow.Add(time.Minute).Unix(), 10)}, want: time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			require.Equal(t, tc.want, retryAfter(h, errTestNow))
		})
	}
	t.Run("huge seconds", func(t *testing.T) {
		h := http.Header{"Retry-After": {"9223372037"}}
		require.Equal(t, maxRetryAfter, retryAfter(h, errTestNow), "capped, not overflowed to a negative wait")
	})
}
