package videoauth_test

// The guarantees that must hold when things race or misbehave: a service
// that keeps rejecting fresh tokens, a token of another service, a grant
// revoked through the Source, a renewal that would kill a request in flight.
// Each runs against the fakes of the services.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// rejectAPI answers every request it is given with status and body, as an
// API that rejects whatever token it gets (a clock skew, a wrong
// environment), without sending it anywhere.
type rejectAPI struct {
	status int
	header http.Header
	body   string
	n      atomic.Int64
}

func (r *rejectAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	r.n.Add(1)
	if req.Body != nil {
		req.Body.Close()
	}
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: r.status, Header: h, Body: io.NopCloser(strings.NewReader(r.body)), Request: req}, nil
}

// setupVikiClock is setupViki with a manual Clock shared by the fake and
// the provider.
func setupVikiClock(t *testing.T) (*videoauthtest.Viki, *videoauth.Viki, *videoauthtest.Clock) {
	t.Helper()
	clock := videoauthtest.NewClock(time.Now())
	fake, v := setupVikiWith(t, clock)
	return fake, v, clock
}

// Under a persistent rejection, 50 requests make two mints (the first
// token and one replacement), not 51; a request after RetryInterval makes
// one more; the next needs twice as long. Viki's password grant re-sends
// the user's password on every mint, so this is also a lock-out guard.
func TestPersistentRejectionMintsOncePerInterval(t *testing.T) {
	type setup struct {
		client *http.Client
		url    string
		mints  func() int64
		clock  *videoauthtest.Clock
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) setup
	}{
		{"vimeo app token, 401 invalid_token", func(t *testing.T) setup {
			fake := videoauthtest.NewVimeo()
			t.Cleanup(fake.Close)
			clock := videoauthtest.NewClock(time.Now())
			v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: clock})
			require.NoError(t, err)
			api := &rejectAPI{status: 401, header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}},
				body: `{"error":"The access token is invalid","error_code":8003}`}
			tr := &videoauth.Transport{Provider: v, Source: v.ClientCredentials(), Base: api}
			return setup{&http.Client{Transport: tr}, fake.URL + "/videos", func() int64 { return int64(fake.Mints()) }, clock}
		}},
		{"viki v3 app token, 403 Not Authorized", func(t *testing.T) setup {
			fake, v, clock := setupVikiClock(t)
			// Viki's expired-token answer for every token: a clock skew, or
			// a wrong environment.
			api := &rejectAPI{status: 403, body: `{"message":"Not Authorized","status":403}`}
			tr := &videoauth.Transport{Provider: v, Source: v.ClientCredentials(), Base: api}
			return setup{&http.Client{Transport: tr}, fake.URL + "/v3/movies.json", func() int64 { return int64(fake.Mints()) }, clock}
		}},
		{"viki v3 password grant, 403", func(t *testing.T) setup {
			fake, v, clock := setupVikiClock(t)
			var asked atomic.Int64
			src := v.PasswordSource(func(context.Context) (videoauth.VikiCredentials, error) {
				asked.Add(1)
				return videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}, nil
			})
			api := &rejectAPI{status: 403, body: `{"message":"Not Authorized","status":403}`}
			tr := &videoauth.Transport{Provider: v, Source: src, Base: api}
			return setup{&http.Client{Transport: tr}, fake.URL + "/v3/movies.json", asked.Load, clock}
		}},
		{"simkl v2 refresh, 401", func(t *testing.T) setup {
			fake, s, clock := setupSimklClock(t, videoauth.SimklV2)
			access, refresh := fake.IssueToken(true)
			tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
				Expiry: clock.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
			api := &rejectAPI{status: 401, header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}},
				body: `{"error":"user_token_failed","message":"token is invalid"}`}
			tr := &videoauth.Transport{Provider: s, Source: s.Source(tok), Base: api}
			return setup{&http.Client{Transport: tr}, fake.APIURL + "/sync/activities", func() int64 { return int64(fake.Refreshes()) + 1 }, clock}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.setup(t)
			get := func() int {
				resp, err := st.client.Get(st.url)
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			for range 50 {
				require.GreaterOrEqual(t, get(), 400, "the rejection is returned")
			}
			require.EqualValues(t, 2, st.mints(), "50 requests: the first token and one replacement")
			st.clock.Advance(videoauth.DefaultRetryInterval)
			for range 20 {
				get()
			}
			require.EqualValues(t, 3, st.mints(), "after RetryInterval: one more")
			st.clock.Advance(videoauth.DefaultRetryInterval)
			for range 20 {
				get()
			}
			require.EqualValues(t, 3, st.mints(), "the next replacement waits twice as long")
			st.clock.Advance(videoauth.DefaultRetryInterval)
			get()
			require.EqualValues(t, 4, st.mints())
		})
	}
}

