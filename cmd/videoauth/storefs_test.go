package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// vimeoEnv points the tool at a fake Vimeo the test controls.
func vimeoEnv(t *testing.T, fake *videoauthtest.Vimeo) env {
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	return e
}

// assertOnePrefixPerLine checks what a run printed on standard error: at
// most one "videoauth:" on a line, and no Go names (a type's String, a
// package path, a fmt verb gone wrong).
func assertOnePrefixPerLine(t *testing.T, r result) {
	t.Helper()
	for _, l := range strings.Split(r.err, "\n") {
		assert.LessOrEqual(t, strings.Count(l, "videoauth:"), 1, "line %q", l)
		for _, goName := range []string{"SimklGeneration", "videoauth.", "*url.Error", "%!", "FileStore", "Delete removes it"} {
			assert.NotContains(t, l, goName, "line %q", l)
		}
	}
}

// TestCorruptTokenFileIsNamedBeforeSignIn: login over a token file the
// store cannot read stops before anything is minted, names the file and
// the two ways out; --replace replaces it.
func TestCorruptTokenFileIsNamedBeforeSignIn(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	e := vimeoEnv(t, fake)
	st := e.store(t, false)
	file := filepath.Join(st.Dir(), "vimeo.json")
	require.NoError(t, os.WriteFile(file, []byte("{not json"), 0o600))

	r := e.run(t, "", "login", "vimeo", "--client")
	assert.Equal(t, exitSignIn, r.code, r.err)
	assert.Contains(t, r.err, "videoauth: the stored vimeo grant "+file+" is not a token videoauth can read\n")
	assert.Contains(t, r.err, "Run `videoauth logout vimeo` to remove it, then sign in again; or sign in with `videoauth login vimeo --replace`")
	assert.NotContains(t, r.err, "writable")
	assert.Zero(t, fake.Mints(), "nothing is minted for a grant that could not be kept")
	assertOnePrefixPerLine(t, r)
	for _, args := range [][]string{{"token", "vimeo"}, {"curl", "vimeo", "/me"}, {"revoke", "vimeo"}} {
		r := e.run(t, "", args...)
		assert.Equal(t, exitSignIn, r.code, "%v: %s", args, r.err)
		assert.Contains(t, r.err, file, args)
		assertOnePrefixPerLine(t, r)
	}

	r = e.run(t, "", "login", "vimeo", "--client", "--replace")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 1, fake.Mints())
	tok, err := st.Load(context.Background(), "vimeo")
	require.NoError(t, err)
	assert.Equal(t, "vimeo", tok.Provider)
}

// TestForeignTokenFile: a Vimeo token in simkl.json is another service's
// token: listed and refused as such, never shown as a Simkl generation.
func TestForeignTokenFile(t *testing.T) {
	e := newEnv(t)
	st := e.store(t, true)
	ctx := context.Background()
	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo", "--client").code)
	vimeo, err := os.ReadFile(filepath.Join(st.Dir(), "vimeo.json"))
	require.NoError(t, err)
	simklFile := filepath.Join(st.Dir(), "simkl.json")
	require.NoError(t, os.WriteFile(simklFile, vimeo, 0o600))

	var runs []result
	l := e.run(t, "", "--sandbox", "list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Regexp(t, "(?m)^simkl +holds a token of vimeo: run `videoauth logout simkl`", l.out)
	runs = append(runs, l)
	for _, args := range [][]string{{"token", "simkl"}, {"curl", "simkl", "/users/settings"}, {"login", "simkl"}} {
		r := e.run(t, "", append([]string{"--sandbox"}, args...)...)
		assert.Equal(t, exitSignIn, r.code, "%v: %s", args, r.err)
		assert.Contains(t, r.err, "videoauth: the stored simkl grant "+simklFile+" holds a token of vimeo, not of simkl", args)
		assert.Contains(t, r.err, "`videoauth logout simkl`", args)
		runs = append(runs, r)
	}
	r := e.run(t, "", "--sandbox", "login", "simkl", "--replace")
	require.Equal(t, exitOK, r.code, r.err)
	tok, err := st.Load(ctx, "simkl")
	require.NoError(t, err)
	assert.Equal(t, "simkl", tok.Provider)

	// A token that records neither its service nor its generation (stored
	// by hand or by an older tool) is listed as such and used with the
	// configured generation.
	require.NoError(t, os.WriteFile(simklFile, []byte(`{"access_token":"handmade"}`), 0o600))
	l = e.run(t, "", "--sandbox", "list")
	assert.Regexp(t, `(?m)^simkl +user \(generation unknown\) +- `, l.out)
	runs = append(runs, l)
	tokRun := e.run(t, "", "--sandbox", "token", "simkl")
	assert.Equal(t, "handmade\n", tokRun.out, tokRun.err)
	runs = append(runs, tokRun)
	for _, r := range runs {
		assert.NotContains(t, r.out+r.err, "SimklGeneration")
		assertOnePrefixPerLine(t, r)
	}
}

// TestCauseTextSaysVideoauthOnce: the library's chain, each link starting
// with "videoauth: ", is shown after the tool's own prefix without them,
// and an error of several lines on one.
func TestCauseTextSaysVideoauthOnce(t *testing.T) {
	chain := fmt.Errorf("videoauth: token file /x/vimeo.json: %w", fmt.Errorf("videoauth: not a token: %w", videoauth.ErrStoreCorrupt))
	ce := &cliError{code: exitSignIn, msg: "cannot use it", err: errors.Join(chain, errors.New("videoauth: second\nthird"))}
	got := "videoauth: " + ce.Error()
	assert.Equal(t, "videoauth: cannot use it (token file /x/vimeo.json: not a token: stored token unreadable; second; third)", got)
	assert.Equal(t, "videoauth: plain", "videoauth: "+(&cliError{err: errors.New("videoauth: plain")}).Error())
}

// TestErrorsSayVideoauthOncePerLine runs commands that fail in different
// ways and checks every line of their errors.
func TestErrorsSayVideoauthOncePerLine(t *testing.T) {
	e := newEnv(t)
	e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"] = "id", "secret"
	e["VIDEOAUTH_VIKI_API_URL"] = "http://127.0.0.1:1"
	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "vimeo").code)
	require.Equal(t, exitOK, e.run(t, "", "--sandbox", "login", "simkl").code)
	for _, args := range [][]string{
		{"login", "viki", "--client"},
		{"--sandbox", "--sandbox-scenario", "revoke", "verify", "vimeo"},
		{"--sandbox", "--sandbox-scenario", "revoke", "curl", "simkl", "/users/settings"},
		{"--sandbox", "login", "netflix"},
		{"--sandbox", "token", "viki"},
		{"--sandbox", "curl", "vimeo", "https://evil.example/"},
	} {
		r := e.run(t, "", args...)
		assert.NotEqual(t, exitOK, r.code, "%v", args)
		assert.True(t, strings.HasPrefix(r.err, "videoauth: ") || strings.Contains(r.err, "\nvideoauth: "), "%v: %s", args, r.err)
		assertOnePrefixPerLine(t, r)
	}
}
