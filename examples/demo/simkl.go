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

func runSimkl(ctx context.Context) error {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	clock := autoClock()
	fake.SetClock(clock) // the fake and the client share fake time
	fmt.Printf("Simkl (fake web at %s, api at %s)\n", fake.WebURL, fake.APIURL)

	app := videoauth.App{
		ClientID: fake.ClientID, AppName: "videoauth-demo", AppVersion: "1.0",
		APIURL: fake.APIURL, WebURL: fake.WebURL, // in production: leave empty for api.simkl.com and simkl.com
		Clock: clock,
	}

	// 1. V1 PIN flow (TVs, CLIs): show the code, the user enters it at
	// simkl.com/pin, we poll until Simkl hands out the token.
	v1, err := videoauth.NewSimkl(app, videoauth.SimklV1)
	if err != nil {
		return err
	}
	dc, err := v1.PIN(ctx)
	if err != nil {
		return fmt.Errorf("simkl PIN: %w", err)
	}
	step("V1 PIN flow: %s (or open %s)", dc, dc.VerificationURIComplete)
	fake.ApproveCode(dc.UserCode)
	pinTok, err := dc.Wait(ctx)
	if err != nil {
		return fmt.Errorf("simkl PIN wait: %w", err)
	}
	step("PIN approved: five-year V1 token (polls: %d)", fake.PINPolls())
	if err := call(videoauth.NewClient(v1, v1.Source(pinTok)), fake.APIURL+"/users/settings", 200); err != nil {
		return err
	}
	step("GET /users/settings with client_id, app-name, app-version and User-Agent → 200")

	// 2. V1 code flow for a public client: PKCE (S256) through the loopback
	// listener; the fake's consent page approves at once.
	v1pub, err := videoauth.NewSimkl(app, videoauth.SimklV1) // no ClientSecret: a public client
	if err != nil {
		return err
	}
	codeTok, err := videoauth.Loopback(ctx, v1pub, videoauth.LoopbackConfig{Open: browse})
	if err != nil {
		return fmt.Errorf("simkl V1 loopback: %w", err)
	}
	if err := check(codeTok.AccessToken == pinTok.AccessToken, "same user, same V1 token expected"); err != nil {
		return err
	}
	step("V1 PKCE code flow through the loopback: same user, same token (exchanges: %d)", fake.Exchanges())

	// 3. V2 device flow (RFC 8628) with write access.
	app.ClientID = fake.V2ClientID
	v2, err := videoauth.NewSimkl(app, videoauth.SimklV2)
	if err != nil {
		return err
	}
	dev, err := v2.Device(ctx, videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
	if err != nil {
		return fmt.Errorf("simkl device: %w", err)
	}
	step("V2 device flow: %s", dev)
	fake.ApproveCode(dev.UserCode)
	tok, err := dev.Wait(ctx)
	if err != nil {
		return fmt.Errorf("simkl device wait: %w", err)
	}
	if err := tok.RequireScopes(videoauth.SimklScopeWrite); err != nil {
		return err
	}
	step("device approved: V2 token pair, scopes %v, expires in 7 days", tok.Scopes)

	// 4. Refresh on expiry: a week of fake time passes; the source refreshes
	// before the request goes out and hands the new token to OnToken first.
	src := v2.Source(tok)
	saved := 0
	src.OnToken = func(*videoauth.Token) { saved++ } // persist here
	client := videoauth.NewClient(v2, src)
	clock.Advance(7 * 24 * time.Hour)
	if err := call(client, fake.APIURL+"/sync/activities", 200); err != nil {
		return err
	}
	step("7 days later: refreshed before the request → 200 (refreshes: %d, tokens saved: %d)", fake.Refreshes(), saved)

	// 5. Refresh after a 401: another replica refreshed the same grant, which
	// kills our access token; the 401 triggers one refresh and one replay.
	replica := v2.Source(src.Current().Clone())
	replica.Invalidate(replica.Current())
	if _, err := replica.Token(ctx); err != nil {
		return err
	}
	body := `{"movies":[{"ids":{"simkl":53536}}]}`
	req, _ := http.NewRequestWithContext(ctx, "POST", fake.APIURL+"/sync/history", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if err := check(resp.StatusCode < 300 && fake.KilledTokenUses() == 1, "replay after 401: status %d, killed-token uses %d", resp.StatusCode, fake.KilledTokenUses()); err != nil {
		return err
	}
	step("401 user_token_failed → one refresh → POST replayed with the same body → %d (refreshes: %d)", resp.StatusCode, fake.Refreshes())

	// 6. Revoke through the source: the grant ends at Simkl, and the source
	// asks for a new sign-in without sending anything.
	if err := src.Revoke(ctx); err != nil {
		return err
	}
	_, err = client.Get(fake.APIURL + "/sync/activities")
	if err := check(errors.Is(err, videoauth.ErrReauthRequired), "after revoke: want ErrReauthRequired, got %v", err); err != nil {
		return err
	}
	step("revoke: POST /oauth2/revoke → next request says: %v", err)
	return check(fake.MissingParams() == 0, "%d requests lacked the required parameters", fake.MissingParams())
}

// browse is the system browser of the demo: it follows the consent page's
// redirect back to the loopback listener.
func browse(authURL string) error {
	resp, err := http.Get(authURL)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
