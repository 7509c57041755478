package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// The services added after the first three (Twitch, Dailymotion), driven
// in-process as a user drives them: each test runs the tool's commands
// through run, against the sandbox's fakes or a fake the test controls.

// sandboxSession runs one sandbox session of service: login (with
// loginArgs) → token → token --json → token --header → curl path →
// verify → list → revoke → token, which exits 4. It checks what each
// step prints, and that only token prints the token.
func sandboxSession(t *testing.T, service string, loginArgs []string, path, apiBody, verifyLine, account, listRE string) {
	t.Helper()
	e := newEnv(t)
	sb := func(args ...string) result {
		t.Helper()
		return e.run(t, "", append([]string{"--sandbox"}, args...)...)
	}

	login := sb(append([]string{"login", service}, loginArgs...)...)
	require.Equal(t, exitOK, login.code, login.err)
	assert.Contains(t, login.err, "Listening on http://127.0.0.1:")
	assert.Contains(t, login.err, "Sandbox: the fake's consent page answers by itself.")
	assert.Contains(t, login.err, "Signed in to "+service+": user grant, user id ")

	tok := sb("token", service)
	require.Equal(t, exitOK, tok.code, tok.err)
	access := strings.TrimSpace(tok.out)
	require.NotEmpty(t, access)
	assert.Equal(t, access+"\n", tok.out, "token prints the token and nothing else")
	again := sb("token", service)
	assert.Equal(t, tok.out, again.out, "the stored grant is used again, as it was signed in with")

	js := sb("token", service, "--json")
	require.Equal(t, exitOK, js.code, js.err)
	var tj tokenJSON
	require.NoError(t, json.Unmarshal([]byte(js.out), &tj))
	assert.Equal(t, access, tj.AccessToken)
	assert.Equal(t, "Bearer", tj.TokenType)
	assert.Equal(t, service, tj.Service)
	assert.Equal(t, defaultAccount, tj.Account)
	assert.NotNil(t, tj.Expiry, "both services give their tokens a lifetime")
	hdr := sb("token", service, "--header")
	require.Equal(t, exitOK, hdr.code, hdr.err)
	assert.Contains(t, hdr.out, "Authorization: Bearer "+access+"\n")

	c := sb("curl", service, path)
	require.Equal(t, exitOK, c.code, c.err)
	assert.Contains(t, c.out, apiBody)
	// A URL on the real API host goes to the fake in the sandbox; any
	// other host never gets the token.
	real := sb("curl", service, infoOf(service).apiURL+path)
	require.Equal(t, exitOK, real.code, real.err)
	assert.Equal(t, c.out, real.out)
	elsewhere := sb("curl", service, "https://evil.example"+path)
	assert.Equal(t, exitUsage, elsewhere.code)
	assert.Contains(t, elsewhere.err, "videoauth sends the token nowhere else")

	v := sb("verify", service)
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, verifyLine)
	assert.Contains(t, v.out, "account: "+account)
	vj := sb("verify", service, "--json")
	require.Equal(t, exitOK, vj.code, vj.err)
	var got verifyJSON
	require.NoError(t, json.Unmarshal([]byte(vj.out), &got))
	assert.True(t, got.Works)
	assert.Equal(t, "user", got.Grant)

	l := sb("list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Regexp(t, listRE, l.out)

	for _, r := range []result{login, js, c, real, v, vj, l} {
		if r.out != js.out {
			assert.NotContains(t, r.out+r.err, access, "only `token` prints the token")
		}
	}
	keys, err := e.store(t, false).Keys(context.Background())
	require.NoError(t, err)
	assert.Empty(t, keys, "the sandbox keeps its tokens apart")

	rv := sb("revoke", service)
	require.Equal(t, exitOK, rv.code, rv.err)
	assert.Contains(t, rv.err, "Revoked the "+service+" grant and removed it from the store.")
	gone := sb("token", service)
	assert.Equal(t, exitSignIn, gone.code, gone.err)
	assert.Contains(t, gone.err, "Sign in first: `videoauth login "+service+"`")
}

