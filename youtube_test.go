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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// ytStart is the tests' clock start: 09:10:11 UTC, 02:10:11 PDT.
var ytStart = time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)

// ytLog is a goroutine-safe log buffer.
type ytLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *ytLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *ytLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ytEnv is a fake Google with providers for its Web and TV clients, on one
// manual clock.
type ytEnv struct {
	fake  *videoauthtest.YouTube
	yt    *videoauth.YouTube // the Web/Desktop client
	tv    *videoauth.YouTube // the TV client
	clock *videoauthtest.Clock
	log   *ytLog
}

// ytApp is the App of fake's Web client (tv: its TV client).
func ytApp(fake *videoauthtest.YouTube, clock videoauth.Clock, log io.Writer, tv bool) videoauth.App {
	a := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, RedirectURL: "https://app.example/callback",
		APIURL: fake.APIURL, WebURL: fake.WebURL, Clock: clock}
	if tv {
		a.ClientID, a.ClientSecret = fake.TVClientID, fake.TVClientSecret
	}
	if log != nil {
		a.Logger = slog.New(slog.NewJSONHandler(log, nil))
	}
	return a
}

// setupYouTube starts a fake and the providers; at the end the fake must
// have seen no malformed request, no plain PKCE challenge and no token in
// a query.
func setupYouTube(t *testing.T) *ytEnv {
	t.Helper()
	env := &ytEnv{fake: videoauthtest.NewYouTube(), clock: videoauthtest.NewClock(ytStart), log: &ytLog{}}
	t.Cleanup(env.fake.Close)
	env.fake.SetClock(env.clock)
	t.Cleanup(func() {
		require.Zero(t, env.fake.Malformed(), "the fake saw a malformed request")
		require.Zero(t, env.fake.PlainChallenges(), "an authorize request had a plain PKCE challenge")
		require.Zero(t, env.fake.QueryTokens(), "an API call carried its token in the query")
	})
	var err error
	env.yt, err = videoauth.NewYouTube(ytApp(env.fake, env.clock, env.log, false))
	require.NoError(t, err)
	env.tv, err = videoauth.NewYouTube(ytApp(env.fake, env.clock, env.log, true))
	require.NoError(t, err)
	return env
}

// signIn runs flow's code flow through the fake's consent page.
func (env *ytEnv) signIn(t *testing.T, flow videoauth.CodeFlow, scopes ...string) (*videoauth.Token, *videoauth.AuthRequest) {
	t.Helper()
	ar, err := flow.AuthRequest("", scopes...)
	require.NoError(t, err)
	loc := follow(t, ar.URL)
	tok, err := flow.Exchange(context.Background(), ar, loc.Query())
	require.NoError(t, err)
	return tok, ar
}

func ytGet(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (env *ytEnv) channels() string {
	return env.fake.APIURL + "/youtube/v3/channels?part=snippet&mine=true"
}

// Issue: access_type=offline, prompt=consent only without a stored refresh
// token, PKCE with code_challenge_method=S256 sent explicitly,
// client_secret always sent.
func TestYouTubeCodeFlowParameters(t *testing.T) {
	env := setupYouTube(t)
	ar, err := env.yt.AuthRequest("", videoauth.YouTubeScope)
	require.NoError(t, err)
	u, err := url.Parse(ar.URL)
	require.NoError(t, err)
	require.Equal(t, env.fake.WebURL+"/o/oauth2/v2/auth", u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	require.Equal(t, "offline", q.Get("access_type"))
	require.Equal(t, "consent", q.Get("prompt"), "no refresh token is stored: consent is forced")
	require.Equal(t, "S256", q.Get("code_challenge_method"), "sent explicitly: Google's default is plain")
	require.NotEmpty(t, q.Get("code_challenge"))
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, videoauth.YouTubeScope, q.Get("scope"))
	require.Equal(t, env.fake.ClientID, q.Get("client_id"))
	require.Equal(t, "https://app.example/callback", q.Get("redirect_uri"))
	require.Len(t, q.Get("state"), 43, "256-bit state")

	loc := follow(t, ar.URL)
	tok, err := env.yt.Exchange(context.Background(), ar, loc.Query())
	require.NoError(t, err)
	require.Equal(t, url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {"https://app.example/callback"},
		"code_verifier": {ar.Verifier}, "client_id": {env.fake.ClientID}, "client_secret": {env.fake.ClientSecret},
	}, env.fake.LastTokenForm(), "client_secret with PKCE, in the body")
	require.Equal(t, "youtube", tok.Provider)
	require.NotEmpty(t, tok.RefreshToken, "offline + consent: a refresh token")
	require.Equal(t, []string{videoauth.YouTubeScope}, tok.Scopes, "the space-delimited scope string")
	require.Equal(t, ytStart.Add(3599*time.Second), tok.Expiry)
	require.Equal(t, 1, env.fake.Consents())
	require.Equal(t, 1, env.fake.Exchanges())

	// A replayed callback is refused before reaching Google.
	_, err = env.yt.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, env.fake.Exchanges())
}

