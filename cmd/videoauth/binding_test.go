package main

// Tests of the binding of a stored grant to the API URL it was minted
// against (binding.go). The exit code and the Meta key are written out, not
// taken from the code: they are the tool's interface and its stored format.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

const (
	bindingExit = 7         // the stored grant was minted for another API URL
	bindingKey  = "api_url" // the Token.Meta key that records it
)

// otherAPI is the server a changed configuration points at: it counts every
// request, so a test can prove that none reached it.
func otherAPI(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "not the server the grant was minted by", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// stored loads the grant of service from e's (non-sandbox) store.
func (e env) stored(t *testing.T, service string) *videoauth.Token {
	t.Helper()
	tok, err := e.store(t, false).Load(context.Background(), service)
	require.NoError(t, err)
	return tok
}

// assertRefused checks a run refused to use a grant of service minted for
// minted because the configuration now names now.
func assertRefused(t *testing.T, r result, service, minted, now string, secrets ...string) {
	t.Helper()
	assert.Equal(t, bindingExit, r.code, "stdout: %s\nstderr: %s", r.out, r.err)
	assert.Empty(t, r.out)
	assert.Contains(t, r.err, fmt.Sprintf("videoauth: the stored %s grant was minted for %s, but %s's API is now %s", service, minted, service, now))
	assert.Contains(t, r.err, "`videoauth logout "+service+"`, then `videoauth login "+service+"`")
	assert.Contains(t, r.err, "VIDEOAUTH_"+strings.ToUpper(service)+"_API_URL")
	for _, s := range secrets {
		assert.NotContains(t, r.err, s, "no secret in the refusal")
	}
}

func TestGrantMintedForAnotherAPIURLIsRefused(t *testing.T) {
	t.Run("vimeo, environment", func(t *testing.T) {
		fake := videoauthtest.NewVimeo()
		defer fake.Close()
		other, hits := otherAPI(t)
		e := newEnv(t)
		e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
		require.Equal(t, exitOK, e.run(t, "", "login", "vimeo", "--client").code)
		access := e.stored(t, "vimeo").AccessToken

		e["VIDEOAUTH_VIMEO_API_URL"] = other.URL
		for _, args := range [][]string{
			{"token", "vimeo"}, {"curl", "vimeo", "/me"}, {"curl", "vimeo", other.URL + "/me"}, {"verify", "vimeo"}, {"revoke", "vimeo"},
		} {
			r := e.run(t, "", args...)
			assertRefused(t, r, "vimeo", fake.URL, other.URL, access, fake.ClientSecret)
		}
		assert.Zero(t, hits.Load(), "no request reached the new API URL")
		assert.Equal(t, access, e.stored(t, "vimeo").AccessToken, "revoke refused: the grant is kept")

		// Back to the URL it was minted for (spelled differently): as before.
		e["VIDEOAUTH_VIMEO_API_URL"] = fake.URL + "/"
		r := e.run(t, "", "token", "vimeo")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Equal(t, access+"\n", r.out)
		r = e.run(t, "", "curl", "vimeo", "/videos/7")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Contains(t, r.out, `"uri":"/videos/7"`)
		assert.Zero(t, hits.Load())
	})

	t.Run("viki, config file", func(t *testing.T) {
		fake := videoauthtest.NewViki()
		defer fake.Close()
		other, hits := otherAPI(t)
		e := newEnv(t)
		cfg := filepath.Join(e["VIDEOAUTH_CONFIG_DIR"], "config.json")
		writeAPI := func(url string) {
			t.Helper()
			body := fmt.Sprintf(`{"viki": {"client_id": %q, "client_secret": %q, "api_url": %q}}`, fake.ClientID, fake.ClientSecret, url)
			require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))
		}
		writeAPI(fake.URL)
		require.Equal(t, exitOK, e.run(t, "", "login", "viki", "--client").code)
		access := e.stored(t, "viki").AccessToken

		writeAPI(other.URL)
		for _, args := range [][]string{{"token", "viki"}, {"curl", "viki", "/v3/movies.json"}, {"verify", "viki"}, {"revoke", "viki"}} {
			assertRefused(t, e.run(t, "", args...), "viki", fake.URL, other.URL, access, fake.ClientSecret)
		}
		assert.Zero(t, hits.Load(), "no request reached the new API URL")

		writeAPI(fake.URL)
		r := e.run(t, "", "curl", "viki", "/v3/movies.json")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Contains(t, r.out, "Fake Movie 101")
	})

	t.Run("simkl renewal and revocation", func(t *testing.T) {
		fake := videoauthtest.NewSimkl()
		defer fake.Close()
		other, hits := otherAPI(t)
		e := simklEnv(t, fake)
		// A V2 grant minted by fake, as login records it, about to expire:
		// token would renew it first, sending its refresh token.
		access, refresh := fake.IssueToken(true, "media:read")
		tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
			Expiry: time.Now().Add(time.Minute), Scopes: []string{"media:read"},
			Meta: map[string]string{"simkl_auth": "v2", bindingKey: fake.APIURL}}
		require.NoError(t, e.store(t, false).Save(context.Background(), "simkl", tok))

		e["VIDEOAUTH_SIMKL_API_URL"] = other.URL
		for _, args := range [][]string{{"token", "simkl"}, {"verify", "simkl"}, {"curl", "simkl", "/users/settings"}, {"revoke", "simkl"}} {
			assertRefused(t, e.run(t, "", args...), "simkl", fake.APIURL, other.URL, access, refresh)
		}
		assert.Zero(t, hits.Load(), "neither the token nor the refresh token reached the new API URL")
		assert.Zero(t, fake.Refreshes())
		assert.Zero(t, fake.Revocations())

		e["VIDEOAUTH_SIMKL_API_URL"] = fake.APIURL
		r := e.run(t, "", "token", "simkl")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Equal(t, 1, fake.Refreshes(), "renewed where it was minted")
		assert.Equal(t, fake.APIURL, e.stored(t, "simkl").Meta[bindingKey], "the renewed token keeps the binding")
	})
}

