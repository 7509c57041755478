//go:build unix

package main

// The tests in this file build the videoauth binary and drive it as a user
// would: on a real pseudo-terminal where the output is interactive (the
// device screen's countdown, the password prompt, Ctrl-C), with pipes
// elsewhere, checking exit codes, standard output and standard error.
// Each test's user (one or a sequence of runs sharing a token store) has its
// own VIDEOAUTH_CONFIG_DIR, HOME and XDG_CONFIG_HOME and no VIDEOAUTH_*
// variable of the caller; runs use --sandbox or a fake the test starts, and
// --no-browser, so none reaches the internet (an HTTP proxy trap makes sure)
// or opens a browser. The helpers' names start with "binary" to stay clear of the
// in-process tests of this package.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

const (
	// binaryWait bounds every wait for output. The device flows take about
	// five seconds (the fakes' poll interval); the rest is headroom for a
	// -race binary on a busy two-core machine.
	binaryWait = 20 * time.Second
	// binaryRunTimeout bounds a whole non-interactive run.
	binaryRunTimeout = 60 * time.Second
)

// The exit codes, written out: they are the tool's interface, so these tests
// do not take them from exitcode.go.
const (
	binaryExitUsage       = 2
	binaryExitConfig      = 3
	binaryExitSignIn      = 4
	binaryExitDenied      = 5
	binaryExitExpired     = 6
	binaryExitBinding     = 7
	binaryExitInterrupted = 130
)

// binaryBuild is the videoauth binary the tests share. It is built on first
// use into a directory from os.MkdirTemp and counted out by t.Cleanup: the
// directory is removed when the last test using it ends, so a run leaves
// nothing behind without a TestMain. Should a test start after every other
// has ended (rare with parallel tests), the binary is built again, which the
// build cache makes a quick link.
var binaryBuild struct {
	mu   sync.Mutex
	dir  string
	refs int
}

// videoauthBinary returns the path of the built binary, valid until t ends.
// It is built with -race when the tests are, so `go test -race` race-checks
// the binary too.
func videoauthBinary(t *testing.T) string {
	t.Helper()
	b := &binaryBuild
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refs == 0 {
		goTool, err := exec.LookPath("go") // go test puts the go command's GOROOT/bin first in PATH
		require.NoError(t, err)
		dir, err := os.MkdirTemp("", "videoauth-binary-test-")
		require.NoError(t, err)
		args := []string{"build", "-o", filepath.Join(dir, "videoauth")}
		if binaryRaceEnabled() {
			args = append(args, "-race")
		}
		out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
		if err != nil {
			os.RemoveAll(dir)
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		b.dir = dir
	}
	b.refs++
	path := filepath.Join(b.dir, "videoauth")
	t.Cleanup(func() { // registered first, so it runs after the cleanups that stop the processes
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.refs--; b.refs == 0 {
			os.RemoveAll(b.dir)
			b.dir = ""
		}
	})
	return path
}

// binaryRaceEnabled reports whether this test binary was built with -race,
// from the build settings the go command records.
func binaryRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// binaryUser is one user of the tool: a configuration directory and an
// environment that every run of the binary shares, so a sequence of runs
// sees one token store.
type binaryUser struct {
	t   *testing.T
	bin string
	dir string // VIDEOAUTH_CONFIG_DIR
	env []string
}

// newBinaryUser makes a user whose environment is this process's without
// any VIDEOAUTH_* variable, with fresh VIDEOAUTH_CONFIG_DIR, HOME and
// XDG_CONFIG_HOME, plus extra ("NAME=value").
//
// The runs' HTTP proxy is a trap that answers 403 and fails the test: a run
// that tries to leave 127.0.0.1 (which Go never proxies) is caught there
// instead of reaching the internet.
func newBinaryUser(t *testing.T, extra ...string) *binaryUser {
	t.Helper()
	u := &binaryUser{t: t, bin: videoauthBinary(t), dir: t.TempDir()}
	var mu sync.Mutex
	var escaped []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		escaped = append(escaped, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "videoauth tests: no internet", http.StatusForbidden)
	}))
	t.Cleanup(func() {
		trap.Close()
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, escaped, "the binary tried to reach the internet")
	})

	// A -race binary sleeps a second at exit by default; the caller's own
	// GORACE options come after, so they win.
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch upper := strings.ToUpper(k); {
		case k == "GORACE":
			gorace += " " + v
		case strings.HasPrefix(k, "VIDEOAUTH_"), k == "HOME", k == "XDG_CONFIG_HOME", k == "BROWSER",
			upper == "HTTP_PROXY", upper == "HTTPS_PROXY", upper == "NO_PROXY", upper == "ALL_PROXY":
		default:
			u.env = append(u.env, kv)
		}
	}
	u.env = append(u.env, "GORACE="+gorace, "HTTP_PROXY="+trap.URL, "HTTPS_PROXY="+trap.URL,
		"VIDEOAUTH_CONFIG_DIR="+u.dir, "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	u.env = append(u.env, extra...)
	return u
}

