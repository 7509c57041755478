package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/videoauth/videoauth"
)

// The token store is a directory of files (videoauth.FileStore). What goes
// wrong there is said here in the user's terms: which file or directory,
// what the system said of it, and what to do. A file-system problem
// (permissions, a read-only or full disk, a file where a directory should
// be) exits with exitFiles, not with a sign-in or configuration code: no
// sign-in or credential fixes it, and the token that was just minted is
// not lost to a failure a check beforehand could have caught.

// tokenFile is the file the store keeps key in: <dir>/<encoded key>.json,
// the key encoded byte by byte as FileStore's documentation says (A-Z,
// a-z, 0-9, '_' and '-' as they are, any other byte %XX).
func tokenFile(st *videoauth.FileStore, key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(st.Dir(), b.String()+".json")
}

// fsReason is what the system said of a file-system failure, in its own
// words ("permission denied", "read-only file system"), without the Go
// wrapping around it; "" when err is not one.
func fsReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return ""
}

// fsHint is the way out of a file-system failure of the directory dir.
func fsHint(dir string, err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return "The file system holding it is read-only: set VIDEOAUTH_CONFIG_DIR to a directory on a writable one."
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "The disk is full: free some space, then try again."
	case errors.Is(err, syscall.ENOTDIR):
		return "A file stands where a directory should be: move it away, or set VIDEOAUTH_CONFIG_DIR to another directory."
	case errors.Is(err, fs.ErrPermission):
		return "Make it yours and writable (chmod u+rwx " + dir + "), or set VIDEOAUTH_CONFIG_DIR to a directory only you can write."
	}
	return "Check the directory, or set VIDEOAUTH_CONFIG_DIR to a directory only you can write."
}

// filesErr is a file-system failure: msg says what could not be done,
// err's system reason why.
func filesErr(msg, dir string, err error) *cliError {
	if r := fsReason(err); r != "" {
		msg += ": " + r
	}
	return &cliError{code: exitFiles, msg: msg, hint: fsHint(dir, err)}
}

// storeOpenErr is the failure of NewFileStore for dir.
func storeOpenErr(dir string, err error) *cliError {
	return filesErr("cannot use the token directory "+dir, dir, err)
}

// checkWritable makes sure the store's directory takes a new file, before
// a sign-in whose token would otherwise be lost to a directory that cannot
// keep it. The probe is a hidden temporary file, which the store never
// reads or lists, removed at once.
func checkWritable(st *videoauth.FileStore) error {
	f, err := os.CreateTemp(st.Dir(), ".videoauth-probe-*")
	if err != nil {
		return filesErr("cannot store a token in "+st.Dir(), st.Dir(), err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// storeErr is the failure of a write to the store (Save, Delete, Lock) of
// key, for service.
func storeErr(st *videoauth.FileStore, service, key string, err error) error {
	var ce *cliError
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, context.Canceled):
		return &cliError{code: exitInterrupted, msg: "interrupted"}
	case errors.Is(err, videoauth.ErrStoreCorrupt):
		return corruptErr(st, service, key, err)
	case errors.Is(err, videoauth.ErrLockLost):
		return &cliError{code: exitFailure, msg: "the lock file of the stored " + service + " grant was removed while videoauth held it",
			hint: "Another program changed " + st.Dir() + ". Try again."}
	case errors.Is(err, videoauth.ErrInvalidConfig) && fsReason(err) == "":
		return &cliError{code: exitUsage, msg: "the " + service + " token cannot be stored: it has characters a token cannot have",
			hint: "Check what was given as the token."}
	}
	return filesErr("cannot write the stored "+service+" grant in "+st.Dir(), st.Dir(), err)
}

// loadErr is the failure of Load of key, for service, other than "not
// stored".
func loadErr(st *videoauth.FileStore, service, key string, err error) error {
	switch {
	case errors.Is(err, videoauth.ErrStoreCorrupt):
		return corruptErr(st, service, key, err)
	case errors.Is(err, context.Canceled):
		return &cliError{code: exitInterrupted, msg: "interrupted"}
	}
	return filesErr("cannot read the stored "+service+" grant "+tokenFile(st, key), st.Dir(), err)
}

// corruptErr is a token file the store cannot read as a token: not JSON,
// not a regular file, a symbolic link, too large. Nothing of its content is
// quoted. The way out is removing it: logout does, and login does after
// the user confirmed (or was told to add --replace).
func corruptErr(st *videoauth.FileStore, service, key string, err error) *cliError {
	what := "is not a token videoauth can read"
	var pe *fs.PathError
	switch msg := err.Error(); {
	case strings.Contains(msg, "symbolic link"):
		what = "is a symbolic link, which videoauth does not follow"
	case strings.Contains(msg, "not a regular file"):
		what = "is not a regular file"
	case strings.Contains(msg, "larger than 1 MiB"):
		what = "is larger than a token can be (1 MiB)"
	case errors.As(err, &pe):
		what = "cannot be read (" + pe.Err.Error() + ")"
	}
	return &cliError{code: exitSignIn, msg: "the stored " + service + " grant " + tokenFile(st, key) + " " + what,
		hint: "Run `videoauth logout " + service + accountFlag(key) + "` to remove it, then sign in again; or sign in with `videoauth login " + service + accountFlag(key) + " --replace`, which replaces it."}
}

// foreignErr is a token file holding another service's token (a file
// copied by hand, a mix-up of names): it is not used, and not shown.
func foreignErr(st *videoauth.FileStore, service, key, other string) *cliError {
	return &cliError{code: exitSignIn, msg: fmt.Sprintf("the stored %s grant %s holds a token of %s, not of %s", service, tokenFile(st, key), shown(other), service),
		hint: "Run `videoauth logout " + service + accountFlag(key) + "` to remove it, then sign in again; or sign in with `videoauth login " + service + accountFlag(key) + " --replace`, which replaces it."}
}

// accountFlag is the --account flag that names key's account in advice,
// or "" for the default account's key.
func accountFlag(key string) string {
	_, account, ok := strings.Cut(key, "/")
	if !ok {
		return ""
	}
	return " --account " + account
}

// loadGrant loads key's grant of service: a token of that service, or an
// error the user can act on. A token file of another service is refused
// like a corrupt one; a file that records no provider (stored by an older
// tool) is taken as the service's.
func loadGrant(ctx context.Context, st *videoauth.FileStore, service, key string) (*videoauth.Token, error) {
	tok, err := st.Load(ctx, key)
	switch {
	case errors.Is(err, videoauth.ErrNotStored):
		return nil, err
	case err != nil:
		return nil, loadErr(st, service, key, err)
	case tok.Provider != "" && tok.Provider != service:
		return nil, foreignErr(st, service, key, tok.Provider)
	}
	return tok, nil
}