func TestLoginRecordsTheAPIURLAndRenewalsKeepIt(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	r := e.run(t, "", "login", "vimeo", "--client")
	require.Equal(t, exitOK, r.code, r.err)
	first := e.stored(t, "vimeo")
	assert.Equal(t, fake.URL, first.Meta[bindingKey], "login records the API the grant was minted against")

	for _, args := range [][]string{{"token", "vimeo"}, {"curl", "vimeo", "/videos/7"}, {"verify", "vimeo"}} {
		r := e.run(t, "", args...)
		require.Equal(t, exitOK, r.code, "%v: %s", args, r.err)
		assert.Empty(t, r.err, "%v: nothing to say about the binding", args)
	}

	// The service forgets the app token: curl mints another and replays.
	fake.DeleteToken(first.AccessToken)
	r = e.run(t, "", "curl", "vimeo", "/videos/7")
	require.Equal(t, exitOK, r.code, r.err)
	renewed := e.stored(t, "vimeo")
	require.NotEqual(t, first.AccessToken, renewed.AccessToken)
	assert.Equal(t, fake.URL, renewed.Meta[bindingKey], "a token minted by a renewal records the API too")
}

func TestGrantStoredBeforeTheBindingKeepsWorking(t *testing.T) {
	t.Run("custom API URL: bound on first use", func(t *testing.T) {
		fake := videoauthtest.NewSimkl()
		defer fake.Close()
		e := simklEnv(t, fake)
		legacy := storeSimklV2(t, e, fake, time.Now().Add(24*time.Hour), "media:read") // no api_url: an older videoauth stored it

		r := e.run(t, "", "token", "simkl")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Equal(t, legacy.AccessToken+"\n", r.out, "the grant works as before")
		assert.Contains(t, r.err, "note: the stored simkl grant did not record the API it was minted for; it is now bound to "+fake.APIURL)
		bound := e.stored(t, "simkl")
		assert.Equal(t, fake.APIURL, bound.Meta[bindingKey], "bound to the API it was first used with")
		assert.Equal(t, "v2", bound.Meta["simkl_auth"], "the rest of the token is kept")
		assert.Equal(t, legacy.RefreshToken, bound.RefreshToken)

		r = e.run(t, "", "curl", "simkl", "/users/settings")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Contains(t, r.out, "Fake User")
		assert.NotContains(t, r.err, "note:", "bound once")

		// From now on it is protected like a grant from login.
		other, hits := otherAPI(t)
		e["VIDEOAUTH_SIMKL_API_URL"] = other.URL
		assertRefused(t, e.run(t, "", "curl", "simkl", "/users/settings"), "simkl", fake.APIURL, other.URL, legacy.AccessToken)
		assert.Zero(t, hits.Load())
	})

	t.Run("default API URL", func(t *testing.T) {
		e := newEnv(t)
		e["VIDEOAUTH_VIKI_CLIENT_ID"], e["VIDEOAUTH_VIKI_CLIENT_SECRET"] = "id", "secret"
		require.NoError(t, e.store(t, false).Save(context.Background(), "viki",
			&videoauth.Token{Provider: "viki", AccessToken: "user-token", UserID: "1u", Expiry: time.Now().Add(time.Hour)}))
		r := e.run(t, "", "token", "viki")
		require.Equal(t, exitOK, r.code, r.err)
		assert.Equal(t, "user-token\n", r.out)
		assert.Equal(t, "https://viki.com", e.stored(t, "viki").Meta[bindingKey])
	})
}

