package videoauth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Provider is one service's OAuth server plus its quirks. Transport and
// Source only talk to this interface; everything service-specific lives
// behind it. Grants differ per service, so they are methods of the concrete
// providers (Vimeo, ...), not of this interface.
type Provider interface {
	// Name is the service's short name: "vimeo", "simkl", "viki".
	Name() string
	// Config returns a copy of the service's x/oauth2 configuration, with
	// endpoints set and AuthStyle explicit (never auto-detect).
	Config() *oauth2.Config
	// Owns reports whether u is one of the service's API hosts. Credentials
	// are attached to nothing else: a redirect to another host or a stray URL
	// never carries them (RFC 9700 §4.9).
	Owns(u *url.URL) bool
	// Authorize attaches t to r, a clone the caller owns: a header, a query
	// parameter or a signature, as the service wants.
	Authorize(r *http.Request, t *Token) error
	// Verdict classifies a response to an authorized request. It must not
	// consume resp.Body (it may peek and restore it).
	Verdict(resp *http.Response) Verdict
}

// Verdict is a provider's reading of an API response.
type Verdict int

const (
	// VerdictOK: hand the response to the caller.
	VerdictOK Verdict = iota
	// VerdictExpired: the token was rejected but a new one can be had
	// without the user; get one and replay the request once.
	VerdictExpired
	// VerdictRevoked: the grant is gone; return the response and make the
	// Source answer ErrReauthRequired until it is given a new token.
	VerdictRevoked
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case VerdictOK:
		return "ok"
	case VerdictExpired:
		return "expired"
	case VerdictRevoked:
		return "revoked"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// App is one registered application at a service: its credentials and how
// to reach the service. The zero value of every optional field is sensible.
// An App prints with its secret redacted.
type App struct {
	ClientID     string
	ClientSecret string
	// RedirectURL is the registered callback, used by AuthRequest when the
	// caller passes none.
	RedirectURL string
	// Scopes are requested when a grant is given none.
	Scopes []string
	// HTTPClient is the one place that sets how the service is reached
	// (proxy, mTLS, tracing, retries, timeouts): every request videoauth
	// sends goes through it — token endpoints, device and PIN flows,
	// revocation, verification, and the API requests of NewClient and
	// SignedClient, whose transport wraps HTTPClient's. nil means
	// http.DefaultClient. Token endpoints use a copy that follows no
	// redirects.
	HTTPClient *http.Client
	// AppName and AppVersion identify the application to services that
	// ask for it on every request (Simkl's app-name and app-version query
	// parameters; AppName a short lowercase identifier such as "my-app").
	AppName    string
	AppVersion string
	// UserAgent is sent where the service asks for one; "" means
	// "AppName/AppVersion".
	UserAgent string
	// Logger receives warnings the caller may want to act on, such as a
	// scope that was asked for but not granted; nil logs nothing. Nothing
	// secret is ever logged.
	Logger *slog.Logger
	// APIVersion selects the service's API version where it is chosen per
	// request (Vimeo's Accept header); "" means the provider's default.
	APIVersion string
	// APIURL overrides the base URL of the service's API and token endpoints
	// (a fake in tests, or a proxy), e.g. "http://127.0.0.1:8080".
	APIURL string
	// WebURL overrides the base URL of the service's browser pages (consent,
	// PIN entry) where they live on a different host than the API.
	WebURL string
	// Clock reads time and waits; nil is the real clock. Tests inject one.
	Clock Clock
	// Observer is told of the provider's mints, rejections, replays,
	// revocations, rate limits and store failures (see Observer): every
	// Source the provider builds gets it, and its token endpoints report
	// their rate limits to it. nil reports nothing.
	Observer Observer
}

func (a App) httpClient() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return http.DefaultClient
}

func (a App) userAgent() string {
	if a.UserAgent != "" {
		return a.UserAgent
	}
	return a.AppName + "/" + a.AppVersion
}

func (a App) warn(msg string, args ...any) {
	if a.Logger != nil {
		a.Logger.Warn(msg, args...)
	}
}

func (a App) scopes(given []string) []string {
	if len(given) > 0 {
		return slices.Clone(given)
	}
	return slices.Clone(a.Scopes)
}

// String describes the App without its secret. The URLs print as RedactURL
// writes them: a proxy's password in APIURL is a secret too.
func (a App) String() string {
	return fmt.Sprintf("videoauth.App{ClientID:%s ClientSecret:%s RedirectURL:%s Scopes:%v APIURL:%s WebURL:%s}",
		a.ClientID, presence(a.ClientSecret), redactString(a.RedirectURL), a.Scopes, redactString(a.APIURL), redactString(a.WebURL))
}

// GoString makes %#v redacted too.
func (a App) GoString() string { return a.String() }

// Format makes every fmt verb print the redacted form.
func (a App) Format(f fmt.State, verb rune) { printRedacted(f, verb, a.String()) }

// LogValue makes slog print the App without its secret.
func (a App) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", a.ClientID),
		slog.String("client_secret", presence(a.ClientSecret)),
		slog.String("redirect_url", redactString(a.RedirectURL)),
	)
}

// appDescription is what json.Marshal gives for an App: LogValue's members.
type appDescription struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"` // "REDACTED" or "none"
	RedirectURL  string `json:"redirect_url"`
}

// MarshalJSON gives the App without its secret (encoding/json would
// otherwise write ClientSecret, and slog's JSON handler marshals an App in
// a struct, slice or map with it).
func (a App) MarshalJSON() ([]byte, error) {
	return json.Marshal(appDescription{ClientID: a.ClientID, ClientSecret: presence(a.ClientSecret), RedirectURL: redactString(a.RedirectURL)})
}

// baseURL parses override or falls back to def, refusing anything but https
// or loopback http.
func baseURL(override, def string) (*url.URL, error) {
	s := def
	if override != "" {
		s = override
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, configErr("bad base URL %q", s)
	}
	if err := checkEndpoint(u); err != nil {
		return nil, fmt.Errorf("%w: %s", err, RedactURL(u))
	}
	u.Path = ""
	u.RawQuery = ""
	u.Fragment = ""
	return u, nil
}

// sameOrigin reports whether u is on base's origin: the same scheme, host
// and port (RFC 6454 §4). Scheme and host compare case-insensitively (RFC
// 3986 §6.2.2.1), and a port equal to the scheme's default — or empty —
// is the same as none (RFC 3986 §6.2.3: https://h:443 is https://h). Any
// other port is another origin. Userinfo is not part of the origin. It
// allocates nothing: the Transport asks it of every request.
func sameOrigin(u, base *url.URL) bool {
	if u != nil && base != nil && u.Scheme == base.Scheme && u.Host == base.Host {
		return true // the common case, without splitting the host
	}
	return u != nil && base != nil && strings.EqualFold(u.Scheme, base.Scheme) &&
		strings.EqualFold(u.Hostname(), base.Hostname()) && originPort(u) == originPort(base)
}

// originPort is u's port, or its scheme's default when it names none.
func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch {
	case strings.EqualFold(u.Scheme, "https"):
		return "443"
	case strings.EqualFold(u.Scheme, "http"):
		return "80"
	}
	return ""
}
