package videoauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/internal/wire"
)

// fuzzTestNow is the fixed clock of every fuzz target.
var fuzzTestNow = time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)

const (
	fuzzTestState  = "fuzz-state-Q29kZQ"
	fuzzTestIssuer = "https://iss.example"
)

// fuzzTestTokenInvariants checks what every successfully parsed token holds.
func fuzzTestTokenInvariants(t *testing.T, tok *Token) {
	t.Helper()
	require.NotNil(t, tok)
	require.NotEmpty(t, tok.AccessToken, "a valid token has an access token")
	require.Equal(t, "Bearer", tok.TokenType)
	require.True(t, tok.Expiry.IsZero() || tok.Expiry.After(fuzzTestNow), "expiry %v is neither zero nor after now", tok.Expiry)
	require.True(t, tok.Expiry.IsZero() || !tok.Expiry.After(fuzzTestNow.Add(maxExpiresIn)), "expiry %v beyond the clamp", tok.Expiry)
	require.True(t, tok.Valid(fuzzTestNow), "a freshly parsed token is valid now")
	_, err := EncodeToken(tok)
	require.NoError(t, err, "a parsed token can be stored")
}

// fuzzTestTokenError checks that a parse failure is one of the typed errors.
func fuzzTestTokenError(t *testing.T, err error) {
	t.Helper()
	var be *tokenBodyError
	require.True(t, errors.Is(err, ErrBadResponse) || errors.Is(err, ErrUnsupportedTokenType) || errors.As(err, &be),
		"untyped parse error: %v", err)
	require.True(t, strings.HasPrefix(err.Error(), "videoauth: "), "error without prefix: %q", err)
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []struct{ body, ct string }{
		{`{"access_token":"abc","token_type":"bearer","scope":"public private","app":{"name":"x"},"user":{"uri":"/users/1"}}`, "application/json"},
		{`{"access_token":"abc","expires_in":"3600","refresh_token":"r"}`, "application/json; charset=utf-8"},
		{`{"access_token":"abc","expires_in":1e30}`, "application/json"},
		{`{"access_token":"abc","expires_in":-1}`, "application/json"},
		{`{"access_token":"abc","expires_in":"1e3","token_type":"BEARER"}`, ""},
		{`{"access_token":"abc","token_type":"mac"}`, "application/json"},
		{`{"access_token":12}`, "application/json"},
		{`{"error":"invalid_grant","error_description":"bad"}`, "application/json"},
		{`<html>502</html>`, "text/html"},
		{`access_token=abc&token_type=bearer`, "application/x-www-form-urlencoded"},
		{` {"access_token":"abc"}`, "text/plain"},
		{`[]`, "application/json"},
		{``, ""},
		{`null`, "application/json"},
		{`{"access_token":"a","scope":["a","b"],"expires_in":0.000000001}`, "application/json"},
		{`{"access_token":"a","scope":"repo,user gist+read\ta  b "}`, "application/json"},
	} {
		f.Add(s.body, s.ct)
	}
	f.Fuzz(func(t *testing.T, body, contentType string) {
		tok, err := parseToken([]byte(body), contentType, "bearer", fuzzTestNow)
		if err != nil {
			require.Nil(t, tok)
			fuzzTestTokenError(t, err)
			return
		}
		fuzzTestTokenInvariants(t, tok)
	})
}

// fuzzTestCallbackErr checks that a callback error is one of the typed ones.
func fuzzTestCallbackErr(t *testing.T, err error) {
	t.Helper()
	var e *Error
	typed := errors.Is(err, ErrStateMismatch) || errors.Is(err, ErrStateUsed) ||
		errors.Is(err, ErrIssuerMismatch) || errors.Is(err, ErrBadCallback) || errors.As(err, &e)
	require.True(t, typed, "untyped callback error: %v", err)
	if errors.As(err, &e) {
		require.Error(t, e.Err, "an *Error from a callback carries a sentinel")
	}
}

