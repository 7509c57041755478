package videoauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// obsRecorder is an Observer that keeps every event, and signals each on
// notify when it is set.
type obsRecorder struct {
	mu     sync.Mutex
	events []videoauth.Event
	notify chan videoauth.Event
}

func (r *obsRecorder) Observe(_ context.Context, e videoauth.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.notify != nil {
		r.notify <- e
	}
}

func (r *obsRecorder) all() []videoauth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *obsRecorder) of(k videoauth.EventKind) []videoauth.Event {
	var out []videoauth.Event
	for _, e := range r.all() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func (r *obsRecorder) reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}

// obsNext receives the next event from ch.
func obsNext(t *testing.T, ch <-chan videoauth.Event) videoauth.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(10 * time.Second): // a deadlock guard, not a wait
		t.Fatal("no event")
		return videoauth.Event{}
	}
}

// kinds lists the kinds of events, in order.
func kinds(events []videoauth.Event) []videoauth.EventKind {
	out := make([]videoauth.EventKind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

// obsVimeo starts a fake Vimeo and a provider reporting to rec.
func obsVimeo(t *testing.T, rec videoauth.Observer) (*videoauthtest.Vimeo, *videoauth.Vimeo) {
	t.Helper()
	fake := videoauthtest.NewVimeo()
	t.Cleanup(fake.Close)
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Observer: rec})
	require.NoError(t, err)
	return fake, v
}

// obsSimkl starts a fake Simkl and a provider of generation gen (a public
// app) reporting to rec.
func obsSimkl(t *testing.T, gen videoauth.SimklGeneration, rec videoauth.Observer) (*videoauthtest.Simkl, *videoauth.Simkl) {
	t.Helper()
	fake := videoauthtest.NewSimkl()
	t.Cleanup(fake.Close)
	app := videoauth.App{ClientID: fake.ClientID, AppName: "videoauth-test", AppVersion: "0.1",
		APIURL: fake.APIURL, WebURL: fake.WebURL, Observer: rec}
	if gen == videoauth.SimklV2 {
		app.ClientID = fake.V2ClientID
	}
	s, err := videoauth.NewSimkl(app, gen)
	require.NoError(t, err)
	return fake, s
}