// Issue: prompt=consent only when no refresh token is stored — each
// consent counts toward Google's 100 refresh tokens per account and
// client, and the 101st silently kills the oldest; a sign-in without
// consent returns no refresh token, and the stored one is kept.
func TestYouTubeSignInWithStoredRefreshTokenSkipsConsent(t *testing.T) {
	env := setupYouTube(t)
	first, _ := env.signIn(t, env.yt.SignIn(nil))
	require.Equal(t, 1, env.fake.RefreshTokensIssued())

	again, ar := env.signIn(t, env.yt.SignIn(first))
	require.NotContains(t, ar.URL, "prompt=", "a refresh token is stored: no forced consent")
	require.Equal(t, "offline", env.fake.LastAuthorizeQuery().Get("access_type"))
	require.Equal(t, 1, env.fake.Consents(), "Google showed no consent screen")
	require.Equal(t, 1, env.fake.RefreshTokensIssued(), "no new refresh token was minted")
	require.NotEqual(t, first.AccessToken, again.AccessToken)
	require.Equal(t, first.RefreshToken, again.RefreshToken, "the answer had no refresh_token: the stored one is kept, never blanked")

	// The kept refresh token works.
	src := env.yt.Source(again)
	env.clock.Advance(time.Hour)
	renewed, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, first.RefreshToken, renewed.RefreshToken)
	require.Equal(t, 1, env.fake.Refreshes())

	// What forcing consent every time does: 100 more consents push the
	// first refresh token out, silently.
	for range 100 {
		env.signIn(t, env.yt.SignIn(nil))
	}
	require.Equal(t, 101, env.fake.RefreshTokensIssued())
	require.Equal(t, 100, env.fake.LiveRefreshTokens())
	env.clock.Advance(time.Hour)
	_, err = src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Contains(t, err.Error(), "100 refresh tokens per account and client")
}

// Issue: loopback on 127.0.0.1 with a random port (installed apps).
func TestYouTubeLoopback(t *testing.T) {
	env := setupYouTube(t)
	var opened string
	tok, err := videoauth.Loopback(context.Background(), env.yt, videoauth.LoopbackConfig{Open: func(u string) error {
		opened = u
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}})
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	q := env.fake.LastAuthorizeQuery()
	ru, err := url.Parse(q.Get("redirect_uri"))
	require.NoError(t, err)
	require.Equal(t, "http", ru.Scheme)
	require.Equal(t, "127.0.0.1", ru.Hostname())
	require.NotEmpty(t, ru.Port())
	require.NotEqual(t, "80", ru.Port())
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.Contains(t, opened, "access_type=offline")
	require.Equal(t, q.Get("redirect_uri"), env.fake.LastTokenForm().Get("redirect_uri"))

	// Signing in again with the stored token shows no consent.
	tok2, err := videoauth.Loopback(context.Background(), env.yt.SignIn(tok), videoauth.LoopbackConfig{Open: func(u string) error {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}})
	require.NoError(t, err)
	require.Equal(t, tok.RefreshToken, tok2.RefreshToken)
	require.Equal(t, 1, env.fake.Consents())
}

// Issue (installed apps): the out-of-band flow and custom schemes are
// gone, and google.ConfigFromJSON's portless http://localhost cannot
// work: refused before anything is sent.
func TestYouTubeRedirectsGoogleNoLongerServes(t *testing.T) {
	env := setupYouTube(t)
	for _, redirect := range []string{
		"urn:ietf:wg:oauth:2.0:oob", "urn:ietf:wg:oauth:2.0:oob:auto", "http://localhost", "http://127.0.0.1/callback",
		"com.example.app:/oauth2redirect", "http://app.example/callback", "/callback", "https://app.example/cb#frag",
	} {
		_, err := env.yt.AuthRequest(redirect)
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, redirect)
	}
	for _, redirect := range []string{"http://localhost:8080/cb", "http://[::1]:9/cb", "https://app.example/callback"} {
		_, err := env.yt.AuthRequest(redirect)
		require.NoError(t, err, redirect)
	}
	noRedirect := ytApp(env.fake, env.clock, nil, false)
	noRedirect.RedirectURL = ""
	p, err := videoauth.NewYouTube(noRedirect)
	require.NoError(t, err)
	_, err = p.AuthRequest("")
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
}

// Issue: client_secret always sent — an App without one is refused at
// construction, and the fake shows what Google answers without it.
func TestYouTubeClientSecretRequired(t *testing.T) {
	env := setupYouTube(t)
	app := ytApp(env.fake, nil, nil, false)
	app.ClientSecret = ""
	_, err := videoauth.NewYouTube(app)
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	_, err = videoauth.NewYouTube(videoauth.App{ClientSecret: "s"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)

	// Every token request of a Source carries it too.
	access, refresh := env.fake.IssueToken(videoauth.YouTubeScopeReadOnly)
	src := env.yt.Source(&videoauth.Token{Provider: "youtube", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: ytStart.Add(-time.Minute)})
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	f := env.fake.LastTokenForm()
	require.Equal(t, env.fake.ClientSecret, f.Get("client_secret"))
	require.Equal(t, "refresh_token", f.Get("grant_type"))
	require.Equal(t, refresh, f.Get("refresh_token"))
}

// PKCE binds the code: a verifier that does not match is invalid_grant,
// typed ErrCodeUsed, never retried.
func TestYouTubePKCEMismatch(t *testing.T) {
	env := setupYouTube(t)
	ar, err := env.yt.AuthRequest("")
	require.NoError(t, err)
	loc := follow(t, ar.URL)
	ar.Verifier = strings.Repeat("x", 43)
	_, err = env.yt.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrCodeUsed)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "invalid_grant", e.Code)
	require.Equal(t, 1, env.fake.Exchanges(), "one attempt")
}

