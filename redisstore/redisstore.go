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
// The lock is a lease kept alive while it is held: SET NX PX with a random
// value, extended every third of the lease by a compare-and-PEXPIRE script
// while the holder works, and released by a compare-and-delete script, after
// the Redis documentation's single-instance lock pattern. So a holder that
// works longer than the lease (a slow token endpoint) keeps the lock to the
// end, while one that dies, or is cut off from Redis, blocks the others for
// one lease at most. When the lock is lost anyway — an extension finds it
// gone or taken over, or none reaches Redis before the lease runs out and
// the lock is gone — unlock reports ErrLockLost. It is not Redlock: a
// failover to a replica that missed the SET can let two holders in.
//
// The lock only keeps replicas from renewing at once; what keeps a stale
// renewal from winning is CompareAndSwap, one Lua script that writes a
// Source's renewed token only if the stored token is still the one it
// renewed. A holder whose lock was lost, or a renewal racing a new sign-in
// saved by another replica, therefore cannot overwrite a newer token: the
// newer token stays, and the Source adopts it. The worst case of a lost lock
// is one extra refresh; a Source whose own renewal was kept despite a lost
// lock hands its callers the new token with an error wrapping ErrLockLost.
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
	// DefaultLease is how long a lock outlives a holder that neither
	// releases it nor keeps it alive: one that died, or cannot reach Redis.
	// A live holder's lease is extended every third of it, so the lease
	// need not cover the time the holder keeps the lock (for a
	// videoauth.Source, its MintTimeout: a slow mint keeps the lock to its
	// end); it bounds how long a crashed replica blocks the others' renewals.
	DefaultLease = 15 * time.Second
	// DefaultPollInterval is how often a waiter retries a held lock, on
	// average; each wait is jittered by ±50% so waiters on many replicas do
	// not retry in step.
	DefaultPollInterval = 25 * time.Millisecond
)

// releaseTimeout bounds the release of a lock, which runs detached from the
// locker's context (unlock takes none, and a cancelled request must still
// release).
const releaseTimeout = 5 * time.Second

// ErrLockLost is reported by a Store lock's unlock when the lock was not
// held by the caller to the end: its lease ran out (the holder could not
// extend it in time: cut off from Redis, or paused for longer than a lease)
// or the lock was broken (deleted or taken over in Redis), and another
// holder may have taken the lock and acted (refreshed, saved) meanwhile. The
// caller's work under the lock was not exclusive; the token in the store is
// the one to trust (a Source's save is a CompareAndSwap, so a newer token
// saved meanwhile was kept).
//
// It is videoauth.ErrLockLost itself, so errors.Is matches either name.
var ErrLockLost = videoauth.ErrLockLost

// releaseScript deletes the lock only while it still holds our value, so a
// holder whose lease ran out cannot release a lock another has since taken.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// extendScript renews the lock's lease only while it still holds our value,
// so a holder that lost its lock cannot extend another's.
var extendScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
`)

// Results of casScript.
const (
	casSwapped   = 1  // the stored token was the expected one: tok written (or the key deleted)
	casChanged   = 0  // another token (or none, or one where none was expected) is stored
	casCorrupt   = -1 // the stored string is not a token
	casWrongType = -2 // the key holds another Redis type than a string
)

// casScript is CompareAndSwap in one atomic step. KEYS[1] is the token key;
// ARGV[1] is "1" when a token is expected there (its access token in
// ARGV[2]) and "0" when none is; ARGV[3] is what to do on a match: "set"
// ARGV[4], "px" (set ARGV[4] expiring in ARGV[5] ms) or "del". A stored
// value is read as a token the way videoauth.DecodeToken checks it: a JSON
// object whose access_token is a non-empty string of RFC 6749's VSCHAR
// (%x20-7E), with a refresh_token, if any, of VSCHAR too; anything else is
// corrupt and left in place.
var casScript = redis.NewScript(`
local t = redis.call("TYPE", KEYS[1]).ok
local cur = nil
if t == "string" then
	local ok, v = pcall(cjson.decode, redis.call("GET", KEYS[1]))
	if not ok or type(v) ~= "table" then
		return -1
	end
	local at, rt = v["access_token"], v["refresh_token"]
	if type(at) ~= "string" or at == "" or string.find(at, "[^ -~]") then
		return -1
	end
	if rt ~= nil and rt ~= cjson.null and (type(rt) ~= "string" or string.find(rt, "[^ -~]")) then
		return -1
	end
	cur = at
elseif t ~= "none" then
	return -2
end
if ARGV[1] == "1" then
	if cur ~= ARGV[2] then
		return 0
	end
elseif cur ~= nil then
	return 0
end
if ARGV[3] == "del" then
	redis.call("DEL", KEYS[1])
elseif ARGV[3] == "px" then
	redis.call("SET", KEYS[1], ARGV[4], "PX", ARGV[5])
else
	redis.call("SET", KEYS[1], ARGV[4])
end
return 1
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

// WithLease sets how long a lock outlives a holder that neither releases it
// nor keeps it alive (one that died, or is cut off from Redis); 0 means
// DefaultLease. A live holder extends its lease every third of it, so the
// lease need not cover the time it keeps the lock; it must exceed the
// round trip to Redis by a wide margin, since an extension that does not
// arrive within the lease loses the lock (unlock then reports ErrLockLost).
// Less than a millisecond (other than 0) is a configuration error.
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

