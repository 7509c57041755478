package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/redisstore"
)

// redisClient returns a new client of the Redis server named by
// VIDEOAUTH_REDIS_URL, closed when the test ends. Without that variable the
// test is skipped, except under CI, where it fails.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	url := os.Getenv("VIDEOAUTH_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("VIDEOAUTH_REDIS_URL must be set in CI")
		}
		t.Skip("needs a Redis server: start one (redis-server --port 6399 --save '' --appendonly no) " +
			"and run with VIDEOAUTH_REDIS_URL=redis://127.0.0.1:6399/0; bash .ci/run does both")
	}
	opt, err := redis.ParseURL(url)
	require.NoError(t, err, "VIDEOAUTH_REDIS_URL")
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Ping(t.Context()).Err(), "Redis at VIDEOAUTH_REDIS_URL does not answer")
	return c
}

// testPrefix returns a key prefix unique to this test run, and deletes
// every key under it when the test ends (before the clients close).
func testPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", "*", "_", "?", "_", "[", "_", "]", "_", "\\", "_").Replace(t.Name())
	prefix := "videoauth-test:" + name + ":" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			_ = c.Del(ctx, keys...).Err()
		}
	})
	return prefix
}

// setup returns a store with a unique prefix, its client and the prefix.
func setup(t *testing.T, opts ...redisstore.Option) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	c := redisClient(t)
	prefix := testPrefix(t, c)
	return redisstore.New(c, append([]redisstore.Option{redisstore.WithPrefix(prefix)}, opts...)...), c, prefix
}

func pttl(t *testing.T, c *redis.Client, key string) int64 {
	t.Helper()
	n, err := c.Do(t.Context(), "pttl", key).Int64()
	require.NoError(t, err)
	return n
}

