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
)

const (
	skUA       = "videoauthtest-simkl/1.0"
	skVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	skRedirect = "http://127.0.0.1:8765/callback"
)

var skClientIDFailed = `{"error":"client_id_failed","code":412,"message":"Your client_id is wrong. Try another one"}`

func newSimklFake(t *testing.T) *Simkl {
	t.Helper()
	s := NewSimkl()
	t.Cleanup(s.Close)
	return s
}

func newSimklClock(t *testing.T) (*Simkl, *Clock) {
	t.Helper()
	s := newSimklFake(t)
	c := NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	s.SetClock(c)
	return s, c
}

func skChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// skQuery returns the per-request parameters Simkl wants for clientID, plus
// extra.
func skQuery(clientID string, extra url.Values) url.Values {
	q := url.Values{"client_id": {clientID}, "app-name": {"videoauth-test"}, "app-version": {"1.0"}}
	for k, vs := range extra {
		q[k] = vs
	}
	return q
}

func skURL(base, path string, q url.Values) string {
	if len(q) == 0 {
		return base + path
	}
	return base + path + "?" + q.Encode()
}

type skReply struct {
	status int
	header http.Header
	body   []byte
}

func (r skReply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// requireErr checks the status and the "error" field of a JSON answer.
func (r skReply) requireErr(t *testing.T, status int, id string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	m := r.json(t)
	require.Equal(t, id, m["error"], string(r.body))
	return m
}

func (r skReply) location(t *testing.T) *url.URL {
	t.Helper()
	require.Equal(t, http.StatusFound, r.status, string(r.body))
	u, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	return u
}

// skSend sends req without following redirects, with a User-Agent unless
// req has one (an empty one sends none).
func skSend(req *http.Request) (skReply, error) {
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", skUA)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return skReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return skReply{resp.StatusCode, resp.Header, b}, err
}

// skDo sends a request with the given header name/value pairs.
func skDo(t *testing.T, method, rawURL, body string, header ...string) skReply {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header[header[i]] = []string{header[i+1]}
	}
	r, err := skSend(req)
	require.NoError(t, err)
	return r
}

// skPostForm posts form to the API host's path, with clientID's parameters
// on the URL.
func skPostForm(t *testing.T, s *Simkl, path, clientID string, form url.Values, header ...string) skReply {
	t.Helper()
	header = append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
	return skDo(t, http.MethodPost, skURL(s.APIURL, path, skQuery(clientID, nil)), form.Encode(), header...)
}

func skGet(t *testing.T, s *Simkl, path, clientID, token string) skReply {
	t.Helper()
	var h []string
	if token != "" {
		h = []string{"Authorization", "Bearer " + token}
	}
	return skDo(t, http.MethodGet, skURL(s.APIURL, path, skQuery(clientID, nil)), "", h...)
}

func skBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// skV1Authorize opens the V1 consent page with the given parameters (the
// per-request ones added).
func skV1Authorize(t *testing.T, s *Simkl, q url.Values) skReply {
	t.Helper()
	return skDo(t, http.MethodGet, skURL(s.WebURL, "/oauth/authorize", skQuery(s.ClientID, q)), "")
}

// skV1Code runs V1 consent for skRedirect plus extra and returns the code.
func skV1Code(t *testing.T, s *Simkl, extra url.Values) string {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}, "state": {"st"}}
	for k, vs := range extra {
		q[k] = vs
	}
	c := skV1Authorize(t, s, q).location(t).Query().Get("code")
	require.NotEmpty(t, c)
	return c
}

// skV1Exchange posts fields to /oauth/token, as JSON or a form, adding the
// client credentials id and secret ("" leaves one out) to the body or a
// Basic header.
func skV1Exchange(t *testing.T, s *Simkl, fields url.Values, id, secret string, asJSON, basic bool) skReply {
	t.Helper()
	fields = cloneValues(fields)
	var header []string
	if basic {
		header = append(header, "Authorization", skBasic(id, secret))
	} else {
		if id != "" {
			fields.Set("client_id", id)
		}
		if secret != "" {
			fields.Set("client_secret", secret)
		}
	}
	body := fields.Encode()
	ct := "application/x-www-form-urlencoded"
	if asJSON {
		m := map[string]string{}
		for k := range fields {
			m[k] = fields.Get(k)
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		body, ct = string(b), "application/json"
	}
	header = append(header, "Content-Type", ct)
	return skDo(t, http.MethodPost, skURL(s.APIURL, "/oauth/token", skQuery(s.ClientID, nil)), body, header...)
}

func skCodeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {skRedirect}}
}

// skV1Flow runs the confidential V1 code flow and returns the token.
func skV1Flow(t *testing.T, s *Simkl) string {
	t.Helper()
	r := skV1Exchange(t, s, skCodeForm(skV1Code(t, s, nil)), s.ClientID, s.ClientSecret, false, false)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return r.json(t)["access_token"].(string)
}

// skV2Authorize opens the V2 consent page.
func skV2Authorize(t *testing.T, s *Simkl, q url.Values) skReply {
	t.Helper()
	return skDo(t, http.MethodGet, skURL(s.WebURL, "/oauth2/authorize", skQuery(s.V2ClientID, q)), "")
}

func skV2Query(scope string) url.Values {
	q := url.Values{
		"response_type": {"code"}, "redirect_uri": {skRedirect}, "state": {"st-2"},
		"code_challenge": {skChallenge(skVerifier)}, "code_challenge_method": {"S256"},
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	return q
}

// skV2Code runs V2 consent and returns the code.
func skV2Code(t *testing.T, s *Simkl, scope string) string {
	t.Helper()
	loc := skV2Authorize(t, s, skV2Query(scope)).location(t)
	require.Equal(t, s.WebURL, loc.Query().Get("iss"))
	require.NotEmpty(t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

func skV2ExchangeForm(s *Simkl, code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {skRedirect},
		"client_id": {s.V2ClientID}, "code_verifier": {skVerifier},
	}
}

// skV2Flow runs the V2 code flow and returns the token response.
func skV2Flow(t *testing.T, s *Simkl, scope string) map[string]any {
	t.Helper()
	r := skPostForm(t, s, "/oauth2/token", s.V2ClientID, skV2ExchangeForm(s, skV2Code(t, s, scope)))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return r.json(t)
}

var (
	skPINCodeRE    = regexp.MustCompile(`^[A-Z0-9]{5}$`)
	skDeviceCodeRE = regexp.MustCompile(`^[A-Z0-9]{8}$`)
)

func TestSimklV1CodeFlow(t *testing.T) {
	for _, tc := range []struct {
		name          string
		asJSON, basic bool
	}{
		{"form, body credentials", false, false},
		{"form, Basic", false, true},
		{"JSON, body credentials", true, false},
		{"JSON, Basic", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimklFake(t)
			redirect := skRedirect + "?keep=1#frag"
			q := url.Values{"response_type": {"code"}, "redirect_uri": {redirect}, "state": {"a b&c"}}
			loc := skV1Authorize(t, s, q).location(t)
			require.Equal(t, "127.0.0.1:8765", loc.Host)
			require.Equal(t, "/callback", loc.Path)
			require.Empty(t, loc.Fragment)
			require.Equal(t, "1", loc.Query().Get("keep"))
			require.Equal(t, "a b&c", loc.Query().Get("state"))
			require.Empty(t, loc.Query().Get("iss"), "V1 sends no iss")
			require.Equal(t, skQuery(s.ClientID, q), s.LastAuthorizeQuery())

			form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}}
			r := skV1Exchange(t, s, form, s.ClientID, s.ClientSecret, tc.asJSON, tc.basic)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			require.Equal(t, "no-store", r.header.Get("Cache-Control"))
			m := r.json(t)
			require.Equal(t, "bearer", m["token_type"])
			require.Equal(t, "public", m["scope"])
			require.EqualValues(t, 157680000, m["expires_in"])
			require.NotContains(t, m, "refresh_token")
			tok := m["access_token"].(string)
			require.Regexp(t, `^[0-9a-f]{64}$`, tok)
			if !tc.basic {
				require.Equal(t, s.ClientSecret, s.LastTokenForm().Get("client_secret"))
			}

			require.Equal(t, tok, skV1Flow(t, s), "same user, same token")
			settings := skGet(t, s, "/users/settings", s.ClientID, tok)
			require.Equal(t, http.StatusOK, settings.status, string(settings.body))
			require.JSONEq(t, `{"user":{"name":"Fake User"},"account":{"id":4242}}`, string(settings.body))

			require.Equal(t, 2, s.Exchanges())
			require.Equal(t, 2, s.TokenCalls())
			require.Zero(t, s.Refreshes())
			require.Zero(t, s.MissingParams())
		})
	}
}

