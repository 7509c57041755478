package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FileStore is a Store.
var _ Store = (*FileStore)(nil)

// fsNewStore returns a FileStore in a fresh directory.
func fsNewStore(t *testing.T) *FileStore {
	t.Helper()
	s, err := NewFileStore(filepath.Join(t.TempDir(), "tokens"))
	require.NoError(t, err)
	return s
}

// fsFullToken returns a token with every field set, as JSON gives it back.
func fsFullToken(access string) *Token {
	return &Token{
		Provider:     "vimeo",
		AccessToken:  access,
		TokenType:    "Bearer",
		RefreshToken: "rt-" + access,
		Expiry:       time.Date(2031, 2, 3, 4, 5, 6, 7, time.UTC),
		Scopes:       []string{"public", "private", "upload"},
		UserID:       "user-42",
		User:         json.RawMessage(`{"name":"Ann","uri":"/users/42"}`),
		Extra:        map[string]json.RawMessage{"app": json.RawMessage(`{"name":"cli"}`), "expires_on": json.RawMessage(`1234567890`)},
		Meta:         map[string]string{"generation": "v2", "note": "x"},
	}
}

// fsTokenPath is the file holding key's token.
func fsTokenPath(s *FileStore, key string) string {
	return filepath.Join(s.Dir(), encodeFileStoreKey(key)+".json")
}

// fsNames lists the names in dir, sorted.
func fsNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// fsMode is the permission bits of path.
func fsMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	want := fsFullToken("at-1")
	require.NoError(t, s.Save(ctx, "vimeo/user-42", want))

	got, err := s.Load(ctx, "vimeo/user-42")
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.NotSame(t, want, got)

	// The store keeps no reference to the saved token...
	want.AccessToken = "changed"
	want.Meta["note"] = "changed"
	again, err := s.Load(ctx, "vimeo/user-42")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at-1"), again)
	// ...and hands out a token the caller owns.
	again.Scopes[0] = "mutated"
	third, err := s.Load(ctx, "vimeo/user-42")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at-1"), third)

	// The file is EncodeToken's format.
	data, err := os.ReadFile(filepath.Join(s.Dir(), "vimeo%2Fuser-42.json"))
	require.NoError(t, err)
	enc, err := EncodeToken(fsFullToken("at-1"))
	require.NoError(t, err)
	require.Equal(t, enc, data)

	// Save replaces.
	require.NoError(t, s.Save(ctx, "vimeo/user-42", fsFullToken("at-2")))
	got, err = s.Load(ctx, "vimeo/user-42")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at-2"), got)

	keys, err := s.Keys(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"vimeo/user-42"}, keys)
}

func TestFileStoreModes(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()

	t.Run("created directory is 0700", func(t *testing.T) {
		dir := filepath.Join(root, "new", "nested")
		s, err := NewFileStore(dir)
		require.NoError(t, err)
		require.Equal(t, dir, s.Dir())
		require.Equal(t, fs.FileMode(0o700), fsMode(t, dir))
		require.Equal(t, fs.FileMode(0o700), fsMode(t, filepath.Join(root, "new")))
	})

	t.Run("existing open directory is tightened to 0700", func(t *testing.T) {
		dir := filepath.Join(root, "open")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, 0o755))
		_, err := NewFileStore(dir)
		require.NoError(t, err)
		require.Equal(t, fs.FileMode(0o700), fsMode(t, dir))
	})

	t.Run("token and lock files are 0600", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, "k", fsFullToken("at")))
		require.Equal(t, fs.FileMode(0o600), fsMode(t, fsTokenPath(s, "k")))
		require.Equal(t, fs.FileMode(0o700), fsMode(t, s.Dir()))

		unlock, err := s.Lock(ctx, "k")
		require.NoError(t, err)
		require.NoError(t, unlock())
		// The lock files stay, private: the refresh lock's and the one
		// every write takes.
		require.Equal(t, fs.FileMode(0o600), fsMode(t, filepath.Join(s.Dir(), "k.lock")))
		require.Equal(t, fs.FileMode(0o600), fsMode(t, filepath.Join(s.Dir(), "k.save.lock")))
	})

	t.Run("readable token file is tightened on Load", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, "k", fsFullToken("at")))
		require.NoError(t, os.Chmod(fsTokenPath(s, "k"), 0o644))
		got, err := s.Load(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at"), got)
		require.Equal(t, fs.FileMode(0o600), fsMode(t, fsTokenPath(s, "k")))
	})

	t.Run("relative directory is made absolute", func(t *testing.T) {
		t.Chdir(root)
		s, err := NewFileStore("rel")
		require.NoError(t, err)
		require.Equal(t, filepath.Join(root, "rel"), s.Dir())
	})
}

