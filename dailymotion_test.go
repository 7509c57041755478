package videoauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

// dmTestFake is a fake Dailymotion and the number of malformed requests a
// test sends it on purpose.
type dmTestFake struct {
	*videoauthtest.Dailymotion
	allowed int
}

// dmFake starts a fake Dailymotion whose clock is clock (nil: real time),
// and checks at the end that it saw no malformed request but those the
// test counted in allowed, and no token in a URL.
func dmFake(t *testing.T, clock *videoauthtest.Clock) *dmTestFake {
	t.Helper()
	fake := &dmTestFake{Dailymotion: videoauthtest.NewDailymotion()}
	t.Cleanup(fake.Close)
	t.Cleanup(func() {
		require.Equal(t, fake.allowed, fake.Malformed(), "the fake saw a malformed request: %s", fake.LastMalformed())
		require.Zero(t, fake.QueryTokenUses(), "a token travelled in a URL")
	})
	if clock != nil {
		fake.SetClock(clock)
	}
	return fake
}

// dmApp is the App of fake's public key.
func dmApp(fake *dmTestFake, clock *videoauthtest.Clock) videoauth.App {
	app := videoauth.App{ClientID: fake.PublicKey, ClientSecret: fake.PublicSecret, APIURL: fake.APIURL, WebURL: fake.WebURL,
		RedirectURL: "http://127.0.0.1/callback", Scopes: []string{videoauth.DailymotionScopeManageVideos, videoauth.DailymotionScopeEmail}}
	if clock != nil {
		app.Clock = clock
	}
	return app
}

func dmPublic(t *testing.T, fake *dmTestFake, clock *videoauthtest.Clock, c videoauth.DailymotionConfig) *videoauth.Dailymotion {
	t.Helper()
	d, err := videoauth.NewDailymotion(dmApp(fake, clock), c)
	require.NoError(t, err)
	return d
}

// dmPrivateApp is the App of fake's private key.
func dmPrivateApp(fake *dmTestFake, clock *videoauthtest.Clock, ep videoauth.DailymotionEndpoint) (videoauth.App, videoauth.DailymotionPrivateConfig) {
	app := videoauth.App{ClientID: fake.PrivateKey, ClientSecret: fake.PrivateSecret, APIURL: fake.APIURL}
	c := videoauth.DailymotionPrivateConfig{Endpoint: ep, TokenURL: fake.OAuthURL + "/v2/token"}
	if ep == videoauth.DailymotionPartner {
		app.APIURL, c.TokenURL = fake.PartnerURL, ""
	}
	if clock != nil {
		app.Clock = clock
	}
	return app, c
}

func dmPrivate(t *testing.T, fake *dmTestFake, clock *videoauthtest.Clock, ep videoauth.DailymotionEndpoint) *videoauth.DailymotionPrivate {
	t.Helper()
	app, c := dmPrivateApp(fake, clock, ep)
	p, err := videoauth.NewDailymotionPrivate(app, c)
	require.NoError(t, err)
	return p
}

// dmSignIn runs the code flow against the fake and returns the token.
func dmSignIn(t *testing.T, d *videoauth.Dailymotion, scopes ...string) *videoauth.Token {
	t.Helper()
	ar, err := d.AuthRequest("", scopes...)
	require.NoError(t, err)
	tok, err := d.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.NoError(t, err)
	return tok
}

// dmDo sends method u with body (replayable) and returns the status and
// the body read.
func dmDo(t *testing.T, c *http.Client, method, u, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Issue item: a public key on the legacy API, the authorization code on the
// consent host the app chooses (the SDKs' www. by default, the docs' api.
// on request), refresh tokens. Removing ConsentOnAPIHost's branch sends
// both to www. and fails the api. case; removing the body client auth
// (ClientSecretPost) makes the fake count a malformed request.
func TestDailymotionCodeFlowOnEitherConsentHost(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  videoauth.DailymotionConfig
		host func(*dmTestFake) string
	}{
		{"www (the SDKs)", videoauth.DailymotionConfig{}, func(f *dmTestFake) string { return f.WebURL }},
		{"api (the docs)", videoauth.DailymotionConfig{ConsentOnAPIHost: true, Display: "popup"}, func(f *dmTestFake) string { return f.APIURL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := videoauthtest.NewClock(time.Now())
			fake := dmFake(t, clock)
			d := dmPublic(t, fake, clock, tc.cfg)
			ar, err := d.AuthRequest("")
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(ar.URL, tc.host(fake)+"/oauth/authorize?"), ar.URL)
			q := follow(t, ar.URL).Query()
			sent := fake.LastAuthorizeQuery()
			for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge"} {
				require.NotEmpty(t, sent.Get(k), k)
			}
			require.Equal(t, "S256", sent.Get("code_challenge_method"))
			require.Equal(t, tc.cfg.Display, sent.Get("display"))
			require.Equal(t, "manage_videos email", sent.Get("scope"), "scopes joined with single spaces")

			tok, err := d.Exchange(context.Background(), ar, q)
			require.NoError(t, err)
			require.Equal(t, "dailymotion", tok.Provider)
			require.Equal(t, "x1fakeuser", tok.UserID, "uid is the user id")
			require.Equal(t, []string{"manage_videos", "email"}, tok.Scopes)
			require.NotEmpty(t, tok.RefreshToken)
			require.WithinDuration(t, clock.Now().Add(36000*time.Second), tok.Expiry, time.Second)
			form := fake.LastTokenForm()
			require.Equal(t, fake.PublicKey, form.Get("client_id"), "credentials in the body")
			require.Equal(t, fake.PublicSecret, form.Get("client_secret"))
			require.Equal(t, ar.RedirectURL, form.Get("redirect_uri"), "the identical redirect_uri")
			require.Empty(t, fake.LastRequest().Header.Get("Authorization"), "no Basic header")
			require.Equal(t, 1, fake.Exchanges())

			code, body := get(t, videoauth.NewClient(d, d.Source(tok)), fake.APIURL+"/auth")
			require.Equal(t, 200, code, body)
		})
	}
}

