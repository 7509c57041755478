package videoauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// The child role of TestFileStoreTwoProcessesRefreshOnce, selected by the
// environment; with no environment it does nothing.
func TestFileStoreProcessChild(t *testing.T) {
	if os.Getenv("VIDEOAUTH_STORE_CHILD") == "" {
		return
	}
	env := func(k string) string { return os.Getenv("VIDEOAUTH_STORE_" + k) }
	s, err := videoauth.NewSimkl(videoauth.App{ClientID: env("CLIENT_ID"), ClientSecret: env("CLIENT_SECRET"),
		AppName: "videoauth-test", AppVersion: "0.1", APIURL: env("API"), WebURL: env("WEB")}, videoauth.SimklV2)
	require.NoError(t, err)
	store, err := videoauth.NewFileStore(env("DIR"))
	require.NoError(t, err)
	src := s.Source(nil)
	src.Store, src.Key = store, "user"
	c := videoauth.NewClient(s, src)

	require.NoError(t, os.WriteFile(env("OUT")+".ready", nil, 0o600))
	require.Eventually(t, func() bool { _, err := os.Stat(env("START")); return err == nil }, 10*time.Second, time.Millisecond)
	code, _ := get(t, c, env("API")+"/sync/activities")
	require.Equal(t, 200, code)
	require.NoError(t, os.WriteFile(env("OUT"), []byte(src.Current().AccessToken), 0o600))
}

// Two OS processes share a FileStore holding one expired Simkl V2 grant and
// need a token at the same moment: exactly one refresh (a second would kill
// the first's access token), and both end with the same valid token, which
// is the one stored.
func TestFileStoreTwoProcessesRefreshOnce(t *testing.T) {
	fake, _ := setupSimkl(t, videoauth.SimklV2, false)
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	access, refresh := fake.IssueToken(true, videoauth.SimklScopeRead)
	require.NoError(t, store.Save(context.Background(), "user", &videoauth.Token{Provider: "simkl", AccessToken: access, RefreshToken: refresh,
		TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute), Scopes: []string{videoauth.SimklScopeRead}, Meta: map[string]string{"simkl_auth": "v2"}}))

	start := filepath.Join(dir, "start")
	var children []*exec.Cmd
	var outs []string
	for i := range 2 {
		out := filepath.Join(dir, "out"+string(rune('a'+i)))
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreProcessChild$", "-test.count=1")
		app := simklApp(fake, videoauth.SimklV2, false)
		cmd.Env = append(os.Environ(), "VIDEOAUTH_STORE_CHILD=1",
			"VIDEOAUTH_STORE_CLIENT_ID="+app.ClientID, "VIDEOAUTH_STORE_CLIENT_SECRET="+app.ClientSecret,
			"VIDEOAUTH_STORE_API="+fake.APIURL, "VIDEOAUTH_STORE_WEB="+fake.WebURL,
			"VIDEOAUTH_STORE_DIR="+store.Dir(), "VIDEOAUTH_STORE_START="+start, "VIDEOAUTH_STORE_OUT="+out)
		var log strings.Builder
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("child %d:\n%s", i, log.String())
			}
		})
		children, outs = append(children, cmd), append(outs, out)
	}
	for _, out := range outs {
		require.Eventually(t, func() bool { _, err := os.Stat(out + ".ready"); return err == nil }, 30*time.Second, time.Millisecond)
	}
	require.NoError(t, os.WriteFile(start, nil, 0o600)) // both go at once
	for _, cmd := range children {
		require.NoError(t, cmd.Wait())
	}

	require.Equal(t, 1, fake.Refreshes(), "one refresh across both processes")
	require.Zero(t, fake.KilledTokenUses(), "no request carried a killed token")
	a, err := os.ReadFile(outs[0])
	require.NoError(t, err)
	b, err := os.ReadFile(outs[1])
	require.NoError(t, err)
	require.Equal(t, string(a), string(b), "both processes hold the same token")
	require.NotEqual(t, access, string(a), "a new token")
	stored, err := store.Load(context.Background(), "user")
	require.NoError(t, err)
	require.Equal(t, string(a), stored.AccessToken, "and it is the stored one")
	require.Equal(t, refresh, stored.RefreshToken, "the grant is kept")
}

