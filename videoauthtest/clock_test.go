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