func TestSimklV1Authorize(t *testing.T) {
	s := newSimklFake(t)
	t.Run("state is optional", func(t *testing.T) {
		loc := skV1Authorize(t, s, url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}}).location(t)
		require.NotEmpty(t, loc.Query().Get("code"))
		require.False(t, loc.Query().Has("state"))
	})
	for _, tc := range []struct {
		name string
		q    url.Values
		id   string
	}{
		{"no redirect_uri", url.Values{"response_type": {"code"}}, s.ClientID},
		{"relative redirect_uri", url.Values{"response_type": {"code"}, "redirect_uri": {"/cb"}}, s.ClientID},
		{"response_type token", url.Values{"response_type": {"token"}, "redirect_uri": {skRedirect}}, s.ClientID},
		{"no response_type", url.Values{"redirect_uri": {skRedirect}}, s.ClientID},
		{"V2 app", url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}}, s.V2ClientID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := skDo(t, http.MethodGet, skURL(s.WebURL, "/oauth/authorize", skQuery(tc.id, tc.q)), "")
			require.Equal(t, http.StatusBadRequest, r.status)
			require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		})
	}
	t.Run("POST", func(t *testing.T) {
		r := skDo(t, http.MethodPost, skURL(s.WebURL, "/oauth/authorize", skQuery(s.ClientID, nil)), "")
		require.Equal(t, http.StatusMethodNotAllowed, r.status)
	})
	t.Run("denial goes to the home page", func(t *testing.T) {
		s.DenyConsent(true)
		defer s.DenyConsent(false)
		r := skV1Authorize(t, s, url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}, "state": {"st"}})
		require.Equal(t, http.StatusFound, r.status)
		require.Equal(t, s.WebURL+"/", r.header.Get("Location"))
		// A browser following it, with no Simkl parameters, sees a page.
		home := skDo(t, http.MethodGet, r.header.Get("Location"), "")
		require.Equal(t, http.StatusOK, home.status)
		require.Contains(t, string(home.body), "<html>")
	})
	require.Zero(t, s.MissingParams())
}

func TestSimklV1PKCE(t *testing.T) {
	for _, tc := range []struct {
		name             string
		challenge        string
		method           *string
		verifier, secret string
		status           int
		errID            string
	}{
		{name: "S256", challenge: skChallenge(skVerifier), method: skPtr("S256"), verifier: skVerifier, status: 200},
		{name: "plain", challenge: skVerifier, method: skPtr("plain"), verifier: skVerifier, status: 200},
		{name: "method omitted means S256", challenge: skChallenge(skVerifier), verifier: skVerifier, status: 200},
		{name: "lowercase s256 is ignored: Wrong Secret", challenge: skChallenge(skVerifier), method: skPtr("s256"), verifier: skVerifier, status: 401, errID: "secret_error"},
		{name: "PLAIN is ignored too", challenge: skVerifier, method: skPtr("PLAIN"), verifier: skVerifier, status: 401, errID: "secret_error"},
		{name: "wrong verifier", challenge: skChallenge(skVerifier), method: skPtr("S256"), verifier: strings.Repeat("x", 43), status: 401, errID: "secret_error"},
		{name: "short verifier", challenge: "short", method: skPtr("plain"), verifier: "short", status: 401, errID: "secret_error"},
		{name: "verifier without challenge", verifier: skVerifier, status: 401, errID: "secret_error"},
		{name: "secret and verifier", challenge: skChallenge(skVerifier), method: skPtr("S256"), verifier: skVerifier, secret: "simkl-v1-secret", status: 401, errID: "secret_error"},
		{name: "secret alone despite a challenge", challenge: skChallenge(skVerifier), method: skPtr("S256"), secret: "simkl-v1-secret", status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimklFake(t)
			extra := url.Values{}
			if tc.challenge != "" {
				extra.Set("code_challenge", tc.challenge)
			}
			if tc.method != nil {
				extra.Set("code_challenge_method", *tc.method)
			}
			form := skCodeForm(skV1Code(t, s, extra))
			if tc.verifier != "" {
				form.Set("code_verifier", tc.verifier)
			}
			r := skV1Exchange(t, s, form, s.ClientID, tc.secret, false, false)
			if tc.status == 200 {
				require.Equal(t, 200, r.status, string(r.body))
				require.NotEmpty(t, r.json(t)["access_token"])
				return
			}
			r.requireErr(t, tc.status, tc.errID)
			require.Equal(t, `Bearer realm="api.simkl.com", error="`+tc.errID+`"`, r.header.Get("WWW-Authenticate"))
		})
	}
}

func skPtr(s string) *string { return &s }

func TestSimklV1CodeSingleUse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		first  func(s *Simkl, form url.Values) (url.Values, string)
		status int
		errID  string
	}{
		{"after a redirect mismatch", func(s *Simkl, f url.Values) (url.Values, string) {
			f.Set("redirect_uri", skRedirect+"/")
			return f, s.ClientSecret
		}, 403, "redirect_failed"},
		{"after a wrong secret", func(s *Simkl, f url.Values) (url.Values, string) { return f, "nope" }, 401, "secret_error"},
		{"after a missing field", func(s *Simkl, f url.Values) (url.Values, string) {
			f.Del("redirect_uri")
			return f, s.ClientSecret
		}, 403, "empty_field"},
		{"after a success", func(s *Simkl, f url.Values) (url.Values, string) { return f, s.ClientSecret }, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimklFake(t)
			form := skCodeForm(skV1Code(t, s, nil))
			first, secret := tc.first(s, cloneValues(form))
			r := skV1Exchange(t, s, first, s.ClientID, secret, false, false)
			require.Equal(t, tc.status, r.status, string(r.body))
			if tc.errID != "" {
				r.requireErr(t, tc.status, tc.errID)
			}
			skV1Exchange(t, s, form, s.ClientID, s.ClientSecret, false, false).requireErr(t, 401, "grant_error")
			require.Equal(t, 2, s.Exchanges())
		})
	}
}

