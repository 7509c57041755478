package main

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
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

// curlOptions are the curl-like flags of `videoauth curl`.
type curlOptions struct {
	method  string
	headers []string
	data    []string
	json    string
	include bool
	fail    bool
	output  string
	verbose bool
}

func (c *cli) curlCmd() *cobra.Command {
	var o curlOptions
	cmd := &cobra.Command{
		Use:   "curl <service> <url-or-path>",
		Short: "Make an authenticated request to a service's API",
		Long: `Send one request to a service's API with the stored token, through the
videoauth transport: the token is renewed when needed, and replaced and the
request replayed once when the service rejects it. A path is resolved
against the service's API host; a full URL must be on that host, as the token
is never sent anywhere else. The response body goes to standard output.`,
		Example: `  videoauth curl vimeo /me
  videoauth curl simkl /sync/history --json '{"movies":[{"ids":{"simkl":1}}]}'
  videoauth curl viki /v3/movies.json -i`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("Usage: "+cmd.UseLine(), "curl takes a service and a URL or path, got %d arguments", len(args))
			}
			return checkService(args[0])
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return serviceNames, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.data) > 0 && cmd.Flags().Changed("json") {
				return usageErr("--json sends a JSON body, -d a form body (or any body, with -H \"Content-Type: …\"): give one of them.",
					"-d and --json cannot be used together")
			}
			return c.curl(cmd.Context(), args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.method, "request", "X", "", "HTTP method (default GET, or POST with data)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, `header "Name: value", replacing the one videoauth would send (repeatable; "Name:" sends none)`)
	f.StringArrayVarP(&o.data, "data", "d", nil, "request body, form-encoded; @file reads a file, @- standard input (repeatable, joined with &)")
	f.StringVar(&o.json, "json", "", "JSON request body (sets Content-Type and Accept to application/json)")
	f.BoolVarP(&o.include, "include", "i", false, "print the response status and headers before the body")
	f.BoolVarP(&o.fail, "fail", "f", false, "exit 22 without printing the body when the API answers an HTTP error")
	f.StringVarP(&o.output, "output", "o", "", "write the body to this file instead of standard output")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show each request as sent, with the headers videoauth adds, and each answer's headers, on standard error (credentials redacted)")
	return cmd
}

func (c *cli) curl(ctx context.Context, name, target string, o curlOptions) error {
	if o.verbose {
		c.trace = c.err
	}
	if name == "viki" {
		signed, err := c.vikiSignedTarget(target)
		if err != nil {
			return err
		}
		if signed {
			return c.curlSigned(ctx, target, o)
		}
	}
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	if s.signed { // a v5 session, and a v3 URL
		return usageErr("Call the v4/v5 API (/v4/… or /v5/… paths) with it, or sign in to v3 as another account: `videoauth login viki --password --account v3`.",
			"the viki account's grant is a session of the v4/v5 API, which Viki's v3 API does not take")
	}
	u, err := s.resolveURL(target)
	if err != nil {
		return err
	}
	return c.send(ctx, s, videoauth.NewClient(s.provider(), s.source(tok)), u, o)
}

// vikiSignedTarget reports whether target is a URL of Viki's v4/v5 API: a
// /v4/ or /v5/ path, or a URL on the v4/v5 API's host.
func (c *cli) vikiSignedTarget(target string) (bool, error) {
	if strings.HasPrefix(target, "/") {
		return target == "/v4" || target == "/v5" || strings.HasPrefix(target, "/v4/") || strings.HasPrefix(target, "/v5/"), nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return false, nil // resolveURL says what is wrong with it
	}
	base := videoauth.VikiAPIURL
	if !c.sandbox {
		set, err := c.settingsFor("viki")
		if err != nil {
			return false, err
		}
		base = signedBaseOf(set)
	}
	b, err := url.Parse(base)
	return err == nil && strings.EqualFold(u.Host, b.Host), nil
}