// binaryResult is a finished non-interactive run.
type binaryResult struct {
	code           int
	stdout, stderr string
}

func (r binaryResult) String() string {
	return fmt.Sprintf("exit code %d\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the binary with args, standard input from /dev/null and output
// to pipes, and waits for it.
func (u *binaryUser) run(args ...string) binaryResult {
	u.t.Helper()
	cmd := exec.Command(u.bin, args...)
	cmd.Env = u.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(u.t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(binaryRunTimeout):
		cmd.Process.Kill()
		<-done
		u.t.Fatalf("videoauth %s did not finish within %s\n--- stdout:\n%s\n--- stderr:\n%s",
			strings.Join(args, " "), binaryRunTimeout, stdout.String(), stderr.String())
	}
	r := binaryResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	binaryNoRace(u.t, r.stderr)
	u.t.Logf("videoauth %s: exit code %d", strings.Join(args, " "), r.code)
	return r
}

// mustRun runs args and requires exit code want.
func (u *binaryUser) mustRun(want int, args ...string) binaryResult {
	u.t.Helper()
	r := u.run(args...)
	require.Equal(u.t, want, r.code, "videoauth %s\n%s", strings.Join(args, " "), r)
	return r
}

// binaryNoRace fails the test on a race report of a -race binary.
func binaryNoRace(t *testing.T, output string) {
	t.Helper()
	if strings.Contains(output, "WARNING: DATA RACE") {
		t.Errorf("the binary reported a data race:\n%s", output)
	}
}

// binaryOutput collects a process's output for concurrent readers; changed
// is closed (and replaced) on every write, so waiters need not poll.
type binaryOutput struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func (o *binaryOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return len(p), nil
}

// snapshot returns the output so far and a channel closed by the next write.
func (o *binaryOutput) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.changed == nil {
		o.changed = make(chan struct{})
	}
	return o.b.String(), o.changed
}

func (o *binaryOutput) String() string {
	s, _ := o.snapshot()
	return s
}

// binaryProc is a running binary: on a pseudo-terminal (out is everything it
// wrote to it), or with pipes (out is standard error).
type binaryProc struct {
	t    *testing.T
	args []string
	cmd  *exec.Cmd
	out  binaryOutput

	ptmx *os.File // the terminal's master side; nil with pipes
	tty  string   // the terminal's slave device

	done chan struct{} // closed when the process exited and its output was read
	code int           // the exit code, once done
}

// startPty starts the binary on a new pseudo-terminal, as its controlling
// terminal and standard input, output and error.
func (u *binaryUser) startPty(args ...string) *binaryProc {
	u.t.Helper()
	return u.startPtySize(160, args...)
}

// startPtySize is startPty on a terminal cols columns wide.
func (u *binaryUser) startPtySize(cols uint16, args ...string) *binaryProc {
	u.t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(u.t, err)
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 60, Cols: cols}); err != nil {
		ptmx.Close()
		tty.Close()
		u.t.Fatal(err)
	}
	cmd := exec.Command(u.bin, args...)
	cmd.Env = u.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	p := &binaryProc{t: u.t, args: args, cmd: cmd, ptmx: ptmx, tty: tty.Name(), done: make(chan struct{})}
	err = cmd.Start()
	tty.Close() // the child has its own; with ours closed, reads fail (EIO) once it exits
	if err != nil {
		ptmx.Close()
		u.t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			p.out.Write(buf[:n])
			if err != nil { // EIO when the child has exited: no one has the terminal open
				return
			}
		}
	}()
	go func() {
		cmd.Wait()
		select {
		case <-readDone:
		case <-time.After(5 * time.Second): // something else holds the terminal: stop waiting for it
		}
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	u.t.Cleanup(func() {
		p.stop()
		ptmx.Close()
	})
	return p
}

