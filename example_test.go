package videoauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

// Tokens that survive restarts and are shared by processes: a Source with a
// Store loads its token on first use and saves every new one before using
// it, refreshing under the store's lock so that processes sharing the store
// make one refresh between them. FileStore is the store for command-line
// tools; redisstore (a module of its own) is the one for services with
// replicas.
func ExampleFileStore() {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	simkl, err := videoauth.NewSimkl(videoauth.App{ClientID: fake.V2ClientID, ClientSecret: fake.V2ClientSecret,
		AppName: "example", AppVersion: "1.0", APIURL: fake.APIURL, WebURL: fake.WebURL}, videoauth.SimklV2)
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "videoauth-example") // in a tool: os.UserConfigDir()
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	if err != nil {
		panic(err)
	}

	// After a sign-in (here an expired grant from the fake), save the token.
	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
	first := simkl.Source(nil)
	first.Store, first.Key = store, "simkl/user-42"
	err = first.SaveToken(context.Background(), &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh,
		Expiry: time.Now().Add(-time.Minute), Meta: map[string]string{"simkl_auth": "v2"}})
	fmt.Println("saved:", err == nil)

	// Another process, later: a Source with no token loads it from the store,
	// refreshes it (it has expired) and saves the new token.
	later := simkl.Source(nil)
	later.Store, later.Key = store, "simkl/user-42"
	resp, err := videoauth.NewClient(simkl, later).Get(fake.APIURL + "/sync/activities")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	stored, _ := store.Load(context.Background(), "simkl/user-42")
	fmt.Println("status:", resp.StatusCode, "refreshes:", fake.Refreshes())
	fmt.Println("stored token is the new one:", stored.AccessToken == later.Current().AccessToken && stored.AccessToken != access)
	keys, _ := store.Keys(context.Background())
	fmt.Println("keys:", keys)
	// Output:
	// saved: true
	// status: 200 refreshes: 1
	// stored token is the new one: true
	// keys: [simkl/user-42]
}

// A user signs out: Source.Revoke ends the grant at Simkl (RFC 7009),
// deletes it from the store, and the Source then answers ErrReauthRequired
// without sending anything until a new sign-in is saved.
func ExampleSource_Revoke() {
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	simkl, err := videoauth.NewSimkl(videoauth.App{ClientID: fake.V2ClientID, ClientSecret: fake.V2ClientSecret,
		AppName: "example", AppVersion: "1.0", APIURL: fake.APIURL, WebURL: fake.WebURL}, videoauth.SimklV2)
	if err != nil {
		panic(err)
	}
	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
	store := &videoauth.MemoryStore{}
	src := simkl.Source(nil)
	src.Store, src.Key = store, "simkl/user-42"
	_ = src.SaveToken(context.Background(), &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh,
		Expiry: time.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}})

	fmt.Println("revoked:", src.Revoke(context.Background()) == nil, "revocations:", fake.Revocations())
	_, err = store.Load(context.Background(), "simkl/user-42")
	fmt.Println("still stored:", !errors.Is(err, videoauth.ErrNotStored))
	calls := fake.APICalls() + fake.TokenCalls()
	_, err = videoauth.NewClient(simkl, src).Get(fake.APIURL + "/sync/activities")
	fmt.Println("sign in again:", errors.Is(err, videoauth.ErrReauthRequired), "requests sent:", fake.APICalls()+fake.TokenCalls()-calls)
	// Output:
	// revoked: true revocations: 1
	// still stored: false
	// sign in again: true requests sent: 0
}

// A Simkl V1 public client without a redirect URI (a desktop or
// command-line tool): simkl.com ends the consent by showing a code, the
// user pastes it, and ExchangeCode exchanges it once with the PKCE
// verifier, sending no redirect_uri.
func ExampleSimkl_ExchangeCode() {
	fake := videoauthtest.NewSimkl() // in production: no fake, no APIURL/WebURL
	defer fake.Close()
	simkl, err := videoauth.NewSimkl(videoauth.App{
		ClientID: fake.ClientID, AppName: "my-app", AppVersion: "1.0", // no ClientSecret, no RedirectURL
		APIURL: fake.APIURL, WebURL: fake.WebURL,
	}, videoauth.SimklV1)
	if err != nil {
		panic(err)
	}
	ar, err := simkl.AuthRequest("")
	if err != nil {
		panic(err)
	}
	page, _, _ := strings.Cut(ar.URL, "?")
	fmt.Println("open", strings.Replace(page, fake.WebURL, "https://simkl.com", 1), "and paste the code shown")

	// The user opens ar.URL and approves; the page shows the code.
	resp, err := http.Get(ar.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	code := fake.ShownCode() // in a tool: read from the terminal

	tok, err := simkl.ExchangeCode(context.Background(), ar, code)
	if err != nil {
		panic(err)
	}
	fmt.Println("generation:", videoauth.SimklGenerationOf(tok), "scopes:", tok.Scopes)
	_, err = simkl.ExchangeCode(context.Background(), ar, code)
	fmt.Println("pasted again:", err)
	// Output:
	// open https://simkl.com/oauth/authorize and paste the code shown
	// generation: v1 scopes: [public]
	// pasted again: videoauth: authorization request already used
}
