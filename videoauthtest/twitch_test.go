package videoauthtest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newTwitchFake starts a fake on a manual clock; every test of the fake
// lists the malformed requests it meant to send, and checks that the fake
// counted exactly those.
func newTwitchFake(t *testing.T) (*Twitch, *Clock) {
	t.Helper()
	s := NewTwitch()
	t.Cleanup(s.Close)
	c := NewClock(time.Now().Truncate(time.Second))
	s.SetClock(c)
	return s, c
}

// twReply is an answer of the fake.
type twReply struct {
	status int
	header http.Header
	body   []byte
}

func (r twReply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// requireErr checks a Twitch error answer: {"status":N,"message":msg}.
func (r twReply) requireErr(t *testing.T, status int, msg string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	m := r.json(t)
	require.EqualValues(t, status, m["status"])
	require.Equal(t, msg, m["message"])
}

func twSend(t *testing.T, req *http.Request) twReply {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return twReply{status: resp.StatusCode, header: resp.Header, body: b}
}

// twPost posts form, form-encoded, to path on the identity host.
func twPost(t *testing.T, s *Twitch, path string, form url.Values, header ...string) twReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.IDURL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return twSend(t, req)
}

// twHelix sends method path to Helix with the given Authorization and
// Client-Id ("" sends none).
func twHelix(t *testing.T, s *Twitch, method, path, authz, clientID, body string) twReply {
	t.Helper()
	req, err := http.NewRequest(method, s.APIURL+path, strings.NewReader(body))
	require.NoError(t, err)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if clientID != "" {
		req.Header.Set("Client-Id", clientID)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return twSend(t, req)
}

func (s *Twitch) confidential(extra url.Values) url.Values {
	f := url.Values{"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func TestTwitchFakeTokenParametersInAnyForm(t *testing.T) {
	s, _ := newTwitchFake(t)
	f := s.confidential(url.Values{"grant_type": {"client_credentials"}})

	form := twPost(t, s, "/oauth2/token", f)
	require.Equal(t, http.StatusOK, form.status, string(form.body))
	m := form.json(t)
	require.Equal(t, "bearer", m["token_type"])
	require.EqualValues(t, 5011271, m["expires_in"])
	require.NotContains(t, m, "refresh_token", "app tokens are never refreshed")
	require.NotContains(t, m, "scope", "left out when empty")

	req, err := http.NewRequest(http.MethodPost, s.IDURL+"/oauth2/token?"+f.Encode(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, twSend(t, req).status, "the query string, as Twitch's CLI sends it")

	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k := range f {
		require.NoError(t, mw.WriteField(k, f.Get(k)))
	}
	require.NoError(t, mw.Close())
	req, err = http.NewRequest(http.MethodPost, s.IDURL+"/oauth2/token", &b)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	require.Equal(t, http.StatusOK, twSend(t, req).status, "multipart, as Twitch's CLI sends the device flow")
	require.Equal(t, 3, s.Mints())
	require.Zero(t, s.Malformed())

	twPost(t, s, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "Authorization", "Basic eDp5").
		requireErr(t, http.StatusBadRequest, "missing client_id")
	require.Equal(t, 1, s.Malformed(), "Basic credentials are counted: Twitch takes parameters")
	require.Contains(t, s.MalformedRequests()[0], "Authorization header")
}

func TestTwitchFakeClientTypes(t *testing.T) {
	s, _ := newTwitchFake(t)
	pub := url.Values{"client_id": {s.PublicClientID}}
	with := func(f url.Values, kv ...string) url.Values {
		c := url.Values{}
		for k, v := range f {
			c[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c.Set(kv[i], kv[i+1])
		}
		return c
	}
	twPost(t, s, "/oauth2/token", with(pub, "grant_type", "client_credentials")).requireErr(t, 400, "Invalid client credentials")
	twPost(t, s, "/oauth2/token", with(pub, "grant_type", "authorization_code", "code", "x", "redirect_uri", "http://h/")).
		requireErr(t, 400, "Invalid client credentials")
	noSecret := url.Values{"client_id": {s.ClientID}}
	twPost(t, s, "/oauth2/token", with(noSecret, "grant_type", "client_credentials")).requireErr(t, 400, "missing client secret")
	_, rt := s.IssueUserToken(false)
	twPost(t, s, "/oauth2/token", with(noSecret, "grant_type", "refresh_token", "refresh_token", rt)).requireErr(t, 400, "missing client secret")
	twPost(t, s, "/oauth2/token", with(s.confidential(nil), "client_secret", "wrong", "grant_type", "client_credentials")).
		requireErr(t, 403, "invalid client secret")
	twPost(t, s, "/oauth2/token", url.Values{"client_id": {"nobody"}, "grant_type": {"client_credentials"}}).requireErr(t, 400, "invalid client")
	require.Zero(t, s.Malformed())

	_, prt := s.IssueUserToken(true)
	r := twPost(t, s, "/oauth2/token", with(pub, "grant_type", "refresh_token", "refresh_token", prt))
	require.Equal(t, 200, r.status, "a public client refreshes with client_id alone")
	twPost(t, s, "/oauth2/token", with(pub, "client_secret", "x", "grant_type", "client_credentials")).requireErr(t, 403, "invalid client secret")
	require.Equal(t, 1, s.Malformed(), "a public client has no secret to send")
}

func TestTwitchFakeRefreshTokensRotate(t *testing.T) {
	s, clock := newTwitchFake(t)
	access, rt := s.IssueUserToken(false, "chat:read", "chat:edit")
	r := twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"bits:read"}}))
	require.Equal(t, 200, r.status, string(r.body))
	m := r.json(t)
	require.NotEqual(t, rt, m["refresh_token"])
	require.NotEqual(t, access, m["access_token"])
	require.Equal(t, []any{"chat:read", "chat:edit"}, m["scope"], "a refresh keeps the grant's scopes, whatever scope says")
	require.EqualValues(t, 14124, m["expires_in"])
	require.Equal(t, 200, twHelix(t, s, "GET", "/helix/users", "Bearer "+access, s.ClientID, "").status,
		"the previous access token lives on by default")

	twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})).
		requireErr(t, 400, "Invalid refresh token")
	require.Equal(t, 1, s.SpentRefreshTokenUses())
	require.Equal(t, 2, s.Refreshes())

	s.SetRefreshKillsAccess(true)
	next := m["refresh_token"].(string)
	r = twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}}))
	require.Equal(t, 200, r.status)
	require.Equal(t, 401, twHelix(t, s, "GET", "/helix/users", "Bearer "+m["access_token"].(string), s.ClientID, "").status)

	clock.Advance(60 * 24 * time.Hour)
	r = twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.json(t)["refresh_token"].(string)}}))
	require.Equal(t, 200, r.status, "a confidential client's refresh token has no documented expiry")

	_, prt := s.IssueUserToken(true)
	clock.Advance(30 * 24 * time.Hour)
	twPost(t, s, "/oauth2/token", url.Values{"client_id": {s.PublicClientID}, "grant_type": {"refresh_token"}, "refresh_token": {prt}}).
		requireErr(t, 400, "Invalid refresh token")
	twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"refresh_token"}})).requireErr(t, 400, "missing refresh token")
	require.Zero(t, s.Malformed())
}