func TestSimklV1TokenErrors(t *testing.T) {
	type req struct {
		form       url.Values
		id, secret string
		query      string // client_id on the URL
	}
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, s *Simkl, c *Clock, r *req)
		status int
		errID  string
	}{
		{"no grant_type", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.form.Del("grant_type") }, 403, "empty_field"},
		{"no code", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.form.Del("code") }, 403, "empty_field"},
		{"no redirect_uri", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.form.Del("redirect_uri") }, 403, "empty_field"},
		{"no client_id", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.id = "" }, 403, "empty_field"},
		{"no secret nor verifier", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.secret = "" }, 403, "empty_field"},
		{"redirect_uri differs", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) {
			r.form.Set("redirect_uri", "http://localhost:8765/callback")
		}, 403, "redirect_failed"},
		{"wrong secret", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.secret = "wrong" }, 401, "secret_error"},
		{"other client_id in the body", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.id = "someone-else" }, 401, "secret_error"},
		{"unknown code", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) { r.form.Set("code", "deadbeef") }, 401, "grant_error"},
		{"expired code", func(_ *testing.T, _ *Simkl, c *Clock, _ *req) { c.Advance(11 * time.Minute) }, 401, "grant_error"},
		{"V2 code", func(t *testing.T, s *Simkl, _ *Clock, r *req) { r.form.Set("code", skV2Code(t, s, "")) }, 401, "grant_error"},
		{"refresh grant", func(_ *testing.T, _ *Simkl, _ *Clock, r *req) {
			r.form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
		}, 400, "unsupported_grant_type"},
		{"V2 app", func(_ *testing.T, s *Simkl, _ *Clock, r *req) {
			r.query, r.id, r.secret = s.V2ClientID, s.V2ClientID, s.V2ClientSecret
		}, 400, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newSimklClock(t)
			r := req{form: skCodeForm(skV1Code(t, s, nil)), id: s.ClientID, secret: s.ClientSecret, query: s.ClientID}
			tc.mutate(t, s, c, &r)
			f := cloneValues(r.form)
			if r.id != "" {
				f.Set("client_id", r.id)
			}
			if r.secret != "" {
				f.Set("client_secret", r.secret)
			}
			resp := skDo(t, http.MethodPost, skURL(s.APIURL, "/oauth/token", skQuery(r.query, nil)), f.Encode(),
				"Content-Type", "application/x-www-form-urlencoded")
			m := resp.requireErr(t, tc.status, tc.errID)
			require.EqualValues(t, tc.status, m["code"], "Simkl's envelope")
			if tc.status == 401 {
				require.Equal(t, `Bearer realm="api.simkl.com", error="`+tc.errID+`"`, resp.header.Get("WWW-Authenticate"))
			} else {
				require.Empty(t, resp.header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("no body type", func(t *testing.T) {
		s := newSimklFake(t)
		f := skCodeForm(skV1Code(t, s, nil))
		f.Set("client_id", s.ClientID)
		f.Set("client_secret", s.ClientSecret)
		skDo(t, http.MethodPost, skURL(s.APIURL, "/oauth/token", skQuery(s.ClientID, nil)), f.Encode()).requireErr(t, 403, "empty_field")
		require.Equal(t, 1, s.TokenCalls())
		require.Zero(t, s.Exchanges(), "the grant type was never read")
	})
	t.Run("GET", func(t *testing.T) {
		s := newSimklFake(t)
		skGet(t, s, "/oauth/token", s.ClientID, "").requireErr(t, 405, "method_not_allowed")
	})
}

func TestSimklPINFlow(t *testing.T) {
	start := func(t *testing.T, s *Simkl) string {
		t.Helper()
		r := skGet(t, s, "/oauth/pin", s.ClientID, "")
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		m := r.json(t)
		code := m["user_code"].(string)
		require.Regexp(t, skPINCodeRE, code)
		require.Equal(t, map[string]any{
			"result": "OK", "device_code": "DEVICE_CODE", "user_code": code,
			"verification_uri": s.WebURL + "/pin", "verification_url": s.WebURL + "/pin",
			"expires_in": 900.0, "interval": 5.0,
		}, m)
		return code
	}
	poll := func(t *testing.T, s *Simkl, code string) map[string]any {
		t.Helper()
		r := skGet(t, s, "/oauth/pin/"+code, s.ClientID, "")
		require.Equal(t, http.StatusOK, r.status, "PIN polls are always HTTP 200: %s", r.body)
		return r.json(t)
	}
	pending := map[string]any{"result": "KO", "message": "Authorization pending"}
	slow := map[string]any{"result": "KO", "message": "Slow down"}

	t.Run("approved", func(t *testing.T) {
		s, c := newSimklClock(t)
		code := start(t, s)
		require.Equal(t, pending, poll(t, s, code))
		require.Equal(t, slow, poll(t, s, code), "polled again at once")
		c.Advance(4 * time.Second)
		require.Equal(t, slow, poll(t, s, code), "every poll restarts the interval")
		c.Advance(5 * time.Second)
		require.Equal(t, pending, poll(t, s, code))
		require.True(t, s.ApproveCode(code))
		require.False(t, s.ApproveCode(code), "already approved")
		m := poll(t, s, code)
		require.Equal(t, "OK", m["result"])
		require.Len(t, m, 2, "token only: %v", m)
		tok := m["access_token"].(string)
		v1, refresh := s.IssueToken(false)
		require.Equal(t, v1, tok)
		require.Empty(t, refresh)
		require.Equal(t, tok, skV1Flow(t, s), "same user, same token, whatever the flow")
		require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.ClientID, tok).status)

		// The trap: the approved code is gone, and polling it mints a new one.
		c.Advance(5 * time.Second)
		again := poll(t, s, code)
		require.Equal(t, "DEVICE_CODE", again["device_code"])
		require.NotEqual(t, code, again["user_code"])
		require.Equal(t, 6, s.PINPolls())
		require.Equal(t, 1, s.TokenCalls(), "PIN calls are not token calls; one exchange was")
	})
	t.Run("unknown code mints a new one", func(t *testing.T) {
		s := newSimklFake(t)
		m := poll(t, s, "ZZZZZ")
		require.Equal(t, "OK", m["result"])
		require.Equal(t, "DEVICE_CODE", m["device_code"])
		require.Regexp(t, skPINCodeRE, m["user_code"])
		require.Equal(t, pending, poll(t, s, m["user_code"].(string)), "the new code is live")
	})
	t.Run("expired", func(t *testing.T) {
		s, c := newSimklClock(t)
		code := start(t, s)
		c.Advance(900 * time.Second)
		require.False(t, s.ApproveCode(code))
		m := poll(t, s, code)
		require.Equal(t, "DEVICE_CODE", m["device_code"])
		require.NotEqual(t, code, m["user_code"])
	})
	t.Run("denied stays pending", func(t *testing.T) {
		s, c := newSimklClock(t)
		code := start(t, s)
		require.True(t, s.DenyCode(code))
		require.False(t, s.ApproveCode(code))
		for range 3 {
			require.Equal(t, pending, poll(t, s, code))
			c.Advance(5 * time.Second)
		}
	})
	t.Run("V2 app refused", func(t *testing.T) {
		s := newSimklFake(t)
		require.Equal(t, http.StatusBadRequest, skGet(t, s, "/oauth/pin", s.V2ClientID, "").status)
		require.Equal(t, http.StatusBadRequest, skGet(t, s, "/oauth/pin/ABCDE", s.V2ClientID, "").status)
		require.Equal(t, http.StatusMethodNotAllowed, skDo(t, http.MethodPost, skURL(s.APIURL, "/oauth/pin", skQuery(s.ClientID, nil)), "").status)
	})
}

