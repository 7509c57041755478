package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

// stdio are the streams a run reads and writes: the process's own in main,
// buffers or a pseudo-terminal in tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// cli is one run of the tool: its streams, environment and global flags.
type cli struct {
	stdio
	getenv  func(string) string
	version string

	sandbox    bool
	scenario   string
	configPath string
	flags      settings // --client-id, --client-secret, --scopes, --generation
	// accountName is --account: the account of the service a command
	// uses, "" for the service's default (accounts.go).
	accountName string

	trace io.Writer // curl -v: where the requests sent are shown (trace.go)
}

// run executes the command line args and returns the exit code. Errors are
// printed to io.err with the next step to take.
func run(ctx context.Context, args []string, io stdio, getenv func(string) string) int {
	c := &cli{stdio: io, getenv: getenv, version: version()}
	root := c.rootCmd()
	root.SetArgs(args)
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	ce := c.explainRun(cmd, err)
	if c.accountName != "" {
		ce.hint = withAccount(ce.hint, c.accountName)
	}
	if ce.msg != "" || ce.err != nil {
		fmt.Fprintln(io.err, "videoauth: "+ce.Error())
	}
	if ce.hint != "" {
		fmt.Fprintln(io.err, ce.hint)
	}
	return ce.code
}

// withAccount adds --account to the commands a hint suggests that act on
// one account (login, logout, revoke, token, verify and curl of a service),
// where the hint left it out: advice made without knowing the account
// (explain's) must not send the user to the default account.
func withAccount(hint, account string) string {
	var b strings.Builder
	for {
		i := strings.Index(hint, "`videoauth ")
		if i < 0 {
			b.WriteString(hint)
			return b.String()
		}
		j := strings.IndexByte(hint[i+1:], '`')
		if j < 0 {
			b.WriteString(hint)
			return b.String()
		}
		cmdline := hint[i+1 : i+1+j]
		b.WriteString(hint[:i+1])
		if f := strings.Fields(cmdline); len(f) >= 3 && slices.Contains([]string{"login", "logout", "revoke", "token", "verify", "curl"}, f[1]) &&
			slices.Contains(serviceNames, f[2]) && !strings.Contains(cmdline, "--account") && !strings.Contains(cmdline, "--all") {
			cmdline = strings.Join(f[:3], " ") + " --account " + account + strings.TrimPrefix(cmdline, strings.Join(f[:3], " "))
		}
		b.WriteString(cmdline + "`")
		hint = hint[i+1+j+1:]
	}
}

// explainRun types an error from cobra or from cmd.
func (c *cli) explainRun(cmd *cobra.Command, err error) *cliError {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce
	}
	// cobra's own errors: unknown command or flag, wrong argument count.
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command") || strings.Contains(msg, "flag") ||
		strings.Contains(msg, "arg(s)") || strings.Contains(msg, "argument") {
		path := "videoauth"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		return usageErr("Run `"+path+" --help` for usage.", "%s", msg)
	}
	return explain("", err)
}

// version is the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func (c *cli) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "videoauth",
		Short: "Sign in to Vimeo, Simkl, Viki, Twitch, Dailymotion, YouTube and Trakt and use their tokens from a terminal",
		Long: `videoauth signs in to Vimeo, Simkl, Viki, Twitch, Dailymotion, YouTube and
Trakt, keeps the tokens in a private store under your configuration
directory, renews them when it can, and hands them to curl or makes the
request itself.

  videoauth login vimeo                 sign in through the browser
  videoauth login simkl --device        or with a code, on any device
  videoauth token vimeo                 print a valid access token
  videoauth curl vimeo /me              an authenticated request
  videoauth list                        what is stored (never the tokens)

A service may hold several accounts (an app token next to users' grants):
--account NAME picks one for any command, and switch sets the default.

Add --sandbox to any command to run it against built-in fakes of the
services: no account, no network, consent approves itself.

` + exitCodesHelp(),
		Version:       c.version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErr("Run `"+cmd.CommandPath()+" --help` for usage.", "%s", err.Error())
	})
	// Every command checks the global flags, whether or not it starts a
	// sandbox: a misspelt scenario is a mistake wherever it is given.
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return c.checkGlobalFlags() }
	pf := root.PersistentFlags()
	pf.BoolVar(&c.sandbox, "sandbox", false, "run against built-in fakes of the services (no account, no network)")
	pf.StringVar(&c.scenario, "sandbox-scenario", "", "with --sandbox, what the fake does: `scenario` deny (refuse consent), expire (let device codes run out) or revoke (forget the stored grant)")
	pf.StringVar(&c.configPath, "config", "", "config file (default $VIDEOAUTH_CONFIG or config.json in the videoauth directory)")
	pf.StringVar(&c.flags.ClientID, "client-id", "", "the app's client id (overrides environment and config)")
	pf.StringVar(&c.flags.ClientSecret, "client-secret", "", "the app's client secret (visible in the process list: prefer the environment)")
	pf.StringVar(&c.accountName, "account", "", "the `account` of the service to use (default: the service's default account; see list and switch)")
	_ = root.RegisterFlagCompletionFunc("sandbox-scenario", cobra.FixedCompletions(scenarioNames, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("account", func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		service := ""
		if len(args) > 0 && slices.Contains(serviceNames, args[0]) {
			service = args[0]
		}
		return c.accountCompletions(cmd.Context(), service), cobra.ShellCompDirectiveNoFileComp
	})

	root.AddCommand(c.loginCmd(), c.tokenCmd(), c.curlCmd(), c.verifyCmd(), c.revokeCmd(), c.logoutCmd(), c.listCmd(), c.switchCmd(),
		&cobra.Command{Use: "config", Short: "Where credentials and tokens are kept", Long: configHelp})
	root.SetHelpCommand(helpCmd())
	// The completion command writes where the root writes when it is made.
	root.SetOut(c.out)
	root.SetErr(c.err)
	root.InitDefaultCompletionCmd()
	for _, sub := range root.Commands() {
		if sub.Name() == "completion" {
			strictCompletion(sub)
		}
	}
	return root
}

