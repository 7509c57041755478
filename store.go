package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
)

// Store keeps tokens by key, so they survive restarts and are shared by the
// processes and replicas that use the same grant. A Source with a Store
// loads its token from it, saves every new token before handing it out, and
// refreshes under the store's lock, so N replicas make one refresh and adopt
// each other's tokens.
//
// Keys are chosen by the caller (a user id, "vimeo/app"); they are not
// secret. Implementations must be safe for concurrent use, must not keep a
// reference to a saved *Token, and must return a token the caller owns.
type Store interface {
	// Load returns the token stored under key. A key with no token gives an
	// error wrapping ErrNotStored; a stored value that cannot be read gives
	// one wrapping ErrStoreCorrupt.
	Load(ctx context.Context, key string) (*Token, error)
	// Save stores tok under key, replacing what was there. When it returns
	// nil the token is durable as far as the store promises.
	Save(ctx context.Context, key string, tok *Token) error
	// CompareAndSwap stores tok under key only if the token stored there is
	// still old (the same access token; nil: no token stored), and otherwise
	// changes nothing and returns an error wrapping ErrStoreChanged. The
	// comparison and the write are one atomic step against every other Save,
	// CompareAndSwap and Delete of key, in this process and, for a shared
	// store, in every other. A Source saves the token it renewed this way, so
	// neither a holder whose lock was lost meanwhile nor a renewal racing a
	// new sign-in (SaveToken, which uses Save) can overwrite a newer token.
	CompareAndSwap(ctx context.Context, key string, old, tok *Token) error
	// Delete removes key's token. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Lock takes key's refresh lock, waiting until it is free or ctx is
	// done. While it is held no other holder of the same store, in this
	// process or another, holds it; a lock that is a lease is kept alive
	// while its holder lives. unlock releases it, and reports an error
	// wrapping ErrLockLost when the lock was lost meanwhile. The lock only
	// keeps siblings from renewing at once; what keeps a stale save from
	// winning is CompareAndSwap.
	Lock(ctx context.Context, key string) (unlock func() error, err error)
}

var (
	// ErrNotStored means the store holds no token under the key.
	ErrNotStored = errors.New("videoauth: no stored token")
	// ErrStoreCorrupt means a stored value could not be read as a token. The
	// store leaves it in place for a human to inspect.
	ErrStoreCorrupt = errors.New("videoauth: stored token unreadable")
	// ErrStoreChanged means CompareAndSwap found another token than the one
	// it was to replace: someone saved a newer one meanwhile.
	ErrStoreChanged = errors.New("videoauth: stored token changed meanwhile")
	// ErrLockLost means a store lock was no longer held when it was
	// released or used: a lease ran out or the lock was broken, and another
	// holder may have had it meanwhile.
	ErrLockLost = errors.New("videoauth: store lock lost")
)

// sameToken reports whether a and b are the same grant's same token: nil
// for both, or the same access token.
func sameToken(a, b *Token) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.AccessToken == b.AccessToken
}

// storedToken is Token without its methods: encoding/json gives it the
// stored form, Token's fields under their tags, which is what json.Marshal
// of a Token gave before Token's MarshalJSON turned it into the redacted
// description. Being a conversion of Token, it cannot drift from it.
type storedToken Token

// EncodeToken returns the stored form of tok: the JSON of its fields under
// their tags, everything kept (json.Marshal of a Token gives the redacted
// description instead; see Token). Stores use it so every store writes the
// same format. A token DecodeToken would not read back (no access token,
// characters RFC 6749 forbids) is refused with an error wrapping
// ErrInvalidConfig.
func EncodeToken(tok *Token) ([]byte, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, errorf("cannot store a token without an access token: %w", ErrInvalidConfig)
	}
	if !vschar(tok.AccessToken) || !vschar(tok.RefreshToken) {
		// DecodeToken would refuse it: never write what cannot be read back.
		return nil, errorf("cannot store a token with characters RFC 6749 forbids: %w", ErrInvalidConfig)
	}
	b, err := json.Marshal((*storedToken)(tok))
	if err != nil { // an Expiry outside years 0–9999
		return nil, errorf("cannot store the token: %v: %w", err, ErrInvalidConfig)
	}
	return b, nil
}