// Processes racing on one FileStore key. The child roles below run in
// another process (this test binary again, selected by
// VIDEOAUTH_SWAP_ROLE); the parent tests and the children meet through
// marker files, polled with a deadline, never through sleeps.

// swapEnv reads the child's setting k.
func swapEnv(k string) string { return os.Getenv("VIDEOAUTH_SWAP_" + k) }

// swapAwait polls until path exists, failing after a deadline.
func swapAwait(ctx context.Context, path string) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// swapWrite creates the marker file path, with content, whole or not at
// all.
func swapWrite(path, content string) error {
	if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// swapMark is swapWrite for the test's goroutine.
func swapMark(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, swapWrite(path, content))
}

// swapOutcome names what a CompareAndSwap returned.
func swapOutcome(err error) string {
	switch {
	case err == nil:
		return "swapped"
	case errors.Is(err, videoauth.ErrStoreChanged):
		return "changed"
	}
	return "error: " + err.Error()
}

// swapToken is a token of the grant under test, valid for an hour.
func swapToken(access string) *videoauth.Token {
	return &videoauth.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: "rt-" + access, Expiry: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
}

// swapResult is what the "source" child reports.
type swapResult struct {
	Token, Current, MintedFrom string
	Err                        string
	OnToken                    int
}

// The child side of the TestFileStoreProcess*Swap* tests; with no
// VIDEOAUTH_SWAP_ROLE it does nothing.
func TestFileStoreProcessSwapChild(t *testing.T) {
	role := swapEnv("ROLE")
	if role == "" {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	store, err := videoauth.NewFileStore(swapEnv("DIR"))
	require.NoError(t, err)
	key := swapEnv("KEY")
	switch role {
	case "race":
		// CompareAndSwap(OLD → MINE) as soon as START appears.
		swapMark(t, swapEnv("READY"), "")
		require.NoError(t, swapAwait(ctx, swapEnv("START")))
		err := store.CompareAndSwap(ctx, key, &videoauth.Token{AccessToken: swapEnv("OLD")}, swapToken(swapEnv("MINE")))
		swapMark(t, swapEnv("OUT"), swapOutcome(err))

	case "renew":
		// A renewal done by hand: take the refresh lock, read the stored
		// token, wait (the "mint") until RELEASE appears, then swap the
		// renewed token in against what was read.
		unlock, err := store.Lock(ctx, key)
		require.NoError(t, err)
		stored, err := store.Load(ctx, key)
		require.NoError(t, err)
		swapMark(t, swapEnv("LOCKED"), stored.AccessToken)
		require.NoError(t, swapAwait(ctx, swapEnv("RELEASE")))
		err = store.CompareAndSwap(ctx, key, stored, swapToken(swapEnv("RENEWED")))
		require.NoError(t, unlock())
		swapMark(t, swapEnv("OUT"), swapOutcome(err))

	case "source":
		// A Source whose token (the stored one) has expired: Token renews
		// it under the store's lock, with a mint that announces itself in
		// MINTING and finishes when RELEASE appears.
		var mintedFrom atomic.Value
		src := videoauth.NewSource(nil, func(ctx context.Context, cur *videoauth.Token) (*videoauth.Token, error) {
			from := "<nil>"
			if cur != nil {
				from = cur.AccessToken
			}
			mintedFrom.Store(from)
			if err := swapWrite(swapEnv("MINTING"), from); err != nil {
				return nil, err
			}
			if err := swapAwait(ctx, swapEnv("RELEASE")); err != nil {
				return nil, err
			}
			return swapToken(swapEnv("RENEWED")), nil
		})
		src.Store, src.Key = store, key
		src.MintTimeout = 60 * time.Second
		var onToken atomic.Int32
		src.OnToken = func(*videoauth.Token) { onToken.Add(1) }
		tok, err := src.Token(ctx)
		r := swapResult{OnToken: int(onToken.Load())}
		r.MintedFrom, _ = mintedFrom.Load().(string)
		if tok != nil {
			r.Token = tok.AccessToken
		}
		if err != nil {
			r.Err = err.Error()
		}
		if cur := src.Current(); cur != nil {
			r.Current = cur.AccessToken
		}
		out, err := json.Marshal(r)
		require.NoError(t, err)
		swapMark(t, swapEnv("OUT"), string(out))

	default:
		t.Fatalf("unknown role %q", role)
	}
}

// swapChild is a running child process.
type swapChild struct {
	cmd    *exec.Cmd
	log    swapLog
	exited chan struct{}
	err    error
}

// swapLog collects a child's output; it may be read while the child runs.
type swapLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *swapLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *swapLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// swapStart runs the child role with settings env (names without the
// VIDEOAUTH_SWAP_ prefix). The test waits for it to exit before it ends.
func swapStart(t *testing.T, role string, env map[string]string) *swapChild {
	t.Helper()
	c := &swapChild{exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestFileStoreProcessSwapChild$", "-test.count=1", "-test.timeout=2m")
	c.cmd.Env = append(os.Environ(), "VIDEOAUTH_SWAP_ROLE="+role)
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, "VIDEOAUTH_SWAP_"+k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = &c.log, &c.log
	require.NoError(t, c.cmd.Start())
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill() // the test failed before releasing it
			<-c.exited
		}
		if t.Failed() {
			t.Logf("child %s:\n%s", role, c.log.String())
		}
	})
	return c
}

