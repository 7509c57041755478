package videoauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	tkUA       = "videoauthtest-trakt/1.0"
	tkVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
)

func tkChallenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newTraktFake starts a fake on a manual clock, and fails the test at its
// end if the fake saw a malformed request the test did not expect.
func newTraktFake(t *testing.T) (*Trakt, *Clock) {
	t.Helper()
	f := NewTrakt()
	t.Cleanup(f.Close)
	c := NewClock(time.Unix(1_790_000_000, 0))
	f.SetClock(c)
	return f, c
}

// tkClean fails t at its end if f saw a malformed request.
func tkClean(t *testing.T, f *Trakt) {
	t.Helper()
	t.Cleanup(func() { require.Zero(t, f.Malformed(), "%v", f.MalformedReasons()) })
}

// tkAnswer is a response read in full.
type tkAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a tkAnswer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "%s", a.body)
	return m
}

// tkDo sends a request with Trakt's headers (those in drop left out) and
// reads the answer.
func tkDo(t *testing.T, method, u string, body string, header http.Header, drop ...string) tkAnswer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(t, err)
	req.Header.Set("User-Agent", tkUA)
	req.Header.Set("Trakt-Api-Key", traktDefaultCID)
	req.Header.Set("Trakt-Api-Version", "2")
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	for _, k := range drop {
		req.Header.Del(k)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return tkAnswer{resp.StatusCode, resp.Header, b}
}

// tkPost posts the JSON of fields to an OAuth endpoint.
func tkPost(t *testing.T, f *Trakt, path string, fields map[string]string) tkAnswer {
	t.Helper()
	b, _ := json.Marshal(fields)
	return tkDo(t, http.MethodPost, f.AuthURL+path, string(b), nil)
}

// tkAuthorize follows the consent page with a PKCE challenge and returns
// the redirect's query.
func tkAuthorize(t *testing.T, f *Trakt, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {f.ClientID}, "redirect_uri": {f.RedirectURI}, "state": {"st"},
		"code_challenge": {tkChallenge(tkVerifier)}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		if len(v) == 0 {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	a := tkDo(t, http.MethodGet, f.AuthURL+"/oauth/authorize?"+q.Encode(), "", http.Header{"User-Agent": {"Mozilla/5.0"}},
		"Trakt-Api-Key", "Trakt-Api-Version", "Content-Type")
	require.Equal(t, http.StatusFound, a.status, "%s", a.body)
	loc, err := url.Parse(a.header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc.String(), f.RedirectURI+"?"))
	return loc.Query()
}

// tkSignIn runs the code flow and returns the token answer.
func tkSignIn(t *testing.T, f *Trakt) map[string]any {
	t.Helper()
	q := tkAuthorize(t, f, nil)
	a := tkPost(t, f, "/oauth/token", map[string]string{"code": q.Get("code"), "client_id": f.ClientID,
		"redirect_uri": f.RedirectURI, "grant_type": "authorization_code", "code_verifier": tkVerifier})
	require.Equal(t, 200, a.status, "%s", a.body)
	return a.json(t)
}

func TestTraktFakeCodeFlow(t *testing.T) {
	f, c := newTraktFake(t)
	tkClean(t, f)
	q := tkAuthorize(t, f, nil)
	require.Equal(t, "st", q.Get("state"))
	code := q.Get("code")
	a := tkPost(t, f, "/oauth/token", map[string]string{"code": code, "client_id": f.ClientID,
		"redirect_uri": f.RedirectURI, "grant_type": "authorization_code", "code_verifier": tkVerifier})
	require.Equal(t, 200, a.status)
	require.Equal(t, "no-store", a.header.Get("Cache-Control"))
	tok := a.json(t)
	require.Equal(t, "bearer", tok["token_type"])
	require.EqualValues(t, 604800, tok["expires_in"])
	require.EqualValues(t, c.Now().Unix(), tok["created_at"])
	require.Equal(t, "public offline_access", tok["scope"])
	require.NotEmpty(t, tok["refresh_token"])
	// Single use.
	a = tkPost(t, f, "/oauth/token", map[string]string{"code": code, "client_id": f.ClientID,
		"redirect_uri": f.RedirectURI, "grant_type": "authorization_code", "code_verifier": tkVerifier})
	require.Equal(t, 400, a.status)
	require.Equal(t, "invalid_grant", a.json(t)["error"])
	require.Equal(t, 2, f.Exchanges())
}

func TestTraktFakeExchangeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(map[string]string)
		status int
		code   string
		desc   string
	}{
		{"wrong verifier", func(m map[string]string) { m["code_verifier"] = strings.Repeat("a", 43) }, 400, "invalid_grant", ""},
		{"no verifier", func(m map[string]string) { delete(m, "code_verifier") }, 400, "invalid_grant", ""},
		{"redirect case", func(m map[string]string) { m["redirect_uri"] = strings.ToUpper(m["redirect_uri"]) }, 400, "invalid_request", "redirect_uri mismatch"},
		{"no redirect", func(m map[string]string) { delete(m, "redirect_uri") }, 400, "invalid_request", ""},
		{"wrong client", func(m map[string]string) { m["client_id"] = "other" }, 401, "invalid_client", ""},
		{"wrong secret", func(m map[string]string) { m["client_secret"] = "other" }, 401, "invalid_client", ""},
		{"unknown grant", func(m map[string]string) { m["grant_type"] = "password" }, 400, "unsupported_grant_type", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newTraktFake(t)
			tkClean(t, f)
			q := tkAuthorize(t, f, nil)
			m := map[string]string{"code": q.Get("code"), "client_id": f.ClientID, "redirect_uri": f.RedirectURI,
				"grant_type": "authorization_code", "code_verifier": tkVerifier}
			tc.edit(m)
			a := tkPost(t, f, "/oauth/token", m)
			require.Equal(t, tc.status, a.status, "%s", a.body)
			require.Equal(t, tc.code, a.json(t)["error"])
			if tc.desc != "" {
				require.Equal(t, tc.desc, a.json(t)["error_description"])
			}
			// The code is spent by the failed attempt.
			a = tkPost(t, f, "/oauth/token", map[string]string{"code": q.Get("code"), "client_id": f.ClientID,
				"redirect_uri": f.RedirectURI, "grant_type": "authorization_code", "code_verifier": tkVerifier})
			if tc.name != "unknown grant" && tc.name != "wrong client" && tc.name != "wrong secret" {
				require.Equal(t, "invalid_grant", a.json(t)["error"], "spent")
			}
		})
	}
}

func TestTraktFakeAuthorizeEnforcesPKCE(t *testing.T) {
	f, _ := newTraktFake(t)
	// No challenge: a code bound to the server's own challenge.
	q := tkAuthorize(t, f, url.Values{"code_challenge": nil, "code_challenge_method": nil})
	a := tkPost(t, f, "/oauth/token", map[string]string{"code": q.Get("code"), "client_id": f.ClientID,
		"redirect_uri": f.RedirectURI, "grant_type": "authorization_code", "code_verifier": tkVerifier})
	require.Equal(t, "invalid_grant", a.json(t)["error"], "no verifier redeems it")
	// No challenge with a scope: refused.
	q = tkAuthorize(t, f, url.Values{"code_challenge": nil, "code_challenge_method": nil, "scope": {"public"}})
	require.Equal(t, "invalid_request", q.Get("error"))
	require.Equal(t, "pkce is required when requesting offline_access scope", q.Get("error_description"))
	// plain is refused.
	q = tkAuthorize(t, f, url.Values{"code_challenge_method": {"plain"}})
	require.Equal(t, "invalid_request", q.Get("error"))
	require.Equal(t, []string{"GET /oauth/authorize: no PKCE code_challenge", "GET /oauth/authorize: no PKCE code_challenge",
		"GET /oauth/authorize: code_challenge_method is not S256"}, f.MalformedReasons())
	// An unregistered redirect is refused before any redirect.
	a = tkDo(t, http.MethodGet, f.AuthURL+"/oauth/authorize?"+url.Values{"response_type": {"code"}, "client_id": {f.ClientID},
		"redirect_uri": {f.RedirectURI + "/"}}.Encode(), "", nil)
	require.Equal(t, 400, a.status)
	require.Equal(t, "redirect_uri mismatch", a.json(t)["error_description"])
	// Denial.
	f.DenyConsent(true)
	q = tkAuthorize(t, f, nil)
	require.Equal(t, "access_denied", q.Get("error"))
	require.Equal(t, "st", q.Get("state"))
	require.Len(t, f.MalformedReasons(), 3, "a refused redirect and a denial are not the client's fault")
}

