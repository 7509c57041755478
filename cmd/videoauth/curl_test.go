package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

// TestCurlHeaderReplacesTheDefault: -H replaces the Content-Type that -d
// would send (curl's rule), so a JSON body sent with -d and -H reaches the
// service with one Content-Type; an HTTP error still prints without -f, and
// exits 22 with it.
func TestCurlHeaderReplacesTheDefault(t *testing.T) {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	e := simklEnv(t, fake)
	storeSimklV2(t, e, fake, time.Now().Add(24*time.Hour), "media:read", "media:write")
	body := `{"movies":[{"ids":{"simkl":53536}}]}`

	r := e.run(t, "", "curl", "simkl", "/sync/history", "-H", "Content-Type: application/json", "-d", body, "-i")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "201 Created", "the service took the body as JSON")
	assert.Equal(t, []string{"application/json"}, fake.LastRequestHeader().Values("Content-Type"), "one Content-Type, the one given")

	// The header's name in any case, and the --json defaults too.
	r = e.run(t, "", "curl", "simkl", "/sync/history", "--json", body, "-H", "accept: text/plain", "-H", "content-type: application/json; charset=utf-8")
	require.Equal(t, exitOK, r.code, r.err)
	h := fake.LastRequestHeader()
	assert.Equal(t, []string{"application/json; charset=utf-8"}, h.Values("Content-Type"))
	assert.Equal(t, []string{"text/plain"}, h.Values("Accept"))

	// Repeating -H adds values; "Name:" sends none.
	r = e.run(t, "", "curl", "simkl", "/users/settings", "-H", "X-Trace: 1", "-H", "X-Trace: 2", "-H", "X-Empty:")
	require.Equal(t, exitOK, r.code, r.err)
	h = fake.LastRequestHeader()
	assert.Equal(t, []string{"1", "2"}, h.Values("X-Trace"))
	assert.NotContains(t, h, http.CanonicalHeaderKey("X-Empty"))

	// The form default, replaced by a wrong type: the service's 415 prints
	// without -f, and exits 22 with it.
	r = e.run(t, "", "curl", "simkl", "/sync/history", "-H", "Content-Type: text/plain", "-d", body)
	assert.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "bad_content_type")
	r = e.run(t, "", "curl", "simkl", "/sync/history", "-H", "Content-Type: text/plain", "-d", body, "-f")
	assert.Equal(t, exitHTTP, r.code, r.err)
	assert.Empty(t, r.out)
	assert.Contains(t, r.err, "the API answered 415")

	bad := e.run(t, "", "curl", "simkl", "/users/settings", "-H", "Bad Name: x")
	assert.Equal(t, exitUsage, bad.code)
	assert.Contains(t, bad.err, `bad header "Bad Name: x"`)
}
