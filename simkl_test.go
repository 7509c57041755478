package videoauth_test

import (
	"bytes"
	"context"
	"encoding/json"
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

// simklApp returns the App of fake's V1 or V2 application.
func simklApp(fake *videoauthtest.Simkl, gen videoauth.SimklGeneration, public bool) videoauth.App {
	a := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AppName: "videoauth-test", AppVersion: "0.1",
		APIURL: fake.APIURL, WebURL: fake.WebURL, RedirectURL: "http://127.0.0.1:1/callback"}
	if gen == videoauth.SimklV2 {
		a.ClientID, a.ClientSecret = fake.V2ClientID, fake.V2ClientSecret
	}
	if public {
		a.ClientSecret = ""
	}
	return a
}

func setupSimkl(t *testing.T, gen videoauth.SimklGeneration, public bool) (*videoauthtest.Simkl, *videoauth.Simkl) {
	t.Helper()
	fake := videoauthtest.NewSimkl()
	t.Cleanup(fake.Close)
	t.Cleanup(func() {
		require.Zero(t, fake.MissingParams(), "a request lacked client_id, app-name, app-version or User-Agent")
	})
	s, err := videoauth.NewSimkl(simklApp(fake, gen, public), gen)
	require.NoError(t, err)
	return fake, s
}

// setupSimklClock is setupSimkl for a public app with a manual Clock shared
// by the fake and the provider.
func setupSimklClock(t *testing.T, gen videoauth.SimklGeneration) (*videoauthtest.Simkl, *videoauth.Simkl, *videoauthtest.Clock) {
	t.Helper()
	clock := videoauthtest.NewClock(time.Now())
	fake, s := setupSimklWith(t, gen, clock)
	return fake, s, clock
}

// consent follows the authorize URL like a browser and returns where the
// consent page sent it.
func consent(t *testing.T, authURL string) *url.URL { t.Helper(); return follow(t, authURL) }

func TestSimklV1CodeFlowConfidential(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV1, false)
	ar, err := s.AuthRequest("")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ar.URL, fake.WebURL+"/oauth/authorize?"), "consent on the web host")
	loc := consent(t, ar.URL)
	tok, err := s.Exchange(context.Background(), ar, loc.Query())
	require.NoError(t, err)
	require.Equal(t, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {ar.RedirectURL},
		"client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret}}, fake.LastTokenForm())
	require.Equal(t, videoauth.SimklV1, videoauth.SimklGenerationOf(tok))
	require.WithinDuration(t, time.Now().Add(157680000*time.Second), tok.Expiry, time.Minute, "five-year token")
	require.Empty(t, tok.RefreshToken)

	c := videoauth.NewClient(s, s.Source(tok))
	code, _ := get(t, c, fake.APIURL+"/users/settings")
	require.Equal(t, 200, code)
	h := fake.LastRequestHeader()
	require.Equal(t, "videoauth-test/0.1", h.Get("User-Agent"))

	// A code is burnt by its first exchange: a replayed callback is refused
	// locally, a second AuthRequest with a stale code fails at Simkl once.
	_, err = s.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, fake.Exchanges())
}

func TestSimklV1FailedExchangeIsTypedAndNeverRetried(t *testing.T) {
	t.Run("wrong secret", func(t *testing.T) {
		fake := videoauthtest.NewSimkl()
		defer fake.Close()
		app := simklApp(fake, videoauth.SimklV1, false)
		app.ClientSecret = "PLANTED-wrong"
		s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
		require.NoError(t, err)
		ar, _ := s.AuthRequest("")
		_, err = s.Exchange(context.Background(), ar, consent(t, ar.URL).Query())
		require.ErrorIs(t, err, videoauth.ErrInvalidClient)
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "secret_error", e.Code)
		require.NotContains(t, err.Error(), "PLANTED")
		require.Equal(t, 1, fake.Exchanges(), "one attempt, no retry")
		require.Equal(t, 1, fake.TokenCalls())
	})
	t.Run("redirect differs", func(t *testing.T) {
		fake, s := setupSimkl(t, videoauth.SimklV1, false)
		ar, _ := s.AuthRequest("")
		loc := consent(t, ar.URL)
		ar.RedirectURL = "http://127.0.0.1:2/elsewhere"
		_, err := s.Exchange(context.Background(), ar, loc.Query())
		require.ErrorIs(t, err, videoauth.ErrRedirectMismatch)
		require.Equal(t, 1, fake.Exchanges())
	})
	t.Run("code burnt by the failed attempt", func(t *testing.T) {
		fake, s := setupSimkl(t, videoauth.SimklV1, false)
		ar, _ := s.AuthRequest("")
		loc := consent(t, ar.URL)
		good := ar.RedirectURL
		ar.RedirectURL = "http://127.0.0.1:2/elsewhere"
		_, err := s.Exchange(context.Background(), ar, loc.Query())
		require.Error(t, err)
		// Even a fresh AuthRequest value carrying the same code gets
		// grant_error: Simkl deleted the code at the first attempt.
		ar2 := &videoauth.AuthRequest{Provider: "simkl", State: ar.State, RedirectURL: good}
		_, err = s.Exchange(context.Background(), ar2, loc.Query())
		require.ErrorIs(t, err, videoauth.ErrCodeUsed)
		require.Equal(t, 2, fake.Exchanges())
	})
}

func TestSimklV1PKCEThroughLoopback(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV1, true)
	var opened string
	tok, err := videoauth.Loopback(context.Background(), s, videoauth.LoopbackConfig{Open: func(u string) error {
		opened = u
		resp, err := http.Get(u) // the browser: consent approves, redirect lands on the loopback
		if err == nil {
			resp.Body.Close()
		}
		return err
	}})
	require.NoError(t, err)
	require.Contains(t, opened, "code_challenge_method=S256")
	form := fake.LastTokenForm()
	require.NotEmpty(t, form.Get("code_verifier"))
	require.Empty(t, form.Get("client_secret"), "a public client sends no secret")
	require.Equal(t, videoauth.SimklV1, videoauth.SimklGenerationOf(tok))
}

