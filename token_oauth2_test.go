package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/videoauth/videoauth/internal/wire"
	"github.com/videoauth/videoauth/videoauthtest"
)

var o2Now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// o2FormToken is an *oauth2.Token as x/oauth2 makes it from a
// form-encoded answer (its Extra then reads url.Values).
func o2FormToken(t *testing.T, body string) *oauth2.Token {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	cfg := clientcredentials.Config{ClientID: "c", ClientSecret: "s", TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}
	tok, err := cfg.Token(context.Background())
	require.NoError(t, err)
	return tok
}

// TestTokenFromOAuth2Refuses: no token, no access token, an unknown
// provider, characters no token has, a bad lifetime: ErrInvalidConfig; a
// token type this package cannot use: ErrUnsupportedTokenType.
func TestTokenFromOAuth2Refuses(t *testing.T) {
	ok := &oauth2.Token{AccessToken: "a"}
	for _, tc := range []struct {
		name, provider string
		tok            *oauth2.Token
		want           error
	}{
		{"nil", "vimeo", nil, ErrInvalidConfig},
		{"empty", "simkl", &oauth2.Token{}, ErrInvalidConfig},
		{"refresh only", "simkl", &oauth2.Token{RefreshToken: "r"}, ErrInvalidConfig},
		{"unknown provider", "youtube", ok, ErrInvalidConfig},
		{"no provider", "", ok, ErrInvalidConfig},
		{"provider in another case", "Vimeo", ok, ErrInvalidConfig},
		{"newline in access", "vimeo", &oauth2.Token{AccessToken: "a\nb"}, ErrInvalidConfig},
		{"non-ASCII refresh", "simkl", &oauth2.Token{AccessToken: "a", RefreshToken: "r\u00e9"}, ErrInvalidConfig},
		{"negative ExpiresIn", "viki", &oauth2.Token{AccessToken: "a", ExpiresIn: -1}, ErrInvalidConfig},
		{"bad expires_in", "viki", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"expires_in": "soon"}), ErrInvalidConfig},
		{"unencodable extra", "vimeo", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"app": make(chan int)}), ErrInvalidConfig},
		{"MAC", "vimeo", &oauth2.Token{AccessToken: "a", TokenType: "mac"}, ErrUnsupportedTokenType},
		{"session for vimeo", "vimeo", &oauth2.Token{AccessToken: "a", TokenType: "viki-session"}, ErrUnsupportedTokenType},
	} {
		got, err := tokenFromOAuth2(tc.provider, tc.tok, o2Now)
		require.ErrorIs(t, err, tc.want, tc.name)
		require.Nil(t, got, tc.name)
	}
}