func TestSandboxTwitchSession(t *testing.T) {
	sandboxSession(t, "twitch", []string{"--scopes", "user:read:email"}, "/helix/users", `"login":"twitchdev"`,
		"twitch: the token works: GET /oauth2/validate answered 200 OK.", "twitchdev (id 141981764)",
		`(?m)^twitch\s+user\s+141981764\s+user:read:email\s+in 3h\d+m .*\s+yes\s+default \(default\)$`)
}

func TestSandboxDailymotionSession(t *testing.T) {
	sandboxSession(t, "dailymotion", nil, "/me", `"screenname":"Fake User"`,
		"dailymotion: the token works: GET /auth answered 200 OK.", "Fake User (id x1fakeuser)",
		`(?m)^dailymotion\s+user\s+x1fakeuser\s+userinfo\s+in 9h\d+m .*\s+yes\s+default \(default\)$`)
}

func TestSandboxYouTubeSession(t *testing.T) {
	sandboxSession(t, "youtube", nil, "/youtube/v3/channels?part=snippet&mine=true", `"title":"Fake Channel"`,
		"youtube: the token works: GET /youtube/v3/channels?part=snippet&mine=true answered 200 OK.", "Fake Channel (id UCfakeChannel0123456789)",
		`(?m)^youtube\s+user\s+UCfakeChannel0123456789\s+https://www.googleapis.com/auth/youtube.readonly\s+in \d+m .*\s+yes\s+default \(default\)$`)
}

func TestSandboxYouTubeFlows(t *testing.T) {
	e := newEnv(t)
	sb := func(args ...string) result {
		t.Helper()
		return e.run(t, "", append([]string{"--sandbox"}, args...)...)
	}

	dev := sb("login", "youtube", "--device")
	require.Equal(t, exitOK, dev.code, dev.err)
	assert.Contains(t, dev.err, "and enter the code")
	assert.Contains(t, dev.err, "Signed in to youtube: user grant, user id UCfakeChannel0123456789")
	st, err := e.store(t, true).Load(context.Background(), "youtube")
	require.NoError(t, err)
	assert.Equal(t, "tv", st.Meta["videoauth_client"], "the grant records the device client, the one that refreshes it")
	v := sb("verify", "youtube")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, "account: Fake Channel (id UCfakeChannel0123456789)")

	// The device flow's scope allow-list, before anything is sent.
	up := sb("login", "youtube", "--device", "--account", "up", "--scopes", videoauth.YouTubeScopeUpload)
	assert.Equal(t, exitConfig, up.code, up.err)
	assert.Contains(t, up.err, "youtube refused the scopes asked for")
	assert.Contains(t, up.err, "nothing was sent")

	other := sb("curl", "youtube", "/drive/v3/files")
	assert.Equal(t, exitUsage, other.code)
	assert.Contains(t, other.err, "a YouTube token goes to /youtube/… and /upload/youtube/… paths only")
	for _, flow := range []string{"--client", "--password", "--facebook"} {
		r := sb("login", "youtube", flow, "--account", "x")
		assert.Equal(t, exitUsage, r.code, "%s: %s", flow, r.err)
		assert.Contains(t, r.err, "youtube signs in with the browser (default) or --device.", flow)
	}
}

// youtubeEnv points the tool at a fake YouTube the test controls.
func youtubeEnv(t *testing.T, fake *videoauthtest.YouTube) env {
	e := newEnv(t)
	e["VIDEOAUTH_YOUTUBE_CLIENT_ID"] = fake.ClientID
	e["VIDEOAUTH_YOUTUBE_CLIENT_SECRET"] = fake.ClientSecret
	e["VIDEOAUTH_YOUTUBE_API_URL"] = fake.APIURL
	e["VIDEOAUTH_YOUTUBE_WEB_URL"] = fake.WebURL
	return e
}