func FuzzCallback(f *testing.F) {
	for _, s := range []string{
		"state=" + fuzzTestState + "&code=abc",
		"state=" + fuzzTestState + "&error=access_denied&error_description=no",
		"state=" + fuzzTestState + "&error=server_error",
		"state=" + fuzzTestState,
		"state=" + fuzzTestState + "&state=" + fuzzTestState + "&code=abc",
		"state=" + fuzzTestState + "&code=abc&iss=" + url.QueryEscape(fuzzTestIssuer),
		"state=" + fuzzTestState + "&code=abc&iss=https://evil",
		"state=wrong&code=abc",
		"code=abc",
		"state=&code=abc",
		"state=" + fuzzTestState + "&code=%zz",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery) // a partial parse is still a callback to check
		ours := len(q["state"]) == 1 && q["state"][0] == fuzzTestState
		for _, ar := range []*AuthRequest{
			{Provider: "vimeo", State: fuzzTestState},
			{Provider: "vimeo", State: fuzzTestState, Issuer: fuzzTestIssuer, RequireIss: true},
		} {
			code, err := ar.Callback(q)
			if !ours {
				require.Empty(t, code, "a foreign state never yields a code")
				require.ErrorIs(t, err, ErrStateMismatch)
				require.False(t, ar.Used(), "a foreign state never consumes")
				continue
			}
			require.True(t, ar.Used(), "our state consumes")
			if err != nil {
				require.Empty(t, code)
				fuzzTestCallbackErr(t, err)
			} else {
				require.NotEmpty(t, code)
				require.Equal(t, q.Get("code"), code)
				require.Empty(t, q.Get("error"), "an error callback never yields a code")
				if ar.RequireIss {
					require.Equal(t, []string{fuzzTestIssuer}, q["iss"])
				}
			}
			code, err = ar.Callback(q)
			require.Empty(t, code)
			require.ErrorIs(t, err, ErrStateUsed, "single use")
		}
	})
}

func FuzzImplicitFragment(f *testing.F) {
	for _, s := range []string{
		"access_token=abc&token_type=bearer&expires_in=3600&scope=public+private&state=x",
		"access_token=abc&expires_in=1e3",
		"access_token=abc&expires_in=-1",
		"access_token=abc&token_type=mac",
		"access_token=&token_type=bearer",
		"access_token=a&access_token=b",
		"error=access_denied&error_description=no&state=x",
		"access_token=abc&user=%7B%22uri%22%3A%22%2Fusers%2F1%22%7D",
		"access_token=abc&expires_in=%20",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, fragment string) {
		q, _ := url.ParseQuery(fragment)
		tok, err := parseFragmentToken(q, "vimeo", fuzzTestNow)
		if err != nil {
			require.Nil(t, tok)
			var e *Error
			if errors.As(err, &e) {
				require.ErrorIs(t, err, ErrAccessDenied)
				require.Equal(t, "vimeo", e.Provider)
				require.Equal(t, "implicit", e.Op)
				return
			}
			fuzzTestTokenError(t, err)
			return
		}
		fuzzTestTokenInvariants(t, tok)
		require.Equal(t, "vimeo", tok.Provider)
		if utf8.ValidString(q.Get("access_token")) {
			// (JSON re-encoding turns invalid UTF-8 into U+FFFD.)
			require.Equal(t, q.Get("access_token"), tok.AccessToken)
		}
		require.NotContains(t, tok.Extra, "state", "state is not a token member")
	})
}

func FuzzVimeoErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":"Something strange occurred.","link":null,"developer_message":"The requested video couldn't be found.","error_code":5000}`,
		`{"error":"Unable to authenticate","error_code":8003}`,
		`{"error":"Unable to authenticate","error_code":"8003"}`,
		`{"error":"x","error_code":8002}`,
		`{"error":"invalid_grant","error_description":"The authorization code is invalid."}`,
		`{"error":"You must provide a valid authenticated access token."}`,
		`{"error":"invalid_token"}`,
		`{"error_code":{"a":1}}`,
		`<html>401</html>`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	v, err := NewVimeo(App{ClientID: "id"})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte) {
		code, _ := vimeoErrorShape(body)

		var e struct {
			Error            string          `json:"error"`
			ErrorDescription string          `json:"error_description"`
			ErrorCode        json.RawMessage `json:"error_code"`
		}
		decoded := json.Unmarshal(body, &e) == nil
		if !decoded {
			require.Empty(t, code, "no code from a body that is not the JSON shape")
		}
		jc := jsonCode(e.ErrorCode)
		if code != "" {
			require.True(t, safeCode(code) == code || code == jc, "code %q is neither safe nor error_code %q", code, jc)
		}

		resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		verdict := v.Verdict(resp)
		require.Contains(t, []Verdict{VerdictOK, VerdictExpired}, verdict)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, len(body), len(got), "body fully readable after Verdict")
		require.True(t, bytes.Equal(body, got), "body identical after Verdict")
		require.NoError(t, resp.Body.Close())
		if verdict == VerdictExpired && len(body) <= 4<<10 {
			require.Contains(t, []string{"8000", "8001", "8003"}, code)
		}

		ok := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		require.Equal(t, VerdictOK, v.Verdict(ok))
		got, err = io.ReadAll(ok.Body)
		require.NoError(t, err)
		require.True(t, bytes.Equal(body, got))
	})
}

// fuzzTestSensitive are the parameters whose values FuzzRedactURL checks
// by name; the differential check covers every sensitive parameter.
var fuzzTestSensitive = map[string]bool{"access_token": true, "code": true, "sig": true}

func fuzzTestAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// fuzzTestMask changes every alphanumeric byte of v to another one, keeping
// percent escapes and every other byte, so the URL's structure and encoding
// validity stay as they were.
func fuzzTestMask(v string) string {
	b := []byte(v)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '%':
			i += 2 // keep the escape's hex digits
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			if c == 'Z' {
				b[i] = 'Q'
			} else {
				b[i] = 'Z'
			}
		}
	}
	return string(b)
}

// fuzzTestMaskSensitive masks the value of every sensitive parameter in an
// '&'-separated raw part, recognising them the way redactQuery does.
func fuzzTestMaskSensitive(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, v, hasVal := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasVal && sensitiveParams[strings.ToLower(name)] {
			parts[i] = k + "=" + fuzzTestMask(v)
		}
	}
	return strings.Join(parts, "&")
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"https://api.viki.io/v4/videos.json?access_token=SECRETaccess1&app=100&sig=SIGsecret22&t=1",
		"https://u:SECRETpassword@h/p?code=CODEsecret1",
		"https://h/cb#access_token=FRAGsecret1&token_type=bearer&state=STATEsecret",
		"https://h/cb?ACCESS_TOKEN=UPPERsecret1",
		"https://h/cb?access%5Ftoken=ESCsecret12",
		"https://h/cb?code=AAAAAAAA&x=AAAAAAAA",
		"https://h/AAAAAAAAAA?code=AAAAAAAAAA",
		"https://h/cb#x=a%2Fb&code=FRAGcode1234",
		"urn:x?sig=OPAQUEsig123",
		"/relative?code=RELcode1234",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		before := u.String()
		out := RedactURL(u)
		require.Equal(t, before, u.String(), "RedactURL must not modify its argument")

		// The output must not depend on the values of sensitive parameters:
		// mask them and redact again.
		base, frag, hasFrag := strings.Cut(raw, "#")
		pre, query, hasQuery := strings.Cut(base, "?")
		raw2 := pre
		if hasQuery {
			raw2 += "?" + fuzzTestMaskSensitive(query)
		}
		if hasFrag {
			raw2 += "#" + fuzzTestMaskSensitive(frag)
		}
		u2, err := url.Parse(raw2)
		require.NoError(t, err, "masking values broke the URL %q", raw2)
		out2 := RedactURL(u2)
		require.Equal(t, out2, out, "redacted output depends on a sensitive value")

		// The checklist's form: a long alphanumeric access_token, code or sig
		// value never shows, unless it also appears elsewhere in the URL.
		lowerOut, lowerOut2 := strings.ToLower(out), strings.ToLower(out2)
		for _, part := range []string{u.RawQuery, u.EscapedFragment()} {
			vals, _ := url.ParseQuery(part)
			for k, vs := range vals {
				if !fuzzTestSensitive[strings.ToLower(k)] {
					continue
				}
				for _, val := range vs {
					if len(val) < 8 || !fuzzTestAlnum(val) || strings.Contains(lowerOut2, strings.ToLower(val)) {
						continue
					}
					require.NotContains(t, lowerOut, strings.ToLower(val), "value of %s leaked", k)
				}
			}
		}

		if back, err := url.Parse(out); err == nil {
			require.Nil(t, back.User, "user info survives redaction in %q", out)
		}
	})
}

