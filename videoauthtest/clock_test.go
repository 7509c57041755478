package videoauthtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClockAfterFiresOnlyWhenAdvancedPast(t *testing.T) {
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c := NewClock(start)
	ch := c.After(5 * time.Second)
	require.Equal(t, 1, c.Waiters())
	c.Advance(4 * time.Second)
	select {
	case <-ch:
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Second)
	require.Equal(t, start.Add(5*time.Second), <-ch)
	require.Zero(t, c.Waiters())
	require.Equal(t, start.Add(5*time.Second), c.Now())
}

func TestClockZeroAndAutoAdvance(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	c := NewClock(start)
	require.Equal(t, start, <-c.After(0), "a non-positive wait fires at once")
	c.SetAutoAdvance(true)
	require.Equal(t, start.Add(time.Minute), <-c.After(time.Minute))
	require.Equal(t, start.Add(time.Minute), c.Now())
	require.Zero(t, c.Waiters())
}

func TestClockAfterCallsRecordsEveryWait(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	c := NewClock(start)
	require.Empty(t, c.AfterCalls())
	<-c.After(0)
	c.After(3 * time.Second) // waits: recorded all the same
	c.SetAutoAdvance(true)
	<-c.After(5 * time.Second)
	<-c.After(-time.Second)
	got := c.AfterCalls()
	require.Equal(t, []time.Duration{0, 3 * time.Second, 5 * time.Second, -time.Second}, got,
		"in call order, fired, waiting and auto-advanced alike")
	got[0] = time.Hour
	require.Zero(t, c.AfterCalls()[0], "a copy")
	c.Advance(time.Hour)
	require.Len(t, c.AfterCalls(), 4, "Advance is no After call")
}

func TestClockUntilWaiters(t *testing.T) {
	c := NewClock(time.Unix(1_000_000, 0))
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	require.True(t, closed(c.UntilWaiters(0)), "already reached")
	one, two := c.UntilWaiters(1), c.UntilWaiters(2)
	require.False(t, closed(one))
	<-c.After(0) // fires at once: nothing waits
	require.False(t, closed(one))
	c.After(time.Second)
	require.True(t, closed(one))
	require.False(t, closed(two))
	c.After(time.Minute)
	require.True(t, closed(two))
	require.True(t, closed(c.UntilWaiters(2)))

	c.Advance(time.Minute) // both fire
	require.False(t, closed(c.UntilWaiters(1)), "counts waiters now, not ever")

	auto := NewClock(time.Unix(0, 0))
	auto.SetAutoAdvance(true)
	ch := auto.UntilWaiters(1)
	<-auto.After(time.Second)
	require.False(t, closed(ch), "auto-advance: no After waits")
	auto.SetAutoAdvance(false)
	auto.After(time.Second)
	require.True(t, closed(ch))
}

// A goroutine that sleeps on the Clock is seen asleep without polling, and
// wakes when the test moves time.
func TestClockUntilWaitersWithASleeper(t *testing.T) {
	c := NewClock(time.Unix(1_000_000, 0))
	woke := make(chan time.Time)
	go func() { woke <- <-c.After(time.Minute) }()
	select {
	case <-c.UntilWaiters(1):
	case <-time.After(5 * time.Second):
		t.Fatal("the sleeper never slept")
	}
	require.Equal(t, []time.Duration{time.Minute}, c.AfterCalls())
	c.Advance(time.Minute)
	require.Equal(t, time.Unix(1_000_060, 0), <-woke)
}
