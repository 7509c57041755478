package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Sandbox scenarios: how the fake user and service behave.
const (
	scenarioDeny   = "deny"   // the consent page and device approval say no
	scenarioExpire = "expire" // nobody approves the device code; time runs fast so it expires
	scenarioRevoke = "revoke" // the service has forgotten the stored grant
)

var scenarioNames = []string{scenarioDeny, scenarioExpire, scenarioRevoke}

const (
	// sandboxApproveAfter is how long the sandbox's user takes to enter a
	// device code: long enough to see the code and the countdown.
	sandboxApproveAfter = 1500 * time.Millisecond
	// sandboxSpeed is how much faster time runs in the expire scenario, so a
	// five-minute code expires in a few seconds.
	sandboxSpeed = 100
	// sandboxV1DenyTimeout is the browser wait of the deny scenario with
	// Simkl V1, which never comes back after a denial.
	sandboxV1DenyTimeout = 3 * time.Second
	// sandboxPINSpeed is sandboxSpeed for the deny scenario's Simkl V1
	// PIN, whose code lives 15 minutes: it runs out in about 3 seconds.
	sandboxPINSpeed = 300
	// sandboxTwitchSpeed is sandboxSpeed for Twitch, whose device codes
	// live 30 minutes: they run out in about 3 seconds.
	sandboxTwitchSpeed = 600
)

// sandbox runs the fake of one service (package videoauthtest) in this
// process. Each run starts a fresh fake and tells it of the grant stored by
// an earlier run, so a sequence of commands behaves like one service.
type sandbox struct {
	scenario string
	vimeo    *videoauthtest.Vimeo
	simkl    *videoauthtest.Simkl
	viki     *videoauthtest.Viki
	twitch   *videoauthtest.Twitch
	dm       *videoauthtest.Dailymotion
	youtube  *videoauthtest.YouTube
	trakt    *videoauthtest.Trakt
	// traktPort is the loopback port of the redirect URI registered with
	// the fake Trakt, which compares redirect URIs exactly, as Trakt does.
	traktPort int

	// aliases maps the tokens of grants an earlier run stored to the ones
	// this run's fake issued in their place (restore): the fakes of Twitch
	// and Dailymotion cannot be told of tokens another fake issued, so the
	// sandbox's HTTP client (aliasTransport) sends these instead, and the
	// store keeps the grant as it was signed in with.
	mu      sync.Mutex
	aliases map[string]string

	fast     *videoauthtest.Clock // the expire scenario's clock; nil: real time
	speed    int                  // how much faster fast runs than real time
	stopTime chan struct{}
	wg       sync.WaitGroup
}

// startSandbox starts the fake of service with scenario applied; gen is
// the Simkl generation asked for.
func startSandbox(service, scenario, gen string) (*sandbox, error) {
	switch scenario {
	case "", scenarioDeny, scenarioExpire, scenarioRevoke:
	default:
		return nil, usageErr("The scenarios are "+strings.Join(scenarioNames, ", ")+".", "unknown sandbox scenario %q", scenario)
	}
	sb := &sandbox{scenario: scenario, stopTime: make(chan struct{})}
	// A Simkl V1 PIN cannot be denied, only left to expire: time runs fast
	// for it as in the expire scenario.
	v1, _ := generation(gen)
	if scenario == scenarioExpire || scenario == scenarioDeny && service == "simkl" && v1 == videoauth.SimklV1 {
		sb.speed = sandboxSpeed
		if scenario == scenarioDeny {
			sb.speed = sandboxPINSpeed
		}
		if service == "twitch" || service == "youtube" {
			sb.speed = sandboxTwitchSpeed
		}
		sb.fast = videoauthtest.NewClock(time.Now())
		sb.wg.Add(1)
		go sb.runClock()
	}
	switch service {
	case "vimeo":
		sb.vimeo = videoauthtest.NewVimeo()
		sb.vimeo.DenyConsent(scenario == scenarioDeny)
		if sb.fast != nil {
			sb.vimeo.SetClock(sb.fast)
		}
	case "simkl":
		sb.simkl = videoauthtest.NewSimkl()
		sb.simkl.DenyConsent(scenario == scenarioDeny)
		if sb.fast != nil {
			sb.simkl.SetClock(sb.fast)
		}
	case "viki":
		sb.viki = videoauthtest.NewViki()
		if sb.fast != nil {
			sb.viki.SetClock(sb.fast)
		}
	case "twitch":
		sb.twitch = videoauthtest.NewTwitch()
		sb.twitch.DenyConsent(scenario == scenarioDeny)
		if sb.fast != nil {
			sb.twitch.SetClock(sb.fast)
		}
	case "dailymotion":
		sb.dm = videoauthtest.NewDailymotion()
		sb.dm.DenyConsent(scenario == scenarioDeny)
		if sb.fast != nil {
			sb.dm.SetClock(sb.fast)
		}
	case "trakt":
		sb.trakt = videoauthtest.NewTrakt()
		if sb.traktPort = freePort(); sb.traktPort != 0 {
			sb.trakt.RedirectURI = fmt.Sprintf("http://127.0.0.1:%d/callback", sb.traktPort)
		}
		sb.trakt.DenyConsent(scenario == scenarioDeny)
		if sb.fast != nil {
			sb.trakt.SetClock(sb.fast)
		}
	case "youtube":
		sb.youtube = videoauthtest.NewYouTube()
		sb.youtube.DenyConsent(scenario == scenarioDeny)
		if sb.fast != nil {
			sb.youtube.SetClock(sb.fast)
		}
	}
	return sb, nil
}

