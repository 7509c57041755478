package videoauth

import (
	"context"
	"errors"
	"math/rand/v2"
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
	DefaultRetryInterval = time.Second
	DefaultMintTimeout   = 30 * time.Second
	// expiryDelta is the most a token is treated as expired before its
	// expiry, so it does not die in flight: a tenth of its lifetime, at
	// most 10 s. (x/oauth2's flat 10 s makes a token of 10 s or less
	// unusable from the start, so every call would mint.)
	expiryDelta = 10 * time.Second
	// maxRejectShift caps how far repeated rejections of new tokens stretch
	// the interval between replacements: RetryInterval × 2^5.
	maxRejectShift = 5
	// minLife is the least time a token that has not expired on arrival is
	// used, whatever its lifetime.
	minLife = time.Second
	// maxHold bounds how long a refresh-ahead waits for requests still in
	// flight with the token it replaces.
	maxHold = 2 * time.Second
)

// Source hands out a cached token and replaces it when needed. Its
// guarantees, each as it holds:
//
//   - Reading a usable token is lock-free (one atomic load, and one clock
//     read for a token that expires).
//   - Any number of concurrent callers that need a new token share one mint
//     (single flight), each waiting with its own ctx.
//   - A token stops being handed out a tenth of its lifetime (at most 10 s)
//     before it expires — but is used for at least a second, whatever
//     lifetime the service gave — and is renewed in the background from
//     the middle of its usable life on (at most RefreshAhead before that point), so
//     while the token endpoint answers within that half-life no caller waits
//     on a renewal, whatever the lifetime. A background renewal first waits
//     (at most 2 s, and never past the middle of what is left) for requests
//     sent with the old token whose body cannot be replayed, since some
//     services kill the old access token at once.
//   - A failed mint is shared by its waiters and its error handed out,
//     without touching the network, for RetryInterval (a service's longer
//     Retry-After wins); the first retry after a success comes at a random
//     point between half and the whole interval, so replicas that failed
//     together do not probe in step.
//   - A token rejected by the service is replaced once. A token that
//     arrives while the service has rejected one since its last success (a
//     replacement, or a renewal of one) is not replaced if it is rejected
//     within RetryInterval of its arrival: the rejection is returned
//     (Invalidate reports false), so an API that keeps rejecting fresh
//     tokens (a clock skew, a wrong environment) sees at most one mint per
//     interval per grant, at any request rate; each further rejection
//     doubles the interval, up to 32 times, until a request succeeds.
//   - A renewal replaces only the token it set out to replace: a token given
//     to SetToken, SaveToken or Revoke while it runs wins.
//   - After the service revokes the grant, or Revoke, the source answers
//     ErrReauthRequired without touching the network (Invalidate does not
//     change that) until SetToken gives it a new token — or, with a Store,
//     until a sibling's new sign-in is found there: a rejection this Source
//     cannot answer with a mint first looks for one.
//   - A Source a provider made holds only that provider's tokens: another
//     service's token (Token.Provider), from SetToken, a constructor or the
//     Store, is refused with ErrInvalidConfig and never sent or refreshed.
//
// Providers return ready Sources from their grants; the exported fields may
// be set before first use and not changed afterwards.
type Source struct {
	// Mint gets a new token; nil for a token that cannot be renewed without
	// the user (then an expired or rejected token means ErrReauthRequired).
	Mint MintFunc
	// OnToken is called with every newly minted token that the Source
	// adopts, before any caller receives it: the place to persist it (a
	// rotated refresh token must not be lost). A renewal superseded by
	// SetToken is not reported. It runs under the Source's lock and must not
	// call back into the Source.
	OnToken func(*Token)
	// OnRevoked is called once when the service reports the grant revoked
	// (an API answer, or invalid_grant on a renewal), or Revoke revokes it.
	OnRevoked func(*Token)
	// OnStoreError is called, outside the Source's lock, when a new token
	// could not be saved in Store or the store's lock was lost during its
	// renewal. The token is used all the same (a Transport sends requests
	// with it); Token's callers of that renewal also get the error.
	OnStoreError func(error)
	// Observer is told of every mint (start and end), rejection, replay,
	// revocation, rate limit and store failure of this Source and of a
	// Transport using it (see Observer); nil reports nothing. A provider's
	// Source gets its App's Observer.
	Observer Observer
	// Clock is the time source; nil is the real clock.
	Clock Clock
	// RefreshAhead is how long before a token stops being usable a
	// background renewal starts (at most half its usable life); 0 means
	// DefaultRefreshAhead.
	RefreshAhead time.Duration
	// RetryInterval is the least time between two failed mints, and the
	// age under which a rejected new token is not replaced; 0 means
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
	// with CompareAndSwap against what it read, and unlocks: N replicas make
	// one refresh. When the swap finds a newer token (SaveToken of a new
	// sign-in, or a sibling that renewed after this Source's lock was lost),
	// the stored token wins and is adopted; the renewal is dropped. A mint
	// that fails with ErrReauthRequired (invalid_grant) reads the store once
	// more before giving up, since a sibling may have rotated the grant. A
	// store that cannot be locked or read stops renewals with its error (the
	// token in memory is used while it lasts); a new token that cannot be
	// saved, or whose lock was lost, is still cached and used, and the
	// mint's callers get that error with it.
	Store Store
	// Key is the token's key in Store.
	Key string

	provider string                              // the service whose tokens this holds; "" takes any
	revoker  func(context.Context, *Token) error // the provider's revocation, for Revoke

	cur     atomic.Pointer[entry]
	aheadAt atomic.Int64 // unix nanos before which no refresh-ahead starts
	rejects atomic.Int32 // rejections since the last success: guards new tokens, stretches the guard
	grant   grantOp      // the grant its mints report; a byte, in what was padding

	mu     sync.Mutex
	gen    uint64 // bumped by SetToken and Revoke: older renewals do not land
	flight *flight
	// last is the last failed mint, while it stands; behind a pointer so
	// that fmt walking a copied Source cannot print the service's error.
	last     *mintFailure
	failures int // failed mints in a row
}

