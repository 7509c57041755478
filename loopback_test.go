package videoauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/videoauthtest"
)

// lbGuard bounds waits on channels that a correct implementation always
// signals; it only matters when the code under test is broken.
const lbGuard = 10 * time.Second

// lbEnv is one loopback test: a fake authorization server, a fake CodeFlow
// that uses it, a "browser" (an HTTP client that follows redirects) and a
// manual clock, whose single timer the test fires with Advance.
type lbEnv struct {
	as      *httptest.Server
	flow    *lbFlow
	browser *http.Client
	clock   *videoauthtest.Clock

	mu         sync.Mutex
	mode       string // "approve", "deny" or "stay" (never redirect back)
	location   string // the last redirect back to the loopback listener
	authorizeQ url.Values
}

// newLBEnv starts the fakes and registers goleak first, so it runs after
// every other cleanup has closed what the test opened.
func newLBEnv(t *testing.T, mode string) *lbEnv {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	e := &lbEnv{mode: mode, clock: videoauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	t.Cleanup(func() {
		require.LessOrEqual(t, len(e.clock.AfterCalls()), 1, "Loopback arms one timer at most: %v", e.clock.AfterCalls())
	})
	e.as = httptest.NewServer(http.HandlerFunc(e.authorize))
	t.Cleanup(e.as.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	e.browser = &http.Client{Transport: tr, Timeout: lbGuard}
	e.flow = &lbFlow{as: e.as}
	return e
}

// authorize plays the service's consent page: approve or deny at once by
// redirecting to redirect_uri, or stay (Simkl V1 never comes back on denial).
func (e *lbEnv) authorize(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/authorize" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	var back url.Values
	e.mu.Lock()
	e.authorizeQ = q
	switch e.mode {
	case "approve":
		back = url.Values{"code": {"code-1"}, "state": {q.Get("state")}}
	case "deny":
		back = url.Values{
			"error":             {"access_denied"},
			"error_description": {"<script>alert(1)</script>"},
			"state":             {q.Get("state")},
		}
	}
	if back == nil {
		e.mu.Unlock()
		fmt.Fprint(w, "consent page")
		return
	}
	e.location = q.Get("redirect_uri") + "?" + back.Encode()
	loc := e.location
	e.mu.Unlock()
	http.Redirect(w, r, loc, http.StatusFound)
}

func (e *lbEnv) lastLocation() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.location
}

func (e *lbEnv) lastAuthorizeQuery() url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.authorizeQ
}

// lbFlow is the CodeFlow under Loopback: its AuthRequest is the package's
// own, its Exchange checks the callback with ar.Callback and counts.
type lbFlow struct {
	as        *httptest.Server
	exchanges atomic.Int32
	// failWith, when set, is what a checked exchange returns.
	failWith error
	// entered, when set, is closed when an exchange starts; the exchange
	// then waits for release (or ctx).
	entered chan struct{}
	release chan struct{}
}

func (f *lbFlow) Name() string { return "fake" }

func (f *lbFlow) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	return newAuthRequest(authRequestOpts{
		provider: "fake",
		cfg: &oauth2.Config{
			ClientID:    "client-1",
			RedirectURL: redirectURL,
			Scopes:      scopes,
			Endpoint:    oauth2.Endpoint{AuthURL: f.as.URL + "/authorize", TokenURL: f.as.URL + "/token"},
		},
		pkce: true,
	})
}

func (f *lbFlow) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	code, err := ar.Callback(q)
	if err != nil {
		return nil, err
	}
	f.exchanges.Add(1)
	if f.entered != nil {
		close(f.entered)
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.failWith != nil {
		return nil, f.failWith
	}
	return &Token{Provider: "fake", AccessToken: "at-" + code, TokenType: "Bearer"}, nil
}

// lbPage is one response the browser saw.
type lbPage struct {
	status int
	header http.Header
	body   string
}

