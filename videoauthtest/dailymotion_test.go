package videoauthtest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const dmRedirectURI = "http://127.0.0.1:9/callback"

type dmReply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func newDMFake(t *testing.T) *Dailymotion {
	t.Helper()
	d := NewDailymotion()
	t.Cleanup(d.Close)
	return d
}

func dmSend(t *testing.T, method, u, contentType, body string, header ...string) dmReply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := dmReply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

func dmPost(t *testing.T, u string, form url.Values, header ...string) dmReply {
	t.Helper()
	return dmSend(t, http.MethodPost, u, "application/x-www-form-urlencoded", form.Encode(), header...)
}

func (d *Dailymotion) publicForm(extra url.Values) url.Values {
	f := url.Values{"client_id": {d.PublicKey}, "client_secret": {d.PublicSecret}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func (d *Dailymotion) privateForm(extra url.Values) url.Values {
	f := url.Values{"client_id": {d.PrivateKey}, "client_secret": {d.PrivateSecret}, "grant_type": {"client_credentials"}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// dmConsent opens the consent page on base with q and returns the redirect.
func dmConsent(t *testing.T, d *Dailymotion, base string, q url.Values) *url.URL {
	t.Helper()
	r := dmSend(t, http.MethodGet, base+"/oauth/authorize?"+q.Encode(), "", "")
	require.Equal(t, http.StatusFound, r.status, r.raw)
	u, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	return u
}

func dmConsentQuery(d *Dailymotion, extra url.Values) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {d.PublicKey}, "redirect_uri": {dmRedirectURI}, "scope": {"manage_videos email"}, "state": {"st"}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// dmCodeGrant runs consent and the exchange and returns the token answer.
func dmCodeGrant(t *testing.T, d *Dailymotion) map[string]any {
	t.Helper()
	loc := dmConsent(t, d, d.WebURL, dmConsentQuery(d, nil))
	r := dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {dmRedirectURI}}))
	require.Equal(t, 200, r.status, r.raw)
	return r.body
}

func TestDailymotionConsentOnBothHostsAndRedirectRules(t *testing.T) {
	d := newDMFake(t)
	for _, base := range []string{d.WebURL, d.APIURL} {
		loc := dmConsent(t, d, base, dmConsentQuery(d, nil))
		require.NotEmpty(t, loc.Query().Get("code"))
		require.Equal(t, "st", loc.Query().Get("state"))
	}
	for _, tc := range []struct {
		redirect string
		ok       bool
	}{
		{"http://127.0.0.1:5555/callback", true},
		{"http://127.0.0.1/callback/slug-1", true},
		{"http://127.0.0.1:1/callback/a/b", false},
		{"http://127.0.0.1:1/callbackx", false},
		{"http://evil.example/callback", false},
		{"https://127.0.0.1/callback", false},
	} {
		r := dmSend(t, http.MethodGet, d.WebURL+"/oauth/authorize?"+dmConsentQuery(d, url.Values{"redirect_uri": {tc.redirect}}).Encode(), "", "")
		if tc.ok {
			require.Equal(t, http.StatusFound, r.status, tc.redirect)
		} else {
			require.Equal(t, http.StatusBadRequest, r.status, tc.redirect)
		}
	}
	require.Zero(t, d.Malformed(), "a redirect mismatch is refused, not malformed")
	for _, drop := range []string{"response_type", "client_id", "redirect_uri", "scope"} {
		q := dmConsentQuery(d, nil)
		q.Del(drop)
		r := dmSend(t, http.MethodGet, d.WebURL+"/oauth/authorize?"+q.Encode(), "", "")
		require.Equal(t, http.StatusBadRequest, r.status, drop)
	}
	require.Equal(t, 4, d.Malformed(), "all four parameters are required")

	d.DenyConsent(true)
	loc := dmConsent(t, d, d.WebURL, dmConsentQuery(d, nil))
	require.Equal(t, "access_denied", loc.Query().Get("error"))
	require.NotEmpty(t, loc.Query().Get("error_description"))
	require.Equal(t, "st", loc.Query().Get("state"))
	d.DenyConsent(false)
	d.OmitState(true)
	loc = dmConsent(t, d, d.WebURL, dmConsentQuery(d, nil))
	require.False(t, loc.Query().Has("state"))
}

func TestDailymotionTokenEndpointStrictness(t *testing.T) {
	d := newDMFake(t)
	u := d.APIURL + "/oauth/token"
	loc := dmConsent(t, d, d.WebURL, dmConsentQuery(d, nil))
	code := loc.Query().Get("code")
	exch := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {dmRedirectURI}}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(d.PublicKey+":"+d.PublicSecret))
	r := dmPost(t, u, exch, "Authorization", basic)
	require.Equal(t, 400, r.status, "Basic is not how Dailymotion takes client credentials")
	require.Equal(t, "invalid_request", r.body["error"])
	r = dmSend(t, http.MethodPost, u, "application/json", `{"grant_type":"authorization_code"}`)
	require.Equal(t, 400, r.status, "JSON bodies are refused")
	r = dmSend(t, http.MethodGet, u+"?"+d.publicForm(exch).Encode(), "", "")
	require.Equal(t, 400, r.status)
	r = dmSend(t, http.MethodPost, u, "application/x-www-form-urlencoded", d.publicForm(exch).Encode()+"&code=again")
	require.Equal(t, 400, r.status, "a repeated parameter")
	require.Equal(t, 4, d.Malformed())
	require.Contains(t, d.LastMalformed(), "repeated")

	r = dmPost(t, u, d.publicForm(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:9/other"}}))
	require.Equal(t, "invalid_grant", r.body["error"], "redirect_uri must be the authorize request's")
	r = dmPost(t, u, d.publicForm(exch))
	require.Equal(t, "invalid_grant", r.body["error"], "the code was burnt by the failed attempt")
	require.Equal(t, 4, d.Malformed())
	require.Equal(t, 4, d.Exchanges(), "two malformed ones with a readable grant_type, two refused")
	wrong := d.publicForm(exch)
	wrong.Set("client_secret", "nope")
	r = dmPost(t, u, wrong)
	require.Equal(t, 401, r.status)
	require.Equal(t, "invalid_client", r.body["error"])
	// The key/endpoint matrix.
	r = dmPost(t, u, d.publicForm(url.Values{"grant_type": {"client_credentials"}}))
	require.Equal(t, "unauthorized_client", r.body["error"])
	r = dmPost(t, d.OAuthURL+"/v2/token", d.publicForm(url.Values{"grant_type": {"client_credentials"}}))
	require.Equal(t, "invalid_client", r.body["error"], "a public key on the v2 endpoint")
	r = dmPost(t, d.OAuthURL+"/v2/token", d.privateForm(url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}))
	require.Equal(t, "unsupported_grant_type", r.body["error"], "password is gone in v2")
}

