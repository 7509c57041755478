package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cli/browser"
	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

// loginOptions are the flags of `videoauth login`.
type loginOptions struct {
	device, client, password, facebook bool
	username                           string
	noBrowser                          bool
	timeout                            time.Duration
}

func (c *cli) loginCmd() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login <service>",
		Short: "Sign in to a service and store the token",
		Long: `Sign in to vimeo, simkl or viki and store the token for the other commands.

Flows:
  (default)    the browser: videoauth listens on 127.0.0.1 for the service's
               redirect (vimeo, simkl)
  --device     a code to enter on any device, shown with a QR code
               (vimeo, simkl V2; simkl V1: the PIN flow)
  --client     an app-only token from client credentials (vimeo, viki)
  --password   a Viki user's username and password; the password is read
               without echo (viki)
  --facebook   a Viki user's Facebook access token, read without echo (viki)

Signing in again replaces the stored grant.`,
		Example: `  videoauth login vimeo --scopes public,private
  videoauth login simkl --device
  videoauth login viki --password --username fan@example.com
  videoauth --sandbox login vimeo`,
		RunE: func(cmd *cobra.Command, args []string) error { return c.login(cmd.Context(), args[0], o) },
	}
	serviceArg(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.device, "device", false, "sign in with a code entered on another device (device or PIN flow)")
	f.BoolVar(&o.client, "client", false, "get an app-only token with the client credentials")
	f.BoolVar(&o.password, "password", false, "viki: sign in with a username and password")
	f.BoolVar(&o.facebook, "facebook", false, "viki: sign in with a Facebook access token")
	f.StringVar(&o.username, "username", "", "viki: the username for --password (asked for when missing)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL instead of opening the browser")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long the browser flow waits for the redirect")
	f.StringSliceVar(&c.flags.Scopes, "scopes", nil, "scopes to ask for, comma separated (default: the service's or the config's)")
	f.StringVar(&c.flags.Generation, "generation", "", "simkl: the auth generation of the app, v2 (default) or v1")
	cmd.MarkFlagsMutuallyExclusive("device", "client", "password", "facebook")
	return cmd
}

func (c *cli) login(ctx context.Context, name string, o loginOptions) error {
	s, err := c.open(name)
	if err != nil {
		return err
	}
	defer s.close()
	var tok *videoauth.Token
	switch {
	case o.client:
		tok, err = c.loginClient(ctx, s)
	case o.password || o.facebook:
		tok, err = c.loginPassword(ctx, s, o)
	case o.device:
		tok, err = c.loginDevice(ctx, s)
	default:
		tok, err = c.loginBrowser(ctx, s, o)
	}
	if err != nil {
		return explain(name, err)
	}
	bind(tok, s.binding()) // the API it was minted against: binding.go
	if err := save(ctx, s, tok); err != nil {
		return err
	}
	fmt.Fprintf(c.err, "Signed in to %s%s %s\n", name, describeGrant(name, tok), c.storedWhere())
	return nil
}

// notOffered is the error for a flow the service does not have.
func notOffered(name, flow string) error {
	return usageErr(fmt.Sprintf("%s signs in with %s.", name, infoOf(name).flows), "%s has no %s sign-in", name, flow)
}

func (c *cli) loginClient(ctx context.Context, s *session) (*videoauth.Token, error) {
	switch {
	case s.vimeo != nil:
		return s.vimeo.ClientCredentials(s.set.Scopes...).Token(ctx)
	case s.viki != nil:
		return s.viki.ClientCredentials().Token(ctx)
	}
	return nil, notOffered(s.name, "client-credentials")
}

func (c *cli) loginPassword(ctx context.Context, s *session, o loginOptions) (*videoauth.Token, error) {
	if s.viki == nil {
		return nil, notOffered(s.name, "password")
	}
	p := newPrompter(c.in, c.err)
	var creds videoauth.VikiCredentials
	var err error
	if s.sb != nil {
		u, pw := s.sb.vikiUser()
		fmt.Fprintf(c.err, "Sandbox: the fake Viki's user is %q with password %q.\n", u, pw)
	}
	if o.facebook {
		creds.FacebookToken, err = p.secret(ctx, "Facebook access token: ")
	} else {
		creds.Username = o.username
		if creds.Username == "" {
			if creds.Username, err = p.line(ctx, "Viki username: "); err != nil {
				return nil, err
			}
		}
		creds.Password, err = p.secret(ctx, "Password: ")
	}
	if err != nil {
		return nil, err
	}
	return s.viki.Password(ctx, creds)
}

