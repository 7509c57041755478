package videoauth_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// The child role of TestFileStoreTwoProcessesRefreshOnce, selected by the
// environment; with no environment it does nothing.
func TestFileStoreProcessChild(t *testing.T) {
	if os.Getenv("VIDEOAUTH_STORE_CHILD") == "" {
		return
	}
	env := func(k string) string { return os.Getenv("VIDEOAUTH_STORE_" + k) }
	s, err := videoauth.NewSimkl(videoauth.App{ClientID: env("CLIENT_ID"), ClientSecret: env("CLIENT_SECRET"),
		AppName: "videoauth-test", AppVersion: "0.1", APIURL: env("API"), WebURL: env("WEB")}, videoauth.SimklV2)
	require.NoError(t, err)
	store, err := videoauth.NewFileStore(env("DIR"))
	require.NoError(t, err)
	src := s.Source(nil)
	src.Store, src.Key = store, "user"
	c := videoauth.NewClient(s, src)

	require.NoError(t, os.WriteFile(env("OUT")+".ready", nil, 0o600))
	require.Eventually(t, func() bool { _, err := os.Stat(env("START")); return err == nil }, 10*time.Second, time.Millisecond)
	code, _ := get(t, c, env("API")+"/sync/activities")
	require.Equal(t, 200, code)
	require.NoError(t, os.WriteFile(env("OUT"), []byte(src.Current().AccessToken), 0o600))
}

// Two OS processes share a FileStore holding one expired Simkl V2 grant and
// need a token at the same moment: exactly one refresh (a second would kill
// the first's access token), and both end with the same valid token, which
// is the one stored.
func TestFileStoreTwoProcessesRefreshOnce(t *testing.T) {
	fake, _ := setupSimkl(t, videoauth.SimklV2, false)
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
	require.NoError(t, store.Save(context.Background(), "user", &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute), Scopes: []string{videoauth.SimklScopeRead}, Meta: map[string]string{"simkl_auth": "v2"}}))

	start := filepath.Join(dir, "start")
	var children []*exec.Cmd
	var outs []string
	for i := range 2 {
		out := filepath.Join(dir, "out"+string(rune('a'+i)))
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreProcessChild$", "-test.count=1")
		app := simklApp(fake, videoauth.SimklV2, false)
		cmd.Env = append(os.Environ(), "VIDEOAUTH_STORE_CHILD=1",
			"VIDEOAUTH_STORE_CLIENT_ID="+app.ClientID, "VIDEOAUTH_STORE_CLIENT_SECRET="+app.ClientSecret,
			"VIDEOAUTH_STORE_API="+fake.APIURL, "VIDEOAUTH_STORE_WEB="+fake.WebURL,
			"VIDEOAUTH_STORE_DIR="+store.Dir(), "VIDEOAUTH_STORE_START="+start, "VIDEOAUTH_STORE_OUT="+out)
		var log strings.Builder
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("child %d:\n%s", i, log.String())
			}
		})
		children, outs = append(children, cmd), append(outs, out)
	}
	for _, out := range outs {
		require.Eventually(t, func() bool { _, err := os.Stat(out + ".ready"); return err == nil }, 30*time.Second, time.Millisecond)
	}
	require.NoError(t, os.WriteFile(start, nil, 0o600)) // both go at once
	for _, cmd := range children {
		require.NoError(t, cmd.Wait())
	}

	require.Equal(t, 1, fake.Refreshes(), "one refresh across both processes")
	require.Zero(t, fake.KilledTokenUses(), "no request carried a killed token")
	a, err := os.ReadFile(outs[0])
	require.NoError(t, err)
	b, err := os.ReadFile(outs[1])
	require.NoError(t, err)
	require.Equal(t, string(a), string(b), "both processes hold the same token")
	require.NotEqual(t, access, string(a), "a new token")
	stored, err := store.Load(context.Background(), "user")
	require.NoError(t, err)
	require.Equal(t, string(a), stored.AccessToken, "and it is the stored one")
	require.Equal(t, refresh, stored.RefreshToken, "the grant is kept")
}
