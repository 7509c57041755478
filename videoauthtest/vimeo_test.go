package videoauthtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const accept = "application/vnd.vimeo.*+json;version=3.4"

func newFake(t *testing.T) *Vimeo {
	t.Helper()
	v := NewVimeo()
	t.Cleanup(v.Close)
	return v
}

// useClock gives v a manual Clock, so tests can expire codes and tokens.
func useClock(v *Vimeo) *Clock {
	c := NewClock(time.Now())
	v.SetClock(c)
	return c
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// send sends req to v, with the versioned Accept header unless req sets one,
// without following redirects.
func send(v *Vimeo, req *http.Request) (reply, error) {
	if _, ok := req.Header["Accept"]; !ok {
		req.Header.Set("Accept", accept)
	}
	c := *v.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}, err
}

// do sends a request with the given header name/value pairs.
func do(t *testing.T, v *Vimeo, method, path, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, v.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header[header[i]] = []string{header[i+1]}
	}
	r, err := send(v, req)
	require.NoError(t, err)
	return r
}

func rawBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// postToken posts form to a token endpoint with the fake's own credentials.
func postToken(t *testing.T, v *Vimeo, path string, form url.Values) reply {
	t.Helper()
	return do(t, v, http.MethodPost, path, form.Encode(),
		"Authorization", rawBasic(v.ClientID, v.ClientSecret),
		"Content-Type", "application/x-www-form-urlencoded")
}

func auth(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// authorize sends the browser to /oauth/authorize with q (client_id added)
// and returns the answer.
func authorize(t *testing.T, v *Vimeo, q url.Values) reply {
	t.Helper()
	q.Set("client_id", v.ClientID)
	return do(t, v, http.MethodGet, "/oauth/authorize?"+q.Encode(), "")
}

// code runs the consent step of the code flow and returns the code.
func code(t *testing.T, v *Vimeo, redirect string, extra url.Values) string {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "redirect_uri": {redirect}, "state": {"st"}}
	for k, vs := range extra {
		q[k] = vs
	}
	r := authorize(t, v, q)
	require.Equal(t, http.StatusFound, r.status, string(r.body))
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

func requireAuthHeaders(t *testing.T, r reply) {
	t.Helper()
	require.Equal(t, "application/vnd.vimeo.auth+json", r.header.Get("Content-Type"))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
}

func TestClientCredentials(t *testing.T) {
	v := newFake(t)
	form := url.Values{"grant_type": {"client_credentials"}}
	for _, tc := range []struct {
		name        string
		method      string
		auth        string
		contentType string
		body        string
		status      int
		errCode     string
	}{
		{"ok", "POST", rawBasic(v.ClientID, v.ClientSecret), "application/x-www-form-urlencoded", form.Encode(), 200, ""},
		{"scopes asked are ignored", "POST", rawBasic(v.ClientID, v.ClientSecret), "application/x-www-form-urlencoded; charset=utf-8", form.Encode() + "&scope=private+upload", 200, ""},
		{"url-escaped secret", "POST", rawBasic(url.QueryEscape(v.ClientID), url.QueryEscape(v.ClientSecret)), "application/x-www-form-urlencoded", form.Encode(), 401, "invalid_client"},
		{"wrong secret", "POST", rawBasic(v.ClientID, "nope"), "application/x-www-form-urlencoded", form.Encode(), 401, "invalid_client"},
		{"no authorization", "POST", "", "application/x-www-form-urlencoded", form.Encode(), 401, "invalid_client"},
		{"credentials in body", "POST", "", "application/x-www-form-urlencoded", form.Encode() + "&client_id=vimeo-test-client&client_secret=s3cr%2Bt%2Fwith%3Dreserved", 401, "invalid_client"},
		{"wrong grant", "POST", rawBasic(v.ClientID, v.ClientSecret), "application/x-www-form-urlencoded", "grant_type=password", 400, "unsupported_grant_type"},
		{"json body", "POST", rawBasic(v.ClientID, v.ClientSecret), "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request"},
		{"GET", "GET", rawBasic(v.ClientID, v.ClientSecret), "", "", 405, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.auth != "" {
				h = append(h, "Authorization", tc.auth)
			}
			if tc.contentType != "" {
				h = append(h, "Content-Type", tc.contentType)
			}
			r := do(t, v, tc.method, "/oauth/authorize/client", tc.body, h...)
			require.Equal(t, tc.status, r.status, string(r.body))
			requireAuthHeaders(t, r)
			m := r.json(t)
			if tc.errCode != "" {
				require.Equal(t, tc.errCode, m["error"])
				require.NotEmpty(t, m["error_description"])
				if tc.errCode == "invalid_client" {
					require.Equal(t, "A valid client ID must be provided along with any request made to Vimeo's API", m["error_description"])
				}
				return
			}
			require.Regexp(t, `^[0-9a-f]{32}$`, m["access_token"])
			require.Equal(t, "bearer", m["token_type"])
			require.Equal(t, "public", m["scope"], "client-credentials tokens are public-only")
			require.Equal(t, map[string]any{"name": "Fake App", "uri": "/apps/1"}, m["app"])
			require.NotContains(t, m, "user")
			require.Equal(t, 200, do(t, v, "GET", "/videos", "", auth(m["access_token"].(string))...).status)
		})
	}
	require.Equal(t, 2, v.Mints())
	require.Equal(t, 9, v.TokenCalls())
	require.Zero(t, v.Exchanges())
	require.Empty(t, v.LastTokenForm(), "the last request (GET) had no form body")
}

