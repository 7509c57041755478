package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

func TestTokenJSON(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "simkl").code)
	plain := strings.TrimSpace(e.run(t, "", "--sandbox", "token", "simkl").out)
	r := e.run(t, "", "--sandbox", "token", "simkl", "--json")
	require.Equal(t, exitOK, r.code, r.err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.out), &got), r.out)
	assert.Equal(t, plain, got["access_token"])
	assert.Equal(t, "Bearer", got["token_type"])
	assert.Equal(t, []any{"media:read"}, got["scopes"])
	assert.Equal(t, "default", got["account"])
	assert.Equal(t, "simkl", got["service"])
	assert.Equal(t, "4242", got["user_id"])
	expiry, err := time.Parse(time.RFC3339Nano, got["expiry"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), expiry, time.Hour)
	assert.InDelta(t, (7 * 24 * time.Hour).Seconds(), got["expires_in"], 3600)
	assert.NotContains(t, r.out, "refresh", "the refresh token is not printed")
	assert.Empty(t, r.err)

	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo", "--client", "--account", "ci").code)
	r = e.run(t, "", "--sandbox", "--account", "ci", "token", "vimeo", "--json")
	require.Equal(t, exitOK, r.code, r.err)
	var app tokenJSON
	require.NoError(t, json.Unmarshal([]byte(r.out), &app))
	assert.Equal(t, "ci", app.Account)
	assert.Nil(t, app.Expiry, "no lifetime given: no expiry")
	assert.Nil(t, app.ExpiresIn)
	assert.NotContains(t, r.out, "expiry")

	both := e.run(t, "", "--sandbox", "token", "simkl", "--json", "--header")
	assert.Equal(t, exitUsage, both.code)
	assert.Contains(t, both.err, "--json and --header cannot be used together")
}

// credential reads what token --header printed: header lines and query
// parameters.
func credential(t *testing.T, out string) (http.Header, []string) {
	t.Helper()
	h := http.Header{}
	var params []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
			h.Add(k, v)
		} else {
			params = append(params, sc.Text())
		}
	}
	return h, params
}

// TestTokenHeaderIsWhatTheServiceTakes: what token --header prints, used
// by another client as it is, is accepted by each service's fake.
func TestTokenHeaderIsWhatTheServiceTakes(t *testing.T) {
	get := func(t *testing.T, u string, h http.Header) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	vimeo := videoauthtest.NewVimeo()
	defer vimeo.Close()
	e := vimeoEnv(t, vimeo)
	require.Equal(t, exitOK, e.run(t, "", "login", "vimeo", "--client").code)
	tok := strings.TrimSpace(e.run(t, "", "token", "vimeo").out)
	r := e.run(t, "", "token", "vimeo", "--header")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, "Authorization: Bearer "+tok+"\n", r.out)
	assert.Empty(t, r.err)
	h, _ := credential(t, r.out)
	assert.Equal(t, http.StatusOK, get(t, vimeo.URL+"/videos/7", h))

	simkl := videoauthtest.NewSimkl()
	defer simkl.Close()
	se := simklEnv(t, simkl)
	st := storeSimklV2(t, se, simkl, time.Now().Add(24*time.Hour), "media:read")
	r = se.run(t, "", "token", "simkl", "--header")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, "Authorization: Bearer "+st.AccessToken+"\nSimkl-Api-Key: "+simkl.V2ClientID+"\n", r.out)
	assert.Contains(t, r.err, "note: simkl also wants these query parameters on every request: ?app-name=videoauth-cli&app-version=dev&client_id="+simkl.V2ClientID+"\n")
	h, _ = credential(t, r.out)
	query := r.err[strings.Index(r.err, "?"):]
	missing := simkl.MissingParams()
	assert.Equal(t, http.StatusOK, get(t, simkl.APIURL+"/users/settings"+strings.TrimSpace(query), h))
	assert.Equal(t, missing, simkl.MissingParams(), "nothing the service wants is missing")

	viki := videoauthtest.NewViki()
	defer viki.Close()
	ve := newEnv(t)
	ve["VIDEOAUTH_VIKI_CLIENT_ID"], ve["VIDEOAUTH_VIKI_CLIENT_SECRET"], ve["VIDEOAUTH_VIKI_API_URL"] = viki.ClientID, viki.ClientSecret, viki.URL
	require.Equal(t, exitOK, ve.run(t, "", "login", "viki", "--client").code)
	tok = strings.TrimSpace(ve.run(t, "", "token", "viki").out)
	r = ve.run(t, "", "token", "viki", "--header")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, "access_token="+tok+"\n", r.out, "Viki v3 takes the token in the query")
	assert.Contains(t, r.err, "note: viki takes the token in the URL's query, not in a header: add access_token (printed above) to the URL's query.")
	_, params := credential(t, r.out)
	assert.Equal(t, http.StatusOK, get(t, viki.URL+"/v3/movies.json?"+params[0], http.Header{}))
}

