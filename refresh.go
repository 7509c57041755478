package videoauth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// MintFunc obtains a new token. current is the token being replaced (nil
// before the first), so a refresh grant can use its refresh token. ctx is
// detached from any single caller's cancellation and bounded by
// Source.MintTimeout: one waiter giving up does not abort the mint the
// others wait on.
type MintFunc func(ctx context.Context, current *Token) (*Token, error)

// Defaults of Source's zero-valued fields.
const (
	DefaultRefreshAhead  = 2 * time.Minute
	DefaultRetryInterval = 5 * time.Second
	DefaultMintTimeout   = 30 * time.Second
	// expiryDelta: a token this close to its expiry is treated as expired,
	// as x/oauth2 does, so it does not die in flight.
	expiryDelta = 10 * time.Second
)

// Source hands out a cached token and replaces it when needed. Reading a
// fresh token is lock-free (one atomic load). Any number of concurrent
// callers that need a new token share one mint (single flight), each waiting
// with its own ctx. A token close to expiry is renewed in the background
// while callers keep using it, so no request waits on a refresh. A failed
// mint is shared by its waiters and not retried more often than
// RetryInterval, so an outage of the token endpoint does not become a flood.
// After the service revokes the grant the source answers ErrReauthRequired,
// without touching the network, until SetToken gives it a new token.
//
// Providers return ready Sources from their grants; the exported fields may
// be set before first use and not changed afterwards.
type Source struct {
	// Mint gets a new token; nil for a token that cannot be renewed without
	// the user (then an expired or rejected token means ErrReauthRequired).
	Mint MintFunc
	// OnToken is called with every newly minted token before any caller
	// receives it: the place to persist it (a rotated refresh token must not
	// be lost). It must not call back into the Source.
	OnToken func(*Token)
	// OnRevoked is called once when the service reports the grant revoked.
	OnRevoked func(*Token)
	// Clock is the time source; nil is the real clock.
	Clock Clock
	// RefreshAhead is how long before expiry a background renewal starts
	// (at most half the token's lifetime); 0 means DefaultRefreshAhead.
	RefreshAhead time.Duration
	// RetryInterval is the least time between two failed mints; 0 means
	// DefaultRetryInterval. A failure whose *Error carries a longer
	// RetryAfter (a 429 or 503 from the token endpoint) waits that long.
	RetryInterval time.Duration
	// MintTimeout bounds one mint; 0 means DefaultMintTimeout.
	MintTimeout time.Duration
	// Store, when set, keeps the token under Key, shared with every other
	// Source (in this process or another) that uses the same store and key.
	// A Source with no token loads it on first use. When the token needs
	// replacing, the Source first adopts a usable token a sibling stored;
	// otherwise it takes the store's lock, reads the store again, mints only
	// if the stored token is still the stale one (else it adopts the stored
	// token, or renews from its newer refresh token), saves the new token
	// and unlocks: N replicas make one refresh. A mint that fails with
	// ErrReauthRequired (invalid_grant) reads the store once more before
	// giving up, since a sibling may have rotated the grant. A store that
	// cannot be locked or read stops renewals with its error (the token in
	// memory is used while it lasts); a new token that cannot be saved is
	// still cached and used, and the mint's callers get the save error.
	Store Store
	// Key is the token's key in Store.
	Key string

	cur     atomic.Pointer[entry]
	aheadAt atomic.Int64 // unix nanos before which no refresh-ahead starts

	mu       sync.Mutex
	flight   *flight
	lastErr  error
	lastAt   time.Time
	lastWait time.Duration // how long lastErr stands
}

// entry is one cached token and what the source knows of it.
type entry struct {
	tok     *Token
	got     time.Time // when the source received it
	dead    bool      // rejected by the service: do not hand out
	revoked bool      // grant gone: ErrReauthRequired until SetToken
}

type flight struct {
	done chan struct{}
	tok  *Token
	err  error
}

// NewSource returns a Source holding tok (may be nil) and renewing it with
// mint (may be nil).
func NewSource(tok *Token, mint MintFunc) *Source {
	s := &Source{Mint: mint}
	if tok != nil {
		s.cur.Store(&entry{tok: tok, got: s.clock().Now()})
	}
	return s
}

