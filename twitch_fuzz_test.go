package videoauth

import (
	"bytes"
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

// twitchFuzzProvider is a Twitch provider on a fixed clock.
func twitchFuzzProvider(t testing.TB) *Twitch {
	tw, err := NewTwitch(App{ClientID: "client", ClientSecret: "secret", Clock: fixedFuzzClock{}})
	require.NoError(t, err)
	return tw
}

// fixedFuzzClock reads one instant.
type fixedFuzzClock struct{}

func (fixedFuzzClock) Now() time.Time                       { return time.Unix(1_700_000_000, 0) }
func (fixedFuzzClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

// twitchErrorSeeds are error bodies of every shape Twitch sends, and some it
// should not.
var twitchErrorSeeds = []string{
	`{"status":400,"message":"authorization_pending"}`,
	`{"error":"Bad Request","status":400,"message":"Invalid refresh token"}`,
	`{"status":403,"message":"invalid client secret"}`,
	`{"status":400,"message":"invalid scope requested: 'foo'"}`,
	`{"status":400,"message":"Parameter redirect_uri does not match registeredURI"}`,
	`{"error":"Unauthorized","status":401,"message":"Missing scope: channel:manage:polls"}`,
	`{"error":"Unauthorized","status":401,"message":"The ID in broadcaster_id must match the user ID found in the request's OAuth token."}`,
	`{"status":400,"message":"missing device_code"}`,
	`{"status":400,"message":"missing  "}`,
	`{"status":400,"message":"MISSING \u0000x"}`,
	`{"status":"400","message":7}`,
	`{"error":"invalid_grant","error_description":"RFC style"}`,
	`{"message":""}`,
	`[]`, `null`, `<html>`, ``,
	"{\"message\":\"\xff\"}",
}

// FuzzTwitchErrorShape: any body gives a code that prints as a code (or
// none), and the sentinel of a known code is one of the package's.
func FuzzTwitchErrorShape(f *testing.F) {
	for _, s := range twitchErrorSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, desc := twitchErrorShape(body)
		require.Equal(t, code, safeCode(code), "the code is code-like or empty")
		if code == "" {
			return
		}
		if s := twitchSentinel(code); s != nil {
			require.True(t, strings.HasPrefix(s.Error(), "videoauth: "))
		}
		e := twitchRefine("refresh", &Error{Provider: "twitch", Op: "refresh", Status: 400, Code: code, Description: desc})
		bare := *e
		bare.Description = ""
		require.Equal(t, bare.Error(), e.Error(), "the service's prose never reaches Error()")
	})
}

// FuzzTwitchTokenResponse: the token endpoint's answer, whatever its status
// and body, gives a token with an access token of VSCHARs, or an *Error.
func FuzzTwitchTokenResponse(f *testing.F) {
	for _, s := range append([]string{
		`{"access_token":"rfx2uswqe8l4g1mkagrvg5tv0ks3","expires_in":14124,"refresh_token":"5b93chm6hdve3mycz05zfzatkfdenfspp1h1ar2xxdalen01","scope":["channel:moderate","chat:edit","chat:read"],"token_type":"bearer"}`,
		`{"access_token":"a","expires_in":5011271,"token_type":"bearer"}`,
		`{"access_token":"a","token_type":"bearer","scope":"chat:read chat:edit"}`,
		`{"access_token":"a","token_type":"bearer","scope":null,"expires_in":null}`,
		`{"access_token":"a","token_type":"mac"}`,
		`{"access_token":"","token_type":"bearer"}`,
		`{"access_token":"a","token_type":"bearer","scope":[1,2]}`,
	}, twitchErrorSeeds...) {
		f.Add(200, []byte(s))
		f.Add(400, []byte(s))
	}
	tw := twitchFuzzProvider(f)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 100 + (status%500+500)%500
		resp := &wire.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
		var tok *Token
		var err error
		if ok2xx(status) {
			tok, err = tw.std.ep.parse("refresh", tw.std.tokenURL, resp)
		} else {
			err = twitchRefine("refresh", tw.std.ep.errorFrom("refresh", tw.std.tokenURL, resp))
		}
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Nil(t, tok)
			bare := *e
			bare.Description, bare.Body = "", nil
			require.Equal(t, bare.Error(), e.Error(), "neither the body nor the prose reaches Error()")
			return
		}
		require.NotEmpty(t, tok.AccessToken)
		require.True(t, vschar(tok.AccessToken))
		require.Equal(t, "Bearer", tok.TokenType)
	})
}