// lbGet fetches u in the browser. It returns errors instead of failing the
// test because it runs inside Open, on a goroutine Loopback started.
func (e *lbEnv) lbGet(u string) (lbPage, error) {
	return e.lbDo(http.MethodGet, u, "")
}

func (e *lbEnv) lbDo(method, u, host string) (lbPage, error) {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return lbPage{}, err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := e.browser.Do(req)
	if err != nil {
		return lbPage{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return lbPage{}, err
	}
	return lbPage{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// lbAuth pulls redirect_uri and state out of an authorization URL.
func lbAuth(authURL string) (redirect *url.URL, state string, err error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, "", err
	}
	redirect, err = url.Parse(u.Query().Get("redirect_uri"))
	return redirect, u.Query().Get("state"), err
}

func lbWait(ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	case <-time.After(lbGuard):
		return errors.New("never happened: " + what)
	}
}

// lbRequirePage checks what every loopback page must carry.
func lbRequirePage(t *testing.T, p lbPage, status int, contains string) {
	t.Helper()
	require.Equal(t, status, p.status, p.body)
	require.Equal(t, "text/html; charset=utf-8", p.header.Get("Content-Type"))
	require.Equal(t, "no-referrer", p.header.Get("Referrer-Policy"))
	require.Equal(t, "no-store", p.header.Get("Cache-Control"))
	require.Equal(t, "nosniff", p.header.Get("X-Content-Type-Options"))
	require.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, p.body, contains)
	lower := strings.ToLower(p.body)
	for _, bad := range []string{"<script", "src=", "href=", "<link", "<img", "<iframe", "<style", "http:", "https:", "code-1"} {
		require.NotContains(t, lower, bad, "pages load nothing, link nowhere and never echo the code")
	}
}

// lbRequireClosed dials addr and expects nobody to listen any more.
func lbRequireClosed(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, lbGuard)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Loopback returned", addr)
	}
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}

