package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/videoauth/videoauth"
)

// traceTransport is curl -v's view of the wire: it sits under the
// library's Transport, as the App's HTTP client, so it sees each request as
// it leaves (the credential attached, Simkl's parameters and headers
// added, Viki's signature made, a replay after a renewal, the renewal's
// own token request) and each answer as it arrives. What it shows is
// redacted: credentials by header name, secrets given, and the URL's
// credential parameters (videoauth.RedactURL).
type traceTransport struct {
	base    http.RoundTripper
	w       io.Writer
	secrets []string // values never shown, whatever header holds them

	mu sync.Mutex // one request or answer at a time on w
}

// redactedHeaders carry credentials: their values are never shown. The
// Authorization scheme is kept ("Bearer REDACTED"): it says what kind of
// credential went.
var redactedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Signature": true, // Viki's header-mode signature, as the query's sig is redacted
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	fmt.Fprintf(t.w, "> %s %s\n", req.Method, videoauth.RedactURL(req.URL))
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if req.ContentLength > 0 && h.Get("Content-Length") == "" {
		h.Set("Content-Length", fmt.Sprint(req.ContentLength))
	}
	writeHeader(t.w, t.redact(h), "> ", "\n")
	fmt.Fprintf(t.w, ">\n")
	t.mu.Unlock()

	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	t.mu.Lock()
	fmt.Fprintf(t.w, "< %s %s\n", resp.Proto, resp.Status)
	writeHeader(t.w, t.redact(resp.Header.Clone()), "< ", "\n")
	fmt.Fprintf(t.w, "<\n")
	t.mu.Unlock()
	return resp, nil
}

// redact replaces, in h, every credential by REDACTED.
func (t *traceTransport) redact(h http.Header) http.Header {
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		for i, v := range vs {
			scheme, _, spaced := strings.Cut(v, " ")
			switch {
			case (ck == "Authorization" || ck == "Proxy-Authorization") && spaced && !t.holdsSecret(scheme):
				vs[i] = shown(scheme) + " REDACTED"
			case redactedHeaders[ck]:
				vs[i] = "REDACTED"
			case t.holdsSecret(v):
				vs[i] = "REDACTED"
			default:
				vs[i] = shown(v)
			}
		}
	}
	return h
}

func (t *traceTransport) holdsSecret(v string) bool {
	for _, s := range t.secrets {
		if s != "" && strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// traceClient is the HTTP client of a session whose requests are traced on
// w (curl -v), or nil.
func (c *cli) traceClient(set settings) *http.Client {
	if c.trace == nil {
		return nil
	}
	return &http.Client{Transport: &traceTransport{base: http.DefaultTransport, w: c.trace, secrets: []string{set.ClientSecret}}}
}
