// Package redisstore is a videoauth.Store kept in Redis, so the replicas of
// a service share one token per grant and one refresh lock per key: N
// replicas make one refresh, and each adopts the token another saved.
//
// It is a nested module (github.com/videoauth/videoauth/redisstore, with
// its own go.mod) so that programs importing only the core module never
// download or build the Redis client; those that want Redis import this
// one.
//
// Use it by handing a Source the store and the key its grant is stored
// under, in the Source's Store and Key fields:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	src.Store = redisstore.New(rdb)
//	src.Key = "vimeo/app"
//
// Any redis.UniversalClient works: a single node, Sentinel failover or a
// cluster. Every operation touches one key, so a cluster needs no hash
// tags. Tokens are stored as videoauth.EncodeToken writes them, under
// Prefix+"token:"+key; the refresh lock lives under Prefix+"lock:"+key.
//
// The lock is a lease: SET NX PX with a random value, released by a
// compare-and-delete script, as the Redis documentation's single-instance
// lock pattern describes. It excludes holders as long as the lease has not
// run out and the Redis node keeps its data; it is not Redlock, and a
// failover to a replica that missed the SET can let two holders in. For
// refreshing a token that is an acceptable risk: the worst case is one
// extra refresh.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/videoauth/videoauth"
)

// Defaults of the options.
const (
	// DefaultPrefix starts every key the store writes.
	DefaultPrefix = "videoauth:"
	// DefaultLease is how long a lock is held when its holder neither
	// releases it nor lives to. It must exceed the time a holder keeps the
	// lock: a Source takes it, re-reads the store, mints and saves within
	// one context bounded by Source.MintTimeout
	// (videoauth.DefaultMintTimeout, 30s). A lease shorter than that could
	// run out under a live holder, letting a second replica refresh too;
	// with providers that rotate refresh tokens, one of the two refreshes
	// would then invalidate the other's token. 60s leaves twice the default
	// mint time; raise it with WithLease when you raise MintTimeout.
	DefaultLease = 60 * time.Second
	// DefaultPollInterval is how often a waiter retries a held lock, on
	// average; each wait is jittered by ±50% so waiters on many replicas do
	// not retry in step.
	DefaultPollInterval = 25 * time.Millisecond
)

// releaseTimeout bounds the release of a lock, which runs detached from the
// locker's context (unlock takes none, and a cancelled request must still
// release).
const releaseTimeout = 5 * time.Second

// ErrLockLost is returned by a Store lock's unlock when the lock was no
// longer held by the caller: its lease ran out, and another holder may
// have taken the lock and acted (refreshed, saved) meanwhile. The caller's
// work under the lock was not exclusive; the token in the store is the one
// to trust.
var ErrLockLost = errors.New("redisstore: lock lost (lease ran out)")

// releaseScript deletes the lock only while it still holds our value, so a
// holder whose lease ran out cannot release a lock another has since taken.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// Store is a videoauth.Store in Redis. Create it with New; it is safe for
// concurrent use, and Store values built on different clients (in
// different processes) with the same prefix share tokens and locks.
type Store struct {
	client redis.UniversalClient
	prefix string
	lease  time.Duration
	poll   time.Duration
	err    error // a configuration error, returned by every method
}

var _ videoauth.Store = (*Store)(nil)

// Option changes a setting of New.
type Option func(*Store)

// WithPrefix sets the string that starts every key the store writes;
// DefaultPrefix when not given. Stores with different prefixes on the same
// Redis share nothing. An empty prefix is allowed.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// WithLease sets how long a lock outlives a holder that never releases it;
// 0 means DefaultLease. It must exceed the longest time a holder keeps the
// lock (for a videoauth.Source: its MintTimeout plus a Save); see
// DefaultLease. Less than a millisecond (other than 0) is a configuration
// error.
func WithLease(d time.Duration) Option {
	return func(s *Store) {
		switch {
		case d == 0:
			s.lease = DefaultLease
		case d < time.Millisecond:
			s.setErr("lease %v is less than a millisecond", d)
		default:
			s.lease = d
		}
	}
}

// WithPollInterval sets the mean time between a waiter's attempts to take a
// held lock; 0 means DefaultPollInterval. A negative interval is a
// configuration error.
func WithPollInterval(d time.Duration) Option {
	return func(s *Store) {
		switch {
		case d == 0:
			s.poll = DefaultPollInterval
		case d < 0:
			s.setErr("poll interval %v is negative", d)
		default:
			s.poll = d
		}
	}
}

func (s *Store) setErr(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("redisstore: %w: "+format, append([]any{videoauth.ErrInvalidConfig}, args...)...)
	}
}

