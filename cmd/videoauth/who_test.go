package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
)

func TestWhoOf(t *testing.T) {
	for _, tc := range []struct {
		service, body, want string
	}{
		{"vimeo", `{"access_token":"SECRET","user":{"uri":"/users/42","name":"Ann"}}`, "Ann (id 42)"},
		{"vimeo", `{"access_token":"SECRET","scope":"public"}`, ""}, // an app token
		{"vimeo", `{"user":{"uri":"/channels/7","name":"Ann"}}`, "Ann"},
		{"vimeo", `{"user":{"uri":"/users/42"}}`, "id 42"},
		{"simkl", `{"user":{"name":"Bo"},"account":{"id":4242}}`, "Bo (id 4242)"},
		{"simkl", `{"user":{"name":"Bo"},"account":{"id":"x"}}`, ""}, // not a number: not the documented shape
		{"viki", `{"id":"1u","username":"fan"}`, "fan (id 1u)"},
		{"viki", `[{"id":"101m","title":"Fake Movie 101"}]`, ""}, // the movie list
		{"vimeo", `not json`, ""},
		{"simkl", ``, ""},
		// What the service sends cannot drive the terminal.
		{"vimeo", `{"user":{"uri":"/users/1\u001b[2J","name":"\u001b]0;pwned\u0007Eve\r\nroot"}}`, "]0;pwnedEve root (id 1[2J)"},
		{"viki", `{"id":"1u","username":"` + strings.Repeat("é", 100) + `"}`, strings.Repeat("é", maxShown) + "… (id 1u)"},
	} {
		got := whoOf(tc.service, []byte(tc.body))
		assert.Equal(t, tc.want, got, "%s %s", tc.service, tc.body)
		assert.NotContains(t, got, "SECRET")
	}
}

// TestDeviceCodeWithControlCharacters: a device answer whose code or link
// carries control characters is refused before anything reaches the
// terminal (a link already by the library, which takes no such URI for a
// verification page); the same answer without them is shown.
func TestDeviceCodeWithControlCharacters(t *testing.T) {
	const byCLI = "vimeo sent a code or verification URL with control characters; it is not shown"
	const byLibrary = "vimeo sent a verification URL that is not one of its own https pages; it is not shown"
	for _, tc := range []struct {
		name, code, link string
		want             int
		msg              string
	}{
		{"clean", "ABCD1234", "https://vimeo.com/activate", exitDenied, ""},
		{"escape in the code", "AB\u001b[2JCD", "https://vimeo.com/activate", exitFailure, byCLI},
		{"newline in the link", "ABCD1234", "https://vimeo.com/activate\r\nEnter ZZZZ at https://evil.example", exitFailure, byLibrary},
		{"bidi override in the link", "ABCD1234", "https://vimeo.com/\u202eetavitca", exitFailure, byLibrary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/oauth/device":
					_ = json.NewEncoder(w).Encode(map[string]any{"device_code": "d", "user_code": tc.code,
						"activate_link": tc.link, "authorize_link": tc.link, "expires_in": 300, "interval": 1})
				default: // the poll: the user said no
					w.WriteHeader(http.StatusBadRequest)
					_, _ = io.WriteString(w, `{"error":"access_denied"}`)
				}
			}))
			defer srv.Close()
			e := newEnv(t)
			e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = "id", "secret", srv.URL
			r := e.run(t, "", "login", "vimeo", "--device")
			require.Equal(t, tc.want, r.code, r.err)
			for _, bad := range []string{"\u001b", "\r", "\u202e", "evil.example"} {
				assert.NotContains(t, r.out+r.err, bad)
			}
			if tc.want == exitFailure {
				assert.Contains(t, r.err, tc.msg)
			} else {
				assert.Contains(t, r.err, tc.code)
			}
		})
	}
}

// TestListShowsNoControlCharacters: a user id or scope the service sent
// (and the store kept) is printed without its control characters.
func TestListShowsNoControlCharacters(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.store(t, false).Save(context.Background(), "vimeo", &videoauth.Token{Provider: "vimeo",
		AccessToken: "tok", UserID: "42\u001b]0;x\u0007", Scopes: []string{"public", "\u001b[2J", "pri\u202evate"}}))
	r := e.run(t, "", "list")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Regexp(t, `vimeo\s+user\s+42\]0;x\s+public \[2J private\s+never`, r.out)
	for _, bad := range []string{"\u001b", "\u0007", "\u202e"} {
		assert.NotContains(t, r.out+r.err, bad)
	}
}
