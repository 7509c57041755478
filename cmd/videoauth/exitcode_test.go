package main

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// The exit codes follow the library's typing of a sign-in that came back
// with an error: only access_denied is a refusal by the user; the service's
// own trouble is worth trying again; a bad scope is configuration.
func TestExitCodesFollowTheCallbackError(t *testing.T) {
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "cid", ClientSecret: "s", APIURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	for code, want := range map[string]int{
		"access_denied":             exitDenied,
		"server_error":              exitFailure,
		"temporarily_unavailable":   exitFailure,
		"invalid_scope":             exitConfig,
		"unauthorized_client":       exitConfig,
		"invalid_request":           exitFailure,
		"unsupported_response_type": exitUsage,
		"something_new":             exitDenied,
	} {
		ar, err := v.AuthRequest("http://127.0.0.1:1/callback")
		require.NoError(t, err)
		_, err = ar.Callback(url.Values{"state": {ar.State}, "error": {code}})
		require.Error(t, err)
		ce := explain("vimeo", err)
		assert.Equal(t, want, ce.code, "%s: %v", code, ce)
		if code != "access_denied" {
			assert.NotContains(t, ce.msg, "denied", code)
		}
	}
}