// A redirect_uri may add /SLUG to the key's Callback URL [C]; the same URL
// is sent with the exchange.
func TestDailymotionRedirectSlug(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	ar, err := d.AuthRequest("http://127.0.0.1:8123/callback/tenant-42")
	require.NoError(t, err)
	tok, err := d.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	require.Equal(t, "http://127.0.0.1:8123/callback/tenant-42", fake.LastTokenForm().Get("redirect_uri"))
}

// The whole code flow through the loopback listener (a CLI).
func TestDailymotionLoopback(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	tok, err := videoauth.Loopback(context.Background(), d, videoauth.LoopbackConfig{Open: func(u string) error {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}})
	require.NoError(t, err)
	require.Equal(t, "x1fakeuser", tok.UserID)
}

// Denial comes back as error=access_denied [C]; without state (an open
// question) the callback is refused before anything is exchanged, and a
// replayed callback is refused too.
func TestDailymotionDenialAndState(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})

	fake.DenyConsent(true)
	ar, err := d.AuthRequest("")
	require.NoError(t, err)
	_, err = d.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "access_denied", e.Code)
	fake.DenyConsent(false)

	fake.OmitState(true)
	ar, err = d.AuthRequest("")
	require.NoError(t, err)
	q := follow(t, ar.URL).Query()
	require.NotEmpty(t, q.Get("code"))
	_, err = d.Exchange(context.Background(), ar, q)
	require.ErrorIs(t, err, videoauth.ErrStateMismatch, "no state, no exchange")
	require.False(t, ar.Used(), "a callback without state consumes nothing")
	fake.OmitState(false)

	ar, err = d.AuthRequest("")
	require.NoError(t, err)
	q = follow(t, ar.URL).Query()
	_, err = d.Exchange(context.Background(), ar, q)
	require.NoError(t, err)
	_, err = d.Exchange(context.Background(), ar, q)
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, fake.Exchanges(), "the denied, stateless and replayed callbacks exchanged nothing")
}

// A code Dailymotion refuses is typed and never retried.
func TestDailymotionFailedExchangeIsTypedAndNotRetried(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	ar, err := d.AuthRequest("")
	require.NoError(t, err)
	q := follow(t, ar.URL).Query()
	q.Set("code", "forged")
	_, err = d.Exchange(context.Background(), ar, q)
	require.ErrorIs(t, err, videoauth.ErrCodeUsed)
	require.Equal(t, 1, fake.Exchanges(), "one attempt")

	_, err = videoauth.NewDailymotion(videoauth.App{ClientID: "k"}, videoauth.DailymotionConfig{})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "the secret is required")
	_, err = videoauth.NewDailymotion(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionConfig{Display: "tv"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	noScope := dmApp(fake, nil)
	noScope.Scopes = nil
	d2, err := videoauth.NewDailymotion(noScope, videoauth.DailymotionConfig{})
	require.NoError(t, err)
	_, err = d2.AuthRequest("")
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "Dailymotion requires scope")
	bad := dmApp(fake, nil)
	bad.ClientSecret = "wrong"
	d3, err := videoauth.NewDailymotion(bad, videoauth.DailymotionConfig{})
	require.NoError(t, err)
	_, err = d3.Exchange(context.Background(), ar, q) // ar is used: refused before sending
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	ar3, _ := d3.AuthRequest("")
	_, err = d3.Exchange(context.Background(), ar3, follow(t, ar3.URL).Query())
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)
}