func TestSimklV2CodeFlow(t *testing.T) {
	t.Run("approved", func(t *testing.T) {
		s := newSimklFake(t)
		loc := skV2Authorize(t, s, skV2Query("media:read media:write")).location(t)
		require.Equal(t, "st-2", loc.Query().Get("state"))
		require.Equal(t, s.WebURL, loc.Query().Get("iss"))
		r := skPostForm(t, s, "/oauth2/token", s.V2ClientID, skV2ExchangeForm(s, loc.Query().Get("code")))
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		m := r.json(t)
		require.Equal(t, "Bearer", m["token_type"])
		require.EqualValues(t, 604800, m["expires_in"])
		require.Equal(t, "media:read media:write", m["scope"])
		require.Regexp(t, `^simkl_at_[0-9a-f]+$`, m["access_token"])
		require.Regexp(t, `^simkl_rt_[0-9a-f]+$`, m["refresh_token"])
		require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, m["access_token"].(string)).status)
		require.Equal(t, 1, s.Exchanges())

		second := skV2Flow(t, s, "")
		require.NotEqual(t, m["access_token"], second["access_token"], "each V2 flow opens a grant")
	})
	t.Run("server app sends its secret", func(t *testing.T) {
		s := newSimklFake(t)
		f := skV2ExchangeForm(s, skV2Code(t, s, ""))
		f.Set("client_secret", s.V2ClientSecret)
		require.Equal(t, http.StatusOK, skPostForm(t, s, "/oauth2/token", s.V2ClientID, f).status)
	})
	for _, tc := range []struct{ asked, granted string }{
		{"", "media:read"},
		{"media:read", "media:read"},
		{"media:write", "media:write"},
		{"media:write media:read", "media:read media:write"},
		{"media:read media:wirte", "media:read"},
		{"media:read,media:write", "media:read"},
	} {
		t.Run("scope "+tc.asked, func(t *testing.T) {
			s := newSimklFake(t)
			require.Equal(t, tc.granted, skV2Flow(t, s, tc.asked)["scope"])
		})
	}
	t.Run("denied", func(t *testing.T) {
		s := newSimklFake(t)
		s.DenyConsent(true)
		loc := skV2Authorize(t, s, skV2Query("")).location(t)
		require.Equal(t, "127.0.0.1:8765", loc.Host)
		require.Equal(t, url.Values{"error": {"access_denied"}, "state": {"st-2"}, "iss": {s.WebURL}}, loc.Query())
	})
	for _, tc := range []struct {
		name   string
		mutate func(s *Simkl, q url.Values) string // returns the client_id
	}{
		{"plain", func(s *Simkl, q url.Values) string { q.Set("code_challenge_method", "plain"); return s.V2ClientID }},
		{"lowercase s256", func(s *Simkl, q url.Values) string { q.Set("code_challenge_method", "s256"); return s.V2ClientID }},
		{"no method", func(s *Simkl, q url.Values) string { q.Del("code_challenge_method"); return s.V2ClientID }},
		{"no challenge", func(s *Simkl, q url.Values) string { q.Del("code_challenge"); return s.V2ClientID }},
		{"no state", func(s *Simkl, q url.Values) string { q.Del("state"); return s.V2ClientID }},
		{"no redirect_uri", func(s *Simkl, q url.Values) string { q.Del("redirect_uri"); return s.V2ClientID }},
		{"response_type token", func(s *Simkl, q url.Values) string { q.Set("response_type", "token"); return s.V2ClientID }},
		{"V1 app", func(s *Simkl, _ url.Values) string { return s.ClientID }},
	} {
		t.Run("authorize refuses "+tc.name, func(t *testing.T) {
			s := newSimklFake(t)
			q := skV2Query("")
			id := tc.mutate(s, q)
			r := skDo(t, http.MethodGet, skURL(s.WebURL, "/oauth2/authorize", skQuery(id, q)), "")
			require.Equal(t, http.StatusBadRequest, r.status, r.header.Get("Location"))
			require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		})
	}
}

func TestSimklV2ExchangeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		send   func(t *testing.T, s *Simkl, f url.Values) skReply
		status int
		errID  string
		burnt  bool
	}{
		{"wrong verifier", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Set("code_verifier", strings.Repeat("a", 43))
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f)
		}, 400, "invalid_grant", true},
		{"no verifier", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Del("code_verifier")
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f)
		}, 400, "invalid_grant", true},
		{"redirect_uri differs", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Set("redirect_uri", "http://127.0.0.1:8766/callback")
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f)
		}, 400, "invalid_grant", true},
		{"Basic client authentication", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Del("client_id")
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f, "Authorization", skBasic(s.V2ClientID, s.V2ClientSecret))
		}, 401, "invalid_client", true},
		{"wrong secret", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Set("client_secret", "nope")
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f)
		}, 401, "invalid_client", true},
		{"no client_id in the body", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Del("client_id")
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f)
		}, 401, "invalid_client", true},
		{"V1 app", func(t *testing.T, s *Simkl, f url.Values) skReply {
			return skPostForm(t, s, "/oauth2/token", s.ClientID, f)
		}, 401, "invalid_client", true},
		{"unsupported grant", func(t *testing.T, s *Simkl, f url.Values) skReply {
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, url.Values{"grant_type": {"password"}, "client_id": {s.V2ClientID}})
		}, 400, "unsupported_grant_type", false},
		{"no grant_type", func(t *testing.T, s *Simkl, f url.Values) skReply {
			f.Del("grant_type")
			return skPostForm(t, s, "/oauth2/token", s.V2ClientID, f)
		}, 400, "invalid_request", false},
		{"JSON body", func(t *testing.T, s *Simkl, f url.Values) skReply {
			m := map[string]string{}
			for k := range f {
				m[k] = f.Get(k)
			}
			b, _ := json.Marshal(m)
			return skDo(t, http.MethodPost, skURL(s.APIURL, "/oauth2/token", skQuery(s.V2ClientID, nil)), string(b), "Content-Type", "application/json")
		}, 400, "invalid_request", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimklFake(t)
			form := skV2ExchangeForm(s, skV2Code(t, s, ""))
			tc.send(t, s, cloneValues(form)).requireErr(t, tc.status, tc.errID)
			retry := skPostForm(t, s, "/oauth2/token", s.V2ClientID, form)
			if tc.burnt {
				m := retry.requireErr(t, 400, "invalid_grant")
				require.Equal(t, "Authorization code is invalid, expired, or already used", m["error_description"])
			} else {
				require.Equal(t, http.StatusOK, retry.status, string(retry.body))
			}
		})
	}
	t.Run("V1 code", func(t *testing.T) {
		s := newSimklFake(t)
		skPostForm(t, s, "/oauth2/token", s.V2ClientID, skV2ExchangeForm(s, skV1Code(t, s, nil))).requireErr(t, 400, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		s, c := newSimklClock(t)
		form := skV2ExchangeForm(s, skV2Code(t, s, ""))
		c.Advance(time.Hour)
		skPostForm(t, s, "/oauth2/token", s.V2ClientID, form).requireErr(t, 400, "invalid_grant")
	})
}

func TestSimklV2DeviceFlow(t *testing.T) {
	start := func(t *testing.T, s *Simkl, scope string) (deviceCode, userCode string) {
		t.Helper()
		form := url.Values{"client_id": {s.V2ClientID}}
		if scope != "" {
			form.Set("scope", scope)
		}
		r := skPostForm(t, s, "/oauth2/device", s.V2ClientID, form)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		m := r.json(t)
		userCode = m["user_code"].(string)
		require.Regexp(t, skDeviceCodeRE, userCode)
		deviceCode = m["device_code"].(string)
		require.Regexp(t, `^[0-9a-f]{40}$`, deviceCode)
		require.Equal(t, map[string]any{
			"device_code": deviceCode, "user_code": userCode,
			"verification_uri":          s.WebURL + "/pin",
			"verification_uri_complete": s.WebURL + "/pin/" + userCode,
			"expires_in":                900.0, "interval": 5.0,
		}, m)
		return deviceCode, userCode
	}
	poll := func(t *testing.T, s *Simkl, deviceCode string) skReply {
		t.Helper()
		return skPostForm(t, s, "/oauth2/token", s.V2ClientID, url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}, "client_id": {s.V2ClientID},
		})
	}

	t.Run("approved", func(t *testing.T) {
		s, c := newSimklClock(t)
		dc, uc := start(t, s, "media:read media:write")
		poll(t, s, dc).requireErr(t, 400, "authorization_pending")
		poll(t, s, dc).requireErr(t, 400, "slow_down") // interval now 10 s
		c.Advance(5 * time.Second)
		poll(t, s, dc).requireErr(t, 400, "slow_down") // interval now 15 s
		c.Advance(15 * time.Second)
		poll(t, s, dc).requireErr(t, 400, "authorization_pending")
		require.True(t, s.ApproveCode(uc))
		require.False(t, s.DenyCode(uc), "already decided")
		r := poll(t, s, dc)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		m := r.json(t)
		require.Equal(t, "media:read media:write", m["scope"])
		require.Regexp(t, `^simkl_at_`, m["access_token"])
		require.Regexp(t, `^simkl_rt_`, m["refresh_token"])
		poll(t, s, dc).requireErr(t, 400, "invalid_grant")
		require.Equal(t, 6, s.DevicePolls())
		require.Equal(t, 6, s.TokenCalls())
		require.Zero(t, s.Exchanges())
	})
	t.Run("default scope", func(t *testing.T) {
		s := newSimklFake(t)
		dc, uc := start(t, s, "")
		require.True(t, s.ApproveCode(uc))
		r := poll(t, s, dc)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "media:read", r.json(t)["scope"])
	})
	t.Run("denied", func(t *testing.T) {
		s := newSimklFake(t)
		dc, uc := start(t, s, "")
		require.True(t, s.DenyCode(uc))
		require.False(t, s.ApproveCode(uc))
		poll(t, s, dc).requireErr(t, 400, "access_denied")
		poll(t, s, dc).requireErr(t, 400, "invalid_grant")
	})
	t.Run("expired", func(t *testing.T) {
		s, c := newSimklClock(t)
		dc, uc := start(t, s, "")
		c.Advance(900 * time.Second)
		require.False(t, s.ApproveCode(uc))
		poll(t, s, dc).requireErr(t, 400, "expired_token")
	})
	t.Run("unknown and missing codes", func(t *testing.T) {
		s := newSimklFake(t)
		poll(t, s, "nope").requireErr(t, 400, "invalid_grant")
		poll(t, s, "").requireErr(t, 400, "invalid_request")
		require.False(t, s.ApproveCode("NOPENOPE"))
		require.False(t, s.DenyCode("NOPENOPE"))
	})
	t.Run("start refused", func(t *testing.T) {
		s := newSimklFake(t)
		skPostForm(t, s, "/oauth2/device", s.ClientID, url.Values{"client_id": {s.ClientID}}).requireErr(t, 401, "invalid_client")
		skPostForm(t, s, "/oauth2/device", s.V2ClientID, url.Values{}).requireErr(t, 401, "invalid_client")
		skDo(t, http.MethodPost, skURL(s.APIURL, "/oauth2/device", skQuery(s.V2ClientID, nil)), `{"client_id":"simkl-v2-client"}`,
			"Content-Type", "application/json").requireErr(t, 400, "invalid_request")
		require.Equal(t, url.Values{"client_id": {s.V2ClientID}}, s.LastTokenForm())
	})
}

