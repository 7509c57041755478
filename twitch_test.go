package videoauth_test

import (
	"bytes"
	"context"
	"errors"
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

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// twitchSetup starts a fake Twitch and a provider for its confidential app
// (or its public app), both on one manual Clock. Every test asserts, at its
// end, that the fake saw no malformed request.
func twitchSetup(t *testing.T, public bool) (*videoauthtest.Twitch, *videoauth.Twitch, *videoauthtest.Clock) {
	t.Helper()
	fake := videoauthtest.NewTwitch()
	t.Cleanup(fake.Close)
	clock := videoauthtest.NewClock(time.Now().Truncate(time.Second))
	fake.SetClock(clock)
	t.Cleanup(func() {
		require.Zero(t, fake.Malformed(), "malformed requests: %q", fake.MalformedRequests())
	})
	return fake, twitchProvider(t, fake, clock, public, nil), clock
}

// twitchProvider is a provider for fake's public or confidential app.
func twitchProvider(t *testing.T, fake *videoauthtest.Twitch, clock *videoauthtest.Clock, public bool, o videoauth.Observer) *videoauth.Twitch {
	t.Helper()
	app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, WebURL: fake.IDURL, APIURL: fake.APIURL,
		RedirectURL: "http://127.0.0.1:1/callback", Clock: clock, Observer: o}
	if public {
		app.ClientID, app.ClientSecret = fake.PublicClientID, ""
	}
	p, err := videoauth.NewTwitch(app)
	require.NoError(t, err)
	return p
}

