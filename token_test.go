package videoauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tokenTestNow is the fixed "now" every token test parses against.
var tokenTestNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	tokenTestAccess  = "SENTINEL-ACCESS-7f3a9c"
	tokenTestRefresh = "SENTINEL-REFRESH-51be02"
	tokenTestSecret  = "SENTINEL-CLIENT-SECRET-d00d"
)

// tokenTestParse runs parseToken with the defaults every provider uses.
func tokenTestParse(t *testing.T, body, contentType string) (*Token, error) {
	t.Helper()
	return parseToken([]byte(body), contentType, "bearer", tokenTestNow)
}

// tokenTestSecretToken is a token whose secrets are sentinels.
func tokenTestSecretToken(t *testing.T) *Token {
	t.Helper()
	return &Token{
		Provider:     "vimeo",
		AccessToken:  tokenTestAccess,
		TokenType:    "Bearer",
		RefreshToken: tokenTestRefresh,
		Expiry:       tokenTestNow.Add(time.Hour),
		Scopes:       []string{"public", "private"},
		UserID:       "4242",
		User:         json.RawMessage(`{"uri":"/users/4242"}`),
		Extra:        map[string]json.RawMessage{"app": json.RawMessage(`{"name":"x"}`)},
		Meta:         map[string]string{"gen": "1"},
	}
}

// tokenTestNoSecret fails when out contains any of the sentinels.
func tokenTestNoSecret(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotContains(t, out, s, "secret leaked into %q", out)
	}
}

