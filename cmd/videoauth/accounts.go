package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

// Accounts: a service may have several stored grants side by side (an app
// token and users' grants, like gh's accounts), each under a name. The
// store keeps an account's grant under the key "<service>/<name>", except
// the account named "default", whose key is the service's name alone: the
// key every grant had before accounts, so a grant stored by an older tool
// is the default account, unchanged.
//
// Which account a command uses when --account is not given is the
// service's default: the one `videoauth switch` chose (kept in
// accounts.json next to the tokens directory), else the account named
// "default", else the service's only account. login never silently
// replaces the grant of another account: when the account it signs in to
// holds a grant for someone else (another user, or an app token where a
// user signs in), the new grant goes to an account of its own, named after
// who it is, and the user is told; --replace replaces instead.
const defaultAccount = "default"

// maxAccountName bounds an account's name; it is part of a file name.
const maxAccountName = 64

// checkAccountName refuses a name that could not be a plain file name on
// every system, or that would confuse a terminal: lower-case letters,
// digits and . _ - @ +, starting with a letter or digit.
func checkAccountName(name string) error {
	bad := name == "" || len(name) > maxAccountName
	for i, r := range name {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case i > 0 && strings.ContainsRune("._-@+", r):
		default:
			bad = true
		}
	}
	if !bad {
		return nil
	}
	return usageErr(fmt.Sprintf("An account name is 1 to %d lower-case letters, digits and . _ - @ +, starting with a letter or digit (work, fan@example.com).", maxAccountName),
		"%q is not an account name", shown(name))
}

// storeKey is the store key of service's account.
func storeKey(service, account string) string {
	if account == defaultAccount {
		return service
	}
	return service + "/" + account
}

// splitKey is the service and account a store key names; ok is false for a
// key the tool did not make.
func splitKey(key string) (service, account string, ok bool) {
	service, account, named := strings.Cut(key, "/")
	if !named {
		account = defaultAccount
	} else if account == defaultAccount || checkAccountName(account) != nil {
		return key, "", false
	}
	return service, account, slices.Contains(serviceNames, service)
}

// accountPrefs is accounts.json: each service's default account, as
// `videoauth switch` (or the first sign-in) chose it. It holds no secret.
type accountPrefs struct {
	Default map[string]string `json:"default"`
}

// prefsPath is where accountPrefs are kept: next to the tokens directory
// (the sandbox has its own).
func (c *cli) prefsPath() (string, error) {
	dir, err := c.tokenDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(dir), "accounts.json"), nil
}

// loadPrefs reads accounts.json; a missing one is empty. An unreadable one
// is reported as a warning and read as empty: it only picks defaults, and
// `videoauth switch` writes it anew.
func (c *cli) loadPrefs() accountPrefs {
	p := accountPrefs{Default: map[string]string{}}
	path, err := c.prefsPath()
	if err != nil {
		return p
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p
	}
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	if err != nil || p.Default == nil {
		fmt.Fprintf(c.err, "warning: %s is unreadable, so the default accounts are the ones named %q; `videoauth switch` writes it anew.\n", path, defaultAccount)
		return accountPrefs{Default: map[string]string{}}
	}
	return p
}

// savePrefs writes accounts.json atomically (a temporary file renamed over
// it), readable only by the user.
func (c *cli) savePrefs(p accountPrefs) error {
	path, err := c.prefsPath()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".accounts-*.json")
	if err != nil {
		return filesErr("cannot record the default account in "+dir, dir, err)
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return filesErr("cannot record the default account in "+path, dir, err)
	}
	return nil
}

