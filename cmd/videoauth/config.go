package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// settings are one service's credentials and options. They come from, in
// order of precedence, flags, environment variables and the config file.
type settings struct {
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Generation   string   `json:"generation,omitempty"`  // simkl: "v1" or "v2"
	AppName      string   `json:"app_name,omitempty"`    // simkl: app-name parameter
	AppVersion   string   `json:"app_version,omitempty"` // simkl: app-version parameter
	APIURL       string   `json:"api_url,omitempty"`     // a proxy or a fake instead of the service
	WebURL       string   `json:"web_url,omitempty"`     // simkl: the consent pages' host
	// Viki's current API (v4/v5) is signed with an app id and secret of its
	// own, on its own host: login viki --session, curl viki /v4/… and /v5/….
	AppID        string `json:"app_id,omitempty"`
	AppSecret    string `json:"app_secret,omitempty"`
	SignedAPIURL string `json:"signed_api_url,omitempty"` // a proxy or a fake instead of api.viki.io
	// Dailymotion's private API key (login dailymotion --client) is a key
	// of its own, on API v2 (the default) or the legacy partner API; its
	// token endpoint is not on the API host, so a proxy needs both URLs.
	PrivateKey      string `json:"private_key,omitempty"`
	PrivateSecret   string `json:"private_secret,omitempty"`
	PrivateEndpoint string `json:"private_endpoint,omitempty"` // "v2" or "partner"
	TokenURL        string `json:"token_url,omitempty"`        // the private key's token endpoint, with api_url
	PartnerURL      string `json:"partner_url,omitempty"`      // a proxy or a fake instead of partner.api.dailymotion.com
	// YouTube's device flow needs a Google client of the "TVs and Limited
	// Input devices" type, which cannot do the browser flow: its id and
	// secret, when the app has both kinds (else client_id's are used).
	DeviceClientID     string `json:"device_client_id,omitempty"`
	DeviceClientSecret string `json:"device_client_secret,omitempty"`
}

// String keeps the secret out of any accidental print.
func (s settings) String() string {
	redacted := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return "REDACTED"
	}
	return fmt.Sprintf("{client_id:%s client_secret:%s app_id:%s app_secret:%s private_key:%s private_secret:%s}",
		s.ClientID, redacted(s.ClientSecret), s.AppID, redacted(s.AppSecret), s.PrivateKey, redacted(s.PrivateSecret)) +
		fmt.Sprintf("{device_client_id:%s device_client_secret:%s}", s.DeviceClientID, redacted(s.DeviceClientSecret))
}

// settingEnv maps each setting to the suffix of its environment variable,
// VIDEOAUTH_<SERVICE>_<SUFFIX>.
var settingEnv = []struct {
	suffix string
	field  func(*settings) *string
}{
	{"CLIENT_ID", func(s *settings) *string { return &s.ClientID }},
	{"CLIENT_SECRET", func(s *settings) *string { return &s.ClientSecret }},
	{"GENERATION", func(s *settings) *string { return &s.Generation }},
	{"APP_NAME", func(s *settings) *string { return &s.AppName }},
	{"APP_VERSION", func(s *settings) *string { return &s.AppVersion }},
	{"API_URL", func(s *settings) *string { return &s.APIURL }},
	{"WEB_URL", func(s *settings) *string { return &s.WebURL }},
	{"APP_ID", func(s *settings) *string { return &s.AppID }},
	{"APP_SECRET", func(s *settings) *string { return &s.AppSecret }},
	{"SIGNED_API_URL", func(s *settings) *string { return &s.SignedAPIURL }},
	{"PRIVATE_KEY", func(s *settings) *string { return &s.PrivateKey }},
	{"PRIVATE_SECRET", func(s *settings) *string { return &s.PrivateSecret }},
	{"PRIVATE_ENDPOINT", func(s *settings) *string { return &s.PrivateEndpoint }},
	{"TOKEN_URL", func(s *settings) *string { return &s.TokenURL }},
	{"PARTNER_URL", func(s *settings) *string { return &s.PartnerURL }},
	{"DEVICE_CLIENT_ID", func(s *settings) *string { return &s.DeviceClientID }},
	{"DEVICE_CLIENT_SECRET", func(s *settings) *string { return &s.DeviceClientSecret }},
}

