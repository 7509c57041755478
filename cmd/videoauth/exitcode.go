package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/videoauth/videoauth"
)

// Exit codes. They are part of the tool's interface: scripts branch on them,
// the root command's help and the README list them.
const (
	exitOK          = 0   // done
	exitFailure     = 1   // the service or the network failed; trying again may help
	exitUsage       = 2   // the command line is wrong (unknown service, flag or argument)
	exitConfig      = 3   // credentials or configuration missing or rejected
	exitSignIn      = 4   // no usable grant: not signed in, revoked, expired
	exitDenied      = 5   // the user or the service refused the sign-in
	exitExpired     = 6   // a device/PIN code or the browser sign-in ran out of time
	exitBinding     = 7   // the stored grant was minted for another API URL than the one configured now (binding.go)
	exitFiles       = 8   // the token store or an output file cannot be read or written (storefs.go)
	exitHTTP        = 22  // curl --fail: the API answered 4xx/5xx (curl's own code)
	exitInterrupted = 130 // interrupted (Ctrl-C)
)

// exitCodeTable explains each exit code; `videoauth --help` and the README
// show it (a test keeps the README in step).
var exitCodeTable = []struct {
	code    int
	meaning string
}{
	{exitOK, "success"},
	{exitFailure, "the service or the network failed (try again later)"},
	{exitUsage, "usage error: unknown service, flag or argument, or a flow the service lacks"},
	{exitConfig, "configuration: client id or secret missing or rejected"},
	{exitSignIn, "sign-in needed: not signed in, grant revoked or expired"},
	{exitDenied, "refused: consent denied, wrong username or password, or the request forbidden (scope or permission)"},
	{exitExpired, "timed out: the device/PIN code or the browser sign-in expired"},
	{exitBinding, "API URL changed: the stored grant was minted for another API URL than the one configured now"},
	{exitFiles, "files: the token directory or an output file cannot be read or written (permissions, read-only or full disk)"},
	{exitHTTP, "curl --fail: the API answered an HTTP error"},
	{exitInterrupted, "interrupted"},
}

// exitCodesHelp is the table shown by `videoauth --help`.
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("Exit codes:")
	for _, e := range exitCodeTable {
		fmt.Fprintf(&b, "\n  %-4d %s", e.code, e.meaning)
	}
	return b.String()
}

// cliError is an error the tool reports to the user: what went wrong, what to
// do next, and the exit code. err, when set, is the cause; its text is shown
// (library errors never contain secrets).
type cliError struct {
	code int
	msg  string
	hint string
	err  error
}

func (e *cliError) Error() string {
	if e.err == nil {
		return e.msg
	}
	cause := causeText(e.err)
	if e.msg == "" {
		return cause
	}
	return e.msg + " (" + cause + ")"
}

// causeText is err's text as the tool shows it after its own "videoauth: ":
// on one line, without the "videoauth: " every error of the library's chain
// starts with, which would otherwise stutter ("…: videoauth: not a token:
// videoauth: stored token unreadable").
func causeText(err error) string {
	s := strings.ReplaceAll(err.Error(), "videoauth: ", "")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

func (e *cliError) Unwrap() error { return e.err }

// usageErr is a command-line mistake.
func usageErr(hint, format string, args ...any) *cliError {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...), hint: hint}
}