// start starts the binary with standard error (and output) piped.
func (u *binaryUser) start(args ...string) *binaryProc {
	u.t.Helper()
	cmd := exec.Command(u.bin, args...)
	cmd.Env = u.env
	p := &binaryProc{t: u.t, args: args, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, &p.out
	require.NoError(u.t, cmd.Start())
	go func() {
		cmd.Wait() // returns once standard error is copied
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	u.t.Cleanup(p.stop)
	return p
}

// stop kills the process if it still runs and waits for it.
func (p *binaryProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("videoauth %s: not gone 10s after SIGKILL", strings.Join(p.args, " "))
	}
}

// waitUntil waits until ok accepts the output, and returns it. It fails the
// test when the process exits or binaryWait passes first.
func (p *binaryProc) waitUntil(what string, ok func(out string) bool) string {
	p.t.Helper()
	timeout := time.NewTimer(binaryWait)
	defer timeout.Stop()
	for {
		out, changed := p.out.snapshot()
		if ok(out) {
			return out
		}
		select {
		case <-changed:
		case <-p.done:
			if out := p.out.String(); ok(out) {
				return out
			}
			p.t.Fatalf("videoauth %s exited with code %d before %s; output:\n%q", strings.Join(p.args, " "), p.code, what, p.out.String())
		case <-timeout.C:
			p.t.Fatalf("videoauth %s: no %s within %s; output:\n%q", strings.Join(p.args, " "), what, binaryWait, p.out.String())
		}
	}
}

// waitFor waits for s in the output.
func (p *binaryProc) waitFor(s string) string {
	p.t.Helper()
	return p.waitUntil(strconv.Quote(s), func(out string) bool { return strings.Contains(out, s) })
}

// wait waits for the process to exit and returns its exit code and output.
func (p *binaryProc) wait() (int, string) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(binaryRunTimeout):
		p.t.Fatalf("videoauth %s did not exit within %s; output:\n%q", strings.Join(p.args, " "), binaryRunTimeout, p.out.String())
	}
	out := p.out.String()
	binaryNoRace(p.t, out)
	return p.code, out
}

// typeIn writes s to the terminal, as if typed.
func (p *binaryProc) typeIn(s string) {
	p.t.Helper()
	_, err := p.ptmx.Write([]byte(s))
	require.NoError(p.t, err)
}

var binaryEchoOff = regexp.MustCompile(`(^|\s)-echo(\s|$)`)

// echoOff reports whether the terminal has echo turned off, as `stty -a`
// on it says.
func (p *binaryProc) echoOff() bool {
	p.t.Helper()
	f, err := os.OpenFile(p.tty, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return false // the process has exited
	}
	defer f.Close()
	stty := exec.Command("stty", "-a")
	stty.Stdin = f
	out, err := stty.Output()
	return err == nil && binaryEchoOff.Match(out)
}

// binaryDeviceScreen is what a terminal showed of a device or PIN code.
type binaryDeviceScreen struct {
	code      string // the user code, in plain text
	countdown []int  // the remaining seconds of each redraw of the status line
}

var (
	binaryPlainCode = regexp.MustCompile(`(?m)^ {4}([0-9A-Z-]{4,})\r$`)
	binaryCountdown = regexp.MustCompile(`\r\x1b\[KWaiting for approval… the code expires in (\d+):(\d\d)  \(Ctrl-C to cancel\)`)
	binaryQRRow     = regexp.MustCompile(`^  [▀▄█ ]+$`)
	binaryBigRow    = regexp.MustCompile(`^    [█ ]*█[█ ]*$`)
)

