package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
)

// listed decodes `list --json` of the sandbox.
func (e env) listed(t *testing.T) []grantInfo {
	t.Helper()
	r := e.run(t, "", "--sandbox", "list", "--json")
	require.Equal(t, exitOK, r.code, r.err)
	var out []grantInfo
	require.NoError(t, json.Unmarshal([]byte(r.out), &out), r.out)
	return out
}

// defaults are the default accounts list marks, per service.
func defaults(grants []grantInfo) map[string]string {
	out := map[string]string{}
	for _, g := range grants {
		if g.Default {
			out[g.Service] = g.Account
		}
	}
	return out
}

// TestAGrantStoredBeforeAccountsIsTheDefaultAccount: the single grant an
// older tool stored, under the service's name, is the account "default",
// used without --account and with --account default.
func TestAGrantStoredBeforeAccountsIsTheDefaultAccount(t *testing.T) {
	e := newEnv(t)
	st := e.store(t, false)
	e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"] = "id", "secret"
	require.NoError(t, st.Save(context.Background(), "viki", &videoauth.Token{Provider: "viki", AccessToken: "old-grant", UserID: "1u"}))
	for _, args := range [][]string{{"token", "viki"}, {"--account", "default", "token", "viki"}} {
		r := e.run(t, "", args...)
		require.Equal(t, exitOK, r.code, "%v: %s", args, r.err)
		assert.Equal(t, "old-grant\n", r.out)
	}
	l := e.run(t, "", "list")
	assert.Regexp(t, `(?m)^viki\s+user\s+1u\s+-\s+never\s+no\s+default \(default\)$`, l.out)
	keys, err := st.Keys(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"viki"}, keys, "nothing moved")
}

// TestAccountsSideBySide: an app token and a user grant of one service,
// each an account; login never replaces another account's grant silently;
// --account picks one on every command; switch picks the default.
func TestAccountsSideBySide(t *testing.T) {
	e := newEnv(t)
	sb := func(args ...string) result { return e.run(t, "", append([]string{"--sandbox"}, args...)...) }
	require.Equal(t, exitOK, sb("login", "vimeo", "--client").code)
	app := strings.TrimSpace(sb("token", "vimeo").out)

	// A user signs in: the app token is another account's grant, kept.
	r := sb("login", "vimeo")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, `Signed in to vimeo as account "4242": user grant, user id 4242`)
	assert.Contains(t, r.err, `The vimeo account "default" (an app token) holds another grant: it was kept, and the new account is the default now (`+"`videoauth switch vimeo default`")
	user := strings.TrimSpace(sb("token", "vimeo").out)
	assert.NotEqual(t, app, user)
	assert.Equal(t, app+"\n", sb("--account", "default", "token", "vimeo").out, "the app token is still there")
	me := sb("curl", "vimeo", "/me")
	assert.Equal(t, exitOK, me.code, me.err)
	assert.Contains(t, me.out, "Fake User")
	appMe := sb("--account", "default", "curl", "vimeo", "/me", "-f")
	assert.Equal(t, exitSignIn, appMe.code)
	assert.Contains(t, appMe.err, "the stored grant is an app token (which is still valid)")

	grants := e.listed(t)
	require.Len(t, grants, 2)
	assert.Equal(t, map[string]string{"vimeo": "4242"}, defaults(grants))
	l := sb("list")
	assert.Regexp(t, `(?m)^vimeo\s+app \(client credentials\)\s+-\s+public\s+never\s+yes\s+default$`, l.out)
	assert.Regexp(t, `(?m)^vimeo\s+user\s+4242\s+public\s+never\s+no\s+4242 \(default\)$`, l.out)

	// With --account, the new account is added and the default stays.
	r = sb("login", "vimeo", "--client", "--account", "ci")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, `Signed in to vimeo as account "ci": app (client credentials) grant`)
	assert.Equal(t, map[string]string{"vimeo": "4242"}, defaults(e.listed(t)))

	// Signing in again to an account as the same user replaces its grant.
	r = sb("login", "vimeo", "--client", "--account", "ci")
	require.Equal(t, exitOK, r.code, r.err)
	assert.NotContains(t, r.err, "holds another grant")
	assert.Len(t, e.listed(t), 3)

	// switch
	r = sb("switch", "vimeo", "ci")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, `The default vimeo account is now "ci" (an app token).`)
	assert.Equal(t, map[string]string{"vimeo": "ci"}, defaults(e.listed(t)))
	assert.NotEqual(t, user+"\n", sb("token", "vimeo").out)
	missing := sb("switch", "vimeo", "nobody")
	assert.Equal(t, exitSignIn, missing.code)
	assert.Contains(t, missing.err, `videoauth: not signed in to vimeo as account "nobody"`)
	assert.Contains(t, missing.err, `The vimeo accounts stored are "default", "4242", "ci"`)
	assert.Equal(t, exitUsage, sb("switch", "vimeo").code)

	// An app token where the user's grant is: kept too, and --replace
	// replaces.
	require.Equal(t, exitOK, sb("switch", "vimeo", "4242").code)
	r = sb("login", "vimeo", "--client", "--account", "4242")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, `Signed in to vimeo as account "app": app (client credentials) grant`)
	assert.Contains(t, r.err, `The vimeo account "4242" (user id 4242) holds another grant: it was kept. `+"`--account app` uses the new account")
	assert.Equal(t, user+"\n", sb("--account", "4242", "token", "vimeo").out)
	r = sb("login", "vimeo", "--client", "--account", "4242", "--replace")
	require.Equal(t, exitOK, r.code, r.err)
	assert.NotEqual(t, user+"\n", sb("--account", "4242", "token", "vimeo").out, "replaced")

	// Every command takes --account; advice names it.
	for _, args := range [][]string{{"token", "vimeo"}, {"curl", "vimeo", "/me"}, {"verify", "vimeo"}, {"revoke", "vimeo"}} {
		r := sb(append([]string{"--account", "nobody"}, args...)...)
		assert.Equal(t, exitSignIn, r.code, "%v: %s", args, r.err)
		assert.Contains(t, r.err, `not signed in to vimeo as account "nobody"`, args)
		assert.Contains(t, r.err, "`videoauth login vimeo --account nobody`", args)
	}
	revoked := e.run(t, "", "--sandbox", "--sandbox-scenario", "revoke", "--account", "ci", "verify", "vimeo")
	assert.Equal(t, exitOK, revoked.code, "an app token is minted again: %s", revoked.err)
	require.Equal(t, exitOK, sb("login", "vimeo", "--account", "fan").code)
	revoked = e.run(t, "", "--sandbox", "--sandbox-scenario", "revoke", "--account", "fan", "curl", "vimeo", "/me")
	assert.Equal(t, exitSignIn, revoked.code)
	assert.Contains(t, revoked.err, "Sign in again: `videoauth login vimeo --account fan`.")

	r = sb("--account", "ci", "revoke", "vimeo")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, `Revoked the vimeo grant of account "ci" and removed it from the store.`)
	r = sb("--account", "app", "logout", "vimeo")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, `Removed the stored vimeo grant of account "app".`)
	r = sb("--account", "app", "logout", "vimeo")
	assert.Contains(t, r.err, `Not signed in to vimeo as account "app"; nothing to remove.`)
	accounts := []string{}
	for _, g := range e.listed(t) {
		accounts = append(accounts, g.Account)
	}
	assert.ElementsMatch(t, []string{"default", "4242", "fan"}, accounts)

	// logout --all forgets every account, and the defaults.
	r = sb("logout", "--all")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Empty(t, e.listed(t))
	_, err := os.Stat(filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "sandbox", "accounts.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "accounts.json"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the sandbox keeps its defaults apart")
}