// TestTokenFromOAuth2Fields: the type is normalised, the scopes come from
// a string or an array (in a JSON or a form answer), the expiry from
// Expiry, else ExpiresIn, else expires_in (number or string), and the
// user object, the user id and the known extras are kept.
func TestTokenFromOAuth2Fields(t *testing.T) {
	expiry := o2Now.Add(time.Hour)
	for _, tc := range []struct {
		name     string
		provider string
		tok      *oauth2.Token
		want     *Token
	}{
		{"bare", "vimeo", &oauth2.Token{AccessToken: "a", TokenType: "bearer"},
			&Token{Provider: "vimeo", AccessToken: "a", TokenType: "Bearer"}},
		{"scope string", "vimeo", (&oauth2.Token{AccessToken: "a", Expiry: expiry}).WithExtra(map[string]any{"scope": " public  private "}),
			&Token{Provider: "vimeo", AccessToken: "a", TokenType: "Bearer", Expiry: expiry, Scopes: []string{"public", "private"}}},
		{"scope array", "simkl", (&oauth2.Token{AccessToken: "simkl_at_a", RefreshToken: "simkl_rt_r"}).WithExtra(map[string]any{"scope": []any{"media:read", "media:write"}}),
			&Token{Provider: "simkl", AccessToken: "simkl_at_a", TokenType: "Bearer", RefreshToken: "simkl_rt_r", Scopes: []string{"media:read", "media:write"},
				Meta: map[string]string{"simkl_auth": "v2"}}},
		{"scope []string", "viki", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"scope": []string{"public"}}),
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", Scopes: []string{"public"}}},
		{"ExpiresIn", "viki", &oauth2.Token{AccessToken: "a", ExpiresIn: 86400},
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", Expiry: o2Now.Add(24 * time.Hour)}},
		{"expires_in string", "viki", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"expires_in": "3600"}),
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", Expiry: expiry}},
		{"expires_in float", "viki", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"expires_in": 3600.0}),
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", Expiry: expiry}},
		{"Expiry wins", "viki", (&oauth2.Token{AccessToken: "a", Expiry: expiry, ExpiresIn: 5}).WithExtra(map[string]any{"expires_in": 7}),
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", Expiry: expiry}},
		{"absurd lifetime clamped", "simkl", &oauth2.Token{AccessToken: "a", ExpiresIn: 1 << 62},
			&Token{Provider: "simkl", AccessToken: "a", TokenType: "Bearer", Expiry: o2Now.Add(maxExpiresIn), Meta: map[string]string{"simkl_auth": "v1"}}},
		{"vimeo user and app", "vimeo", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{
			"user": map[string]any{"uri": "/users/4242", "name": "Fake User"}, "app": map[string]any{"name": "Fake App"},
			"expires_on": "1793620800", "other": "lost"}),
			&Token{Provider: "vimeo", AccessToken: "a", TokenType: "Bearer", UserID: "4242", Expiry: time.Unix(1793620800, 0),
				User:  json.RawMessage(`{"name":"Fake User","uri":"/users/4242"}`),
				Extra: map[string]json.RawMessage{"app": json.RawMessage(`{"name":"Fake App"}`), "expires_on": json.RawMessage(`"1793620800"`)}}},
		{"viki user_id", "viki", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"user_id": "1u"}),
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", UserID: "1u", Extra: map[string]json.RawMessage{"user_id": json.RawMessage(`"1u"`)}}},
		{"viki user.id", "viki", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"user": map[string]any{"id": "1u"}}),
			&Token{Provider: "viki", AccessToken: "a", TokenType: "Bearer", UserID: "1u", User: json.RawMessage(`{"id":"1u"}`)}},
		{"viki session", "viki", &oauth2.Token{AccessToken: "s", TokenType: "Viki-Session"},
			&Token{Provider: "viki", AccessToken: "s", TokenType: "viki-session", Meta: map[string]string{"viki_api": "v5"}}},
		{"user not an object", "vimeo", (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"user": "x", "scope": 7}),
			&Token{Provider: "vimeo", AccessToken: "a", TokenType: "Bearer"}},
		{"form answer", "vimeo", o2FormToken(t, "access_token=a&token_type=bearer&scope=public+private"),
			&Token{Provider: "vimeo", AccessToken: "a", TokenType: "Bearer", Scopes: []string{"public", "private"}}},
	} {
		got, err := tokenFromOAuth2(tc.provider, tc.tok, o2Now)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// TestTokenFromOAuth2SimklGeneration: the generation mark the Simkl
// provider checks is derived: V2 for a simkl_at_ token or one with a
// refresh token, V1 otherwise; a V1 token is then refused by the V2
// provider, as a stored one would be.
func TestTokenFromOAuth2SimklGeneration(t *testing.T) {
	for _, tc := range []struct {
		access, refresh string
		want            SimklGeneration
	}{
		{"simkl_at_x", "", SimklV2},
		{"plain", "simkl_rt_y", SimklV2},
		{"plain", "other", SimklV2},
		{"plain", "", SimklV1},
	} {
		got, err := tokenFromOAuth2("simkl", &oauth2.Token{AccessToken: tc.access, RefreshToken: tc.refresh}, o2Now)
		require.NoError(t, err)
		assert.Equal(t, tc.want.String(), got.Meta["simkl_auth"], tc)
		assert.Equal(t, tc.want, SimklGenerationOf(got))
	}
	v2, err := NewSimkl(App{ClientID: "c", AppName: "a", AppVersion: "1"}, SimklV2)
	require.NoError(t, err)
	v1tok, err := TokenFromOAuth2("simkl", &oauth2.Token{AccessToken: "plain"})
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, SimklAPIURL+"/users/settings", nil)
	require.ErrorIs(t, v2.Authorize(req, v1tok), ErrInvalidConfig)
}

