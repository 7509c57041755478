package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

// TestSmallMistakesAreUsageErrors: what issue 18's item 7 lists, each a
// usage error (exit 2) in the tool's words.
func TestSmallMistakesAreUsageErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
		hint string
	}{
		{"completion for an unknown shell", []string{"completion", "tcsh"}, `videoauth: no completion script for "tcsh"`, "The shells are bash, fish, powershell, zsh"},
		{"completion without a shell", []string{"completion"}, "videoauth: completion needs a shell", "`videoauth completion bash`"},
		{"unknown help topic", []string{"help", "nonexistent"}, `videoauth: unknown help topic "nonexistent"`, "videoauth --help"},
		{"unknown scenario, list", []string{"--sandbox", "--sandbox-scenario", "bogus", "list"}, `unknown sandbox scenario "bogus"`, "deny, expire, revoke"},
		{"unknown scenario, token", []string{"--sandbox", "--sandbox-scenario", "bogus", "token", "vimeo"}, `unknown sandbox scenario "bogus"`, ""},
		{"unknown scenario, curl", []string{"--sandbox", "--sandbox-scenario", "bogus", "curl", "vimeo", "/me"}, `unknown sandbox scenario "bogus"`, ""},
		{"unknown scenario, logout", []string{"--sandbox", "--sandbox-scenario", "bogus", "logout", "--all"}, `unknown sandbox scenario "bogus"`, ""},
		{"unknown scenario, verify", []string{"--sandbox", "--sandbox-scenario", "bogus", "verify", "simkl"}, `unknown sandbox scenario "bogus"`, ""},
		{"scenario without sandbox, list", []string{"--sandbox-scenario", "deny", "list"}, "--sandbox-scenario works only with --sandbox", ""},
		{"generation v3", []string{"--sandbox", "login", "simkl", "--generation", "v3"}, `videoauth: unknown Simkl generation "v3"`, "--generation v2 (the default) or v1"},
		{"two flows", []string{"--sandbox", "login", "vimeo", "--device", "--client"}, "videoauth: --device and --client cannot be used together", "Choose one way to sign in: --device, --client, --password, --facebook"},
		{"three flows", []string{"--sandbox", "login", "viki", "--password", "--facebook", "--client"}, "videoauth: --client and --password and --facebook cannot be used together", ""},
		{"data and json", []string{"--sandbox", "curl", "simkl", "/sync/history", "-d", "a=1", "--json", "{}"}, "videoauth: -d and --json cannot be used together", "give one of them"},
		{"negative min-valid", []string{"--sandbox", "token", "vimeo", "--min-valid", "-5m"}, "videoauth: --min-valid -5m0s is negative", "zero or more"},
		{"zero timeout", []string{"--sandbox", "login", "vimeo", "--timeout", "0s"}, "videoauth: --timeout 0s is not a positive duration", ""},
		{"username without password", []string{"--sandbox", "login", "viki", "--facebook", "--username", "fan"}, "--username works only with --password", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", tc.args...)
			assert.Equal(t, exitUsage, r.code, "%s", r.err)
			assert.Contains(t, r.err, tc.msg)
			assert.Contains(t, r.err, tc.hint)
			assert.NotContains(t, r.err, "if any flags in the group", "cobra's own sentence")
			assert.NotContains(t, r.out, "Usage:", "no help instead of the error")
			assertOnePrefixPerLine(t, r)
		})
	}
	for _, args := range [][]string{{"completion", "bash"}, {"help", "config"}, {"help", "login"}, {"help"}} {
		r := e.run(t, "", args...)
		assert.Equal(t, exitOK, r.code, "%v: %s", args, r.err)
		assert.NotEmpty(t, r.out, args)
	}
}

func TestListJSONIsAnArray(t *testing.T) {
	e := newEnv(t)
	help := e.run(t, "", "list", "--help")
	assert.Contains(t, help.out, "print a JSON array with one object per grant")
	assert.NotContains(t, help.out, "JSON, one object per grant")
	empty := e.run(t, "", "--sandbox", "list", "--json")
	assert.Equal(t, "[]\n", empty.out)
}

// TestSandboxFacebookHintShowsNoSecret: the sandbox's Facebook prompt says
// how to sign in without showing the password or the fake's token; a
// refused Facebook token is said to be one.
func TestSandboxFacebookHintShowsNoSecret(t *testing.T) {
	e := newEnv(t)
	fake := videoauthtest.NewViki()
	defer fake.Close()
	r := e.run(t, "\n", "--sandbox", "login", "viki", "--facebook")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "Sandbox: press Enter to sign in with the fake Viki's own Facebook token")
	for _, secret := range []string{fake.Password, fake.FacebookToken, "password"} {
		assert.NotContains(t, r.err, secret)
	}
	assert.Contains(t, r.err, "Signed in to viki: user grant, user id 1u")

	bad := e.run(t, "not-the-token\n", "--sandbox", "login", "viki", "--facebook")
	assert.Equal(t, exitDenied, bad.code)
	assert.Contains(t, bad.err, "videoauth: viki rejected the Facebook access token")
	assert.Contains(t, bad.err, "`videoauth login viki --facebook` again")
	assert.NotContains(t, bad.err, "username or password")
	assert.NotContains(t, bad.err, "not-the-token")
}

