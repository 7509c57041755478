package videoauth_test

// Guarantees an adversarial review found broken (the race, flood, error
// model and secrecy promises of Source and Transport), each kept as a
// regression test.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
	"golang.org/x/oauth2"
)

// probeProv is a minimal provider: https://api.probe.example, Bearer header,
// 401 means Expired.
type probeProv struct{}

var probeBase, _ = url.Parse("https://api.probe.example")

func (probeProv) Name() string           { return "probe" }
func (probeProv) Config() *oauth2.Config { return &oauth2.Config{} }
func (probeProv) Owns(u *url.URL) bool {
	return u != nil && u.Scheme == "https" && u.Host == probeBase.Host
}
func (probeProv) Authorize(r *http.Request, t *videoauth.Token) error {
	r.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return nil
}
func (probeProv) Verdict(resp *http.Response) videoauth.Verdict {
	if resp.StatusCode == 401 {
		return videoauth.VerdictExpired
	}
	return videoauth.VerdictOK
}

// rtFunc is a RoundTripper from a func.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func resp(req *http.Request, status int) *http.Response {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{}`)), Request: req}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(time.Millisecond)
	}
}

// F1: Invalidate of a token the Source already knows is revoked lifts the
// revoked state: the Source goes back to the network (a refresh with a dead
// refresh token) although "After the service revokes the grant ... the
// source answers ErrReauthRequired without touching the network until
// SetToken gives it a new token".
func TestReviewInvalidateLiftsRevoked(t *testing.T) {
	ctx := context.Background()
	var mints atomic.Int64
	dead := fmt.Errorf("refresh: invalid_grant: %w", videoauth.ErrReauthRequired)
	tok := &videoauth.Token{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: time.Now().Add(time.Hour)}
	src := videoauth.NewSource(tok, func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
		mints.Add(1)
		return nil, dead
	})
	src.RetryInterval = 5 * time.Millisecond
	clock := videoauthtest.NewClock(time.Now())
	src.Clock = clock

	// Two requests carried tok; both were rejected.
	got, err := src.Token(ctx)
	if err != nil || got != tok {
		t.Fatal(got, err)
	}
	src.Invalidate(got) // first rejection: drop it
	_, err = src.Token(ctx)
	if !errors.Is(err, videoauth.ErrReauthRequired) {
		t.Fatalf("want ErrReauthRequired, got %v", err)
	}
	if mints.Load() != 1 {
		t.Fatalf("mints %d", mints.Load())
	}
	// The second rejected request's handler calls Invalidate too.
	again := src.Invalidate(got)
	clock.Advance(20 * time.Millisecond) // past RetryInterval
	_, err = src.Token(ctx)
	if !errors.Is(err, videoauth.ErrReauthRequired) {
		t.Fatalf("want ErrReauthRequired, got %v", err)
	}
	if again || mints.Load() != 1 {
		t.Fatalf("grant known dead, yet Invalidate reported %v and the Source minted again: %d mints (want 1)", again, mints.Load())
	}
}

// F2: Invalidate of a refused foreign token turns it into a plain dead
// token, which the next Token call then refreshes with the foreign refresh
// token: "another service's token ... is refused with ErrInvalidConfig and
// never sent or refreshed".
func TestReviewInvalidateForeignTokenGetsRefreshed(t *testing.T) {
	fake, s, _ := setupSimklClock(t, videoauth.SimklV2)
	_ = fake
	vimeoTok := &videoauth.Token{Provider: "vimeo", AccessToken: "vimeo-at", RefreshToken: "vimeo-rt", TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour)}
	src := s.Source(nil)
	src.SetToken(vimeoTok)
	if _, err := src.Token(context.Background()); !errors.Is(err, videoauth.ErrInvalidConfig) {
		t.Fatalf("refused at first: %v", err)
	}
	src.Invalidate(vimeoTok)
	before := fake.TokenCalls()
	_, err := src.Token(context.Background())
	if fake.TokenCalls() != before || !errors.Is(err, videoauth.ErrInvalidConfig) {
		t.Fatalf("foreign token refreshed at Simkl: token calls %d -> %d, form %v, err %v", before, fake.TokenCalls(), fake.LastTokenForm(), err)
	}
}

