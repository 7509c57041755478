package videoauthtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	ytVerifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	ytChallenge   = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // its S256 challenge
	ytRedirectURI = "http://127.0.0.1:8765/callback"
)

// ytStartTime is 09:10:11 UTC, 02:10:11 PDT.
var ytStartTime = time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)

func newYouTubeFake(t *testing.T) (*YouTube, *Clock) {
	t.Helper()
	y := NewYouTube()
	t.Cleanup(y.Close)
	c := NewClock(ytStartTime)
	y.SetClock(c)
	return y, c
}

type ytReply struct {
	status int
	header http.Header
	body   string
}

func (r ytReply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), r.body)
	return m
}

// oauth asserts an RFC 6749 error answer.
func (r ytReply) oauth(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	m := r.json(t)
	require.Equal(t, code, m["error"], r.body)
	return m
}

// reason asserts a YouTube API error envelope and returns its reason.
func (r ytReply) reason(t *testing.T, status int) string {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	var e struct {
		Error struct {
			Code   int `json:"code"`
			Errors []struct {
				Reason string `json:"reason"`
				Domain string `json:"domain"`
			} `json:"errors"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &e), r.body)
	require.Equal(t, status, e.Error.Code)
	require.NotEmpty(t, e.Error.Errors)
	return e.Error.Errors[0].Reason
}

func ytDo(t *testing.T, req *http.Request) ytReply {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return ytReply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func ytPost(t *testing.T, rawURL string, form url.Values, header ...string) ytReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return ytDo(t, req)
}

func ytAPIGet(t *testing.T, y *YouTube, path, token string) ytReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, y.APIURL+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return ytDo(t, req)
}

// ytAuthQuery is a well-formed consent request of the Web client.
func ytAuthQuery(y *YouTube, extra url.Values) url.Values {
	q := url.Values{"client_id": {y.ClientID}, "redirect_uri": {ytRedirectURI}, "response_type": {"code"},
		"scope": {ytScopeYouTube}, "state": {"st"}, "access_type": {"offline"}, "prompt": {"consent"},
		"code_challenge": {ytChallenge}, "code_challenge_method": {"S256"}}
	for k, vs := range extra {
		q[k] = vs
	}
	return q
}

// ytAuthorize opens the consent page and returns where it redirected.
func ytAuthorize(t *testing.T, y *YouTube, q url.Values) *url.URL {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, y.WebURL+"/o/oauth2/v2/auth?"+q.Encode(), nil)
	require.NoError(t, err)
	r := ytDo(t, req)
	require.Equal(t, http.StatusFound, r.status, r.body)
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	return loc
}

func ytExchangeForm(y *YouTube, code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ytRedirectURI},
		"code_verifier": {ytVerifier}, "client_id": {y.ClientID}, "client_secret": {y.ClientSecret}}
}

// ytFlow runs a consent and an exchange and returns the token answer.
func ytFlow(t *testing.T, y *YouTube, extra url.Values) map[string]any {
	t.Helper()
	loc := ytAuthorize(t, y, ytAuthQuery(y, extra))
	r := ytPost(t, y.APIURL+"/token", ytExchangeForm(y, loc.Query().Get("code")))
	require.Equal(t, http.StatusOK, r.status, r.body)
	return r.json(t)
}

func TestYouTubeFakeCodeFlow(t *testing.T) {
	y, _ := newYouTubeFake(t)
	loc := ytAuthorize(t, y, ytAuthQuery(y, nil))
	q := loc.Query()
	require.Equal(t, "st", q.Get("state"))
	require.Equal(t, ytScopeYouTube, q.Get("scope"))
	require.Equal(t, "0", q.Get("authuser"))
	require.Equal(t, "consent", q.Get("prompt"))
	require.Equal(t, "127.0.0.1:8765", loc.Host)

	r := ytPost(t, y.APIURL+"/token", ytExchangeForm(y, q.Get("code")))
	require.Equal(t, http.StatusOK, r.status, r.body)
	m := r.json(t)
	require.Equal(t, "Bearer", m["token_type"])
	require.EqualValues(t, 3599, m["expires_in"])
	require.Equal(t, ytScopeYouTube, m["scope"], "a space-delimited string")
	require.NotEmpty(t, m["refresh_token"])
	require.NotContains(t, m, "refresh_token_expires_in", "not in production mode")
	require.Equal(t, 1, y.Consents())

	// The code is single use.
	ytPost(t, y.APIURL+"/token", ytExchangeForm(y, q.Get("code"))).oauth(t, http.StatusBadRequest, "invalid_grant")
	// The API accepts the token.
	require.Equal(t, http.StatusOK, ytAPIGet(t, y, "/youtube/v3/channels?part=snippet&mine=true", m["access_token"].(string)).status)
	require.Zero(t, y.Malformed())
}

// What Google requires at the token endpoint, refused the way Google does
// and counted.
func TestYouTubeFakeTokenEndpointStrictness(t *testing.T) {
	y, _ := newYouTubeFake(t)
	code := func() string { return ytAuthorize(t, y, ytAuthQuery(y, nil)).Query().Get("code") }

	f := ytExchangeForm(y, code())
	f.Del("client_secret")
	m := ytPost(t, y.APIURL+"/token", f).oauth(t, http.StatusBadRequest, "invalid_request")
	require.Equal(t, "client_secret is missing.", m["error_description"], "even with PKCE")
	require.Equal(t, 1, y.Malformed())

	f = ytExchangeForm(y, code())
	f.Set("client_secret", "wrong")
	ytPost(t, y.APIURL+"/token", f).oauth(t, http.StatusUnauthorized, "invalid_client")

	f = ytExchangeForm(y, code())
	f.Set("code_verifier", strings.Repeat("a", 43))
	ytPost(t, y.APIURL+"/token", f).oauth(t, http.StatusBadRequest, "invalid_grant")

	f = ytExchangeForm(y, code())
	f.Set("redirect_uri", "http://127.0.0.1:9/other")
	ytPost(t, y.APIURL+"/token", f).oauth(t, http.StatusBadRequest, "redirect_uri_mismatch")
	require.Equal(t, 2, y.Malformed())

	// Basic credentials are accepted (discovery lists client_secret_basic).
	f = ytExchangeForm(y, code())
	id, secret := f.Get("client_id"), f.Get("client_secret")
	f.Del("client_id")
	f.Del("client_secret")
	req, _ := http.NewRequest(http.MethodPost, y.APIURL+"/token", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	require.Equal(t, http.StatusOK, ytDo(t, req).status)

	// JSON bodies, unknown grants and a missing client are malformed.
	req, _ = http.NewRequest(http.MethodPost, y.APIURL+"/token", strings.NewReader(`{"grant_type":"refresh_token"}`))
	req.Header.Set("Content-Type", "application/json")
	require.Equal(t, http.StatusBadRequest, ytDo(t, req).status)
	ytPost(t, y.APIURL+"/token", url.Values{"grant_type": {"password"}, "client_id": {y.ClientID}, "client_secret": {y.ClientSecret}}).
		oauth(t, http.StatusBadRequest, "unsupported_grant_type")
	ytPost(t, y.APIURL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}).oauth(t, http.StatusBadRequest, "invalid_request")
	require.Equal(t, 5, y.Malformed())
	require.Equal(t, 8, y.TokenCalls())
	require.Equal(t, 5, y.Exchanges())
}

func TestYouTubeFakeConsentAndRefreshTokens(t *testing.T) {
	y, _ := newYouTubeFake(t)
	first := ytFlow(t, y, nil)
	require.NotEmpty(t, first["refresh_token"])

	// No prompt: the user consented before, no screen, no refresh token.
	again := ytFlow(t, y, url.Values{"prompt": nil})
	require.NotContains(t, again, "refresh_token")
	require.Equal(t, 1, y.Consents())

	// Online access: no refresh token even with consent.
	online := ytFlow(t, y, url.Values{"access_type": nil})
	require.NotContains(t, online, "refresh_token")
	require.Equal(t, 2, y.Consents())

	// New scopes need consent; without offline and prompt they still show it.
	more := ytFlow(t, y, url.Values{"prompt": nil, "scope": {ytScopeYouTube + " " + ytScopeForceSSL}})
	require.NotEmpty(t, more["refresh_token"], "a consent screen with offline access")
	require.Equal(t, 3, y.Consents())

	// The 100-token cap: the 101st kills the oldest.
	for range 99 {
		ytFlow(t, y, nil)
	}
	require.Equal(t, 101, y.RefreshTokensIssued())
	require.Equal(t, 100, y.LiveRefreshTokens())
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)},
		"client_id": {y.ClientID}, "client_secret": {y.ClientSecret}}
	m := ytPost(t, y.APIURL+"/token", refresh).oauth(t, http.StatusBadRequest, "invalid_grant")
	require.Equal(t, "Token has been expired or revoked.", m["error_description"])
	refresh.Set("refresh_token", more["refresh_token"].(string))
	r := ytPost(t, y.APIURL+"/token", refresh)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.json(t), "refresh_token", "Google's refresh answers carry none")
	require.Zero(t, y.Malformed())
}

func TestYouTubeFakeAuthorizeStrictness(t *testing.T) {
	y, _ := newYouTubeFake(t)
	for name, extra := range map[string]url.Values{
		"no client_id":         {"client_id": nil},
		"implicit":             {"response_type": {"token"}},
		"no scope":             {"scope": nil},
		"foreign redirect":     {"redirect_uri": {"https://evil.example/cb"}},
		"loopback, no port":    {"redirect_uri": {"http://localhost/cb"}},
		"bad method":           {"code_challenge_method": {"s256"}},
		"method, no challenge": {"code_challenge": nil},
		"bad access_type":      {"access_type": {"forever"}},
		"none and consent":     {"prompt": {"none consent"}},
		"bad prompt":           {"prompt": {"login"}},
		"TV client":            {"client_id": {y.TVClientID}},
	} {
		before := y.Malformed()
		req, _ := http.NewRequest(http.MethodGet, y.WebURL+"/o/oauth2/v2/auth?"+ytAuthQuery(y, extra).Encode(), nil)
		r := ytDo(t, req)
		require.Equal(t, http.StatusBadRequest, r.status, name)
		require.Equal(t, before+1, y.Malformed(), name)
	}
	// A challenge without method is plain, Google's default, and counted.
	loc := ytAuthorize(t, y, ytAuthQuery(y, url.Values{"code_challenge_method": nil, "code_challenge": {ytVerifier}}))
	require.Equal(t, 1, y.PlainChallenges())
	f := ytExchangeForm(y, loc.Query().Get("code"))
	require.Equal(t, http.StatusOK, ytPost(t, y.APIURL+"/token", f).status, "plain: the verifier is the challenge")
	// The registered Web redirect is accepted, and the deprecated path too.
	q := ytAuthQuery(y, url.Values{"redirect_uri": {"https://app.example/callback"}})
	req, _ := http.NewRequest(http.MethodGet, y.WebURL+"/o/oauth2/auth?"+q.Encode(), nil)
	require.Equal(t, http.StatusFound, ytDo(t, req).status)
	// Denial.
	y.DenyConsent(true)
	loc = ytAuthorize(t, y, ytAuthQuery(y, nil))
	require.Equal(t, "access_denied", loc.Query().Get("error"))
	require.Equal(t, "st", loc.Query().Get("state"))
}

func TestYouTubeFakeDeviceFlow(t *testing.T) {
	y, clock := newYouTubeFake(t)
	start := func(client, scope string) ytReply {
		return ytPost(t, y.APIURL+"/device/code", url.Values{"client_id": {client}, "scope": {scope}})
	}
	start(y.ClientID, ytScopeReadOnly).oauth(t, http.StatusUnauthorized, "invalid_client")
	start(y.TVClientID, ytScopeForceSSL).oauth(t, http.StatusBadRequest, "invalid_scope")
	require.Equal(t, 1, y.Malformed())
	y.DeviceQuotaExceeded(1)
	r := start(y.TVClientID, ytScopeReadOnly)
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, "rate_limit_exceeded", r.json(t)["error_code"])
	require.NotContains(t, r.json(t), "error", "error_code, not error")

	r = start(y.TVClientID, ytScopeReadOnly+" email")
	require.Equal(t, http.StatusOK, r.status, r.body)
	m := r.json(t)
	require.Equal(t, y.WebURL+"/device", m["verification_url"])
	require.NotContains(t, m, "verification_uri")
	require.EqualValues(t, 1800, m["expires_in"])
	require.EqualValues(t, 5, m["interval"])
	poll := url.Values{"grant_type": {ytGrantDevice}, "device_code": {m["device_code"].(string)},
		"client_id": {y.TVClientID}, "client_secret": {y.TVClientSecret}}

	noSecret := url.Values{"grant_type": poll["grant_type"], "device_code": poll["device_code"], "client_id": poll["client_id"]}
	ytPost(t, y.APIURL+"/token", noSecret).oauth(t, http.StatusBadRequest, "invalid_request")
	ytPost(t, y.APIURL+"/token", poll).oauth(t, http.StatusPreconditionRequired, "authorization_pending")
	ytPost(t, y.APIURL+"/token", poll).oauth(t, http.StatusForbidden, "slow_down")
	clock.Advance(10 * time.Second)
	ytPost(t, y.APIURL+"/token", poll).oauth(t, http.StatusPreconditionRequired, "authorization_pending")
	require.True(t, y.ApproveCode(m["user_code"].(string)))
	clock.Advance(10 * time.Second)
	r = ytPost(t, y.APIURL+"/token", poll)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotEmpty(t, r.json(t)["refresh_token"])
	require.Equal(t, 2, y.Malformed())

	// Denied: 403 access_denied; expired: expired_token.
	m = start(y.TVClientID, ytScopeReadOnly).json(t)
	poll.Set("device_code", m["device_code"].(string))
	require.True(t, y.DenyCode(m["user_code"].(string)))
	ytPost(t, y.APIURL+"/token", poll).oauth(t, http.StatusForbidden, "access_denied")
	m = start(y.TVClientID, ytScopeReadOnly).json(t)
	poll.Set("device_code", m["device_code"].(string))
	clock.Advance(1800 * time.Second)
	ytPost(t, y.APIURL+"/token", poll).oauth(t, http.StatusBadRequest, "expired_token")
	require.False(t, y.ApproveCode(m["user_code"].(string)))
}

func TestYouTubeFakeRefreshModes(t *testing.T) {
	y, clock := newYouTubeFake(t)
	y.SetTestingMode(true)
	m := ytFlow(t, y, nil)
	require.EqualValues(t, 7*24*3600, m["refresh_token_expires_in"])
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)},
		"client_id": {y.ClientID}, "client_secret": {y.ClientSecret}}

	y.RequireReauth(1)
	e := ytPost(t, y.APIURL+"/token", refresh).oauth(t, http.StatusBadRequest, "invalid_grant")
	require.Equal(t, "invalid_rapt", e["error_subtype"])
	clock.Advance(24 * time.Hour)
	r := ytPost(t, y.APIURL+"/token", refresh)
	require.Equal(t, http.StatusOK, r.status, "invalid_rapt left the grant alive")
	require.EqualValues(t, 6*24*3600, r.json(t)["refresh_token_expires_in"])
	clock.Advance(6 * 24 * time.Hour)
	ytPost(t, y.APIURL+"/token", refresh).oauth(t, http.StatusBadRequest, "invalid_grant")

	// Rotation, for tests of clients: the used refresh token dies.
	y.SetTestingMode(false)
	y.RotateRefreshTokens(true)
	m = ytFlow(t, y, nil)
	refresh.Set("refresh_token", m["refresh_token"].(string))
	r = ytPost(t, y.APIURL+"/token", refresh)
	require.Equal(t, http.StatusOK, r.status)
	next := r.json(t)["refresh_token"]
	require.NotEmpty(t, next)
	require.NotEqual(t, m["refresh_token"], next)
	ytPost(t, y.APIURL+"/token", refresh).oauth(t, http.StatusBadRequest, "invalid_grant")
	require.Equal(t, 5, y.Refreshes())
	require.Zero(t, y.Malformed())
}

func TestYouTubeFakeRevoke(t *testing.T) {
	y, _ := newYouTubeFake(t)
	m := ytFlow(t, y, nil)
	tv := ytPost(t, y.APIURL+"/device/code", url.Values{"client_id": {y.TVClientID}, "scope": {ytScopeReadOnly}})
	require.Equal(t, http.StatusOK, tv.status)
	access := m["access_token"].(string)
	require.Equal(t, http.StatusOK, ytAPIGet(t, y, "/youtube/v3/videos?part=id", access).status)

	// Token in the query, as Google's example sends it.
	r := ytPost(t, y.APIURL+"/revoke?token="+url.QueryEscape(m["refresh_token"].(string)), nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "authError", ytAPIGet(t, y, "/youtube/v3/videos?part=id", access).reason(t, http.StatusUnauthorized),
		"revoking the refresh token ended the access token too")
	ytPost(t, y.APIURL+"/revoke", url.Values{"token": {access}}).oauth(t, http.StatusBadRequest, "invalid_token")
	ytPost(t, y.APIURL+"/revoke", url.Values{}).oauth(t, http.StatusBadRequest, "invalid_request")
	require.Equal(t, 1, y.Malformed())
	require.Equal(t, 3, y.Revocations())
}

func TestYouTubeFakeAPI(t *testing.T) {
	y, clock := newYouTubeFake(t)
	access, _ := y.IssueToken(ytScopeReadOnly)

	// No credential: 401 CREDENTIALS_MISSING, a malformed request.
	r := ytAPIGet(t, y, "/youtube/v3/channels?part=id&mine=true", "")
	require.Equal(t, "required", r.reason(t, http.StatusUnauthorized))
	require.Equal(t, `Bearer realm="https://accounts.google.com/"`, r.header.Get("WWW-Authenticate"))
	require.Contains(t, r.body, "CREDENTIALS_MISSING")
	require.Equal(t, 1, y.Malformed())
	// A bad token: authError and the invalid_token challenge.
	r = ytAPIGet(t, y, "/youtube/v3/channels?part=id&mine=true", "ya29.unknown")
	require.Equal(t, "authError", r.reason(t, http.StatusUnauthorized))
	require.Contains(t, r.header.Get("WWW-Authenticate"), `error="invalid_token"`)
	require.Zero(t, y.QuotaUsed(), "no project to charge")

	r = ytAPIGet(t, y, "/youtube/v3/channels?part=snippet&mine=true", access)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, ytChannelID)
	require.Equal(t, 1, y.QuotaUsed())
	require.Equal(t, http.StatusOK, ytAPIGet(t, y, "/youtube/v3/search?part=snippet&q=cats", access).status)
	require.Equal(t, 101, y.QuotaUsed(), "search costs 100")
	require.Equal(t, "missingRequiredParameter", ytAPIGet(t, y, "/youtube/v3/videos", access).reason(t, http.StatusBadRequest))
	require.Equal(t, 102, y.QuotaUsed(), "a failed request costs a unit too")

	// Scope, channel, quota, throttling.
	req, _ := http.NewRequest(http.MethodPost, y.APIURL+"/youtube/v3/playlists?part=snippet", strings.NewReader(`{"snippet":{"title":"t"}}`))
	req.Header.Set("Authorization", "Bearer "+access)
	r = ytDo(t, req)
	require.Equal(t, "insufficientPermissions", r.reason(t, http.StatusForbidden))
	require.Contains(t, r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
	write, _ := y.IssueToken(ytScopeYouTube)
	y.SetNoChannel(true)
	req, _ = http.NewRequest(http.MethodPost, y.APIURL+"/youtube/v3/playlists?part=snippet", strings.NewReader(`{"snippet":{"title":"t"}}`))
	req.Header.Set("Authorization", "Bearer "+write)
	require.Equal(t, "youtubeSignupRequired", ytDo(t, req).reason(t, http.StatusUnauthorized))
	r = ytAPIGet(t, y, "/youtube/v3/channels?part=id&mine=true", write)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.json(t), "items", "no channel")
	y.SetNoChannel(false)

	y.RateLimitNext(1, YouTubeRateLimit403)
	require.Equal(t, "rateLimitExceeded", ytAPIGet(t, y, "/youtube/v3/videos?part=id", access).reason(t, http.StatusForbidden))
	y.RateLimitNext(1, YouTubeRateLimit429)
	r = ytAPIGet(t, y, "/youtube/v3/videos?part=id", access)
	require.Equal(t, "rateLimitExceeded", r.reason(t, http.StatusTooManyRequests))
	require.Equal(t, "3", r.header.Get("Retry-After"))

	y.SetQuota(200, 200)
	r = ytAPIGet(t, y, "/youtube/v3/videos?part=id", access)
	require.Equal(t, "quotaExceeded", r.reason(t, http.StatusForbidden))
	require.Contains(t, r.body, `"domain":"youtube.quota"`)
	clock.Advance(time.Date(2026, 7, 9, 7, 0, 0, 0, time.UTC).Sub(ytStartTime) - time.Second)
	fresh, _ := y.IssueToken(ytScopeReadOnly) // access tokens last an hour
	require.Equal(t, http.StatusForbidden, ytAPIGet(t, y, "/youtube/v3/videos?part=id", fresh).status, "23:59:59 PDT: still spent")
	clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, ytAPIGet(t, y, "/youtube/v3/videos?part=id", fresh).status, "midnight Pacific: reset")
	require.Equal(t, 1, y.QuotaUsed())

	// The access_token query parameter works, and is counted.
	r = ytDo(t, func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, y.APIURL+"/youtube/v3/videos?part=id&access_token="+fresh, nil)
		return req
	}())
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, 1, y.QueryTokens())
	require.Equal(t, 1, y.Malformed())
}

// Respond serves Google's real host names in process.
func TestYouTubeFakeRespond(t *testing.T) {
	y, _ := newYouTubeFake(t)
	access, _ := y.IssueToken()
	c := &http.Client{Transport: y.RoundTripper(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://www.googleapis.com/youtube/v3/channels?part=id&mine=true", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	q := ytAuthQuery(y, nil)
	resp, err = c.Get("https://accounts.google.com/o/oauth2/v2/auth?" + q.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	code, _ := url.Parse(resp.Header.Get("Location"))
	resp, err = c.PostForm("https://oauth2.googleapis.com/token", ytExchangeForm(y, code.Query().Get("code")))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Zero(t, y.Malformed())
}

// FailTokenCalls and SetLatency.
func TestYouTubeFakeFailures(t *testing.T) {
	y, _ := newYouTubeFake(t)
	y.FailTokenCalls(2, Fail5xx)
	ytPost(t, y.APIURL+"/token", url.Values{}).oauth(t, http.StatusServiceUnavailable, "server_error")
	y.FailTokenCalls(1, FailHTML)
	r := ytPost(t, y.APIURL+"/device/code", url.Values{})
	require.Equal(t, http.StatusBadGateway, r.status)
	require.Contains(t, r.header.Get("Content-Type"), "text/html")
	y.SetLatency(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, y.APIURL+"/token", strings.NewReader(""))
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	require.Zero(t, y.Malformed(), "failed on purpose before any check")
}
