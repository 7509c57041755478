package main

import (
	"strings"
	"unicode"

	"github.com/videoauth/videoauth"
)

// maxShown bounds a name the service sends before the tool prints it.
const maxShown = 64

// accountOf is the account an Identity names, as "name (id ID)", or ""
// when it names none (an app token). The library's Identify reads the
// services' answers (videoauth.Identifier); the tool only decides how the
// account is printed. What the service sent goes through shown: a name
// cannot carry escape sequences to the terminal.
func accountOf(id *videoauth.Identity) string {
	if id == nil {
		return ""
	}
	name, uid := shown(id.Name), shown(id.UserID)
	switch {
	case name != "" && uid != "":
		return name + " (id " + uid + ")"
	case uid != "":
		return "id " + uid
	}
	return name
}

// shown is s as the tool may print it: printable characters only, any
// run of white space one space, none at the ends, at most maxShown
// characters.
func shown(s string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	var b strings.Builder
	n := 0
	for _, r := range strings.Join(strings.Fields(clean), " ") {
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