func obsGet(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestObserveMintStartEnd: a mint reports a start and an end on the
// Source's Clock, with the duration between them and the outcome; a cached
// token reports nothing.
func TestObserveMintStartEnd(t *testing.T) {
	clock := videoauthtest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	t0 := clock.Now()
	rec := &obsRecorder{}
	src := videoauth.NewSource(nil, func(ctx context.Context, _ *videoauth.Token) (*videoauth.Token, error) {
		clock.Advance(3 * time.Second) // the token endpoint takes 3 s
		return &videoauth.Token{AccessToken: "at_secret_0001"}, nil
	})
	src.Clock, src.Observer = clock, rec

	_, err := src.Token(context.Background())
	require.NoError(t, err)
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, []videoauth.Event{
		{Kind: videoauth.EventMintStart, Op: "mint", At: t0},
		{Kind: videoauth.EventMintEnd, Op: "mint", At: t0.Add(3 * time.Second), Duration: 3 * time.Second, Outcome: "ok"},
	}, rec.all(), "one mint, one start and one end; the cached token reports nothing")
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestObserveMintOutcome: the end of a failed mint classes its error from
// the package's sentinels, and carries a service error's status and
// Retry-After.
func TestObserveMintOutcome(t *testing.T) {
	netErr := &url.Error{Op: "Post", URL: "https://api.vimeo.com/oauth", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	cases := []struct {
		name       string
		tok        *videoauth.Token
		err        error
		outcome    string
		status     int
		retryAfter time.Duration
	}{
		{name: "ok", tok: &videoauth.Token{AccessToken: "at"}, outcome: "ok"},
		{name: "no token", outcome: "bad_response"},
		{name: "invalid_grant", err: &videoauth.Error{Provider: "simkl", Op: "refresh", Status: 400, Code: "invalid_grant", Err: videoauth.ErrReauthRequired},
			outcome: "reauth_required", status: 400},
		{name: "invalid_client", err: &videoauth.Error{Status: 401, Code: "invalid_client", Err: videoauth.ErrInvalidClient}, outcome: "invalid_client", status: 401},
		{name: "invalid credentials", err: fmt.Errorf("viki: %w", videoauth.ErrInvalidCredentials), outcome: "invalid_credentials"},
		{name: "rate limited", err: &videoauth.Error{Status: 429, RetryAfter: 30 * time.Second, Err: videoauth.ErrRateLimited},
			outcome: "rate_limited", status: 429, retryAfter: 30 * time.Second},
		{name: "server", err: &videoauth.Error{Status: 503, Err: videoauth.ErrServer}, outcome: "server", status: 503},
		{name: "html page", err: &videoauth.Error{Status: 502, Err: videoauth.ErrBadResponse}, outcome: "bad_response", status: 502},
		{name: "network", err: &videoauth.Error{Op: "client_credentials", Err: netErr}, outcome: "network"},
		{name: "network, scrubbed", err: &videoauth.Error{Op: "client_credentials", Err: errors.New("dial failed: access_token=x")}, outcome: "network"},
		{name: "net timeout", err: &url.Error{Op: "Post", URL: "https://x", Err: timeoutErr{}}, outcome: "timeout"},
		{name: "deadline", err: &url.Error{Op: "Post", URL: "https://x", Err: context.DeadlineExceeded}, outcome: "timeout"},
		{name: "canceled", err: fmt.Errorf("creds: %w", context.Canceled), outcome: "canceled"},
		{name: "config", err: fmt.Errorf("%w: no client id", videoauth.ErrInvalidConfig), outcome: "config"},
		{name: "anything else", err: errors.New("client_secret=hunter2 rejected"), outcome: "other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &obsRecorder{}
			src := videoauth.NewSource(nil, func(context.Context, *videoauth.Token) (*videoauth.Token, error) { return tc.tok, tc.err })
			src.Observer = rec
			src.Token(context.Background())
			ends := rec.of(videoauth.EventMintEnd)
			require.Len(t, ends, 1)
			require.Equal(t, tc.outcome, ends[0].Outcome)
			require.Equal(t, tc.status, ends[0].Status)
			require.Equal(t, tc.retryAfter, ends[0].RetryAfter)
			require.Len(t, rec.of(videoauth.EventMintStart), 1)
		})
	}
}

// TestObserveRefreshAhead: a renewal ahead of expiry, which no caller
// waits on, is marked Background.
func TestObserveRefreshAhead(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now())
	rec := &obsRecorder{notify: make(chan videoauth.Event, 4)}
	src := videoauth.NewSource(&videoauth.Token{AccessToken: "at_old", Expiry: clock.Now().Add(time.Hour)},
		func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
			return &videoauth.Token{AccessToken: "at_new", Expiry: clock.Now().Add(time.Hour)}, nil
		})
	src.Clock, src.Observer = clock, rec
	clock.Advance(58 * time.Minute) // inside DefaultRefreshAhead of the end of its usable life
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "at_old", tok.AccessToken, "still usable: renewed in the background")
	start, end := obsNext(t, rec.notify), obsNext(t, rec.notify)
	require.Equal(t, videoauth.EventMintStart, start.Kind)
	require.Equal(t, videoauth.EventMintEnd, end.Kind)
	require.True(t, start.Background && end.Background)
	require.Equal(t, "ok", end.Outcome)
}