func TestSimklV2Refresh(t *testing.T) {
	refresh := func(t *testing.T, s *Simkl, rt string) skReply {
		t.Helper()
		return skPostForm(t, s, "/oauth2/token", s.V2ClientID, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.V2ClientID},
		})
	}
	s, c := newSimklClock(t)
	at, rt := s.IssueToken(true, "media:read", "media:write")
	c.Advance(time.Hour)
	r := refresh(t, s, rt)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	require.Equal(t, rt, m["refresh_token"], "non-rotating")
	require.NotEqual(t, at, m["access_token"])
	require.Equal(t, "media:read media:write", m["scope"])
	require.EqualValues(t, 604800, m["expires_in"])
	newAT := m["access_token"].(string)

	skGet(t, s, "/users/settings", s.V2ClientID, at).requireErr(t, 401, "user_token_failed")
	require.Equal(t, 1, s.KilledTokenUses())
	require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, newAT).status)

	// Sliding 180 days: each refresh restarts them.
	for range 2 {
		c.Advance(179 * 24 * time.Hour)
		r := refresh(t, s, rt)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		newAT = r.json(t)["access_token"].(string)
	}
	// The access token lives 7 days.
	c.Advance(7 * 24 * time.Hour)
	skGet(t, s, "/users/settings", s.V2ClientID, newAT).requireErr(t, 401, "user_token_failed")
	require.Equal(t, 1, s.KilledTokenUses(), "expired, not killed")
	c.Advance(174 * 24 * time.Hour)
	refresh(t, s, rt).requireErr(t, 400, "invalid_grant")
	refresh(t, s, "").requireErr(t, 400, "invalid_request")
	require.Equal(t, 5, s.Refreshes())
	require.Equal(t, 5, s.TokenCalls())
}

func TestSimklRevoke(t *testing.T) {
	revoke := func(t *testing.T, s *Simkl, clientID string, form url.Values) skReply {
		t.Helper()
		return skPostForm(t, s, "/oauth2/revoke", clientID, form)
	}
	refreshOK := func(t *testing.T, s *Simkl, rt string) skReply {
		t.Helper()
		return skPostForm(t, s, "/oauth2/token", s.V2ClientID, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.V2ClientID},
		})
	}
	for _, which := range []string{"access", "refresh"} {
		t.Run("endpoint, "+which+" token", func(t *testing.T) {
			s := newSimklFake(t)
			at, rt := s.IssueToken(true)
			other, _ := s.IssueToken(true)
			tok := at
			if which == "refresh" {
				tok = rt
			}
			r := revoke(t, s, s.V2ClientID, url.Values{"token": {tok}, "client_id": {s.V2ClientID}})
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			skGet(t, s, "/users/settings", s.V2ClientID, at).requireErr(t, 401, "user_token_failed")
			refreshOK(t, s, rt).requireErr(t, 400, "invalid_grant")
			require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, other).status, "other grants live on")
			require.Equal(t, 1, s.Revocations())
			require.Zero(t, s.KilledTokenUses())
		})
	}
	t.Run("endpoint answers 200 whatever the token", func(t *testing.T) {
		s := newSimklFake(t)
		require.Equal(t, http.StatusOK, revoke(t, s, s.V2ClientID, url.Values{"token": {"garbage"}}).status)
		v1, _ := s.IssueToken(false)
		require.Equal(t, http.StatusOK, revoke(t, s, s.V2ClientID, url.Values{"token": {v1}}).status)
		require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.ClientID, v1).status, "V1 revocation is user-side only")
		revoke(t, s, s.V2ClientID, url.Values{}).requireErr(t, 400, "invalid_request")
		revoke(t, s, s.ClientID, url.Values{"token": {"x"}}).requireErr(t, 401, "invalid_client")
		revoke(t, s, s.V2ClientID, url.Values{"token": {"x"}, "client_secret": {"nope"}}).requireErr(t, 401, "invalid_client")
		require.Equal(t, 5, s.Revocations())
		require.Zero(t, s.TokenCalls())
	})
	t.Run("RevokeToken V1", func(t *testing.T) {
		s := newSimklFake(t)
		tok := skV1Flow(t, s)
		s.RevokeToken(tok)
		skGet(t, s, "/users/settings", s.ClientID, tok).requireErr(t, 401, "user_token_failed")
		again := skV1Flow(t, s)
		require.NotEqual(t, tok, again, "reconnecting issues a new token")
		require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.ClientID, again).status)
	})
	t.Run("RevokeToken V2", func(t *testing.T) {
		s := newSimklFake(t)
		m := skV2Flow(t, s, "")
		s.RevokeToken(m["refresh_token"].(string))
		skGet(t, s, "/users/settings", s.V2ClientID, m["access_token"].(string)).requireErr(t, 401, "user_token_failed")
		refreshOK(t, s, m["refresh_token"].(string)).requireErr(t, 400, "invalid_grant")
		s.RevokeToken("unknown")
	})
}