func TestSimklV1DenialIsATimeoutInLoopback(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV1, true)
	fake.DenyConsent(true) // Simkl V1 sends the user to simkl.com/, never back
	clock := videoauthtest.NewClock(time.Now())
	done := make(chan error, 1)
	go func() {
		_, err := videoauth.Loopback(context.Background(), s, videoauth.LoopbackConfig{Clock: clock, Open: func(u string) error {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}})
		done <- err
	}()
	select { // Loopback armed its timeout
	case <-clock.UntilWaiters(1):
	case <-time.After(5 * time.Second):
		t.Fatal("Loopback never armed its timeout")
	}
	require.Equal(t, []time.Duration{5 * time.Minute}, clock.AfterCalls())
	clock.Advance(5 * time.Minute) // the default timeout
	err := <-done
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	require.Zero(t, fake.Exchanges())
}

// pinDriver runs a DeviceCode's Wait on a manual clock, one poll at a time.
type pinDriver struct {
	t     *testing.T
	clock *videoauthtest.Clock
	done  chan struct{}
	tok   *videoauth.Token
	err   error
}

func startWait(t *testing.T, clock *videoauthtest.Clock, dc *videoauth.DeviceCode) *pinDriver {
	d := &pinDriver{t: t, clock: clock, done: make(chan struct{})}
	go func() { defer close(d.done); d.tok, d.err = dc.Wait(context.Background()) }()
	return d
}

// step waits until Wait sleeps (or has returned), then moves the clock by
// dt.
func (d *pinDriver) step(dt time.Duration) {
	d.t.Helper()
	select {
	case <-d.done:
	case <-d.clock.UntilWaiters(1):
	case <-time.After(5 * time.Second):
		d.t.Fatal("Wait neither slept nor returned")
	}
	d.clock.Advance(dt)
}

func (d *pinDriver) wait() (*videoauth.Token, error) { <-d.done; return d.tok, d.err }

func TestSimklV1PINFlow(t *testing.T) {
	t.Run("approved after pending polls", func(t *testing.T) {
		fake, s, clock := setupSimklClock(t, videoauth.SimklV1)
		dc, err := s.PIN(context.Background())
		require.NoError(t, err)
		require.Equal(t, fake.WebURL+"/pin", dc.VerificationURI)
		require.Equal(t, fake.WebURL+"/pin/"+dc.UserCode, dc.VerificationURIComplete)
		require.Equal(t, 5*time.Second, dc.Interval)
		d := startWait(t, clock, dc)
		d.step(5 * time.Second)
		require.Eventually(t, func() bool { return fake.PINPolls() == 1 }, 5*time.Second, time.Millisecond)
		require.True(t, fake.ApproveCode(dc.UserCode))
		d.step(5 * time.Second)
		tok, err := d.wait()
		require.NoError(t, err)
		require.NotEmpty(t, tok.AccessToken)
		require.Equal(t, videoauth.SimklV1, videoauth.SimklGenerationOf(tok))
		require.Equal(t, 2, fake.PINPolls())
		require.Zero(t, fake.MissingParams())
	})
	t.Run("a poll answered with a new code stops at once", func(t *testing.T) {
		fake, s, clock := setupSimklClock(t, videoauth.SimklV1)
		dc, err := s.PIN(context.Background())
		require.NoError(t, err)
		require.True(t, fake.ApproveCode(dc.UserCode))
		d := startWait(t, clock, dc)
		d.step(5 * time.Second) // approved: the token, and Simkl deletes the code
		_, err = d.wait()
		require.NoError(t, err)
		// Polling the deleted code again answers with a brand-new code.
		dc2 := *dc
		d = startWait(t, clock, &dc2)
		d.step(5 * time.Second)
		_, err = d.wait()
		require.ErrorIs(t, err, videoauth.ErrExpiredCode)
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "code_replaced", e.Code)
		require.Equal(t, 2, fake.PINPolls(), "stopped at the first new-code answer")
	})
	t.Run("never approved ends at expires_in", func(t *testing.T) {
		fake, s, clock := setupSimklClock(t, videoauth.SimklV1)
		dc, err := s.PIN(context.Background())
		require.NoError(t, err)
		require.True(t, fake.DenyCode(dc.UserCode), "Simkl V1 has no deny: the code stays pending")
		d := startWait(t, clock, dc)
		for i := 0; i < 900/5; i++ {
			d.step(5 * time.Second)
		}
		_, err = d.wait()
		require.ErrorIs(t, err, videoauth.ErrExpiredCode)
		require.LessOrEqual(t, fake.PINPolls(), 180)
	})
	t.Run("V2 has no PIN flow", func(t *testing.T) {
		_, s := setupSimkl(t, videoauth.SimklV2, true)
		_, err := s.PIN(context.Background())
		require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant)
	})
}

func TestSimklV1RevokedTokenIsNotRetried(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV1, false)
	access, _ := fake.IssueToken(false)
	src := s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, TokenType: "Bearer", Meta: map[string]string{"simkl_auth": "v1"}})
	var revoked atomic.Int32
	src.OnRevoked = func(*videoauth.Token) { revoked.Add(1) }
	c := videoauth.NewClient(s, src)
	fake.RevokeToken(access)
	code, _ := get(t, c, fake.APIURL+"/users/settings")
	require.Equal(t, 401, code)
	require.Equal(t, 1, fake.APICalls(), "no retry")
	require.EqualValues(t, 1, revoked.Load())
	_, err := c.Get(fake.APIURL + "/users/settings")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Equal(t, 1, fake.APICalls(), "no network once revoked")
	require.ErrorIs(t, s.Revoke(context.Background(), src.Current()), videoauth.ErrUnsupportedGrant)
}