// TestAccountNamesAreValidated: a name that could leave the token
// directory, or hold a control character, is refused by every command.
func TestAccountNamesAreValidated(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"../x", "a/b", `a\b`, "Work", "tab\tname", "esc\x1b[2J", ".hidden", "-flag", strings.Repeat("a", maxAccountName+1), "é"} {
		for _, args := range [][]string{{"login", "vimeo"}, {"token", "vimeo"}, {"curl", "vimeo", "/me"}, {"logout", "vimeo"}, {"list"}} {
			r := e.run(t, "", append([]string{"--sandbox", "--account", name}, args...)...)
			assert.Equal(t, exitUsage, r.code, "%q %v: %s", name, args, r.err)
			assert.Contains(t, r.err, "is not an account name", name)
			assert.NotContains(t, r.err, "\x1b")
			assert.NotContains(t, r.err, "\t")
		}
		r := e.run(t, "", "--sandbox", "switch", "vimeo", name)
		assert.Equal(t, exitUsage, r.code, "%q: %s", name, r.err)
	}
	for _, name := range []string{"work", "fan@example.com", "a.b_c-d+e", "42"} {
		assert.NoError(t, checkAccountName(name), name)
	}
	keys, err := e.store(t, true).Keys(context.Background())
	require.NoError(t, err)
	assert.Empty(t, keys)
}

func TestStoreKeys(t *testing.T) {
	assert.Equal(t, "vimeo", storeKey("vimeo", "default"))
	assert.Equal(t, "vimeo/work", storeKey("vimeo", "work"))
	for key, want := range map[string][2]string{"vimeo": {"vimeo", "default"}, "simkl/fan@example.com": {"simkl", "fan@example.com"}} {
		svc, acct, ok := splitKey(key)
		assert.True(t, ok, key)
		assert.Equal(t, want, [2]string{svc, acct}, key)
	}
	for _, key := range []string{"vimeo/default", "vimeo/Bad", "netflix", "vimeo/a/b"} {
		_, _, ok := splitKey(key)
		assert.False(t, ok, key)
	}
}

func TestWithAccount(t *testing.T) {
	assert.Equal(t, "Sign in again: `videoauth login vimeo --account ci`; or `videoauth logout vimeo --account ci`, then `videoauth list`.",
		withAccount("Sign in again: `videoauth login vimeo`; or `videoauth logout vimeo`, then `videoauth list`.", "ci"))
	assert.Equal(t, "`videoauth login vimeo --account x --device`", withAccount("`videoauth login vimeo --account x --device`", "ci"))
	assert.Equal(t, "`videoauth login vimeo --account ci --device` again", withAccount("`videoauth login vimeo --device` again", "ci"))
	assert.Equal(t, "`videoauth logout --all`", withAccount("`videoauth logout --all`", "ci"))
}