// twitchFollow opens authURL like a browser that does not follow the
// redirect back, and returns where the consent page sent it.
func twitchFollow(t *testing.T, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

// twitchDo sends req with c and returns the answer, its Verdict, its body
// and what CheckResponse says of it (Verdict and CheckResponse asked before
// the body is read, as a caller would).
func twitchDo(t *testing.T, c *http.Client, p videoauth.Provider, req *http.Request) (*http.Response, videoauth.Verdict, string, error) {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	v := p.Verdict(resp)
	checked := videoauth.CheckResponse(p, resp)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, v, string(b), checked
}

func twitchGet(t *testing.T, c *http.Client, p videoauth.Provider, u string) (*http.Response, videoauth.Verdict, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	return twitchDo(t, c, p, req)
}

// twitchPoll is a POST /helix/polls request for broadcaster, with a body
// that can be replayed.
func twitchPoll(t *testing.T, fake *videoauthtest.Twitch, broadcaster string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fake.APIURL+"/helix/polls",
		strings.NewReader(`{"broadcaster_id":"`+broadcaster+`","title":"Heads or tails?"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// twitchUser is a user token of fake, as Exchange or Device gives it.
func twitchUser(fake *videoauthtest.Twitch, public bool, clock *videoauthtest.Clock, scopes ...string) *videoauth.Token {
	access, refresh := fake.IssueUserToken(public, scopes...)
	id := fake.ClientID
	if public {
		id = fake.PublicClientID
	}
	return &videoauth.Token{Provider: "twitch", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: clock.Now().Add(14124 * time.Second), Scopes: scopes, Meta: map[string]string{"twitch_client": id, "twitch_token": "user"}}
}

func TestTwitchCodeFlow(t *testing.T) {
	fake, tw, _ := twitchSetup(t, false)
	ar, err := tw.AuthRequest("", "channel:manage:polls", "channel:read:polls")
	require.NoError(t, err)
	u, err := url.Parse(ar.URL)
	require.NoError(t, err)
	require.Equal(t, fake.IDURL+"/oauth2/authorize", u.Scheme+"://"+u.Host+u.Path)
	require.Contains(t, u.RawQuery, "scope=channel%3Amanage%3Apolls+channel%3Aread%3Apolls", "space-delimited, URL-encoded")
	q := u.Query()
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, fake.ClientID, q.Get("client_id"))
	require.Equal(t, "http://127.0.0.1:1/callback", q.Get("redirect_uri"))
	require.NotEmpty(t, q.Get("state"))
	require.False(t, q.Has("code_challenge"), "Twitch has no PKCE")
	require.False(t, q.Has("force_verify"))

	cb := twitchFollow(t, ar.URL)
	require.Equal(t, "channel:manage:polls channel:read:polls", cb.Query().Get("scope"), "granted scopes, space-separated in the redirect")
	tok, err := tw.Exchange(context.Background(), ar, cb.Query())
	require.NoError(t, err)
	require.Equal(t, "twitch", tok.Provider)
	require.Equal(t, "Bearer", tok.TokenType, "token_type bearer, normalised")
	require.NotEmpty(t, tok.RefreshToken)
	require.Equal(t, []string{"channel:manage:polls", "channel:read:polls"}, tok.Scopes, "scope arrives as a JSON array")
	require.Equal(t, fake.ClientID, tok.Meta["twitch_client"])
	require.Equal(t, "user", tok.Meta["twitch_token"])

	form := fake.LastTokenForm()
	require.Equal(t, url.Values{"client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret}, "code": {cb.Query().Get("code")},
		"grant_type": {"authorization_code"}, "redirect_uri": {"http://127.0.0.1:1/callback"}}, form,
		"the secret in the body, the identical redirect_uri, no code_verifier")

	_, err = tw.Exchange(context.Background(), ar, cb.Query())
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, fake.Exchanges(), "the code is exchanged once")

	forced, err := tw.ForceVerify().AuthRequest("", "user:read:email")
	require.NoError(t, err)
	require.Contains(t, forced.URL, "force_verify=true")
	none, err := tw.AuthRequest("")
	require.NoError(t, err)
	require.Contains(t, none.URL, "scope=&", "Twitch requires the scope parameter, even empty")
}

func TestTwitchCodeFlowFailuresAreTypedAndNotRetried(t *testing.T) {
	for _, c := range []struct {
		status int
		msg    string
		want   error
		code   string
	}{
		{400, "Invalid authorization code", videoauth.ErrCodeUsed, "invalid_authorization_code"},
		{400, "Parameter redirect_uri does not match registeredURI", videoauth.ErrRedirectMismatch, "redirect_mismatch"},
		{400, "invalid client", videoauth.ErrInvalidClient, "invalid_client"},
		{403, "invalid client secret", videoauth.ErrInvalidClient, "invalid_client_secret"},
		{400, "missing client secret", videoauth.ErrInvalidClient, "missing_client_secret"},
		{400, "Invalid client credentials", videoauth.ErrInvalidClient, "invalid_client_credentials"},
		{400, "invalid scope requested: 'foo:bar'", videoauth.ErrInvalidScope, "invalid_scope"},
		{500, "Internal Server Error", videoauth.ErrServer, ""},
	} {
		t.Run(c.msg, func(t *testing.T) {
			fake, tw, _ := twitchSetup(t, false)
			ar, err := tw.AuthRequest("", "user:read:email")
			require.NoError(t, err)
			cb := twitchFollow(t, ar.URL)
			fake.NextTokenError(c.status, c.msg)
			_, err = tw.Exchange(context.Background(), ar, cb.Query())
			require.ErrorIs(t, err, c.want)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, c.code, e.Code)
			require.Equal(t, c.msg, e.Description)
			require.Equal(t, c.status, e.Status)
			require.Equal(t, 1, fake.TokenCalls(), "one attempt, never retried")
		})
	}

	t.Run("redirect mismatch at the fake", func(t *testing.T) {
		fake, tw, _ := twitchSetup(t, false)
		ar, err := tw.AuthRequest("", "user:read:email")
		require.NoError(t, err)
		cb := twitchFollow(t, ar.URL)
		ar.RedirectURL = "http://127.0.0.1:1/other"
		_, err = tw.Exchange(context.Background(), ar, cb.Query())
		require.ErrorIs(t, err, videoauth.ErrRedirectMismatch)
		require.Equal(t, 1, fake.Exchanges())
	})
	t.Run("denied", func(t *testing.T) {
		fake, tw, _ := twitchSetup(t, false)
		fake.DenyConsent(true)
		ar, err := tw.AuthRequest("", "user:read:email")
		require.NoError(t, err)
		cb := twitchFollow(t, ar.URL)
		_, err = tw.Exchange(context.Background(), ar, cb.Query())
		require.ErrorIs(t, err, videoauth.ErrAccessDenied)
		require.Zero(t, fake.TokenCalls())
	})
	t.Run("public client", func(t *testing.T) {
		fake, tw, _ := twitchSetup(t, true)
		_, err := tw.AuthRequest("", "user:read:email")
		require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant)
		require.Zero(t, fake.TokenCalls())
	})
}

func TestTwitchImplicitGrant(t *testing.T) {
	fake, tw, _ := twitchSetup(t, false)
	ar, err := tw.ImplicitRequest("", "chat:read", "chat:edit")
	require.NoError(t, err)
	u, _ := url.Parse(ar.URL)
	require.Equal(t, "token", u.Query().Get("response_type"))
	require.False(t, u.Query().Has("code_challenge"))
	loc := twitchFollow(t, ar.URL)
	require.NotEmpty(t, loc.Fragment, "the token comes in the fragment")

	_, err = tw.ImplicitToken(ar, strings.Replace(loc.String(), "state=", "state=x", 1))
	require.ErrorIs(t, err, videoauth.ErrStateMismatch, "a wrong state consumes nothing")
	tok, err := tw.ImplicitToken(ar, loc.String())
	require.NoError(t, err)
	require.Equal(t, []string{"chat:read", "chat:edit"}, tok.Scopes, "the fragment's space-separated scope")
	require.Empty(t, tok.RefreshToken)
	require.True(t, tok.Expiry.IsZero(), "Twitch sends no expires_in")
	_, err = tw.ImplicitToken(ar, "#"+loc.Fragment)
	require.ErrorIs(t, err, videoauth.ErrStateUsed)

	resp, _, _, _ := twitchGet(t, videoauth.NewClient(tw, tw.Source(tok)), tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	fake.DenyConsent(true)
	ar, err = tw.ImplicitRequest("", "chat:read")
	require.NoError(t, err)
	loc = twitchFollow(t, ar.URL)
	require.Empty(t, loc.Fragment, "errors come in the query")
	_, err = tw.ImplicitToken(ar, loc.String())
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
}

func TestTwitchClientCredentials(t *testing.T) {
	var events []videoauth.Event
	var mu sync.Mutex
	obs := videoauth.ObserverFunc(func(_ context.Context, e videoauth.Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
	fake := videoauthtest.NewTwitch()
	defer fake.Close()
	defer func() { require.Zero(t, fake.Malformed(), "%q", fake.MalformedRequests()) }()
	clock := videoauthtest.NewClock(time.Now())
	fake.SetClock(clock)
	tw := twitchProvider(t, fake, clock, false, obs)

	src := tw.ClientCredentials()
	c := videoauth.NewClient(tw, src)
	resp, _, _, _ := twitchGet(t, c, tw, fake.APIURL+"/helix/channels?broadcaster_id=141981764")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	tok := src.Current()
	require.Empty(t, tok.RefreshToken, "app tokens are never refreshed")
	require.Nil(t, tok.Scopes)
	require.Equal(t, "app", tok.Meta["twitch_token"])
	require.WithinDuration(t, clock.Now().Add(5011271*time.Second), tok.Expiry, time.Second)
	require.Equal(t, url.Values{"client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret}, "grant_type": {"client_credentials"}},
		fake.LastTokenForm(), "the secret in the body, no scope")

	fake.ExpireToken(tok.AccessToken)
	resp, _, _, _ = twitchGet(t, c, tw, fake.APIURL+"/helix/channels?broadcaster_id=141981764")
	require.Equal(t, http.StatusOK, resp.StatusCode, "401 Invalid OAuth token: minted again, replayed")
	require.Equal(t, 2, fake.Mints())
	require.Zero(t, fake.Refreshes(), "minted again, never refreshed")

	resp, v, _, checked := twitchDo(t, c, tw, twitchPoll(t, fake, fake.UserID))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, videoauth.VerdictOK, v)
	require.ErrorIs(t, checked, videoauth.ErrUserTokenRequired, "an app token on a user route")
	require.Equal(t, 2, fake.Mints(), "Missing User OAUTH Token is not a dead token: nothing minted")

	mu.Lock()
	kinds := map[videoauth.EventKind]int{}
	for _, e := range events {
		require.Equal(t, "twitch", e.Provider)
		kinds[e.Kind]++
	}
	mu.Unlock()
	require.Equal(t, 2, kinds[videoauth.EventMintStart])
	require.Equal(t, 2, kinds[videoauth.EventMintEnd])
	require.Equal(t, 1, kinds[videoauth.EventRejected])
	require.Equal(t, 1, kinds[videoauth.EventReplay])

	t.Run("public client", func(t *testing.T) {
		fake, pub, _ := twitchSetup(t, true)
		_, err := pub.ClientCredentials().Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		require.Zero(t, fake.TokenCalls(), "nothing sent")
	})
}

// twitchWait runs dc.Wait in the background; step moves the clock one
// poll interval once Wait sleeps, and result returns Wait's answer.
type twitchWait struct {
	t     *testing.T
	clock *videoauthtest.Clock
	done  chan struct{}
	tok   *videoauth.Token
	err   error
}

func twitchStartWait(t *testing.T, clock *videoauthtest.Clock, dc *videoauth.DeviceCode) *twitchWait {
	w := &twitchWait{t: t, clock: clock, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.tok, w.err = dc.Wait(context.Background())
	}()
	return w
}

// step waits until Wait sleeps, moves the clock by d, and waits until the
// poll that woke up has its answer (Wait sleeps again, or returns).
func (w *twitchWait) step(d time.Duration) {
	w.t.Helper()
	select {
	case <-w.clock.UntilWaiters(1):
	case <-w.done:
		w.t.Fatalf("Wait returned early: %v", w.err)
	}
	w.clock.Advance(d)
	select {
	case <-w.clock.UntilWaiters(1):
	case <-w.done:
	}
}

func (w *twitchWait) result() (*videoauth.Token, error) {
	<-w.done
	return w.tok, w.err
}

func TestTwitchDeviceFlowPublicClient(t *testing.T) {
	fake, tw, clock := twitchSetup(t, true)
	dc, err := tw.Device(context.Background(), "channel:manage:polls", "chat:read")
	require.NoError(t, err)
	require.Equal(t, url.Values{"client_id": {fake.PublicClientID}, "scopes": {"channel:manage:polls chat:read"}}, fake.LastTokenForm(),
		"scopes (plural) in the body, no secret for a public client")
	require.Len(t, dc.UserCode, 8)
	require.Contains(t, dc.VerificationURI, "device-code="+dc.UserCode)
	require.Equal(t, dc.VerificationURI, dc.VerificationURIComplete, "the URI carries the code")
	require.Equal(t, 5*time.Second, dc.Interval)
	require.Equal(t, clock.Now().Add(1800*time.Second), dc.ExpiresAt)

	w := twitchStartWait(t, clock, dc)
	w.step(5 * time.Second) // 400 authorization_pending: keep polling
	w.step(5 * time.Second) // again
	require.True(t, fake.ApproveCode(dc.UserCode))
	w.step(5 * time.Second)
	tok, err := w.result()
	require.NoError(t, err)
	require.Equal(t, 3, fake.DevicePolls(), "two pending answers (HTTP 400) did not stop the poller")
	require.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}, clock.AfterCalls(), "pending keeps the interval")
	require.Equal(t, []string{"channel:manage:polls", "chat:read"}, tok.Scopes)
	require.NotEmpty(t, tok.RefreshToken)
	poll := fake.LastTokenForm()
	require.Equal(t, "urn:ietf:params:oauth:grant-type:device_code", poll.Get("grant_type"))
	require.False(t, poll.Has("client_secret"))

	// A public client refreshes with client_id alone.
	src := tw.Source(tok)
	fake.ExpireToken(tok.AccessToken)
	resp, _, _, _ := twitchDo(t, videoauth.NewClient(tw, src), tw, twitchPoll(t, fake, fake.UserID))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 1, fake.Refreshes())
	require.Equal(t, url.Values{"client_id": {fake.PublicClientID}, "grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
		fake.LastTokenForm())
	require.NotEqual(t, tok.RefreshToken, src.Current().RefreshToken, "the refresh token rotated")
	require.Equal(t, tok.Scopes, src.Current().Scopes)
}

func TestTwitchDeviceFlowConfidentialClientSendsItsSecret(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	clock.SetAutoAdvance(true)
	dc, err := tw.Device(context.Background(), "chat:read")
	require.NoError(t, err)
	require.Equal(t, fake.ClientSecret, fake.LastTokenForm().Get("client_secret"))
	require.NotContains(t, dc.VerificationURI, "public=true")
	require.True(t, fake.ApproveCode(dc.UserCode))
	tok, err := dc.Wait(context.Background())
	require.NoError(t, err)
	require.Equal(t, fake.ClientSecret, fake.LastTokenForm().Get("client_secret"), "the poll carries the secret")
	clock.SetAutoAdvance(false)

	// Twitch refuses a confidential device-flow token's refresh without
	// the secret; ours carries it.
	clock.Advance(14124 * time.Second)
	got, err := tw.Source(tok).Token(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, got.AccessToken)
	require.Equal(t, fake.ClientSecret, fake.LastTokenForm().Get("client_secret"))
}

func TestTwitchDeviceFlowAnswers(t *testing.T) {
	t.Run("slow_down adds 5 s for good", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, true)
		dc, err := tw.Device(context.Background(), "chat:read")
		require.NoError(t, err)
		w := twitchStartWait(t, clock, dc)
		fake.NextTokenError(400, "slow_down")
		w.step(5 * time.Second)
		w.step(10 * time.Second) // pending, at the new interval
		fake.ApproveCode(dc.UserCode)
		w.step(10 * time.Second)
		_, err = w.result()
		require.NoError(t, err)
		require.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second, 10 * time.Second}, clock.AfterCalls())
	})
	for _, c := range []struct {
		name, msg string
		status    int
		want      error
	}{
		{"spent or unknown code", "invalid device code", 400, videoauth.ErrExpiredCode},
		{"expired_token", "expired_token", 400, videoauth.ErrExpiredCode},
		{"access_denied", "access_denied", 400, videoauth.ErrAccessDenied},
		{"bad client", "invalid client", 400, videoauth.ErrInvalidClient},
		{"bad secret", "invalid client secret", 403, videoauth.ErrInvalidClient},
		{"an answer nobody documented", "something new", 400, nil},
	} {
		t.Run(c.name+" stops at once", func(t *testing.T) {
			fake, tw, clock := twitchSetup(t, true)
			clock.SetAutoAdvance(true)
			dc, err := tw.Device(context.Background(), "chat:read")
			require.NoError(t, err)
			fake.NextTokenError(c.status, c.msg)
			_, err = dc.Wait(context.Background())
			require.Error(t, err)
			if c.want != nil {
				require.ErrorIs(t, err, c.want)
			}
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, c.msg, e.Description)
			require.Equal(t, 1, fake.DevicePolls(), "terminal: no second poll")
		})
	}
	t.Run("denied at the fake", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, true)
		clock.SetAutoAdvance(true)
		dc, err := tw.Device(context.Background(), "chat:read")
		require.NoError(t, err)
		require.True(t, fake.DenyCode(dc.UserCode))
		_, err = dc.Wait(context.Background())
		require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	})
	t.Run("the code runs out", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, true)
		clock.SetAutoAdvance(true)
		dc, err := tw.Device(context.Background(), "chat:read")
		require.NoError(t, err)
		_, err = dc.Wait(context.Background())
		require.ErrorIs(t, err, videoauth.ErrExpiredCode)
		require.Equal(t, 1800/5-1, fake.DevicePolls(), "polled at the interval until expires_in")
	})
	t.Run("5xx backs off", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, true)
		dc, err := tw.Device(context.Background(), "chat:read")
		require.NoError(t, err)
		w := twitchStartWait(t, clock, dc)
		fake.FailTokenCalls(1, videoauthtest.Fail5xx)
		w.step(5 * time.Second)
		fake.ApproveCode(dc.UserCode)
		w.step(10 * time.Second)
		_, err = w.result()
		require.NoError(t, err)
		require.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second}, clock.AfterCalls())
	})
	t.Run("no scope granted: none, not the requested ones", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, true)
		clock.SetAutoAdvance(true)
		fake.WithholdScope("chat:read")
		dc, err := tw.Device(context.Background(), "chat:read")
		require.NoError(t, err)
		fake.ApproveCode(dc.UserCode)
		tok, err := dc.Wait(context.Background())
		require.NoError(t, err)
		require.Nil(t, tok.Scopes, "Twitch leaves scope out when none was granted")
		require.ErrorIs(t, tok.RequireScopes("chat:read"), videoauth.ErrScopeNotGranted)
	})
	t.Run("start errors are typed", func(t *testing.T) {
		fake, tw, _ := twitchSetup(t, true)
		fake.NextTokenError(400, "invalid client")
		_, err := tw.Device(context.Background(), "chat:read")
		require.ErrorIs(t, err, videoauth.ErrInvalidClient)
	})
}

func TestTwitchDeviceVerificationURIIsChecked(t *testing.T) {
	for _, uri := range []string{"https://evil.example/activate?device-code=X", "javascript:alert(1)", "http://www.twitch.tv/activate"} {
		fake, tw, _ := twitchSetup(t, true)
		fake.SetVerificationURI(uri)
		_, err := tw.Device(context.Background(), "chat:read")
		require.ErrorIs(t, err, videoauth.ErrBadVerificationURI, uri)
	}
	fake, tw, _ := twitchSetup(t, true)
	fake.SetVerificationURI("https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH")
	dc, err := tw.Device(context.Background(), "chat:read")
	require.NoError(t, err)
	require.Equal(t, "https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH", dc.VerificationURI)
}

func TestTwitchHelixRequestsCarryBearerAndClientID(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	req, err := http.NewRequest(http.MethodGet, fake.APIURL+"/helix/users", nil)
	require.NoError(t, err)
	require.NoError(t, tw.Authorize(req, tok))
	require.Equal(t, "Bearer "+tok.AccessToken, req.Header.Get("Authorization"))
	require.Equal(t, fake.ClientID, req.Header.Get("Client-Id"))

	// Through the Transport: the fake counts a request without Bearer or
	// Client-Id as malformed (checked at the end).
	resp, _, body, _ := twitchGet(t, videoauth.NewClient(tw, tw.Source(tok)), tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	// A token of another client is not sent: its Client-Id would not match.
	other := tok.Clone()
	other.Meta["twitch_client"] = "someone-else"
	_, err = videoauth.NewClient(tw, tw.Source(other)).Get(fake.APIURL + "/helix/users")
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	require.ErrorIs(t, tw.Authorize(req, other), videoauth.ErrInvalidConfig)
	require.Equal(t, 1, fake.APICalls(), "nothing sent for the foreign token")

	// Nor to another host.
	require.False(t, tw.Owns(&url.URL{Scheme: "http", Host: strings.TrimPrefix(fake.IDURL, "http://")}))
	def, err := videoauth.NewTwitch(videoauth.App{ClientID: "id"})
	require.NoError(t, err)
	require.True(t, def.Owns(&url.URL{Scheme: "https", Host: "API.twitch.tv:443", Path: "/helix/users"}))
	require.False(t, def.Owns(&url.URL{Scheme: "https", Host: "id.twitch.tv"}))
	cfg := def.Config()
	require.Equal(t, "https://id.twitch.tv/oauth2/authorize", cfg.Endpoint.AuthURL)
	require.Equal(t, "https://id.twitch.tv/oauth2/token", cfg.Endpoint.TokenURL)
	require.Equal(t, "https://id.twitch.tv/oauth2/device", cfg.Endpoint.DeviceAuthURL)
	require.EqualValues(t, 1, cfg.Endpoint.AuthStyle, "AuthStyleInParams, never auto-detect")
}

// TestTwitchHelix401sAreToldApart checks that only Invalid OAuth token
// replaces the token: a missing scope, an ID that is not the token's user
// and a Client-Id mismatch are 401s too, returned typed, and never
// refreshed or replayed.
func TestTwitchHelix401sAreToldApart(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email") // no channel:manage:polls
	src := tw.Source(tok)
	c := videoauth.NewClient(tw, src)

	resp, v, body, err := twitchDo(t, c, tw, twitchPoll(t, fake, fake.UserID))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	require.Equal(t, videoauth.VerdictOK, v)
	require.ErrorIs(t, err, videoauth.ErrMissingScope)
	require.ErrorIs(t, err, videoauth.ErrForbidden)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "missing_scope", e.Code)

	poller := twitchUser(fake, false, clock, videoauthtest.TwitchPollScope)
	pc := videoauth.NewClient(tw, tw.Source(poller))
	resp, v, _, err = twitchDo(t, pc, tw, twitchPoll(t, fake, "12345"))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, videoauth.VerdictOK, v)
	require.ErrorIs(t, err, videoauth.ErrForbidden, "broadcaster_id is not the token's user")
	require.ErrorAs(t, err, &e)
	require.Equal(t, "user_mismatch", e.Code)
	resp, _, _, _ = twitchDo(t, pc, tw, twitchPoll(t, fake, fake.UserID))
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// A token of the public app sent with the confidential app's Client-Id
	// (a token from elsewhere, without the client mark).
	pub := twitchUser(fake, true, clock)
	delete(pub.Meta, "twitch_client")
	resp, v, _, err = twitchGet(t, videoauth.NewClient(tw, tw.Source(pub)), tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, videoauth.VerdictOK, v)
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)
	require.ErrorAs(t, err, &e)
	require.Equal(t, "client_id_mismatch", e.Code)

	require.Zero(t, fake.Refreshes(), "none of these is a dead token: nothing refreshed")
	require.Equal(t, 4, fake.APICalls(), "nothing replayed")

	// The one that is: refreshed once, replayed once.
	fake.ExpireToken(tok.AccessToken)
	resp, _, body, _ = twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, 1, fake.Refreshes())
	require.Equal(t, 6, fake.APICalls())

	// With its body.
	fake.ExpireToken(poller.AccessToken)
	resp, _, _, _ = twitchDo(t, pc, tw, twitchPoll(t, fake, fake.UserID))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	bodies := fake.APIBodies()
	require.Len(t, bodies, 8)
	require.Equal(t, bodies[6], bodies[7], "the replay carries the same body")
	require.Contains(t, string(bodies[7]), "Heads or tails?")
	require.Equal(t, 2, fake.Refreshes())
}

func TestTwitchVerdict(t *testing.T) {
	tw, err := videoauth.NewTwitch(videoauth.App{ClientID: "id"})
	require.NoError(t, err)
	for _, c := range []struct {
		status int
		body   string
		header http.Header
		want   videoauth.Verdict
	}{
		{401, `{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`, nil, videoauth.VerdictExpired},
		{401, `{"status":401,"message":"invalid oauth token"}`, nil, videoauth.VerdictExpired},
		{401, `{"error":"Unauthorized","status":401,"message":"Missing scope: channel:manage:polls"}`, nil, videoauth.VerdictOK},
		{401, `{"error":"Unauthorized","status":401,"message":"The user access token must include the channel:manage:polls scope."}`, nil, videoauth.VerdictOK},
		{401, `{"error":"Unauthorized","status":401,"message":"Client ID and OAuth token do not match"}`, nil, videoauth.VerdictOK},
		{401, `{"error":"Unauthorized","status":401,"message":"OAuth token is missing"}`, nil, videoauth.VerdictOK},
		{401, `{"error":"Unauthorized","status":401,"message":"Missing User OAUTH Token"}`, nil, videoauth.VerdictOK},
		{401, `{"error":"Unauthorized","status":401,"message":"The ID in moderator_id must match the user ID found in the request's OAuth token."}`, nil, videoauth.VerdictOK},
		{401, `{"error":"Unauthorized","status":401,"message":"Token expired"}`, nil, videoauth.VerdictOK}, // Twitch's mock server's words, not Twitch's
		{401, `<html>401</html>`, nil, videoauth.VerdictOK},
		{401, ``, http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, videoauth.VerdictExpired},
		{403, `{"error":"Forbidden","status":403,"message":"The user in moderator_id is not one of the broadcaster's moderators."}`, nil, videoauth.VerdictOK},
		{429, `{"error":"Too Many Requests","status":429,"message":"Too Many Requests"}`, nil, videoauth.VerdictOK},
		{200, `{"data":[]}`, nil, videoauth.VerdictOK},
	} {
		h := c.header
		if h == nil {
			h = http.Header{}
		}
		resp := &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body))}
		require.Equal(t, c.want, tw.Verdict(resp), c.body)
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, c.body, string(b), "Verdict leaves the body for the caller")
	}
}

func TestTwitchStampedeOneRefresh(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	c := videoauth.NewClient(tw, tw.Source(tok))
	fake.ExpireToken(tok.AccessToken)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(fake.APIURL + "/helix/users")
			if err == nil {
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 50, ok.Load(), "every request replayed with the new token")
	require.Equal(t, 1, fake.Refreshes(), "50 rejections, one refresh")
	require.Zero(t, fake.SpentRefreshTokenUses())
}

// twitchReplicas are n Sources of one grant, as n replicas hold it, on one
// store under one key.
func twitchReplicas(t *testing.T, tw *videoauth.Twitch, tok *videoauth.Token, stores ...videoauth.Store) []*videoauth.Source {
	t.Helper()
	require.NoError(t, stores[0].Save(context.Background(), "user/141981764", tok))
	var out []*videoauth.Source
	for _, st := range stores {
		src := tw.Source(tok.Clone())
		src.Store, src.Key = st, "user/141981764"
		out = append(out, src)
	}
	return out
}

// twitchRotationRace sends 25 requests through each replica at once after
// the shared access token died, and checks that the grant was refreshed
// once and that every replica holds the one new pair.
func twitchRotationRace(t *testing.T, fake *videoauthtest.Twitch, tw *videoauth.Twitch, tok *videoauth.Token, replicas []*videoauth.Source) {
	t.Helper()
	fake.ExpireToken(tok.AccessToken)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for _, src := range replicas {
		c := videoauth.NewClient(tw, src)
		for range 25 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := c.Get(fake.APIURL + "/helix/users")
				if err == nil {
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
					}
					resp.Body.Close()
				}
			}()
		}
	}
	wg.Wait()
	require.EqualValues(t, 25*len(replicas), ok.Load())
	require.Equal(t, 1, fake.Refreshes(), "one refresh for the whole fleet")
	require.Zero(t, fake.SpentRefreshTokenUses(), "no replica refreshed with a spent refresh token")
	want := replicas[0].Current()
	require.NotEqual(t, tok.RefreshToken, want.RefreshToken)
	for _, src := range replicas {
		require.Equal(t, want.AccessToken, src.Current().AccessToken)
		require.Equal(t, want.RefreshToken, src.Current().RefreshToken)
	}
}

func TestTwitchRotationAcrossReplicas(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	store := &videoauth.MemoryStore{}
	twitchRotationRace(t, fake, tw, tok, twitchReplicas(t, tw, tok, store, store, store))
	stored, err := store.Load(context.Background(), "user/141981764")
	require.NoError(t, err)
	require.NotEqual(t, tok.RefreshToken, stored.RefreshToken, "the new pair is in the store")
}

func TestTwitchRotationAcrossProcesses(t *testing.T) {
	fake, tw, clock := twitchSetup(t, true)
	tok := twitchUser(fake, true, clock, "user:read:email")
	dir := t.TempDir()
	var stores []videoauth.Store
	for range 3 { // three FileStores on one directory: three processes
		fs, err := videoauth.NewFileStore(dir)
		require.NoError(t, err)
		stores = append(stores, fs)
	}
	twitchRotationRace(t, fake, tw, tok, twitchReplicas(t, tw, tok, stores...))
}

// twitchLocklessStore is a Store whose Lock excludes nobody, as a process
// that renews without taking the lock; before the renewing Source's second
// load (the one under its "lock") it lets a sibling refresh first.
type twitchLocklessStore struct {
	videoauth.Store
	loads  atomic.Int32
	before func()
}

func (s *twitchLocklessStore) Lock(context.Context, string) (func() error, error) {
	return func() error { return nil }, nil
}

func (s *twitchLocklessStore) Load(ctx context.Context, key string) (*videoauth.Token, error) {
	tok, err := s.Store.Load(ctx, key)
	if s.loads.Add(1) == 2 && s.before != nil {
		s.before() // the sibling rotates the grant after this Source read it
	}
	return tok, err
}

// TestTwitchRotationSiblingOutsideTheLock: a sibling that does not take the
// lock rotates the grant while this Source is about to refresh it; Twitch
// refuses the spent refresh token, and the Source adopts the sibling's pair
// from the store instead of signing the user out.
func TestTwitchRotationSiblingOutsideTheLock(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	mem := &videoauth.MemoryStore{}
	require.NoError(t, mem.Save(context.Background(), "k", tok))
	sibling := tw.Source(tok.Clone())
	sibling.Store, sibling.Key = mem, "k"
	racy := &twitchLocklessStore{Store: mem}
	racy.before = func() {
		sibling.Invalidate(sibling.Current())
		_, err := sibling.Token(context.Background())
		require.NoError(t, err)
	}
	src := tw.Source(tok.Clone())
	src.Store, src.Key = racy, "k"
	revoked := 0
	src.OnRevoked = func(*videoauth.Token) { revoked++ }
	fake.ExpireToken(tok.AccessToken)
	resp, _, body, _ := twitchGet(t, videoauth.NewClient(tw, src), tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, 2, fake.Refreshes(), "the sibling's, and ours with the spent token")
	require.Equal(t, 1, fake.SpentRefreshTokenUses())
	require.Zero(t, revoked, "400 Invalid refresh token, but a sibling's pair was in the store")
	require.Equal(t, sibling.Current().AccessToken, src.Current().AccessToken)
}

// twitchSavedFirst is a base RoundTripper that checks, before each Helix
// request goes out, that the token it carries is the stored one: a new pair
// is saved before any request uses it.
type twitchSavedFirst struct {
	t     *testing.T
	store videoauth.Store
	base  http.RoundTripper
	sent  atomic.Int32
}

func (b *twitchSavedFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	stored, err := b.store.Load(r.Context(), "k")
	if err != nil || "Bearer "+stored.AccessToken != r.Header.Get("Authorization") {
		b.t.Errorf("a request went out with a token that is not the stored one (load error %v)", err)
	}
	b.sent.Add(1)
	return b.base.RoundTrip(r)
}

func TestTwitchRotationNewPairSavedBeforeUse(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	store := &videoauth.MemoryStore{}
	require.NoError(t, store.Save(context.Background(), "k", tok))
	src := tw.Source(tok)
	src.Store, src.Key = store, "k"
	var persisted []string
	src.OnToken = func(n *videoauth.Token) { persisted = append(persisted, n.RefreshToken) }
	base := &twitchSavedFirst{t: t, store: store, base: http.DefaultTransport}
	c := &http.Client{Transport: &videoauth.Transport{Provider: tw, Source: src, Base: base}}
	for range 3 {
		clock.Advance(2 * time.Second) // past the guard on a just-renewed token (see Source)
		fake.ExpireToken(src.Current().AccessToken)
		resp, _, _, _ := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	clock.Advance(5 * time.Hour) // expired: renewed before the request
	resp, _, _, _ := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.EqualValues(t, 7, base.sent.Load(), "three rejected requests, three replays, one after expiry")
	require.Equal(t, 4, fake.Refreshes())
	require.Len(t, persisted, 4, "OnToken saw every new pair")
	require.Zero(t, fake.SpentRefreshTokenUses())
}

func TestTwitchDeadRefreshTokenMeansReauth(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	src := tw.Source(tok)
	revoked := 0
	src.OnRevoked = func(*videoauth.Token) { revoked++ }
	c := videoauth.NewClient(tw, src)
	fake.RevokeGrant(tok.RefreshToken) // the user disconnected the app
	resp, v, _, err := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, videoauth.VerdictExpired, v)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "invalid_oauth_token", e.Code, "the API's answer")
	var refresh *videoauth.Error
	require.ErrorAs(t, e.Err, &refresh, "and why it could not be answered with a new token")
	require.Equal(t, "refresh", refresh.Op)
	require.Equal(t, "invalid_refresh_token", refresh.Code, "400 Invalid refresh token")
	require.Equal(t, 1, revoked)
	calls := fake.TokenCalls()
	_, err = c.Get(fake.APIURL + "/helix/users")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Equal(t, calls, fake.TokenCalls(), "no request once the grant is known dead")
	require.Equal(t, 1, fake.Refreshes())
}

func TestTwitchFailedRefreshKeepsTheRefreshToken(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	src := tw.Source(tok)
	c := videoauth.NewClient(tw, src)
	fake.ExpireToken(tok.AccessToken)
	fake.FailTokenCalls(1, videoauthtest.Fail5xx)
	resp, _, _, err := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.ErrorIs(t, err, videoauth.ErrServer, "the refresh failed; the grant is not dead")
	require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
	clock.Advance(2 * time.Second) // past the Source's retry interval
	resp, _, _, _ = twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, fake.Refreshes())
	require.Zero(t, fake.SpentRefreshTokenUses(), "the failed refresh spent nothing; the same refresh token worked")
}

func TestTwitchPublicRefreshTokenDiesAfter30Days(t *testing.T) {
	fake, tw, clock := twitchSetup(t, true)
	tok := twitchUser(fake, true, clock, "chat:read")
	clock.Advance(31 * 24 * time.Hour)
	_, err := tw.Source(tok).Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
}

// TestTwitchRefreshesOnlyWhenNeeded: a user token is renewed when it
// expires or is rejected, not in the background ahead of time (Twitch
// discourages it, and every refresh rotates the grant).
func TestTwitchRefreshesOnlyWhenNeeded(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "user:read:email")
	src := tw.Source(tok)
	c := videoauth.NewClient(tw, src)
	for _, d := range []time.Duration{time.Hour, 2 * time.Hour, 50 * time.Minute, 5 * time.Minute} { // up to 14100 s of 14124 s
		clock.Advance(d)
		resp, _, _, _ := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	// The last request was in the window where a Source renews in the
	// background by default (the last RefreshAhead, 2 min, of the token's
	// usable life): no renewal may start.
	require.Equal(t, time.Nanosecond, src.RefreshAhead, "Twitch's Source renews when needed, not ahead")
	require.Never(t, func() bool { return fake.Refreshes() > 0 }, 100*time.Millisecond, 5*time.Millisecond,
		"no refresh while the token lives")
	require.Equal(t, tok.AccessToken, src.Current().AccessToken)
	clock.Advance(20 * time.Second) // within the last tenth-capped-at-10 s
	resp, _, _, _ := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 1, fake.Refreshes())
}

func TestTwitchValidateAndIdentify(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	ctx := context.Background()
	user := twitchUser(fake, false, clock, "chat:read")
	v, err := tw.Validate(ctx, user)
	require.NoError(t, err)
	require.Equal(t, videoauth.TwitchValidation{ClientID: fake.ClientID, Login: "twitchdev", UserID: "141981764",
		Scopes: []string{"chat:read"}, ExpiresAt: clock.Now().Add(14124 * time.Second)}, *v)
	id, err := tw.Identify(ctx, user)
	require.NoError(t, err)
	require.Equal(t, videoauth.Identity{Provider: "twitch", UserID: "141981764", Name: "twitchdev"}, *id)
	var p videoauth.Identifier = tw
	_, err = p.Identify(ctx, user)
	require.NoError(t, err)

	app, err := tw.ClientCredentials().Token(ctx)
	require.NoError(t, err)
	v, err = tw.Validate(ctx, app)
	require.NoError(t, err)
	require.Empty(t, v.UserID, "login and user_id are null for an app token")
	require.Empty(t, v.Login)
	require.Nil(t, v.Scopes, "scopes null")
	id, err = tw.Identify(ctx, app)
	require.NoError(t, err)
	require.Empty(t, id.UserID)

	fake.ExpireToken(user.AccessToken)
	_, err = tw.Validate(ctx, user)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired, "dead, but the refresh token can replace it")
	_, err = tw.Identify(ctx, user)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "identify", e.Op)
	require.Equal(t, "invalid_access_token", e.Code)
	implicit := user.Clone()
	implicit.RefreshToken = ""
	_, err = tw.Validate(ctx, implicit)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired, "dead, and nothing can replace it")
	fake.ExpireToken(app.AccessToken)
	_, err = tw.Validate(ctx, app)
	require.ErrorIs(t, err, videoauth.ErrTokenExpired, "an app token is minted again")

	// A token of another client: Helix would refuse it with this Client-Id.
	pub := twitchUser(fake, true, clock)
	pub.Meta = nil
	_, err = tw.Validate(ctx, pub)
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)
	require.Equal(t, 10, fake.Validations())

	_, err = tw.Validate(ctx, &videoauth.Token{Provider: "vimeo", AccessToken: "x"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	require.Equal(t, 10, fake.Validations(), "nothing sent")
}

func TestTwitchValidateSource(t *testing.T) {
	ctx := context.Background()
	t.Run("alive", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, false)
		v, err := tw.ValidateSource(ctx, tw.Source(twitchUser(fake, false, clock, "chat:read")))
		require.NoError(t, err)
		require.Equal(t, "141981764", v.UserID)
		require.Zero(t, fake.Refreshes())
	})
	t.Run("dead token, live grant: refreshed and validated again", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, false)
		tok := twitchUser(fake, false, clock, "chat:read")
		src := tw.Source(tok)
		fake.ExpireToken(tok.AccessToken)
		v, err := tw.ValidateSource(ctx, src)
		require.NoError(t, err)
		require.Equal(t, "141981764", v.UserID)
		require.Equal(t, 1, fake.Refreshes())
		require.Equal(t, 2, fake.Validations())
		require.NotEqual(t, tok.AccessToken, src.Current().AccessToken)
	})
	t.Run("a replacement rejected at once is not replaced again", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, false)
		tok := twitchUser(fake, false, clock, "chat:read")
		src := tw.Source(tok)
		fake.ExpireToken(tok.AccessToken)
		_, err := tw.ValidateSource(ctx, src) // refreshed: the new token arrived after a rejection
		require.NoError(t, err)
		fake.ExpireToken(src.Current().AccessToken)
		_, err = tw.ValidateSource(ctx, src) // rejected within the Source's guard interval
		require.ErrorIs(t, err, videoauth.ErrTokenExpired)
		require.Equal(t, 1, fake.Refreshes(), "no second refresh within the guard")
		require.Equal(t, 3, fake.Validations(), "and no second validation of the kept token")
		clock.Advance(2 * time.Second)
		_, err = tw.ValidateSource(ctx, src)
		require.NoError(t, err, "past the guard: replaced")
		require.Equal(t, 2, fake.Refreshes())
	})
	t.Run("dead grant: reported like any dead grant", func(t *testing.T) {
		var events []videoauth.Event
		obs := videoauth.ObserverFunc(func(_ context.Context, e videoauth.Event) { events = append(events, e) })
		fake, _, clock := twitchSetup(t, false)
		tw := twitchProvider(t, fake, clock, false, obs)
		tok := twitchUser(fake, false, clock, "chat:read")
		src := tw.Source(tok)
		revoked := 0
		src.OnRevoked = func(*videoauth.Token) { revoked++ }
		fake.RevokeGrant(tok.AccessToken)
		_, err := tw.ValidateSource(ctx, src)
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Equal(t, 1, revoked)
		require.Contains(t, events, videoauth.Event{Kind: videoauth.EventRevoked, Provider: "twitch", Op: "refresh", At: clock.Now()})
		_, err = src.Token(ctx)
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	})
	t.Run("dead implicit token", func(t *testing.T) {
		fake, tw, clock := twitchSetup(t, false)
		tok := twitchUser(fake, false, clock, "chat:read")
		tok.RefreshToken = ""
		src := tw.Source(tok)
		revoked := 0
		src.OnRevoked = func(*videoauth.Token) { revoked++ }
		fake.ExpireToken(tok.AccessToken)
		_, err := tw.ValidateSource(ctx, src)
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Equal(t, 1, revoked)
		_, err = src.Token(ctx)
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Zero(t, fake.TokenCalls())
	})
	t.Run("an outage says nothing of the grant", func(t *testing.T) {
		fake := videoauthtest.NewTwitch()
		defer fake.Close()
		clock := videoauthtest.NewClock(time.Now())
		fake.SetClock(clock)
		defer func() { require.Zero(t, fake.Malformed(), "%q", fake.MalformedRequests()) }()
		tw := twitchProvider(t, fake, clock, false, nil)
		src := tw.Source(twitchUser(fake, false, clock, "chat:read"))
		fake.Close()
		_, err := tw.ValidateSource(ctx, src)
		require.Error(t, err)
		require.NotErrorIs(t, err, videoauth.ErrReauthRequired)
		require.NotNil(t, src.Current(), "the Source keeps its token")
	})
}

func TestTwitchRunValidationHourly(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	live := tw.Source(twitchUser(fake, false, clock, "chat:read"))
	doomed := twitchUser(fake, false, clock, "chat:read")
	dead := tw.Source(doomed)
	var mu sync.Mutex
	results := map[*videoauth.Source][]error{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- tw.RunValidation(ctx, func() []*videoauth.Source { return []*videoauth.Source{live, dead} },
			func(src *videoauth.Source, _ *videoauth.TwitchValidation, err error) {
				mu.Lock()
				results[src] = append(results[src], err)
				mu.Unlock()
			})
	}()
	<-clock.UntilWaiters(1) // the first round is done: asleep for an hour
	require.Equal(t, 2, fake.Validations(), "both validated at start")
	fake.RevokeGrant(doomed.AccessToken)
	clock.Advance(59 * time.Minute)
	require.Equal(t, 2, fake.Validations(), "not before the hour")
	clock.Advance(time.Minute)
	<-clock.UntilWaiters(1)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []error{nil, nil}, results[live])
	require.Len(t, results[dead], 2)
	require.NoError(t, results[dead][0])
	require.ErrorIs(t, results[dead][1], videoauth.ErrReauthRequired, "the second round found the grant gone")
	require.Equal(t, []time.Duration{time.Hour, time.Hour}, clock.AfterCalls())
}

func TestTwitchRevoke(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	ctx := context.Background()
	tok := twitchUser(fake, false, clock, "chat:read")
	src := tw.Source(tok)
	require.NoError(t, src.Revoke(ctx))
	require.Equal(t, url.Values{"client_id": {fake.ClientID}, "token": {tok.AccessToken}}, fake.LastTokenForm(),
		"client_id and token only: no secret")
	_, err := src.Token(ctx)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	_, err = tw.Validate(ctx, tok)
	require.Error(t, err)
	require.NoError(t, tw.Revoke(ctx, tok), "400 Invalid token: already gone")
	require.Equal(t, 2, fake.Revocations())

	app, err := tw.ClientCredentials().Token(ctx)
	require.NoError(t, err)
	require.NoError(t, tw.Revoke(ctx, app))

	other, err := videoauth.NewTwitch(videoauth.App{ClientID: "nobody", WebURL: fake.IDURL, APIURL: fake.APIURL})
	require.NoError(t, err)
	err = other.Revoke(ctx, twitchUser(fake, false, clock))
	require.ErrorIs(t, err, videoauth.ErrInvalidClient, "404 client does not exist")
	require.ErrorIs(t, tw.Revoke(ctx, &videoauth.Token{Provider: "simkl", AccessToken: "x"}), videoauth.ErrInvalidConfig)
}

func TestTwitchRateLimitIsTypedAndNotRetried(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	c := videoauth.NewClient(tw, tw.Source(twitchUser(fake, false, clock)))
	fake.RateLimitNext(1)
	resp, _, _, err := twitchGet(t, c, tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.ErrorIs(t, err, videoauth.ErrRateLimited)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, time.Minute, e.RetryAfter, "from Ratelimit-Reset")
	require.Equal(t, 1, fake.APICalls(), "not retried")
	require.Zero(t, fake.Refreshes())
}

func TestTwitchRefreshErrorsAreTyped(t *testing.T) {
	for _, c := range []struct {
		status int
		msg    string
		want   error
	}{
		{400, "Invalid refresh token", videoauth.ErrReauthRequired},
		{400, "missing client secret", videoauth.ErrInvalidClient},
		{403, "invalid client secret", videoauth.ErrInvalidClient},
		{400, "invalid client", videoauth.ErrInvalidClient},
		{400, "missing refresh token", videoauth.ErrInvalidRequest},
		{429, "Too Many Requests", videoauth.ErrRateLimited},
		{503, "Service Unavailable", videoauth.ErrServer},
	} {
		t.Run(c.msg, func(t *testing.T) {
			fake, tw, clock := twitchSetup(t, false)
			src := tw.Source(twitchUser(fake, false, clock))
			src.Invalidate(src.Current())
			fake.NextTokenError(c.status, c.msg)
			_, err := src.Token(context.Background())
			require.ErrorIs(t, err, c.want)
			if !errors.Is(c.want, videoauth.ErrReauthRequired) {
				require.NotErrorIs(t, err, videoauth.ErrReauthRequired, "only a dead refresh token ends the grant")
			}
		})
	}
}

func TestTwitchPrintsNoSecret(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	tok := twitchUser(fake, false, clock, "chat:read")
	src := tw.Source(tok)
	fake.RevokeGrant(tok.RefreshToken)
	fake.NextTokenError(400, "Invalid refresh token "+tok.RefreshToken) // a service that echoes the secret
	src.Invalidate(tok)
	_, mintErr := src.Token(context.Background())
	require.Error(t, mintErr)
	v := videoauth.TwitchValidation{ClientID: fake.ClientID, UserID: "1", Login: "x"}
	secrets := []string{fake.ClientSecret, tok.AccessToken, tok.RefreshToken}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	text := slog.New(slog.NewTextHandler(&buf, nil))
	for _, x := range []any{tw, *tw, tok, *tok, src, mintErr, v, []any{tw, tok, mintErr}, map[string]any{"p": tw, "t": tok}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			buf.WriteString(fmt.Sprintf(verb, x))
		}
		log.Info("x", "value", x)
		text.Info("x", "value", x)
	}
	for _, s := range secrets {
		require.NotContains(t, buf.String(), s)
	}
	require.Contains(t, buf.String(), "twitch")
}

// TestTwitchRotationSiblingKilledOurToken: when a refresh kills the
// previous access token (Twitch may do so; it is not documented), a
// replica whose token a sibling's refresh killed adopts the sibling's pair
// from the store instead of refreshing with the spent refresh token.
func TestTwitchRotationSiblingKilledOurToken(t *testing.T) {
	fake, tw, clock := twitchSetup(t, false)
	fake.SetRefreshKillsAccess(true)
	tok := twitchUser(fake, false, clock, "user:read:email")
	store := &videoauth.MemoryStore{}
	r := twitchReplicas(t, tw, tok, store, store)
	fake.ExpireToken(tok.AccessToken)
	resp, _, _, _ := twitchGet(t, videoauth.NewClient(tw, r[0]), tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, tok.AccessToken, r[1].Current().AccessToken, "the other replica still holds the old pair")
	resp, _, _, _ = twitchGet(t, videoauth.NewClient(tw, r[1]), tw, fake.APIURL+"/helix/users")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 1, fake.Refreshes(), "adopted, not refreshed again")
	require.Zero(t, fake.SpentRefreshTokenUses())
	require.Equal(t, r[0].Current().RefreshToken, r[1].Current().RefreshToken)
}