func TestYouTubeDenialAndIssuer(t *testing.T) {
	env := setupYouTube(t)
	env.fake.DenyConsent(true)
	ar, err := env.yt.AuthRequest("")
	require.NoError(t, err)
	_, err = env.yt.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	require.Zero(t, env.fake.TokenCalls())
	env.fake.DenyConsent(false)

	for _, tc := range []struct {
		iss  string
		want error
	}{
		{"https://accounts.google.com", nil},
		{"accounts.google.com", nil},
		{"https://evil.example", videoauth.ErrIssuerMismatch},
	} {
		ar, err := env.yt.AuthRequest("")
		require.NoError(t, err)
		q := follow(t, ar.URL).Query()
		q.Set("iss", tc.iss)
		// A wrong state is refused as such, whatever the iss, and consumes nothing.
		bad := url.Values{"state": {"wrong"}, "code": {"x"}, "iss": {tc.iss}}
		_, err = env.yt.Exchange(context.Background(), ar, bad)
		require.ErrorIs(t, err, videoauth.ErrStateMismatch)
		_, err = env.yt.Exchange(context.Background(), ar, q)
		if tc.want == nil {
			require.NoError(t, err, tc.iss)
		} else {
			require.ErrorIs(t, err, tc.want, tc.iss)
			_, err = env.yt.Exchange(context.Background(), ar, q)
			require.ErrorIs(t, err, videoauth.ErrStateUsed, "the request was consumed")
		}
	}
}

// Granular consent: the user may untick a scope; the granted list is what
// Google's scope string says, and App.Logger hears of the missing one.
func TestYouTubeGranularConsent(t *testing.T) {
	env := setupYouTube(t)
	env.fake.WithholdScope(videoauth.YouTubeScopeUpload)
	tok, _ := env.signIn(t, env.yt, videoauth.YouTubeScopeReadOnly, videoauth.YouTubeScopeUpload)
	require.Equal(t, []string{videoauth.YouTubeScopeReadOnly}, tok.Scopes)
	require.ErrorIs(t, tok.RequireScopes(videoauth.YouTubeScopeUpload), videoauth.ErrScopeNotGranted)
	require.Contains(t, env.log.String(), "granted fewer scopes than requested")
	require.Contains(t, env.log.String(), videoauth.YouTubeScopeUpload)
}

// ytDrive drives a DeviceCode's Wait on the manual clock: before each poll
// it calls before(n) with the number of polls so far, then moves time by
// the wait Wait asked for.
func ytDrive(t *testing.T, env *ytEnv, dc *videoauth.DeviceCode, before func(polls int)) (*videoauth.Token, error) {
	t.Helper()
	type result struct {
		tok *videoauth.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := dc.Wait(context.Background())
		done <- result{tok, err}
	}()
	for {
		select {
		case r := <-done:
			return r.tok, r.err
		case <-env.clock.UntilWaiters(1):
		}
		calls := env.clock.AfterCalls()
		before(env.fake.DevicePolls())
		env.clock.Advance(calls[len(calls)-1])
	}
}

// Issue: the device flow — only the allowed scopes (refused before any
// request), verification_url, pending 428, slow_down and access_denied
// both 403 told apart by error, client_secret on polls.
func TestYouTubeDeviceFlow(t *testing.T) {
	env := setupYouTube(t)
	for _, sc := range []string{videoauth.YouTubeScopeForceSSL, videoauth.YouTubeScopeUpload, videoauth.YouTubeScopePartner, "https://www.googleapis.com/auth/userinfo.email"} {
		_, err := env.tv.Device(context.Background(), videoauth.YouTubeScopeReadOnly, sc)
		require.ErrorIs(t, err, videoauth.ErrInvalidScope, sc)
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, sc)
	}
	require.Zero(t, env.fake.DeviceStarts(), "refused before any request")

	dc, err := env.tv.Device(context.Background(), videoauth.YouTubeScope)
	require.NoError(t, err)
	require.Equal(t, env.fake.WebURL+"/device", dc.VerificationURI, "Google's verification_url")
	require.Regexp(t, `^[A-Z0-9]{4}-[A-Z0-9]{4}$`, dc.UserCode)
	require.Equal(t, 5*time.Second, dc.Interval)
	require.Equal(t, ytStart.Add(1800*time.Second), dc.ExpiresAt)
	start := env.fake.LastTokenForm()
	require.Equal(t, url.Values{"client_id": {env.fake.TVClientID}, "scope": {videoauth.YouTubeScope}}, start, "the start sends client_id and scope only")

	// Polls: 428 pending, then a poll the fake finds too fast (its own
	// clock held back) answers 403 slow_down, then the user approves.
	tok, err := ytDrive(t, env, dc, func(polls int) {
		switch polls {
		case 1:
			env.fake.SetClock(videoauthtest.NewClock(env.clock.Now())) // the fake's time stops: the next poll is too fast
		case 2:
			env.fake.SetClock(env.clock)
			env.fake.ApproveCode(dc.UserCode)
		}
	})
	require.NoError(t, err)
	require.Equal(t, 3, env.fake.DevicePolls())
	require.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}, env.clock.AfterCalls(),
		"pending keeps the interval; slow_down (403) adds 5 s and keeps polling")
	require.NotEmpty(t, tok.RefreshToken, "always a refresh token for devices")
	require.Equal(t, []string{videoauth.YouTubeScope}, tok.Scopes)
	f := env.fake.LastTokenForm()
	require.Equal(t, env.fake.TVClientSecret, f.Get("client_secret"), "client_secret on polls")
	require.Equal(t, "urn:ietf:params:oauth:grant-type:device_code", f.Get("grant_type"))

	// access_denied is a 403 too, and stops at once.
	dc, err = env.tv.Device(context.Background())
	require.NoError(t, err)
	polls := env.fake.DevicePolls()
	_, err = ytDrive(t, env, dc, func(n int) {
		if n == polls+1 {
			env.fake.DenyCode(dc.UserCode)
		}
	})
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusForbidden, e.Status)
	require.Equal(t, "access_denied", e.Code)
	require.Equal(t, polls+2, env.fake.DevicePolls(), "one pending poll, one denied, no more")
}

