package videoauthtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// fakeStart is where the tests' clocks start.
var fakeStart = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// A fake behind an httpmock.MockTransport: the provider keeps Vimeo's real
// URLs (no APIURL), its HTTPClient is httpmock's, and the fake answers in
// process, no socket involved. httpmock counts the calls.
func ExampleVimeo_Respond() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()

	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "https://api.vimeo.com/oauth/authorize/client", fake.Respond)
	mt.RegisterResponder(http.MethodGet, "https://api.vimeo.com/videos", fake.Respond)

	vimeo, err := videoauth.NewVimeo(videoauth.App{
		ClientID:     fake.ClientID,
		ClientSecret: fake.ClientSecret,
		HTTPClient:   &http.Client{Transport: mt},
	})
	if err != nil {
		panic(err)
	}
	src := vimeo.ClientCredentials()
	client := videoauth.NewClient(vimeo, src)

	resp, err := client.Get("https://api.vimeo.com/videos?query=cats")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), len(body) == int(resp.ContentLength))

	fake.DeleteAllTokens() // Vimeo forgets the token: re-minted, replayed once
	resp, err = client.Get("https://api.vimeo.com/videos?query=dogs")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("after deletion:", resp.StatusCode, "mints:", fake.Mints())

	calls := mt.GetCallCountInfo()
	fmt.Println("token requests:", calls["POST https://api.vimeo.com/oauth/authorize/client"])
	fmt.Println("API requests:", calls["GET https://api.vimeo.com/videos"], "of", mt.GetTotalCallCount())
	// Output:
	// 200 application/vnd.vimeo.video+json true
	// after deletion: 200 mints: 2
	// token requests: 2
	// API requests: 3 of 5
}

// RoundTripper serves the fake in process for a test without httpmock.
func ExampleSimkl_RoundTripper() {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	access, _ := fake.IssueToken(true, "media:read")

	simkl, err := videoauth.NewSimkl(videoauth.App{
		ClientID: fake.V2ClientID, AppName: "my-app", AppVersion: "1.0",
		HTTPClient: &http.Client{Transport: fake.RoundTripper()},
	}, videoauth.SimklV2)
	if err != nil {
		panic(err)
	}
	client := videoauth.NewClient(simkl, simkl.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, TokenType: "Bearer"}))
	resp, err := client.Get("https://api.simkl.com/users/settings")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "API calls:", fake.APICalls(), "missing parameters:", fake.MissingParams())
	// Output:
	// 200 API calls: 1 missing parameters: 0
}

// Every fake works behind httpmock, each route registered on its own or
// all through RegisterNoResponder, and httpmock's counts agree with the
// fake's.
func TestFakesBehindHTTPMock(t *testing.T) {
	ctx := context.Background()
	t.Run("simkl V2 device flow, by route", func(t *testing.T) {
		fake := videoauthtest.NewSimkl()
		defer fake.Close()
		clock := videoauthtest.NewClock(fakeStart)
		clock.SetAutoAdvance(true)
		fake.SetClock(clock)
		mt := httpmock.NewMockTransport()
		mt.RegisterResponder(http.MethodPost, "https://api.simkl.com/oauth2/device", fake.Respond)
		mt.RegisterResponder(http.MethodPost, "https://api.simkl.com/oauth2/token", fake.Respond)
		// The API at its real URL; the pages the user is sent to are the
		// fake's (WebURL), which the provider checks the answer against.
		s, err := videoauth.NewSimkl(videoauth.App{ClientID: fake.V2ClientID, AppName: "my-app", AppVersion: "1.0",
			WebURL: fake.WebURL, HTTPClient: &http.Client{Transport: mt}, Clock: clock}, videoauth.SimklV2)
		require.NoError(t, err)
		dc, err := s.Device(ctx, videoauth.SimklScopeRead)
		require.NoError(t, err)
		require.True(t, fake.ApproveCode(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, tok.RefreshToken)
		calls := mt.GetCallCountInfo()
		require.Equal(t, 1, calls["POST https://api.simkl.com/oauth2/device"])
		require.Equal(t, fake.DevicePolls(), calls["POST https://api.simkl.com/oauth2/token"])
		require.Equal(t, 2, mt.GetTotalCallCount(), "one start, one poll")
		require.Zero(t, fake.MissingParams())
	})
	t.Run("viki signed API, no responder but the fake", func(t *testing.T) {
		fake := videoauthtest.NewViki()
		defer fake.Close()
		clock := videoauthtest.NewClock(fakeStart)
		fake.SetClock(clock)
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(fake.Respond)
		api, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret,
			HTTPClient: &http.Client{Transport: mt}, Clock: clock}, videoauth.VikiSignQuery)
		require.NoError(t, err)
		resp, err := api.SignedClient().Get("https://api.viki.io/v4/movies.json?sort=views")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, 1, fake.SignedCalls())
		require.Equal(t, 1, mt.GetCallCountInfo()["NO_RESPONDER"])
		require.Equal(t, "api.viki.io", fake.LastRequest().Host)
	})
	t.Run("vimeo code exchange", func(t *testing.T) {
		fake := videoauthtest.NewVimeo()
		defer fake.Close()
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(fake.Respond)
		hc := &http.Client{Transport: mt}
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
			RedirectURL: "https://app.example/callback", HTTPClient: hc})
		require.NoError(t, err)
		ar, err := v.AuthRequest("")
		require.NoError(t, err)
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := hc.Get(ar.URL) // the browser, at the real consent page
		require.NoError(t, err)
		resp.Body.Close()
		callback, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		tok, err := v.Exchange(ctx, ar, callback.Query())
		require.NoError(t, err)
		require.Equal(t, "4242", tok.UserID)
		require.Equal(t, 1, fake.Exchanges())
		require.Equal(t, 2, mt.GetTotalCallCount())
	})
}
