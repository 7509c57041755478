package videoauth_test

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

// A TV, desktop or command-line app as a public Twitch client: the device
// code grant (scopes in the body, Twitch's 400 "authorization_pending"
// polled through), then a Source that refreshes once when Helix rejects the
// token, rotating the refresh token; OnToken is where each new pair is
// saved, before any request uses it.
func ExampleTwitch_Device() {
	fake := videoauthtest.NewTwitch() // in production: no fake, no WebURL/APIURL
	defer fake.Close()
	defer mustBeWellFormed(fake)
	clock := videoauthtest.NewClock(time.Now()) // in production: nil, the real clock
	clock.SetAutoAdvance(true)
	fake.SetClock(clock)
	ctx := context.Background()

	twitch, err := videoauth.NewTwitch(videoauth.App{
		ClientID: fake.PublicClientID, // a public client: no secret
		WebURL:   fake.IDURL, APIURL: fake.APIURL, Clock: clock,
	})
	if err != nil {
		panic(err)
	}
	dc, err := twitch.Device(ctx, "chat:read", "channel:manage:polls")
	if err != nil {
		panic(err)
	}
	// Show the user dc.VerificationURI (it carries the code) and dc.UserCode;
	// here with the fake's host and the random code replaced.
	shown := strings.Replace(strings.Replace(dc.VerificationURI, fake.IDURL, "https://www.twitch.tv", 1), dc.UserCode, "ABCDEFGH", 1)
	fmt.Println("open:", shown)
	fake.ApproveCode(dc.UserCode) // the user enters the code

	tok, err := dc.Wait(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("scopes:", tok.Scopes)

	src := twitch.Source(tok)
	saved := 0
	src.OnToken = func(*videoauth.Token) { saved++ } // persist the new pair here
	client := videoauth.NewClient(twitch, src)
	fake.ExpireToken(tok.AccessToken) // Twitch kills the token early
	resp, err := client.Get(fake.APIURL + "/helix/users")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("after the token died:", resp.StatusCode, "refreshes:", fake.Refreshes(), "pairs saved:", saved,
		"refresh token rotated:", src.Current().RefreshToken != tok.RefreshToken)
	// Output:
	// open: https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH
	// scopes: [chat:read channel:manage:polls]
	// after the token died: 200 refreshes: 1 pairs saved: 1 refresh token rotated: true
}

// App tokens for a backend: minted on first use and minted again when Helix
// rejects them. A 401 that a new token would not fix — here an app token on
// a route that needs a user — comes back typed and is not retried.
func ExampleTwitch_ClientCredentials() {
	fake := videoauthtest.NewTwitch()
	defer fake.Close()
	defer mustBeWellFormed(fake)
	twitch, err := videoauth.NewTwitch(videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, // a confidential client
		WebURL: fake.IDURL, APIURL: fake.APIURL,
	})
	if err != nil {
		panic(err)
	}
	client := videoauth.NewClient(twitch, twitch.ClientCredentials())

	resp, err := client.Get(fake.APIURL + "/helix/channels?broadcaster_id=141981764")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("channels:", resp.StatusCode)

	req, _ := http.NewRequest(http.MethodPost, fake.APIURL+"/helix/polls", strings.NewReader(`{"broadcaster_id":"141981764"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = client.Do(req)
	if err != nil {
		panic(err)
	}
	err = videoauth.CheckResponse(twitch, resp)
	resp.Body.Close()
	fmt.Println("polls:", resp.StatusCode, errors.Is(err, videoauth.ErrUserTokenRequired), "mints:", fake.Mints())
	// Output:
	// channels: 200
	// polls: 401 true mints: 1
}

// Twitch requires an app to validate every OAuth session when it starts and
// hourly: RunValidation does it for the live Sources, and reports a grant
// the user ended like any dead grant.
func ExampleTwitch_RunValidation() {
	fake := videoauthtest.NewTwitch()
	defer fake.Close()
	defer mustBeWellFormed(fake)
	clock := videoauthtest.NewClock(time.Now())
	fake.SetClock(clock)
	twitch, err := videoauth.NewTwitch(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		WebURL: fake.IDURL, APIURL: fake.APIURL, Clock: clock})
	if err != nil {
		panic(err)
	}
	access, refresh := fake.IssueUserToken(false, "chat:read") // as Exchange or Device would
	src := twitch.Source(&videoauth.Token{Provider: "twitch", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"})
	src.OnRevoked = func(*videoauth.Token) { fmt.Println("grant gone: end the user's sessions") }

	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan string)
	go twitch.RunValidation(ctx, func() []*videoauth.Source { return []*videoauth.Source{src} },
		func(_ *videoauth.Source, v *videoauth.TwitchValidation, err error) {
			if err != nil {
				reports <- fmt.Sprint("validation: reauth required: ", errors.Is(err, videoauth.ErrReauthRequired))
				return
			}
			reports <- "validation: " + v.Login + " " + strings.Join(v.Scopes, ",")
		})
	fmt.Println(<-reports)   // at start
	fake.RevokeGrant(access) // the user disconnects the app
	<-clock.UntilWaiters(1)
	clock.Advance(time.Hour)
	fmt.Println(<-reports) // an hour later
	cancel()
	// Output:
	// validation: twitchdev chat:read
	// grant gone: end the user's sessions
	// validation: reauth required: true
}

// mustBeWellFormed fails an example whose requests the fake found
// malformed.
func mustBeWellFormed(fake *videoauthtest.Twitch) {
	if fake.Malformed() != 0 {
		panic(fmt.Sprintf("malformed requests: %q", fake.MalformedRequests()))
	}
}
