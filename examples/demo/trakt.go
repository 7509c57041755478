package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

func runTrakt(ctx context.Context) error {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	clock := autoClock()
	fake.SetClock(clock) // the fake and the client share fake time
	fmt.Printf("Trakt (fake auth at %s, api at %s)\n", fake.AuthURL, fake.APIURL)

	app := videoauth.App{
		ClientID: fake.ClientID, AppName: "videoauth-demo", AppVersion: "1.0", // a real User-Agent: Trakt's edge blocks requests without one
		RedirectURL: fake.RedirectURI,
		WebURL:      fake.AuthURL, APIURL: fake.APIURL, // in production: leave empty for auth.trakt.tv and api.trakt.tv
		Clock: clock,
	}
	trakt, err := videoauth.NewTrakt(app)
	if err != nil {
		return err
	}

	// 1. Device flow (TVs, media centres, CLIs): Trakt's own, not RFC 8628.
	dc, err := trakt.Device(ctx)
	if err != nil {
		return fmt.Errorf("trakt device: %w", err)
	}
	step("device flow: %s", dc)
	fake.ApproveCode(dc.UserCode)
	devTok, err := dc.Wait(ctx)
	if err != nil {
		return fmt.Errorf("trakt device wait: %w", err)
	}
	step("approved: 7-day token, scopes %v, single-use refresh token (polls: %d, answered by status alone)", devTok.Scopes, fake.DevicePolls())

	// 2. Authorization code with S256 PKCE, always; the redirect URI byte for byte.
	ar, err := trakt.AuthRequest("")
	if err != nil {
		return err
	}
	callback, err := consentTrakt(ar.URL)
	if err != nil {
		return err
	}
	tok, err := trakt.Exchange(ctx, ar, callback)
	if err != nil {
		return fmt.Errorf("trakt exchange: %w", err)
	}
	au, _ := url.Parse(ar.URL)
	step("code flow: PKCE %s, JSON exchange at auth.trakt.tv → %v", au.Query().Get("code_challenge_method"), tok)
	who, err := trakt.Identify(ctx, tok)
	if err != nil {
		return err
	}
	step("GET /users/settings with trakt-api-key, trakt-api-version: 2, Content-Type and User-Agent → %v", who)

	// 3. Three replicas share the grant through a store. A week later the
	// token has expired: one refresh for all (the refresh token is single
	// use; a second refresh would log the user out), saved before use.
	store := &videoauth.MemoryStore{}
	if err := store.Save(ctx, "user", tok); err != nil {
		return err
	}
	var clients []*http.Client
	for range 3 {
		src := trakt.Source(nil)
		src.Store, src.Key = store, "user"
		clients = append(clients, videoauth.NewClient(trakt, src))
	}
	clock.Advance(8 * 24 * time.Hour)
	for _, c := range clients {
		if err := call(c, fake.APIURL+"/sync/last_activities", 200); err != nil {
			return err
		}
	}
	stored, err := store.Load(ctx, "user")
	if err != nil {
		return err
	}
	if err := check(fake.Refreshes() == 1 && fake.RefreshReuses() == 0 && stored.RefreshToken != tok.RefreshToken,
		"replicas: refreshes %d, reuses %d", fake.Refreshes(), fake.RefreshReuses()); err != nil {
		return err
	}
	step("8 days later, 3 replicas: 1 refresh, pair rotated and stored first (refresh token reuses: %d)", fake.RefreshReuses())

	// 4. A 401: one refresh, the POST replayed with the same body.
	fake.ExpireAccessToken(stored.AccessToken)
	body := `{"movies":[{"ids":{"trakt":28}}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fake.APIURL+"/sync/history", strings.NewReader(body))
	resp, err := clients[0].Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if err := check(resp.StatusCode == 201 && fake.Refreshes() == 2, "replay after 401: status %d, refreshes %d", resp.StatusCode, fake.Refreshes()); err != nil {
		return err
	}
	step("401 → one refresh → POST /sync/history replayed → %d", resp.StatusCode)

	// 5. Trakt's edge blocks a request (as it does one without a User-Agent):
	// typed as its own error, not an auth failure; nothing renewed.
	fake.FailAPICalls(1, videoauthtest.TraktBlocked)
	resp, err = clients[0].Get(fake.APIURL + "/users/settings")
	if err != nil {
		return err
	}
	resp.Body.Close()
	err = videoauth.CheckResponse(trakt, resp)
	if err := check(errors.Is(err, videoauth.ErrBlocked) && !errors.Is(err, videoauth.ErrReauthRequired), "edge block: %v", err); err != nil {
		return err
	}
	step("HTML 403 from the edge → %v", err)

	// 6. A refresh token from before Trakt's July 2026 auth migration.
	access, refresh := fake.IssueLegacyToken()
	old := trakt.Source(&videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh, Expiry: clock.Now().Add(-time.Minute)})
	_, err = old.Token(ctx)
	if err := check(errors.Is(err, videoauth.ErrReauthRequired), "pre-migration token: want ErrReauthRequired, got %v", err); err != nil {
		return err
	}
	step("pre-migration refresh token → %v", err)

	// 7. Revoke: the grant ends at Trakt, and the source asks for a new sign-in.
	src := trakt.Source(devTok)
	if err := src.Revoke(ctx); err != nil {
		return err
	}
	_, err = videoauth.NewClient(trakt, src).Get(fake.APIURL + "/users/settings")
	if err := check(errors.Is(err, videoauth.ErrReauthRequired), "after revoke: want ErrReauthRequired, got %v", err); err != nil {
		return err
	}
	step("revoke: POST /oauth/revoke → next request says: %v", err)
	return check(fake.Malformed() == 0, "the fake saw malformed requests: %v", fake.MalformedReasons())
}

// consentTrakt plays the browser on Trakt's consent page, which approves
// at once, and returns the callback's query (the registered redirect URI
// is an https page of the app, not a local listener).
func consentTrakt(authURL string) (url.Values, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	return loc.Query(), nil
}
