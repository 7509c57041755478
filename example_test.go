package videoauth_test

import (
	"context"
	"fmt"
	"net/http"

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