func (c *cli) loginDevice(ctx context.Context, s *session) (*videoauth.Token, error) {
	var dc *videoauth.DeviceCode
	var err error
	switch {
	case s.vimeo != nil:
		dc, err = s.vimeo.Device(ctx, s.set.Scopes...)
	case s.simkl != nil && s.simkl.Generation() == videoauth.SimklV1:
		dc, err = s.simkl.PIN(ctx)
	case s.simkl != nil:
		dc, err = s.simkl.Device(ctx, s.set.Scopes...)
	default:
		return nil, notOffered(s.name, "device")
	}
	if errors.Is(err, videoauth.ErrBadVerificationURI) {
		// The library checked the page the user would be sent to (RFC 8628
		// §5.4): not https on the service's own host. It is neither printed
		// nor put in a QR code; the error quotes nothing of it.
		return nil, &cliError{code: exitFailure, err: err,
			msg:  s.name + " sent a verification URL that is not one of its own https pages; it is not shown",
			hint: "Nothing was stored. Do not sign in through a link from elsewhere. Try again later, or sign in in the browser: `videoauth login " + s.name + "`."}
	}
	if err != nil {
		return nil, err
	}
	// RFC 8628 §5.4: the user must see where they are sent, as the service
	// sent it; the tool will not alter it, nor pass control characters to
	// the terminal.
	if !printable(dc.UserCode) || !printable(dc.VerificationURI) || !printable(dc.VerificationURIComplete) {
		return nil, &cliError{code: exitFailure, msg: s.name + " sent a code or verification URL with control characters; it is not shown",
			hint: "Nothing was stored. Try again later, or sign in in the browser: `videoauth login " + s.name + "`."}
	}
	screen := &deviceScreen{w: c.err, tty: isTerminal(c.err), service: s.name, dc: dc, clock: s.clock}
	screen.show()
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.sb != nil {
		s.sb.answer(waitCtx, dc.UserCode)
	}
	tok, err := dc.Wait(waitCtx)
	screen.finish()
	return tok, err
}

func (c *cli) loginBrowser(ctx context.Context, s *session, o loginOptions) (*videoauth.Token, error) {
	var flow videoauth.CodeFlow
	switch {
	case s.vimeo != nil:
		flow = s.vimeo
	case s.simkl != nil:
		flow = s.simkl
	default:
		return nil, notOffered(s.name, "browser")
	}
	open := func(authURL string) error {
		fmt.Fprintf(c.err, "Listening on %s for %s's redirect; waiting up to %s for you to approve (Ctrl-C to cancel).\n",
			redirectOf(authURL), s.name, o.timeout)
		switch {
		case s.sb != nil:
			fmt.Fprintf(c.err, "Sandbox: the fake's consent page answers by itself.\n")
			return s.sb.openBrowser(ctx, authURL)
		case o.noBrowser:
			fmt.Fprintf(c.err, "Open this page in your browser to sign in to %s:\n\n    %s\n\n", s.name, authURL)
		default:
			fmt.Fprintf(c.err, "Opening %s's sign-in page in your browser. If it does not open, visit:\n\n    %s\n\n", s.name, authURL)
			if err := browser.OpenURL(authURL); err != nil {
				fmt.Fprintf(c.err, "(could not start a browser: %v)\n", err)
			}
		}
		return nil
	}
	return videoauth.Loopback(ctx, flow, videoauth.LoopbackConfig{Open: open, Timeout: o.timeout, Clock: s.clock})
}

// redirectOf is the redirect_uri an authorization URL names: where the
// loopback listener waits.
func redirectOf(authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		return "127.0.0.1"
	}
	if r := u.Query().Get("redirect_uri"); r != "" {
		return r
	}
	return "127.0.0.1"
}

// save stores tok as the service's grant, under the store's lock so a
// renewal running in another process cannot overwrite the new sign-in with
// the old grant.
func save(ctx context.Context, s *session, tok *videoauth.Token) error {
	unlock, err := s.store.Lock(ctx, s.name)
	if err != nil {
		return storeErr(err)
	}
	err = s.store.Save(ctx, s.name, tok)
	if uerr := unlock(); err == nil && uerr != nil {
		err = uerr
	}
	if err != nil {
		return storeErr(err)
	}
	return nil
}

func storeErr(err error) error {
	return &cliError{code: exitFailure, msg: "cannot store the token", err: err,
		hint: "Check that the videoauth directory is writable (`videoauth help config`)."}
}

// storedWhere says where tokens are kept.
func (c *cli) storedWhere() string {
	dir, err := c.tokenDir()
	if err != nil {
		return ""
	}
	return "The token is stored in " + dir + "."
}

// describeGrant summarises a grant for messages: who, which scopes, until
// when. It never includes a token.
func describeGrant(service string, tok *videoauth.Token) string {
	parts := []string{grantKind(service, tok) + " grant"}
	if id := shown(tok.UserID); id != "" {
		parts = append(parts, "user id "+id)
	}
	if s := joinScopes(tok.Scopes); s != "" {
		parts = append(parts, "scopes: "+s)
	}
	return ": " + strings.Join(parts, ", ") + "."
}