func TestSimklMissingParams(t *testing.T) {
	s := newSimklFake(t)
	full := skQuery(s.ClientID, nil)
	without := func(k string) url.Values {
		q := cloneValues(full)
		q.Del(k)
		return q
	}
	for _, tc := range []struct {
		name    string
		q       url.Values
		header  []string
		status  int
		counted bool
	}{
		{"all present", full, nil, 200, false},
		{"client_id as simkl-api-key", without("client_id"), []string{"simkl-api-key", s.ClientID}, 200, false},
		{"no client_id", without("client_id"), nil, 412, true},
		{"no app-name", without("app-name"), nil, 412, true},
		{"no app-version", without("app-version"), nil, 412, true},
		{"empty app-name", skQuery(s.ClientID, url.Values{"app-name": {""}}), nil, 412, true},
		{"no User-Agent", full, []string{"User-Agent", ""}, 412, true},
		{"unknown client_id", skQuery("who", nil), nil, 412, false},
		{"unknown simkl-api-key", without("client_id"), []string{"simkl-api-key", "who"}, 412, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.MissingParams()
			r := skDo(t, http.MethodGet, skURL(s.APIURL, "/search/movie", tc.q), "", tc.header...)
			require.Equal(t, tc.status, r.status, string(r.body))
			if tc.status == 412 {
				require.JSONEq(t, skClientIDFailed, string(r.body))
			}
			n := 0
			if tc.counted {
				n = 1
			}
			require.Equal(t, before+n, s.MissingParams())
		})
	}
	t.Run("token endpoint, code kept", func(t *testing.T) {
		s := newSimklFake(t)
		form := skCodeForm(skV1Code(t, s, nil))
		form.Set("client_id", s.ClientID)
		form.Set("client_secret", s.ClientSecret)
		r := skDo(t, http.MethodPost, s.APIURL+"/oauth/token?client_id="+s.ClientID, form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
		require.JSONEq(t, skClientIDFailed, string(r.body))
		require.Equal(t, 1, s.MissingParams())
		require.Equal(t, 1, s.TokenCalls())
		require.Equal(t, http.StatusOK, skV1Exchange(t, s, skCodeForm(form.Get("code")), s.ClientID, s.ClientSecret, false, false).status)
		require.Equal(t, 1, s.MissingParams())
	})
	t.Run("web host", func(t *testing.T) {
		s := newSimklFake(t)
		q := skQuery(s.ClientID, url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}})
		q.Del("app-version")
		r := skDo(t, http.MethodGet, skURL(s.WebURL, "/oauth/authorize", q), "")
		require.Equal(t, 412, r.status)
		r = skDo(t, http.MethodGet, skURL(s.WebURL, "/oauth2/authorize", url.Values{"client_id": {s.V2ClientID}}), "")
		require.Equal(t, 412, r.status)
		require.Equal(t, 2, s.MissingParams())
		for _, p := range []string{"/", "/pin", "/pin/ABCDE"} {
			require.Equal(t, http.StatusOK, skDo(t, http.MethodGet, s.WebURL+p, "").status, p)
		}
		require.Equal(t, 2, s.MissingParams(), "user-facing pages need no parameters")
	})
}

func TestSimklWrongHost(t *testing.T) {
	s := newSimklFake(t)
	for _, tc := range []struct{ method, base, path, clientID string }{
		{http.MethodGet, s.APIURL, "/oauth/authorize", s.ClientID},
		{http.MethodGet, s.APIURL, "/oauth2/authorize", s.V2ClientID},
		{http.MethodGet, s.APIURL, "/oauth/nope", s.ClientID},
		{http.MethodPost, s.WebURL, "/oauth/token", s.ClientID},
		{http.MethodPost, s.WebURL, "/oauth2/token", s.V2ClientID},
		{http.MethodPost, s.WebURL, "/oauth2/device", s.V2ClientID},
		{http.MethodGet, s.WebURL, "/oauth/pin", s.ClientID},
		{http.MethodGet, s.WebURL, "/users/settings", s.ClientID},
	} {
		t.Run(tc.method+" "+tc.base+tc.path, func(t *testing.T) {
			q := skQuery(tc.clientID, url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}})
			r := skDo(t, tc.method, skURL(tc.base, tc.path, q), "", "Content-Type", "application/x-www-form-urlencoded")
			require.Equal(t, http.StatusNotFound, r.status, string(r.body))
		})
	}
	require.Zero(t, s.TokenCalls())
	require.Zero(t, s.APICalls())
}

func TestSimklAPIRoutes(t *testing.T) {
	s := newSimklFake(t)
	v1, _ := s.IssueToken(false)
	read, _ := s.IssueToken(true)
	write, _ := s.IssueToken(true, "media:read", "media:write")
	post := func(t *testing.T, clientID, token, contentType, body string) skReply {
		t.Helper()
		return skDo(t, http.MethodPost, skURL(s.APIURL, "/sync/history", skQuery(clientID, nil)), body,
			"Authorization", "Bearer "+token, "Content-Type", contentType)
	}
	history := `{"movies":[{"ids":{"simkl":1}}]}`

	t.Run("search", func(t *testing.T) {
		r := skDo(t, http.MethodGet, skURL(s.APIURL, "/search/movie", skQuery(s.ClientID, url.Values{"q": {"Heat"}})), "")
		require.Equal(t, http.StatusOK, r.status, "anonymous under V1")
		require.Contains(t, string(r.body), `"title":"Heat"`)
		r = skGet(t, s, "/search/movie", s.V2ClientID, "")
		r.requireErr(t, 401, "user_token_required")
		require.JSONEq(t, `{"code":401,"error":"user_token_required","message":"This client_id requires a user access token on every request"}`, string(r.body))
		require.Equal(t, http.StatusOK, skGet(t, s, "/search/movie", s.V2ClientID, read).status)
		skGet(t, s, "/search/movie", s.ClientID, "bogus").requireErr(t, 401, "user_token_failed")
	})
	t.Run("user routes", func(t *testing.T) {
		for _, p := range []string{"/users/settings", "/sync/activities"} {
			require.Equal(t, http.StatusOK, skGet(t, s, p, s.ClientID, v1).status, p)
			require.Equal(t, http.StatusOK, skGet(t, s, p, s.V2ClientID, read).status, p)
			skGet(t, s, p, s.ClientID, "").requireErr(t, 401, "user_token_failed")
			skGet(t, s, p, s.V2ClientID, "").requireErr(t, 401, "user_token_required")
			skGet(t, s, p, s.V2ClientID, v1).requireErr(t, 401, "user_token_failed")
			skGet(t, s, p, s.ClientID, read).requireErr(t, 401, "user_token_failed")
			skGet(t, s, p, s.V2ClientID, "simkl_at_bogus").requireErr(t, 401, "user_token_failed")
		}
		r := skDo(t, http.MethodGet, skURL(s.APIURL, "/users/settings", skQuery(s.ClientID, nil)), "", "Authorization", "Basic eDp5")
		r.requireErr(t, 401, "user_token_failed")
	})
	t.Run("sync history", func(t *testing.T) {
		post(t, s.V2ClientID, read, "application/json", history).requireErr(t, 403, "forbidden")
		require.Equal(t, http.StatusCreated, post(t, s.V2ClientID, write, "application/json", history).status)
		require.Equal(t, http.StatusCreated, post(t, s.ClientID, v1, "application/json; charset=utf-8", history).status)
		post(t, s.ClientID, v1, "text/plain", history).requireErr(t, 415, "bad_content_type")
		post(t, s.ClientID, v1, "application/json", "{").requireErr(t, 400, "bad_request")
		skGet(t, s, "/sync/history", s.ClientID, v1).requireErr(t, 405, "method_not_allowed")
		h := s.LastRequestHeader()
		require.Equal(t, "Bearer "+v1, h.Get("Authorization"))
		require.Equal(t, skUA, h.Get("User-Agent"))
	})
	t.Run("unknown path", func(t *testing.T) {
		skGet(t, s, "/nope", s.ClientID, v1).requireErr(t, 404, "not_found")
	})
}

func TestSimklReplayAfterRefresh(t *testing.T) {
	s := newSimklFake(t)
	m := skV2Flow(t, s, "media:read media:write")
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	body := `{"movies":[{"title":"Heat","ids":{"simkl":1}}]}`
	post := func(tok string) skReply {
		return skDo(t, http.MethodPost, skURL(s.APIURL, "/sync/history", skQuery(s.V2ClientID, nil)), body,
			"Authorization", "Bearer "+tok, "Content-Type", "application/json")
	}
	require.Equal(t, http.StatusCreated, post(at).status)
	r := skPostForm(t, s, "/oauth2/token", s.V2ClientID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.V2ClientID}})
	require.Equal(t, http.StatusOK, r.status)
	post(at).requireErr(t, 401, "user_token_failed")
	require.Equal(t, http.StatusCreated, post(r.json(t)["access_token"].(string)).status)
	require.Equal(t, [][]byte{[]byte(body), []byte(body), []byte(body)}, s.APIBodies())
	require.Equal(t, 1, s.KilledTokenUses())
	require.Equal(t, 3, s.APICalls())
}

