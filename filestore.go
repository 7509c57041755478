package videoauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

const (
	// maxStoredTokenSize caps what Load reads from a token file.
	maxStoredTokenSize = 1 << 20
	// maxEncodedKeyLen caps a key's encoded form, so that the longest file
	// name the store makes (the temporary file's) stays well under the 255
	// bytes most file systems allow.
	maxEncodedKeyLen = 200
	// lockRetryDelay is how often Lock retries a lock held elsewhere.
	lockRetryDelay = 10 * time.Millisecond
	// maxWriteAttempts bounds how often a write starts over when its write
	// lock file was removed or replaced before it changed anything.
	maxWriteAttempts = 3

	tokenFileExt = ".json"
	lockFileExt  = ".lock"
	// writeLockExt names the lock every write of a key takes, so that
	// CompareAndSwap's read and write are one step; an encoded key has no
	// '.', so it never collides with another key's lock file.
	writeLockExt = ".save" + lockFileExt
	tempPrefix   = "." // temporary files are hidden: an encoded key never starts with '.'
	tempInfix    = ".tmp"
)

// FileStore is a Store in a directory of the local file system: the default
// for command-line tools, which keep their tokens between runs and may run
// several at once. Use NewFileStore to make one.
//
// Layout: one file per key, <dir>/<encoded key>.json, holding EncodeToken's
// JSON, and next to it the key's two empty lock files once they are first
// used, <encoded key>.lock and <encoded key>.save.lock (see Locks below),
// which Keys does not list. A key is encoded byte by byte: A-Z, a-z, 0-9,
// '_' and '-' stay as they are, every other byte (including '.', '/', '\\'
// and '%') becomes %XX in upper-case hex, so "vimeo/user-42" is stored in
// "vimeo%2Fuser-42.json". The encoding is reversible (Keys lists the keys),
// an encoded key is always one path element and never "." or "..", and no
// key can name a file outside the directory. Keys are not secret: they
// appear in file names and errors. The empty key, and a key longer than 200
// bytes once encoded, are refused with an error wrapping ErrInvalidConfig.
// On a case-insensitive file system (the macOS and Windows defaults) keys
// that differ only in the case of ASCII letters share one file.
//
// Permissions: a directory NewFileStore creates is 0700 and token and lock
// files are 0600, set explicitly whatever the umask. NewFileStore removes
// the group and other bits of an existing directory rather than refusing
// it, and leaves the owner's bits alone: 0755 becomes 0700, a read-only
// 0500 stays 0500 (Load works, Save fails with the directory's permission
// error), so give the store a directory of its own. Load tightens a token
// file that group or others may read to 0600, through the open file, and
// goes on (when that fails, Load fails). Neither is done on Windows, whose
// permission bits do not describe access.
//
// Symbolic links: the directory itself may be one (the caller chose the
// path), but the store follows none inside it. A token file that is a
// symbolic link, even a dangling one, is neither read nor changed through:
// Load fails, and Save and CompareAndSwap refuse to replace it, with an
// error wrapping ErrStoreCorrupt that names it, as for a token file that is
// not a regular file; Delete removes the link itself. A lock file that is a
// link, or not a regular file, is never opened or created through: Lock,
// and every write of that key, fail with an error wrapping ErrStoreCorrupt
// that names it, until it is removed by hand. Files are opened with
// O_NOFOLLOW, so a link made between the check and the open is refused too;
// Windows has no O_NOFOLLOW, and there only the check guards.
//
// Writes are atomic: Save and CompareAndSwap write a temporary file in the
// same directory (a hidden ".<encoded key>.tmp<random>"), sync it, rename it
// over the token file and sync the directory, so after a crash the token
// file holds the old token or the new one, never a mix; a crash can leave a
// temporary file behind, which the store never reads or lists and which may
// be removed by hand. On any failure a write removes its temporary file.
//
// Corruption is reported, never papered over: a token file that does not
// decode, is not a regular file or is larger than 1 MiB makes Load return an
// error wrapping ErrStoreCorrupt, and Save and CompareAndSwap refuse to
// replace it with an error wrapping ErrStoreCorrupt, leaving the file for a
// human to inspect. Delete removes it and is the way out (a "logout"). Such
// errors name the file but quote nothing of its content. Save and
// CompareAndSwap also refuse, with an error wrapping ErrInvalidConfig, a
// token that DecodeToken would not read back (an access or refresh token
// with characters RFC 6749 forbids), so they never write a file that Load
// would call corrupt.
//
// Locks: Lock takes an exclusive flock(2) lock (LockFileEx on Windows) on
// <dir>/<encoded key>.lock, with a new open file per call, so it excludes
// other processes and other callers in this process alike. Lock files are
// left in place after use: deleting one while another process has it open
// and is waiting would let that process and a third, which creates a new
// file, both "hold" the lock. For the same reason Lock makes sure the file
// it locked is still the one at the path, and unlock reports an error
// wrapping ErrLockLost when the lock file was removed or replaced while
// held. Locks are advisory and
// only as good as the file system's: they do not work on platforms without
// file locking (Lock returns an error there) and may not work on network
// file systems.
//
// Writes take a second lock of their own, the same way, on
// <dir>/<encoded key>.save.lock, for as long as one write lasts: Save,
// CompareAndSwap and Delete of a key never interleave, in this process or
// across processes, so CompareAndSwap's comparison and write are one step.
// That file is left in place too, and a write makes sure its lock file is
// still the one at the path right before it changes anything (else it
// starts over, at most 3 times, then fails with an error wrapping
// ErrLockLost, having changed nothing); a lock file found removed or
// replaced only after the change fails the write with an error wrapping
// ErrLockLost, since another write may have run at the same time. Writes
// do not take the refresh lock (Lock), which a Source holds around a whole
// renewal, so a Save is not held up by a renewal in another process.
//
// A FileStore is safe for concurrent use by goroutines and processes.
type FileStore struct {
	dir string

	// testHookBeforeRename, when set, runs after the temporary file is
	// written and synced and before the write checks its lock and renames
	// the file over the token file; an error makes the write fail there.
	// Tests use it to stop a write midway.
	testHookBeforeRename func(tmpPath string) error
}

