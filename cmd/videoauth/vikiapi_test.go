package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

// vikiEnv points the tool at a fake Viki, both its APIs.
func vikiEnv(t *testing.T, fake *videoauthtest.Viki) env {
	e := newEnv(t)
	e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"], e["VIDEOAUTH_VIKI_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	e["VIDEOAUTH_VIKI_APP_ID"], e["VIDEOAUTH_VIKI_APP_SECRET"], e["VIDEOAUTH_VIKI_SIGNED_API_URL"] = fake.AppID, fake.AppSecret, fake.URL
	return e
}

// TestCurlVikiV4IsSignedByTheLibrary: /v4/ and /v5/ paths go to Viki's
// current API signed with the app's id and secret, without a sign-in;
// a stored v3 token is not sent there; a user's route without a session
// says so.
func TestCurlVikiV4IsSignedByTheLibrary(t *testing.T) {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	e := vikiEnv(t, fake)

	r := e.run(t, "", "curl", "viki", "/v4/movies.json", "-f")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "Fake Movie 101")
	q := fake.LastRequest().URL.Query()
	assert.Equal(t, fake.AppID, q.Get("app"))
	assert.NotEmpty(t, q.Get("t"))
	assert.NotEmpty(t, q.Get("sig"))
	assert.Zero(t, fake.BadSignatures())

	require.Equal(t, exitOK, e.run(t, "", "login", "viki", "--client").code)
	v3 := strings.TrimSpace(e.run(t, "", "token", "viki").out)
	r = e.run(t, "", "curl", "viki", "/v5/movies.json", "-v")
	require.Equal(t, exitOK, r.code, r.err)
	assert.NotContains(t, fake.LastRequest().URL.RawQuery, v3, "the v3 token is not for the v4/v5 API")
	assert.Regexp(t, `(?m)^> GET http://127\.0\.0\.1:\d+/v5/movies\.json\?app=`+fake.AppID+`&t=\d+&sig=REDACTED$`, r.err)

	user := e.run(t, "", "curl", "viki", "/v5/users/1u.json", "-f")
	assert.Equal(t, exitSignIn, user.code, user.err)
	assert.Contains(t, user.err, "videoauth: this viki route acts for a user, and no session was sent")
	assert.Contains(t, user.err, "`videoauth login viki --session`")

	// Only the v3 credentials: the v4/v5 API's are asked for.
	v3only := newEnv(t)
	v3only["VIDEOAUTH_VIKI_CLIENT_ID"], v3only["VIDEOAUTH_VIKI_CLIENT_SECRET"], v3only["VIDEOAUTH_VIKI_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	r = v3only.run(t, "", "curl", "viki", "/v4/movies.json")
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.err, "videoauth: no viki app id for the v4/v5 API")
	assert.Contains(t, r.err, "VIDEOAUTH_VIKI_APP_ID")

	sb := newEnv(t)
	r = sb.run(t, "", "--sandbox", "curl", "viki", "https://api.viki.io/v4/movies.json", "-f")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "Fake Movie 101")
}

