//go:build unix

package videoauth

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// fsNobody is the uid and gid the read-only directory test runs as when the
// tests run as root, who may write anywhere.
const fsNobody = 65534

// TestFileStoreReadOnlyDirectory: NewFileStore leaves a 0500 directory
// read-only: Load works, Save fails with the permission error and says the
// directory must be writable, and nothing changes. Root may write into any
// directory, so under root the checks run in a child process as nobody.
func TestFileStoreReadOnlyDirectory(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "tokens")
	s, err := NewFileStore(dir)
	require.NoError(t, err)
	require.NoError(t, s.Save(ctx, "k", fsFullToken("at"))) // also leaves k.save.lock
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		fsCheckReadOnlyDir(t, dir)
		return
	}
	for _, p := range []string{dir, fsTokenPath(s, "k"), filepath.Join(dir, "k.save.lock")} {
		require.NoError(t, os.Lchown(p, fsNobody, fsNobody))
	}
	require.NoError(t, os.Chmod(dir, 0o500))
	fsOpenUp(t, filepath.Dir(dir))
	// A copy of the test binary nobody may run (go test's build directory
	// is root's alone).
	binDir := t.TempDir()
	fsOpenUp(t, binDir)
	exe, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	bin := filepath.Join(binDir, "videoauth.test")
	require.NoError(t, os.WriteFile(bin, exe, 0o755))
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestFileStoreReadOnlyDirectoryHelperProcess$", "-test.count=1", "-test.v")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "VIDEOAUTH_FS_RO_HELPER=1", "VIDEOAUTH_FS_RO_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: fsNobody, Gid: fsNobody}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "helper running as nobody:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestFileStoreReadOnlyDirectoryHelperProcess")
}

// TestFileStoreReadOnlyDirectoryHelperProcess is the child of
// TestFileStoreReadOnlyDirectory; it does nothing unless that test runs it.
func TestFileStoreReadOnlyDirectoryHelperProcess(t *testing.T) {
	if os.Getenv("VIDEOAUTH_FS_RO_HELPER") != "1" {
		return
	}
	fsCheckReadOnlyDir(t, os.Getenv("VIDEOAUTH_FS_RO_DIR"))
}

// fsCheckReadOnlyDir checks a store in dir, 0500 and holding the token
// fsFullToken("at") under "k", as a user who owns dir and is not root.
func fsCheckReadOnlyDir(t *testing.T, dir string) {
	ctx := t.Context()
	s, err := NewFileStore(dir)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o500), fsMode(t, dir), "NewFileStore made a read-only directory writable")
	got, err := s.Load(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at"), got)
	// "k" has its write lock file and fails at the temporary file; "new"
	// fails creating its write lock file.
	for _, key := range []string{"k", "new"} {
		err = s.Save(ctx, key, fsFullToken("other"))
		require.ErrorIs(t, err, fs.ErrPermission, key)
		require.Contains(t, err.Error(), "the store's directory must be writable", key)
		require.Contains(t, err.Error(), dir, key)
	}
	got, err = s.Load(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, fsFullToken("at"), got)
	require.Equal(t, fs.FileMode(0o500), fsMode(t, dir))
}

// fsOpenUp lets others into path and every directory above it up to the
// system's temporary directory.
func fsOpenUp(t *testing.T, path string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for p := path; len(p) > len(top); p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.NoError(t, os.Chmod(p, fi.Mode().Perm()|0o055))
	}
}

// TestFileStoreOpenFlagsRefuseLinks: the flags the store opens lock files
// with refuse a link made after its Lstat check (O_NOFOLLOW), even a
// dangling one with O_CREATE, and create nothing.
func TestFileStoreOpenFlagsRefuseLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	f, err := os.OpenFile(link, lockOpenFlags, 0o600)
	if err == nil {
		f.Close()
	}
	require.Error(t, err)
	_, err = os.Lstat(target)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, os.WriteFile(target, nil, 0o600))
	_, err = os.OpenFile(link, os.O_RDONLY|oNoFollow, 0)
	require.Error(t, err, "a link to an existing file is refused too")
}