func TestYouTubeDeviceFailures(t *testing.T) {
	env := setupYouTube(t)
	// Issue: the quota error on the start call, typed.
	obs := &ytObserver{}
	app := ytApp(env.fake, env.clock, nil, true)
	app.Observer = obs
	tv, err := videoauth.NewYouTube(app)
	require.NoError(t, err)
	env.fake.DeviceQuotaExceeded(1)
	_, err = tv.Device(context.Background())
	require.ErrorIs(t, err, videoauth.ErrQuotaExceeded)
	require.ErrorIs(t, err, videoauth.ErrRateLimited)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "rate_limit_exceeded", e.Code)
	require.Equal(t, http.StatusForbidden, e.Status)
	require.Equal(t, []string{"rate_limited device"}, obs.kinds(videoauth.EventRateLimited))

	// A client that is not of the TV type.
	_, err = env.yt.Device(context.Background())
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)

	// The code runs out: ErrExpiredCode, at Google's 1800 s.
	auto := videoauthtest.NewClock(env.clock.Now())
	auto.SetAutoAdvance(true)
	env.fake.SetClock(auto)
	tv2, err := videoauth.NewYouTube(ytApp(env.fake, auto, nil, true))
	require.NoError(t, err)
	dc, err := tv2.Device(context.Background())
	require.NoError(t, err)
	_, err = dc.Wait(context.Background())
	require.ErrorIs(t, err, videoauth.ErrExpiredCode)

	// A verification URL off Google's hosts is never shown.
	env.fake.SetVerificationURL("https://evil.example/device")
	_, err = tv2.Device(context.Background())
	require.ErrorIs(t, err, videoauth.ErrBadVerificationURI)
}

type ytObserver struct {
	mu     sync.Mutex
	events []videoauth.Event
}

func (o *ytObserver) Observe(_ context.Context, e videoauth.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *ytObserver) kinds(k videoauth.EventKind) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, e := range o.events {
		if e.Kind == k {
			out = append(out, e.Outcome+" "+e.Op)
		}
	}
	return out
}

// Issue: refresh answers omit refresh_token — keep the stored one; the new
// token reaches OnToken before any request uses it.
func TestYouTubeRefreshKeepsRefreshToken(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt)
	src := env.yt.Source(tok)
	var saved []*videoauth.Token
	src.OnToken = func(t *videoauth.Token) { saved = append(saved, t.Clone()) }
	env.clock.Advance(3599 * time.Second)
	renewed, err := src.Token(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, renewed.AccessToken)
	require.Equal(t, tok.RefreshToken, renewed.RefreshToken)
	require.Equal(t, tok.Scopes, renewed.Scopes)
	require.Len(t, saved, 1)
	require.Equal(t, tok.RefreshToken, saved[0].RefreshToken, "the persisted token keeps the refresh token")
	require.Equal(t, 1, env.fake.Refreshes())
}

// Issue: invalid_grant is ErrReauthRequired with a message that says
// which: Testing mode's 7-day expiry (surfaced from
// refresh_token_expires_in), invalid_rapt, or a revoked token.
func TestYouTubeDeadGrantSaysWhy(t *testing.T) {
	t.Run("testing mode", func(t *testing.T) {
		env := setupYouTube(t)
		env.fake.SetTestingMode(true)
		tok, _ := env.signIn(t, env.yt)
		end, ok := videoauth.YouTubeRefreshExpiry(tok)
		require.True(t, ok)
		require.Equal(t, ytStart.Add(7*24*time.Hour), end)
		require.Contains(t, env.log.String(), "Testing mode", "the warning comes at sign-in")
		src := env.yt.Source(tok)
		env.clock.Advance(6 * 24 * time.Hour)
		renewed, err := src.Token(context.Background())
		require.NoError(t, err, "alive on day 6")
		end2, ok := videoauth.YouTubeRefreshExpiry(renewed)
		require.True(t, ok)
		require.Equal(t, end, end2, "the refresh restates the same end")
		env.clock.Advance(24 * time.Hour)
		_, err = src.Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Contains(t, err.Error(), "Testing mode")
		require.Contains(t, err.Error(), "7-day")
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "invalid_grant", e.Code)
		_, err = src.Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrReauthRequired, "and no request loops: the Source answers without the network")
		require.Equal(t, 2, env.fake.Refreshes())
	})
	t.Run("invalid_rapt", func(t *testing.T) {
		env := setupYouTube(t)
		tok, _ := env.signIn(t, env.yt)
		env.fake.RequireReauth(1)
		env.clock.Advance(time.Hour)
		_, err := env.yt.Source(tok).Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Contains(t, err.Error(), "invalid_rapt")
		require.Contains(t, err.Error(), "session-control")
	})
	t.Run("revoked", func(t *testing.T) {
		env := setupYouTube(t)
		tok, _ := env.signIn(t, env.yt)
		_, noEnd := videoauth.YouTubeRefreshExpiry(tok)
		require.False(t, noEnd, "a production project gives no end")
		env.fake.RevokeToken(tok.AccessToken)
		env.clock.Advance(time.Hour)
		_, err := env.yt.Source(tok).Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Contains(t, err.Error(), "revoked")
		require.NotContains(t, err.Error(), "Testing")
	})
}

