package videoauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// traktApp returns the App of fake's application: public (no secret)
// unless confidential.
func traktApp(fake *videoauthtest.Trakt, confidential bool) videoauth.App {
	a := videoauth.App{ClientID: fake.ClientID, AppName: "videoauth-test", AppVersion: "0.1",
		APIURL: fake.APIURL, WebURL: fake.AuthURL, RedirectURL: fake.RedirectURI}
	if confidential {
		a.ClientSecret = fake.ClientSecret
	}
	return a
}

// traktClean fails t at its end if fake saw a malformed request or a
// refresh token used twice.
func traktClean(t *testing.T, fake *videoauthtest.Trakt) {
	t.Helper()
	t.Cleanup(func() {
		require.Zero(t, fake.Malformed(), "malformed requests: %v", fake.MalformedReasons())
		require.Zero(t, fake.OAuthOnAPIHost(), "an OAuth call went to the API host")
	})
}

// setupTrakt starts a fake sharing a manual clock with a public provider.
func setupTrakt(t *testing.T) (*videoauthtest.Trakt, *videoauth.Trakt, *videoauthtest.Clock) {
	t.Helper()
	return setupTraktWith(t, func(*videoauth.App) {})
}

func setupTraktWith(t *testing.T, edit func(*videoauth.App)) (*videoauthtest.Trakt, *videoauth.Trakt, *videoauthtest.Clock) {
	t.Helper()
	fake := videoauthtest.NewTrakt()
	t.Cleanup(fake.Close)
	traktClean(t, fake)
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	fake.SetClock(clock)
	app := traktApp(fake, false)
	app.Clock = clock
	edit(&app)
	p, err := videoauth.NewTrakt(app)
	require.NoError(t, err)
	return fake, p, clock
}

// traktSignIn runs the code flow: consent (the fake approves at once) and
// the exchange.
func traktSignIn(t *testing.T, p *videoauth.Trakt) *videoauth.Token {
	t.Helper()
	ar, err := p.AuthRequest("")
	require.NoError(t, err)
	tok, err := p.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.NoError(t, err)
	return tok
}

// traktGet is a GET of the fake's API; the body is closed at the test's
// end, left unread so that CheckResponse sees what the Transport marked.
func traktGet(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// --- hosts ---

// Issue item "Hosts": every OAuth call goes to auth.trakt.tv, the API to
// api.trakt.tv. With the service's real URLs (no override), the fake
// answers in process by host name, and counts an OAuth call on the API
// host as malformed.
func TestTraktHostsAreAuthForOAuthAndAPIForTheAPI(t *testing.T) {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	traktClean(t, fake)
	clock := videoauthtest.NewClock(time.Now())
	fake.SetClock(clock)
	var hosts sync.Map // path -> host
	seen := func(r *http.Request) { hosts.Store(r.Method+" "+r.URL.Path, r.URL.Host) }
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) { seen(r); return fake.Respond(r) })
	p, err := videoauth.NewTrakt(videoauth.App{ClientID: fake.ClientID, UserAgent: "videoauth-test/0.1", RedirectURL: fake.RedirectURI,
		HTTPClient: &http.Client{Transport: rt}, Clock: clock})
	require.NoError(t, err)
	fake.SetVerificationURL("https://auth.trakt.tv/activate") // the fake's own page is on its socket's host

	cfg := p.Config()
	require.Equal(t, "https://auth.trakt.tv/oauth/authorize", cfg.Endpoint.AuthURL)
	require.Equal(t, "https://auth.trakt.tv/oauth/token", cfg.Endpoint.TokenURL)
	require.Equal(t, "https://auth.trakt.tv/oauth/device/code", cfg.Endpoint.DeviceAuthURL)

	ar, err := p.AuthRequest("")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ar.URL, "https://auth.trakt.tv/oauth/authorize?"), ar.URL)
	req, _ := http.NewRequest(http.MethodGet, ar.URL, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (browser)")
	resp, err := fake.Respond(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	tok, err := p.Exchange(context.Background(), ar, loc.Query())
	require.NoError(t, err)

	src := p.Source(tok)
	c := videoauth.NewClient(p, src)
	require.Equal(t, 200, traktGet(t, c, "https://api.trakt.tv/users/settings").StatusCode)
	clock.Advance(8 * 24 * time.Hour)
	require.Equal(t, 200, traktGet(t, c, "https://api.trakt.tv/sync/last_activities").StatusCode, "refreshed, then sent")
	dc, err := p.Device(context.Background())
	require.NoError(t, err)
	require.True(t, fake.ApproveCode(dc.UserCode))
	clock.SetAutoAdvance(true)
	_, err = dc.Wait(context.Background())
	require.NoError(t, err)
	require.NoError(t, src.Revoke(context.Background()))
	_, err = p.Identify(context.Background(), tok)
	require.Error(t, err, "the grant is revoked")

	for path, host := range map[string]string{
		"POST /oauth/token": "auth.trakt.tv", "POST /oauth/device/code": "auth.trakt.tv", "POST /oauth/device/token": "auth.trakt.tv",
		"POST /oauth/revoke": "auth.trakt.tv", "GET /users/settings": "api.trakt.tv", "GET /sync/last_activities": "api.trakt.tv",
	} {
		got, ok := hosts.Load(path)
		require.True(t, ok, "%s was sent", path)
		require.Equal(t, host, got, path)
	}
	require.Equal(t, 1, fake.Refreshes())
	require.Equal(t, 1, fake.Revocations())
}

func TestTraktRefusesTheWrongHosts(t *testing.T) {
	base := videoauth.App{ClientID: "id", UserAgent: "app/1"}
	for _, tc := range []struct{ name, api, web string }{
		{"apiz for the API", "https://apiz.trakt.tv", ""},
		{"the API host for OAuth", "", "https://api.trakt.tv"},
		{"apiz for OAuth", "", "https://APIZ.trakt.tv"},
		{"the old web host for OAuth", "", "https://trakt.tv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			a.APIURL, a.WebURL = tc.api, tc.web
			_, err := videoauth.NewTrakt(a)
			require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		})
	}
	_, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", UserAgent: "app/1", APIURL: "http://api.trakt.tv"})
	require.ErrorIs(t, err, videoauth.ErrInsecureEndpoint, "plain http")
	p, err := videoauth.NewTrakt(base)
	require.NoError(t, err)
	for u, owned := range map[string]bool{
		"https://api.trakt.tv/users/settings": true, "https://API.trakt.tv:443/x": true,
		"https://apiz.trakt.tv/users/settings": false, "https://auth.trakt.tv/oauth/token": false,
		"http://api.trakt.tv/x": false, "https://api.trakt.tv.evil.example/x": false,
	} {
		pu, _ := url.Parse(u)
		require.Equal(t, owned, p.Owns(pu), u)
	}
}

// --- headers ---