// NewFileStore returns a FileStore keeping its files in dir, which it
// creates (with any missing parents) with mode 0700 when missing. An
// existing dir loses the permission bits of group and others and keeps the
// owner's as they are: 0755 becomes 0700, and 0500 stays 0500 (a store
// whose directory is not writable loads but cannot save). dir may be a
// symbolic link to a directory: the caller chose that path. The path is
// made absolute, so a later change of working directory does not move the
// store. An empty dir, or one that is not a directory, gives an error
// wrapping ErrInvalidConfig.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, configErr("FileStore: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: FileStore directory %s: %w", ErrInvalidConfig, dir, err)
	}
	_, err = os.Stat(abs)
	created := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("%w: FileStore directory: %w", ErrInvalidConfig, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("%w: FileStore directory: %w", ErrInvalidConfig, err)
	}
	if !fi.IsDir() {
		return nil, configErr("FileStore: %s is not a directory", abs)
	}
	// 0700 for a directory made here, whatever the umask; an existing one
	// only loses group and other bits.
	want := fi.Mode().Perm() & 0o700
	if created {
		want = 0o700
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != want {
		if err := os.Chmod(abs, want); err != nil {
			return nil, fmt.Errorf("%w: FileStore directory %s has mode %#o and cannot be restricted to %#o: %w",
				ErrInvalidConfig, abs, fi.Mode().Perm(), want, err)
		}
	}
	return &FileStore{dir: abs}, nil
}

// Dir returns the absolute path of the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// Load implements Store. A key with no file gives an error wrapping
// ErrNotStored; a file that cannot be read as a token one wrapping
// ErrStoreCorrupt, which names the file and leaves it in place.
func (s *FileStore) Load(ctx context.Context, key string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := fileStoreName(key)
	if err != nil {
		return nil, err
	}
	return s.read(key, filepath.Join(s.dir, name+tokenFileExt))
}