func TestTraktFakeRefreshRotatesAndDetectsReuse(t *testing.T) {
	f, _ := newTraktFake(t)
	tkClean(t, f)
	tok := tkSignIn(t, f)
	rt, at := tok["refresh_token"].(string), tok["access_token"].(string)
	refresh := func(rt string) tkAnswer {
		return tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": rt, "client_id": f.ClientID, "grant_type": "refresh_token"})
	}
	a := refresh(rt)
	require.Equal(t, 200, a.status)
	next := a.json(t)
	require.NotEqual(t, rt, next["refresh_token"])
	require.NotEqual(t, at, next["access_token"])
	// The old access token is dead at once; the new one works.
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + at}}).status)
	require.Equal(t, 1, f.KilledTokenUses())
	require.Equal(t, 200, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + next["access_token"].(string)}}).status)
	// The old refresh token again: the grant ends.
	a = refresh(rt)
	require.Equal(t, 400, a.status)
	require.Equal(t, "invalid_grant", a.json(t)["error"])
	require.Equal(t, 1, f.RefreshReuses())
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + next["access_token"].(string)}}).status)
	require.Equal(t, "invalid_grant", refresh(next["refresh_token"].(string)).json(t)["error"])
	require.Equal(t, 3, f.Refreshes())
}

func TestTraktFakeConcurrentRefreshesOfOneGrant(t *testing.T) {
	f, _ := newTraktFake(t)
	tkClean(t, f)
	rt := tkSignIn(t, f)["refresh_token"].(string)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": rt, "client_id": f.ClientID, "grant_type": "refresh_token"}).status
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		}
	}
	require.Equal(t, 1, ok, "one refresh wins")
	require.Equal(t, 7, f.RefreshReuses(), "the others reuse a spent refresh token")
}

func TestTraktFakeKeepOldAccessTokens(t *testing.T) {
	f, _ := newTraktFake(t)
	tkClean(t, f)
	f.KeepOldAccessTokens(true)
	tok := tkSignIn(t, f)
	a := tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": tok["refresh_token"].(string), "client_id": f.ClientID, "grant_type": "refresh_token"})
	require.Equal(t, 200, a.status)
	require.Equal(t, 200, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + tok["access_token"].(string)}}).status)
	require.Zero(t, f.KilledTokenUses())
}

func TestTraktFakeDeviceFlow(t *testing.T) {
	f, c := newTraktFake(t)
	tkClean(t, f)
	a := tkPost(t, f, "/oauth/device/code", map[string]string{"client_id": f.ClientID})
	require.Equal(t, 200, a.status)
	dc := a.json(t)
	require.Equal(t, f.AuthURL+"/activate", dc["verification_url"])
	require.Len(t, dc["user_code"], 8)
	require.EqualValues(t, 600, dc["expires_in"])
	require.EqualValues(t, 5, dc["interval"])
	poll := func() tkAnswer {
		return tkPost(t, f, "/oauth/device/token", map[string]string{"code": dc["device_code"].(string), "client_id": f.ClientID})
	}
	a = poll()
	require.Equal(t, 400, a.status)
	require.Empty(t, a.body, "400 pending has no body")
	require.Equal(t, 429, poll().status, "too fast")
	require.Equal(t, 1, f.TooFastPolls())
	c.Advance(5 * time.Second)
	require.Equal(t, 400, poll().status)
	require.True(t, f.ApproveCode(dc["user_code"].(string)))
	a = poll()
	require.Equal(t, 200, a.status)
	require.NotEmpty(t, a.json(t)["access_token"])
	require.Equal(t, 409, poll().status, "already used")
	require.Equal(t, 404, tkPost(t, f, "/oauth/device/token", map[string]string{"code": "nope", "client_id": f.ClientID}).status)

	a = tkPost(t, f, "/oauth/device/code", map[string]string{"client_id": f.ClientID})
	dc2 := a.json(t)
	require.True(t, f.DenyCode(dc2["user_code"].(string)))
	require.Equal(t, 418, tkPost(t, f, "/oauth/device/token", map[string]string{"code": dc2["device_code"].(string), "client_id": f.ClientID}).status)
	a = tkPost(t, f, "/oauth/device/code", map[string]string{"client_id": f.ClientID})
	dc3 := a.json(t)
	c.Advance(600 * time.Second)
	require.Equal(t, 410, tkPost(t, f, "/oauth/device/token", map[string]string{"code": dc3["device_code"].(string), "client_id": f.ClientID}).status)
	require.False(t, f.ApproveCode(dc3["user_code"].(string)), "expired")
	require.Equal(t, 3, f.DeviceStarts())
}

