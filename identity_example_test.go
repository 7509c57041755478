package videoauth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Who does a token belong to? Every provider answers the same way; an app
// token names no user, and a token the service forgot is a typed error.
func ExampleVimeo_Identify() {
	fake := videoauthtest.NewVimeo() // in production: no fake, no APIURL
	defer fake.Close()
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// A user token, as Exchange or Device returns it (or a Store kept it).
	user := &videoauth.Token{Provider: "vimeo", AccessToken: fake.IssueUserToken("private"), TokenType: "Bearer", UserID: "4242"}
	var p videoauth.Identifier = vimeo // any provider: Simkl, Viki, VikiAPI too
	id, err := p.Identify(ctx, user)
	if err != nil {
		panic(err)
	}
	fmt.Println(id) // prints no token: an Identity holds none

	app, err := vimeo.ClientCredentials().Token(ctx)
	if err != nil {
		panic(err)
	}
	id, err = vimeo.Identify(ctx, app)
	fmt.Printf("app token: user %q, err %v\n", id.UserID, err)

	fake.DeleteToken(user.AccessToken) // the user revoked the app
	_, err = vimeo.Identify(ctx, user)
	fmt.Println("revoked:", errors.Is(err, videoauth.ErrReauthRequired))
	// Output:
	// videoauth.Identity{provider=vimeo user="4242" name="Fake User"}
	// app token: user "", err <nil>
	// revoked: true
}

// A token that x/oauth2 code obtained and stored becomes a Token for the
// provider's Source or a Store; the provider's own marks (here Simkl's
// auth generation) are derived.
func ExampleTokenFromOAuth2() {
	stored := &oauth2.Token{
		AccessToken:  "simkl_at_0123",
		RefreshToken: "simkl_rt_4567",
		TokenType:    "bearer",
		Expiry:       time.Date(2027, 1, 8, 0, 0, 0, 0, time.UTC),
	}
	stored = stored.WithExtra(map[string]any{"scope": "media:read media:write"})
	tok, err := videoauth.TokenFromOAuth2("simkl", stored)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok)
	fmt.Println(videoauth.SimklGenerationOf(tok))

	_, err = videoauth.TokenFromOAuth2("simkl", nil)
	fmt.Println(errors.Is(err, videoauth.ErrInvalidConfig))
	// Output:
	// videoauth.Token{provider=simkl type=Bearer access=REDACTED refresh=REDACTED expiry=2027-01-08T00:00:00Z scopes=media:read,media:write}
	// v2
	// true
}