func (s *Source) clock() Clock { return clockOr(s.Clock) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// usable reports whether e's token may be handed out at now.
func (e *entry) usable(now time.Time) bool {
	return e != nil && !e.dead && e.tok.AccessToken != "" &&
		(e.tok.Expiry.IsZero() || now.Before(e.tok.Expiry.Add(-expiryDelta)))
}

// Token returns a usable token, minting one if there is none.
func (s *Source) Token(ctx context.Context) (*Token, error) {
	e := s.cur.Load()
	if e != nil && !e.dead && e.tok.Expiry.IsZero() && e.tok.AccessToken != "" {
		return e.tok, nil // never-expiring token: no clock read
	}
	now := s.clock().Now()
	if e.usable(now) {
		if s.Mint != nil && s.inWindow(e, now) {
			s.refreshAhead(e, now)
		}
		return e.tok, nil
	}
	return s.slow(ctx)
}

// inWindow reports whether e is close enough to expiry to renew it.
func (s *Source) inWindow(e *entry, now time.Time) bool {
	ahead := orDefault(s.RefreshAhead, DefaultRefreshAhead)
	if life := e.tok.Expiry.Sub(e.got); life > 0 && ahead > life/2 {
		ahead = life / 2
	}
	return e.tok.expiresWithin(now, ahead)
}

// refreshAhead starts a background mint at most once per RetryInterval.
func (s *Source) refreshAhead(e *entry, now time.Time) {
	at := s.aheadAt.Load()
	if now.UnixNano() < at {
		return
	}
	if !s.aheadAt.CompareAndSwap(at, now.Add(orDefault(s.RetryInterval, DefaultRetryInterval)).UnixNano()) {
		return
	}
	s.mu.Lock()
	if s.flight == nil && s.cur.Load() == e {
		s.start(context.Background(), e)
	}
	s.mu.Unlock()
}

func (s *Source) slow(ctx context.Context) (*Token, error) {
	s.mu.Lock()
	e := s.cur.Load()
	now := s.clock().Now()
	switch {
	case e != nil && e.revoked:
		s.mu.Unlock()
		return nil, ErrReauthRequired
	case e.usable(now):
		s.mu.Unlock()
		return e.tok, nil
	case s.Mint == nil && s.Store == nil:
		s.mu.Unlock()
		var cur *Token
		if e != nil {
			cur = e.tok
		}
		return nil, reauthErr(cur)
	}
	f := s.flight
	if f == nil {
		if s.lastErr != nil && now.Sub(s.lastAt) < s.lastWait {
			err := s.lastErr
			s.mu.Unlock()
			return nil, err
		}
		f = s.start(ctx, e)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// start launches a mint; s.mu is held. The mint's context keeps ctx's values
// but not its cancellation.
func (s *Source) start(ctx context.Context, e *entry) *flight {
	f := &flight{done: make(chan struct{})}
	s.flight = f
	var cur *Token
	if e != nil {
		cur = e.tok
	}
	go func() {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(s.MintTimeout, DefaultMintTimeout))
		tok, err := s.obtain(mctx, cur)
		cancel()
		s.mu.Lock()
		now := s.clock().Now()
		switch {
		case tok != nil:
			// Even when err reports a failed save: the token is valid and
			// must not be lost.
			s.cur.Store(&entry{tok: tok, got: now})
			s.lastErr = nil
		default:
			if cur != nil && errors.Is(err, ErrReauthRequired) {
				s.cur.Store(&entry{tok: cur, got: now, dead: true, revoked: true})
			}
			s.lastErr, s.lastAt, s.lastWait = err, now, s.retryWait(err)
		}
		s.flight = nil
		s.mu.Unlock()
		f.tok, f.err = tok, err
		close(f.done)
	}()
	return f
}

// mint runs Mint and OnToken.
func (s *Source) mint(ctx context.Context, cur *Token) (*Token, error) {
	if s.Mint == nil {
		return nil, reauthErr(cur)
	}
	tok, err := s.Mint(ctx, cur)
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errorf("mint returned no token: %w", ErrBadResponse)
	}
	if err != nil {
		return nil, err
	}
	if s.OnToken != nil {
		s.OnToken(tok)
	}
	return tok, nil
}

// reauthErr is the error of a Source that cannot renew cur (nil: it has
// no token at all) without the user.
func reauthErr(cur *Token) error {
	if cur == nil {
		return errorf("no token: %w", ErrReauthRequired)
	}
	return errorf("token expired or rejected: %w", ErrReauthRequired)
}

// obtain gets the token that replaces cur (nil: there is none yet): from
// Mint, or with a Store, as Store's doc says. It returns a non-nil token
// with an error only when the token could not be saved.
func (s *Source) obtain(ctx context.Context, cur *Token) (*Token, error) {
	if s.Store == nil {
		return s.mint(ctx, cur)
	}
	// A sibling may have stored a replacement already: no lock needed.
	stored, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if s.adoptable(stored, cur) {
		return stored, nil
	}
	unlock, err := s.Store.Lock(ctx, s.Key)
	if err != nil {
		return nil, errorf("locking the store: %w", err)
	}
	// An error from unlock means the lock's lease ran out during the mint;
	// the token is saved either way, and a sibling that minted meanwhile is
	// caught by the API's rejection and the re-read that follows it.
	defer unlock()
	if stored, err = s.load(ctx); err != nil {
		return nil, err
	}
	if s.adoptable(stored, cur) {
		return stored, nil
	}
	base := cur
	if stored != nil && (cur == nil || stored.AccessToken != cur.AccessToken) {
		base = stored // a sibling's token, stale too: its refresh token is the newest
	}
	tok, err := s.mint(ctx, base)
	if errors.Is(err, ErrReauthRequired) {
		// invalid_grant: a process that does not take the lock may have
		// rotated the grant. Adopt its token rather than give up.
		if again, lerr := s.load(ctx); lerr == nil && again != nil && s.adoptable(again, base) {
			return again, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.Store.Save(ctx, s.Key, tok); err != nil {
		return tok, errorf("new token not saved: %w", err)
	}
	return tok, nil
}

// load reads Key from Store; no stored token is (nil, nil).
func (s *Source) load(ctx context.Context) (*Token, error) {
	tok, err := s.Store.Load(ctx, s.Key)
	if errors.Is(err, ErrNotStored) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("reading the store: %w", err)
	}
	return tok, nil
}

// adoptable reports whether stored is a usable token other than stale.
func (s *Source) adoptable(stored, stale *Token) bool {
	if stored == nil || stale != nil && stored.AccessToken == stale.AccessToken {
		return false
	}
	return (&entry{tok: stored}).usable(s.clock().Now())
}

// retryWait is how long a failed mint's error is handed out before the next
// attempt: RetryInterval, or the service's longer RetryAfter.
func (s *Source) retryWait(err error) time.Duration {
	d := orDefault(s.RetryInterval, DefaultRetryInterval)
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return d
}

// Invalidate drops the cached token if it is still stale — the token a
// rejected request carried. If another caller already replaced it, nothing
// happens, so N requests rejected together cause one mint, not N.
func (s *Source) Invalidate(stale *Token) {
	for {
		e := s.cur.Load()
		if e == nil || e.tok != stale || e.dead {
			return
		}
		if s.cur.CompareAndSwap(e, &entry{tok: e.tok, got: e.got, dead: true}) {
			return
		}
	}
}

// revoke records that the service revoked the grant stale belongs to.
func (s *Source) revoke(stale *Token) {
	for {
		e := s.cur.Load()
		if e == nil || e.tok != stale || e.revoked {
			return
		}
		if s.cur.CompareAndSwap(e, &entry{tok: e.tok, got: e.got, dead: true, revoked: true}) {
			if s.OnRevoked != nil {
				s.OnRevoked(stale)
			}
			return
		}
	}
}

// SetToken replaces the cached token (nil clears it) and lifts a revoked
// state and any remembered mint failure: the way back after a new sign-in.
func (s *Source) SetToken(tok *Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok == nil {
		s.cur.Store(nil)
	} else {
		s.cur.Store(&entry{tok: tok, got: s.clock().Now()})
	}
	s.lastErr = nil
	s.aheadAt.Store(0)
}

// SaveToken saves tok in Store under Key, when the Source has a Store, and
// then caches it as SetToken does: the way to hand a Source the token of a
// new sign-in so that every sibling sees it. tok is cached even when the
// save fails (and the error wraps the store's), so it is not lost.
func (s *Source) SaveToken(ctx context.Context, tok *Token) error {
	var err error
	if s.Store != nil {
		if err = s.Store.Save(ctx, s.Key, tok); err != nil {
			err = errorf("token not saved: %w", err)
		}
	}
	s.SetToken(tok)
	return err
}

// Current returns the cached token without minting, or nil.
func (s *Source) Current() *Token {
	if e := s.cur.Load(); e != nil {
		return e.tok
	}
	return nil
}

// TokenSource adapts s to oauth2.TokenSource for code that speaks x/oauth2.
// Each call uses its own background context bounded by MintTimeout.
func (s *Source) TokenSource() oauth2.TokenSource { return oauth2Source{s} }

type oauth2Source struct{ s *Source }

func (o oauth2Source) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(o.s.MintTimeout, DefaultMintTimeout))
	defer cancel()
	t, err := o.s.Token(ctx)
	if err != nil {
		return nil, err
	}
	return t.OAuth2(), nil
}
