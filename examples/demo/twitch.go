package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

func runTwitch(ctx context.Context) error {
	fake := videoauthtest.NewTwitch()
	defer fake.Close()
	clock := autoClock()
	fake.SetClock(clock) // the fake and the client share fake time
	fmt.Printf("Twitch (fake id.twitch.tv at %s, Helix at %s)\n", fake.IDURL, fake.APIURL)

	conf := videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, // a confidential client
		WebURL: fake.IDURL, APIURL: fake.APIURL, // in production: leave empty for id.twitch.tv and api.twitch.tv
		Scopes: []string{"user:read:email"},
		Clock:  clock,
	}
	twitch, err := videoauth.NewTwitch(conf)
	if err != nil {
		return err
	}

	// 1. Client credentials: an app token, minted on first use; when Helix
	// rejects it, minted again (never refreshed) and the request replayed.
	apps := twitch.ClientCredentials()
	appClient := videoauth.NewClient(twitch, apps)
	if err := call(appClient, fake.APIURL+"/helix/channels?broadcaster_id=141981764", 200); err != nil {
		return err
	}
	fake.ExpireToken(apps.Current().AccessToken)
	if err := call(appClient, fake.APIURL+"/helix/channels?broadcaster_id=141981764", 200); err != nil {
		return err
	}
	step("client credentials: app token, 401 Invalid OAuth token → minted again → replayed → 200 (mints: %d, refreshes: %d)",
		fake.Mints(), fake.Refreshes())

	// 2. Authorization code (confidential client) through the loopback
	// listener: state, no PKCE (Twitch has none), the secret in the body.
	// (Twitch matches the redirect URI exactly: register
	// http://localhost:PORT/callback and set LoopbackConfig.Port.)
	codeTok, err := videoauth.Loopback(ctx, twitch, videoauth.LoopbackConfig{Open: browse})
	if err != nil {
		return fmt.Errorf("twitch code flow: %w", err)
	}
	step("code flow through the loopback: token pair, scopes as a JSON array %v (exchanges: %d)", codeTok.Scopes, fake.Exchanges())

	// 3. Implicit grant: the token in the redirect's fragment.
	ar, err := twitch.ImplicitRequest("http://127.0.0.1:1/implicit", "chat:read")
	if err != nil {
		return err
	}
	frag, err := twitchRedirectOf(ar.URL)
	if err != nil {
		return err
	}
	implicit, err := twitch.ImplicitToken(ar, frag)
	if err != nil {
		return fmt.Errorf("twitch implicit: %w", err)
	}
	step("implicit grant: token from the fragment, scopes %v, no refresh token: %t", implicit.Scopes, implicit.RefreshToken == "")

	// 4. Device code grant, public client: scopes (plural) in the body, and
	// Twitch's 400 "authorization_pending" polled through.
	pubApp := conf
	pubApp.ClientID, pubApp.ClientSecret = fake.PublicClientID, ""
	public, err := videoauth.NewTwitch(pubApp)
	if err != nil {
		return err
	}
	dc, err := public.Device(ctx, "chat:read", videoauthtest.TwitchPollScope)
	if err != nil {
		return fmt.Errorf("twitch device: %w", err)
	}
	step("device flow: %s", dc)
	fake.ApproveCode(dc.UserCode)
	devTok, err := dc.Wait(ctx)
	if err != nil {
		return fmt.Errorf("twitch device wait: %w", err)
	}
	step("device approved: scopes %v (polls: %d)", devTok.Scopes, fake.DevicePolls())

	// 5. A 401 is not always a dead token: a missing scope comes back typed
	// and is never refreshed or replayed.
	src := public.Source(devTok)
	saved := 0
	src.OnToken = func(*videoauth.Token) { saved++ } // persist the new pair here
	client := videoauth.NewClient(public, src)
	codeClient := videoauth.NewClient(twitch, twitch.Source(codeTok)) // granted no channel:manage:polls
	resp, err := twitchPost(ctx, codeClient, fake.APIURL+"/helix/polls", `{"broadcaster_id":"141981764","title":"?"}`)
	if err != nil {
		return err
	}
	err = videoauth.CheckResponse(twitch, resp) // before the body is closed: the message is in it
	resp.Body.Close()
	if err := check(resp.StatusCode == 401 && errors.Is(err, videoauth.ErrMissingScope) && fake.Refreshes() == 0,
		"missing scope: status %d, %v, refreshes %d", resp.StatusCode, err, fake.Refreshes()); err != nil {
		return err
	}
	step("401 Missing scope → typed (%v), not refreshed, not replayed", err)

	// 6. The token dies early: 50 concurrent requests meet the 401, one
	// refresh rotates the refresh token, every request is replayed.
	fake.ExpireToken(devTok.AccessToken)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if call(client, fake.APIURL+"/helix/users", 200) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := check(ok == 50 && fake.Refreshes() == 1 && saved == 1 && fake.SpentRefreshTokenUses() == 0,
		"stampede: %d ok, %d refreshes, %d saved", ok, fake.Refreshes(), saved); err != nil {
		return err
	}
	step("50 requests meet 401 Invalid OAuth token → 1 refresh (rotated, saved first: %d) → 50 replays → 200", saved)

	// 7. Validation, required at start and hourly: the grant is alive; then
	// the user disconnects the app and the next validation reports it.
	v, err := public.ValidateSource(ctx, src)
	if err != nil {
		return fmt.Errorf("twitch validate: %w", err)
	}
	step("validate: user %s (%s), scopes %v", v.Login, v.UserID, v.Scopes)
	fake.RevokeGrant(src.Current().AccessToken)
	clock.Advance(time.Hour) // the next hourly validation
	_, err = public.ValidateSource(ctx, src)
	if err := check(errors.Is(err, videoauth.ErrReauthRequired), "validate after disconnect: %v", err); err != nil {
		return err
	}
	step("user disconnected the app → validation says: %v", err)

	// 8. Revocation through the source.
	codeSrc := twitch.Source(codeTok)
	if err := codeSrc.Revoke(ctx); err != nil {
		return fmt.Errorf("twitch revoke: %w", err)
	}
	_, err = codeSrc.Token(ctx)
	if err := check(errors.Is(err, videoauth.ErrReauthRequired), "after revoke: %v", err); err != nil {
		return err
	}
	step("revoke: POST /oauth2/revoke (revocations: %d) → next request says: %v", fake.Revocations(), err)
	return check(fake.Malformed() == 0, "malformed requests: %q", fake.MalformedRequests())
}

// twitchRedirectOf opens authURL like a browser and returns the Location the
// consent page redirects to, without following it.
func twitchRedirectOf(authURL string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Location"), nil
}

// twitchPost sends a JSON POST with c; the caller closes the body.
func twitchPost(ctx context.Context, c *http.Client, u, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}
