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
)

// manualClock is a clock tests move by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.Advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
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

	// Within the retry interval: the remembered error, no new mint.
	clk.Advance(4 * time.Second)
	_, err := s.Token(context.Background())
	require.ErrorIs(t, err, boom)
	require.EqualValues(t, 1, m.n.Load())

	// After it, the endpoint is back: service resumes by itself.
	clk.Advance(2 * time.Second)
	m.err = nil
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok-2", tok.AccessToken)
}

// A token endpoint that says how long to wait (429/503 with Retry-After) is
// not asked again sooner; a shorter RetryAfter does not shorten
// RetryInterval.
func TestSourceHonoursRetryAfterOfAFailedMint(t *testing.T) {
	for _, tc := range []struct {
		after, wait time.Duration
	}{
		{after: time.Minute, wait: time.Minute},
		{after: time.Second, wait: 5 * time.Second},
		{after: 0, wait: 5 * time.Second},
	} {
		clk := newManualClock()
		m := &counterMint{err: &Error{Provider: "p", Op: "token", Status: 429, RetryAfter: tc.after, Err: ErrRateLimited}}
		s := &Source{Mint: m.mint, Clock: clk, RetryInterval: 5 * time.Second}
		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, ErrRateLimited)
		clk.Advance(tc.wait - time.Millisecond)
		_, err = s.Token(context.Background())
		require.ErrorIs(t, err, ErrRateLimited)
		require.EqualValues(t, 1, m.n.Load(), "RetryAfter %v: no second attempt before %v", tc.after, tc.wait)
		clk.Advance(time.Millisecond)
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
