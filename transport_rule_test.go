package videoauth_test

// One rule for every provider, generation and kind of token: whenever the
// service answered, the caller gets that answer with a nil error and
// CheckResponse types it; the Transport returns an error only when no
// request could be sent.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// ruleCase is one provider and kind of grant, made to be rejected.
type ruleCase struct {
	name string
	// setup returns the client, the provider, the URL to get, a func that
	// makes the service reject the token in use, a func that makes the
	// replacement fail (nil: the grant cannot be replaced at all), and a
	// counter of requests that reached the service.
	setup func(t *testing.T, clock *videoauthtest.Clock) (c *http.Client, p videoauth.Provider, u string, reject, breakRenewal func(), reached func() int)
	// dead: the token cannot be replaced without the user.
	dead bool
	// status the service answers a rejected token with.
	status int
}

func ruleCases() []ruleCase {
	return []ruleCase{
		{name: "vimeo app token (re-minted)", status: 401, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake := videoauthtest.NewVimeo()
			t.Cleanup(fake.Close)
			v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: clock})
			require.NoError(t, err)
			return videoauth.NewClient(v, v.ClientCredentials()), v, fake.URL + "/videos", fake.DeleteAllTokens,
				func() { fake.FailTokenCalls(1<<20, videoauthtest.Fail5xx) }, func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "vimeo user token", status: 401, dead: true, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake := videoauthtest.NewVimeo()
			t.Cleanup(fake.Close)
			v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: clock})
			require.NoError(t, err)
			tok := &videoauth.Token{Provider: "vimeo", AccessToken: fake.IssueUserToken("private"), TokenType: "Bearer"}
			return videoauth.NewClient(v, v.Source(tok)), v, fake.URL + "/me", fake.DeleteAllTokens, nil,
				func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "simkl v1 user token", status: 401, dead: true, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake, s := setupSimklWith(t, videoauth.SimklV1, clock)
			access, _ := fake.IssueToken(false)
			tok := &videoauth.Token{Provider: "simkl", AccessToken: access, TokenType: "Bearer", Expiry: clock.Now().Add(time.Hour),
				Meta: map[string]string{"simkl_auth": "v1"}}
			return videoauth.NewClient(s, s.Source(tok)), s, fake.APIURL + "/sync/activities", func() { fake.RevokeToken(access) }, nil,
				func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "simkl v2 refreshed", status: 401, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake, s := setupSimklWith(t, videoauth.SimklV2, clock)
			access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
			tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
				Expiry: clock.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
			// Another holder's refresh kills our access token.
			other := s.Source(tok.Clone())
			return videoauth.NewClient(s, s.Source(tok)), s, fake.APIURL + "/sync/activities",
				func() { other.Invalidate(other.Current()); _, _ = other.Token(context.Background()) },
				func() { fake.FailTokenCalls(1<<20, videoauthtest.Fail5xx) }, func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "simkl v2 refresh token revoked", status: 401, dead: true, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake, s := setupSimklWith(t, videoauth.SimklV2, clock)
			access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
			tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
				Expiry: clock.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
			return videoauth.NewClient(s, s.Source(tok)), s, fake.APIURL + "/sync/activities", func() { fake.RevokeToken(refresh) }, nil,
				func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "viki v3 app token (re-minted)", status: 403, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake, v := setupVikiWith(t, clock)
			c := videoauth.NewClient(v, v.ClientCredentials())
			// Only Viki's clock moves: our token still looks valid to us.
			skew := time.Duration(0)
			return c, v, fake.URL + "/v3/movies.json", func() { skew += 25 * time.Hour; fake.SetServerSkew(skew) },
				func() { fake.FailTokenCalls(1<<20, videoauthtest.Fail5xx) },
				func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "viki v3 user token", status: 403, dead: true, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake, v := setupVikiWith(t, clock)
			access := fake.IssueV3Token()
			tok := &videoauth.Token{Provider: "viki", AccessToken: access, TokenType: "Bearer", Expiry: clock.Now().Add(24 * time.Hour)}
			return videoauth.NewClient(v, v.Source(tok)), v, fake.URL + "/v3/movies.json", func() { fake.SetServerSkew(25 * time.Hour) }, nil,
				func() int { return fake.APICalls() + fake.TokenCalls() }
		}},
		{name: "viki v5 session (signed in again)", status: 401, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake := videoauthtest.NewViki()
			t.Cleanup(fake.Close)
			fake.SetClock(clock)
			a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL, Clock: clock}, videoauth.VikiSignQuery)
			require.NoError(t, err)
			src := a.SessionSource(func(context.Context) (videoauth.VikiCredentials, error) {
				return videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}, nil
			})
			return videoauth.NewClient(a, src), a, fake.URL + "/v5/users/1u.json", fake.ExpireSessions,
				func() { fake.FailTokenCalls(1<<20, videoauthtest.Fail5xx) }, func() int { return fake.SignedCalls() + fake.Logins() }
		}},
		{name: "viki v5 session without credentials", status: 401, dead: true, setup: func(t *testing.T, clock *videoauthtest.Clock) (*http.Client, videoauth.Provider, string, func(), func(), func() int) {
			fake := videoauthtest.NewViki()
			t.Cleanup(fake.Close)
			fake.SetClock(clock)
			a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL, Clock: clock}, videoauth.VikiSignQuery)
			require.NoError(t, err)
			tok := &videoauth.Token{Provider: "viki", AccessToken: fake.IssueSession(), TokenType: "Bearer"}
			return videoauth.NewClient(a, a.Source(tok)), a, fake.URL + "/v5/users/1u.json", fake.ExpireSessions, nil,
				func() int { return fake.SignedCalls() + fake.Logins() }
		}},
	}
}