// TestObserveVimeoRejectionAndReplay: against the fake Vimeo, the first
// request mints; a request whose token Vimeo deleted reports the
// rejection, the mint that replaces the token and the replay; a successful
// request reports nothing.
func TestObserveVimeoRejectionAndReplay(t *testing.T) {
	rec := &obsRecorder{}
	fake, v := obsVimeo(t, rec)
	c := videoauth.NewClient(v, v.ClientCredentials())

	obsGet(t, c, fake.URL+"/videos")
	require.Equal(t, []videoauth.EventKind{videoauth.EventMintStart, videoauth.EventMintEnd}, kinds(rec.all()))
	for _, e := range rec.all() {
		require.Equal(t, "vimeo", e.Provider)
		require.Equal(t, "client_credentials", e.Op)
	}
	rec.reset()

	fake.DeleteAllTokens()
	resp := obsGet(t, c, fake.URL+"/videos")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := rec.all()
	require.Equal(t, []videoauth.EventKind{videoauth.EventRejected, videoauth.EventMintStart, videoauth.EventMintEnd, videoauth.EventReplay}, kinds(got))
	require.Equal(t, videoauth.Event{Kind: videoauth.EventRejected, Provider: "vimeo", Op: "api", At: got[0].At, Status: 401, Verdict: videoauth.VerdictExpired}, got[0])
	require.Equal(t, "ok", got[2].Outcome)
	require.Equal(t, videoauth.Event{Kind: videoauth.EventReplay, Provider: "vimeo", Op: "api", At: got[3].At, Status: 200, Outcome: "ok"}, got[3])
	rec.reset()

	for range 3 {
		obsGet(t, c, fake.URL+"/videos")
	}
	require.Empty(t, rec.all(), "successful requests report nothing")
}

// barrierRT holds every request carrying stale until n of them arrived,
// then sends them all, and counts the 401s it passes back.
type barrierRT struct {
	base     http.RoundTripper
	stale    string
	n        int32
	arrived  atomic.Int32
	release  chan struct{}
	rejected atomic.Int32
}

func (b *barrierRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("Authorization"), " "+b.stale) {
		if b.arrived.Add(1) == b.n {
			close(b.release)
		}
		select {
		case <-b.release:
		case <-time.After(10 * time.Second): // a deadlock guard, not a wait: the counts then fail
		}
	}
	resp, err := b.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		b.rejected.Add(1)
	}
	return resp, err
}

// TestObserveStampede: 50 concurrent requests that all meet a rejected
// token report one rejection each, one mint (one start, one end) for all
// of them, and one replay each.
func TestObserveStampede(t *testing.T) {
	const n = 50
	rec := &obsRecorder{}
	fake, v := obsVimeo(t, rec)
	src := v.ClientCredentials()
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	stale := src.Current().AccessToken
	rec.reset()

	fake.DeleteToken(stale)
	base := &barrierRT{base: fake.Client().Transport, stale: stale, n: n, release: make(chan struct{})}
	c := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: src, Base: base}}
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Go(func() {
			resp, err := c.Get(fake.URL + "/videos/1")
			if err != nil {
				codes <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusOK, code)
	}

	require.EqualValues(t, n, base.rejected.Load(), "every request met the rejected token")
	rejected := rec.of(videoauth.EventRejected)
	require.Len(t, rejected, int(base.rejected.Load()), "one rejection event per rejected response")
	for _, e := range rejected {
		require.Equal(t, videoauth.VerdictExpired, e.Verdict)
		require.False(t, e.Replayed)
	}
	require.Len(t, rec.of(videoauth.EventMintStart), 1, "one mint for the stampede")
	require.Len(t, rec.of(videoauth.EventMintEnd), 1)
	require.Equal(t, 2, fake.Mints(), "the first token and its one replacement")
	replays := rec.of(videoauth.EventReplay)
	require.Len(t, replays, n, "each rejected request replayed once")
	for _, e := range replays {
		require.Equal(t, "ok", e.Outcome)
	}
	require.Len(t, rec.all(), 2*n+2, "nothing else")
}

// TestObserveRejectedReplay: a replay the service rejects too reports a
// second rejection, marked Replayed, and a replay whose outcome says so.
func TestObserveRejectedReplay(t *testing.T) {
	rec := &obsRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/authorize/client" {
			w.Header().Set("Content-Type", "application/vnd.vimeo.auth+json")
			io.WriteString(w, `{"access_token":"at_`+fmt.Sprint(time.Now().UnixNano())+`","token_type":"bearer","scope":"public"}`)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret", APIURL: srv.URL, Observer: rec})
	require.NoError(t, err)
	src := v.ClientCredentials()
	_, err = src.Token(context.Background())
	require.NoError(t, err)
	rec.reset()

	resp := obsGet(t, videoauth.NewClient(v, src), srv.URL+"/videos")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	got := rec.all()
	require.Equal(t, []videoauth.EventKind{videoauth.EventRejected, videoauth.EventMintStart, videoauth.EventMintEnd,
		videoauth.EventReplay, videoauth.EventRejected}, kinds(got))
	require.False(t, got[0].Replayed)
	require.Equal(t, "token_expired", got[3].Outcome)
	require.Equal(t, 401, got[3].Status)
	require.True(t, got[4].Replayed)
	require.Equal(t, videoauth.VerdictExpired, got[4].Verdict)
}

