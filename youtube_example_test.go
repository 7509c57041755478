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

// A web application signs a user in to YouTube: the first time with a
// forced consent screen, which gives the refresh token; later sign-ins of
// the same user, whose token is stored, without one — each consent counts
// toward Google's 100 refresh tokens per account and client — and the
// stored refresh token is kept.
func ExampleYouTube_SignIn() {
	fake := videoauthtest.NewYouTube() // in production: no fake, no APIURL/WebURL
	defer fake.Close()
	yt, err := videoauth.NewYouTube(videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		RedirectURL: "https://app.example/callback",
		APIURL:      fake.APIURL, WebURL: fake.WebURL,
	})
	if err != nil {
		panic(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(flow videoauth.CodeFlow) *videoauth.Token {
		ar, err := flow.AuthRequest("", videoauth.YouTubeScopeReadOnly)
		if err != nil {
			panic(err)
		}
		fmt.Println("forced consent:", strings.Contains(ar.URL, "prompt=consent"), "offline:", strings.Contains(ar.URL, "access_type=offline"))
		resp, err := noFollow.Get(ar.URL) // the browser; the fake approves
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		callback, _ := resp.Location()
		// In the callback handler: flow.Exchange(r.Context(), ar, r.URL.Query())
		tok, err := flow.Exchange(context.Background(), ar, callback.Query())
		if err != nil {
			panic(err)
		}
		return tok
	}

	first := signIn(yt.SignIn(nil)) // nothing stored for this user
	again := signIn(yt.SignIn(first))
	fmt.Println("refresh token kept:", again.RefreshToken == first.RefreshToken, "refresh tokens issued:", fake.RefreshTokensIssued())
	if fake.Malformed() != 0 || fake.PlainChallenges() != 0 {
		panic("the fake saw a malformed request")
	}
	// Output:
	// forced consent: true offline: true
	// forced consent: false offline: true
	// refresh token kept: true refresh tokens issued: 1
}

// A TV app: Google's device flow for "TVs and Limited Input devices" takes
// only youtube and youtube.readonly among the YouTube scopes; anything else
// is refused before a request is sent.
func ExampleYouTube_Device() {
	fake := videoauthtest.NewYouTube()
	defer fake.Close()
	clock := videoauthtest.NewClock(time.Now()) // in production: nil, the real clock
	clock.SetAutoAdvance(true)
	fake.SetClock(clock)
	tv, err := videoauth.NewYouTube(videoauth.App{
		ClientID: fake.TVClientID, ClientSecret: fake.TVClientSecret, // a "TVs and Limited Input devices" client
		APIURL: fake.APIURL, WebURL: fake.WebURL, Clock: clock,
	})
	if err != nil {
		panic(err)
	}
	_, err = tv.Device(context.Background(), videoauth.YouTubeScopeUpload)
	fmt.Println("upload scope:", errors.Is(err, videoauth.ErrInvalidScope), "requests:", fake.DeviceStarts())

	dc, err := tv.Device(context.Background(), videoauth.YouTubeScopeReadOnly)
	if err != nil {
		panic(err)
	}
	// Show dc.VerificationURI and dc.UserCode as they are (the code is
	// case-sensitive); here with the fake's host replaced.
	fmt.Println("go to", strings.Replace(dc.VerificationURI, fake.WebURL, "https://www.google.com", 1), "and enter a code like", len(dc.UserCode), "characters")
	fake.ApproveCode(dc.UserCode)
	tok, err := dc.Wait(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println("refresh token:", tok.RefreshToken != "", "scopes:", len(tok.Scopes))
	if fake.Malformed() != 0 {
		panic("the fake saw a malformed request")
	}
	// Output:
	// upload scope: true requests: 0
	// go to https://www.google.com/device and enter a code like 9 characters
	// refresh token: true scopes: 1
}

// The API's quota is spent: a 403 that no token fixes. The Transport
// neither refreshes nor retries it; CheckResponse types it, with the wait
// until the daily reset at midnight Pacific Time.
func ExampleYouTube_Source() {
	fake := videoauthtest.NewYouTube()
	defer fake.Close()
	clock := videoauthtest.NewClock(time.Date(2026, 7, 8, 9, 0, 0, 0, time.UTC)) // 02:00 PDT
	fake.SetClock(clock)
	yt, err := videoauth.NewYouTube(videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		APIURL: fake.APIURL, WebURL: fake.WebURL, Clock: clock,
	})
	if err != nil {
		panic(err)
	}
	access, refresh := fake.IssueToken(videoauth.YouTubeScopeReadOnly) // a stored sign-in
	src := yt.Source(&videoauth.Token{Provider: "youtube", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: clock.Now().Add(time.Hour)})
	client := videoauth.NewClient(yt, src)

	fake.ExpireAccessToken(access) // Google rejects the token: refreshed once, replayed once
	resp, err := client.Get(fake.APIURL + "/youtube/v3/channels?part=snippet&mine=true")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("rejected token:", resp.StatusCode, "refreshes:", fake.Refreshes())

	fake.SetQuota(10000, 10000) // the day's units are spent
	resp, err = client.Get(fake.APIURL + "/youtube/v3/channels?part=snippet&mine=true")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	err = videoauth.CheckResponse(yt, resp)
	var e *videoauth.Error
	errors.As(err, &e)
	fmt.Println("quota:", resp.StatusCode, errors.Is(err, videoauth.ErrQuotaExceeded), "retry after:", e.RetryAfter, "refreshes:", fake.Refreshes())
	if fake.Malformed() != 0 {
		panic("the fake saw a malformed request")
	}
	// Output:
	// rejected token: 200 refreshes: 1
	// quota: 403 true retry after: 22h0m0s refreshes: 1
}
