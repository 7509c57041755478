package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/videoauth/videoauth"
)

// serviceNames are the services the tool signs in to, in the order help
// lists them.
var serviceNames = []string{"vimeo", "simkl", "viki"}

// serviceInfo is what the tool knows of a service beyond the library.
type serviceInfo struct {
	apiURL   string // the real API base: curl resolves paths against it
	register string // where a developer registers an app
	flows    string // the login flows it offers, for messages
}

func infoOf(name string) serviceInfo {
	switch name {
	case "vimeo":
		return serviceInfo{apiURL: videoauth.VimeoURL, register: "https://developer.vimeo.com/apps",
			flows: "the browser (default), --device or --client"}
	case "simkl":
		return serviceInfo{apiURL: videoauth.SimklAPIURL, register: "https://simkl.com/settings/developer/",
			flows: "the browser (default) or --device"}
	case "viki":
		return serviceInfo{apiURL: videoauth.VikiV3URL, register: "https://dev.viki.com",
			flows: "--password, --facebook or --client"}
	}
	return serviceInfo{}
}

// checkService refuses a name that is not a service.
func checkService(name string) error {
	for _, s := range serviceNames {
		if s == name {
			return nil
		}
	}
	return usageErr("The services are "+strings.Join(serviceNames, ", ")+".", "unknown service %q", name)
}

// session is one service, ready to use: its provider built from the
// resolved settings (or the sandbox's fake) and the token store.
type session struct {
	name    string
	account string // the account's name (accounts.go)
	key     string // the account's grant's key in the store
	set     settings
	clock   videoauth.Clock
	store   *videoauth.FileStore
	sb      *sandbox // nil outside --sandbox
	http    *http.Client

	vimeo *videoauth.Vimeo
	simkl *videoauth.Simkl
	viki  *videoauth.Viki // v3 OAuth: nil without its client id
	// vikiAPI is Viki's signed v4/v5 API, nil without its app id and
	// secret. signed says the session uses it, not v3: the grant is a v5
	// session, or curl makes an app-level call of the v4/v5 API.
	vikiAPI *videoauth.VikiAPI
	signed  bool
}

// provider is the session's provider, whichever service it is: for Viki,
// the v4/v5 API when the grant is a v5 session, else v3.
func (s *session) provider() videoauth.Provider {
	switch {
	case s.vimeo != nil:
		return s.vimeo
	case s.simkl != nil:
		return s.simkl
	case s.signed:
		return s.vikiAPI
	}
	return s.viki
}

// apiBase is the base URL API paths resolve against: for a Viki v5
// session, the v4/v5 API's.
func (s *session) apiBase() string {
	if s.signed {
		return signedBaseOf(s.set)
	}
	return apiBaseOf(s.name, s.set)
}

// signedBaseOf is the base URL of Viki's v4/v5 API under the settings set.
func signedBaseOf(set settings) string {
	if set.SignedAPIURL != "" {
		return strings.TrimRight(set.SignedAPIURL, "/")
	}
	return videoauth.VikiAPIURL
}

// needV3 makes sure Viki's v3 OAuth is configured, for what needs it.
func (s *session) needV3() error {
	if s.name != "viki" || s.viki != nil {
		return nil
	}
	if s.set.ClientID == "" {
		return s.missing("client id", "CLIENT_ID")
	}
	return s.missing("client secret", "CLIENT_SECRET")
}

// needSigned makes sure Viki's v4/v5 API is configured, for what needs it.
func (s *session) needSigned() error {
	if s.vikiAPI != nil {
		return nil
	}
	if s.set.AppID == "" {
		return s.missingApp("app id", "APP_ID")
	}
	return s.missingApp("app secret", "APP_SECRET")
}

// apiBaseOf is the base URL of service's API under the settings set.
func apiBaseOf(service string, set settings) string {
	if set.APIURL != "" {
		return strings.TrimRight(set.APIURL, "/")
	}
	return infoOf(service).apiURL
}

// generation parses the Simkl generation setting; "" means V2.
func generation(v string) (videoauth.SimklGeneration, error) {
	switch strings.ToLower(v) {
	case "", "v2", "2":
		return videoauth.SimklV2, nil
	case "v1", "1":
		return videoauth.SimklV1, nil
	}
	return 0, &cliError{code: exitConfig, msg: fmt.Sprintf("unknown Simkl generation %q", v), hint: "Use v2 (the default) or v1."}
}

