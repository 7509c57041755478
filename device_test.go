package videoauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth/videoauthtest"
)

// newStepClock returns the device tests' clock: After advances the clock's
// time by d and returns a channel that has already fired, so polling runs
// instantly and deterministically; AfterCalls lists every duration waited.
// With auto-advance off (SetAutoAdvance(false)), After records the wait but
// its channel never fires, as the tests never Advance.
func newStepClock() *videoauthtest.Clock {
	c := videoauthtest.NewClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	c.SetAutoAdvance(true)
	return c
}

// devTestStep is one scripted poll answer.
type devTestStep struct {
	outcome pollOutcome
	tok     *Token
	err     error
	cancel  bool // cancel the Wait context during this poll
	block   bool // from now on the clock's timers never fire
}

// devTestPoller answers polls from a script; past its end it answers pending.
type devTestPoller struct {
	t      *testing.T
	clock  *videoauthtest.Clock
	script []devTestStep
	cancel context.CancelFunc

	mu    sync.Mutex
	polls []time.Time // clock time of every poll
}

func (p *devTestPoller) poll(ctx context.Context) (*Token, pollOutcome, error) {
	p.mu.Lock()
	p.polls = append(p.polls, p.clock.Now())
	i := len(p.polls) - 1
	p.mu.Unlock()
	if i >= len(p.script) {
		return nil, pollPending, nil
	}
	s := p.script[i]
	if s.block {
		p.clock.SetAutoAdvance(false)
	}
	if s.cancel {
		require.NotNil(p.t, p.cancel, "script cancels but no cancel func")
		p.cancel()
	}
	return s.tok, s.outcome, s.err
}

func (p *devTestPoller) pollTimes() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.polls...)
}

// devTestSeconds turns whole seconds into durations, for readable tables.
func devTestSeconds(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, n := range s {
		out[i] = time.Duration(n) * time.Second
	}
	return out
}

func devTestRepeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// devTestStart builds a DeviceCode on a fresh step clock with a scripted poller.
func devTestStart(t *testing.T, expiresIn, interval time.Duration, script ...devTestStep) (*DeviceCode, *videoauthtest.Clock, *devTestPoller) {
	t.Helper()
	clock := newStepClock()
	p := &devTestPoller{t: t, clock: clock, script: script}
	dc := newDeviceCode("testprov", clock, expiresIn, interval, p.poll)
	return dc, clock, p
}

var devTestToken = &Token{AccessToken: "device-token", TokenType: "Bearer"}

func devTestSteps(outcomes ...pollOutcome) []devTestStep {
	s := make([]devTestStep, len(outcomes))
	for i, o := range outcomes {
		s[i] = devTestStep{outcome: o}
		if o == pollDone {
			s[i].tok = devTestToken
		}
	}
	return s
}

