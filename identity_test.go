package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/videoauthtest"
)

// idCheckErr asserts err is an Identify *Error matching sentinel, with status.
func idCheckErr(t *testing.T, err, sentinel error, status int) *Error {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "identify", e.Op)
	assert.Equal(t, status, e.Status)
	return e
}

// idNoSecret asserts that no way of printing v shows secret.
func idNoSecret(t *testing.T, v any, secrets ...string) {
	t.Helper()
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&out, verb+"\n", v)
	}
	js, _ := json.Marshal(v)
	out.Write(js)
	slog.New(slog.NewTextHandler(&out, nil)).Info("x", "id", v, "list", []any{v})
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "id", v, "list", []any{v})
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, out.String(), s)
	}
}

func idVimeo(t *testing.T, fake *videoauthtest.Vimeo) *Vimeo {
	t.Helper()
	v, err := NewVimeo(App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	require.NoError(t, err)
	return v
}

// TestIdentifyVimeo: a user token names user 4242 with the versioned
// Accept header sent; an app token gives an empty UserID, not an error; a
// token Vimeo forgot is ErrReauthRequired for a user (nothing can replace
// it) and ErrTokenExpired for an app token (client credentials mint
// another); the token is never changed.
func TestIdentifyVimeo(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	v := idVimeo(t, fake)
	ctx := context.Background()

	// As Exchange stores it: the user id of the token answer's user.
	user := &Token{Provider: "vimeo", AccessToken: fake.IssueUserToken("private"), TokenType: "Bearer", UserID: "4242"}
	before := user.Clone()
	id, err := v.Identify(ctx, user)
	require.NoError(t, err)
	assert.Equal(t, "vimeo", id.Provider)
	assert.Equal(t, "4242", id.UserID)
	assert.Equal(t, "Fake User", id.Name)
	assert.JSONEq(t, `{"uri":"/users/4242","name":"Fake User","link":"https://vimeo.com/user4242"}`, string(id.User))
	assert.Equal(t, before, user, "Identify does not change the token")
	assert.Zero(t, fake.MissingAccept(), "the versioned Accept header, as Authorize sets it")
	idNoSecret(t, id, user.AccessToken)

	app, err := v.ClientCredentials().Token(ctx)
	require.NoError(t, err)
	id, err = v.Identify(ctx, app)
	require.NoError(t, err, "an app token has no user: not an error")
	assert.Equal(t, &Identity{Provider: "vimeo"}, id)

	fake.DeleteToken(user.AccessToken)
	_, err = v.Identify(ctx, user)
	e := idCheckErr(t, err, ErrReauthRequired, http.StatusUnauthorized)
	assert.NotErrorIs(t, err, ErrTokenExpired)
	assert.NotContains(t, fmt.Sprintf("%v %#v %s", err, err, e.Body), user.AccessToken)

	fake.DeleteToken(app.AccessToken)
	_, err = v.Identify(ctx, app)
	idCheckErr(t, err, ErrTokenExpired, http.StatusUnauthorized)
	assert.NotErrorIs(t, err, ErrReauthRequired)
}

// TestIdentifyVimeoLegacy401: /oauth/verify's documented 401 is the
// legacy {"error": prose} body, maybe without a WWW-Authenticate
// challenge: still a rejected token, typed by whether it can be replaced.
func TestIdentifyVimeoLegacy401(t *testing.T) {
	srv, _ := idServer(t, http.StatusUnauthorized, "application/vnd.vimeo.error+json", `{"error":"The access token is not a valid OAuth 2 token."}`)
	v, err := NewVimeo(App{ClientID: "c", APIURL: srv.URL})
	require.NoError(t, err)
	_, err = v.Identify(context.Background(), &Token{AccessToken: "user-token", UserID: "42"})
	idCheckErr(t, err, ErrReauthRequired, http.StatusUnauthorized)
	_, err = v.Identify(context.Background(), &Token{AccessToken: "app-token"})
	idCheckErr(t, err, ErrTokenExpired, http.StatusUnauthorized)
}

func idSimkl(t *testing.T, fake *videoauthtest.Simkl, gen SimklGeneration) *Simkl {
	t.Helper()
	id, secret := fake.V2ClientID, fake.V2ClientSecret
	if gen == SimklV1 {
		id, secret = fake.ClientID, fake.ClientSecret
	}
	s, err := NewSimkl(App{ClientID: id, ClientSecret: secret, AppName: "idtest", AppVersion: "1.0", APIURL: fake.APIURL, WebURL: fake.WebURL}, gen)
	require.NoError(t, err)
	return s
}

// TestIdentifySimkl: V1 and V2 tokens name account 4242 with the
// parameters Simkl requires; a revoked V2 token with a refresh token is
// ErrTokenExpired (refresh and ask again), without one, or a V1 token,
// ErrReauthRequired; a token of the other generation is refused unsent.
func TestIdentifySimkl(t *testing.T) {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	ctx := context.Background()
	v1, v2 := idSimkl(t, fake, SimklV1), idSimkl(t, fake, SimklV2)

	access, refresh := fake.IssueToken(true, SimklScopeRead)
	tok2 := &Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Meta: map[string]string{"simkl_auth": "v2"}}
	id, err := v2.Identify(ctx, tok2)
	require.NoError(t, err)
	assert.Equal(t, "simkl", id.Provider)
	assert.Equal(t, "4242", id.UserID)
	assert.Equal(t, "Fake User", id.Name)
	assert.JSONEq(t, `{"name":"Fake User"}`, string(id.User))
	assert.Zero(t, fake.MissingParams(), "client_id, app-name and app-version on the request")
	assert.Equal(t, "Bearer "+access, fake.LastRequestHeader().Get("Authorization"))

	access1, _ := fake.IssueToken(false)
	tok1 := &Token{Provider: "simkl", AccessToken: access1, TokenType: "Bearer", Meta: map[string]string{"simkl_auth": "v1"}}
	id, err = v1.Identify(ctx, tok1)
	require.NoError(t, err)
	assert.Equal(t, "4242", id.UserID)

	calls := fake.APICalls()
	_, err = v2.Identify(ctx, tok1)
	require.ErrorIs(t, err, ErrInvalidConfig, "a V1 token to the V2 provider")
	assert.Equal(t, calls, fake.APICalls(), "nothing sent")

	fake.RevokeToken(access)
	_, err = v2.Identify(ctx, tok2)
	idCheckErr(t, err, ErrTokenExpired, http.StatusUnauthorized)

	noRefresh := &Token{Provider: "simkl", AccessToken: "simkl_at_norefresh", TokenType: "Bearer"}
	fake.RestoreToken(true, noRefresh.AccessToken, "", time.Time{}, SimklScopeRead)
	_, err = v2.Identify(ctx, noRefresh)
	require.NoError(t, err)
	fake.RevokeToken(noRefresh.AccessToken)
	_, err = v2.Identify(ctx, noRefresh)
	idCheckErr(t, err, ErrReauthRequired, http.StatusUnauthorized)

	fake.RevokeToken(access1)
	_, err = v1.Identify(ctx, tok1)
	idCheckErr(t, err, ErrReauthRequired, http.StatusUnauthorized)
}

