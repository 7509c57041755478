package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/redisstore"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Eight Sources stand for eight replicas of a service, each with its own
// Redis connection, sharing one Simkl V2 grant whose access token has
// expired. 500 concurrent requests spread over them meet the expiry: one
// refresh across the fleet (a second would kill the first's token), every
// request succeeds, and none is sent with a killed token.
func TestEightReplicasRefreshOnce(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	opt := c.Options()
	fake := videoauthtest.NewSimkl()
	defer fake.Close()
	app := videoauth.App{ClientID: fake.V2ClientID, ClientSecret: fake.V2ClientSecret, AppName: "videoauth-test", AppVersion: "0.1",
		APIURL: fake.APIURL, WebURL: fake.WebURL}
	simkl, err := videoauth.NewSimkl(app, videoauth.SimklV2)
	require.NoError(t, err)

	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
	seed := redisstore.New(c, redisstore.WithPrefix(prefix))
	require.NoError(t, seed.Save(t.Context(), "user-42", &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute), Scopes: []string{videoauth.SimklScopeRead}, Meta: map[string]string{"simkl_auth": "v2"}}))

	const replicas, requests = 8, 500
	clients := make([]*http.Client, replicas)
	sources := make([]*videoauth.Source, replicas)
	for i := range replicas {
		rc := redis.NewClient(opt) // each replica its own connection pool
		t.Cleanup(func() { rc.Close() })
		src := simkl.Source(nil)
		src.Store, src.Key = redisstore.New(rc, redisstore.WithPrefix(prefix)), "user-42"
		sources[i], clients[i] = src, videoauth.NewClient(simkl, src)
	}
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range requests {
		wg.Go(func() {
			<-start
			resp, err := clients[i%replicas].Get(fake.APIURL + "/sync/activities")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()

	require.EqualValues(t, requests, ok.Load(), "every request succeeded")
	require.Equal(t, 1, fake.Refreshes(), "one refresh across eight replicas")
	require.Zero(t, fake.KilledTokenUses(), "no request was sent with a killed token")
	stored, err := seed.Load(context.Background(), "user-42")
	require.NoError(t, err)
	require.NotEqual(t, access, stored.AccessToken)
	require.Equal(t, refresh, stored.RefreshToken, "the grant is kept")
	for _, src := range sources {
		require.Equal(t, stored.AccessToken, src.Current().AccessToken, "every replica adopted the stored token")
	}
}