// configHelp is the text of `videoauth help config`.
const configHelp = `Credentials and settings for each service come from, highest precedence
first:

  1. flags: --client-id, --client-secret, --scopes, --generation
  2. environment variables, VIDEOAUTH_<SERVICE>_<SETTING>:
       VIDEOAUTH_VIMEO_CLIENT_ID     VIDEOAUTH_VIMEO_CLIENT_SECRET
       VIDEOAUTH_SIMKL_CLIENT_ID     VIDEOAUTH_SIMKL_CLIENT_SECRET
       VIDEOAUTH_SIMKL_GENERATION    (v2, the default, or v1)
       VIDEOAUTH_SIMKL_APP_NAME      VIDEOAUTH_SIMKL_APP_VERSION
       VIDEOAUTH_VIKI_CLIENT_ID      VIDEOAUTH_VIKI_CLIENT_SECRET   (v3 OAuth)
       VIDEOAUTH_VIKI_APP_ID         VIDEOAUTH_VIKI_APP_SECRET      (the v4/v5
                                     API: login viki --session, curl viki
                                     /v4/… and /v5/…)
       VIDEOAUTH_VIKI_SIGNED_API_URL (the v4/v5 API's host, api.viki.io)
       VIDEOAUTH_TWITCH_CLIENT_ID    VIDEOAUTH_TWITCH_CLIENT_SECRET (none: a
                                     public client, --device only)
       VIDEOAUTH_TWITCH_WEB_URL      (the identity host, id.twitch.tv)
       VIDEOAUTH_DAILYMOTION_CLIENT_ID     VIDEOAUTH_DAILYMOTION_CLIENT_SECRET
                                     (the public API key and its secret)
       VIDEOAUTH_DAILYMOTION_PRIVATE_KEY   VIDEOAUTH_DAILYMOTION_PRIVATE_SECRET
                                     (a private API key: login dailymotion
                                     --client)
       VIDEOAUTH_DAILYMOTION_PRIVATE_ENDPOINT (v2, the default, or partner)
       VIDEOAUTH_DAILYMOTION_WEB_URL (the consent host, www.dailymotion.com)
       VIDEOAUTH_DAILYMOTION_TOKEN_URL     (the private key's token endpoint
                                     when API_URL points at a proxy)
       VIDEOAUTH_DAILYMOTION_PARTNER_URL   (the partner API's host)
       VIDEOAUTH_TRAKT_CLIENT_ID     VIDEOAUTH_TRAKT_CLIENT_SECRET (optional)
       VIDEOAUTH_TRAKT_WEB_URL       (the OAuth host, auth.trakt.tv)
       VIDEOAUTH_YOUTUBE_CLIENT_ID   VIDEOAUTH_YOUTUBE_CLIENT_SECRET (a Google
                                     Desktop or Web client: the browser)
       VIDEOAUTH_YOUTUBE_DEVICE_CLIENT_ID  VIDEOAUTH_YOUTUBE_DEVICE_CLIENT_SECRET
                                     (a "TVs and Limited Input devices" client
                                     for --device; default: CLIENT_ID's)
       VIDEOAUTH_YOUTUBE_API_URL     (Google's token endpoint and the API, one
                                     base) VIDEOAUTH_YOUTUBE_WEB_URL (consent)
       VIDEOAUTH_<SERVICE>_SCOPES    (space or comma separated)
       VIDEOAUTH_<SERVICE>_API_URL   (a proxy instead of the service; a stored
                                     grant is used only with the API URL it
                                     was signed in with: exit code 7)
  3. the config file: $VIDEOAUTH_CONFIG, or config.json in the videoauth
     directory. It holds secrets, so keep it private (chmod 600):

       {
         "vimeo": {"client_id": "...", "client_secret": "..."},
         "simkl": {"client_id": "...", "generation": "v2"},
         "viki":  {"client_id": "...", "client_secret": "...",
                   "app_id": "...", "app_secret": "..."},
         "twitch": {"client_id": "...", "client_secret": "..."},
         "dailymotion": {"client_id": "...", "client_secret": "...",
                         "private_key": "...", "private_secret": "..."},
         "trakt": {"client_id": "..."},
         "youtube": {"client_id": "...", "client_secret": "...",
                     "device_client_id": "...", "device_client_secret": "..."}
       }

The videoauth directory is $VIDEOAUTH_CONFIG_DIR, or "videoauth" in your
user configuration directory (~/.config/videoauth on Linux). Tokens are kept
in its tokens/ folder, one file per service and account, readable only by
you, and accounts.json records each service's default account; --sandbox
keeps its own in sandbox/. Secrets given as flags are visible to other
users in the process list: prefer the environment or the config file.`