func TestLoopback(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		var redirect *url.URL
		var page lbPage
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				page, err = e.lbGet(authURL)
				return err
			},
		})
		require.NoError(t, err)
		require.Equal(t, "at-code-1", tok.AccessToken)
		require.EqualValues(t, 1, e.flow.exchanges.Load())
		lbRequirePage(t, page, http.StatusOK, "Signed in to fake. You can close this window.")

		aq := e.lastAuthorizeQuery()
		require.Equal(t, "S256", aq.Get("code_challenge_method"))
		require.Equal(t, redirect.String(), aq.Get("redirect_uri"))
		require.Equal(t, []time.Duration{loopbackDefaultTimeout}, e.clock.AfterCalls(), "default timeout is 5 minutes")

		require.Equal(t, "http", redirect.Scheme)
		require.Equal(t, "127.0.0.1", redirect.Hostname(), "the IPv4 literal, never localhost or 0.0.0.0 (RFC 8252 §8.3)")
		require.Equal(t, "/callback", redirect.Path)
		port, err := strconv.Atoi(redirect.Port())
		require.NoError(t, err)
		require.NotZero(t, port, "an ephemeral port")
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("access denied", func(t *testing.T) {
		e := newLBEnv(t, "deny")
		var redirect *url.URL
		var page lbPage
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				page, err = e.lbGet(authURL)
				return err
			},
		})
		require.ErrorIs(t, err, ErrAccessDenied)
		require.Nil(t, tok)
		require.Zero(t, e.flow.exchanges.Load(), "no code, no exchange")
		lbRequirePage(t, page, http.StatusForbidden, "Access to fake was not granted.")
		require.Contains(t, page.body, "&lt;script&gt;alert(1)&lt;/script&gt;", "error_description is shown escaped")
		require.NotContains(t, page.body, "<script>")
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("favicon is 404 and the flow continues", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		var pages []lbPage
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				redirect, _, err := lbAuth(authURL)
				if err != nil {
					return err
				}
				for _, u := range []string{
					"http://" + redirect.Host + "/favicon.ico",
					"http://" + redirect.Host + "/",
					"http://" + redirect.Host + "/callback/extra",
					authURL,
				} {
					p, err := e.lbGet(u)
					if err != nil {
						return err
					}
					pages = append(pages, p)
				}
				return nil
			},
		})
		require.NoError(t, err)
		require.Equal(t, "at-code-1", tok.AccessToken)
		require.Len(t, pages, 4)
		for _, p := range pages[:3] {
			lbRequirePage(t, p, http.StatusNotFound, "Not found")
		}
		lbRequirePage(t, pages[3], http.StatusOK, "Signed in to fake.")
	})

	for _, tc := range []struct {
		name  string
		query func(state string) url.Values
	}{
		{"wrong state", func(string) url.Values { return url.Values{"code": {"forged"}, "state": {"attacker"}} }},
		{"missing state", func(string) url.Values { return url.Values{"code": {"forged"}} }},
		{"empty state", func(string) url.Values { return url.Values{"code": {"forged"}, "state": {""}} }},
		{"duplicated state", func(s string) url.Values { return url.Values{"code": {"forged"}, "state": {s, s}} }},
		{"wrong state with error", func(string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {"attacker"}}
		}},
	} {
		t.Run(tc.name+" is 400 and the flow continues", func(t *testing.T) {
			e := newLBEnv(t, "approve")
			var bad, good lbPage
			var usedBefore bool
			tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
				Clock: e.clock,
				Open: func(authURL string) error {
					redirect, state, err := lbAuth(authURL)
					if err != nil {
						return err
					}
					forged := *redirect
					forged.RawQuery = tc.query(state).Encode()
					if bad, err = e.lbGet(forged.String()); err != nil {
						return err
					}
					usedBefore = e.flow.exchanges.Load() != 0
					good, err = e.lbGet(authURL)
					return err
				},
			})
			lbRequirePage(t, bad, http.StatusBadRequest, "This sign-in link is not valid")
			require.False(t, usedBefore, "a forged callback is never exchanged")
			require.NoError(t, err)
			require.Equal(t, "at-code-1", tok.AccessToken, "the real callback still works")
			require.EqualValues(t, 1, e.flow.exchanges.Load())
			lbRequirePage(t, good, http.StatusOK, "Signed in to fake.")
		})
	}

	t.Run("reused state is already handled", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		e.flow.entered = make(chan struct{})
		e.flow.release = make(chan struct{})
		var first, second lbPage
		var redirect *url.URL
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				done := make(chan error, 1)
				go func() {
					var err error
					first, err = e.lbGet(authURL)
					done <- err
				}()
				if err := lbWait(e.flow.entered, "exchange"); err != nil {
					return err
				}
				// The same callback again (a reload, a second tab, a replay)
				// while the first is being exchanged.
				second, err = e.lbGet(e.lastLocation())
				close(e.flow.release)
				if ferr := <-done; ferr != nil {
					return ferr
				}
				return err
			},
		})
		require.NoError(t, err)
		require.Equal(t, "at-code-1", tok.AccessToken)
		require.EqualValues(t, 1, e.flow.exchanges.Load(), "the code is exchanged once")
		lbRequirePage(t, second, http.StatusConflict, "already handled")
		lbRequirePage(t, first, http.StatusOK, "Signed in to fake.")
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("other Host header or method does not end the flow", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		var rebound, posted, good lbPage
		_, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				redirect, state, err := lbAuth(authURL)
				if err != nil {
					return err
				}
				cb := *redirect
				cb.RawQuery = url.Values{"code": {"forged"}, "state": {state}}.Encode()
				// A DNS-rebinding page would send its own Host.
				if rebound, err = e.lbDo(http.MethodGet, cb.String(), "evil.example:"+redirect.Port()); err != nil {
					return err
				}
				if posted, err = e.lbDo(http.MethodPost, cb.String(), ""); err != nil {
					return err
				}
				good, err = e.lbGet(authURL)
				return err
			},
		})
		require.NoError(t, err)
		lbRequirePage(t, rebound, http.StatusNotFound, "Not found")
		lbRequirePage(t, posted, http.StatusMethodNotAllowed, "Not found")
		lbRequirePage(t, good, http.StatusOK, "Signed in to fake.")
		require.EqualValues(t, 1, e.flow.exchanges.Load())
	})

	t.Run("idle connection does not hold it open", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		var idle net.Conn
		var page lbPage
		var redirect *url.URL
		start := time.Now()
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				// A browser's speculative pre-connection: connected, silent.
				if idle, err = net.Dial("tcp", redirect.Host); err != nil {
					return err
				}
				page, err = e.lbGet(authURL)
				return err
			},
		})
		require.NoError(t, err)
		require.NotNil(t, tok)
		require.Less(t, time.Since(start), loopbackReadHeaderTimeout/2,
			"Loopback does not wait for the idle connection's header timeout")
		lbRequirePage(t, page, http.StatusOK, "Signed in")
		defer idle.Close()
		require.NoError(t, idle.SetReadDeadline(time.Now().Add(lbGuard)))
		n, rerr := idle.Read(make([]byte, 1))
		require.Zero(t, n)
		require.Error(t, rerr)
		var ne net.Error
		require.False(t, errors.As(rerr, &ne) && ne.Timeout(), "the server closed the idle connection when Loopback returned")
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("headers on every page", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		e.flow.entered = make(chan struct{})
		e.flow.release = make(chan struct{})
		pages := map[int]lbPage{}
		_, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				redirect, _, err := lbAuth(authURL)
				if err != nil {
					return err
				}
				for _, u := range []string{"http://" + redirect.Host + "/favicon.ico", redirect.String() + "?state=x"} {
					p, err := e.lbGet(u)
					if err != nil {
						return err
					}
					pages[p.status] = p
				}
				p, err := e.lbDo(http.MethodPost, redirect.String(), "")
				if err != nil {
					return err
				}
				pages[p.status] = p
				done := make(chan error, 1)
				var ok lbPage
				go func() {
					var err error
					ok, err = e.lbGet(authURL)
					done <- err
				}()
				if err := lbWait(e.flow.entered, "exchange"); err != nil {
					return err
				}
				again, err := e.lbGet(e.lastLocation())
				close(e.flow.release)
				if ferr := <-done; ferr != nil {
					return ferr
				}
				pages[again.status], pages[ok.status] = again, ok
				return err
			},
		})
		require.NoError(t, err)
		for status, contains := range map[int]string{
			http.StatusNotFound:         "Not found",
			http.StatusBadRequest:       "not valid",
			http.StatusMethodNotAllowed: "Not found",
			http.StatusConflict:         "already handled",
			http.StatusOK:               "Signed in",
		} {
			p, ok := pages[status]
			require.True(t, ok, "no %d page", status)
			lbRequirePage(t, p, status, contains)
		}
		require.Equal(t, http.MethodGet, pages[http.StatusMethodNotAllowed].header.Get("Allow"))
	})

	t.Run("exchange failure shows no details and closes", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		e.flow.failWith = &Error{Provider: "fake", Op: "exchange", Status: 400, Code: "invalid_grant",
			Description: "secret-detail <b>", Body: []byte(`{"error":"invalid_grant"}`), Err: ErrCodeUsed}
		var redirect *url.URL
		var page lbPage
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				page, err = e.lbGet(authURL)
				return err
			},
		})
		require.ErrorIs(t, err, ErrCodeUsed)
		require.Nil(t, tok)
		lbRequirePage(t, page, http.StatusInternalServerError, "Signing in to fake did not complete.")
		for _, secret := range []string{"invalid_grant", "secret-detail", "code-1"} {
			require.NotContains(t, page.body, secret)
		}
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("ctx cancel while waiting closes", func(t *testing.T) {
		e := newLBEnv(t, "stay")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var redirect *url.URL
		tok, err := Loopback(ctx, e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				if _, err = e.lbGet(authURL); err != nil {
					return err
				}
				cancel() // the user gave up at the terminal
				return nil
			},
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, tok)
		require.Zero(t, e.flow.exchanges.Load())
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("ctx cancel during exchange ends the page and closes", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		e.flow.entered = make(chan struct{})
		e.flow.release = make(chan struct{}) // never released
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var redirect *url.URL
		var page lbPage
		type result struct {
			tok *Token
			err error
		}
		res := make(chan result, 1)
		browsed := make(chan struct{})
		go func() {
			tok, err := Loopback(ctx, e.flow, LoopbackConfig{
				Clock: e.clock,
				Open: func(authURL string) error {
					defer close(browsed)
					var err error
					if redirect, _, err = lbAuth(authURL); err != nil {
						return err
					}
					page, err = e.lbGet(authURL)
					return err
				},
			})
			res <- result{tok, err}
		}()
		require.NoError(t, lbWait(e.flow.entered, "exchange"))
		cancel()
		r := <-res
		require.ErrorIs(t, r.err, context.Canceled)
		require.Nil(t, r.tok)
		// Once ctx is cancelled Loopback does not wait for Open: wait for
		// the browser here before reading what it saw.
		require.NoError(t, lbWait(browsed, "the browser to get its page"))
		lbRequirePage(t, page, http.StatusInternalServerError, "did not complete")
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("timeout is access denied and closes", func(t *testing.T) {
		e := newLBEnv(t, "stay")
		var redirect *url.URL
		type result struct {
			tok *Token
			err error
		}
		res := make(chan result, 1)
		opened := make(chan struct{})
		go func() {
			tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
				Clock:   e.clock,
				Timeout: 90 * time.Second,
				Open: func(authURL string) error {
					defer close(opened)
					var err error
					if redirect, _, err = lbAuth(authURL); err != nil {
						return err
					}
					_, err = e.lbGet(authURL)
					return err
				},
			})
			res <- result{tok, err}
		}()
		require.NoError(t, lbWait(e.clock.UntilWaiters(1), "the timeout armed"))
		require.Equal(t, []time.Duration{90 * time.Second}, e.clock.AfterCalls())
		require.NoError(t, lbWait(opened, "open"))
		e.clock.Advance(90 * time.Second) // the user never came back
		r := <-res
		require.ErrorIs(t, r.err, ErrAccessDenied)
		require.Contains(t, r.err.Error(), "no callback within 1m30s")
		require.Nil(t, r.tok)
		require.Zero(t, e.flow.exchanges.Load())
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("open error is returned and closes", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		errNoBrowser := errors.New("no browser")
		var redirect *url.URL
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				return errNoBrowser
			},
		})
		require.ErrorIs(t, err, errNoBrowser)
		require.True(t, strings.HasPrefix(err.Error(), "videoauth: loopback: "), err.Error())
		require.Nil(t, tok)
		require.Zero(t, e.flow.exchanges.Load())
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("ctx cancel while Open blocks returns", func(t *testing.T) {
		e := newLBEnv(t, "stay")
		b := newLBBlockedOpen(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res := lbGo(func() (*Token, error) {
			return Loopback(ctx, e.flow, LoopbackConfig{Clock: e.clock, Open: b.open})
		})
		redirect := b.called(t)
		cancel() // the user gave up at the terminal; xdg-open is still waiting
		r := lbResult(t, res)
		require.ErrorIs(t, r.err, context.Canceled)
		require.Nil(t, r.tok)
		require.Zero(t, e.flow.exchanges.Load())
		lbRequireClosed(t, redirect.Host)
		b.requireBlocked(t)
	})

	t.Run("timeout while Open blocks returns", func(t *testing.T) {
		e := newLBEnv(t, "stay")
		b := newLBBlockedOpen(t)
		res := lbGo(func() (*Token, error) {
			return Loopback(context.Background(), e.flow, LoopbackConfig{
				Clock: e.clock, Timeout: 90 * time.Second, Open: b.open,
				openGrace: time.Nanosecond,
			})
		})
		redirect := b.called(t)
		if err := lbWait(e.clock.UntilWaiters(1), "the timeout armed"); err != nil {
			t.Fatal("Loopback never armed its timeout")
		}
		require.Equal(t, []time.Duration{90 * time.Second}, e.clock.AfterCalls())
		e.clock.Advance(90 * time.Second) // the user never came back
		r := lbResult(t, res)
		require.ErrorIs(t, r.err, ErrAccessDenied)
		require.Contains(t, r.err.Error(), "no callback within 1m30s")
		require.Nil(t, r.tok)
		require.Zero(t, e.flow.exchanges.Load())
		lbRequireClosed(t, redirect.Host)
		b.requireBlocked(t)
	})

	t.Run("callback while Open blocks returns the token", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		b := newLBBlockedOpen(t)
		res := lbGo(func() (*Token, error) {
			return Loopback(context.Background(), e.flow, LoopbackConfig{
				Clock: e.clock, Open: b.open, openGrace: time.Nanosecond,
			})
		})
		redirect := b.called(t)
		// The user signs in before xdg-open returns: the test is the browser.
		page, err := e.lbGet(b.authURL)
		require.NoError(t, err)
		lbRequirePage(t, page, http.StatusOK, "Signed in to fake.")
		r := lbResult(t, res)
		require.NoError(t, r.err)
		require.Equal(t, "at-code-1", r.tok.AccessToken)
		require.EqualValues(t, 1, e.flow.exchanges.Load())
		lbRequireClosed(t, redirect.Host)
		b.requireBlocked(t)
	})

	t.Run("Open returning soon after the callback is waited for, its error ignored", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		b := newLBBlockedOpen(t)
		res := lbGo(func() (*Token, error) {
			// A grace that never ends in a passing run: Loopback must
			// return because Open did.
			return Loopback(context.Background(), e.flow, LoopbackConfig{
				Clock: e.clock, Open: b.open, openGrace: lbGuard,
			})
		})
		redirect := b.called(t)
		page, err := e.lbGet(b.authURL)
		require.NoError(t, err)
		lbRequirePage(t, page, http.StatusOK, "Signed in to fake.")
		select {
		case <-res:
			t.Fatal("Loopback returned before the grace for Open")
		default:
		}
		b.unblock()
		r := lbResult(t, res)
		require.True(t, b.hasReturned(), "Loopback waited for Open")
		require.NoError(t, r.err, "an Open error after the callback does not matter")
		require.Equal(t, "at-code-1", r.tok.AccessToken)
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("fixed port and custom path", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		port := lbFreePort(t, "tcp4", "127.0.0.1")
		var redirect *url.URL
		var page lbPage
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Port:  port,
			Path:  "oauth/cb",
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				page, err = e.lbGet(authURL)
				return err
			},
		})
		require.NoError(t, err)
		require.NotNil(t, tok)
		require.Equal(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/oauth/cb", redirect.String())
		lbRequirePage(t, page, http.StatusOK, "Signed in")
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("falls back to IPv6 loopback", func(t *testing.T) {
		if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
			t.Skip("no IPv6 loopback here:", err)
		} else {
			ln.Close()
		}
		e := newLBEnv(t, "approve")
		// Take 127.0.0.1:P so only [::1]:P is left.
		var busy net.Listener
		var port int
		for range 20 {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			require.NoError(t, err)
			port = l.Addr().(*net.TCPAddr).Port
			if probe, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
				probe.Close()
				busy = l
				break
			}
			l.Close()
		}
		require.NotNil(t, busy, "no port free on both loopbacks")
		defer busy.Close()
		var redirect *url.URL
		tok, err := Loopback(context.Background(), e.flow, LoopbackConfig{
			Clock: e.clock,
			Port:  port,
			Open: func(authURL string) error {
				var err error
				if redirect, _, err = lbAuth(authURL); err != nil {
					return err
				}
				_, err = e.lbGet(authURL)
				return err
			},
		})
		require.NoError(t, err)
		require.NotNil(t, tok)
		require.Equal(t, "::1", redirect.Hostname())
		require.Equal(t, "http://[::1]:"+strconv.Itoa(port)+"/callback", redirect.String())
		lbRequireClosed(t, redirect.Host)
	})

	t.Run("bad configuration opens nothing", func(t *testing.T) {
		e := newLBEnv(t, "approve")
		called := false
		open := func(string) error { called = true; return nil }
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		for name, run := range map[string]func() error{
			"nil open": func() error { _, err := Loopback(context.Background(), e.flow, LoopbackConfig{}); return err },
			"nil flow": func() error { _, err := Loopback(context.Background(), nil, LoopbackConfig{Open: open}); return err },
			"bad port": func() error {
				_, err := Loopback(context.Background(), e.flow, LoopbackConfig{Open: open, Port: 70000})
				return err
			},
			"bad path": func() error {
				_, err := Loopback(context.Background(), e.flow, LoopbackConfig{Open: open, Path: "/a b?x"})
				return err
			},
			"done ctx": func() error {
				_, err := Loopback(cancelled, e.flow, LoopbackConfig{Open: open})
				require.ErrorIs(t, err, context.Canceled)
				return err
			},
		} {
			require.Error(t, run(), name)
		}
		require.False(t, called, "Open is never called")
	})

	t.Run("AuthRequest error closes", func(t *testing.T) {
		ignore := goleak.IgnoreCurrent()
		defer goleak.VerifyNone(t, ignore)
		errBuild := errors.New("cannot build")
		flow := &lbBrokenFlow{err: errBuild}
		_, err := Loopback(context.Background(), flow, LoopbackConfig{Open: func(string) error { return nil }})
		require.ErrorIs(t, err, errBuild)
		lbRequireClosed(t, flow.redirectHost)

		flow = &lbBrokenFlow{wrongRedirect: true}
		_, err = Loopback(context.Background(), flow, LoopbackConfig{Open: func(string) error { return nil }})
		require.ErrorContains(t, err, "another redirect URI")
		lbRequireClosed(t, flow.redirectHost)
	})
}

