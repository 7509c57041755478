package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cli/browser"
	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

// A grant given with login --with-token is marked in Token.Meta: the tool
// did not mint it, so it never renews it (nor mints another in its place).
const (
	metaGrant   = "videoauth_grant"
	grantPasted = "token"
)

// loginOptions are the flags of `videoauth login`.
type loginOptions struct {
	device, client, password, facebook bool
	withToken                          bool // read a token from standard input
	session                            bool // viki: a v5 session, not a v3 token
	username                           string
	noBrowser                          bool
	timeout                            time.Duration
	port                               int    // the browser flow's loopback port; 0: any
	redirectURI                        string // or the whole redirect URI registered
	replace                            bool
}

func (c *cli) loginCmd() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login <service>",
		Short: "Sign in to a service and store the token",
		Long: `Sign in to vimeo, simkl, viki, twitch, dailymotion, youtube or trakt and
store the token for the other commands.

Flows:
  (default)    the browser: videoauth listens on 127.0.0.1 for the service's
               redirect (vimeo, simkl, twitch, dailymotion, youtube; trakt,
               with its registered redirect: --port or --redirect-uri)
  --device     a code to enter on any device, shown with a QR code
               (vimeo, simkl V2, twitch, trakt, youtube with a "TVs and Limited
               Input devices" client; simkl V1: the PIN flow)
  --client     an app-only token from client credentials (vimeo, viki,
               twitch; dailymotion: the private API key's, on API v2 or
               the partner API)
  --password   a user's username and password; the password is read
               without echo (viki; dailymotion, which discourages it: for
               existing integrations only)
  --facebook   a Viki user's Facebook access token, read without echo (viki)
  --session    with --password (the default) or --facebook: a session of
               Viki's current v4/v5 API instead of a v3 token (viki; needs
               the v4/v5 app id and secret: videoauth help config)
  --with-token an access token you already have (a Vimeo personal access
               token, say), read from standard input; the service is asked
               whose it is before it is stored, and it is never renewed

The browser flow listens on 127.0.0.1 on any free port, which services that
follow RFC 8252 accept; for an app registered with a fixed redirect, give
its port (--port) or the whole URI (--redirect-uri).

Signing in again to an account replaces its grant. A sign-in never replaces
the grant of someone else (another user, or an app token where a user signs
in): the new grant is stored as an account of its own, named after the user
id, and becomes the default unless --account was given; --replace replaces.`,
		Example: `  videoauth login vimeo --scopes public,private
  videoauth login simkl --device
  videoauth login viki --password --username fan@example.com
  videoauth login viki --session --username fan@example.com
  videoauth login vimeo --client --account app
  videoauth login twitch --device --scopes user:read:email
  videoauth login dailymotion --client
  echo "$VIMEO_TOKEN" | videoauth login vimeo --with-token
  videoauth login vimeo --redirect-uri http://127.0.0.1:8080/callback
  videoauth --sandbox login vimeo`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd, c.flags.Generation); err != nil {
				return err
			}
			return c.login(cmd.Context(), args[0], o)
		},
	}
	serviceArg(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.device, "device", false, "sign in with a code entered on another device (device or PIN flow)")
	f.BoolVar(&o.client, "client", false, "get an app-only token with the client credentials")
	f.BoolVar(&o.password, "password", false, "viki: sign in with a username and password")
	f.BoolVar(&o.facebook, "facebook", false, "viki: sign in with a Facebook access token")
	f.BoolVar(&o.session, "session", false, "viki: a session of the v4/v5 API (with --password, the default, or --facebook)")
	f.BoolVar(&o.withToken, "with-token", false, "store an access token read from standard input, after asking the service whose it is")
	f.StringVar(&o.username, "username", "", "viki, dailymotion: the username for --password or --session (asked for when missing)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in URL instead of opening the browser")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long the browser flow waits for the redirect")
	f.IntVar(&o.port, "port", 0, "the browser flow: listen on this loopback port, for an app registered with a fixed one")
	f.StringVar(&o.redirectURI, "redirect-uri", "", "the browser flow: the app's registered redirect URI, http://127.0.0.1:PORT/PATH")
	f.StringSliceVar(&c.flags.Scopes, "scopes", nil, "scopes to ask for, comma separated (default: the service's or the config's)")
	f.StringVar(&c.flags.Generation, "generation", "", "simkl: the auth generation of the app, v2 (default) or v1")
	f.BoolVar(&o.replace, "replace", false, "replace the account's stored grant even when it is someone else's, or a file that is no token of this service, without asking")
	return cmd
}

