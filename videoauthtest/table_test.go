package videoauthtest

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMakeRoom(t *testing.T) {
	dead := func(n int) bool { return n < 0 }
	m := map[string]int{}
	for i := range maxEntries {
		n := i
		if i%2 == 0 {
			n = -1
		}
		m[fmt.Sprint(i)] = n
	}
	var dropped []int
	makeRoom(m, dead, func(n int) { dropped = append(dropped, n) })
	require.Equal(t, maxEntries/2, len(m), "only the dead entries go while they make room")
	require.Len(t, dropped, maxEntries/2)
	for _, n := range dropped {
		require.Negative(t, n)
	}

	for i := range maxEntries / 2 {
		m["live"+fmt.Sprint(i)] = i
	}
	require.Equal(t, maxEntries, len(m))
	makeRoom(m, dead, nil)
	require.Equal(t, maxEntries-1, len(m), "with no dead entry, one live entry goes")

	small := map[string]int{"a": -1}
	makeRoom(small, dead, nil)
	require.Equal(t, 1, len(small), "a table with room is left alone")
}

func TestDropDead(t *testing.T) {
	sweeps := 0
	dead := func(n int) bool { sweeps++; return n < 0 }
	m := map[string]int{}
	at := 0
	for i := range maxEntries - 1 {
		m[fmt.Sprint(i)] = i
		dropDead(m, &at, dead)
	}
	require.Zero(t, sweeps, "a table with room is not swept")
	m["x"] = -1
	dropDead(m, &at, dead)
	require.Equal(t, maxEntries-1, len(m), "the dead entry went, every live one stayed")
	require.NotContains(t, m, "x")
	require.Equal(t, 2*(maxEntries-1), at, "the next sweep waits until the live entries double")

	// A table of live entries is swept once per doubling: inserting n
	// entries calls dead O(n) times, not O(n²).
	sweeps = 0
	for i := range 3 * maxEntries {
		m[fmt.Sprint("live", i)] = i
		dropDead(m, &at, dead)
	}
	require.Equal(t, 4*maxEntries-1, len(m), "live entries are never dropped")
	require.Less(t, sweeps, 2*len(m), "%d calls of dead for %d entries", sweeps, len(m))
}

// TestVimeoCodeExpires: an authorization code not exchanged within
// codeTTL is refused like an unknown one, and is gone afterwards.
func TestVimeoCodeExpires(t *testing.T) {
	const redirect = "https://app.example/cb"
	for _, tc := range []struct {
		wait   time.Duration
		status int
	}{
		{codeTTL - time.Second, http.StatusOK},
		{codeTTL, http.StatusBadRequest},
	} {
		t.Run(tc.wait.String(), func(t *testing.T) {
			v := newFake(t)
			c := NewClock(time.Unix(1_700_000_000, 0))
			v.SetClock(c)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code(t, v, redirect, nil)}, "redirect_uri": {redirect}}
			c.Advance(tc.wait)
			r := postToken(t, v, "/oauth/access_token", form)
			require.Equal(t, tc.status, r.status, string(r.body))
			if tc.status != http.StatusOK {
				require.Equal(t, "invalid_grant", r.json(t)["error"])
			}
			v.mu.Lock()
			require.Empty(t, v.codes, "the code is gone once tried")
			v.mu.Unlock()
		})
	}
}

// TestVimeoTablesBounded: codes and device codes never outgrow
// maxEntries; expired tokens are forgotten when the table fills, live ones
// (Vimeo's tokens live until revoked) never are.
func TestVimeoTablesBounded(t *testing.T) {
	v := newFake(t)
	c := NewClock(time.Unix(1_700_000_000, 0))
	v.SetClock(c)
	v.mu.Lock()
	for i := range maxEntries {
		v.codes[fmt.Sprint("live", i)] = authCode{expires: c.Now().Add(time.Hour)}
		v.devices[fmt.Sprint("dev", i)] = &device{userCode: fmt.Sprint("U", i), expires: c.Now().Add(-time.Second)}
	}
	v.mu.Unlock()

	code(t, v, "https://app.example/cb", nil)
	r := postToken(t, v, "/oauth/device", url.Values{"grant_type": {"device_grant"}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	v.mu.Lock()
	require.Equal(t, maxEntries, len(v.codes), "one live code made room for the new one")
	require.Equal(t, 1, len(v.devices), "the expired device codes were dropped")
	v.mu.Unlock()

	live := v.mint(token{scope: "public private", user: true})
	v.mu.Lock()
	for i := range maxEntries - 1 {
		v.tokens[fmt.Sprint("old", i)] = token{user: true, expires: c.Now().Add(time.Minute)}
	}
	v.mu.Unlock()
	c.Advance(time.Minute) // the implicit-grant-like tokens expire
	v.mint(token{scope: "public", user: true})
	v.mu.Lock()
	require.Equal(t, 2, len(v.tokens), "expired tokens were dropped, the live ones kept")
	for i := range maxEntries {
		v.tokens[fmt.Sprint("forever", i)] = token{user: true}
	}
	v.mu.Unlock()
	v.mint(token{scope: "public"})
	v.mu.Lock()
	require.Equal(t, maxEntries+3, len(v.tokens), "no live token is forgotten")
	v.mu.Unlock()
	require.Equal(t, http.StatusOK, do(t, v, http.MethodGet, "/me", "", auth(live)...).status)
}

// TestVikiTablesBounded: expired v3 tokens and sessions are forgotten once
// their table is full.
func TestVikiTablesBounded(t *testing.T) {
	v, c := newViki(t)
	for range maxEntries {
		v.IssueV3Token()
	}
	for range maxEntries - 1 {
		v.IssueSession()
	}
	keep := v.IssueSession() // lives 30 days, longer than the v3 tokens' 24 hours
	c.Advance(vikiV3TTL)
	v.IssueV3Token()
	v.mu.Lock()
	require.Equal(t, 1, len(v.v3Tokens), "the expired v3 tokens were dropped")
	v.mu.Unlock()
	c.Advance(vikiSessionTTL - vikiV3TTL)
	v.IssueSession()
	v.mu.Lock()
	require.Equal(t, 1, len(v.sessions), "the expired sessions were dropped")
	_, ok := v.sessions[keep]
	v.mu.Unlock()
	require.False(t, ok)
}