func TestSimklRateLimit(t *testing.T) {
	for _, tc := range []struct {
		kind       RateLimit
		status     int
		body       string
		retryAfter string
	}{
		{RateLimit429, 429, `{"error":"rate_limit","code":429}`, "7"},
		{RateLimit412, 412, skClientIDFailed, ""},
		{RateLimitWriteLock, 400, `"error":"RATE_LIMIT","code":400`, ""},
	} {
		t.Run(fmt.Sprint(tc.kind), func(t *testing.T) {
			s := newSimklFake(t)
			s.RateLimitNext(2, tc.kind)
			require.Equal(t, http.StatusOK, skGet(t, s, "/oauth/pin", s.ClientID, "").status, "OAuth endpoints are not limited")
			for range 2 {
				r := skGet(t, s, "/users/settings", s.ClientID, "") // limited before the token check
				require.Equal(t, tc.status, r.status)
				require.Contains(t, string(r.body), strings.Trim(tc.body, "{}"))
				require.Equal(t, tc.retryAfter, r.header.Get("Retry-After"))
			}
			skGet(t, s, "/users/settings", s.ClientID, "").requireErr(t, 401, "user_token_failed")
			require.Equal(t, 3, s.APICalls())
		})
	}
	t.Run("off", func(t *testing.T) {
		s := newSimklFake(t)
		s.RateLimitNext(5, RateLimit429)
		s.RateLimitNext(0, RateLimit429)
		require.Equal(t, http.StatusOK, skGet(t, s, "/search/movie", s.ClientID, "").status)
	})
}

func TestSimklFailTokenCalls(t *testing.T) {
	for _, tc := range []struct {
		mode        FailMode
		status      int
		contentType string
		body        string
	}{
		{Fail5xx, 503, "application/json", `"error":"server_error"`},
		{FailHTML, 502, "text/html; charset=utf-8", "<html>"},
	} {
		t.Run(fmt.Sprint(tc.mode), func(t *testing.T) {
			s := newSimklFake(t)
			requireFail := func(r skReply) {
				t.Helper()
				require.Equal(t, tc.status, r.status, string(r.body))
				require.Equal(t, tc.contentType, r.header.Get("Content-Type"))
				require.Contains(t, string(r.body), tc.body)
			}
			v1form := skCodeForm(skV1Code(t, s, nil))
			v2form := skV2ExchangeForm(s, skV2Code(t, s, ""))
			s.FailTokenCalls(5, tc.mode)
			requireFail(skV1Exchange(t, s, v1form, s.ClientID, s.ClientSecret, true, false))
			requireFail(skPostForm(t, s, "/oauth2/token", s.V2ClientID, v2form))
			requireFail(skGet(t, s, "/oauth/pin", s.ClientID, ""))
			requireFail(skGet(t, s, "/oauth/pin/ABCDE", s.ClientID, ""))
			requireFail(skPostForm(t, s, "/oauth2/device", s.V2ClientID, url.Values{"client_id": {s.V2ClientID}}))
			// Not token endpoints: never failed, and they use none of the n.
			require.Equal(t, http.StatusOK, skGet(t, s, "/search/movie", s.ClientID, "").status)
			s.FailTokenCalls(1, tc.mode)
			require.Equal(t, http.StatusOK, skPostForm(t, s, "/oauth2/revoke", s.V2ClientID, url.Values{"token": {"x"}}).status)
			s.FailTokenCalls(0, tc.mode)
			// The failed exchanges burnt nothing.
			require.Equal(t, http.StatusOK, skV1Exchange(t, s, v1form, s.ClientID, s.ClientSecret, true, false).status)
			require.Equal(t, http.StatusOK, skPostForm(t, s, "/oauth2/token", s.V2ClientID, v2form).status)
			require.Equal(t, 4, s.TokenCalls())
			require.Equal(t, 4, s.Exchanges())
			require.Equal(t, 1, s.PINPolls())
		})
	}
}

func TestSimklLatency(t *testing.T) {
	pinReq := func(ctx context.Context, s *Simkl) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, skURL(s.APIURL, "/oauth/pin", skQuery(s.ClientID, nil)), nil)
		return req
	}
	t.Run("waits", func(t *testing.T) {
		s := newSimklFake(t)
		s.SetLatency(50 * time.Millisecond)
		begin := time.Now()
		r, err := skSend(pinReq(context.Background(), s))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.status)
		require.GreaterOrEqual(t, time.Since(begin), 50*time.Millisecond)
		s.SetLatency(time.Hour)
		require.Equal(t, http.StatusOK, skGet(t, s, "/search/movie", s.ClientID, "").status, "API calls are not delayed")
	})
	t.Run("client goes away", func(t *testing.T) {
		s := newSimklFake(t)
		s.SetLatency(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := skSend(pinReq(ctx, s))
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("close ends waiting requests", func(t *testing.T) {
		s := NewSimkl()
		s.SetLatency(time.Hour)
		done := make(chan error, 1)
		go func() {
			_, err := skSend(pinReq(context.Background(), s))
			done <- err
		}()
		require.Eventually(t, func() bool { return s.LastRequestHeader() != nil }, 5*time.Second, time.Millisecond)
		begin := time.Now()
		s.Close()
		s.Close()
		require.Less(t, time.Since(begin), 5*time.Second)
		require.Error(t, <-done)
	})
}

func TestSimklIssueToken(t *testing.T) {
	s, c := newSimklClock(t)
	a, r := s.IssueToken(false, "media:write")
	b, _ := s.IssueToken(false)
	require.Equal(t, a, b)
	require.Empty(t, r)
	require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.ClientID, a).status)

	at, rt := s.IssueToken(true, "media:write", "bogus")
	require.Regexp(t, `^simkl_at_`, at)
	require.Regexp(t, `^simkl_rt_`, rt)
	w := skDo(t, http.MethodPost, skURL(s.APIURL, "/sync/history", skQuery(s.V2ClientID, nil)), "{}",
		"Authorization", "Bearer "+at, "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, w.status, "media:write granted: %s", w.body)
	require.Equal(t, http.StatusOK, skGet(t, s, "/sync/activities", s.V2ClientID, at).status)

	c.Advance(157680000 * time.Second)
	skGet(t, s, "/users/settings", s.ClientID, a).requireErr(t, 401, "user_token_failed")
	fresh, _ := s.IssueToken(false)
	require.NotEqual(t, a, fresh, "an expired V1 token is replaced")
}

// skTry sends a request and fails unless it answers want; safe off the test
// goroutine.
func skTry(want int, method, rawURL, body string, header ...string) (skReply, map[string]any, error) {
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		return skReply{}, nil, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header[header[i]] = []string{header[i+1]}
	}
	r, err := skSend(req)
	if err == nil && r.status != want {
		err = fmt.Errorf("%s %s: %d %s", method, req.URL.Path, r.status, r.body)
	}
	var m map[string]any
	if err == nil && strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		err = json.Unmarshal(r.body, &m)
	}
	return r, m, err
}