func TestParseTokenTable(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		wantErr     error // sentinel the error must match
		wantBodyErr string
		check       func(t *testing.T, tok *Token)
	}{
		{
			name:        "valid vimeo body",
			body:        `{"access_token":"abc123","token_type":"bearer","scope":"public private","expires_in":3600,"app":{"name":"My App","uri":"/apps/1"},"user":{"uri":"/users/4242","name":"U"}}`,
			contentType: "application/vnd.vimeo.*+json; charset=utf-8",
			check: func(t *testing.T, tok *Token) {
				require.Equal(t, "abc123", tok.AccessToken)
				require.Equal(t, "Bearer", tok.TokenType)
				require.Equal(t, []string{"public", "private"}, tok.Scopes)
				require.Equal(t, tokenTestNow.Add(time.Hour), tok.Expiry)
				require.JSONEq(t, `{"uri":"/users/4242","name":"U"}`, string(tok.User))
				require.Len(t, tok.Extra, 1)
				require.JSONEq(t, `{"name":"My App","uri":"/apps/1"}`, string(tok.Extra["app"]))
				require.Empty(t, tok.RefreshToken)
			},
		},
		{
			name: "refresh token kept and null user dropped",
			body: `{"access_token":"a","refresh_token":"r","user":null,"expires_on":1700000000}`,
			check: func(t *testing.T, tok *Token) {
				require.Equal(t, "r", tok.RefreshToken)
				require.Nil(t, tok.User)
				require.Equal(t, json.RawMessage(`1700000000`), tok.Extra["expires_on"])
			},
		},
		{name: "access_token missing", body: `{"token_type":"bearer"}`, wantErr: ErrBadResponse},
		{name: "access_token empty", body: `{"access_token":""}`, wantErr: ErrBadResponse},
		{name: "access_token number", body: `{"access_token":12345}`, wantErr: ErrBadResponse},
		{name: "access_token null", body: `{"access_token":null}`, wantErr: ErrBadResponse},
		{name: "access_token object", body: `{"access_token":{"v":"x"}}`, wantErr: ErrBadResponse},
		{name: "refresh_token number", body: `{"access_token":"a","refresh_token":7}`, wantErr: ErrBadResponse},

		{name: "expires_in number", body: `{"access_token":"a","expires_in":3600}`, check: tokenTestExpiry(time.Hour)},
		{name: "expires_in string", body: `{"access_token":"a","expires_in":"3600"}`, check: tokenTestExpiry(time.Hour)},
		{name: "expires_in padded string", body: `{"access_token":"a","expires_in":" 3600 "}`, check: tokenTestExpiry(time.Hour)},
		{name: "expires_in null", body: `{"access_token":"a","expires_in":null}`, check: tokenTestExpiry(0)},
		{name: "expires_in zero", body: `{"access_token":"a","expires_in":0}`, check: tokenTestExpiry(0)},
		{name: "expires_in empty string", body: `{"access_token":"a","expires_in":""}`, check: tokenTestExpiry(0)},
		{name: "expires_in absent", body: `{"access_token":"a"}`, check: tokenTestExpiry(0)},
		{name: "expires_in negative", body: `{"access_token":"a","expires_in":-5}`, wantErr: ErrBadResponse},
		{name: "expires_in negative string", body: `{"access_token":"a","expires_in":"-5"}`, wantErr: ErrBadResponse},
		{name: "expires_in huge", body: `{"access_token":"a","expires_in":1e30}`, check: tokenTestExpiry(maxExpiresIn)},
		{name: "expires_in beyond float range", body: `{"access_token":"a","expires_in":1e400}`, wantErr: ErrBadResponse},
		{name: "expires_in max int64", body: `{"access_token":"a","expires_in":9223372036854775807}`, check: tokenTestExpiry(maxExpiresIn)},
		{name: "expires_in float", body: `{"access_token":"a","expires_in":3600.5}`, check: tokenTestExpiry(3600*time.Second + 500*time.Millisecond)},
		{name: "expires_in exponent string", body: `{"access_token":"a","expires_in":"1e3"}`, check: tokenTestExpiry(1000 * time.Second)},
		{name: "expires_in exponent number", body: `{"access_token":"a","expires_in":1e3}`, check: tokenTestExpiry(1000 * time.Second)},
		{name: "expires_in garbage string", body: `{"access_token":"a","expires_in":"abc"}`, wantErr: ErrBadResponse},
		{name: "expires_in NaN string", body: `{"access_token":"a","expires_in":"NaN"}`, wantErr: ErrBadResponse},
		{name: "expires_in Inf string", body: `{"access_token":"a","expires_in":"Inf"}`, wantErr: ErrBadResponse},
		{name: "expires_in bool", body: `{"access_token":"a","expires_in":false}`, wantErr: ErrBadResponse},
		{name: "expires_in object", body: `{"access_token":"a","expires_in":{}}`, wantErr: ErrBadResponse},

		{name: "token_type bearer", body: `{"access_token":"a","token_type":"bearer"}`, check: tokenTestType("Bearer")},
		{name: "token_type Bearer", body: `{"access_token":"a","token_type":"Bearer"}`, check: tokenTestType("Bearer")},
		{name: "token_type BEARER", body: `{"access_token":"a","token_type":"BEARER"}`, check: tokenTestType("Bearer")},
		{name: "token_type absent", body: `{"access_token":"a"}`, check: tokenTestType("Bearer")},
		{name: "token_type null", body: `{"access_token":"a","token_type":null}`, check: tokenTestType("Bearer")},
		{name: "token_type empty", body: `{"access_token":"a","token_type":""}`, check: tokenTestType("Bearer")},
		{name: "token_type mac", body: `{"access_token":"a","token_type":"mac"}`, wantErr: ErrUnsupportedTokenType},
		{name: "token_type weird", body: `{"access_token":"a","token_type":"weird"}`, wantErr: ErrUnsupportedTokenType},
		{name: "token_type bearer with spaces", body: `{"access_token":"a","token_type":" bearer "}`, wantErr: ErrUnsupportedTokenType},
		{name: "token_type number", body: `{"access_token":"a","token_type":1}`, wantErr: ErrBadResponse},
		{name: "token_type array", body: `{"access_token":"a","token_type":["bearer"]}`, wantErr: ErrBadResponse},

		{name: "200 with error body", body: `{"error":"invalid_grant","error_description":"The code is bad"}`, wantBodyErr: "invalid_grant"},
		{name: "error body wins over access_token", body: `{"access_token":"a","error":"access_denied"}`, wantBodyErr: "access_denied"},
		{name: "empty error member ignored", body: `{"access_token":"a","error":""}`, check: tokenTestType("Bearer")},
		{name: "HTML body", body: `<html><body>502 Bad Gateway access_token=LEAK</body></html>`, contentType: "text/html; charset=utf-8", wantErr: ErrBadResponse},
		{name: "JSON body labelled HTML", body: `{"access_token":"a"}`, contentType: "text/html", wantErr: ErrBadResponse},
		{name: "HTML body labelled JSON", body: `<html></html>`, wantErr: ErrBadResponse},
		{name: "form-encoded body", body: `access_token=a&token_type=bearer`, contentType: "application/x-www-form-urlencoded", wantErr: ErrBadResponse},
		{name: "text/plain not JSON", body: `access_token=a`, contentType: "text/plain", wantErr: ErrBadResponse},
		{name: "text/plain holding JSON", body: ` {"access_token":"a"}`, contentType: "text/plain", check: tokenTestType("Bearer")},
		{name: "no content type", body: `{"access_token":"a"}`, contentType: "", check: tokenTestType("Bearer")},
		{name: "empty body", body: ``, wantErr: ErrBadResponse},
		{name: "whitespace body", body: " \n", wantErr: ErrBadResponse},
		{name: "JSON null", body: `null`, wantErr: ErrBadResponse},
		{name: "JSON array", body: `[{"access_token":"a"}]`, wantErr: ErrBadResponse},
		{name: "JSON string", body: `"a"`, wantErr: ErrBadResponse},
		{name: "truncated JSON", body: `{"access_token":"a"`, wantErr: ErrBadResponse},

		{name: "scope space separated", body: `{"access_token":"a","scope":"a b"}`, check: tokenTestScopes("a", "b")},
		{name: "scope plus is not a separator", body: `{"access_token":"a","scope":"a+b"}`, check: tokenTestScopes("a+b")},
		{name: "scope comma is not a separator", body: `{"access_token":"a","scope":"a,b"}`, check: tokenTestScopes("a,b")},
		{name: "scope array", body: `{"access_token":"a","scope":["a","b"]}`, check: tokenTestScopes("a", "b")},
		{name: "scope empty", body: `{"access_token":"a","scope":""}`, check: tokenTestScopes()},
		{name: "scope number", body: `{"access_token":"a","scope":5}`, check: tokenTestScopes()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctype := tc.contentType
			if ctype == "" && tc.name != "no content type" {
				ctype = "application/json"
			}
			tok, err := tokenTestParse(t, tc.body, ctype)
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, tok)
			case tc.wantBodyErr != "":
				var be *tokenBodyError
				require.ErrorAs(t, err, &be)
				require.Equal(t, tc.wantBodyErr, be.code)
				require.Nil(t, tok)
				require.NotContains(t, err.Error(), "The code is bad", "description must stay out of Error()")
			default:
				require.NoError(t, err)
				require.NotNil(t, tok)
				require.NotEmpty(t, tok.AccessToken)
				require.Equal(t, "Bearer", tok.TokenType)
				if tc.check != nil {
					tc.check(t, tok)
				}
			}
		})
	}
}

