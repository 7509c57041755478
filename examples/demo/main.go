// Command demo runs every flow of videoauth — Vimeo, Simkl (both auth
// generations) and Viki (v3 OAuth, v4/v5 signing and sessions) — against the
// fake servers of package videoauthtest: no credentials, no network. It
// prints each step and exits non-zero if one fails.
//
//	go run ./examples/demo
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("all steps passed")
}

func step(format string, args ...any) { fmt.Printf("• "+format+"\n", args...) }

func run(ctx context.Context) error {
	for _, service := range []func(context.Context) error{runVimeo, runSimkl, runViki, runTwitch, runYouTube, runDailymotion, runTrakt} {
		if err := service(ctx); err != nil {
			return err
		}
		fmt.Println()
	}
	return nil
}

func runVimeo(ctx context.Context) error {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	fmt.Println("Vimeo (fake at " + fake.URL + ")")

	vimeo, err := videoauth.NewVimeo(videoauth.App{
		ClientID:     fake.ClientID,
		ClientSecret: fake.ClientSecret,
		APIURL:       fake.URL,    // in production: leave empty for https://api.vimeo.com
		Clock:        autoClock(), // device polling waits in fake time
	})
	if err != nil {
		return err
	}

	// 1. Client credentials: app-only token, minted lazily on first use.
	src := vimeo.ClientCredentials()
	client := videoauth.NewClient(vimeo, src)
	if err := call(client, fake.URL+"/videos?query=cats", 200); err != nil {
		return err
	}
	step("client credentials: GET /videos → 200 (token endpoint calls: %d)", fake.Mints())

	// 2. Vimeo deletes the token; the next request gets a 401, the transport
	// re-mints once and replays the request.
	fake.DeleteToken(src.Current().AccessToken)
	if err := call(client, fake.URL+"/videos/1", 200); err != nil {
		return err
	}
	if fake.Mints() != 2 {
		return fmt.Errorf("expected one re-mint, the fake saw %d mints", fake.Mints())
	}
	step("token deleted at Vimeo → 401 → one re-mint → request replayed → 200 (mints: %d, API calls: %d)", fake.Mints(), fake.APICalls())

	// 3. Authorization code with state + PKCE through the loopback flow. The
	// fake's consent page approves at once; "opening the browser" here is an
	// HTTP GET that follows the redirect back to the loopback listener.
	tok, err := videoauth.Loopback(ctx, vimeo, videoauth.LoopbackConfig{
		Open: func(authURL string) error {
			step("open browser at %s/oauth/authorize?… (state + S256 challenge)", fake.URL)
			resp, err := http.Get(authURL)
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("loopback code flow: %w", err)
	}
	step("loopback code flow: signed in as user %s, scopes %v (exchanges: %d)", tok.UserID, tok.Scopes, fake.Exchanges())
	user := videoauth.NewClient(vimeo, vimeo.Source(tok))
	if err := call(user, fake.URL+"/me", 200); err != nil {
		return err
	}
	step("GET /me with the user token → 200")

	// 4. Device grant: show the code, the user approves on another device.
	dc, err := vimeo.Device(ctx, videoauth.VimeoScopePublic, videoauth.VimeoScopePrivate)
	if err != nil {
		return fmt.Errorf("device start: %w", err)
	}
	step("device grant: %s (polling every %s)", dc, dc.Interval)
	fake.ApproveDevice(dc.UserCode) // the user types the code at activate_link
	devTok, err := dc.Wait(ctx)
	if err != nil {
		return fmt.Errorf("device wait: %w", err)
	}
	step("device approved: user %s (polls: %d)", devTok.UserID, fake.DevicePolls())

	// 5. Verify, then revoke.
	info, err := vimeo.Verify(ctx, devTok)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	step("verify: token valid, scopes %v", info.Scopes)
	if err := vimeo.Revoke(ctx, devTok); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	_, err = vimeo.Verify(ctx, devTok)
	if !errors.Is(err, videoauth.ErrReauthRequired) {
		return fmt.Errorf("verify after revoke: want ErrReauthRequired, got %v", err)
	}
	step("revoke: DELETE /tokens → verify now says: %v", err)
	if fake.MissingAccept() != 0 {
		return fmt.Errorf("%d requests lacked the versioned Accept header", fake.MissingAccept())
	}
	return nil
}

func call(c *http.Client, u string, want int) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: status %d, want %d", u, resp.StatusCode, want)
	}
	return nil
}

// autoClock is a fake clock that moves forward by every wait, so polling
// loops run at once while seeing the intervals they asked for.
func autoClock() *videoauthtest.Clock {
	c := videoauthtest.NewClock(time.Now())
	c.SetAutoAdvance(true)
	return c
}

// check turns a failed expectation into the demo's error.
func check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}