// F3: under a persistent rejection, a refresh-ahead yields a token that is
// not guarded: its rejection mints again at once. "an API that keeps
// rejecting fresh tokens ... sees at most one mint per interval per grant,
// at any request rate".
func TestReviewRefreshAheadUnguardsPersistentRejection(t *testing.T) {
	clock := videoauthtest.NewClock(time.Now())
	var mints atomic.Int64
	mint := func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
		n := mints.Add(1)
		return &videoauth.Token{AccessToken: fmt.Sprintf("at-%d", n), Expiry: clock.Now().Add(10 * time.Second)}, nil
	}
	src := videoauth.NewSource(nil, mint)
	src.Clock = clock
	src.RetryInterval = 10 * time.Second
	var sent atomic.Int64
	c := &http.Client{Transport: &videoauth.Transport{Provider: probeProv{}, Source: src,
		Base: rtFunc(func(r *http.Request) (*http.Response, error) { sent.Add(1); return resp(r, 401), nil })}}
	get := func() {
		r, err := c.Get("https://api.probe.example/x")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	get() // first token, rejected, one replacement (guarded), rejected
	if mints.Load() != 2 {
		t.Fatalf("mints %d", mints.Load())
	}
	clock.Advance(5 * time.Second) // inside the 10 s guard; refresh-ahead window open
	get()
	waitFor(t, func() bool { return mints.Load() >= 3 }) // the refresh-ahead
	for range 20 {
		get()
	}
	if m := mints.Load(); m > 3 {
		t.Fatalf("within one RetryInterval of the guarded replacement the API saw %d mints (want at most 3: first, replacement, one renewal)", m)
	}
}

// failingCAS is a MemoryStore whose CompareAndSwap fails (disk full, Redis
// hiccup after the lock...).
type failingCAS struct{ videoauth.MemoryStore }

func (f *failingCAS) CompareAndSwap(context.Context, string, *videoauth.Token, *videoauth.Token) error {
	return errors.New("disk full")
}

// F4: a mint that succeeded but could not be saved: the Transport returns an
// error and sends nothing, although it holds a usable token. RoundTrip: "It
// returns an error only when no request could be sent: no usable token and
// none to be had ..., bad configuration, or the network."
func TestReviewSaveFailureBlocksRequest(t *testing.T) {
	var mints, sent atomic.Int64
	src := videoauth.NewSource(nil, func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
		n := mints.Add(1)
		return &videoauth.Token{AccessToken: fmt.Sprintf("at-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	})
	src.Store, src.Key = &failingCAS{}, "k"
	c := &http.Client{Transport: &videoauth.Transport{Provider: probeProv{}, Source: src,
		Base: rtFunc(func(r *http.Request) (*http.Response, error) { sent.Add(1); return resp(r, 200), nil })}}
	r, err := c.Get("https://api.probe.example/x")
	if err == nil {
		r.Body.Close()
	}
	if err != nil || sent.Load() != 1 {
		t.Fatalf("a usable token was minted (%d mints, cached: %v) but the request was not sent (%d sent): %v",
			mints.Load(), src.Current() != nil, sent.Load(), err)
	}
}

// F4b: the same on the replay path: the rejected response comes back typed
// with the store's error although a new token is there; not ErrTokenExpired.
func TestReviewSaveFailureOnReplayTypesWrong(t *testing.T) {
	var mints, sent atomic.Int64
	src := videoauth.NewSource(&videoauth.Token{AccessToken: "old", Expiry: time.Now().Add(time.Hour)},
		func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
			n := mints.Add(1)
			return &videoauth.Token{AccessToken: fmt.Sprintf("at-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
		})
	src.Store, src.Key = &failingCAS{}, "k"
	p := probeProv{}
	c := &http.Client{Transport: &videoauth.Transport{Provider: p, Source: src,
		Base: rtFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			if r.Header.Get("Authorization") == "Bearer old" {
				return resp(r, 401), nil
			}
			return resp(r, 200), nil
		})}}
	r, err := c.Get("https://api.probe.example/x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		cerr := videoauth.CheckResponse(p, r)
		t.Fatalf("new token %v minted, but the caller got %d (sent %d), CheckResponse: %v (ErrTokenExpired: %v)",
			src.Current(), r.StatusCode, sent.Load(), cerr, errors.Is(cerr, videoauth.ErrTokenExpired))
	}
}

// F6: GetBody fails on the replay: the rejection is typed with an error
// that matches no sentinel, while the same case with GetBody nil is
// ErrTokenExpired.
func TestReviewGetBodyFailureUntyped(t *testing.T) {
	p := probeProv{}
	src := videoauth.NewSource(&videoauth.Token{AccessToken: "old", Expiry: time.Now().Add(time.Hour)},
		func(context.Context, *videoauth.Token) (*videoauth.Token, error) {
			return &videoauth.Token{AccessToken: "new", Expiry: time.Now().Add(time.Hour)}, nil
		})
	tr := &videoauth.Transport{Provider: p, Source: src,
		Base: rtFunc(func(r *http.Request) (*http.Response, error) { return resp(r, 401), nil })}
	req, _ := http.NewRequest("POST", "https://api.probe.example/x", bytes.NewReader([]byte("body")))
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("spool file gone") }
	r, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	cerr := videoauth.CheckResponse(p, r)
	if !errors.Is(cerr, videoauth.ErrTokenExpired) {
		t.Fatalf("a rejected request whose body could not be replayed: CheckResponse = %v, not ErrTokenExpired", cerr)
	}
}

// F7: a redirect chain that started on a foreign host: when the base
// transport (a caller's mock, cache or middleware) leaves Response.Request
// nil, owned() fails open and the credential is attached to the hop into
// the API host. RFC 9700 §4.11, issue 15 item 15.
func TestReviewForeignRedirectNilResponseRequest(t *testing.T) {
	src := videoauth.NewSource(&videoauth.Token{AccessToken: "secret-at"}, nil)
	var leaked atomic.Bool
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "evil.example" {
			return &http.Response{StatusCode: 307, Header: http.Header{"Location": {"https://api.probe.example/tokens"}},
				Body: io.NopCloser(strings.NewReader(""))}, nil // Request left nil
		}
		if strings.Contains(r.Header.Get("Authorization"), "secret-at") {
			leaked.Store(true)
		}
		return resp(r, 200), nil
	})
	c := &http.Client{Transport: &videoauth.Transport{Provider: probeProv{}, Source: src, Base: base}}
	req, _ := http.NewRequest("DELETE", "https://evil.example/x", nil)
	r, err := c.Do(req)
	if err == nil {
		r.Body.Close()
	}
	if leaked.Load() {
		t.Fatal("redirect from evil.example into the API host carried the credential")
	}
}