// CompareAndSwap implements videoauth.Store: it stores tok under key, as
// Save does (the same value and the same expiry rules, including deleting
// the key for a token without a refresh token whose Expiry has passed),
// only if the token stored there is still old: one with old's access token,
// or, for a nil old, no token at all. Otherwise it changes nothing and
// returns an error wrapping videoauth.ErrStoreChanged. The comparison and
// the write are one Lua script, so they are atomic against every other
// Save, CompareAndSwap and Delete of key, from any replica.
//
// A stored value that is not a token (not a JSON object, no usable access
// token), or a key holding another Redis type than a string, gives an error
// wrapping videoauth.ErrStoreCorrupt and is left in place, as with Load. A
// tok that Save would refuse is refused the same way, before Redis is
// asked.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, tok *videoauth.Token) error {
	if s.err != nil {
		return s.err
	}
	b, err := videoauth.EncodeToken(tok)
	if err != nil {
		return fmt.Errorf("redisstore: key %q: %w", key, err)
	}
	expect, oldAccess := "0", ""
	if old != nil {
		expect, oldAccess = "1", old.AccessToken
	}
	args := []any{expect, oldAccess, "set", b, 0}
	if tok.RefreshToken == "" && !tok.Expiry.IsZero() {
		if ttl := time.Until(tok.Expiry); ttl <= 0 {
			args[2] = "del"
		} else {
			args[2], args[4] = "px", ceilMillis(ttl)
		}
	}
	n, err := casScript.Run(ctx, s.client, []string{s.tokenKey(key)}, args...).Int64()
	switch {
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return fmt.Errorf("redisstore: key %q: not a string value: %w", key, videoauth.ErrStoreCorrupt)
	case err != nil:
		return fmt.Errorf("redisstore: compare-and-swap key %q: %w", key, err)
	}
	switch n {
	case casSwapped:
		return nil
	case casChanged:
		return fmt.Errorf("redisstore: key %q: %w", key, videoauth.ErrStoreChanged)
	case casWrongType:
		return fmt.Errorf("redisstore: key %q: not a string value: %w", key, videoauth.ErrStoreCorrupt)
	default:
		return fmt.Errorf("redisstore: key %q: no usable token: %w", key, videoauth.ErrStoreCorrupt)
	}
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
// The lock is a lease (see WithLease) kept alive while it is held: every
// third of the lease the holder extends it, only while it still holds the
// holder's value. The extensions are detached from ctx, which bounds the
// wait, not the hold. So a holder keeps the lock however long it works, and
// a holder that dies, or is cut off from Redis, blocks the others for one
// lease at most; a holder that never calls unlock keeps the lock while its
// process lives.
//
// unlock stops the extensions and releases the lock only if it is still
// ours. It returns an error wrapping ErrLockLost, and touches nothing, when
// the lock was not held to the end: an extension found it gone or taken
// over, or no extension reached Redis before the lease ran out and the lock
// no longer holds our value. unlock may be called once: a second call
// returns an error wrapping videoauth.ErrInvalidConfig. If the release fails
// on the way to Redis, unlock returns that error (wrapping ErrLockLost too
// when the lease could not be extended in time) and the lock ends with its
// lease.
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
	var sent time.Time
	for {
		sent = time.Now()
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
	kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	k := &keeper{done: make(chan struct{}), held: sent}
	go s.keepAlive(kctx, lk, val, k)
	var mu sync.Mutex
	released := false
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		if released {
			return fmt.Errorf("redisstore: lock of key %q released twice: %w", key, videoauth.ErrInvalidConfig)
		}
		released = true
		stop()
		<-k.done // no extension runs from here on
		if k.broken {
			return fmt.Errorf("redisstore: unlock key %q: the lock was gone or taken over while held: %w", key, ErrLockLost)
		}
		n, err := s.release(ctx, lk, val)
		switch {
		case err != nil && (k.stale || !time.Now().Before(k.held.Add(s.lease))):
			return fmt.Errorf("redisstore: unlock key %q: the lease ran out unextended: %w; release: %w", key, ErrLockLost, err)
		case err != nil:
			return fmt.Errorf("redisstore: unlock key %q: %w", key, err)
		case n != 1:
			return fmt.Errorf("redisstore: unlock key %q: %w", key, ErrLockLost)
		}
		// Still ours, even if an extension failed: nobody else held it.
		return nil
	}, nil
}

// keeper is what a lock's keepAlive found, read by unlock once done is
// closed.
type keeper struct {
	done   chan struct{}
	broken bool // an extension found the lock gone or holding another value
	stale  bool // no extension reached Redis before the lease ran out
	// held is when the command that last set the lease was sent, so the
	// lease runs at least until held plus the lease.
	held time.Time
}

// keepAlive extends the lease of lock lk, holding val, every third of the
// lease until ctx is done (unlock), keeping k.held up to date. A failed
// extension is retried sooner, within what is left of the lease. keepAlive
// gives up, recording why in k, when an extension finds the lock not ours
// or none reaches Redis before the lease runs out.
func (s *Store) keepAlive(ctx context.Context, lk, val string, k *keeper) {
	defer close(k.done)
	every := s.lease / 3
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		end := k.held.Add(s.lease)
		sent := time.Now()
		if !sent.Before(end) {
			k.stale = true
			return
		}
		actx, cancel := context.WithDeadline(ctx, end)
		n, err := extendScript.Run(actx, s.client, []string{lk}, val, ceilMillis(s.lease)).Int64()
		cancel()
		switch {
		case err == nil && n == 1:
			k.held = sent
			t.Reset(every)
		case err == nil:
			k.broken = true
			return
		case ctx.Err() != nil:
			return // unlocked meanwhile
		default:
			left := time.Until(end)
			if left <= 0 {
				k.stale = true
				return
			}
			t.Reset(max(min(every, left/2), time.Millisecond))
		}
	}
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