// Issue item "Every request carries trakt-api-key, trakt-api-version: 2,
// Content-Type: application/json and a real User-Agent": every request of
// a whole session, OAuth and API, as the fake received it.
func TestTraktEveryRequestCarriesTheRequiredHeaders(t *testing.T) {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	traktClean(t, fake)
	clock := videoauthtest.NewClock(time.Now())
	fake.SetClock(clock)
	var mu sync.Mutex
	var sent []http.Header
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, r.Header.Clone())
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	app := traktApp(fake, true)
	app.HTTPClient, app.Clock = &http.Client{Transport: rt}, clock
	p, err := videoauth.NewTrakt(app)
	require.NoError(t, err)
	tok := traktSignIn(t, p)
	src := p.Source(tok)
	c := videoauth.NewClient(p, src)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)
	req, _ := http.NewRequest(http.MethodPost, fake.APIURL+"/sync/history", strings.NewReader(`{"movies":[]}`))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(`{"movies":[]}`)), nil }
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	clock.Advance(8 * 24 * time.Hour)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/sync/last_activities").StatusCode)
	_, err = p.Identify(context.Background(), src.Current())
	require.NoError(t, err)
	dc, err := p.Device(context.Background())
	require.NoError(t, err)
	fake.ApproveCode(dc.UserCode)
	clock.SetAutoAdvance(true)
	_, err = dc.Wait(context.Background())
	require.NoError(t, err)
	require.NoError(t, src.Revoke(context.Background()))

	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(sent), 9, "exchange, 3 API calls, refresh, identify, device code and poll, revoke")
	for i, h := range sent {
		require.Equal(t, []string{fake.ClientID}, h["Trakt-Api-Key"], "request %d", i)
		require.Equal(t, []string{"2"}, h["Trakt-Api-Version"], "request %d", i)
		require.Equal(t, []string{"application/json"}, h["Content-Type"], "request %d", i)
		require.Equal(t, []string{"videoauth-test/0.1"}, h["User-Agent"], "request %d", i)
	}
}

func TestTraktNeedsARealUserAgent(t *testing.T) {
	for _, a := range []videoauth.App{
		{ClientID: "id"},
		{ClientID: "id", UserAgent: "Go-http-client/1.1"},
		{ClientID: "id", UserAgent: "app\n/1"},
		{UserAgent: "app/1"},
	} {
		_, err := videoauth.NewTrakt(a)
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "%v", a)
	}
	p, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", AppName: "my-app"})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "https://api.trakt.tv/users/settings", nil)
	require.NoError(t, p.Authorize(r, &videoauth.Token{AccessToken: "a"}))
	require.Equal(t, "my-app", r.Header.Get("User-Agent"), "AppName alone, without a dangling slash")
}

// Issue item "without [a User-Agent], Cloudflare answers a 403 HTML page;
// type that answer as its own error, not as an auth failure".
func TestTraktEdgeBlockIsItsOwnErrorNotAnAuthFailure(t *testing.T) {
	t.Run("an API call", func(t *testing.T) {
		fake, p, _ := setupTrakt(t)
		src := p.Source(traktSignIn(t, p))
		c := videoauth.NewClient(p, src)
		fake.FailAPICalls(1, videoauthtest.TraktBlocked)
		resp := traktGet(t, c, fake.APIURL+"/users/settings")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		err := videoauth.CheckResponse(p, resp)
		require.ErrorIs(t, err, videoauth.ErrBlocked)
		for _, auth := range []error{videoauth.ErrReauthRequired, videoauth.ErrTokenExpired, videoauth.ErrForbidden, videoauth.ErrInvalidClient} {
			require.NotErrorIs(t, err, auth)
		}
		require.Equal(t, 1, fake.APICalls(), "not retried")
		require.Zero(t, fake.Refreshes(), "the token was not renewed")
		require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode, "the token is still good")
	})
	t.Run("a refresh", func(t *testing.T) {
		fake, p, clock := setupTrakt(t)
		src := p.Source(traktSignIn(t, p))
		clock.Advance(8 * 24 * time.Hour)
		fake.BlockAuthCalls(1)
		_, err := src.Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrBlocked)
		require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
		clock.Advance(time.Minute) // past the Source's retry interval
		tok, err := src.Token(context.Background())
		require.NoError(t, err, "the grant was not given up")
		require.NotEmpty(t, tok.AccessToken)
		require.Equal(t, 1, fake.Blocked())
	})
	t.Run("a client without a User-Agent", func(t *testing.T) {
		fake := videoauthtest.NewTrakt() // no traktClean: this request is malformed on purpose
		defer fake.Close()
		p, err := videoauth.NewTrakt(traktApp(fake, false))
		require.NoError(t, err)
		access, _ := fake.IssueToken()
		req, _ := http.NewRequest(http.MethodGet, fake.APIURL+"/users/settings", nil)
		require.NoError(t, p.Authorize(req, &videoauth.Token{Provider: "trakt", AccessToken: access}))
		req.Header.Set("User-Agent", "") // sent as none
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		err = videoauth.CheckResponse(p, resp)
		require.ErrorIs(t, err, videoauth.ErrBlocked)
		require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Equal(t, 1, fake.Blocked())
		require.Equal(t, []string{"GET /users/settings: no real User-Agent"}, fake.MalformedReasons())
	})
}

// --- authorization code ---

// Issue item "Authorization code with PKCE S256 always; redirect_uri
// byte-identical; the client secret only where configured".
func TestTraktCodeFlowPKCERedirectAndSecret(t *testing.T) {
	for _, confidential := range []bool{false, true} {
		t.Run(fmt.Sprintf("confidential=%v", confidential), func(t *testing.T) {
			fake, p, _ := setupTraktWith(t, func(a *videoauth.App) {
				if confidential {
					a.ClientSecret = "trakt-fake-client-secret"
				}
			})
			ar, err := p.AuthRequest("")
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(ar.URL, fake.AuthURL+"/oauth/authorize?"))
			loc := follow(t, ar.URL)
			q := fake.LastAuthorizeQuery()
			require.Equal(t, "code", q.Get("response_type"))
			require.Equal(t, "S256", q.Get("code_challenge_method"))
			require.NotEmpty(t, q.Get("code_challenge"))
			require.Equal(t, ar.State, q.Get("state"))
			require.Equal(t, fake.RedirectURI, q.Get("redirect_uri"))
			require.False(t, q.Has("scope"), "Trakt's default scope applies")
			require.False(t, q.Has("client_secret"))

			tok, err := p.Exchange(context.Background(), ar, loc.Query())
			require.NoError(t, err)
			body := fake.LastTokenForm()
			want := url.Values{"code": {loc.Query().Get("code")}, "client_id": {fake.ClientID}, "redirect_uri": {ar.RedirectURL},
				"grant_type": {"authorization_code"}, "code_verifier": {ar.Verifier}}
			if confidential {
				want.Set("client_secret", fake.ClientSecret)
			}
			require.Equal(t, want, body, "exactly Trakt's JSON body; the secret only when configured")
			require.Equal(t, "trakt", tok.Provider)
			require.Equal(t, "Bearer", tok.TokenType)
			require.NotEmpty(t, tok.RefreshToken)
			require.Equal(t, []string{"public", "offline_access"}, tok.Scopes)
			require.Equal(t, 1, fake.Exchanges())

			_, err = p.Exchange(context.Background(), ar, loc.Query())
			require.ErrorIs(t, err, videoauth.ErrStateUsed, "a callback is used once")
			require.Equal(t, 1, fake.Exchanges(), "never retried")
		})
	}
}

