package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
)

func TestAPIOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.vimeo.com":                   "https://api.vimeo.com",
		"https://api.vimeo.com/":                  "https://api.vimeo.com",
		"HTTPS://API.Vimeo.com:443/some/path?q=1": "https://api.vimeo.com",
		"https://user:secret@proxy.example:8443/": "https://proxy.example:8443",
		"http://127.0.0.1:80":                     "http://127.0.0.1",
		"http://127.0.0.1:8080/":                  "http://127.0.0.1:8080",
		"http://[::1]:9000":                       "http://[::1]:9000",
		"http://[::1]":                            "http://[::1]",
		" https://viki.com ":                      "https://viki.com",
	} {
		assert.Equal(t, want, apiOrigin(in), in)
	}
	assert.NotContains(t, apiOrigin("https://user:secret@proxy.example/"), "secret")
}

// A Source about to renew reads the store again and may adopt a token
// another process stored: one bound to another API is refused there too.
func TestBoundStoreRefusesATokenForAnotherAPI(t *testing.T) {
	st, err := videoauth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	s := &session{name: "vimeo", key: "vimeo", set: settings{APIURL: "http://127.0.0.1:1111"}, store: st}
	b := boundStore{FileStore: st, s: s}
	ctx := context.Background()
	save := func(key, binding string) {
		t.Helper()
		tok := &videoauth.Token{Provider: key, AccessToken: "tok"}
		if binding != "" {
			bind(tok, binding)
		}
		require.NoError(t, st.Save(ctx, key, tok))
	}

	save("vimeo", "http://127.0.0.1:2222")
	_, err = b.Load(ctx, "vimeo")
	var ce *cliError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, exitBinding, ce.code)

	for _, binding := range []string{"http://127.0.0.1:1111", "HTTP://127.0.0.1:1111/", ""} {
		save("vimeo", binding)
		tok, err := b.Load(ctx, "vimeo")
		require.NoError(t, err, binding)
		assert.Equal(t, "tok", tok.AccessToken)
	}
	save("simkl", "http://127.0.0.1:2222")
	_, err = b.Load(ctx, "simkl")
	assert.NoError(t, err, "another key is not this session's grant")
}
