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
var serviceNames = []string{"vimeo", "simkl", "viki", "twitch", "dailymotion", "youtube", "trakt"}

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
	case "twitch":
		return serviceInfo{apiURL: videoauth.TwitchAPIURL, register: "https://dev.twitch.tv/console/apps",
			flows: "the browser (default), --device or --client"}
	case "dailymotion":
		return serviceInfo{apiURL: videoauth.DailymotionAPIURL, register: "https://www.dailymotion.com/partner/",
			flows: "the browser (default), --password, or --client with a private API key"}
	case "youtube":
		return serviceInfo{apiURL: videoauth.YouTubeAPIURL, register: "https://console.cloud.google.com/apis/credentials",
			flows: "the browser (default) or --device"}
	case "trakt":
		return serviceInfo{apiURL: videoauth.TraktAPIURL, register: "https://trakt.tv/oauth/applications",
			flows: "the browser (default, with the redirect URI registered: --port or --redirect-uri) or --device"}
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

	twitch *videoauth.Twitch
	// dailymotion is the public API key's provider (users' grants), nil
	// without its key and secret; dmPrivate the private key's, nil without
	// that key. private says the session uses dmPrivate: the grant is a
	// private key's token (login dailymotion --client).
	dailymotion *videoauth.Dailymotion
	dmPrivate   *videoauth.DailymotionPrivate
	private     bool

	// youtube is the Google client of the browser flow, youtubeTV that of
	// the device flow ("TVs and Limited Input devices"); either is nil
	// without its credentials. tv says the session uses youtubeTV: the
	// grant came from the device flow, and only its client refreshes it.
	youtube, youtubeTV *videoauth.YouTube
	tv                 bool
	// held is the grant the account holds when login signs in to YouTube
	// again: Google asks for consent (and mints another refresh token, of
	// 100 per account) only when no refresh token is held.
	held *videoauth.Token

	trakt *videoauth.Trakt
}

// metaClient is the Token.Meta key recording which of a service's clients
// the tool minted a grant with: clientTV for YouTube's device client.
const (
	metaClient = "videoauth_client"
	clientTV   = "tv"
)

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
	case s.twitch != nil:
		return s.twitch
	case s.trakt != nil:
		return s.trakt
	case s.private:
		return s.dmPrivate
	case s.name == "dailymotion":
		return s.dailymotion
	case s.tv:
		return s.youtubeTV
	case s.name == "youtube":
		return s.youtube
	}
	return s.viki
}

// apiBase is the base URL API paths resolve against: for a Viki v5
// session, the v4/v5 API's.
func (s *session) apiBase() string {
	if s.signed {
		return signedBaseOf(s.set)
	}
	if s.private && privateEndpoint(s.set) == videoauth.DailymotionPartner {
		return partnerBaseOf(s.set)
	}
	return apiBaseOf(s.name, s.set)
}

// partnerBaseOf is the base URL of Dailymotion's legacy partner API, which
// a private key on the partner endpoint uses.
func partnerBaseOf(set settings) string {
	if set.PartnerURL != "" {
		return strings.TrimRight(set.PartnerURL, "/")
	}
	return videoauth.DailymotionPartnerURL
}

// privateEndpoint is the endpoint of a Dailymotion private key the settings
// name: API v2 unless "partner" (checked by build).
func privateEndpoint(set settings) videoauth.DailymotionEndpoint {
	if strings.EqualFold(set.PrivateEndpoint, "partner") {
		return videoauth.DailymotionPartner
	}
	return videoauth.DailymotionV2
}

// isPrivateKey reports whether tok is a Dailymotion private key's token
// (login dailymotion --client), which the private key's provider takes.
func isPrivateKey(tok *videoauth.Token) bool {
	k := tok.Meta["dailymotion_key"]
	return k != "" && k != "public"
}

// needPublic makes sure Dailymotion's public API key is configured, for
// the grants of users.
func (s *session) needPublic() error {
	if s.name != "dailymotion" || s.dailymotion != nil {
		return nil
	}
	if s.set.ClientID == "" {
		return s.missing("client id", "CLIENT_ID")
	}
	return s.missing("client secret", "CLIENT_SECRET")
}

// needYouTube makes sure the YouTube client the session uses (tv: the
// device flow's) is configured.
func (s *session) needYouTube(tv bool) error {
	switch {
	case s.name != "youtube", tv && s.youtubeTV != nil, !tv && s.youtube != nil:
		return nil
	case tv && s.set.DeviceClientID != "":
		return s.missing("device client secret", "DEVICE_CLIENT_SECRET")
	case s.set.ClientID == "":
		return s.missing("client id", "CLIENT_ID")
	}
	return s.missing("client secret", "CLIENT_SECRET")
}