// TestYouTubeRefreshKeepsTheRefreshToken: Google's refresh answers carry no
// refresh token; the stored one is kept, never blanked, and a quota answer
// is no token error.
func TestYouTubeRefreshKeepsTheRefreshToken(t *testing.T) {
	fake := videoauthtest.NewYouTube()
	defer fake.Close()
	e := youtubeEnv(t, fake)
	access, refresh := fake.IssueToken(videoauth.YouTubeScopeReadOnly)
	require.NoError(t, e.store(t, false).Save(context.Background(), "youtube", &videoauth.Token{Provider: "youtube", AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", Expiry: time.Now().Add(time.Hour), UserID: "UCfakeChannel0123456789", Scopes: []string{videoauth.YouTubeScopeReadOnly}}))
	fake.ExpireAccessToken(access)

	r := e.run(t, "", "curl", "youtube", "/youtube/v3/channels?part=snippet&mine=true", "-f")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "Fake Channel")
	assert.Equal(t, 1, fake.Refreshes())
	stored, err := e.store(t, false).Load(context.Background(), "youtube")
	require.NoError(t, err)
	assert.NotEqual(t, access, stored.AccessToken)
	assert.Equal(t, refresh, stored.RefreshToken, "the refresh token is kept")

	fake.SetQuota(10000, 10000)
	q := e.run(t, "", "verify", "youtube")
	assert.Equal(t, exitFailure, q.code, q.err)
	assert.Contains(t, q.err, "quota is used up")
	assert.Equal(t, 1, fake.Refreshes(), "a quota answer is never a refresh")
	fake.SetQuota(10000, 0)

	rv := e.run(t, "", "revoke", "youtube")
	require.Equal(t, exitOK, rv.code, rv.err)
	assert.Equal(t, 1, fake.Revocations())
	assert.Zero(t, fake.Malformed())
}

func TestSandboxTraktSession(t *testing.T) {
	sandboxSession(t, "trakt", nil, "/users/settings", `"username":"fake-user"`,
		"trakt: the token works: GET /users/settings answered 200 OK.", "Fake User (id 5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17)",
		`(?m)^trakt\s+user\s+5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17\s+public offline_access\s+in 6d23h .*\s+yes\s+default \(default\)$`)
}

func TestSandboxTraktDevice(t *testing.T) {
	e := newEnv(t)
	dev := e.run(t, "", "--sandbox", "login", "trakt", "--device")
	require.Equal(t, exitOK, dev.code, dev.err)
	assert.Contains(t, dev.err, "and enter the code")
	assert.Contains(t, dev.err, "Signed in to trakt: user grant, user id 5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17")
	hdr := e.run(t, "", "--sandbox", "token", "trakt", "--header")
	require.Equal(t, exitOK, hdr.code, hdr.err)
	assert.Contains(t, hdr.out, "Trakt-Api-Key: ")
	assert.Contains(t, hdr.out, "Trakt-Api-Version: 2\n")
	r := e.run(t, "", "--sandbox", "login", "trakt", "--client", "--account", "x")
	assert.Equal(t, exitUsage, r.code, r.err)
	assert.Contains(t, r.err, "trakt signs in with the browser")
}

// traktEnv points the tool at a fake Trakt the test controls.
func traktEnv(t *testing.T, fake *videoauthtest.Trakt) env {
	e := newEnv(t)
	e["VIDEOAUTH_TRAKT_CLIENT_ID"] = fake.ClientID
	e["VIDEOAUTH_TRAKT_API_URL"] = fake.APIURL
	e["VIDEOAUTH_TRAKT_WEB_URL"] = fake.AuthURL
	return e
}

// TestTraktRotatesAndMigrates: a rejected Trakt token is refreshed once,
// the rotated pair stored before use; a grant from before Trakt's auth
// migration asks for one more sign-in.
func TestTraktRotatesAndMigrates(t *testing.T) {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	e := traktEnv(t, fake)
	access, refresh := fake.IssueToken()
	require.NoError(t, e.store(t, false).Save(context.Background(), "trakt", &videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour), UserID: "5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17", Scopes: []string{"public", "offline_access"}}))
	fake.ExpireAccessToken(access)

	r := e.run(t, "", "curl", "trakt", "/sync/last_activities", "-f")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 1, fake.Refreshes())
	stored, err := e.store(t, false).Load(context.Background(), "trakt")
	require.NoError(t, err)
	assert.NotEqual(t, refresh, stored.RefreshToken, "the rotated refresh token is stored")
	assert.Equal(t, "5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17", stored.UserID)
	v := e.run(t, "", "verify", "trakt")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Equal(t, 1, fake.Refreshes())
	assert.Zero(t, fake.Malformed(), fake.MalformedReasons())

	oldAccess, oldRefresh := fake.IssueLegacyToken()
	require.NoError(t, e.store(t, false).Save(context.Background(), "trakt", &videoauth.Token{Provider: "trakt", AccessToken: oldAccess, RefreshToken: oldRefresh,
		TokenType: "Bearer", Expiry: time.Now().Add(time.Minute), UserID: "5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17"}))
	old := e.run(t, "", "token", "trakt")
	assert.Equal(t, exitSignIn, old.code, old.err)
	assert.Contains(t, old.err, "the stored trakt grant is no longer valid")
	assert.Contains(t, old.err, "Sign in again: `videoauth login trakt`.")
	assert.Contains(t, old.err, "predates Trakt's July 2026 auth migration", "the message says why")
	assert.Zero(t, fake.Malformed(), fake.MalformedReasons())
}