// lbBlockedOpen is an Open that, like xdg-open waiting for the browser to
// exit, does not return until the test releases it, and then fails. Its
// cleanup releases it and waits until it has returned, so goleak (whose
// check newLBEnv registered earlier and so runs later) finds no goroutine
// left behind.
type lbBlockedOpen struct {
	authURL  string        // set before entered is closed
	entered  chan struct{} // closed when Open is called
	release  chan struct{}
	once     sync.Once
	returned chan struct{} // closed when Open returns
}

func newLBBlockedOpen(t *testing.T) *lbBlockedOpen {
	t.Helper()
	b := &lbBlockedOpen{entered: make(chan struct{}), release: make(chan struct{}), returned: make(chan struct{})}
	t.Cleanup(func() {
		b.unblock()
		select {
		case <-b.entered:
		default:
			return // never called: nothing to wait for
		}
		if err := lbWait(b.returned, "the blocked Open to return once released"); err != nil {
			t.Error(err)
		}
	})
	return b
}

func (b *lbBlockedOpen) open(authURL string) error {
	defer close(b.returned)
	b.authURL = authURL
	close(b.entered)
	<-b.release
	return errors.New("xdg-open: the browser exited")
}

func (b *lbBlockedOpen) unblock() { b.once.Do(func() { close(b.release) }) }

