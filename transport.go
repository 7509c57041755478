package videoauth

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// maxDrain bounds how much of a rejected response is read before it is
// closed, so the connection can be reused without reading a huge body.
const maxDrain = 64 << 10

// Transport is an http.RoundTripper that authorizes requests to a
// provider's API hosts with tokens from Source. When the provider's Verdict
// says the token was rejected but can be replaced, it gets a new one (one
// mint for any number of concurrent rejections) and replays the request
// once; a second rejection is returned as it is. A token that itself
// replaced a rejected one and is rejected again within the Source's
// RetryInterval is not replaced: the rejection is returned (see Source).
// When the grant is revoked the response is returned and the Source stops
// minting. A token of another service than the Provider's (Token.Provider)
// is refused with an error wrapping ErrInvalidConfig before anything is
// sent.
//
// Requests to hosts the provider does not own pass through untouched, so a
// redirect to another host never carries a credential. The caller's request
// is never modified (it is cloned before the credential is attached), its
// body is closed exactly once, and a request whose body cannot be replayed
// (Body set, GetBody nil) is never retried.
//
// The fields may be set before first use and not changed afterwards; a
// Transport must not be copied after first use.
type Transport struct {
	Provider Provider
	Source   *Source
	// Base sends the requests; nil means the provider App's HTTP client's
	// transport, else http.DefaultTransport.
	Base http.RoundTripper

	cred atomic.Pointer[credCache] // the credential built for the last token
}

// credentialer is implemented by providers whose credential is a value
// derived from the token alone ("Bearer " + token): the Transport builds it
// once per token instead of once per request. authorizeWith(r, t,
// credential(t)) must do exactly what Authorize(r, t) does.
type credentialer interface {
	credential(t *Token) string
	authorizeWith(r *http.Request, t *Token, cred string) error
}

// urlKeeper is implemented by providers whose Authorize never changes the
// request's URL (Vimeo's credential is in headers only), so the Transport
// shares the caller's URL instead of copying it.
type urlKeeper interface{ keepsURL() }

// credCache is a credential and the token it was built from.
type credCache struct {
	tok      *Token
	access   string // tok.AccessToken when built, in case tok was changed since
	provider string // tok.Provider when built, likewise
	value    string
}

// NewClient returns an *http.Client that authorizes requests to p's API with
// tokens from src. It copies the App's HTTPClient settings (timeout, jar)
// when p has one.
func NewClient(p Provider, src *Source) *http.Client {
	c := http.Client{}
	if hc := appClientOf(p); hc != nil {
		c = *hc
	}
	c.Transport = &Transport{Provider: p, Source: src, Base: c.Transport}
	return &c
}

// appClient is implemented by this package's providers.
type appClient interface{ appHTTPClient() *http.Client }

func appClientOf(p Provider) *http.Client {
	if a, ok := p.(appClient); ok {
		return a.appHTTPClient()
	}
	return nil
}

// baseWrapper is implemented by providers whose requests need one more
// layer below the credential (Viki v4/v5 signs every request, after the
// session token is in the query).
type baseWrapper interface {
	wrapBase(http.RoundTripper) http.RoundTripper
}

func (t *Transport) base() http.RoundTripper {
	b := t.Base
	if b == nil {
		if hc := appClientOf(t.Provider); hc != nil && hc.Transport != nil {
			b = hc.Transport
		} else {
			b = http.DefaultTransport
		}
	}
	if w, ok := t.Provider.(baseWrapper); ok {
		return w.wrapBase(b)
	}
	return b
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Provider == nil || t.Source == nil {
		closeBody(req)
		return nil, errors.New("videoauth: Transport needs a Provider and a Source")
	}
	if !t.Provider.Owns(req.URL) {
		return t.base().RoundTrip(req)
	}
	ctx := req.Context()
	e, err := t.Source.acquire(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := t.send(req, req.Body, e, !replayable)
	if err != nil {
		return nil, err
	}
	switch t.Provider.Verdict(resp) {
	case VerdictOK:
		t.Source.accepted()
		return resp, nil
	case VerdictRevoked:
		t.Source.revoke(e.tok)
		return resp, nil
	}
	// VerdictExpired.
	if t.Source.Mint == nil {
		t.Source.revoke(e.tok) // cannot be replaced without the user
		return resp, nil
	}
	if !t.Source.replace(e) || !replayable {
		// A new token rejected at once is not replaced (the rejection is
		// not about its age); a body that cannot be sent again is not.
		return resp, nil
	}
	e2, err := t.Source.acquire(ctx)
	if err != nil {
		drain(resp)
		return nil, err
	}
	var body io.ReadCloser
	if req.Body != nil && req.Body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			drain(resp)
			return nil, errorf("cannot replay request body: %w", err)
		}
	}
	drain(resp)
	return t.send(req, body, e2, false)
}