func TestDeviceWaitSchedule(t *testing.T) {
	boom := errors.New("videoauth: boom")
	tests := []struct {
		name      string
		expiresIn time.Duration
		interval  time.Duration
		script    []devTestStep
		wantWaits []time.Duration
		wantPolls int
		wantTok   bool
		wantErr   error // errors.Is target; nil with wantTok false means "some error"
	}{
		{name: "done on first poll after interval", expiresIn: time.Minute, interval: 5 * time.Second,
			script: devTestSteps(pollDone), wantWaits: devTestSeconds(5), wantPolls: 1, wantTok: true},
		{name: "interval zero means 5s", expiresIn: time.Minute, interval: 0,
			script: devTestSteps(pollPending, pollDone), wantWaits: devTestSeconds(5, 5), wantPolls: 2, wantTok: true},
		{name: "negative interval means 5s", expiresIn: time.Minute, interval: -time.Second,
			script: devTestSteps(pollDone), wantWaits: devTestSeconds(5), wantPolls: 1, wantTok: true},
		{name: "server interval honoured", expiresIn: time.Minute, interval: 7 * time.Second,
			script: devTestSteps(pollPending, pollPending, pollDone), wantWaits: devTestSeconds(7, 7, 7), wantPolls: 3, wantTok: true},
		{name: "pending keeps the interval", expiresIn: time.Minute, interval: 5 * time.Second,
			script: devTestSteps(pollPending, pollPending, pollPending, pollDone), wantWaits: devTestSeconds(5, 5, 5, 5), wantPolls: 4, wantTok: true},
		{name: "slow_down adds 5s for that and all later polls", expiresIn: 10 * time.Minute, interval: 5 * time.Second,
			script:    devTestSteps(pollPending, pollSlowDown, pollPending, pollSlowDown, pollPending, pollDone),
			wantWaits: devTestSeconds(5, 5, 10, 10, 15, 15), wantPolls: 6, wantTok: true},
		{name: "slow_down capped at maxInterval", expiresIn: 10 * time.Minute, interval: 115 * time.Second,
			script:    devTestSteps(pollSlowDown, pollSlowDown, pollDone),
			wantWaits: devTestSeconds(115, 120, 120), wantPolls: 3, wantTok: true},
		{name: "retry doubles up to maxInterval", expiresIn: 15 * time.Minute, interval: 5 * time.Second,
			script:    devTestSteps(pollRetry, pollRetry, pollRetry, pollRetry, pollRetry, pollRetry, pollDone),
			wantWaits: devTestSeconds(5, 10, 20, 40, 80, 120, 120), wantPolls: 7, wantTok: true},
		{name: "retry then pending keeps the doubled interval", expiresIn: 15 * time.Minute, interval: 5 * time.Second,
			script:    devTestSteps(pollRetry, pollPending, pollDone),
			wantWaits: devTestSeconds(5, 10, 10), wantPolls: 3, wantTok: true},
		{name: "fail stops at once with its error", expiresIn: time.Minute, interval: 5 * time.Second,
			script:    []devTestStep{{outcome: pollPending}, {outcome: pollFail, err: boom}, {outcome: pollDone, tok: devTestToken}},
			wantWaits: devTestSeconds(5, 5), wantPolls: 2, wantErr: boom},
		{name: "fail with access denied", expiresIn: time.Minute, interval: 5 * time.Second,
			script:    []devTestStep{{outcome: pollFail, err: &Error{Provider: "testprov", Code: "access_denied", Err: ErrAccessDenied}}},
			wantWaits: devTestSeconds(5), wantPolls: 1, wantErr: ErrAccessDenied},
		{name: "fail without error still fails", expiresIn: time.Minute, interval: 5 * time.Second,
			script: devTestSteps(pollFail), wantWaits: devTestSeconds(5), wantPolls: 1},
		{name: "unknown outcome fails", expiresIn: time.Minute, interval: 5 * time.Second,
			script: devTestSteps(pollOutcome(99)), wantWaits: devTestSeconds(5), wantPolls: 1},
		{name: "deadline truncates the last wait and never polls after it", expiresIn: 12 * time.Second, interval: 5 * time.Second,
			wantWaits: devTestSeconds(5, 5, 2), wantPolls: 2, wantErr: ErrExpiredCode},
		{name: "deadline on an interval boundary", expiresIn: 10 * time.Second, interval: 5 * time.Second,
			wantWaits: devTestSeconds(5, 5), wantPolls: 1, wantErr: ErrExpiredCode},
		{name: "slow_down near the deadline", expiresIn: 20 * time.Second, interval: 5 * time.Second,
			script:    devTestSteps(pollPending, pollSlowDown),
			wantWaits: devTestSeconds(5, 5, 10), wantPolls: 2, wantErr: ErrExpiredCode},
		{name: "interval longer than the lifetime", expiresIn: 30 * time.Second, interval: time.Minute,
			wantWaits: devTestSeconds(30), wantPolls: 0, wantErr: ErrExpiredCode},
		{name: "expires_in zero means 15 minutes", expiresIn: 0, interval: 0,
			wantWaits: devTestRepeat(5*time.Second, 180), wantPolls: 179, wantErr: ErrExpiredCode},
		{name: "negative expires_in means 15 minutes", expiresIn: -time.Second, interval: 60 * time.Second,
			wantWaits: devTestRepeat(time.Minute, 15), wantPolls: 14, wantErr: ErrExpiredCode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc, clock, p := devTestStart(t, tc.expiresIn, tc.interval, tc.script...)
			start := clock.Now()
			tok, err := dc.Wait(context.Background())

			require.Equal(t, tc.wantWaits, clock.AfterCalls(), "wait sequence")
			polls := p.pollTimes()
			require.Len(t, polls, tc.wantPolls, "number of polls")
			for _, at := range polls {
				require.True(t, at.Before(dc.ExpiresAt), "poll at %v is not before the deadline %v", at, dc.ExpiresAt)
			}
			// Each poll happens exactly after the cumulative waits before it.
			elapsed := time.Duration(0)
			for i, w := range clock.AfterCalls() {
				elapsed += w
				if i < len(polls) {
					require.Equal(t, start.Add(elapsed), polls[i], "poll %d time", i)
				}
			}
			if tc.wantTok {
				require.NoError(t, err)
				require.Same(t, devTestToken, tok)
				return
			}
			require.Error(t, err)
			require.Nil(t, tok)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			}
			if errors.Is(err, ErrExpiredCode) {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, "testprov", e.Provider)
				require.Equal(t, "device", e.Op)
				require.Equal(t, "expired_token", e.Code)
				require.False(t, clock.Now().Before(dc.ExpiresAt), "expired only once the deadline passed")
			}
		})
	}
}

