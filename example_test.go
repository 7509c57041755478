package videoauth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// App-only access: a client-credentials Source behind an *http.Client. The
// token is minted on first use and re-minted, with the request replayed
// once, when Vimeo rejects it.
func Example_clientCredentials() {
	fake := videoauthtest.NewVimeo() // in production: no fake, no APIURL
	defer fake.Close()

	vimeo, err := videoauth.NewVimeo(videoauth.App{
		ClientID:     fake.ClientID,
		ClientSecret: fake.ClientSecret,
		APIURL:       fake.URL,
	})
	if err != nil {
		panic(err)
	}
	src := vimeo.ClientCredentials()
	client := videoauth.NewClient(vimeo, src)

	resp, err := client.Get(fake.URL + "/videos?query=cats")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode, "scopes:", src.Current().Scopes)

	fake.DeleteToken(src.Current().AccessToken) // Vimeo forgets the token
	resp, err = client.Get(fake.URL + "/videos/1")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("after deletion:", resp.StatusCode, "mints:", fake.Mints())
	// Output:
	// status: 200 scopes: [public]
	// after deletion: 200 mints: 2
}

// A web application: build the AuthRequest, keep it in the user's session,
// send the browser to ar.URL, and exchange in the callback handler.
func Example_codeFlow() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	vimeo, err := videoauth.NewVimeo(videoauth.App{
		ClientID:     fake.ClientID,
		ClientSecret: fake.ClientSecret,
		RedirectURL:  "https://app.example/callback",
		APIURL:       fake.URL,
	})
	if err != nil {
		panic(err)
	}

	ar, err := vimeo.AuthRequest("", videoauth.VimeoScopePublic, videoauth.VimeoScopePrivate)
	if err != nil {
		panic(err)
	}

	// The browser goes to ar.URL; the fake approves and redirects back.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(ar.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, _ := resp.Location()

	// In the callback handler: tok, err := vimeo.Exchange(r.Context(), ar, r.URL.Query())
	tok, err := vimeo.Exchange(context.Background(), ar, callback.Query())
	if err != nil {
		panic(err)
	}
	fmt.Println("user:", tok.UserID, "scopes:", tok.Scopes)

	// The same callback again is refused before reaching Vimeo.
	_, err = vimeo.Exchange(context.Background(), ar, callback.Query())
	fmt.Println("replayed callback:", err)
	// Output:
	// user: 4242 scopes: [public private]
	// replayed callback: videoauth: authorization request already used
}

// A TV or command-line app on Simkl V2: the device flow, then a Source that
// refreshes the 7-day token a day ahead and once after a 401. OnToken is
// where each new token is persisted, before any request uses it.
func Example_simklDevice() {
	fake := videoauthtest.NewSimkl() // in production: no fake, no APIURL/WebURL
	defer fake.Close()
	clock := videoauthtest.NewClock(time.Now()) // in production: nil, the real clock
	clock.SetAutoAdvance(true)
	fake.SetClock(clock)

	simkl, err := videoauth.NewSimkl(videoauth.App{
		ClientID: fake.V2ClientID, AppName: "my-app", AppVersion: "1.0",
		APIURL: fake.APIURL, WebURL: fake.WebURL, Clock: clock,
	}, videoauth.SimklV2)
	if err != nil {
		panic(err)
	}
	dc, err := simkl.Device(context.Background(), videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
	if err != nil {
		panic(err)
	}
	// Show dc.VerificationURI and dc.UserCode to the user (here with the
	// fake's host replaced, as the code is random).
	fmt.Println("go to", strings.Replace(dc.VerificationURI, fake.WebURL, "https://simkl.com", 1), "and enter the code,", len(dc.UserCode), "characters")
	fake.ApproveCode(dc.UserCode) // the user enters the code
	tok, err := dc.Wait(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println("scopes:", tok.Scopes)

	src := simkl.Source(tok)
	src.OnToken = func(t *videoauth.Token) { fmt.Println("save the refreshed token") }
	client := videoauth.NewClient(simkl, src)
	clock.Advance(7 * 24 * time.Hour)
	resp, err := client.Get(fake.APIURL + "/sync/activities")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("a week later:", resp.StatusCode, "refreshes:", fake.Refreshes())
	// Output:
	// go to https://simkl.com/pin and enter the code, 8 characters
	// scopes: [media:read media:write]
	// save the refreshed token
	// a week later: 200 refreshes: 1
}

// Viki's v4/v5 API signs every request instead of using OAuth: the signed
// client adds app, t and sig, and corrects its clock once when Viki answers
// "stale timestamp".
func Example_vikiSigned() {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	api, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL}, videoauth.VikiSignQuery)
	if err != nil {
		panic(err)
	}
	fake.SetServerSkew(5 * time.Minute) // our clock is 5 minutes behind Viki's
	resp, err := api.SignedClient().Get(fake.URL + "/v4/movies.json?sort=views")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode, "stale answers:", fake.StaleTimestamps(), "signed calls:", fake.SignedCalls())
	// Output:
	// status: 200 stale answers: 1 signed calls: 1
}
