package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

func (c *cli) tokenCmd() *cobra.Command {
	var minValid time.Duration
	cmd := &cobra.Command{
		Use:   "token <service>",
		Short: "Print a valid access token, renewing it when it can",
		Long: `Print the stored access token of a service on standard output, for use in
other commands. A token that expires within --min-valid is renewed first
when its grant allows (Simkl V2 refresh tokens, app tokens from client
credentials); otherwise signing in again is the way to a new one.`,
		Example: `  curl -H "Authorization: Bearer $(videoauth token vimeo)" https://api.vimeo.com/me`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.token(cmd.Context(), args[0], minValid)
		},
	}
	serviceArg(cmd)
	cmd.Flags().DurationVar(&minValid, "min-valid", 5*time.Minute, "renew a token that expires sooner than this")
	return cmd
}

func (c *cli) token(ctx context.Context, name string, minValid time.Duration) error {
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	_, got, err := c.fresh(ctx, s, tok, minValid)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, got.AccessToken)
	return nil
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