func TestNewDeviceCodeDefaults(t *testing.T) {
	tests := []struct {
		name         string
		expiresIn    time.Duration
		interval     time.Duration
		wantLife     time.Duration
		wantInterval time.Duration
	}{
		{name: "given", expiresIn: 600 * time.Second, interval: 7 * time.Second, wantLife: 600 * time.Second, wantInterval: 7 * time.Second},
		{name: "zeros", wantLife: 15 * time.Minute, wantInterval: 5 * time.Second},
		{name: "negatives", expiresIn: -1, interval: -1, wantLife: 15 * time.Minute, wantInterval: 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newStepClock()
			dc := newDeviceCode("p", clock, tc.expiresIn, tc.interval, func(context.Context) (*Token, pollOutcome, error) { return nil, pollPending, nil })
			require.Equal(t, clock.Now().Add(tc.wantLife), dc.ExpiresAt)
			require.Equal(t, tc.wantInterval, dc.Interval)
			require.Empty(t, clock.AfterCalls(), "construction waits for nothing")
		})
	}
	t.Run("nil clock is the real clock", func(t *testing.T) {
		before := time.Now()
		dc := newDeviceCode("p", nil, time.Minute, time.Second, nil)
		require.NotNil(t, dc.clock)
		require.False(t, dc.ExpiresAt.Before(before.Add(time.Minute)))
	})
}

func TestDeviceWaitContext(t *testing.T) {
	t.Run("cancelled before Wait, timer pending", func(t *testing.T) {
		dc, clock, p := devTestStart(t, time.Minute, 5*time.Second, devTestSteps(pollDone)...)
		clock.SetAutoAdvance(false)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		tok, err := dc.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, tok)
		require.Empty(t, p.pollTimes(), "no poll after cancellation")
	})
	t.Run("cancelled before Wait, timer already fired", func(t *testing.T) {
		dc, _, _ := devTestStart(t, time.Minute, 5*time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		tok, err := dc.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, tok)
		// A fired timer and a done ctx are both ready; select would pick
		// one at random, so the ctx is checked first. 200 draws.
		for i := 0; i < 200; i++ {
			dc, _, p := devTestStart(t, time.Minute, 5*time.Second, devTestSteps(pollDone)...)
			tok, err := dc.Wait(ctx)
			require.ErrorIs(t, err, context.Canceled)
			require.Nil(t, tok)
			require.Empty(t, p.pollTimes(), "no poll after cancellation")
		}
	})
	t.Run("cancelled during a retry poll", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		dc, clock, p := devTestStart(t, time.Minute, 5*time.Second,
			devTestStep{outcome: pollPending},
			devTestStep{outcome: pollRetry, err: context.Canceled, cancel: true},
			devTestStep{outcome: pollDone, tok: devTestToken})
		p.cancel = cancel
		tok, err := dc.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, tok)
		require.Len(t, p.pollTimes(), 2)
		require.Equal(t, devTestSeconds(5, 5), clock.AfterCalls())
	})
	t.Run("cancelled during a pending poll", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		dc, clock, p := devTestStart(t, time.Minute, 5*time.Second,
			devTestStep{outcome: pollPending, cancel: true, block: true},
			devTestStep{outcome: pollDone, tok: devTestToken})
		p.cancel = cancel
		tok, err := dc.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, tok)
		require.Len(t, p.pollTimes(), 1)
		require.Equal(t, devTestSeconds(5), clock.AfterCalls(), "no timer is started once ctx is done")
	})
	t.Run("deadline exceeded", func(t *testing.T) {
		dc, clock, p := devTestStart(t, time.Minute, 5*time.Second, devTestSteps(pollDone)...)
		clock.SetAutoAdvance(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		_, err := dc.Wait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Empty(t, p.pollTimes())
	})
}