// mintFailure is a failed mint and how long its error is handed out.
type mintFailure struct {
	err  error
	at   time.Time
	wait time.Duration
}

// entry is one cached token and what the source knows of it.
type entry struct {
	tok     *Token
	got     time.Time // when the source received it
	until   time.Time // when it stops being handed out (zero: never)
	dead    bool      // rejected by the service: do not hand out
	revoked bool      // grant gone: ErrReauthRequired until SetToken
	fresh   bool      // it replaced a rejected token: see Source.replace
	err     error     // refused (another service's token): handed out instead

	// inflight counts requests in flight with tok whose body cannot be
	// replayed; a refresh-ahead waits for them (see Source.hold).
	inflight atomic.Int64
	drained  atomic.Pointer[drainer]
}

// drainer is closed when an entry's inflight count drops to zero.
type drainer struct {
	once sync.Once
	ch   chan struct{}
}

type flight struct {
	done       chan struct{}
	gen        uint64
	hurry      chan struct{} // refresh-ahead only: closed when a caller needs the token now
	hurryOnce  sync.Once
	e          *entry // the entry the mint produced, if any
	err        error
	superseded bool // SetToken or Revoke came first: start over
}

// NewSource returns a Source holding tok (may be nil) and renewing it with
// mint (may be nil).
func NewSource(tok *Token, mint MintFunc) *Source {
	return newSource("", nil, tok, mint)
}

// newSource is NewSource for a provider's grant: it holds only provider's
// tokens and reads clock.
func newSource(provider string, clock Clock, tok *Token, mint MintFunc) *Source {
	s := &Source{Mint: mint, Clock: clock, provider: provider}
	if tok != nil {
		s.cur.Store(s.newEntry(tok, s.clock().Now(), false))
	}
	return s
}

// newEntry wraps tok, received at now. A token of another provider is
// refused.
func (s *Source) newEntry(tok *Token, now time.Time, fresh bool) *entry {
	e := &entry{tok: tok, got: now, fresh: fresh}
	if !tok.Expiry.IsZero() {
		e.until = tok.Expiry
		if life := tok.Expiry.Sub(now); life > 0 {
			// A tenth of the lifetime, at most 10 s, before expiry; but a
			// token is used for at least minLife, so a service that hands
			// out absurd lifetimes (expires_in 0.001) cannot make the
			// Source mint on every call.
			e.until = tok.Expiry.Add(-min(expiryDelta, life/10))
			if life < minLife {
				e.until = now.Add(minLife)
			}
		}
	}
	if err := s.foreign(tok); err != nil {
		e.err, e.dead = err, true
	}
	return e
}