func TestSandboxTwitchFlows(t *testing.T) {
	e := newEnv(t)
	sb := func(args ...string) result {
		t.Helper()
		return e.run(t, "", append([]string{"--sandbox"}, args...)...)
	}

	dev := sb("login", "twitch", "--device", "--scopes", "user:read:email")
	require.Equal(t, exitOK, dev.code, dev.err)
	assert.Contains(t, dev.err, "and enter the code")
	assert.Contains(t, dev.err, "Signed in to twitch: user grant, user id 141981764, scopes: user:read:email.")

	app := sb("login", "twitch", "--client", "--account", "app")
	require.Equal(t, exitOK, app.code, app.err)
	assert.Contains(t, app.err, `Signed in to twitch as account "app": app (client credentials) grant.`)
	// An app token on a user route: Twitch's 401 that a new token would
	// not fix, never retried, and the grant not dead.
	users := sb("--account", "app", "curl", "twitch", "/helix/users", "-f")
	assert.NotEqual(t, exitOK, users.code, users.err)
	assert.NotContains(t, users.err, "no longer valid")
	byID := sb("--account", "app", "curl", "twitch", "/helix/users?id=141981764")
	require.Equal(t, exitOK, byID.code, byID.err)
	assert.Contains(t, byID.out, `"login":"twitchdev"`)
	v := sb("--account", "app", "verify", "twitch")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, "grant:   app (client credentials)")
	assert.NotContains(t, v.out, "account:", "an app token names no account")

	l := sb("list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Regexp(t, `(?m)^twitch\s+app \(client credentials\)\s+-\s+-\s+in 5\dd\d+h .*\s+yes\s+app$`, l.out)
	assert.Regexp(t, `(?m)^twitch\s+user\s+141981764\s+user:read:email\s+.*\s+yes\s+default \(default\)$`, l.out)

	rv := sb("--account", "app", "revoke", "twitch")
	require.Equal(t, exitOK, rv.code, rv.err)
	assert.Contains(t, rv.err, `Revoked the twitch grant of account "app"`)

	given := e.run(t, "a-token-of-mine\n", "--sandbox", "login", "twitch", "--with-token", "--account", "given")
	require.Equal(t, exitOK, given.code, given.err)
	assert.Contains(t, given.err, "user (given) grant, user id 141981764")
	gv := sb("--account", "given", "verify", "twitch")
	require.Equal(t, exitOK, gv.code, gv.err)
	assert.Contains(t, gv.out, "account: twitchdev (id 141981764)")
}