func TestDeviceWaitWithoutProvider(t *testing.T) {
	tests := []struct {
		name string
		dc   *DeviceCode
	}{
		{name: "nil", dc: nil},
		{name: "zero", dc: &DeviceCode{}},
		{name: "fields but no engine", dc: &DeviceCode{UserCode: "ABCD", Interval: time.Second, ExpiresAt: time.Now().Add(time.Minute)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NotPanics(t, func() {
				tok, err := tc.dc.Wait(context.Background())
				require.Error(t, err)
				require.Nil(t, tok)
			})
		})
	}
}

func TestDeviceCodeString(t *testing.T) {
	dc := &DeviceCode{UserCode: "ABCD-1234", VerificationURI: "https://vimeo.com/activate"}
	require.Equal(t, "go to https://vimeo.com/activate and enter ABCD-1234", dc.String())
}

// TestDeviceIntervalAboveCap: a server may ask for an interval above
// maxInterval (parseVimeoDevice accepts up to 3600 s).
func TestDeviceIntervalAboveCap(t *testing.T) {
	dc, clock, _ := devTestStart(t, time.Hour, 200*time.Second, devTestSteps(pollDone)...)
	_, err := dc.Wait(context.Background())
	require.NoError(t, err)
	require.Equal(t, devTestSeconds(200), clock.AfterCalls(), "the server's interval is honoured as given")

	// A server interval above maxInterval (2 min) is never shortened by a
	// slow_down or a network error (RFC 8628 §3.5: only ever slower).
	for _, o := range []pollOutcome{pollSlowDown, pollRetry} {
		dc, clock, _ := devTestStart(t, time.Hour, 200*time.Second, devTestStep{outcome: o}, devTestStep{outcome: pollDone, tok: devTestToken})
		_, err := dc.Wait(context.Background())
		require.NoError(t, err)
		w := clock.AfterCalls()
		require.Len(t, w, 2)
		require.GreaterOrEqual(t, w[1], 200*time.Second, "outcome %d must not shorten the interval", o)
	}
}