func TestSandboxGrantsAreBoundToTheSandbox(t *testing.T) {
	e := newEnv(t)
	for _, service := range []string{"vimeo", "simkl"} {
		r := e.run(t, "", "--sandbox", "login", service)
		require.Equal(t, exitOK, r.code, r.err)
		tok, err := e.store(t, true).Load(context.Background(), service)
		require.NoError(t, err)
		assert.Equal(t, "sandbox", tok.Meta[bindingKey], "a stable name, not the fake's ephemeral port")
	}
	// Every command starts new fakes on new ports: the grants still work.
	for _, args := range [][]string{{"token", "vimeo"}, {"curl", "vimeo", "/me"}, {"verify", "simkl"}, {"list"}, {"revoke", "simkl"}} {
		r := e.run(t, "", append([]string{"--sandbox"}, args...)...)
		require.Equal(t, exitOK, r.code, "%v: %s", args, r.err)
		assert.NotContains(t, r.err, "API", args)
	}
}

func TestListShowsAGrantMintedForAnotherAPIURL(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	other, hits := otherAPI(t)
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	require.Equal(t, exitOK, e.run(t, "", "login", "vimeo", "--client").code)

	l := e.run(t, "", "list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Empty(t, l.err)

	e["VIDEOAUTH_VIMEO_API_URL"] = other.URL
	l = e.run(t, "", "list")
	require.Equal(t, exitOK, l.code, l.err)
	assert.Regexp(t, `(?m)^vimeo\s+app \(client credentials\)\s+-\s+public\s+never\s+yes\s+default \(default\)$`, l.out, "the grant is still listed")
	assert.Contains(t, l.err, "warning: the stored vimeo grant was minted for "+fake.URL+", but the API is now "+other.URL)
	js := e.run(t, "", "list", "--json")
	require.Equal(t, exitOK, js.code, js.err)
	var grants []map[string]any
	require.NoError(t, json.Unmarshal([]byte(js.out), &grants), js.out)
	require.Len(t, grants, 1)
	assert.Equal(t, fake.URL, grants[0][bindingKey])
	assert.Contains(t, grants[0]["problem"], "videoauth logout vimeo")
	assert.Zero(t, hits.Load())
}
