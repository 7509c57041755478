package videoauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// A web application signing users in with a Dailymotion public API key:
// the consent page, the exchange in the callback handler, then a Source
// that refreshes the token once when Dailymotion rejects it and replays
// the request. OnToken is where each new (rotated) pair is persisted,
// before any request uses it.
func Example_dailymotionCodeFlow() {
	fake := videoauthtest.NewDailymotion() // in production: no fake, no APIURL/WebURL
	defer fake.Close()
	dm, err := videoauth.NewDailymotion(videoauth.App{
		ClientID:     fake.PublicKey,    // the public API key
		ClientSecret: fake.PublicSecret, // and its secret
		RedirectURL:  "http://127.0.0.1/callback",
		Scopes:       []string{videoauth.DailymotionScopeManageVideos, videoauth.DailymotionScopeEmail},
		APIURL:       fake.APIURL, WebURL: fake.WebURL,
	}, videoauth.DailymotionConfig{})
	if err != nil {
		panic(err)
	}
	fake.UntickScopes(videoauth.DailymotionScopeEmail) // the user unticks a scope

	ar, err := dm.AuthRequest("")
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
	tok, err := dm.Exchange(context.Background(), ar, callback.Query())
	if err != nil {
		panic(err)
	}
	fmt.Println("user:", tok.UserID, "granted:", tok.Scopes)
	fmt.Println("missing:", tok.RequireScopes(videoauth.DailymotionScopeEmail))

	src := dm.Source(tok)
	src.OnToken = func(t *videoauth.Token) {
		fmt.Println("persist the new pair, rotated:", t.RefreshToken != tok.RefreshToken)
	}
	client := videoauth.NewClient(dm, src)
	fake.ExpireToken(tok.AccessToken) // Dailymotion rejects the token early
	resp, err = client.Get(fake.APIURL + "/me/videos")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode, "refreshes:", fake.Refreshes(), "malformed requests:", fake.Malformed())
	// Output:
	// user: x1fakeuser granted: [manage_videos]
	// missing: videoauth: scope not granted: email
	// persist the new pair, rotated: true
	// status: 200 refreshes: 1 malformed requests: 0
}

// Server-to-server access with a Dailymotion private API key on API v2:
// client credentials, a short JWT minted lazily and minted again (there is
// no refresh token) when the API rejects it.
func Example_dailymotionPrivateV2() {
	fake := videoauthtest.NewDailymotion()
	defer fake.Close()
	dm, err := videoauth.NewDailymotionPrivate(videoauth.App{
		ClientID: fake.PrivateKey, ClientSecret: fake.PrivateSecret,
		APIURL: fake.APIURL, // in production: leave APIURL and TokenURL empty
	}, videoauth.DailymotionPrivateConfig{Endpoint: videoauth.DailymotionV2, TokenURL: fake.OAuthURL + "/v2/token"})
	if err != nil {
		panic(err)
	}
	src := dm.ClientCredentials(videoauth.DailymotionScopeBundlePublic, videoauth.DailymotionScopeAccountRead)
	client := videoauth.NewClient(dm, src)

	resp, err := client.Get(fake.APIURL + "/v2/me")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode, "refresh token:", src.Current().RefreshToken != "")

	fake.ExpireToken(src.Current().AccessToken)
	resp, err = client.Get(fake.APIURL + "/v2/videos")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("after rejection:", resp.StatusCode, "mints:", fake.Mints())

	id, err := dm.Identify(context.Background(), src.Current())
	if err != nil {
		panic(err)
	}
	fmt.Println(id, "malformed requests:", fake.Malformed())
	// Output:
	// status: 200 refresh token: false
	// after rejection: 200 mints: 2
	// videoauth.Identity{provider=dailymotion user="x9fakeorg" name="fakeprofile"} malformed requests: 0
}

// Signing out: Source.Revoke calls GET /logout, which ends both tokens at
// Dailymotion; the Source then asks for a new sign-in without a request.
func ExampleDailymotion_Revoke() {
	fake := videoauthtest.NewDailymotion()
	defer fake.Close()
	dm, err := videoauth.NewDailymotion(videoauth.App{ClientID: fake.PublicKey, ClientSecret: fake.PublicSecret,
		APIURL: fake.APIURL, WebURL: fake.WebURL}, videoauth.DailymotionConfig{})
	if err != nil {
		panic(err)
	}
	access, refresh := fake.IssueUserToken(videoauth.DailymotionScopeEmail)
	src := dm.Source(&videoauth.Token{Provider: "dailymotion", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"})
	if err := src.Revoke(context.Background()); err != nil {
		panic(err)
	}
	_, err = src.Token(context.Background())
	fmt.Println("logouts:", fake.Logouts(), "then:", errors.Is(err, videoauth.ErrReauthRequired), "malformed requests:", fake.Malformed())
	// Output:
	// logouts: 1 then: true malformed requests: 0
}