func TestParseVimeoDevice(t *testing.T) {
	const valid = `{"device_code":"dc-1","user_code":"ABCD","authorize_link":"https://api.vimeo.com/oauth/device/authorize","activate_link":"https://vimeo.com/activate","expires_in":600,"interval":5}`
	tests := []struct {
		name    string
		body    string
		wantErr bool
		check   func(t *testing.T, dr *vimeoDeviceResponse)
	}{
		{name: "valid", body: valid, check: func(t *testing.T, dr *vimeoDeviceResponse) {
			require.Equal(t, vimeoDeviceResponse{DeviceCode: "dc-1", UserCode: "ABCD", AuthorizeLink: "https://api.vimeo.com/oauth/device/authorize",
				ActivateLink: "https://vimeo.com/activate", ExpiresIn: 600, Interval: 5}, *dr)
		}},
		{name: "no authorize_link, no timing", body: `{"device_code":"d","user_code":"u","activate_link":"https://vimeo.com/activate"}`, check: func(t *testing.T, dr *vimeoDeviceResponse) {
			require.Zero(t, dr.ExpiresIn)
			require.Zero(t, dr.Interval)
		}},
		{name: "extra members ignored", body: `{"device_code":"d","user_code":"u","activate_link":"a","x":[1,{}]}`},
		{name: "limits inclusive", body: `{"device_code":"d","user_code":"u","activate_link":"a","expires_in":86400,"interval":3600}`},
		{name: "missing device_code", body: `{"user_code":"u","activate_link":"a"}`, wantErr: true},
		{name: "missing user_code", body: `{"device_code":"d","activate_link":"a"}`, wantErr: true},
		{name: "missing activate_link", body: `{"device_code":"d","user_code":"u","authorize_link":"a"}`, wantErr: true},
		{name: "empty device_code", body: `{"device_code":"","user_code":"u","activate_link":"a"}`, wantErr: true},
		{name: "device_code number", body: `{"device_code":1,"user_code":"u","activate_link":"a"}`, wantErr: true},
		{name: "negative expires_in", body: `{"device_code":"d","user_code":"u","activate_link":"a","expires_in":-1}`, wantErr: true},
		{name: "expires_in over a day", body: `{"device_code":"d","user_code":"u","activate_link":"a","expires_in":86401}`, wantErr: true},
		{name: "negative interval", body: `{"device_code":"d","user_code":"u","activate_link":"a","interval":-5}`, wantErr: true},
		{name: "interval over an hour", body: `{"device_code":"d","user_code":"u","activate_link":"a","interval":3601}`, wantErr: true},
		{name: "expires_in huge", body: `{"device_code":"d","user_code":"u","activate_link":"a","expires_in":1e30}`, wantErr: true},
		{name: "expires_in float", body: `{"device_code":"d","user_code":"u","activate_link":"a","expires_in":600.5}`, wantErr: true},
		{name: "expires_in string", body: `{"device_code":"d","user_code":"u","activate_link":"a","expires_in":"600"}`, wantErr: true},
		{name: "not JSON", body: `<html>oops</html>`, wantErr: true},
		{name: "empty", body: ``, wantErr: true},
		{name: "null", body: `null`, wantErr: true},
		{name: "array", body: `[]`, wantErr: true},
		{name: "truncated", body: valid[:40], wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dr, err := parseVimeoDevice([]byte(tc.body))
			if tc.wantErr {
				require.ErrorIs(t, err, ErrBadResponse)
				require.Nil(t, dr)
				return
			}
			require.NoError(t, err)
			require.NotEmpty(t, dr.DeviceCode)
			require.NotEmpty(t, dr.UserCode)
			require.NotEmpty(t, dr.ActivateLink)
			if tc.check != nil {
				tc.check(t, dr)
			}
		})
	}
}

