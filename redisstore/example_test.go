package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/redisstore"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Two replicas of a service share a user's Simkl grant through Redis. One
// saves the user's sign-in; its access token then expires. Each replica
// makes a request: the first refreshes under the Redis lock and saves the
// new token, the second loads that token instead of refreshing again (on
// Simkl V2 a second refresh would kill the first one's token).
func Example() {
	mr := miniredis.NewMiniRedis() // in production: your Redis server
	if err := mr.Start(); err != nil {
		panic(err)
	}
	defer mr.Close()
	fake := videoauthtest.NewSimkl() // in production: no fake, no APIURL or WebURL
	defer fake.Close()
	simkl, err := videoauth.NewSimkl(videoauth.App{
		ClientID: fake.V2ClientID, ClientSecret: fake.V2ClientSecret,
		AppName: "example", AppVersion: "1.0",
		APIURL: fake.APIURL, WebURL: fake.WebURL,
	}, videoauth.SimklV2)
	if err != nil {
		panic(err)
	}

	// A replica: its own Redis client, a Store on it, and one Source per
	// user under the user's key.
	replica := func() (*videoauth.Source, *http.Client, func() error) {
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		src := simkl.Source(nil) // no token: loaded from Redis on first use
		src.Store, src.Key = redisstore.New(rdb), "simkl/user-42"
		return src, videoauth.NewClient(simkl, src), rdb.Close
	}
	src1, client1, close1 := replica()
	defer close1()
	src2, client2, close2 := replica()
	defer close2()

	// The user signed in on replica 1 (here the fake issues the grant),
	// and the access token has expired since.
	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
	if err := src1.SaveToken(context.Background(), &videoauth.Token{
		Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: time.Now().Add(-time.Minute), Meta: map[string]string{"simkl_auth": "v2"},
	}); err != nil {
		panic(err)
	}

	for i, client := range []*http.Client{client1, client2} {
		resp, err := client.Get(fake.APIURL + "/sync/activities")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("replica %d: %d\n", i+1, resp.StatusCode)
	}
	fmt.Println("refreshes:", fake.Refreshes())
	fmt.Println("same token on both:", src1.Current().AccessToken == src2.Current().AccessToken)
	fmt.Println("old token replaced:", src2.Current().AccessToken != access)
	// Output:
	// replica 1: 200
	// replica 2: 200
	// refreshes: 1
	// same token on both: true
	// old token replaced: true
}