// Without PKCE Trakt's new stack injects a challenge of its own, and the
// code can never be redeemed: a hand-made authorize URL shows why
// AuthRequest always sends one.
func TestTraktCodeWithoutPKCECannotBeRedeemed(t *testing.T) {
	fake := videoauthtest.NewTrakt() // no traktClean: these requests are malformed on purpose
	defer fake.Close()
	p, err := videoauth.NewTrakt(traktApp(fake, false))
	require.NoError(t, err)
	ar, err := p.AuthRequest("")
	require.NoError(t, err)
	u, _ := url.Parse(ar.URL)
	q := u.Query()
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	u.RawQuery = q.Encode()
	loc := follow(t, u.String())
	require.NotEmpty(t, loc.Query().Get("code"), "Trakt hands out a code…")
	_, err = p.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrCodeUsed, "…that no verifier redeems")
	require.Equal(t, []string{"GET /oauth/authorize: no PKCE code_challenge"}, fake.MalformedReasons())

	q.Set("scope", "public")
	u.RawQuery = q.Encode()
	loc = follow(t, u.String())
	require.Equal(t, "invalid_request", loc.Query().Get("error"), "with a scope, Trakt refuses outright")
	require.Equal(t, 2, fake.Malformed())
}

func TestTraktRedirectURIMustBeIdentical(t *testing.T) {
	fake, p, _ := setupTrakt(t)
	ar, err := p.AuthRequest("")
	require.NoError(t, err)
	loc := follow(t, ar.URL)
	ar.RedirectURL = strings.Replace(fake.RedirectURI, "callback", "Callback", 1) // case differs
	_, err = p.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrRedirectMismatch)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "invalid_request", e.Code)
	require.Equal(t, 1, fake.Exchanges(), "one attempt")
}

func TestTraktDeniedConsentAndWrongState(t *testing.T) {
	fake, p, _ := setupTrakt(t)
	ar, err := p.AuthRequest("")
	require.NoError(t, err)
	fake.DenyConsent(true)
	loc := follow(t, ar.URL)
	forged := url.Values{"code": {"x"}, "state": {"not-ours"}}
	_, err = p.Exchange(context.Background(), ar, forged)
	require.ErrorIs(t, err, videoauth.ErrStateMismatch, "a wrong state consumes nothing")
	_, err = p.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	require.Zero(t, fake.Exchanges())
	_, err = p.Exchange(context.Background(), &videoauth.AuthRequest{Provider: "simkl", State: "s", RedirectURL: "r", Verifier: "v"}, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrStateMismatch, "another provider's request")
}

