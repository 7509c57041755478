package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