// build makes the session's provider. Missing credentials get an error
// naming every place they can come from.
func (s *session) build(version string) error {
	set := s.set
	if set.ClientID == "" && s.name != "viki" {
		return s.missing("client id", "CLIENT_ID")
	}
	app := videoauth.App{
		ClientID: set.ClientID, ClientSecret: set.ClientSecret, Scopes: set.Scopes,
		APIURL: set.APIURL, WebURL: set.WebURL, Clock: s.clock, HTTPClient: s.http,
		AppName: set.AppName, AppVersion: set.AppVersion,
	}
	var err error
	switch s.name {
	case "vimeo":
		s.vimeo, err = videoauth.NewVimeo(app)
	case "simkl":
		if app.AppName == "" {
			app.AppName = "videoauth-cli"
		}
		if app.AppVersion == "" {
			app.AppVersion = version
		}
		var gen videoauth.SimklGeneration
		if gen, err = generation(set.Generation); err != nil {
			return err
		}
		s.simkl, err = videoauth.NewSimkl(app, gen)
	case "viki":
		// v3 and v4/v5 have credentials of their own; either may be all
		// a user has, and what needs the other says so (needV3, needSigned).
		if set.ClientID != "" && set.ClientSecret != "" {
			s.viki, err = videoauth.NewViki(app)
		}
		if err == nil && set.AppID != "" && set.AppSecret != "" {
			s.vikiAPI, err = videoauth.NewVikiAPI(videoauth.App{ClientID: set.AppID, ClientSecret: set.AppSecret,
				APIURL: set.SignedAPIURL, Clock: s.clock, HTTPClient: s.http}, videoauth.VikiSignQuery)
		}
	}
	if err != nil {
		return &cliError{code: exitConfig, msg: "invalid " + s.name + " settings", err: err,
			hint: "See `videoauth help config`."}
	}
	return nil
}

// missingApp is the error of a Viki v4/v5 app setting missing.
func (s *session) missingApp(what, suffix string) error {
	return &cliError{code: exitConfig, msg: fmt.Sprintf("no viki %s for the v4/v5 API", what),
		hint: fmt.Sprintf("Viki's current API signs every request with an app id and secret of its own (%s, %s or \"%s\" under \"viki\" in the config file: `videoauth help config`). "+
			"To try the tool without an app, add --sandbox.", envName("viki", "APP_ID"), envName("viki", "APP_SECRET"), strings.ToLower(suffix))}
}

func (s *session) missing(what, suffix string) error {
	flag := "--" + strings.ReplaceAll(what, " ", "-")
	return &cliError{code: exitConfig, msg: fmt.Sprintf("no %s %s", s.name, what),
		hint: fmt.Sprintf("Register an app at %s, then give its %s with %s, %s or the config file (`videoauth help config`). "+
			"To try the tool without an app, add --sandbox.", infoOf(s.name).register, what, flag, envName(s.name, suffix))}
}

// source returns a Source for the stored grant tok that renews it the way
// its grant allows, keeps it in the store, and never renews in the
// background: a command-line run exits right after using the token, and a
// renewal cut short could kill the printed token (Simkl V2) without saving
// its successor.
func (s *session) source(tok *videoauth.Token) *videoauth.Source {
	var src *videoauth.Source
	switch {
	case s.signed: // a v5 session: no password kept to sign in again
		src = s.vikiAPI.Source(tok)
	case tok.Meta[metaGrant] == grantPasted: // not minted here: never renewed
		switch {
		case s.vimeo != nil:
			src = s.vimeo.Source(tok)
		case s.simkl != nil:
			src = s.simkl.Source(tok)
		default:
			src = s.viki.Source(tok)
		}
	case s.vimeo != nil && tok.UserID == "":
		src = s.vimeo.ClientCredentials(tok.Scopes...) // an app token: mint another
		src.SetToken(tok)
	case s.vimeo != nil:
		src = s.vimeo.Source(tok)
	case s.simkl != nil:
		src = s.simkl.Source(tok)
	case tok.UserID == "":
		src = s.viki.ClientCredentials()
		src.SetToken(tok)
	default:
		src = s.viki.Source(tok) // a password grant: renewing needs the user
	}
	// The Source reads the store through boundStore, so a token another
	// process stored meanwhile for another API is not adopted, and every
	// token it mints records this session's API (binding.go) as it comes
	// from the token endpoint, before the Source saves or hands it out.
	src.Store, src.Key = boundStore{FileStore: s.store, s: s}, s.key
	if mint := src.Mint; mint != nil {
		binding := s.binding()
		src.Mint = func(ctx context.Context, cur *videoauth.Token) (*videoauth.Token, error) {
			tok, err := mint(ctx, cur)
			if tok != nil {
				bind(tok, binding)
			}
			return tok, err
		}
	}
	src.RefreshAhead = 1 // nanosecond: see above
	return src
}

// isVikiSession reports whether tok is a Viki v5 session (login viki
// --session), which the v4/v5 API takes, not v3.
func (s *session) isVikiSession(tok *videoauth.Token) bool {
	return s.name == "viki" && tok != nil && tok.Meta["viki_api"] == "v5"
}

// renewable reports whether the grant of tok can be renewed without the user.
func (s *session) renewable(tok *videoauth.Token) bool { return renewableGrant(s.name, tok) }