// binaryCheckDeviceScreen checks what a device login showed on a terminal: the
// page at verifyPath, the code in the block font and in plain text, a QR
// code and a countdown redrawn in place.
func binaryCheckDeviceScreen(t *testing.T, out, service, verifyPath string) binaryDeviceScreen {
	t.Helper()
	var s binaryDeviceScreen
	require.Contains(t, out, "To sign in to "+service+", open this page on any device:\r\n\r\n")
	assert.Regexp(t, `\r\n {4}http://127\.0\.0\.1:\d+`+regexp.QuoteMeta(verifyPath)+`\r\n`, out, "the verification URL")

	m := binaryPlainCode.FindStringSubmatch(out)
	require.NotNil(t, m, "no user code in plain text in %q", out)
	s.code = m[1]

	// The code in the block font: five rows of █ between the prompt and the
	// plain code, drawing exactly this code.
	_, afterPrompt, ok := strings.Cut(out, "and enter the code\r\n\r\n")
	require.True(t, ok, "no \"and enter the code\" in %q", out)
	big, _, ok := strings.Cut(afterPrompt, "\r\n    "+s.code+"\r\n")
	require.True(t, ok, "the plain code does not follow the prompt in %q", out)
	big = strings.TrimSuffix(big, "\r\n") // the blank line before the plain code
	rows := strings.Split(big, "\r\n")
	if assert.Len(t, rows, 5, "the code in the block font: %q", big) {
		for _, r := range rows {
			assert.Regexp(t, binaryBigRow, r, "a row of the code in the block font")
		}
	}
	want := strings.ReplaceAll(strings.TrimSuffix(indent(bigText(s.code), "    "), "\n"), "\n", "\r\n")
	assert.Equal(t, want, big, "the block font draws %s", s.code)

	// A QR code in half blocks.
	_, afterQR, ok := strings.Cut(out, "or scan this QR code")
	require.True(t, ok, "no QR code in %q", out)
	qrRows, halfBlocks := 0, false
	for _, l := range strings.Split(afterQR, "\r\n") {
		if binaryQRRow.MatchString(l) {
			qrRows++
			halfBlocks = halfBlocks || strings.ContainsAny(l, "▀▄")
		}
	}
	assert.GreaterOrEqual(t, qrRows, 10, "rows of the QR code in %q", afterQR)
	assert.True(t, halfBlocks, "the QR code has half blocks")

	// The countdown: the status line redrawn in place, the time left never
	// growing and going down while the login waited.
	for _, m := range binaryCountdown.FindAllStringSubmatch(out, -1) {
		mins, _ := strconv.Atoi(m[1])
		secs, _ := strconv.Atoi(m[2])
		s.countdown = append(s.countdown, mins*60+secs)
	}
	require.GreaterOrEqual(t, len(s.countdown), 2, "redraws of the countdown line in %q", out)
	for i := 1; i < len(s.countdown); i++ {
		assert.LessOrEqual(t, s.countdown[i], s.countdown[i-1], "the countdown went up: %v", s.countdown)
	}
	assert.Less(t, s.countdown[len(s.countdown)-1], s.countdown[0], "the countdown did not go down: %v", s.countdown)
	return s
}

// listJSON runs `list --json` and decodes it.
func (u *binaryUser) listJSON(sandbox bool) []map[string]any {
	u.t.Helper()
	args := []string{"list", "--json"}
	if sandbox {
		args = append([]string{"--sandbox"}, args...)
	}
	r := u.mustRun(0, args...)
	var grants []map[string]any
	require.NoError(u.t, json.Unmarshal([]byte(r.stdout), &grants), "list --json printed %q", r.stdout)
	return grants
}

// requireNothingStored checks that the sandbox store is empty.
func (u *binaryUser) requireNothingStored() {
	u.t.Helper()
	r := u.mustRun(0, "--sandbox", "list", "--json")
	require.Equal(u.t, "[]\n", r.stdout, "something was stored")
}

var binaryVimeoToken = regexp.MustCompile(`^[0-9a-f]{32}\n$`)

func TestPtyDeviceLogin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, service string
		flags         []string
		verifyPath    string
		grant         string // the start of the "Signed in" line's grant
		token         *regexp.Regexp
	}{
		{"vimeo", "vimeo", nil, "/activate", "user grant, user id 4242", binaryVimeoToken},
		{"simkl-v2", "simkl", nil, "/pin", "user (v2) grant", regexp.MustCompile(`^simkl_at_\S+\n$`)},
		{"simkl-v1-pin", "simkl", []string{"--generation", "v1"}, "/pin", "user (v1) grant", regexp.MustCompile(`^[0-9a-f]{32,}\n$`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newBinaryUser(t)
			p := u.startPty(append([]string{"--sandbox", "login", tc.service, "--device"}, tc.flags...)...)
			p.waitFor("Signed in to " + tc.service)
			code, out := p.wait()
			require.Equal(t, 0, code, "output:\n%q", out)
			screen := binaryCheckDeviceScreen(t, out, tc.service, tc.verifyPath)
			t.Logf("code %s, countdown %v", screen.code, screen.countdown)
			// The countdown's line is cleared before the result is shown.
			assert.Contains(t, out, "\r\x1b[KSigned in to "+tc.service+": "+tc.grant)

			r := u.mustRun(0, "--sandbox", "token", tc.service)
			assert.Regexp(t, tc.token, r.stdout, "token prints the token and nothing else on stdout")
			assert.NotContains(t, r.stderr, strings.TrimSpace(r.stdout))
		})
	}
}