// New returns a Store keeping tokens and locks in client. A nil client or a
// bad option does not panic: every method of the Store then returns an
// error wrapping videoauth.ErrInvalidConfig.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, prefix: DefaultPrefix, lease: DefaultLease, poll: DefaultPollInterval}
	if client == nil {
		s.setErr("nil Redis client")
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

func (s *Store) tokenKey(key string) string { return s.prefix + "token:" + key }
func (s *Store) lockKey(key string) string  { return s.prefix + "lock:" + key }

// Load implements videoauth.Store: it reads the token stored under key.
// A missing key gives an error wrapping videoauth.ErrNotStored; a value
// DecodeToken cannot read, or a key holding a Redis type other than a
// string, one wrapping videoauth.ErrStoreCorrupt.
func (s *Store) Load(ctx context.Context, key string) (*videoauth.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	b, err := s.client.Get(ctx, s.tokenKey(key)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, fmt.Errorf("redisstore: key %q: %w", key, videoauth.ErrNotStored)
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return nil, fmt.Errorf("redisstore: key %q: not a string value: %w", key, videoauth.ErrStoreCorrupt)
	case err != nil:
		return nil, fmt.Errorf("redisstore: load key %q: %w", key, err)
	}
	tok, err := videoauth.DecodeToken(b)
	if err != nil {
		return nil, fmt.Errorf("redisstore: key %q: %w", key, err)
	}
	return tok, nil
}

// Save implements videoauth.Store: it stores tok under key, replacing the
// value and its expiry.
//
// The key expires with the token only when nothing in it outlives the
// access token:
//   - a token with a refresh token never expires in Redis, whatever its
//     Expiry: the refresh token outlives the access token, and expiring
//     the key would lose the grant, leaving only a new sign-in;
//   - a token without one expires at its Expiry (PX, in milliseconds,
//     rounded up, measured from this process's clock);
//   - a token with a zero Expiry never expires.
//
// A token without a refresh token whose Expiry has already passed is
// worthless: Save deletes the key instead of storing it and returns nil,
// as if Redis had expired it at once. A later Load gives ErrNotStored and
// the caller mints afresh.
func (s *Store) Save(ctx context.Context, key string, tok *videoauth.Token) error {
	if s.err != nil {
		return s.err
	}
	b, err := videoauth.EncodeToken(tok)
	if err != nil {
		return fmt.Errorf("redisstore: key %q: %w", key, err)
	}
	args := []any{"set", s.tokenKey(key), b}
	if tok.RefreshToken == "" && !tok.Expiry.IsZero() {
		ttl := time.Until(tok.Expiry)
		if ttl <= 0 {
			if err := s.client.Del(ctx, s.tokenKey(key)).Err(); err != nil {
				return fmt.Errorf("redisstore: save key %q (expired token, deleting): %w", key, err)
			}
			return nil
		}
		args = append(args, "px", ceilMillis(ttl))
	}
	if err := s.client.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("redisstore: save key %q: %w", key, err)
	}
	return nil
}

// ceilMillis returns d in milliseconds, rounded up, at least 1.
func ceilMillis(d time.Duration) int64 {
	return max(1, int64((d+time.Millisecond-1)/time.Millisecond))
}

// Delete implements videoauth.Store: it removes key's token. Deleting a
// missing key is not an error. It leaves key's lock alone.
func (s *Store) Delete(ctx context.Context, key string) error {
	if s.err != nil {
		return s.err
	}
	if err := s.client.Del(ctx, s.tokenKey(key)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete key %q: %w", key, err)
	}
	return nil
}

// Lock implements videoauth.Store: it takes key's refresh lock, shared by
// every Store with the same prefix on the same Redis, waiting until it is
// free or ctx is done (then it returns ctx's error). Waiters poll every
// poll interval, jittered; there is no queue and no fairness.
//
// The lock is a lease: it ends on its own after the lease (see WithLease)
// if unlock is not called, so a holder that dies does not block the others
// for longer. unlock releases it only if it is still ours; when the lease
// ran out first it returns an error wrapping ErrLockLost and touches
// nothing. unlock may be called once: a second call returns an error
// wrapping videoauth.ErrInvalidConfig. If the release fails on the way to
// Redis, unlock returns that error and the lock ends with its lease.
func (s *Store) Lock(ctx context.Context, key string) (unlock func() error, err error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand since Go 1.24)
	val := hex.EncodeToString(raw[:])
	lk := s.lockKey(key)
	for {
		err := s.client.Do(ctx, "set", lk, val, "nx", "px", ceilMillis(s.lease)).Err()
		if err == nil {
			break
		}
		if !errors.Is(err, redis.Nil) {
			// The SET may have reached Redis before the failure (a ctx
			// that ended with the request in flight): release what might
			// be ours, so it does not block others for a whole lease.
			s.release(ctx, lk, val)
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			return nil, fmt.Errorf("redisstore: lock key %q: %w", key, err)
		}
		t := time.NewTimer(s.jitter())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	var mu sync.Mutex
	released := false
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		if released {
			return fmt.Errorf("redisstore: lock of key %q released twice: %w", key, videoauth.ErrInvalidConfig)
		}
		released = true
		n, err := s.release(ctx, lk, val)
		switch {
		case err != nil:
			return fmt.Errorf("redisstore: unlock key %q: %w", key, err)
		case n != 1:
			return fmt.Errorf("redisstore: unlock key %q: %w", key, ErrLockLost)
		}
		return nil
	}, nil
}

// release runs the compare-and-delete script, detached from ctx's
// cancellation, and returns how many keys it deleted (1 when the lock was
// still ours, else 0).
func (s *Store) release(ctx context.Context, lk, val string) (int64, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	return releaseScript.Run(rctx, s.client, []string{lk}, val).Int64()
}

// jitter returns the poll interval scaled by a random factor in [0.5, 1.5).
func (s *Store) jitter() time.Duration {
	return s.poll/2 + mrand.N(s.poll) // s.poll > 0: New ensures it
}