// loginFlows are the flags that choose how login signs in: one at most
// (--session goes with --password or --facebook).
var loginFlows = []string{"device", "client", "password", "facebook", "with-token"}

// check refuses a combination of flags that cannot be meant, before
// anything else happens.
func (o loginOptions) check(cmd *cobra.Command, gen string) error {
	var set []string
	for _, f := range loginFlows {
		if cmd.Flags().Changed(f) {
			set = append(set, "--"+f)
		}
	}
	if len(set) > 1 {
		return usageErr("Choose one way to sign in: --"+strings.Join(loginFlows, ", --")+", or none for the browser (`videoauth login --help`).",
			"%s cannot be used together", strings.Join(set, " and "))
	}
	if gen != "" {
		if _, err := generation(gen); err != nil {
			return usageErr("Use --generation v2 (the default) or v1.", "unknown Simkl generation %q", gen)
		}
	}
	if o.timeout <= 0 {
		return usageErr("Give a duration such as 5m or 90s.", "--timeout %s is not a positive duration", o.timeout)
	}
	if o.username != "" && !o.password && !(o.session && !o.facebook) {
		return usageErr("Add --password: --username is the username of that flow.", "--username works only with --password")
	}
	if o.session && (o.device || o.client || o.withToken) {
		return usageErr("--session signs a Viki user in to the v4/v5 API with --password (the default) or --facebook; the v4/v5 API needs no token for app requests.",
			"--session works only with --password or --facebook")
	}
	browser := !o.device && !o.client && !o.password && !o.facebook && !o.withToken && !o.session
	if (o.port != 0 || o.redirectURI != "") && !browser {
		return usageErr("--port and --redirect-uri are for the browser sign-in: drop them, or the other flow's flag.", "--port and --redirect-uri work only with the browser sign-in")
	}
	if o.port < 0 || o.port > 65535 {
		return usageErr("Give the port of the app's registered redirect URI, 1 to 65535.", "--port %d is not a port", o.port)
	}
	if o.redirectURI != "" {
		if _, _, err := loopbackRedirect(o.redirectURI, o.port); err != nil {
			return err
		}
	}
	return nil
}

