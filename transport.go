package videoauth

import (
	"context"
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
	// Base sends the API requests; nil (what NewClient sets unless the
	// App's HTTPClient has a Transport) means the App's HTTPClient's
	// transport, else http.DefaultTransport. Configure the client in
	// App.HTTPClient, which token requests use too; a Base set here
	// carries only the API requests.
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

// headerKeeper is implemented by providers whose Authorize never changes
// the request's header (Viki v3's credential is in the query only), so the
// Transport sends the caller's header instead of copying it.
type headerKeeper interface{ keepsHeader() }

// credCache is a credential and the token it was built from: values is
// []string{credential}, len == cap, so that a header provider
// (headerCredentialer) can send it as the header's value slice, shared by
// the requests of one token (an append copies, and no request modifies a
// header value in place).
type credCache struct {
	tok    *Token
	access string // tok.AccessToken when built, in case tok was changed since
	values []string
}

// headerCredentialer is a credentialer whose credential is one header
// value, which it can take as the header's value slice, shared by the
// requests of one token: authorizeWithValues(r, t, []string{cred}) must do
// exactly what authorizeWith(r, t, cred) does.
type headerCredentialer interface {
	authorizeWithValues(r *http.Request, t *Token, values []string) error
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
//
// It returns an error only when no request could be sent: no usable token
// and none to be had (ErrReauthRequired, a failed mint, ctx), bad
// configuration, or the network. Whenever the service answered, the answer
// is returned with a nil error — also when the service rejected the token
// and it could not be replaced — and CheckResponse types it: a dead grant
// as ErrReauthRequired, a token that will be replaced on the next request
// as ErrTokenExpired, a failed replacement with the replacement's error.
// One exception: when the replay after a rejection cannot be sent (the
// network fails, the caller's ctx ends), that error is returned, since the
// first answer was already drained to send it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Provider == nil || t.Source == nil {
		closeBody(req)
		return nil, errors.New("videoauth: Transport needs a Provider and a Source")
	}
	if !t.owned(req) {
		resp, err := t.base().RoundTrip(req)
		if resp != nil && resp.Request == nil {
			resp.Request = req // so a redirect it causes is known to come from elsewhere
		}
		return resp, err
	}
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	// A request that cannot be replayed is counted in flight with its token
	// before a refresh-ahead can start, so the refresh waits for it.
	// A token that came with an error (a new token not saved) is used all
	// the same: the error went to OnStoreError.
	e, done, err := t.Source.acquireTracked(ctx, !replayable)
	if e == nil {
		if done != nil {
			done()
		}
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, req.Body, e)
	if done != nil {
		done()
	}
	if err != nil {
		return nil, err
	}
	v := t.Provider.Verdict(resp)
	o := t.Source.Observer
	if o != nil {
		t.observeAnswer(ctx, o, resp, v, false)
	}
	if v == VerdictOK {
		t.Source.accepted()
		return resp, nil
	}
	var e2 *entry
	if v == VerdictRevoked || t.Source.Mint == nil {
		// The grant is gone, or cannot be renewed without the user — unless
		// a sibling saved a new sign-in in the store.
		if e2 = t.Source.adoptStored(ctx, e); e2 == nil {
			t.Source.revokeCtx(ctx, e.tok)
			return rejected(resp, ErrReauthRequired), nil
		}
	} else {
		if !t.Source.replace(e) {
			// A token that arrived while the service was rejecting tokens,
			// rejected at once, is not replaced: the rejection is not about
			// its age.
			return rejected(resp, ErrTokenExpired), nil
		}
		if !replayable {
			return rejected(resp, ErrTokenExpired), nil // the next request gets a new token
		}
		if e2, err = t.Source.acquire(ctx); e2 == nil {
			if ctx.Err() != nil { // the caller gave up
				drain(resp)
				return nil, err
			}
			// The service answered; the caller gets its answer, and why the
			// token could not be replaced.
			return rejected(resp, err), nil
		}
	}
	if !replayable {
		return rejected(resp, ErrTokenExpired), nil // a sibling's token is there for the next request
	}
	var body io.ReadCloser
	if req.Body != nil && req.Body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			return rejected(resp, errorf("cannot replay request body (%v): %w", err, ErrTokenExpired)), nil
		}
	}
	drain(resp)
	resp, err = t.send(req, body, e2)
	if err != nil {
		if o != nil {
			observe(ctx, o, Event{Kind: EventReplay, Provider: t.Provider.Name(), Op: "api", At: t.Source.clock().Now(), Outcome: outcome(err)})
		}
		return nil, err
	}
	v = t.Provider.Verdict(resp)
	if o != nil {
		observe(ctx, o, Event{Kind: EventReplay, Provider: t.Provider.Name(), Op: "api", At: t.Source.clock().Now(),
			Status: resp.StatusCode, Outcome: replayOutcome(v)})
		t.observeAnswer(ctx, o, resp, v, true)
	}
	switch v {
	case VerdictOK:
		t.Source.accepted()
	case VerdictRevoked:
		t.Source.revokeCtx(ctx, e2.tok)
		return rejected(resp, ErrReauthRequired), nil
	case VerdictExpired:
		return rejected(resp, ErrTokenExpired), nil // returned as it is; the new token is not replaced at once
	}
	return resp, nil
}

