package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
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
	if ce.msg != "" || ce.err != nil {
		fmt.Fprintln(io.err, "videoauth: "+ce.Error())
	}
	if ce.hint != "" {
		fmt.Fprintln(io.err, ce.hint)
	}
	return ce.code
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
		Short: "Sign in to Vimeo, Simkl and Viki and use their tokens from a terminal",
		Long: `videoauth signs in to Vimeo, Simkl and Viki, keeps the tokens in a private
store under your configuration directory, renews them when it can, and hands
them to curl or makes the request itself.

  videoauth login vimeo                 sign in through the browser
  videoauth login simkl --device        or with a code, on any device
  videoauth token vimeo                 print a valid access token
  videoauth curl vimeo /me              an authenticated request
  videoauth list                        what is stored (never the tokens)

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
	pf := root.PersistentFlags()
	pf.BoolVar(&c.sandbox, "sandbox", false, "run against built-in fakes of the services (no account, no network)")
	pf.StringVar(&c.scenario, "sandbox-scenario", "", "with --sandbox, what the fake does: `scenario` deny (refuse consent), expire (let device codes run out) or revoke (forget the stored grant)")
	pf.StringVar(&c.configPath, "config", "", "config file (default $VIDEOAUTH_CONFIG or config.json in the videoauth directory)")
	pf.StringVar(&c.flags.ClientID, "client-id", "", "the app's client id (overrides environment and config)")
	pf.StringVar(&c.flags.ClientSecret, "client-secret", "", "the app's client secret (visible in the process list: prefer the environment)")
	_ = root.RegisterFlagCompletionFunc("sandbox-scenario", cobra.FixedCompletions(scenarioNames, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(c.loginCmd(), c.tokenCmd(), c.curlCmd(), c.verifyCmd(), c.revokeCmd(), c.logoutCmd(), c.listCmd(),
		&cobra.Command{Use: "config", Short: "Where credentials and tokens are kept", Long: configHelp})
	return root
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
		return nil, &cliError{code: exitConfig, msg: "cannot open the token store " + dir, err: err,
			hint: "Set VIDEOAUTH_CONFIG_DIR to a directory only you can write."}
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

// open returns a session for service name, for a new sign-in.
func (c *cli) open(name string) (*session, error) {
	if err := checkService(name); err != nil {
		return nil, err
	}
	st, err := c.openStore()
	if err != nil {
		return nil, err
	}
	return c.openWith(st, name, nil)
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
	tok, err := st.Load(ctx, name)
	if err != nil {
		return nil, nil, explain(name, err)
	}
	s, err := c.openWith(st, name, tok)
	if err != nil {
		return nil, nil, err
	}
	// Nothing has been sent yet: a grant minted for another API than the
	// one configured now stops here (binding.go).
	if err := s.checkBinding(tok); err != nil {
		s.close()
		return nil, nil, err
	}
	tok = c.bindStored(ctx, s, tok)
	if s.sb != nil {
		s.sb.restore(name, tok)
	}
	return s, tok, nil
}

// openWith builds the session of service name over the store st. stored is
// the grant the command will use (nil for a sign-in): it fixes Simkl's
// generation. openStored tells the sandbox's fake of it.
func (c *cli) openWith(st *videoauth.FileStore, name string, stored *videoauth.Token) (*session, error) {
	if c.scenario != "" && !c.sandbox {
		return nil, usageErr("Add --sandbox, or drop --sandbox-scenario.", "--sandbox-scenario works only with --sandbox")
	}
	flags := c.flags
	if stored != nil && name == "simkl" {
		flags.Generation = videoauth.SimklGenerationOf(stored).String()
	}
	s := &session{name: name, store: st}
	if c.sandbox {
		sb, err := startSandbox(name, c.scenario)
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
