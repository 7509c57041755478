package videoauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/internal/wire"
)

// Fuzz targets for every parser of youtube.go, and the tests of its
// unexported pieces.

func fuzzYouTube(t testing.TB) *YouTube {
	t.Helper()
	y, err := NewYouTube(App{ClientID: "id", ClientSecret: "secret", Clock: fixedClock(fuzzTestNow)})
	require.NoError(t, err)
	return y
}

// ytAPIBody is a YouTube API error envelope with reason.
func ytAPIBody(status int, reason string) string {
	return `{"error":{"code":` + strconv.Itoa(status) + `,"message":"m ` + fuzzParsersSecret + `","errors":[{"message":"m","domain":"global","reason":"` + reason + `"}],"status":"S"}}`
}

func FuzzYouTubeErrorShape(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`,
		`{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_subtype":"invalid_rapt"}`,
		`{"error_code":"rate_limit_exceeded"}`,
		ytAPIBody(403, "quotaExceeded"),
		ytAPIBody(401, "authError"),
		`{"error":{"code":401,"message":"x","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CREDENTIALS_MISSING"}]}}`,
		`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}`,
		`{"error":{"errors":[{"reason":7},{"reason":"second"}]}}`,
		`{"error":{"errors":"x","details":{}}}`,
		`{"error":"` + fuzzParsersSecret + ` is not a code"}`,
		`{"error":12,"error_code":["x"],"error_description":{}}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, desc := youtubeErrorShape(body)
		require.Equal(t, safeCode(code), code, "a code is code-like or empty")
		_ = desc
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			if s, ok := jsonString(m["error"]); ok {
				require.Equal(t, safeCode(s), code, "the RFC 6749 error member is the code")
			}
		}
		sub := youtubeErrorSubtype(body)
		require.Equal(t, safeCode(sub), sub)
	})
}

func FuzzYouTubeVerdict(f *testing.F) {
	for _, s := range []struct {
		status          int
		challenge, body string
	}{
		{401, `Bearer realm="https://accounts.google.com/", error="invalid_token"`, ytAPIBody(401, "authError")},
		{401, `Bearer realm="https://accounts.google.com/"`, ytAPIBody(401, "required")},
		{401, `Bearer error="invalid_token"`, ytAPIBody(401, "youtubeSignupRequired")},
		{401, `Bearer error=invalid_token`, `<html>`},
		{403, `Bearer error="insufficient_scope"`, ytAPIBody(403, "quotaExceeded")},
		{429, ``, ytAPIBody(429, "rateLimitExceeded")},
		{200, ``, `{}`},
	} {
		f.Add(s.status, s.challenge, []byte(s.body))
	}
	y := fuzzYouTube(f)
	f.Fuzz(func(t *testing.T, status int, challenge string, body []byte) {
		h := http.Header{}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		v := y.Verdict(resp)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.True(t, bytes.Equal(body, got), "Verdict leaves the body whole")
		require.NotEqual(t, VerdictRevoked, v, "a grant is declared dead by a refresh, never by an API answer")
		if v == VerdictExpired {
			require.Equal(t, http.StatusUnauthorized, status, "only a 401 is a rejected token")
			code, _ := youtubeErrorShape(body)
			require.NotContains(t, []string{"youtubeSignupRequired", "authorizationRequired", "required", "CREDENTIALS_MISSING"}, code)
		}
	})
}

func FuzzYouTubeTokenResponse(f *testing.F) {
	fuzzParsersTokenSeeds(f,
		[2]string{`{"access_token":"ya29.` + fuzzParsersSecret + `","expires_in":3599,"refresh_token":"1//` + fuzzParsersSecret + `","scope":"https://www.googleapis.com/auth/youtube.readonly","token_type":"Bearer","refresh_token_expires_in":604799}`, "application/json; charset=utf-8"},
		[2]string{`{"access_token":"ya29.` + fuzzParsersSecret + `","expires_in":3599,"token_type":"Bearer","refresh_token_expires_in":"604799"}`, "application/json"},
		[2]string{`{"access_token":"ya29.` + fuzzParsersSecret + `","refresh_token_expires_in":-5}`, "application/json"},
		[2]string{`{"access_token":"ya29.` + fuzzParsersSecret + `","refresh_token_expires_in":1e300}`, "application/json"},
		[2]string{`{"access_token":"ya29.` + fuzzParsersSecret + `","refresh_token_expires_in":{"x":1}}`, "application/json"},
		[2]string{`{"error":"invalid_grant","error_subtype":"invalid_rapt","refresh_token":"` + fuzzParsersSecret + `"}`, "application/json"},
		[2]string{`{"error":"admin_policy_enforced"}`, "application/json"},
		[2]string{`{"error":"rate_limit_exceeded"}`, "application/json"},
	)
	y := fuzzYouTube(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, op := range []string{"exchange", "refresh", "device_poll"} {
			tok, err := fuzzParsersParse(t, y.ep, op, y.std.tokenURL, body, contentType)
			if err != nil {
				err = y.refineErr(op, err, &Token{RefreshToken: "1//" + fuzzParsersSecret, Meta: map[string]string{youtubeRefreshExpiryKey: "x"}})
				fuzzParsersTokenFailure(t, tok, err, "youtube", op, body)
				continue
			}
			fuzzParsersTokenSuccess(t, tok, "youtube", body)
			y.finish(tok, nil, op, nil)
			if end, ok := YouTubeRefreshExpiry(tok); ok {
				require.True(t, end.After(fuzzTestNow), "a refresh token's end is after now")
				require.True(t, end.Before(fuzzTestNow.Add(maxExpiresIn)))
			} else {
				require.NotContains(t, tok.Meta, youtubeRefreshExpiryKey)
			}
			_, err = EncodeToken(tok)
			require.NoError(t, err)
		}
	})
}

func FuzzYouTubeErrorResponse(f *testing.F) {
	for _, s := range []struct {
		status     int
		body, wait string
	}{
		{400, `{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_subtype":"invalid_rapt"}`, ""},
		{403, `{"error_code":"rate_limit_exceeded"}`, ""},
		{403, ytAPIBody(403, "quotaExceeded"), ""},
		{403, ytAPIBody(403, "rateLimitExceeded"), ""},
		{429, ytAPIBody(429, "rateLimitExceeded"), "3"},
		{401, ytAPIBody(401, "youtubeSignupRequired"), ""},
		{401, ytAPIBody(401, "authError"), ""},
		{400, ytAPIBody(400, "badRequest"), ""},
		{502, `<html>access_token=` + fuzzParsersSecret + `</html>`, ""},
		{500, ``, "x"},
	} {
		f.Add(s.status, []byte(s.body), s.wait)
	}
	y := fuzzYouTube(f)
	f.Fuzz(func(t *testing.T, status int, body []byte, wait string) {
		if status < 300 || status > 999 {
			return
		}
		if n, err := strconv.Atoi(strings.TrimSpace(wait)); err == nil && n > 1<<32 {
			return // the Retry-After overflow FuzzRetryAfter documents
		}
		h := http.Header{}
		if wait != "" {
			h.Set("Retry-After", wait)
		}
		resp := &wire.Response{Status: status, Header: h, Body: body}
		for _, op := range []string{"refresh", "device", "revoke", "api"} {
			e := y.ep.errorFrom(op, y.std.tokenURL, resp)
			if op == "api" {
				y.refineAPI(e)
			} else {
				y.refine(op, e, nil)
			}
			require.GreaterOrEqual(t, e.RetryAfter, time.Duration(0))
			require.LessOrEqual(t, e.RetryAfter, 25*time.Hour)
			msg := e.Error()
			require.True(t, strings.HasPrefix(msg, "videoauth: youtube "+op), msg)
			require.NotContains(t, msg, "\n")
			fuzzParsersNoLeak(t, msg, e, body)
			if errors.Is(e, ErrQuotaExceeded) {
				require.ErrorIs(t, e, ErrRateLimited)
				if op == "api" {
					require.Positive(t, e.RetryAfter, "a quota answer says when it resets")
				}
			}
			if status >= 500 {
				require.NotNil(t, e.Err, "a 5xx is typed")
			}
		}
	})
}

func FuzzParseYouTubeIdentity(f *testing.F) {
	for _, s := range []string{
		`{"kind":"youtube#channelListResponse","items":[{"kind":"youtube#channel","id":"UCfakeChannel0123456789","snippet":{"title":"T"}}]}`,
		`{"kind":"youtube#channelListResponse","pageInfo":{"totalResults":0}}`,
		`{"items":[]}`, `{"items":[{"id":7}]}`, `{"items":[{"id":"UC x"}]}`, `{"items":["x"]}`,
		`{"items":[{"id":"UC1","snippet":{"title":5}}]}`, `{"items":[{"id":"UC1","snippet":"x"}]}`,
		`{"items":[{"id":"UC1","access_token":"` + fuzzParsersSecret + `"}]}`, `{"items":{}}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseYouTubeIdentity(body)
		if err != nil {
			require.Nil(t, id)
			require.True(t, errors.Is(err, ErrBadResponse) || errors.Is(err, ErrChannelRequired), "untyped: %v", err)
			return
		}
		require.Equal(t, "youtube", id.Provider)
		require.NotEmpty(t, id.UserID)
		require.Equal(t, safeCode(id.UserID), id.UserID)
		if id.User != nil {
			require.True(t, json.Valid(id.User))
			// A user object with a credential member is dropped; the secret
			// may still be there as a value of another member (the channel
			// id, a title), which is not a credential.
			var members map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(id.User, &members))
			for _, k := range []string{"access_token", "refresh_token", "id_token", "token", "client_secret", "password"} {
				require.NotContains(t, members, k, "a user object with a credential member is dropped")
			}
		}
	})
}

func FuzzYouTubeRedirect(f *testing.F) {
	for _, s := range []string{
		"https://app.example/callback", "http://127.0.0.1:8080/callback", "http://[::1]:1/", "http://localhost", "http://localhost:0",
		"urn:ietf:wg:oauth:2.0:oob", "com.example:/cb", "http://evil.example/", "https://a/#x", "", "//x", "http://127.0.0.1:/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := checkYouTubeRedirect(raw)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.NotContains(t, err.Error(), raw+"x", "the message quotes nothing of the URL")
			return
		}
		u, perr := url.Parse(raw)
		require.NoError(t, perr)
		require.True(t, u.IsAbs())
		require.NotEmpty(t, u.Host)
		require.False(t, strings.Contains(raw, "#"))
		if u.Scheme == "http" {
			require.True(t, wire.IsLoopback(u.Hostname()), "plain http only to loopback")
			require.NotEmpty(t, u.Port())
		} else {
			require.Equal(t, "https", u.Scheme)
		}
	})
}

func FuzzYouTubeOwns(f *testing.F) {
	for _, s := range []string{
		"https://www.googleapis.com/youtube/v3/channels", "https://youtube.googleapis.com/upload/youtube/v3/videos",
		"https://www.googleapis.com/drive/v3/files", "https://www.googleapis.com/youtube/../drive", "https://WWW.googleapis.com:443/youtube/x",
		"https://www.googleapis.com:444/youtube/x", "http://www.googleapis.com/youtube/x", "https://www.googleapis.com.evil/youtube/",
	} {
		f.Add(s)
	}
	y := fuzzYouTube(f)
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if !y.Owns(u) {
			return
		}
		require.Equal(t, "https", strings.ToLower(u.Scheme))
		require.Contains(t, []string{"www.googleapis.com", "youtube.googleapis.com"}, strings.ToLower(u.Hostname()))
		require.Equal(t, "443", originPort(u))
		c := path.Clean(u.Path)
		require.True(t, strings.HasPrefix(c, "/youtube/") || strings.HasPrefix(c, "/upload/youtube/"), c)
	})
}

func FuzzNextPacificMidnight(f *testing.F) {
	for _, s := range []int64{0, fuzzTestNow.Unix(), 1773568800, 1762074000, 1741514399, 1741514400, 1762678799, -1 << 40, 1 << 40} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sec int64) {
		if sec < -1<<50 || sec > 1<<50 {
			return
		}
		now := time.Unix(sec, 0).UTC()
		next := nextPacificMidnight(now)
		require.True(t, next.After(now), "%v after %v", next, now)
		require.LessOrEqual(t, next.Sub(now), 25*time.Hour)
		wall := next.Add(pacificOffset(next))
		require.Zero(t, wall.Hour()*3600+wall.Minute()*60+wall.Second(), "%v is midnight Pacific Time", next)
	})
}

// TestYouTubePacificTimeMatchesTZDatabase checks the computed offsets and
// midnights against the time zone database, where the machine has it.
func TestYouTubePacificTimeMatchesTZDatabase(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for at := time.Date(2008, 1, 1, 0, 30, 0, 0, time.UTC); at.Year() < 2040; at = at.Add(97 * time.Minute) {
		_, off := at.In(la).Zone()
		require.Equal(t, time.Duration(off)*time.Second, pacificOffset(at), "offset at %v", at)
		next := nextPacificMidnight(at)
		l := at.In(la)
		want := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, la)
		require.True(t, want.Equal(next), "next midnight after %v: %v, want %v", at, next, want)
	}
}

func TestYouTubeDeadGrantReasons(t *testing.T) {
	y := fuzzYouTube(t)
	end := fuzzTestNow.Add(-time.Hour).Format(time.RFC3339)
	testing7 := &Token{Meta: map[string]string{youtubeRefreshExpiryKey: end,
		youtubeGrantStartKey: fuzzTestNow.Add(-time.Hour - 7*24*time.Hour).Format(time.RFC3339)}}
	timed := &Token{Meta: map[string]string{youtubeRefreshExpiryKey: end,
		youtubeGrantStartKey: fuzzTestNow.Add(-30 * 24 * time.Hour).Format(time.RFC3339)}}
	alive := &Token{Meta: map[string]string{youtubeRefreshExpiryKey: fuzzTestNow.Add(time.Hour).Format(time.RFC3339)}}
	require.Contains(t, y.deadGrant("invalid_rapt", testing7), "invalid_rapt")
	require.Contains(t, y.deadGrant("", testing7), "Testing mode")
	require.Contains(t, y.deadGrant("", timed), "time-based access")
	require.Contains(t, y.deadGrant("", alive), "revoked")
	require.Contains(t, y.deadGrant("", nil), "revoked")
}