func TestSimklV2CodeFlow(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV2, false)
	ar, err := s.AuthRequest("", videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ar.URL, fake.WebURL+"/oauth2/authorize?"))
	loc := consent(t, ar.URL)
	require.Equal(t, fake.WebURL, loc.Query().Get("iss"))
	tok, err := s.Exchange(context.Background(), ar, loc.Query())
	require.NoError(t, err)
	require.Equal(t, "S256", fake.LastAuthorizeQuery().Get("code_challenge_method"))
	require.Equal(t, "media:read media:write", fake.LastAuthorizeQuery().Get("scope"))
	form := fake.LastTokenForm()
	require.Equal(t, ar.Verifier, form.Get("code_verifier"))
	require.Equal(t, fake.V2ClientSecret, form.Get("client_secret"), "a server app sends its secret and PKCE")
	require.True(t, strings.HasPrefix(tok.AccessToken, "simkl_at_"))
	require.True(t, strings.HasPrefix(tok.RefreshToken, "simkl_rt_"))
	require.NoError(t, tok.RequireScopes(videoauth.SimklScopeWrite))
	require.WithinDuration(t, time.Now().Add(7*24*time.Hour), tok.Expiry, time.Minute)
	require.Equal(t, videoauth.SimklV2, videoauth.SimklGenerationOf(tok))

	t.Run("iss of another server is refused before the exchange", func(t *testing.T) {
		ar, _ := s.AuthRequest("")
		q := consent(t, ar.URL).Query()
		q.Set("iss", "https://evil.example")
		before := fake.Exchanges()
		_, err := s.Exchange(context.Background(), ar, q)
		require.ErrorIs(t, err, videoauth.ErrIssuerMismatch)
		require.Equal(t, before, fake.Exchanges())
	})
	t.Run("denial comes back as access_denied", func(t *testing.T) {
		fake.DenyConsent(true)
		defer fake.DenyConsent(false)
		ar, _ := s.AuthRequest("")
		_, err := s.Exchange(context.Background(), ar, consent(t, ar.URL).Query())
		require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	})
	t.Run("a used code is ErrCodeUsed", func(t *testing.T) {
		ar, _ := s.AuthRequest("")
		q := consent(t, ar.URL).Query()
		_, err := s.Exchange(context.Background(), ar, q)
		require.NoError(t, err)
		ar2 := &videoauth.AuthRequest{Provider: "simkl", State: ar.State, RedirectURL: ar.RedirectURL, Verifier: ar.Verifier, Issuer: ar.Issuer}
		_, err = s.Exchange(context.Background(), ar2, q)
		require.ErrorIs(t, err, videoauth.ErrCodeUsed)
	})
}

func TestSimklV2DeviceFlow(t *testing.T) {
	t.Run("approved", func(t *testing.T) {
		fake, s, clock := setupSimklClock(t, videoauth.SimklV2)
		dc, err := s.Device(context.Background(), videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
		require.NoError(t, err)
		require.Equal(t, fake.WebURL+"/pin", dc.VerificationURI)
		require.Equal(t, fake.WebURL+"/pin/"+dc.UserCode, dc.VerificationURIComplete)
		d := startWait(t, clock, dc)
		d.step(dc.Interval)
		require.Eventually(t, func() bool { return fake.DevicePolls() == 1 }, 5*time.Second, time.Millisecond)
		require.True(t, fake.ApproveCode(dc.UserCode))
		d.step(dc.Interval)
		tok, err := d.wait()
		require.NoError(t, err)
		require.True(t, tok.HasScope(videoauth.SimklScopeWrite))
		require.NotEmpty(t, tok.RefreshToken)
		require.Equal(t, "urn:ietf:params:oauth:grant-type:device_code", fake.LastTokenForm().Get("grant_type"))
		require.Empty(t, fake.LastTokenForm().Get("client_secret"), "a device app has no secret")
	})
	t.Run("denied", func(t *testing.T) {
		fake, s, clock := setupSimklClock(t, videoauth.SimklV2)
		dc, err := s.Device(context.Background())
		require.NoError(t, err)
		require.True(t, fake.DenyCode(dc.UserCode))
		d := startWait(t, clock, dc)
		d.step(dc.Interval)
		_, err = d.wait()
		require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	})
	t.Run("expired", func(t *testing.T) {
		_, s, clock := setupSimklClock(t, videoauth.SimklV2)
		dc, err := s.Device(context.Background())
		require.NoError(t, err)
		d := startWait(t, clock, dc)
		for i := 0; i < 900/5; i++ {
			d.step(dc.Interval)
		}
		_, err = d.wait()
		require.ErrorIs(t, err, videoauth.ErrExpiredCode)
	})
	t.Run("V1 has no device flow", func(t *testing.T) {
		_, s := setupSimkl(t, videoauth.SimklV1, true)
		_, err := s.Device(context.Background())
		require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant)
	})
}

// v2Source returns a Source over a fresh V2 grant of fake.
func v2Source(t *testing.T, fake *videoauthtest.Simkl, s *videoauth.Simkl, now time.Time) *videoauth.Source {
	t.Helper()
	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
	return s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: now.Add(7 * 24 * time.Hour), Scopes: []string{"media:read", "media:write"}, Meta: map[string]string{"simkl_auth": "v2"}})
}