// foreign returns an error wrapping ErrInvalidConfig when tok belongs to
// another service than the Source's.
func (s *Source) foreign(tok *Token) error {
	if s.provider == "" || tok == nil || tok.Provider == "" || tok.Provider == s.provider {
		return nil
	}
	return errorf("a %s token given to a %s Source: %w", safeCode(truncate(tok.Provider, 32)), s.provider, ErrInvalidConfig)
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
		(e.tok.Expiry.IsZero() || now.Before(e.until))
}

// Token returns a usable token, minting one if there is none.
func (s *Source) Token(ctx context.Context) (*Token, error) {
	e, err := s.acquire(ctx)
	if e == nil {
		return nil, err
	}
	return e.tok, err
}

// acquire returns the entry of a usable token, minting one if there is none.
// The entry may come with an error when a new token could not be saved.
func (s *Source) acquire(ctx context.Context) (*entry, error) {
	e, _, err := s.acquireTracked(ctx, false)
	return e, err
}

// acquireTracked is acquire for a request that cannot be replayed when
// track is set: such a request is counted in flight with the token (see
// hold) before a refresh-ahead can start, and done ends it (nil when
// nothing is counted).
func (s *Source) acquireTracked(ctx context.Context, track bool) (e *entry, done func(), err error) {
	e = s.cur.Load()
	if e != nil && !e.dead && e.tok.Expiry.IsZero() && e.tok.AccessToken != "" {
		return e, nil, nil // never-expiring token: no clock read, no renewal
	}
	now := s.clock().Now()
	if e.usable(now) {
		if track {
			done = e.track()
		}
		if s.Mint != nil && s.inWindow(e, now) {
			s.refreshAhead(e, now)
		}
		return e, done, nil
	}
	e, err = s.slow(ctx)
	if track && e != nil && !e.tok.Expiry.IsZero() {
		done = e.track()
	}
	return e, done, err
}

// inWindow reports whether e is close enough to the end of its usable life
// to renew it: from the middle of that life on, or RefreshAhead before its
// end if that comes later.
func (s *Source) inWindow(e *entry, now time.Time) bool {
	if e.tok.Expiry.IsZero() {
		return false
	}
	end := e.until
	ahead := orDefault(s.RefreshAhead, DefaultRefreshAhead)
	if half := end.Sub(e.got) / 2; ahead > half {
		ahead = half
	}
	return !now.Before(end.Add(-ahead))
}

// refreshAhead starts a background mint, unless one failed less than the
// retry wait ago.
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
		s.start(context.Background(), e, true)
	}
	s.mu.Unlock()
}

