package videoauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/videoauthtest"
)

// newManualClock returns a clock tests move by hand with Advance; a wait
// (After) moves it by its duration and fires at once.
func newManualClock() *videoauthtest.Clock {
	c := videoauthtest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	c.SetAutoAdvance(true)
	return c
}

// counterMint returns a MintFunc that issues tok-1, tok-2, ... and counts.
type counterMint struct {
	n       atomic.Int64
	life    time.Duration
	clock   Clock
	gate    chan struct{} // when set, each mint waits for it to close
	err     error
	started chan struct{} // when set, receives once per mint start
}

func (m *counterMint) mint(ctx context.Context, _ *Token) (*Token, error) {
	n := m.n.Add(1)
	if m.started != nil {
		m.started <- struct{}{}
	}
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if m.err != nil {
		return nil, m.err
	}
	t := &Token{AccessToken: fmt.Sprintf("tok-%d", n), TokenType: "Bearer"}
	if m.life > 0 {
		t.Expiry = m.clock.Now().Add(m.life)
	}
	return t, nil
}

func TestSourceMintsLazilyOnceAndCaches(t *testing.T) {
	m := &counterMint{}
	s := &Source{Mint: m.mint}
	for range 10 {
		tok, err := s.Token(context.Background())
		require.NoError(t, err)
		require.Equal(t, "tok-1", tok.AccessToken)
	}
	require.EqualValues(t, 1, m.n.Load())
}

func TestSourceSingleFlightUnderConcurrency(t *testing.T) {
	m := &counterMint{gate: make(chan struct{})}
	s := &Source{Mint: m.mint}
	const n = 200
	var wg sync.WaitGroup
	var waiting atomic.Int64
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			waiting.Add(1)
			tok, err := s.Token(context.Background())
			if err == nil && tok.AccessToken != "tok-1" {
				err = fmt.Errorf("got %s", tok.AccessToken)
			}
			errs <- err
		}()
	}
	for waiting.Load() < n {
		time.Sleep(time.Millisecond)
	}
	close(m.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, m.n.Load())
}

func TestSourceInvalidateOnlyDropsTheStaleToken(t *testing.T) {
	m := &counterMint{}
	s := &Source{Mint: m.mint}
	ctx := context.Background()
	t1, _ := s.Token(ctx)
	s.Invalidate(t1)
	t2, err := s.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "tok-2", t2.AccessToken)
	// Late rejections carrying t1 must not throw t2 away.
	for range 5 {
		s.Invalidate(t1)
	}
	t3, _ := s.Token(ctx)
	require.Same(t, t2, t3)
	require.EqualValues(t, 2, m.n.Load())
}

func TestSourceFailedMintSharedAndRateLimited(t *testing.T) {
	clk := newManualClock()
	boom := errors.New("endpoint down")
	m := &counterMint{gate: make(chan struct{}), err: boom}
	s := &Source{Mint: m.mint, Clock: clk, RetryInterval: 5 * time.Second}
	const n = 50
	var wg sync.WaitGroup
	var waiting atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			waiting.Add(1)
			_, err := s.Token(context.Background())
			require.ErrorIs(t, err, boom)
		}()
	}
	for waiting.Load() < n {
		time.Sleep(time.Millisecond)
	}
	close(m.gate)
	wg.Wait()
	require.EqualValues(t, 1, m.n.Load(), "one mint for all waiters")

	// Within the retry wait (the first after a success is jittered between
	// half and all of RetryInterval): the remembered error, no new mint.
	clk.Advance(2500*time.Millisecond - time.Nanosecond)
	_, err := s.Token(context.Background())
	require.ErrorIs(t, err, boom)
	require.EqualValues(t, 1, m.n.Load())

	// After it, the endpoint is back: service resumes by itself.
	clk.Advance(2500 * time.Millisecond)
	m.err = nil
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok-2", tok.AccessToken)
}