func TestTwitchFakeConcurrentRefreshesOfOneGrant(t *testing.T) {
	s, _ := newTwitchFake(t)
	_, rt := s.IssueUserToken(true)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := twPost(t, s, "/oauth2/token", url.Values{"client_id": {s.PublicClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, map[int]int{200: 1, 400: 19}, statuses, "a refresh token is single use")
	require.Equal(t, 19, s.SpentRefreshTokenUses())
	require.Zero(t, s.Malformed())
}

func TestTwitchFakeDeviceFlow(t *testing.T) {
	s, clock := newTwitchFake(t)
	start := func(f url.Values) twReply {
		t.Helper()
		return twPost(t, s, "/oauth2/device", f)
	}
	r := start(url.Values{"client_id": {s.PublicClientID}, "scopes": {"chat:read chat:edit"}})
	require.Equal(t, 200, r.status, string(r.body))
	m := r.json(t)
	require.EqualValues(t, 1800, m["expires_in"])
	require.EqualValues(t, 5, m["interval"])
	code, dc := m["user_code"].(string), m["device_code"].(string)
	require.Regexp(t, `^[A-Z]{8}$`, code)
	require.Equal(t, s.IDURL+"/activate?public=true&device-code="+code, m["verification_uri"])
	require.NotContains(t, m, "verification_uri_complete")

	poll := func() twReply {
		return twPost(t, s, "/oauth2/token", url.Values{"client_id": {s.PublicClientID}, "device_code": {dc},
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
	}
	poll().requireErr(t, 400, "authorization_pending")
	clock.Advance(2 * time.Second)
	poll().requireErr(t, 400, "slow_down")
	clock.Advance(9 * time.Second)
	poll().requireErr(t, 400, "slow_down") // the interval is 10 s now
	clock.Advance(15 * time.Second)
	poll().requireErr(t, 400, "authorization_pending")
	require.True(t, s.ApproveCode(code))
	r = poll()
	require.Equal(t, 200, r.status)
	require.Equal(t, []any{"chat:read", "chat:edit"}, r.json(t)["scope"])
	poll().requireErr(t, 400, "invalid device code") // one time use
	require.Equal(t, 6, s.DevicePolls())

	// Denied, expired, and the confidential app's.
	r = start(url.Values{"client_id": {s.ClientID}, "scopes": {""}})
	m = r.json(t)
	require.NotContains(t, m["verification_uri"], "public=true")
	require.True(t, s.DenyCode(m["user_code"].(string)))
	twPost(t, s, "/oauth2/token", url.Values{"client_id": {s.ClientID}, "device_code": {m["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}).requireErr(t, 400, "access_denied")
	r = start(url.Values{"client_id": {s.PublicClientID}, "scopes": {"chat:read"}})
	clock.Advance(1800 * time.Second)
	twPost(t, s, "/oauth2/token", url.Values{"client_id": {s.PublicClientID}, "device_code": {r.json(t)["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}).requireErr(t, 400, "invalid device code")
	start(url.Values{"client_id": {s.PublicClientID}}).requireErr(t, 400, "missing scopes")
	require.Zero(t, s.Malformed())

	// What x/oauth2 and helix send: scope, or scopes in the query. Twitch
	// ignores both, so the token comes without scopes.
	r = start(url.Values{"client_id": {s.PublicClientID}, "scope": {"chat:read"}})
	require.Equal(t, 200, r.status)
	req, err := http.NewRequest(http.MethodPost, s.IDURL+"/oauth2/device?scopes=chat%3Aread", strings.NewReader("client_id="+s.PublicClientID))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	twSend(t, req).requireErr(t, 400, "missing scopes")
	require.Equal(t, 2, s.Malformed(), "%q", s.MalformedRequests())
	dc = r.json(t)["device_code"].(string)
	require.True(t, s.ApproveCode(r.json(t)["user_code"].(string)))
	r = twPost(t, s, "/oauth2/token", url.Values{"client_id": {s.PublicClientID}, "device_code": {dc},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
	require.NotContains(t, r.json(t), "scope", "no scope granted: the member is left out")
}

func TestTwitchFakeConsentPage(t *testing.T) {
	s, _ := newTwitchFake(t)
	q := url.Values{"client_id": {s.ClientID}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "response_type": {"code"},
		"scope": {"channel:manage:polls channel:read:polls"}, "state": {"st4te"}}
	get := func(q url.Values) twReply {
		req, err := http.NewRequest(http.MethodGet, s.IDURL+"/oauth2/authorize?"+q.Encode(), nil)
		require.NoError(t, err)
		return twSend(t, req)
	}
	r := get(q)
	require.Equal(t, http.StatusFound, r.status)
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	require.Contains(t, loc.RawQuery, "scope=channel%3Amanage%3Apolls+channel%3Aread%3Apolls")
	require.Equal(t, "st4te", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	exchange := func(code, redirect string) twReply {
		return twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}))
	}
	exchange(code, "http://127.0.0.1:9/other").requireErr(t, 400, "Parameter redirect_uri does not match registeredURI")
	exchange(code, "http://127.0.0.1:9/cb").requireErr(t, 400, "Invalid authorization code") // spent by the failed attempt
	loc, _ = url.Parse(get(q).header.Get("Location"))
	r = exchange(loc.Query().Get("code"), "http://127.0.0.1:9/cb")
	require.Equal(t, 200, r.status)
	require.Equal(t, []any{"channel:manage:polls", "channel:read:polls"}, r.json(t)["scope"])
	require.Equal(t, 3, s.Exchanges())

	q.Set("response_type", "token")
	loc, _ = url.Parse(get(q).header.Get("Location"))
	frag, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	require.Equal(t, "bearer", frag.Get("token_type"))
	require.Equal(t, "channel:manage:polls channel:read:polls", frag.Get("scope"))
	require.NotContains(t, frag, "expires_in")
	require.NotContains(t, frag, "refresh_token")
	require.Equal(t, 200, twHelix(t, s, "GET", "/helix/users", "Bearer "+frag.Get("access_token"), s.ClientID, "").status)

	s.DenyConsent(true)
	loc, _ = url.Parse(get(q).header.Get("Location"))
	require.Empty(t, loc.Fragment, "errors in the query")
	require.Equal(t, "access_denied", loc.Query().Get("error"))
	require.Equal(t, "The user denied you access", loc.Query().Get("error_description"))
	require.Zero(t, s.Malformed())

	q.Set("code_challenge", "abc")
	get(q)
	q.Del("scope")
	get(q)
	require.Equal(t, 3, s.Malformed(), "%q", s.MalformedRequests()) // two code_challenge, one without scope
}

func TestTwitchFakeValidate(t *testing.T) {
	s, clock := newTwitchFake(t)
	access, _ := s.IssueUserToken(false, "chat:read")
	validate := func(authz string) twReply {
		req, err := http.NewRequest(http.MethodGet, s.IDURL+"/oauth2/validate", nil)
		require.NoError(t, err)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		return twSend(t, req)
	}
	clock.Advance(124 * time.Second)
	for _, scheme := range []string{"OAuth ", "Bearer "} {
		r := validate(scheme + access)
		require.Equal(t, 200, r.status)
		require.JSONEq(t, `{"client_id":"twitch-client","login":"twitchdev","scopes":["chat:read"],"user_id":"141981764","expires_in":14000}`, string(r.body))
	}
	app := s.IssueAppToken()
	r := validate("OAuth " + app)
	require.JSONEq(t, `{"client_id":"twitch-client","login":null,"scopes":null,"user_id":null,"expires_in":5011271}`, string(r.body))
	validate("").requireErr(t, 401, "missing authorization token")
	s.ExpireToken(access)
	validate("OAuth "+access).requireErr(t, 401, "invalid access token")
	require.Equal(t, 5, s.Validations())
	require.Zero(t, s.Malformed())
}

func TestTwitchFakeRevoke(t *testing.T) {
	s, _ := newTwitchFake(t)
	access, refresh := s.IssueUserToken(false)
	r := twPost(t, s, "/oauth2/revoke", url.Values{"client_id": {s.ClientID}, "token": {access}})
	require.Equal(t, 200, r.status)
	require.Empty(t, r.body)
	twPost(t, s, "/oauth2/token", s.confidential(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})).
		requireErr(t, 400, "Invalid refresh token") // [I] the fake ends the whole grant
	twPost(t, s, "/oauth2/revoke", url.Values{"client_id": {s.ClientID}, "token": {access}}).requireErr(t, 400, "Invalid token")
	twPost(t, s, "/oauth2/revoke", url.Values{"client_id": {"nobody"}, "token": {access}}).requireErr(t, 404, "client does not exist")
	twPost(t, s, "/oauth2/revoke", url.Values{"client_id": {s.ClientID}}).requireErr(t, 400, "missing oauth token")
	app := s.IssueAppToken()
	twPost(t, s, "/oauth2/revoke", url.Values{"client_id": {s.PublicClientID}, "token": {app}}).requireErr(t, 400, "Invalid token")
	require.Equal(t, 5, s.Revocations())
	require.Zero(t, s.Malformed())
	twPost(t, s, "/oauth2/revoke", url.Values{"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}, "token": {app}})
	require.Equal(t, 1, s.Malformed(), "revoke takes no secret")
}

func TestTwitchFakeHelix(t *testing.T) {
	s, clock := newTwitchFake(t)
	access, _ := s.IssueUserToken(false, "user:read:email")
	bearer := "Bearer " + access
	r := twHelix(t, s, "GET", "/helix/users", bearer, s.ClientID, "")
	require.Equal(t, 200, r.status)
	require.Equal(t, "800", r.header.Get("Ratelimit-Limit"))
	require.Equal(t, "799", r.header.Get("Ratelimit-Remaining"))
	require.Equal(t, strconv.FormatInt(clock.Now().Add(time.Minute).Unix(), 10), r.header.Get("Ratelimit-Reset"))
	require.Equal(t, "141981764", r.json(t)["data"].([]any)[0].(map[string]any)["id"])

	helixErr := func(r twReply, status int, msg string) {
		t.Helper()
		r.requireErr(t, status, msg)
		require.Equal(t, http.StatusText(status), r.json(t)["error"], "Helix adds the reason phrase")
	}
	poll := `{"broadcaster_id":"141981764","title":"?"}`
	helixErr(twHelix(t, s, "POST", "/helix/polls", bearer, s.ClientID, poll), 401, "Missing scope: channel:manage:polls")
	pollTok, _ := s.IssueUserToken(false, TwitchPollScope)
	helixErr(twHelix(t, s, "POST", "/helix/polls", "Bearer "+pollTok, s.ClientID, `{"broadcaster_id":"1"}`), 401,
		"The ID in broadcaster_id must match the user ID found in the request's OAuth token.")
	require.Equal(t, 200, twHelix(t, s, "POST", "/helix/polls", "Bearer "+pollTok, s.ClientID, poll).status)
	app := s.IssueAppToken()
	helixErr(twHelix(t, s, "POST", "/helix/polls", "Bearer "+app, s.ClientID, poll), 401, "Missing User OAUTH Token")
	helixErr(twHelix(t, s, "GET", "/helix/users", bearer, s.PublicClientID, ""), 401, "Client ID and OAuth token do not match")
	s.ExpireToken(access)
	helixErr(twHelix(t, s, "GET", "/helix/users", bearer, s.ClientID, ""), 401, "Invalid OAuth token")
	s.RateLimitNext(1)
	r = twHelix(t, s, "GET", "/helix/users", "Bearer "+pollTok, s.ClientID, "")
	helixErr(r, 429, "Too Many Requests")
	require.Equal(t, "0", r.header.Get("Ratelimit-Remaining"))
	require.Zero(t, s.Malformed())

	helixErr(twHelix(t, s, "GET", "/helix/users", "", s.ClientID, ""), 401, "OAuth token is missing")
	helixErr(twHelix(t, s, "GET", "/helix/users", "Bearer "+pollTok, "", ""), 401, "Client ID and OAuth token do not match")
	helixErr(twHelix(t, s, "GET", "/helix/users", "OAuth "+pollTok, s.ClientID, ""), 401, "Invalid OAuth token")
	require.Equal(t, 3, s.Malformed(), "%q", s.MalformedRequests())
	require.Equal(t, 11, s.APICalls())
}

func TestTwitchFakeFailuresConsumeNothing(t *testing.T) {
	s, _ := newTwitchFake(t)
	_, rt := s.IssueUserToken(false)
	refresh := s.confidential(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	s.FailTokenCalls(1, Fail5xx)
	twPost(t, s, "/oauth2/token", refresh).requireErr(t, 503, "the fake Twitch fails on purpose (FailTokenCalls)")
	s.FailTokenCalls(1, FailHTML)
	r := twPost(t, s, "/oauth2/token", refresh)
	require.Equal(t, 502, r.status)
	require.Contains(t, r.header.Get("Content-Type"), "text/html")
	s.NextTokenError(400, "Invalid refresh token")
	twPost(t, s, "/oauth2/token", refresh).requireErr(t, 400, "Invalid refresh token")
	require.Equal(t, 200, twPost(t, s, "/oauth2/token", refresh).status, "the refresh token was never spent")
	require.Equal(t, 4, s.Refreshes())
	require.Zero(t, s.SpentRefreshTokenUses())
	require.Zero(t, s.Malformed())
}

func TestTwitchFakeRespondServesTheRealHosts(t *testing.T) {
	s, _ := newTwitchFake(t)
	c := &http.Client{Transport: s.RoundTripper()}
	resp, err := c.PostForm("https://id.twitch.tv/oauth2/token", s.confidential(url.Values{"grant_type": {"client_credentials"}}))
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, "https://api.twitch.tv/helix/channels?broadcaster_id=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Client-Id", s.ClientID)
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 1, s.APICalls())
	require.Zero(t, s.Malformed())
}