// DecodeToken reads a token written by EncodeToken. Anything else — not
// JSON, not an object, no access token (the redacted description
// json.Marshal gives has none), a token with characters RFC 6749 forbids —
// gives an error wrapping ErrStoreCorrupt that quotes nothing of data.
func DecodeToken(data []byte) (*Token, error) {
	var st storedToken
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, errorf("not a token: %w", ErrStoreCorrupt)
	}
	tok := Token(st)
	if tok.AccessToken == "" || !vschar(tok.AccessToken) || !vschar(tok.RefreshToken) {
		return nil, errorf("no usable access token: %w", ErrStoreCorrupt)
	}
	return &tok, nil
}

// MemoryStore is a Store in this process's memory: the default for a
// service whose replicas do not share tokens, and a model for writing
// others. The zero value is ready to use.
type MemoryStore struct {
	mu sync.Mutex
	// toks holds each key's stored form behind a pointer to a string: fmt
	// prints a copied MemoryStore's unexported fields without asking any
	// method, and a pointer there prints as an address (a []byte, or a
	// pointer to a slice or struct, which fmt's %s follows, would print the
	// token).
	toks  map[string]*string
	locks map[string]*memLock // only keys locked or waited on now
}

// memLock is one key's lock: a full channel of one while held, and how many
// holders and waiters use it, so the map drops it when none does.
type memLock struct {
	ch    chan struct{}
	users int
}

// Load implements Store.
func (m *MemoryStore) Load(ctx context.Context, key string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	b, ok := m.toks[key]
	m.mu.Unlock()
	if !ok {
		return nil, errorf("key %q: %w", key, ErrNotStored)
	}
	return DecodeToken([]byte(*b))
}

// Save implements Store. It keeps the token's stored form, so the caller
// may change tok afterwards.
func (m *MemoryStore) Save(ctx context.Context, key string, tok *Token) error {
	return m.put(ctx, key, tok, func(*Token) error { return nil })
}

// CompareAndSwap implements Store.
func (m *MemoryStore) CompareAndSwap(ctx context.Context, key string, old, tok *Token) error {
	return m.put(ctx, key, tok, func(stored *Token) error {
		if !sameToken(stored, old) {
			return errorf("key %q: %w", key, ErrStoreChanged)
		}
		return nil
	})
}

// put stores tok under key once check accepts what is stored there now
// (nil: nothing), all under the store's mutex.
func (m *MemoryStore) put(ctx context.Context, key string, tok *Token, check func(stored *Token) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := EncodeToken(tok)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var stored *Token
	if cur, ok := m.toks[key]; ok {
		if stored, err = DecodeToken([]byte(*cur)); err != nil {
			return errorf("key %q: %w", key, err)
		}
	}
	if err := check(stored); err != nil {
		return err
	}
	if m.toks == nil {
		m.toks = map[string]*string{}
	}
	enc := string(b)
	m.toks[key] = &enc
	return nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.toks, key)
	m.mu.Unlock()
	return nil
}

// Lock implements Store. The lock excludes holders in this process only.
func (m *MemoryStore) Lock(ctx context.Context, key string) (func() error, error) {
	// A free lock and a done ctx would both be ready below, and select
	// picks at random: the ctx wins.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*memLock{}
	}
	l := m.locks[key]
	if l == nil {
		l = &memLock{ch: make(chan struct{}, 1)}
		m.locks[key] = l
	}
	l.users++
	m.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		m.release(key, l)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() error {
		err := errorf("lock of key %q released twice: %w", key, ErrInvalidConfig)
		once.Do(func() { <-l.ch; m.release(key, l); err = nil })
		return err
	}, nil
}

// release drops one user of key's lock, and the lock once unused.
func (m *MemoryStore) release(key string, l *memLock) {
	m.mu.Lock()
	if l.users--; l.users == 0 {
		delete(m.locks, key)
	}
	m.mu.Unlock()
}