// Issue: revocation is POST oauth2.googleapis.com/revoke.
func TestYouTubeRevoke(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt)
	src := env.yt.Source(tok)
	client := videoauth.NewClient(env.yt, src)
	require.Equal(t, 200, ytGet(t, client, env.channels()).StatusCode)
	require.NoError(t, src.Revoke(context.Background()))
	require.Equal(t, 1, env.fake.Revocations())
	require.Equal(t, url.Values{"token": {tok.RefreshToken}}, env.fake.LastTokenForm(),
		"the refresh token in the body, no client credentials")
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)

	// The grant is gone at Google: the access token too.
	held := videoauth.NewSource(tok, nil)
	held.Clock = env.clock
	plain := &http.Client{Transport: &videoauth.Transport{Provider: env.yt, Source: held}}
	resp := ytGet(t, plain, env.channels())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Revoking what Google no longer knows is done, not an error.
	require.NoError(t, env.yt.Revoke(context.Background(), tok))
	require.NoError(t, env.yt.Revoke(context.Background(), &videoauth.Token{AccessToken: tok.AccessToken}))
	require.Equal(t, 3, env.fake.Revocations())
	require.ErrorIs(t, env.yt.Revoke(context.Background(), &videoauth.Token{}), videoauth.ErrInvalidConfig)
	require.ErrorIs(t, env.yt.Revoke(context.Background(), &videoauth.Token{Provider: "vimeo", AccessToken: "x"}), videoauth.ErrInvalidConfig)
}

// Issue: a 401 with invalid_token refreshes once and replays, a body
// included; a second 401 is returned as it is.
func TestYouTubeRejectedTokenRefreshedOnceAndReplayed(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt, videoauth.YouTubeScope)
	src := env.yt.Source(tok)
	client := videoauth.NewClient(env.yt, src)
	env.fake.ExpireAccessToken(tok.AccessToken)
	body := `{"snippet":{"title":"Watch later, again"}}`
	req, err := http.NewRequest(http.MethodPost, env.fake.APIURL+"/youtube/v3/playlists?part=snippet", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 1, env.fake.Refreshes())
	require.Equal(t, 2, env.fake.APICalls())
	bodies := env.fake.APIBodies()
	require.Equal(t, body, string(bodies[0]))
	require.Equal(t, body, string(bodies[1]), "the replay carries the same body")
	require.Equal(t, tok.RefreshToken, src.Current().RefreshToken)

	// A service that rejects every token: one refresh, one replay, and the
	// second 401 comes back typed.
	expiring := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		env.fake.ExpireAccessToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		return env.fake.RoundTripper().RoundTrip(r)
	})
	env.clock.Advance(2 * time.Second) // past the guard on a token that replaced a rejected one
	tr := &videoauth.Transport{Provider: env.yt, Source: src, Base: expiring}
	refreshes, calls := env.fake.Refreshes(), env.fake.APICalls()
	resp2 := ytGet(t, &http.Client{Transport: tr}, env.channels())
	require.Equal(t, http.StatusUnauthorized, resp2.StatusCode)
	require.Equal(t, refreshes+1, env.fake.Refreshes())
	require.Equal(t, calls+2, env.fake.APICalls())
	err = videoauth.CheckResponse(env.yt, resp2)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired)
}