func idViki(t *testing.T, fake *videoauthtest.Viki) (*Viki, *VikiAPI) {
	t.Helper()
	v3, err := NewViki(App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	require.NoError(t, err)
	v5, err := NewVikiAPI(App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL}, VikiSignQuery)
	require.NoError(t, err)
	return v3, v5
}

// TestIdentifyViki: a password-grant token names user 1u (from UserID, or
// from the grant's user_id when UserID is empty); a client-credentials
// token gives an Identity without a user and sends nothing; an expired
// token is ErrReauthRequired whether Viki says 403 or 401; a v5 session is
// refused.
func TestIdentifyViki(t *testing.T) {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	v3, _ := idViki(t, fake)
	ctx := context.Background()

	user, err := v3.Password(ctx, VikiCredentials{Username: fake.Username, Password: fake.Password})
	require.NoError(t, err)
	id, err := v3.Identify(ctx, user)
	require.NoError(t, err)
	assert.Equal(t, &Identity{Provider: "viki", UserID: "1u", Name: "fan", User: json.RawMessage(`{"id":"1u","username":"fan"}`)}, id)
	assert.Equal(t, user.AccessToken, fake.LastRequest().URL.Query().Get("access_token"), "the token in the query, as Authorize puts it")

	noID := user.Clone()
	noID.UserID, noID.User = "", nil
	noID.Extra = map[string]json.RawMessage{"user_id": json.RawMessage(`"1u"`)}
	id, err = v3.Identify(ctx, noID)
	require.NoError(t, err)
	assert.Equal(t, "1u", id.UserID, "the password grant's user_id")

	app := &Token{Provider: "viki", AccessToken: fake.IssueV3Token(), TokenType: "Bearer"}
	calls := fake.APICalls()
	id, err = v3.Identify(ctx, app)
	require.NoError(t, err)
	assert.Equal(t, &Identity{Provider: "viki"}, id)
	assert.Equal(t, calls, fake.APICalls(), "no v3 route names an app token's owner: nothing sent")

	for _, status := range []int{http.StatusForbidden, http.StatusUnauthorized} {
		fake.SetV3ExpiryStatus(status)
		gone := &Token{Provider: "viki", AccessToken: "expired-v3-token", TokenType: "Bearer", UserID: "1u"}
		fake.RestoreV3Token(gone.AccessToken, true, time.Now().Add(-time.Minute))
		_, err = v3.Identify(ctx, gone)
		e := idCheckErr(t, err, ErrReauthRequired, status)
		assert.NotContains(t, e.URL+err.Error(), gone.AccessToken)
	}

	_, err = v3.Identify(ctx, &Token{Provider: "viki", AccessToken: fake.IssueSession(), TokenType: "viki-session", UserID: "1u"})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

// TestIdentifyVikiAPI: a v5 session names user 1u in both signing modes,
// the echoed session kept out of the Identity and of errors; a stale
// timestamp is corrected once; an expired session is ErrReauthRequired; a
// v3 OAuth token is refused.
func TestIdentifyVikiAPI(t *testing.T) {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	ctx := context.Background()
	for _, mode := range []VikiSigning{VikiSignQuery, VikiSignHeaders} {
		v5, err := NewVikiAPI(App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL}, mode)
		require.NoError(t, err)
		session := &Token{Provider: "viki", AccessToken: fake.IssueSession(), TokenType: "viki-session"}
		id, err := v5.Identify(ctx, session)
		require.NoError(t, err)
		assert.Equal(t, &Identity{Provider: "viki", UserID: "1u", Name: "fan", User: json.RawMessage(`{"id":"1u","username":"fan"}`)}, id)
		idNoSecret(t, id, session.AccessToken)
		assert.Equal(t, session.AccessToken, fake.LastRequest().URL.Query().Get("token"), "the session in token=, as Authorize puts it")

		stale := fake.StaleTimestamps()
		fake.SetServerSkew(10 * time.Minute)
		_, err = v5.Identify(ctx, session)
		require.NoError(t, err, "the stale timestamp is corrected")
		assert.Equal(t, stale+1, fake.StaleTimestamps())
		fake.SetServerSkew(0)
		_, err = v5.Identify(ctx, session) // back in step: corrected once more
		require.NoError(t, err)
	}
	v5, err := NewVikiAPI(App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL}, VikiSignQuery)
	require.NoError(t, err)
	session := &Token{Provider: "viki", AccessToken: fake.IssueSession(), TokenType: "viki-session"}
	fake.ExpireSessions()
	_, err = v5.Identify(ctx, session)
	e := idCheckErr(t, err, ErrReauthRequired, http.StatusUnauthorized)
	assert.Equal(t, "11", e.Code)
	assert.NotContains(t, fmt.Sprintf("%v %#v %s %s", err, err, e.URL, e.Body), session.AccessToken, "the session rode in the path")

	_, err = v5.Identify(ctx, &Token{Provider: "viki", AccessToken: "v3", TokenType: "Bearer"})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

