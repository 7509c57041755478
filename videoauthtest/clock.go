package videoauthtest

import (
	"slices"
	"sync"
	"time"
)

// Clock is a manual clock for tests and demos. It satisfies
// videoauth.Clock (Now and After), so a test can hand the same Clock to a
// fake server and to the code under test, then move time forward with
// Advance: tokens expire, device codes run out and refresh-ahead windows
// open without any test sleeping.
//
// In auto-advance mode (SetAutoAdvance) every After call moves the clock
// forward by its duration at once, so polling loops run instantly while
// still seeing the time they would have waited.
//
// A test can also see how the code under test waits: AfterCalls lists every
// duration it asked After for, and UntilWaiters tells when it is asleep, so
// the test moves time only then, without polling.
//
// A Clock is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	waiters []clockWaiter
	calls   []time.Duration
	watches []clockWatch
}

// clockWatch is an UntilWaiters channel, closed once n waiters wait.
type clockWatch struct {
	n  int
	ch chan struct{}
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once Advance has
// moved it d or more past now. In auto-advance mode the clock moves at once.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	if c.auto {
		c.advanceLocked(d)
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	c.notifyLocked()
	return ch
}

// Advance moves the clock forward by d and fires every After whose time has
// come.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(d)
}

func (c *Clock) advanceLocked(d time.Duration) {
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// SetAutoAdvance turns auto-advance mode on or off.
func (c *Clock) SetAutoAdvance(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auto = on
}

// Waiters returns how many After channels are waiting for Advance: a test
// can wait until the code under test is asleep before moving time.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// AfterCalls returns the durations of every After call so far, in order,
// whether it fired or not: the sequence of waits of a polling loop, for
// example.
func (c *Clock) AfterCalls() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// UntilWaiters returns a channel that is closed once n or more After
// channels are waiting for Advance (Waiters() >= n): at once if they
// already are. A test receives from it to know that the code under test is
// asleep before it moves time, instead of polling Waiters. In auto-advance
// mode no After channel waits, so for n > 0 it closes only once the mode is
// off and enough After calls wait.
func (c *Clock) UntilWaiters(n int) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) >= n {
		close(ch)
		return ch
	}
	c.watches = append(c.watches, clockWatch{n: n, ch: ch})
	return ch
}

// notifyLocked closes the UntilWaiters channels whose count is reached.
// c.mu must be held.
func (c *Clock) notifyLocked() {
	kept := c.watches[:0]
	for _, w := range c.watches {
		if len(c.waiters) >= w.n {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	clear(c.watches[len(kept):])
	c.watches = kept
}