func TestFileStoreNewErrors(t *testing.T) {
	_, err := NewFileStore("")
	require.ErrorIs(t, err, ErrInvalidConfig)

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = NewFileStore(file)
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewFileStore(filepath.Join(file, "sub"))
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestFileStoreAtomicSave(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	const key = "simkl/user 7"
	name := encodeFileStoreKey(key)
	require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
	// No temporary file is left behind; the write lock file stays, as lock
	// files do.
	require.Equal(t, []string{name + ".json", name + ".save.lock"}, fsNames(t, s.Dir()))

	t.Run("failure before the rename", func(t *testing.T) {
		s.testHookBeforeRename = func(tmp string) error {
			// The new token sits complete and private in a temporary file
			// of the same directory, while the token file still holds the
			// old one.
			assert.Equal(t, s.Dir(), filepath.Dir(tmp))
			assert.True(t, strings.HasPrefix(filepath.Base(tmp), "."+name+".tmp"), filepath.Base(tmp))
			assert.Equal(t, fs.FileMode(0o600), fsMode(t, tmp))
			data, err := os.ReadFile(tmp)
			assert.NoError(t, err)
			want, _ := EncodeToken(fsFullToken("at-2"))
			assert.Equal(t, want, data)
			got, err := s.Load(ctx, key)
			assert.NoError(t, err)
			assert.Equal(t, fsFullToken("at-1"), got)
			keys, err := s.Keys(ctx)
			assert.NoError(t, err)
			assert.Equal(t, []string{key}, keys)
			return errors.New("simulated crash")
		}
		defer func() { s.testHookBeforeRename = nil }()
		err := s.Save(ctx, key, fsFullToken("at-2"))
		require.ErrorContains(t, err, "simulated crash")
		require.Equal(t, []string{name + ".json", name + ".save.lock"}, fsNames(t, s.Dir()), "temporary file removed")
		got, err := s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at-1"), got)
	})

	t.Run("stray temporary files from a crash are ignored", func(t *testing.T) {
		full, err := EncodeToken(fsFullToken("at-crashed"))
		require.NoError(t, err)
		stray := filepath.Join(s.Dir(), "."+name+".tmp123456")
		require.NoError(t, os.WriteFile(stray, full[:len(full)/2], 0o600))
		orphan := filepath.Join(s.Dir(), ".other.tmp987")
		require.NoError(t, os.WriteFile(orphan, full, 0o600))

		got, err := s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at-1"), got)
		_, err = s.Load(ctx, "other")
		require.ErrorIs(t, err, ErrNotStored)
		keys, err := s.Keys(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{key}, keys)

		// Saving still works and leaves the strays alone.
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-3")))
		got, err = s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at-3"), got)
		require.Equal(t, []string{".other.tmp987", "." + name + ".tmp123456", name + ".json", name + ".save.lock"}, fsNames(t, s.Dir()))
	})
}

func TestFileStoreCorrupt(t *testing.T) {
	ctx := t.Context()
	const secret = "S3CR3T"
	big := func(n int) []byte {
		head := `{"access_token":"` + secret + `-at","pad":"`
		tail := `"}`
		return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
	}
	cases := []struct {
		name string
		data []byte
		dir  bool // a directory instead of a file
	}{
		{name: "garbage", data: []byte(secret + " garbage \x00\xff not json")},
		{name: "truncated JSON", data: []byte(`{"access_token":"` + secret + `-at","refresh_token":"` + secret + `-rt","exp`)},
		{name: "null", data: []byte("null")},
		{name: "empty", data: []byte{}},
		{name: "array", data: []byte(`["` + secret + `"]`)},
		{name: "no access_token", data: []byte(`{"refresh_token":"` + secret + `-rt","token_type":"Bearer"}`)},
		{name: "access_token with a control character", data: []byte(`{"access_token":"` + secret + `\u0000"}`)},
		{name: "1 MiB + 1", data: big(1<<20 + 1)},
		{name: "directory", dir: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fsNewStore(t)
			const key = "vimeo/ann"
			path := fsTokenPath(s, key)
			if tc.dir {
				require.NoError(t, os.Mkdir(path, 0o700))
			} else {
				require.NoError(t, os.WriteFile(path, tc.data, 0o600))
			}
			check := func(err error) {
				t.Helper()
				require.ErrorIs(t, err, ErrStoreCorrupt)
				require.NotErrorIs(t, err, ErrNotStored)
				require.Contains(t, err.Error(), path, "the error names the file")
				require.NotContains(t, err.Error(), secret)
				if len(tc.data) > 8 {
					require.NotContains(t, err.Error(), string(tc.data))
				}
				require.NotContains(t, fmt.Sprintf("%+v", err), secret)
			}

			_, err := s.Load(ctx, key)
			check(err)

			// Save refuses and leaves the file as it is; so does
			// CompareAndSwap, whatever token it expects.
			check(s.Save(ctx, key, fsFullToken("at-new")))
			for _, old := range []*Token{nil, fsFullToken(secret + "-at")} {
				err := s.CompareAndSwap(ctx, key, old, fsFullToken("at-new"))
				check(err)
				require.NotErrorIs(t, err, ErrStoreChanged)
			}
			if !tc.dir {
				data, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Equal(t, tc.data, data)
			}
			// No temporary file is left; the write lock file stays.
			require.Equal(t, []string{"vimeo%2Fann.json", "vimeo%2Fann.save.lock"}, fsNames(t, s.Dir()))

			// Load again: still there, still corrupt.
			_, err = s.Load(ctx, key)
			check(err)

			keys, err := s.Keys(ctx)
			require.NoError(t, err)
			if tc.dir {
				require.Empty(t, keys)
			} else {
				require.Equal(t, []string{key}, keys, "a corrupt token file is listed")
			}

			// Delete is the way out.
			require.NoError(t, s.Delete(ctx, key))
			_, err = os.Stat(path)
			require.ErrorIs(t, err, fs.ErrNotExist)
			_, err = s.Load(ctx, key)
			require.ErrorIs(t, err, ErrNotStored)
			require.NoError(t, s.Save(ctx, key, fsFullToken("at-new")))
			got, err := s.Load(ctx, key)
			require.NoError(t, err)
			require.Equal(t, fsFullToken("at-new"), got)
		})
	}

	t.Run("exactly 1 MiB loads", func(t *testing.T) {
		s := fsNewStore(t)
		data := big(1 << 20)
		require.Len(t, data, 1<<20)
		require.NoError(t, os.WriteFile(fsTokenPath(s, "k"), data, 0o600))
		got, err := s.Load(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, secret+"-at", got.AccessToken)
	})
}