// TestObserveRevoked: the grant's end is reported once, with where it was
// learnt: the API's answer, a renewal's invalid_grant, or Source.Revoke.
func TestObserveRevoked(t *testing.T) {
	t.Run("API: Simkl V1 user_token_failed", func(t *testing.T) {
		rec := &obsRecorder{}
		fake, s := obsSimkl(t, videoauth.SimklV1, rec)
		access, _ := fake.IssueToken(false)
		c := videoauth.NewClient(s, s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, TokenType: "bearer",
			Meta: map[string]string{"simkl_auth": "v1"}}))
		fake.RevokeToken(access)
		resp := obsGet(t, c, fake.APIURL+"/sync/activities")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		_, err := c.Get(fake.APIURL + "/sync/activities")
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
		got := rec.all()
		require.Equal(t, []videoauth.EventKind{videoauth.EventRejected, videoauth.EventRevoked}, kinds(got), "reported once; the next call sends nothing")
		require.Equal(t, videoauth.VerdictRevoked, got[0].Verdict)
		require.Equal(t, videoauth.Event{Kind: videoauth.EventRevoked, Provider: "simkl", Op: "api", At: got[1].At}, got[1])
	})
	t.Run("API: a Vimeo user token without a mint", func(t *testing.T) {
		rec := &obsRecorder{}
		fake, v := obsVimeo(t, rec)
		access := fake.IssueUserToken("public")
		c := videoauth.NewClient(v, v.Source(&videoauth.Token{Provider: "vimeo", AccessToken: access, TokenType: "bearer"}))
		fake.DeleteToken(access)
		obsGet(t, c, fake.URL+"/me")
		require.Equal(t, []videoauth.EventKind{videoauth.EventRejected, videoauth.EventRevoked}, kinds(rec.all()))
		require.Equal(t, videoauth.VerdictExpired, rec.all()[0].Verdict)
	})
	t.Run("renewal: Simkl V2 invalid_grant", func(t *testing.T) {
		rec := &obsRecorder{}
		fake, s := obsSimkl(t, videoauth.SimklV2, rec)
		access, refresh := fake.IssueToken(true)
		c := videoauth.NewClient(s, s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
			Expiry: time.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}))
		fake.RevokeToken(refresh)
		obsGet(t, c, fake.APIURL+"/sync/activities")
		got := rec.all()
		require.Equal(t, []videoauth.EventKind{videoauth.EventRejected, videoauth.EventMintStart, videoauth.EventMintEnd, videoauth.EventRevoked}, kinds(got))
		require.Equal(t, "refresh", got[1].Op)
		require.Equal(t, "reauth_required", got[2].Outcome)
		require.Equal(t, http.StatusBadRequest, got[2].Status)
		require.Equal(t, "refresh", got[3].Op)
	})
	t.Run("Source.Revoke", func(t *testing.T) {
		rec := &obsRecorder{}
		_, v := obsVimeo(t, rec)
		src := v.ClientCredentials()
		_, err := src.Token(context.Background())
		require.NoError(t, err)
		rec.reset()
		require.NoError(t, src.Revoke(context.Background()))
		got := rec.all()
		require.Equal(t, []videoauth.EventKind{videoauth.EventRevoked}, kinds(got))
		require.Equal(t, "revoke", got[0].Op)
		require.Equal(t, "vimeo", got[0].Provider)
	})
}

