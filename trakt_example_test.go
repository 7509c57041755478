package videoauth_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// A media centre signs in with Trakt's device flow: show the code, the
// user enters it on the activation page, Wait polls until Trakt answers
// with the token.
func ExampleTrakt_Device() {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	clock := videoauthtest.NewClock(time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC))
	clock.SetAutoAdvance(true) // polling waits in fake time
	fake.SetClock(clock)

	trakt, err := videoauth.NewTrakt(videoauth.App{
		ClientID: fake.ClientID, AppName: "my-media-centre", AppVersion: "2.1.0", // Trakt blocks requests without a real User-Agent
		WebURL: fake.AuthURL, APIURL: fake.APIURL, // in production: leave both empty for auth.trakt.tv and api.trakt.tv
		Clock: clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	dc, err := trakt.Device(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("open %s and enter the %d-character code\n", strings.TrimPrefix(dc.VerificationURI, fake.AuthURL), len(dc.UserCode))
	fake.ApproveCode(dc.UserCode) // the user does this on the activation page
	tok, err := dc.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("scopes:", tok.Scopes, "refresh token:", tok.RefreshToken != "")
	fmt.Println("valid for:", tok.Expiry.Sub(clock.Now()))
	// Output:
	// open /activate and enter the 8-character code
	// scopes: [public offline_access] refresh token: true
	// valid for: 168h0m0s
}

// A web app signs a user in with the authorization-code flow: S256 PKCE is
// always on, the redirect URI is sent back byte for byte, and a public
// client sends no secret.
func ExampleTrakt_AuthRequest() {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	trakt, _ := videoauth.NewTrakt(videoauth.App{
		ClientID: fake.ClientID, UserAgent: "my-web-app/1.0",
		RedirectURL: fake.RedirectURI, // exactly as registered at Trakt
		WebURL:      fake.AuthURL, APIURL: fake.APIURL,
	})
	ar, _ := trakt.AuthRequest("") // keep ar in the user's session; send the browser to ar.URL
	u, _ := url.Parse(ar.URL)
	fmt.Println("method:", u.Query().Get("code_challenge_method"))

	// The callback: the fake's consent page approves at once.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(ar.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := trakt.Exchange(context.Background(), ar, callback.Query())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Provider, tok.TokenType, tok.Scopes, "refresh token:", tok.RefreshToken != "")
	fmt.Println("sent:", strings.Join(slices.Sorted(maps.Keys(fake.LastTokenForm())), " "))
	// Output:
	// method: S256
	// trakt Bearer [public offline_access] refresh token: true
	// sent: client_id code code_verifier grant_type redirect_uri
}

// Replicas of a service share Trakt grants through a Store: when a token
// expires, one of them refreshes — Trakt's refresh tokens are single use,
// and a second refresh would log the user out — and the others adopt the
// new pair, which is stored before anyone uses it.
func ExampleTrakt_Source() {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	clock := videoauthtest.NewClock(time.Now())
	fake.SetClock(clock)
	trakt, _ := videoauth.NewTrakt(videoauth.App{ClientID: fake.ClientID, UserAgent: "my-service/3.2",
		WebURL: fake.AuthURL, APIURL: fake.APIURL, Clock: clock})
	access, refresh := fake.IssueToken() // a grant from an earlier sign-in
	store := &videoauth.MemoryStore{}    // in production: a FileStore or the Redis store
	ctx := context.Background()
	_ = store.Save(ctx, "user-42", &videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh,
		Expiry: clock.Now().Add(7 * 24 * time.Hour)})

	var clients []*http.Client
	for range 3 { // three replicas
		src := trakt.Source(nil)
		src.Store, src.Key = store, "user-42"
		clients = append(clients, videoauth.NewClient(trakt, src))
	}
	clock.Advance(8 * 24 * time.Hour) // the token has expired
	for _, c := range clients {
		resp, err := c.Get(fake.APIURL + "/users/settings")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	stored, _ := store.Load(ctx, "user-42")
	fmt.Println("refreshes:", fake.Refreshes(), "rotated:", stored.RefreshToken != refresh)
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK
	// refreshes: 1 rotated: true
}

// CheckResponse tells Trakt's edge refusing a request (an HTML 403, as for
// a missing User-Agent) from an auth failure: the token is fine.
func ExampleCheckResponse_trakt() {
	fake := videoauthtest.NewTrakt()
	defer fake.Close()
	trakt, _ := videoauth.NewTrakt(videoauth.App{ClientID: fake.ClientID, UserAgent: "my-app/1.0", WebURL: fake.AuthURL, APIURL: fake.APIURL})
	access, refresh := fake.IssueToken()
	client := videoauth.NewClient(trakt, trakt.Source(&videoauth.Token{Provider: "trakt", AccessToken: access, RefreshToken: refresh}))

	fake.FailAPICalls(1, videoauthtest.TraktBlocked)
	resp, err := client.Get(fake.APIURL + "/users/settings")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	err = videoauth.CheckResponse(trakt, resp)
	fmt.Println(err)
	fmt.Println("blocked:", errors.Is(err, videoauth.ErrBlocked), "sign in again:", errors.Is(err, videoauth.ErrReauthRequired))
	// Output:
	// videoauth: trakt api: HTTP 403: request blocked by the service's edge (CDN or firewall), not by its auth
	// blocked: true sign in again: false
}