func TestFileStoreMissing(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	_, err := s.Load(ctx, "nobody")
	require.ErrorIs(t, err, ErrNotStored)
	require.NotErrorIs(t, err, ErrStoreCorrupt)
	require.NoError(t, s.Delete(ctx, "nobody"))
	keys, err := s.Keys(ctx)
	require.NoError(t, err)
	require.Empty(t, keys)

	require.NoError(t, s.Save(ctx, "somebody", fsFullToken("at")))
	require.NoError(t, s.Delete(ctx, "somebody"))
	require.NoError(t, s.Delete(ctx, "somebody"))
	_, err = s.Load(ctx, "somebody")
	require.ErrorIs(t, err, ErrNotStored)
}

func TestFileStoreKeyEncoding(t *testing.T) {
	ctx := t.Context()
	cases := []struct{ key, name string }{
		{"vimeo/user-42", "vimeo%2Fuser-42"},
		{"../etc/passwd", "%2E%2E%2Fetc%2Fpasswd"},
		{"a/b", "a%2Fb"},
		{".", "%2E"},
		{"..", "%2E%2E"},
		{"%", "%25"},
		{"%2F", "%252F"},
		{`a\b`, "a%5Cb"},
		{"x\x00y", "x%00y"},
		{"key.json", "key%2Ejson"},
		{"a b", "a%20b"},
		{" ", "%20"},
		{"é", "%C3%A9"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{"\xff", "%FF"},
		{"A_z-09", "A_z-09"},
	}
	root := t.TempDir()
	s, err := NewFileStore(filepath.Join(root, "store"))
	require.NoError(t, err)
	var keys []string
	for _, tc := range cases {
		require.Equal(t, tc.name, encodeFileStoreKey(tc.key), "encode %q", tc.key)
		back, ok := decodeFileStoreKey(tc.name)
		require.True(t, ok, "decode %q", tc.name)
		require.Equal(t, tc.key, back)

		require.NoError(t, s.Save(ctx, tc.key, fsFullToken("at")), "key %q", tc.key)
		fi, err := os.Stat(filepath.Join(s.Dir(), tc.name+".json"))
		require.NoError(t, err, "key %q", tc.key)
		require.True(t, fi.Mode().IsRegular())
		got, err := s.Load(ctx, tc.key)
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at"), got)
		keys = append(keys, tc.key)
	}
	// Nothing was written outside the store's directory.
	require.Equal(t, []string{"store"}, fsNames(t, root))

	slices.Sort(keys)
	got, err := s.Keys(ctx)
	require.NoError(t, err)
	require.Equal(t, keys, got)

	t.Run("Keys ignores what the store did not make", func(t *testing.T) {
		for _, junk := range []string{"junk.txt", "%2f.json", "%41.json", "a.b.json", ".json", ".hidden.json", "%2.json"} {
			require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), junk), []byte("{}"), 0o600))
		}
		require.NoError(t, os.Mkdir(filepath.Join(s.Dir(), "sub.json"), 0o700))
		unlock, err := s.Lock(ctx, "locked-only")
		require.NoError(t, err)
		require.NoError(t, unlock())
		// A key saved and deleted leaves its write lock file only.
		require.NoError(t, s.Save(ctx, "deleted", fsFullToken("at")))
		require.NoError(t, s.Delete(ctx, "deleted"))
		for _, lock := range []string{"locked-only.lock", "deleted.save.lock", encodeFileStoreKey(cases[0].key) + ".save.lock"} {
			_, err := os.Stat(filepath.Join(s.Dir(), lock))
			require.NoError(t, err, "lock file %s is there", lock)
		}
		got, err := s.Keys(ctx)
		require.NoError(t, err)
		require.Equal(t, keys, got)
	})

	t.Run("decode rejects non-canonical names", func(t *testing.T) {
		for _, name := range []string{"", "a.b", "%", "%2", "%2f", "%41", "%5f", "%ZZ", "a b", "é", "%2E%", ".x", "a/b", `a\b`} {
			_, ok := decodeFileStoreKey(name)
			require.False(t, ok, "decode %q", name)
		}
	})
}