// read loads the token file at path, which holds key's token.
func (s *FileStore) read(key, path string) (*Token, error) {
	// Lstat first: a symbolic link is refused, not followed, and opening a
	// FIFO someone put there would block.
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf("key %q: %w", key, ErrNotStored)
	}
	if err != nil {
		return nil, errorf("load key %q: %w", key, err)
	}
	if err := notPlainFile("token file", path, fi); err != nil {
		return nil, err
	}
	// O_NOFOLLOW: a link put there since the Lstat is refused too, so the
	// Chmod below only ever changes the store's own file.
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
		return nil, errorf("key %q: %w", key, ErrNotStored)
	}
	if err != nil {
		if lfi, lerr := os.Lstat(path); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			return nil, notPlainFile("token file", path, lfi)
		}
		return nil, errorf("load key %q: %w", key, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, errorf("load key %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf("token file %s is not a regular file: %w", path, ErrStoreCorrupt)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, errorf("token file %s has mode %#o and cannot be restricted to 0600: %w", path, fi.Mode().Perm(), err)
		}
	}
	if fi.Size() > maxStoredTokenSize {
		return nil, errorf("token file %s is larger than 1 MiB: %w", path, ErrStoreCorrupt)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStoredTokenSize+1))
	if err != nil {
		return nil, errorf("load key %q: %w", key, err)
	}
	if len(data) > maxStoredTokenSize {
		return nil, errorf("token file %s is larger than 1 MiB: %w", path, ErrStoreCorrupt)
	}
	tok, err := DecodeToken(data)
	if err != nil {
		return nil, errorf("token file %s: %w", path, err)
	}
	return tok, nil
}

// Save implements Store. It replaces key's file atomically, under the key's
// write lock, and returns once the new file and the directory entry are
// synced to disk. It refuses, with an error wrapping ErrStoreCorrupt, to
// replace a file that does not hold a token; Delete removes such a file. A
// nil token or one without an access token gives an error wrapping
// ErrInvalidConfig.
func (s *FileStore) Save(ctx context.Context, key string, tok *Token) error {
	return s.write(ctx, key, tok, func(*Token) error { return nil })
}

// CompareAndSwap implements Store: it replaces key's file as Save does, but
// only while the file still holds old (nil: no file), under the key's write
// lock, which every Save, CompareAndSwap and Delete of the key takes, in
// this process and in others. Otherwise it changes nothing and returns an
// error wrapping ErrStoreChanged. A corrupt file is not replaced (an error
// wrapping ErrStoreCorrupt), whatever old is.
func (s *FileStore) CompareAndSwap(ctx context.Context, key string, old, tok *Token) error {
	return s.write(ctx, key, tok, func(stored *Token) error {
		if !sameToken(stored, old) {
			return errorf("save key %q: %w", key, ErrStoreChanged)
		}
		return nil
	})
}

// write replaces key's file with tok under the key's write lock, once check
// accepts the token the file holds now (nil: none).
func (s *FileStore) write(ctx context.Context, key string, tok *Token, check func(stored *Token) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := fileStoreName(key)
	if err != nil {
		return err
	}
	data, err := EncodeToken(tok)
	if err != nil {
		return err
	}
	path := filepath.Join(s.dir, name+tokenFileExt)
	return s.withWriteLock(ctx, key, name, "save", func(held func() error) error {
		stored, err := s.read(key, path)
		if errors.Is(err, ErrNotStored) {
			stored, err = nil, nil
		}
		if err != nil {
			if errors.Is(err, ErrStoreCorrupt) {
				return errorf("save key %q: refusing to replace a file that is not a token (Delete removes it): %w", key, err)
			}
			return errorf("save key %q: cannot check the file it replaces: %w", key, err)
		}
		if err := check(stored); err != nil {
			return err
		}
		if err := s.writeFile(path, tempPrefix+name+tempInfix+"*", data, held); err != nil {
			return errorf("save key %q: %w", key, err)
		}
		return nil
	})
}

// withWriteLock runs fn under the write lock of key (encoded: name); op
// names the write in errors. fn calls held right before it changes
// anything, and returns held's error, having changed nothing, when the lock
// file was removed or replaced meanwhile: then it runs again under a new
// lock, at most maxWriteAttempts times in all. A lock found lost only when
// it is released, after fn succeeded, fails the write with an error
// wrapping ErrLockLost: another write may have run at the same time.
func (s *FileStore) withWriteLock(ctx context.Context, key, name, op string, fn func(held func() error) error) error {
	path := filepath.Join(s.dir, name+writeLockExt)
	for attempt := 1; ; attempt++ {
		l, err := s.lockFile(ctx, key, path)
		if err != nil {
			return errorf("%s key %q: %w", op, key, err)
		}
		lost := false
		err = fn(func() error {
			herr := l.held()
			lost = errors.Is(herr, ErrLockLost)
			return herr
		})
		uerr := l.unlock()
		switch {
		case lost && attempt < maxWriteAttempts:
			continue // nothing changed: start over under the new file's lock
		case err != nil:
			return err
		case uerr != nil:
			// Done, but perhaps not alone (ErrLockLost): the caller
			// must not take it for an atomic write.
			return errorf("%s key %q: done, but releasing the key's write lock: %w", op, key, uerr)
		}
		return nil
	}
}

