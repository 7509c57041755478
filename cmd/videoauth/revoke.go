package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/videoauth/videoauth"
)

func (c *cli) revokeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke <service>",
		Short: "End the stored grant at the service, then forget it",
		Long: `Ask the service to end the stored grant (Vimeo: DELETE /tokens; Simkl V2:
/oauth2/revoke, which ends the refresh token too), then remove it from the
store. Simkl V1 grants are ended by the user in simkl.com's Connected Apps,
and Viki v3 has no revocation (its tokens expire within 24 hours): for those,
revoke says so and keeps the token; use logout to forget it.`,
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
	case s.simkl != nil:
		return usageErr("Disconnect the app at simkl.com (Settings → Connected Apps); `videoauth logout simkl` forgets the token here.",
			"Simkl V1 grants cannot be revoked by an app")
	default:
		return usageErr("Viki v3 tokens expire within 24 hours; `videoauth logout viki` forgets the token here.",
			"Viki v3 has no revocation endpoint")
	}
	if err != nil {
		return explain(name, err)
	}
	if err := s.store.Delete(ctx, name); err != nil {
		return storeErr(err)
	}
	fmt.Fprintf(c.err, "Revoked the %s grant and removed it from the store.\n", name)
	return nil
}

func (c *cli) logoutCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "logout [<service>]",
		Short: "Forget a stored grant (no network)",
		Long: `Remove a service's stored grant from this machine. The grant stays valid at
the service until it expires or is revoked; ` + "`videoauth revoke`" + ` ends it there too.
An unreadable stored token is removed as well.`,
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
				args = serviceNames
			}
			return c.logout(cmd.Context(), args)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "forget every stored grant")
	return cmd
}

func (c *cli) logout(ctx context.Context, names []string) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := st.Load(ctx, name); errors.Is(err, videoauth.ErrNotStored) {
			if len(names) == 1 {
				fmt.Fprintf(c.err, "Not signed in to %s; nothing to remove.\n", name)
			}
			continue
		}
		if err := st.Delete(ctx, name); err != nil {
			return storeErr(err)
		}
		fmt.Fprintf(c.err, "Removed the stored %s grant.\n", name)
	}
	return nil
}