func TestFileStoreKeyLimits(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	ops := []struct {
		name string
		op   func(key string) error
	}{
		{"Load", func(key string) error { _, err := s.Load(ctx, key); return err }},
		{"Delete", func(key string) error { return s.Delete(ctx, key) }},
		{"Lock", func(key string) error {
			unlock, err := s.Lock(ctx, key)
			if err == nil {
				err = unlock()
			}
			return err
		}},
		{"Save", func(key string) error { return s.Save(ctx, key, fsFullToken("at")) }},
		{"CompareAndSwap", func(key string) error {
			// Saved by Save above for the keys the store takes.
			return s.CompareAndSwap(ctx, key, fsFullToken("at"), fsFullToken("at"))
		}},
	}
	for _, o := range ops {
		for _, key := range []string{"", strings.Repeat("a", 201), strings.Repeat("/", 67)} {
			require.ErrorIs(t, o.op(key), ErrInvalidConfig, "%s of a %d-byte key", o.name, len(key))
		}
		for _, key := range []string{strings.Repeat("a", 200), strings.Repeat("/", 66)} {
			err := o.op(key)
			require.False(t, errors.Is(err, ErrInvalidConfig), "%s of a %d-byte key: %v", o.name, len(key), err)
		}
	}
	keys, err := s.Keys(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{strings.Repeat("/", 66), strings.Repeat("a", 200)}, keys)
}

func TestFileStoreSaveRefusesUnloadableTokens(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	for _, tok := range []*Token{nil, {}, {AccessToken: "secret-at\n"}, {AccessToken: "secret-at", RefreshToken: "rt\x7f"}, {AccessToken: "secret-é"}} {
		err := s.Save(ctx, "k", tok)
		require.ErrorIs(t, err, ErrInvalidConfig)
		if tok != nil && tok.AccessToken != "" {
			require.NotContains(t, err.Error(), tok.AccessToken)
		}
		err = s.CompareAndSwap(ctx, "k", nil, tok)
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.NotErrorIs(t, err, ErrStoreChanged)
		if tok != nil && tok.AccessToken != "" {
			require.NotContains(t, err.Error(), tok.AccessToken)
		}
	}
	require.Empty(t, fsNames(t, s.Dir()), "nothing written, not even a lock file")

	// Nor over a stored token.
	require.NoError(t, s.Save(ctx, "k", fsFullToken("at")))
	require.ErrorIs(t, s.CompareAndSwap(ctx, "k", fsFullToken("at"), &Token{AccessToken: "at\n"}), ErrInvalidConfig)
	got, err := s.Load(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at"), got)
}

func TestFileStoreCanceledContext(t *testing.T) {
	s := fsNewStore(t)
	require.NoError(t, s.Save(t.Context(), "k", fsFullToken("at")))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Load(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Save(ctx, "k", fsFullToken("at-2")), context.Canceled)
	require.ErrorIs(t, s.CompareAndSwap(ctx, "k", fsFullToken("at"), fsFullToken("at-2")), context.Canceled)
	require.ErrorIs(t, s.Delete(ctx, "k"), context.Canceled)
	_, err = s.Keys(ctx)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Lock(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
	got, err := s.Load(t.Context(), "k")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at"), got)
}

func TestFileStoreLock(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	// Another FileStore on the same directory is another holder too.
	s2, err := NewFileStore(s.Dir())
	require.NoError(t, err)

	first, err := s.Lock(ctx, "k")
	require.NoError(t, err)

	for name, st := range map[string]*FileStore{"same store": s, "other store": s2} {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		unlock, err := st.Lock(short, "k")
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, name)
		require.Nil(t, unlock)
	}

	// A different key does not block.
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	other, err := s.Lock(short, "j")
	cancel()
	require.NoError(t, err)
	require.NoError(t, other())

	// A second Lock waits until the first is released.
	var released atomic.Bool
	type result struct {
		unlock      func() error
		err         error
		sawReleased bool
	}
	got := make(chan result, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		unlock, err := s2.Lock(wctx, "k")
		got <- result{unlock: unlock, err: err, sawReleased: released.Load()}
	}()
	select {
	case r := <-got:
		if r.unlock != nil {
			_ = r.unlock()
		}
		t.Fatalf("second Lock returned while the first was held (err %v)", r.err)
	case <-time.After(150 * time.Millisecond):
	}
	released.Store(true)
	require.NoError(t, first())
	r := <-got
	require.NoError(t, r.err)
	require.True(t, r.sawReleased, "second Lock acquired before the first unlock")

	// Unlocking twice is an error, and does not release someone else's lock.
	err = first()
	require.ErrorIs(t, err, ErrInvalidConfig)
	short, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = s.Lock(short, "k")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "still held by the second locker")
	require.NoError(t, r.unlock())
	require.ErrorIs(t, r.unlock(), ErrInvalidConfig)

	// Free again.
	again, err := s.Lock(ctx, "k")
	require.NoError(t, err)
	require.NoError(t, again())
}

func TestFileStoreLockFileRemovedWhileHeld(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	unlock, err := s.Lock(ctx, "k")
	require.NoError(t, err)
	lockPath := filepath.Join(s.Dir(), "k.lock")
	require.NoError(t, os.Remove(lockPath))

	// A newcomer locks a new file: the lock is lost, and unlock says so.
	newcomer, err := s.Lock(ctx, "k")
	require.NoError(t, err)
	err = unlock()
	require.ErrorIs(t, err, ErrLockLost)
	require.Contains(t, err.Error(), "removed or replaced")
	require.NoError(t, newcomer())
}