// TestObserveRateLimits: a 429, or a 503 with Retry-After, from a token
// endpoint or from the API is reported with the wait it asked for; a 503
// without Retry-After, or Simkl's 412 throttling, is not a rate limit.
func TestObserveRateLimits(t *testing.T) {
	tokenEndpoint := func(t *testing.T, status int, retryAfter string) []videoauth.Event {
		t.Helper()
		rec := &obsRecorder{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, `{"error":"too many requests"}`)
		}))
		t.Cleanup(srv.Close)
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret", APIURL: srv.URL, Observer: rec})
		require.NoError(t, err)
		_, err = v.ClientCredentials().Token(context.Background())
		require.Error(t, err)
		return rec.all()
	}
	t.Run("token endpoint 429", func(t *testing.T) {
		got := tokenEndpoint(t, http.StatusTooManyRequests, "30")
		require.Equal(t, []videoauth.EventKind{videoauth.EventMintStart, videoauth.EventRateLimited, videoauth.EventMintEnd}, kinds(got))
		require.Equal(t, videoauth.Event{Kind: videoauth.EventRateLimited, Provider: "vimeo", Op: "client_credentials", At: got[1].At,
			Status: 429, Outcome: "rate_limited", RetryAfter: 30 * time.Second}, got[1])
		require.Equal(t, "rate_limited", got[2].Outcome)
		require.Equal(t, 30*time.Second, got[2].RetryAfter)
	})
	t.Run("token endpoint 503 with Retry-After", func(t *testing.T) {
		got := tokenEndpoint(t, http.StatusServiceUnavailable, "5")
		require.Equal(t, []videoauth.EventKind{videoauth.EventMintStart, videoauth.EventRateLimited, videoauth.EventMintEnd}, kinds(got))
		require.Equal(t, 5*time.Second, got[1].RetryAfter)
		require.Equal(t, "server", got[2].Outcome)
	})
	t.Run("token endpoint 503 without Retry-After", func(t *testing.T) {
		got := tokenEndpoint(t, http.StatusServiceUnavailable, "")
		require.Equal(t, []videoauth.EventKind{videoauth.EventMintStart, videoauth.EventMintEnd}, kinds(got))
		require.Equal(t, "server", got[1].Outcome)
	})
	t.Run("API 429", func(t *testing.T) {
		rec := &obsRecorder{}
		fake, s := obsSimkl(t, videoauth.SimklV2, rec)
		access, refresh := fake.IssueToken(true)
		c := videoauth.NewClient(s, s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
			Expiry: time.Now().Add(7 * 24 * time.Hour), Meta: map[string]string{"simkl_auth": "v2"}}))
		fake.RateLimitNext(1, videoauthtest.RateLimit429)
		resp := obsGet(t, c, fake.APIURL+"/sync/activities")
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		got := rec.all()
		require.Equal(t, []videoauth.Event{{Kind: videoauth.EventRateLimited, Provider: "simkl", Op: "api", At: got[0].At,
			Status: 429, Outcome: "rate_limited", RetryAfter: 7 * time.Second}}, got)
		rec.reset()
		fake.RateLimitNext(1, videoauthtest.RateLimit412)
		resp = obsGet(t, c, fake.APIURL+"/sync/activities")
		require.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
		require.Empty(t, rec.all(), "412 throttling is no 429")
	})
}

// faultyStore is a MemoryStore whose operations fail as set.
type faultyStore struct {
	videoauth.MemoryStore
	load, lock, cas, unlock, save, del error
}

func (f *faultyStore) Load(ctx context.Context, key string) (*videoauth.Token, error) {
	if f.load != nil {
		return nil, f.load
	}
	return f.MemoryStore.Load(ctx, key)
}

func (f *faultyStore) Lock(ctx context.Context, key string) (func() error, error) {
	if f.lock != nil {
		return nil, f.lock
	}
	unlock, err := f.MemoryStore.Lock(ctx, key)
	if err != nil || f.unlock == nil {
		return unlock, err
	}
	return func() error { unlock(); return f.unlock }, nil
}

func (f *faultyStore) CompareAndSwap(ctx context.Context, key string, old, tok *videoauth.Token) error {
	if f.cas != nil {
		return f.cas
	}
	return f.MemoryStore.CompareAndSwap(ctx, key, old, tok)
}

func (f *faultyStore) Save(ctx context.Context, key string, tok *videoauth.Token) error {
	if f.save != nil {
		return f.save
	}
	return f.MemoryStore.Save(ctx, key, tok)
}

