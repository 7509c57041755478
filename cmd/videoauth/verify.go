package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

func (c *cli) verifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify <service>",
		Short: "Check with the service that the stored grant works",
		Long: `Ask the service whether the stored token works, with one cheap
authenticated request (Vimeo: GET /oauth/verify; Simkl: GET /users/settings;
Viki: GET /v3/users/<id>.json or /v3/movies.json, a v5 session GET
/v5/sessions/<session>.json; Twitch: GET /oauth2/validate; Dailymotion: GET
/auth, a private key GET /v2/me; YouTube: the user's channel; Trakt: GET /users/settings), and show the account the service names in its
answer. An expired token is renewed first when its grant allows. Exits 0
when the service accepts it and 4 when the grant is gone; --json prints the
answer as a JSON object (errors stay on standard error, with the exit code).`,
		RunE: func(cmd *cobra.Command, args []string) error { return c.verify(cmd.Context(), args[0], asJSON) },
	}
	serviceArg(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object: service, account, works, renewed, request, status, user_id, name, grant, expiry, scopes")
	return cmd
}

// verifyJSON is what verify --json prints. It has no field for a token.
type verifyJSON struct {
	Service string     `json:"service"`
	Account string     `json:"account"`
	Works   bool       `json:"works"`
	Renewed bool       `json:"renewed"`
	Request string     `json:"request"` // "GET /oauth/verify"
	Status  string     `json:"status"`  // "200 OK"
	UserID  string     `json:"user_id,omitempty"`
	Name    string     `json:"name,omitempty"` // the user's name, as the service shows it (cleaned for a terminal)
	Grant   string     `json:"grant"`
	Expiry  *time.Time `json:"expiry,omitempty"`
	Scopes  []string   `json:"scopes"`
}

// probePath is the cheap request that proves a token works: the one the
// library's Identify sends, or, for a Viki app token (which Viki v3 names
// no owner of, so Identify sends nothing), a public list.
func probePath(s *session, tok *videoauth.Token) string {
	switch {
	case s.signed: // the session itself is in the path: not shown
		return "/v5/sessions/<session>.json"
	case s.vimeo != nil:
		return "/oauth/verify"
	case s.simkl != nil, s.trakt != nil:
		return "/users/settings"
	case s.twitch != nil:
		return "/oauth2/validate"
	case s.private && s.dmPrivate.Endpoint() == videoauth.DailymotionPartner:
		return "/rest/auth"
	case s.private:
		return "/v2/me"
	case s.name == "dailymotion":
		return "/auth"
	case s.name == "youtube":
		return "/youtube/v3/channels?part=snippet&mine=true"
	case tok.UserID != "":
		return "/v3/users/" + tok.UserID + ".json"
	}
	return "/v3/movies.json"
}

// identifiedStatus is the status line verify shows when Identify
// succeeded: Identify takes only a 2xx answer, and each service answers
// these requests with 200.
const identifiedStatus = "200 OK"

func (c *cli) verify(ctx context.Context, name string, asJSON bool) error {
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	src, cur, err := c.fresh(ctx, s, tok, 0)
	if err != nil {
		return err
	}
	path := probePath(s, cur)
	var id *videoauth.Identity
	status := identifiedStatus
	if path == "/v3/movies.json" {
		if status, err = c.probe(ctx, s, src, path); err != nil {
			return err
		}
	} else {
		id, cur, err = identify(ctx, s, src, cur)
		var e *videoauth.Error
		switch {
		case errors.Is(err, videoauth.ErrBadResponse) && errors.As(err, &e) && e.Status >= 200 && e.Status <= 299:
			// The service took the token; only its account is unreadable.
			status = fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
		case s.private && errors.Is(err, videoauth.ErrForbidden) && errors.As(err, &e) && e.Status == http.StatusForbidden:
			// Dailymotion took the key's token; the key only lacks the
			// permission that names its owner (account.read).
			status = fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
			fmt.Fprintln(c.err, "note: the private key lacks the account.read permission, so Dailymotion names no account; the token itself was accepted.")
		case err != nil && s.signed && errors.Is(err, videoauth.ErrReauthRequired):
			return &cliError{code: exitSignIn, err: err, msg: "the stored viki session has expired or was ended",
				hint: "Sign in again: `videoauth login viki --session`."}
		case err != nil:
			return explain(name, err)
		}
	}
	renewed := ""
	if now := src.Current(); now != nil && now.AccessToken != tok.AccessToken {
		renewed = " (renewed)"
		cur = now
	}
	if asJSON {
		out := verifyJSON{Service: name, Account: s.account, Works: true, Renewed: renewed != "", Request: "GET " + path, Status: status,
			UserID: shown(cur.UserID), Grant: grantKind(name, cur), Scopes: cur.Scopes}
		if id != nil {
			out.UserID, out.Name = shown(id.UserID), shown(id.Name)
		}
		if out.Scopes == nil {
			out.Scopes = []string{}
		}
		if !cur.Expiry.IsZero() {
			e := cur.Expiry.UTC()
			out.Expiry = &e
		}
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	fmt.Fprintf(c.out, "%s: the token works%s: GET %s answered %s.\n", name, renewed, path, status)
	if who := accountOf(id); who != "" {
		fmt.Fprintf(c.out, "  account: %s\n", who)
	}
	fmt.Fprintf(c.out, "  grant:   %s\n  expires: %s\n", grantKind(name, cur), expiryText(cur, nowOf(s.clock)))
	if len(cur.Scopes) > 0 {
		fmt.Fprintf(c.out, "  scopes:  %s\n", joinScopes(cur.Scopes))
	}
	return nil
}

// identify asks the service whose token cur is, with the library's
// Identify. A token the service rejects but the grant can replace
// (ErrTokenExpired) is replaced by src and asked about once more, as the
// Transport replays a request once; src answers ErrReauthRequired when it
// cannot replace it (nil src: no second try). It returns the token it
// asked with.
func identify(ctx context.Context, s *session, src *videoauth.Source, cur *videoauth.Token) (*videoauth.Identity, *videoauth.Token, error) {
	p, ok := s.provider().(videoauth.Identifier)
	if !ok {
		return nil, cur, fmt.Errorf("videoauth: %s cannot identify its tokens", s.name)
	}
	id, err := p.Identify(ctx, cur)
	if errors.Is(err, videoauth.ErrTokenExpired) && src != nil && src.Invalidate(cur) {
		next, terr := src.Token(ctx)
		if terr != nil {
			return nil, cur, terr
		}
		cur = next
		id, err = p.Identify(ctx, cur)
	}
	return id, cur, err
}

// probe sends GET path through the library's Transport (renewing and
// replaying once when the service rejects the token) and returns the
// answer's status line.
func (c *cli) probe(ctx context.Context, s *session, src *videoauth.Source, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.apiBase()+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := videoauth.NewClient(s.provider(), src).Do(req)
	if err != nil {
		return "", explain(s.name, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if err := videoauth.CheckResponse(s.provider(), resp); err != nil {
		return "", explain(s.name, err)
	}
	return resp.Status, nil
}
