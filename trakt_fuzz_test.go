package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/internal/wire"
)

// fuzzTrakt is the provider every Trakt fuzz target parses with.
func fuzzTrakt(tb testing.TB) *Trakt {
	tb.Helper()
	p, err := NewTrakt(App{ClientID: "cid", UserAgent: "fuzz/1", Clock: fixedClock(fuzzTestNow)})
	require.NoError(tb, err)
	return p
}

// FuzzTraktTokenResponse: Trakt's token answers (exchange, refresh, device
// poll) through the provider's own parse, created_at included.
func FuzzTraktTokenResponse(f *testing.F) {
	now := strconv.FormatInt(fuzzTestNow.Unix(), 10)
	fuzzParsersTokenSeeds(f,
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","token_type":"bearer","expires_in":604800,"refresh_token":"` + fuzzParsersSecret + `-R","scope":"public offline_access","created_at":` + now + `}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_in":604800,"created_at":"` + now + `"}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_in":604800,"created_at":1}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_in":604800,"created_at":99999999999999999999}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_in":604800,"created_at":-5}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","expires_in":"604800","created_at":1.5e9}`, "application/json"},
		[2]string{`{"access_token":"` + fuzzParsersSecret + `","created_at":` + now + `}`, "application/json"},
		[2]string{`{"error":"invalid_grant","error_description":"session not found"}`, "application/json"},
		[2]string{`{"error":"invalid_request","error_description":"redirect_uri mismatch"}`, "application/json"},
	)
	p := fuzzTrakt(f)
	u := p.authPath("/oauth/token")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, op := range []string{"exchange", "refresh", "device_poll"} {
			buf := bytes.Clone(body)
			tok, err := p.parse(op, u, fuzzParsersResponse(buf, contentType))
			require.True(t, bytes.Equal(body, buf), "parse modified the body")
			if err != nil {
				fuzzParsersTokenFailure(t, tok, err, "trakt", op, body)
				continue
			}
			fuzzParsersNoAlias(t, tok, buf)
			fuzzParsersTokenSuccess(t, tok, "trakt", body)
			if !tok.Expiry.IsZero() {
				require.False(t, tok.Expiry.Before(fuzzTestNow), "a new token never expired before it arrived")
				require.False(t, tok.Expiry.After(fuzzTestNow.Add(maxExpiresIn+traktMaxSkew)), "expiry past the clamp")
			}
			require.NoError(t, p.Authorize(&http.Request{Header: http.Header{}, URL: &url.URL{}}, tok))
		}
	})
}

// FuzzTraktDevice: the answer of /oauth/device/code.
func FuzzTraktDevice(f *testing.F) {
	for _, s := range []string{
		`{"device_code":"d","user_code":"5055CC52","verification_url":"https://trakt.tv/activate","expires_in":600,"interval":5}`,
		`{"device_code":"d","user_code":"5055CC52","verification_uri":"https://auth.trakt.tv/activate","expires_in":600}`,
		`{"device_code":"d","user_code":"5055 CC52","verification_url":"https://trakt.tv/activate","expires_in":600}`,
		`{"device_code":"d","user_code":"5055CC52","verification_url":"https://trakt.tv/activate","expires_in":0}`,
		`{"device_code":"d","user_code":"5055CC52","verification_url":"https://trakt.tv/activate","expires_in":600,"interval":-1}`,
		`{"device_code":"d","user_code":"5055CC52","verification_url":"https://trakt.tv/activate","expires_in":"600"}`,
		`{"device_code":"d\u0000","user_code":"x","verification_url":"u","expires_in":1e9}`,
		`[]`, `null`, ``, `<html>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dr, err := parseTraktDevice(body)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			require.Nil(t, dr)
			return
		}
		require.NotEmpty(t, dr.DeviceCode)
		require.True(t, vschar(dr.DeviceCode))
		require.NotEmpty(t, dr.UserCode)
		require.LessOrEqual(t, len(dr.UserCode), 64)
		require.NotContains(t, dr.UserCode, " ")
		require.NotEmpty(t, dr.VerificationURL)
		require.Positive(t, dr.ExpiresIn)
		require.LessOrEqual(t, dr.ExpiresIn, int64(86400))
		require.True(t, dr.Interval >= 0 && dr.Interval <= 3600)
	})
}

