// Package wire is the token-endpoint client shared by every provider: one
// POST (or other method) with an explicit client-authentication style, a hard
// cap on the response body, no redirects followed, and https required except
// on loopback. Users never name it; the root package wraps its results.
package wire

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxBody is the largest token-endpoint response body accepted (1 MiB).
// x/oauth2 silently truncates at the same size and then fails to parse; we
// fail explicitly instead.
const MaxBody = 1 << 20

// ErrTooLarge reports a response body over MaxBody.
var ErrTooLarge = errors.New("videoauth: token response larger than 1 MiB")

// ErrInsecure reports an endpoint that is neither https nor loopback.
var ErrInsecure = errors.New("videoauth: refusing non-https endpoint")

// AuthStyle says where the client credentials travel. It is always explicit:
// there is no auto-detection, which would send a request twice.
type AuthStyle int

const (
	// AuthNone sends no client secret (public clients, device starts).
	AuthNone AuthStyle = iota
	// AuthBasicRaw sends Basic base64(id:secret) over the raw strings, as
	// Vimeo's official SDKs do (x/oauth2 URL-escapes them first).
	AuthBasicRaw
	// AuthInParams sends client_id and client_secret in the form body.
	AuthInParams
)

// Request is one call to a token endpoint.
type Request struct {
	Method       string // default POST
	URL          string
	Form         url.Values // sent as application/x-www-form-urlencoded; nil for no body
	Header       http.Header
	Style        AuthStyle
	ClientID     string
	ClientSecret string
}

// Response is what came back, with the body read in full (at most MaxBody).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// CheckEndpoint refuses anything but https, except plain http to a loopback
// address (tests and local fakes; RFC 8252 §8.3 reasoning).
func CheckEndpoint(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
	}
	return ErrInsecure
}

// IsLoopback reports whether host is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NoRedirect returns a shallow copy of hc (or of http.DefaultClient) that
// never follows redirects: a 307/308 would replay the POST body — code,
// verifier, refresh token, secret — to the new location (RFC 9700 §4.12).
func NoRedirect(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Do sends r with hc, which must already refuse redirects (see NoRedirect).
// Errors from the transport come back with the URL removed; the caller adds a
// redacted one.
func Do(ctx context.Context, hc *http.Client, r *Request) (*Response, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, errors.New("videoauth: malformed endpoint URL")
	}
	if err := CheckEndpoint(u); err != nil {
		return nil, err
	}
	form := r.Form
	if r.Style == AuthInParams {
		form = cloneValues(form)
		form.Set("client_id", r.ClientID)
		if r.ClientSecret != "" {
			form.Set("client_secret", r.ClientSecret)
		}
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, errors.New("videoauth: cannot build token request")
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.Style == AuthBasicRaw {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.ClientID+":"+r.ClientSecret)))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, StripURL(err)
	}
	defer resp.Body.Close()
	b, err := ReadCapped(resp.Body, MaxBody)
	if err != nil {
		return nil, StripURL(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// ReadCapped reads all of r, failing with ErrTooLarge past max bytes; memory
// stays bounded by max+1.
func ReadCapped(r io.Reader, max int64) ([]byte, error) {
	if max == math.MaxInt64 {
		max-- // max+1 must not overflow
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}

// StripURL replaces a *url.Error by its inner error, so the URL (which may
// carry a token or code) never reaches an error string.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