// checkGlobalFlags refuses a sandbox scenario that does not exist, or
// without --sandbox.
func (c *cli) checkGlobalFlags() error {
	if c.accountName != "" {
		if err := checkAccountName(c.accountName); err != nil {
			return err
		}
	}
	if c.scenario == "" {
		return nil
	}
	if !c.sandbox {
		return usageErr("Add --sandbox, or drop --sandbox-scenario.", "--sandbox-scenario works only with --sandbox")
	}
	if !slices.Contains(scenarioNames, c.scenario) {
		return usageErr("The scenarios are "+strings.Join(scenarioNames, ", ")+".", "unknown sandbox scenario %q", c.scenario)
	}
	return nil
}

// helpCmd is `videoauth help [topic]`, cobra's own but for an unknown
// topic, which is a usage error (exit 2), not a list of commands and
// success.
func helpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help shows the help of any command or topic: videoauth help <command>.",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var out []cobra.Completion
			for _, sub := range cmd.Root().Commands() {
				if (sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand()) && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, _, err := cmd.Root().Find(args)
			if target == nil || err != nil || (len(args) > 0 && target == cmd.Root()) {
				return usageErr("Run `videoauth --help` for the commands and help topics.", "unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}

// strictCompletion makes `videoauth completion` without a shell, or with
// one cobra cannot write a script for (tcsh), a usage error rather than
// help and success: a script that sources the output would get nothing.
func strictCompletion(cmd *cobra.Command) {
	shells := make([]string, 0, 4)
	for _, sub := range cmd.Commands() {
		shells = append(shells, sub.Name())
	}
	hint := "The shells are " + strings.Join(shells, ", ") + ": `videoauth completion bash`, for one."
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErr(hint, "completion needs a shell")
		}
		return usageErr(hint, "no completion script for %q", args[0])
	}
}

// serviceArg is the argument spec of commands taking one service.
func serviceArg(cmd *cobra.Command) {
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageErr("Usage: "+cmd.UseLine()+" (services: "+strings.Join(serviceNames, ", ")+")",
				"%s takes one service, got %d arguments", cmd.Name(), len(args))
		}
		return checkService(args[0])
	}
	cmd.ValidArgs = serviceNames
}

// dir is the videoauth directory; the sandbox keeps its tokens apart.
func (c *cli) tokenDir() (string, error) {
	d, err := defaultDir(c.getenv)
	if err != nil {
		return "", err
	}
	if c.sandbox {
		return filepath.Join(d, "sandbox", "tokens"), nil
	}
	return filepath.Join(d, "tokens"), nil
}

// openStore opens the FileStore of tokens.
func (c *cli) openStore() (*videoauth.FileStore, error) {
	dir, err := c.tokenDir()
	if err != nil {
		return nil, err
	}
	st, err := videoauth.NewFileStore(dir)
	if err != nil {
		return nil, storeOpenErr(dir, err)
	}
	return st, nil
}

// settingsFor resolves a service's settings from flags, environment and the
// config file.
func (c *cli) settingsFor(name string) (settings, error) {
	file, err := c.loadConfigFile()
	if err != nil {
		return settings{}, err
	}
	return resolve(name, file, c.getenv, c.flags), nil
}