func TestAuthorizeRejectsWithoutRedirect(t *testing.T) {
	v := newFake(t)
	good := url.Values{"response_type": {"code"}, "client_id": {v.ClientID}, "redirect_uri": {"https://app.example/cb"}, "state": {"s"}}
	for _, tc := range []struct {
		name   string
		mutate func(url.Values)
	}{
		{"missing state", func(q url.Values) { q.Del("state") }},
		{"empty state", func(q url.Values) { q.Set("state", "") }},
		{"wrong client_id", func(q url.Values) { q.Set("client_id", "other") }},
		{"missing redirect_uri", func(q url.Values) { q.Del("redirect_uri") }},
		{"relative redirect_uri", func(q url.Values) { q.Set("redirect_uri", "/cb") }},
		{"bad response_type", func(q url.Values) { q.Set("response_type", "id_token") }},
		{"bad challenge method", func(q url.Values) { q.Set("code_challenge", "x"); q.Set("code_challenge_method", "S512") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := cloneValues(good)
			tc.mutate(q)
			r := do(t, v, "GET", "/oauth/authorize?"+q.Encode(), "")
			require.Equal(t, http.StatusBadRequest, r.status)
			require.Empty(t, r.header.Get("Location"))
			require.Equal(t, q, v.LastAuthorizeQuery())
		})
	}
}

func TestCodeFlow(t *testing.T) {
	v := newFake(t)
	const redirect = "https://app.example/cb?keep=a%20b"
	r := authorize(t, v, url.Values{
		"response_type": {"code"}, "redirect_uri": {redirect + "#dropped"},
		"state": {"s t&ate"}, "scope": {"private upload"},
	})
	require.Equal(t, http.StatusFound, r.status)
	loc := r.header.Get("Location")
	require.Regexp(t, `^https://app\.example/cb\?keep=a%20b&code=[0-9a-f]{32}&state=s\+t%26ate$`, loc)
	u, _ := url.Parse(loc)
	require.Equal(t, "s t&ate", u.Query().Get("state"))
	require.Equal(t, "private upload", v.LastAuthorizeQuery().Get("scope"))

	form := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {redirect + "#dropped"}}
	r = postToken(t, v, "/oauth/access_token", form)
	require.Equal(t, 200, r.status, string(r.body))
	requireAuthHeaders(t, r)
	m := r.json(t)
	require.Equal(t, "bearer", m["token_type"])
	require.Equal(t, "public private upload", m["scope"], "public is always granted")
	require.Equal(t, map[string]any{"uri": "/users/4242", "name": "Fake User", "link": "https://vimeo.com/user4242"}, m["user"])
	require.Equal(t, "/apps/1", m["app"].(map[string]any)["uri"])
	require.Equal(t, form, v.LastTokenForm())
	require.Equal(t, 200, do(t, v, "GET", "/me", "", auth(m["access_token"].(string))...).status)

	r = postToken(t, v, "/oauth/access_token", form)
	require.Equal(t, 400, r.status)
	require.Equal(t, "invalid_grant", r.json(t)["error"])
	require.Equal(t, 2, v.Exchanges())
	require.Zero(t, v.Mints())
}

