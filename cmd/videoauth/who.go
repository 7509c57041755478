package main

import (
	"encoding/json"
	"strings"
	"unicode"
)

// maxShown bounds a name the service sends before the tool prints it.
const maxShown = 64

// whoOf reads the account named in the answer to verify's probe, as
// "name (id ID)", or "" when the answer names none (an app token, Viki's
// movie list) or is not what the service documents. The answers:
//
//   - Vimeo GET /oauth/verify: the auth object, whose "user" has "uri"
//     /users/<id> and "name" (docs/vimeo.md#verification-and-revocation [C]).
//     The object also echoes the access token: only the user is decoded.
//   - Simkl GET /users/settings: "user" has "name", "account" has "id"
//     [I] (docs/simkl.md#open-questions: no shape documented; the fake
//     serves this one).
//   - Viki GET /v3/users/<id>.json: "id" and "username" [I].
//
// What the service sent is printed through shown: a name cannot carry
// escape sequences to the terminal.
func whoOf(service string, body []byte) string {
	var name, id string
	switch service {
	case "vimeo":
		var a struct {
			User *struct {
				URI  string `json:"uri"`
				Name string `json:"name"`
			} `json:"user"`
		}
		if json.Unmarshal(body, &a) != nil || a.User == nil {
			return ""
		}
		name = a.User.Name
		if rest, ok := strings.CutPrefix(a.User.URI, "/users/"); ok {
			id = rest
		}
	case "simkl":
		var s struct {
			User struct {
				Name string `json:"name"`
			} `json:"user"`
			Account struct {
				ID json.Number `json:"id"`
			} `json:"account"`
		}
		if json.Unmarshal(body, &s) != nil {
			return ""
		}
		name, id = s.User.Name, s.Account.ID.String()
	case "viki":
		var u struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		}
		if json.Unmarshal(body, &u) != nil {
			return ""
		}
		name, id = u.Username, u.ID
	}
	name, id = shown(name), shown(id)
	switch {
	case name != "" && id != "":
		return name + " (id " + id + ")"
	case id != "":
		return "id " + id
	}
	return name
}

// shown is s as the tool may print it: printable characters only, spaces
// collapsed, at most maxShown of them.
func shown(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if !unicode.IsPrint(r) {
			continue
		}
		if n == maxShown {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// printable reports whether s has printable characters only (and spaces).
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