func fullToken() *videoauth.Token {
	return &videoauth.Token{
		Provider:     "vimeo",
		AccessToken:  "access-SECRET-123",
		TokenType:    "Bearer",
		RefreshToken: "refresh-SECRET-456",
		Expiry:       time.Date(2036, 5, 4, 3, 2, 1, 500_000_000, time.UTC),
		Scopes:       []string{"public", "private", "video_files"},
		UserID:       "12345",
		User:         json.RawMessage(`{"uri":"/users/12345","name":"Ann"}`),
		Extra:        map[string]json.RawMessage{"app": json.RawMessage(`{"name":"x"}`), "expires_on": json.RawMessage(`1700000000`)},
		Meta:         map[string]string{"generation": "7"},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s, c, prefix := setup(t)
	ctx := t.Context()
	want := fullToken()
	require.NoError(t, s.Save(ctx, "user/1", want))

	got, err := s.Load(ctx, "user/1")
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.NotSame(t, want, got)

	// The stored form is EncodeToken's, under prefix+"token:"+key.
	raw, err := c.Get(ctx, prefix+"token:user/1").Bytes()
	require.NoError(t, err)
	enc, err := videoauth.EncodeToken(want)
	require.NoError(t, err)
	assert.Equal(t, string(enc), string(raw))

	// Saving again replaces; keys are separate.
	other := &videoauth.Token{AccessToken: "other"}
	require.NoError(t, s.Save(ctx, "user/1", other))
	require.NoError(t, s.Save(ctx, "user/2", want))
	got, err = s.Load(ctx, "user/1")
	require.NoError(t, err)
	assert.Equal(t, other, got)
	got, err = s.Load(ctx, "user/2")
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// A store with another prefix sees none of it.
	_, err = redisstore.New(c, redisstore.WithPrefix(prefix+"other:")).Load(ctx, "user/1")
	assert.ErrorIs(t, err, videoauth.ErrNotStored)
}

func TestLoadMissing(t *testing.T) {
	s, _, _ := setup(t)
	_, err := s.Load(t.Context(), "nobody")
	require.ErrorIs(t, err, videoauth.ErrNotStored)
	assert.Contains(t, err.Error(), "nobody")
}

func TestLoadCorrupt(t *testing.T) {
	s, c, prefix := setup(t)
	ctx := t.Context()
	for name, val := range map[string]string{
		"not JSON":         "SECRET-garbage-value",
		"no access token":  `{"refresh_token":"SECRET-refresh"}`,
		"bad access token": `{"access_token":"SECRET-\u0001-token"}`,
	} {
		t.Run(name, func(t *testing.T) {
			key := "k-" + strings.ReplaceAll(name, " ", "-")
			require.NoError(t, c.Set(ctx, prefix+"token:"+key, val, 0).Err())
			_, err := s.Load(ctx, key)
			require.ErrorIs(t, err, videoauth.ErrStoreCorrupt)
			assert.NotContains(t, err.Error(), "SECRET")
			// The value is left in place for a human to inspect.
			left, err := c.Get(ctx, prefix+"token:"+key).Result()
			require.NoError(t, err)
			assert.Equal(t, val, left)
		})
	}
	t.Run("wrong Redis type", func(t *testing.T) {
		require.NoError(t, c.HSet(ctx, prefix+"token:hash", "access_token", "SECRET-in-hash").Err())
		_, err := s.Load(ctx, "hash")
		require.ErrorIs(t, err, videoauth.ErrStoreCorrupt)
		assert.NotContains(t, err.Error(), "SECRET")
	})
}

func TestDelete(t *testing.T) {
	s, c, prefix := setup(t)
	ctx := t.Context()
	require.NoError(t, s.Save(ctx, "k", fullToken()))
	require.NoError(t, s.Delete(ctx, "k"))
	_, err := s.Load(ctx, "k")
	require.ErrorIs(t, err, videoauth.ErrNotStored)
	n, err := c.Exists(ctx, prefix+"token:k").Result()
	require.NoError(t, err)
	assert.Zero(t, n)
	require.NoError(t, s.Delete(ctx, "k"), "deleting a missing key")
}

func TestSaveTTL(t *testing.T) {
	s, c, prefix := setup(t)
	ctx := t.Context()
	ms := func(d time.Duration) int64 { return d.Milliseconds() }

	t.Run("access token only expires with it", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "a", &videoauth.Token{AccessToken: "a", Expiry: time.Now().Add(2 * time.Hour)}))
		got := pttl(t, c, prefix+"token:a")
		assert.LessOrEqual(t, got, ms(2*time.Hour))
		assert.Greater(t, got, ms(2*time.Hour-2*time.Second))
	})
	t.Run("refresh token never expires", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "r", &videoauth.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(2 * time.Hour)}))
		assert.EqualValues(t, -1, pttl(t, c, prefix+"token:r"))
	})
	t.Run("zero expiry never expires", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "z", &videoauth.Token{AccessToken: "a"}))
		assert.EqualValues(t, -1, pttl(t, c, prefix+"token:z"))
	})
	t.Run("saving a refreshable token over an expiring one drops the TTL", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "o", &videoauth.Token{AccessToken: "a", Expiry: time.Now().Add(time.Hour)}))
		require.Positive(t, pttl(t, c, prefix+"token:o"))
		require.NoError(t, s.Save(ctx, "o", &videoauth.Token{AccessToken: "b", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}))
		assert.EqualValues(t, -1, pttl(t, c, prefix+"token:o"))
	})
	t.Run("an expired access token deletes the key", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "e", &videoauth.Token{AccessToken: "a"}))
		require.NoError(t, s.Save(ctx, "e", &videoauth.Token{AccessToken: "b", Expiry: time.Now().Add(-time.Second)}))
		_, err := s.Load(ctx, "e")
		assert.ErrorIs(t, err, videoauth.ErrNotStored)
	})
	t.Run("an expired token with a refresh token is kept", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "er", &videoauth.Token{AccessToken: "b", RefreshToken: "r", Expiry: time.Now().Add(-time.Hour)}))
		tok, err := s.Load(ctx, "er")
		require.NoError(t, err)
		assert.Equal(t, "r", tok.RefreshToken)
		assert.EqualValues(t, -1, pttl(t, c, prefix+"token:er"))
	})
	t.Run("no access token is refused", func(t *testing.T) {
		err := s.Save(ctx, "n", &videoauth.Token{RefreshToken: "SECRET"})
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		assert.NotContains(t, err.Error(), "SECRET")
		require.ErrorIs(t, s.Save(ctx, "n", nil), videoauth.ErrInvalidConfig)
	})
}