func TestPtyDeviceCodeExpires(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	// Nobody approves the code and time runs 100 times faster: the
	// five-minute code expires in about three seconds.
	p := u.startPty("--sandbox", "--sandbox-scenario", "expire", "login", "vimeo", "--device")
	code, out := p.wait()
	assert.Equal(t, binaryExitExpired, code, "output:\n%q", out)
	assert.Contains(t, out, "videoauth: the code expired before it was approved")
	assert.Contains(t, out, "Run `videoauth login vimeo --device` again")
	screen := binaryCheckDeviceScreen(t, out, "vimeo", "/activate")
	t.Logf("countdown %v", screen.countdown)
	assert.NotContains(t, out, "Signed in")
	u.requireNothingStored()
}

func TestBinaryDenied(t *testing.T) {
	t.Parallel()
	t.Run("browser", func(t *testing.T) {
		t.Parallel()
		u := newBinaryUser(t)
		r := u.mustRun(binaryExitDenied, "--sandbox", "--sandbox-scenario", "deny", "login", "vimeo")
		assert.Contains(t, r.stderr, "videoauth: the sign-in was denied")
		assert.Contains(t, r.stderr, "Nothing was stored. Run `videoauth login vimeo` again")
		assert.Empty(t, r.stdout)
		u.requireNothingStored()
	})
	t.Run("device", func(t *testing.T) {
		t.Parallel()
		u := newBinaryUser(t)
		r := u.mustRun(binaryExitDenied, "--sandbox", "--sandbox-scenario", "deny", "login", "simkl", "--device")
		assert.Contains(t, r.stderr, "videoauth: the sign-in was denied")
		assert.Empty(t, r.stdout)
		u.requireNothingStored()
	})
}

func TestPtyPasswordNotEchoed(t *testing.T) {
	t.Parallel()
	const password = "correct horse"
	u := newBinaryUser(t)
	p := u.startPty("--sandbox", "login", "viki", "--password", "--username", "fan@example.com")
	// The sandbox shows the fake's credentials before the prompt; only what
	// follows the prompt is the terminal's echo.
	before := p.waitFor("Password: ")
	require.Contains(t, before, `password "`+password+`"`, "the sandbox's hint")
	// Echo is off before the prompt shows, so a user who types at once is
	// not echoed either.
	if _, err := exec.LookPath("stty"); err == nil {
		assert.True(t, p.echoOff(), "the prompt showed while the terminal still echoed")
	} else {
		t.Log("no stty: the echo is judged from the output only")
	}
	p.typeIn(password + "\r")
	code, out := p.wait()
	require.Equal(t, 0, code, "output:\n%q", out)
	_, after, _ := strings.Cut(out, "Password: ")
	assert.NotContains(t, after, "correct", "the password was echoed")
	assert.NotContains(t, after, "horse", "the password was echoed")
	assert.Contains(t, after, "Signed in to viki: user grant, user id 1u")

	r := u.mustRun(0, "--sandbox", "list")
	var found bool
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "viki" {
			found = true
			assert.Equal(t, []string{"viki", "user", "1u"}, f[:3], "list: %q", l)
		}
	}
	assert.True(t, found, "list shows no viki grant:\n%s", r.stdout)
}

func TestBinarySession(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	var stderrs []string
	run := func(want int, args ...string) binaryResult {
		t.Helper()
		r := u.mustRun(want, append([]string{"--sandbox"}, args...)...)
		stderrs = append(stderrs, r.stderr)
		return r
	}

	r := run(0, "login", "vimeo")
	assert.Contains(t, r.stderr, "Sandbox: the fake's consent page answers by itself.")
	assert.Contains(t, r.stderr, "Signed in to vimeo: user grant, user id 4242")
	assert.Empty(t, r.stdout)

	r = run(0, "token", "vimeo")
	require.Regexp(t, binaryVimeoToken, r.stdout)
	token := strings.TrimSpace(r.stdout)

	r = run(0, "curl", "vimeo", "/me")
	assert.JSONEq(t, `{"uri":"/users/4242","name":"Fake User","link":"https://vimeo.com/user4242"}`, r.stdout)

	r = run(0, "verify", "vimeo")
	assert.Contains(t, r.stdout, "vimeo: the token works: GET /oauth/verify answered 200 OK.")

	r = run(0, "list")
	assert.Regexp(t, `(?m)^vimeo +user +4242 +public +never +no +default \(default\)$`, r.stdout)
	lists := r.stdout
	r = run(0, "list", "--json")
	lists += r.stdout
	var grants []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &grants), r.stdout)
	require.Len(t, grants, 1)
	assert.Equal(t, "vimeo", grants[0]["service"])
	assert.Equal(t, "4242", grants[0]["user_id"])
	assert.NotContains(t, lists, token, "list printed the token")
	for _, s := range stderrs {
		assert.NotContains(t, s, token, "the token on standard error")
	}

	r = run(0, "revoke", "vimeo")
	assert.Contains(t, r.stderr, "Revoked the vimeo grant and removed it from the store.")
	r = run(binaryExitSignIn, "token", "vimeo")
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "videoauth: not signed in to vimeo")
	assert.Contains(t, r.stderr, "videoauth login vimeo")

	run(0, "login", "vimeo")
	r = run(0, "logout", "vimeo")
	assert.Contains(t, r.stderr, "Removed the stored vimeo grant.")
	u.requireNothingStored()
	run(binaryExitSignIn, "token", "vimeo")
	r = run(0, "logout", "vimeo")
	assert.Contains(t, r.stderr, "Not signed in to vimeo; nothing to remove.")
}