// F8: a caller's logging Base that puts the request's headers in its error
// leaks the Viki v4/v5 signature in header mode; one that prints the parsed
// query leaks sig in query mode. Issue 15 item 13: "Every error out of the
// Transport is free of the credential, whatever its type."
func TestReviewVikiSignatureInBaseError(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode videoauth.VikiSigning
		msg  func(r *http.Request) error
	}{
		{"headers mode, headers in error", videoauth.VikiSignHeaders, func(r *http.Request) error {
			return fmt.Errorf("giving up after 3 attempts: %s %s headers=%v", r.Method, r.URL.Path, r.Header)
		}},
		{"query mode, parsed query in error", videoauth.VikiSignQuery, func(r *http.Request) error {
			return fmt.Errorf("giving up after 3 attempts: %s %s params=%v", r.Method, r.URL.Path, r.URL.Query())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "9001", ClientSecret: "viki-app-secret", APIURL: "https://api.viki.io"}, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			var sig string
			base := rtFunc(func(r *http.Request) (*http.Response, error) {
				sig = r.Header.Get("signature") + r.URL.Query().Get("sig")
				return nil, tc.msg(r)
			})
			tr := &videoauth.Transport{Provider: a, Source: a.Source(&videoauth.Token{Provider: "viki", AccessToken: "sess-secret-123"}), Base: base}
			req, _ := http.NewRequest("GET", "https://api.viki.io/v4/movies.json", nil)
			_, err = tr.RoundTrip(req)
			if err == nil {
				t.Fatal("no error")
			}
			if sig == "" {
				t.Fatal("no signature seen")
			}
			if strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), "sess-secret-123") {
				t.Fatalf("signature %s leaks: %v", sig, err)
			}
		})
	}
}

