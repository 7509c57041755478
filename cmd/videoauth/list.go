package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

func (c *cli) listCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored grants: scopes and expiry, never the tokens",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return c.list(cmd.Context(), asJSON) },
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array with one object per grant ([] when there is none)")
	return cmd
}

// grantInfo is what list shows of a stored grant. It has no field for a
// token, so no token can be printed.
type grantInfo struct {
	Service string `json:"service"`
	// Account is the account's name; Default marks the one the service's
	// commands use without --account.
	Account   string     `json:"account"`
	Default   bool       `json:"default"`
	Grant     string     `json:"grant,omitempty"`
	UserID    string     `json:"user_id,omitempty"`
	Scopes    []string   `json:"scopes,omitempty"`
	Expiry    *time.Time `json:"expiry,omitempty"`
	Renewable bool       `json:"renewable"`
	// APIURL is the API the grant was minted against ("sandbox" for
	// --sandbox's); none for a grant stored before the tool recorded it.
	APIURL  string `json:"api_url,omitempty"`
	Problem string `json:"problem,omitempty"`
}

func (c *cli) list(ctx context.Context, asJSON bool) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	keys, err := st.Keys(ctx)
	if err != nil {
		return filesErr("cannot list the token directory "+st.Dir(), st.Dir(), err)
	}
	now := time.Now()
	current := c.currentBindings()
	prefs := c.loadPrefs()
	defaults := map[string]string{}
	for _, svc := range serviceNames {
		accounts, err := accountsOf(ctx, st, svc)
		if err != nil {
			return err
		}
		if len(accounts) > 0 {
			defaults[svc] = defaultOf(prefs, svc, accounts)
		}
	}
	infos := make([]grantInfo, 0, len(keys))
	for _, k := range keys {
		svc, account, ok := splitKey(k)
		if !ok { // not a key the tool makes: shown, never used
			infos = append(infos, grantInfo{Service: shown(k), Problem: "not a grant of videoauth's: remove " + tokenFile(st, k) + " by hand"})
			continue
		}
		info := grantInfo{Service: svc, Account: account, Default: defaults[svc] == account}
		logout := "`videoauth logout " + svc + accountFlag(k) + "`"
		tok, err := st.Load(ctx, k)
		switch {
		case errors.Is(err, videoauth.ErrNotStored):
			continue // removed meanwhile
		case errors.Is(err, videoauth.ErrStoreCorrupt):
			info.Problem = "unreadable: run " + logout
		case err != nil:
			return loadErr(st, svc, k, err)
		case tok.Provider != "" && tok.Provider != svc:
			info.Problem = "holds a token of " + shown(tok.Provider) + ": run " + logout
		default:
			info.Grant, info.UserID, info.Scopes = grantKind(svc, tok), tok.UserID, tok.Scopes
			info.Renewable = renewableGrant(svc, tok)
			if !tok.Expiry.IsZero() {
				e := tok.Expiry
				info.Expiry = &e
			}
			info.APIURL = bindingOf(tok)
			api := svc
			if svc == "viki" && tok.Meta["viki_api"] == "v5" {
				api = vikiSignedBinding
			}
			if cur, ok := current[api]; ok && info.APIURL != "" && info.APIURL != cur {
				info.Problem = bindingProblem(svc, info.APIURL, cur)
			}
		}
		infos = append(infos, info)
	}
	if asJSON {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	if len(infos) == 0 {
		fmt.Fprintln(c.err, "No stored grants. Sign in with `videoauth login <service>`.")
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	// The account comes last: a single account's line reads as it did
	// before accounts, service first.
	fmt.Fprintln(tw, "SERVICE\tGRANT\tUSER\tSCOPES\tEXPIRES\tRENEWABLE\tACCOUNT")
	var warnings []string
	for _, i := range infos {
		account := i.Account
		if i.Default {
			account += " (default)"
		}
		if i.Problem != "" && i.Grant == "" {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t%s\n", i.Service, i.Problem, dash(account))
			continue
		}
		if i.Problem != "" { // a readable grant bound to another API: listed, and warned of
			warnings = append(warnings, fmt.Sprintf("warning: the stored %s was %s.", describeKey(storeKey(i.Service, i.Account)), i.Problem))
		}
		exp := "never"
		if i.Expiry != nil {
			exp = expiryText(&videoauth.Token{Expiry: *i.Expiry}, now)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i.Service, i.Grant, dash(shown(i.UserID)), dash(joinScopes(i.Scopes)), exp, yesNo(i.Renewable), account)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(c.err, w)
	}
	return nil
}

// currentBindings is the API each service's configuration names now, as
// bindings record it, for list to compare with the stored grants'. Without
// a readable config file the services are left out: list still lists, and
// the commands that use a grant report the file.
func (c *cli) currentBindings() map[string]string {
	out := map[string]string{}
	file := configFile{}
	if !c.sandbox {
		f, err := c.loadConfigFile()
		if err != nil {
			return out
		}
		file = f
	}
	for _, name := range serviceNames {
		out[name] = bindingFor(name, resolve(name, file, c.getenv, c.flags), c.sandbox)
	}
	out[vikiSignedBinding] = sandboxBinding
	if !c.sandbox {
		out[vikiSignedBinding] = apiOrigin(signedBaseOf(resolve("viki", file, c.getenv, c.flags)))
	}
	return out
}

// vikiSignedBinding is currentBindings' key of Viki's v4/v5 API, which v5
// sessions are bound to.
const vikiSignedBinding = "viki v4/v5"

// grantKind names the kind of grant tok is.
func grantKind(service string, tok *videoauth.Token) string {
	kind := "user"
	switch {
	case tok.Meta[metaGrant] == grantPasted && tok.UserID != "":
		kind = "user (given)"
	case tok.Meta[metaGrant] == grantPasted:
		kind = "token (given)"
	case tok.Meta["viki_api"] == "v5":
		kind = "user (v5 session)"
	case service == "dailymotion" && isPrivateKey(tok):
		kind = "app (private key, " + shown(tok.Meta["dailymotion_key"]) + ")"
	case service == "dailymotion", service == "youtube", service == "trakt", service == "twitch" && tok.Meta["twitch_token"] == "user":
		// user grants even when the service named no user
	case tok.UserID == "" && service != "simkl":
		kind = "app (client credentials)"
	}
	if service == "simkl" {
		switch gen := videoauth.SimklGenerationOf(tok); gen {
		case videoauth.SimklV1, videoauth.SimklV2:
			kind += " (" + gen.String() + ")"
		default:
			kind += " (generation unknown)"
		}
	}
	return kind
}

// renewableGrant reports whether tok's grant can be renewed without the
// user, as session.renewable does, from the token alone.
func renewableGrant(service string, tok *videoauth.Token) bool {
	if tok.Meta[metaGrant] == grantPasted || tok.Meta["viki_api"] == "v5" {
		return false
	}
	switch service {
	case "simkl":
		return videoauth.SimklGenerationOf(tok) == videoauth.SimklV2 && tok.RefreshToken != ""
	case "twitch":
		// an app token is minted again; a user's grant refreshes (each
		// refresh token once: the library serialises and saves the new pair)
		return tok.RefreshToken != "" || tok.Meta["twitch_token"] == "app"
	case "dailymotion":
		return tok.RefreshToken != "" || isPrivateKey(tok)
	case "youtube", "trakt":
		return tok.RefreshToken != ""
	}
	return tok.UserID == ""
}

// expiryText describes when tok expires, relative to now.
func expiryText(tok *videoauth.Token, now time.Time) string {
	if tok.Expiry.IsZero() {
		return "never"
	}
	at := tok.Expiry.Local().Format("2006-01-02 15:04")
	left := tok.Expiry.Sub(now)
	if left <= 0 {
		return "expired " + at
	}
	return fmt.Sprintf("in %s (%s)", roughDuration(left), at)
}

// roughDuration rounds d for people: 6d23h, 3h12m, 4m.
func roughDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

// joinScopes is scopes as printed: they came from the service, so each
// goes through shown.
func joinScopes(scopes []string) string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = shown(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
