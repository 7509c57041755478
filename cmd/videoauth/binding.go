package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/videoauth/videoauth"
)

// A stored grant is bound to the API it was minted against. login records
// that API in the token (Token.Meta, which the store keeps with it), and
// every command that would send the token or its refresh token anywhere
// (token, curl, verify, revoke, and the renewals they make) first compares
// the record with the API the configuration names now. When they differ,
// because VIDEOAUTH_<SERVICE>_API_URL or the config file's api_url changed
// since the sign-in, the command stops before any request leaves: a token
// minted by one server is not handed to another, and a refresh token is not
// offered to another token endpoint. logout and list send nothing, so they
// do not refuse (list reports the mismatch).
//
// The refusal exits with its own code, exitBinding (7). Not exitSignIn: a
// script that signs in again on 4 would quietly move the grant to whatever
// server the configuration now names; nor exitConfig, whose next step is
// checking the credentials. The user decides: restore the API URL, or log
// out and sign in at the new one.
const (
	// metaAPIURL is the Token.Meta key holding the API a grant was minted
	// against: the origin (scheme://host[:port], see apiOrigin) of the
	// service's API base. That origin is the service instance: the token
	// endpoint lives there, and it is the one host the library sends the
	// token to (Provider.Owns compares scheme and host only, and curl
	// accepts any path on it). Simkl's WebURL is not recorded: its consent
	// pages never see a token or a refresh token. The tool uses one base
	// per service (Viki: the v3 API, which issues and takes its tokens).
	metaAPIURL = "api_url"
	// sandboxBinding is what --sandbox records instead of a URL. Each run
	// starts fresh fakes on a new loopback port, so the port identifies
	// nothing; the sandbox, with its own token store, is one instance.
	sandboxBinding = "sandbox"
)