func (f *faultyStore) Delete(ctx context.Context, key string) error {
	if f.del != nil {
		return f.del
	}
	return f.MemoryStore.Delete(ctx, key)
}

// TestObserveStore: a store that cannot be read or locked, a save that
// fails and a lost lock are each reported once, with the store's
// operation; a lost lock as EventLockLost.
func TestObserveStore(t *testing.T) {
	lost := fmt.Errorf("lease ran out: %w", videoauth.ErrLockLost)
	down := errors.New("redis: connection pool exhausted")
	type want struct {
		kind    videoauth.EventKind
		op      string
		outcome string
	}
	cases := []struct {
		name  string
		store *faultyStore
		want  []want
	}{
		{name: "load fails", store: &faultyStore{load: down}, want: []want{{videoauth.EventStoreError, "load", "store"}}},
		{name: "lock fails", store: &faultyStore{lock: down}, want: []want{{videoauth.EventStoreError, "lock", "store"}}},
		{name: "lock lost at unlock", store: &faultyStore{unlock: lost}, want: []want{
			{videoauth.EventMintStart, "mint", ""}, {videoauth.EventMintEnd, "mint", "ok"}, {videoauth.EventLockLost, "unlock", "lock_lost"}}},
		{name: "lock lost at save", store: &faultyStore{cas: lost}, want: []want{
			{videoauth.EventMintStart, "mint", ""}, {videoauth.EventMintEnd, "mint", "ok"}, {videoauth.EventLockLost, "save", "lock_lost"}}},
		{name: "save fails", store: &faultyStore{cas: down}, want: []want{
			{videoauth.EventMintStart, "mint", ""}, {videoauth.EventMintEnd, "mint", "ok"}, {videoauth.EventStoreError, "save", "store"}}},
		{name: "save times out", store: &faultyStore{cas: context.DeadlineExceeded}, want: []want{
			{videoauth.EventMintStart, "mint", ""}, {videoauth.EventMintEnd, "mint", "ok"}, {videoauth.EventStoreError, "save", "timeout"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &obsRecorder{}
			src := videoauth.NewSource(nil, func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
				return &videoauth.Token{AccessToken: "at_new"}, nil
			})
			src.Store, src.Key, src.Observer = tc.store, "k", rec
			src.Token(context.Background())
			var got []want
			for _, e := range rec.all() {
				got = append(got, want{e.Kind, e.Op, e.Outcome})
			}
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("SaveToken and Revoke", func(t *testing.T) {
		rec := &obsRecorder{}
		_, v := obsVimeo(t, rec)
		src := v.ClientCredentials()
		store := &faultyStore{save: down, del: down}
		src.Store, src.Key = store, "vimeo/app"
		require.Error(t, src.SaveToken(context.Background(), &videoauth.Token{Provider: "vimeo", AccessToken: "at_saved"}))
		require.Error(t, src.Revoke(context.Background()))
		got := rec.all()
		require.Equal(t, []videoauth.EventKind{videoauth.EventStoreError, videoauth.EventStoreError, videoauth.EventRevoked}, kinds(got))
		require.Equal(t, []string{"save", "delete", "revoke"}, []string{got[0].Op, got[1].Op, got[2].Op})
	})
}

// TestObserverPanicRecovered: an Observer that panics on every event
// breaks nothing: the mint, the rejection, the replay and the answer are
// as without it.
func TestObserverPanicRecovered(t *testing.T) {
	var calls atomic.Int32
	panicky := videoauth.ObserverFunc(func(context.Context, videoauth.Event) {
		calls.Add(1)
		panic("observer bug")
	})
	fake, v := obsVimeo(t, panicky)
	c := videoauth.NewClient(v, v.ClientCredentials())
	require.Equal(t, http.StatusOK, obsGet(t, c, fake.URL+"/videos").StatusCode)
	fake.DeleteAllTokens()
	require.Equal(t, http.StatusOK, obsGet(t, c, fake.URL+"/videos").StatusCode)
	require.Equal(t, 2, fake.Mints())
	require.EqualValues(t, 6, calls.Load(), "mint start and end, rejection, mint start and end, replay: each called")
}

// okRT answers every request 200 without a body.
type okRT struct{}

func (okRT) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// TestObserverAddsNoAlloc: a successful request allocates as much with an
// Observer as without one, and reports nothing.
func TestObserverAddsNoAlloc(t *testing.T) {
	tok := &videoauth.Token{Provider: "vimeo", AccessToken: "at_0123456789abcdef", TokenType: "bearer"}
	req, err := http.NewRequest(http.MethodGet, videoauth.VimeoURL+"/videos", nil)
	require.NoError(t, err)
	allocs := func(o videoauth.Observer) float64 {
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret", Observer: o})
		require.NoError(t, err)
		tr := &videoauth.Transport{Provider: v, Source: v.Source(tok), Base: okRT{}}
		return testing.AllocsPerRun(200, func() {
			resp, err := tr.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatal(err)
			}
		})
	}
	rec := &obsRecorder{}
	without, with := allocs(nil), allocs(rec)
	t.Logf("allocs/op: %v without an Observer, %v with", without, with)
	require.Equal(t, without, with)
	require.Empty(t, rec.all())
}

// TestObserverFromApp: every Source a provider builds reports to the App's
// Observer, and names its grant in its mint events.
func TestObserverFromApp(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(down.Close)
	rec := &obsRecorder{}
	app := videoauth.App{ClientID: "id", ClientSecret: "secret", AppName: "app", AppVersion: "1", APIURL: down.URL, WebURL: down.URL, Observer: rec}
	vimeo, err := videoauth.NewVimeo(app)
	require.NoError(t, err)
	simkl, err := videoauth.NewSimkl(app, videoauth.SimklV2)
	require.NoError(t, err)
	viki, err := videoauth.NewViki(app)
	require.NoError(t, err)
	vikiAPI, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
	require.NoError(t, err)
	creds := func(context.Context) (videoauth.VikiCredentials, error) {
		return videoauth.VikiCredentials{Username: "fan", Password: "pw"}, nil
	}
	expired := func(p string) *videoauth.Token {
		return &videoauth.Token{Provider: p, AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(-time.Hour)}
	}
	cases := []struct {
		name string
		src  *videoauth.Source
		op   string // "" for a Source that cannot mint
	}{
		{"vimeo ClientCredentials", vimeo.ClientCredentials(), "client_credentials"},
		{"vimeo Source", vimeo.Source(expired("vimeo")), ""},
		{"simkl Source", simkl.Source(expired("simkl")), "refresh"},
		{"viki ClientCredentials", viki.ClientCredentials(), "client_credentials"},
		{"viki PasswordSource", viki.PasswordSource(creds), "password"},
		{"viki Source", viki.Source(expired("viki")), ""},
		{"vikiAPI SessionSource", vikiAPI.SessionSource(creds), "login"},
		{"vikiAPI Source", vikiAPI.Source(expired("viki")), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, videoauth.Observer(rec), tc.src.Observer)
			rec.reset()
			_, err := tc.src.Token(context.Background())
			require.Error(t, err)
			starts := rec.of(videoauth.EventMintStart)
			if tc.op == "" {
				require.Empty(t, starts)
				return
			}
			require.Len(t, starts, 1)
			require.Equal(t, tc.op, starts[0].Op)
		})
	}
}

