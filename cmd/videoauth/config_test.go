package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

func TestSettingsPrecedence(t *testing.T) {
	file := configFile{"vimeo": {ClientID: "file-id", ClientSecret: "file-secret", Scopes: []string{"public"}, APIURL: "https://file.example"}}
	environ := env{
		"VIDEOAUTH_VIMEO_CLIENT_SECRET": "env-secret",
		"VIDEOAUTH_VIMEO_SCOPES":        "public, private  edit",
		"VIDEOAUTH_VIMEO_API_URL":       "  ",
		"VIDEOAUTH_SIMKL_CLIENT_ID":     "other-service",
	}
	got := resolve("vimeo", file, environ.getenv, settings{ClientSecret: ""})
	assert.Equal(t, settings{ClientID: "file-id", ClientSecret: "env-secret", Scopes: []string{"public", "private", "edit"}, APIURL: "https://file.example"}, got,
		"env over file; a blank variable does not erase the file's value; another service's variable is not read")

	got = resolve("vimeo", file, environ.getenv, settings{ClientID: "flag-id", ClientSecret: "flag-secret", Scopes: []string{"upload"}})
	assert.Equal(t, "flag-id", got.ClientID, "flags over everything")
	assert.Equal(t, "flag-secret", got.ClientSecret)
	assert.Equal(t, []string{"upload"}, got.Scopes)

	assert.Equal(t, settings{}, resolve("viki", file, env{}.getenv, settings{}), "nothing configured")
}

func TestSettingsNeverPrintTheSecret(t *testing.T) {
	s := settings{ClientID: "id", ClientSecret: "very-secret"}
	for _, verb := range []string{"%v", "%+v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, s), "very-secret", verb)
	}
}

func TestConfigFileFromEachPlace(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	write := func(path string, mode os.FileMode) {
		t.Helper()
		body := fmt.Sprintf(`{"vimeo": {"client_id": %q, "client_secret": %q, "api_url": %q}}`, fake.ClientID, fake.ClientSecret, fake.URL)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
		require.NoError(t, os.WriteFile(path, []byte(body), mode))
		require.NoError(t, os.Chmod(path, mode))
	}

	t.Run("default place", func(t *testing.T) {
		e := newEnv(t)
		write(filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "config.json"), 0o600)
		r := e.run(t, "", "login", "vimeo", "--client")
		require.Equal(t, exitOK, r.code, r.err)
		assert.NotContains(t, r.err, "warning")
	})
	t.Run("VIDEOAUTH_CONFIG", func(t *testing.T) {
		e := newEnv(t)
		e["VIDEOAUTH_CONFIG"] = filepath.Join(t.TempDir(), "mine.json")
		write(e["VIDEOAUTH_CONFIG"], 0o600)
		r := e.run(t, "", "login", "vimeo", "--client")
		require.Equal(t, exitOK, r.code, r.err)
	})
	t.Run("--config over VIDEOAUTH_CONFIG", func(t *testing.T) {
		e := newEnv(t)
		e["VIDEOAUTH_CONFIG"] = filepath.Join(t.TempDir(), "missing.json")
		path := filepath.Join(t.TempDir(), "flag.json")
		write(path, 0o600)
		r := e.run(t, "", "--config", path, "login", "vimeo", "--client")
		require.Equal(t, exitOK, r.code, r.err)
	})
	t.Run("a flag overrides the file", func(t *testing.T) {
		e := newEnv(t)
		write(filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "config.json"), 0o600)
		r := e.run(t, "", "login", "vimeo", "--client", "--client-secret", "wrong")
		assert.Equal(t, exitConfig, r.code, "the fake rejects the flag's secret: %s", r.err)
	})
	t.Run("readable by others", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("file modes are not Unix permissions on Windows")
		}
		e := newEnv(t)
		path := filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "config.json")
		write(path, 0o644)
		r := e.run(t, "", "login", "vimeo", "--client")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Contains(t, r.err, "warning: "+path+" holds secrets and is readable by other users; run: chmod 600 "+path)
	})
}

func TestParseConfigRefusesWhatItCannotRead(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":        `client_id = "x"`,
		"trailing data":   `{"vimeo": {}} {"simkl": {}}`,
		"unknown field":   `{"vimeo": {"clientid": "x"}}`,
		"unknown service": `{"netflix": {"client_id": "x"}}`,
		"wrong type":      `{"vimeo": {"scopes": "public"}}`,
		"array":           `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig("config.json", []byte(body))
			var ce *cliError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, exitConfig, ce.code)
		})
	}
	cfg, err := parseConfig("config.json", []byte(`{"simkl": {"client_id": "id", "generation": "v1", "scopes": ["media:read"]}}`))
	require.NoError(t, err)
	assert.Equal(t, "v1", cfg["simkl"].Generation)
}

func TestLoadConfigBoundsTheRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte(" "), maxConfigSize+1), 0o600))
	_, err := loadConfig(path, true, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than 1 MiB")
	cfg, err := loadConfig(filepath.Join(t.TempDir(), "absent.json"), false, &bytes.Buffer{})
	require.NoError(t, err, "a missing default config file is an empty config")
	assert.Empty(t, cfg)
}

func TestSplitScopes(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, splitScopes(" a,b  c,"))
	assert.Empty(t, splitScopes(" , "))
}