// TestFileStoreLockHelperProcess is the child of
// TestFileStoreLockCrossProcess; it does nothing unless that test runs it.
func TestFileStoreLockHelperProcess(t *testing.T) {
	if os.Getenv("VIDEOAUTH_FS_HELPER") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := NewFileStore(os.Getenv("VIDEOAUTH_FS_DIR"))
	require.NoError(t, err)
	unlock, err := s.Lock(ctx, os.Getenv("VIDEOAUTH_FS_KEY"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv("VIDEOAUTH_FS_LOCKED"), []byte("locked"), 0o600))
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, os.WriteFile(os.Getenv("VIDEOAUTH_FS_RELEASING"), []byte("releasing"), 0o600))
	require.NoError(t, unlock())
}

func TestFileStoreLockCrossProcess(t *testing.T) {
	s := fsNewStore(t)
	const key = "vimeo/app"
	markers := t.TempDir()
	locked := filepath.Join(markers, "locked")
	releasing := filepath.Join(markers, "releasing")

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFileStoreLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"VIDEOAUTH_FS_HELPER=1",
		"VIDEOAUTH_FS_DIR="+s.Dir(),
		"VIDEOAUTH_FS_KEY="+key,
		"VIDEOAUTH_FS_LOCKED="+locked,
		"VIDEOAUTH_FS_RELEASING="+releasing,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var childErr error
	childDone := false
	waitChild := func() {
		if !childDone {
			childErr, childDone = <-exited, true
		}
	}
	defer func() { cancel(); waitChild() }()

	require.Eventually(t, func() bool {
		select {
		case err := <-exited:
			childErr, childDone = err, true
			return true
		default:
		}
		_, err := os.Stat(locked)
		return err == nil
	}, 30*time.Second, 5*time.Millisecond)
	if childDone {
		t.Fatalf("helper exited before taking the lock: %v\n%s", childErr, out.String())
	}

	// The child holds the lock: a Lock here times out.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	unlock, err := s.Lock(short, key)
	cancelShort()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Nil(t, unlock)

	// Once the child lets go, Lock succeeds, and not before.
	unlock, err = s.Lock(ctx, key)
	require.NoError(t, err)
	_, err = os.Stat(releasing)
	require.NoError(t, err, "acquired before the helper released the lock")
	require.NoError(t, unlock())

	waitChild()
	require.NoError(t, childErr, "helper:\n%s", out.String())
}

