package videoauth_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// dtTimeout is what a dial or read timeout looks like (net.Error).
type dtTimeout struct{}

func (dtTimeout) Error() string   { return "i/o timeout" }
func (dtTimeout) Timeout() bool   { return true }
func (dtTimeout) Temporary() bool { return true }

// dtFlaky times out the next n requests, then passes them on.
type dtFlaky struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (f *dtFlaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n.Add(-1) >= 0 {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, dtTimeout{}
	}
	return f.base.RoundTrip(r)
}

// dtClock steps its time by every wait (auto-advance); AfterCalls records
// the waits.
func dtClock() *videoauthtest.Clock {
	c := videoauthtest.NewClock(time.Now())
	c.SetAutoAdvance(true)
	return c
}

// docs/security.md, checklist item 30, end to end: device polls that time out
// double the interval and do not end the flow; Simkl V2 (RFC 8628) and Vimeo.
func TestDevicePollTimeoutsDoubleTheIntervalAndDoNotAbort(t *testing.T) {
	t.Run("vimeo", func(t *testing.T) {
		fake := videoauthtest.NewVimeo()
		defer fake.Close()
		flaky := &dtFlaky{base: fake.Client().Transport}
		clock := dtClock()
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL,
			Clock: clock, HTTPClient: &http.Client{Transport: flaky}})
		require.NoError(t, err)
		dc, err := v.Device(context.Background())
		require.NoError(t, err)
		require.True(t, fake.ApproveDevice(dc.UserCode))
		flaky.n.Store(3)
		tok, err := dc.Wait(context.Background())
		require.NoError(t, err, "timeouts are retried, not fatal")
		require.NotEmpty(t, tok.AccessToken)
		require.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second}, clock.AfterCalls())
		require.Equal(t, 1, fake.DevicePolls(), "the three timed-out polls never arrived")
	})
	t.Run("simkl-v2", func(t *testing.T) {
		fake := videoauthtest.NewSimkl()
		defer fake.Close()
		flaky := &dtFlaky{base: http.DefaultTransport}
		clock := dtClock()
		fake.SetClock(videoauthtest.NewClock(clock.Now()))
		app := simklApp(fake, videoauth.SimklV2, true)
		app.Clock, app.HTTPClient = clock, &http.Client{Transport: flaky}
		s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
		require.NoError(t, err)
		dc, err := s.Device(context.Background())
		require.NoError(t, err)
		require.True(t, fake.ApproveCode(dc.UserCode))
		flaky.n.Store(2)
		tok, err := dc.Wait(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, tok.AccessToken)
		i := dc.Interval
		require.Equal(t, []time.Duration{i, 2 * i, 4 * i}, clock.AfterCalls())
		require.Equal(t, 1, fake.DevicePolls())
		require.Zero(t, fake.MissingParams())
	})
}