// replayOutcome is EventReplay's Outcome for the replay's Verdict.
func replayOutcome(v Verdict) string {
	switch v {
	case VerdictOK:
		return "ok"
	case VerdictExpired:
		return "token_expired"
	case VerdictRevoked:
		return "reauth_required"
	}
	return "other" // a Verdict this package does not know
}

// observeAnswer tells o of what an API answer with verdict v reports: a
// rejection, a rate limit. A successful answer reports nothing, and costs
// two comparisons.
func (t *Transport) observeAnswer(ctx context.Context, o Observer, resp *http.Response, v Verdict, replayed bool) {
	if v != VerdictOK {
		observe(ctx, o, Event{Kind: EventRejected, Provider: t.Provider.Name(), Op: "api", At: t.Source.clock().Now(),
			Status: resp.StatusCode, Verdict: v, Replayed: replayed})
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return
	}
	now := t.Source.clock().Now()
	if limited, wait := rateLimit(resp.StatusCode, resp.Header, now); limited {
		observe(ctx, o, Event{Kind: EventRateLimited, Provider: t.Provider.Name(), Op: "api", At: now,
			Status: resp.StatusCode, Outcome: "rate_limited", RetryAfter: wait})
	}
}

// owned reports whether req may carry the provider's credential: its URL
// and, for a request made to follow a redirect, every earlier URL of the
// chain are the provider's. A redirect from elsewhere into the API host
// does not get the credential (RFC 9700 §4.11); nor does one whose chain
// cannot be followed back (a Response without its Request).
func (t *Transport) owned(req *http.Request) bool {
	for r := req; ; {
		if !t.Provider.Owns(r.URL) {
			return false
		}
		if r.Response == nil {
			return true
		}
		if r = r.Response.Request; r == nil {
			return false
		}
	}
}

// rejectedBody marks the body of a response the Transport returns after
// the service rejected its token, with why the token was not replaced, so
// that CheckResponse can tell a dead grant from one that will be renewed.
type rejectedBody struct {
	io.ReadCloser
	why error
}

// rejected marks resp as a rejection the Transport could not answer with a
// new token, for why.
func rejected(resp *http.Response, why error) *http.Response {
	resp.Body = &rejectedBody{ReadCloser: resp.Body, why: why}
	return resp
}

// send clones req with body, authorizes the clone with e's token and sends
// it. The base transport closes body.
func (t *Transport) send(req *http.Request, body io.ReadCloser, e *entry) (*http.Response, error) {
	_, keepsURL := t.Provider.(urlKeeper)
	_, keepsHeader := t.Provider.(headerKeeper)
	r := cloneForCredential(req, !keepsURL, !keepsHeader)
	r.Body = body
	if err := t.authorize(r, e.tok); err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	resp, err := t.base().RoundTrip(r)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, scrubErr(err, e.tok.AccessToken)
	}
	if resp == nil {
		return nil, errorf("%s: the base transport returned neither a response nor an error: %w", t.Provider.Name(), ErrBadResponse)
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
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
	// The provider is checked on every request, not once per credential:
	// a token's Provider can be changed in place.
	if err := t.checkProvider(tok); err != nil {
		return err
	}
	c, ok := t.Provider.(credentialer)
	if !ok || tok == nil || tok.AccessToken == "" {
		return t.Provider.Authorize(r, tok) // and its own error for a bad token
	}
	k := t.cred.Load()
	if k == nil || k.tok != tok || k.access != tok.AccessToken {
		k = &credCache{tok: tok, access: tok.AccessToken, values: []string{c.credential(tok)}}
		t.cred.Store(k)
	}
	if h, ok := c.(headerCredentialer); ok {
		return h.authorizeWithValues(r, tok, k.values)
	}
	return c.authorizeWith(r, tok, k.values[0])
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
// when copyHeader is set — and shares the rest with req, as x/oauth2 does. It is lighter than req.Clone, which also
// copies the trailer, forms and transfer encodings, and leaves the header
// room for the credential's headers (Simkl sets three) so adding it does not grow the map.
// A nil header becomes an empty one either way, as net/http's Transport refuses a nil one.
func cloneForCredential(req *http.Request, copyURL, copyHeader bool) *http.Request {
	r := new(http.Request)
	*r = *req
	if copyURL && req.URL != nil {
		u := *req.URL
		r.URL = &u
	}
	if !copyHeader && req.Header != nil {
		return r
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
