package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMemoryStoreBasics(t *testing.T) {
	ctx := context.Background()
	var m MemoryStore
	_, err := m.Load(ctx, "k")
	require.ErrorIs(t, err, ErrNotStored)
	require.NoError(t, m.Delete(ctx, "k"), "deleting a missing key")

	tok := &Token{Provider: "simkl", AccessToken: "a", RefreshToken: "r", Expiry: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Scopes: []string{"public"}, UserID: "7", User: json.RawMessage(`{"id":7}`), Extra: map[string]json.RawMessage{"x": json.RawMessage(`1`)}, Meta: map[string]string{"simkl_auth": "v2"}}
	require.NoError(t, m.Save(ctx, "k", tok))
	tok.Scopes[0] = "changed after Save"
	got, err := m.Load(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "public", got.Scopes[0], "the store keeps its own copy")
	got.AccessToken = "changed after Load"
	again, err := m.Load(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "a", again.AccessToken, "each Load returns a token the caller owns")

	require.ErrorIs(t, m.Save(ctx, "k", &Token{}), ErrInvalidConfig, "no access token")
	require.ErrorIs(t, m.Save(ctx, "k", nil), ErrInvalidConfig)
	require.ErrorIs(t, m.Save(ctx, "k", &Token{AccessToken: "a\n"}), ErrInvalidConfig, "Load could not read it back")
	require.ErrorIs(t, m.Save(ctx, "k", &Token{AccessToken: "a", RefreshToken: "\xff"}), ErrInvalidConfig)
	require.NoError(t, m.Delete(ctx, "k"))
	_, err = m.Load(ctx, "k")
	require.ErrorIs(t, err, ErrNotStored)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.Load(cancelled, "k")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, m.Save(cancelled, "k", again), context.Canceled)
	require.ErrorIs(t, m.Delete(cancelled, "k"), context.Canceled)
}