func FuzzVimeoDevice(f *testing.F) {
	for _, s := range []string{
		`{"device_code":"dc","user_code":"ABCD","authorize_link":"https://api.vimeo.com/oauth/device/authorize","activate_link":"https://vimeo.com/activate","expires_in":600,"interval":5}`,
		`{"device_code":"dc","user_code":"ABCD","activate_link":"a"}`,
		`{"device_code":"","user_code":"ABCD","activate_link":"a"}`,
		`{"device_code":"dc","user_code":"ABCD","activate_link":"a","expires_in":-1}`,
		`{"device_code":"dc","user_code":"ABCD","activate_link":"a","interval":3601}`,
		`{"device_code":"dc","user_code":"ABCD","activate_link":"a","expires_in":"600"}`,
		`null`,
		`[]`,
		`<html>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dr, err := parseVimeoDevice(body)
		if err != nil {
			require.Nil(t, dr)
			require.ErrorIs(t, err, ErrBadResponse)
			return
		}
		require.NotEmpty(t, dr.DeviceCode)
		require.NotEmpty(t, dr.UserCode)
		require.NotEmpty(t, dr.ActivateLink)
		require.GreaterOrEqual(t, dr.ExpiresIn, int64(0))
		require.LessOrEqual(t, dr.ExpiresIn, int64(86400))
		require.GreaterOrEqual(t, dr.Interval, int64(0))
		require.LessOrEqual(t, dr.Interval, int64(3600))

		// The engine built from it waits at least 5 s and at most a day.
		clock := newStepClock()
		dc := newDeviceCode("vimeo", clock, time.Duration(dr.ExpiresIn)*time.Second, time.Duration(dr.Interval)*time.Second, nil)
		require.Positive(t, dc.Interval)
		require.True(t, dc.ExpiresAt.After(clock.Now()))
	})
}

func FuzzSimklPIN(f *testing.F) {
	for _, s := range []string{
		`{"result":"OK","device_code":"DEVICE_CODE","user_code":"ABCDE","verification_uri":"https://simkl.com/pin","verification_url":"https://simkl.com/pin","expires_in":900,"interval":5}`,
		`{"result":"KO","message":"Authorization pending"}`,
		`{"result":"KO","message":"Slow down"}`,
		`{"result":"OK","access_token":"tok"}`,
		`{"result":"OK","access_token":12}`,
		`{"user_code":"../../oauth/token","verification_uri":"https://simkl.com/pin"}`,
		`{"user_code":"ABCDE","verification_url":"x","expires_in":-5}`,
		`<html>`, ``, `null`,
	} {
		f.Add(s)
	}
	s, err := NewSimkl(App{ClientID: "cid", AppName: "fuzz", AppVersion: "1", APIURL: "http://127.0.0.1:1", WebURL: "http://127.0.0.1:2"}, SimklV1)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body string) {
		if pr, err := parseSimklPIN([]byte(body)); err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
		} else {
			require.NotEmpty(t, pr.UserCode)
			require.NotEmpty(t, pr.VerificationURI)
			_, perr := url.Parse("http://127.0.0.1:1/oauth/pin/" + pr.UserCode)
			require.NoError(t, perr)
			require.NotContains(t, pr.UserCode, "/", "the user code goes into a path")
		}
		tok, out, err := s.pinPollResult("http://127.0.0.1:1/oauth/pin/ABCDE", &wire.Response{Status: 200, Header: http.Header{}, Body: []byte(body)})
		switch out {
		case pollDone:
			require.NoError(t, err)
			fuzzTestTokenInvariants(t, tok)
		case pollPending, pollSlowDown:
			require.NoError(t, err)
			require.Nil(t, tok)
		case pollFail:
			require.Nil(t, tok)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.True(t, errors.Is(err, ErrBadResponse) || errors.Is(err, ErrExpiredCode) || errors.Is(err, ErrUnsupportedTokenType) || e.Code != "", "untyped: %v", err)
		default:
			t.Fatalf("outcome %d", out)
		}
	})
}

func FuzzDeviceAuth(f *testing.F) {
	for _, s := range []string{
		`{"device_code":"d","user_code":"U","verification_uri":"https://simkl.com/pin","verification_uri_complete":"https://simkl.com/pin/U","expires_in":900,"interval":5}`,
		`{"device_code":"d","user_code":"U","verification_url":"https://x/pin"}`,
		`{"device_code":"d","user_code":"U","verification_uri":"https://x","interval":1e9}`,
		`{"device_code":1}`, `[]`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		da, err := parseDeviceAuth([]byte(body))
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			return
		}
		require.NotEmpty(t, da.DeviceCode)
		require.NotEmpty(t, da.UserCode)
		require.NotEmpty(t, da.VerificationURI)
		require.True(t, da.ExpiresIn >= 0 && da.ExpiresIn <= 86400 && da.Interval >= 0 && da.Interval <= 3600)
	})
}

func FuzzSimklErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":"client_id_failed","code":412,"message":"Your client_id is wrong. Try another one"}`,
		`{"error":"grant_error"}`,
		`{"error":"invalid_grant","error_description":"Authorization code is invalid, expired, or already used"}`,
		`{"error":"user_token_failed","code":401}`,
		`{"error":"RATE_LIMIT","code":400}`,
		`{"error":"<script>alert(1)</script> SECRET-abc"}`,
		`{"error":"rate_limit","message":"PROSE about limits"}`,
		`{"error":12}`, `<html>502</html>`, ``,
	} {
		f.Add(s, 401)
	}
	s, err := NewSimkl(App{ClientID: "cid", AppName: "fuzz", AppVersion: "1", APIURL: "http://127.0.0.1:1", WebURL: "http://127.0.0.1:2"}, SimklV2)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body string, status int) {
		if status < 100 || status > 599 {
			return
		}
		code, desc := simklErrorShape([]byte(body)) // desc is prose: never in Error()
		require.True(t, code == "" || safeCode(code) == code, "code %q is not code-like", code)
		for _, op := range []string{"exchange", "refresh", "api"} {
			e := s.refine(op, s.ep.errorFrom(op, "http://127.0.0.1:1/x?client_id=cid&access_token=SECRET", &wire.Response{Status: status, Header: http.Header{}, Body: []byte(body)}))
			msg := e.Error()
			require.True(t, strings.HasPrefix(msg, "videoauth: simkl "), msg)
			if !strings.Contains(body, "SECRET") {
				require.NotContains(t, msg, "SECRET", "the URL's token never reaches Error()")
			}
			require.NotContains(t, e.URL, "SECRET")
			if strings.Contains(desc, "PROSE") && !strings.Contains(e.Code, "PROSE") {
				require.NotContains(t, msg, "PROSE", "prose stays out of Error()")
			}
			require.LessOrEqual(t, len(e.Body), maxErrBody)
			require.True(t, e.RetryAfter >= 0)
			if errors.Is(e, ErrRateLimited) {
				require.Positive(t, e.RetryAfter, "a Simkl rate limit always carries a wait")
			}
			require.NotPanics(t, func() {
				s.Verdict(&http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))})
			})
		}
	})
}

func FuzzVikiErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid signature","vcode":4}`,
		`{"error":"Invalid session token","vcode":11}`,
		`{"error":"stale timestamp","current_timestamp":1356482778}`,
		`{"error":"stale timestamp","current_timestamp":"1356482778"}`,
		`{"error":"invalid_grant","error_description":"bad password"}`,
		`{"message":"Not Authorized","status":403}`,
		`{"vcode":"7402"}`, `{"vcode":1e99}`, `{"token":"abc","user":{"id":"1u"}}`, `{"token":12}`,
		`<html>`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		code, _ := vikiErrorShape([]byte(body))
		require.True(t, code == "" || safeCode(code) == code, "code %q is not code-like", code)
		if n, ok := staleTimestamp([]byte(body)); ok {
			require.Positive(t, n)
		}
		e := vikiAPIRefine((&endpoint{provider: "viki", clock: realClock{}, errorShape: vikiErrorShape}).errorFrom("api", "http://127.0.0.1:1/v5/x.json?token=SESSION&sig=abc", &wire.Response{Status: 401, Header: http.Header{}, Body: []byte(body)}))
		if !strings.Contains(body, "SESSION") {
			require.NotContains(t, e.Error(), "SESSION")
		}
		require.NotContains(t, e.URL, "SESSION")
		v := (&VikiAPI{}).Verdict(&http.Response{StatusCode: 401, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))})
		require.Equal(t, v == VerdictExpired, code == "11" || code == "7402")
		tok, err := parseVikiSession([]byte(body))
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			require.Nil(t, tok)
		} else {
			require.NotEmpty(t, tok.AccessToken)
			_, merr := EncodeToken(tok)
			require.NoError(t, merr)
		}
	})
}