// setupSimklWith is setupSimkl for a public app on clock.
func setupSimklWith(t *testing.T, gen videoauth.SimklGeneration, clock *videoauthtest.Clock) (*videoauthtest.Simkl, *videoauth.Simkl) {
	t.Helper()
	fake := videoauthtest.NewSimkl()
	t.Cleanup(fake.Close)
	fake.SetClock(clock)
	app := simklApp(fake, gen, true)
	app.Clock = clock
	s, err := videoauth.NewSimkl(app, gen)
	require.NoError(t, err)
	return fake, s
}

// setupVikiWith is setupViki on clock, shared by the fake.
func setupVikiWith(t *testing.T, clock *videoauthtest.Clock) (*videoauthtest.Viki, *videoauth.Viki) {
	t.Helper()
	fake := videoauthtest.NewViki()
	t.Cleanup(fake.Close)
	fake.SetClock(clock)
	v, err := videoauth.NewViki(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: clock})
	require.NoError(t, err)
	return fake, v
}

func TestOneRuleForEveryProvider(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			clock := videoauthtest.NewClock(time.Now())
			c, p, u, reject, breakRenewal, reached := tc.setup(t, clock)
			get := func() (*http.Response, error) {
				resp, err := c.Get(u)
				if err == nil {
					t.Cleanup(func() { resp.Body.Close() })
				}
				return resp, err
			}
			resp, err := get()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.NoError(t, videoauth.CheckResponse(p, resp))

			reject()
			if tc.dead {
				resp, err = get()
				require.NoError(t, err, "the service answered: its answer, not an error")
				require.Equal(t, tc.status, resp.StatusCode)
				require.ErrorIs(t, videoauth.CheckResponse(p, resp), videoauth.ErrReauthRequired)
				before := reached()
				for range 3 {
					_, err = get()
					require.ErrorIs(t, err, videoauth.ErrReauthRequired, "no request could be sent: the Transport's error")
				}
				require.Equal(t, before, reached(), "nothing reached the service")
				return
			}
			// A replaceable token: replaced and replayed.
			resp, err = get()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, "replaced and replayed")
			// Later (past the guard on a replacement rejected at once), the
			// replacement fails: the service's answer again, typed with the
			// replacement's failure.
			clock.Advance(time.Minute)
			reject()
			breakRenewal()
			resp, err = get()
			require.NoError(t, err, "the service answered: its answer, not an error")
			require.Equal(t, tc.status, resp.StatusCode)
			cerr := videoauth.CheckResponse(p, resp)
			require.ErrorIs(t, cerr, videoauth.ErrServer, "why the token was not replaced")
			require.NotErrorIs(t, cerr, videoauth.ErrReauthRequired, "the grant is not dead")
			// While the failure is remembered, nothing can be sent.
			_, err = get()
			require.ErrorIs(t, err, videoauth.ErrServer)
		})
	}
}