func TestBinaryRevokedGrant(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	// A device login without a terminal: the code in plain text only, no
	// countdown and no escape sequences.
	r := u.mustRun(0, "--sandbox", "login", "simkl", "--device")
	assert.Regexp(t, `and enter the code\n\n {4}[0-9A-Z]{4,}\n\n`, r.stderr, "the code in plain text, without the block font")
	assert.Contains(t, r.stderr, "Waiting for approval; the code expires in 15m0s (at ")
	assert.NotContains(t, r.stderr, "\x1b[", "escape sequences without a terminal")
	assert.NotContains(t, r.stderr, "\r")
	assert.Contains(t, r.stderr, "Signed in to simkl: user (v2) grant")

	r = u.mustRun(0, "--sandbox", "curl", "simkl", "/users/settings")
	assert.Contains(t, r.stdout, `"Fake User"`)

	// The service has forgotten the grant.
	for _, args := range [][]string{{"curl", "simkl", "/users/settings"}, {"verify", "simkl"}} {
		r = u.mustRun(binaryExitSignIn, append([]string{"--sandbox", "--sandbox-scenario", "revoke"}, args...)...)
		assert.Contains(t, r.stderr, "videoauth: the stored simkl grant is no longer valid", args)
		assert.Contains(t, r.stderr, "Sign in again: `videoauth login simkl`.", args)
	}
}