// loopbackRedirect reads a redirect URI registered for the loopback flow:
// http on 127.0.0.1 (RFC 8252 §7.3, §8.3: the address literal, not
// "localhost", which may resolve elsewhere and which the listener does not
// use), a port (80 when none is written), a path, nothing else. port, when
// not 0, must be the URI's.
func loopbackRedirect(raw string, port int) (int, string, error) {
	u, err := url.Parse(raw)
	hint := "Give the redirect URI registered for the app, as http://127.0.0.1:PORT/PATH (RFC 8252: the loopback address, plain http)."
	switch {
	case err != nil:
		return 0, "", usageErr(hint, "--redirect-uri %q is not a URL", shown(raw))
	case u.Scheme != "http":
		return 0, "", usageErr(hint, "--redirect-uri must be plain http on 127.0.0.1, not %q", shown(u.Scheme))
	case u.Hostname() == "localhost":
		return 0, "", usageErr("Register http://127.0.0.1:"+u.Port()+u.Path+" for the app instead (RFC 8252 §8.3): videoauth listens on the address, which is what the service must redirect to.",
			"--redirect-uri names localhost; videoauth listens on 127.0.0.1")
	case u.Hostname() != "127.0.0.1":
		return 0, "", usageErr(hint, "--redirect-uri must be on 127.0.0.1, not %q", shown(u.Hostname()))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return 0, "", usageErr(hint, "--redirect-uri has more than a host, port and path")
	}
	p := 80
	if u.Port() != "" {
		p, err = strconv.Atoi(u.Port())
		if err != nil || p < 1 || p > 65535 {
			return 0, "", usageErr(hint, "--redirect-uri has no valid port")
		}
	}
	if port != 0 && port != p {
		return 0, "", usageErr("Give one of them, or the same port in both.", "--port %d and --redirect-uri's port %d differ", port, p)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return p, path, nil
}

func (c *cli) login(ctx context.Context, name string, o loginOptions) error {
	s, err := c.open(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	if s.name == "viki" {
		switch {
		case o.session:
			err = s.needSigned()
		case o.client || o.password || o.facebook || o.withToken:
			err = s.needV3()
		}
		if err != nil {
			return err
		}
	}
	if s.name == "youtube" {
		// A grant of the device client: only that client refreshes it. A
		// token given is asked about with whichever client there is.
		s.tv = o.device || o.withToken && s.youtube == nil && s.youtubeTV != nil
		if err := s.needYouTube(s.tv); err != nil {
			return err
		}
	}
	if s.name == "dailymotion" {
		if o.client {
			err = s.needPrivate()
			s.private = true // the private key's API: binding.go
		} else {
			err = s.needPublic()
		}
		if err != nil {
			return err
		}
	}
	old, replace, err := c.checkSlot(ctx, s, o)
	if err != nil {
		return err
	}
	if s.name == "youtube" && old != nil && old.Meta[metaClient] == "" && !o.replace {
		s.held = old
	}
	var tok *videoauth.Token
	switch {
	case o.withToken:
		tok, err = c.loginWithToken(ctx, s)
	case o.client:
		tok, err = c.loginClient(ctx, s)
	case o.session:
		tok, err = c.loginSession(ctx, s, o)
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
	if s.tv {
		tok.Meta[metaClient] = clientTV
	}
	if tok.UserID == "" && (s.simkl != nil || s.name == "youtube" || s.trakt != nil || s.twitch != nil && tok.Meta["twitch_token"] == "user") {
		c.identify(ctx, s, tok)
	}
	if h := s.held; h != nil && h.RefreshToken != "" && tok.RefreshToken == h.RefreshToken && h.UserID != "" && tok.UserID != "" && tok.UserID != h.UserID {
		// Google showed no consent, so it sent no refresh token, and the
		// one kept is the account's: another Google account's.
		return &cliError{code: exitDenied, msg: "you signed in to another Google account than the youtube account " + describeAccount(name, s.account, h) + " holds; nothing was stored",
			hint: "Sign that Google account in as an account of its own: `videoauth login youtube --account NAME`, or replace this one with `videoauth login youtube --replace`."}
	}
	// Another account's grant is never replaced without --replace: the new
	// grant goes to an account of its own (accounts.go).
	kept, keptAccount := old, s.account
	if old == nil || o.replace || sameAccount(name, old, tok) {
		kept = nil
	} else {
		s.account = accountNameFor(ctx, s.store, name, tok)
		s.key = storeKey(name, s.account)
		replace = false
	}
	if err := save(ctx, s, tok, replace); err != nil {
		return err
	}
	def, err := c.recordDefault(ctx, s, kept != nil && c.accountName == "")
	if err != nil {
		return err
	}
	as := ""
	if s.account != defaultAccount {
		as = fmt.Sprintf(" as account %q", s.account)
	}
	fmt.Fprintf(c.err, "Signed in to %s%s%s %s\n", name, as, describeGrant(name, tok), c.storedWhere())
	switch {
	case kept != nil && def == s.account:
		fmt.Fprintf(c.err, "The %s account %s holds another grant: it was kept, and the new account is the default now (`videoauth switch %s %s` goes back; `--account %s` uses it for one command). `--replace` signs in over an account's grant instead.\n",
			name, describeAccount(name, keptAccount, kept), name, keptAccount, keptAccount)
	case kept != nil:
		fmt.Fprintf(c.err, "The %s account %s holds another grant: it was kept. `--account %s` uses the new account; `videoauth switch %s %s` makes it the default. `--replace` signs in over an account's grant instead.\n",
			name, describeAccount(name, keptAccount, kept), s.account, name, s.account)
	}
	return nil
}

// identify asks the service whose tok is, when the grant did not say
// (Simkl, Twitch), so that the account is known: who it is tells one
// account from another. It is best effort: without an answer the account is
// unknown, as before.
func (c *cli) identify(ctx context.Context, s *session, tok *videoauth.Token) {
	p, ok := s.provider().(videoauth.Identifier)
	if !ok {
		return
	}
	id, err := p.Identify(ctx, tok)
	if err == nil && id != nil && id.UserID != "" && printable(id.UserID) {
		tok.UserID = id.UserID
	}
}

// recordDefault makes s's account the service's default when switchTo
// says (a sign-in without --account that went to an account of its own),
// or when the service has none (none chosen, or the chosen one gone, and
// no account named "default"), and returns the default account.
func (c *cli) recordDefault(ctx context.Context, s *session, switchTo bool) (string, error) {
	accounts, err := accountsOf(ctx, s.store, s.name)
	if err != nil {
		return "", err
	}
	p := c.loadPrefs()
	if !switchTo && (p.Default[s.name] != "" && slices.Contains(accounts, p.Default[s.name]) || slices.Contains(accounts, defaultAccount) || len(accounts) <= 1) {
		return defaultOf(p, s.name, accounts), nil
	}
	p.Default[s.name] = s.account
	return s.account, c.savePrefs(p)
}

// loginWithToken stores a token the user already has, read from standard
// input (without echo on a terminal). The service is asked whose it is
// (Identify) before anything is stored: a token it rejects is refused, and
// the account is known.
func (c *cli) loginWithToken(ctx context.Context, s *session) (*videoauth.Token, error) {
	p := newPrompter(c.in, c.err)
	var raw string
	var err error
	if isTerminal(c.in) {
		raw, err = p.secret(ctx, "Paste the "+s.name+" access token: ")
	} else {
		raw, err = p.readLine(ctx)
	}
	raw = strings.TrimSpace(raw)
	pipe := "Pipe it on standard input: `printenv TOKEN | videoauth login " + s.name + " --with-token`."
	switch {
	case err != nil && !isUsage(err):
		return nil, err
	case err != nil || raw == "":
		return nil, usageErr(pipe, "no token on standard input")
	case strings.ContainsAny(raw, " \t") || !printable(raw):
		return nil, usageErr(pipe+" Only the token: no header name, no \"Bearer\".", "what standard input holds is not one token")
	}
	tok := &videoauth.Token{Provider: s.name, AccessToken: raw, TokenType: "Bearer", Meta: map[string]string{metaGrant: grantPasted}}
	who, _ := s.provider().(videoauth.Identifier)
	if s.simkl != nil {
		tok.Meta["simkl_auth"] = s.simkl.Generation().String()
	}
	if s.sb != nil {
		fmt.Fprintln(c.err, "Sandbox: the fake takes any token as its user's; add --sandbox-scenario revoke to see one it rejects.")
		s.sb.acceptGiven(s.name, tok)
	}
	id, err := who.Identify(ctx, tok)
	if errors.Is(err, videoauth.ErrReauthRequired) || errors.Is(err, videoauth.ErrTokenExpired) {
		hint := "Check the token, or sign in instead: `videoauth login " + s.name + "`."
		if s.simkl != nil {
			hint = "Check the token (for a Simkl V1 token, add --generation v1), or sign in instead: `videoauth login simkl`."
		}
		return nil, &cliError{code: exitSignIn, err: err, msg: s.name + " rejected the token; nothing was stored", hint: hint}
	}
	if err != nil {
		return nil, err
	}
	if id != nil && printable(id.UserID) {
		tok.UserID = id.UserID
	}
	return tok, nil
}

// isUsage reports whether err is a usage error of the tool's.
func isUsage(err error) bool {
	var ce *cliError
	return errors.As(err, &ce) && ce.code == exitUsage
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
	case s.twitch != nil && s.set.ClientSecret == "":
		return nil, twitchPublic("--client")
	case s.twitch != nil:
		return s.twitch.ClientCredentials().Token(ctx)
	case s.dmPrivate != nil:
		tok, err := s.dmPrivate.ClientCredentials(s.set.Scopes...).Token(ctx)
		if errors.Is(err, videoauth.ErrInvalidClient) {
			return nil, &cliError{code: exitConfig, err: err, msg: "dailymotion rejected the private key or its secret",
				hint: "Check them (" + envName("dailymotion", "PRIVATE_KEY") + ", " + envName("dailymotion", "PRIVATE_SECRET") + " or the config file)."}
		}
		return tok, err
	}
	return nil, notOffered(s.name, "client-credentials")
}

func (c *cli) loginPassword(ctx context.Context, s *session, o loginOptions) (*videoauth.Token, error) {
	if s.name == "dailymotion" {
		if o.facebook {
			return nil, notOffered(s.name, "Facebook")
		}
		return c.loginDailymotionPassword(ctx, s, o)
	}
	if s.viki == nil {
		return nil, notOffered(s.name, "password")
	}
	creds, err := c.vikiCredentials(ctx, s, o)
	if err != nil {
		return nil, err
	}
	tok, err := s.viki.Password(ctx, creds)
	return tok, facebookRefused(err, o, "")
}

// facebookRefused is the error of a Viki sign-in with a Facebook token
// that Viki refused: about the token, not a username or password.
func facebookRefused(err error, o loginOptions, flags string) error {
	if o.facebook && errors.Is(err, videoauth.ErrInvalidCredentials) {
		return &cliError{code: exitDenied, err: err, msg: "viki rejected the Facebook access token",
			hint: "Get a new Facebook access token and run `videoauth login viki" + flags + " --facebook` again."}
	}
	return err
}

// vikiCredentials asks for a Viki user's credentials, as --password or
// --facebook says. In the sandbox it says which the fake takes, never
// showing its Facebook token: pressing Enter uses it.
func (c *cli) vikiCredentials(ctx context.Context, s *session, o loginOptions) (videoauth.VikiCredentials, error) {
	p := newPrompter(c.in, c.err)
	var creds videoauth.VikiCredentials
	var err error
	switch {
	case s.sb != nil && o.facebook:
		fmt.Fprintln(c.err, "Sandbox: press Enter to sign in with the fake Viki's own Facebook token; any other token is refused.")
	case s.sb != nil:
		u, pw := s.sb.vikiUser()
		fmt.Fprintf(c.err, "Sandbox: the fake Viki's user is %q with password %q.\n", u, pw)
	}
	if o.facebook {
		creds.FacebookToken, err = p.secret(ctx, "Facebook access token: ")
		if err == nil && creds.FacebookToken == "" {
			if s.sb == nil {
				return creds, usageErr("Paste the Facebook access token at the prompt, or pipe it on standard input.", "no Facebook access token given")
			}
			creds.FacebookToken = s.sb.vikiFacebookToken()
		}
	} else {
		creds.Username = o.username
		if creds.Username == "" {
			if creds.Username, err = p.line(ctx, "Viki username: "); err != nil {
				return creds, err
			}
		}
		creds.Password, err = p.secret(ctx, "Password: ")
	}
	return creds, err
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
	case s.trakt != nil:
		dc, err = s.trakt.Device(ctx)
	case s.twitch != nil:
		dc, err = s.twitch.Device(ctx, s.set.Scopes...)
	case s.youtubeTV != nil:
		dc, err = s.youtubeTV.Device(ctx, s.set.Scopes...)
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
	if s.simkl != nil && s.simkl.Generation() == videoauth.SimklV1 && s.sb != nil && s.sb.scenario == scenarioDeny {
		fmt.Fprintf(c.err, "Sandbox: a Simkl V1 PIN cannot be denied, only left to expire; time runs %d times faster here, so it does in seconds.\n", s.sb.speed)
	}
	screen := &deviceScreen{w: c.err, tty: isTerminal(c.err), cols: termCols(c.err), service: s.name, dc: dc, clock: s.clock}
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
	case s.twitch != nil && s.set.ClientSecret == "":
		return nil, twitchPublic("the browser sign-in")
	case s.twitch != nil:
		flow = s.twitch
	case s.dailymotion != nil:
		flow = s.dailymotion
	case s.youtube != nil:
		flow = s.youtube.SignIn(s.held)
	case s.trakt != nil:
		flow = s.trakt
	default:
		return nil, notOffered(s.name, "browser")
	}
	timeout := o.timeout
	v1 := s.simkl != nil && s.simkl.Generation() == videoauth.SimklV1
	if v1 && s.sb != nil && s.sb.scenario == scenarioDeny {
		timeout = sandboxV1DenyTimeout
	}
	cfg := videoauth.LoopbackConfig{Timeout: timeout, Clock: s.clock, Port: o.port}
	if s.trakt != nil && s.sb != nil && o.port == 0 && o.redirectURI == "" {
		cfg.Port = s.sb.traktPort // the redirect the sandbox registered: Trakt compares it exactly
	}
	if o.redirectURI != "" {
		cfg.Port, cfg.Path, _ = loopbackRedirect(o.redirectURI, o.port) // checked with the flags
	}
	open := func(authURL string) error {
		if u, err := url.Parse(redirectOf(authURL)); (o.port != 0 || o.redirectURI != "") && (err != nil || u.Hostname() != "127.0.0.1") {
			// 127.0.0.1's port was taken, and the listener is on [::1]: not
			// the redirect registered.
			return &cliError{code: exitFailure, msg: fmt.Sprintf("cannot listen on 127.0.0.1:%d: another program uses the port", cfg.Port),
				hint: "Stop the program that listens there, or register another loopback port for the app and give it with --port."}
		}
		fmt.Fprintf(c.err, "Listening on %s for %s's redirect; waiting up to %s for you to approve (Ctrl-C to cancel).\n",
			redirectOf(authURL), s.name, timeout)
		if s.trakt != nil && s.sb == nil && o.port == 0 && o.redirectURI == "" {
			// Trakt compares the redirect URI byte for byte: a random port
			// matches nothing registered, and Trakt shows an error page
			// instead of coming back.
			fmt.Fprintf(c.err, "note: Trakt accepts only a redirect URI registered for the app, byte for byte; this one has a random port. Register http://127.0.0.1:PORT/callback and run `videoauth login trakt --port PORT`, or use `--device`.\n")
		}
		if v1 {
			// Simkl V1 redirects only on approval: a denial is silence.
			fmt.Fprintf(c.err, "Simkl V1 does not come back when the request is denied: if you deny it, press Ctrl-C, or videoauth gives up after %s.\n", timeout)
		}
		if v1 && s.sb != nil && s.sb.scenario == scenarioDeny {
			fmt.Fprintf(c.err, "Sandbox: the fake's user denies, so nothing comes back; the wait is cut to %s here (--timeout otherwise).\n", timeout)
		}
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
	cfg.Open = open
	tok, err := videoauth.Loopback(ctx, flow, cfg)
	if cfg.Port != 0 && errors.Is(err, syscall.EADDRINUSE) {
		return nil, &cliError{code: exitFailure, msg: fmt.Sprintf("cannot listen on 127.0.0.1:%d: another program uses the port", cfg.Port),
			hint: "Stop the program that listens there, or register another loopback port for the app and give it with --port."}
	}
	if v1 && errors.Is(err, videoauth.ErrAccessDenied) {
		var svcErr *videoauth.Error
		if !errors.As(err, &svcErr) { // the wait ran out
			return nil, &cliError{code: exitExpired, msg: fmt.Sprintf("no answer from simkl within %s", timeout),
				hint: "Simkl V1 sends nothing back when the request is denied, so this may be a denial. Nothing was stored. Run `videoauth login simkl` again and approve, or use `--device`."}
		}
	}
	return tok, err
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

// checkSlot runs before a sign-in: what the store holds where the new grant
// will go must be replaceable, and the directory writable, or the user
// would sign in for a token that cannot be kept. A file that is not a
// token of this service (corrupt, or another service's) is replaced only
// with --replace or once the user, at a terminal, confirms; replace
// reports that it is to be removed first (Save refuses to overwrite it).
//
// old is the grant stored there, if any: login compares the new grant
// with it.
func (c *cli) checkSlot(ctx context.Context, s *session, o loginOptions) (old *videoauth.Token, replace bool, err error) {
	old, err = loadGrant(ctx, s.store, s.name, s.key)
	var ce *cliError
	switch {
	case err == nil, errors.Is(err, videoauth.ErrNotStored):
	case errors.As(err, &ce) && ce.code == exitSignIn: // corrupt or foreign
		if !o.replace && !c.confirm(ctx, "videoauth: "+ce.msg+".\nReplace it with the new sign-in? [y/N] ") {
			return nil, false, ce
		}
		replace = true
	default:
		return nil, false, err
	}
	return old, replace, checkWritable(s.store)
}

// confirm asks a yes/no question when both standard input and error are a
// terminal; otherwise, and on anything but yes, the answer is no.
func (c *cli) confirm(ctx context.Context, question string) bool {
	if !isTerminal(c.in) || !isTerminal(c.err) {
		return false
	}
	answer, err := newPrompter(c.in, c.err).line(ctx, question)
	a := strings.ToLower(strings.TrimSpace(answer))
	return err == nil && (a == "y" || a == "yes")
}

// save stores tok as the service's grant, under the store's lock so a
// renewal running in another process cannot overwrite the new sign-in with
// the old grant. With replace, the file there (which checkSlot found is no
// token of this service) is removed first.
func save(ctx context.Context, s *session, tok *videoauth.Token, replace bool) error {
	unlock, err := s.store.Lock(ctx, s.key)
	if err != nil {
		return storeErr(s.store, s.name, s.key, err)
	}
	if replace {
		err = s.store.Delete(ctx, s.key)
	}
	if err == nil {
		err = s.store.Save(ctx, s.key, tok)
	}
	if uerr := unlock(); err == nil && uerr != nil {
		err = uerr
	}
	if err != nil {
		return storeErr(s.store, s.name, s.key, err)
	}
	return nil
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

// loginSession signs a Viki user in to the v4/v5 API: a v5 session
// (VikiAPI.Login), with a username and password, or a Facebook token.
// The session is stored; the credentials are not, so an expired session
// is a sign-in to do again.
func (c *cli) loginSession(ctx context.Context, s *session, o loginOptions) (*videoauth.Token, error) {
	if s.name != "viki" {
		return nil, notOffered(s.name, "session")
	}
	creds, err := c.vikiCredentials(ctx, s, o)
	if err != nil {
		return nil, err
	}
	tok, err := s.vikiAPI.Login(ctx, creds)
	if err == nil {
		s.signed = true // bound to the v4/v5 API (binding.go)
	}
	if !o.facebook && errors.Is(err, videoauth.ErrInvalidCredentials) {
		return nil, &cliError{code: exitDenied, err: err, msg: "viki rejected the username or password",
			hint: "Check them and run `videoauth login viki --session` again."}
	}
	return tok, facebookRefused(err, o, " --session")
}

// loginDailymotionPassword signs a Dailymotion user in with the password
// grant of the public key: Dailymotion's SDKs call it highly discouraged and
// RFC 9700 §2.4 says it must not be used, so the tool offers it only when
// asked by name (--password), and says so. The password is read without
// echo and not kept.
func (c *cli) loginDailymotionPassword(ctx context.Context, s *session, o loginOptions) (*videoauth.Token, error) {
	fmt.Fprintln(c.err, "note: Dailymotion discourages the password grant (use it for an existing integration only); the browser sign-in, `videoauth login dailymotion`, is the one to prefer.")
	if s.sb != nil {
		u, pw := s.sb.dailymotionUser()
		fmt.Fprintf(c.err, "Sandbox: the fake Dailymotion's user is %q with password %q.\n", u, pw)
	}
	p := newPrompter(c.in, c.err)
	username := o.username
	var err error
	if username == "" {
		if username, err = p.line(ctx, "Dailymotion username: "); err != nil {
			return nil, err
		}
	}
	password, err := p.secret(ctx, "Password: ")
	if err != nil {
		return nil, err
	}
	return s.dailymotion.Password(ctx, username, password, s.set.Scopes...)
}

// twitchPublic is the error of a flow a Twitch public client (an app
// without a client secret) cannot use: Twitch lets it use the device flow
// only.
func twitchPublic(flow string) error {
	return usageErr("Sign in with `videoauth login twitch --device`, or give the app's client secret ("+envName("twitch", "CLIENT_SECRET")+" or the config file) if it is a confidential client.",
		"a Twitch app without a client secret is a public client, which cannot use %s", flow)
}