func TestFileStoreConcurrentSaves(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	const key = "shared"
	const writers, saves = 8, 20
	want := map[string]*Token{}
	for w := range writers {
		for i := range saves {
			at := fmt.Sprintf("at-%d-%d", w, i)
			tok := fsFullToken(at)
			tok.Extra["pad"] = json.RawMessage(`"` + strings.Repeat("p", 1000*(w+1)) + `"`) // sizes differ per writer
			want[at] = tok
		}
	}
	require.NoError(t, s.Save(ctx, key, fsFullToken("at-initial")))
	want["at-initial"] = fsFullToken("at-initial")

	check := func(tok *Token, err error) {
		if !assert.NoError(t, err) {
			return
		}
		w, ok := want[tok.AccessToken]
		if assert.True(t, ok, "unknown token loaded") {
			assert.Equal(t, w, tok)
		}
	}
	var wg, readers sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				check(s.Load(ctx, key))
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			for i := range saves {
				assert.NoError(t, s.Save(ctx, key, want[fmt.Sprintf("at-%d-%d", w, i)]))
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()

	check(s.Load(ctx, key))
	// No temporary file is left; the write lock file stays.
	require.Equal(t, []string{"shared.json", "shared.save.lock"}, fsNames(t, s.Dir()))
}

func TestFileStoreCompareAndSwap(t *testing.T) {
	ctx := t.Context()
	const key = "vimeo/ann"

	// stored is key's token in s, or nil when none is stored.
	stored := func(t *testing.T, s *FileStore) *Token {
		t.Helper()
		tok, err := s.Load(ctx, key)
		if errors.Is(err, ErrNotStored) {
			return nil
		}
		require.NoError(t, err)
		return tok
	}
	// refused checks that err is a refusal for a changed store and that the
	// token file holds exactly before (nil: there is none).
	refused := func(t *testing.T, s *FileStore, err error, before []byte) {
		t.Helper()
		require.ErrorIs(t, err, ErrStoreChanged)
		require.NotErrorIs(t, err, ErrStoreCorrupt)
		require.Contains(t, err.Error(), key, "the error names the key")
		data, rerr := os.ReadFile(fsTokenPath(s, key))
		if before == nil {
			require.ErrorIs(t, rerr, fs.ErrNotExist, "no token file made")
		} else {
			require.NoError(t, rerr)
			require.Equal(t, before, data, "token file unchanged")
		}
		for _, n := range fsNames(t, s.Dir()) {
			require.False(t, strings.HasPrefix(n, "."), "temporary file %s left", n)
		}
	}
	fileOf := func(t *testing.T, s *FileStore) []byte {
		t.Helper()
		data, err := os.ReadFile(fsTokenPath(s, key))
		require.NoError(t, err)
		return data
	}

	t.Run("nil old on a missing key stores", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.CompareAndSwap(ctx, key, nil, fsFullToken("at-1")))
		require.Equal(t, fsFullToken("at-1"), stored(t, s))
		want, err := EncodeToken(fsFullToken("at-1"))
		require.NoError(t, err)
		require.Equal(t, want, fileOf(t, s), "the file is EncodeToken's format")
		require.Equal(t, fs.FileMode(0o600), fsMode(t, fsTokenPath(s, key)))
		require.Equal(t, []string{"vimeo%2Fann.json", "vimeo%2Fann.save.lock"}, fsNames(t, s.Dir()))
	})

	t.Run("matching old swaps", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		require.NoError(t, s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2")))
		require.Equal(t, fsFullToken("at-2"), stored(t, s))
		// old is compared by its access token alone: the stored copy of a
		// token need not be the caller's in every other field.
		old := &Token{AccessToken: "at-2"}
		tok := fsFullToken("at-3")
		require.NoError(t, s.CompareAndSwap(ctx, key, old, tok))
		require.Equal(t, fsFullToken("at-3"), stored(t, s))
		// The store keeps no reference to the token.
		tok.AccessToken = "changed"
		require.Equal(t, fsFullToken("at-3"), stored(t, s))
		// Swapping a token for itself is a swap.
		require.NoError(t, s.CompareAndSwap(ctx, key, fsFullToken("at-3"), fsFullToken("at-3")))
		require.Equal(t, fsFullToken("at-3"), stored(t, s))
	})

	t.Run("another token stored: refused", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-signin")))
		before := fileOf(t, s)
		refused(t, s, s.CompareAndSwap(ctx, key, fsFullToken("at-old"), fsFullToken("at-renewed")), before)
		// Same refresh token, other access token: still another token.
		old := fsFullToken("at-old")
		old.RefreshToken = "rt-at-signin"
		refused(t, s, s.CompareAndSwap(ctx, key, old, fsFullToken("at-renewed")), before)
		require.Equal(t, fsFullToken("at-signin"), stored(t, s))
	})

	t.Run("nil old but a token stored: refused", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		before := fileOf(t, s)
		refused(t, s, s.CompareAndSwap(ctx, key, nil, fsFullToken("at-2")), before)
		require.Equal(t, fsFullToken("at-1"), stored(t, s))
	})

	t.Run("old given but nothing stored: refused", func(t *testing.T) {
		s := fsNewStore(t)
		refused(t, s, s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2")), nil)
		// Nor after a Delete (a logout): the renewal of a deleted grant
		// does not bring it back.
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		require.NoError(t, s.Delete(ctx, key))
		refused(t, s, s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2")), nil)
		keys, err := s.Keys(ctx)
		require.NoError(t, err)
		require.Empty(t, keys)
	})

	t.Run("waits for a write in progress and honours ctx meanwhile", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		// Hold the key's write lock as a write in progress would.
		l, err := s.lockFile(ctx, key, filepath.Join(s.Dir(), encodeFileStoreKey(key)+writeLockExt))
		require.NoError(t, err)
		before := fileOf(t, s)
		for name, op := range map[string]func(context.Context) error{
			"CompareAndSwap": func(ctx context.Context) error {
				return s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2"))
			},
			"Save":   func(ctx context.Context) error { return s.Save(ctx, key, fsFullToken("at-2")) },
			"Delete": func(ctx context.Context) error { return s.Delete(ctx, key) },
		} {
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			err := op(short)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded, name)
			require.Equal(t, before, fileOf(t, s), "%s changed the file without the write lock", name)
		}
		// The refresh lock is another lock: holding the write lock does not
		// keep anyone from it.
		unlock, err := s.Lock(ctx, key)
		require.NoError(t, err)
		require.NoError(t, unlock())

		require.NoError(t, l.unlock())
		require.NoError(t, s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2")))
		require.Equal(t, fsFullToken("at-2"), stored(t, s))
	})

	t.Run("writes do not wait for the refresh lock", func(t *testing.T) {
		// A Source holds the refresh lock around a whole renewal; a new
		// sign-in's Save, and the renewal's own CompareAndSwap, must not
		// wait for it.
		s := fsNewStore(t)
		unlock, err := s.Lock(ctx, key)
		require.NoError(t, err)
		defer func() { require.NoError(t, unlock()) }()
		short, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, s.Save(short, key, fsFullToken("at-1")))
		require.NoError(t, s.CompareAndSwap(short, key, fsFullToken("at-1"), fsFullToken("at-2")))
		require.NoError(t, s.Delete(short, key))
	})
}