// TestLoginWithToken: a token read from standard input is checked with the
// service, stored with the user it names, and never renewed.
func TestLoginWithToken(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	e := vimeoEnv(t, fake)
	given := fake.IssueUserToken("public", "private")

	r := e.run(t, given+"\n", "login", "vimeo", "--with-token")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "Signed in to vimeo: user (given) grant, user id 4242.")
	assert.NotContains(t, r.err, given)
	assert.Empty(t, r.out)
	assert.Equal(t, given+"\n", e.run(t, "", "token", "vimeo").out)
	l := e.run(t, "", "list")
	assert.Regexp(t, `(?m)^vimeo\s+user \(given\)\s+4242\s+-\s+never\s+no\s+default \(default\)$`, l.out)
	me := e.run(t, "", "curl", "vimeo", "/me")
	require.Equal(t, exitOK, me.code, me.err)
	assert.Contains(t, me.out, "Fake User")

	// Not minted here, so never replaced by a mint: a token the service
	// forgot is a sign-in to do.
	fake.DeleteToken(given)
	dead := e.run(t, "", "curl", "vimeo", "/me")
	assert.Equal(t, exitSignIn, dead.code, dead.err)
	assert.Zero(t, fake.Mints())

	for _, tc := range []struct {
		name, stdin string
		code        int
		msg         string
	}{
		{"rejected", "not-a-token-of-the-fake\n", exitSignIn, "videoauth: vimeo rejected the token; nothing was stored"},
		{"empty", "", exitUsage, "videoauth: no token on standard input"},
		{"blank", "\n\n", exitUsage, "videoauth: no token on standard input"},
		{"with the scheme", "Bearer " + given + "\n", exitUsage, "what standard input holds is not one token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := vimeoEnv(t, fake)
			r := x.run(t, tc.stdin, "login", "vimeo", "--with-token")
			assert.Equal(t, tc.code, r.code, r.err)
			assert.Contains(t, r.err, tc.msg)
			assert.NotContains(t, r.err, given)
			keys, err := x.store(t, false).Keys(context.Background())
			require.NoError(t, err)
			assert.Empty(t, keys, "nothing stored")
		})
	}

	sb := newEnv(t)
	r = sb.run(t, "abc123\n", "--sandbox", "login", "simkl", "--with-token")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "Sandbox: the fake takes any token as its user's")
	r = sb.run(t, "abc123\n", "--sandbox", "--sandbox-scenario", "revoke", "login", "vimeo", "--with-token")
	assert.Equal(t, exitSignIn, r.code, r.err)
	assert.Contains(t, r.err, "Check the token, or sign in instead: `videoauth login vimeo`.")
}