func TestSimklConcurrentUse(t *testing.T) {
	s := newSimklFake(t)
	const n = 30
	form := "application/x-www-form-urlencoded"
	v2q := skQuery(s.V2ClientID, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	v1Tokens := make(chan string, n)
	for range n {
		wg.Go(func() { // V1 code flow
			r, _, err := skTry(302, http.MethodGet, skURL(s.WebURL, "/oauth/authorize",
				skQuery(s.ClientID, url.Values{"response_type": {"code"}, "redirect_uri": {skRedirect}})), "")
			if err != nil {
				errs <- err
				return
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if err != nil {
				errs <- err
				return
			}
			f := skCodeForm(loc.Query().Get("code"))
			f.Set("client_id", s.ClientID)
			f.Set("client_secret", s.ClientSecret)
			_, m, err := skTry(200, http.MethodPost, skURL(s.APIURL, "/oauth/token", skQuery(s.ClientID, nil)), f.Encode(), "Content-Type", form)
			if err == nil {
				v1Tokens <- m["access_token"].(string)
			}
			errs <- err
		})
		wg.Go(func() { // V2 device flow, refresh, killed token
			_, m, err := skTry(200, http.MethodPost, skURL(s.APIURL, "/oauth2/device", v2q), "client_id="+s.V2ClientID, "Content-Type", form)
			if err != nil {
				errs <- err
				return
			}
			if !s.ApproveCode(m["user_code"].(string)) {
				errs <- fmt.Errorf("ApproveCode(%v) refused", m["user_code"])
				return
			}
			poll := url.Values{"grant_type": {simklGrantDevice}, "device_code": {m["device_code"].(string)}, "client_id": {s.V2ClientID}}
			_, tok, err := skTry(200, http.MethodPost, skURL(s.APIURL, "/oauth2/token", v2q), poll.Encode(), "Content-Type", form)
			if err != nil {
				errs <- err
				return
			}
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {s.V2ClientID}}
			if _, _, err := skTry(200, http.MethodPost, skURL(s.APIURL, "/oauth2/token", v2q), refresh.Encode(), "Content-Type", form); err != nil {
				errs <- err
				return
			}
			_, _, err = skTry(401, http.MethodGet, skURL(s.APIURL, "/users/settings", v2q), "", "Authorization", "Bearer "+tok["access_token"].(string))
			errs <- err
		})
		wg.Go(func() { // V1 PIN, denied
			_, m, err := skTry(200, http.MethodGet, skURL(s.APIURL, "/oauth/pin", skQuery(s.ClientID, nil)), "")
			if err != nil {
				errs <- err
				return
			}
			s.DenyCode(m["user_code"].(string))
			_, m, err = skTry(200, http.MethodGet, skURL(s.APIURL, "/oauth/pin/"+m["user_code"].(string), skQuery(s.ClientID, nil)), "")
			if err == nil && m["message"] != "Authorization pending" {
				err = fmt.Errorf("denied PIN: %v", m)
			}
			errs <- err
		})
		wg.Go(func() { // knobs and getters
			s.DenyConsent(false)
			s.SetLatency(0)
			s.SetClock(nil)
			at, _ := s.IssueToken(true, "media:write")
			s.RevokeToken(at)
			_ = s.TokenCalls() + s.APICalls() + len(s.APIBodies()) + len(s.LastTokenForm()) + len(s.LastAuthorizeQuery()) + len(s.LastRequestHeader())
			errs <- nil
		})
	}
	wg.Wait()
	close(errs)
	close(v1Tokens)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	require.NoError(t, errors.Join(all...))
	first := <-v1Tokens
	for tok := range v1Tokens {
		require.Equal(t, first, tok, "same user, same token")
	}
	require.Equal(t, n, s.Exchanges())
	require.Equal(t, n, s.DevicePolls())
	require.Equal(t, n, s.Refreshes())
	require.Equal(t, n, s.KilledTokenUses())
	require.Equal(t, n, s.PINPolls())
	require.Equal(t, 3*n, s.TokenCalls())
	require.Zero(t, s.MissingParams())
}

func TestSimklWithholdScope(t *testing.T) {
	s := NewSimkl()
	defer s.Close()
	s.WithholdScope(simklScopeWrite)
	require.Equal(t, simklScopeRead, s.withholdLocked(simklScopeRead+" "+simklScopeWrite))
	require.Equal(t, simklScopeRead, s.withholdLocked(simklScopeWrite), "nothing left means read-only")
	s.WithholdScope("")
	require.Equal(t, simklScopeRead+" "+simklScopeWrite, s.withholdLocked(simklScopeRead+" "+simklScopeWrite))
}

// Simkl V1 with PKCE and no redirect_uri (an app with none registered):
// consent ends on simkl.com, which shows the code; the exchange is code,
// client_id and code_verifier, without redirect_uri.
func TestSimklV1PasteCode(t *testing.T) {
	pasteQuery := func() url.Values {
		return url.Values{"response_type": {"code"}, "state": {"st"},
			"code_challenge": {skChallenge(skVerifier)}, "code_challenge_method": {"S256"}}
	}
	exchange := func(t *testing.T, s *Simkl, code string, extra url.Values) skReply {
		t.Helper()
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {skVerifier}}
		for k, vs := range extra {
			f[k] = vs
		}
		return skV1Exchange(t, s, f, s.ClientID, "", false, false)
	}
	t.Run("the page shows the code, exchanged without redirect_uri", func(t *testing.T) {
		s := newSimklFake(t)
		require.Empty(t, s.ShownCode())
		r := skV1Authorize(t, s, pasteQuery())
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.Empty(t, r.header.Get("Location"), "no redirect")
		require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		code := s.ShownCode()
		require.Regexp(t, `^[0-9a-f]{32}$`, code)
		require.Contains(t, string(r.body), code)

		tr := exchange(t, s, code, nil)
		require.Equal(t, http.StatusOK, tr.status, string(tr.body))
		require.NotEmpty(t, tr.json(t)["access_token"])
		require.NotContains(t, s.LastTokenForm(), "redirect_uri")
		exchange(t, s, code, nil).requireErr(t, 401, "grant_error") // single use
		require.Equal(t, 2, s.Exchanges())
		require.Zero(t, s.MissingParams())
	})
	t.Run("each consent shows a new code", func(t *testing.T) {
		s := newSimklFake(t)
		skV1Authorize(t, s, pasteQuery())
		first := s.ShownCode()
		skV1Authorize(t, s, pasteQuery())
		require.NotEqual(t, first, s.ShownCode())
	})
	t.Run("a redirect_uri the code was not issued for is refused", func(t *testing.T) {
		s := newSimklFake(t)
		skV1Authorize(t, s, pasteQuery())
		exchange(t, s, s.ShownCode(), url.Values{"redirect_uri": {skRedirect}}).requireErr(t, 403, "redirect_failed")
	})
	t.Run("a code issued for a redirect_uri still needs it", func(t *testing.T) {
		s := newSimklFake(t)
		code := skV1Code(t, s, url.Values{"code_challenge": {skChallenge(skVerifier)}, "code_challenge_method": {"S256"}})
		exchange(t, s, code, nil).requireErr(t, 403, "redirect_failed")
	})
	t.Run("the verifier must match", func(t *testing.T) {
		s := newSimklFake(t)
		skV1Authorize(t, s, pasteQuery())
		f := url.Values{"grant_type": {"authorization_code"}, "code": {s.ShownCode()}, "code_verifier": {strings.Repeat("x", 43)}}
		skV1Exchange(t, s, f, s.ClientID, "", false, false).requireErr(t, 401, "secret_error")
	})
	t.Run("a secret without redirect_uri is an empty field", func(t *testing.T) {
		s := newSimklFake(t)
		skV1Authorize(t, s, pasteQuery())
		f := url.Values{"grant_type": {"authorization_code"}, "code": {s.ShownCode()}}
		skV1Exchange(t, s, f, s.ClientID, s.ClientSecret, false, false).requireErr(t, 403, "empty_field")
	})
	t.Run("without PKCE a redirect_uri is required", func(t *testing.T) {
		s := newSimklFake(t)
		q := pasteQuery()
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		require.Equal(t, http.StatusBadRequest, skV1Authorize(t, s, q).status)
		require.Empty(t, s.ShownCode())
	})
	t.Run("denial still goes to the home page", func(t *testing.T) {
		s := newSimklFake(t)
		s.DenyConsent(true)
		r := skV1Authorize(t, s, pasteQuery())
		require.Equal(t, http.StatusFound, r.status)
		require.Equal(t, s.WebURL+"/", r.header.Get("Location"))
		require.Empty(t, s.ShownCode())
	})
}

// Simkl V2 puts iss (RFC 9207), exactly once, on every redirect: approval
// and denial.
func TestSimklV2RedirectAlwaysCarriesIss(t *testing.T) {
	s := newSimklFake(t)
	loc := skV2Authorize(t, s, skV2Query("")).location(t)
	require.NotEmpty(t, loc.Query().Get("code"))
	require.Equal(t, []string{s.WebURL}, loc.Query()["iss"])
	s.DenyConsent(true)
	loc = skV2Authorize(t, s, skV2Query("")).location(t)
	require.Equal(t, "access_denied", loc.Query().Get("error"))
	require.Equal(t, []string{s.WebURL}, loc.Query()["iss"])
}