// curlSigned sends a request to Viki's v4/v5 API, signed by the library:
// with the stored v5 session when the account's grant is one (the session
// Transport: signed, the session attached, ErrReauthRequired once Viki
// expires it), else as the app alone (SignedClient), which the v4/v5 API
// takes for everything but a user's routes. A stored v3 token is for
// another API and is not sent.
func (c *cli) curlSigned(ctx context.Context, target string, o curlOptions) error {
	const name = "viki"
	st, err := c.openStore()
	if err != nil {
		return err
	}
	account, err := c.account(ctx, st, name)
	if err != nil {
		return err
	}
	tok, err := loadGrant(ctx, st, name, storeKey(name, account))
	switch {
	case errors.Is(err, videoauth.ErrNotStored):
		tok = nil
	case err != nil:
		return err
	}
	session := tok != nil && tok.Meta["viki_api"] == "v5"
	var stored *videoauth.Token
	if session {
		stored = tok
	}
	s, err := c.openWith(st, name, account, stored)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.needSigned(); err != nil {
		return err
	}
	s.signed = true
	var client *http.Client
	if session {
		if tok, err = c.useGrant(ctx, s, tok); err != nil {
			return err
		}
		client = videoauth.NewClient(s.vikiAPI, s.source(tok))
	} else {
		client = s.vikiAPI.SignedClient()
	}
	u, err := s.resolveURL(target)
	if err != nil {
		return err
	}
	err = c.send(ctx, s, client, u, o)
	if session && errors.Is(err, videoauth.ErrReauthRequired) {
		return &cliError{code: exitSignIn, msg: "the stored viki session has expired or was ended",
			hint: "Sign in again: `videoauth login viki --session`."}
	}
	if !session && errors.Is(err, videoauth.ErrReauthRequired) {
		// No session was sent: the route is a user's.
		return &cliError{code: exitSignIn, msg: "this viki route acts for a user, and no session was sent (the account holds none)",
			hint: "Sign a user in to the v4/v5 API: `videoauth login viki --session`."}
	}
	return err
}

// send makes the request curl's flags describe to u with client, and
// shows the answer.
func (c *cli) send(ctx context.Context, s *session, client *http.Client, u *url.URL, o curlOptions) error {
	name := s.name
	req, err := c.buildRequest(ctx, u, o)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return explain(name, unwrapURLError(err))
	}
	defer resp.Body.Close()
	apiErr := videoauth.CheckResponse(s.provider(), resp)
	if errors.Is(apiErr, videoauth.ErrReauthRequired) || errors.Is(apiErr, videoauth.ErrUserTokenRequired) {
		if !o.fail { // like any HTTP error, the body is shown unless --fail
			_ = c.copyBody(resp, o) // the sign-in error is the one to report
		}
		return explain(name, apiErr)
	}
	if apiErr != nil && o.fail {
		return &cliError{code: exitHTTP, msg: "the API answered " + resp.Status}
	}
	if o.include {
		fmt.Fprintf(c.out, "%s %s\r\n", resp.Proto, resp.Status)
		writeHeader(c.out, resp.Header, "", "\r\n")
		io.WriteString(c.out, "\r\n")
	}
	return c.copyBody(resp, o)
}

// unwrapURLError drops net/http's *url.Error wrapper, which repeats the
// request URL; the library's own errors show what matters, URLs redacted.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// resolveURL turns a path into a URL on the service's API host, and checks
// that a full URL is on it: the token goes nowhere else. In the sandbox, a
// URL on the real service's host is sent to the fake.
func (s *session) resolveURL(target string) (*url.URL, error) {
	base := s.apiBase()
	real := infoOf(s.name).apiURL
	if s.signed {
		real = videoauth.VikiAPIURL
	}
	switch {
	case strings.HasPrefix(target, "/"):
		target = base + target
	case s.sb != nil && (target == real || strings.HasPrefix(target, real+"/") || strings.HasPrefix(target, real+"?")):
		target = base + strings.TrimPrefix(target, real)
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, usageErr("Give a path such as /me, or a full URL on "+base+".", "%q is not a URL or a path", target)
	}
	if u.User != nil {
		return nil, usageErr("Leave credentials out of the URL: videoauth adds the token.", "the URL carries a user name or password")
	}
	if !s.provider().Owns(u) && s.private && s.dmPrivate.Endpoint() == videoauth.DailymotionV2 && u.Host == strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://") {
		return nil, usageErr("Give a path of API v2, such as /v2/me: the legacy API on the same host takes public keys only.",
			"a Dailymotion private key's token goes to API v2 (/v2/…) only")
	}
	if !s.provider().Owns(u) && s.name == "youtube" && strings.EqualFold(u.Host, strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")) {
		return nil, usageErr("Give a path of the YouTube Data API, such as /youtube/v3/channels?part=snippet&mine=true: Google's other APIs on the host never get a YouTube token.",
			"a YouTube token goes to /youtube/… and /upload/youtube/… paths only")
	}
	if !s.provider().Owns(u) {
		return nil, usageErr("Give a path such as /me, or a full URL on "+base+".",
			"%s is not on %s's API host %s; videoauth sends the token nowhere else", videoauth.RedactURL(u), s.name, base)
	}
	return u, nil
}