func TestSimklV2RefreshOnExpiry(t *testing.T) {
	fake, s, clock := setupSimklClock(t, videoauth.SimklV2)
	src := v2Source(t, fake, s, clock.Now())
	var saved []*videoauth.Token
	var mu sync.Mutex
	src.OnToken = func(tok *videoauth.Token) { mu.Lock(); saved = append(saved, tok); mu.Unlock() }
	c := videoauth.NewClient(s, src)
	old := src.Current()

	clock.Advance(7*24*time.Hour + time.Minute) // expired: refreshed before the request
	code, _ := get(t, c, fake.APIURL+"/sync/activities")
	require.Equal(t, 200, code)
	require.Equal(t, 1, fake.Refreshes())
	cur := src.Current()
	require.NotEqual(t, old.AccessToken, cur.AccessToken)
	require.Equal(t, old.RefreshToken, cur.RefreshToken, "Simkl's refresh tokens do not rotate")
	require.Equal(t, []string{"media:read", "media:write"}, cur.Scopes)
	require.Equal(t, videoauth.SimklV2, videoauth.SimklGenerationOf(cur))
	mu.Lock()
	require.Len(t, saved, 1)
	require.Same(t, cur, saved[0], "OnToken saw the token before any request used it")
	mu.Unlock()
	require.Zero(t, fake.KilledTokenUses())
	require.Equal(t, "refresh_token", fake.LastTokenForm().Get("grant_type"))
	require.Zero(t, fake.MissingParams())
}

func TestSimklV2RefreshAheadInTheBackground(t *testing.T) {
	fake, s, clock := setupSimklClock(t, videoauth.SimklV2)
	src := v2Source(t, fake, s, clock.Now())
	c := videoauth.NewClient(s, src)
	clock.Advance(6*24*time.Hour + time.Hour) // inside the one-day window
	code, _ := get(t, c, fake.APIURL+"/sync/activities")
	require.Equal(t, 200, code, "the request did not wait for the refresh")
	require.Eventually(t, func() bool {
		return fake.Refreshes() == 1 && src.Current().Expiry.After(clock.Now().Add(6*24*time.Hour))
	},
		5*time.Second, time.Millisecond)
}

func TestSimklV2RefreshOnceAfter401(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV2, true)
	src := v2Source(t, fake, s, time.Now())
	c := videoauth.NewClient(s, src)
	// Another holder of the grant refreshes: our access token dies.
	other := v2SourceOf(s, src.Current())
	_, err := other.Token(context.Background())
	require.NoError(t, err)
	other.Invalidate(other.Current())
	_, err = other.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, fake.Refreshes())

	req, _ := http.NewRequest("POST", fake.APIURL+"/sync/history", strings.NewReader(`{"movies":[{"ids":{"simkl":1}}]}`))
	req.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(`{"movies":[{"ids":{"simkl":1}}]}`)), nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300)
	require.Equal(t, 2, fake.Refreshes(), "one refresh after the 401")
	require.Equal(t, 1, fake.KilledTokenUses(), "only the rejected request carried the dead token")
	bodies := fake.APIBodies()
	require.Len(t, bodies, 2, "the rejected request and its replay")
	require.Equal(t, `{"movies":[{"ids":{"simkl":1}}]}`, string(bodies[0]))
	require.Equal(t, bodies[0], bodies[1], "the replay carried a byte-identical body")
}

// v2SourceOf is a second Source over the same grant, like another replica.
func v2SourceOf(s *videoauth.Simkl, t *videoauth.Token) *videoauth.Source { return s.Source(t.Clone()) }

func TestSimklV2DeadRefreshTokenMeansReauth(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV2, true)
	src := v2Source(t, fake, s, time.Now())
	c := videoauth.NewClient(s, src)
	fake.RevokeToken(src.Current().RefreshToken) // revoked in Connected Apps
	// The service answered: its 401 comes back, typed by CheckResponse with
	// what the failed refresh taught the Transport.
	resp, err := c.Get(fake.APIURL + "/sync/activities")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.ErrorIs(t, videoauth.CheckResponse(s, resp), videoauth.ErrReauthRequired)
	resp.Body.Close()
	require.Equal(t, 1, fake.Refreshes())
	// Now no request can be sent: the Transport's error.
	_, err = c.Get(fake.APIURL + "/sync/activities")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	_, err = src.Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Equal(t, 1, fake.Refreshes(), "no more refreshes until a new sign-in")
}

func TestSimklV2StampedeOneRefresh(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV2, true)
	src := v2Source(t, fake, s, time.Now())
	c := videoauth.NewClient(s, src)
	other := v2SourceOf(s, src.Current())
	other.Invalidate(other.Current())
	_, err := other.Token(context.Background()) // kills our access token
	require.NoError(t, err)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(fake.APIURL + "/sync/activities")
			if err == nil {
				if resp.StatusCode == 200 {
					ok.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 200, ok.Load())
	require.Equal(t, 2, fake.Refreshes(), "the other holder's refresh and exactly one of ours")
}

func TestSimklV2Revoke(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV2, false)
	src := v2Source(t, fake, s, time.Now())
	tok := src.Current()
	require.NoError(t, s.Revoke(context.Background(), tok))
	require.Equal(t, 1, fake.Revocations())
	require.Equal(t, tok.RefreshToken, fake.LastTokenForm().Get("token"))
	c := videoauth.NewClient(s, src)
	resp, err := c.Get(fake.APIURL + "/sync/activities")
	require.NoError(t, err, "the service answered")
	require.ErrorIs(t, videoauth.CheckResponse(s, resp), videoauth.ErrReauthRequired, "access token dead, refresh refused: sign in again")
	resp.Body.Close()
	_, err = c.Get(fake.APIURL + "/sync/activities")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired, "then nothing is sent")
	require.ErrorIs(t, s.Revoke(context.Background(), nil), videoauth.ErrInvalidConfig)
}

func TestSimklRateLimitsAreTypedAndNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind videoauthtest.RateLimit
		wait time.Duration
		also error
	}{
		{"429 with Retry-After", videoauthtest.RateLimit429, 7 * time.Second, nil},
		{"412 client_id_failed", videoauthtest.RateLimit412, time.Second, videoauth.ErrInvalidClient},
		{"400 RATE_LIMIT write lock", videoauthtest.RateLimitWriteLock, 20 * time.Second, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, s := setupSimkl(t, videoauth.SimklV2, true)
			c := videoauth.NewClient(s, v2Source(t, fake, s, time.Now()))
			fake.RateLimitNext(1, tc.kind)
			resp, err := c.Get(fake.APIURL + "/sync/activities")
			require.NoError(t, err)
			defer resp.Body.Close()
			err = videoauth.CheckResponse(s, resp)
			require.ErrorIs(t, err, videoauth.ErrRateLimited)
			if tc.also != nil {
				require.ErrorIs(t, err, tc.also)
			}
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.wait, e.RetryAfter)
			require.Equal(t, 1, fake.APICalls(), "never retried by the transport")
			require.Zero(t, fake.Refreshes())
		})
	}
}