func TestCodeFlowDefaultScope(t *testing.T) {
	v := newFake(t)
	c := code(t, v, "http://127.0.0.1:1/cb", nil)
	r := postToken(t, v, "/oauth/access_token", url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:1/cb"}})
	require.Equal(t, "public private", r.json(t)["scope"])
}

func TestExchangeFailures(t *testing.T) {
	const redirect = "https://app.example/cb"
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	s256 := url.Values{"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	plain := url.Values{"code_challenge": {verifier}, "code_challenge_method": {"plain"}}
	for _, tc := range []struct {
		name     string
		pkce     url.Values
		mutate   func(url.Values)
		status   int
		errCode  string
		consumed bool // a later, correct exchange fails too
	}{
		{"ok without pkce", nil, func(url.Values) {}, 200, "", true},
		{"pkce S256", s256, func(f url.Values) { f.Set("code_verifier", verifier) }, 200, "", true},
		{"pkce plain", plain, func(f url.Values) { f.Set("code_verifier", verifier) }, 200, "", true},
		{"pkce verifier absent is accepted", s256, func(url.Values) {}, 200, "", true},
		{"pkce mismatch", s256, func(f url.Values) { f.Set("code_verifier", strings.Repeat("w", 43)) }, 400, "invalid_grant", true},
		{"redirect_uri differs", nil, func(f url.Values) { f.Set("redirect_uri", redirect+"/") }, 400, "invalid_grant", true},
		{"redirect_uri missing", nil, func(f url.Values) { f.Del("redirect_uri") }, 400, "invalid_grant", true},
		{"unknown code", nil, func(f url.Values) { f.Set("code", "nope") }, 400, "invalid_grant", false},
		{"wrong grant type", nil, func(f url.Values) { f.Set("grant_type", "client_credentials") }, 400, "unsupported_grant_type", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newFake(t)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code(t, v, redirect, tc.pkce)}, "redirect_uri": {redirect}}
			if tc.pkce != nil {
				form.Set("code_verifier", verifier)
			}
			bad := cloneValues(form)
			bad.Del("code_verifier")
			tc.mutate(bad)
			r := postToken(t, v, "/oauth/access_token", bad)
			require.Equal(t, tc.status, r.status, string(r.body))
			requireAuthHeaders(t, r)
			if tc.errCode != "" {
				require.Equal(t, tc.errCode, r.json(t)["error"])
			}
			r = postToken(t, v, "/oauth/access_token", form)
			if tc.consumed {
				require.Equal(t, 400, r.status, "codes are single use, even after a failed attempt")
				require.Equal(t, "invalid_grant", r.json(t)["error"])
			} else {
				require.Equal(t, 200, r.status, string(r.body))
			}
			require.Equal(t, 2, v.Exchanges())
		})
	}
}

func TestImplicitGrant(t *testing.T) {
	v := newFake(t)
	clock := useClock(v)
	r := authorize(t, v, url.Values{"response_type": {"token"}, "redirect_uri": {"https://app.example/implicit?secure_key=abc#a=b"}, "state": {"h3110 w0r16"}})
	require.Equal(t, http.StatusFound, r.status)
	loc := r.header.Get("Location")
	require.Regexp(t, `^https://app\.example/implicit\?secure_key=abc#access_token=[0-9a-f]{32}&token_type=bearer&scope=public\+private&state=h3110\+w0r16&expires_in=3600$`, loc)
	u, _ := url.Parse(loc)
	frag, err := url.ParseQuery(u.Fragment)
	require.NoError(t, err)
	require.Equal(t, "h3110 w0r16", frag.Get("state"))
	tok := frag.Get("access_token")

	require.Equal(t, 200, do(t, v, "GET", "/me", "", auth(tok)...).status)
	clock.Advance(3599 * time.Second)
	require.Equal(t, 200, do(t, v, "GET", "/videos", "", auth(tok)...).status)
	clock.Advance(time.Second)
	r = do(t, v, "GET", "/videos", "", auth(tok)...)
	require.Equal(t, 401, r.status, "implicit tokens expire after 3600 s")
	require.EqualValues(t, 8000, r.json(t)["error_code"])
	require.Equal(t, 401, do(t, v, "GET", "/oauth/verify", "", auth(tok)...).status)
	require.Zero(t, v.TokenCalls(), "the implicit grant has no token endpoint")
}