func TestTraktScopesWithoutOfflineAccessAreReported(t *testing.T) {
	var logs bytes.Buffer
	fake, p, _ := setupTraktWith(t, func(a *videoauth.App) {
		a.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ar, err := p.AuthRequest("", videoauth.TraktScopePublic)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "offline_access")
	tok, err := p.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.NoError(t, err)
	require.Empty(t, tok.RefreshToken, "no offline_access, no refresh token")
	require.Contains(t, logs.String(), "no refresh token")
	require.Equal(t, "public", fake.LastAuthorizeQuery().Get("scope"))

	// Such a token is used until it expires, then the user signs in again.
	src := p.Source(tok)
	got, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Same(t, tok, got)
	src.Invalidate(tok)
	_, err = src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Zero(t, fake.Refreshes(), "nothing to refresh with: nothing sent")
}

// --- tokens ---

// Issue item "Lifetime from expires_in + created_at".
func TestTraktLifetimeFromCreatedAt(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	for _, tc := range []struct {
		name    string
		created int64
		want    time.Time
	}{
		{"issued now", now.Unix(), now.Add(604800 * time.Second)},
		{"issued a minute ago (a slow answer)", now.Unix() - 60, now.Add(604800*time.Second - time.Minute)},
		{"server clock a minute ahead", now.Unix() + 60, now.Add(604800*time.Second + time.Minute)},
		{"server clock a day ahead: ours", now.Unix() + 86400, now.Add(604800 * time.Second)},
		{"created_at so old the token is dead: ours", now.Unix() - 8*86400, now.Add(604800 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"access_token":"at","token_type":"bearer","expires_in":604800,"refresh_token":"rt2","scope":"public offline_access","created_at":%d}`, tc.created)
			}))
			defer srv.Close()
			p, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", UserAgent: "t/1", WebURL: srv.URL, APIURL: srv.URL, Clock: fixedTime(now)})
			require.NoError(t, err)
			src := p.Source(&videoauth.Token{Provider: "trakt", AccessToken: "old", RefreshToken: "rt", Expiry: now.Add(-time.Hour)})
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.want.UTC(), tok.Expiry.UTC())
		})
	}
}

// fixedTime is a videoauth.Clock that reads t.
type fixedTime time.Time

func (f fixedTime) Now() time.Time { return time.Time(f) }
func (f fixedTime) After(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time(f).Add(d)
	return c
}

// Issue item "Refresh tokens are single-use and rotated on every refresh,
// the new pair saved before it is used".
func TestTraktRefreshRotatesAndPersistsBeforeUse(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	tok := traktSignIn(t, p)
	store := &videoauth.MemoryStore{}
	require.NoError(t, store.Save(context.Background(), "user", tok))
	src := p.Source(nil)
	src.Store, src.Key = store, "user"
	var onToken, early atomic.Int32
	src.OnToken = func(nt *videoauth.Token) {
		onToken.Add(1)
		if src.Current().AccessToken == nt.AccessToken {
			early.Add(1) // the Source handed the new pair out before OnToken
		}
	}
	// Every API request must carry the token the store holds at that
	// moment: the pair is saved before it is used.
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		stored, err := store.Load(r.Context(), "user")
		if err != nil || "Bearer "+stored.AccessToken != r.Header.Get("Authorization") {
			return nil, errors.New("a request carried a token that is not the stored one")
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c := &http.Client{Transport: &videoauth.Transport{Provider: p, Source: src, Base: base}}
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)

	clock.Advance(7*24*time.Hour + time.Minute)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)
	require.Equal(t, 1, fake.Refreshes())
	cur := src.Current()
	require.NotEqual(t, tok.AccessToken, cur.AccessToken)
	require.NotEqual(t, tok.RefreshToken, cur.RefreshToken, "rotated")
	require.Equal(t, url.Values{"refresh_token": {tok.RefreshToken}, "client_id": {fake.ClientID}, "grant_type": {"refresh_token"},
		"redirect_uri": {fake.RedirectURI}}, fake.LastTokenForm(), "Trakt's JSON refresh body, with the grant's redirect_uri")
	require.EqualValues(t, 1, onToken.Load())
	require.Zero(t, early.Load(), "OnToken ran before the Source handed the new pair out")
	stored, err := store.Load(context.Background(), "user")
	require.NoError(t, err)
	require.Equal(t, cur.AccessToken, stored.AccessToken)
	require.Equal(t, cur.RefreshToken, stored.RefreshToken)
	require.Equal(t, []string{"public", "offline_access"}, cur.Scopes)

	// The used refresh token is dead at Trakt: a Source that still held it
	// (a bug this package must not have) would end the grant.
	require.Zero(t, fake.RefreshReuses())
	require.Zero(t, fake.KilledTokenUses(), "no request carried the access token the refresh killed")
}

// Issue item "Tokens issued before the migration answer 400 invalid_grant
// "session not found": ErrReauthRequired, with a message saying the user
// must authorize once more after Trakt's migration".
func TestTraktPreMigrationRefreshTokenAsksForOneMoreSignIn(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	access, refresh := fake.IssueLegacyToken()
	var revoked atomic.Int32
	src := p.Source(&videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: clock.Now().Add(time.Hour)})
	src.OnRevoked = func(*videoauth.Token) { revoked.Add(1) }
	c := videoauth.NewClient(p, src)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode, "its access token still works")

	clock.Advance(2 * time.Hour)
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Contains(t, err.Error(), "migration")
	require.Contains(t, err.Error(), "authorize the app once more")
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 400, e.Status)
	require.Equal(t, "invalid_grant", e.Code)
	require.Equal(t, 1, fake.MigratedRefreshes())
	require.EqualValues(t, 1, revoked.Load())

	_, err = c.Get(fake.APIURL + "/users/settings")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired, "then nothing is sent")
	require.Equal(t, 1, fake.Refreshes(), "one refresh, never again")
}

// The fake's two eras: the library speaks the post-migration stack only,
// and a grant made before the migration keeps its access token and loses
// its refresh token when Trakt migrates.
func TestTraktAcrossTheMigration(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	fake.SetLegacy(true)
	_, err := p.Device(context.Background())
	require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant, "before the migration auth.trakt.tv has no OAuth endpoints")

	access, refresh := fake.IssueToken() // a grant of the legacy era
	fake.Migrate()
	src := p.Source(&videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh, Expiry: clock.Now().Add(7 * 24 * time.Hour)})
	c := videoauth.NewClient(p, src)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode, "access tokens outlive the migration")
	clock.Advance(7 * 24 * time.Hour)
	_, err = src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Contains(t, err.Error(), "migration")

	tok := traktSignIn(t, p) // the one more sign-in
	src.SetToken(tok)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)
}

// --- refresh on 401 and the stampede ---

// Issue item "API: 401 → refresh once and replay", with the request's body.
func TestTrakt401RefreshesOnceAndReplays(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("challenge omitted=%v", omit), func(t *testing.T) {
			fake, p, _ := setupTrakt(t)
			fake.OmitChallenge(omit)
			src := p.Source(traktSignIn(t, p))
			c := videoauth.NewClient(p, src)
			fake.ExpireAccessToken(src.Current().AccessToken)
			const body = `{"movies":[{"ids":{"trakt":1}}]}`
			req, _ := http.NewRequest(http.MethodPost, fake.APIURL+"/sync/history", strings.NewReader(body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusCreated, resp.StatusCode)
			require.Equal(t, 1, fake.Refreshes())
			require.Equal(t, 2, fake.APICalls(), "the rejected call and its one replay")
			require.Equal(t, [][]byte{[]byte(body), []byte(body)}, fake.APIBodies(), "the replay carried the same body")
			require.Equal(t, 1, fake.UnauthorizedAPICalls())
		})
	}
}

func TestTraktSecond401IsReturnedNotLooped(t *testing.T) {
	fake, p, _ := setupTrakt(t)
	src := p.Source(traktSignIn(t, p))
	c := videoauth.NewClient(p, src)
	// The access token dies, and so does every new one: revoked at once
	// after the refresh, through a transport that revokes what it sees.
	fake.ExpireAccessToken(src.Current().AccessToken)
	c.Transport.(*videoauth.Transport).Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		fake.ExpireAccessToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		return http.DefaultTransport.RoundTrip(r)
	})
	resp := traktGet(t, c, fake.APIURL+"/users/settings")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.ErrorIs(t, videoauth.CheckResponse(p, resp), videoauth.ErrTokenExpired)
	require.Equal(t, 1, fake.Refreshes(), "one refresh")
	require.Equal(t, 2, fake.APICalls(), "one replay, no loop")
}

// Issue item "one refresh per grant across goroutines": 50 concurrent
// requests meet a token Trakt rejects; one refresh, 50 answers.
func TestTraktStampedeOneRefresh(t *testing.T) {
	fake, p, _ := setupTrakt(t)
	src := p.Source(traktSignIn(t, p))
	c := videoauth.NewClient(p, src)
	fake.ExpireAccessToken(src.Current().AccessToken)
	var wg sync.WaitGroup
	var ok atomic.Int32
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			resp, err := c.Get(fake.APIURL + "/users/settings")
			if err == nil {
				if resp.StatusCode == 200 {
					ok.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	close(start)
	wg.Wait()
	require.EqualValues(t, 50, ok.Load())
	require.Equal(t, 1, fake.Refreshes(), "one refresh for 50 rejections")
	require.Zero(t, fake.RefreshReuses())
}

// --- rotation across replicas and processes ---

// traktStored saves a signed-in grant, expired, in store under key.
func traktStored(t *testing.T, p *videoauth.Trakt, clock *videoauthtest.Clock, store videoauth.Store) *videoauth.Token {
	t.Helper()
	tok := traktSignIn(t, p)
	require.NoError(t, store.Save(context.Background(), "user", tok))
	clock.Advance(7*24*time.Hour + time.Minute)
	return tok
}

// Issue item "one refresh per grant across … replicas (the store's
// lock)": Sources of one grant sharing a Store, each with many callers,
// all meeting the expired token at once.
func TestTraktReplicasShareOneRefreshThroughTheStore(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	store := &videoauth.MemoryStore{}
	old := traktStored(t, p, clock, store)
	var srcs []*videoauth.Source
	for range 4 {
		s := p.Source(nil)
		s.Store, s.Key = store, "user"
		srcs = append(srcs, s)
	}
	var wg sync.WaitGroup
	toks := make([]string, 4*10)
	for i := range toks {
		wg.Go(func() {
			tok, err := srcs[i%4].Token(context.Background())
			if err == nil {
				toks[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, fake.Refreshes(), "one refresh for four replicas")
	require.Zero(t, fake.RefreshReuses(), "no refresh token used twice")
	stored, err := store.Load(context.Background(), "user")
	require.NoError(t, err)
	require.NotEqual(t, old.AccessToken, stored.AccessToken)
	for i, tok := range toks {
		require.Equal(t, stored.AccessToken, tok, "caller %d has the stored token", i)
	}
}

// The negative control: the same replicas without a Store refresh twice,
// and the second refresh — its refresh token already rotated away — ends
// the grant: the user is logged out, which is what the Store prevents.
func TestTraktReplicasWithoutAStoreLogTheUserOut(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	tok := traktSignIn(t, p)
	a, b := p.Source(tok.Clone()), p.Source(tok.Clone())
	clock.Advance(8 * 24 * time.Hour)
	_, err := a.Token(context.Background())
	require.NoError(t, err)
	_, err = b.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Equal(t, 1, fake.RefreshReuses(), "Trakt saw a refresh token used twice")
	resp := traktGet(t, videoauth.NewClient(p, a), fake.APIURL+"/users/settings")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "and ended the grant for the first replica too")
	require.ErrorIs(t, videoauth.CheckResponse(p, resp), videoauth.ErrReauthRequired)
}

// Issue item "… across processes": FileStores opened separately on one
// directory (as separate processes open it) serialise on its file lock.
// TestTraktProcessesRefreshOnce does it with real processes.
func TestTraktFileStoresShareOneRefresh(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	dir := t.TempDir()
	first, err := videoauth.NewFileStore(dir)
	require.NoError(t, err)
	traktStored(t, p, clock, first)
	var wg sync.WaitGroup
	toks := make([]string, 6)
	errs := make([]error, 6)
	for i := range toks {
		wg.Go(func() {
			store, err := videoauth.NewFileStore(dir)
			if err != nil {
				errs[i] = err
				return
			}
			s := p.Source(nil)
			s.Store, s.Key = store, "user"
			tok, err := s.Token(context.Background())
			if err == nil {
				toks[i] = tok.AccessToken
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, fake.Refreshes())
	require.Zero(t, fake.RefreshReuses())
	for _, tok := range toks {
		require.Equal(t, toks[0], tok)
	}
}

// A replica whose token is stale when a sibling has already rotated the
// grant adopts the sibling's pair from the store instead of refreshing with
// a dead refresh token.
func TestTraktStaleReplicaAdoptsTheRotatedPair(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	store := &videoauth.MemoryStore{}
	old := traktStored(t, p, clock, store)
	a := p.Source(nil)
	a.Store, a.Key = store, "user"
	ta, err := a.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, fake.Refreshes())

	// A replica still holding the pre-rotation pair (its access token killed
	// by a's refresh, its refresh token spent), which it believes valid for
	// another hour, meets Trakt's 401: it looks in the store before it
	// refreshes, and adopts a's pair.
	stale := old.Clone()
	stale.Expiry = clock.Now().Add(time.Hour)
	b := p.Source(stale)
	b.Store, b.Key = store, "user"
	require.Equal(t, 200, traktGet(t, videoauth.NewClient(p, b), fake.APIURL+"/users/settings").StatusCode)
	require.Equal(t, ta.AccessToken, b.Current().AccessToken, "adopted, not refreshed")
	require.Equal(t, 1, fake.Refreshes(), "no refresh with a spent refresh token")
	require.Zero(t, fake.RefreshReuses())
	require.Equal(t, 1, fake.KilledTokenUses(), "the one request that carried the killed token")

	// And one that finds its own token expired adopts without a request.
	c := p.Source(old.Clone())
	c.Store, c.Key = store, "user"
	tc, err := c.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, ta.AccessToken, tc.AccessToken)
	require.Equal(t, 1, fake.Refreshes())
}

// A background renewal ahead of expiry, while requests keep flowing, is
// still one refresh; requests that meet the access token it killed are
// replayed with the new one.
func TestTraktRefreshAheadWhileRequestsFlow(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	src := p.Source(traktSignIn(t, p))
	c := videoauth.NewClient(p, src)
	clock.Advance(7*24*time.Hour - 30*time.Minute) // inside the hour before expiry
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 30 {
		wg.Go(func() {
			resp, err := c.Get(fake.APIURL + "/users/settings")
			if err == nil {
				if resp.StatusCode == 200 {
					ok.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 30, ok.Load())
	require.Eventually(t, func() bool {
		return fake.Refreshes() == 1 && src.Current().Expiry.After(clock.Now().Add(6*24*time.Hour))
	},
		5*time.Second, time.Millisecond)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)
	require.Equal(t, 1, fake.Refreshes())
	require.Zero(t, fake.RefreshReuses())
}

// A new sign-in given to the Source while a refresh is in flight wins: the
// refresh lands nowhere.
func TestTraktSetTokenDuringARefreshWins(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	src := p.Source(traktSignIn(t, p))
	clock.Advance(8 * 24 * time.Hour)
	fake.SetLatency(200 * time.Millisecond) // the refresh is slow; nothing waits on it but the refresh
	done := make(chan *videoauth.Token)
	go func() {
		tok, _ := src.Token(context.Background())
		done <- tok
	}()
	require.Eventually(t, func() bool { return fake.Refreshes() == 1 }, 5*time.Second, time.Millisecond)
	fresh := &videoauth.Token{Provider: "trakt", AccessToken: "new-sign-in", RefreshToken: "rt", Expiry: clock.Now().Add(time.Hour)}
	src.SetToken(fresh)
	require.Same(t, fresh, <-done)
	fake.SetLatency(0)
	require.Eventually(t, func() bool { return src.Current() == fresh }, 5*time.Second, time.Millisecond)
}

// --- device flow ---

// Issue item "Device flow (not RFC 8628): the poll sends code, the answer
// carries verification_url; expires_in a hard deadline": the fake, pending
// then approved.
func TestTraktDeviceFlow(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	dc, err := p.Device(context.Background())
	require.NoError(t, err)
	require.Equal(t, url.Values{"client_id": {fake.ClientID}}, fake.LastTokenForm())
	require.Len(t, dc.UserCode, 8)
	require.Equal(t, fake.AuthURL+"/activate", dc.VerificationURI)
	require.Empty(t, dc.VerificationURIComplete)
	require.Equal(t, 5*time.Second, dc.Interval)
	require.Equal(t, clock.Now().Add(600*time.Second), dc.ExpiresAt)

	got := make(chan error, 1)
	var tok *videoauth.Token
	go func() { var err error; tok, err = dc.Wait(context.Background()); got <- err }()
	asleep := func() { // Wait is asleep before its next poll, not finished
		t.Helper()
		select {
		case <-clock.UntilWaiters(1):
		case err := <-got:
			t.Fatalf("Wait ended early: %v", err)
		}
	}
	for range 3 { // three pending polls
		asleep()
		clock.Advance(5 * time.Second)
	}
	asleep()
	require.Equal(t, 3, fake.DevicePolls())
	require.True(t, fake.ApproveCode(dc.UserCode))
	clock.Advance(5 * time.Second)
	require.NoError(t, <-got)
	require.NotEmpty(t, tok.AccessToken)
	require.NotEmpty(t, tok.RefreshToken)
	require.Equal(t, 4, fake.DevicePolls())
	poll := fake.LastTokenForm()
	require.Equal(t, url.Values{"code": {poll.Get("code")}, "client_id": {fake.ClientID}}, poll, "code, not device_code; no grant_type")
	require.Zero(t, fake.TooFastPolls())
	require.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}, clock.AfterCalls())
}

func TestTraktDeviceDeniedAndExpired(t *testing.T) {
	t.Run("denied: 418", func(t *testing.T) {
		fake, p, clock := setupTrakt(t)
		clock.SetAutoAdvance(true)
		dc, err := p.Device(context.Background())
		require.NoError(t, err)
		require.True(t, fake.DenyCode(dc.UserCode))
		_, err = dc.Wait(context.Background())
		require.ErrorIs(t, err, videoauth.ErrAccessDenied)
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, 418, e.Status)
		require.Equal(t, 1, fake.DevicePolls())
	})
	t.Run("expires_in is a hard deadline", func(t *testing.T) {
		fake, p, clock := setupTrakt(t)
		clock.SetAutoAdvance(true)
		dc, err := p.Device(context.Background())
		require.NoError(t, err)
		_, err = dc.Wait(context.Background())
		require.ErrorIs(t, err, videoauth.ErrExpiredCode)
		require.Equal(t, 119, fake.DevicePolls(), "every 5 s until the 600 s are up, none after")
		require.False(t, clock.Now().Before(dc.ExpiresAt))
		require.Equal(t, dc.ExpiresAt, clock.Now(), "stopped at the deadline, not after it")
	})
}

// traktScripted is a fake OAuth host answering device polls with the given
// statuses, in order (then 400), and checking every request's headers.
func traktScripted(t *testing.T, statuses []int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var polls atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Trakt-Api-Key") != "id" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("User-Agent") != "t/1" {
			t.Errorf("%s lacks Trakt's headers", r.URL.Path)
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("%s: body is not JSON", r.URL.Path)
		}
		switch r.URL.Path {
		case "/oauth/device/code":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"device_code":"dc-secret","user_code":"5055CC52","verification_url":"%s/activate","expires_in":600,"interval":5}`, srv.URL)
		case "/oauth/device/token":
			if body["code"] != "dc-secret" || body["client_id"] != "id" || len(body) != 2 {
				t.Errorf("poll body %v", body)
			}
			i := int(polls.Add(1)) - 1
			status := http.StatusBadRequest
			if i < len(statuses) {
				status = statuses[i]
			}
			if status == http.StatusOK {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"access_token":"at","token_type":"bearer","expires_in":604800,"refresh_token":"rt","scope":"public offline_access","created_at":1}`)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"error":"authorization_pending"}`) // a body that must decide nothing
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &polls
}

// Issue item "status only answers — 400 pending, 404 unknown, 409 already
// used, 410 expired, 418 denied, 429 polled too fast (+5 s) — each
// typed".
func TestTraktDevicePollStatusesAreTyped(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		want     error // nil: a token
		code     string
		waits    []time.Duration
	}{
		{"400 pending, then 200", []int{400, 400, 200}, nil, "", []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"404 unknown code", []int{400, 404}, videoauth.ErrCodeUsed, "invalid_device_code", []time.Duration{5 * time.Second, 5 * time.Second}},
		{"409 already used", []int{409}, videoauth.ErrCodeUsed, "already_used", []time.Duration{5 * time.Second}},
		{"410 expired", []int{410}, videoauth.ErrExpiredCode, "expired_token", []time.Duration{5 * time.Second}},
		{"418 denied", []int{418}, videoauth.ErrAccessDenied, "access_denied", []time.Duration{5 * time.Second}},
		{"429 slow down: +5 s, kept", []int{429, 400, 429, 200}, nil, "", []time.Duration{5 * time.Second, 10 * time.Second, 10 * time.Second, 15 * time.Second}},
		{"503 backs off", []int{503, 200}, nil, "", []time.Duration{5 * time.Second, 10 * time.Second}},
		{"403 bad key stops", []int{403}, videoauth.ErrInvalidClient, "", []time.Duration{5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, polls := traktScripted(t, tc.statuses)
			clock := videoauthtest.NewClock(time.Unix(1_790_000_000, 0))
			clock.SetAutoAdvance(true)
			p, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", UserAgent: "t/1", WebURL: srv.URL, APIURL: srv.URL, Clock: clock})
			require.NoError(t, err)
			dc, err := p.Device(context.Background())
			require.NoError(t, err)
			require.Equal(t, "go to "+srv.URL+"/activate and enter 5055CC52", dc.String())
			tok, err := dc.Wait(context.Background())
			require.Equal(t, tc.waits, clock.AfterCalls())
			if tc.want == nil {
				require.NoError(t, err)
				require.Equal(t, "at", tok.AccessToken)
				return
			}
			require.ErrorIs(t, err, tc.want)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, "device_poll", e.Op)
			require.EqualValues(t, len(tc.statuses), polls.Load(), "no poll after a final answer")
			require.NotContains(t, err.Error(), "dc-secret")
		})
	}
}