// idServer is an httptest server answering every request with status,
// content type and body; it counts the requests.
func idServer(t *testing.T, status int, ctype, body string) (*httptest.Server, *int) {
	t.Helper()
	n := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*n++
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, n
}

// idProviders builds each provider against base, with a token for it.
func idProviders(t *testing.T, base string) map[string]func() (Identifier, *Token) {
	t.Helper()
	return map[string]func() (Identifier, *Token){
		"vimeo": func() (Identifier, *Token) {
			v, err := NewVimeo(App{ClientID: "c", ClientSecret: "s", APIURL: base})
			require.NoError(t, err)
			return v, &Token{Provider: "vimeo", AccessToken: "tok-SECRET-1234", TokenType: "Bearer", UserID: "1"}
		},
		"simkl": func() (Identifier, *Token) {
			s, err := NewSimkl(App{ClientID: "c", AppName: "a", AppVersion: "1", APIURL: base, WebURL: base}, SimklV2)
			require.NoError(t, err)
			return s, &Token{Provider: "simkl", AccessToken: "simkl_at_SECRET1234", TokenType: "Bearer"}
		},
		"viki v3": func() (Identifier, *Token) {
			v, err := NewViki(App{ClientID: "c", ClientSecret: "s", APIURL: base})
			require.NoError(t, err)
			return v, &Token{Provider: "viki", AccessToken: "tok-SECRET-1234", TokenType: "Bearer", UserID: "1u"}
		},
		"viki v5": func() (Identifier, *Token) {
			v, err := NewVikiAPI(App{ClientID: "c", ClientSecret: "s", APIURL: base}, VikiSignQuery)
			require.NoError(t, err)
			return v, &Token{Provider: "viki", AccessToken: "tok-SECRET-1234", TokenType: "viki-session"}
		},
	}
}

