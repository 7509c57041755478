package videoauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// An SDK built on videoauth takes its caller's *http.Client (proxy, mTLS,
// tracing, retries) as App.HTTPClient: token requests and API requests
// both go through it, and the SDK's own client authorizes every request to
// the API and replaces a rejected token once, replaying the request.
func Example_sdkTransport() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()

	// The SDK's caller: a client with its own transport (here one that
	// counts what it sends).
	var sent int
	callers := &http.Client{Timeout: 30 * time.Second, Transport: countingRT{n: &sent, base: http.DefaultTransport}}

	// Inside the SDK.
	vimeo, err := videoauth.NewVimeo(videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		APIURL:     fake.URL,
		HTTPClient: callers,
	})
	if err != nil {
		panic(err)
	}
	api := videoauth.NewClient(vimeo, vimeo.ClientCredentials()) // keeps callers' timeout, wraps its transport
	resp, err := api.Get(fake.URL + "/videos/1")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode, "requests through the caller's transport:", sent)
	// Output:
	// status: 200 requests through the caller's transport: 2
}

type countingRT struct {
	n    *int
	base http.RoundTripper
}

func (c countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	*c.n++
	return c.base.RoundTrip(r)
}

// A command-line tool signs its user in through the system browser:
// Loopback listens on 127.0.0.1 at a random port, sends the browser to the
// consent page, and exchanges the code the callback brings back (state and
// PKCE checked first).
func ExampleLoopback() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	if err != nil {
		panic(err)
	}
	tok, err := videoauth.Loopback(context.Background(), vimeo, videoauth.LoopbackConfig{
		// In a real tool: open the system browser at authURL. Here a
		// client plays the browser: the fake consents and redirects to
		// the loopback callback.
		Open: func(authURL string) error {
			resp, err := http.Get(authURL)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		},
		Timeout: time.Minute,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("signed in as user", tok.UserID, "scopes:", tok.Scopes)
	// Output:
	// signed in as user 4242 scopes: [public]
}

// A TV app on Vimeo: the device grant. Show the activation link and the
// code, then wait while the user enters it on another device.
func ExampleVimeo_Device() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	clock := videoauthtest.NewClock(time.Now()) // in production: nil, the real clock
	clock.SetAutoAdvance(true)
	fake.SetClock(clock)
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: clock})
	if err != nil {
		panic(err)
	}
	dc, err := vimeo.Device(context.Background(), videoauth.VimeoScopePublic, videoauth.VimeoScopePrivate)
	if err != nil {
		panic(err)
	}
	fmt.Println("open the activation page and enter a code of", len(dc.UserCode), "characters")
	fake.ApproveDevice(dc.UserCode) // the user, on their phone
	tok, err := dc.Wait(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println("user:", tok.UserID, "scopes:", tok.Scopes)
	// Output:
	// open the activation page and enter a code of 6 characters
	// user: 4242 scopes: [public private]
}

// Viki's v3 API: an app token from client credentials, re-minted when Viki
// rejects it, and a user token from the user's password, which Viki's v3
// OAuth grants directly.
func ExampleViki() {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	viki, err := videoauth.NewViki(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	if err != nil {
		panic(err)
	}
	app := videoauth.NewClient(viki, viki.ClientCredentials())
	resp, err := app.Get(fake.URL + "/v3/movies.json")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("app token:", resp.StatusCode)

	tok, err := viki.Password(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
	if err != nil {
		panic(err)
	}
	user := videoauth.NewClient(viki, viki.Source(tok))
	resp, err = user.Get(fake.URL + "/v3/users/" + tok.UserID + ".json")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("user", tok.UserID+":", resp.StatusCode)

	_, err = viki.Password(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: "wrong"})
	fmt.Println("wrong password refused:", errors.Is(err, videoauth.ErrInvalidCredentials))
	// Output:
	// app token: 200
	// user 1u: 200
	// wrong password refused: true
}

// CheckResponse types what the service answered: the Transport returns
// every answer (a rejected token it could not replace included) with a nil
// error, and CheckResponse says what it means.
func ExampleCheckResponse() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	if err != nil {
		panic(err)
	}
	// A user token from storage, whose grant the user has since revoked.
	access := fake.IssueUserToken(videoauth.VimeoScopePublic)
	src := vimeo.Source(&videoauth.Token{Provider: "vimeo", AccessToken: access, TokenType: "Bearer", Scopes: []string{"public"}})
	client := videoauth.NewClient(vimeo, src)
	fake.DeleteToken(access)

	resp, err := client.Get(fake.URL + "/me")
	if err != nil {
		panic(err) // only when no request could be sent
	}
	defer resp.Body.Close()
	err = videoauth.CheckResponse(vimeo, resp)
	fmt.Println("status:", resp.StatusCode)
	fmt.Println("sign in again:", errors.Is(err, videoauth.ErrReauthRequired))
	// Output:
	// status: 401
	// sign in again: true
}