// runClock moves the fast clock sandboxSpeed times faster than real time.
func (sb *sandbox) runClock() {
	defer sb.wg.Done()
	const step = 20 * time.Millisecond
	t := time.NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-sb.stopTime:
			return
		case <-t.C:
			sb.fast.Advance(step * time.Duration(sb.speed))
		}
	}
}

// clock is the time the library and the fake share.
func (sb *sandbox) clock() videoauth.Clock {
	if sb.fast == nil {
		return nil
	}
	return sb.fast
}

// close stops the fake and the clock.
func (sb *sandbox) close() {
	close(sb.stopTime)
	sb.wg.Wait()
	switch {
	case sb.vimeo != nil:
		sb.vimeo.Close()
	case sb.simkl != nil:
		sb.simkl.Close()
	case sb.viki != nil:
		sb.viki.Close()
	case sb.twitch != nil:
		sb.twitch.Close()
	case sb.dm != nil:
		sb.dm.Close()
	case sb.youtube != nil:
		sb.youtube.Close()
	case sb.trakt != nil:
		sb.trakt.Close()
	}
}

// settings are the fake's credentials and URLs, with the user's scopes and
// Simkl generation.
func (sb *sandbox) settings(service string, flags settings) settings {
	s := settings{Scopes: flags.Scopes, Generation: flags.Generation}
	switch service {
	case "vimeo":
		s.ClientID, s.ClientSecret, s.APIURL = sb.vimeo.ClientID, sb.vimeo.ClientSecret, sb.vimeo.URL
	case "simkl":
		s.ClientID, s.ClientSecret = sb.simkl.V2ClientID, sb.simkl.V2ClientSecret
		if gen, err := generation(flags.Generation); err == nil && gen == videoauth.SimklV1 {
			s.ClientID, s.ClientSecret = sb.simkl.ClientID, sb.simkl.ClientSecret
		}
		s.APIURL, s.WebURL = sb.simkl.APIURL, sb.simkl.WebURL
	case "viki":
		s.ClientID, s.ClientSecret, s.APIURL = sb.viki.ClientID, sb.viki.ClientSecret, sb.viki.URL
		s.AppID, s.AppSecret, s.SignedAPIURL = sb.viki.AppID, sb.viki.AppSecret, sb.viki.URL
	case "twitch":
		s.ClientID, s.ClientSecret, s.APIURL, s.WebURL = sb.twitch.ClientID, sb.twitch.ClientSecret, sb.twitch.APIURL, sb.twitch.IDURL
	case "dailymotion":
		s.ClientID, s.ClientSecret, s.APIURL, s.WebURL = sb.dm.PublicKey, sb.dm.PublicSecret, sb.dm.APIURL, sb.dm.WebURL
		s.PrivateKey, s.PrivateSecret = sb.dm.PrivateKey, sb.dm.PrivateSecret
		s.TokenURL, s.PartnerURL = sb.dm.OAuthURL+"/v2/token", sb.dm.PartnerURL
		s.PrivateEndpoint = flags.PrivateEndpoint
	case "trakt":
		// No client secret: Trakt deprecates it for user sign-in.
		s.ClientID, s.APIURL, s.WebURL = sb.trakt.ClientID, sb.trakt.APIURL, sb.trakt.AuthURL
	case "youtube":
		s.ClientID, s.ClientSecret, s.APIURL, s.WebURL = sb.youtube.ClientID, sb.youtube.ClientSecret, sb.youtube.APIURL, sb.youtube.WebURL
		s.DeviceClientID, s.DeviceClientSecret = sb.youtube.TVClientID, sb.youtube.TVClientSecret
	}
	return s
}