// Issue: 403 quotaExceeded / rateLimitExceeded are not token errors —
// typed (quota with its reset at midnight Pacific), never retried, never
// a refresh; youtubeSignupRequired and other 401/403 reasons typed.
func TestYouTubeAPIErrorsAreNotTokenErrors(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt, videoauth.YouTubeScopeReadOnly)
	obs := &ytObserver{}
	src := env.yt.Source(tok)
	src.Observer = obs
	client := videoauth.NewClient(env.yt, src)
	check := func(t *testing.T, u string, status int, code string, sentinels ...error) *videoauth.Error {
		t.Helper()
		refreshes, calls := env.fake.Refreshes(), env.fake.APICalls()
		resp := ytGet(t, client, u)
		require.Equal(t, status, resp.StatusCode)
		require.Equal(t, refreshes, env.fake.Refreshes(), "never a refresh")
		require.Equal(t, calls+1, env.fake.APICalls(), "never retried")
		err := videoauth.CheckResponse(env.yt, resp)
		for _, s := range sentinels {
			require.ErrorIs(t, err, s)
		}
		require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
		require.NotErrorIs(t, err, videoauth.ErrTokenExpired)
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, code, e.Code)
		return e
	}
	t.Run("quotaExceeded", func(t *testing.T) {
		env.fake.SetQuota(10, 10)
		e := check(t, env.channels(), http.StatusForbidden, "quotaExceeded", videoauth.ErrQuotaExceeded, videoauth.ErrRateLimited)
		// 02:10:11 PDT: the quota resets at 00:00 PDT, 07:00 UTC the next day.
		require.Equal(t, time.Date(2026, 7, 9, 7, 0, 0, 0, time.UTC).Sub(ytStart), e.RetryAfter)
		env.clock.Advance(e.RetryAfter)
		require.Equal(t, http.StatusOK, ytGet(t, client, env.channels()).StatusCode, "the fake's quota reset at midnight Pacific")
		env.fake.SetQuota(10000, 0)
	})
	t.Run("rateLimitExceeded", func(t *testing.T) {
		env.fake.RateLimitNext(1, videoauthtest.YouTubeRateLimit403)
		e := check(t, env.channels(), http.StatusForbidden, "rateLimitExceeded", videoauth.ErrRateLimited)
		require.NotErrorIs(t, e, videoauth.ErrQuotaExceeded)
		require.Equal(t, time.Second, e.RetryAfter)
		env.fake.RateLimitNext(1, videoauthtest.YouTubeRateLimit429)
		e = check(t, env.channels(), http.StatusTooManyRequests, "rateLimitExceeded", videoauth.ErrRateLimited)
		require.Equal(t, 3*time.Second, e.RetryAfter)
	})
	t.Run("insufficientPermissions", func(t *testing.T) {
		// A read-only token posting: 403, a scope problem, not a token problem.
		refreshes := env.fake.Refreshes()
		resp, err := client.Post(env.fake.APIURL+"/youtube/v3/playlists?part=snippet", "application/json", strings.NewReader(`{"snippet":{"title":"x"}}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		err = videoauth.CheckResponse(env.yt, resp)
		require.ErrorIs(t, err, videoauth.ErrForbidden)
		require.Equal(t, refreshes, env.fake.Refreshes())
	})
	t.Run("youtubeSignupRequired", func(t *testing.T) {
		env.fake.SetNoChannel(true)
		defer env.fake.SetNoChannel(false)
		wtok, _ := env.signIn(t, env.yt, videoauth.YouTubeScope)
		wclient := videoauth.NewClient(env.yt, env.yt.Source(wtok))
		refreshes := env.fake.Refreshes()
		resp, err := wclient.Post(env.fake.APIURL+"/youtube/v3/playlists?part=snippet", "application/json", strings.NewReader(`{"snippet":{"title":"x"}}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, refreshes, env.fake.Refreshes(), "a 401 that is not about the token: no refresh")
		err = videoauth.CheckResponse(env.yt, resp)
		require.ErrorIs(t, err, videoauth.ErrChannelRequired)
		require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
	})
	require.Empty(t, obs.kinds(videoauth.EventRejected), "no answer was read as a rejected token")
}

// Issue (stampede): 50 concurrent requests meeting a rejected token make
// one refresh, and all succeed.
func TestYouTubeStampedeOneRefresh(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt)
	src := env.yt.Source(tok)
	// All 50 meet the rejected token: none reaches the fake before all
	// 50 are in flight with it.
	client := &http.Client{Transport: &videoauth.Transport{Provider: env.yt, Source: src,
		Base: ytBarrier(t, 50, tok.AccessToken, env.fake.RoundTripper())}}
	env.fake.ExpireAccessToken(tok.AccessToken)
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 50 {
		wg.Go(func() {
			resp, err := client.Get(env.channels())
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 50, ok.Load())
	require.Equal(t, 1, env.fake.Refreshes(), "one refresh for 50 rejections")
	require.Equal(t, 100, env.fake.APICalls(), "50 rejected, 50 replayed")
	require.Equal(t, tok.RefreshToken, src.Current().RefreshToken)
}

// ytBarrier is a base that holds every request carrying the access token
// stale until n of them are held, then lets them all through to next (at
// most 10 s: a test that sends fewer fails on its counts, not by hanging).
func ytBarrier(t *testing.T, n int, stale string, next http.RoundTripper) http.RoundTripper {
	var mu sync.Mutex
	held := 0
	all := make(chan struct{})
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "Bearer "+stale {
			mu.Lock()
			if held++; held == n {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-time.After(10 * time.Second):
				t.Errorf("only %d of %d requests met the stale token", held, n)
			}
		}
		return next.RoundTrip(r)
	})
}

// The races a rotating refresh token invites (Google does not rotate; the
// fake can, and the provider is ready for it): replicas sharing a Store
// make one refresh, adopt the rotated pair, and the new pair is saved
// before any request uses it.
func TestYouTubeRotationAcrossReplicas(t *testing.T) {
	for _, kind := range []string{"memory", "file"} {
		t.Run(kind, func(t *testing.T) {
			env := setupYouTube(t)
			env.fake.RotateRefreshTokens(true)
			tok, _ := env.signIn(t, env.yt)
			stores := make([]videoauth.Store, 3)
			if kind == "memory" {
				m := &videoauth.MemoryStore{}
				for i := range stores {
					stores[i] = m
				}
			} else {
				dir := t.TempDir()
				for i := range stores { // one FileStore per "process"
					fs, err := videoauth.NewFileStore(dir)
					require.NoError(t, err)
					stores[i] = fs
				}
			}
			require.NoError(t, stores[0].Save(context.Background(), "user", tok))
			env.fake.ExpireAccessToken(tok.AccessToken)

			// All 30 requests meet the rejected token before any reaches the fake.
			shared := ytBarrier(t, 30, tok.AccessToken, env.fake.RoundTripper())
			var firstNewUse atomic.Pointer[videoauth.Token] // what the store held when the new token was first sent
			var clients []*http.Client
			var srcs []*videoauth.Source
			for i := range stores {
				src := env.yt.Source(tok)
				src.Store, src.Key = stores[i], "user"
				srcs = append(srcs, src)
				base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if a := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); a != tok.AccessToken && firstNewUse.Load() == nil {
						stored, err := stores[i].Load(context.Background(), "user")
						if err == nil {
							firstNewUse.CompareAndSwap(nil, stored)
						}
					}
					return shared.RoundTrip(r)
				})
				clients = append(clients, &http.Client{Transport: &videoauth.Transport{Provider: env.yt, Source: src, Base: base}})
			}
			var wg sync.WaitGroup
			var ok atomic.Int64
			for i := range 30 {
				c := clients[i%len(clients)]
				wg.Go(func() {
					resp, err := c.Get(env.channels())
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							ok.Add(1)
						}
					}
				})
			}
			wg.Wait()
			require.EqualValues(t, 30, ok.Load(), "no request lost to a refresh race")
			require.Equal(t, 1, env.fake.Refreshes(), "one refresh across replicas")
			stored, err := stores[0].Load(context.Background(), "user")
			require.NoError(t, err)
			require.NotEqual(t, tok.RefreshToken, stored.RefreshToken, "the rotated refresh token is stored")
			for _, src := range srcs {
				require.Equal(t, stored.AccessToken, src.Current().AccessToken, "every replica adopted the stored pair")
			}
			first := firstNewUse.Load()
			require.NotNil(t, first)
			require.Equal(t, stored.RefreshToken, first.RefreshToken, "the new pair was saved before its first use")

			// The old refresh token is dead at the fake: a replica that had
			// refreshed with it would have lost the grant.
			stale := env.yt.Source(&videoauth.Token{Provider: "youtube", AccessToken: "x", RefreshToken: tok.RefreshToken, TokenType: "Bearer", Expiry: ytStart})
			_, err = stale.Token(context.Background())
			require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		})
	}
}