// A token endpoint that says how long to wait (429/503 with Retry-After) is
// not asked again sooner; a shorter RetryAfter does not shorten the retry
// wait (at least half of RetryInterval after a success, jittered; see
// TestSourceRetryWaitJitter).
func TestSourceHonoursRetryAfterOfAFailedMint(t *testing.T) {
	for _, tc := range []struct {
		after, quiet, wait time.Duration
	}{
		{after: time.Minute, quiet: time.Minute, wait: time.Minute},
		{after: time.Second, quiet: 2500 * time.Millisecond, wait: 5 * time.Second},
		{after: 0, quiet: 2500 * time.Millisecond, wait: 5 * time.Second},
	} {
		clk := newManualClock()
		m := &counterMint{err: &Error{Provider: "p", Op: "token", Status: 429, RetryAfter: tc.after, Err: ErrRateLimited}}
		s := &Source{Mint: m.mint, Clock: clk, RetryInterval: 5 * time.Second}
		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, ErrRateLimited)
		clk.Advance(tc.quiet - time.Millisecond)
		_, err = s.Token(context.Background())
		require.ErrorIs(t, err, ErrRateLimited)
		require.EqualValues(t, 1, m.n.Load(), "RetryAfter %v: no second attempt before %v", tc.after, tc.quiet)
		clk.Advance(tc.wait - tc.quiet + time.Millisecond)
		m.err = nil
		_, err = s.Token(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 2, m.n.Load())
	}
}

func TestSourceWaiterCancelOnlyAffectsThatWaiter(t *testing.T) {
	m := &counterMint{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s := &Source{Mint: m.mint}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := s.Token(ctx); first <- err }()
	<-m.started
	second := make(chan *Token, 1)
	go func() { tok, _ := s.Token(context.Background()); second <- tok }()
	cancel()
	require.ErrorIs(t, <-first, context.Canceled, "the cancelled caller returns promptly")
	close(m.gate)
	tok := <-second
	require.NotNil(t, tok)
	require.Equal(t, "tok-1", tok.AccessToken)
	require.EqualValues(t, 1, m.n.Load(), "the mint was not aborted by the first caller's cancel")
}

func TestSourceCancelledStarterDoesNotBreakLaterMints(t *testing.T) {
	m := &counterMint{}
	s := &Source{Mint: m.mint}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A caller whose ctx is already done gets its error...
	_, err := s.Token(ctx)
	require.ErrorIs(t, err, context.Canceled)
	// ...but the source keeps working for everyone else.
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
}

func TestSourceOnTokenRunsBeforeCallersSeeTheToken(t *testing.T) {
	m := &counterMint{}
	var saved atomic.Pointer[Token]
	s := &Source{Mint: m.mint}
	s.OnToken = func(tk *Token) {
		saved.Store(tk)
		require.Nil(t, s.Current(), "not yet published while persisting")
	}
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Same(t, saved.Load(), tok)
}

func TestSourceRevokedAnswersReauthWithoutNetworkUntilSetToken(t *testing.T) {
	m := &counterMint{}
	var revoked atomic.Int64
	s := &Source{Mint: m.mint, OnRevoked: func(*Token) { revoked.Add(1) }}
	tok, _ := s.Token(context.Background())
	s.revoke(tok)
	s.revoke(tok)
	for range 3 {
		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, ErrReauthRequired)
	}
	require.EqualValues(t, 1, m.n.Load())
	require.EqualValues(t, 1, revoked.Load(), "hook called once")
	s.SetToken(&Token{AccessToken: "fresh"})
	got, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "fresh", got.AccessToken)
}

func TestSourceMintReauthErrorRevokes(t *testing.T) {
	clk := newManualClock()
	m := &counterMint{life: time.Hour, clock: clk}
	s := &Source{Mint: m.mint, Clock: clk}
	_, err := s.Token(context.Background())
	require.NoError(t, err)
	clk.Advance(2 * time.Hour)
	m.err = fmt.Errorf("refresh: %w", ErrReauthRequired)
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
	clk.Advance(time.Hour) // long past any retry interval
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
	require.EqualValues(t, 2, m.n.Load(), "a dead grant is not retried")
}