func FuzzVikiSigner(f *testing.F) {
	f.Add("/v4/movies.json", "sort=views", "", false)
	f.Add("/v5/users/1u.json", "token=abc&t=1&sig=zz", `{"a":1}`, true)
	f.Add("/v4/a b/ü.json", "q=%zz&&app=7&x", "\x00\xff", false)
	f.Add("", "", "", true)
	for _, headers := range []bool{false, true} {
		f.Add("/v4/x.json", "sig=1&sig=2&t=&app=", "body", headers)
	}
	f.Fuzz(func(t *testing.T, path, query, body string, headers bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		mode := VikiSignQuery
		if headers {
			mode = VikiSignHeaders
		}
		a, err := NewVikiAPI(App{ClientID: "9001", ClientSecret: "viki-app-secret", APIURL: "http://127.0.0.1:1", Clock: fixedClock(fuzzTestNow)}, mode)
		require.NoError(t, err)
		var sent *http.Request
		var sentBody []byte
		signer := a.Signer(roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			sent = r
			if r.Body != nil {
				sentBody, _ = io.ReadAll(r.Body)
				r.Body.Close()
			}
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		}))
		u := &url.URL{Scheme: "http", Host: "127.0.0.1:1", Path: path, RawQuery: query}
		var rb io.Reader
		if body != "" {
			rb = strings.NewReader(body)
		}
		req, err := http.NewRequest("POST", u.String(), rb)
		if err != nil {
			return
		}
		resp, err := signer.RoundTrip(req)
		require.NoError(t, err)
		require.Same(t, req, resp.Request, "the response points at the caller's request")
		require.Equal(t, body, string(sentBody), "the body is sent as signed")
		q := sent.URL.RawQuery
		p := sent.URL.EscapedPath()
		var msg, sig string
		if headers {
			ts := sent.Header.Get("timestamp")
			require.Equal(t, fmt.Sprint(fuzzTestNow.Unix()), ts)
			msg, sig = p+"?"+q+"&t="+ts, sent.Header.Get("signature")
			require.False(t, hasParam(q, "t") || hasParam(q, "sig"), "header mode keeps t and sig out of the URL: %q", q)
		} else {
			i := strings.LastIndex(q, "&sig=")
			require.GreaterOrEqual(t, i, 0, "sig is appended: %q", q)
			msg, sig = p+"?"+q[:i], q[i+len("&sig="):]
			require.True(t, strings.HasSuffix(q[:i], "&t="+fmt.Sprint(fuzzTestNow.Unix())) || q[:i] == "t="+fmt.Sprint(fuzzTestNow.Unix()), "t right before sig: %q", q)
		}
		require.True(t, hasParam(q, "app"), "app is in the query: %q", q)
		m := hmac.New(sha1.New, []byte("viki-app-secret"))
		m.Write([]byte(msg))
		m.Write([]byte(body))
		require.Equal(t, hex.EncodeToString(m.Sum(nil)), sig, "the signature verifies over %q", msg)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type fixedClock time.Time

func (c fixedClock) Now() time.Time                         { return time.Time(c) }
func (c fixedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