// TestLockExclusion takes the lock through two stores on two clients,
// stand-ins for two replicas.
func TestLockExclusion(t *testing.T) {
	s1, c1, prefix := setup(t)
	c2 := redisClient(t)
	s2 := redisstore.New(c2, redisstore.WithPrefix(prefix))
	ctx := t.Context()

	unlock1, err := s1.Lock(ctx, "k")
	require.NoError(t, err)

	// The second replica waits, and gives up with its ctx.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = s2.Lock(short, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// Another key is not held.
	unlockOther, err := s2.Lock(ctx, "other")
	require.NoError(t, err)
	require.NoError(t, unlockOther())

	// A waiter acquires once the holder unlocks, not before.
	var acquired atomic.Bool
	done := make(chan func() error, 1)
	go func() {
		u, err := s2.Lock(ctx, "k")
		if err != nil {
			close(done)
			return
		}
		acquired.Store(true)
		done <- u
	}()
	assert.Never(t, acquired.Load, 150*time.Millisecond, 10*time.Millisecond, "acquired a held lock")
	require.NoError(t, unlock1())
	unlock2, ok := <-done
	require.True(t, ok, "second Lock failed")

	// The first holder's second unlock is a misuse and touches nothing.
	require.ErrorIs(t, unlock1(), videoauth.ErrInvalidConfig)
	n, err := c1.Exists(ctx, prefix+"lock:k").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "a second unlock released the new holder's lock")

	require.NoError(t, unlock2())
	n, err = c1.Exists(ctx, prefix+"lock:k").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "unlock left the lock key")
}

// TestLockCancelledLeavesNoLock: a Lock whose ctx is already done returns
// its error and holds nothing afterwards.
func TestLockCancelledLeavesNoLock(t *testing.T) {
	s, c, prefix := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Lock(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	n, err := c.Exists(t.Context(), prefix+"lock:k").Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// lostReplyHook lets the SET NX of a Lock reach Redis, then ends the
// locker's ctx and loses the reply, as when ctx ends with the request in
// flight.
type lostReplyHook struct{ cancel context.CancelFunc }

func (h lostReplyHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h lostReplyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h lostReplyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cmd.Name() == "set" && err == nil {
			h.cancel()
			return context.Canceled
		}
		return err
	}
}

// TestLockLostReplyLeavesNoLock: when the SET that takes the lock succeeds
// but its reply is lost to a ctx that ended, Lock releases the lock it may
// hold instead of leaving it to block others for a whole lease.
func TestLockLostReplyLeavesNoLock(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c.AddHook(lostReplyHook{cancel: cancel})
	s := redisstore.New(c, redisstore.WithPrefix(prefix))
	_, err := s.Lock(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	n, err := redisClient(t).Exists(t.Context(), prefix+"lock:k").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a lock whose reply was lost stays held")
}

// TestLockLeaseExpiry: a holder that dies without unlocking blocks others
// only for its lease, and its late unlock neither succeeds nor releases
// the lock its successor took.
func TestLockLeaseExpiry(t *testing.T) {
	dead, c1, prefix := setup(t, redisstore.WithLease(200*time.Millisecond))
	c2 := redisClient(t)
	next := redisstore.New(c2, redisstore.WithPrefix(prefix))
	ctx := t.Context()
	lockKey := prefix + "lock:k"

	deadUnlock, err := dead.Lock(ctx, "k")
	require.NoError(t, err)
	deadVal, err := c1.Get(ctx, lockKey).Result()
	require.NoError(t, err)
	require.Positive(t, pttl(t, c1, lockKey), "lock without a lease")

	// The successor waits out the lease (bounded generously; it is 200ms).
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nextUnlock, err := next.Lock(wctx, "k")
	require.NoError(t, err, "the lock outlived its holder's lease")

	nextVal, err := c1.Get(ctx, lockKey).Result()
	require.NoError(t, err)
	require.NotEqual(t, deadVal, nextVal, "two holders share a lock value")

	err = deadUnlock()
	require.ErrorIs(t, err, redisstore.ErrLockLost)
	still, err := c1.Get(ctx, lockKey).Result()
	require.NoError(t, err, "the dead holder's unlock deleted the successor's lock")
	assert.Equal(t, nextVal, still)

	require.NoError(t, nextUnlock())

	// An unlock after the lease ran out with nobody else holding is lost too.
	lone, err := dead.Lock(ctx, "lone")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, err := c1.Exists(ctx, prefix+"lock:lone").Result()
		return err == nil && n == 0
	}, 10*time.Second, 20*time.Millisecond)
	require.ErrorIs(t, lone(), redisstore.ErrLockLost)
}