// writeFile atomically replaces path with data through a temporary file
// named after pattern in the same directory. held is called right before
// the rename; its error stops writeFile there.
func (s *FileStore) writeFile(path, pattern string, data []byte, held func() error) (err error) {
	f, err := os.CreateTemp(s.dir, pattern)
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("cannot create a temporary file (the store's directory must be writable): %w", err)
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close only reports ErrClosed
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if s.testHookBeforeRename != nil {
		if err := s.testHookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err := held(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(s.dir)
}

// syncDir makes a rename or removal in dir durable. Windows cannot sync a
// directory (and does not need to); a file system that cannot sync one says
// so with EINVAL or ENOTSUP, which is not an error here.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// Delete implements Store. It removes key's file, whatever it holds, so it
// is also how a corrupt file is cleared. It takes the key's write lock, so
// it cannot interleave with a Save or CompareAndSwap.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := fileStoreName(key)
	if err != nil {
		return err
	}
	return s.withWriteLock(ctx, key, name, "delete", func(held func() error) error {
		if err := held(); err != nil {
			return errorf("delete key %q: %w", key, err)
		}
		err := os.Remove(filepath.Join(s.dir, name+tokenFileExt))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return errorf("delete key %q: %w", key, err)
		}
		if err := syncDir(s.dir); err != nil {
			return errorf("delete key %q: %w", key, err)
		}
		return nil
	})
}

// notPlainFile returns nil when fi, what Lstat found at path, is a regular
// file, and otherwise an error wrapping ErrStoreCorrupt that names path and
// what is wrong: the store never follows a symbolic link in its directory,
// nor uses a directory, FIFO or device where it keeps a file. what names
// the file ("token file", "lock file").
func notPlainFile(what, path string, fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return errorf("%s %s is a symbolic link, which the store does not follow (remove it): %w", what, path, ErrStoreCorrupt)
	}
	if !fi.Mode().IsRegular() {
		return errorf("%s %s is not a regular file: %w", what, path, ErrStoreCorrupt)
	}
	return nil
}

// Lock implements Store with an exclusive lock on key's lock file, which
// holds across processes and between callers in this process. It waits
// until the lock is free or ctx is done, when it returns an error wrapping
// ctx.Err(). unlock releases the lock; calling it again gives an error
// wrapping ErrInvalidConfig, and it reports an error wrapping ErrLockLost
// when the lock file was removed or replaced while held.
func (s *FileStore) Lock(ctx context.Context, key string) (func() error, error) {
	name, err := fileStoreName(key)
	if err != nil {
		return nil, err
	}
	l, err := s.lockFile(ctx, key, filepath.Join(s.dir, name+lockFileExt))
	if err != nil {
		return nil, errorf("lock key %q: %w", key, err)
	}
	return l.unlock, nil
}

// fileLock is an exclusive lock held on the file at path, one of key's.
type fileLock struct {
	fl        *flock.Flock
	key, path string
	once      sync.Once
}

// lockOpenFlags is how a lock file is opened: created when missing, never
// through a symbolic link (oNoFollow: a dangling link would otherwise make
// the store create the file it points to), read-only as gofrs/flock opens
// it by default, read-write where that library's fcntl locks need it for an
// exclusive lock (AIX, Solaris, illumos).
var lockOpenFlags = func() int {
	switch runtime.GOOS {
	case "aix", "solaris", "illumos":
		return os.O_CREATE | os.O_RDWR | oNoFollow
	}
	return os.O_CREATE | os.O_RDONLY | oNoFollow
}()

