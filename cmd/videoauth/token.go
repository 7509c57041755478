package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

// tokenOptions are the flags of `videoauth token`.
type tokenOptions struct {
	minValid time.Duration
	json     bool
	header   bool
}

func (c *cli) tokenCmd() *cobra.Command {
	var o tokenOptions
	cmd := &cobra.Command{
		Use:   "token <service>",
		Short: "Print a valid access token, renewing it when it can",
		Long: `Print the stored access token of a service on standard output, for use in
other commands. A token that expires within --min-valid is renewed first
when its grant allows (Simkl V2 refresh tokens, app tokens from client
credentials); otherwise signing in again is the way to a new one.

--header prints the credential the way the service takes it: the header
lines ("Name: value", one a line: curl -H @file reads them), or, for Viki
v3, which takes the token in the URL, the access_token query parameter.
--json prints the token with its type, expiry, scopes and account.`,
		Example: `  curl -H "Authorization: Bearer $(videoauth token vimeo)" https://api.vimeo.com/me
  curl -H @<(videoauth token simkl --header) "https://api.simkl.com/sync/activities?client_id=…"
  videoauth token vimeo --json | jq -r .expiry`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.minValid < 0 {
				return usageErr("Give a duration of zero or more, such as 5m or 1h.", "--min-valid %s is negative", o.minValid)
			}
			if o.json && o.header {
				return usageErr("Give one of them: --json has the token and its details, --header the credential as the service takes it.",
					"--json and --header cannot be used together")
			}
			return c.token(cmd.Context(), args[0], o)
		},
	}
	serviceArg(cmd)
	f := cmd.Flags()
	f.DurationVar(&o.minValid, "min-valid", 5*time.Minute, "renew a token that expires sooner than this")
	f.BoolVar(&o.json, "json", false, "print a JSON object: access_token, token_type, expiry, expires_in, scopes, user_id, account, service")
	f.BoolVar(&o.header, "header", false, "print the header(s) or query parameter that carry the token, as the service takes it")
	return cmd
}

// tokenJSON is what token --json prints. The refresh token is not in it:
// nothing but videoauth needs it, and it outlives the access token.
type tokenJSON struct {
	AccessToken string     `json:"access_token"`
	TokenType   string     `json:"token_type"`
	Expiry      *time.Time `json:"expiry,omitempty"`     // none: the service gave no lifetime
	ExpiresIn   *int64     `json:"expires_in,omitempty"` // seconds from now, as expiry says
	Scopes      []string   `json:"scopes"`
	UserID      string     `json:"user_id,omitempty"`
	Account     string     `json:"account"`
	Service     string     `json:"service"`
}

func (c *cli) token(ctx context.Context, name string, o tokenOptions) error {
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	_, got, err := c.fresh(ctx, s, tok, o.minValid)
	if err != nil {
		return err
	}
	switch {
	case o.json:
		out := tokenJSON{AccessToken: got.AccessToken, TokenType: tokenTypeOf(got), Scopes: got.Scopes, UserID: got.UserID, Account: s.account, Service: name}
		if out.Scopes == nil {
			out.Scopes = []string{}
		}
		if !got.Expiry.IsZero() {
			e := got.Expiry.UTC()
			left := int64(got.Expiry.Sub(nowOf(s.clock)) / time.Second)
			out.Expiry, out.ExpiresIn = &e, &left
		}
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case o.header:
		return c.printCredential(s, got)
	}
	fmt.Fprintln(c.out, got.AccessToken)
	return nil
}

// tokenTypeOf is tok's type as the service uses it: "Bearer" unless the
// token says otherwise.
func tokenTypeOf(tok *videoauth.Token) string {
	if tok.TokenType == "" {
		return "Bearer"
	}
	return tok.TokenType
}

// printCredential prints how the service takes tok: whatever the
// provider's Authorize adds to a request to the API, less the headers it
// adds for other reasons (Accept, User-Agent). Headers go to standard
// output one a line, a query parameter too, with a note on standard error
// saying where it goes; parameters the service wants on every request that
// carry no secret (Simkl's client_id, app-name, app-version) are named on
// standard error.
func (c *cli) printCredential(s *session, tok *videoauth.Token) error {
	req, err := http.NewRequest(http.MethodGet, s.apiBase()+"/", nil)
	if err != nil {
		return err
	}
	if s.isVikiSession(tok) {
		return usageErr("Make the request with `videoauth curl viki /v5/…`, which signs it.",
			"a Viki v5 session goes in the token query parameter of a request signed with the app secret, a signature for each request: no header carries it")
	}
	if err := s.provider().Authorize(req, tok); err != nil {
		return explain(s.name, err)
	}
	var names []string
	for k := range req.Header {
		if k != "Accept" && k != "User-Agent" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range req.Header[k] {
			fmt.Fprintf(c.out, "%s: %s\n", k, v)
		}
	}
	var carries, others []string
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			p := url.Values{k: {v}}.Encode()
			if strings.Contains(v, tok.AccessToken) {
				carries = append(carries, p)
			} else {
				others = append(others, p)
			}
		}
	}
	slices.Sort(others)
	for _, p := range carries {
		fmt.Fprintln(c.out, p)
	}
	if len(carries) > 0 {
		fmt.Fprintf(c.err, "note: %s takes the token in the URL's query, not in a header: add %s (printed above) to the URL's query. "+
			"URLs are logged by proxies and servers: keep such a URL private.\n", s.name, strings.Join(paramNames(carries), ", "))
	}
	if len(others) > 0 {
		fmt.Fprintf(c.err, "note: %s also wants these query parameters on every request: ?%s\n", s.name, strings.Join(others, "&"))
	}
	return nil
}

// paramNames are the names of query parameters given as name=value.
func paramNames(params []string) []string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i], _, _ = strings.Cut(p, "=")
	}
	return out
}

// fresh returns the Source of the stored grant tok and a token from it,
// valid for at least minValid when the grant can be renewed, else tok itself
// while it lasts (with a warning when it will not last minValid).
func (c *cli) fresh(ctx context.Context, s *session, tok *videoauth.Token, minValid time.Duration) (*videoauth.Source, *videoauth.Token, error) {
	src := s.source(tok)
	now := nowOf(s.clock)
	if !tok.Valid(now.Add(minValid)) {
		switch {
		case s.renewable(tok):
			src.Invalidate(tok)
		case tok.Valid(now):
			fmt.Fprintf(c.err, "warning: the %s token expires in %s and cannot be renewed without signing in again (`videoauth login %s`).\n",
				s.name, tok.Expiry.Sub(now).Round(time.Second), s.name)
		default:
			return nil, nil, &cliError{code: exitSignIn, msg: "the stored " + s.name + " token has expired",
				hint: "Sign in again: `videoauth login " + s.name + "`."}
		}
	}
	got, err := src.Token(ctx)
	if err != nil {
		return nil, nil, explain(s.name, err)
	}
	return src, got, nil
}

// nowOf reads clock, or the real time when it is nil.
func nowOf(clock videoauth.Clock) time.Time {
	if clock == nil {
		return time.Now()
	}
	return clock.Now()
}
