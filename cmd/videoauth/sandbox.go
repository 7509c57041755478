package main

import (
	"context"
	"fmt"
	"io"
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
)

// sandbox runs the fake of one service (package videoauthtest) in this
// process. Each run starts a fresh fake and tells it of the grant stored by
// an earlier run, so a sequence of commands behaves like one service.
type sandbox struct {
	scenario string
	vimeo    *videoauthtest.Vimeo
	simkl    *videoauthtest.Simkl
	viki     *videoauthtest.Viki

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
	}
	return tok
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
		}
	}()
}

// vikiFacebookToken is the one Facebook token the fake Viki takes.
func (sb *sandbox) vikiFacebookToken() string { return sb.viki.FacebookToken }

// vikiUser is the fake Viki's one user, shown by the sandbox's password prompt.
func (sb *sandbox) vikiUser() (username, password string) {
	return sb.viki.Username, sb.viki.Password
}