// Goroutines racing CompareAndSwap from the same stored token, through the
// same FileStore and through others on the same directory: exactly one
// wins each round, the others are told the store changed, and the file
// holds the winner's token.
func TestFileStoreCompareAndSwapConcurrent(t *testing.T) {
	ctx := t.Context()
	s := fsNewStore(t)
	stores := []*FileStore{s}
	for range 3 {
		other, err := NewFileStore(s.Dir())
		require.NoError(t, err)
		stores = append(stores, other)
	}
	const key = "shared"
	const racers, rounds = 16, 10
	old := fsFullToken("at-initial")
	require.NoError(t, s.Save(ctx, key, old))
	for round := range rounds {
		var wins atomic.Int32
		var winner atomic.Value
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				mine := fsFullToken(fmt.Sprintf("at-%d-%d", round, i))
				<-start
				err := stores[i%len(stores)].CompareAndSwap(ctx, key, old, mine)
				if err == nil {
					wins.Add(1)
					winner.Store(mine)
					return
				}
				assert.ErrorIs(t, err, ErrStoreChanged)
			})
		}
		close(start)
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "round %d: winners", round)
		got, err := s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, winner.Load().(*Token), got, "round %d: the winner's token is stored", round)
		old = got
	}
	require.Equal(t, []string{"shared.json", "shared.save.lock"}, fsNames(t, s.Dir()))
}

// The store never removes a lock file, but a person may. A write whose lock
// file was removed or replaced while it held the lock may have run
// alongside another write, so it checks right before it changes anything:
// then it starts over under a new lock, reading the store again, and gives
// up with ErrLockLost, having changed nothing, if that keeps happening.
func TestFileStoreWriteLockFileReplaced(t *testing.T) {
	ctx := t.Context()
	const key = "k"
	lockPath := func(s *FileStore) string { return filepath.Join(s.Dir(), key+writeLockExt) }

	t.Run("removed once: the write starts over and lands", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		calls := 0
		s.testHookBeforeRename = func(string) error {
			if calls++; calls == 1 {
				return os.Remove(lockPath(s))
			}
			return nil
		}
		require.NoError(t, s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2")))
		require.Equal(t, 2, calls, "written twice: once under the lost lock, once under the new one")
		got, err := s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at-2"), got)
		require.Equal(t, []string{"k.json", "k.save.lock"}, fsNames(t, s.Dir()), "no temporary file left")
	})

	t.Run("another write slipped in: the swap sees it and is refused", func(t *testing.T) {
		// While this CompareAndSwap holds a lock on a file no longer at the
		// path, another writer locks the new file and saves a sign-in. Had
		// the swap gone on, it would have overwritten that token.
		s := fsNewStore(t)
		other, err := NewFileStore(s.Dir())
		require.NoError(t, err)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		calls := 0
		s.testHookBeforeRename = func(string) error {
			calls++
			if err := os.Remove(lockPath(s)); err != nil {
				return err
			}
			return other.Save(ctx, key, fsFullToken("at-signin"))
		}
		err = s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-renewed"))
		require.ErrorIs(t, err, ErrStoreChanged)
		require.Equal(t, 1, calls)
		got, err := s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, fsFullToken("at-signin"), got, "the sign-in survives")
		require.Equal(t, []string{"k.json", "k.save.lock"}, fsNames(t, s.Dir()), "no temporary file left")
	})

	t.Run("removed every time: ErrLockLost, nothing changed", func(t *testing.T) {
		s := fsNewStore(t)
		require.NoError(t, s.Save(ctx, key, fsFullToken("at-1")))
		calls := 0
		s.testHookBeforeRename = func(string) error { calls++; return os.Remove(lockPath(s)) }
		for name, op := range map[string]func() error{
			"Save":           func() error { return s.Save(ctx, key, fsFullToken("at-2")) },
			"CompareAndSwap": func() error { return s.CompareAndSwap(ctx, key, fsFullToken("at-1"), fsFullToken("at-2")) },
		} {
			calls = 0
			err := op()
			require.ErrorIs(t, err, ErrLockLost, name)
			require.Contains(t, err.Error(), "removed or replaced", name)
			require.Equal(t, maxWriteAttempts, calls, name)
			got, err := s.Load(ctx, key)
			require.NoError(t, err)
			require.Equal(t, fsFullToken("at-1"), got, name)
			require.Equal(t, []string{"k.json"}, fsNames(t, s.Dir()), "%s: no temporary file left", name)
		}
	})
}

// fsSkipWithoutLinks skips where symbolic links and permission bits are not
// the POSIX ones.
func fsSkipWithoutLinks(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows, and its permission bits do not describe access")
	}
}