func TestDailymotionCodeGrantAndRotation(t *testing.T) {
	d := newDMFake(t)
	clk := NewClock(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	d.SetClock(clk)
	tok := dmCodeGrant(t, d)
	require.Equal(t, "Bearer", tok["token_type"])
	require.EqualValues(t, 36000, tok["expires_in"])
	require.Equal(t, "manage_videos email", tok["scope"])
	require.Equal(t, dmUserID, tok["uid"])
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	r := dmSend(t, http.MethodGet, d.APIURL+"/auth", "", "", "Authorization", "Bearer "+access)
	require.Equal(t, 200, r.status)
	require.Equal(t, dmUserID, r.body["id"])

	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}))
	require.Equal(t, 200, r.status, r.raw)
	require.NotContains(t, r.body, "scope", "the docs' refresh answer")
	refresh2 := r.body["refresh_token"].(string)
	require.NotEqual(t, refresh, refresh2, "rotated")
	r2 := dmSend(t, http.MethodGet, d.APIURL+"/auth", "", "", "Authorization", "Bearer "+access)
	require.Equal(t, 401, r2.status, "the previous access token died")
	require.Contains(t, r2.header.Get("WWW-Authenticate"), `error="invalid_token"`)
	require.EqualValues(t, 401, r2.body["error"].(map[string]any)["code"], "the legacy integer code")

	// Reuse of the rotated-away token ends the grant.
	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}))
	require.Equal(t, "invalid_grant", r.body["error"])
	require.Equal(t, 1, d.RefreshReuses())
	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}}))
	require.Equal(t, "invalid_grant", r.body["error"], "reuse detection ended the grant")

	d.SetRotation(false)
	_, rt := d.IssueUserToken("email")
	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}))
	require.Equal(t, rt, r.body["refresh_token"], "not rotated")

	// Expiry reads the clock.
	at, _ := d.IssueUserToken("email")
	clk.Advance(36001 * time.Second)
	r = dmSend(t, http.MethodGet, d.APIURL+"/me", "", "", "Authorization", "Bearer "+at)
	require.Equal(t, 401, r.status)
	require.Zero(t, d.Malformed())
}