func (s *Source) slow(ctx context.Context) (*entry, error) {
	for {
		s.mu.Lock()
		e := s.cur.Load()
		now := s.clock().Now()
		switch {
		case e != nil && e.revoked:
			s.mu.Unlock()
			return nil, ErrReauthRequired
		case e != nil && e.err != nil:
			s.mu.Unlock()
			return nil, e.err
		case e.usable(now):
			s.mu.Unlock()
			return e, nil
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
			if l := s.last; l != nil && now.Sub(l.at) < l.wait {
				err := l.err
				s.mu.Unlock()
				return nil, err
			}
			f = s.start(ctx, e, false)
		} else if f.hurry != nil {
			f.hurryOnce.Do(func() { close(f.hurry) }) // a caller waits: no more holding back
		}
		s.mu.Unlock()
		select {
		case <-f.done:
			if f.superseded {
				continue // SetToken or Revoke came in meanwhile: serve what it left
			}
			return f.e, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// start launches a mint replacing e (nil: there is no token yet); s.mu is
// held. The mint's context keeps ctx's values but not its cancellation.
func (s *Source) start(ctx context.Context, e *entry, ahead bool) *flight {
	f := &flight{done: make(chan struct{}), gen: s.gen}
	if ahead {
		f.hurry = make(chan struct{})
	}
	s.flight = f
	var cur *Token
	if e != nil {
		cur = e.tok
	}
	go func() {
		if ahead {
			s.hold(e, f.hurry)
		}
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(s.MintTimeout, DefaultMintTimeout))
		tok, minted, err := s.obtain(mctx, cur, ahead)
		cancel()
		var storeErr error
		var revokedTok *Token
		s.mu.Lock()
		now := s.clock().Now()
		switch {
		case f.gen != s.gen:
			// SetToken or Revoke replaced the token this renewal set out to
			// replace: its result, or its failure, is about a token no longer
			// held, and must not overwrite what replaced it.
			f.superseded = true
		case tok != nil:
			// Even when err reports a failed save: the token is valid and
			// must not be lost.
			if minted && s.OnToken != nil {
				s.OnToken(tok)
			}
			// A token that arrives while the service has rejected one since
			// its last success is guarded: if it is rejected too, at once,
			// the service is not rejecting its age (see replace). A renewal
			// of a guarded token stays guarded.
			f.e = s.newEntry(tok, now, s.rejects.Load() > 0)
			s.cur.Store(f.e)
			s.last, s.failures = nil, 0
			s.aheadAt.Store(0) // the new token's window is its own
			if err != nil {
				storeErr = err
			}
		default:
			if cur != nil && errors.Is(err, ErrReauthRequired) {
				s.cur.Store(&entry{tok: cur, got: now, dead: true, revoked: true})
				revokedTok = cur
			}
			s.failures++
			s.last = &mintFailure{err: err, at: now, wait: s.retryWait(err)}
			if ahead {
				s.aheadAt.Store(now.Add(s.last.wait).UnixNano())
			}
		}
		f.err = err
		if s.flight == f {
			s.flight = nil
		}
		s.mu.Unlock()
		if storeErr != nil && s.OnStoreError != nil {
			s.OnStoreError(storeErr)
		}
		if revokedTok != nil {
			if s.OnRevoked != nil {
				s.OnRevoked(revokedTok)
			}
			if o := s.Observer; o != nil {
				observe(context.WithoutCancel(ctx), o, Event{Kind: EventRevoked, Provider: s.provider, Op: s.grant.String(), At: now})
			}
		}
		close(f.done)
	}()
	return f
}

// hold waits, before a refresh-ahead replaces e, until no request whose
// body cannot be replayed is in flight with e's token (some services kill
// the old access token the moment they issue a new one, and such a request
// could not be sent again), at most maxHold and at most half of what is left
// of e's usable life, or until a caller needs the token now.
func (s *Source) hold(e *entry, hurry <-chan struct{}) {
	if e == nil || e.inflight.Load() == 0 {
		return
	}
	d := &drainer{ch: make(chan struct{})}
	e.drained.Store(d)
	if e.inflight.Load() == 0 {
		return
	}
	wait := maxHold
	if !e.tok.Expiry.IsZero() {
		wait = min(wait, e.until.Sub(s.clock().Now())/2)
	}
	if wait <= 0 {
		return
	}
	select {
	case <-d.ch:
	case <-hurry:
	case <-s.clock().After(wait):
	}
}

// track counts a request whose body cannot be replayed in flight with e's
// token; the returned func ends it.
func (e *entry) track() func() {
	e.inflight.Add(1)
	return func() {
		if e.inflight.Add(-1) == 0 {
			if d := e.drained.Load(); d != nil {
				d.once.Do(func() { close(d.ch) })
			}
		}
	}
}

// mint runs Mint and checks what it returns; background marks a
// refresh-ahead for the Observer.
func (s *Source) mint(ctx context.Context, cur *Token, background bool) (*Token, error) {
	if s.Mint == nil {
		return nil, reauthErr(cur)
	}
	o := s.Observer
	var start time.Time
	if o != nil {
		start = s.clock().Now()
		observe(ctx, o, Event{Kind: EventMintStart, Provider: s.provider, Op: s.grant.String(), At: start, Background: background})
	}
	tok, err := s.Mint(ctx, cur)
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errorf("mint returned no token: %w", ErrBadResponse)
	}
	if o != nil {
		end := s.clock().Now()
		ev := Event{Kind: EventMintEnd, Provider: s.provider, Op: s.grant.String(), At: end, Duration: end.Sub(start),
			Outcome: outcome(err), Background: background}
		var se *Error
		if errors.As(err, &se) {
			ev.Status, ev.RetryAfter = se.Status, se.RetryAfter
		}
		observe(ctx, o, ev)
	}
	if err != nil {
		return nil, err
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
// Mint, or with a Store, as Store's doc says. minted tells whether the token
// is one this call minted (rather than one a sibling stored). It returns a
// non-nil token with an error only when the token could not be saved or
// its lock was lost.
func (s *Source) obtain(ctx context.Context, cur *Token, background bool) (tok *Token, minted bool, err error) {
	if s.Store == nil {
		tok, err := s.mint(ctx, cur, background)
		return tok, tok != nil, err
	}
	// A sibling may have stored a replacement already: no lock needed.
	stored, err := s.load(ctx)
	if err != nil {
		return nil, false, err
	}
	if s.adoptable(stored, cur) {
		return stored, false, nil
	}
	unlock, err := s.Store.Lock(ctx, s.Key)
	if err != nil {
		s.storeFailed(ctx, "lock", err)
		return nil, false, errorf("locking the store: %w", err)
	}
	tok, minted, err = s.obtainLocked(ctx, cur, background)
	uerr := unlock()
	if uerr != nil {
		s.storeFailed(ctx, "unlock", uerr)
	}
	if uerr != nil && minted {
		// The save was a CompareAndSwap, so the store is right whatever
		// happened; but the renewal was not exclusive, and with a service
		// that rotates refresh tokens a sibling's may have undone it.
		err = errors.Join(err, errorf("store lock not held to the end of the renewal: %w", uerr))
	}
	return tok, minted, err
}

// obtainLocked is obtain's part under the store's lock.
func (s *Source) obtainLocked(ctx context.Context, cur *Token, background bool) (*Token, bool, error) {
	stored, err := s.load(ctx)
	if err != nil {
		return nil, false, err
	}
	if s.adoptable(stored, cur) {
		return stored, false, nil
	}
	base := cur
	if stored != nil && (cur == nil || stored.AccessToken != cur.AccessToken) {
		base = stored // a sibling's token, stale too: its refresh token is the newest
	}
	tok, err := s.mint(ctx, base, background)
	if errors.Is(err, ErrReauthRequired) {
		// invalid_grant: a process that does not take the lock may have
		// rotated the grant. Adopt its token rather than give up.
		if again, lerr := s.load(ctx); lerr == nil && s.adoptable(again, base) {
			return again, false, nil
		}
	}
	if err != nil {
		return nil, false, err
	}
	if err := s.Store.CompareAndSwap(ctx, s.Key, stored, tok); err != nil {
		if errors.Is(err, ErrStoreChanged) {
			// A newer token was saved meanwhile: a new sign-in, or a sibling
			// that renewed after our lock was lost. It wins.
			if again, lerr := s.load(ctx); lerr == nil && s.adoptable(again, stored) {
				return again, false, nil
			}
		}
		s.storeFailed(ctx, "save", err)
		if errors.Is(err, ErrLockLost) {
			return tok, true, errorf("saving the new token: the store's lock was lost, so the save may not have been exclusive: %w", err)
		}
		return tok, true, errorf("new token not saved: %w", err)
	}
	return tok, true, nil
}

// load reads Key from Store; no stored token is (nil, nil). Another
// service's token is refused.
func (s *Source) load(ctx context.Context) (*Token, error) {
	tok, err := s.Store.Load(ctx, s.Key)
	if errors.Is(err, ErrNotStored) {
		return nil, nil
	}
	if err != nil {
		s.storeFailed(ctx, "load", err)
		return nil, errorf("reading the store: %w", err)
	}
	if err := s.foreign(tok); err != nil {
		return nil, errorf("stored under key %q: %w", s.Key, err)
	}
	return tok, nil
}

// storeFailed reports a failed Store operation op to the Observer: a lost
// lock as EventLockLost, anything else as EventStoreError.
func (s *Source) storeFailed(ctx context.Context, op string, err error) {
	o := s.Observer
	if o == nil {
		return
	}
	ev := Event{Kind: EventStoreError, Provider: s.provider, Op: op, At: s.clock().Now(), Outcome: storeOutcome(err)}
	if errors.Is(err, ErrLockLost) {
		ev.Kind = EventLockLost
	}
	observe(ctx, o, ev)
}

// adoptable reports whether stored is a usable token other than stale.
func (s *Source) adoptable(stored, stale *Token) bool {
	if stored == nil || stale != nil && stored.AccessToken == stale.AccessToken {
		return false
	}
	now := s.clock().Now()
	return s.newEntry(stored, now, false).usable(now)
}

// retryWait is how long a failed mint's error is handed out before the next
// attempt: RetryInterval (the first failure after a success: a random part
// of it, between half and all), or the service's longer RetryAfter. s.mu is
// held.
func (s *Source) retryWait(err error) time.Duration {
	d := orDefault(s.RetryInterval, DefaultRetryInterval)
	if s.failures == 1 {
		d = d/2 + rand.N(d/2+1)
	}
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return d
}

// Invalidate drops the cached token if it is still stale — the token a
// rejected request carried — and reports whether the next Token call will
// get another token. If another caller already replaced it, nothing
// happens, so N requests rejected together cause one mint, not N. A token
// that arrived while the service was rejecting tokens, rejected within
// RetryInterval of its arrival, is kept, and Invalidate reports false: the
// service rejects fresh tokens, and minting again would flood it; see
// Source. A revoked grant, or a refused token of another service, stays as
// it is (false): Invalidate never brings either back.
func (s *Source) Invalidate(stale *Token) bool {
	e := s.cur.Load()
	switch {
	case e == nil:
		return true
	case e.revoked || e.err != nil:
		return false
	case e.tok != stale:
		return true
	}
	return s.replace(e)
}

// replace drops e after the service rejected its token, unless e is
// guarded (it arrived while the service was rejecting tokens) and younger
// than the guard interval — RetryInterval, doubled for each further
// rejection since the last success, up to 32 times: then it reports false
// and the rejection stands. A revoked or refused entry is never replaced.
func (s *Source) replace(e *entry) bool {
	if e.revoked || e.err != nil {
		return false
	}
	if e.fresh {
		n := max(s.rejects.Load()-1, 0)
		guard := orDefault(s.RetryInterval, DefaultRetryInterval) << min(n, maxRejectShift)
		if s.clock().Now().Sub(e.got) < guard {
			return s.cur.Load() != e
		}
	}
	for {
		c := s.cur.Load()
		if c != e {
			return c == nil || !c.revoked && c.err == nil // replaced or dropped by another caller already
		}
		if s.cur.CompareAndSwap(e, &entry{tok: e.tok, got: e.got, until: e.until, fresh: e.fresh, dead: true}) {
			s.rejects.Add(1)
			return true
		}
	}
}

// adoptStored looks in Store, after the service rejected e's token in a way
// this Source cannot answer with a mint (a revoked grant, or no Mint), for
// a usable token a sibling saved (a new sign-in), and puts it in e's place.
// It returns the entry to use, or nil.
func (s *Source) adoptStored(ctx context.Context, e *entry) *entry {
	if s.Store == nil {
		return nil
	}
	stored, err := s.load(ctx)
	if err != nil || !s.adoptable(stored, e.tok) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cur.Load(); c != e && c.usable(s.clock().Now()) {
		return c // another caller replaced it already
	} else if c != e {
		return nil
	}
	ne := s.newEntry(stored, s.clock().Now(), false)
	s.cur.Store(ne)
	return ne
}

// accepted records that the service took a request: repeated rejections
// of new tokens no longer stretch the guard.
func (s *Source) accepted() {
	if s.rejects.Load() != 0 {
		s.rejects.Store(0)
	}
}

// revoke records that the service revoked the grant stale belongs to.
func (s *Source) revoke(stale *Token) { s.revokeCtx(context.Background(), stale) }

// revokeCtx is revoke for the API's answer to a request with ctx.
func (s *Source) revokeCtx(ctx context.Context, stale *Token) {
	for {
		e := s.cur.Load()
		if e == nil || e.tok != stale || e.revoked {
			return
		}
		if s.cur.CompareAndSwap(e, &entry{tok: e.tok, got: e.got, dead: true, revoked: true}) {
			if s.OnRevoked != nil {
				s.OnRevoked(stale)
			}
			if o := s.Observer; o != nil {
				observe(ctx, o, Event{Kind: EventRevoked, Provider: s.provider, Op: "api", At: s.clock().Now()})
			}
			return
		}
	}
}

// SetToken replaces the cached token (nil clears it) and lifts a revoked
// state and any remembered mint failure: the way back after a new sign-in.
// A renewal in flight when it is called does not overwrite tok: its callers
// get tok (or whatever tok leads to) instead. SetToken changes this Source
// only: with a Store, hand a new sign-in to SaveToken, so that the store and
// every sibling get it too. A token of another service than the Source's
// provider is refused: Token then returns an error wrapping
// ErrInvalidConfig.
func (s *Source) SetToken(tok *Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replaceLocked(tok)
}

// replaceLocked puts tok in place of whatever the Source holds and detaches
// a renewal in flight; s.mu is held.
func (s *Source) replaceLocked(tok *Token) {
	s.gen++
	s.flight = nil // a renewal in flight lands nowhere (start sees gen)
	if tok == nil {
		s.cur.Store(nil)
	} else {
		s.cur.Store(s.newEntry(tok, s.clock().Now(), false))
	}
	s.last, s.failures = nil, 0
	s.aheadAt.Store(0)
	s.rejects.Store(0)
}

// SaveToken saves tok in Store under Key, when the Source has a Store, and
// then caches it as SetToken does: the way to hand a Source the token of a
// new sign-in so that every sibling sees it. A sibling's renewal of the old
// grant that runs meanwhile cannot overwrite it (the renewal's save is a
// CompareAndSwap against the token it read), and siblings adopt it when
// their own token next needs replacing. tok is cached even when the save
// fails (and the error wraps the store's), so it is not lost. A token of
// another service is refused with ErrInvalidConfig and neither saved nor
// cached.
func (s *Source) SaveToken(ctx context.Context, tok *Token) error {
	if err := s.foreign(tok); err != nil {
		return err
	}
	var err error
	if s.Store != nil {
		if err = s.Store.Save(ctx, s.Key, tok); err != nil {
			s.storeFailed(ctx, "save", err)
			err = errorf("token not saved: %w", err)
		}
	}
	s.SetToken(tok)
	return err
}

// Revoke ends the grant of the Source's current token at the service (the
// provider's revocation: Vimeo's DELETE /tokens, Simkl V2's RFC 7009
// endpoint), deletes it from Store, calls OnRevoked, and from then on
// answers ErrReauthRequired without touching the network until SetToken or
// SaveToken gives it a new token; a renewal in flight does not land. A
// Source with no token (in memory or in Store) has nothing to revoke at the
// service and is only marked. A Source whose provider cannot revoke
// (Viki, Simkl V1, NewSource) returns an error wrapping ErrUnsupportedGrant
// and changes nothing; so does a failed revocation, with the service's
// error, since the grant may still be alive.
func (s *Source) Revoke(ctx context.Context) error {
	if s.revoker == nil {
		return errorf("this Source's provider offers no revocation: %w", ErrUnsupportedGrant)
	}
	// A renewal in flight is detached before the revocation, so it cannot
	// land a token nobody will revoke.
	s.mu.Lock()
	s.gen++
	s.flight = nil
	s.mu.Unlock()
	tok := s.Current()
	if tok == nil && s.Store != nil {
		var err error
		if tok, err = s.load(ctx); err != nil {
			return err
		}
	}
	if tok != nil {
		if err := s.foreign(tok); err != nil {
			return err
		}
		if err := s.revoker(ctx, tok); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.replaceLocked(nil)
	if tok != nil {
		s.cur.Store(&entry{tok: tok, got: s.clock().Now(), dead: true, revoked: true})
	} else {
		s.cur.Store(&entry{tok: &Token{}, dead: true, revoked: true})
	}
	s.mu.Unlock()
	var err error
	if s.Store != nil {
		if err = s.Store.Delete(ctx, s.Key); err != nil {
			s.storeFailed(ctx, "delete", err)
			err = errorf("revoked, but not deleted from the store: %w", err)
		}
	}
	if tok != nil && s.OnRevoked != nil {
		s.OnRevoked(tok)
	}
	if o := s.Observer; tok != nil && o != nil {
		observe(ctx, o, Event{Kind: EventRevoked, Provider: s.provider, Op: "revoke", At: s.clock().Now()})
	}
	return err
}

// Current returns the cached token without minting, or nil.
func (s *Source) Current() *Token {
	if e := s.cur.Load(); e != nil && e.err == nil && e.tok.AccessToken != "" {
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