// await polls until path exists; it fails the test if the child exits
// first or the deadline passes.
func (c *swapChild) await(t *testing.T, path string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-c.exited:
			if _, err := os.Stat(path); err == nil {
				return
			}
			t.Fatalf("child exited (%v) before %s appeared:\n%s", c.err, filepath.Base(path), c.log.String())
		case <-deadline:
			t.Fatalf("no %s within 30 s:\n%s", filepath.Base(path), c.log.String())
		case <-tick.C:
		}
	}
}

// wait waits for the child to exit and checks it passed; it returns the
// content of its OUT file.
func (c *swapChild) wait(t *testing.T, out string) string {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("child still running after 60 s:\n%s", c.log.String())
	}
	require.NoError(t, c.err, "child:\n%s", c.log.String())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(data)
}

// swapHoldsLock checks that someone else holds key's refresh lock now.
func swapHoldsLock(t *testing.T, store *videoauth.FileStore, key string) {
	t.Helper()
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	unlock, err := store.Lock(short, key)
	if err == nil {
		_ = unlock()
	}
	require.ErrorIs(t, err, context.DeadlineExceeded, "the child holds the refresh lock")
}

// N processes race CompareAndSwap from the same stored token, each to its
// own: exactly one swaps, every other is told the store changed, and the
// file holds the winner's token.
func TestFileStoreProcessesSwapOneWinner(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	const key, n = "vimeo/app", 6
	require.NoError(t, store.Save(ctx, key, swapToken("at-old")))

	start := filepath.Join(dir, "start")
	children := make([]*swapChild, n)
	outs := make([]string, n)
	for i := range n {
		outs[i] = filepath.Join(dir, fmt.Sprintf("out%d", i))
		children[i] = swapStart(t, "race", map[string]string{
			"DIR": store.Dir(), "KEY": key, "OLD": "at-old", "MINE": fmt.Sprintf("at-%d", i),
			"READY": outs[i] + ".ready", "START": start, "OUT": outs[i],
		})
	}
	for i, c := range children {
		c.await(t, outs[i]+".ready")
	}
	swapMark(t, start, "") // all go at once

	winner := -1
	for i, c := range children {
		switch got := c.wait(t, outs[i]); got {
		case "swapped":
			require.Equal(t, -1, winner, "processes %d and %d both swapped", winner, i)
			winner = i
		case "changed":
		default:
			t.Fatalf("process %d: %s", i, got)
		}
	}
	require.NotEqual(t, -1, winner, "no process swapped")
	got, err := store.Load(ctx, key)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("at-%d", winner), got.AccessToken, "the winner's token is stored")
}