func TestTraktFakeCountsMalformedRequests(t *testing.T) {
	f, _ := newTraktFake(t)
	access, _ := f.IssueToken()
	bearer := http.Header{"Authorization": {"Bearer " + access}}
	// A form body.
	a := tkDo(t, http.MethodPost, f.AuthURL+"/oauth/token", "grant_type=refresh_token", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	require.Equal(t, 400, a.status)
	// Basic client authentication.
	a = tkDo(t, http.MethodPost, f.AuthURL+"/oauth/token", `{"grant_type":"refresh_token"}`, http.Header{"Authorization": {"Basic eDp5"}})
	require.Equal(t, 401, a.status)
	// An RFC 8628 poll.
	a = tkDo(t, http.MethodPost, f.AuthURL+"/oauth/device/token", `{"grant_type":"urn:ietf:params:oauth:grant-type:device_code","device_code":"x","client_id":"`+f.ClientID+`"}`, nil)
	require.Equal(t, 404, a.status)
	// No User-Agent: the edge's page, on either host.
	a = tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", bearer, "User-Agent")
	require.Equal(t, 403, a.status)
	require.Contains(t, a.header.Get("Content-Type"), "text/html")
	require.Contains(t, string(a.body), "Sorry, you have been blocked")
	a = tkDo(t, http.MethodPost, f.AuthURL+"/oauth/revoke", `{"token":"x","client_id":"`+f.ClientID+`"}`, http.Header{"User-Agent": {"Go-http-client/1.1"}})
	require.Equal(t, 403, a.status)
	// API headers.
	require.Equal(t, 403, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", bearer, "Trakt-Api-Key").status)
	require.Equal(t, 400, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", bearer, "Trakt-Api-Version").status)
	require.Equal(t, 412, tkDo(t, http.MethodPost, f.APIURL+"/sync/history", "{}", http.Header{"Content-Type": {"text/plain"}, "Authorization": bearer["Authorization"]}).status)
	require.Equal(t, 200, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", bearer, "Content-Type").status, "counted, served")
	// OAuth on the API host.
	require.Equal(t, 404, tkDo(t, http.MethodPost, f.APIURL+"/oauth/token", "{}", nil).status)
	require.Equal(t, 301, tkDo(t, http.MethodGet, f.APIURL+"/oauth/authorize?x=1", "", nil).status)
	require.Equal(t, 2, f.OAuthOnAPIHost())
	require.Equal(t, 2, f.Blocked())
	require.Equal(t, []string{
		"POST /oauth/token: form body, not JSON",
		"POST /oauth/token: Basic client authentication",
		"POST /oauth/device/token: an RFC 8628 device poll (grant_type or device_code), not Trakt's",
		"GET /users/settings: no real User-Agent",
		"POST /oauth/revoke: no real User-Agent",
		"GET /users/settings: no trakt-api-key, or not the client id",
		"GET /users/settings: trakt-api-version is not 2",
		"POST /sync/history: Content-Type is not application/json",
		"GET /users/settings: no Content-Type",
		"POST /oauth/token: OAuth call on the API host; it belongs on auth.trakt.tv",
		"GET /oauth/authorize: OAuth call on the API host; it belongs on auth.trakt.tv",
	}, f.MalformedReasons())
}

func TestTraktFakeAPI(t *testing.T) {
	f, c := newTraktFake(t)
	tkClean(t, f)
	access, _ := f.IssueToken()
	bearer := http.Header{"Authorization": {"Bearer " + access}}
	a := tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", bearer)
	require.Equal(t, 200, a.status)
	user := a.json(t)["user"].(map[string]any)
	require.Equal(t, traktUserUUID, user["ids"].(map[string]any)["uuid"])
	require.Equal(t, 200, tkDo(t, http.MethodGet, f.APIURL+"/movies/trending", "", nil).status, "public: the API key suffices")
	a = tkDo(t, http.MethodGet, f.APIURL+"/sync/last_activities", "", nil)
	require.Equal(t, 401, a.status)
	require.Equal(t, `Bearer realm="trakt"`, a.header.Get("WWW-Authenticate"))
	a = tkDo(t, http.MethodGet, f.APIURL+"/sync/last_activities", "", http.Header{"Authorization": {"Bearer nope"}})
	require.Contains(t, a.header.Get("WWW-Authenticate"), `error="invalid_token"`)
	f.OmitChallenge(true)
	a = tkDo(t, http.MethodGet, f.APIURL+"/sync/last_activities", "", http.Header{"Authorization": {"Bearer nope"}})
	require.Equal(t, 401, a.status)
	require.Empty(t, a.header.Get("WWW-Authenticate"))
	// One write per second.
	require.Equal(t, 201, tkDo(t, http.MethodPost, f.APIURL+"/sync/history", "{}", bearer).status)
	a = tkDo(t, http.MethodPost, f.APIURL+"/sync/history", "{}", bearer)
	require.Equal(t, 429, a.status)
	require.Equal(t, "1", a.header.Get("Retry-After"))
	require.Contains(t, a.header.Get("X-Ratelimit"), "AUTHED_API_POST_LIMIT")
	c.Advance(time.Second)
	require.Equal(t, 201, tkDo(t, http.MethodPost, f.APIURL+"/sync/history", "{}", bearer).status)
	// Expiry.
	f.ExpireAccessToken(access)
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", bearer).status)
	require.Equal(t, 4, f.UnauthorizedAPICalls())
}

func TestTraktFakeFailAPICalls(t *testing.T) {
	for kind, want := range map[TraktFailure]struct {
		status int
		header string
	}{
		TraktBlocked: {403, "Cf-Ray"}, TraktBadAPIKey: {403, ""}, TraktWrongContentType: {412, ""},
		TraktAccountLimit: {420, "X-Upgrade-Url"}, TraktLocked: {423, "X-Account-Locked"}, TraktVIPOnly: {426, "X-Upgrade-Url"},
		TraktRateLimited: {429, "X-Ratelimit"}, TraktRateLimitedBare: {429, ""}, TraktOverloaded: {503, ""}, TraktCloudflareError: {520, ""},
	} {
		f, _ := newTraktFake(t)
		tkClean(t, f)
		access, _ := f.IssueToken()
		f.FailAPICalls(1, kind)
		a := tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + access}})
		require.Equal(t, want.status, a.status, "%d", kind)
		if want.header != "" {
			require.NotEmpty(t, a.header.Get(want.header), "%d", kind)
		}
		if kind == TraktRateLimitedBare {
			require.Empty(t, a.header.Get("Retry-After"))
			require.Empty(t, a.header.Get("X-Ratelimit"))
		}
		require.Equal(t, 200, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + access}}).status, "once")
	}
}