// buildRequest makes the request curl flags describe. Its body can be sent
// twice, so the transport can replay it after renewing the token.
func (c *cli) buildRequest(ctx context.Context, u *url.URL, o curlOptions) (*http.Request, error) {
	var body []byte
	contentType := ""
	switch {
	case o.json != "":
		b, err := c.readData(o.json)
		if err != nil {
			return nil, err
		}
		body, contentType = b, "application/json"
	case len(o.data) > 0:
		parts := make([][]byte, 0, len(o.data))
		for _, d := range o.data {
			b, err := c.readData(d)
			if err != nil {
				return nil, err
			}
			parts = append(parts, b)
		}
		body, contentType = bytes.Join(parts, []byte("&")), "application/x-www-form-urlencoded"
	}
	method := strings.ToUpper(o.method)
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, usageErr("Check the method given with -X.", "cannot build the request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if o.json != "" {
		req.Header.Set("Accept", "application/json")
	}
	// A header given with -H replaces the one videoauth would send (the
	// Content-Type of -d or --json, the Accept of --json), as curl's -H
	// replaces its own: a second Content-Type would make the request
	// ambiguous, and services refuse it (Simkl answers 415). Repeating -H
	// adds values; "Name:" with no value sends no such header at all.
	given := map[string]bool{}
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || !validHeaderName(k) {
			return nil, usageErr(`Write headers as -H "Name: value".`, "bad header %q", h)
		}
		if strings.EqualFold(k, "Authorization") {
			return nil, usageErr("Leave the Authorization header out: videoauth sets it from the stored token.", "an Authorization header was given")
		}
		if !given[http.CanonicalHeaderKey(k)] {
			given[http.CanonicalHeaderKey(k)] = true
			req.Header.Del(k)
		}
		if v == "" {
			continue
		}
		req.Header.Add(k, v)
	}
	return req, nil
}

// validHeaderName reports whether k is an HTTP header name (RFC 9110
// §5.1: a token), so that a typo does not become a malformed request.
func validHeaderName(k string) bool {
	for _, r := range k {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// readData reads a -d or --json value: literal, @file, or @- for stdin.
func (c *cli) readData(v string) ([]byte, error) {
	if !strings.HasPrefix(v, "@") {
		return []byte(v), nil
	}
	var b []byte
	var err error
	if v == "@-" {
		b, err = io.ReadAll(c.in)
	} else {
		b, err = os.ReadFile(v[1:])
	}
	if err != nil {
		return nil, usageErr("Check the file named after @.", "cannot read the request body from %s: %v", v[1:], err)
	}
	return b, nil
}

// copyBody writes the response body to the output file or stdout.
func (c *cli) copyBody(resp *http.Response, o curlOptions) error {
	w := c.out
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return filesErr("cannot write the output file "+o.output, filepath.Dir(o.output), err)
		}
		defer f.Close()
		w = f
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		if fsReason(err) != "" && o.output != "" {
			return filesErr("cannot write the output file "+o.output, filepath.Dir(o.output), err)
		}
		return &cliError{code: exitFailure, msg: "reading the response failed", err: err}
	}
	if o.output != "" {
		if f, ok := w.(*os.File); ok {
			if err := f.Close(); err != nil {
				return filesErr("cannot write the output file "+o.output, filepath.Dir(o.output), err)
			}
		}
	}
	return nil
}

// writeHeader prints h sorted by name, each line ending in eol.
func writeHeader(w io.Writer, h http.Header, prefix, eol string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s%s", prefix, k, v, eol)
		}
	}
}