// accountsOf lists the accounts of service that have a stored file
// (readable or not), sorted, "default" first.
func accountsOf(ctx context.Context, st *videoauth.FileStore, service string) ([]string, error) {
	keys, err := st.Keys(ctx)
	if err != nil {
		return nil, filesErr("cannot list the token directory "+st.Dir(), st.Dir(), err)
	}
	var out []string
	for _, k := range keys {
		if svc, acct, ok := splitKey(k); ok && svc == service {
			out = append(out, acct)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == defaultAccount:
			return -1
		case b == defaultAccount:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out, nil
}

// defaultOf is service's default account among accounts (those stored):
// the one chosen, if stored, else "default", else the only one; "default"
// when there is none of those.
func defaultOf(p accountPrefs, service string, accounts []string) string {
	if d := p.Default[service]; d != "" && slices.Contains(accounts, d) {
		return d
	}
	if len(accounts) == 1 {
		return accounts[0]
	}
	return defaultAccount
}

// account is the account a command of service uses: --account, or the
// service's default.
func (c *cli) account(ctx context.Context, st *videoauth.FileStore, service string) (string, error) {
	if c.accountName != "" {
		return c.accountName, nil
	}
	accounts, err := accountsOf(ctx, st, service)
	if err != nil {
		return "", err
	}
	return defaultOf(c.loadPrefs(), service, accounts), nil
}

// notSignedIn is the error of a command of service whose account has no
// grant, naming the accounts there are.
func (c *cli) notSignedIn(ctx context.Context, st *videoauth.FileStore, service, account string) error {
	accounts, _ := accountsOf(ctx, st, service)
	ce := &cliError{code: exitSignIn, msg: "not signed in to " + service,
		hint: "Sign in first: `videoauth login " + service + "` (see `videoauth login --help`)."}
	if account != defaultAccount || len(accounts) > 0 {
		ce.msg = fmt.Sprintf("not signed in to %s as account %q", service, account)
		ce.hint = "Sign in first: `videoauth login " + service + accountFlag(storeKey(service, account)) + "`."
	}
	if len(accounts) > 0 {
		ce.hint += " The " + service + " accounts stored are " + strings.Join(quoteAll(accounts), ", ") + ": pick one with --account, or make one the default with `videoauth switch " + service + " <account>`."
	}
	return ce
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// identityOf is who tok acts for, as far as the tool can tell from the
// token: "user <id>", "app" for an app token, or "" when it cannot tell (a
// Simkl grant whose user the service did not name). A token given with
// --with-token has the user the service named when it was given.
func identityOf(service string, tok *videoauth.Token) string {
	switch {
	case tok.UserID != "":
		return "user " + tok.UserID
	case tok.Meta["viki_api"] != "", service == "simkl":
		return ""
	case service == "twitch" && tok.Meta["twitch_token"] == "user", service == "dailymotion" && !isPrivateKey(tok), service == "youtube", service == "trakt":
		return "" // a user's grant whose user the service did not name
	}
	return "app"
}

// sameAccount reports whether the grants old and tok may be the same
// account's: the same user or both app tokens, or one of them unknown.
func sameAccount(service string, old, tok *videoauth.Token) bool {
	a, b := identityOf(service, old), identityOf(service, tok)
	return a == "" || b == "" || a == b
}

// accountNameFor is a name for a new account holding tok: the user's id
// made a valid name, or "app", with -2, -3… while that name holds a grant
// of someone else.
func accountNameFor(ctx context.Context, st *videoauth.FileStore, service string, tok *videoauth.Token) string {
	base := "app"
	if tok.UserID != "" {
		var b strings.Builder
		for _, r := range strings.ToLower(tok.UserID) {
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
				b.WriteRune(r)
			case b.Len() > 0 && strings.ContainsRune("._-@+", r):
				b.WriteRune(r)
			case b.Len() > 0:
				b.WriteByte('-')
			}
		}
		base = b.String()
		if len(base) > maxAccountName-4 {
			base = base[:maxAccountName-4]
		}
		if base == "" || base == defaultAccount || checkAccountName(base) != nil {
			base = "user"
		}
	}
	name := base
	for i := 2; ; i++ {
		old, err := st.Load(ctx, storeKey(service, name))
		if errors.Is(err, videoauth.ErrNotStored) || err == nil && identityOf(service, old) != "" && identityOf(service, old) == identityOf(service, tok) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// describeAccount names an account for messages: its name, and who it is
// when the token says.
func describeAccount(service, account string, tok *videoauth.Token) string {
	who := ""
	switch id := identityOf(service, tok); {
	case strings.HasPrefix(id, "user "):
		who = " (user id " + shown(tok.UserID) + ")"
	case id == "app":
		who = " (an app token)"
	}
	return fmt.Sprintf("%q%s", account, who)
}

func (c *cli) switchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "switch <service> <account>",
		Short: "Make a stored account the default of its service",
		Long: `Make one of a service's stored accounts the one every command uses when
--account is not given. ` + "`videoauth list`" + ` shows the accounts, the default marked.`,
		Example: `  videoauth login vimeo --client --account app
  videoauth switch vimeo app`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("Usage: "+cmd.UseLine(), "switch takes a service and an account, got %d arguments", len(args))
			}
			if err := checkService(args[0]); err != nil {
				return err
			}
			return checkAccountName(args[1])
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return serviceNames, cobra.ShellCompDirectiveNoFileComp
			}
			return c.accountCompletions(cmd.Context(), args[0]), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error { return c.switchAccount(cmd.Context(), args[0], args[1]) },
	}
	return cmd
}

func (c *cli) switchAccount(ctx context.Context, service, account string) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	tok, err := loadGrant(ctx, st, service, storeKey(service, account))
	if errors.Is(err, videoauth.ErrNotStored) {
		return c.notSignedIn(ctx, st, service, account)
	}
	if err != nil {
		return err
	}
	p := c.loadPrefs()
	p.Default[service] = account
	if err := c.savePrefs(p); err != nil {
		return err
	}
	fmt.Fprintf(c.err, "The default %s account is now %s.\n", service, describeAccount(service, account, tok))
	return nil
}

// accountCompletions are the stored accounts of service, for completion.
func (c *cli) accountCompletions(ctx context.Context, service string) []cobra.Completion {
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := c.openStore()
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	services := serviceNames
	if service != "" {
		services = []string{service}
	}
	for _, svc := range services {
		accounts, _ := accountsOf(ctx, st, svc)
		for _, a := range accounts {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}
