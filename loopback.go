package videoauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CodeFlow is a provider that runs the authorization-code grant (Vimeo,
// Simkl, ...). Loopback needs only these two steps, so any provider with a
// code grant can be signed in to from a command-line or desktop app.
type CodeFlow interface {
	// Name is the service's short name; the loopback pages show it.
	Name() string
	// AuthRequest builds an authorization request for redirectURL ("" = the
	// App's) and scopes (none = the App's).
	AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error)
	// Exchange checks the callback query against ar (state first, single
	// use) and exchanges the code once.
	Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error)
}

// LoopbackConfig configures Loopback. The zero value is usable except Open.
type LoopbackConfig struct {
	// Open shows authURL to the user: opens the system browser (never an
	// embedded web view, RFC 8252 §8.12: the app could read the user's
	// password from it) or prints it. Required.
	//
	// Open runs on a goroutine of its own while Loopback serves the
	// callback and watches ctx and the timeout, so it may block (xdg-open
	// can wait until the browser exits) without holding Loopback up. An
	// error Open returns while Loopback is still waiting for the callback
	// ends the flow and is returned; an error it returns after that is
	// ignored. Once Loopback is done (token, denial, failed exchange,
	// timeout, listener failure) it waits at most 200 ms more for Open
	// to return, and not at all once ctx is cancelled; then it returns
	// without waiting for Open, which keeps running: a blocked Open cannot
	// be stopped from outside. Open gets no context of its own, so an Open
	// that may block should honour the ctx given to Loopback, captured by
	// the closure (for example by running the launcher with
	// exec.CommandContext), and return once it is cancelled.
	Open func(authURL string) error
	// Path is the callback path, default "/callback". It is part of the
	// redirect URI the service matches exactly (RFC 8252 §8.4).
	Path string
	// Port is 0 for an ephemeral port (RFC 8252 §7.3: the service must
	// accept any loopback port); set it only for services that register a
	// fixed port.
	Port int
	// Timeout bounds the wait for the callback; default 5 minutes. A timeout
	// is reported as ErrAccessDenied (Simkl V1 signals denial by never
	// coming back).
	Timeout time.Duration
	// Clock for the timeout; nil = real. The wait for Open after the flow
	// has ended is real time, not Clock.
	Clock Clock

	// openGrace replaces loopbackOpenGrace when positive (tests).
	openGrace time.Duration
}

const (
	// loopbackDefaultPath is the callback path when LoopbackConfig.Path is "".
	loopbackDefaultPath = "/callback"
	// loopbackDefaultTimeout is how long Loopback waits for the callback
	// when LoopbackConfig.Timeout is 0: long enough to sign in and consent,
	// short enough that a forgotten login does not hold a port open
	// (RFC 8252 §8.3).
	loopbackDefaultTimeout = 5 * time.Minute

	// loopbackReadHeaderTimeout stops a local client that opens a
	// connection and sends nothing from holding it (Slowloris).
	loopbackReadHeaderTimeout = 10 * time.Second
	// loopbackPageWriteTimeout bounds writing the outcome page, so a local
	// client that never reads cannot hold Loopback open.
	loopbackPageWriteTimeout = 10 * time.Second
	// loopbackOpenGrace is how long Loopback, done for any reason but ctx
	// cancellation, still waits for an Open that has not returned: long
	// enough that an Open about to return (a browser launcher that has just
	// handed over, a test's browser reading its page) is waited for, short
	// enough that one that blocks until the browser exits barely delays
	// the result.
	loopbackOpenGrace = 200 * time.Millisecond
	// loopbackMaxDescription caps the service's error_description shown on
	// the denial page.
	loopbackMaxDescription = 300
)