// send clones req with body, authorizes the clone with e's token and sends
// it. The base transport closes body. track counts the request as one that
// cannot be replayed, in flight with e's token, until the answer comes.
func (t *Transport) send(req *http.Request, body io.ReadCloser, e *entry, track bool) (*http.Response, error) {
	_, keepsURL := t.Provider.(urlKeeper)
	r := cloneForCredential(req, !keepsURL)
	r.Body = body
	if err := t.authorize(r, e.tok); err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if track && !e.tok.Expiry.IsZero() {
		defer e.track()()
	}
	resp, err := t.base().RoundTrip(r)
	if err != nil {
		return nil, redactErr(err)
	}
	// The response points at the caller's request, not at the clone that
	// carries the credential (Viki v3 has it in the URL), so logging
	// resp.Request cannot leak it.
	resp.Request = req
	return resp, nil
}

// authorize attaches tok's credential to r, reusing the credential built
// for the previous request when the token is the same. A token of another
// service is refused before anything is attached.
func (t *Transport) authorize(r *http.Request, tok *Token) error {
	c, ok := t.Provider.(credentialer)
	if !ok || tok == nil || tok.AccessToken == "" {
		if err := t.checkProvider(tok); err != nil {
			return err
		}
		return t.Provider.Authorize(r, tok) // and its own error for a bad token
	}
	k := t.cred.Load()
	if k == nil || k.tok != tok || k.access != tok.AccessToken || k.provider != tok.Provider {
		if err := t.checkProvider(tok); err != nil {
			return err
		}
		k = &credCache{tok: tok, access: tok.AccessToken, provider: tok.Provider, value: c.credential(tok)}
		t.cred.Store(k)
	}
	return c.authorizeWith(r, tok, k.value)
}

// checkProvider refuses a token that another service issued.
func (t *Transport) checkProvider(tok *Token) error {
	if tok != nil && tok.Provider != "" && tok.Provider != t.Provider.Name() {
		return errorf("a %s token cannot be sent to %s: %w", safeCode(truncate(tok.Provider, 32)), t.Provider.Name(), ErrInvalidConfig)
	}
	return nil
}

// cloneForCredential copies what a provider's Authorize may change — the
// URL (Viki puts the token in the query) when copyURL is set, and the header
// — and shares the rest with req, as x/oauth2 does. It is lighter than req.Clone, which also
// copies the trailer, forms and transfer encodings, and leaves the header
// room for the credential's headers (Simkl sets three) so adding it does not grow the map.
func cloneForCredential(req *http.Request, copyURL bool) *http.Request {
	r := new(http.Request)
	*r = *req
	if copyURL && req.URL != nil {
		u := *req.URL
		r.URL = &u
	}
	h := make(http.Header, len(req.Header)+3)
	n := 0
	for _, vs := range req.Header {
		n += len(vs)
	}
	all := make([]string, n) // one array for every value, as Header.Clone does
	for k, vs := range req.Header {
		if vs == nil {
			h[k] = nil
			continue
		}
		m := copy(all, vs)
		h[k] = all[:m:m]
		all = all[m:]
	}
	r.Header = h
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// drain reads a bounded amount of resp's body and closes it, so the
// connection can be reused.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
}