func TestTraktDeviceVerificationURLIsChecked(t *testing.T) {
	for _, bad := range []string{"https://evil.example/activate", "javascript:alert(1)", "http://trakt.tv/activate"} {
		fake, p, _ := setupTrakt(t)
		fake.SetVerificationURL(bad)
		_, err := p.Device(context.Background())
		require.ErrorIs(t, err, videoauth.ErrBadVerificationURI, bad)
	}
}

// --- API errors ---

// Issue item "403 (bad key), 412 (content type), 429 (with or without
// Retry-After; 1 write per second) typed, never retried", and Trakt's other
// documented statuses.
func TestTraktAPIErrorsAreTypedAndNeverRetried(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failure videoauthtest.TraktFailure
		status  int
		want    []error
		wait    time.Duration
	}{
		{"403 bad API key", videoauthtest.TraktBadAPIKey, 403, []error{videoauth.ErrInvalidClient, videoauth.ErrForbidden}, 0},
		{"403 the edge", videoauthtest.TraktBlocked, 403, []error{videoauth.ErrBlocked}, 0},
		{"412 content type", videoauthtest.TraktWrongContentType, 412, []error{videoauth.ErrInvalidRequest}, 0},
		{"420 account limit", videoauthtest.TraktAccountLimit, 420, []error{videoauth.ErrUpgradeRequired}, 0},
		{"423 locked", videoauthtest.TraktLocked, 423, []error{videoauth.ErrAccountLocked}, 0},
		{"426 VIP only", videoauthtest.TraktVIPOnly, 426, []error{videoauth.ErrUpgradeRequired}, 0},
		{"429 with Retry-After", videoauthtest.TraktRateLimited, 429, []error{videoauth.ErrRateLimited}, 2 * time.Second},
		{"429 bare", videoauthtest.TraktRateLimitedBare, 429, []error{videoauth.ErrRateLimited}, time.Second},
		{"503 overloaded", videoauthtest.TraktOverloaded, 503, []error{videoauth.ErrServer}, 0},
		{"520 Cloudflare", videoauthtest.TraktCloudflareError, 520, []error{videoauth.ErrServer}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, p, _ := setupTrakt(t)
			src := p.Source(traktSignIn(t, p))
			c := videoauth.NewClient(p, src)
			fake.FailAPICalls(1, tc.failure)
			resp := traktGet(t, c, fake.APIURL+"/users/settings")
			require.Equal(t, tc.status, resp.StatusCode)
			err := videoauth.CheckResponse(p, resp)
			for _, want := range tc.want {
				require.ErrorIs(t, err, want)
			}
			require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
			require.NotErrorIs(t, err, videoauth.ErrTokenExpired)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.wait, e.RetryAfter)
			require.Equal(t, 1, fake.APICalls(), "never retried")
			require.Zero(t, fake.Refreshes(), "the token is not renewed")
		})
	}
}

