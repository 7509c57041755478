package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// result is one in-process run of the tool.
type result struct {
	code     int
	out, err string
}

// env is the environment of in-process runs: a private videoauth directory
// and whatever else the test sets. Nothing is read from the real environment.
type env map[string]string

func newEnv(t *testing.T) env {
	t.Helper()
	return env{"VIDEOAUTH_CONFIG_DIR": t.TempDir()}
}

func (e env) getenv(k string) string { return e[k] }

// run runs the tool in this process with stdin and args.
func (e env) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb}, e.getenv)
	return result{code: code, out: out.String(), err: errb.String()}
}

// store opens the token store the runs of e use (sandbox: its own).
func (e env) store(t *testing.T, sandbox bool) *videoauth.FileStore {
	t.Helper()
	dir := filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "tokens")
	if sandbox {
		dir = filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "sandbox", "tokens")
	}
	st, err := videoauth.NewFileStore(dir)
	require.NoError(t, err)
	return st
}

func TestCommandLineMistakes(t *testing.T) {
	e := newEnv(t)
	cfg := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"vimeo": {"client_id": "x", "clientsecret": "typo"}}`), 0o600))
	badService := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(badService, []byte(`{"netflix": {"client_id": "x"}}`), 0o600))
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // in stderr
		hint string // in stderr
	}{
		{"unknown service", []string{"login", "netflix"}, exitUsage, `unknown service "netflix"`, "vimeo, simkl, viki"},
		{"no service", []string{"token"}, exitUsage, "takes one service", "videoauth token <service>"},
		{"two services", []string{"verify", "vimeo", "simkl"}, exitUsage, "takes one service, got 2", ""},
		{"unknown command", []string{"signin", "vimeo"}, exitUsage, "unknown command", "--help"},
		{"unknown flag", []string{"login", "vimeo", "--devcie"}, exitUsage, "unknown flag: --devcie", "videoauth login --help"},
		{"two flows", []string{"login", "vimeo", "--device", "--client"}, exitUsage, "--device and --client cannot be used together", "videoauth login --help"},
		{"scenario without sandbox", []string{"--sandbox-scenario", "deny", "login", "vimeo"}, exitUsage, "works only with --sandbox", ""},
		{"unknown scenario", []string{"--sandbox", "--sandbox-scenario", "explode", "login", "vimeo"}, exitUsage, `unknown sandbox scenario "explode"`, "deny, expire, revoke"},
		{"viki has no browser flow", []string{"--sandbox", "login", "viki"}, exitUsage, "viki has no browser sign-in", "--password, --facebook or --client"},
		{"viki has no device flow", []string{"--sandbox", "login", "viki", "--device"}, exitUsage, "viki has no device sign-in", ""},
		{"simkl has no client credentials", []string{"--sandbox", "login", "simkl", "--client"}, exitUsage, "simkl has no client-credentials sign-in", "--device"},
		{"vimeo has no password grant", []string{"--sandbox", "login", "vimeo", "--password"}, exitUsage, "vimeo has no password sign-in", ""},
		{"bad generation", []string{"--sandbox", "login", "simkl", "--generation", "v3"}, exitUsage, `unknown Simkl generation "v3"`, "v2 (the default) or v1"},
		{"missing client id", []string{"login", "vimeo"}, exitConfig, "no vimeo client id", "VIDEOAUTH_VIMEO_CLIENT_ID"},
		{"missing viki secret", []string{"login", "viki", "--client", "--client-id", "abc"}, exitConfig, "no viki client secret", "VIDEOAUTH_VIKI_CLIENT_SECRET"},
		{"not signed in", []string{"token", "vimeo"}, exitSignIn, "not signed in to vimeo", "videoauth login vimeo"},
		{"curl not signed in", []string{"curl", "simkl", "/users/settings"}, exitSignIn, "not signed in to simkl", ""},
		{"config typo", []string{"--config", cfg, "login", "vimeo"}, exitConfig, `unknown field "clientsecret"`, "videoauth help config"},
		{"config unknown service", []string{"--config", badService, "login", "vimeo"}, exitConfig, `unknown service "netflix"`, ""},
		{"config missing", []string{"--config", filepath.Join(t.TempDir(), "nope.json"), "login", "vimeo"}, exitConfig, "cannot read the config file", ""},
		{"logout service and all", []string{"logout", "vimeo", "--all"}, exitUsage, "takes no service", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.err)
			assert.Contains(t, r.err, tc.msg)
			assert.Contains(t, r.err, tc.hint)
			assert.Empty(t, r.out, "errors go to stderr")
		})
	}
}

func TestSandboxSession(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "--sandbox", "login", "vimeo", "--scopes", "public,private")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "Listening on http://127.0.0.1:")
	assert.Contains(t, r.err, "/callback for vimeo's redirect")
	assert.Contains(t, r.err, "Signed in to vimeo: user grant, user id 4242, scopes: public private.")

	tok := e.run(t, "", "--sandbox", "token", "vimeo")
	require.Equal(t, exitOK, tok.code, tok.err)
	access := strings.TrimSpace(tok.out)
	require.Regexp(t, `^[0-9a-f]{32}$`, access)
	assert.Equal(t, access+"\n", tok.out, "token prints the token and nothing else")

	me := e.run(t, "", "--sandbox", "curl", "vimeo", "/me")
	require.Equal(t, exitOK, me.code, me.err)
	assert.JSONEq(t, `{"uri":"/users/4242","name":"Fake User","link":"https://vimeo.com/user4242"}`, me.out)
	// A URL on the real host goes to the fake in the sandbox.
	real := e.run(t, "", "--sandbox", "curl", "vimeo", "https://api.vimeo.com/me")
	require.Equal(t, exitOK, real.code, real.err)
	assert.Equal(t, me.out, real.out)

	v := e.run(t, "", "--sandbox", "verify", "vimeo")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, "vimeo: the token works: GET /oauth/verify answered 200 OK.")
	assert.Contains(t, v.out, "account: Fake User (id 4242)")
	assert.Contains(t, v.out, "scopes:  public private")

	list := e.run(t, "", "--sandbox", "list")
	require.Equal(t, exitOK, list.code, list.err)
	assert.Regexp(t, `vimeo\s+user\s+4242\s+public private\s+never\s+no`, list.out)
	js := e.run(t, "", "--sandbox", "list", "--json")
	require.Equal(t, exitOK, js.code, js.err)
	var grants []map[string]any
	require.NoError(t, json.Unmarshal([]byte(js.out), &grants))
	require.Len(t, grants, 1)
	assert.Equal(t, "vimeo", grants[0]["service"])
	for _, r := range []result{r, me, v, list, js} {
		assert.NotContains(t, r.out+r.err, access, "only `token` prints the token")
	}

	// The sandbox keeps its tokens apart from real ones.
	keys, err := e.store(t, false).Keys(context.Background())
	require.NoError(t, err)
	assert.Empty(t, keys)

	rv := e.run(t, "", "--sandbox", "revoke", "vimeo")
	require.Equal(t, exitOK, rv.code, rv.err)
	assert.Contains(t, rv.err, "Revoked the vimeo grant")
	gone := e.run(t, "", "--sandbox", "token", "vimeo")
	assert.Equal(t, exitSignIn, gone.code)
	assert.Contains(t, gone.err, "Sign in first: `videoauth login vimeo`")
}

func TestSandboxViki(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "fan@example.com\ncorrect horse\n", "--sandbox", "login", "viki", "--password")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "Viki username: \nPassword: \n")
	assert.Contains(t, r.err, "Signed in to viki: user grant, user id 1u")

	v := e.run(t, "", "--sandbox", "verify", "viki")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, "GET /v3/users/1u.json answered 200 OK")
	assert.Contains(t, v.out, "account: fan (id 1u)")
	c := e.run(t, "", "--sandbox", "curl", "viki", "/v3/movies.json")
	require.Equal(t, exitOK, c.code, c.err)
	assert.Contains(t, c.out, "Fake Movie 101")

	wrong := e.run(t, "fan@example.com\nwrong\n", "--sandbox", "login", "viki", "--password")
	assert.Equal(t, exitDenied, wrong.code)
	assert.Contains(t, wrong.err, "viki rejected the username or password")
	fb := e.run(t, "not-a-facebook-token\n", "--sandbox", "login", "viki", "--facebook")
	assert.Equal(t, exitDenied, fb.code, fb.err)
	noInput := e.run(t, "", "--sandbox", "login", "viki", "--password", "--username", "fan@example.com")
	assert.Equal(t, exitUsage, noInput.code, noInput.err)
	assert.Contains(t, noInput.err, "no input")

	rv := e.run(t, "", "--sandbox", "revoke", "viki")
	assert.Equal(t, exitUsage, rv.code)
	assert.Contains(t, rv.err, "Viki v3 has no revocation endpoint")
	assert.Contains(t, rv.err, "videoauth logout viki")

	app := e.run(t, "", "--sandbox", "login", "viki", "--client")
	require.Equal(t, exitOK, app.code, app.err)
	assert.Contains(t, app.err, "app (client credentials) grant")
	v = e.run(t, "", "--sandbox", "verify", "viki")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, "GET /v3/movies.json answered 200 OK")
	assert.NotContains(t, v.out, "account:", "an app token names no account")
}

func TestSandboxScenarios(t *testing.T) {
	t.Run("deny", func(t *testing.T) {
		e := newEnv(t)
		for _, service := range []string{"vimeo", "simkl"} {
			r := e.run(t, "", "--sandbox", "--sandbox-scenario", "deny", "login", service)
			assert.Equal(t, exitDenied, r.code, r.err)
			assert.Contains(t, r.err, "the sign-in was denied")
			assert.Contains(t, r.err, "Nothing was stored. Run `videoauth login "+service+"` again")
		}
		keys, err := e.store(t, true).Keys(context.Background())
		require.NoError(t, err)
		assert.Empty(t, keys)
	})
	t.Run("expire", func(t *testing.T) {
		e := newEnv(t)
		r := e.run(t, "", "--sandbox", "--sandbox-scenario", "expire", "login", "vimeo", "--device")
		assert.Equal(t, exitExpired, r.code, r.err)
		assert.Contains(t, r.err, "the code expired before it was approved")
		assert.Contains(t, r.err, "Run `videoauth login vimeo --device` again")
	})
	t.Run("revoke", func(t *testing.T) {
		e := newEnv(t)
		require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "simkl").code)
		require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo").code)
		// A revoked Vimeo grant: Vimeo answers 401 invalid_token, a dead
		// grant (exit 4), not a failure worth retrying (exit 1).
		for _, args := range [][]string{{"verify", "vimeo"}, {"curl", "vimeo", "/me"}} {
			r := e.run(t, "", append([]string{"--sandbox", "--sandbox-scenario", "revoke"}, args...)...)
			assert.Equal(t, exitSignIn, r.code, r.err)
			assert.Contains(t, r.err, "the stored vimeo grant is no longer valid")
		}
		// An app token on a user endpoint (Vimeo's 8002): the grant is not
		// dead, and the tool says so.
		require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo", "--client").code)
		r := e.run(t, "", "--sandbox", "curl", "vimeo", "/me")
		assert.Equal(t, exitSignIn, r.code, r.err)
		assert.Contains(t, r.err, "the stored grant is an app token (which is still valid)")
		assert.NotContains(t, r.err, "no longer valid")
		for _, args := range [][]string{{"curl", "simkl", "/users/settings"}, {"verify", "simkl"}} {
			ok := e.run(t, "", append([]string{"--sandbox"}, args...)...)
			require.Equal(t, exitOK, ok.code, ok.err)
			if args[0] == "verify" {
				assert.Contains(t, ok.out, "account: Fake User (id 4242)")
			}
			r := e.run(t, "", append([]string{"--sandbox", "--sandbox-scenario", "revoke"}, args...)...)
			assert.Equal(t, exitSignIn, r.code, r.err)
			assert.Contains(t, r.err, "the stored simkl grant is no longer valid")
			assert.Contains(t, r.err, "Sign in again: `videoauth login simkl`.")
		}
	})
}

// simklEnv points the tool at a fake Simkl the test controls, as a user's
// environment variables would point it at simkl.com.
func simklEnv(t *testing.T, fake *videoauthtest.Simkl) env {
	e := newEnv(t)
	e["VIDEOAUTH_SIMKL_CLIENT_ID"] = fake.V2ClientID
	e["VIDEOAUTH_SIMKL_CLIENT_SECRET"] = fake.V2ClientSecret
	e["VIDEOAUTH_SIMKL_API_URL"] = fake.APIURL
	e["VIDEOAUTH_SIMKL_WEB_URL"] = fake.WebURL
	return e
}

// storeSimklV2 stores a Simkl V2 grant the fake issued, expiring at expiry.
func storeSimklV2(t *testing.T, e env, fake *videoauthtest.Simkl, expiry time.Time, scopes ...string) *videoauth.Token {
	t.Helper()
	access, refresh := fake.IssueToken(true, scopes...)
	tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: expiry, Scopes: scopes, Meta: map[string]string{"simkl_auth": "v2"}}
	require.NoError(t, e.store(t, false).Save(context.Background(), "simkl", tok))
	return tok
}

func TestTokenRenewsAGrantAboutToExpire(t *testing.T) {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	e := simklEnv(t, fake)
	old := storeSimklV2(t, e, fake, time.Now().Add(time.Minute), "media:read")

	r := e.run(t, "", "token", "simkl")
	require.Equal(t, exitOK, r.code, r.err)
	fresh := strings.TrimSpace(r.out)
	assert.NotEqual(t, old.AccessToken, fresh, "a token expiring within --min-valid is renewed first")
	assert.Equal(t, 1, fake.Refreshes())
	stored, err := e.store(t, false).Load(context.Background(), "simkl")
	require.NoError(t, err)
	assert.Equal(t, fresh, stored.AccessToken, "the renewed token is stored")
	assert.Equal(t, old.RefreshToken, stored.RefreshToken, "the grant's refresh token is kept")

	again := e.run(t, "", "token", "simkl")
	assert.Equal(t, fresh+"\n", again.out)
	assert.Equal(t, 1, fake.Refreshes(), "a fresh token is not renewed")
	lenient := e.run(t, "", "token", "simkl", "--min-valid", "0s")
	assert.Equal(t, fresh+"\n", lenient.out)

	strict := e.run(t, "", "token", "simkl", "--min-valid", "8d")
	assert.Equal(t, exitUsage, strict.code, "8d is not a Go duration")
	strict = e.run(t, "", "token", "simkl", "--min-valid", "192h")
	require.Equal(t, exitOK, strict.code, strict.err)
	assert.Equal(t, 2, fake.Refreshes())
}

func TestTokenOfAGrantThatCannotBeRenewed(t *testing.T) {
	e := newEnv(t)
	e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"] = "id", "secret"
	st := e.store(t, false)
	ctx := context.Background()
	require.NoError(t, st.Save(ctx, "viki", &videoauth.Token{Provider: "viki", AccessToken: "user-token", UserID: "1u", Expiry: time.Now().Add(2 * time.Minute)}))
	r := e.run(t, "", "token", "viki")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, "user-token\n", r.out)
	assert.Regexp(t, `warning: the viki token expires in (1m59s|2m0s) `, r.err)
	assert.Contains(t, r.err, "cannot be renewed without signing in again (`videoauth login viki`)")

	require.NoError(t, st.Save(ctx, "viki", &videoauth.Token{Provider: "viki", AccessToken: "user-token", UserID: "1u", Expiry: time.Now().Add(-time.Minute)}))
	r = e.run(t, "", "token", "viki")
	assert.Equal(t, exitSignIn, r.code)
	assert.Empty(t, r.out)
	assert.Contains(t, r.err, "the stored viki token has expired")
}

func TestCurlReplacesARejectedTokenAndReplays(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	require.Equal(t, exitOK, e.run(t, "", "login", "vimeo", "--client").code)
	first := strings.TrimSpace(e.run(t, "", "token", "vimeo").out)
	fake.DeleteToken(first)

	r := e.run(t, "", "curl", "vimeo", "/videos/7")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, `"uri":"/videos/7"`)
	assert.Equal(t, 2, fake.Mints(), "one mint at login, one after the rejection")
	stored := strings.TrimSpace(e.run(t, "", "token", "vimeo").out)
	assert.NotEqual(t, first, stored, "the new token is stored for the next command")
}

func TestCurlFlags(t *testing.T) {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	e := simklEnv(t, fake)
	tok := storeSimklV2(t, e, fake, time.Now().Add(24*time.Hour), "media:read", "media:write")
	body := `{"movies":[{"ids":{"simkl":53536}}]}`
	file := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(file, []byte(body), 0o600))

	r := e.run(t, "", "curl", "simkl", "/sync/history", "--json", "@"+file, "-i", "-H", "X-Trace: 1")
	require.Equal(t, exitOK, r.code, r.err)
	assert.True(t, strings.HasPrefix(r.out, "HTTP/1.1 201 Created\r\n"), r.out)
	assert.Contains(t, r.out, "Content-Type: application/json\r\n")
	bodies := fake.APIBodies()
	require.NotEmpty(t, bodies)
	assert.JSONEq(t, body, string(bodies[len(bodies)-1]))

	stdin := e.run(t, body, "curl", "simkl", "/sync/history", "-X", "post", "-d", "@-", "-H", "Content-Type: application/json")
	assert.Equal(t, exitOK, stdin.code, stdin.err)

	out := filepath.Join(t.TempDir(), "settings.json")
	r = e.run(t, "", "curl", "simkl", "/users/settings", "-o", out, "-v")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Empty(t, r.out)
	saved, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(saved), "Fake User")
	assert.Contains(t, r.err, "> GET ")
	assert.Contains(t, r.err, "< HTTP/1.1 200 OK")
	assert.NotContains(t, r.err, tok.AccessToken, "-v never shows the credential")

	missing := e.run(t, "", "curl", "simkl", "/no/such/route", "--fail")
	assert.Equal(t, exitHTTP, missing.code)
	assert.Empty(t, missing.out, "--fail prints no body")
	assert.Contains(t, missing.err, "the API answered 404")
	lax := e.run(t, "", "curl", "simkl", "/no/such/route")
	assert.Equal(t, exitOK, lax.code, "like curl, an HTTP error is not a failure without --fail")
	assert.NotEmpty(t, lax.out)

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"https://evil.example/steal"}, "videoauth sends the token nowhere else"},
		{[]string{"http://" + strings.TrimPrefix(fake.WebURL, "http://") + "/oauth2/authorize"}, "is not on simkl's API host"},
		{[]string{"/users/settings", "-H", "Authorization: Bearer mine"}, "an Authorization header was given"},
		{[]string{"/users/settings", "-H", "NoColon"}, `bad header "NoColon"`},
		{[]string{"/sync/history", "-d", "@" + filepath.Join(t.TempDir(), "none")}, "cannot read the request body"},
		{[]string{"/sync/history", "-d", "a=1", "--json", "{}"}, "-d and --json cannot be used together"},
		{[]string{"::not a url"}, "is not a URL or a path"},
	} {
		r := e.run(t, "", append([]string{"curl", "simkl"}, tc.args...)...)
		assert.Equalf(t, exitUsage, r.code, "%v: %s", tc.args, r.err)
		assert.Contains(t, r.err, tc.msg, tc.args)
	}
	assert.Zero(t, fake.KilledTokenUses())
}

func TestRevokeEndsTheGrantAtTheService(t *testing.T) {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	e := simklEnv(t, fake)
	tok := storeSimklV2(t, e, fake, time.Now().Add(24*time.Hour), "media:read")
	r := e.run(t, "", "revoke", "simkl")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 1, fake.Revocations())
	assert.Equal(t, tok.RefreshToken, fake.LastTokenForm().Get("token"), "the refresh token is sent: it ends both")
	assert.Equal(t, exitSignIn, e.run(t, "", "token", "simkl").code, "and the grant is forgotten")

	v1 := &videoauth.Token{Provider: "simkl", AccessToken: "v1-token", Meta: map[string]string{"simkl_auth": "v1"}}
	require.NoError(t, e.store(t, false).Save(context.Background(), "simkl", v1))
	r = e.run(t, "", "revoke", "simkl")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.err, "Connected Apps")
	assert.Equal(t, 1, fake.Revocations())
	assert.Equal(t, "v1-token\n", e.run(t, "", "token", "simkl").out, "a grant that was not revoked is kept")
}

func TestLogoutAndList(t *testing.T) {
	e := newEnv(t)
	st := e.store(t, false)
	ctx := context.Background()
	require.NoError(t, st.Save(ctx, "vimeo", &videoauth.Token{Provider: "vimeo", AccessToken: "vimeo-secret-token", UserID: "4242", Scopes: []string{"public"}}))
	require.NoError(t, st.Save(ctx, "simkl", &videoauth.Token{Provider: "simkl", AccessToken: "simkl-secret-token", RefreshToken: "simkl-refresh",
		Expiry: time.Now().Add(50 * time.Hour), Scopes: []string{"media:read"}, Meta: map[string]string{"simkl_auth": "v2"}}))
	require.NoError(t, os.WriteFile(filepath.Join(st.Dir(), "viki.json"), []byte("{not json"), 0o600))

	l := e.run(t, "", "list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Regexp(t, `(?m)^SERVICE\s+GRANT\s+USER\s+SCOPES\s+EXPIRES\s+RENEWABLE\s+ACCOUNT$`, l.out)
	assert.Regexp(t, `(?m)^simkl\s+user \(v2\)\s+-\s+media:read\s+in 2d1h \(\d{4}-\d\d-\d\d \d\d:\d\d\)\s+yes\s+default \(default\)$`, l.out)
	assert.Regexp(t, `(?m)^viki\s+unreadable: run .videoauth logout viki.`, l.out)
	assert.Regexp(t, `(?m)^vimeo\s+user\s+4242\s+public\s+never\s+no\s+default \(default\)$`, l.out)
	js := e.run(t, "", "list", "--json")
	for _, r := range []result{l, js} {
		for _, secret := range []string{"vimeo-secret-token", "simkl-secret-token", "simkl-refresh"} {
			assert.NotContains(t, r.out+r.err, secret)
		}
	}
	var grants []grantInfo
	require.NoError(t, json.Unmarshal([]byte(js.out), &grants))
	require.Len(t, grants, 3)
	assert.True(t, grants[0].Renewable)
	assert.NotEmpty(t, grants[1].Problem)

	corrupt := e.run(t, "", "token", "viki")
	assert.Equal(t, exitSignIn, corrupt.code)
	assert.Contains(t, corrupt.err, "Run `videoauth logout viki` to remove it")

	out := e.run(t, "", "logout", "viki")
	require.Equal(t, exitOK, out.code, out.err)
	assert.Contains(t, out.err, "Removed the stored viki grant.")
	again := e.run(t, "", "logout", "viki")
	assert.Equal(t, exitOK, again.code)
	assert.Contains(t, again.err, "Not signed in to viki; nothing to remove.")
	all := e.run(t, "", "logout", "--all")
	require.Equal(t, exitOK, all.code, all.err)
	keys, err := st.Keys(ctx)
	require.NoError(t, err)
	assert.Empty(t, keys)
	empty := e.run(t, "", "list")
	assert.Empty(t, empty.out)
	assert.Contains(t, empty.err, "No stored grants.")
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	const secret = "s3cret-marker-93b1"
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, secret, fake.URL
	e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"] = "id", secret
	for _, args := range [][]string{
		{"login", "vimeo", "--client"},                   // the service rejects the secret
		{"login", "viki", "--client", "--scopes", "x y"}, // no network: the real host, refused or unreachable
		{"login", "vimeo", "--client", "--client-secret", secret + "2"},
		{"login", "simkl", "--client-secret", secret}, // no client id
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var out, errb bytes.Buffer
		code := run(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errb}, e.getenv)
		cancel()
		assert.NotEqual(t, exitOK, code, "%v", args)
		assert.NotContains(t, out.String()+errb.String(), secret, "%v", args)
	}
	sandbox := e.run(t, "", "--sandbox", "login", "viki", "--client", "--client-secret", secret)
	assert.Equal(t, exitOK, sandbox.code, "the sandbox uses the fake's credentials")
	assert.NotContains(t, sandbox.out+sandbox.err, secret)
	rejected := e.run(t, "", "login", "vimeo", "--client")
	assert.Equal(t, exitConfig, rejected.code)
	assert.Contains(t, rejected.err, "vimeo rejected the client id or secret")
}

func TestUnreachableService(t *testing.T) {
	e := newEnv(t)
	e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"] = "id", "secret"
	e["VIDEOAUTH_VIKI_API_URL"] = "http://127.0.0.1:1" // nothing listens on port 1
	r := e.run(t, "", "login", "viki", "--client")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.err, "videoauth: cannot reach viki (")
	assert.Contains(t, r.err, "Check your network connection")
}

func TestReadmeShowsTheExitCodes(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	var want strings.Builder
	want.WriteString("| code | meaning |\n|---|---|\n")
	for _, e := range exitCodeTable {
		fmt.Fprintf(&want, "| %d | %s |\n", e.code, e.meaning)
	}
	assert.Contains(t, string(readme), want.String(), "the README's exit-code table is the tool's")
	help := newEnv(t).run(t, "", "--help")
	assert.Contains(t, help.out, exitCodesHelp())
	seen := map[int]bool{}
	for _, e := range exitCodeTable {
		assert.False(t, seen[e.code], "code %d explained twice", e.code)
		seen[e.code] = true
	}
	for _, code := range []int{exitOK, exitFailure, exitUsage, exitConfig, exitSignIn, exitDenied, exitExpired, exitBinding, exitFiles, exitHTTP, exitInterrupted} {
		assert.True(t, seen[code], "code %d is not explained", code)
	}
}

// TestReadmeShowsTheCommands: the README's command table lists every
// command of the tool and nothing else, and each flag a row names is one
// of that command's.
func TestReadmeShowsTheCommands(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "| command | what it does |\n|---|---|\n")
	require.True(t, ok, "no command table in the README")
	table, _, _ = strings.Cut(table, "\n\n")
	root := (&cli{stdio: stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}, getenv: env{}.getenv}).rootCmd()
	listed := map[string]bool{}
	flagRE := regexp.MustCompile("`(--[a-z-]+|-[A-Za-z])`|\\s(--[a-z-]+|-[A-Za-z])[,;)\\s]")
	for _, row := range strings.Split(table, "\n") {
		cells := strings.SplitN(strings.TrimPrefix(row, "| "), " | ", 2)
		require.Len(t, cells, 2, "row %q", row)
		name := strings.Fields(strings.Trim(cells[0], "`"))[0]
		listed[name] = true
		cmd, _, err := root.Find([]string{name})
		require.NoError(t, err, "the README lists %q", name)
		require.Equal(t, name, cmd.Name(), "the README lists %q, which is no command", name)
		for _, m := range flagRE.FindAllStringSubmatch(cells[0]+" "+cells[1], -1) {
			f := m[1] + m[2]
			var found bool
			if strings.HasPrefix(f, "--") {
				found = cmd.Flags().Lookup(f[2:]) != nil || root.PersistentFlags().Lookup(f[2:]) != nil
			} else {
				found = cmd.Flags().ShorthandLookup(f[1:]) != nil
			}
			assert.True(t, found, "the README's %s row names %s, which %s does not have", name, f, name)
		}
	}
	for _, cmd := range root.Commands() {
		if cmd.IsAvailableCommand() && cmd.Name() != "help" {
			assert.True(t, listed[cmd.Name()], "the README's command table lacks %q", cmd.Name())
		}
	}
}