// apiOrigin is the origin of the API base raw, as recorded and compared:
// lower-case scheme and host, the port unless it is the scheme's default,
// and nothing else (no user info, so no secret, no path, no query). A base
// that does not parse as a URL with a host is kept as given, trimmed; the
// session refuses such a setting before it gets here.
func apiOrigin(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return strings.TrimRight(raw, "/")
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"): // an IPv6 address
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

// bindingOf is the API tok records it was minted against, normalised, or ""
// when it records none (stored before the tool recorded bindings).
func bindingOf(tok *videoauth.Token) string {
	v := strings.TrimSpace(tok.Meta[metaAPIURL])
	if v == "" || v == sandboxBinding {
		return v
	}
	return apiOrigin(v)
}

// bind records in tok that it was minted against binding.
func bind(tok *videoauth.Token, binding string) {
	if tok.Meta == nil {
		tok.Meta = map[string]string{}
	}
	tok.Meta[metaAPIURL] = binding
}

// binding is the API this session sends tokens to, as recorded in them.
func (s *session) binding() string {
	if s.sb != nil {
		return sandboxBinding
	}
	return apiOrigin(s.apiBase())
}

// bindingFor is the API the configuration set names for service, as
// recorded in tokens; the sandbox is sandboxBinding.
func bindingFor(service string, set settings, sandbox bool) string {
	if sandbox {
		return sandboxBinding
	}
	return apiOrigin(apiBaseOf(service, set))
}

// checkBinding refuses tok when it records another API than the session's.
// A token that records none passes: see bindStored.
func (s *session) checkBinding(tok *videoauth.Token) error {
	if rec := bindingOf(tok); rec != "" && rec != s.binding() {
		return bindingErr(s.name, rec, s.binding())
	}
	return nil
}

// bindingErr is the refusal of a grant of service minted against recorded
// while the configuration now names current. It names both (origins only:
// no secret) and the two ways out.
func bindingErr(service, recorded, current string) *cliError {
	return &cliError{code: exitBinding,
		msg: fmt.Sprintf("the stored %s grant was minted for %s, but %s's API is now %s; its token is not sent there",
			service, describeBinding(recorded), service, describeBinding(current)),
		hint: fmt.Sprintf("To keep using this grant, %s. To use %s instead, sign in there: `videoauth logout %s`, then `videoauth login %s` "+
			"(the old grant stays valid at %s until it expires or is revoked).",
			restoreHint(service, recorded, current), describeBinding(current), service, service, describeBinding(recorded))}
}

// bindingProblem is list's short form of bindingErr.
func bindingProblem(service, recorded, current string) string {
	return fmt.Sprintf("minted for %s, but the API is now %s: run `videoauth logout %s` and `videoauth login %s`, or restore the API URL",
		describeBinding(recorded), describeBinding(current), service, service)
}

// describeBinding names a recorded binding for messages.
func describeBinding(b string) string {
	if b == sandboxBinding {
		return "the sandbox (--sandbox)"
	}
	return shown(b)
}

// restoreHint says how to point the configuration back at recorded.
func restoreHint(service, recorded, current string) string {
	where := fmt.Sprintf("%s, or \"api_url\" under %q in the config file", envName(service, "API_URL"), service)
	switch {
	case recorded == sandboxBinding:
		return "run the command with --sandbox"
	case current == sandboxBinding:
		return "run the command without --sandbox"
	case recorded == apiOrigin(infoOf(service).apiURL):
		return "remove the API URL override (" + where + ") so that " + service + " is " + recorded + " again"
	}
	return "set the API URL back to " + shown(recorded) + " (" + where + ")"
}

// bindStored binds a grant stored before the tool recorded bindings (no
// api_url) to the API this session uses, and returns the grant to use.
//
// Such a grant is accepted, not refused: an older videoauth minted it, with
// whatever API the configuration named then, and that cannot be known now.
// Refusing it unless the API is the service's default would lock out every
// user of a proxy or a self-hosted fake who changed nothing; accepting it as
// the default's without recording anything would never protect it. So the
// first command that uses it records the API it is about to use (once,
// with a note) and from then on the grant is bound like a new one. The
// cost: a configuration changed in the same breath as the upgrade goes
// unnoticed once. Signing in again, or any renewal, binds a grant too.
//
// The record is written under the store's refresh lock, and only while the
// store still holds this very token, so it cannot overwrite a renewal or a
// sign-in made meanwhile by another process. When it cannot be written the
// grant is still used, and the next command tries again.
func (c *cli) bindStored(ctx context.Context, s *session, tok *videoauth.Token) *videoauth.Token {
	if bindingOf(tok) != "" {
		return tok
	}
	b := s.binding()
	bound := tok.Clone()
	bind(bound, b)
	unlock, err := s.store.Lock(ctx, s.key)
	if err != nil {
		fmt.Fprintf(c.err, "warning: could not record the API of the stored %s grant (%s)\n", s.name, causeText(err))
		return bound
	}
	defer unlock()
	cur, err := s.store.Load(ctx, s.key)
	if err != nil || cur.AccessToken != tok.AccessToken || bindingOf(cur) != "" {
		return bound // changed meanwhile: the newer grant is not this command's to bind
	}
	if err := s.store.Save(ctx, s.key, bound); err != nil {
		fmt.Fprintf(c.err, "warning: could not record the API of the stored %s grant (%s)\n", s.name, causeText(err))
		return bound
	}
	fmt.Fprintf(c.err, "note: the stored %s grant did not record the API it was minted for; it is now bound to %s, and refused should the API URL change.\n",
		s.name, describeBinding(b))
	return bound
}

// boundStore is the token store as a grant's Source sees it. A Source
// about to renew reads the store again, and adopts a token another process
// stored meanwhile: such a token is refused, like the one the command
// started with, when it records another API than the session's. Every other
// method is the FileStore's.
type boundStore struct {
	*videoauth.FileStore
	s *session
}

// Load implements videoauth.Store.
func (b boundStore) Load(ctx context.Context, key string) (*videoauth.Token, error) {
	tok, err := b.FileStore.Load(ctx, key)
	if err != nil || key != b.s.key {
		return tok, err
	}
	if err := b.s.checkBinding(tok); err != nil {
		return nil, err
	}
	return tok, nil
}