func TestTraktOneWritePerSecond(t *testing.T) {
	fake, p, clock := setupTrakt(t)
	c := videoauth.NewClient(p, p.Source(traktSignIn(t, p)))
	post := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, fake.APIURL+"/sync/history", strings.NewReader(`{}`))
		resp, err := c.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	require.Equal(t, 201, post().StatusCode)
	resp := post()
	require.Equal(t, 429, resp.StatusCode)
	err := videoauth.CheckResponse(p, resp)
	require.ErrorIs(t, err, videoauth.ErrRateLimited)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, time.Second, e.RetryAfter)
	require.Equal(t, 2, fake.APICalls(), "not retried")
	clock.Advance(e.RetryAfter)
	require.Equal(t, 201, post().StatusCode)
}

func TestTraktVerdict(t *testing.T) {
	p, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", UserAgent: "t/1"})
	require.NoError(t, err)
	for status, want := range map[int]videoauth.Verdict{
		200: videoauth.VerdictOK, 401: videoauth.VerdictExpired, 403: videoauth.VerdictOK, 412: videoauth.VerdictOK,
		420: videoauth.VerdictOK, 423: videoauth.VerdictOK, 426: videoauth.VerdictOK, 429: videoauth.VerdictOK, 503: videoauth.VerdictOK,
	} {
		require.Equal(t, want, p.Verdict(&http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}), "%d", status)
	}
}