// TestCurlVerboseShowsWhatIsSent: -v shows the request as it leaves, with
// the headers and parameters videoauth adds, the credentials redacted,
// and every attempt: a token request after a rejection, and the replay.
func TestCurlVerboseShowsWhatIsSent(t *testing.T) {
	simkl := videoauthtest.NewSimkl()
	defer simkl.Close()
	e := simklEnv(t, simkl)
	tok := storeSimklV2(t, e, simkl, time.Now().Add(24*time.Hour), "media:read")
	r := e.run(t, "", "curl", "simkl", "/users/settings", "-v")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Regexp(t, `(?m)^> GET http://127\.0\.0\.1:\d+/users/settings\?app-name=videoauth-cli&app-version=dev&client_id=`+simkl.V2ClientID+`$`, r.err)
	assert.Contains(t, r.err, "\n> Authorization: Bearer REDACTED\n")
	assert.Contains(t, r.err, "\n> Simkl-Api-Key: "+simkl.V2ClientID+"\n")
	assert.Contains(t, r.err, "\n> User-Agent: videoauth-cli/dev\n")
	assert.Contains(t, r.err, "\n< HTTP/1.1 200 OK\n")
	assert.NotContains(t, r.err, tok.AccessToken)
	assert.NotContains(t, r.err, tok.RefreshToken)

	vimeo := videoauthtest.NewVimeo()
	defer vimeo.Close()
	v := vimeoEnv(t, vimeo)
	require.Equal(t, exitOK, v.run(t, "", "login", "vimeo", "--client").code)
	first := strings.TrimSpace(v.run(t, "", "token", "vimeo").out)
	vimeo.DeleteToken(first)
	r = v.run(t, "", "curl", "vimeo", "/videos/7", "-v")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 2, strings.Count(r.err, "> GET http://"), "the request and its replay:\n%s", r.err)
	assert.Regexp(t, `(?m)^> POST http://127\.0\.0\.1:\d+/oauth/authorize/client$`, r.err, "the token request in between")
	assert.Contains(t, r.err, "\n> Authorization: Basic REDACTED\n")
	assert.Contains(t, r.err, "\n< HTTP/1.1 401 Unauthorized\n")
	assert.Contains(t, r.err, "\n> Accept: application/vnd.vimeo.*+json;version=3.4\n", "the header the provider adds")
	second := strings.TrimSpace(v.run(t, "", "token", "vimeo").out)
	for _, secret := range []string{first, second, vimeo.ClientSecret} {
		assert.NotContains(t, r.err, secret)
	}

	viki := newEnv(t)
	require.Equal(t, exitOK, viki.run(t, "", "--sandbox", "login", "viki", "--client").code)
	r = viki.run(t, "", "--sandbox", "curl", "viki", "/v3/movies.json", "-v")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Regexp(t, `(?m)^> GET http://127\.0\.0\.1:\d+/v3/movies\.json\?access_token=REDACTED$`, r.err)
}

func TestTraceRedactsCredentials(t *testing.T) {
	tr := &traceTransport{secrets: []string{"s3cret"}}
	h := tr.redact(map[string][]string{
		"Authorization": {"Bearer tok", "rawtoken", "s3cret x"}, "Cookie": {"a=b"}, "Signature": {"abc"},
		"X-Key": {"has s3cret in it"}, "X-Plain": {"fine\x1b[2J"},
	})
	assert.Equal(t, []string{"Bearer REDACTED", "REDACTED", "REDACTED"}, h["Authorization"])
	assert.Equal(t, []string{"REDACTED"}, h["Cookie"])
	assert.Equal(t, []string{"REDACTED"}, h["Signature"])
	assert.Equal(t, []string{"REDACTED"}, h["X-Key"])
	assert.Equal(t, []string{"fine[2J"}, h["X-Plain"], "no escape sequence reaches the terminal")
}

// TestSandboxSimklV1Deny: Simkl V1 never comes back after a denial. The
// tool says so while it waits, and the sandbox's deny scenario ends in
// seconds, in the browser and with a PIN.
func TestSandboxSimklV1Deny(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	r := e.run(t, "", "--sandbox", "--sandbox-scenario", "deny", "login", "simkl", "--generation", "v1")
	assert.Equal(t, exitExpired, r.code, r.err)
	assert.Contains(t, r.err, "Simkl V1 does not come back when the request is denied: if you deny it, press Ctrl-C")
	assert.Contains(t, r.err, "Sandbox: the fake's user denies, so nothing comes back; the wait is cut to 3s")
	assert.Contains(t, r.err, "videoauth: no answer from simkl within 3s")
	assert.Contains(t, r.err, "this may be a denial. Nothing was stored.")
	pin := e.run(t, "", "--sandbox", "--sandbox-scenario", "deny", "login", "simkl", "--generation", "v1", "--device")
	assert.Equal(t, exitExpired, pin.code, pin.err)
	assert.Contains(t, pin.err, "Sandbox: a Simkl V1 PIN cannot be denied, only left to expire")
	assert.Contains(t, pin.err, "videoauth: the code expired before it was approved")
	assert.Less(t, time.Since(start), 30*time.Second, "the sandbox does not wait the real 5 and 15 minutes")
	assert.Equal(t, "[]\n", e.run(t, "", "--sandbox", "list", "--json").out)
}