// configFile is the parsed config file: settings per service name.
type configFile map[string]settings

// maxConfigSize bounds the config file read; a real one is a few hundred bytes.
const maxConfigSize = 1 << 20

// loadConfig reads the config file at path. A missing file is an empty
// config unless explicit (the user named it). Unknown services and fields
// are errors, so a typo does not silently drop a credential. warn receives
// a warning when the file is readable by others.
func loadConfig(path string, explicit bool, warn io.Writer) (configFile, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return configFile{}, nil
	}
	if err != nil {
		return nil, &cliError{code: exitConfig, msg: "cannot read the config file", err: err,
			hint: "Check the path given by --config or VIDEOAUTH_CONFIG."}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(warn, "warning: %s holds secrets and is readable by other users; run: chmod 600 %s\n", path, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, &cliError{code: exitConfig, msg: "cannot read the config file", err: err}
	}
	if len(data) > maxConfigSize {
		return nil, &cliError{code: exitConfig, msg: fmt.Sprintf("the config file %s is larger than 1 MiB", path)}
	}
	return parseConfig(path, data)
}

// parseConfig decodes a config file's content.
func parseConfig(path string, data []byte) (configFile, error) {
	cfg := configFile{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, &cliError{code: exitConfig, msg: "the config file " + path + " is not valid", err: err,
			hint: "See `videoauth help config` for its format."}
	}
	if dec.More() {
		return nil, &cliError{code: exitConfig, msg: "the config file " + path + " has data after its JSON object",
			hint: "See `videoauth help config` for its format."}
	}
	for name := range cfg {
		if !slices.Contains(serviceNames, name) {
			return nil, &cliError{code: exitConfig, msg: fmt.Sprintf("the config file %s names an unknown service %q", path, name),
				hint: "The services are " + strings.Join(serviceNames, ", ") + "."}
		}
	}
	return cfg, nil
}

// resolve merges the sources of one service's settings: flags over
// environment over file.
func resolve(service string, file configFile, getenv func(string) string, flags settings) settings {
	s := file[service]
	for _, e := range settingEnv {
		if v := strings.TrimSpace(getenv(envName(service, e.suffix))); v != "" {
			*e.field(&s) = v
		}
		if v := *e.field(&flags); v != "" {
			*e.field(&s) = v
		}
	}
	if v := getenv(envName(service, "SCOPES")); strings.TrimSpace(v) != "" {
		s.Scopes = splitScopes(v)
	}
	if len(flags.Scopes) > 0 {
		s.Scopes = flags.Scopes
	}
	return s
}

// splitScopes accepts "a b", "a,b" and "a, b".
func splitScopes(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// defaultDir is the videoauth directory: $VIDEOAUTH_CONFIG_DIR, or
// "videoauth" in the user's configuration directory.
func defaultDir(getenv func(string) string) (string, error) {
	if d := getenv("VIDEOAUTH_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", &cliError{code: exitConfig, msg: "cannot find your configuration directory", err: err,
			hint: "Set VIDEOAUTH_CONFIG_DIR to a directory videoauth may use."}
	}
	return filepath.Join(base, "videoauth"), nil
}