// restore tells the fake of the grant an earlier run stored, unless the
// scenario is that the service revoked it, and returns the grant to use.
// A Viki v5 session cannot be told to the fake (videoauthtest has no way
// to restore one): the fake opens a new session for its user, which this
// run uses in its place; the store keeps the one signed in with.
func (sb *sandbox) restore(service string, tok *videoauth.Token) *videoauth.Token {
	if sb.scenario == scenarioRevoke {
		return tok
	}
	if service == "viki" && tok.Meta["viki_api"] == "v5" {
		fresh := tok.Clone()
		fresh.AccessToken = sb.viki.IssueSession()
		return fresh
	}
	user := tok.UserID != ""
	switch service {
	case "vimeo":
		sb.vimeo.RestoreToken(tok.AccessToken, user, tok.Scopes...)
	case "simkl":
		v2 := videoauth.SimklGenerationOf(tok) == videoauth.SimklV2
		sb.simkl.RestoreToken(v2, tok.AccessToken, tok.RefreshToken, tok.Expiry, tok.Scopes...)
	case "viki":
		sb.viki.RestoreV3Token(tok.AccessToken, user, tok.Expiry)
	case "twitch", "dailymotion":
		sb.reissue(tok)
	case "youtube":
		// The fake restores grants of its Web client only: a device
		// grant's access token works, but the TV client cannot refresh it
		// in a later run (the fake answers invalid_grant).
		sb.youtube.RestoreToken(tok.AccessToken, tok.RefreshToken, tok.Expiry, tok.Scopes...)
	case "trakt":
		sb.trakt.RestoreToken(tok.AccessToken, tok.RefreshToken, tok.Expiry, tok.Scopes...)
	}
	return tok
}