// F9: a token-endpoint failure through the App's HTTPClient: a base whose
// error shows the request it gave up on (form body) leaks the client
// secret and the user's password out of the Transport.
func TestReviewMintErrorLeaksPassword(t *testing.T) {
	hc := &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return nil, fmt.Errorf("giving up after 3 attempts: POST %s body=%s", r.URL, b)
	})}
	v, err := videoauth.NewViki(videoauth.App{ClientID: "cid", ClientSecret: "client-secret-xyz", APIURL: "https://api.viki.io", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	src := v.PasswordSource(func(context.Context) (videoauth.VikiCredentials, error) {
		return videoauth.VikiCredentials{Username: "fan@example.com", Password: "hunter2-pass"}, nil
	})
	tr := &videoauth.Transport{Provider: v, Source: src, Base: rtFunc(func(r *http.Request) (*http.Response, error) { return resp(r, 200), nil })}
	req, _ := http.NewRequest("GET", "https://api.viki.io/v3/movies.json", nil)
	_, err = tr.RoundTrip(req)
	if err == nil {
		t.Fatal("no error")
	}
	msg := fmt.Sprintf("%v | %+v | %#v", err, err, err)
	if m := regexp.MustCompile(`hunter2-pass|client-secret-xyz`).FindAllString(msg, -1); len(m) > 0 {
		t.Fatalf("secrets %v in the Transport's error: %s", m, msg)
	}
}

// tokenEndpoint answers every token request with body.
func tokenEndpoint(n *atomic.Int64, body string) *http.Client {
	return &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		n.Add(1)
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})}
}

// F10: Vimeo 8002 (an app token on a user endpoint) arriving with RFC 6750's
// WWW-Authenticate: Bearer error="invalid_token": the Transport throws the
// good app token away and mints another. docs/vimeo.md: 8002 "never replaced
// or replayed"; issue 15: "so nobody throws away a good app token".
func TestReviewVimeo8002WithChallengeReplacesAppToken(t *testing.T) {
	var mints, sent atomic.Int64
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret",
		HTTPClient: tokenEndpoint(&mints, `{"access_token":"app-tok","token_type":"bearer","scope":"public"}`)})
	if err != nil {
		t.Fatal(err)
	}
	api := rtFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {"application/json"},
			"Www-Authenticate": {`Bearer error="invalid_token"`}},
			Body:    io.NopCloser(strings.NewReader(`{"error":"A valid user token must be passed.","error_code":8002}`)),
			Request: r}, nil
	})
	src := v.ClientCredentials()
	c := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: src, Base: api}}
	r, err := c.Get(videoauth.VimeoURL + "/me")
	if err != nil {
		t.Fatal(err)
	}
	cerr := videoauth.CheckResponse(v, r)
	r.Body.Close()
	if !errors.Is(cerr, videoauth.ErrUserTokenRequired) {
		t.Errorf("CheckResponse: %v", cerr)
	}
	if mints.Load() != 1 || sent.Load() != 1 {
		t.Fatalf("8002: the good app token was replaced: %d mints, %d requests sent (want 1 and 1)", mints.Load(), sent.Load())
	}
}

// F11: a token endpoint answering a sub-second expires_in (0.001): every
// request mints. Issue 14: "No flood, whatever the service answers".
func TestReviewSubSecondExpiresInFloods(t *testing.T) {
	var mints atomic.Int64
	clock := videoauthtest.NewClock(time.Now())
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret", Clock: clock,
		HTTPClient: tokenEndpoint(&mints, `{"access_token":"app-tok","token_type":"bearer","scope":"public","expires_in":0.001}`)})
	if err != nil {
		t.Fatal(err)
	}
	src := v.ClientCredentials()
	for range 50 {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Millisecond)
	}
	if mints.Load() > 5 {
		t.Fatalf("50 Token calls over ~100 ms made %d mints", mints.Load())
	}
}