// loadConfigFile reads the config file --config, VIDEOAUTH_CONFIG or the
// videoauth directory names.
func (c *cli) loadConfigFile() (configFile, error) {
	path, explicit := c.configPath, c.configPath != ""
	if !explicit {
		if p := c.getenv("VIDEOAUTH_CONFIG"); p != "" {
			path, explicit = p, true
		} else {
			d, err := defaultDir(c.getenv)
			if err != nil {
				return nil, err
			}
			path = filepath.Join(d, "config.json")
		}
	}
	return loadConfig(path, explicit, c.err)
}

// open returns a session for service name, for a new sign-in to the
// account --account names, or the service's default.
func (c *cli) open(ctx context.Context, name string) (*session, error) {
	if err := checkService(name); err != nil {
		return nil, err
	}
	st, err := c.openStore()
	if err != nil {
		return nil, err
	}
	account, err := c.account(ctx, st, name)
	if err != nil {
		return nil, err
	}
	return c.openWith(st, name, account, nil)
}

// openStored loads the stored grant of service name and opens its session.
func (c *cli) openStored(ctx context.Context, name string) (*session, *videoauth.Token, error) {
	if err := checkService(name); err != nil {
		return nil, nil, err
	}
	st, err := c.openStore()
	if err != nil {
		return nil, nil, err
	}
	account, err := c.account(ctx, st, name)
	if err != nil {
		return nil, nil, err
	}
	tok, err := loadGrant(ctx, st, name, storeKey(name, account))
	if errors.Is(err, videoauth.ErrNotStored) {
		return nil, nil, c.notSignedIn(ctx, st, name, account)
	}
	if err != nil {
		return nil, nil, explain(name, err)
	}
	s, err := c.openWith(st, name, account, tok)
	if err != nil {
		return nil, nil, err
	}
	tok, err = c.useGrant(ctx, s, tok)
	if err != nil {
		s.close()
		return nil, nil, err
	}
	return s, tok, nil
}

// useGrant readies the session s for the stored grant tok and returns the
// grant to use: Viki's API of the grant configured, the API the grant was
// minted for checked (nothing has been sent yet: a grant minted for another
// API than the one configured now stops here, binding.go), and the
// sandbox's fake told of it.
func (c *cli) useGrant(ctx context.Context, s *session, tok *videoauth.Token) (*videoauth.Token, error) {
	s.signed = s.isVikiSession(tok)
	s.private = s.name == "dailymotion" && isPrivateKey(tok)
	s.tv = s.name == "youtube" && tok.Meta[metaClient] == clientTV
	switch {
	case s.signed:
		if err := s.needSigned(); err != nil {
			return nil, err
		}
	case s.private:
		if err := s.needPrivate(); err != nil {
			return nil, err
		}
	default:
		if err := s.needV3(); err != nil {
			return nil, err
		}
		if err := s.needPublic(); err != nil {
			return nil, err
		}
		if err := s.needYouTube(s.tv); err != nil {
			return nil, err
		}
	}
	if err := s.checkBinding(tok); err != nil {
		return nil, err
	}
	tok = c.bindStored(ctx, s, tok)
	if s.sb != nil {
		tok = s.sb.restore(s.name, tok)
	}
	return tok, nil
}

// openWith builds the session of service name's account over the store
// st. stored is the grant the command will use (nil for a sign-in): it
// fixes Simkl's generation. openStored tells the sandbox's fake of it.
func (c *cli) openWith(st *videoauth.FileStore, name, account string, stored *videoauth.Token) (*session, error) {
	if c.scenario != "" && !c.sandbox {
		return nil, usageErr("Add --sandbox, or drop --sandbox-scenario.", "--sandbox-scenario works only with --sandbox")
	}
	flags := c.flags
	if gen := videoauth.SimklGenerationOf(stored); stored != nil && name == "simkl" && gen != 0 {
		flags.Generation = gen.String()
	}
	s := &session{name: name, account: account, key: storeKey(name, account), store: st}
	if c.sandbox {
		sb, err := startSandbox(name, c.scenario, flags.Generation)
		if err != nil {
			return nil, err
		}
		s.sb, s.clock, s.set = sb, sb.clock(), sb.settings(name, flags)
		if c.flags.ClientID != "" || c.flags.ClientSecret != "" {
			fmt.Fprintln(c.err, "Sandbox: the fake's own client id and secret are used; --client-id and --client-secret are ignored.")
		}
	} else {
		set, err := c.settingsFor(name)
		if err != nil {
			return nil, err
		}
		if flags.Generation != "" {
			set.Generation = flags.Generation
		}
		s.set = set
	}
	s.http = c.traceClient(s.set)
	if s.sb != nil {
		s.http = s.sb.client(s.http)
	}
	if err := s.build(c.version); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// close stops the sandbox's fakes, if any.
func (s *session) close() {
	if s.sb != nil {
		s.sb.close()
	}
}