func TestDenyConsent(t *testing.T) {
	v := newFake(t)
	v.DenyConsent(true)
	for _, rt := range []string{"code", "token"} {
		t.Run(rt, func(t *testing.T) {
			r := authorize(t, v, url.Values{"response_type": {rt}, "redirect_uri": {"https://app.example/cb"}, "state": {"st"}})
			require.Equal(t, http.StatusFound, r.status)
			u, err := url.Parse(r.header.Get("Location"))
			require.NoError(t, err)
			params, where := u.Query(), u.Fragment
			if rt == "token" {
				params, _ = url.ParseQuery(u.Fragment)
				where = u.RawQuery
			}
			require.Empty(t, where)
			require.Equal(t, url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"}, "state": {"st"}}, params)
		})
	}
	v.DenyConsent(false)
	code(t, v, "https://app.example/cb", nil)
}

func TestDeviceGrant(t *testing.T) {
	start := func(t *testing.T, v *Vimeo, scope string) (poll url.Values, userCode string) {
		t.Helper()
		r := postToken(t, v, "/oauth/device", url.Values{"grant_type": {"device_grant"}, "scope": {scope}})
		require.Equal(t, 200, r.status, string(r.body))
		requireAuthHeaders(t, r)
		m := r.json(t)
		require.Regexp(t, `^[A-Z0-9]{6}$`, m["user_code"])
		require.Regexp(t, `^[0-9a-f]{32}$`, m["device_code"])
		require.Equal(t, v.URL+"/oauth/device/authorize", m["authorize_link"])
		require.Equal(t, v.URL+"/activate", m["activate_link"])
		require.EqualValues(t, 300, m["expires_in"])
		require.EqualValues(t, 5, m["interval"])
		userCode = m["user_code"].(string)
		return url.Values{"grant_type": {"device_grant"}, "device_code": {m["device_code"].(string)}, "user_code": {userCode}, "scope": {scope}}, userCode
	}
	pollErr := func(t *testing.T, v *Vimeo, form url.Values, want string) {
		t.Helper()
		r := postToken(t, v, "/oauth/device/authorize", form)
		require.Equal(t, 400, r.status, string(r.body))
		requireAuthHeaders(t, r)
		require.Equal(t, want, r.json(t)["error"])
	}

	t.Run("approved", func(t *testing.T) {
		v := newFake(t)
		form, uc := start(t, v, "private")
		pollErr(t, v, form, "authorization_pending")
		require.False(t, v.ApproveDevice("NOPE42"))
		wrong := cloneValues(form)
		wrong.Set("user_code", "NOPE42")
		pollErr(t, v, wrong, "invalid_grant")

		require.True(t, v.ApproveDevice(uc))
		require.False(t, v.ApproveDevice(uc), "no longer pending")
		r := postToken(t, v, "/oauth/device/authorize", form)
		require.Equal(t, 200, r.status, string(r.body))
		m := r.json(t)
		require.Equal(t, "public private", m["scope"])
		require.Equal(t, "/users/4242", m["user"].(map[string]any)["uri"])
		require.Equal(t, 200, do(t, v, "GET", "/me", "", auth(m["access_token"].(string))...).status)
		require.Equal(t, form, v.LastTokenForm())

		pollErr(t, v, form, "invalid_grant") // the code is gone
		require.Equal(t, 4, v.DevicePolls())
		require.Equal(t, 5, v.TokenCalls())
	})
	t.Run("denied", func(t *testing.T) {
		v := newFake(t)
		form, uc := start(t, v, "")
		require.True(t, v.DenyDevice(uc))
		require.False(t, v.ApproveDevice(uc))
		pollErr(t, v, form, "access_denied")
		pollErr(t, v, form, "access_denied")
	})
	t.Run("expired", func(t *testing.T) {
		v := newFake(t)
		clock := useClock(v)
		form, uc := start(t, v, "")
		clock.Advance(299 * time.Second)
		pollErr(t, v, form, "authorization_pending")
		clock.Advance(time.Second)
		pollErr(t, v, form, "expired_token")
		require.False(t, v.ApproveDevice(uc))
	})
	t.Run("wrong grant", func(t *testing.T) {
		v := newFake(t)
		r := postToken(t, v, "/oauth/device", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
		require.Equal(t, 400, r.status)
		require.Equal(t, "unsupported_grant_type", r.json(t)["error"])
		form, _ := start(t, v, "")
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
		pollErr(t, v, form, "unsupported_grant_type")
	})
}

func TestVerifyAndRevoke(t *testing.T) {
	v := newFake(t)
	user := v.IssueUserToken("private")
	r := do(t, v, "GET", "/oauth/verify", "", auth(user)...)
	require.Equal(t, 200, r.status)
	requireAuthHeaders(t, r)
	m := r.json(t)
	require.Equal(t, user, m["access_token"])
	require.Equal(t, "public private", m["scope"])
	require.Contains(t, m, "user")
	require.Contains(t, m, "app")

	app := postToken(t, v, "/oauth/authorize/client", url.Values{"grant_type": {"client_credentials"}}).json(t)["access_token"].(string)
	m = do(t, v, "GET", "/oauth/verify", "", auth(app)...).json(t)
	require.NotContains(t, m, "user")
	require.Equal(t, "public", m["scope"])

	r = do(t, v, "DELETE", "/tokens", "", auth(user)...)
	require.Equal(t, http.StatusNoContent, r.status)
	require.Empty(t, r.body)
	for _, h := range [][]string{auth(user), nil} {
		r = do(t, v, "GET", "/oauth/verify", "", h...)
		require.Equal(t, 401, r.status)
		require.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))
		require.Equal(t, map[string]any{"error": "The access token is not a valid OAuth 2 token."}, r.json(t))
	}
	r = do(t, v, "DELETE", "/tokens", "", auth(user)...)
	require.Equal(t, 401, r.status)
	require.EqualValues(t, 8000, r.json(t)["error_code"])
	require.Equal(t, 200, do(t, v, "GET", "/videos", "", auth(app)...).status, "only the revoked token is gone")
	require.Equal(t, 3, v.APICalls(), "/tokens counts, /oauth/verify does not")
}