func TestSimklWriteScopeWarning(t *testing.T) {
	fake, _ := setupSimkl(t, videoauth.SimklV2, true)
	var logs bytes.Buffer
	app := simklApp(fake, videoauth.SimklV2, true)
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
	require.NoError(t, err)

	ar, _ := s.AuthRequest("", videoauth.SimklScopeRead) // read only: no warning
	tok, err := s.Exchange(context.Background(), ar, consent(t, ar.URL).Query())
	require.NoError(t, err)
	require.Empty(t, logs.String())
	require.ErrorIs(t, tok.RequireScopes(videoauth.SimklScopeWrite), videoauth.ErrScopeNotGranted)

	fake.WithholdScope(videoauth.SimklScopeWrite) // the user's consent dropped it
	ar, _ = s.AuthRequest("", videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
	tok, err = s.Exchange(context.Background(), ar, consent(t, ar.URL).Query())
	require.NoError(t, err)
	require.False(t, tok.HasScope(videoauth.SimklScopeWrite))
	require.Contains(t, logs.String(), "media:write")
	require.NotContains(t, logs.String(), tok.AccessToken)
}

// simklSessionForm is ar's session form (the JSON object a web application
// keeps in the user's session): its exported fields under their JSON tags,
// built by hand so as not to depend on how AuthRequest marshals itself.
func simklSessionForm(ar *videoauth.AuthRequest) map[string]any {
	return map[string]any{"url": ar.URL, "provider": ar.Provider, "state": ar.State, "verifier": ar.Verifier,
		"redirect_url": ar.RedirectURL, "scopes": ar.Scopes, "issuer": ar.Issuer, "require_iss": ar.RequireIss, "implicit": ar.Implicit}
}

// simklRestore reads a session form back into a fresh AuthRequest.
func simklRestore(t *testing.T, form map[string]any) *videoauth.AuthRequest {
	t.Helper()
	b, err := json.Marshal(form)
	require.NoError(t, err)
	var back videoauth.AuthRequest
	require.NoError(t, json.Unmarshal(b, &back))
	return &back
}

// Simkl V2 always sends iss (RFC 9207): a callback without it is refused
// with ErrIssuerMismatch before anything reaches the token endpoint, for a
// fresh AuthRequest, one restored from its session JSON, and one stored
// before RequireIss was set for V2.
func TestSimklV2CallbackWithoutIssIsRefused(t *testing.T) {
	fake, s := setupSimkl(t, videoauth.SimklV2, false)
	ctx := context.Background()
	roundTrip := func(t *testing.T, ar *videoauth.AuthRequest, edit func(map[string]any)) *videoauth.AuthRequest {
		t.Helper()
		m := simklSessionForm(ar)
		if edit != nil {
			edit(m)
		}
		return simklRestore(t, m)
	}
	for _, tc := range []struct {
		name    string
		restore func(t *testing.T, ar *videoauth.AuthRequest) *videoauth.AuthRequest
	}{
		{"fresh", func(_ *testing.T, ar *videoauth.AuthRequest) *videoauth.AuthRequest { return ar }},
		{"session JSON round trip", func(t *testing.T, ar *videoauth.AuthRequest) *videoauth.AuthRequest {
			back := roundTrip(t, ar, nil)
			require.True(t, back.RequireIss, "require_iss is stored")
			return back
		}},
		{"stored without require_iss", func(t *testing.T, ar *videoauth.AuthRequest) *videoauth.AuthRequest {
			return roundTrip(t, ar, func(m map[string]any) { delete(m, "require_iss") })
		}},
		{"stored with require_iss false", func(t *testing.T, ar *videoauth.AuthRequest) *videoauth.AuthRequest {
			return roundTrip(t, ar, func(m map[string]any) { m["require_iss"] = false })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ar, err := s.AuthRequest("")
			require.NoError(t, err)
			require.True(t, ar.RequireIss)
			require.Equal(t, fake.WebURL, ar.Issuer)
			q := consent(t, ar.URL).Query()
			require.Equal(t, []string{fake.WebURL}, q["iss"], "the fake sends iss, as Simkl V2 does")
			q.Del("iss")
			ar = tc.restore(t, ar)
			before := fake.TokenCalls()

			wrong := url.Values{"state": {"not-ours"}, "code": q["code"]}
			_, err = s.Exchange(ctx, ar, wrong)
			require.ErrorIs(t, err, videoauth.ErrStateMismatch, "state is checked first")
			require.False(t, ar.Used(), "a foreign state consumes nothing")

			_, err = s.Exchange(ctx, ar, q)
			require.ErrorIs(t, err, videoauth.ErrIssuerMismatch)
			require.True(t, ar.Used(), "the right state consumes the request")
			_, err = s.Exchange(ctx, ar, q)
			require.ErrorIs(t, err, videoauth.ErrStateUsed)
			require.Equal(t, before, fake.TokenCalls(), "nothing was exchanged")
		})
	}
	t.Run("with iss the restored request still works", func(t *testing.T) {
		ar, err := s.AuthRequest("")
		require.NoError(t, err)
		q := consent(t, ar.URL).Query()
		back := roundTrip(t, ar, func(m map[string]any) { delete(m, "require_iss") })
		tok, err := s.Exchange(ctx, back, q)
		require.NoError(t, err)
		require.Equal(t, videoauth.SimklV2, videoauth.SimklGenerationOf(tok))
	})
	t.Run("V1 sends no iss and needs none", func(t *testing.T) {
		_, v1 := setupSimkl(t, videoauth.SimklV1, true)
		ar, err := v1.AuthRequest("")
		require.NoError(t, err)
		require.False(t, ar.RequireIss)
		require.Empty(t, ar.Issuer)
		_, err = v1.Exchange(ctx, ar, consent(t, ar.URL).Query())
		require.NoError(t, err)
	})
}

// simklPasteApp is the App of fake's V1 application as a public client
// with no redirect URI.
func simklPasteApp(fake *videoauthtest.Simkl) videoauth.App {
	app := simklApp(fake, videoauth.SimklV1, true)
	app.RedirectURL = ""
	return app
}

// Simkl V1 without a redirect URI: consent ends on simkl.com, which shows
// the code; the user pastes it and ExchangeCode exchanges it once, with
// the PKCE verifier and no redirect_uri.
func TestSimklV1PastedCode(t *testing.T) {
	ctx := context.Background()
	// showCode opens the consent page like the user's browser and returns
	// the code it shows.
	showCode := func(t *testing.T, fake *videoauthtest.Simkl, authURL string) string {
		t.Helper()
		code, page := get(t, http.DefaultClient, authURL)
		require.Equal(t, 200, code, page)
		require.NotEmpty(t, fake.ShownCode())
		require.Contains(t, page, fake.ShownCode(), "the page shows the code")
		return fake.ShownCode()
	}
	newPaste := func(t *testing.T) (*videoauthtest.Simkl, *videoauth.Simkl) {
		t.Helper()
		fake, _ := setupSimkl(t, videoauth.SimklV1, true)
		s, err := videoauth.NewSimkl(simklPasteApp(fake), videoauth.SimklV1)
		require.NoError(t, err)
		return fake, s
	}

	t.Run("exchange", func(t *testing.T) {
		fake, s := newPaste(t)
		ar, err := s.AuthRequest("")
		require.NoError(t, err)
		require.Empty(t, ar.RedirectURL)
		require.NotEmpty(t, ar.Verifier)
		u, err := url.Parse(ar.URL)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(ar.URL, fake.WebURL+"/oauth/authorize?"))
		require.NotContains(t, u.Query(), "redirect_uri")
		require.Equal(t, "S256", u.Query().Get("code_challenge_method"))

		code := showCode(t, fake, ar.URL)
		tok, err := s.ExchangeCode(ctx, ar, "  "+code+"\n") // as pasted
		require.NoError(t, err)
		require.Equal(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {ar.Verifier},
			"client_id": {fake.ClientID}}, fake.LastTokenForm(), "no redirect_uri, no secret")
		require.Equal(t, videoauth.SimklV1, videoauth.SimklGenerationOf(tok))
		require.True(t, ar.Used())

		_, err = s.ExchangeCode(ctx, ar, code)
		require.ErrorIs(t, err, videoauth.ErrStateUsed, "single use")
		require.Equal(t, 1, fake.Exchanges())

		c := videoauth.NewClient(s, s.Source(tok))
		status, _ := get(t, c, fake.APIURL+"/users/settings")
		require.Equal(t, 200, status)
	})
	t.Run("through the session JSON", func(t *testing.T) {
		fake, s := newPaste(t)
		ar, err := s.AuthRequest("")
		require.NoError(t, err)
		back := simklRestore(t, simklSessionForm(ar))
		_, err = s.ExchangeCode(ctx, back, showCode(t, fake, ar.URL))
		require.NoError(t, err)
	})
	t.Run("an empty or mangled paste leaves the request unused", func(t *testing.T) {
		fake, s := newPaste(t)
		ar, err := s.AuthRequest("")
		require.NoError(t, err)
		code := showCode(t, fake, ar.URL)
		for _, bad := range []string{"", "  \n", code[:8] + " " + code[8:], code + "\x00", "código"} {
			_, err = s.ExchangeCode(ctx, ar, bad)
			require.ErrorIs(t, err, videoauth.ErrBadCallback, "%q", bad)
		}
		require.False(t, ar.Used())
		require.Zero(t, fake.TokenCalls())
		_, err = s.ExchangeCode(ctx, ar, code)
		require.NoError(t, err)
	})
	t.Run("a failed exchange is typed and never retried", func(t *testing.T) {
		fake, s := newPaste(t)
		ar, err := s.AuthRequest("")
		require.NoError(t, err)
		showCode(t, fake, ar.URL)
		_, err = s.ExchangeCode(ctx, ar, "deadbeefdeadbeefdeadbeefdeadbeef")
		require.ErrorIs(t, err, videoauth.ErrCodeUsed)
		require.Equal(t, 1, fake.Exchanges())
		require.Equal(t, 1, fake.TokenCalls(), "one attempt")
		require.True(t, ar.Used())
	})
	t.Run("the code is bound to the request's verifier", func(t *testing.T) {
		fake, s := newPaste(t)
		ar1, err := s.AuthRequest("")
		require.NoError(t, err)
		code := showCode(t, fake, ar1.URL)
		ar2, err := s.AuthRequest("")
		require.NoError(t, err)
		_, err = s.ExchangeCode(ctx, ar2, code)
		require.ErrorIs(t, err, videoauth.ErrInvalidClient, "PKCE verification failed")
	})
	t.Run("only a V1 public client may go without a redirect URI", func(t *testing.T) {
		fake, _ := setupSimkl(t, videoauth.SimklV1, false)
		app := simklApp(fake, videoauth.SimklV1, false)
		app.RedirectURL = ""
		confidential, err := videoauth.NewSimkl(app, videoauth.SimklV1)
		require.NoError(t, err)
		_, err = confidential.AuthRequest("")
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "Simkl requires redirect_uri with a secret")

		app = simklApp(fake, videoauth.SimklV2, true)
		app.RedirectURL = ""
		v2, err := videoauth.NewSimkl(app, videoauth.SimklV2)
		require.NoError(t, err)
		_, err = v2.AuthRequest("")
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	})
	t.Run("wrong pairings are refused without consuming", func(t *testing.T) {
		fake, s := newPaste(t)
		ctx := context.Background()
		withRedirect, err := s.AuthRequest("http://127.0.0.1:1/callback")
		require.NoError(t, err)
		_, err = s.ExchangeCode(ctx, withRedirect, "abc")
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "a request with a redirect has a callback to check")
		require.False(t, withRedirect.Used())

		paste, err := s.AuthRequest("")
		require.NoError(t, err)
		_, err = s.Exchange(ctx, paste, url.Values{"state": {paste.State}, "code": {"abc"}})
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "no redirect, no callback")
		require.False(t, paste.Used())

		_, v2 := setupSimkl(t, videoauth.SimklV2, true)
		_, err = v2.ExchangeCode(ctx, paste, "abc")
		require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant)
		_, err = s.ExchangeCode(ctx, nil, "abc")
		require.ErrorIs(t, err, videoauth.ErrStateMismatch)
		require.False(t, paste.Used())
		require.Zero(t, fake.TokenCalls())
	})
}