// The same, with 50 concurrent requests: one replacement for all.
func TestPersistentRejectionConcurrent(t *testing.T) {
	fake := videoauthtest.NewVimeo()
	t.Cleanup(fake.Close)
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL,
		Clock: videoauthtest.NewClock(time.Now())})
	require.NoError(t, err)
	api := &rejectAPI{status: 401, header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, body: `{}`}
	c := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: v.ClientCredentials(), Base: api}}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, err := c.Get(fake.URL + "/me")
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, fake.Mints(), 2, "concurrent rejections share the replacements")
}

// A token of another service is never sent, nor its refresh token used:
// given to SetToken, found in the store, or given to a constructor.
func TestAnotherServicesTokenIsRefused(t *testing.T) {
	ctx := context.Background()
	simklFake, simkl := setupSimkl(t, videoauth.SimklV2, true)
	vimeoFake := videoauthtest.NewVimeo()
	t.Cleanup(vimeoFake.Close)
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: vimeoFake.ClientID, ClientSecret: vimeoFake.ClientSecret, APIURL: vimeoFake.URL})
	require.NoError(t, err)
	vikiFake, viki := setupViki(t)
	simklTok := &videoauth.Token{Provider: "simkl", AccessToken: "simkl-at", RefreshToken: "simkl-rt", TokenType: "Bearer",
		Expiry: time.Now().Add(-time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
	vimeoTok := &videoauth.Token{Provider: "vimeo", AccessToken: "vimeo-at", TokenType: "Bearer", RefreshToken: "vimeo-rt"}

	calls := func() int {
		return simklFake.APICalls() + simklFake.TokenCalls() + vimeoFake.APICalls() + vimeoFake.TokenCalls() + vikiFake.APICalls() + vikiFake.TokenCalls()
	}
	check := func(t *testing.T, c *http.Client, u string) {
		t.Helper()
		before := calls()
		_, err := c.Get(u)
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		require.Equal(t, before, calls(), "nothing reached any service")
	}
	t.Run("constructor", func(t *testing.T) {
		check(t, videoauth.NewClient(vimeo, vimeo.Source(simklTok)), vimeoFake.URL+"/me")
		check(t, videoauth.NewClient(simkl, simkl.Source(vimeoTok)), simklFake.APIURL+"/sync/activities")
		check(t, videoauth.NewClient(viki, viki.Source(vimeoTok)), vikiFake.URL+"/v3/movies.json")
	})
	t.Run("SetToken", func(t *testing.T) {
		src := vimeo.ClientCredentials()
		src.SetToken(simklTok)
		check(t, videoauth.NewClient(vimeo, src), vimeoFake.URL+"/me")
		_, err := src.Token(ctx)
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		require.Nil(t, src.Current())
	})
	t.Run("store", func(t *testing.T) {
		store := &videoauth.MemoryStore{}
		require.NoError(t, store.Save(ctx, "shared", simklTok)) // expired: a Vimeo Source must not mint in its place either
		vsrc := vimeo.ClientCredentials()
		vsrc.Store, vsrc.Key = store, "shared"
		check(t, videoauth.NewClient(vimeo, vsrc), vimeoFake.URL+"/me")
		require.NoError(t, store.Save(ctx, "shared", vimeoTok))
		other := simkl.Source(nil)
		other.Store, other.Key = store, "shared"
		check(t, videoauth.NewClient(simkl, other), simklFake.APIURL+"/sync/activities")
		require.ErrorIs(t, other.SaveToken(ctx, vimeoTok), videoauth.ErrInvalidConfig)
	})
	t.Run("a Source of no provider, through a Transport", func(t *testing.T) {
		live := simklTok.Clone()
		live.Expiry = time.Now().Add(time.Hour)
		check(t, videoauth.NewClient(vimeo, videoauth.NewSource(live, nil)), vimeoFake.URL+"/me")
		check(t, videoauth.NewClient(viki, videoauth.NewSource(vimeoTok, nil)), vikiFake.URL+"/v3/movies.json")
	})
}

// Revoke through the Source ends the grant at the service, empties the
// store, and from then on the Source answers ErrReauthRequired without a
// request.
func TestSourceRevoke(t *testing.T) {
	ctx := context.Background()
	t.Run("simkl v2", func(t *testing.T) {
		fake, s := setupSimkl(t, videoauth.SimklV2, true)
		access, refresh := fake.IssueToken(true)
		tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
			Expiry: time.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}
		store := &videoauth.MemoryStore{}
		src := s.Source(nil)
		src.Store, src.Key = store, "u"
		require.NoError(t, src.SaveToken(ctx, tok))
		var revoked atomic.Int64
		src.OnRevoked = func(*videoauth.Token) { revoked.Add(1) }
		require.NoError(t, src.Revoke(ctx))
		require.Equal(t, 1, fake.Revocations())
		require.Equal(t, refresh, fake.LastTokenForm().Get("token"))
		require.EqualValues(t, 1, revoked.Load())
		_, err := store.Load(ctx, "u")
		require.ErrorIs(t, err, videoauth.ErrNotStored)
		api, tokens := fake.APICalls(), fake.TokenCalls()
		for range 3 {
			_, err = src.Token(ctx)
			require.ErrorIs(t, err, videoauth.ErrReauthRequired)
			_, err = videoauth.NewClient(s, src).Get(fake.APIURL + "/sync/activities")
			require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		}
		require.Equal(t, api, fake.APICalls(), "no API call")
		require.Equal(t, tokens, fake.TokenCalls(), "no refresh")
		require.NoError(t, src.SaveToken(ctx, tok), "a new sign-in lifts it")
		_, err = src.Token(ctx)
		require.NoError(t, err)
	})
	t.Run("vimeo", func(t *testing.T) {
		fake := videoauthtest.NewVimeo()
		t.Cleanup(fake.Close)
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
		require.NoError(t, err)
		src := v.ClientCredentials()
		c := videoauth.NewClient(v, src)
		resp, err := c.Get(fake.URL + "/videos")
		require.NoError(t, err)
		resp.Body.Close()
		require.NoError(t, src.Revoke(ctx))
		api := fake.APICalls()
		_, err = c.Get(fake.URL + "/videos")
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		require.Equal(t, api, fake.APICalls(), "no API call after the revocation")
	})
	t.Run("viki has no revocation", func(t *testing.T) {
		_, v := setupViki(t)
		src := v.ClientCredentials()
		_, err := src.Token(ctx)
		require.NoError(t, err)
		require.ErrorIs(t, src.Revoke(ctx), videoauth.ErrUnsupportedGrant)
		_, err = src.Token(ctx)
		require.NoError(t, err, "nothing changed")
	})
}