func TestAPI(t *testing.T) {
	v := newFake(t)
	app := postToken(t, v, "/oauth/authorize/client", url.Values{"grant_type": {"client_credentials"}}).json(t)["access_token"].(string)
	user := v.IssueUserToken()
	uploader := v.IssueUserToken("private", "upload")
	for _, tc := range []struct {
		name      string
		method    string
		path      string
		header    []string
		body      string
		status    int
		errorCode int // 0: not an error
		invalid   bool
		contains  string
	}{
		{"no authorization", "GET", "/videos", nil, "", 401, 8003, false, "The app didn't receive the user's credentials."},
		{"basic is not bearer", "GET", "/videos", []string{"Authorization", rawBasic(v.ClientID, v.ClientSecret)}, "", 401, 8003, false, ""},
		{"unknown token", "GET", "/videos", auth("0123"), "", 401, 8000, true, "The user access token is invalid."},
		{"empty bearer", "GET", "/videos", []string{"Authorization", "Bearer "}, "", 401, 8003, false, ""},
		{"lower-case bearer", "GET", "/videos", []string{"Authorization", "bearer " + app}, "", 200, 0, false, `"uri":"/videos/1"`},
		{"videos", "GET", "/videos?query=cats", auth(app), "", 200, 0, false, `"total":1`},
		{"video", "GET", "/videos/42", auth(app), "", 200, 0, false, `"uri":"/videos/42"`},
		{"video bad id", "GET", "/videos/abc", auth(app), "", 404, 5000, false, ""},
		{"me with app token", "GET", "/me", auth(app), "", 401, 8002, false, "No user is associated with the access token."},
		{"me", "GET", "/me", auth(user), "", 200, 0, false, `"name":"Fake User"`},
		{"patch me", "PATCH", "/me", auth(user), `{"bio":"hi ✓"}`, 200, 0, false, `{"bio":"hi ✓"}`},
		{"patch me with app token", "PATCH", "/me", auth(app), `{"bio":"x"}`, 401, 8002, false, ""},
		{"upload without scope", "POST", "/me/videos", auth(user), `{}`, 403, 3200, false, "The supplied token doesn't have the proper scopes."},
		{"upload with app token", "POST", "/me/videos", auth(app), `{}`, 403, 3200, false, ""},
		{"upload", "POST", "/me/videos", auth(uploader), `{"upload":{"size":3}}`, 201, 0, false, `"received_bytes":21`},
		{"unknown path", "GET", "/nope", auth(user), "", 404, 5000, false, ""},
		{"wrong method", "POST", "/videos", auth(user), "x", 405, 6000, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, v, tc.method, tc.path, tc.body, tc.header...)
			require.Equal(t, tc.status, r.status, string(r.body))
			require.Regexp(t, `^application/vnd\.vimeo\.[a-z]+\+json$`, r.header.Get("Content-Type"))
			require.Contains(t, string(r.body), tc.contains)
			if tc.invalid {
				require.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))
			} else {
				require.Empty(t, r.header.Get("WWW-Authenticate"))
			}
			if tc.errorCode != 0 {
				m := r.json(t)
				require.EqualValues(t, tc.errorCode, m["error_code"])
				require.NotEmpty(t, m["error"])
				require.NotEmpty(t, m["developer_message"])
				require.Contains(t, m, "link")
				require.Nil(t, m["link"])
			}
		})
	}
	require.Equal(t, 17, v.APICalls())
	bodies := v.APIBodies()
	require.Len(t, bodies, 17)
	require.Equal(t, `{"bio":"hi ✓"}`, string(bodies[10]))
	require.Empty(t, bodies[0])
	bodies[10][0] = 'X'
	require.Equal(t, `{"bio":"hi ✓"}`, string(v.APIBodies()[10]), "APIBodies returns a copy")
}