// Loopback runs the authorization-code flow through a one-shot HTTP server on
// 127.0.0.1 (else [::1]) and returns the token, as RFC 8252 §7.3 describes
// for native apps: the redirect URI is http://127.0.0.1:PORT/callback on an
// ephemeral port, and the system browser is sent to the authorization URL
// through cfg.Open (RFC 8252 §8.12).
//
// It listens on the loopback address literal only, never on "localhost" or
// all interfaces (RFC 8252 §8.3), opens the port only for this request and
// closes it on every way out: token, denial, failed exchange, timeout, ctx
// cancellation or an Open error. Open cannot delay any of these beyond a
// short grace (see LoopbackConfig.Open), and no goroutine Loopback started
// outlives the call except one still running an Open that has not returned.
//
// Requests to other paths get a 404 and requests with a missing or wrong
// state a 400; neither ends the flow, so a stray request from another local
// process or web page cannot abort the login (the weakness noted in
// cli/oauth). The first request with the right state is exchanged, exactly
// once, by flow.Exchange; its browser tab is told the outcome. Every page is
// fixed HTML with no scripts or external resources and Referrer-Policy:
// no-referrer, so the code cannot leak through a Referer (RFC 9700 §4.2).
//
// A timeout returns an error matching ErrAccessDenied; cancelling ctx returns
// an error matching ctx.Err().
func Loopback(ctx context.Context, flow CodeFlow, cfg LoopbackConfig) (*Token, error) {
	if flow == nil {
		return nil, configErr("loopback: no CodeFlow")
	}
	if cfg.Open == nil {
		return nil, configErr("loopback: LoopbackConfig.Open is required")
	}
	path, err := loopbackPath(cfg.Path)
	if err != nil {
		return nil, err
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, configErr("loopback: port %d out of range", cfg.Port)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = loopbackDefaultTimeout
	}
	clock := clockOr(cfg.Clock)
	if err := ctx.Err(); err != nil {
		return nil, errorf("loopback: %w", err)
	}

	ln, err := listenLoopback(cfg.Port)
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String() // "127.0.0.1:PORT" or "[::1]:PORT"
	redirect := "http://" + addr + path
	ar, err := flow.AuthRequest(redirect)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if ar == nil || ar.RedirectURL != redirect {
		ln.Close()
		return nil, errorf("loopback: %s built an authorization request for another redirect URI", flow.Name())
	}

	// Handlers wait for the exchange only as long as this lives; it is
	// cancelled before the server is shut down.
	life, stop := context.WithCancel(ctx)
	defer stop()
	h := &loopbackHandler{
		host:      addr,
		path:      path,
		provider:  flow.Name(),
		ar:        ar,
		callbacks: make(chan loopbackCallback, 1),
	}
	srv := newLoopbackServer(h, life)
	var conns sync.WaitGroup
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
		case http.StateHijacked, http.StateClosed:
			conns.Done()
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// Buffered: the goroutine never blocks on it, so an Open that returns
	// after Loopback has given up on it still lets the goroutine end.
	opened := make(chan error, 1)
	go func() { opened <- cfg.Open(ar.URL) }()
	expired := clock.After(timeout)

	var (
		tok                  *Token
		openDone, serverDone bool
	)
	waitCh := opened
wait:
	for {
		select {
		case cb := <-h.callbacks:
			tok, err = flow.Exchange(ctx, ar, cb.q)
			if err == nil && tok == nil {
				err = errorf("loopback: %s returned no token", flow.Name())
			}
			cb.reply <- loopbackOutcome{tok: tok, err: err}
			<-cb.written // the browser has its page before the server closes
			break wait
		case oerr := <-waitCh:
			openDone = true
			if oerr != nil {
				err = errorf("loopback: cannot show the authorization page: %w", oerr)
				break wait
			}
			waitCh = nil // opened; keep waiting for the browser to come back
		case serr := <-served:
			serverDone = true
			err = errorf("loopback: listener failed: %w", serr)
			break wait
		case <-expired:
			err = fmt.Errorf("%w: no callback within %s", ErrAccessDenied, timeout)
			break wait
		case <-ctx.Done():
			err = errorf("loopback: %w", ctx.Err())
			break wait
		}
	}
	if err != nil {
		tok = nil
	}

	// Close on every path (RFC 8252 §8.3): the listener and every
	// connection, at once. The outcome page is already written, so nothing
	// is waited for, not even a browser's idle pre-connection. Handlers still
	// running see life cancelled and return; conns counts them out.
	stop()
	srv.Close()
	if !serverDone {
		<-served
	}
	conns.Wait()
	// An Open still running gets a short grace, none once ctx is cancelled,
	// and is then left running (it cannot be stopped); whatever it returns
	// now comes too late to change the outcome.
	if !openDone {
		grace := cfg.openGrace
		if grace <= 0 {
			grace = loopbackOpenGrace
		}
		t := time.NewTimer(grace)
		select {
		case <-opened:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return tok, err
}

// listenLoopback binds the IPv4 loopback literal, else the IPv6 one
// (RFC 8252 §7.3 names both). "localhost" is not used: it may resolve to a
// non-loopback interface or be redirected by the resolver (RFC 8252 §8.3).
func listenLoopback(port int) (net.Listener, error) {
	p := strconv.Itoa(port)
	ln, err4 := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", p))
	if err4 == nil {
		return ln, nil
	}
	ln, err6 := net.Listen("tcp6", net.JoinHostPort("::1", p))
	if err6 == nil {
		return ln, nil
	}
	return nil, errorf("loopback: cannot listen on 127.0.0.1 or [::1]: %w", errors.Join(err4, err6))
}

// loopbackPath applies the default and refuses paths that would not come
// back unchanged in the redirect URI, which the service matches exactly
// (RFC 8252 §8.4).
func loopbackPath(p string) (string, error) {
	if p == "" {
		return loopbackDefaultPath, nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if (&url.URL{Path: p}).EscapedPath() != p {
		return "", configErr("loopback: callback path %q needs escaping; use a plain path", p)
	}
	return p, nil
}

// newLoopbackServer configures the one-shot server: bounded header reads
// (a local client that connects and sends nothing cannot hold it), no
// keep-alive (each browser request is one connection, closed once answered),
// and no logging to stderr.
func newLoopbackServer(h http.Handler, life context.Context) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: loopbackReadHeaderTimeout,
		ReadTimeout:       loopbackReadHeaderTimeout,
		IdleTimeout:       loopbackReadHeaderTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return life },
	}
	srv.SetKeepAlivesEnabled(false)
	return srv
}