func TestMemoryStoreLock(t *testing.T) {
	ctx := context.Background()
	var m MemoryStore
	unlock, err := m.Lock(ctx, "k")
	require.NoError(t, err)

	other, err := m.Lock(ctx, "other key")
	require.NoError(t, err, "another key is not blocked")
	require.NoError(t, other())

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = m.Lock(short, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "held: the second waits until its ctx ends")

	got := make(chan func() error)
	go func() {
		u, err := m.Lock(ctx, "k")
		if err != nil {
			panic(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("acquired while held")
	case <-time.After(10 * time.Millisecond):
	}
	require.NoError(t, unlock())
	require.ErrorIs(t, unlock(), ErrInvalidConfig, "a second unlock")
	u2 := <-got
	require.NoError(t, u2())

	// A done ctx never takes a free lock (select would pick at random).
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	for range 100 {
		_, err := m.Lock(done, "k")
		require.ErrorIs(t, err, context.Canceled)
	}
	m.mu.Lock()
	require.Empty(t, m.locks, "no lock is kept for keys nobody holds or waits on")
	m.mu.Unlock()
}

// Mutual exclusion under contention: no two holders at once.
func TestMemoryStoreLockExcludes(t *testing.T) {
	var m MemoryStore
	var inside, overlaps atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 20 {
				unlock, err := m.Lock(context.Background(), "k")
				if err != nil {
					panic(err)
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				inside.Add(-1)
				if err := unlock(); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, overlaps.Load())
}

func TestDecodeTokenRejectsWhatIsNotAToken(t *testing.T) {
	const secret = "SENTINEL-stored-7c1d"
	for name, data := range map[string]string{
		"empty":          ``,
		"garbage":        `not json ` + secret,
		"null":           `null`,
		"array":          `["` + secret + `"]`,
		"truncated":      `{"access_token":"` + secret,
		"no access":      `{"refresh_token":"` + secret + `"}`,
		"empty access":   `{"access_token":"","refresh_token":"` + secret + `"}`,
		"wrong type":     `{"access_token":12}`,
		"control char":   `{"access_token":"` + secret + `\n"}`,
		"bad refresh":    `{"access_token":"a","refresh_token":"` + secret + `\u0000"}`,
		"invalid utf-8":  "{\"access_token\":\"\xff" + secret + "\"}",
		"bad expiry":     `{"access_token":"` + secret + `","expiry":"yesterday"}`,
		"trailing bytes": `{"access_token":"` + secret + `"} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := DecodeToken([]byte(data))
			require.Nil(t, tok)
			require.ErrorIs(t, err, ErrStoreCorrupt)
			require.NotContains(t, err.Error(), secret)
			require.NotContains(t, fmt.Sprintf("%+v %#v", err, err), secret)
		})
	}
	b, err := EncodeToken(&Token{AccessToken: "a"})
	require.NoError(t, err)
	tok, err := DecodeToken(b)
	require.NoError(t, err)
	require.Equal(t, "a", tok.AccessToken)
}

// stStore wraps a MemoryStore, counting calls and failing on demand.
type stStore struct {
	MemoryStore
	loads, saves, locks atomic.Int64
	failLoad, failSave  error
	failLock            error
}

func (s *stStore) Load(ctx context.Context, key string) (*Token, error) {
	s.loads.Add(1)
	if s.failLoad != nil {
		return nil, s.failLoad
	}
	return s.MemoryStore.Load(ctx, key)
}

func (s *stStore) Save(ctx context.Context, key string, tok *Token) error {
	s.saves.Add(1)
	if s.failSave != nil {
		return s.failSave
	}
	return s.MemoryStore.Save(ctx, key, tok)
}

func (s *stStore) CompareAndSwap(ctx context.Context, key string, old, tok *Token) error {
	s.saves.Add(1)
	if s.failSave != nil {
		return s.failSave
	}
	return s.MemoryStore.CompareAndSwap(ctx, key, old, tok)
}

func (s *stStore) Lock(ctx context.Context, key string) (func() error, error) {
	s.locks.Add(1)
	if s.failLock != nil {
		return nil, s.failLock
	}
	return s.MemoryStore.Lock(ctx, key)
}

func (s *stStore) stored(t *testing.T) *Token {
	t.Helper()
	tok, err := s.MemoryStore.Load(context.Background(), "user")
	require.NoError(t, err)
	return tok
}

// stMint mints "tok-N" living an hour from now on clk, from the refresh
// token it is given, and records which access token each mint replaced.
type stMint struct {
	clk      Clock
	n        atomic.Int64
	mu       sync.Mutex
	replaced []string
	err      error
	during   func() // runs inside the mint, before it answers
}

func (m *stMint) mint(_ context.Context, cur *Token) (*Token, error) {
	n := m.n.Add(1)
	m.mu.Lock()
	if cur != nil {
		m.replaced = append(m.replaced, cur.AccessToken)
	} else {
		m.replaced = append(m.replaced, "")
	}
	m.mu.Unlock()
	if m.during != nil {
		m.during()
	}
	if m.err != nil {
		return nil, m.err
	}
	// The refresh token rotates: losing the new one would lose the grant.
	return &Token{AccessToken: fmt.Sprintf("tok-%d", n), RefreshToken: fmt.Sprintf("refresh-%d", n), Expiry: m.clk.Now().Add(time.Hour)}, nil
}

func stSource(store Store, m *stMint, clk Clock) *Source {
	return &Source{Store: store, Key: "user", Mint: m.mint, Clock: clk}
}

func TestSourceLoadsFromTheStoreOnFirstUse(t *testing.T) {
	clk := newManualClock()
	store := &stStore{}
	require.NoError(t, store.Save(context.Background(), "user", &Token{AccessToken: "stored", Expiry: clk.Now().Add(time.Hour)}))
	m := &stMint{clk: clk}
	src := stSource(store, m, clk)
	for range 3 {
		tok, err := src.Token(context.Background())
		require.NoError(t, err)
		require.Equal(t, "stored", tok.AccessToken)
	}
	require.Zero(t, m.n.Load(), "a usable stored token is adopted, not re-minted")
	require.EqualValues(t, 1, store.loads.Load(), "loaded once, then served from memory")
	require.Zero(t, store.locks.Load(), "adopting needs no lock")

	// A Source with no Mint (a user token that cannot be renewed) adopts too.
	ro := &Source{Store: store, Key: "user", Clock: clk}
	tok, err := ro.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "stored", tok.AccessToken)

	// Nothing stored and no Mint: re-authorization is required.
	empty := &Source{Store: &MemoryStore{}, Key: "user", Clock: clk}
	_, err = empty.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
}

func TestSourceSavesEveryNewTokenBeforeHandingItOut(t *testing.T) {
	clk := newManualClock()
	store := &stStore{}
	m := &stMint{clk: clk}
	src := stSource(store, m, clk)
	var seenInStore []string
	src.OnToken = func(tok *Token) {
		// OnToken runs after the mint and before the save and any caller.
		seenInStore = append(seenInStore, tok.AccessToken)
	}
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok-1", tok.AccessToken)
	require.Equal(t, "tok-1", store.stored(t).AccessToken, "saved before Token returned")
	require.Equal(t, []string{"tok-1"}, seenInStore)

	clk.Advance(time.Hour) // expired
	tok, err = src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok-2", tok.AccessToken)
	require.Equal(t, "tok-2", store.stored(t).AccessToken)
	require.Equal(t, []string{"", "tok-1"}, m.replaced)
}

// Two Sources sharing a store (two replicas) meet the same expired token
// at once: one mint, both end with its token.
func TestSourcesSharingAStoreRefreshOnce(t *testing.T) {
	clk := newManualClock()
	store := &stStore{}
	require.NoError(t, store.Save(context.Background(), "user", &Token{AccessToken: "old", RefreshToken: "refresh", Expiry: clk.Now().Add(-time.Minute)}))
	m := &stMint{clk: clk}
	// The mint waits until both replicas have read the stale token and
	// asked for the lock, so the loser must read the store again under the
	// lock to see the winner's token.
	m.during = func() {
		deadline := time.Now().Add(5 * time.Second)
		for store.locks.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	a, b := stSource(store, m, clk), stSource(store, m, clk)
	var wg sync.WaitGroup
	got := make([]string, 200)
	for i := range got {
		src := a
		if i%2 == 1 {
			src = b
		}
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			if err != nil {
				panic(err)
			}
			got[i] = tok.AccessToken
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, m.n.Load(), "one refresh for both replicas")
	require.Equal(t, []string{"old"}, m.replaced, "refreshed from the stored token")
	for _, g := range got {
		require.Equal(t, "tok-1", g)
	}
	require.Equal(t, "tok-1", store.stored(t).AccessToken)
	require.Equal(t, "refresh-1", store.stored(t).RefreshToken, "the rotated refresh token is stored")
	require.Equal(t, "refresh-1", a.Current().RefreshToken)
	require.Equal(t, "refresh-1", b.Current().RefreshToken, "and both replicas hold it")
}

// A replica whose token was killed by a sibling's refresh (Simkl V2) adopts
// the sibling's token when the API rejects its own: no second refresh.
func TestSourceAdoptsASiblingsTokenAfterARejection(t *testing.T) {
	clk := newManualClock()
	store := &stStore{}
	require.NoError(t, store.Save(context.Background(), "user", &Token{AccessToken: "old", RefreshToken: "refresh", Expiry: clk.Now().Add(time.Hour)}))
	m := &stMint{clk: clk}
	a, b := stSource(store, m, clk), stSource(store, m, clk)
	old, err := b.Token(context.Background())
	require.NoError(t, err)
	// a is told its token was rejected and refreshes.
	ta, err := a.Token(context.Background())
	require.NoError(t, err)
	a.Invalidate(ta)
	ta, err = a.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok-1", ta.AccessToken)
	// b's old token is now rejected too.
	b.Invalidate(old)
	tb, err := b.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "tok-1", tb.AccessToken, "adopted")
	require.EqualValues(t, 1, m.n.Load())
}

// On invalid_grant the Source reads the store again: a process that does
// not take the lock may have rotated the grant meanwhile.
func TestSourceRereadsTheStoreOnInvalidGrant(t *testing.T) {
	clk := newManualClock()
	store := &stStore{}
	require.NoError(t, store.Save(context.Background(), "user", &Token{AccessToken: "old", RefreshToken: "refresh", Expiry: clk.Now().Add(-time.Minute)}))
	m := &stMint{clk: clk, err: &Error{Op: "refresh", Code: "invalid_grant", Err: ErrReauthRequired}}
	m.during = func() {
		// A sibling rotates the grant while our refresh is on the wire.
		require.NoError(t, store.MemoryStore.Save(context.Background(), "user", &Token{AccessToken: "sibling", RefreshToken: "refresh-2", Expiry: clk.Now().Add(time.Hour)}))
	}
	src := stSource(store, m, clk)
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, "sibling", tok.AccessToken)

	// Nothing new in the store: the invalid_grant stands, typed.
	store2 := &stStore{}
	require.NoError(t, store2.Save(context.Background(), "user", &Token{AccessToken: "old", RefreshToken: "refresh", Expiry: clk.Now().Add(-time.Minute)}))
	m2 := &stMint{clk: clk, err: m.err}
	src2 := stSource(store2, m2, clk)
	_, err = src2.Token(context.Background())
	require.ErrorIs(t, err, ErrReauthRequired)
	require.EqualValues(t, 1, m2.n.Load())
}

func TestSourceStoreFailures(t *testing.T) {
	clk := newManualClock()
	boom := errors.New("store down")
	t.Run("corrupt store: no mint, typed error", func(t *testing.T) {
		m := &stMint{clk: clk}
		src := stSource(&stStore{failLoad: errorf("key %q: %w", "user", ErrStoreCorrupt)}, m, clk)
		_, err := src.Token(context.Background())
		require.ErrorIs(t, err, ErrStoreCorrupt)
		require.Zero(t, m.n.Load())
	})
	t.Run("lock fails: no mint", func(t *testing.T) {
		m := &stMint{clk: clk}
		src := stSource(&stStore{failLock: boom}, m, clk)
		_, err := src.Token(context.Background())
		require.ErrorIs(t, err, boom)
		require.Zero(t, m.n.Load())
	})
	t.Run("save fails: the token is kept, the error reported", func(t *testing.T) {
		m := &stMint{clk: clk}
		store := &stStore{failSave: boom}
		src := stSource(store, m, clk)
		tok, err := src.Token(context.Background())
		require.ErrorIs(t, err, boom)
		require.Equal(t, "tok-1", tok.AccessToken)
		tok, err = src.Token(context.Background())
		require.NoError(t, err)
		require.Equal(t, "tok-1", tok.AccessToken, "cached, not lost, not minted again")
		require.EqualValues(t, 1, m.n.Load())
	})
}

func TestSourceSaveToken(t *testing.T) {
	clk := newManualClock()
	store := &stStore{}
	src := stSource(store, &stMint{clk: clk}, clk)
	require.NoError(t, src.SaveToken(context.Background(), &Token{AccessToken: "signed-in", Expiry: clk.Now().Add(time.Hour)}))
	require.Equal(t, "signed-in", store.stored(t).AccessToken)
	require.Equal(t, "signed-in", src.Current().AccessToken)

	store.failSave = errors.New("disk full")
	err := src.SaveToken(context.Background(), &Token{AccessToken: "second", Expiry: clk.Now().Add(time.Hour)})
	require.ErrorIs(t, err, store.failSave)
	require.True(t, strings.Contains(err.Error(), "not saved"))
	require.Equal(t, "second", src.Current().AccessToken, "cached even so")

	plain := &Source{}
	require.NoError(t, plain.SaveToken(context.Background(), &Token{AccessToken: "x"}))
	require.Equal(t, "x", plain.Current().AccessToken)
}

func TestMemoryStoreCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	m := &MemoryStore{}
	a, b, c := &Token{AccessToken: "a"}, &Token{AccessToken: "b"}, &Token{AccessToken: "c"}
	require.ErrorIs(t, m.CompareAndSwap(ctx, "k", a, b), ErrStoreChanged, "nothing stored, a expected")
	require.NoError(t, m.CompareAndSwap(ctx, "k", nil, a), "nothing stored, nothing expected")
	require.ErrorIs(t, m.CompareAndSwap(ctx, "k", nil, b), ErrStoreChanged, "a stored, nothing expected")
	require.ErrorIs(t, m.CompareAndSwap(ctx, "k", c, b), ErrStoreChanged)
	got, err := m.Load(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "a", got.AccessToken, "a refused swap changes nothing")
	require.NoError(t, m.CompareAndSwap(ctx, "k", &Token{AccessToken: "a", RefreshToken: "other"}, b), "compared by access token")
	got, _ = m.Load(ctx, "k")
	require.Equal(t, "b", got.AccessToken)
	require.ErrorIs(t, m.CompareAndSwap(ctx, "k", b, &Token{}), ErrInvalidConfig)
	done, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, m.CompareAndSwap(done, "k", b, c), context.Canceled)

	// Many racing swaps from the same token: exactly one wins.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if m.CompareAndSwap(ctx, "k", b, &Token{AccessToken: fmt.Sprintf("w%d", i)}) == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, wins.Load())
}

// Replica A holds the store's lock, has read the store and is refreshing
// the old grant when replica B saves a new sign-in with SaveToken. A's
// renewal must not overwrite it: the store keeps the new sign-in, A adopts
// it, and a replica that loads later gets it too.
func TestSaveTokenDuringASiblingsRenewal(t *testing.T) {
	ctx := context.Background()
	clk := newManualClock()
	store := &MemoryStore{}
	old := &Token{AccessToken: "old", RefreshToken: "old-rt", Expiry: clk.Now().Add(time.Minute)}
	require.NoError(t, store.Save(ctx, "user", old))
	inMint, release := make(chan struct{}), make(chan struct{})
	a := &Source{Store: store, Key: "user", Clock: clk, Mint: func(context.Context, *Token) (*Token, error) {
		close(inMint)
		<-release
		return &Token{AccessToken: "old-renewed", RefreshToken: "old-rt-2", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	var aSaw []string
	a.OnToken = func(t *Token) { aSaw = append(aSaw, t.AccessToken) }
	b := &Source{Store: store, Key: "user", Clock: clk, Mint: func(context.Context, *Token) (*Token, error) {
		t.Error("B must not mint")
		return nil, ErrServer
	}}
	clk.Advance(time.Minute) // old is expired
	got := make(chan *Token, 1)
	go func() {
		tok, err := a.Token(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- tok
	}()
	<-inMint // A holds the lock and refreshes
	signIn := &Token{AccessToken: "new-sign-in", RefreshToken: "new-rt", Expiry: clk.Now().Add(time.Hour)}
	require.NoError(t, b.SaveToken(ctx, signIn))
	close(release)

	require.Equal(t, "new-sign-in", (<-got).AccessToken, "A adopts the new sign-in")
	stored, err := store.Load(ctx, "user")
	require.NoError(t, err)
	require.Equal(t, "new-sign-in", stored.AccessToken, "the store keeps the new sign-in")
	require.Empty(t, aSaw, "A's dropped renewal is not reported")
	c := &Source{Store: store, Key: "user", Clock: clk}
	tok, err := c.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "new-sign-in", tok.AccessToken, "a replica that loads later gets it")
}

// A store lock lost during a renewal is reported to the mint's callers,
// not dropped; the token is kept.
func TestLostStoreLockIsReported(t *testing.T) {
	clk := newManualClock()
	store := &lostLockStore{}
	m := &stMint{clk: clk}
	src := &Source{Store: store, Key: "user", Mint: m.mint, Clock: clk}
	tok, err := src.Token(context.Background())
	require.ErrorIs(t, err, ErrLockLost)
	require.NotNil(t, tok)
	require.Equal(t, "tok-1", tok.AccessToken)
	tok, err = src.Token(context.Background())
	require.NoError(t, err, "cached: the next call gets it without an error")
	require.Equal(t, "tok-1", tok.AccessToken)
	require.EqualValues(t, 1, m.n.Load())
}

// lostLockStore is a MemoryStore whose locks are lost while held.
type lostLockStore struct{ MemoryStore }

func (s *lostLockStore) Lock(ctx context.Context, key string) (func() error, error) {
	unlock, err := s.MemoryStore.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	return func() error {
		if err := unlock(); err != nil {
			return err
		}
		return errorf("lease ran out: %w", ErrLockLost)
	}, nil
}

// FuzzDecodeToken: whatever bytes a store holds, DecodeToken gives a token
// with a usable access token that survives EncodeToken again, or an error
// wrapping ErrStoreCorrupt that quotes nothing of the bytes.
func FuzzDecodeToken(f *testing.F) {
	for _, s := range []string{
		`{"provider":"simkl","access_token":"simkl_at_x","refresh_token":"simkl_rt_y","expiry":"2026-11-22T10:00:00Z","scopes":["public"],"meta":{"simkl_auth":"v2"}}`,
		`{"access_token":"a"}`, `{"access_token":""}`, `null`, `[]`, ``, `{"access_token":"a\u0000"}`,
		"{\"access_token\":\"\xff\"}", `{"access_token":"a","expiry":"9999-12-31T23:59:59Z","user":{"id":1},"extra":{"x":[1]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := DecodeToken(data)
		if err != nil {
			require.Nil(t, tok)
			require.ErrorIs(t, err, ErrStoreCorrupt)
			if len(data) >= 8 {
				require.NotContains(t, err.Error(), string(data))
			}
			return
		}
		require.NotEmpty(t, tok.AccessToken)
		require.True(t, vschar(tok.AccessToken) && vschar(tok.RefreshToken))
		b, err := EncodeToken(tok)
		require.NoError(t, err, "a token that decodes can be stored again")
		again, err := DecodeToken(b)
		require.NoError(t, err)
		require.Equal(t, tok.AccessToken, again.AccessToken)
		require.True(t, tok.Expiry.Equal(again.Expiry))
	})
}