// A new sign-in saved (Save, as SaveToken does) while another process holds
// the refresh lock and is renewing the old grant survives: the renewal's
// CompareAndSwap is refused with ErrStoreChanged and overwrites nothing.
func TestFileStoreProcessSaveDuringRenewalSurvives(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	const key = "vimeo/ann"
	require.NoError(t, store.Save(ctx, key, swapToken("at-old")))

	locked, release, out := filepath.Join(dir, "locked"), filepath.Join(dir, "release"), filepath.Join(dir, "out")
	c := swapStart(t, "renew", map[string]string{"DIR": store.Dir(), "KEY": key, "RENEWED": "at-renewed",
		"LOCKED": locked, "RELEASE": release, "OUT": out})
	c.await(t, locked)
	read, err := os.ReadFile(locked)
	require.NoError(t, err)
	require.Equal(t, "at-old", string(read), "the renewal read the old token")
	swapHoldsLock(t, store, key)

	// The sign-in does not wait for the renewal.
	signIn := swapToken("at-signin")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, store.Save(sctx, key, signIn))

	swapMark(t, release, "")
	require.Equal(t, "changed", c.wait(t, out), "the renewal's swap")
	got, err := store.Load(ctx, key)
	require.NoError(t, err)
	require.Equal(t, signIn, got, "the sign-in survives the renewal")
}

// The same race between two Sources in two OS processes. Process A's Source
// renews the stored, expired token: it holds the store's refresh lock and
// its mint is in progress. Meanwhile this process's Source is given a new
// sign-in with SaveToken. When A's mint finishes, its save is refused, and
// A adopts the stored sign-in instead of its renewal of the old grant: the
// store and both Sources end with the sign-in.
func TestFileStoreProcessSourceRenewalYieldsToSignIn(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store, err := videoauth.NewFileStore(filepath.Join(dir, "tokens"))
	require.NoError(t, err)
	const key = "k"
	old := swapToken("at-old")
	old.Expiry = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	require.NoError(t, store.Save(ctx, key, old))

	minting, release, out := filepath.Join(dir, "minting"), filepath.Join(dir, "release"), filepath.Join(dir, "out")
	a := swapStart(t, "source", map[string]string{"DIR": store.Dir(), "KEY": key, "RENEWED": "at-renewed",
		"MINTING": minting, "RELEASE": release, "OUT": out})
	a.await(t, minting)
	from, err := os.ReadFile(minting)
	require.NoError(t, err)
	require.Equal(t, "at-old", string(from), "A renews the stored grant")
	swapHoldsLock(t, store, key) // mid-renewal, under the lock

	// B (this process) signs in anew.
	b := videoauth.NewSource(nil, nil)
	b.Store, b.Key = store, key
	signIn := swapToken("at-signin")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, b.SaveToken(sctx, signIn), "SaveToken does not wait for A's renewal")

	swapMark(t, release, "") // A's mint returns at-renewed
	var r swapResult
	require.NoError(t, json.Unmarshal([]byte(a.wait(t, out)), &r))
	require.Empty(t, r.Err, "A's Token")
	require.Equal(t, "at-signin", r.Token, "A hands out the sign-in, not its renewal of the old grant")
	require.Equal(t, "at-signin", r.Current, "and keeps it")
	require.Zero(t, r.OnToken, "A's dropped renewal is not reported to OnToken")

	got, err := store.Load(ctx, key)
	require.NoError(t, err)
	require.Equal(t, signIn, got, "the store holds the sign-in")
	tok, err := b.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "at-signin", tok.AccessToken)
}