// --- revocation and identity ---

func TestTraktRevoke(t *testing.T) {
	for _, confidential := range []bool{false, true} {
		t.Run(fmt.Sprintf("confidential=%v", confidential), func(t *testing.T) {
			fake, p, _ := setupTraktWith(t, func(a *videoauth.App) {
				if confidential {
					a.ClientSecret = "trakt-fake-client-secret"
				}
			})
			src := p.Source(traktSignIn(t, p))
			tok := src.Current()
			c := videoauth.NewClient(p, src)
			require.NoError(t, src.Revoke(context.Background()))
			want := url.Values{"token": {tok.AccessToken}, "client_id": {fake.ClientID}}
			if confidential {
				want.Set("client_secret", fake.ClientSecret)
			}
			require.Equal(t, want, fake.LastTokenForm())
			_, err := c.Get(fake.APIURL + "/users/settings")
			require.ErrorIs(t, err, videoauth.ErrReauthRequired, "nothing is sent after a revocation")
			require.Equal(t, 1, fake.Revocations())
			// At Trakt the grant is gone: the refresh token too.
			_, err = p.Source(&videoauth.Token{Provider: "trakt", AccessToken: "x", RefreshToken: tok.RefreshToken,
				Expiry: time.Now().Add(-time.Hour)}).Token(context.Background())
			require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		})
	}
	_, p, _ := setupTrakt(t)
	require.ErrorIs(t, p.Revoke(context.Background(), nil), videoauth.ErrInvalidConfig)
	require.ErrorIs(t, p.Revoke(context.Background(), &videoauth.Token{Provider: "simkl", AccessToken: "a"}), videoauth.ErrInvalidConfig)
}

func TestTraktIdentify(t *testing.T) {
	fake, p, _ := setupTrakt(t)
	tok := traktSignIn(t, p)
	var id videoauth.Identifier = p
	who, err := id.Identify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "trakt", who.Provider)
	require.Equal(t, "5f2b8a0e-8d8e-4b4e-9b6a-3c1f0d2e4a17", who.UserID)
	require.Equal(t, "Fake User", who.Name)
	require.Contains(t, string(who.User), `"username":"fake-user"`)
	require.NotContains(t, string(who.User), tok.AccessToken)

	fake.ExpireAccessToken(tok.AccessToken)
	_, err = p.Identify(context.Background(), tok)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired, "a token with a refresh token: refresh it and ask again")
	noRefresh := tok.Clone()
	noRefresh.RefreshToken = ""
	_, err = p.Identify(context.Background(), noRefresh)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	fake.FailAPICalls(1, videoauthtest.TraktBlocked)
	_, err = p.Identify(context.Background(), tok)
	require.ErrorIs(t, err, videoauth.ErrBlocked)
	_, err = p.Identify(context.Background(), &videoauth.Token{Provider: "vimeo", AccessToken: "a"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
}

// --- observer, printing, token errors ---

func TestTraktObserverSeesMintsAndRateLimits(t *testing.T) {
	var mu sync.Mutex
	var kinds []string
	fake, p, clock := setupTraktWith(t, func(a *videoauth.App) {
		a.Observer = videoauth.ObserverFunc(func(_ context.Context, e videoauth.Event) {
			mu.Lock()
			kinds = append(kinds, e.Kind.String()+"/"+e.Op+"/"+e.Outcome)
			mu.Unlock()
		})
	})
	src := p.Source(traktSignIn(t, p))
	c := videoauth.NewClient(p, src)
	clock.Advance(8 * 24 * time.Hour)
	require.Equal(t, 200, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)
	fake.FailAPICalls(1, videoauthtest.TraktRateLimited)
	require.Equal(t, 429, traktGet(t, c, fake.APIURL+"/users/settings").StatusCode)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"mint_start/refresh/", "mint_end/refresh/ok", "rate_limited/api/rate_limited"}, kinds)
}

func TestTraktTokenEndpointErrorsAreTyped(t *testing.T) {
	for _, tc := range []struct {
		name, op string
		status   int
		header   http.Header
		body     string
		want     error
	}{
		{"refresh invalid_grant", "refresh", 400, nil, `{"error":"invalid_grant","error_description":"The refresh token is invalid."}`, videoauth.ErrReauthRequired},
		{"refresh: Doorkeeper's 401", "refresh", 401, http.Header{"Www-Authenticate": {`Bearer realm="Doorkeeper", error="invalid_grant", error_description="gone"`}}, ``, videoauth.ErrReauthRequired},
		{"refresh: a bare 400", "refresh", 400, nil, ``, videoauth.ErrReauthRequired},
		{"refresh: 429", "refresh", 429, http.Header{"Retry-After": {"3"}}, ``, videoauth.ErrRateLimited},
		{"refresh: 503", "refresh", 503, nil, `{"error":"server_error"}`, videoauth.ErrServer},
		{"refresh: 502 HTML", "refresh", 502, http.Header{"Content-Type": {"text/html"}}, `<html>bad gateway</html>`, videoauth.ErrServer},
		{"refresh: the edge", "refresh", 403, http.Header{"Content-Type": {"text/html"}}, `<html>Sorry, you have been blocked</html>`, videoauth.ErrBlocked},
		{"refresh: bad client", "refresh", 401, nil, `{"error":"invalid_client"}`, videoauth.ErrInvalidClient},
		{"exchange invalid_grant", "exchange", 400, nil, `{"error":"invalid_grant","error_description":"code used"}`, videoauth.ErrCodeUsed},
		{"exchange redirect", "exchange", 400, nil, `{"error":"invalid_request","error_description":"redirect_uri mismatch"}`, videoauth.ErrRedirectMismatch},
		{"200 with an error", "refresh", 200, nil, `{"error":"invalid_grant","error_description":"session not found"}`, videoauth.ErrReauthRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, vs := range tc.header {
					w.Header()[k] = vs
				}
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			p, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", UserAgent: "t/1", WebURL: srv.URL, APIURL: srv.URL, RedirectURL: "https://a.example/cb"})
			require.NoError(t, err)
			if tc.op == "refresh" {
				_, err = p.Source(&videoauth.Token{Provider: "trakt", AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(-time.Hour)}).Token(context.Background())
			} else {
				ar, aerr := p.AuthRequest("")
				require.NoError(t, aerr)
				_, err = p.Exchange(context.Background(), ar, url.Values{"code": {"c"}, "state": {ar.State}})
			}
			require.ErrorIs(t, err, tc.want)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.op, e.Op)
			require.Equal(t, tc.status, e.Status)
		})
	}
}