// o2SameOAuth2 asserts that b carries a's fields and the extras named.
func o2SameOAuth2(t *testing.T, a, b *oauth2.Token, extras ...string) {
	t.Helper()
	assert.Equal(t, a.AccessToken, b.AccessToken)
	assert.Equal(t, a.Type(), b.Type())
	assert.Equal(t, a.RefreshToken, b.RefreshToken)
	assert.True(t, a.Expiry.Equal(b.Expiry), "expiry %v, then %v", a.Expiry, b.Expiry)
	for _, k := range extras {
		ja, _ := json.Marshal(a.Extra(k))
		jb, _ := json.Marshal(b.Extra(k))
		assert.JSONEq(t, string(ja), string(jb), k)
	}
}

// TestTokenOAuth2RoundTrip: Token → oauth2.Token → Token keeps the
// secrets, type, expiry, the known extras and the marks derived from the
// token (Simkl's generation, Viki's session); scopes, user and meta do not
// travel through Token.OAuth2, as documented. oauth2.Token → Token →
// oauth2.Token keeps what x/oauth2 holds, for tokens x/oauth2 itself got
// from the fakes.
func TestTokenOAuth2RoundTrip(t *testing.T) {
	parse := func(ep *endpoint, body string) *Token {
		t.Helper()
		tok, err := ep.parse("exchange", "http://127.0.0.1/t", &wire.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)})
		require.NoError(t, err)
		return tok
	}
	vimeo, err := NewVimeo(App{ClientID: "c"})
	require.NoError(t, err)
	simkl, err := NewSimkl(App{ClientID: "c", AppName: "a", AppVersion: "1"}, SimklV2)
	require.NoError(t, err)
	simkl1, err := NewSimkl(App{ClientID: "c", AppName: "a", AppVersion: "1"}, SimklV1)
	require.NoError(t, err)
	viki, err := NewViki(App{ClientID: "c", ClientSecret: "s"})
	require.NoError(t, err)
	session, err := parseVikiSession([]byte(`{"token":"sess","user":{"id":"1u"}}`))
	require.NoError(t, err)
	for name, tok := range map[string]*Token{
		"vimeo": parse(vimeo.ep, `{"access_token":"v","token_type":"bearer","scope":"public private","user":{"uri":"/users/4242"},`+
			`"app":{"name":"Fake App","uri":"/apps/1"},"expires_on":"4102444800"}`),
		"simkl v2": parse(simkl.ep, `{"access_token":"simkl_at_a","refresh_token":"simkl_rt_r","expires_in":604800,"scope":"media:read","token_type":"Bearer"}`),
		"simkl v1": parse(simkl1.ep, `{"access_token":"plain","token_type":"bearer","scope":"public","expires_in":157680000}`),
		"viki v3":  parse(viki.ep, `{"access_token":"x","expires_in":86400,"scope":"public","token_type":"bearer","user_id":"1u"}`),
		"viki v5":  session,
	} {
		back, err := TokenFromOAuth2(tok.Provider, tok.OAuth2())
		require.NoError(t, err, name)
		assert.Equal(t, tok.Provider, back.Provider, name)
		assert.Equal(t, tok.AccessToken, back.AccessToken, name)
		assert.Equal(t, tok.TokenType, back.TokenType, name)
		assert.Equal(t, tok.RefreshToken, back.RefreshToken, name)
		assert.True(t, tok.Expiry.Equal(back.Expiry), name)
		require.Len(t, back.Extra, len(tok.Extra), name)
		for k, v := range tok.Extra {
			assert.JSONEq(t, string(v), string(back.Extra[k]), name+" "+k)
		}
		assert.Equal(t, tok.Meta, back.Meta, "%s: the marks are derived again", name)
		assert.Equal(t, SimklGenerationOf(tok), SimklGenerationOf(back), name)
		if name == "viki v3" {
			assert.Equal(t, tok.UserID, back.UserID, "user_id is an extra, and travels")
		}
		again := back.OAuth2()
		o2SameOAuth2(t, tok.OAuth2(), again, "app", "expires_on", "user_id")
	}

	// What Token.OAuth2 does not carry (documented): scopes and the user.
	vt := parse(vimeo.ep, `{"access_token":"v","scope":"public","user":{"uri":"/users/4242"}}`)
	back, err := TokenFromOAuth2("vimeo", vt.OAuth2())
	require.NoError(t, err)
	assert.Empty(t, back.Scopes)
	assert.Empty(t, back.UserID)

	// x/oauth2's own tokens, from the Viki fake: client credentials and the
	// password grant (whose answer has user_id and user).
	fake := videoauthtest.NewViki()
	defer fake.Close()
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, TokenURL: fake.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}
	appTok, err := cc.Token(ctx)
	require.NoError(t, err)
	cfg := oauth2.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, Endpoint: oauth2.Endpoint{TokenURL: fake.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	userTok, err := cfg.PasswordCredentialsToken(ctx, fake.Username, fake.Password)
	require.NoError(t, err)

	v3, err := NewViki(App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	require.NoError(t, err)
	for name, o := range map[string]*oauth2.Token{"client credentials": appTok, "password": userTok} {
		tok, err := TokenFromOAuth2("viki", o)
		require.NoError(t, err, name)
		assert.Equal(t, []string{"public"}, tok.Scopes, name)
		assert.WithinDuration(t, time.Now().Add(24*time.Hour), tok.Expiry, time.Minute, name)
		o2SameOAuth2(t, o, tok.OAuth2(), "user_id")
		id, err := v3.Identify(ctx, tok)
		require.NoError(t, err, name)
		if name == "password" {
			assert.Equal(t, "1u", tok.UserID)
			assert.JSONEq(t, `{"id":"1u","username":"fan"}`, string(tok.User))
			assert.Equal(t, "1u", id.UserID, "the migrated token identifies its user")
		} else {
			assert.Empty(t, tok.UserID)
			assert.Empty(t, id.UserID)
		}
	}
}

func FuzzTokenFromOAuth2(f *testing.F) {
	for _, s := range []struct {
		provider                     uint8
		access, refresh, typ, extras string
		expiresIn                    int64
	}{
		{0, "a", "", "bearer", `{"scope":"public private","user":{"uri":"/users/1"},"expires_on":"99999999999"}`, 0},
		{1, "simkl_at_x", "simkl_rt_y", "Bearer", `{"scope":["media:read"],"expires_in":604800}`, 0},
		{2, "x", "", "viki-session", `{"user_id":7,"user":{"id":"1u"}}`, 0},
		{2, "x", "", "", `{"expires_in":"-1"}`, 0},
		{0, "x", "", "MAC", `null`, -5},
		{3, "", "", "", `[]`, 1 << 62},
	} {
		f.Add(s.provider, s.access, s.refresh, s.typ, s.extras, s.expiresIn)
	}
	providers := []string{"vimeo", "simkl", "viki", "other"}
	f.Fuzz(func(t *testing.T, p uint8, access, refresh, typ, extras string, expiresIn int64) {
		o := &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: typ, ExpiresIn: expiresIn}
		var m map[string]any
		if json.Unmarshal([]byte(extras), &m) == nil {
			o = o.WithExtra(m)
		} else if v, err := url.ParseQuery(extras); err == nil {
			o = o.WithExtra(v)
		}
		provider := providers[int(p)%len(providers)]
		tok, err := tokenFromOAuth2(provider, o, o2Now)
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidConfig) || errors.Is(err, ErrUnsupportedTokenType), "%v", err)
			require.Nil(t, tok)
			return
		}
		require.Equal(t, provider, tok.Provider)
		require.Equal(t, access, tok.AccessToken)
		require.Equal(t, refresh, tok.RefreshToken)
		require.True(t, vschar(tok.AccessToken) && vschar(tok.RefreshToken))
		require.Contains(t, []string{"Bearer", "viki-session"}, tok.TokenType)
		require.False(t, tok.Expiry.Before(o2Now) && !tok.Expiry.IsZero() && provider != "vimeo", "a lifetime counts from now")
		require.False(t, tok.Expiry.After(o2Now.Add(maxExpiresIn)), "clamped")
		for k, v := range tok.Extra {
			require.True(t, json.Valid(v), k)
		}
		if tok.User != nil {
			require.True(t, json.Valid(tok.User))
		}
		if provider == "simkl" {
			require.NotZero(t, SimklGenerationOf(tok))
		}
		// What the stored form keeps, it gives back.
		enc, err := EncodeToken(tok)
		require.NoError(t, err)
		dec, err := DecodeToken(enc)
		require.NoError(t, err)
		require.Equal(t, tok.AccessToken, dec.AccessToken)
	})
}