func TestSourceWithoutMint(t *testing.T) {
	clk := newManualClock()
	s := NewSource(nil, nil)
	_, err := s.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)

	s = NewSource(&Token{AccessToken: "a", Expiry: clk.Now().Add(time.Minute)}, nil)
	s.Clock = clk
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "a", tok.AccessToken)
	clk.Advance(time.Minute)
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
}

func TestSourceExpiredTokenIsReplaced(t *testing.T) {
	clk := newManualClock()
	m := &counterMint{life: time.Hour, clock: clk}
	s := &Source{Mint: m.mint, Clock: clk}
	tok, _ := s.Token(context.Background())
	require.Equal(t, "tok-1", tok.AccessToken)
	clk.Advance(time.Hour - expiryDelta) // within the expiry delta: treated as expired
	tok, _ = s.Token(context.Background())
	require.Equal(t, "tok-2", tok.AccessToken)
}

func TestSourceRefreshAheadDoesNotMakeCallersWait(t *testing.T) {
	clk := newManualClock()
	m := &counterMint{life: time.Hour, clock: clk}
	s := &Source{Mint: m.mint, Clock: clk, RefreshAhead: 10 * time.Minute}
	tok, _ := s.Token(context.Background())
	require.Equal(t, "tok-1", tok.AccessToken)

	// Inside the window: the current token comes back at once while a
	// background mint runs, held by the gate.
	m.gate = make(chan struct{})
	m.started = make(chan struct{}, 1)
	clk.Advance(55 * time.Minute)
	for range 20 {
		tok, err := s.Token(context.Background())
		require.NoError(t, err)
		require.Equal(t, "tok-1", tok.AccessToken)
	}
	<-m.started
	close(m.gate)
	require.Eventually(t, func() bool { return s.Current().AccessToken == "tok-2" }, 5*time.Second, time.Millisecond)
	require.EqualValues(t, 2, m.n.Load(), "one background mint for twenty calls")
}

func TestSourceRefreshAheadWindowIsAtMostHalfTheLifetime(t *testing.T) {
	clk := newManualClock()
	m := &counterMint{life: time.Minute, clock: clk}
	s := &Source{Mint: m.mint, Clock: clk, RefreshAhead: time.Hour}
	tok, _ := s.Token(context.Background())
	require.Equal(t, "tok-1", tok.AccessToken)
	clk.Advance(20 * time.Second)
	_, _ = s.Token(context.Background())
	require.EqualValues(t, 1, m.n.Load(), "a one-minute token is not renewed after 20 s")
	clk.Advance(15 * time.Second)
	_, _ = s.Token(context.Background())
	require.Eventually(t, func() bool { return m.n.Load() == 2 }, 5*time.Second, time.Millisecond)
}

func TestSourceRejectsEmptyMintResult(t *testing.T) {
	s := &Source{Mint: func(context.Context, *Token) (*Token, error) { return &Token{}, nil }}
	_, err := s.Token(context.Background())
	require.ErrorIs(t, err, ErrBadResponse)
}

func TestSourceOAuth2Adapter(t *testing.T) {
	m := &counterMint{}
	s := &Source{Mint: m.mint}
	ot, err := s.TokenSource().Token()
	require.NoError(t, err)
	require.Equal(t, "tok-1", ot.AccessToken)
}

// renewalMint renews whatever it is given into "renewed-N"; each mint waits
// for release, and reports its start. err, when set, is what it fails with.
type renewalMint struct {
	n       atomic.Int64
	started chan struct{}
	release chan error
	life    time.Duration
	clock   Clock
}

func newRenewalMint(clock Clock, life time.Duration) *renewalMint {
	return &renewalMint{started: make(chan struct{}, 16), release: make(chan error), life: life, clock: clock}
}

