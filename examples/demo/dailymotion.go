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

func runDailymotion(ctx context.Context) error {
	fake := videoauthtest.NewDailymotion()
	defer fake.Close()
	clock := autoClock()
	fake.SetClock(clock)
	fmt.Printf("Dailymotion (fake api at %s, www at %s, oauth2 at %s)\n", fake.APIURL, fake.WebURL, fake.OAuthURL)

	// 1. A public API key on the legacy API: the code flow through the
	// loopback listener. The user unticks one scope on the consent page.
	dm, err := videoauth.NewDailymotion(videoauth.App{
		ClientID: fake.PublicKey, ClientSecret: fake.PublicSecret,
		Scopes: []string{videoauth.DailymotionScopeManageVideos, videoauth.DailymotionScopeEmail},
		APIURL: fake.APIURL, WebURL: fake.WebURL, // in production: leave empty
		Clock: clock,
	}, videoauth.DailymotionConfig{})
	if err != nil {
		return err
	}
	fake.UntickScopes(videoauth.DailymotionScopeEmail)
	tok, err := videoauth.Loopback(ctx, dm, videoauth.LoopbackConfig{Open: browse})
	if err != nil {
		return fmt.Errorf("dailymotion loopback: %w", err)
	}
	step("code flow on www.dailymotion.com through the loopback: user %s, granted %v (unticked: %v)",
		tok.UserID, tok.Scopes, tok.RequireScopes(videoauth.DailymotionScopeEmail))

	// 2. Dailymotion rejects the token early (WWW-Authenticate: Bearer
	// error="invalid_token"): one refresh, the rotated pair handed to
	// OnToken before use, the POST replayed with the same body.
	src := dm.Source(tok)
	saved := 0
	src.OnToken = func(*videoauth.Token) { saved++ } // persist here
	client := videoauth.NewClient(dm, src)
	fake.ExpireToken(tok.AccessToken)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fake.APIURL+"/me/videos", strings.NewReader(`{"title":"cats"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if err := check(resp.StatusCode == 200 && fake.Refreshes() == 1 && saved == 1, "replay: status %d, refreshes %d", resp.StatusCode, fake.Refreshes()); err != nil {
		return err
	}
	step("invalid_token → one refresh (rotated, saved first) → POST replayed → %d", resp.StatusCode)

	// 3. A missing scope is a 403, typed and never retried.
	resp, err = client.Get(fake.APIURL + "/me/players")
	if err != nil {
		return err
	}
	cerr := videoauth.CheckResponse(dm, resp)
	resp.Body.Close()
	if err := check(errors.Is(cerr, videoauth.ErrForbidden) && fake.Refreshes() == 1, "403: %v", cerr); err != nil {
		return err
	}
	step("GET /me/players without manage_players → %v", cerr)

	// 4. Sign out: GET /logout ends both tokens; the Source then asks for
	// a new sign-in without sending anything.
	if err := src.Revoke(ctx); err != nil {
		return err
	}
	_, err = client.Get(fake.APIURL + "/me/videos")
	if err := check(errors.Is(err, videoauth.ErrReauthRequired), "after logout: %v", err); err != nil {
		return err
	}
	step("revoke: GET /logout (%d) → next request says: %v", fake.Logouts(), err)

	// 5. A private API key on API v2: client credentials, a 30-minute JWT,
	// minted again (no refresh token) after it expires.
	pk, err := videoauth.NewDailymotionPrivate(videoauth.App{
		ClientID: fake.PrivateKey, ClientSecret: fake.PrivateSecret, APIURL: fake.APIURL, Clock: clock,
	}, videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionV2, TokenURL: fake.OAuthURL + "/v2/token"})
	if err != nil {
		return err
	}
	app := pk.ClientCredentials(videoauth.DailymotionScopeBundleUser, videoauth.DailymotionScopeAccountRead)
	appClient := videoauth.NewClient(pk, app)
	if err := call(appClient, fake.APIURL+"/v2/me", 200); err != nil {
		return err
	}
	clock.Advance(31 * time.Minute)
	if err := call(appClient, fake.APIURL+"/v2/videos", 200); err != nil {
		return err
	}
	id, err := pk.Identify(ctx, app.Current())
	if err != nil {
		return err
	}
	step("API v2 private key: GET /v2/me, 31 minutes later GET /v2/videos → 200 (mints: %d), %s", fake.Mints(), id)
	return check(fake.Malformed() == 0 && fake.QueryTokenUses() == 0, "malformed requests: %d (%s)", fake.Malformed(), fake.LastMalformed())
}
