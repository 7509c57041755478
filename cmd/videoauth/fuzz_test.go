package main

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/videoauth/videoauth"
)

// FuzzParseConfig: any file content gives a config or a typed error, never
// a panic; a config names only known services and survives a round trip.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"vimeo": {"client_id": "x", "client_secret": "y", "scopes": ["public"]}}`,
		`{"simkl": {"generation": "v1"}}`, `{"viki": null}`, `null`, `{"vimeo": {"clientid": 1}}`, `[`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("config.json", data)
		if err != nil {
			var ce *cliError
			if !errors.As(err, &ce) || ce.code != exitConfig {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for name := range cfg {
			if !slices.Contains(serviceNames, name) {
				t.Fatalf("unknown service %q accepted", name)
			}
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseConfig("config.json", b)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if len(again) != len(cfg) {
			t.Fatalf("round trip lost services: %v vs %v", cfg, again)
		}
	})
}

// FuzzResolveURL: whatever the user types as curl's target, the tool
// either refuses it with a usage error or sends it to the service's API
// host: never anywhere else, where the token would follow.
func FuzzResolveURL(f *testing.F) {
	for _, s := range []string{
		"/me", "/videos?query=a b", "https://api.vimeo.com/me", "https://api.vimeo.com.evil.example/me",
		"https://evil.example/", "//evil.example/x", "http://api.vimeo.com/me", "https://API.VIMEO.COM/me",
		"https://user:pw@api.vimeo.com/me", "/\\evil.example", "", "::", "https://api.vimeo.com@evil.example/",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		f.Fatal(err)
	}
	fake, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret", APIURL: "http://127.0.0.1:9"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string, inSandbox bool) {
		s := &session{name: "vimeo", vimeo: vimeo}
		if inSandbox {
			s = &session{name: "vimeo", vimeo: fake, sb: &sandbox{}, set: settings{APIURL: "http://127.0.0.1:9"}}
		}
		u, err := s.resolveURL(target)
		if err != nil {
			var ce *cliError
			if !errors.As(err, &ce) || ce.code != exitUsage {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// What the transport will dial is the URL's host, as a client parses
		// the string form again.
		again, err := url.Parse(u.String())
		if err != nil {
			t.Fatalf("%q resolved to an unparsable %q", target, u)
		}
		want := "api.vimeo.com"
		if inSandbox {
			want = "127.0.0.1:9"
		}
		if !strings.EqualFold(again.Host, want) || again.User != nil {
			t.Fatalf("%q resolved to host %q (user info %v)", target, again.Host, again.User)
		}
	})
}

// FuzzWhoOf: whatever a service answers verify's probe with, the account
// line is printable text of bounded length, never a panic.
func FuzzWhoOf(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"t","user":{"uri":"/users/42","name":"Ann"}}`, `{"user":{"name":"Bo"},"account":{"id":4242}}`,
		`{"id":"1u","username":"fan"}`, `{"user":{"name":"\u001b[2J\u202e"}}`, `[]`, `null`, `{"account":{"id":1e400}}`,
	} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		got := whoOf(serviceNames[int(which)%len(serviceNames)], []byte(body))
		for _, r := range got {
			if !unicode.IsPrint(r) {
				t.Fatalf("unprintable %U in %q", r, got)
			}
		}
		if n := utf8.RuneCountInString(got); n > 2*(maxShown+1)+len(" (id )") {
			t.Fatalf("%d runes: %q", n, got)
		}
	})
}

// FuzzAccountName: a name --account or switch accepts is one path element
// of printable ASCII, never "." or "..", and its store key names it back.
func FuzzAccountName(f *testing.F) {
	for _, s := range []string{"work", "fan@example.com", "../x", "a/b", `a\b`, "default", ".", "..", "A", "\x1b[2J", "", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkAccountName(name) != nil {
			return
		}
		if name == "." || name == ".." || strings.ContainsAny(name, `/\`) || len(name) > maxAccountName {
			t.Fatalf("accepted %q", name)
		}
		for _, r := range name {
			if r < '!' || r > '~' {
				t.Fatalf("accepted %q with %U", name, r)
			}
		}
		service, account, ok := splitKey(storeKey("vimeo", name))
		if !ok || service != "vimeo" || account != name {
			t.Fatalf("%q: key %q reads back as %q, %q, %v", name, storeKey("vimeo", name), service, account, ok)
		}
	})
}

// FuzzLoopbackRedirect: a redirect URI --redirect-uri accepts is plain http
// on 127.0.0.1 with a port and a path, and nothing else.
func FuzzLoopbackRedirect(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/callback", "http://127.0.0.1/cb", "http://localhost:1/x", "https://127.0.0.1:1/",
		"http://127.0.0.1:0/", "http://127.0.0.1:99999/", "http://u:p@127.0.0.1:1/", "http://127.0.0.1:1/a?b#c", "http://[::1]:1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		port, path, err := loopbackRedirect(raw, 0)
		if err != nil {
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("accepted %q", raw)
		}
		if port < 1 || port > 65535 || !strings.HasPrefix(path, "/") {
			t.Fatalf("%q: port %d, path %q", raw, port, path)
		}
	})
}