func TestBinaryExitCodes(t *testing.T) {
	t.Parallel()
	// foreign is a host the token must never reach.
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
	}))
	t.Cleanup(foreign.Close)

	writeConfig := func(name, content string) func(u *binaryUser) {
		return func(u *binaryUser) {
			require.NoError(u.t, os.WriteFile(filepath.Join(u.dir, name), []byte(content), 0o600))
		}
	}
	signIn := func(u *binaryUser) { u.mustRun(0, "--sandbox", "login", "vimeo") }
	// A grant minted by a fake Vimeo, then the config file points at foreign.
	fakeVimeo := videoauthtest.NewVimeo()
	t.Cleanup(fakeVimeo.Close)
	vimeoAt := func(api string) string {
		return fmt.Sprintf(`{"vimeo": {"client_id": %q, "client_secret": %q, "api_url": %q}}`, fakeVimeo.ClientID, fakeVimeo.ClientSecret, api)
	}
	signInThenMove := func(u *binaryUser) {
		writeConfig("config.json", vimeoAt(fakeVimeo.URL))(u)
		u.mustRun(0, "login", "vimeo", "--client")
		writeConfig("config.json", vimeoAt(foreign.URL))(u)
	}

	for _, tc := range []struct {
		name   string
		setup  func(u *binaryUser)
		args   []string
		code   int
		stderr []string
	}{
		{name: "unknown service", args: []string{"--sandbox", "login", "netflix"}, code: binaryExitUsage,
			stderr: []string{`videoauth: unknown service "netflix"`, "The services are vimeo, simkl, viki, twitch, dailymotion, youtube, trakt."}},
		{name: "unknown flag", args: []string{"--sandbox", "login", "vimeo", "--bogus"}, code: binaryExitUsage,
			stderr: []string{"unknown flag: --bogus", "Run `videoauth login --help` for usage."}},
		{name: "no service", args: []string{"--sandbox", "token"}, code: binaryExitUsage,
			stderr: []string{"token takes one service, got 0 arguments"}},
		{name: "unknown command", args: []string{"logn", "vimeo"}, code: binaryExitUsage,
			stderr: []string{`unknown command "logn"`}},
		{name: "scenario without sandbox", args: []string{"--sandbox-scenario", "deny", "login", "vimeo"}, code: binaryExitUsage,
			stderr: []string{"--sandbox-scenario works only with --sandbox"}},
		{name: "unknown scenario", args: []string{"--sandbox", "--sandbox-scenario", "flood", "login", "vimeo"}, code: binaryExitUsage,
			stderr: []string{`unknown sandbox scenario "flood"`}},
		{name: "not signed in", args: []string{"--sandbox", "token", "vimeo"}, code: binaryExitSignIn,
			stderr: []string{"videoauth: not signed in to vimeo", "Sign in first: `videoauth login vimeo`"}},
		{name: "no client id", args: []string{"login", "vimeo", "--no-browser"}, code: binaryExitConfig,
			stderr: []string{"videoauth: no vimeo client id", "VIDEOAUTH_VIMEO_CLIENT_ID", "--client-id", "--sandbox"}},
		{name: "no viki client secret", args: []string{"login", "viki", "--client"}, code: binaryExitConfig,
			setup:  writeConfig("config.json", `{"viki": {"client_id": "app"}}`),
			stderr: []string{"videoauth: no viki client secret", "VIDEOAUTH_VIKI_CLIENT_SECRET"}},
		{name: "no browser flow", args: []string{"--sandbox", "login", "viki"}, code: binaryExitUsage,
			stderr: []string{"videoauth: viki has no browser sign-in", "viki signs in with --password, --facebook or --client."}},
		{name: "no device flow", args: []string{"--sandbox", "login", "viki", "--device"}, code: binaryExitUsage,
			stderr: []string{"videoauth: viki has no device sign-in"}},
		{name: "exclusive flows", args: []string{"--sandbox", "login", "vimeo", "--device", "--client"}, code: binaryExitUsage,
			stderr: []string{"videoauth: --device and --client cannot be used together", "Choose one way to sign in"}},
		{name: "curl to another host", setup: signIn, args: []string{"--sandbox", "curl", "vimeo", "https://evil.example/x"}, code: binaryExitUsage,
			stderr: []string{"https://evil.example/x is not on vimeo's API host", "videoauth sends the token nowhere else"}},
		{name: "curl to another port", setup: signIn, args: []string{"--sandbox", "curl", "vimeo", foreign.URL + "/me"}, code: binaryExitUsage,
			stderr: []string{foreign.URL + "/me is not on vimeo's API host", "videoauth sends the token nowhere else"}},
		{name: "grant minted for another API URL", setup: signInThenMove, args: []string{"curl", "vimeo", "/videos/7"}, code: binaryExitBinding,
			stderr: []string{"videoauth: the stored vimeo grant was minted for " + fakeVimeo.URL + ", but vimeo's API is now " + foreign.URL,
				"`videoauth logout vimeo`, then `videoauth login vimeo`"}},
		{name: "curl with an Authorization header", setup: signIn, args: []string{"--sandbox", "curl", "vimeo", "/me", "-H", "Authorization: Bearer x"}, code: binaryExitUsage,
			stderr: []string{"an Authorization header was given"}},
		{name: "config unknown field", setup: writeConfig("config.json", `{"vimeo": {"client_idd": "app"}}`),
			args: []string{"login", "vimeo", "--no-browser"}, code: binaryExitConfig,
			stderr: []string{"config.json is not valid", `unknown field "client_idd"`, "See `videoauth help config` for its format."}},
		{name: "config unknown service", setup: writeConfig("other.json", `{"vimeo": {"client_id": "app"}, "netflix": {}}`),
			args: []string{"--config", "other.json", "login", "vimeo", "--no-browser"}, code: binaryExitConfig,
			stderr: []string{`names an unknown service "netflix"`}},
		{name: "config missing", args: []string{"--config", "missing.json", "login", "vimeo", "--no-browser"}, code: binaryExitConfig,
			stderr: []string{"videoauth: cannot read the config file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newBinaryUser(t)
			if tc.setup != nil {
				tc.setup(u)
			}
			args := slices.Clone(tc.args)
			for i, a := range args {
				if strings.HasSuffix(a, ".json") { // config files live in the user's directory
					args[i] = filepath.Join(u.dir, a)
				}
			}
			r := u.mustRun(tc.code, args...)
			for _, s := range tc.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.NotContains(t, r.stderr, "warning:")
			assert.Empty(t, r.stdout)
		})
	}
	t.Cleanup(func() { assert.Zero(t, foreignHits.Load(), "requests reached the foreign host") })
}

