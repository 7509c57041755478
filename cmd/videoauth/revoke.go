package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

func (c *cli) revokeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke <service>",
		Short: "End the stored grant at the service, then forget it",
		Long: `Ask the service to end the stored grant (Vimeo: DELETE /tokens; Simkl V2:
/oauth2/revoke, which ends the refresh token too; Twitch: /oauth2/revoke;
Dailymotion: GET /logout; YouTube: Google's /revoke, which ends every token
of the grant; Trakt: /oauth/revoke), then remove it from the store. Simkl V1 grants
are ended by the user in simkl.com's Connected Apps, Viki v3 has no
revocation (its tokens expire within 24 hours), and neither has a
Dailymotion private key's token (it lives 30 minutes): for those, revoke
says so and keeps the token; use logout to forget it.`,
		RunE: func(cmd *cobra.Command, args []string) error { return c.revoke(cmd.Context(), args[0]) },
	}
	serviceArg(cmd)
	return cmd
}

func (c *cli) revoke(ctx context.Context, name string) error {
	s, tok, err := c.openStored(ctx, name)
	if err != nil {
		return err
	}
	defer s.close()
	switch {
	case s.vimeo != nil:
		err = s.vimeo.Revoke(ctx, tok)
	case s.simkl != nil && s.simkl.Generation() == videoauth.SimklV2:
		err = s.simkl.Revoke(ctx, tok)
	case s.twitch != nil:
		err = s.twitch.Revoke(ctx, tok)
	case s.trakt != nil:
		err = s.trakt.Revoke(ctx, tok)
	case s.private:
		return usageErr("A private key's token expires within 30 minutes; `videoauth logout dailymotion` forgets it here.",
			"Dailymotion documents no revocation of a private key's tokens")
	case s.dailymotion != nil:
		err = s.dailymotion.Revoke(ctx, tok)
	case s.name == "youtube":
		err = s.provider().(*videoauth.YouTube).Revoke(ctx, tok)
	case s.simkl != nil:
		return usageErr("Disconnect the app at simkl.com (Settings → Connected Apps); `videoauth logout simkl` forgets the token here.",
			"Simkl V1 grants cannot be revoked by an app")
	case s.signed:
		return usageErr("`videoauth logout viki` forgets the session here; Viki ends it when it expires.",
			"Viki v5 sessions cannot be ended from here")
	default:
		return usageErr("Viki v3 tokens expire within 24 hours; `videoauth logout viki` forgets the token here.",
			"Viki v3 has no revocation endpoint")
	}
	if err != nil {
		return explain(name, err)
	}
	if err := s.store.Delete(ctx, s.key); err != nil {
		return storeErr(s.store, name, s.key, err)
	}
	fmt.Fprintf(c.err, "Revoked the %s and removed it from the store.\n", describeKey(s.key))
	return nil
}

func (c *cli) logoutCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "logout [<service>]",
		Short: "Forget a stored grant (no network)",
		Long: `Remove a service's stored grant from this machine: the default account's,
or --account's. The grant stays valid at the service until it expires or is
revoked; ` + "`videoauth revoke`" + ` ends it there too. An unreadable stored token is
removed as well. --all forgets every grant of every account.`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usageErr("Give a service or --all.", "logout --all takes no service")
			case all:
				return nil
			case len(args) != 1:
				return usageErr("Usage: videoauth logout <service> | --all", "logout takes one service, or --all")
			}
			return checkService(args[0])
		},
		ValidArgs: serviceNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				if c.accountName != "" {
					return usageErr("Give --account with a service, or --all alone.", "logout --all takes no --account")
				}
				return c.logoutAll(cmd.Context())
			}
			return c.logout(cmd.Context(), args[0])
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "forget every stored grant, of every account")
	return cmd
}

// logoutAll forgets every account of every service, and which were the
// defaults.
func (c *cli) logoutAll(ctx context.Context) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	keys, err := st.Keys(ctx)
	if err != nil {
		return filesErr("cannot list the token directory "+st.Dir(), st.Dir(), err)
	}
	for _, key := range keys {
		if err := st.Delete(ctx, key); err != nil {
			return storeErr(st, key, key, err)
		}
		fmt.Fprintf(c.err, "Removed the stored %s.\n", describeKey(key))
	}
	if path, err := c.prefsPath(); err == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return filesErr("cannot remove "+path, filepath.Dir(path), err)
		}
	}
	return nil
}

// logout forgets the grant of one account of service: --account's, or the
// default's.
func (c *cli) logout(ctx context.Context, name string) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	account, err := c.account(ctx, st, name)
	if err != nil {
		return err
	}
	key := storeKey(name, account)
	if _, err := st.Load(ctx, key); errors.Is(err, videoauth.ErrNotStored) {
		if account == defaultAccount && c.accountName == "" {
			fmt.Fprintf(c.err, "Not signed in to %s; nothing to remove.\n", name)
		} else {
			fmt.Fprintf(c.err, "Not signed in to %s as account %q; nothing to remove.\n", name, account)
		}
		return nil
	}
	if err := st.Delete(ctx, key); err != nil {
		return storeErr(st, name, key, err)
	}
	fmt.Fprintf(c.err, "Removed the stored %s.\n", describeKey(key))
	return nil
}

// describeKey names the grant stored under key for messages.
func describeKey(key string) string {
	service, account, ok := splitKey(key)
	switch {
	case !ok:
		return fmt.Sprintf("file of %q", shown(key))
	case account == defaultAccount:
		return service + " grant"
	}
	return fmt.Sprintf("%s grant of account %q", service, account)
}