// TestLockContention: 50 goroutines on two clients take turns; a counter
// updated non-atomically under the lock (read, yield, write) loses no
// update, and no two holders are ever inside at once.
func TestLockContention(t *testing.T) {
	s1, _, prefix := setup(t)
	s2 := redisstore.New(redisClient(t), redisstore.WithPrefix(prefix))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	const n = 50
	var inside, maxInside, counter atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			unlock, err := s.Lock(ctx, "shared")
			if err != nil {
				errs <- err
				return
			}
			cur := inside.Add(1)
			for {
				m := maxInside.Load()
				if cur <= m || maxInside.CompareAndSwap(m, cur) {
					break
				}
			}
			v := counter.Load()
			time.Sleep(time.Millisecond)
			counter.Store(v + 1)
			inside.Add(-1)
			if err := unlock(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.EqualValues(t, 1, maxInside.Load(), "holders overlapped")
	assert.EqualValues(t, n, counter.Load(), "updates under the lock were lost")
}

// TestConfigErrors needs no Redis: bad configuration is reported by every
// method, never by a panic.
func TestConfigErrors(t *testing.T) {
	ctx := t.Context()
	for name, s := range map[string]*redisstore.Store{
		"nil client":    redisstore.New(nil),
		"tiny lease":    redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), redisstore.WithLease(time.Microsecond)),
		"negative poll": redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), redisstore.WithPollInterval(-time.Second)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Load(ctx, "k")
			assert.ErrorIs(t, err, videoauth.ErrInvalidConfig)
			assert.ErrorIs(t, s.Save(ctx, "k", &videoauth.Token{AccessToken: "a"}), videoauth.ErrInvalidConfig)
			assert.ErrorIs(t, s.Delete(ctx, "k"), videoauth.ErrInvalidConfig)
			_, err = s.Lock(ctx, "k")
			assert.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		})
	}
}

// TestRedisErrorsWrapped needs no Redis either: an unreachable server gives
// errors that say what failed and for which key.
func TestRedisErrorsWrapped(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	s := redisstore.New(c)
	ctx := t.Context()
	_, err := s.Load(ctx, "k")
	require.Error(t, err)
	assert.False(t, errors.Is(err, videoauth.ErrNotStored))
	assert.Contains(t, err.Error(), `redisstore: load key "k"`)
	err = s.Save(ctx, "k", &videoauth.Token{AccessToken: "SECRET"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Contains(t, err.Error(), `redisstore: save key "k"`)
	_, err = s.Lock(ctx, "k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `redisstore: lock key "k"`)
}
