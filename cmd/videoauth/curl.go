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
		RunE: func(cmd *cobra.Command, args []string) error { return c.curl(cmd.Context(), args[0], args[1], o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.method, "request", "X", "", "HTTP method (default GET, or POST with data)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, `extra header "Name: value" (repeatable)`)
	f.StringArrayVarP(&o.data, "data", "d", nil, "request body, form-encoded; @file reads a file, @- standard input (repeatable, joined with &)")
	f.StringVar(&o.json, "json", "", "JSON request body (sets Content-Type and Accept to application/json)")
	f.BoolVarP(&o.include, "include", "i", false, "print the response status and headers before the body")
	f.BoolVarP(&o.fail, "fail", "f", false, "exit 22 without printing the body when the API answers an HTTP error")
	f.StringVarP(&o.output, "output", "o", "", "write the body to this file instead of standard output")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the request and response headers on standard error (the token is never shown)")
	cmd.MarkFlagsMutuallyExclusive("data", "json")
	return cmd
}

func (c *cli) curl(ctx context.Context, name, target string, o curlOptions) error {
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	u, err := s.resolveURL(target)
	if err != nil {
		return err
	}
	req, err := c.buildRequest(ctx, u, o)
	if err != nil {
		return err
	}
	if o.verbose {
		dumpRequest(c.err, req)
	}
	client := videoauth.NewClient(s.provider(), s.source(tok))
	resp, err := client.Do(req)
	if err != nil {
		return explain(name, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if o.verbose {
		dumpResponse(c.err, resp)
	}
	apiErr := videoauth.CheckResponse(s.provider(), resp)
	if errors.Is(apiErr, videoauth.ErrReauthRequired) || errors.Is(apiErr, videoauth.ErrUserTokenRequired) {
		_ = c.copyBody(resp, o) // the sign-in error is the one to report
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
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageErr(`Write headers as -H "Name: value".`, "bad header %q", h)
		}
		if strings.EqualFold(k, "Authorization") {
			return nil, usageErr("Leave the Authorization header out: videoauth sets it from the stored token.", "an Authorization header was given")
		}
		req.Header.Add(k, strings.TrimSpace(v))
	}
	return req, nil
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
			return &cliError{code: exitFailure, msg: "cannot write the output file", err: err}
		}
		defer f.Close()
		w = f
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return &cliError{code: exitFailure, msg: "reading the response failed", err: err}
	}
	return nil
}

// dumpRequest shows the request as curl -v does. The token is added by the
// transport after this, so it cannot appear here.
func dumpRequest(w io.Writer, req *http.Request) {
	fmt.Fprintf(w, "> %s %s\n", req.Method, videoauth.RedactURL(req.URL))
	writeHeader(w, req.Header, "> ", "\n")
	fmt.Fprintf(w, "> (videoauth adds the credential; it is not shown)\n>\n")
}

func dumpResponse(w io.Writer, resp *http.Response) {
	fmt.Fprintf(w, "< %s %s\n", resp.Proto, resp.Status)
	writeHeader(w, resp.Header, "< ", "\n")
	fmt.Fprintf(w, "<\n")
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