// TestSimklVerificationURIIsChecked: the verification_uri of a V1 PIN or a
// V2 device answer, and a V2 verification_uri_complete (what a QR code
// encodes), must be https pages on simkl.com or on the host of App.WebURL
// (RFC 8628 §5.4). Anything else fails PIN and Device with
// ErrBadVerificationURI, before any poll.
func TestSimklVerificationURIIsChecked(t *testing.T) {
	ctx := context.Background()
	hostile := []struct{ uri, complete string }{
		{"https://evil.example/pin", ""},
		{"https://simkl.com.evil.example/pin", ""},
		{"http://simkl.com/pin", ""},
		{"javascript:alert(1)//simkl.com/pin", ""},
		{"data:text/html,evil.example", ""},
		{"https://api.simkl.com/pin", ""}, // the API host serves no page for users
	}
	t.Run("V1 PIN", func(t *testing.T) {
		fake, s := setupSimkl(t, videoauth.SimklV1, true)
		for _, h := range hostile {
			fake.SetVerificationURI(h.uri, "")
			dc, err := s.PIN(ctx)
			require.ErrorIs(t, err, videoauth.ErrBadVerificationURI, h.uri)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, "pin", e.Op)
			require.Nil(t, dc)
			require.NotContains(t, err.Error(), "evil")
		}
		require.Zero(t, fake.PINPolls())
		fake.SetVerificationURI("https://simkl.com/pin", "")
		dc, err := s.PIN(ctx)
		require.NoError(t, err)
		require.Equal(t, "https://simkl.com/pin", dc.VerificationURI)
		require.Equal(t, "https://simkl.com/pin/"+dc.UserCode, dc.VerificationURIComplete)
	})
	t.Run("V2 device", func(t *testing.T) {
		fake, s := setupSimkl(t, videoauth.SimklV2, true)
		for _, h := range append(hostile,
			struct{ uri, complete string }{"", "https://evil.example/pin/CODE"},
			struct{ uri, complete string }{"", "javascript:alert(1)"},
			struct{ uri, complete string }{"https://simkl.com/pin", "data:text/html,evil.example"},
		) {
			fake.SetVerificationURI(h.uri, h.complete)
			dc, err := s.Device(ctx)
			require.ErrorIs(t, err, videoauth.ErrBadVerificationURI, "%+v", h)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, "device", e.Op)
			require.Nil(t, dc)
			require.NotContains(t, err.Error(), "evil")
		}
		require.Zero(t, fake.DevicePolls())
		fake.SetVerificationURI("https://simkl.com/pin", "https://www.simkl.com/pin/ABC")
		dc, err := s.Device(ctx)
		require.NoError(t, err)
		require.Equal(t, "https://simkl.com/pin", dc.VerificationURI)
		require.Equal(t, "https://www.simkl.com/pin/ABC", dc.VerificationURIComplete)
	})
}