func TestVimeoErrorShape(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode string
		wantDesc string
	}{
		{name: "api shape number code", body: `{"error":"Something strange occurred.","link":null,"developer_message":"The requested video couldn't be found.","error_code":5000}`,
			wantCode: "5000", wantDesc: "The requested video couldn't be found."},
		{name: "api shape 8003 number", body: `{"error":"Unable to authenticate","developer_message":"The token is no good.","error_code":8003}`,
			wantCode: "8003", wantDesc: "The token is no good."},
		{name: "api shape 8003 string", body: `{"error":"Unable to authenticate","error_code":"8003"}`,
			wantCode: "8003", wantDesc: "Unable to authenticate"},
		{name: "error_code string padded", body: `{"error_code":" 8001 "}`, wantCode: "8001"},
		{name: "error_code null falls through", body: `{"error":"invalid_token","error_code":null}`, wantCode: "invalid_token"},
		{name: "error_code bool ignored", body: `{"error":"x y","error_code":true}`, wantDesc: "x y"},
		{name: "error_code object ignored", body: `{"error":"x y","error_code":{}}`, wantDesc: "x y"},
		{name: "token endpoint shape", body: `{"error":"invalid_grant","error_description":"The authorization code is invalid."}`,
			wantCode: "invalid_grant", wantDesc: "The authorization code is invalid."},
		{name: "legacy text", body: `{"error":"You must provide a valid authenticated access token."}`,
			wantDesc: "You must provide a valid authenticated access token."},
		{name: "legacy code word", body: `{"error":"invalid_token"}`, wantCode: "invalid_token"},
		{name: "legacy too long for a code", body: `{"error":"` + devTestLong + `"}`, wantDesc: devTestLong},
		{name: "empty object", body: `{}`},
		{name: "non-JSON", body: `<html>502</html>`},
		{name: "empty", body: ``},
		{name: "null", body: `null`},
		{name: "array", body: `[{"error":"x"}]`},
		{name: "error not a string", body: `{"error":42}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, desc := vimeoErrorShape([]byte(tc.body))
			require.Equal(t, tc.wantCode, code, "code")
			require.Equal(t, tc.wantDesc, desc, "description")
		})
	}
}

var devTestLong = strings.Repeat("a", 65)

func TestJSONCode(t *testing.T) {
	tests := map[string]string{
		``:          "",
		`null`:      "",
		`8003`:      "8003",
		`"8003"`:    "8003",
		`" 8003 "`:  "8003",
		`8003.0`:    "8003.0",
		`-1`:        "-1",
		`true`:      "",
		`{}`:        "",
		`["8003"]`:  "",
		`"a b"`:     "a b",
		`"\u0041"`:  "A",
		`1e3`:       "1e3",
		`"invalid"`: "invalid",
	}
	for raw, want := range tests {
		t.Run(raw, func(t *testing.T) {
			require.Equal(t, want, jsonCode([]byte(raw)))
		})
	}
}

// TestCheckVerificationURI: a verification URI is an https page (plain
// http only to a loopback host) of printable ASCII, without user info, on
// one of the service's hosts; everything else, javascript: and data: URIs
// included, is refused with ErrBadVerificationURI, whose message quotes
// nothing of the URI.
func TestCheckVerificationURI(t *testing.T) {
	fake, err := url.Parse("http://127.0.0.1:8080")
	require.NoError(t, err)
	hosts := verificationHosts([]*url.URL{fake}, "simkl.com", "www.simkl.com")
	for _, ok := range []string{
		"https://simkl.com/pin",
		"https://simkl.com/pin/ABCDE",
		"https://SIMKL.COM/pin",
		"https://simkl.com:443/pin",
		"https://www.simkl.com/pin?code=ABCDE#top",
		"http://127.0.0.1:8080/pin", // the fake
		"https://127.0.0.1:8080/pin",
	} {
		require.NoError(t, checkVerificationURI(ok, hosts), ok)
	}
	for _, bad := range []string{
		"",
		"http://simkl.com/pin",                 // plain http to a public host
		"https://simkl.com:8443/pin",           // another port
		"https://evil.example/pin",             // another host
		"https://simkl.com.evil.example/pin",   // a look-alike
		"https://evilsimkl.com/pin",            // a look-alike
		"https://simkl.com./pin",               // not the host as configured
		"https://api.simkl.com/pin",            // not a host of this list
		"https://simkl.com@evil.example/pin",   // user info before another host
		"https://user:pw@simkl.com/pin",        // user info
		"https://simkl.com\\@evil.example/pin", // a backslash, which browsers read as a slash
		"javascript:alert(document.cookie)",    // script
		"JavaScript://simkl.com/%0Aalert(1)",   // script with a host-like part
		"data:text/html;base64,PHNjcmlwdD4=",   // inline page
		"file:///etc/passwd",                   // local file
		"ftp://simkl.com/pin",                  // another scheme
		"https:simkl.com/pin",                  // opaque
		"//simkl.com/pin",                      // relative
		"/pin",                                 // relative
		"simkl.com/pin",                        // relative
		"https://simkl.com/pin\r\nhttps://x",   // control characters
		"https://simkl.com/\u202enip",          // a bidi override
		"https://simkl.com/p in",               // a space
		"https://simkl.com/<script>",           // characters URIs leave out
		"http://127.0.0.1:9999/pin",            // a loopback port that is not the fake's
		"http://localhost:8080/pin",            // loopback, but not the host configured
		"https://xn--smkl-4qa.com/pin",         // an IDN look-alike
		"https://simkl.com%2eevil.example/pin", // an escaped dot
		"https://[::1]:8080/pin",               // another loopback address
	} {
		err := checkVerificationURI(bad, hosts)
		require.ErrorIs(t, err, ErrBadVerificationURI, "%q", bad)
		require.ErrorIs(t, err, ErrBadResponse, "%q", bad)
		require.NotContains(t, err.Error(), "evil", "%q", bad)
	}
}