// holdPOST holds every POST until release is closed, then sends it on.
type holdPOST struct {
	base    http.RoundTripper
	arrived chan struct{}
	release chan struct{}
}

func (h *holdPOST) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		h.arrived <- struct{}{}
		<-h.release
	}
	return h.base.RoundTrip(req)
}

// Simkl V2 kills the old access token the moment it issues a new one. A
// refresh-ahead must not fail a request in flight with the old token whose
// body cannot be replayed: it waits for it (at most two seconds).
func TestRefreshAheadSparesRequestsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		finish  bool // the POST finishes; else the hold's deadline passes
		wantPOS int
	}{
		{"the request finishes first", true, http.StatusCreated},
		{"the request hangs: the refresh goes ahead after the hold", false, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fake, s, clock := setupSimklClock(t, videoauth.SimklV2)
			access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead, videoauth.SimklScopeWrite)
			tok := &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
				Expiry: clock.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"},
				Scopes: []string{videoauth.SimklScopeRead, videoauth.SimklScopeWrite}}
			src := s.Source(tok)
			hold := &holdPOST{base: http.DefaultTransport, arrived: make(chan struct{}, 1), release: make(chan struct{})}
			c := &http.Client{Transport: &videoauth.Transport{Provider: s, Source: src, Base: hold}}

			clock.Advance(6*24*time.Hour + time.Hour) // inside Simkl's day-ahead window
			post := make(chan int, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodPost, fake.APIURL+"/sync/history", io.NopCloser(strings.NewReader(`{"movies":[]}`)))
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req) // Body without GetBody: cannot be replayed
				if err != nil {
					post <- -1
					return
				}
				resp.Body.Close()
				post <- resp.StatusCode
			}()
			// The POST is in flight with the old token; a GET starts the
			// refresh-ahead.
			<-hold.arrived
			resp, err := c.Get(fake.APIURL + "/sync/activities")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, 200, resp.StatusCode, "no request waits on the renewal")
			if tc.finish {
				require.Never(t, func() bool { return fake.Refreshes() > 0 }, 50*time.Millisecond, 5*time.Millisecond, "the refresh waits for the request")
				close(hold.release)
				require.Equal(t, tc.wantPOS, <-post)
			} else {
				require.Eventually(t, func() bool { return clock.Waiters() > 0 }, 5*time.Second, time.Millisecond)
				clock.Advance(2 * time.Second)
				require.Eventually(t, func() bool { return fake.Refreshes() == 1 }, 5*time.Second, time.Millisecond)
				close(hold.release)
				require.Equal(t, tc.wantPOS, <-post, "the old token was killed under it")
			}
			require.Eventually(t, func() bool { return fake.Refreshes() == 1 }, 5*time.Second, time.Millisecond, "refreshed once")
			require.Eventually(t, func() bool { return src.Current().AccessToken != access }, 5*time.Second, time.Millisecond)
			_, err = src.Token(ctx)
			require.NoError(t, err)
			if tc.finish {
				require.Zero(t, fake.KilledTokenUses(), "no request carried a killed token")
			}
		})
	}
}