func TestDailymotionAPIAnswers(t *testing.T) {
	d := newDMFake(t)
	at, _ := d.IssueUserToken("email")
	bearer := []string{"Authorization", "Bearer " + at}
	r := dmSend(t, http.MethodGet, d.APIURL+"/me/players", "", "", bearer...)
	require.Equal(t, 403, r.status)
	require.Equal(t, "Insufficient rights for route GET /user/x1fakeuser/players", r.body["error"].(map[string]any)["message"])
	r = dmSend(t, http.MethodGet, d.APIURL+"/video/xnotfound", "", "", bearer...)
	require.Equal(t, 404, r.status)
	require.Equal(t, "not_found", r.body["error"].(map[string]any)["type"])
	r = dmSend(t, http.MethodGet, d.APIURL+"/me?access_token="+at, "", "")
	require.Equal(t, 200, r.status, "the legacy API takes the query form")
	require.Equal(t, 1, d.QueryTokenUses())
	r = dmSend(t, http.MethodGet, d.APIURL+"/me", "", "")
	require.Equal(t, 400, r.status)
	require.Equal(t, 1, d.Malformed())

	for _, tc := range []struct {
		mode   DailymotionExpired
		status int
		hdr    bool
		body   bool
	}{
		{DailymotionExpiredBoth, 401, true, true}, {DailymotionExpiredChallenge, 401, true, false}, {DailymotionExpiredEnvelope, 401, false, true},
		{DailymotionExpired400, 400, true, true}, {DailymotionExpired403, 403, true, true},
	} {
		d.SetExpiredAnswer(tc.mode)
		r = dmSend(t, http.MethodGet, d.APIURL+"/me", "", "", "Authorization", "Bearer dead")
		require.Equal(t, tc.status, r.status)
		require.Equal(t, tc.hdr, r.header.Get("WWW-Authenticate") != "")
		require.Equal(t, tc.body, r.raw != "")
	}
	d.SetExpiredAnswer(DailymotionExpiredBoth)
	d.RateLimitNext(1)
	r = dmSend(t, http.MethodGet, d.APIURL+"/me", "", "", bearer...)
	require.Equal(t, 429, r.status)
	require.Equal(t, "3", r.header.Get("Retry-After"))

	r = dmSend(t, http.MethodGet, d.APIURL+"/logout", "", "", bearer...)
	require.Equal(t, 200, r.status)
	r = dmSend(t, http.MethodGet, d.APIURL+"/me", "", "", bearer...)
	require.Equal(t, 401, r.status, "logged out")
	require.Equal(t, 1, d.Logouts())
}

