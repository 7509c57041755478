//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binaryNobody is the uid and gid the read-only tests run the binary as
// when the tests run as root, who may write into any directory.
const binaryNobody = 65534

// binaryExitFiles is exit code 8, written out as the other codes are.
const binaryExitFiles = 8

// binaryOpenUp lets others into path and every directory above it up to the
// system's temporary directory.
func binaryOpenUp(t *testing.T, path string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for p := path; len(p) > len(top); p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.NoError(t, os.Chmod(p, fi.Mode().Perm()|0o055))
	}
}

// runAsOwner runs the binary as the owner of u's directory: this user, or
// nobody under root (the binary copied where nobody may run it, u's
// directory given to nobody), so that permissions apply.
func (u *binaryUser) runAsOwner(args ...string) binaryResult {
	u.t.Helper()
	if os.Geteuid() != 0 {
		return u.run(args...)
	}
	bin := u.bin
	defer func() { u.bin = bin }()
	binDir := u.t.TempDir()
	binaryOpenUp(u.t, binDir)
	exe, err := os.ReadFile(bin)
	require.NoError(u.t, err)
	u.bin = filepath.Join(binDir, "videoauth")
	require.NoError(u.t, os.WriteFile(u.bin, exe, 0o755))
	binaryOpenUp(u.t, filepath.Dir(u.dir))
	cmd := exec.Command(u.bin, args...)
	cmd.Env, cmd.Dir = u.env, "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: binaryNobody, Gid: binaryNobody}}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !assert.ErrorAs(u.t, err, &ee) {
		u.t.FailNow()
	}
	r := binaryResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	binaryNoRace(u.t, r.stderr)
	return r
}

// chownTree gives dir and everything in it to nobody when the tests run as
// root (see runAsOwner).
func chownTree(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	require.NoError(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, binaryNobody, binaryNobody)
	}))
}

// TestBinaryReadOnlyTokenDirectory: a token directory the user cannot
// write is a file-system problem, exit 8, reported before the sign-in
// (whose token would be lost), with the directory and the system's reason;
// what is stored can still be read, and the directory stays read-only.
func TestBinaryReadOnlyTokenDirectory(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	u.mustRun(0, "--sandbox", "login", "vimeo")
	tokens := filepath.Join(u.dir, "sandbox", "tokens")
	chownTree(t, u.dir)
	require.NoError(t, os.Chmod(tokens, 0o500))
	t.Cleanup(func() { os.Chmod(tokens, 0o700) })

	r := u.runAsOwner("--sandbox", "login", "simkl")
	assert.Equal(t, binaryExitFiles, r.code, "%s", r)
	assert.Contains(t, r.stderr, "videoauth: cannot store a token in "+tokens+": permission denied\n")
	assert.Contains(t, r.stderr, "chmod u+rwx "+tokens)
	assert.NotContains(t, r.stderr, "client id", "not a configuration problem")
	assert.NotContains(t, r.stderr, "Listening on", "refused before the sign-in")

	r = u.runAsOwner("--sandbox", "list")
	assert.Equal(t, 0, r.code, "%s", r)
	assert.Regexp(t, `(?m)^vimeo +user +4242 `, r.stdout, "what is stored is still read")
	r = u.runAsOwner("--sandbox", "logout", "vimeo")
	assert.Equal(t, binaryExitFiles, r.code, "%s", r)
	assert.Contains(t, r.stderr, "permission denied")
	fi, err := os.Stat(tokens)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o500), fi.Mode().Perm(), "the directory was made writable")

	// A videoauth directory in which the token directory cannot be made.
	v := newBinaryUser(t)
	require.NoError(t, os.Mkdir(filepath.Join(v.dir, "sandbox"), 0o700))
	chownTree(t, v.dir)
	require.NoError(t, os.Chmod(filepath.Join(v.dir, "sandbox"), 0o500))
	t.Cleanup(func() { os.Chmod(filepath.Join(v.dir, "sandbox"), 0o700) })
	r = v.runAsOwner("--sandbox", "login", "vimeo")
	assert.Equal(t, binaryExitFiles, r.code, "%s", r)
	assert.Contains(t, r.stderr, "videoauth: cannot use the token directory "+filepath.Join(v.dir, "sandbox", "tokens")+": permission denied\n")
}

// TestPtyLoginAsksBeforeReplacingAnUnreadableFile: at a terminal, login
// over a token file that is no token asks first; yes replaces it, anything
// else keeps it.
func TestPtyLoginAsksBeforeReplacingAnUnreadableFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		answer string
		code   int
	}{{"y", 0}, {"n", binaryExitSignIn}} {
		t.Run(tc.answer, func(t *testing.T) {
			t.Parallel()
			u := newBinaryUser(t)
			tokens := filepath.Join(u.dir, "sandbox", "tokens")
			require.NoError(t, os.MkdirAll(tokens, 0o700))
			file := filepath.Join(tokens, "vimeo.json")
			require.NoError(t, os.WriteFile(file, []byte("{not json"), 0o600))
			p := u.startPty("--sandbox", "login", "vimeo", "--client")
			p.waitFor("Replace it with the new sign-in? [y/N] ")
			p.typeIn(tc.answer + "\r")
			code, out := p.wait()
			assert.Equal(t, tc.code, code, "output:\n%q", out)
			assert.Contains(t, out, "videoauth: the stored vimeo grant "+file+" is not a token videoauth can read.\r\n")
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			if tc.code == 0 {
				assert.Contains(t, out, "Signed in to vimeo: app (client credentials) grant")
				assert.Contains(t, string(data), `"access_token"`, "replaced")
			} else {
				assert.Equal(t, "{not json", string(data), "kept")
				assert.Contains(t, out, "`videoauth login vimeo --replace`")
			}
		})
	}
}