// TestLoginVikiSession: login viki --session signs a user in to the v4/v5
// API (v5 sessions, username and password or Facebook); curl sends the
// session, signed; an ended session is a sign-in to do again.
func TestLoginVikiSession(t *testing.T) {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	e := vikiEnv(t, fake)

	r := e.run(t, fake.Username+"\n"+fake.Password+"\n", "login", "viki", "--session")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "Signed in to viki: user (v5 session) grant, user id 1u.")
	assert.Equal(t, 1, fake.Logins())
	session := strings.TrimSpace(e.run(t, "", "token", "viki").out)
	require.NotEmpty(t, session)
	l := e.run(t, "", "list")
	assert.Regexp(t, `(?m)^viki\s+user \(v5 session\)\s+1u\s+-\s+never\s+no\s+default \(default\)$`, l.out)

	me := e.run(t, "", "curl", "viki", "/v5/users/1u.json", "-f")
	require.Equal(t, exitOK, me.code, me.err)
	assert.Contains(t, me.out, `"username":"fan"`)
	q := fake.LastRequest().URL.Query()
	assert.Equal(t, session, q.Get("token"), "the session, under the signature")
	assert.NotEmpty(t, q.Get("sig"))
	watch := e.run(t, "", "curl", "viki", "/v4/users/1u/watchlist.json", "--json", `{"id":"101m"}`, "-f")
	assert.Equal(t, exitOK, watch.code, watch.err)
	assert.Zero(t, fake.BadSignatures())

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"curl", "viki", "/v3/movies.json"}, exitUsage, "the viki account's grant is a session of the v4/v5 API, which Viki's v3 API does not take"},
		{[]string{"token", "viki", "--header"}, exitUsage, "no header carries it"},
		{[]string{"revoke", "viki"}, exitUsage, "Viki v5 sessions cannot be ended from here"},
	} {
		r := e.run(t, "", tc.args...)
		assert.Equal(t, tc.code, r.code, "%v: %s", tc.args, r.err)
		assert.Contains(t, r.err, tc.msg, tc.args)
	}

	fake.ExpireSessions()
	gone := e.run(t, "", "curl", "viki", "/v5/users/1u.json", "-f")
	assert.Equal(t, exitSignIn, gone.code, gone.err)
	assert.Contains(t, gone.err, "videoauth: the stored viki session has expired or was ended")
	assert.Contains(t, gone.err, "`videoauth login viki --session`")
	assert.Equal(t, 1, fake.Logins(), "no password is kept to sign in again")

	// A session bound to the v4/v5 API it was opened at.
	moved := vikiEnv(t, fake)
	moved["VIDEOAUTH_CONFIG_DIR"] = e["VIDEOAUTH_CONFIG_DIR"]
	moved["VIDEOAUTH_VIKI_SIGNED_API_URL"] = "http://127.0.0.1:1"
	r = moved.run(t, "", "curl", "viki", "/v5/users/1u.json")
	assert.Equal(t, exitBinding, r.code, r.err)

	fb := vikiEnv(t, fake)
	r = fb.run(t, fake.FacebookToken+"\n", "login", "viki", "--session", "--facebook")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "user (v5 session) grant")
	bad := fb.run(t, "fan\nwrong\n", "login", "viki", "--session", "--account", "other")
	assert.Equal(t, exitDenied, bad.code)
	assert.Contains(t, bad.err, "Check them and run `videoauth login viki --account other --session` again.")

	for _, args := range [][]string{{"--session", "--device"}, {"--session", "--client"}, {"--session", "--with-token"}} {
		r := fb.run(t, "", append([]string{"login", "viki"}, args...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.err)
	}
	noApp := newEnv(t)
	r = noApp.run(t, "fan\npw\n", "login", "viki", "--session")
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.err, "no viki app id for the v4/v5 API")
}

// TestSandboxVikiSession: the sandbox's fake of both Viki APIs, a session
// used across runs.
func TestSandboxVikiSession(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "fan@example.com\ncorrect horse\n", "--sandbox", "login", "viki", "--session")
	require.Equal(t, exitOK, r.code, r.err)
	me := e.run(t, "", "--sandbox", "curl", "viki", "/v5/users/1u.json", "-f")
	require.Equal(t, exitOK, me.code, me.err)
	assert.Contains(t, me.out, `"username":"fan"`)
	movies := e.run(t, "", "--sandbox", "curl", "viki", "/v4/movies.json", "-f")
	require.Equal(t, exitOK, movies.code, movies.err)
	rv := e.run(t, "", "--sandbox", "--sandbox-scenario", "revoke", "curl", "viki", "/v5/users/1u.json", "-f")
	assert.Equal(t, exitSignIn, rv.code, rv.err)
}