// FuzzTraktIdentity: the GET /users/settings answer.
func FuzzTraktIdentity(f *testing.F) {
	for _, s := range []string{
		`{"user":{"username":"u","name":"N","ids":{"slug":"u","uuid":"5f2b8a0e"}},"account":{"token":"` + fuzzParsersSecret + `"}}`,
		`{"user":{"username":"u","name":null,"ids":{"uuid":"x"}}}`,
		`{"user":{"username":7,"ids":{"uuid":"x"}}}`,
		`{"user":{"ids":{"uuid":7}}}`,
		`{"user":{"ids":null}}`,
		`{"user":{"access_token":"` + fuzzParsersSecret + `","ids":{"uuid":"x"}}}`,
		`{"user":[]}`, `{"user":"x"}`, `{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseTraktIdentity(body)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			require.NotContains(t, err.Error(), fuzzParsersSecret)
			return
		}
		require.Equal(t, "trakt", id.Provider)
		require.NotEmpty(t, id.UserID)
		if id.User != nil {
			require.True(t, json.Valid(id.User))
			require.Equal(t, byte('{'), id.User[0])
		}
		require.NotContains(t, fmt.Sprint(id), fuzzParsersSecret)
	})
}

// FuzzTraktRateLimit: the X-Ratelimit header and the wait of a 429.
func FuzzTraktRateLimit(f *testing.F) {
	for _, s := range []string{
		`{"name":"UNAUTHED_API_GET_LIMIT","period":300,"limit":500,"remaining":0,"until":"2026-10-10T00:24:00Z"}`,
		`{"until":"` + fuzzTestNow.Add(3*time.Second).UTC().Format(time.RFC3339) + `"}`,
		`{"until":"9999-12-31T23:59:59Z"}`,
		`{"until":7}`, `{"until":""}`, `not json`, ``, strings.Repeat(`{"until":"`, 200),
	} {
		f.Add(s, "")
		f.Add(s, "5")
	}
	f.Fuzz(func(t *testing.T, v, retry string) {
		if until, ok := parseTraktRateLimit(v); ok {
			require.False(t, until.IsZero())
		}
		h := http.Header{}
		h.Set("X-Ratelimit", v)
		d := traktRateLimitWait(h, fuzzTestNow)
		require.Positive(t, d, "a 429 always carries a wait")
		require.LessOrEqual(t, d, maxRetryAfter)
		h.Set("Retry-After", retry)
		p := fuzzTrakt(t)
		e := p.errorFrom("api", TraktAPIURL+"/sync/history", &wire.Response{Status: 429, Header: h})
		require.ErrorIs(t, e, ErrRateLimited)
		require.Positive(t, e.RetryAfter)
		require.LessOrEqual(t, e.RetryAfter, maxRetryAfter)
	})
}

// FuzzTraktErrorAnswer: any failed answer to any operation is an *Error
// that shows no secret and types what Trakt documents.
func FuzzTraktErrorAnswer(f *testing.F) {
	for _, s := range []struct {
		status           int
		ctype, challenge string
		body             string
	}{
		{403, "text/html", "", "<html>Sorry, you have been blocked access_token=" + fuzzParsersSecret + "</html>"},
		{403, "", "", ""},
		{401, "application/json", `Bearer realm="Doorkeeper", error="invalid_grant", error_description="x"`, ""},
		{401, "application/json", `Bearer error="invalid_token"`, `{"error":"unauthorized"}`},
		{400, "application/json", "", `{"error":"invalid_grant","error_description":"session not found","refresh_token":"` + fuzzParsersSecret + `"}`},
		{400, "application/json", "", `{"error":"invalid_request","error_description":"redirect_uri mismatch"}`},
		{412, "application/json", "", `{"error":"Precondition Failed - use application/json content type"}`},
		{420, "", "", ""}, {423, "", "", ""}, {426, "", "", ""}, {429, "", "", ""}, {503, "", "", ""}, {520, "text/html", "", "<html>"},
		{400, "", "", ""}, {200, "application/json", "", `{"error":"invalid_grant"}`},
	} {
		f.Add(s.status, s.ctype, s.challenge, []byte(s.body))
	}
	p := fuzzTrakt(f)
	f.Fuzz(func(t *testing.T, status int, ctype, challenge string, body []byte) {
		status = 100 + (status%500+500)%500
		h := http.Header{}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		for _, op := range []string{"exchange", "refresh", "device", "revoke", "api"} {
			resp := &wire.Response{Status: status, Header: h, Body: bytes.Clone(body)}
			e := p.errorFrom(op, p.authPath("/oauth/token"), resp)
			require.Equal(t, "trakt", e.Provider)
			require.Equal(t, status, e.Status)
			require.LessOrEqual(t, len(e.Body), maxErrBody)
			msg := e.Error()
			require.NotContains(t, msg, "\n")
			fuzzParsersNoLeak(t, msg, e, body)
			require.NotContains(t, fmt.Sprintf("%+v %#v", e, e), fuzzParsersSecret+"-R")
			switch {
			case status == 403 && traktHTML(resp):
				require.ErrorIs(t, e, ErrBlocked)
				require.NotErrorIs(t, e, ErrReauthRequired)
			case status == 429:
				require.ErrorIs(t, e, ErrRateLimited)
				require.Positive(t, e.RetryAfter)
			case status == 423:
				require.ErrorIs(t, e, ErrAccountLocked)
			case status == 420 || status == 426:
				require.ErrorIs(t, e, ErrUpgradeRequired)
			case status == 412:
				require.ErrorIs(t, e, ErrInvalidRequest)
			case op == "api" && status == 401:
				require.ErrorIs(t, e, ErrTokenExpired)
			}
			if errors.Is(e, ErrBlocked) {
				require.Equal(t, 403, status)
			}
		}
	})
}

// FuzzTraktPollAnswer: a device poll's non-2xx answer is classified by its
// status alone, whatever the body says.
func FuzzTraktPollAnswer(f *testing.F) {
	for _, st := range []int{400, 404, 409, 410, 418, 429, 403, 500, 502, 520, 401, 302} {
		f.Add(st, []byte(`{"error":"authorization_pending","error_description":"`+fuzzParsersSecret+`"}`))
		f.Add(st, []byte(``))
	}
	p := fuzzTrakt(f)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 300 + (status%300+300)%300
		tok, outcome, err := p.pollAnswer(p.authPath("/oauth/device/token"), &wire.Response{Status: status, Header: http.Header{}, Body: body})
		require.Nil(t, tok)
		var e *Error
		switch status {
		case 400:
			require.Equal(t, pollPending, outcome)
			require.NoError(t, err)
			return
		case 429:
			require.Equal(t, pollSlowDown, outcome)
		case 404, 409:
			require.Equal(t, pollFail, outcome)
			require.ErrorIs(t, err, ErrCodeUsed)
		case 410:
			require.Equal(t, pollFail, outcome)
			require.ErrorIs(t, err, ErrExpiredCode)
		case 418:
			require.Equal(t, pollFail, outcome)
			require.ErrorIs(t, err, ErrAccessDenied)
		default:
			if status >= 500 {
				require.Equal(t, pollRetry, outcome)
			} else {
				require.Equal(t, pollFail, outcome)
			}
		}
		require.ErrorAs(t, err, &e)
		require.Empty(t, e.Description, "the body decides nothing")
		require.NotContains(t, err.Error(), fuzzParsersSecret)
	})
}