func tokenTestExpiry(d time.Duration) func(t *testing.T, tok *Token) {
	return func(t *testing.T, tok *Token) {
		t.Helper()
		if d == 0 {
			require.True(t, tok.Expiry.IsZero(), "want zero Expiry, got %v", tok.Expiry)
			require.True(t, tok.Valid(tokenTestNow.Add(100*365*24*time.Hour)), "zero expiry must never expire")
			return
		}
		require.Equal(t, tokenTestNow.Add(d), tok.Expiry)
	}
}

func tokenTestType(want string) func(t *testing.T, tok *Token) {
	return func(t *testing.T, tok *Token) {
		t.Helper()
		require.Equal(t, want, tok.TokenType)
	}
}

func tokenTestScopes(want ...string) func(t *testing.T, tok *Token) {
	return func(t *testing.T, tok *Token) {
		t.Helper()
		if len(want) == 0 {
			require.Empty(t, tok.Scopes)
			return
		}
		require.Equal(t, want, tok.Scopes)
	}
}

func TestParseTokenDefaultTypeIsUsed(t *testing.T) {
	_, err := parseToken([]byte(`{"access_token":"a"}`), "application/json", "mac", tokenTestNow)
	require.ErrorIs(t, err, ErrUnsupportedTokenType)
}