// freePort is a loopback port nobody listens on now, or 0.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// reissue has this run's fake issue a grant like tok (Twitch and
// Dailymotion: their fakes have no way to accept a token another fake
// issued) and sends its tokens in place of tok's (aliasTransport).
func (sb *sandbox) reissue(tok *videoauth.Token) {
	var access, refresh string
	switch {
	case sb.twitch != nil && tok.Meta["twitch_token"] == "app":
		access = sb.twitch.IssueAppToken()
	case sb.twitch != nil:
		access, refresh = sb.twitch.IssueUserToken(tok.Meta["twitch_client"] == sb.twitch.PublicClientID, tok.Scopes...)
	case sb.dm != nil && isPrivateKey(tok):
		access = sb.dm.IssuePrivateToken(tok.Meta["dailymotion_key"] == "v2", tok.Scopes...)
	case sb.dm != nil:
		access, refresh = sb.dm.IssueUserToken(tok.Scopes...)
	default:
		return
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.aliases == nil {
		sb.aliases = map[string]string{}
	}
	if tok.AccessToken != "" {
		sb.aliases[tok.AccessToken] = access
	}
	if tok.RefreshToken != "" && refresh != "" {
		sb.aliases[tok.RefreshToken] = refresh
	}
}

// replacer is what aliasTransport applies to a request, nil when there
// is nothing to replace.
func (sb *sandbox) replacer() *strings.Replacer {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if len(sb.aliases) == 0 {
		return nil
	}
	pairs := make([]string, 0, 2*len(sb.aliases))
	for from, to := range sb.aliases {
		pairs = append(pairs, from, to)
	}
	return strings.NewReplacer(pairs...)
}

// aliasTransport sends each request to the sandbox's fake with the tokens
// of restored grants replaced by the fake's own (sandbox.reissue): in its
// headers, query and body. It sits under the library and curl -v, which
// see the stored tokens; it never prints anything.
type aliasTransport struct {
	base http.RoundTripper
	sb   *sandbox
}

func (t aliasTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := t.sb.replacer()
	if r == nil {
		return t.base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	for k, vs := range out.Header {
		for i, v := range vs {
			vs[i] = r.Replace(v)
		}
		out.Header[k] = vs
	}
	out.URL.RawQuery = r.Replace(out.URL.RawQuery)
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		b = []byte(r.Replace(string(b)))
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return t.base.RoundTrip(out)
}

// client is the HTTP client of a sandbox session: hc (curl -v's, or nil
// for the default) with aliasTransport under it where the fake needs it.
func (sb *sandbox) client(hc *http.Client) *http.Client {
	if sb.twitch == nil && sb.dm == nil {
		return hc
	}
	if hc == nil {
		return &http.Client{Transport: aliasTransport{base: http.DefaultTransport, sb: sb}}
	}
	if tt, ok := hc.Transport.(*traceTransport); ok {
		tt.base = aliasTransport{base: tt.base, sb: sb}
	}
	return hc
}

// acceptGiven makes the fake take tok, given with login --with-token, as
// its user's: the fake of this run issued no token, so it cannot know the
// one given. The revoke scenario leaves it unknown, to show a token the
// service rejects.
func (sb *sandbox) acceptGiven(service string, tok *videoauth.Token) {
	if sb.scenario == scenarioRevoke {
		return
	}
	switch service {
	case "vimeo":
		sb.vimeo.RestoreToken(tok.AccessToken, true, tok.Scopes...)
	case "simkl":
		sb.simkl.RestoreToken(videoauth.SimklGenerationOf(tok) == videoauth.SimklV2, tok.AccessToken, "", time.Time{}, tok.Scopes...)
	case "viki":
		sb.viki.RestoreV3Token(tok.AccessToken, true, time.Time{})
	case "twitch", "dailymotion":
		sb.reissue(tok)
	case "youtube":
		sb.youtube.RestoreToken(tok.AccessToken, "", time.Time{}, tok.Scopes...)
	case "trakt":
		sb.trakt.RestoreToken(tok.AccessToken, "", time.Time{}, tok.Scopes...)
	}
}

// openBrowser is the sandbox's browser: it follows the consent page's
// redirect back to the loopback listener, as a browser would after the user
// clicked Allow (or Deny, in the deny scenario).
func (sb *sandbox) openBrowser(ctx context.Context, authURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox browser: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Body.Close()
}

// answer plays the user at the device page: after a moment it approves
// userCode (or denies it in the deny scenario); in the expire scenario it
// never answers. It stops when ctx is done.
func (sb *sandbox) answer(ctx context.Context, userCode string) {
	if sb.scenario == scenarioExpire {
		return
	}
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(sandboxApproveAfter):
		}
		deny := sb.scenario == scenarioDeny
		switch {
		case sb.vimeo != nil && deny:
			sb.vimeo.DenyDevice(userCode)
		case sb.vimeo != nil:
			sb.vimeo.ApproveDevice(userCode)
		case sb.simkl != nil && deny:
			sb.simkl.DenyCode(userCode) // V1 PIN codes cannot be denied: they expire
		case sb.simkl != nil:
			sb.simkl.ApproveCode(userCode)
		case sb.twitch != nil && deny:
			sb.twitch.DenyCode(userCode)
		case sb.twitch != nil:
			sb.twitch.ApproveCode(userCode)
		case sb.trakt != nil && deny:
			sb.trakt.DenyCode(userCode)
		case sb.trakt != nil:
			sb.trakt.ApproveCode(userCode)
		case sb.youtube != nil && deny:
			sb.youtube.DenyCode(userCode)
		case sb.youtube != nil:
			sb.youtube.ApproveCode(userCode)
		}
	}()
}

// vikiFacebookToken is the one Facebook token the fake Viki takes.
func (sb *sandbox) vikiFacebookToken() string { return sb.viki.FacebookToken }

// vikiUser is the fake Viki's one user, shown by the sandbox's password prompt.
func (sb *sandbox) vikiUser() (username, password string) {
	return sb.viki.Username, sb.viki.Password
}

// dailymotionUser is the fake Dailymotion's user of the password grant.
func (sb *sandbox) dailymotionUser() (username, password string) {
	return sb.dm.Username, sb.dm.Password
}