// lockFile takes an exclusive lock on the file at path for key, waiting
// until it is free or ctx is done. A symbolic link (even a dangling one) or
// anything but a regular file at path gives an error wrapping
// ErrStoreCorrupt, and nothing is created.
func (s *FileStore) lockFile(ctx context.Context, key, path string) (*fileLock, error) {
	for {
		if fi, err := os.Lstat(path); err == nil {
			if err := notPlainFile("lock file", path, fi); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// A new Flock, hence a new open file, per attempt: flock(2) locks
		// belong to the open file, so this excludes callers in this process.
		fl := flock.New(path, flock.SetPermissions(0o600), flock.SetFlag(lockOpenFlags))
		ok, err := fl.TryLockContext(ctx, lockRetryDelay)
		if err != nil || !ok {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			if err == nil {
				err = errors.New("not acquired")
			}
			if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return nil, notPlainFile("lock file", path, fi) // made since the check; O_NOFOLLOW refused it
			}
			if errors.Is(err, fs.ErrPermission) {
				return nil, fmt.Errorf("cannot open or create lock file (the store's directory must be writable): %w", err)
			}
			return nil, err
		}
		// The lock holds only if the file is still the one at path: someone
		// may have removed it between our open and our lock.
		current, err := lockFileCurrent(fl, path)
		if err != nil || !current {
			if uerr := fl.Unlock(); uerr != nil && err == nil {
				err = uerr
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		return &fileLock{fl: fl, key: key, path: path}, nil
	}
}

// held returns nil while l's file is still the one at its path, and an
// error wrapping ErrLockLost once it was removed or replaced: another
// holder may have the lock then.
func (l *fileLock) held() error {
	current, err := lockFileCurrent(l.fl, l.path)
	if err != nil {
		return errorf("lock of key %q: %w", l.key, err)
	}
	if !current {
		return errorf("lock file %s of key %q was removed or replaced while held: %w", l.path, l.key, ErrLockLost)
	}
	return nil
}

// unlock releases l. A second call gives an error wrapping
// ErrInvalidConfig and releases nothing.
func (l *fileLock) unlock() error {
	err := errorf("lock of key %q released twice: %w", l.key, ErrInvalidConfig)
	l.once.Do(func() { err = unlockFile(l.fl, l.key, l.path) })
	return err
}

// unlockFile releases fl, reporting a lock file removed or replaced while
// it was held.
func unlockFile(fl *flock.Flock, key, path string) error {
	current, cerr := lockFileCurrent(fl, path)
	if err := fl.Unlock(); err != nil {
		return errorf("unlock key %q: %w", key, err)
	}
	if cerr != nil {
		return errorf("unlock key %q: %w", key, cerr)
	}
	if !current {
		return errorf("unlock key %q: lock file %s was removed or replaced while held; another holder may have had the lock too: %w", key, path, ErrLockLost)
	}
	return nil
}

// lockFileCurrent reports whether the file fl has open is still at path.
func lockFileCurrent(fl *flock.Flock, path string) (bool, error) {
	held, err := fl.Stat() // of the open file while it is locked
	if err != nil {
		return false, err
	}
	cur, err := os.Lstat(path) // a link put in its place is not the file
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, cur), nil
}

// Keys returns the keys that have a token file, decoded and sorted. It lists
// files, reading none: a key whose file is corrupt is listed, and Load tells
// what it holds. Lock files, temporary files and files whose names the store
// would not have made are ignored.
func (s *FileStore) Keys(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, errorf("list keys: %w", err)
	}
	keys := []string{}
	for _, e := range entries {
		stem, ok := strings.CutSuffix(e.Name(), tokenFileExt)
		if !ok || e.IsDir() {
			continue
		}
		if key, ok := decodeFileStoreKey(stem); ok {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// fileStoreName returns key's encoded form, the stem of its file names, or
// an error wrapping ErrInvalidConfig for a key the store cannot hold.
func fileStoreName(key string) (string, error) {
	if key == "" {
		return "", errorf("empty store key: %w", ErrInvalidConfig)
	}
	name := encodeFileStoreKey(key)
	if len(name) > maxEncodedKeyLen {
		return "", errorf("store key of %d bytes is %d bytes encoded, more than %d: %w", len(key), len(name), maxEncodedKeyLen, ErrInvalidConfig)
	}
	return name, nil
}

// keptByte reports whether a key byte stands for itself in a file name.
func keptByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// encodeFileStoreKey escapes every byte of key but [A-Za-z0-9_-] as %XX.
func encodeFileStoreKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if keptByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// decodeFileStoreKey reverses encodeFileStoreKey. It accepts only what
// encodeFileStoreKey makes of a non-empty key (upper-case hex, kept bytes
// never escaped), so every file name maps to at most one key and back.
func decodeFileStoreKey(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if keptByte(c) {
			b.WriteByte(c)
			continue
		}
		if c != '%' || i+2 >= len(name) {
			return "", false
		}
		hi, ok1 := unhex(name[i+1])
		lo, ok2 := unhex(name[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		d := hi<<4 | lo
		if keptByte(d) {
			return "", false
		}
		b.WriteByte(d)
		i += 2
	}
	return b.String(), true
}