// TestFileStoreNeverFollowsATokenFileLink: a token file that is a symbolic
// link is neither read, nor tightened, nor replaced through: Load and Save
// fail with ErrStoreCorrupt naming it, the file it points to is left as it
// was, and Delete removes the link alone. A dangling link is not "no
// token".
func TestFileStoreNeverFollowsATokenFileLink(t *testing.T) {
	fsSkipWithoutLinks(t)
	ctx := t.Context()
	s := fsNewStore(t)
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim.json")
	data, err := EncodeToken(fsFullToken("theirs"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(victim, data, 0o600))
	require.NoError(t, os.Chmod(victim, 0o644))
	link := fsTokenPath(s, "k")
	require.NoError(t, os.Symlink(victim, link))

	tok, err := s.Load(ctx, "k")
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.Contains(t, err.Error(), "symbolic link")
	require.Contains(t, err.Error(), link)
	require.Nil(t, tok)
	require.Equal(t, fs.FileMode(0o644), fsMode(t, victim), "Load changed the mode of the file the link points to")

	err = s.Save(ctx, "k", fsFullToken("ours"))
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.Contains(t, err.Error(), "symbolic link")
	err = s.CompareAndSwap(ctx, "k", nil, fsFullToken("ours"))
	require.ErrorIs(t, err, ErrStoreCorrupt)
	got, err := os.ReadFile(victim)
	require.NoError(t, err)
	require.Equal(t, data, got)
	require.Equal(t, fs.FileMode(0o644), fsMode(t, victim))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&fs.ModeSymlink, "the link is left for a human to inspect")

	require.NoError(t, s.Delete(ctx, "k"))
	_, err = os.Lstat(link)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = os.Stat(victim)
	require.NoError(t, err, "Delete removed the file the link pointed to")

	// A dangling link is corrupt, not missing.
	dangling := fsTokenPath(s, "d")
	require.NoError(t, os.Symlink(filepath.Join(outside, "missing.json"), dangling))
	_, err = s.Load(ctx, "d")
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.NotErrorIs(t, err, ErrNotStored)
	require.ErrorIs(t, s.Save(ctx, "d", fsFullToken("ours")), ErrStoreCorrupt)
	_, err = os.Lstat(filepath.Join(outside, "missing.json"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestFileStoreNeverFollowsALockFileLink: Lock and the write lock of Save
// and Delete never create, open or lock the file a <key>.lock or
// <key>.save.lock link points to, dangling or not, nor a lock file that is
// a directory: they fail with ErrStoreCorrupt naming it.
func TestFileStoreNeverFollowsALockFileLink(t *testing.T) {
	fsSkipWithoutLinks(t)
	ctx := t.Context()
	s := fsNewStore(t)
	outside := t.TempDir()

	target := filepath.Join(outside, "made-by-lock")
	require.NoError(t, os.Symlink(target, filepath.Join(s.Dir(), "k.lock")))
	unlock, err := s.Lock(ctx, "k")
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.Contains(t, err.Error(), "symbolic link")
	require.Nil(t, unlock)
	_, err = os.Lstat(target)
	require.ErrorIs(t, err, fs.ErrNotExist, "Lock created the file a dangling link points to")

	existing := filepath.Join(outside, "existing")
	require.NoError(t, os.WriteFile(existing, nil, 0o644))
	require.NoError(t, os.Symlink(existing, filepath.Join(s.Dir(), "e.lock")))
	_, err = s.Lock(ctx, "e")
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.Equal(t, fs.FileMode(0o644), fsMode(t, existing))

	saveTarget := filepath.Join(outside, "made-by-save")
	require.NoError(t, os.Symlink(saveTarget, filepath.Join(s.Dir(), "w.save.lock")))
	err = s.Save(ctx, "w", fsFullToken("at"))
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.ErrorIs(t, s.Delete(ctx, "w"), ErrStoreCorrupt)
	_, err = os.Lstat(saveTarget)
	require.ErrorIs(t, err, fs.ErrNotExist, "Save created the file a dangling link points to")
	_, err = os.Lstat(fsTokenPath(s, "w"))
	require.ErrorIs(t, err, fs.ErrNotExist, "nothing was written")

	require.NoError(t, os.Mkdir(filepath.Join(s.Dir(), "dir.lock"), 0o700))
	_, err = s.Lock(ctx, "dir")
	require.ErrorIs(t, err, ErrStoreCorrupt)
	require.Contains(t, err.Error(), "not a regular file")

	// Other keys are unaffected.
	unlock, err = s.Lock(ctx, "other")
	require.NoError(t, err)
	require.NoError(t, unlock())
}

// TestFileStoreDirectoryKeepsTheOwnerBits: NewFileStore removes the group
// and other bits of an existing directory and nothing else, so a read-only
// 0500 directory is not made writable. The directory may be a symbolic
// link: the caller chose the path.
func TestFileStoreDirectoryKeepsTheOwnerBits(t *testing.T) {
	fsSkipWithoutLinks(t)
	for _, tc := range []struct{ mode, want fs.FileMode }{
		{0o500, 0o500}, {0o550, 0o500}, {0o555, 0o500}, {0o700, 0o700}, {0o750, 0o700}, {0o705, 0o700}, {0o300, 0o300},
	} {
		dir := filepath.Join(t.TempDir(), "tokens")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, tc.mode))
		t.Cleanup(func() { os.Chmod(dir, 0o700) }) // so that the TempDir can be removed
		s, err := NewFileStore(dir)
		require.NoError(t, err, "%#o", tc.mode)
		require.Equal(t, tc.want, fsMode(t, s.Dir()), "%#o", tc.mode)
	}

	real := filepath.Join(t.TempDir(), "real")
	require.NoError(t, os.Mkdir(real, 0o700))
	require.NoError(t, os.Chmod(real, 0o755))
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(real, link))
	s, err := NewFileStore(link)
	require.NoError(t, err)
	require.Equal(t, link, s.Dir())
	require.Equal(t, fs.FileMode(0o700), fsMode(t, real))
	require.NoError(t, s.Save(t.Context(), "k", fsFullToken("at")))
	got, err := s.Load(t.Context(), "k")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at"), got)
	_, err = os.Stat(filepath.Join(real, "k.json"))
	require.NoError(t, err)
}