// TestIdentifyBadAnswer: a 2xx answer that is not the documented shape
// (HTML, not JSON, JSON of the wrong shape, over 1 MiB) is an *Error
// matching ErrBadResponse, for every provider, with the token taken out
// of the body it keeps; other statuses are typed as CheckResponse types
// them.
func TestIdentifyBadAnswer(t *testing.T) {
	ctx := context.Background()
	huge := `{"user":{"name":"` + strings.Repeat("a", maxIdentityBody) + `"}}`
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		want              error
	}{
		{"html", "text/html", "<html>tok-SECRET-1234 simkl_at_SECRET1234</html>", 200, ErrBadResponse},
		{"not json", "application/json", "tok-SECRET-1234 simkl_at_SECRET1234", 200, ErrBadResponse},
		{"empty", "application/json", "", 200, ErrBadResponse},
		{"null", "application/json", "null", 200, ErrBadResponse},
		{"array", "application/json", `[{"id":"1u"}]`, 200, ErrBadResponse},
		{"user is a string", "application/json", `{"user":"tok-SECRET-1234","token":"tok-SECRET-1234","account":"x","id":[]}`, 200, ErrBadResponse},
		{"wrong types", "application/json", `{"user":{"uri":7,"name":["x"],"id":{}},"account":{"id":"x"},"id":{},"username":1}`, 200, ErrBadResponse},
		{"too large", "application/json", huge, 200, ErrBadResponse},
		{"rate limited", "application/json", `{"error":"rate_limit"}`, 429, ErrRateLimited},
		{"server error", "text/html", "<html>oops</html>", 503, ErrServer},
		{"forbidden", "application/json", `{"error":"forbidden","message":"no"}`, 403, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := idServer(t, tc.status, tc.ctype, tc.body)
			for name, mk := range idProviders(t, srv.URL) {
				p, tok := mk()
				before := tok.Clone()
				id, err := p.Identify(ctx, tok)
				require.Nil(t, id, name)
				e := idCheckErr(t, err, tc.want, tc.status)
				if tc.want == ErrBadResponse {
					assert.NotErrorIs(t, err, ErrReauthRequired, name)
				}
				assert.NotContains(t, string(e.Body)+e.Description+fmt.Sprintf("%v %#v", err, err), tok.AccessToken, name)
				assert.Equal(t, before, tok, name)
			}
			assert.Equal(t, 4, *n, "one request per provider, none retried")
		})
	}
}