func TestTraktFakeFailAndBlockTokenCalls(t *testing.T) {
	f, _ := newTraktFake(t)
	tkClean(t, f)
	_, rt := f.IssueToken()
	body := map[string]string{"refresh_token": rt, "client_id": f.ClientID, "grant_type": "refresh_token"}
	f.FailTokenCalls(1, Fail5xx)
	require.Equal(t, 503, tkPost(t, f, "/oauth/token", body).status)
	f.FailTokenCalls(1, FailHTML)
	require.Equal(t, 502, tkPost(t, f, "/oauth/token", body).status)
	f.BlockAuthCalls(1)
	a := tkPost(t, f, "/oauth/token", body)
	require.Equal(t, 403, a.status)
	require.Contains(t, string(a.body), "blocked")
	require.Equal(t, 200, tkPost(t, f, "/oauth/token", body).status, "none of the failures spent the refresh token")
	require.Equal(t, 4, f.Refreshes())
	require.Equal(t, 1, f.Blocked())
}

func TestTraktFakeRevoke(t *testing.T) {
	f, _ := newTraktFake(t)
	tkClean(t, f)
	tok := tkSignIn(t, f)
	a := tkPost(t, f, "/oauth/revoke", map[string]string{"token": tok["access_token"].(string), "client_id": f.ClientID})
	require.Equal(t, 200, a.status)
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + tok["access_token"].(string)}}).status)
	a = tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": tok["refresh_token"].(string), "client_id": f.ClientID, "grant_type": "refresh_token"})
	require.Equal(t, "invalid_grant", a.json(t)["error"], "revoking the access token ends the grant")
	require.Equal(t, 200, tkPost(t, f, "/oauth/revoke", map[string]string{"token": "unknown", "client_id": f.ClientID}).status, "200 whatever the token")
	require.Equal(t, 2, f.Revocations())
}