// Issue item: scopes the user unticked are reported: in the token, to
// App.Logger, and by RequireScopes. Removing dailymotionCheckScopes drops
// the log line.
func TestDailymotionUntickedScopesReported(t *testing.T) {
	fake := dmFake(t, nil)
	var logs bytes.Buffer
	app := dmApp(fake, nil)
	app.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	d, err := videoauth.NewDailymotion(app, videoauth.DailymotionConfig{})
	require.NoError(t, err)
	fake.UntickScopes(videoauth.DailymotionScopeManageVideos)
	tok := dmSignIn(t, d)
	require.Equal(t, []string{"email"}, tok.Scopes)
	require.ErrorIs(t, tok.RequireScopes(videoauth.DailymotionScopeManageVideos), videoauth.ErrScopeNotGranted)
	require.Contains(t, logs.String(), `"missing":"manage_videos"`)
	require.NotContains(t, logs.String(), tok.AccessToken)

	// The 403 it then meets is typed and never retried.
	c := videoauth.NewClient(d, d.Source(tok))
	resp, err := c.Post(fake.APIURL+"/me/videos", "application/json", strings.NewReader(`{"title":"x"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	err = videoauth.CheckResponse(d, resp)
	require.ErrorIs(t, err, videoauth.ErrForbidden)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "403", e.Code, "the legacy envelope's integer code")
	require.Contains(t, e.Description, "Insufficient rights for route POST /user/x1fakeuser/videos")
	require.Equal(t, 0, fake.Refreshes(), "a missing scope is not a dead token")
	require.Equal(t, 1, fake.APICalls(), "and it is not retried")
}

// Issue item: WWW-Authenticate: Bearer error="invalid_token" → refresh once
// and replay, on every answer shape the SDKs act on. Verdict returning OK
// for any case fails it (no refresh, the 401 returned).
func TestDailymotionInvalidTokenRefreshesOnceAndReplays(t *testing.T) {
	for _, mode := range []videoauthtest.DailymotionExpired{
		videoauthtest.DailymotionExpiredBoth, videoauthtest.DailymotionExpiredChallenge, videoauthtest.DailymotionExpiredEnvelope,
		videoauthtest.DailymotionExpired400, videoauthtest.DailymotionExpired403,
	} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			fake := dmFake(t, nil)
			fake.SetExpiredAnswer(mode)
			d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
			tok := dmSignIn(t, d)
			src := d.Source(tok)
			var saved []*videoauth.Token
			src.OnToken = func(t *videoauth.Token) { saved = append(saved, t.Clone()) }
			c := videoauth.NewClient(d, src)
			fake.ExpireToken(tok.AccessToken) // dead early, at the server
			code, body := dmDo(t, c, http.MethodPost, fake.APIURL+"/me/videos", `{"title":"cats"}`)
			require.Equal(t, 200, code, body)
			require.Equal(t, 1, fake.Refreshes(), "one refresh")
			bodies := fake.APIBodies()
			require.Len(t, bodies, 2, "the rejected request and its replay")
			require.Equal(t, bodies[0], bodies[1], "the replay carries the same body")
			require.Len(t, saved, 1)
			require.NotEqual(t, tok.RefreshToken, saved[0].RefreshToken, "the rotated refresh token reached OnToken")
			require.Equal(t, saved[0].AccessToken, src.Current().AccessToken)
			require.Equal(t, "x1fakeuser", src.Current().UserID, "kept across the refresh")
			require.Equal(t, tok.Scopes, src.Current().Scopes, "kept: the refresh answer has no scope")
		})
	}
}

// A bare 401 (a proxy's, without the envelope or the challenge) and a 403
// missing scope are returned as they are.
func TestDailymotionVerdict(t *testing.T) {
	d, err := videoauth.NewDailymotion(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionConfig{})
	require.NoError(t, err)
	p, err := videoauth.NewDailymotionPrivate(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionV2})
	require.NoError(t, err)
	challenge := http.Header{"Www-Authenticate": {`Bearer error="invalid_token", error_description="expired"`}}
	for _, tc := range []struct {
		name         string
		status       int
		header       http.Header
		body         string
		legacy, v2   videoauth.Verdict
		legacyPeeked bool
	}{
		{"200", 200, nil, `{}`, videoauth.VerdictOK, videoauth.VerdictOK, false},
		{"401 challenge", 401, challenge, ``, videoauth.VerdictExpired, videoauth.VerdictExpired, false},
		{"400 challenge", 400, challenge, `{"error":{"code":400}}`, videoauth.VerdictExpired, videoauth.VerdictExpired, false},
		{"403 challenge", 403, challenge, ``, videoauth.VerdictExpired, videoauth.VerdictExpired, false},
		{"401 legacy envelope", 401, nil, `{"error":{"code":401,"message":"A valid access token should be provided","type":"invalid_token"}}`, videoauth.VerdictExpired, videoauth.VerdictExpired, true},
		{"401 v2 envelope", 401, nil, `{"error":{"code":"UNAUTHORIZED","message":"expired"}}`, videoauth.VerdictExpired, videoauth.VerdictExpired, true},
		{"401 bare", 401, nil, `<html>401</html>`, videoauth.VerdictOK, videoauth.VerdictExpired, true},
		{"403 missing scope", 403, nil, `{"error":{"code":403,"message":"Insufficient rights for route GET /user/x/players","type":"access_forbidden"}}`, videoauth.VerdictOK, videoauth.VerdictOK, false},
		{"403 v2 permissions", 403, nil, `{"error":{"code":"MISSING_PERMISSIONS","message":"no"}}`, videoauth.VerdictOK, videoauth.VerdictOK, false},
		{"401 other challenge", 401, http.Header{"Www-Authenticate": {`Bearer error="invalid_request"`}}, ``, videoauth.VerdictOK, videoauth.VerdictExpired, true},
		{"429", 429, nil, `{}`, videoauth.VerdictOK, videoauth.VerdictOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				p    videoauth.Provider
				want videoauth.Verdict
			}{{d, tc.legacy}, {p, tc.v2}} {
				resp := &http.Response{StatusCode: tc.status, Header: tc.header, Body: io.NopCloser(strings.NewReader(tc.body))}
				if resp.Header == nil {
					resp.Header = http.Header{}
				}
				require.Equal(t, c.want, c.p.Verdict(resp), "%T", c.p)
				b, _ := io.ReadAll(resp.Body)
				require.Equal(t, tc.body, string(b), "the body is left for the caller")
			}
		})
	}
}

// Issue item: the stampede: 50 concurrent requests meeting a rejected token
// make one renewal (a refresh for a user token, a mint for a private key)
// and all succeed. Without the Source's single flight, 50 refreshes of one
// rotating refresh token: 49 reuses, which kill the grant.
func TestDailymotionStampedeOneRenewal(t *testing.T) {
	const n = 50
	run := func(t *testing.T, c *http.Client, u string) {
		t.Helper()
		var wg sync.WaitGroup
		var ok atomic.Int32
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := c.Get(u)
				if err == nil {
					if resp.StatusCode == 200 {
						ok.Add(1)
					}
					resp.Body.Close()
				}
			}()
		}
		close(start)
		wg.Wait()
		require.EqualValues(t, n, ok.Load())
	}
	t.Run("public key refresh", func(t *testing.T) {
		fake := dmFake(t, nil)
		d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
		tok := dmSignIn(t, d)
		c := videoauth.NewClient(d, d.Source(tok))
		fake.ExpireToken(tok.AccessToken)
		run(t, c, fake.APIURL+"/me/videos")
		require.Equal(t, 1, fake.Refreshes())
		require.Zero(t, fake.RefreshReuses())
	})
	t.Run("v2 private key mint", func(t *testing.T) {
		fake := dmFake(t, nil)
		p := dmPrivate(t, fake, nil, videoauth.DailymotionV2)
		src := p.ClientCredentials()
		c := videoauth.NewClient(p, src)
		code, _ := get(t, c, fake.APIURL+"/v2/videos")
		require.Equal(t, 200, code)
		fake.ExpireToken(src.Current().AccessToken)
		run(t, c, fake.APIURL+"/v2/videos")
		require.Equal(t, 2, fake.Mints(), "the first token and one replacement")
	})
}

// Issue item: refresh tokens, one refresh per grant across replicas: two
// Sources (two replicas) sharing a Store meet a rejected token at once and
// refresh once; the rotated pair is saved before either uses it, and both
// end with it. Without the Store (the second case) the replicas refresh
// with the same refresh token, the reuse ends the grant, and one of them
// must sign in again — the failure the Store's lock and CompareAndSwap
// prevent.
func TestDailymotionRotationAcrossReplicas(t *testing.T) {
	t.Run("shared store: one refresh", func(t *testing.T) {
		fake := dmFake(t, nil)
		d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
		tok := dmSignIn(t, d)
		store := &videoauth.MemoryStore{}
		require.NoError(t, store.Save(context.Background(), "user", tok))
		var clients []*http.Client
		var srcs []*videoauth.Source
		for range 2 {
			src := d.Source(nil)
			src.Store, src.Key = store, "user"
			srcs = append(srcs, src)
			clients = append(clients, videoauth.NewClient(d, src))
			code, _ := get(t, clients[len(clients)-1], fake.APIURL+"/me/videos")
			require.Equal(t, 200, code)
		}
		fake.ExpireToken(tok.AccessToken)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := clients[i%2].Get(fake.APIURL + "/me/videos")
				if err == nil {
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 1, fake.Refreshes(), "one refresh for both replicas")
		require.Zero(t, fake.RefreshReuses())
		stored, err := store.Load(context.Background(), "user")
		require.NoError(t, err)
		require.NotEqual(t, tok.RefreshToken, stored.RefreshToken, "the rotated refresh token is stored")
		for _, src := range srcs {
			require.Equal(t, stored.AccessToken, src.Current().AccessToken)
		}
	})
	t.Run("no store: the reuse ends the grant", func(t *testing.T) {
		fake := dmFake(t, nil)
		d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
		tok := dmSignIn(t, d)
		a, b := d.Source(tok.Clone()), d.Source(tok.Clone())
		a.Invalidate(a.Current())
		b.Invalidate(b.Current())
		_, err := a.Token(context.Background())
		require.NoError(t, err)
		_, err = b.Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Equal(t, 1, fake.RefreshReuses())
		code, _ := get(t, videoauth.NewClient(d, a), fake.APIURL+"/me/videos")
		require.NotEqual(t, 200, code, "reuse detection ended a's grant too")
	})
}

// A refresh ahead of expiry (in the background) and a rejection-driven
// refresh at the same time make one refresh; a sign-in saved during a
// renewal wins over it.
func TestDailymotionRotationRaces(t *testing.T) {
	t.Run("refresh-ahead meets a 401", func(t *testing.T) {
		clock := videoauthtest.NewClock(time.Now())
		fake := dmFake(t, clock)
		rec := &obsRecorder{}
		app := dmApp(fake, clock)
		app.Observer = rec
		d, err := videoauth.NewDailymotion(app, videoauth.DailymotionConfig{})
		require.NoError(t, err)
		tok := dmSignIn(t, d)
		src := d.Source(tok)
		c := videoauth.NewClient(d, src)
		fake.SetLatency(20 * time.Millisecond)         // the background refresh is in flight...
		clock.Advance(36000*time.Second - time.Minute) // inside the refresh-ahead window, still usable
		fake.ExpireToken(tok.AccessToken)              // ...when the API rejects the token
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := dmDo(t, c, http.MethodGet, fake.APIURL+"/me/videos", "")
				require.Equal(t, 200, code)
			}()
		}
		wg.Wait()
		require.Equal(t, 1, fake.Refreshes())
		require.Zero(t, fake.RefreshReuses())
		starts := rec.of(videoauth.EventMintStart)
		require.Len(t, starts, 1)
		require.True(t, starts[0].Background, "the one refresh is the refresh-ahead, which the rejected requests joined")
	})
	t.Run("a new sign-in saved during a renewal wins", func(t *testing.T) {
		fake := dmFake(t, nil)
		d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
		old := dmSignIn(t, d)
		store := &videoauth.MemoryStore{}
		require.NoError(t, store.Save(context.Background(), "user", old))
		src := d.Source(nil)
		src.Store, src.Key = store, "user"
		_, err := src.Token(context.Background())
		require.NoError(t, err)
		fake.SetLatency(50 * time.Millisecond)
		src.Invalidate(src.Current())
		done := make(chan error, 1)
		go func() { _, err := src.Token(context.Background()); done <- err }()
		require.Eventually(t, func() bool { return fake.Refreshes() == 1 }, 5*time.Second, time.Millisecond)
		fake.SetLatency(0)
		fresh := dmSignIn(t, d)
		require.NoError(t, src.SaveToken(context.Background(), fresh))
		<-done
		stored, err := store.Load(context.Background(), "user")
		require.NoError(t, err)
		require.Equal(t, fresh.AccessToken, stored.AccessToken, "the sign-in is not overwritten")
		require.Equal(t, fresh.AccessToken, src.Current().AccessToken)
	})
}

// Issue item: the password grant only behind an explicit opt-in. Without
// InsecurePasswordGrant nothing is sent; with it, a refreshable token, and
// wrong credentials typed.
func TestDailymotionPasswordGrantOptIn(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	_, err := d.Password(context.Background(), fake.Username, fake.Password)
	require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant)
	require.Zero(t, fake.TokenCalls(), "nothing sent without the opt-in")

	d = dmPublic(t, fake, nil, videoauth.DailymotionConfig{InsecurePasswordGrant: true})
	tok, err := d.Password(context.Background(), fake.Username, fake.Password, videoauth.DailymotionScopeManageVideos)
	require.NoError(t, err)
	require.Equal(t, "x1fakeuser", tok.UserID)
	require.NotEmpty(t, tok.RefreshToken, "password tokens refresh")
	require.Equal(t, "manage_videos", fake.LastTokenForm().Get("scope"))
	_, err = d.Password(context.Background(), fake.Username, "wrong")
	require.ErrorIs(t, err, videoauth.ErrInvalidCredentials)
	require.NotContains(t, err.Error(), "wrong")
	_, err = d.Password(context.Background(), "", "")
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	require.Equal(t, 2, fake.PasswordGrants())
}

// Issue item: the implicit grant, as the JS SDK uses it.
func TestDailymotionImplicitGrant(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	ar, err := d.ImplicitRequest("", videoauth.DailymotionScopeEmail)
	require.NoError(t, err)
	require.Empty(t, ar.Verifier, "no PKCE in the implicit grant")
	loc := follow(t, ar.URL)
	require.Equal(t, "token", fake.LastAuthorizeQuery().Get("response_type"))
	tok, err := d.ImplicitToken(ar, loc.String())
	require.NoError(t, err)
	require.Equal(t, "x1fakeuser", tok.UserID)
	require.Empty(t, tok.RefreshToken)
	_, err = d.ImplicitToken(ar, loc.String())
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	_, err = d.Exchange(context.Background(), ar, url.Values{})
	require.ErrorIs(t, err, videoauth.ErrStateMismatch, "an implicit request is not a code-flow request")
	code, _ := get(t, videoauth.NewClient(d, d.Source(tok)), fake.APIURL+"/auth")
	require.Equal(t, 200, code)
}

// Issue item: a private key on API v2: client_credentials at
// oauth2.dailymotion.com/v2/token, short JWTs re-minted, no refresh; the
// token goes to /v2 paths only. Owns not checking the path makes the
// legacy request below carry the JWT.
func TestDailymotionPrivateV2(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now())
	fake := dmFake(t, clock)
	p := dmPrivate(t, fake, clock, videoauth.DailymotionV2)
	src := p.ClientCredentials(videoauth.DailymotionScopeBundleUser)
	c := videoauth.NewClient(p, src)
	code, body := dmDo(t, c, http.MethodPost, fake.APIURL+"/v2/videos", `{"title":"cats"}`)
	require.Equal(t, 201, code, body)
	tok := src.Current()
	require.Len(t, strings.Split(tok.AccessToken, "."), 3, "a JWT")
	require.Empty(t, tok.RefreshToken)
	require.WithinDuration(t, clock.Now().Add(1800*time.Second), tok.Expiry, time.Second)
	require.Equal(t, "v2", tok.Meta["dailymotion_key"])
	form := fake.LastTokenForm()
	require.Equal(t, "client_credentials", form.Get("grant_type"))
	require.Equal(t, fake.PrivateKey, form.Get("client_id"))
	require.Equal(t, "bundle.user", form.Get("scope"))

	// Expiry: a new mint, no refresh.
	clock.Advance(30 * time.Minute)
	code, _ = get(t, c, fake.APIURL+"/v2/videos")
	require.Equal(t, 200, code)
	require.Equal(t, 2, fake.Mints())
	require.Zero(t, fake.Refreshes())

	// The token goes to /v2 only: the legacy path on the same host gets none.
	code, _ = get(t, c, fake.APIURL+"/me/videos")
	require.Equal(t, 400, code, "sent without a credential")
	require.Equal(t, "api: no Bearer token", fake.LastMalformed(), "the fake saw the request unauthenticated")
	fake.allowed++
	require.False(t, p.Owns(mustURL(t, fake.APIURL+"/video/x1")))
	require.True(t, p.Owns(mustURL(t, fake.APIURL+"/v2/me")))
	require.ErrorIs(t, src.Revoke(context.Background()), videoauth.ErrUnsupportedGrant, "no revocation for v2 tokens")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// Issue item: the legacy partner endpoint for private keys as an option.
func TestDailymotionPrivatePartner(t *testing.T) {
	fake := dmFake(t, nil)
	p := dmPrivate(t, fake, nil, videoauth.DailymotionPartner)
	src := p.ClientCredentials(videoauth.DailymotionScopeManageVideos)
	c := videoauth.NewClient(p, src)
	code, body := dmDo(t, c, http.MethodPost, fake.PartnerURL+"/rest/me/videos", `{"title":"x"}`)
	require.Equal(t, 200, code, body)
	require.Equal(t, "partner", src.Current().Meta["dailymotion_key"])
	require.Equal(t, []string{"manage_videos"}, src.Current().Scopes)
	id, err := p.Identify(context.Background(), src.Current())
	require.NoError(t, err)
	require.Equal(t, "x9fakeorg", id.UserID)
	require.Equal(t, "Fake Org", id.Name)
	fake.ExpireToken(src.Current().AccessToken)
	code, _ = get(t, c, fake.PartnerURL+"/rest/auth")
	require.Equal(t, 200, code, "re-minted and replayed")
	require.Equal(t, 2, fake.Mints())
}

// The key/endpoint matrix: a token of one kind of key is refused by the
// other's provider before anything is sent, and a v2 provider pointed at a
// fake API with the real token endpoint is refused.
func TestDailymotionKeyMatrix(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	p := dmPrivate(t, fake, nil, videoauth.DailymotionV2)
	user := dmSignIn(t, d)
	app, err := p.ClientCredentials().Token(context.Background())
	require.NoError(t, err)
	code, _ := get(t, videoauth.NewClient(p, p.ClientCredentials()), fake.APIURL+"/v2/me")
	require.Equal(t, 200, code)
	calls := fake.APICalls()
	src := d.Source(app)
	_, err = videoauth.NewClient(d, src).Get(fake.APIURL + "/auth")
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "a v2 token is not sent by the public-key provider")
	req, _ := http.NewRequest(http.MethodGet, fake.APIURL+"/v2/me", nil)
	require.ErrorIs(t, p.Authorize(req, user), videoauth.ErrInvalidConfig, "a user token is not a private key's")
	require.Equal(t, calls, fake.APICalls(), "nothing sent")

	_, err = videoauth.NewDailymotionPrivate(videoauth.App{ClientID: "k", ClientSecret: "s", APIURL: fake.APIURL},
		videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionV2})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "the secret would go to the real token host")
	_, err = videoauth.NewDailymotionPrivate(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionPrivateConfig{})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	p2, err := videoauth.NewDailymotionPrivate(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionV2})
	require.NoError(t, err)
	require.Equal(t, "https://oauth2.dailymotion.com/v2/token", p2.Config().Endpoint.TokenURL)
	p3, err := videoauth.NewDailymotionPrivate(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionPartner})
	require.NoError(t, err)
	require.Equal(t, "https://partner.api.dailymotion.com/oauth/v1/token", p3.Config().Endpoint.TokenURL)
	require.True(t, p3.Owns(mustURL(t, "https://partner.api.dailymotion.com/rest/me/videos")))
	require.False(t, p3.Owns(mustURL(t, "https://api.dailymotion.com/me")))

	// The public key's client_credentials (legacy, undocumented) is not
	// offered; the fake refuses it as Dailymotion documents.
	require.Equal(t, 0, fake.Refreshes())
}

// Issue item: error bodies carry an integer code (legacy) or a string code
// (v2); both are typed, as are the token endpoints' RFC 6749 errors.
func TestDailymotionErrorsAreTyped(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	p := dmPrivate(t, fake, nil, videoauth.DailymotionV2)
	user := videoauth.NewClient(d, d.Source(dmSignIn(t, d)))
	app := videoauth.NewClient(p, p.ClientCredentials(videoauth.DailymotionScopeBundlePublic))
	check := func(c *http.Client, prov videoauth.Provider, method, u string, status int, code string, want error) *videoauth.Error {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, status, resp.StatusCode)
		err = videoauth.CheckResponse(prov, resp)
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, code, e.Code)
		if want != nil {
			require.ErrorIs(t, err, want)
		} else {
			require.Nil(t, e.Err, "%v", e)
		}
		return e
	}
	e := check(user, d, http.MethodGet, fake.APIURL+"/video/xnotfound", 404, "404", nil)
	require.Contains(t, e.Description, "Can't find object video")
	check(user, d, http.MethodGet, fake.APIURL+"/video/x1?fields=bogus", 400, "400", videoauth.ErrInvalidRequest)
	check(user, d, http.MethodGet, fake.APIURL+"/me/players", 403, "403", videoauth.ErrForbidden)
	check(app, p, http.MethodGet, fake.APIURL+"/v2/nothing", 404, "RESOURCE_NOT_FOUND", nil)
	check(app, p, http.MethodPost, fake.APIURL+"/v2/videos", 403, "MISSING_PERMISSIONS", videoauth.ErrForbidden)
	fake.RateLimitNext(1)
	e = check(user, d, http.MethodGet, fake.APIURL+"/auth", 429, "429", videoauth.ErrRateLimited)
	require.Equal(t, 3*time.Second, e.RetryAfter)
	require.Zero(t, fake.Refreshes(), "nothing above is a dead token")

	// Token endpoints.
	fake.FailTokenCalls(1, videoauthtest.Fail5xx)
	_, err := p.ClientCredentials().Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrServer)
	fake.FailTokenCalls(1, videoauthtest.FailHTML) // a proxy's 502 page
	_, err = p.ClientCredentials().Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrServer)
	_, err = p.ClientCredentials("no.such.scope").Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrInvalidScope)
	bad, c := dmPrivateApp(fake, nil, videoauth.DailymotionV2)
	bad.ClientSecret = "wrong"
	pb, err := videoauth.NewDailymotionPrivate(bad, c)
	require.NoError(t, err)
	_, err = pb.ClientCredentials().Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)
	// A public key at the v2 endpoint is refused [C: private keys only].
	pub, c := dmPrivateApp(fake, nil, videoauth.DailymotionV2)
	pub.ClientID, pub.ClientSecret = fake.PublicKey, fake.PublicSecret
	pp, err := videoauth.NewDailymotionPrivate(pub, c)
	require.NoError(t, err)
	_, err = pp.ClientCredentials().Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)
}

// A dead refresh token means a new sign-in, without a loop: one refresh,
// then nothing is sent.
func TestDailymotionRevokedGrantNoLoop(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	tok := dmSignIn(t, d)
	src := d.Source(tok)
	var revoked atomic.Int32
	src.OnRevoked = func(*videoauth.Token) { revoked.Add(1) }
	c := videoauth.NewClient(d, src)
	fake.RevokeGrant(tok.RefreshToken) // the user removed the app
	resp, err := c.Get(fake.APIURL + "/me/videos")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.ErrorIs(t, videoauth.CheckResponse(d, resp), videoauth.ErrReauthRequired)
	resp.Body.Close()
	for range 5 {
		_, err = c.Get(fake.APIURL + "/me/videos")
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	}
	require.Equal(t, 1, fake.Refreshes())
	require.Equal(t, 1, fake.APICalls())
	require.EqualValues(t, 1, revoked.Load())
}

// Issue item: revocation. Source.Revoke logs out (GET /logout with the
// Bearer header); the access and refresh tokens die and the Source asks for
// a new sign-in without sending anything. An expired access token is
// refreshed first, since /logout needs a live one.
func TestDailymotionRevoke(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now())
	fake := dmFake(t, clock)
	d := dmPublic(t, fake, clock, videoauth.DailymotionConfig{})
	tok := dmSignIn(t, d)
	src := d.Source(tok)
	require.NoError(t, src.Revoke(context.Background()))
	require.Equal(t, 1, fake.Logouts())
	require.Equal(t, "Bearer "+tok.AccessToken, fake.LastRequest().Header.Get("Authorization"))
	require.Equal(t, http.MethodGet, fake.LastRequest().Method)
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	_, err = d.Source(tok).Token(context.Background())
	require.NoError(t, err, "a fresh Source still holds the token in memory...")
	r := d.Source(tok)
	r.Invalidate(r.Current())
	_, err = r.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired, "...but its refresh token is dead at Dailymotion")

	// Expired access token: refreshed, then logged out.
	tok2 := dmSignIn(t, d)
	clock.Advance(11 * time.Hour)
	refreshes := fake.Refreshes()
	require.NoError(t, d.Revoke(context.Background(), tok2))
	require.Equal(t, refreshes+1, fake.Refreshes())
	require.Equal(t, 2, fake.Logouts())
	// Already dead: counts as revoked.
	require.NoError(t, d.Revoke(context.Background(), tok2))
	require.ErrorIs(t, d.Revoke(context.Background(), nil), videoauth.ErrInvalidConfig)
	require.ErrorIs(t, d.Revoke(context.Background(), &videoauth.Token{Provider: "vimeo", AccessToken: "x"}), videoauth.ErrInvalidConfig)
}

// Identify: GET /auth for a user token, GET /v2/me for a v2 key (which
// needs account.read), typed failures.
func TestDailymotionIdentify(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	tok := dmSignIn(t, d)
	id, err := d.Identify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "x1fakeuser", id.UserID)
	require.Equal(t, "Fake User", id.Name)
	require.Equal(t, "dailymotion", id.Provider)
	fake.ExpireToken(tok.AccessToken)
	_, err = d.Identify(context.Background(), tok)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired, "a user token with a refresh token: refresh and ask again")
	tok.RefreshToken = ""
	_, err = d.Identify(context.Background(), tok)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)

	p := dmPrivate(t, fake, nil, videoauth.DailymotionV2)
	appTok, err := p.ClientCredentials(videoauth.DailymotionScopeAccountRead).Token(context.Background())
	require.NoError(t, err)
	id, err = p.Identify(context.Background(), appTok)
	require.NoError(t, err)
	require.Equal(t, "x9fakeorg", id.UserID)
	require.Equal(t, "fakeprofile", id.Name)
	noRead, err := p.ClientCredentials(videoauth.DailymotionScopeBundlePublic).Token(context.Background())
	require.NoError(t, err)
	_, err = p.Identify(context.Background(), noRead)
	require.ErrorIs(t, err, videoauth.ErrForbidden)
	fake.ExpireToken(appTok.AccessToken)
	_, err = p.Identify(context.Background(), appTok)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired, "client credentials mint another")
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "identify", e.Op)
	require.NotContains(t, string(e.Body), appTok.AccessToken)
}

// App.Observer reaches every Source the providers build.
func TestDailymotionObserver(t *testing.T) {
	fake := dmFake(t, nil)
	rec := &obsRecorder{}
	app, c := dmPrivateApp(fake, nil, videoauth.DailymotionV2)
	app.Observer = rec
	p, err := videoauth.NewDailymotionPrivate(app, c)
	require.NoError(t, err)
	src := p.ClientCredentials()
	client := videoauth.NewClient(p, src)
	code, _ := get(t, client, fake.APIURL+"/v2/videos")
	require.Equal(t, 200, code)
	fake.ExpireToken(src.Current().AccessToken)
	code, _ = get(t, client, fake.APIURL+"/v2/videos")
	require.Equal(t, 200, code)
	require.Len(t, rec.of(videoauth.EventMintEnd), 2)
	require.Equal(t, "client_credentials", rec.of(videoauth.EventMintEnd)[0].Op)
	require.Equal(t, "dailymotion", rec.of(videoauth.EventMintEnd)[0].Provider)
	require.Len(t, rec.of(videoauth.EventRejected), 1)
	require.Len(t, rec.of(videoauth.EventReplay), 1)

	pub := dmApp(fake, nil)
	pub.Observer = rec
	d, err := videoauth.NewDailymotion(pub, videoauth.DailymotionConfig{})
	require.NoError(t, err)
	s := d.Source(dmSignIn(t, d))
	s.Invalidate(s.Current())
	_, err = s.Token(context.Background())
	require.NoError(t, err)
	ends := rec.of(videoauth.EventMintEnd)
	require.Equal(t, "refresh", ends[len(ends)-1].Op)
}

// Nothing secret prints: providers, tokens, sources and errors under %v,
// %+v, %#v, %s, %q and slog's JSON and text handlers.
func TestDailymotionSecretsNeverPrinted(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{InsecurePasswordGrant: true})
	p := dmPrivate(t, fake, nil, videoauth.DailymotionV2)
	tok := dmSignIn(t, d)
	src := d.Source(tok)
	appSrc := p.ClientCredentials()
	appTok, err := appSrc.Token(context.Background())
	require.NoError(t, err)
	_, pwErr := d.Password(context.Background(), fake.Username, "SENTINEL-password")
	require.Error(t, pwErr)
	fake.ExpireToken(tok.AccessToken)
	_, idErr := d.Identify(context.Background(), &videoauth.Token{Provider: "dailymotion", AccessToken: tok.AccessToken})
	require.Error(t, idErr)
	ar, err := d.AuthRequest("")
	require.NoError(t, err)
	secrets := []string{fake.PublicSecret, fake.PrivateSecret, tok.AccessToken, tok.RefreshToken, appTok.AccessToken, "SENTINEL-password", ar.State, ar.Verifier}
	values := []any{d, *d, p, *p, tok, *tok, src, appSrc, pwErr, idErr, ar, []any{d, p, tok, pwErr}}
	var logs bytes.Buffer
	jl := slog.New(slog.NewJSONHandler(&logs, nil))
	tl := slog.New(slog.NewTextHandler(&logs, nil))
	var out []string
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		jl.Info("x", "v", v)
		tl.Info("x", "v", v)
		if b, err := json.Marshal(v); err == nil {
			out = append(out, string(b))
		}
	}
	out = append(out, logs.String())
	for _, o := range out {
		for _, s := range secrets {
			require.NotContains(t, o, s)
		}
	}
	require.Contains(t, fmt.Sprint(d), "videoauth.Dailymotion{")
	require.Contains(t, fmt.Sprint(p), "videoauth.DailymotionPrivate[v2]{")
}

// The Transport sends exactly what Authorize sets, with the credential
// built once per token.
func TestDailymotionTransportSendsWhatAuthorizeSets(t *testing.T) {
	d, err := videoauth.NewDailymotion(videoauth.App{ClientID: "k", ClientSecret: "s"}, videoauth.DailymotionConfig{})
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "dailymotion", AccessToken: "at", TokenType: "Bearer", Meta: map[string]string{"dailymotion_key": "public"}}
	rec := &styleRecorder{}
	tr := &videoauth.Transport{Provider: d, Source: d.Source(tok), Base: rec}
	req, _ := http.NewRequest(http.MethodGet, videoauth.DailymotionAPIURL+"/me?fields=id", nil)
	req.Header.Set("X-Caller", "1")
	for range 2 {
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	want := req.Clone(context.Background())
	require.NoError(t, d.Authorize(want, tok))
	for _, s := range rec.take(t) {
		require.Equal(t, want.Header, s.Header)
		require.Equal(t, want.URL.String(), s.URL)
	}
	require.Empty(t, req.Header.Get("Authorization"), "the caller's request is not modified")
	// A request to another host gets nothing.
	other, _ := http.NewRequest(http.MethodGet, "https://www.dailymotion.com/video/x1", nil)
	resp, err := tr.RoundTrip(other)
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, rec.take(t)[0].Header.Get("Authorization"))
	tok2 := tok.Clone()
	tok2.TokenType = "mac"
	require.ErrorIs(t, d.Authorize(req.Clone(context.Background()), tok2), videoauth.ErrUnsupportedTokenType)
}

// The child role of TestDailymotionTwoProcessesRefreshOnce, selected by
// the environment; with no environment it does nothing.
func TestDailymotionProcessChild(t *testing.T) {
	env := func(k string) string { return os.Getenv("VIDEOAUTH_DM_" + k) }
	if env("CHILD") == "" {
		return
	}
	d, err := videoauth.NewDailymotion(videoauth.App{ClientID: env("KEY"), ClientSecret: env("SECRET"), APIURL: env("API"), WebURL: env("WEB")},
		videoauth.DailymotionConfig{})
	require.NoError(t, err)
	store, err := videoauth.NewFileStore(env("DIR"))
	require.NoError(t, err)
	src := d.Source(nil)
	src.Store, src.Key = store, "user"
	c := videoauth.NewClient(d, src)
	require.NoError(t, os.WriteFile(env("OUT")+".ready", nil, 0o600))
	require.Eventually(t, func() bool { _, err := os.Stat(env("START")); return err == nil }, 20*time.Second, time.Millisecond)
	code, body := get(t, c, env("API")+"/me/videos")
	require.Equal(t, 200, code, body)
	require.NoError(t, os.WriteFile(env("OUT"), []byte(src.Current().AccessToken), 0o600))
}

// Issue item: one refresh per grant across processes. Two OS processes
// share a FileStore holding one grant whose access token Dailymotion has
// just rejected; both meet the rejection at once. One refresh (the store's
// lock), no rotated refresh token used twice (a reuse would end the
// grant), both end with the stored, rotated pair. With the Store removed
// from the child, the fake sees two refreshes and one reuse.
func TestDailymotionTwoProcessesRefreshOnce(t *testing.T) {
	fake := dmFake(t, nil)
	d := dmPublic(t, fake, nil, videoauth.DailymotionConfig{})
	tok := dmSignIn(t, d)
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	require.NoError(t, store.Save(context.Background(), "user", tok))
	fake.ExpireToken(tok.AccessToken)

	start := filepath.Join(dir, "start")
	var children []*exec.Cmd
	var outs []string
	for i := range 2 {
		out := filepath.Join(dir, "out"+string(rune('a'+i)))
		cmd := exec.Command(os.Args[0], "-test.run=^TestDailymotionProcessChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "VIDEOAUTH_DM_CHILD=1", "VIDEOAUTH_DM_KEY="+fake.PublicKey, "VIDEOAUTH_DM_SECRET="+fake.PublicSecret,
			"VIDEOAUTH_DM_API="+fake.APIURL, "VIDEOAUTH_DM_WEB="+fake.WebURL, "VIDEOAUTH_DM_DIR="+store.Dir(),
			"VIDEOAUTH_DM_START="+start, "VIDEOAUTH_DM_OUT="+out)
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
		require.Eventually(t, func() bool { _, err := os.Stat(out + ".ready"); return err == nil }, 30*time.Second, time.Millisecond)
	}
	require.NoError(t, os.WriteFile(start, nil, 0o600))
	for _, cmd := range children {
		require.NoError(t, cmd.Wait())
	}
	require.Equal(t, 1, fake.Refreshes(), "one refresh across both processes")
	require.Zero(t, fake.RefreshReuses(), "no rotated refresh token used twice")
	a, err := os.ReadFile(outs[0])
	require.NoError(t, err)
	b, err := os.ReadFile(outs[1])
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
	stored, err := store.Load(context.Background(), "user")
	require.NoError(t, err)
	require.Equal(t, string(a), stored.AccessToken, "the stored token is the one in use")
	require.NotEqual(t, tok.RefreshToken, stored.RefreshToken, "the rotated refresh token was saved")
}