func (m *renewalMint) mint(ctx context.Context, _ *Token) (*Token, error) {
	n := m.n.Add(1)
	m.started <- struct{}{}
	select {
	case err := <-m.release:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t := &Token{AccessToken: fmt.Sprintf("renewed-%d", n), TokenType: "Bearer", RefreshToken: "rt"}
	if m.life > 0 {
		t.Expiry = m.clock.Now().Add(m.life)
	}
	return t, nil
}

// A renewal of the old grant that is running when SetToken hands the
// Source a new sign-in must not replace the new token, whether it succeeds
// (the Source would switch back to the old account) or fails with
// invalid_grant (the Source would call the new token revoked).
func TestSetTokenDuringARenewalWins(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"renewal succeeds", nil},
		{"renewal fails with invalid_grant", errorf("refresh: %w", ErrReauthRequired)},
		{"renewal fails otherwise", errorf("refresh: %w", ErrServer)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newManualClock()
			m := newRenewalMint(clk, time.Hour)
			old := &Token{AccessToken: "old", RefreshToken: "old-rt", Expiry: clk.Now().Add(time.Hour)}
			s := &Source{Mint: m.mint, Clock: clk}
			var notified []string
			s.OnToken = func(t *Token) { notified = append(notified, t.AccessToken) }
			s.SetToken(old)
			clk.Advance(time.Hour) // old is expired: the next call renews it
			waiter := make(chan *Token, 1)
			go func() {
				tok, err := s.Token(context.Background())
				if err != nil {
					tok = &Token{AccessToken: "error: " + err.Error()}
				}
				waiter <- tok
			}()
			<-m.started
			fresh := &Token{AccessToken: "new-sign-in", RefreshToken: "new-rt", Expiry: clk.Now().Add(time.Hour)}
			s.SetToken(fresh)
			m.release <- tc.err

			require.Equal(t, "new-sign-in", (<-waiter).AccessToken, "the renewal's waiter gets the new sign-in")
			tok, err := s.Token(context.Background())
			require.NoError(t, err)
			require.Same(t, fresh, tok, "the new sign-in stays")
			require.Same(t, fresh, s.Current())
			require.Empty(t, notified, "a superseded renewal is not reported to OnToken")
			require.EqualValues(t, 1, m.n.Load(), "no second mint")
		})
	}
}

// Revoke while a renewal runs: the renewal's token does not bring the
// grant back.
func TestRevokeDuringARenewalWins(t *testing.T) {
	clk := newManualClock()
	m := newRenewalMint(clk, time.Hour)
	s := &Source{Mint: m.mint, Clock: clk}
	s.revoker = func(context.Context, *Token) error { return nil }
	s.SetToken(&Token{AccessToken: "old", Expiry: clk.Now().Add(time.Hour)})
	clk.Advance(time.Hour)
	done := make(chan error, 1)
	go func() { _, err := s.Token(context.Background()); done <- err }()
	<-m.started
	require.NoError(t, s.Revoke(context.Background()))
	m.release <- nil
	require.ErrorIs(t, <-done, ErrReauthRequired)
	_, err := s.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
	require.EqualValues(t, 1, m.n.Load())
}

// A token whose lifetime is shorter than the 10 s margin is still used, and
// renewed like any other: 100 calls at one instant make one mint, and as
// time goes by there is about one mint per usable life, never one per call.
func TestShortLifetimesAreUsable(t *testing.T) {
	for _, life := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 11 * time.Second} {
		t.Run(life.String(), func(t *testing.T) {
			clk := newManualClock()
			m := &counterMint{life: life, clock: clk}
			s := &Source{Mint: m.mint, Clock: clk}
			for range 100 {
				tok, err := s.Token(context.Background())
				require.NoError(t, err)
				require.Equal(t, "tok-1", tok.AccessToken)
			}
			require.EqualValues(t, 1, m.n.Load(), "one mint for 100 calls")
			// 100 calls over ten lifetimes: the renewal is ahead, in the
			// background; wait for each to land before moving on.
			step := life / 10
			for range 100 {
				clk.Advance(step)
				before := m.n.Load()
				_, err := s.Token(context.Background())
				require.NoError(t, err)
				if m.n.Load() != before {
					waitFlight(t, s)
				}
			}
			require.LessOrEqual(t, m.n.Load(), int64(1+10*2), "about one or two mints per lifetime, not one per call")
		})
	}
}

