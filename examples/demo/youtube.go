package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// runYouTube runs every YouTube flow against the fake Google: the
// installed-app code flow through the loopback listener (consent forced
// only while no refresh token is stored), refresh and replay after a 401,
// the quota answer, Testing mode's 7-day grants, the TV device flow and
// revocation.
func runYouTube(ctx context.Context) error {
	fake := videoauthtest.NewYouTube()
	defer fake.Close()
	clock := autoClock()
	fake.SetClock(clock) // the fake and the client share fake time
	fmt.Printf("YouTube (fake Google: consent at %s, OAuth and API at %s)\n", fake.WebURL, fake.APIURL)

	app := videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, // a Desktop client: its secret is sent, PKCE or not
		APIURL: fake.APIURL, WebURL: fake.WebURL, // in production: leave empty for Google's hosts
		Clock: clock,
	}
	yt, err := videoauth.NewYouTube(app)
	if err != nil {
		return err
	}
	channels := fake.APIURL + "/youtube/v3/channels?part=snippet&mine=true"

	// 1. Installed app: loopback on 127.0.0.1 with a random port, PKCE S256,
	// access_type=offline and, with no refresh token stored, prompt=consent.
	tok, err := videoauth.Loopback(ctx, yt.SignIn(nil), videoauth.LoopbackConfig{Open: browse})
	if err != nil {
		return fmt.Errorf("youtube loopback: %w", err)
	}
	q := fake.LastAuthorizeQuery()
	if err := check(q.Get("prompt") == "consent" && q.Get("access_type") == "offline" && q.Get("code_challenge_method") == "S256",
		"consent URL: prompt %q, access_type %q, method %q", q.Get("prompt"), q.Get("access_type"), q.Get("code_challenge_method")); err != nil {
		return err
	}
	step("loopback sign-in (redirect %s): refresh token %t, client_secret sent: %t",
		q.Get("redirect_uri"), tok.RefreshToken != "", fake.LastTokenForm().Get("client_secret") != "")

	// 2. Signing in again with the stored token: no forced consent (each one
	// costs one of the account's 100 refresh tokens), the stored refresh
	// token kept although Google sends none.
	again, err := videoauth.Loopback(ctx, yt.SignIn(tok), videoauth.LoopbackConfig{Open: browse})
	if err != nil {
		return fmt.Errorf("youtube sign-in again: %w", err)
	}
	if err := check(again.RefreshToken == tok.RefreshToken && fake.RefreshTokensIssued() == 1,
		"second sign-in: refresh kept %t, refresh tokens issued %d", again.RefreshToken == tok.RefreshToken, fake.RefreshTokensIssued()); err != nil {
		return err
	}
	step("sign-in again with the stored token: no consent prompt, refresh token kept (consents: %d)", fake.Consents())

	id, err := yt.Identify(ctx, again)
	if err != nil {
		return fmt.Errorf("youtube identify: %w", err)
	}
	step("identify: channel %s, %q", id.UserID, id.Name)

	// 3. Google rejects the access token (401 authError): one refresh, one
	// replay, the refresh token kept.
	src := yt.Source(again)
	client := videoauth.NewClient(yt, src)
	fake.ExpireAccessToken(again.AccessToken)
	if err := call(client, channels, 200); err != nil {
		return err
	}
	step("401 invalid_token → one refresh → replayed → 200 (refreshes: %d, refresh token kept: %t)",
		fake.Refreshes(), src.Current().RefreshToken == tok.RefreshToken)

	// 4. The day's quota is spent: 403 quotaExceeded is not a token error —
	// no refresh, no retry, typed with the wait until midnight Pacific.
	fake.SetQuota(10000, 10000)
	resp, err := client.Get(channels)
	if err != nil {
		return err
	}
	qerr := videoauth.CheckResponse(yt, resp)
	resp.Body.Close()
	var e *videoauth.Error
	if err := check(errors.Is(qerr, videoauth.ErrQuotaExceeded) && errors.As(qerr, &e) && fake.Refreshes() == 1,
		"quota: %v (refreshes %d)", qerr, fake.Refreshes()); err != nil {
		return err
	}
	step("403 quotaExceeded → %v, retry after %s (refreshes still %d)", qerr, e.RetryAfter.Round(time.Minute), fake.Refreshes())
	fake.SetQuota(10000, 0)

	// 5. A project in Testing mode: every grant ends after 7 days.
	fake.SetTestingMode(true)
	testing, err := videoauth.Loopback(ctx, yt.SignIn(nil), videoauth.LoopbackConfig{Open: browse})
	if err != nil {
		return fmt.Errorf("youtube testing-mode sign-in: %w", err)
	}
	end, _ := videoauth.YouTubeRefreshExpiry(testing)
	life := end.Sub(clock.Now())
	tsrc := yt.Source(testing)
	clock.Advance(life + time.Minute)
	_, err = tsrc.Token(ctx)
	if err := check(errors.Is(err, videoauth.ErrReauthRequired) && strings.Contains(err.Error(), "Testing mode"), "testing mode: %v", err); err != nil {
		return err
	}
	step("Testing-mode grant (refresh_token_expires_in: %s) → after 7 days: %v", life.Round(time.Hour), err)
	fake.SetTestingMode(false)

	// 6. A TV: the device flow, with only the allowed scopes.
	tv, err := videoauth.NewYouTube(videoauth.App{ClientID: fake.TVClientID, ClientSecret: fake.TVClientSecret,
		APIURL: fake.APIURL, WebURL: fake.WebURL, Clock: clock})
	if err != nil {
		return err
	}
	if _, err := tv.Device(ctx, videoauth.YouTubeScopeForceSSL); !errors.Is(err, videoauth.ErrInvalidScope) {
		return fmt.Errorf("device with youtube.force-ssl: want ErrInvalidScope, got %v", err)
	}
	step("device flow with youtube.force-ssl → refused before any request (device starts: %d)", fake.DeviceStarts())
	dc, err := tv.Device(ctx, videoauth.YouTubeScopeReadOnly)
	if err != nil {
		return fmt.Errorf("youtube device: %w", err)
	}
	step("device flow: %s (verification_url, interval %s)", dc, dc.Interval)
	fake.ApproveCode(dc.UserCode)
	devTok, err := dc.Wait(ctx)
	if err != nil {
		return fmt.Errorf("youtube device wait: %w", err)
	}
	step("device approved: refresh token %t (polls: %d, client_secret on polls: %t)",
		devTok.RefreshToken != "", fake.DevicePolls(), fake.LastTokenForm().Get("client_secret") != "")

	// 7. Revoke: POST /revoke ends the project's grant; the source then asks
	// for a new sign-in without sending anything.
	if err := src.Revoke(ctx); err != nil {
		return err
	}
	_, rerr := client.Get(channels)
	if err := check(errors.Is(rerr, videoauth.ErrReauthRequired), "after revoke: want ErrReauthRequired, got %v", rerr); err != nil {
		return err
	}
	resp, err = videoauth.NewClient(tv, tv.Source(devTok)).Get(channels)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if err := check(resp.StatusCode == http.StatusUnauthorized, "the TV's token after the revocation: %d", resp.StatusCode); err != nil {
		return err
	}
	step("revoke: POST /revoke → next request says: %v; the TV's token of the same project: %d too", rerr, resp.StatusCode)
	return check(fake.Malformed() == 0 && fake.PlainChallenges() == 0, "%d malformed requests, %d plain PKCE challenges",
		fake.Malformed(), fake.PlainChallenges())
}