// needPrivate makes sure a Dailymotion private API key is configured, for
// login dailymotion --client and the tokens it stores.
func (s *session) needPrivate() error {
	if s.dmPrivate != nil {
		return nil
	}
	what, suffix := "private key", "PRIVATE_KEY"
	if s.set.PrivateKey != "" {
		what, suffix = "private secret", "PRIVATE_SECRET"
	}
	return &cliError{code: exitConfig, msg: "no dailymotion " + what,
		hint: fmt.Sprintf("A private API key (Dailymotion Studio → Organization settings → API keys) has an id and a secret of its own (%s, %s or \"%s\" under \"dailymotion\" in the config file: `videoauth help config`). "+
			"To try the tool without a key, add --sandbox.", envName("dailymotion", "PRIVATE_KEY"), envName("dailymotion", "PRIVATE_SECRET"), strings.ToLower(suffix))}
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
	if set.ClientID == "" && s.name != "viki" && s.name != "dailymotion" && s.name != "youtube" {
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
	case "trakt":
		// Trakt's edge refuses requests without a real User-Agent; the
		// client secret is optional (deprecated for user sign-in).
		if app.AppName == "" {
			app.AppName = "videoauth-cli"
		}
		if app.AppVersion == "" {
			app.AppVersion = version
		}
		s.trakt, err = videoauth.NewTrakt(app)
	case "twitch":
		// Without a secret Twitch's app is a public client: the device
		// flow only (the library refuses the others before any request).
		s.twitch, err = videoauth.NewTwitch(app)
	case "dailymotion":
		if len(app.Scopes) == 0 {
			app.Scopes = []string{videoauth.DailymotionScopeUserinfo} // Dailymotion requires a scope
		}
		// The public key (users) and a private key (the app alone) are two
		// keys, either of which may be all a user has: what needs the
		// other says so (needPublic, needPrivate).
		if set.ClientID != "" && set.ClientSecret != "" {
			// The password grant is offered only to login dailymotion
			// --password, the explicit choice of that flow (it warns).
			s.dailymotion, err = videoauth.NewDailymotion(app, videoauth.DailymotionConfig{InsecurePasswordGrant: true})
		}
		if err == nil && set.PrivateKey != "" && set.PrivateSecret != "" {
			ep := privateEndpoint(set)
			if set.PrivateEndpoint != "" && !strings.EqualFold(set.PrivateEndpoint, "v2") && ep != videoauth.DailymotionPartner {
				return &cliError{code: exitConfig, msg: fmt.Sprintf("unknown dailymotion private endpoint %q", shown(set.PrivateEndpoint)),
					hint: "Use v2 (the default) or partner."}
			}
			papp := videoauth.App{ClientID: set.PrivateKey, ClientSecret: set.PrivateSecret, Scopes: set.Scopes,
				APIURL: set.APIURL, Clock: s.clock, HTTPClient: s.http}
			if ep == videoauth.DailymotionPartner {
				papp.APIURL = set.PartnerURL
			}
			s.dmPrivate, err = videoauth.NewDailymotionPrivate(papp, videoauth.DailymotionPrivateConfig{Endpoint: ep, TokenURL: set.TokenURL})
		}
	case "youtube":
		// Google requires the secret of every client type, even with PKCE.
		if set.ClientID != "" && set.ClientSecret != "" {
			s.youtube, err = videoauth.NewYouTube(app)
		}
		tv := app
		if set.DeviceClientID != "" {
			tv.ClientID, tv.ClientSecret = set.DeviceClientID, set.DeviceClientSecret
		}
		if err == nil && tv.ClientID != "" && tv.ClientSecret != "" {
			s.youtubeTV, err = videoauth.NewYouTube(tv)
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
		switch p := s.provider().(type) {
		case *videoauth.Vimeo:
			src = p.Source(tok)
		case *videoauth.Simkl:
			src = p.Source(tok)
		case *videoauth.Twitch:
			src = p.Source(tok)
		case *videoauth.Dailymotion:
			src = p.Source(tok)
		case *videoauth.YouTube:
			src = p.Source(tok)
		case *videoauth.Trakt:
			src = p.Source(tok)
		case *videoauth.DailymotionPrivate: // a private key's token given: kept, never minted again
			src = videoauth.NewSource(tok, nil)
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
	case s.twitch != nil && tok.Meta["twitch_token"] == "app":
		src = s.twitch.ClientCredentials() // an app token: mint another
		src.SetToken(tok)
	case s.twitch != nil:
		src = s.twitch.Source(tok)
	case s.trakt != nil:
		src = s.trakt.Source(tok)
	case s.private:
		src = s.dmPrivate.ClientCredentials(tok.Scopes...) // the key's token: mint another
		src.SetToken(tok)
	case s.dailymotion != nil:
		src = s.dailymotion.Source(tok)
	case s.name == "youtube":
		src = s.provider().(*videoauth.YouTube).Source(tok)
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
				// A renewal of a grant acts for the grant's user; Twitch's
				// refresh answer does not name them (the library leaves
				// UserID empty), and the account would lose who it is.
				if tok.UserID == "" && cur != nil && cur.UserID != "" && tok != cur {
					tok.UserID = cur.UserID
				}
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