// loopbackCallback is the one query handed from the handler to Loopback.
type loopbackCallback struct {
	q       url.Values
	reply   chan loopbackOutcome // buffered: Loopback never blocks on it
	written chan struct{}        // closed once the handler has answered
}

type loopbackOutcome struct {
	tok *Token
	err error
}

// loopbackHandler answers the browser. It checks state before anything else
// (RFC 6819 §4.4.1.12: forged callbacks must not cause work) and hands the
// first matching query to Loopback.
type loopbackHandler struct {
	host      string // the listener's host:port; other Host headers are refused
	path      string
	provider  string
	ar        *AuthRequest
	claimed   atomic.Bool
	callbacks chan loopbackCallback // buffered, capacity 1: one claim ever
}

func (h *loopbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A Host other than our address literal is a DNS-rebinding page or a
	// stray client: it is not the browser the service redirected here.
	if !strings.EqualFold(r.Host, h.host) || r.URL.Path != h.path {
		writeLoopbackPage(w, http.StatusNotFound, loopbackPage{
			Title:   "Not found",
			Message: "There is nothing here.",
		})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeLoopbackPage(w, http.StatusMethodNotAllowed, loopbackPage{
			Title:   "Not found",
			Message: "There is nothing here.",
		})
		return
	}
	q := r.URL.Query()
	if !h.ar.stateMatches(q) {
		writeLoopbackPage(w, http.StatusBadRequest, loopbackPage{
			Title:   "This sign-in link is not valid",
			Message: "This sign-in link is not valid. It does not belong to the sign-in in progress.",
		})
		return
	}
	if !h.claimed.CompareAndSwap(false, true) {
		writeLoopbackPage(w, http.StatusConflict, loopbackPage{
			Title:   "Already handled",
			Message: "This sign-in was already handled. You can close this window.",
		})
		return
	}
	cb := loopbackCallback{q: q, reply: make(chan loopbackOutcome, 1), written: make(chan struct{})}
	defer close(cb.written)
	h.callbacks <- cb // never blocks: capacity 1 and a single claim
	var out loopbackOutcome
	select {
	case out = <-cb.reply:
	case <-r.Context().Done():
		select {
		case out = <-cb.reply:
		default:
			out.err = errors.New("loopback ended before the exchange")
		}
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(loopbackPageWriteTimeout))
	defer func() { _ = rc.Flush() }() // on the wire before Loopback closes the server
	switch {
	case out.err == nil:
		writeLoopbackPage(w, http.StatusOK, loopbackPage{
			Title:   "Signed in",
			Message: "Signed in to " + h.provider + ". You can close this window.",
		})
	case errors.Is(out.err, ErrAccessDenied):
		writeLoopbackPage(w, http.StatusForbidden, loopbackPage{
			Title:   "Sign-in cancelled",
			Message: "Access to " + h.provider + " was not granted. You can close this window.",
			Detail:  truncateRunes(q.Get("error_description"), loopbackMaxDescription),
		})
	default:
		// No error text: it could carry what the service sent back.
		writeLoopbackPage(w, http.StatusInternalServerError, loopbackPage{
			Title:   "Sign-in failed",
			Message: "Signing in to " + h.provider + " did not complete. Return to the application for details.",
		})
	}
}

// loopbackPage is what a page shows; html/template escapes every field.
type loopbackPage struct {
	Title, Message, Detail string
}

// loopbackTemplate has no scripts, styles, images or links: nothing the
// browser would fetch, and nothing a Referer could carry the code to
// (RFC 6749 §3.1.2.5, RFC 9700 §4.2).
var loopbackTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{- with .Detail}}
<p>The service said: {{.}}</p>
{{- end}}
</body>
</html>
`))

// writeLoopbackPage renders p with the headers every loopback page carries.
func writeLoopbackPage(w http.ResponseWriter, status int, p loopbackPage) {
	var buf bytes.Buffer
	if err := loopbackTemplate.Execute(&buf, p); err != nil {
		buf.Reset()
		buf.WriteString("<!DOCTYPE html>\n<title>Error</title>\n")
		status = http.StatusInternalServerError
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// truncateRunes keeps at most n runes of s.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