func TestDeleteTokens(t *testing.T) {
	v := newFake(t)
	a, b := v.IssueUserToken(), v.IssueUserToken()
	v.DeleteToken(a)
	require.Equal(t, 401, do(t, v, "GET", "/me", "", auth(a)...).status)
	require.Equal(t, 200, do(t, v, "GET", "/me", "", auth(b)...).status)
	v.DeleteAllTokens()
	r := do(t, v, "GET", "/me", "", auth(b)...)
	require.Equal(t, 401, r.status)
	require.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))
}

func TestFailTokenCalls(t *testing.T) {
	ccForm := url.Values{"grant_type": {"client_credentials"}}
	for _, tc := range []struct {
		mode        FailMode
		status      int
		contentType string
		body        string
	}{
		{Fail5xx, 503, "application/vnd.vimeo.auth+json", `"error":"server_error"`},
		{FailHTML, 502, "text/html; charset=utf-8", "<html>"},
	} {
		t.Run(fmt.Sprint(tc.mode), func(t *testing.T) {
			v := newFake(t)
			v.FailTokenCalls(2, tc.mode)
			for range 2 {
				r := postToken(t, v, "/oauth/authorize/client", ccForm)
				require.Equal(t, tc.status, r.status)
				require.Equal(t, tc.contentType, r.header.Get("Content-Type"))
				require.Contains(t, string(r.body), tc.body)
			}
			require.Equal(t, 200, postToken(t, v, "/oauth/authorize/client", ccForm).status)
			require.Equal(t, 3, v.TokenCalls())
			require.Equal(t, 1, v.Mints())
		})
	}
	t.Run("before client authentication", func(t *testing.T) {
		v := newFake(t)
		v.FailTokenCalls(1, Fail5xx)
		require.Equal(t, 503, do(t, v, "POST", "/oauth/device", "").status)
		require.Equal(t, 401, do(t, v, "POST", "/oauth/device", "").status)
	})
	t.Run("failed exchange consumes nothing", func(t *testing.T) {
		v := newFake(t)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code(t, v, "https://app.example/cb", nil)}, "redirect_uri": {"https://app.example/cb"}}
		v.FailTokenCalls(1, Fail5xx)
		require.Equal(t, 503, postToken(t, v, "/oauth/access_token", form).status)
		require.Equal(t, 200, postToken(t, v, "/oauth/access_token", form).status)
		require.Equal(t, 2, v.Exchanges())
	})
	t.Run("off", func(t *testing.T) {
		v := newFake(t)
		v.FailTokenCalls(5, FailHTML)
		v.FailTokenCalls(0, FailHTML)
		require.Equal(t, 200, postToken(t, v, "/oauth/authorize/client", ccForm).status)
	})
}