func TestSandboxDailymotionFlows(t *testing.T) {
	e := newEnv(t)
	sb := func(args ...string) result {
		t.Helper()
		return e.run(t, "", append([]string{"--sandbox"}, args...)...)
	}

	pw := e.run(t, "fake-user\nfake-password\n", "--sandbox", "login", "dailymotion", "--password")
	require.Equal(t, exitOK, pw.code, pw.err)
	assert.Contains(t, pw.err, "Dailymotion discourages the password grant")
	assert.Contains(t, pw.err, "Dailymotion username: \nPassword: \n")
	assert.Contains(t, pw.err, "Signed in to dailymotion: user grant, user id x1fakeuser")
	wrong := e.run(t, "fake-user\nwrong\n", "--sandbox", "login", "dailymotion", "--password")
	assert.Equal(t, exitDenied, wrong.code, wrong.err)
	assert.Contains(t, wrong.err, "dailymotion rejected the username or password")

	key := sb("login", "dailymotion", "--client", "--account", "key")
	require.Equal(t, exitOK, key.code, key.err)
	assert.Contains(t, key.err, `Signed in to dailymotion as account "key": app (private key, v2) grant`)
	me := sb("--account", "key", "curl", "dailymotion", "/v2/me")
	require.Equal(t, exitOK, me.code, me.err)
	assert.Contains(t, me.out, `"user_id":"x9fakeorg"`)
	legacy := sb("--account", "key", "curl", "dailymotion", "/me")
	assert.Equal(t, exitUsage, legacy.code)
	assert.Contains(t, legacy.err, "a Dailymotion private key's token goes to API v2 (/v2/…) only")
	v := sb("--account", "key", "verify", "dailymotion")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Contains(t, v.out, "GET /v2/me answered 200 OK")
	assert.Contains(t, v.out, "grant:   app (private key, v2)")
	l := sb("list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Regexp(t, `(?m)^dailymotion\s+app \(private key, v2\)\s+-\s+.*\s+in 29m .*\s+yes\s+key$`, l.out)
	rv := sb("--account", "key", "revoke", "dailymotion")
	assert.Equal(t, exitUsage, rv.code)
	assert.Contains(t, rv.err, "Dailymotion documents no revocation of a private key's tokens")
	assert.Contains(t, rv.err, "`videoauth logout dailymotion --account key`")

	for _, tc := range []struct{ args []string }{{[]string{"--device"}}, {[]string{"--facebook"}}, {[]string{"--session"}}} {
		r := sb(append([]string{"login", "dailymotion", "--account", "x"}, tc.args...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.err)
		assert.Contains(t, r.err, "dailymotion signs in with the browser (default), --password, or --client", tc.args)
	}
}

func TestSandboxScenariosOfTheNewServices(t *testing.T) {
	t.Run("deny", func(t *testing.T) {
		e := newEnv(t)
		for _, args := range [][]string{{"login", "twitch"}, {"login", "twitch", "--device"}, {"login", "dailymotion"}, {"login", "youtube"}, {"login", "youtube", "--device"}, {"login", "trakt"}, {"login", "trakt", "--device"}} {
			r := e.run(t, "", append([]string{"--sandbox", "--sandbox-scenario", "deny"}, args...)...)
			assert.Equal(t, exitDenied, r.code, r.err)
			assert.Contains(t, r.err, "the sign-in was denied", args)
			assert.Contains(t, r.err, "Nothing was stored. Run `videoauth login "+args[1]+"` again", args)
		}
		keys, err := e.store(t, true).Keys(context.Background())
		require.NoError(t, err)
		assert.Empty(t, keys)
	})
	t.Run("expire", func(t *testing.T) {
		e := newEnv(t)
		for _, service := range []string{"twitch", "youtube", "trakt"} {
			start := time.Now()
			r := e.run(t, "", "--sandbox", "--sandbox-scenario", "expire", "login", service, "--device")
			assert.Equal(t, exitExpired, r.code, r.err)
			assert.Contains(t, r.err, "the code expired before it was approved")
			assert.Contains(t, r.err, "Run `videoauth login "+service+" --device` again")
			assert.Less(t, time.Since(start), 20*time.Second, "the sandbox's time runs fast")
		}
	})
	t.Run("revoke", func(t *testing.T) {
		e := newEnv(t)
		paths := map[string]string{"twitch": "/helix/users", "dailymotion": "/me", "youtube": "/youtube/v3/channels?part=id&mine=true", "trakt": "/sync/last_activities"}
		for _, service := range []string{"twitch", "dailymotion", "youtube", "trakt"} {
			require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", service).code)
			for _, args := range [][]string{{"verify", service}, {"curl", service, paths[service]}} {
				r := e.run(t, "", append([]string{"--sandbox", "--sandbox-scenario", "revoke"}, args...)...)
				assert.Equal(t, exitSignIn, r.code, "%v: %s", args, r.err)
				assert.Contains(t, r.err, "the stored "+service+" grant is no longer valid", args)
				assert.Contains(t, r.err, "Sign in again: `videoauth login "+service+"`.", args)
			}
			ok := e.run(t, "", "--sandbox", "verify", service)
			assert.Equal(t, exitOK, ok.code, "without the scenario the grant works again: %s", ok.err)
		}
	})
}

// twitchEnv points the tool at a fake Twitch the test controls, as a
// user's environment variables would point it at twitch.tv.
func twitchEnv(t *testing.T, fake *videoauthtest.Twitch) env {
	e := newEnv(t)
	e["VIDEOAUTH_TWITCH_CLIENT_ID"] = fake.ClientID
	e["VIDEOAUTH_TWITCH_CLIENT_SECRET"] = fake.ClientSecret
	e["VIDEOAUTH_TWITCH_API_URL"] = fake.APIURL
	e["VIDEOAUTH_TWITCH_WEB_URL"] = fake.IDURL
	return e
}

// TestTwitchRefreshesOnceAndReplays: a Helix 401 Invalid OAuth token is
// refreshed once (the single-use refresh token rotated, the new pair
// stored before it is used) and the request replayed.
func TestTwitchRefreshesOnceAndReplays(t *testing.T) {
	fake := videoauthtest.NewTwitch()
	defer fake.Close()
	e := twitchEnv(t, fake)
	access, refresh := fake.IssueUserToken(false, "user:read:email")
	require.NoError(t, e.store(t, false).Save(context.Background(), "twitch", &videoauth.Token{Provider: "twitch", AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", Expiry: time.Now().Add(3 * time.Hour), UserID: fake.UserID, Scopes: []string{"user:read:email"},
		Meta: map[string]string{"twitch_client": fake.ClientID, "twitch_token": "user"}}))
	fake.ExpireToken(access)

	r := e.run(t, "", "curl", "twitch", "/helix/users")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, `"login":"twitchdev"`)
	assert.Equal(t, 1, fake.Refreshes())
	stored, err := e.store(t, false).Load(context.Background(), "twitch")
	require.NoError(t, err)
	assert.NotEqual(t, access, stored.AccessToken, "the new token is stored")
	assert.NotEqual(t, refresh, stored.RefreshToken, "and the rotated refresh token with it")
	assert.Equal(t, fake.UserID, stored.UserID)

	v := e.run(t, "", "verify", "twitch")
	require.Equal(t, exitOK, v.code, v.err)
	assert.Equal(t, 1, fake.Refreshes(), "the stored pair is used, not refreshed again")
	assert.Zero(t, fake.SpentRefreshTokenUses())
	assert.Zero(t, fake.Malformed(), fake.MalformedRequests())

	rv := e.run(t, "", "revoke", "twitch")
	require.Equal(t, exitOK, rv.code, rv.err)
	assert.Equal(t, 1, fake.Revocations())
	assert.Zero(t, fake.Malformed(), fake.MalformedRequests())
}

// TestNewServicesConfiguration: flags, VIDEOAUTH_<SERVICE>_<SETTING> and
// the config file configure the new services, and what is missing is named
// with every place it can come from.
func TestNewServicesConfiguration(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		e := newEnv(t)
		for _, tc := range []struct {
			args       []string
			code       int
			msg, hint  string
			hintAlso   string
			notInError string
		}{
			{[]string{"login", "twitch"}, exitConfig, "no twitch client id", "VIDEOAUTH_TWITCH_CLIENT_ID", "dev.twitch.tv", ""},
			{[]string{"login", "dailymotion"}, exitConfig, "no dailymotion client id", "VIDEOAUTH_DAILYMOTION_CLIENT_ID", "--sandbox", ""},
			{[]string{"login", "trakt"}, exitConfig, "no trakt client id", "VIDEOAUTH_TRAKT_CLIENT_ID", "trakt.tv/oauth/applications", ""},
			{[]string{"login", "youtube"}, exitConfig, "no youtube client id", "VIDEOAUTH_YOUTUBE_CLIENT_ID", "console.cloud.google.com", ""},
			{[]string{"login", "youtube", "--device", "--client-id", "web"}, exitConfig, "no youtube client secret", "VIDEOAUTH_YOUTUBE_CLIENT_SECRET", "", ""},
			{[]string{"login", "dailymotion", "--client"}, exitConfig, "no dailymotion private key", "VIDEOAUTH_DAILYMOTION_PRIVATE_KEY", "VIDEOAUTH_DAILYMOTION_PRIVATE_SECRET", ""},
			{[]string{"login", "dailymotion", "--client", "--client-id", "pub", "--client-secret", "s3cret-pub"}, exitConfig, "no dailymotion private key", "PRIVATE_KEY", "", "s3cret-pub"},
			{[]string{"login", "twitch", "--client-id", "public-app"}, exitUsage, "a Twitch app without a client secret is a public client", "videoauth login twitch --device", "VIDEOAUTH_TWITCH_CLIENT_SECRET", ""},
			{[]string{"login", "twitch", "--client", "--client-id", "public-app"}, exitUsage, "cannot use --client", "--device", "", ""},
		} {
			r := e.run(t, "", tc.args...)
			assert.Equal(t, tc.code, r.code, "%v: %s", tc.args, r.err)
			assert.Contains(t, r.err, tc.msg, tc.args)
			assert.Contains(t, r.err, tc.hint, tc.args)
			assert.Contains(t, r.err, tc.hintAlso, tc.args)
			if tc.notInError != "" {
				assert.NotContains(t, r.err, tc.notInError)
			}
		}
	})
	t.Run("environment", func(t *testing.T) {
		fake := videoauthtest.NewTwitch()
		defer fake.Close()
		e := twitchEnv(t, fake)
		r := e.run(t, "", "login", "twitch", "--client")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Equal(t, 1, fake.Mints())
		v := e.run(t, "", "verify", "twitch")
		require.Equal(t, exitOK, v.code, v.err)
		assert.Contains(t, v.out, "grant:   app (client credentials)")
		assert.Zero(t, fake.Malformed(), fake.MalformedRequests())
	})
	t.Run("config file", func(t *testing.T) {
		fake := videoauthtest.NewDailymotion()
		defer fake.Close()
		e := newEnv(t)
		cfg := map[string]map[string]string{"dailymotion": {"client_id": fake.PublicKey, "client_secret": fake.PublicSecret,
			"api_url": fake.APIURL, "web_url": fake.WebURL, "private_key": fake.PrivateKey, "private_secret": fake.PrivateSecret,
			"private_endpoint": "partner", "partner_url": fake.PartnerURL}}
		data, err := json.Marshal(cfg)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "config.json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		e["VIDEOAUTH_CONFIG"] = path

		r := e.run(t, "", "login", "dailymotion", "--client")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Contains(t, r.err, "app (private key, partner) grant")
		c := e.run(t, "", "curl", "dailymotion", "/rest/me/videos")
		require.Equal(t, exitOK, c.code, c.err)
		assert.Contains(t, c.out, `"has_more":false`)
		v := e.run(t, "", "verify", "dailymotion")
		require.Equal(t, exitOK, v.code, v.err)
		assert.Contains(t, v.out, "GET /rest/auth answered 200 OK")
		assert.Equal(t, 1, fake.Mints())
		for _, s := range []string{fake.PrivateSecret, fake.PublicSecret} {
			assert.NotContains(t, r.out+r.err+c.err+v.out+v.err, s)
		}

		// The environment wins over the file.
		e["VIDEOAUTH_DAILYMOTION_PRIVATE_KEY"] = "not-the-key"
		bad := e.run(t, "", "login", "dailymotion", "--client", "--account", "other")
		assert.Equal(t, exitConfig, bad.code, bad.err)
		assert.Contains(t, bad.err, "dailymotion rejected the private key or its secret")
		assert.Contains(t, bad.err, "VIDEOAUTH_DAILYMOTION_PRIVATE_KEY")
		assert.Equal(t, "not-the-key", fake.LastTokenForm().Get("client_id"))
		delete(e, "VIDEOAUTH_DAILYMOTION_PRIVATE_KEY")

		e["VIDEOAUTH_DAILYMOTION_PRIVATE_ENDPOINT"] = "v3"
		unknown := e.run(t, "", "token", "dailymotion")
		assert.Equal(t, exitConfig, unknown.code, unknown.err)
		assert.Contains(t, unknown.err, `unknown dailymotion private endpoint "v3"`)
		assert.Zero(t, fake.Malformed(), fake.LastMalformed())
	})
}