// F12: replicas A and B share a store for a Vimeo user grant. The user signs
// in again on B (SaveToken(new)); the old token dies. A's next request is
// rejected, and A marks itself revoked without looking at the store: it
// answers ErrReauthRequired for good although the store holds the new
// sign-in. SaveToken: "siblings adopt it when their own token next needs
// replacing"; Store: "When the token needs replacing, the Source first
// adopts a usable token a sibling stored".
func TestReviewSiblingSignInNotAdoptedAfterRejection(t *testing.T) {
	ctx := context.Background()
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	store := &videoauth.MemoryStore{}
	old := &videoauth.Token{Provider: "vimeo", AccessToken: "old-user-token", TokenType: "Bearer"}
	a, b := v.Source(old), v.Source(old)
	a.Store, a.Key, b.Store, b.Key = store, "u42", store, "u42"
	if err := b.SaveToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	fresh := &videoauth.Token{Provider: "vimeo", AccessToken: "new-user-token", TokenType: "Bearer"}
	if err := b.SaveToken(ctx, fresh); err != nil { // new sign-in on replica B
		t.Fatal(err)
	}
	api := rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "Bearer new-user-token" {
			return resp(r, 200), nil
		}
		return &http.Response{StatusCode: 401, Header: http.Header{"Content-Type": {"application/json"},
			"Www-Authenticate": {`Bearer error="invalid_token"`}},
			Body: io.NopCloser(strings.NewReader(`{"error":"gone","error_code":8000}`)), Request: r}, nil
	})
	c := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: a, Base: api}}
	for i := range 2 {
		r, err := c.Get(videoauth.VimeoURL + "/me")
		if err != nil {
			t.Logf("request %d: %v", i, err)
			continue
		}
		r.Body.Close()
		t.Logf("request %d: %d", i, r.StatusCode)
	}
	tok, err := a.Token(ctx)
	if err != nil || tok.AccessToken != "new-user-token" {
		t.Fatalf("store holds the new sign-in, replica A answers %v, %v", tok, err)
	}
}

// F13: Viki v3, a Source without a way to re-mint (Viki.Source(t)): a 403
// that is about permission (not "Not Authorized") marks the good token as a
// revoked grant. CheckResponse types the answer ErrForbidden ("the token is
// fine"), yet every later request fails with ErrReauthRequired without
// touching the network.
func TestReviewVikiForbiddenKillsGrant(t *testing.T) {
	v, err := videoauth.NewViki(videoauth.App{ClientID: "cid", ClientSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	tok := &videoauth.Token{Provider: "viki", AccessToken: "user-tok", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
	src := v.Source(tok)
	api := rtFunc(func(r *http.Request) (*http.Response, error) {
		status, body := 200, `{}`
		if strings.Contains(r.URL.Path, "/restricted") {
			status, body = 403, `{"message":"This video is not available in your region","status":403}`
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: src, Base: api}}
	r, err := c.Get(videoauth.VikiV3URL + "/v3/videos/restricted.json")
	if err != nil {
		t.Fatal(err)
	}
	cerr := videoauth.CheckResponse(v, r)
	r.Body.Close()
	t.Logf("first: %d %v (forbidden=%v)", r.StatusCode, cerr, errors.Is(cerr, videoauth.ErrForbidden))
	r, err = c.Get(videoauth.VikiV3URL + "/v3/movies.json")
	if err != nil {
		t.Fatalf("a permission 403 on one title killed the grant: %v; Token: %v", err, func() error { _, e := src.Token(context.Background()); return e }())
	}
	r.Body.Close()
}

func TestReviewFileStoreLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fs, err := videoauth.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(outside, []byte(`{"access_token":"x"}`), 0o644)
	// token file link
	os.Symlink(outside, filepath.Join(dir, "k.json"))
	if _, err := fs.Load(ctx, "k"); err == nil {
		t.Error("Load through a link")
	}
	if err := fs.Save(ctx, "k", &videoauth.Token{AccessToken: "a"}); err == nil {
		t.Error("Save over a link")
	}
	if fi, _ := os.Stat(outside); fi.Mode().Perm() != 0o644 {
		t.Error("victim chmodded")
	}
	// dangling lock links
	target := filepath.Join(t.TempDir(), "created")
	os.Symlink(target, filepath.Join(dir, "j.lock"))
	os.Symlink(target+"2", filepath.Join(dir, "j.save.lock"))
	if u, err := fs.Lock(ctx, "j"); err == nil {
		u()
		t.Error("Lock through a dangling link")
	}
	if err := fs.Save(ctx, "j", &videoauth.Token{AccessToken: "a"}); err == nil {
		t.Error("Save through a dangling write-lock link")
	}
	for _, p := range []string{target, target + "2"} {
		if _, err := os.Lstat(p); err == nil {
			t.Error("created through link:", p)
		}
	}
	// 0500 dir stays 0500
	d2 := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(d2, 0o555)
	if _, err := videoauth.NewFileStore(d2); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(d2); fi.Mode().Perm() != 0o500 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
	os.Chmod(d2, 0o700)
}