// Identify: the channel id and title; a channel-less account is
// ErrChannelRequired; a rejected token ErrTokenExpired.
func TestYouTubeIdentify(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt)
	id, err := env.yt.Identify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "youtube", id.Provider)
	require.Equal(t, "UCfakeChannel0123456789", id.UserID)
	require.Equal(t, "Fake Channel", id.Name)
	require.Contains(t, string(id.User), `"kind":"youtube#channel"`)
	require.Equal(t, "Bearer "+tok.AccessToken, env.fake.LastRequestHeader().Get("Authorization"))

	var p videoauth.Identifier = env.yt
	env.fake.SetNoChannel(true)
	_, err = p.Identify(context.Background(), tok)
	require.ErrorIs(t, err, videoauth.ErrChannelRequired)
	env.fake.SetNoChannel(false)

	env.fake.ExpireAccessToken(tok.AccessToken)
	_, err = p.Identify(context.Background(), tok)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired)
	noRefresh := tok.Clone()
	noRefresh.RefreshToken = ""
	_, err = p.Identify(context.Background(), noRefresh)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)

	fresh, _ := env.signIn(t, env.yt.SignIn(tok))
	env.fake.SetQuota(1, 1)
	_, err = p.Identify(context.Background(), fresh)
	require.ErrorIs(t, err, videoauth.ErrQuotaExceeded)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "identify", e.Op)
	_, err = p.Identify(context.Background(), &videoauth.Token{Provider: "vimeo", AccessToken: "x"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
}

// Owns: the token goes to YouTube's paths on its two hosts only.
func TestYouTubeOwns(t *testing.T) {
	yt, err := videoauth.NewYouTube(videoauth.App{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	for raw, want := range map[string]bool{
		"https://www.googleapis.com/youtube/v3/channels":        true,
		"https://WWW.GoogleAPIs.com:443/youtube/v3/videos":      true,
		"https://youtube.googleapis.com/youtube/v3/search":      true,
		"https://www.googleapis.com/upload/youtube/v3/videos":   true,
		"https://www.googleapis.com/drive/v3/files":             false,
		"https://www.googleapis.com/youtube/../drive/v3/files":  false,
		"https://www.googleapis.com/youtubeanalytics/v2":        false,
		"https://www.googleapis.com/oauth2/v3/userinfo":         false,
		"https://oauth2.googleapis.com/token":                   false,
		"http://www.googleapis.com/youtube/v3/channels":         false,
		"https://www.googleapis.com:8443/youtube/v3/channels":   false,
		"https://www.googleapis.com.evil.example/youtube/v3/":   false,
		"https://accounts.google.com/youtube/v3/channels":       false,
		"https://www.googleapis.com":                            false,
		"https://youtube.googleapis.com/youtube%2F..%2Fdrive/x": false,
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, want, yt.Owns(u), raw)
	}
	require.False(t, yt.Owns(nil))
}

// Verdict: only a token error is Expired; every other answer is returned
// as it is.
func TestYouTubeVerdict(t *testing.T) {
	yt, err := videoauth.NewYouTube(videoauth.App{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	env := func(status int, reason string) string {
		return fmt.Sprintf(`{"error":{"code":%d,"message":"m","errors":[{"message":"m","domain":"global","reason":%q}]}}`, status, reason)
	}
	invalid := `Bearer realm="https://accounts.google.com/", error="invalid_token"`
	for _, tc := range []struct {
		name, body, challenge string
		status                int
		want                  videoauth.Verdict
	}{
		{"authError with challenge", env(401, "authError"), invalid, 401, videoauth.VerdictExpired},
		{"authError without challenge", env(401, "authError"), "", 401, videoauth.VerdictExpired},
		{"challenge, no body", "", invalid, 401, videoauth.VerdictExpired},
		{"credentials missing", env(401, "required"), `Bearer realm="https://accounts.google.com/"`, 401, videoauth.VerdictOK},
		{"signup required, even with invalid_token", env(401, "youtubeSignupRequired"), invalid, 401, videoauth.VerdictOK},
		{"authorizationRequired", env(401, "authorizationRequired"), "", 401, videoauth.VerdictOK},
		{"401 without anything", "", "", 401, videoauth.VerdictOK},
		{"quota", env(403, "quotaExceeded"), "", 403, videoauth.VerdictOK},
		{"rate limit", env(403, "rateLimitExceeded"), "", 403, videoauth.VerdictOK},
		{"scope", env(403, "insufficientPermissions"), `Bearer error="insufficient_scope"`, 403, videoauth.VerdictOK},
		{"429", env(429, "rateLimitExceeded"), "", 429, videoauth.VerdictOK},
		{"500", "", "", 500, videoauth.VerdictOK},
		{"200", `{}`, "", 200, videoauth.VerdictOK},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
		if tc.challenge != "" {
			resp.Header.Set("WWW-Authenticate", tc.challenge)
		}
		require.Equal(t, tc.want, yt.Verdict(resp), tc.name)
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, tc.body, string(b), "%s: the body is still there", tc.name)
	}
}

// The Observer of App gets the Source's mints and rejections.
func TestYouTubeObserver(t *testing.T) {
	env := setupYouTube(t)
	obs := &ytObserver{}
	app := ytApp(env.fake, env.clock, nil, false)
	app.Observer = obs
	yt, err := videoauth.NewYouTube(app)
	require.NoError(t, err)
	tok, _ := env.signIn(t, yt)
	env.fake.ExpireAccessToken(tok.AccessToken)
	require.Equal(t, 200, ytGet(t, videoauth.NewClient(yt, yt.Source(tok)), env.channels()).StatusCode)
	require.Equal(t, []string{" refresh"}, obs.kinds(videoauth.EventMintStart))
	require.Equal(t, []string{"ok refresh"}, obs.kinds(videoauth.EventMintEnd))
	require.Len(t, obs.kinds(videoauth.EventRejected), 1)
	require.Equal(t, []string{"ok api"}, obs.kinds(videoauth.EventReplay))
}

// Printing: no secret in any verb, in slog's JSON or text, or in
// json.Marshal, for the provider, its sign-in flow, a token, a Source and
// a token-endpoint error whose body echoes secrets.
func TestYouTubePrintsNoSecret(t *testing.T) {
	env := setupYouTube(t)
	tok, _ := env.signIn(t, env.yt)
	src := env.yt.Source(tok)
	env.fake.RevokeToken(tok.AccessToken)
	env.clock.Advance(time.Hour)
	_, mintErr := src.Token(context.Background())
	require.Error(t, mintErr)
	planted := &videoauth.Error{}
	require.ErrorAs(t, mintErr, &planted)
	planted.Description = "echo " + tok.RefreshToken
	planted.Body = []byte(`{"refresh_token":"` + tok.RefreshToken + `"}`)

	values := map[string]any{
		"provider": env.yt, "provider value": *env.yt, "flow": env.yt.SignIn(tok), "token": tok, "token value": *tok,
		"source": src, "error": mintErr, "planted": planted, "planted value": *planted,
	}
	secrets := []string{env.fake.ClientSecret, tok.AccessToken, tok.RefreshToken}
	var out bytes.Buffer
	jl := slog.New(slog.NewJSONHandler(&out, nil))
	tl := slog.New(slog.NewTextHandler(&out, nil))
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			fmt.Fprintf(&out, name+" "+verb+"\n", v)
		}
		js, _ := json.Marshal(v)
		out.Write(js)
		jl.Info(name, "v", v, "in", []any{v}, "map", map[string]any{"v": v})
		tl.Info(name, "v", v, "in", []any{v})
	}
	for _, s := range secrets {
		require.NotContains(t, out.String(), s)
	}
	require.Contains(t, out.String(), "REDACTED")
	require.Contains(t, out.String(), "youtube")
	for _, s := range secrets {
		require.NotContains(t, env.log.String(), s, "App.Logger got a secret")
	}
}

// A stored token of another service is refused before anything is sent.
func TestYouTubeRefusesForeignTokens(t *testing.T) {
	env := setupYouTube(t)
	src := env.yt.Source(&videoauth.Token{Provider: "vimeo", AccessToken: "vimeo-token", TokenType: "Bearer"})
	_, err := src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	req, _ := http.NewRequest(http.MethodGet, env.channels(), nil)
	require.ErrorIs(t, env.yt.Authorize(req, &videoauth.Token{Provider: "twitch", AccessToken: "x"}), videoauth.ErrInvalidConfig)
	require.ErrorIs(t, env.yt.Authorize(req, &videoauth.Token{AccessToken: "x", TokenType: "mac"}), videoauth.ErrUnsupportedTokenType)
	require.Zero(t, env.fake.APICalls())
}

// The x/oauth2 configuration names the endpoints and never auto-detects.
func TestYouTubeConfig(t *testing.T) {
	yt, err := videoauth.NewYouTube(videoauth.App{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	c := yt.Config()
	require.Equal(t, "https://accounts.google.com/o/oauth2/v2/auth", c.Endpoint.AuthURL)
	require.Equal(t, "https://oauth2.googleapis.com/token", c.Endpoint.TokenURL)
	require.Equal(t, "https://oauth2.googleapis.com/device/code", c.Endpoint.DeviceAuthURL)
	require.Equal(t, oauth2.AuthStyleInParams, c.Endpoint.AuthStyle)
	require.Equal(t, []string{videoauth.YouTubeScopeReadOnly}, c.Scopes)
	require.Equal(t, "youtube", yt.Name())
}