func TestDailymotionPrivateKeys(t *testing.T) {
	d := newDMFake(t)
	r := dmPost(t, d.OAuthURL+"/v2/token", d.privateForm(url.Values{"scope": {"bundle.public account.read nonsense"}}))
	require.Equal(t, 200, r.status, r.raw)
	require.EqualValues(t, 1800, r.body["expires_in"])
	require.NotContains(t, r.body, "refresh_token")
	require.Equal(t, "bundle.public account.read", r.body["scope"], "narrowed to the key's permissions")
	jwt := r.body["access_token"].(string)
	require.Len(t, strings.Split(jwt, "."), 3)
	auth := []string{"Authorization", "Bearer " + jwt}
	r = dmSend(t, http.MethodGet, d.APIURL+"/v2/me", "", "", auth...)
	require.Equal(t, 200, r.status)
	require.Equal(t, dmOrgUserID, r.body["user_id"])
	r = dmSend(t, http.MethodPost, d.APIURL+"/v2/videos", "application/json", `{}`, auth...)
	require.Equal(t, 403, r.status)
	require.Equal(t, "MISSING_PERMISSIONS", r.body["error"].(map[string]any)["code"])
	r = dmSend(t, http.MethodGet, d.APIURL+"/me", "", "", auth...)
	require.Equal(t, 401, r.status, "a v2 token on the legacy API")
	d.ExpireToken(jwt)
	r = dmSend(t, http.MethodGet, d.APIURL+"/v2/me", "", "", auth...)
	require.Equal(t, 401, r.status)
	require.Equal(t, "UNAUTHORIZED", r.body["error"].(map[string]any)["code"])

	r = dmPost(t, d.PartnerURL+"/oauth/v1/token", d.privateForm(url.Values{"scope": {"manage_videos"}}))
	require.Equal(t, 200, r.status, r.raw)
	require.EqualValues(t, 3600, r.body["expires_in"])
	pt := r.body["access_token"].(string)
	r = dmSend(t, http.MethodGet, d.PartnerURL+"/rest/auth", "", "", "Authorization", "Bearer "+pt)
	require.Equal(t, 200, r.status)
	r = dmSend(t, http.MethodGet, d.APIURL+"/v2/me", "", "", "Authorization", "Bearer "+pt)
	require.Equal(t, 401, r.status, "a partner token on v2")
	r = dmPost(t, d.PartnerURL+"/oauth/v1/token", d.privateForm(url.Values{"scope": {"nonsense"}}))
	require.Equal(t, "invalid_scope", r.body["error"])
	require.Equal(t, 3, d.Mints())
	require.Zero(t, d.Malformed())
}

func TestDailymotionImplicitPasswordAndPKCE(t *testing.T) {
	d := newDMFake(t)
	loc := dmConsent(t, d, d.WebURL, dmConsentQuery(d, url.Values{"response_type": {"token"}}))
	frag, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	require.NotEmpty(t, frag.Get("access_token"))
	require.Equal(t, "st", frag.Get("state"))
	require.Empty(t, loc.Query().Get("access_token"), "in the fragment only")

	r := dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"password"}, "username": {d.Username}, "password": {"bad"}}))
	require.Equal(t, "invalid_grant", r.body["error"])
	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(url.Values{"grant_type": {"password"}, "username": {d.Username}, "password": {d.Password}, "scope": {"email"}}))
	require.Equal(t, 200, r.status)
	require.NotEmpty(t, r.body["refresh_token"])
	require.Equal(t, 2, d.PasswordGrants())

	d.EnforcePKCE(true)
	loc = dmConsent(t, d, d.WebURL, dmConsentQuery(d, url.Values{"code_challenge": {dmS256("verifier")}, "code_challenge_method": {"S256"}}))
	exch := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {dmRedirectURI}, "code_verifier": {"wrong"}}
	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(exch))
	require.Equal(t, "invalid_grant", r.body["error"])
	d.UntickScopes("email")
	loc = dmConsent(t, d, d.WebURL, dmConsentQuery(d, url.Values{"code_challenge": {dmS256("verifier")}, "code_challenge_method": {"S256"}}))
	exch.Set("code", loc.Query().Get("code"))
	exch.Set("code_verifier", "verifier")
	r = dmPost(t, d.APIURL+"/oauth/token", d.publicForm(exch))
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "manage_videos", r.body["scope"], "email unticked")
	require.Zero(t, d.Malformed())
}

func TestDailymotionFailuresAndRespond(t *testing.T) {
	d := newDMFake(t)
	d.FailTokenCalls(1, Fail5xx)
	r := dmPost(t, d.OAuthURL+"/v2/token", d.privateForm(nil))
	require.Equal(t, 503, r.status)
	d.FailTokenCalls(1, FailHTML)
	r = dmPost(t, d.OAuthURL+"/v2/token", d.privateForm(nil))
	require.Equal(t, 502, r.status)
	require.Equal(t, 2, d.TokenCalls())
	require.Equal(t, 2, d.Mints())

	// In process, by the real host names.
	c := &http.Client{Transport: d.RoundTripper()}
	resp, err := c.PostForm("https://oauth2.dailymotion.com/v2/token", d.privateForm(nil))
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodGet, "https://api.dailymotion.com/v2/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	resp, err = c.Get("https://www.dailymotion.com/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode, "the web host has the consent page only")
	require.Zero(t, d.Malformed())
}