// Printing: no verb, no slog handler, no error shows a secret.
func TestTraktPrintsNoSecret(t *testing.T) {
	const secret = "PLANTED-client-secret-0123456789"
	const access, refresh = "PLANTED-access-token-0123456789", "PLANTED-refresh-token-0123456789"
	fake, p, clock := setupTraktWith(t, func(a *videoauth.App) { a.ClientSecret = secret })
	_ = fake
	tok := &videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Expiry: clock.Now().Add(time.Hour),
		Meta: map[string]string{"trakt_redirect_uri": "https://videoauth.example/trakt/callback"}}
	src := p.Source(tok)
	ar, err := p.AuthRequest("")
	require.NoError(t, err)
	dc := func() *videoauth.DeviceCode {
		clock.SetAutoAdvance(false)
		d, err := p.Device(context.Background())
		require.NoError(t, err)
		return d
	}()

	// A base transport that echoes the request body into its error, and
	// a token endpoint error whose prose echoes the refresh token.
	echo := videoauth.App{ClientID: "id", ClientSecret: secret, UserAgent: "t/1", WebURL: "https://auth.trakt.tv",
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			return nil, fmt.Errorf("proxy refused %s", b)
		})}}
	pe, err := videoauth.NewTrakt(echo)
	require.NoError(t, err)
	_, echoErr := pe.Source(&videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(-time.Hour)}).Token(context.Background())
	require.Error(t, echoErr)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"refresh token %s is unknown"}`, refresh)
	}))
	defer srv.Close()
	ps, err := videoauth.NewTrakt(videoauth.App{ClientID: "id", ClientSecret: secret, UserAgent: "t/1", WebURL: srv.URL})
	require.NoError(t, err)
	_, grantErr := ps.Source(&videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(-time.Hour)}).Token(context.Background())
	require.ErrorIs(t, grantErr, videoauth.ErrReauthRequired)

	things := map[string]any{"provider": p, "provider value": *p, "token": tok, "source": src, "auth request": ar,
		"device code": dc, "transport error": echoErr, "grant error": grantErr, "client": videoauth.NewClient(p, src).Transport}
	for name, v := range things {
		var out []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		var js, txt bytes.Buffer
		slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "v", v, "in", []any{v}, "map", map[string]any{"k": v})
		slog.New(slog.NewTextHandler(&txt, nil)).Info("x", "v", v)
		out = append(out, js.String(), txt.String())
		if b, err := json.Marshal(v); err == nil {
			out = append(out, string(b))
		}
		for _, s := range out {
			for _, planted := range []string{secret, access, refresh, ar.State, ar.Verifier, "PLANTED"} {
				require.NotContains(t, s, planted, "%s printed a secret: %s", name, s)
			}
		}
	}
}

// The child role of TestTraktProcessesRefreshOnce, selected by the
// environment; with no environment it does nothing.
func TestTraktProcessChild(t *testing.T) {
	if os.Getenv("VIDEOAUTH_TRAKT_CHILD") == "" {
		return
	}
	env := func(k string) string { return os.Getenv("VIDEOAUTH_TRAKT_" + k) }
	p, err := videoauth.NewTrakt(videoauth.App{ClientID: env("CLIENT_ID"), UserAgent: "videoauth-test/0.1",
		APIURL: env("API"), WebURL: env("AUTH")})
	require.NoError(t, err)
	store, err := videoauth.NewFileStore(env("DIR"))
	require.NoError(t, err)
	src := p.Source(nil)
	src.Store, src.Key = store, "user"
	c := videoauth.NewClient(p, src)
	require.NoError(t, os.WriteFile(env("OUT")+".ready", nil, 0o600))
	require.Eventually(t, func() bool { _, err := os.Stat(env("START")); return err == nil }, 30*time.Second, time.Millisecond)
	var wg sync.WaitGroup
	for range 5 { // and several callers in each process
		wg.Go(func() {
			resp, err := c.Get(env("API") + "/users/settings")
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	resp, err := c.Get(env("API") + "/users/settings")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.NoError(t, os.WriteFile(env("OUT"), []byte(src.Current().AccessToken), 0o600))
}

// Issue item "one refresh per grant across … processes": three OS
// processes share a FileStore holding one expired grant and all need a
// token at once. One refresh; every process ends with the stored pair; no
// refresh token is used twice (which would have ended the grant).
func TestTraktProcessesRefreshOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	traktClean(t, fake)
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	access, refresh := fake.IssueToken()
	require.NoError(t, store.Save(context.Background(), "user", &videoauth.Token{Provider: "trakt", AccessToken: access,
		RefreshToken: refresh, TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute)}))

	start := filepath.Join(dir, "start")
	var children []*exec.Cmd
	var outs []string
	for i := range 3 {
		out := filepath.Join(dir, "out"+string(rune('a'+i)))
		cmd := exec.Command(os.Args[0], "-test.run=^TestTraktProcessChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "VIDEOAUTH_TRAKT_CHILD=1", "VIDEOAUTH_TRAKT_CLIENT_ID="+fake.ClientID,
			"VIDEOAUTH_TRAKT_API="+fake.APIURL, "VIDEOAUTH_TRAKT_AUTH="+fake.AuthURL,
			"VIDEOAUTH_TRAKT_DIR="+store.Dir(), "VIDEOAUTH_TRAKT_START="+start, "VIDEOAUTH_TRAKT_OUT="+out)
		var log strings.Builder
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("child %d:\n%s", i, log.String())
			}
		})
		children, outs = append(children, cmd), append(outs, out)
	}
	for _, out := range outs {
		require.Eventually(t, func() bool { _, err := os.Stat(out + ".ready"); return err == nil }, 60*time.Second, time.Millisecond)
	}
	require.NoError(t, os.WriteFile(start, nil, 0o600)) // all go at once
	for _, cmd := range children {
		require.NoError(t, cmd.Wait())
	}
	require.Equal(t, 1, fake.Refreshes(), "one refresh across three processes")
	require.Zero(t, fake.RefreshReuses(), "no refresh token used twice")
	stored, err := store.Load(context.Background(), "user")
	require.NoError(t, err)
	require.NotEqual(t, access, stored.AccessToken)
	require.NotEqual(t, refresh, stored.RefreshToken, "rotated")
	for _, out := range outs {
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		require.Equal(t, stored.AccessToken, string(b), "every process holds the stored token")
	}
}
