package videoauth_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// onlyClient is an *http.Client that alone can reach the fakes: it dials
// each fake's listener for an address where nothing listens (localhost at
// a port below 10), and records every request it sends. A request sent
// through any other client (http.DefaultClient, say) cannot reach a fake
// and fails.
type onlyClient struct {
	mu    sync.Mutex
	sent  []string // "METHOD host/path"
	hosts map[string]string
}

func newOnlyClient() *onlyClient { return &onlyClient{hosts: map[string]string{}} }

// route makes host (localhost:N) reach the fake at rawURL, and returns
// the base URL to hand the provider.
func (c *onlyClient) route(t *testing.T, host, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	c.hosts[host] = u.Host
	return "http://" + host
}

func (c *onlyClient) client() *http.Client {
	dial := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			to, ok := c.hosts[addr]
			if !ok {
				return nil, &net.AddrError{Err: "not a routed fake", Addr: addr}
			}
			return dial.DialContext(ctx, network, to)
		},
	}
	return &http.Client{Transport: recordingRT{c: c, base: tr}, Timeout: 10 * time.Second}
}

type recordingRT struct {
	c    *onlyClient
	base http.RoundTripper
}

func (r recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.c.mu.Lock()
	r.c.sent = append(r.c.sent, req.Method+" "+req.URL.Host+req.URL.Path)
	r.c.mu.Unlock()
	return r.base.RoundTrip(req)
}

// took returns the requests sent since the last call.
func (c *onlyClient) took() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sent
	c.sent = nil
	sort.Strings(s)
	return s
}

// App.HTTPClient is the one place that configures how videoauth reaches a
// service: every request of every provider (token endpoints, device and
// PIN flows, revocation, verification, signed and authorized API calls
// through NewClient) goes through it. The fakes are reachable only through
// that client, so a request sent any other way fails the flow.
func TestAppHTTPClientCarriesEveryRequest(t *testing.T) {
	ctx := context.Background()
	clock := videoauthtest.NewClock(time.Now())
	clock.SetAutoAdvance(true)

	t.Run("vimeo", func(t *testing.T) {
		fake := videoauthtest.NewVimeo()
		defer fake.Close()
		fake.SetClock(clock)
		oc := newOnlyClient()
		base := oc.route(t, "localhost:1", fake.URL)
		fake.SetActivateLink(base + "/activate")
		p, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
			APIURL: base, HTTPClient: oc.client(), Clock: clock})
		require.NoError(t, err)

		src := p.ClientCredentials()
		resp, err := videoauth.NewClient(p, src).Get(base + "/videos/1")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, []string{"GET localhost:1/videos/1", "POST localhost:1/oauth/authorize/client"}, oc.took())

		dc, err := p.Device(ctx, videoauth.VimeoScopePublic)
		require.NoError(t, err)
		require.True(t, fake.ApproveDevice(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"POST localhost:1/oauth/device", "POST localhost:1/oauth/device/authorize"}, oc.took())

		_, err = p.Verify(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, []string{"GET localhost:1/oauth/verify"}, oc.took())
		require.NoError(t, p.Revoke(ctx, tok))
		require.Equal(t, []string{"DELETE localhost:1/tokens"}, oc.took())
	})

	t.Run("simkl", func(t *testing.T) {
		fake := videoauthtest.NewSimkl()
		defer fake.Close()
		fake.SetClock(clock)
		oc := newOnlyClient()
		api := oc.route(t, "localhost:2", fake.APIURL)
		web := oc.route(t, "localhost:3", fake.WebURL)
		fake.SetVerificationURI(web+"/pin", web+"/pin/code")
		p, err := videoauth.NewSimkl(videoauth.App{ClientID: fake.V2ClientID, ClientSecret: fake.V2ClientSecret, AppName: "my-app", AppVersion: "1",
			APIURL: api, WebURL: web, HTTPClient: oc.client(), Clock: clock}, videoauth.SimklV2)
		require.NoError(t, err)

		dc, err := p.Device(ctx, videoauth.SimklScopeRead)
		require.NoError(t, err)
		require.True(t, fake.ApproveCode(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"POST localhost:2/oauth2/device", "POST localhost:2/oauth2/token"}, uniq(oc.took()))

		stale := tok.Clone()
		stale.Expiry = clock.Now().Add(-time.Minute) // the Source refreshes before the request
		resp, err := videoauth.NewClient(p, p.Source(stale)).Get(api + "/sync/activities")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, []string{"GET localhost:2/sync/activities", "POST localhost:2/oauth2/token"}, oc.took())

		require.NoError(t, p.Revoke(ctx, tok))
		require.Equal(t, []string{"POST localhost:2/oauth2/revoke"}, oc.took())
	})

	t.Run("viki", func(t *testing.T) {
		fake := videoauthtest.NewViki()
		defer fake.Close()
		oc := newOnlyClient()
		base := oc.route(t, "localhost:4", fake.URL)
		app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: base, HTTPClient: oc.client()}
		p, err := videoauth.NewViki(app)
		require.NoError(t, err)
		resp, err := videoauth.NewClient(p, p.ClientCredentials()).Get(base + "/v3/movies.json")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, []string{"GET localhost:4/v3/movies.json", "POST localhost:4/oauth/token"}, oc.took())

		_, err = p.Password(ctx, videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
		require.NoError(t, err)
		require.Equal(t, []string{"POST localhost:4/oauth/token"}, oc.took())

		app.ClientID, app.ClientSecret = fake.AppID, fake.AppSecret
		signed, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
		require.NoError(t, err)
		resp, err = signed.SignedClient().Get(base + "/v4/movies.json")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, err = signed.Login(ctx, videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
		require.NoError(t, err)
		got := oc.took()
		require.Contains(t, got, "GET localhost:4/v4/movies.json")
		require.Len(t, got, 2, "the signed call and the login: %v", got)
	})
}

// uniq drops repeats from a sorted slice (polls repeat).
func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