// The two eras: before the migration the OAuth endpoints live on the API
// host, Doorkeeper style; Migrate ends that era.
func TestTraktFakeLegacyEraAndMigration(t *testing.T) {
	f, c := newTraktFake(t)
	tkClean(t, f)
	f.SetLegacy(true)
	require.Equal(t, 404, tkPost(t, f, "/oauth/token", map[string]string{"grant_type": "refresh_token"}).status, "no auth.trakt.tv yet")
	// The code flow on the API host, without PKCE, with the secret.
	q := url.Values{"response_type": {"code"}, "client_id": {f.ClientID}, "redirect_uri": {f.RedirectURI}, "state": {"s"}}
	a := tkDo(t, http.MethodGet, f.APIURL+"/oauth/authorize?"+q.Encode(), "", nil)
	require.Equal(t, 302, a.status)
	loc, _ := url.Parse(a.header.Get("Location"))
	code := loc.Query().Get("code")
	ex := func(fields map[string]string) tkAnswer {
		b, _ := json.Marshal(fields)
		return tkDo(t, http.MethodPost, f.APIURL+"/oauth/token", string(b), nil)
	}
	a = ex(map[string]string{"code": code, "client_id": f.ClientID, "redirect_uri": f.RedirectURI, "grant_type": "authorization_code"})
	require.Equal(t, 401, a.status, "the secret was required")
	require.Contains(t, a.header.Get("WWW-Authenticate"), `realm="Doorkeeper"`)
	a = tkDo(t, http.MethodGet, f.APIURL+"/oauth/authorize?"+q.Encode(), "", nil)
	loc, _ = url.Parse(a.header.Get("Location"))
	a = ex(map[string]string{"code": loc.Query().Get("code"), "client_id": f.ClientID, "client_secret": f.ClientSecret,
		"redirect_uri": f.RedirectURI, "grant_type": "authorization_code"})
	require.Equal(t, 200, a.status, "%s", a.body)
	tok := a.json(t)
	require.Equal(t, "public", tok["scope"])
	a = ex(map[string]string{"code": "spent", "client_id": f.ClientID, "client_secret": f.ClientSecret,
		"redirect_uri": f.RedirectURI, "grant_type": "authorization_code"})
	require.Equal(t, 401, a.status, "a bad grant is a 401 in the Doorkeeper era")
	require.Contains(t, a.header.Get("WWW-Authenticate"), `error="invalid_grant"`)

	f.Migrate()
	access := tok["access_token"].(string)
	require.Equal(t, 200, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + access}}).status,
		"access tokens outlive the migration")
	a = tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": tok["refresh_token"].(string), "client_id": f.ClientID, "grant_type": "refresh_token"})
	require.Equal(t, 400, a.status)
	require.Equal(t, map[string]any{"error": "invalid_grant", "error_description": "session not found"}, a.json(t))
	require.Equal(t, 1, f.MigratedRefreshes())
	c.Advance(7 * 24 * time.Hour)
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + access}}).status)
	// A seeded legacy grant behaves the same.
	_, lrt := f.IssueLegacyToken()
	require.Equal(t, "session not found", tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": lrt, "client_id": f.ClientID,
		"grant_type": "refresh_token"}).json(t)["error_description"])
}

func TestTraktFakeRespondsByHostName(t *testing.T) {
	f, _ := newTraktFake(t)
	tkClean(t, f)
	client := &http.Client{Transport: f.RoundTripper()}
	b, _ := json.Marshal(map[string]string{"client_id": f.ClientID})
	req, _ := http.NewRequest(http.MethodPost, "https://auth.trakt.tv/oauth/device/code", strings.NewReader(string(b)))
	for k, v := range map[string]string{"User-Agent": tkUA, "Trakt-Api-Key": f.ClientID, "Trakt-Api-Version": "2", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 1, f.DeviceStarts())
	req, _ = http.NewRequest(http.MethodGet, "https://api.trakt.tv/movies/trending", nil)
	for k, v := range map[string]string{"User-Agent": tkUA, "Trakt-Api-Key": f.ClientID, "Trakt-Api-Version": "2", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 1, f.APICalls())
}

func TestTraktFakeRestoreAndRevokeToken(t *testing.T) {
	f, c := newTraktFake(t)
	tkClean(t, f)
	f.RestoreToken("restored-at", "restored-rt", c.Now().Add(-time.Minute))
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer restored-at"}}).status, "expired")
	a := tkPost(t, f, "/oauth/token", map[string]string{"refresh_token": "restored-rt", "client_id": f.ClientID, "grant_type": "refresh_token"})
	require.Equal(t, 200, a.status, "and refreshable")
	f.RevokeToken(a.json(t)["refresh_token"].(string))
	require.Equal(t, 401, tkDo(t, http.MethodGet, f.APIURL+"/users/settings", "", http.Header{"Authorization": {"Bearer " + a.json(t)["access_token"].(string)}}).status)
}