// Item 9: https://api.simkl.com:443 is api.simkl.com, for both
// generations; an APIURL override with a port (the fake) still owns
// exactly that port; and a request to the default port written out carries
// the token.
func TestSimklOwnsTheDefaultPort(t *testing.T) {
	for _, gen := range []videoauth.SimklGeneration{videoauth.SimklV1, videoauth.SimklV2} {
		app := videoauth.App{ClientID: "id", AppName: "my-app", AppVersion: "1.0"}
		s, err := videoauth.NewSimkl(app, gen)
		require.NoError(t, err)
		requireOwnsOrigin(t, s, "https", "api.simkl.com", "")
		app.APIURL = "https://api.simkl.com:443"
		s443, err := videoauth.NewSimkl(app, gen)
		require.NoError(t, err)
		requireOwnsOrigin(t, s443, "https", "api.simkl.com", "")
		fake, sf := setupSimkl(t, gen, false)
		u, _ := url.Parse(fake.APIURL)
		requireOwnsOrigin(t, sf, "http", u.Hostname(), u.Port())
		require.False(t, sf.Owns(parsedURL(t, fake.WebURL+"/x")), "the consent host is not the API host")
	}
	s, err := videoauth.NewSimkl(videoauth.App{ClientID: "id", AppName: "my-app", AppVersion: "1.0"}, videoauth.SimklV2)
	require.NoError(t, err)
	sent := sentThrough(t, s, s.Source(&videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_tok"}), "https://api.simkl.com:443/sync/all-items")
	require.Equal(t, "Bearer simkl_at_tok", sent.Header.Get("Authorization"))
	require.Equal(t, "id", sent.URL.Query().Get("client_id"))
}

func parsedURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

// fixedBase answers every request with the same response, allocating
// nothing, and keeps the last request it was given.
type fixedBase struct {
	resp *http.Response
	last *http.Request
}

func (b *fixedBase) RoundTrip(r *http.Request) (*http.Response, error) {
	b.last = r
	return b.resp, nil
}

// Simkl's request path through the Transport, over a base that allocates
// nothing (issue 16): the clone (request, URL, header map in two), the
// Authorization value and the query with the parameters it lacks; a
// caller's header adds one array for its values, and a query that has the
// three parameters keeps its string. The User-Agent and simkl-api-key
// values are the provider's, built once. Counts, not timings.
func TestSimklRequestPathAllocs(t *testing.T) {
	s, err := videoauth.NewSimkl(videoauth.App{ClientID: "cid", AppName: "my-app", AppVersion: "1.0"}, videoauth.SimklV2)
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_tok", TokenType: "Bearer", RefreshToken: "simkl_rt",
		Expiry: time.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
	base := &fixedBase{resp: &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}}
	tr := &videoauth.Transport{Provider: s, Source: s.Source(tok), Base: base}
	for _, tc := range []struct {
		name, path string
		header     http.Header
		budget     float64
	}{
		{"query", "/sync/all-items/shows?extended=full", nil, 5},
		{"no query", "/sync/all-items/shows", nil, 4},
		{"caller's header", "/sync/all-items/shows?extended=full", http.Header{"Accept": {"application/json"}, "User-Agent": {"caller/2"}}, 6},
		{"caller's parameters", "/sync/all-items/shows?app-version=1.0&client_id=cid&app-name=my-app", nil, 4},
	} {
		req, err := http.NewRequest(http.MethodGet, videoauth.SimklAPIURL+tc.path, nil)
		require.NoError(t, err)
		for k, vs := range tc.header {
			req.Header[k] = vs
		}
		got := testing.AllocsPerRun(200, func() {
			resp, err := tr.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocs/op", tc.name, got)
		require.LessOrEqual(t, got, tc.budget, tc.name)
		require.Equal(t, "Bearer simkl_at_tok", base.last.Header.Get("Authorization"), tc.name)
	}
}

// What the Transport sends is what Authorize makes of a copy of the
// caller's request, byte for byte, for queries with and without the
// parameters (spelled escaped, empty, without a value) and headers with and
// without the caller's own; the caller's request is untouched; and a base
// that appends to the values it was sent (Header.Add) changes neither the
// next request nor anything else.
func TestSimklTransportSendsWhatAuthorizeSets(t *testing.T) {
	app := videoauth.App{ClientID: "c id+1", AppName: "my-app", AppVersion: "1.0 beta"}
	s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "simkl", AccessToken: "v1-token", TokenType: "Bearer", Meta: map[string]string{"simkl_auth": "v1"}}
	queries := map[string]string{ // the caller's query: the one sent
		"":                                      "app-name=my-app&app-version=1.0+beta&client_id=c+id%2B1",
		"extended=full":                         "extended=full&client_id=c+id%2B1&app-name=my-app&app-version=1.0+beta",
		"client_id=mine":                        "client_id=mine&app-name=my-app&app-version=1.0+beta",
		"app-version=9&app-name=me":             "app-version=9&app-name=me&client_id=c+id%2B1",
		"client_id&app-name=&app-version=x&y=1": "client_id&app-name=&app-version=x&y=1",
		"a=1&&b=2&":                             "a=1&&b=2&&client_id=c+id%2B1&app-name=my-app&app-version=1.0+beta",
		"app%2Dname=x&client%5Fid=y":            "app%2Dname=x&client%5Fid=y&app-version=1.0+beta",
		"%zz=1&app+name=x":                      "%zz=1&app+name=x&client_id=c+id%2B1&app-name=my-app&app-version=1.0+beta",
		"q=client_id&x=app-name":                "q=client_id&x=app-name&client_id=c+id%2B1&app-name=my-app&app-version=1.0+beta",
	}
	headers := []http.Header{
		{},
		{"User-Agent": {"caller/2"}, "X-Multi": {"a", "b"}},
		{"User-Agent": {""}, "Authorization": {"Basic old"}, "Simkl-Api-Key": {"other"}},
		{"User-Agent": {}, "Accept": {"application/json"}},
	}
	var sent []*http.Request
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r)
		c := r.Clone(r.Context())
		for k := range r.Header {
			r.Header.Add(k, "appended by the base") // a base must not; the next request must not see it
		}
		sent[len(sent)-1] = c
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	tr := &videoauth.Transport{Provider: s, Source: s.Source(tok), Base: base}
	for q, wantQuery := range queries {
		for _, h := range headers {
			for range 2 {
				req, err := http.NewRequest(http.MethodGet, "https://api.simkl.com/sync/all-items?"+q, nil)
				require.NoError(t, err)
				req.URL.RawQuery = q
				for k, vs := range h {
					req.Header[k] = append([]string(nil), vs...)
				}
				callerURL, callerHeader := req.URL.String(), req.Header.Clone()
				want := req.Clone(req.Context())
				require.NoError(t, s.Authorize(want, tok))
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				got := sent[len(sent)-1]
				require.Equal(t, wantQuery, got.URL.RawQuery, "query %q", q)
				require.Equal(t, want.URL.String(), got.URL.String(), "query %q", q)
				require.Equal(t, want.Header, got.Header, "query %q, header %v", q, h)
				require.Equal(t, "Bearer v1-token", got.Header.Get("Authorization"))
				require.Equal(t, []string{"c id+1"}, got.Header["Simkl-Api-Key"])
				if ua := h["User-Agent"]; len(ua) > 0 && ua[0] != "" {
					require.Equal(t, ua, got.Header["User-Agent"], "the caller's User-Agent is kept")
				} else {
					require.Equal(t, []string{"my-app/1.0 beta"}, got.Header["User-Agent"])
				}
				require.Equal(t, callerURL, req.URL.String(), "the caller's URL is untouched")
				require.Equal(t, callerHeader, req.Header, "the caller's header is untouched")
			}
		}
	}
}