// explain turns any error into a cliError: the library's sentinels become the
// exit code and the next step for service (the service's name).
func explain(service string, err error) *cliError {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce
	}
	var svcErr *videoauth.Error
	fromService := errors.As(err, &svcErr)
	login := "videoauth login " + service
	switch {
	case errors.Is(err, context.Canceled):
		return &cliError{code: exitInterrupted, msg: "interrupted"}
	case errors.Is(err, videoauth.ErrExpiredCode):
		return &cliError{code: exitExpired, err: err, msg: "the code expired before it was approved",
			hint: "Run `" + login + " --device` again and enter the new code sooner."}
	case errors.Is(err, videoauth.ErrAccessDenied) && !fromService:
		// Loopback's own timeout: no callback arrived.
		return &cliError{code: exitExpired, err: err, msg: "no answer from the browser in time",
			hint: "Run `" + login + "` again and finish in the browser, or use `--device` on a machine without a browser."}
	case errors.Is(err, videoauth.ErrAccessDenied):
		return &cliError{code: exitDenied, err: err, msg: "the sign-in was denied",
			hint: "Nothing was stored. Run `" + login + "` again and approve the request to sign in."}
	case errors.Is(err, videoauth.ErrInvalidCredentials):
		return &cliError{code: exitDenied, err: err, msg: service + " rejected the username or password",
			hint: "Check them and run `" + login + " --password` again."}
	case errors.Is(err, videoauth.ErrReauthRequired):
		return &cliError{code: exitSignIn, err: err, msg: "the stored " + service + " grant is no longer valid (revoked, expired or deleted)",
			hint: "Sign in again: `" + login + "`."}
	case errors.Is(err, videoauth.ErrUserTokenRequired):
		return &cliError{code: exitSignIn, err: err, msg: "this " + service + " endpoint acts for a user, and the stored grant is an app token (which is still valid)",
			hint: "Sign in as a user: `" + login + "` (the app token is kept, as an account of its own), or use a stored user account with --account (`videoauth list` shows them)."}
	case errors.Is(err, videoauth.ErrForbidden):
		return &cliError{code: exitDenied, err: err, msg: service + " refused the request: the grant lacks a scope, or the user lacks the right",
			hint: "Sign in again with the scope the request needs: `" + login + " --scopes …`."}
	case errors.Is(err, videoauth.ErrAuthorizationFailed):
		return &cliError{code: exitDenied, err: err, msg: service + " ended the sign-in with an error",
			hint: "Nothing was stored. Run `" + login + "` again; if it keeps failing, check the app's settings at " + service + "."}
	case errors.Is(err, videoauth.ErrInvalidScope):
		return &cliError{code: exitConfig, err: err, msg: service + " refused the scopes asked for",
			hint: "Check the scope names (`videoauth login --help`) and that your app may ask for them."}
	case errors.Is(err, videoauth.ErrTokenExpired):
		return &cliError{code: exitFailure, err: err, msg: service + " rejected the token; the next request gets a new one",
			hint: "Try again."}
	case errors.Is(err, videoauth.ErrNotStored):
		return &cliError{code: exitSignIn, msg: "not signed in to " + service,
			hint: "Sign in first: `" + login + "` (see `videoauth login --help`)."}
	case errors.Is(err, videoauth.ErrStoreCorrupt):
		// Met by a renewal, which reads the store again: loadGrant reports
		// the file the command starts with.
		return &cliError{code: exitSignIn, msg: "the stored " + service + " grant is no longer a token videoauth can read",
			hint: "Run `videoauth logout " + service + "` to remove it, then `" + login + "`."}
	case errors.Is(err, videoauth.ErrInvalidClient):
		return &cliError{code: exitConfig, err: err, msg: service + " rejected the client id or secret",
			hint: "Check the credentials (" + envName(service, "CLIENT_ID") + ", " + envName(service, "CLIENT_SECRET") + " or the config file)."}
	case errors.Is(err, videoauth.ErrRedirectMismatch) && service == "trakt":
		return &cliError{code: exitConfig, err: err, msg: service + " refused the redirect URI",
			hint: "Trakt compares it byte for byte: register http://127.0.0.1:PORT/callback for the app and give --port PORT (or the whole URI with --redirect-uri), or use `--device`."}
	case errors.Is(err, videoauth.ErrRedirectMismatch):
		return &cliError{code: exitConfig, err: err, msg: service + " refused the redirect URI",
			hint: "Register http://127.0.0.1/callback (any port) as a redirect URI of your app, give the one it has with --redirect-uri, or use `--device`."}
	case errors.Is(err, videoauth.ErrUnsupportedGrant):
		return &cliError{code: exitUsage, err: err, msg: service + " does not support this",
			hint: "See `videoauth login --help` for the flows each service offers."}
	case errors.Is(err, videoauth.ErrInvalidConfig):
		return &cliError{code: exitConfig, err: err, msg: "invalid configuration",
			hint: "See `videoauth help config` for where credentials come from."}
	case errors.Is(err, videoauth.ErrBlocked):
		return &cliError{code: exitFailure, err: err, msg: service + "'s edge (its CDN or firewall) blocked the request; this is not about the grant",
			hint: "Try again later; if it persists, check that nothing between you and " + service + " strips the User-Agent."}
	case errors.Is(err, videoauth.ErrChannelRequired):
		return &cliError{code: exitDenied, err: err, msg: "the " + service + " account has no channel, which the API needs to act for it",
			hint: "Create a channel for the account (youtube.com → Create a channel), then try again; the grant itself works."}
	case errors.Is(err, videoauth.ErrQuotaExceeded):
		return &cliError{code: exitFailure, err: err, msg: service + " says the project's quota is used up",
			hint: "Try again after the quota resets (YouTube: midnight Pacific Time), or ask Google for more quota; a new token would not help."}
	case errors.Is(err, videoauth.ErrRateLimited):
		hint := "Wait a moment and try again."
		if svcErr != nil && svcErr.RetryAfter > 0 {
			hint = fmt.Sprintf("Try again in %s.", svcErr.RetryAfter)
		}
		return &cliError{code: exitFailure, err: err, msg: service + " is rate limiting this app", hint: hint}
	case errors.Is(err, videoauth.ErrServer):
		return &cliError{code: exitFailure, err: err, msg: service + " had a server error", hint: "Try again later."}
	case errors.Is(err, context.DeadlineExceeded):
		return &cliError{code: exitFailure, err: err, msg: "timed out", hint: "Check your network and try again."}
	case fromService && svcErr.Status == 0, errors.As(err, new(net.Error)):
		return &cliError{code: exitFailure, err: err, msg: "cannot reach " + service,
			hint: "Check your network connection (and HTTPS_PROXY if you use a proxy), then try again."}
	}
	return &cliError{code: exitFailure, err: err}
}

// envName is the environment variable holding a service's setting, e.g.
// VIDEOAUTH_VIMEO_CLIENT_ID.
func envName(service, setting string) string {
	return "VIDEOAUTH_" + strings.ToUpper(service) + "_" + setting
}