// FuzzTwitchValidation: /oauth2/validate's answer parses or gives
// ErrBadResponse; a parsed one always names its client.
func FuzzTwitchValidation(f *testing.F) {
	for _, s := range []string{
		`{"client_id":"wbmytr93xzw8zbg0p1izqyzzc5mbiz","login":"twitchdev","scopes":["channel:read:subscriptions"],"user_id":"141981764","expires_in":5520838}`,
		`{"client_id":"c","login":null,"scopes":null,"user_id":null,"expires_in":5011271}`,
		`{"client_id":"c","scopes":[],"expires_in":0}`,
		`{"client_id":"c","login":7}`,
		`{"client_id":"c","scopes":"chat:read"}`,
		`{"client_id":"c","expires_in":-1}`,
		`{"client_id":"c","expires_in":"12"}`,
		`{"client_id":""}`,
		`{"status":401,"message":"invalid access token"}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	now := fixedFuzzClock{}.Now()
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := parseTwitchValidation(body, now)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			require.Nil(t, v)
			return
		}
		require.NotEmpty(t, v.ClientID)
		require.True(t, v.ExpiresAt.IsZero() || v.ExpiresAt.After(now))
		require.True(t, v.Scopes == nil || len(v.Scopes) > 0)
		_ = v.String()
	})
}

// FuzzTwitchImplicit: any redirect given to ImplicitToken gives a token
// with an access token, or an error; a redirect without our state never
// consumes the request.
func FuzzTwitchImplicit(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:1/cb#access_token=73d0f8mkabpbmjp921asv2jaidwxn&scope=channel%3Amanage%3Apolls+channel%3Aread%3Apolls&state=STATE&token_type=bearer",
		"#access_token=a&state=STATE&token_type=bearer",
		"access_token=a&state=STATE",
		"http://127.0.0.1:1/cb?error=access_denied&error_description=The+user+denied+you+access&state=STATE",
		"?error=redirect_mismatch&state=STATE",
		"#access_token=a&state=STATE&token_type=mac",
		"#access_token=%ff&state=STATE",
		"#state=STATE&state=STATE&access_token=a",
		"#%zz", "", "#", "?#",
	} {
		f.Add(s)
	}
	tw := twitchFuzzProvider(f)
	f.Fuzz(func(t *testing.T, redirect string) {
		ar, err := tw.ImplicitRequest("http://127.0.0.1:1/cb", "chat:read")
		require.NoError(t, err)
		redirect = strings.ReplaceAll(redirect, "STATE", ar.State)
		tok, err := tw.ImplicitToken(ar, redirect)
		if err != nil {
			require.Nil(t, tok)
			if errors.Is(err, ErrStateMismatch) {
				require.False(t, ar.Used(), "a wrong state consumes nothing")
			}
			return
		}
		require.True(t, ar.Used())
		require.NotEmpty(t, tok.AccessToken)
		require.True(t, vschar(tok.AccessToken))
		require.Equal(t, "twitch", tok.Provider)
		require.Empty(t, tok.RefreshToken)
	})
}

// FuzzTwitchVerdict: any Helix answer gets a Verdict without its body
// being consumed; only a 401 can ask for a new token.
func FuzzTwitchVerdict(f *testing.F) {
	for _, s := range twitchErrorSeeds {
		f.Add(401, []byte(s), "")
		f.Add(403, []byte(s), "")
	}
	f.Add(401, []byte(`{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`), "")
	f.Add(401, []byte(``), `Bearer error="invalid_token"`)
	f.Add(401, bytes.Repeat([]byte("x"), 5000), "")
	tw := twitchFuzzProvider(f)
	f.Fuzz(func(t *testing.T, status int, body []byte, challenge string) {
		h := http.Header{}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		v := tw.Verdict(resp)
		require.Contains(t, []Verdict{VerdictOK, VerdictExpired}, v, "Twitch never says Revoked by itself")
		if status != http.StatusUnauthorized {
			require.Equal(t, VerdictOK, v)
		}
		rest, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, body, rest, "the body is left whole")
	})
}

// FuzzTwitchRateLimitReset: Ratelimit-Reset, whatever it holds, gives a
// wait between 0 and maxRetryAfter.
func FuzzTwitchRateLimitReset(f *testing.F) {
	for _, s := range []string{"1700000060", "1699999999", "0", "-5", "9223372036854775807", "1.5e9", " 1700000001 ", "abc", ""} {
		f.Add(s)
	}
	now := fixedFuzzClock{}.Now()
	f.Fuzz(func(t *testing.T, v string) {
		d := twitchRateLimitReset(http.Header{"Ratelimit-Reset": {v}}, now)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, maxRetryAfter)
	})
}

// FuzzTwitchDevice: the /oauth2/device answer checked as Device checks it
// never panics, and a verification URI that passes is on a Twitch host.
func FuzzTwitchDevice(f *testing.F) {
	for _, s := range []string{
		`{"device_code":"OFqYhSzNYdGVzhda2QXv4EchufyJxNDRyzTJrmUA","expires_in":1800,"interval":5,"user_code":"JLLKTXWJ","verification_uri":"https://www.twitch.tv/activate?device-code=JLLKTXWJ"}`,
		`{"device_code":"d","expires_in":1800,"interval":5,"user_code":"ABCDEFGH","verification_uri":"https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH"}`,
		`{"device_code":"d","user_code":"U","verification_uri":"https://evil.example/activate"}`,
		`{"device_code":"d","user_code":"U","verification_uri":"javascript:alert(1)"}`,
		`{"device_code":"d","user_code":"U","verification_uri":"https://twitch.tv/activate","interval":-1}`,
		`{"status":400,"message":"invalid client"}`,
		`{}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	tw := twitchFuzzProvider(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		da, err := parseDeviceAuth(body)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			return
		}
		dc := newDeviceCode("twitch", fixedFuzzClock{}, time.Duration(da.ExpiresIn)*time.Second, time.Duration(da.Interval)*time.Second, nil)
		dc.UserCode, dc.VerificationURI = da.UserCode, da.VerificationURI
		if err := checkDeviceCode(dc, tw.hosts); err != nil {
			require.ErrorIs(t, err, ErrBadVerificationURI)
			return
		}
		u, err := url.Parse(dc.VerificationURI)
		require.NoError(t, err)
		require.Equal(t, "https", u.Scheme)
		require.Contains(t, []string{"www.twitch.tv", "twitch.tv", "id.twitch.tv", "api.twitch.tv"}, canonHost(u), dc.VerificationURI)
	})
}