// FuzzTraktCallback: Exchange reads any callback query; nothing is sent
// unless the state is the request's and a code came back.
func FuzzTraktCallback(f *testing.F) {
	for _, s := range []string{"code=c&state=STATE", "state=STATE&error=access_denied", "code=c&state=other", "code=c", "state=STATE",
		"code=c&state=STATE&state=STATE", "code=c&state=STATE&iss=https%3A%2F%2Fevil.example", "%zz", "code=&state=STATE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var sent int
		hc := &http.Client{Transport: fuzzRoundTrip(func(r *http.Request) (*http.Response, error) {
			sent++
			return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}},
				Body: http.NoBody, Request: r}, nil
		})}
		p, err := NewTrakt(App{ClientID: "cid", UserAgent: "fuzz/1", RedirectURL: "https://a.example/cb", HTTPClient: hc})
		require.NoError(t, err)
		ar, err := p.AuthRequest("")
		require.NoError(t, err)
		q, perr := url.ParseQuery(strings.ReplaceAll(raw, "STATE", url.QueryEscape(ar.State)))
		if perr != nil {
			return
		}
		_, err = p.Exchange(context.Background(), ar, q)
		require.Error(t, err)
		ok := len(q["state"]) == 1 && q.Get("state") == ar.State && q.Get("error") == "" && q.Get("code") != ""
		if ok {
			require.Equal(t, 1, sent, "one exchange")
		} else {
			require.Zero(t, sent, "nothing sent for a callback that is not ours or carries no code")
		}
		if !strings.Contains(q.Get("error"), ar.State) { // a code the callback itself sends is shown as its code
			require.NotContains(t, err.Error(), ar.State)
		}
		require.NotContains(t, err.Error(), ar.Verifier)
	})
}

type fuzzRoundTrip func(*http.Request) (*http.Response, error)

func (f fuzzRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
