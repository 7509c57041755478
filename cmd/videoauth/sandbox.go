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
	stopTime chan struct{}
	wg       sync.WaitGroup
}

// startSandbox starts the fake of service with scenario applied.
func startSandbox(service, scenario string) (*sandbox, error) {
	switch scenario {
	case "", scenarioDeny, scenarioExpire, scenarioRevoke:
	default:
		return nil, usageErr("The scenarios are "+strings.Join(scenarioNames, ", ")+".", "unknown sandbox scenario %q", scenario)
	}
	sb := &sandbox{scenario: scenario, stopTime: make(chan struct{})}
	if scenario == scenarioExpire {
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
			sb.fast.Advance(step * sandboxSpeed)
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
	}
	return s
}

// restore tells the fake of the grant an earlier run stored, unless the
// scenario is that the service revoked it.
func (sb *sandbox) restore(service string, tok *videoauth.Token) {
	if sb.scenario == scenarioRevoke {
		return
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

// vikiUser is the fake Viki's one user, shown by the sandbox's password prompt.
func (sb *sandbox) vikiUser() (username, password string) {
	return sb.viki.Username, sb.viki.Password
}