// TestLoginWithAFixedRedirect: --port and --redirect-uri, for apps that
// registered one loopback redirect: the flow listens there and sends it.
func TestLoginWithAFixedRedirect(t *testing.T) {
	free := func(t *testing.T) int {
		t.Helper()
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	e := newEnv(t)
	port := free(t)
	r := e.run(t, "", "--sandbox", "login", "vimeo", "--port", fmt.Sprint(port))
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, fmt.Sprintf("Listening on http://127.0.0.1:%d/callback for vimeo's redirect", port))

	port = free(t)
	r = e.run(t, "", "--sandbox", "login", "simkl", "--redirect-uri", fmt.Sprintf("http://127.0.0.1:%d/oauth/done", port))
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, fmt.Sprintf("Listening on http://127.0.0.1:%d/oauth/done for simkl's redirect", port))

	// A port in use on 127.0.0.1. Where [::1] has it free, the library
	// listens there instead: not the redirect registered, so refused too.
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	port = busy.Addr().(*net.TCPAddr).Port
	inUse := fmt.Sprintf("videoauth: cannot listen on 127.0.0.1:%d: another program uses the port", port)
	if six, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port)); err == nil {
		six.Close()
		r = e.run(t, "", "--sandbox", "login", "vimeo", "--redirect-uri", fmt.Sprintf("http://127.0.0.1:%d/callback", port))
		assert.Equal(t, exitFailure, r.code, r.err)
		assert.Contains(t, r.err, inUse)
		assert.NotContains(t, r.err, "Signed in")
		if six, err = net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port)); err == nil {
			defer six.Close() // and now in use on both
		}
	}
	r = e.run(t, "", "--sandbox", "login", "vimeo", "--port", fmt.Sprint(port))
	assert.Equal(t, exitFailure, r.code, r.err)
	assert.Contains(t, r.err, inUse)

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--redirect-uri", "http://localhost:8080/cb"}, "--redirect-uri names localhost; videoauth listens on 127.0.0.1"},
		{[]string{"--redirect-uri", "https://127.0.0.1:8080/cb"}, `--redirect-uri must be plain http on 127.0.0.1, not "https"`},
		{[]string{"--redirect-uri", "http://example.com/cb"}, `--redirect-uri must be on 127.0.0.1`},
		{[]string{"--redirect-uri", "http://127.0.0.1:8080/cb?x=1"}, "has more than a host, port and path"},
		{[]string{"--redirect-uri", "http://127.0.0.1:8080/cb", "--port", "8081"}, "--port 8081 and --redirect-uri's port 8080 differ"},
		{[]string{"--port", "70000"}, "--port 70000 is not a port"},
		{[]string{"--port", "8080", "--device"}, "--port and --redirect-uri work only with the browser sign-in"},
		{[]string{"--redirect-uri", "http://127.0.0.1:8080/cb", "--client"}, "work only with the browser sign-in"},
	} {
		r := e.run(t, "", append([]string{"--sandbox", "login", "vimeo"}, tc.args...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.err)
		assert.Contains(t, r.err, tc.msg, tc.args)
	}
}

func TestVerifyJSON(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo").code)
	r := e.run(t, "", "--sandbox", "verify", "vimeo", "--json")
	require.Equal(t, exitOK, r.code, r.err)
	var got verifyJSON
	require.NoError(t, json.Unmarshal([]byte(r.out), &got), r.out)
	assert.Equal(t, verifyJSON{Service: "vimeo", Account: "default", Works: true, Request: "GET /oauth/verify", Status: "200 OK",
		UserID: "4242", Name: "Fake User", Grant: "user", Scopes: []string{"public"}}, got)
	token := strings.TrimSpace(e.run(t, "", "--sandbox", "token", "vimeo").out)
	assert.NotContains(t, r.out, token)

	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo", "--client", "--account", "ci").code)
	r = e.run(t, "", "--sandbox", "--account", "ci", "verify", "vimeo", "--json")
	require.Equal(t, exitOK, r.code, r.err)
	var app map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.out), &app))
	assert.Equal(t, "ci", app["account"])
	assert.Equal(t, "app (client credentials)", app["grant"])
	assert.NotContains(t, app, "user_id")
	assert.NotContains(t, app, "name")

	gone := e.run(t, "", "--sandbox", "--sandbox-scenario", "revoke", "verify", "vimeo", "--json")
	assert.Equal(t, exitSignIn, gone.code)
	assert.Empty(t, gone.out, "errors stay on standard error")
	assert.Contains(t, gone.err, "the stored vimeo grant is no longer valid")

	require.Equal(t, exitOK, e.run(t, "fan@example.com\ncorrect horse\n", "--sandbox", "login", "viki", "--session").code)
	r = e.run(t, "", "--sandbox", "verify", "viki", "--json")
	require.Equal(t, exitOK, r.code, r.err)
	require.NoError(t, json.Unmarshal([]byte(r.out), &got))
	assert.Equal(t, "GET /v5/sessions/<session>.json", got.Request)
	assert.Equal(t, "fan", got.Name)
	assert.Equal(t, "user (v5 session)", got.Grant)
	gone = e.run(t, "", "--sandbox", "--sandbox-scenario", "revoke", "verify", "viki")
	assert.Equal(t, exitSignIn, gone.code)
	assert.Contains(t, gone.err, "Sign in again: `videoauth login viki --session`.")
}