func TestParseTokenErrorsDoNotLeakBody(t *testing.T) {
	bodies := map[string]string{
		"html":        `<html>` + tokenTestAccess + `</html>`,
		"type mac":    `{"access_token":"` + tokenTestAccess + `","token_type":"mac"}`,
		"bad expiry":  `{"access_token":"` + tokenTestAccess + `","expires_in":"` + tokenTestRefresh + `"}`,
		"error":       `{"error":"invalid_grant","error_description":"` + tokenTestAccess + `"}`,
		"error prose": `{"error":"` + tokenTestAccess + ` is bad"}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			_, err := tokenTestParse(t, body, "application/json")
			require.Error(t, err)
			tokenTestNoSecret(t, err.Error(), tokenTestAccess, tokenTestRefresh)
			tokenTestNoSecret(t, fmt.Sprintf("%v %+v %s %q", err, err, err, err), tokenTestAccess, tokenTestRefresh)
		})
	}
}

// TestTokenJSONRoundTrip: the stored form (EncodeToken) reads back as the
// same token, with DecodeToken and with json.Unmarshal.
func TestTokenJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		tok  *Token
	}{
		{name: "full", tok: tokenTestSecretToken(t)},
		{name: "minimal", tok: &Token{AccessToken: "a"}},
		{name: "zero expiry with extras", tok: &Token{AccessToken: "a", TokenType: "Bearer", Extra: map[string]json.RawMessage{"result": json.RawMessage(`"OK"`), "n": json.RawMessage(`[1,2]`)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeToken(tc.tok)
			require.NoError(t, err)
			dec, err := DecodeToken(b)
			require.NoError(t, err)
			require.Equal(t, tc.tok, dec)
			var got Token
			require.NoError(t, json.Unmarshal(b, &got))
			require.Equal(t, tc.tok, &got)
			require.True(t, tc.tok.Expiry.Equal(got.Expiry))
			if tc.tok.Expiry.IsZero() {
				require.NotContains(t, string(b), "expiry", "zero expiry is omitted")
			}
		})
	}
}

func TestTokenJSONRoundTripFromParse(t *testing.T) {
	tok, err := tokenTestParse(t, `{"access_token":"abc","refresh_token":"r","expires_in":60,"scope":"a b","app":{"name":"x"},"user":{"uri":"/users/1"}}`, "application/json")
	require.NoError(t, err)
	tok.Meta = map[string]string{"k": "v"}
	b, err := EncodeToken(tok)
	require.NoError(t, err)
	got, err := DecodeToken(b)
	require.NoError(t, err)
	require.Equal(t, tok, got)
}

func TestTokenRedaction(t *testing.T) {
	tok := tokenTestSecretToken(t)
	type holder struct {
		Name string
		Tok  *Token
	}
	type embeds struct {
		*Token
		Other int
	}
	type inSlice struct {
		Toks []*Token
		ByID map[string]*Token
	}
	args := map[string]any{
		"pointer":       tok,
		"field":         holder{Name: "h", Tok: tok},
		"field pointer": &holder{Name: "h", Tok: tok},
		"embedded":      embeds{Token: tok, Other: 1},
		"slice and map": inSlice{Toks: []*Token{tok}, ByID: map[string]*Token{"a": tok}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%T"}
	for name, arg := range args {
		for _, verb := range verbs {
			t.Run(name+" "+verb, func(t *testing.T) {
				tokenTestNoSecret(t, fmt.Sprintf(verb, arg), tokenTestAccess, tokenTestRefresh)
			})
		}
		t.Run(name+" Sprint", func(t *testing.T) {
			tokenTestNoSecret(t, fmt.Sprint(arg), tokenTestAccess, tokenTestRefresh)
			tokenTestNoSecret(t, fmt.Sprintln(arg), tokenTestAccess, tokenTestRefresh)
		})
	}
	t.Run("String shows presence", func(t *testing.T) {
		s := tok.String()
		require.Contains(t, s, "access=REDACTED")
		require.Contains(t, s, "refresh=REDACTED")
		require.Contains(t, s, "user=4242")
		require.Contains(t, (&Token{}).String(), "access=none")
	})
	t.Run("nil pointer", func(t *testing.T) {
		var nilTok *Token
		// Format has a value receiver (so a Token value prints redacted
		// too): fmt prints a nil *Token as <nil>; String handles nil.
		require.Equal(t, "<nil>", fmt.Sprintf("%v", nilTok))
		require.Equal(t, "videoauth.Token(nil)", nilTok.String())
		require.Equal(t, "nil", nilTok.LogValue().String())
	})
	// fmt cannot call methods through an unexported field: a caller's
	// struct{ tok *Token } printed with %s or %q shows the fields (fmt's
	// bad-verb path dereferences the pointer). Nothing Token can do about it.
	//
	// A Token value prints redacted too (Format has a value receiver); see
	// TestPrintNoSecrets.
}

func TestTokenSlogRedaction(t *testing.T) {
	tok := tokenTestSecretToken(t)
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h(&buf))
			log.Info("got token", "tok", tok)
			log.Info("got token", slog.Any("tok", tok))
			log.With("tok", tok).Info("with")
			log.WithGroup("g").Info("grouped", "tok", tok)
			log.Info("nil", "tok", (*Token)(nil))
			out := buf.String()
			tokenTestNoSecret(t, out, tokenTestAccess, tokenTestRefresh)
			require.Contains(t, out, "REDACTED")
			require.Contains(t, out, "vimeo")
		})
	}
	t.Run("text handler nested struct", func(t *testing.T) {
		// The text handler prints non-LogValuer values with fmt, which
		// reaches Token.Format for an exported *Token field.
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "h", struct{ Tok *Token }{tok})
		tokenTestNoSecret(t, buf.String(), tokenTestAccess, tokenTestRefresh)
	})
}

func TestTokenRequireScopes(t *testing.T) {
	tok := &Token{AccessToken: "a", Scopes: []string{"public", "private"}}
	tests := []struct {
		name    string
		tok     *Token
		want    []string
		missing string // "" means no error
	}{
		{name: "none wanted", tok: tok},
		{name: "all granted", tok: tok, want: []string{"public", "private"}},
		{name: "one missing", tok: tok, want: []string{"public", "upload"}, missing: "upload"},
		{name: "several missing in order", tok: tok, want: []string{"edit", "public", "upload"}, missing: "edit upload"},
		{name: "no scopes granted", tok: &Token{AccessToken: "a"}, want: []string{"public"}, missing: "public"},
		{name: "nil token", tok: nil, want: []string{"public"}, missing: "public"},
		{name: "case matters", tok: tok, want: []string{"Public"}, missing: "Public"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.tok.RequireScopes(tc.want...)
			if tc.missing == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrScopeNotGranted)
			require.True(t, strings.HasSuffix(err.Error(), ": "+tc.missing), "error %q should list %q", err, tc.missing)
		})
	}
}

func TestTokenHasScope(t *testing.T) {
	tok := &Token{Scopes: []string{"public", "video_files"}}
	require.True(t, tok.HasScope("public"))
	require.True(t, tok.HasScope("video_files"))
	require.False(t, tok.HasScope("private"))
	require.False(t, tok.HasScope(""))
	require.False(t, (*Token)(nil).HasScope("public"))
}

func TestTokenCloneIsDeep(t *testing.T) {
	orig := tokenTestSecretToken(t)
	want := tokenTestSecretToken(t)
	c := orig.Clone()
	require.Equal(t, orig, c)
	require.NotSame(t, orig, c)

	c.AccessToken = "changed"
	c.Scopes[0] = "changed"
	c.User[0] = '['
	c.Extra["app"][0] = '['
	c.Extra["new"] = json.RawMessage(`1`)
	c.Meta["gen"] = "2"
	c.Meta["new"] = "x"
	require.Equal(t, want, orig, "mutating the clone must not touch the original")

	require.Nil(t, (*Token)(nil).Clone())
	bare := (&Token{AccessToken: "a"}).Clone()
	require.Nil(t, bare.Extra)
	require.Nil(t, bare.Meta)
	require.Nil(t, bare.Scopes)
}

func TestTokenOAuth2(t *testing.T) {
	tok := tokenTestSecretToken(t)
	tok.Extra["expires_on"] = json.RawMessage(`1700000000`)
	tok.Extra["broken"] = json.RawMessage(`{`)
	o := tok.OAuth2()
	require.Equal(t, tok.AccessToken, o.AccessToken)
	require.Equal(t, tok.RefreshToken, o.RefreshToken)
	require.Equal(t, "Bearer", o.TokenType)
	require.Equal(t, tok.Expiry, o.Expiry)
	require.Equal(t, map[string]any{"name": "x"}, o.Extra("app"))
	require.Equal(t, float64(1700000000), o.Extra("expires_on"))
	require.Nil(t, o.Extra("broken"))
	require.Nil(t, o.Extra("absent"))

	plain := (&Token{AccessToken: "a"}).OAuth2()
	require.Equal(t, "a", plain.AccessToken)
	require.Nil(t, plain.Extra("app"))
	require.Nil(t, (*Token)(nil).OAuth2())
}

func TestTokenValid(t *testing.T) {
	tests := []struct {
		name string
		tok  *Token
		want bool
	}{
		{name: "zero expiry", tok: &Token{AccessToken: "a"}, want: true},
		{name: "future expiry", tok: &Token{AccessToken: "a", Expiry: tokenTestNow.Add(time.Nanosecond)}, want: true},
		{name: "expiry now", tok: &Token{AccessToken: "a", Expiry: tokenTestNow}, want: false},
		{name: "past expiry", tok: &Token{AccessToken: "a", Expiry: tokenTestNow.Add(-time.Second)}, want: false},
		{name: "no access token", tok: &Token{Expiry: tokenTestNow.Add(time.Hour)}, want: false},
		{name: "nil", tok: nil, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.tok.Valid(tokenTestNow))
		})
	}
}

func TestTokenExpiresWithin(t *testing.T) {
	tok := &Token{AccessToken: "a", Expiry: tokenTestNow.Add(time.Minute)}
	require.False(t, tok.expiresWithin(tokenTestNow, 59*time.Second))
	require.True(t, tok.expiresWithin(tokenTestNow, time.Minute))
	require.False(t, (&Token{AccessToken: "a"}).expiresWithin(tokenTestNow, 1000*time.Hour))
}

func TestAppRedaction(t *testing.T) {
	app := App{ClientID: "cid", ClientSecret: tokenTestSecret, RedirectURL: "http://127.0.0.1/cb", Scopes: []string{"public"}}
	type holder struct{ App App }
	args := map[string]any{
		"value":   app,
		"pointer": &app,
		"field":   holder{App: app},
	}
	for name, arg := range args {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			t.Run(name+" "+verb, func(t *testing.T) {
				tokenTestNoSecret(t, fmt.Sprintf(verb, arg), tokenTestSecret)
			})
		}
	}
	require.Contains(t, app.String(), "ClientID:cid")
	require.Contains(t, app.String(), "ClientSecret:REDACTED")
	require.Contains(t, App{}.String(), "ClientSecret:none")

	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run("slog "+name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h(&buf))
			log.Info("app", "app", app)
			log.Info("app", "app", &app)
			log.Info("app", slog.Any("app", app))
			tokenTestNoSecret(t, buf.String(), tokenTestSecret)
			require.Contains(t, buf.String(), "cid")
		})
	}
}

// TestProviderPrintingHidesClientSecret: a provider holds the App in an
// unexported field, which fmt would print field by field (fmt cannot reach
// App.Format through it), so every provider redacts itself.
func TestProviderPrintingHidesClientSecret(t *testing.T) {
	app := App{ClientID: "cid", ClientSecret: tokenTestSecret, AppName: "a", AppVersion: "1"}
	for _, p := range testProviders(t, app) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			tokenTestNoSecret(t, fmt.Sprintf(verb, p), tokenTestSecret)
			tokenTestNoSecret(t, fmt.Sprintf(verb, &Transport{Provider: p}), tokenTestSecret)
		}
		require.Contains(t, fmt.Sprint(p), "ClientSecret:REDACTED")
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("p", "provider", p)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("p", "provider", p)
		tokenTestNoSecret(t, buf.String(), tokenTestSecret)
		require.Contains(t, buf.String(), "cid")
	}
}

// Scopes in a token response split on spaces only (RFC 6749 §3.3): commas,
// '+' and other whitespace belong to the scope token.
func TestParseScopesSplitsOnSpacesOnly(t *testing.T) {
	for _, tc := range []struct {
		name, scope string
		want        []string
	}{
		{"the issue's example", "repo,user gist+read", []string{"repo,user", "gist+read"}},
		{"Vimeo's granted list", "private interact create edit upload delete public", []string{"private", "interact", "create", "edit", "upload", "delete", "public"}},
		{"Simkl V2", "media:read media:write", []string{"media:read", "media:write"}},
		{"runs of spaces, leading and trailing", "  a   b ", []string{"a", "b"}},
		{"comma and space", "a, b", []string{"a,", "b"}},
		{"tab is not a separator", "a\tb", []string{"a\tb"}},
		{"newline is not a separator", "a\nb c", []string{"a\nb", "c"}},
		{"no-break space is not a separator", "a\u00a0b", []string{"a\u00a0b"}},
		{"only spaces", "   ", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, splitScopes(tc.scope))
			raw, err := json.Marshal(tc.scope)
			require.NoError(t, err)
			require.Equal(t, tc.want, parseScopes(raw))
			tok, err := parseToken([]byte(`{"access_token":"a","scope":`+string(raw)+`}`), "application/json", "bearer", tokenTestNow)
			require.NoError(t, err)
			require.Equal(t, tc.want, tok.Scopes)
		})
	}
	t.Run("a granted scope is not made up from a neighbour", func(t *testing.T) {
		tok, err := parseToken([]byte(`{"access_token":"a","scope":"media:read,media:write"}`), "application/json", "bearer", tokenTestNow)
		require.NoError(t, err)
		require.False(t, tok.HasScope("media:write"))
		require.ErrorIs(t, tok.RequireScopes("media:write"), ErrScopeNotGranted)
	})
	// An implicit-grant fragment is form-decoded by url.ParseQuery before
	// the scopes are split: '+' is a space there, %2B a literal '+'.
	for _, tc := range []struct {
		fragment string
		want     []string
	}{
		{"access_token=a&scope=public+private", []string{"public", "private"}},
		{"access_token=a&scope=public%20private", []string{"public", "private"}},
		{"access_token=a&scope=gist%2Bread+repo%2Cuser", []string{"gist+read", "repo,user"}},
	} {
		t.Run("fragment "+tc.fragment, func(t *testing.T) {
			q, err := url.ParseQuery(tc.fragment)
			require.NoError(t, err)
			tok, err := parseFragmentToken(q, "vimeo", tokenTestNow)
			require.NoError(t, err)
			require.Equal(t, tc.want, tok.Scopes)
		})
	}
}

// FuzzSplitScopes: scopes never hold a space or are empty, and joined with
// single spaces they are the input with its runs of spaces collapsed —
// every other byte, commas, '+' and other whitespace included, kept.
func FuzzSplitScopes(f *testing.F) {
	for _, s := range []string{"repo,user gist+read", "  a   b ", "a\tb\nc", "", "   ", "a\u00a0b", "media:read media:write"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := splitScopes(s)
		for _, sc := range got {
			require.NotEmpty(t, sc)
			require.NotContains(t, sc, " ")
		}
		var want []string
		for _, p := range strings.Split(s, " ") {
			if p != "" {
				want = append(want, p)
			}
		}
		require.Equal(t, strings.Join(want, " "), strings.Join(got, " "))
	})
}