func TestLatency(t *testing.T) {
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	newReq := func(ctx context.Context, v *Vimeo) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, "POST", v.URL+"/oauth/authorize/client", strings.NewReader(form))
		req.Header.Set("Authorization", rawBasic(v.ClientID, v.ClientSecret))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	t.Run("waits", func(t *testing.T) {
		v := newFake(t)
		v.SetLatency(50 * time.Millisecond)
		begin := time.Now()
		r, err := send(v, newReq(context.Background(), v))
		require.NoError(t, err)
		require.Equal(t, 200, r.status)
		require.GreaterOrEqual(t, time.Since(begin), 50*time.Millisecond)
		require.Less(t, do(t, v, "GET", "/videos", "").status, 500, "API calls are not delayed")
	})
	t.Run("client goes away", func(t *testing.T) {
		v := newFake(t)
		v.SetLatency(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := send(v, newReq(ctx, v))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 1, v.TokenCalls())
		require.Zero(t, v.Mints())
	})
	t.Run("close ends waiting requests", func(t *testing.T) {
		v := NewVimeo()
		v.SetLatency(time.Hour)
		done := make(chan error, 1)
		go func() {
			_, err := send(v, newReq(context.Background(), v))
			done <- err
		}()
		require.Eventually(t, func() bool { return v.TokenCalls() == 1 }, 5*time.Second, time.Millisecond)
		begin := time.Now()
		v.Close()
		v.Close()
		require.Less(t, time.Since(begin), 5*time.Second)
		require.Error(t, <-done)
	})
}

func TestMissingAccept(t *testing.T) {
	v := newFake(t)
	tok := v.IssueUserToken()
	want := 0
	for _, tc := range []struct {
		accept []string
		ok     bool
	}{
		{[]string{"application/vnd.vimeo.*+json;version=3.4"}, true},
		{[]string{"application/vnd.vimeo.*+json; version=3.4"}, true},
		{[]string{"application/json, application/vnd.vimeo.*+json;version=3.2"}, true},
		{[]string{"text/plain", "application/vnd.vimeo.*+json;version=3.4"}, true},
		{[]string{"application/vnd.vimeo.*;version=3.4"}, false},
		{[]string{"application/vnd.vimeo.*+json"}, false},
		{[]string{"application/vnd.vimeo.*+json;version=3"}, false},
		{[]string{"application/json"}, false},
		{[]string{""}, false},
		{nil, false},
	} {
		t.Run(strings.Join(tc.accept, "|"), func(t *testing.T) {
			for _, path := range []string{"/videos", "/oauth/verify", "/oauth/authorize/client"} {
				req, _ := http.NewRequest("GET", v.URL+path, nil)
				req.Header["Accept"] = tc.accept
				if tc.accept == nil {
					req.Header["Accept"] = nil // present in the map: send adds nothing
				}
				req.Header.Set("Authorization", "Bearer "+tok)
				_, err := send(v, req)
				require.NoError(t, err)
				if !tc.ok {
					want++
				}
				require.Equal(t, want, v.MissingAccept(), path)
			}
		})
	}
	t.Run("consent page is for browsers", func(t *testing.T) {
		before := v.MissingAccept()
		r := do(t, v, "GET", "/oauth/authorize?response_type=code&client_id="+v.ClientID+"&redirect_uri=https://a.example/cb&state=s", "", "Accept", "text/html")
		require.Equal(t, http.StatusFound, r.status)
		require.Equal(t, before, v.MissingAccept())
	})
}

func TestConcurrentUse(t *testing.T) {
	v := newFake(t)
	tok := v.IssueUserToken()
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	ccForm := url.Values{"grant_type": {"client_credentials"}}.Encode()
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", v.URL+"/videos", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			r, err := send(v, req)
			if err == nil && r.status != 200 {
				err = fmt.Errorf("GET /videos: %d %s", r.status, r.body)
			}
			errs <- err
		})
		wg.Go(func() {
			if i%2 == 0 {
				req, _ := http.NewRequest("POST", v.URL+"/oauth/authorize/client", strings.NewReader(ccForm))
				req.Header.Set("Authorization", rawBasic(v.ClientID, v.ClientSecret))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r, err := send(v, req)
				if err == nil && r.status != 200 {
					err = fmt.Errorf("mint: %d %s", r.status, r.body)
				}
				errs <- err
				return
			}
			v.DeleteToken(v.IssueUserToken("upload"))
			_ = v.Mints() + v.APICalls() + v.TokenCalls() + len(v.APIBodies()) + len(v.LastTokenForm())
			errs <- nil
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	require.NoError(t, errors.Join(all...))
	require.Equal(t, n, v.APICalls())
	require.Equal(t, n/2, v.Mints())
	require.Equal(t, n/2, v.TokenCalls())
	require.Zero(t, v.MissingAccept())
}

func TestUserCodes(t *testing.T) {
	re := regexp.MustCompile(`^[A-Z0-9]{6}$`)
	for range 100 {
		require.Regexp(t, re, userCode(6))
	}
	require.Equal(t, "public", grantScopes("", "public"))
	require.Equal(t, "public private", grantScopes("private public private", "x"))
}