func TestCompletionNamesTheNewServices(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"__complete", "login", ""}, {"__complete", "curl", ""}, {"__complete", "logout", ""}} {
		r := e.run(t, "", args...)
		require.Equal(t, exitOK, r.code, r.err)
		assert.Contains(t, r.out, "twitch\n", args)
		assert.Contains(t, r.out, "dailymotion\n", args)
		assert.Contains(t, r.out, "youtube\n", args)
		assert.Contains(t, r.out, "trakt\n", args)
	}
	help := e.run(t, "", "help", "config")
	for _, v := range []string{"VIDEOAUTH_TWITCH_CLIENT_ID", "VIDEOAUTH_DAILYMOTION_PRIVATE_KEY", "VIDEOAUTH_DAILYMOTION_PRIVATE_ENDPOINT", "VIDEOAUTH_YOUTUBE_DEVICE_CLIENT_ID"} {
		assert.Contains(t, help.out, v)
	}
}

// TestTraktBrowserSignInNamesTheRedirectToRegister: Trakt compares the
// redirect URI exactly, so a sign-in on a random port says what to register.
func TestTraktBrowserSignInNamesTheRedirectToRegister(t *testing.T) {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	e := traktEnv(t, fake)
	r := e.run(t, "", "login", "trakt", "--no-browser", "--timeout", "1s")
	assert.Equal(t, exitExpired, r.code, r.err)
	assert.Contains(t, r.err, "Register http://127.0.0.1:PORT/callback and run `videoauth login trakt --port PORT`, or use `--device`.")
	assert.Contains(t, r.err, "code_challenge_method=S256", "the URL printed asks for PKCE S256")
}
