package videoauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/videoauth/videoauth/internal/wire"
)

// endpoint sends requests to one provider's token endpoints and turns the
// answers into Tokens or *Errors. Every provider has one.
type endpoint struct {
	provider    string
	hc          *http.Client // follows no redirects
	clock       Clock
	header      http.Header // sent on every request (Vimeo's Accept)
	defaultType string      // token_type when the service omits it
	// errorShape reads the service's error body: its code and description.
	errorShape func(body []byte) (code, desc string)
	// finish adds provider knowledge to a parsed token (user id, expiry).
	finish func(*Token)
	// observer is the App's: told of the endpoints' rate limits.
	observer Observer
}

func newEndpoint(provider string, app App, header http.Header, shape func([]byte) (string, string), finish func(*Token)) *endpoint {
	return &endpoint{
		provider:    provider,
		hc:          wire.NoRedirect(app.httpClient()),
		clock:       clockOr(app.Clock),
		header:      header,
		defaultType: "bearer",
		errorShape:  shape,
		finish:      finish,
		observer:    app.Observer,
	}
}

// do sends r and returns the raw response, or a transport *Error.
func (ep *endpoint) do(ctx context.Context, op string, r *wire.Request) (*wire.Response, error) {
	if len(ep.header) > 0 {
		h := r.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		for k, vs := range ep.header {
			if h.Get(k) == "" {
				h[k] = vs
			}
		}
		r.Header = h
	}
	resp, err := wire.Do(ctx, ep.hc, r)
	if err != nil {
		u, _ := url.Parse(r.URL)
		return nil, transportError(ep.provider, op, u, err)
	}
	if ep.observer != nil {
		now := ep.clock.Now()
		if limited, wait := rateLimit(resp.Status, resp.Header, now); limited {
			observe(ctx, ep.observer, Event{Kind: EventRateLimited, Provider: ep.provider, Op: op, At: now,
				Status: resp.Status, Outcome: "rate_limited", RetryAfter: wait})
		}
	}
	return resp, nil
}

// token sends r and parses a token from a 2xx answer; anything else is an
// *Error.
func (ep *endpoint) token(ctx context.Context, op string, r *wire.Request) (*Token, error) {
	resp, err := ep.do(ctx, op, r)
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, ep.errorFrom(op, r.URL, resp)
	}
	return ep.parse(op, r.URL, resp)
}

// parse reads a token from a 2xx response.
func (ep *endpoint) parse(op, rawURL string, resp *wire.Response) (*Token, error) {
	tok, err := parseToken(resp.Body, resp.Header.Get("Content-Type"), ep.defaultType, ep.clock.Now())
	if err != nil {
		var be *tokenBodyError
		if errors.As(err, &be) {
			e := ep.errorFrom(op, rawURL, resp)
			if e.Err == nil {
				e.Err = ErrBadResponse // an error we do not know, in a success answer
			}
			return nil, e
		}
		return nil, &Error{Provider: ep.provider, Op: op, Status: resp.Status, URL: redactString(rawURL), Body: capBody(resp.Body), Err: err}
	}
	tok.Provider = ep.provider
	if ep.finish != nil {
		ep.finish(tok)
	}
	return tok, nil
}

// errorFrom builds the *Error for a failed response.
func (ep *endpoint) errorFrom(op, rawURL string, resp *wire.Response) *Error {
	e := &Error{Provider: ep.provider, Op: op, Status: resp.Status, URL: redactString(rawURL), Body: capBody(resp.Body)}
	if looksJSON(resp.Body) && ep.errorShape != nil {
		e.Code, e.Description = ep.errorShape(resp.Body)
	}
	e.RetryAfter = retryAfter(resp.Header, ep.clock.Now())
	e.Err = sentinelFor(op, e.Code, resp.Status, resp.Header)
	if e.Err == nil && !looksJSON(resp.Body) {
		e.Err = ErrBadResponse // HTML or text where JSON was due
	}
	return e
}

func redactString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return RedactURL(u)
}

// maxRetryAfter caps the wait a service may ask for, so an absurd value
// cannot overflow time.Duration into a negative wait.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads Retry-After (seconds or HTTP date) and, failing that,
// X-RateLimit-Reset (Unix seconds or RFC 3339, which Vimeo's clients have
// both seen; advisory).
func retryAfter(h http.Header, now time.Time) time.Duration {
	return min(retryAfterUncapped(h, now), maxRetryAfter)
}

func retryAfterUncapped(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if t := time.Unix(n, 0); t.After(now) {
				return t.Sub(now)
			}
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	return 0
}