// TestIdentifyHostileUserObject: a user object that carries the token, or
// a member named like a credential, is not kept; the id and name still
// are.
func TestIdentifyHostileUserObject(t *testing.T) {
	ctx := context.Background()
	for _, user := range []string{
		`{"uri":"/users/7","name":"Eve","echo":"tok-SECRET-1234"}`,
		`{"uri":"/users/7","name":"Eve","access_token":"other"}`,
	} {
		srv, _ := idServer(t, 200, "application/json", `{"access_token":"tok-SECRET-1234","user":`+user+`}`)
		p, tok := idProviders(t, srv.URL)["vimeo"]()
		id, err := p.Identify(ctx, tok)
		require.NoError(t, err)
		assert.Equal(t, &Identity{Provider: "vimeo", UserID: "7", Name: "Eve"}, id, user)
		idNoSecret(t, id, "tok-SECRET-1234")
	}
}

// idFailingTransport fails every request with an error naming its URL
// and headers, as a careless logging RoundTripper might.
type idFailingTransport struct{}

func (idFailingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("cannot reach %s with %v", r.URL, r.Header)
}

// TestIdentifyTransportErrorRedacted: a failure before any answer is an
// *Error without a status, whose text holds no token, even when the
// App's transport put the URL (Viki: token in the query or path) and the
// headers (Authorization) in its error.
func TestIdentifyTransportErrorRedacted(t *testing.T) {
	hc := &http.Client{Transport: idFailingTransport{}}
	const secret = "tok-SECRET-1234"
	for _, tc := range []struct {
		name string
		p    func() (Identifier, error)
		tok  *Token
	}{
		{"vimeo", func() (Identifier, error) {
			return NewVimeo(App{ClientID: "c", HTTPClient: hc})
		}, &Token{AccessToken: secret, UserID: "1"}},
		{"simkl", func() (Identifier, error) {
			return NewSimkl(App{ClientID: "c", AppName: "a", AppVersion: "1", HTTPClient: hc}, SimklV1)
		}, &Token{AccessToken: secret}},
		{"viki v3", func() (Identifier, error) {
			return NewViki(App{ClientID: "c", ClientSecret: "s", HTTPClient: hc})
		}, &Token{AccessToken: secret, UserID: "1u"}},
		{"viki v5", func() (Identifier, error) {
			return NewVikiAPI(App{ClientID: "c", ClientSecret: "s", HTTPClient: hc}, VikiSignQuery)
		}, &Token{AccessToken: secret, TokenType: "viki-session"}},
	} {
		p, err := tc.p()
		require.NoError(t, err)
		_, err = p.Identify(context.Background(), tc.tok)
		var e *Error
		require.ErrorAs(t, err, &e, tc.name)
		assert.Zero(t, e.Status)
		assert.Equal(t, "identify", e.Op)
		assert.NotContains(t, fmt.Sprintf("%v %#v %s", err, err, e.URL), secret, tc.name)
	}
}

