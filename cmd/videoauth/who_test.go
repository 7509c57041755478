package main

import (
	"bytes"
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
	"github.com/videoauth/videoauth/videoauthtest"
)

// whoAnswer answers every request with 200 and its body, in memory.
type whoAnswer []byte

func (b whoAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

// whoOf is the account line verify prints when service answers its
// request with body: the session's provider, over a client that answers
// body, asked through identify (the library's Identify) and printed by
// accountOf. An answer Identify cannot read names no account.
func whoOf(service string, body []byte) string {
	app := videoauth.App{ClientID: "id", ClientSecret: "secret", AppName: "test", AppVersion: "1",
		APIURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Transport: whoAnswer(body)}}
	s := &session{name: service}
	var tok *videoauth.Token
	var err error
	switch service {
	case "vimeo":
		s.vimeo, err = videoauth.NewVimeo(app)
		tok = &videoauth.Token{Provider: "vimeo", AccessToken: "cli-test-token", TokenType: "Bearer", UserID: "1"}
	case "simkl":
		s.simkl, err = videoauth.NewSimkl(app, videoauth.SimklV2)
		tok = &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_cli", TokenType: "Bearer"}
	case "viki":
		s.viki, err = videoauth.NewViki(app)
		tok = &videoauth.Token{Provider: "viki", AccessToken: "cli-test-token", TokenType: "Bearer", UserID: "1u"}
	}
	if err != nil {
		panic(err)
	}
	id, _, err := identify(context.Background(), s, nil, tok)
	if err != nil {
		return ""
	}
	return accountOf(id)
}

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

// TestAccountOf: the account line of an Identity, the service's text
// cleaned and capped.
func TestAccountOf(t *testing.T) {
	for _, tc := range []struct {
		id   *videoauth.Identity
		want string
	}{
		{nil, ""},
		{&videoauth.Identity{Provider: "vimeo"}, ""},
		{&videoauth.Identity{Provider: "vimeo", UserID: "42", Name: "Ann"}, "Ann (id 42)"},
		{&videoauth.Identity{Provider: "vimeo", Name: "Ann"}, "Ann"},
		{&videoauth.Identity{Provider: "simkl", UserID: "4242"}, "id 4242"},
		{&videoauth.Identity{Provider: "viki", UserID: "1u\u001b[2J", Name: "\u202eEve\r\n\u0007"}, "Eve (id 1u[2J)"},
	} {
		assert.Equal(t, tc.want, accountOf(tc.id), "%+v", tc.id)
	}
}

// TestVerifyRenewsARejectedAppToken: when the service forgot an app token,
// verify gets a new one from the grant and asks once more, as a request
// through the Transport would be replayed; a user token the service
// forgot is a dead grant (exit 4), asked about once.
func TestVerifyRenewsARejectedAppToken(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = fake.ClientID, fake.ClientSecret, fake.URL
	require.Equal(t, exitOK, e.run(t, "", "login", "vimeo", "--client").code)
	first := e.stored(t, "vimeo")
	fake.DeleteToken(first.AccessToken)

	r := e.run(t, "", "verify", "vimeo")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "vimeo: the token works (renewed): GET /oauth/verify answered 200 OK.")
	assert.NotContains(t, r.out, "account:", "an app token names no account")
	assert.Equal(t, 2, fake.Mints(), "one new token")
	assert.NotEqual(t, first.AccessToken, e.stored(t, "vimeo").AccessToken, "the new token is stored")

	user := &videoauth.Token{Provider: "vimeo", AccessToken: fake.IssueUserToken(), TokenType: "Bearer", UserID: "4242"}
	require.NoError(t, e.store(t, false).Save(context.Background(), "vimeo", user))
	r = e.run(t, "", "verify", "vimeo")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "account: Fake User (id 4242)")
	fake.DeleteToken(user.AccessToken)
	r = e.run(t, "", "verify", "vimeo")
	assert.Equal(t, exitSignIn, r.code, r.err)
	assert.Contains(t, r.err, "the stored vimeo grant is no longer valid")
	assert.Equal(t, 2, fake.Mints(), "a user token is not re-minted")
}

// TestVerifyUnreadableAccount: a service that takes the token but answers
// something Identify cannot read: the token works, no account is shown,
// and nothing of the answer reaches the terminal.
func TestVerifyUnreadableAccount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>\u001b[2J welcome</html>")
	}))
	defer srv.Close()
	e := newEnv(t)
	e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = "id", "secret", srv.URL
	require.NoError(t, e.store(t, false).Save(context.Background(), "vimeo",
		&videoauth.Token{Provider: "vimeo", AccessToken: "tok", TokenType: "Bearer", UserID: "1"}))
	r := e.run(t, "", "verify", "vimeo")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "vimeo: the token works: GET /oauth/verify answered 200 OK.")
	assert.NotContains(t, r.out, "account:")
	assert.NotContains(t, r.out+r.err, "welcome")
}