func (b *lbBlockedOpen) hasReturned() bool {
	select {
	case <-b.returned:
		return true
	default:
		return false
	}
}

// called waits until Loopback has called Open and returns the redirect URI.
func (b *lbBlockedOpen) called(t *testing.T) *url.URL {
	t.Helper()
	require.NoError(t, lbWait(b.entered, "Open to be called"))
	redirect, _, err := lbAuth(b.authURL)
	require.NoError(t, err)
	return redirect
}

// requireBlocked checks that Loopback returned while Open was still blocked.
func (b *lbBlockedOpen) requireBlocked(t *testing.T) {
	t.Helper()
	require.False(t, b.hasReturned(), "Open was still blocked when Loopback returned")
}

// lbOutcome is what a Loopback run on its own goroutine returned.
type lbOutcome struct {
	tok *Token
	err error
}

// lbGo runs a Loopback call on its own goroutine.
func lbGo(run func() (*Token, error)) <-chan lbOutcome {
	res := make(chan lbOutcome, 1)
	go func() {
		tok, err := run()
		res <- lbOutcome{tok, err}
	}()
	return res
}

// lbResult waits for a Loopback run by lbGo; a Loopback that does not
// return fails the test instead of hanging it. Cleanups then release what
// blocks it, and it returns before goleak looks.
func lbResult(t *testing.T, res <-chan lbOutcome) lbOutcome {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(lbGuard):
		t.Fatal("Loopback did not return while Open was blocked")
		return lbOutcome{}
	}
}