// TestIdentifyRefusesWrongToken: nil, empty and other services' tokens
// are ErrInvalidConfig, and nothing is sent.
func TestIdentifyRefusesWrongToken(t *testing.T) {
	srv, n := idServer(t, 200, "application/json", `{}`)
	for name, mk := range idProviders(t, srv.URL) {
		p, _ := mk()
		for _, tok := range []*Token{nil, {}, {Provider: "youtube", AccessToken: "x", UserID: "1"}} {
			_, err := p.Identify(context.Background(), tok)
			require.ErrorIs(t, err, ErrInvalidConfig, name)
		}
	}
	_, err := (&Vimeo{}).Identify(context.Background(), &Token{Provider: "simkl", AccessToken: "x"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Zero(t, *n)
}

// TestIdentityPrinting: the description shows provider, user and name,
// quoted; slog gets the same fields.
func TestIdentityPrinting(t *testing.T) {
	id := Identity{Provider: "vimeo", UserID: "42", Name: "Ann\x1b[2J", User: json.RawMessage(`{"x":1}`)}
	assert.Equal(t, `videoauth.Identity{provider=vimeo user="42" name="Ann\x1b[2J"}`, id.String())
	assert.Equal(t, id.String(), fmt.Sprintf("%v", &id))
	assert.Equal(t, "videoauth.Identity{provider=viki user=none}", Identity{Provider: "viki"}.String())
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("who", "id", id)
	assert.Contains(t, buf.String(), `id.provider=vimeo id.user=42 id.name="Ann\x1b[2J"`)
}

// TestIdentityParsers: each service's answer, the documented shape and
// its near misses.
func TestIdentityParsers(t *testing.T) {
	bad := (*Identity)(nil)
	for _, tc := range []struct {
		name  string
		parse func([]byte) (*Identity, error)
		body  string
		want  *Identity
	}{
		{"vimeo user", parseVimeoIdentity, `{"access_token":"SECRET","user":{"uri":"/users/42","name":"Ann"}}`,
			&Identity{Provider: "vimeo", UserID: "42", Name: "Ann", User: json.RawMessage(`{"uri":"/users/42","name":"Ann"}`)}},
		{"vimeo user sub-resource", parseVimeoIdentity, `{"user":{"uri":"/users/42/x"}}`, &Identity{Provider: "vimeo", UserID: "42", User: json.RawMessage(`{"uri":"/users/42/x"}`)}},
		{"vimeo channel", parseVimeoIdentity, `{"user":{"uri":"/channels/7","name":"Ann"}}`, &Identity{Provider: "vimeo", Name: "Ann", User: json.RawMessage(`{"uri":"/channels/7","name":"Ann"}`)}},
		{"vimeo app token", parseVimeoIdentity, `{"access_token":"SECRET","scope":"public","user":null}`, &Identity{Provider: "vimeo"}},
		{"vimeo user a string", parseVimeoIdentity, `{"user":"42"}`, bad},
		{"vimeo name a number", parseVimeoIdentity, `{"user":{"name":7}}`, bad},
		{"simkl", parseSimklIdentity, `{"user":{"name":"Bo"},"account":{"id":4242}}`, &Identity{Provider: "simkl", UserID: "4242", Name: "Bo", User: json.RawMessage(`{"name":"Bo"}`)}},
		{"simkl without user", parseSimklIdentity, `{"account":{"id":1}}`, &Identity{Provider: "simkl", UserID: "1"}},
		{"simkl id a string", parseSimklIdentity, `{"user":{"name":"Bo"},"account":{"id":"x"}}`, bad},
		{"simkl id numeric string", parseSimklIdentity, `{"account":{"id":"4242"}}`, bad},
		{"simkl id a float", parseSimklIdentity, `{"account":{"id":1e400}}`, bad},
		{"simkl id negative", parseSimklIdentity, `{"account":{"id":-1}}`, bad},
		{"simkl no account", parseSimklIdentity, `{"user":{"name":"Bo"}}`, bad},
		{"viki v3", parseVikiV3Identity, `{"id":"1u","username":"fan"}`, &Identity{Provider: "viki", UserID: "1u", Name: "fan", User: json.RawMessage(`{"id":"1u","username":"fan"}`)}},
		{"viki v3 numeric id", parseVikiV3Identity, `{"id":7}`, &Identity{Provider: "viki", UserID: "7", User: json.RawMessage(`{"id":7}`)}},
		{"viki v3 with a token member", parseVikiV3Identity, `{"id":"1u","token":"SECRET"}`, &Identity{Provider: "viki", UserID: "1u"}},
		{"viki v3 list", parseVikiV3Identity, `[{"id":"101m"}]`, bad},
		{"viki v3 no id", parseVikiV3Identity, `{"username":"fan"}`, bad},
		{"viki session", parseVikiSessionIdentity, `{"token":"SECRET","user":{"id":"1u","username":"fan"}}`,
			&Identity{Provider: "viki", UserID: "1u", Name: "fan", User: json.RawMessage(`{"id":"1u","username":"fan"}`)}},
		{"viki session without user", parseVikiSessionIdentity, `{"token":"SECRET"}`, bad},
	} {
		got, err := tc.parse([]byte(tc.body))
		if tc.want == nil {
			require.ErrorIs(t, err, ErrBadResponse, tc.name)
			require.Nil(t, got, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// idFuzzCheck holds for every parser's answer: a typed error, or an
// Identity of the provider whose user object is a JSON object without a
// member named like a credential.
func idFuzzCheck(t *testing.T, provider string, id *Identity, err error) {
	if err != nil {
		require.ErrorIs(t, err, ErrBadResponse)
		require.Nil(t, id)
		return
	}
	require.Equal(t, provider, id.Provider)
	if id.User != nil {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(id.User, &m), "the user object is an object")
		require.NotNil(t, m)
		for k := range m {
			require.False(t, sensitiveParams[strings.ToLower(k)], "member %q kept", k)
		}
	}
}

func idFuzzSeeds(f *testing.F, extra ...string) {
	for _, s := range append([]string{
		`{"access_token":"SECRET","user":{"uri":"/users/42","name":"Ann"}}`, `{"access_token":"SECRET","scope":"public"}`,
		`{"user":{"name":"Bo"},"account":{"id":4242}}`, `{"id":"1u","username":"fan"}`, `{"token":"SECRET","user":{"id":"1u","username":"fan"}}`,
		`{"user":{"token":"SECRET","id":1}}`, `{"user":null}`, `null`, `[]`, `"x"`, `{"account":{"id":1e400}}`, `{"user":{"uri":"/users/"}}`,
		``, `{`, "\xff", `{"user":{"name":"\u001b[2J\u202e"}}`,
	}, extra...) {
		f.Add([]byte(s))
	}
}

func FuzzParseVimeoIdentity(f *testing.F) {
	idFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseVimeoIdentity(body)
		idFuzzCheck(t, "vimeo", id, err)
		if err == nil {
			require.NotContains(t, id.UserID, "/")
		}
	})
}

func FuzzParseSimklIdentity(f *testing.F) {
	idFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseSimklIdentity(body)
		idFuzzCheck(t, "simkl", id, err)
		if err == nil {
			require.True(t, digits(id.UserID), "account.id %q", id.UserID)
		}
	})
}

func FuzzParseVikiV3Identity(f *testing.F) {
	idFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseVikiV3Identity(body)
		idFuzzCheck(t, "viki", id, err)
		if err == nil {
			require.NotEmpty(t, id.UserID)
		}
	})
}

func FuzzParseVikiSessionIdentity(f *testing.F) {
	idFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseVikiSessionIdentity(body)
		idFuzzCheck(t, "viki", id, err)
		if err == nil {
			require.NotEmpty(t, id.UserID)
			var s struct {
				User json.RawMessage `json:"user"`
			}
			require.NoError(t, json.Unmarshal(body, &s))
			if id.User != nil {
				require.Equal(t, string(s.User), string(id.User), "only the user member is kept, never the echoed session")
			}
		}
	})
}