// waitFlight waits until s has no mint in flight.
func waitFlight(t *testing.T, s *Source) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.flight == nil
	}, 5*time.Second, time.Millisecond)
}

// No caller waits on a renewal, for any lifetime from 5 s up, as long as the
// token endpoint answers within half the usable life: at every moment of
// several lifetimes, Token returns at once even with a done context (a
// caller that had to wait for the mint would get the context's error).
func TestNoCallerWaitsAtExpiry(t *testing.T) {
	for _, life := range []time.Duration{5 * time.Second, 15 * time.Second, 25 * time.Second, time.Minute, time.Hour} {
		t.Run(life.String(), func(t *testing.T) {
			clk := newManualClock()
			m := newRenewalMint(clk, life)
			s := &Source{Mint: m.mint, Clock: clk}
			s.SetToken(&Token{AccessToken: "first", Expiry: clk.Now().Add(life)})
			done, cancel := context.WithCancel(context.Background())
			cancel()
			step := life / 50
			renewals := 0
			for i := range 200 {
				clk.Advance(step)
				tok, err := s.Token(done)
				require.NoError(t, err, "step %d (%v into the first life): the caller had to wait", i, time.Duration(i+1)*step)
				require.NotNil(t, tok)
				s.mu.Lock()
				inFlight := s.flight != nil
				s.mu.Unlock()
				if inFlight {
					<-m.started
					// The endpoint answers in 200 ms, far within half a life.
					clk.Advance(min(200*time.Millisecond, step))
					m.release <- nil
					waitFlight(t, s)
					renewals++
				}
			}
			require.GreaterOrEqual(t, renewals, 3, "renewed in the background")
		})
	}
}

// During an outage of the token endpoint a Source asks it at most once per
// RetryInterval (plus the first, jittered retry), and once it is back the
// first success comes within RetryInterval.
func TestOutageCadenceAndRecovery(t *testing.T) {
	clk := newManualClock()
	var calls atomic.Int64
	var down atomic.Bool
	down.Store(true)
	s := &Source{Clock: clk, Mint: func(context.Context, *Token) (*Token, error) {
		calls.Add(1)
		if down.Load() {
			return nil, errorf("token endpoint: %w", ErrServer)
		}
		return &Token{AccessToken: "ok", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	const tick = 10 * time.Millisecond // 100 requests a second
	outage := 7500 * time.Millisecond
	for elapsed := time.Duration(0); elapsed < outage; elapsed += tick {
		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, ErrServer)
		clk.Advance(tick)
	}
	// The targets are absolute: one call a second, first success within a
	// second (the default RetryInterval).
	require.LessOrEqual(t, calls.Load(), int64(outage/time.Second)+2, "at most one token call a second, and the first retry")
	require.GreaterOrEqual(t, calls.Load(), int64(outage/time.Second), "but it keeps probing every second")
	down.Store(false)
	var recovered time.Duration
	for ; recovered <= 10*time.Second; recovered += tick {
		if _, err := s.Token(context.Background()); err == nil {
			break
		}
		clk.Advance(tick)
	}
	require.LessOrEqual(t, recovered, time.Second, "first success within a second of recovery")
}

// The first retry after a success is jittered, so Sources (replicas) that
// failed at the same instant do not probe in step; it never comes before
// half of RetryInterval, nor after all of it.
func TestSourceRetryWaitJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		s := &Source{RetryInterval: time.Second}
		s.failures = 1
		d := s.retryWait(ErrServer)
		require.GreaterOrEqual(t, d, 500*time.Millisecond)
		require.LessOrEqual(t, d, time.Second)
		seen[d] = true
		s.failures = 2
		require.Equal(t, time.Second, s.retryWait(ErrServer), "later retries: the whole interval")
	}
	require.Greater(t, len(seen), 40, "the first wait varies between Sources")
}
