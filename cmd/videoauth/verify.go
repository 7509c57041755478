package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

func (c *cli) verifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify <service>",
		Short: "Check with the service that the stored grant works",
		Long: `Ask the service whether the stored token works, with one cheap
authenticated request (Vimeo: GET /oauth/verify; Simkl: GET /users/settings;
Viki: GET /v3/users/<id>.json or /v3/movies.json), and show the account the
service names in its answer. An expired token is renewed first when its
grant allows. Exits 0 when the service accepts it and
4 when the grant is gone.`,
		RunE: func(cmd *cobra.Command, args []string) error { return c.verify(cmd.Context(), args[0]) },
	}
	serviceArg(cmd)
	return cmd
}

// probePath is the cheap request that proves a token works.
func probePath(s *session, tok *videoauth.Token) string {
	switch {
	case s.vimeo != nil:
		return "/oauth/verify"
	case s.simkl != nil:
		return "/users/settings"
	case tok.UserID != "":
		return "/v3/users/" + tok.UserID + ".json"
	}
	return "/v3/movies.json"
}

func (c *cli) verify(ctx context.Context, name string) error {
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	src, _, err := c.fresh(ctx, s, tok, 0)
	if err != nil {
		return err
	}
	path := probePath(s, tok)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.apiBase()+path, nil)
	if err != nil {
		return err
	}
	resp, err := videoauth.NewClient(s.provider(), src).Do(req)
	if err != nil {
		return explain(name, unwrapURLError(err))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err := videoauth.CheckResponse(s.provider(), resp); err != nil {
		return explain(name, err)
	}
	cur := src.Current()
	renewed := ""
	if cur != nil && cur.AccessToken != tok.AccessToken {
		renewed = " (renewed)"
	}
	if cur == nil {
		cur = tok
	}
	fmt.Fprintf(c.out, "%s: the token works%s: GET %s answered %s.\n", name, renewed, path, resp.Status)
	if who := whoOf(name, body); who != "" {
		fmt.Fprintf(c.out, "  account: %s\n", who)
	}
	fmt.Fprintf(c.out, "  grant:   %s\n  expires: %s\n", grantKind(name, cur), expiryText(cur, nowOf(s.clock)))
	if len(cur.Scopes) > 0 {
		fmt.Fprintf(c.out, "  scopes:  %s\n", joinScopes(cur.Scopes))
	}
	return nil
}
