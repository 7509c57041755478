package videoauth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzFileStoreKey checks the key → file-name encoding: it round-trips, and
// a name is always one harmless path element.
func FuzzFileStoreKey(f *testing.F) {
	for _, k := range []string{"", "vimeo/user-42", "../etc/passwd", ".", "..", "%", "%2F", `a\b`, "a b", "é", "x\x00y", "\xff\xfe", "CON", "key.json", strings.Repeat("/", 67)} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		name := encodeFileStoreKey(key)
		back, ok := decodeFileStoreKey(name)
		if key == "" {
			require.Empty(t, name)
			require.False(t, ok)
		} else {
			require.True(t, ok, "decode %q", name)
			require.Equal(t, key, back)
		}
		require.LessOrEqual(t, len(name), 3*len(key))
		for i := 0; i < len(name); i++ {
			c := name[i]
			require.True(t, keptByte(c) || c == '%', "byte %q in %q", c, name)
		}
		require.NotContains(t, name, "/")
		require.NotContains(t, name, `\`)
		require.NotContains(t, name, "\x00")
		require.NotContains(t, name, ".") // so "<name>.json" has one dot and is never "." or ".."
		require.NotEqual(t, ".", name)
		require.NotEqual(t, "..", name)

		_, err := fileStoreName(key)
		if key == "" || len(name) > maxEncodedKeyLen {
			require.ErrorIs(t, err, ErrInvalidConfig)
		} else {
			require.NoError(t, err)
			for _, file := range []string{name + tokenFileExt, name + lockFileExt, name + writeLockExt, tempPrefix + name + tempInfix + "4294967295"} {
				require.True(t, filepath.IsLocal(file), file)
				require.Equal(t, file, filepath.Base(file))
				require.Equal(t, "dir", filepath.Dir(filepath.Join("dir", file)))
				require.LessOrEqual(t, len(file), 255)
			}
		}

		// The other way: a file name decodes to at most one key, whose
		// encoding is that name again.
		if k, ok := decodeFileStoreKey(key); ok {
			require.Equal(t, key, encodeFileStoreKey(k))
		}
	})
}

// FuzzFileStoreLoad writes arbitrary bytes in a token file: Load returns a
// token or an error wrapping ErrStoreCorrupt, never panics, and its error
// quotes nothing of the bytes. CompareAndSwap agrees with Load: over a file
// Load calls corrupt it refuses with ErrStoreCorrupt, whatever it expects,
// and leaves the bytes as they are; over a token it swaps when it expects
// that token and is refused with ErrStoreChanged otherwise.
func FuzzFileStoreLoad(f *testing.F) {
	for _, seed := range []string{
		`{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expiry":"2030-01-02T03:04:05Z"}`,
		`{"access_token":""}`,
		`{"access_token":"a\u0000"}`,
		`null`,
		`[]`,
		``,
		`{"access_token":"at","expiry":"not a time"}`,
		"\xff\xfe{",
	} {
		f.Add([]byte(seed))
	}
	s, err := NewFileStore(filepath.Join(f.TempDir(), "tokens"))
	require.NoError(f, err)
	const key = "fuzz/key"
	path := filepath.Join(s.Dir(), encodeFileStoreKey(key)+tokenFileExt)

	// The corrupt-file errors Load may give, whatever the content: their
	// text depends on the path only, so it cannot quote the file.
	allowed := map[string]bool{}
	for _, sample := range [][]byte{[]byte("x"), []byte("{}"), bytes.Repeat([]byte(" "), maxStoredTokenSize+1)} {
		require.NoError(f, os.WriteFile(path, sample, 0o600))
		_, err := s.Load(f.Context(), key)
		require.ErrorIs(f, err, ErrStoreCorrupt)
		allowed[err.Error()] = true
	}
	require.Len(f, allowed, 3)

	renewed := &Token{AccessToken: "at-renewed", RefreshToken: "rt-renewed"}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := t.Context()
		require.NoError(t, os.WriteFile(path, data, 0o600))
		tok, err := s.Load(ctx, key)
		if err != nil {
			require.Nil(t, tok)
			require.ErrorIs(t, err, ErrStoreCorrupt)
			require.False(t, errors.Is(err, ErrNotStored))
			require.True(t, allowed[err.Error()], "unexpected error text %q", err.Error())
			if len(data) >= 8 {
				require.NotContains(t, err.Error(), string(data))
			}
			_, derr := DecodeToken(data)
			if len(data) <= maxStoredTokenSize {
				require.Error(t, derr, "Load refused what DecodeToken reads")
			}
			for _, old := range []*Token{nil, {AccessToken: "at"}} {
				err := s.CompareAndSwap(ctx, key, old, renewed)
				require.ErrorIs(t, err, ErrStoreCorrupt)
				require.False(t, errors.Is(err, ErrStoreChanged))
				if len(data) >= 8 {
					require.NotContains(t, err.Error(), string(data))
				}
			}
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, data, after, "a corrupt file is left as it is")
			return
		}
		want, derr := DecodeToken(data)
		require.NoError(t, derr)
		require.Equal(t, want, tok)
		require.NotEmpty(t, tok.AccessToken)
		// Load hands out a token that saves again.
		_, err = EncodeToken(tok)
		require.NoError(t, err)

		// A swap expecting another token, or none, is refused...
		other := &Token{AccessToken: tok.AccessToken + "x"}
		for _, old := range []*Token{nil, other} {
			require.ErrorIs(t, s.CompareAndSwap(ctx, key, old, renewed), ErrStoreChanged)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, data, after, "a refused swap leaves the file as it is")
		}
		// ...and one expecting the stored token swaps.
		require.NoError(t, s.CompareAndSwap(ctx, key, &Token{AccessToken: tok.AccessToken}, renewed))
		got, err := s.Load(ctx, key)
		require.NoError(t, err)
		require.Equal(t, renewed, got)
	})
}