func TestBinaryCompletion(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	r := u.mustRun(0, "completion", "bash")
	assert.Contains(t, r.stdout, "# bash completion V2 for videoauth")
	assert.Contains(t, r.stdout, "__start_videoauth")
	r = u.mustRun(0, "completion", "zsh")
	assert.Contains(t, r.stdout, "#compdef videoauth")

	r = u.mustRun(0, "__complete", "login", "")
	assert.Equal(t, []string{"vimeo", "simkl", "viki", "twitch", "dailymotion", "youtube", "trakt", ":4"}, strings.Fields(r.stdout))
	r = u.mustRun(0, "__complete", "curl", "")
	assert.Equal(t, []string{"vimeo", "simkl", "viki", "twitch", "dailymotion", "youtube", "trakt", ":4"}, strings.Fields(r.stdout))
	r = u.mustRun(0, "__complete", "login", "vimeo", "--sandbox-scenario", "")
	assert.Equal(t, []string{"deny", "expire", "revoke", ":4"}, strings.Fields(r.stdout))
}

func TestBinaryHelp(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	r := u.mustRun(0, "--help")
	for _, line := range []string{
		"  2    usage error", "  3    configuration", "  4    sign-in needed", "  5    refused",
		"  6    timed out", "  130  interrupted",
	} {
		assert.Contains(t, r.stdout, "\n"+line, "the exit codes in --help")
	}
	r = u.mustRun(0, "help", "config")
	assert.Contains(t, r.stdout, "VIDEOAUTH_VIMEO_CLIENT_ID")
}

func TestPtyInterrupt(t *testing.T) {
	t.Parallel()
	u := newBinaryUser(t)
	p := u.startPty("--sandbox", "login", "vimeo", "--device")
	// The fake approves after 1.5 s, and the first poll is after 5 s: the
	// interrupt comes first.
	p.waitFor("Waiting for approval… the code expires in")
	p.typeIn("\x03") // Ctrl-C: the terminal sends SIGINT
	code, out := p.wait()
	assert.Equal(t, binaryExitInterrupted, code, "output:\n%q", out)
	assert.Contains(t, out, "videoauth: interrupted")
	assert.NotContains(t, out, "Signed in")
	u.requireNothingStored()
}

// The binary, not in the sandbox, against a fake Vimeo: the test is the
// browser that the authorization URL is opened in.
func TestBinaryLoopbackLogin(t *testing.T) {
	t.Parallel()
	fake := videoauthtest.NewVimeo()
	t.Cleanup(fake.Close)
	u := newBinaryUser(t,
		"VIDEOAUTH_VIMEO_CLIENT_ID="+fake.ClientID,
		"VIDEOAUTH_VIMEO_CLIENT_SECRET="+fake.ClientSecret,
		"VIDEOAUTH_VIMEO_API_URL="+fake.URL)

	p := u.start("login", "vimeo", "--no-browser", "--timeout", "1m")
	found := regexp.MustCompile(`Open this page in your browser to sign in to vimeo:\n\n {4}(\S+)\n`)
	m := found.FindStringSubmatch(p.waitUntil("the authorization URL", found.MatchString))
	authURL, err := url.Parse(m[1])
	require.NoError(t, err)
	assert.Equal(t, fake.URL+"/oauth/authorize", authURL.Scheme+"://"+authURL.Host+authURL.Path)
	redirect, err := url.Parse(authURL.Query().Get("redirect_uri"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", redirect.Hostname(), "the loopback redirect")
	assert.Contains(t, p.out.String(), "Listening on "+redirect.String()+" for vimeo's redirect")

	// The consent page approves and redirects to the binary's listener.
	browser := &http.Client{Timeout: binaryWait}
	resp, err := browser.Get(authURL.String())
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the loopback page: %s", page)
	assert.Equal(t, redirect.Host, resp.Request.URL.Host, "the browser ended on the loopback listener")

	code, out := p.wait()
	require.Equal(t, 0, code, "stderr:\n%s", out)
	assert.Contains(t, out, "Signed in to vimeo: user grant, user id 4242")
	assert.Contains(t, out, "The token is stored in "+filepath.Join(u.dir, "tokens")+".")
	assert.NotContains(t, out, "Sandbox")

	calls := fake.APICalls()
	r := u.mustRun(0, "curl", "vimeo", "/me")
	assert.JSONEq(t, `{"uri":"/users/4242","name":"Fake User","link":"https://vimeo.com/user4242"}`, r.stdout)
	assert.Equal(t, calls+1, fake.APICalls(), "curl's request reached the fake")
	grants := u.listJSON(false)
	require.Len(t, grants, 1)
	assert.Equal(t, "vimeo", grants[0]["service"])
	assert.Empty(t, u.listJSON(true), "the sandbox's store is apart")
}