// TestEventHoldsNothingSecret: an Event's fields are names, numbers, times
// and flags only: no error, token or byte slice can ever be put in one.
func TestEventHoldsNothingSecret(t *testing.T) {
	allowed := map[reflect.Type]bool{
		reflect.TypeFor[string](): true, reflect.TypeFor[int](): true, reflect.TypeFor[bool](): true,
		reflect.TypeFor[time.Time](): true, reflect.TypeFor[time.Duration](): true,
		reflect.TypeFor[videoauth.EventKind](): true, reflect.TypeFor[videoauth.Verdict](): true,
	}
	et := reflect.TypeFor[videoauth.Event]()
	for i := range et.NumField() {
		f := et.Field(i)
		require.True(t, allowed[f.Type], "Event.%s is a %v", f.Name, f.Type)
	}
}

// TestEventsPrintNoSecret: every event of flows that handle client
// secrets, access tokens and refresh tokens, printed with %v, %+v, %#v and
// %s and logged with slog's JSON and text handlers, holds none of them,
// and its Outcome is one of the documented classes.
func TestEventsPrintNoSecret(t *testing.T) {
	rec := &obsRecorder{}
	var secrets []string

	// Vimeo: client secret, app tokens, a rejection, a replay, a revocation.
	fake, v := obsVimeo(t, rec)
	secrets = append(secrets, fake.ClientSecret)
	src := v.ClientCredentials()
	c := videoauth.NewClient(v, src)
	obsGet(t, c, fake.URL+"/videos")
	secrets = append(secrets, src.Current().AccessToken)
	fake.DeleteAllTokens()
	obsGet(t, c, fake.URL+"/videos")
	secrets = append(secrets, src.Current().AccessToken)
	require.NoError(t, src.Revoke(context.Background()))

	// Simkl V2: refresh tokens, a rate limit, a dead grant.
	sfake, s := obsSimkl(t, videoauth.SimklV2, rec)
	secrets = append(secrets, sfake.V2ClientSecret)
	access, refresh := sfake.IssueToken(true)
	secrets = append(secrets, access, refresh)
	ssrc := s.Source(&videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
		Expiry: time.Now().Add(-time.Minute), Meta: map[string]string{"simkl_auth": "v2"}})
	sc := videoauth.NewClient(s, ssrc)
	obsGet(t, sc, sfake.APIURL+"/sync/activities") // refreshes first
	secrets = append(secrets, ssrc.Current().AccessToken, ssrc.Current().RefreshToken)
	sfake.RateLimitNext(1, videoauthtest.RateLimit429)
	obsGet(t, sc, sfake.APIURL+"/sync/activities")
	sfake.RevokeToken(ssrc.Current().RefreshToken)
	obsGet(t, sc, sfake.APIURL+"/sync/activities")

	// A mint whose error text holds a secret.
	nsrc := videoauth.NewSource(nil, func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
		return nil, errors.New("token endpoint said: client_secret=s3cr3t-in-error refresh_token=rt-in-error")
	})
	nsrc.Observer = rec
	nsrc.Token(context.Background())
	secrets = append(secrets, "s3cr3t-in-error", "rt-in-error")

	events := rec.all()
	require.Subset(t, kinds(events), []videoauth.EventKind{videoauth.EventMintStart, videoauth.EventMintEnd, videoauth.EventRejected,
		videoauth.EventReplay, videoauth.EventRevoked, videoauth.EventRateLimited})
	outcomes := []string{"", "ok", "reauth_required", "invalid_client", "invalid_credentials", "invalid_scope", "rate_limited", "server",
		"bad_response", "token_expired", "forbidden", "unsupported_grant", "config", "network", "timeout", "canceled", "lock_lost", "store", "other"}
	var out bytes.Buffer
	jsonLog := slog.New(slog.NewJSONHandler(&out, nil))
	textLog := slog.New(slog.NewTextHandler(&out, nil))
	for _, e := range events {
		require.Contains(t, outcomes, e.Outcome)
		fmt.Fprintf(&out, "%v\n%+v\n%#v\n", e, e, e)
		jsonLog.Info("event", "e", e)
		textLog.Info("event", "e", e)
		jsonLog.Info("events", "list", []videoauth.Event{e}) // encoding/json, not LogValue
	}
	printed := out.String()
	for _, secret := range secrets {
		require.NotEmpty(t, secret)
		require.NotContains(t, printed, secret)
	}
	require.Contains(t, printed, `"kind":"mint_end"`, "slog gets the kind by name")
	require.Contains(t, printed, `"outcome":"reauth_required"`)
}

// TestEventKindString names every kind and marks an unknown one.
func TestEventKindString(t *testing.T) {
	require.Equal(t, "mint_start", videoauth.EventMintStart.String())
	require.Equal(t, "store_error", videoauth.EventStoreError.String())
	require.Equal(t, "EventKind(0)", videoauth.EventKind(0).String())
	require.Equal(t, "EventKind(99)", videoauth.EventKind(99).String())
}
