package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

func runViki(ctx context.Context) error {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	fmt.Println("Viki (fake at " + fake.URL + ")")
	vikiClock := videoauthtest.NewClock(time.Now())
	fake.SetClock(vikiClock) // Viki's clock only: our token still looks fresh to us

	// 1. v3 client credentials: the token travels as ?access_token=, and is
	// redacted wherever a URL is printed.
	v3, err := videoauth.NewViki(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	if err != nil {
		return err
	}
	src := v3.ClientCredentials()
	client := videoauth.NewClient(v3, src)
	if err := call(client, fake.URL+"/v3/movies.json", 200); err != nil {
		return err
	}
	step("v3 client credentials: GET /v3/movies.json → 200 (24-hour token, mints: %d)", fake.Mints())

	// 2. 24 hours of Viki's time pass: the token is refused with 403, one new
	// token is minted and the request replayed.
	vikiClock.Advance(24*time.Hour + time.Minute)
	if err := call(client, fake.URL+"/v3/movies.json", 200); err != nil {
		return err
	}
	step("24 h later: 403 → one re-mint → request replayed → 200 (mints: %d, API calls: %d)", fake.Mints(), fake.APICalls())

	// 3. Password grant: the token carries the user's id.
	user, err := v3.Password(ctx, videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
	if err != nil {
		return fmt.Errorf("viki password grant: %w", err)
	}
	step("v3 password grant: user %s (credentials print as %v)", user.UserID, videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})

	// 4. v4 signed request: app, t and sig (HMAC-SHA1 of path+query+body),
	// against a Viki whose clock agrees with ours.
	fake = videoauthtest.NewViki()
	defer fake.Close()
	api, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL}, videoauth.VikiSignQuery)
	if err != nil {
		return err
	}
	signed := api.SignedClient()
	if err := call(signed, fake.URL+"/v4/movies.json?sort=views", 200); err != nil {
		return err
	}
	q := fake.LastRequest().URL.RawQuery
	step("v4 signed request: GET /v4/movies.json?%s → 200", q[:strings.LastIndex(q, "&sig=")]+"&sig=…")

	// 5. Our clock is 10 minutes off: "stale timestamp", corrected with the
	// server's time in one retry.
	fake.SetServerSkew(10 * time.Minute)
	if err := call(signed, fake.URL+"/v5/movies.json", 200); err != nil {
		return err
	}
	step("clock 10 min off: stale timestamp → offset adopted → one retry → 200 (stale answers: %d)", fake.StaleTimestamps())

	// 6. v5 session: sign in, then the session expires (vcode 11): the
	// source signs in again and the request is replayed once.
	sessions := api.SessionSource(func(context.Context) (videoauth.VikiCredentials, error) {
		return videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}, nil // from your secret store
	})
	me := videoauth.NewClient(api, sessions)
	if err := call(me, fake.URL+"/v5/users/1u.json", 200); err != nil {
		return err
	}
	fake.ExpireSessions()
	if err := call(me, fake.URL+"/v5/users/1u.json", 200); err != nil {
		return err
	}
	step("v5 session: signed in, expired (vcode 11) → signed in again → replayed → 200 (logins: %d)", fake.Logins())
	return check(fake.BadSignatures() == 0, "%d requests were badly signed", fake.BadSignatures())
}