// lbBrokenFlow fails to build a usable AuthRequest.
type lbBrokenFlow struct {
	err           error
	wrongRedirect bool
	redirectHost  string
}

func (f *lbBrokenFlow) Name() string { return "broken" }

func (f *lbBrokenFlow) AuthRequest(redirectURL string, _ ...string) (*AuthRequest, error) {
	u, err := url.Parse(redirectURL)
	if err != nil {
		return nil, err
	}
	f.redirectHost = u.Host
	if f.err != nil {
		return nil, f.err
	}
	return newAuthRequest(authRequestOpts{provider: "broken", cfg: &oauth2.Config{
		ClientID: "c", RedirectURL: "http://127.0.0.1:1/elsewhere",
		Endpoint: oauth2.Endpoint{AuthURL: "https://as.example/authorize"},
	}, pkce: true})
}

func (f *lbBrokenFlow) Exchange(context.Context, *AuthRequest, url.Values) (*Token, error) {
	return nil, errors.New("not reached")
}

// lbFreePort returns a port that was free on host a moment ago.
func lbFreePort(t *testing.T, network, host string) int {
	t.Helper()
	l, err := net.Listen(network, net.JoinHostPort(host, "0"))
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestLoopbackServerSettings(t *testing.T) {
	srv := newLoopbackServer(http.NotFoundHandler(), context.Background())
	require.Equal(t, 10*time.Second, srv.ReadHeaderTimeout, "a silent local client cannot hold the server")
	require.NotZero(t, srv.ReadTimeout)
	require.NotNil(t, srv.ErrorLog, "nothing is logged to stderr")
}

func TestLoopbackPath(t *testing.T) {
	for in, want := range map[string]string{"": "/callback", "/cb": "/cb", "cb": "/cb", "/a/b-c_d.e~f": "/a/b-c_d.e~f"} {
		got, err := loopbackPath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"/a b", "/x?y=1", "/x#f", "/caf\u00e9"} {
		_, err := loopbackPath(bad)
		require.Error(t, err, bad)
	}
}

func TestLoopbackDescriptionIsCapped(t *testing.T) {
	require.Equal(t, "abc", truncateRunes("abc", 3))
	require.Equal(t, "ab…", truncateRunes("abc", 2))
	require.Equal(t, "éé…", truncateRunes("ééé", 2))
	long := strings.Repeat("x", 10*loopbackMaxDescription)
	w := httptest.NewRecorder()
	writeLoopbackPage(w, http.StatusForbidden, loopbackPage{Title: "t", Message: "m", Detail: truncateRunes(long, loopbackMaxDescription)})
	require.Less(t, w.Body.Len(), 2*loopbackMaxDescription)
}
