package videoauth

import (
	"context"
	"time"

	"github.com/videoauth/videoauth/internal/wire"
)

// Clock is the time source of everything that reads the time or waits:
// token expiry, refresh-ahead, device polling, loopback timeouts. Tests
// inject a fake so no test sleeps to wait for expiry.
type Clock interface {
	Now() time.Time
	// After is time.After: the channel delivers once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func clockOr(c Clock) Clock {
	if c == nil {
		return realClock{}
	}
	return c
}

// sleep waits d on c, or until ctx is done.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	// A timer that has already fired and a done ctx are both ready, and
	// select would pick one at random: the ctx wins.
	if d <= 0 || ctx.Err() != nil {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

var checkEndpoint = wire.CheckEndpoint
