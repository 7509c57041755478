package videoauthtest

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests below play the life of the --sandbox mode: an earlier fake
// issues tokens through its real flows, a new fake (a later process) is
// given them with RestoreToken or RestoreV3Token, and both must then answer
// the same requests the same way.

var rsStart = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// ---- Vimeo ----

// rsVimeo returns a fake reading a new Clock at rsStart.
func rsVimeo(t *testing.T) (*Vimeo, *Clock) {
	t.Helper()
	v := newFake(t)
	c := NewClock(rsStart)
	v.SetClock(c)
	return v, c
}

// rsVimeoIssue obtains a token from v through a real flow: the code grant
// with scope when user is true, else client credentials.
func rsVimeoIssue(t *testing.T, v *Vimeo, user bool, scope string) string {
	t.Helper()
	var r reply
	if user {
		const cb = "https://app.example/cb"
		c := code(t, v, cb, url.Values{"scope": {scope}})
		r = postToken(t, v, "/oauth/access_token", url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {cb}})
	} else {
		r = postToken(t, v, "/oauth/authorize/client", url.Values{"grant_type": {"client_credentials"}})
	}
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return r.json(t)["access_token"].(string)
}

// rsVimeoCalls are the API requests whose answers a restored token must
// share with an issued one: {method, path, body}.
var rsVimeoCalls = [][3]string{
	{http.MethodGet, "/oauth/verify", ""},
	{http.MethodGet, "/me", ""},
	{http.MethodPatch, "/me", `{"name":"Renamed"}`},
	{http.MethodPost, "/me/videos", "0123456789"},
	{http.MethodGet, "/videos", ""},
	{http.MethodGet, "/videos/7", ""},
}

// rsVimeoSame sends every rsVimeoCalls request to a with token ta and to b
// with token tb, and requires the same answers (tokens in bodies swapped).
func rsVimeoSame(t *testing.T, a *Vimeo, ta string, b *Vimeo, tb string) {
	t.Helper()
	for _, call := range rsVimeoCalls {
		ra := do(t, a, call[0], call[1], call[2], auth(ta)...)
		rb := do(t, b, call[0], call[1], call[2], auth(tb)...)
		what := call[0] + " " + call[1]
		require.Equal(t, ra.status, rb.status, "%s: %s", what, rb.body)
		require.Equal(t, ra.header.Get("Content-Type"), rb.header.Get("Content-Type"), what)
		require.Equal(t, ra.header.Get("WWW-Authenticate"), rb.header.Get("WWW-Authenticate"), what)
		require.Equal(t, strings.ReplaceAll(string(ra.body), ta, tb), string(rb.body), what)
	}
}

func TestVimeoRestoreToken(t *testing.T) {
	for _, tc := range []struct {
		name      string
		user      bool
		flowScope string   // asked of the earlier fake's code grant (user only)
		restore   []string // given to RestoreToken
		wantScope string
		me        int // GET /me
		upload    int // POST /me/videos
	}{
		{"user, private upload", true, "private upload", []string{"private", "upload"}, "public private upload", 200, 201},
		{"user, public only", true, "public", nil, "public", 200, 403},
		{"user, public given", true, "video_files public", []string{"video_files", "public"}, "public video_files", 200, 403},
		{"app token", false, "", nil, "public", 401, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			earlier, ce := rsVimeo(t)
			later, cl := rsVimeo(t)
			tok := rsVimeoIssue(t, earlier, tc.user, tc.flowScope)

			later.RestoreToken(tok, tc.user, tc.restore...)
			r := do(t, later, http.MethodGet, "/oauth/verify", "", auth(tok)...)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			m := r.json(t)
			require.Equal(t, tok, m["access_token"])
			require.Equal(t, tc.wantScope, m["scope"])
			require.Equal(t, tc.user, m["user"] != nil)
			require.Equal(t, tc.me, do(t, later, http.MethodGet, "/me", "", auth(tok)...).status)
			require.Equal(t, tc.upload, do(t, later, http.MethodPost, "/me/videos", "x", auth(tok)...).status)
			rsVimeoSame(t, earlier, tok, later, tok)

			// Code-grant and client-credentials tokens never expire, and
			// neither does a restored one.
			ce.Advance(10 * 365 * 24 * time.Hour)
			cl.Advance(10 * 365 * 24 * time.Hour)
			rsVimeoSame(t, earlier, tok, later, tok)

			// DELETE /tokens ends it as it ends an issued token.
			require.Equal(t, http.StatusNoContent, do(t, earlier, http.MethodDelete, "/tokens", "", auth(tok)...).status)
			require.Equal(t, http.StatusNoContent, do(t, later, http.MethodDelete, "/tokens", "", auth(tok)...).status)
			rsVimeoSame(t, earlier, tok, later, tok)
			require.Equal(t, http.StatusUnauthorized, do(t, later, http.MethodGet, "/videos", "", auth(tok)...).status)

			require.Zero(t, later.TokenCalls(), "restoring is no token request")
			require.Zero(t, later.Mints())
		})
	}
}

func TestVimeoRestoreTokenReplaces(t *testing.T) {
	for _, tc := range []struct {
		name    string
		issue   func(t *testing.T, v *Vimeo) string
		user    bool
		scopes  []string
		advance time.Duration // before the checks
		me      int
		upload  int
	}{
		{"user token becomes an app token", func(t *testing.T, v *Vimeo) string { return v.IssueUserToken("upload") },
			false, nil, 0, 401, 403},
		{"app token becomes a user token", func(t *testing.T, v *Vimeo) string { return rsVimeoIssue(t, v, false, "") },
			true, []string{"upload"}, 0, 200, 201},
		{"user token loses a scope", func(t *testing.T, v *Vimeo) string { return v.IssueUserToken("upload") },
			true, []string{"private"}, 0, 200, 403},
		{"implicit token stops expiring", func(t *testing.T, v *Vimeo) string {
			r := authorize(t, v, url.Values{"response_type": {"token"}, "redirect_uri": {"https://app.example/cb"}, "state": {"s"}})
			u, err := url.Parse(r.header.Get("Location"))
			require.NoError(t, err)
			f, err := url.ParseQuery(u.Fragment)
			require.NoError(t, err)
			require.NotEmpty(t, f.Get("access_token"))
			return f.Get("access_token")
		}, true, []string{"upload"}, implicitTTL, 200, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, c := rsVimeo(t)
			tok := tc.issue(t, v)
			v.RestoreToken(tok, tc.user, tc.scopes...)
			c.Advance(tc.advance)
			require.Equal(t, tc.me, do(t, v, http.MethodGet, "/me", "", auth(tok)...).status)
			require.Equal(t, tc.upload, do(t, v, http.MethodPost, "/me/videos", "x", auth(tok)...).status)
			require.Equal(t, http.StatusOK, do(t, v, http.MethodGet, "/videos", "", auth(tok)...).status)
		})
	}
	t.Run("empty access is ignored", func(t *testing.T) {
		v, _ := rsVimeo(t)
		v.RestoreToken("", true, "upload")
		v.mu.Lock()
		n := len(v.tokens)
		v.mu.Unlock()
		require.Zero(t, n)
	})
	t.Run("a deleted restored token is refused as an expired one", func(t *testing.T) {
		v, c := rsVimeo(t)
		implicit := authorize(t, v, url.Values{"response_type": {"token"}, "redirect_uri": {"https://app.example/cb"}, "state": {"s"}})
		u, _ := url.Parse(implicit.header.Get("Location"))
		f, _ := url.ParseQuery(u.Fragment)
		expired := f.Get("access_token")
		c.Advance(implicitTTL)
		v.RestoreToken("restored-token", true)
		v.DeleteToken("restored-token")
		for _, p := range []string{"/videos", "/oauth/verify"} {
			want := do(t, v, http.MethodGet, p, "", auth(expired)...)
			got := do(t, v, http.MethodGet, p, "", auth("restored-token")...)
			require.Equal(t, http.StatusUnauthorized, got.status, p)
			require.Equal(t, want.status, got.status, p)
			require.Equal(t, want.header.Get("WWW-Authenticate"), got.header.Get("WWW-Authenticate"), p)
			require.Equal(t, string(want.body), string(got.body), p)
		}
	})
}

// rsVimeoDevice starts a device grant on v and returns the poll form and
// the user code.
func rsVimeoDevice(t *testing.T, v *Vimeo) (url.Values, string) {
	t.Helper()
	r := postToken(t, v, "/oauth/device", url.Values{"grant_type": {"device_grant"}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	uc := m["user_code"].(string)
	return url.Values{"grant_type": {"device_grant"}, "device_code": {m["device_code"].(string)}, "user_code": {uc}}, uc
}

func rsVimeoPoll(t *testing.T, v *Vimeo, form url.Values) (int, string) {
	t.Helper()
	r := postToken(t, v, "/oauth/device/authorize", form)
	return r.status, r.json(t)["error"].(string)
}

func TestVimeoSetClock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		clockAt   time.Duration // the Clock's start, from the real time
		advance   time.Duration // Clock.Advance after the device code is issued
		resetNil  bool          // SetClock(nil) before polling
		wantError string
	}{
		{"before the TTL", 0, deviceTTL - time.Second, false, "authorization_pending"},
		{"at the TTL", 0, deviceTTL, false, "expired_token"},
		{"far past the TTL", 0, 48 * time.Hour, false, "expired_token"},
		// A Clock an hour behind issues a code that real time sees expired
		// (and one a day ahead, a code real time sees alive): SetClock(nil)
		// goes back to real time.
		{"nil restores real time (expired)", -time.Hour, 0, true, "expired_token"},
		{"nil restores real time (pending)", 24 * time.Hour, 0, true, "authorization_pending"},
		{"clock behind, kept", -time.Hour, 0, false, "authorization_pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newFake(t)
			c := NewClock(time.Now().Add(tc.clockAt))
			v.SetClock(c)
			form, uc := rsVimeoDevice(t, v)
			c.Advance(tc.advance)
			if tc.resetNil {
				v.SetClock(nil)
			}
			status, e := rsVimeoPoll(t, v, form)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, tc.wantError, e)
			require.Equal(t, tc.wantError == "authorization_pending", v.ApproveDevice(uc), "an expired code cannot be approved")
		})
	}
	t.Run("implicit tokens expire by the Clock", func(t *testing.T) {
		v, c := rsVimeo(t)
		r := authorize(t, v, url.Values{"response_type": {"token"}, "redirect_uri": {"https://app.example/cb"}, "state": {"s"}})
		u, _ := url.Parse(r.header.Get("Location"))
		f, _ := url.ParseQuery(u.Fragment)
		tok := f.Get("access_token")
		c.Advance(implicitTTL - time.Second)
		require.Equal(t, http.StatusOK, do(t, v, http.MethodGet, "/videos", "", auth(tok)...).status)
		c.Advance(time.Second)
		require.Equal(t, http.StatusUnauthorized, do(t, v, http.MethodGet, "/videos", "", auth(tok)...).status)
	})
}

// ---- Simkl ----

func rsSimkl(t *testing.T) (*Simkl, *Clock) {
	t.Helper()
	s := newSimklFake(t)
	c := NewClock(rsStart)
	s.SetClock(c)
	return s, c
}

func rsSimklRefresh(t *testing.T, s *Simkl, rt string) skReply {
	t.Helper()
	return skPostForm(t, s, "/oauth2/token", s.V2ClientID, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.V2ClientID},
	})
}

func rsSimklRevoke(t *testing.T, s *Simkl, token string) skReply {
	t.Helper()
	return skPostForm(t, s, "/oauth2/revoke", s.V2ClientID, url.Values{"token": {token}, "client_id": {s.V2ClientID}})
}

func rsSimklHistory(t *testing.T, s *Simkl, clientID, token string) skReply {
	t.Helper()
	return skDo(t, http.MethodPost, skURL(s.APIURL, "/sync/history", skQuery(clientID, nil)), `{"movies":[{"ids":{"simkl":1}}]}`,
		"Authorization", "Bearer "+token, "Content-Type", "application/json")
}

// rsSimklCalls sends the API requests whose answers a restored token must
// share with an issued one.
func rsSimklCalls(t *testing.T, s *Simkl, clientID, token string) []skReply {
	t.Helper()
	return []skReply{
		skGet(t, s, "/users/settings", clientID, token),
		skGet(t, s, "/sync/activities", clientID, token),
		skDo(t, http.MethodGet, skURL(s.APIURL, "/search/movie", skQuery(clientID, url.Values{"q": {"Heat"}})), "", "Authorization", "Bearer "+token),
		rsSimklHistory(t, s, clientID, token),
	}
}

// rsSimklSame requires the same answers from a (token ta) and b (token tb),
// under clientID of each, and returns b's statuses.
func rsSimklSame(t *testing.T, a *Simkl, aID, ta string, b *Simkl, bID, tb string) []int {
	t.Helper()
	ra, rb := rsSimklCalls(t, a, aID, ta), rsSimklCalls(t, b, bID, tb)
	var statuses []int
	for i := range ra {
		require.Equal(t, ra[i].status, rb[i].status, "call %d: %s", i, rb[i].body)
		require.Equal(t, ra[i].header.Get("Content-Type"), rb[i].header.Get("Content-Type"), "call %d", i)
		require.Equal(t, string(ra[i].body), string(rb[i].body), "call %d", i)
		statuses = append(statuses, rb[i].status)
	}
	return statuses
}

func TestSimklRestoreTokenV1(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prior   bool // the later fake has issued a V1 token of its own
		refresh string
		expiry  time.Time
		scopes  []string
	}{
		{"fresh fake", false, "", time.Time{}, nil},
		{"replaces the fake's own token", true, "", time.Time{}, nil},
		{"refresh, expiry and scopes are ignored", false, "simkl_rt_ignored", rsStart.Add(-time.Hour), []string{"media:write", "bogus"}},
		{"a near expiry is ignored", true, "", rsStart.Add(time.Minute), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			earlier, ce := rsSimkl(t)
			later, cl := rsSimkl(t)
			var stale string
			if tc.prior {
				stale, _ = later.IssueToken(false) // replaced below
			}
			tok := skV1Flow(t, earlier)

			later.RestoreToken(false, tok, tc.refresh, tc.expiry, tc.scopes...)
			ok := rsSimklSame(t, earlier, earlier.ClientID, tok, later, later.ClientID, tok)
			require.Equal(t, []int{200, 200, 200, 201}, ok)
			refused := rsSimklSame(t, earlier, earlier.V2ClientID, tok, later, later.V2ClientID, tok)
			require.Equal(t, []int{401, 401, 401, 401}, refused, "a V1 token is no V2 token")
			if tc.prior {
				skGet(t, later, "/users/settings", later.ClientID, stale).requireErr(t, 401, "user_token_failed")
			}

			require.Equal(t, tok, skV1Flow(t, later), "same user, same token")
			again, rt := later.IssueToken(false)
			require.Equal(t, tok, again)
			require.Empty(t, rt)
			if tc.refresh != "" {
				rsSimklRefresh(t, later, tc.refresh).requireErr(t, 400, "invalid_grant")
			}

			// Both fakes issued (or restored) the token at rsStart; it
			// lives 5 years on both.
			ce.Advance(simklV1TTL - time.Second)
			cl.Advance(simklV1TTL - time.Second)
			require.Equal(t, []int{200, 200, 200, 201}, rsSimklSame(t, earlier, earlier.ClientID, tok, later, later.ClientID, tok))
			ce.Advance(time.Second)
			cl.Advance(time.Second)
			require.Equal(t, []int{401, 401, 401, 401}, rsSimklSame(t, earlier, earlier.ClientID, tok, later, later.ClientID, tok))
			skGet(t, later, "/users/settings", later.ClientID, tok).requireErr(t, 401, "user_token_failed")
			require.NotEqual(t, tok, skV1Flow(t, later), "an expired V1 token is replaced")
			require.Zero(t, later.KilledTokenUses())
		})
	}
}

func TestSimklRestoreTokenV2(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flowScope string
		restore   []string
		wantScope string
		history   int // POST /sync/history
	}{
		{"read only", "", nil, "media:read", 403},
		{"read and write", "media:read media:write", []string{"media:write", "media:read"}, "media:read media:write", 201},
		{"write, unknown dropped", "media:write", []string{"media:write", "media:wirte", "bogus"}, "media:write", 201},
		{"unknown only means read", "media:read", []string{"bogus"}, "media:read", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			earlier, ce := rsSimkl(t)
			later, cl := rsSimkl(t)
			advance := func(d time.Duration) { ce.Advance(d); cl.Advance(d) }
			m := skV2Flow(t, earlier, tc.flowScope)
			require.Equal(t, tc.wantScope, m["scope"])
			at, rt := m["access_token"].(string), m["refresh_token"].(string)

			later.RestoreToken(true, at, rt, time.Time{}, tc.restore...)
			live := []int{200, 200, 200, tc.history}
			require.Equal(t, live, rsSimklSame(t, earlier, earlier.V2ClientID, at, later, later.V2ClientID, at))
			require.Equal(t, []int{401, 401, 401, 401}, rsSimklSame(t, earlier, earlier.ClientID, at, later, later.ClientID, at),
				"a V2 token works with the V2 client id only")

			// A zero expiry is the usual 7 days.
			advance(simklAccessTTL - time.Second)
			require.Equal(t, live, rsSimklSame(t, earlier, earlier.V2ClientID, at, later, later.V2ClientID, at))
			advance(time.Second)
			require.Equal(t, []int{401, 401, 401, 401}, rsSimklSame(t, earlier, earlier.V2ClientID, at, later, later.V2ClientID, at))
			skGet(t, later, "/users/settings", later.V2ClientID, at).requireErr(t, 401, "user_token_failed")
			require.Zero(t, later.KilledTokenUses(), "expired, not killed")

			// The refresh token works, does not rotate, and kills the old
			// access token.
			ra, rb := rsSimklRefresh(t, earlier, rt), rsSimklRefresh(t, later, rt)
			require.Equal(t, http.StatusOK, rb.status, string(rb.body))
			ma, mb := ra.json(t), rb.json(t)
			require.NotEqual(t, at, mb["access_token"])
			require.Equal(t, rt, mb["refresh_token"], "non-rotating")
			for _, k := range []string{"token_type", "expires_in", "scope", "refresh_token"} {
				require.Equal(t, ma[k], mb[k], k)
			}
			newA, newB := ma["access_token"].(string), mb["access_token"].(string)
			require.Equal(t, live, rsSimklSame(t, earlier, earlier.V2ClientID, newA, later, later.V2ClientID, newB))
			require.Equal(t, []int{401, 401, 401, 401}, rsSimklSame(t, earlier, earlier.V2ClientID, at, later, later.V2ClientID, at))
			require.Equal(t, 4, later.KilledTokenUses(), "each use of the killed token counts")
			require.Equal(t, earlier.KilledTokenUses(), later.KilledTokenUses())

			// The refresh token slides: 179 days idle, then a refresh.
			advance(179 * 24 * time.Hour)
			rb = rsSimklRefresh(t, later, rt)
			require.Equal(t, http.StatusOK, rb.status, string(rb.body))
			newB = rb.json(t)["access_token"].(string)
			require.Equal(t, http.StatusOK, skGet(t, later, "/users/settings", later.V2ClientID, newB).status)

			// Revocation through /oauth2/revoke ends the grant.
			require.Equal(t, http.StatusOK, rsSimklRevoke(t, later, rt).status)
			skGet(t, later, "/users/settings", later.V2ClientID, newB).requireErr(t, 401, "user_token_failed")
			rsSimklRefresh(t, later, rt).requireErr(t, 400, "invalid_grant")
			require.Equal(t, 3, later.Refreshes())
			require.Zero(t, later.Exchanges(), "restoring is no token request")
		})
	}
}

func TestSimklRestoreTokenV2Expiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expiry time.Duration // from rsStart; 0 means a zero expiry
		liveTo time.Duration // the token works before rsStart+liveTo
	}{
		{"zero is 7 days", 0, simklAccessTTL},
		{"an hour", time.Hour, time.Hour},
		{"longer than usual", 30 * 24 * time.Hour, 30 * 24 * time.Hour},
		{"already expired", -time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := rsSimkl(t)
			var expiry time.Time
			if tc.expiry != 0 {
				expiry = rsStart.Add(tc.expiry)
			}
			s.RestoreToken(true, "simkl_at_restored", "simkl_rt_restored", expiry, "media:read", "media:write")
			if tc.liveTo > 0 {
				c.Advance(tc.liveTo - time.Second)
				require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_restored").status)
				require.Equal(t, http.StatusCreated, rsSimklHistory(t, s, s.V2ClientID, "simkl_at_restored").status)
				c.Advance(time.Second)
			}
			// Refused as the fake refuses its own expired tokens.
			expired, _ := s.IssueToken(true, "media:write")
			c.Advance(simklAccessTTL)
			want := skGet(t, s, "/users/settings", s.V2ClientID, expired)
			want.requireErr(t, 401, "user_token_failed")
			got := skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_restored")
			require.Equal(t, want.status, got.status)
			require.Equal(t, string(want.body), string(got.body))
			require.Equal(t, want.status, rsSimklHistory(t, s, s.V2ClientID, "simkl_at_restored").status)
			require.Zero(t, s.KilledTokenUses())

			// The refresh token (180 days from the restore) still works.
			r := rsSimklRefresh(t, s, "simkl_rt_restored")
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, "media:read media:write", r.json(t)["scope"])
			require.Equal(t, http.StatusCreated, rsSimklHistory(t, s, s.V2ClientID, r.json(t)["access_token"].(string)).status)
		})
	}
}

func TestSimklRestoreTokenV2Revoke(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revoke func(t *testing.T, s *Simkl, at, rt string)
	}{
		{"endpoint, access token", func(t *testing.T, s *Simkl, at, _ string) {
			require.Equal(t, http.StatusOK, rsSimklRevoke(t, s, at).status)
		}},
		{"endpoint, refresh token", func(t *testing.T, s *Simkl, _, rt string) {
			require.Equal(t, http.StatusOK, rsSimklRevoke(t, s, rt).status)
		}},
		{"RevokeToken, access token", func(_ *testing.T, s *Simkl, at, _ string) { s.RevokeToken(at) }},
		{"RevokeToken, refresh token", func(_ *testing.T, s *Simkl, _, rt string) { s.RevokeToken(rt) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := rsSimkl(t)
			s.RestoreToken(true, "simkl_at_one", "simkl_rt_one", time.Time{})
			s.RestoreToken(true, "simkl_at_two", "simkl_rt_two", time.Time{})
			require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_one").status)
			tc.revoke(t, s, "simkl_at_one", "simkl_rt_one")
			skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_one").requireErr(t, 401, "user_token_failed")
			rsSimklRefresh(t, s, "simkl_rt_one").requireErr(t, 400, "invalid_grant")
			require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_two").status, "other grants live on")
			require.Equal(t, http.StatusOK, rsSimklRefresh(t, s, "simkl_rt_two").status)
			require.Zero(t, s.KilledTokenUses())
		})
	}
}

func TestSimklRestoreTokenV2NoRefresh(t *testing.T) {
	s, c := rsSimkl(t)
	s.RestoreToken(true, "simkl_at_a", "", time.Time{}, "media:write")
	s.RestoreToken(true, "simkl_at_b", "", time.Time{})
	require.Equal(t, http.StatusCreated, rsSimklHistory(t, s, s.V2ClientID, "simkl_at_a").status, "scopes are kept")
	require.Equal(t, http.StatusForbidden, rsSimklHistory(t, s, s.V2ClientID, "simkl_at_b").status)

	// No refresh token reaches the grants.
	rsSimklRefresh(t, s, "").requireErr(t, 400, "invalid_request")
	for _, rt := range []string{"simkl_at_a", "simkl_rt_", "simkl_rt_unusable_"} {
		rsSimklRefresh(t, s, rt).requireErr(t, 400, "invalid_grant")
	}
	s.RevokeToken("")
	require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_a").status, `RevokeToken("") ends nothing`)
	require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_b").status, "two grants without refresh tokens coexist")

	// Revocation by the access token works.
	require.Equal(t, http.StatusOK, rsSimklRevoke(t, s, "simkl_at_a").status)
	skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_a").requireErr(t, 401, "user_token_failed")

	// The access token lives its 7 days, then the grant is over.
	c.Advance(simklAccessTTL - time.Second)
	require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_b").status)
	c.Advance(time.Second)
	skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_b").requireErr(t, 401, "user_token_failed")
	require.Equal(t, 4, s.Refreshes())
}

// TestSimklRestoreTokenV2NoRefreshRoom checks that a grant without a refresh
// token counts as alive while its access token lives when the fake makes
// room in its full grant table (dead grants go first).
func TestSimklRestoreTokenV2NoRefreshRoom(t *testing.T) {
	s, c := rsSimkl(t)
	s.RestoreToken(true, "simkl_at_long", "", rsStart.Add(365*24*time.Hour))
	for range maxEntries - 1 {
		s.IssueToken(true)
	}
	c.Advance(simklRefreshTTL + time.Hour) // every issued grant is dead
	s.IssueToken(true)                     // the table is full: room is made
	require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_long").status)
	s.mu.Lock()
	n := len(s.grants)
	s.mu.Unlock()
	require.Equal(t, 2, n, "the dead grants were dropped")
}

func TestSimklRestoreTokenReplaces(t *testing.T) {
	t.Run("a grant holding the refresh token ends", func(t *testing.T) {
		s, _ := rsSimkl(t)
		at, rt := s.IssueToken(true, "media:write")
		s.RestoreToken(true, "simkl_at_new", rt, time.Time{})
		skGet(t, s, "/users/settings", s.V2ClientID, at).requireErr(t, 401, "user_token_failed")
		require.Equal(t, http.StatusForbidden, rsSimklHistory(t, s, s.V2ClientID, "simkl_at_new").status, "the restored grant's scope")
		r := rsSimklRefresh(t, s, rt)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.Equal(t, "media:read", r.json(t)["scope"])
		skGet(t, s, "/users/settings", s.V2ClientID, "simkl_at_new").requireErr(t, 401, "user_token_failed")
		require.Equal(t, 1, s.KilledTokenUses())
	})
	t.Run("a grant holding the access token ends", func(t *testing.T) {
		s, _ := rsSimkl(t)
		at, rt := s.IssueToken(true)
		s.RestoreToken(true, at, "simkl_rt_new", time.Time{})
		rsSimklRefresh(t, s, rt).requireErr(t, 400, "invalid_grant")
		require.Equal(t, http.StatusOK, rsSimklRefresh(t, s, "simkl_rt_new").status)
	})
	t.Run("a killed access token lives again", func(t *testing.T) {
		s, _ := rsSimkl(t)
		at, rt := s.IssueToken(true)
		require.Equal(t, http.StatusOK, rsSimklRefresh(t, s, rt).status)
		s.RestoreToken(true, at, "simkl_rt_other", time.Time{})
		require.Equal(t, http.StatusOK, skGet(t, s, "/users/settings", s.V2ClientID, at).status)
		require.Zero(t, s.KilledTokenUses())
	})
	t.Run("empty access is ignored", func(t *testing.T) {
		s, _ := rsSimkl(t)
		v1, _ := s.IssueToken(false)
		s.RestoreToken(false, "", "", time.Time{})
		s.RestoreToken(true, "", "simkl_rt_x", time.Time{})
		again, _ := s.IssueToken(false)
		require.Equal(t, v1, again)
		rsSimklRefresh(t, s, "simkl_rt_x").requireErr(t, 400, "invalid_grant")
		s.mu.Lock()
		n := len(s.grants) + len(s.access)
		s.mu.Unlock()
		require.Zero(t, n)
	})
}

// ---- Viki ----

// rsVikiCalls are the v3 requests whose answers a restored token must share
// with an issued one: {method, path}; the token goes in the query.
var rsVikiCalls = [][2]string{
	{http.MethodGet, "/v3/movies.json"},
	{http.MethodGet, "/v3/series.json"},
	{http.MethodGet, "/v3/users/1u.json"},
	{http.MethodGet, "/v3/users/2u.json"},
	{http.MethodGet, "/v3/nothing.json"},
	{http.MethodPost, "/v3/movies.json"},
}

// rsVikiSame requires the same answers from a and b for token tok, and
// returns b's statuses.
func rsVikiSame(t *testing.T, a, b *Viki, tok string) []int {
	t.Helper()
	var statuses []int
	for _, call := range rsVikiCalls {
		target := call[1] + "?access_token=" + url.QueryEscape(tok)
		ra, rb := vikiDo(t, a, call[0], target, ""), vikiDo(t, b, call[0], target, "")
		require.Equal(t, ra.status, rb.status, "%s: %s", target, rb.body)
		require.Equal(t, ra.header.Get("Content-Type"), rb.header.Get("Content-Type"), target)
		require.Equal(t, string(ra.body), string(rb.body), target)
		statuses = append(statuses, rb.status)
	}
	return statuses
}

func TestVikiRestoreV3Token(t *testing.T) {
	const password = "grant_type=password&username=fan%40example.com&password=correct+horse"
	for _, tc := range []struct {
		name         string
		form         string
		user         bool
		expiryStatus int // SetV3ExpiryStatus on both fakes; 0 leaves the default
		live         []int
	}{
		{"client credentials", "grant_type=client_credentials", false, 0, []int{200, 200, 403, 403, 404, 405}},
		{"password grant", password, true, 0, []int{200, 200, 200, 404, 404, 405}},
		{"facebook", "grant_type=password&fb_access_token=fb-valid-token", true, 0, []int{200, 200, 200, 404, 404, 405}},
		{"password grant, 401 on expiry", password, true, http.StatusUnauthorized, []int{200, 200, 200, 404, 404, 405}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			earlier, ce := newViki(t)
			later, cl := newViki(t)
			if tc.expiryStatus != 0 {
				earlier.SetV3ExpiryStatus(tc.expiryStatus)
				later.SetV3ExpiryStatus(tc.expiryStatus)
			}
			tok := v3Token(t, earlier, tc.form)

			later.RestoreV3Token(tok, tc.user, time.Time{})
			require.Equal(t, tc.live, rsVikiSame(t, earlier, later, tok))

			// A zero expiry is the usual 24 hours.
			ce.Advance(vikiV3TTL - time.Second)
			cl.Advance(vikiV3TTL - time.Second)
			require.Equal(t, tc.live, rsVikiSame(t, earlier, later, tok))
			ce.Advance(time.Second)
			cl.Advance(time.Second)
			refused := cmp.Or(tc.expiryStatus, http.StatusForbidden)
			require.Equal(t, []int{refused, refused, refused, refused, refused, refused}, rsVikiSame(t, earlier, later, tok))
			r := vikiDo(t, later, http.MethodGet, "/v3/movies.json?access_token="+tok, "")
			require.Equal(t, map[string]any{"message": "Not Authorized", "status": float64(refused)}, r.json(t))

			require.Zero(t, later.Mints(), "restoring is no mint")
			require.Zero(t, later.TokenCalls())
		})
	}
}

func TestVikiRestoreV3TokenExpiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		skew   time.Duration
		expiry time.Duration // from the Clock's start; 0 means a zero expiry
		liveTo time.Duration // the token works until the Clock reads start+liveTo
	}{
		{"zero is 24 hours", 0, 0, vikiV3TTL},
		{"an hour", 0, time.Hour, time.Hour},
		{"a week", 0, 7 * 24 * time.Hour, 7 * 24 * time.Hour},
		{"already expired", 0, -time.Second, 0},
		{"zero with server skew keeps 24 hours", 30 * time.Minute, 0, vikiV3TTL},
		// An explicit expiry is compared with the server's time, the skew
		// included.
		{"explicit with server skew", 30 * time.Minute, time.Hour, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, c := newViki(t)
			v.SetServerSkew(tc.skew)
			var expiry time.Time
			if tc.expiry != 0 {
				expiry = c.Now().Add(tc.expiry)
			}
			v.RestoreV3Token("restored-user", true, expiry)
			v.RestoreV3Token("restored-app", false, expiry)
			get := func(path, tok string) int {
				return vikiDo(t, v, http.MethodGet, path+"?access_token="+tok, "").status
			}
			if tc.liveTo > 0 {
				c.Advance(tc.liveTo - time.Second)
				require.Equal(t, http.StatusOK, get("/v3/users/1u.json", "restored-user"))
				require.Equal(t, http.StatusOK, get("/v3/movies.json", "restored-app"))
				c.Advance(time.Second)
			}
			// Refused as the fake refuses its own expired tokens.
			expired := v.IssueV3Token()
			c.Advance(vikiV3TTL)
			want := vikiDo(t, v, http.MethodGet, "/v3/movies.json?access_token="+expired, "")
			require.Equal(t, http.StatusForbidden, want.status)
			for _, tok := range []string{"restored-user", "restored-app"} {
				got := vikiDo(t, v, http.MethodGet, "/v3/movies.json?access_token="+tok, "")
				require.Equal(t, want.status, got.status, tok)
				require.Equal(t, string(want.body), string(got.body), tok)
			}
		})
	}
}

func TestVikiRestoreV3TokenReplaces(t *testing.T) {
	for _, tc := range []struct {
		name    string
		user    bool
		advance time.Duration // after the restore
		users   int           // GET /v3/users/1u.json
	}{
		{"user token becomes an app token", false, 0, http.StatusForbidden},
		{"user token stays a user token", true, 0, http.StatusOK},
		{"lifetime restarts", true, vikiV3TTL - time.Second, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, c := newViki(t)
			tok := v3Token(t, v, "grant_type=password&fb_access_token=fb-valid-token")
			c.Advance(23 * time.Hour)
			v.RestoreV3Token(tok, tc.user, time.Time{})
			c.Advance(tc.advance)
			r := vikiDo(t, v, http.MethodGet, "/v3/users/1u.json?access_token="+tok, "")
			require.Equal(t, tc.users, r.status, string(r.body))
			require.Equal(t, http.StatusOK, vikiDo(t, v, http.MethodGet, "/v3/movies.json?access_token="+tok, "").status)
		})
	}
	t.Run("empty access is ignored", func(t *testing.T) {
		v, _ := newViki(t)
		v.RestoreV3Token("", true, time.Time{})
		v.mu.Lock()
		n := len(v.v3Tokens)
		v.mu.Unlock()
		require.Zero(t, n)
	})
}

// ---- all three ----

// TestRestoreConcurrent restores tokens, moves clocks and uses tokens at
// once; the race detector checks the locking.
func TestRestoreConcurrent(t *testing.T) {
	vm, _ := rsVimeo(t)
	sk, _ := rsSimkl(t)
	vk, _ := newViki(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			n := strconv.Itoa(i)
			c := NewClock(rsStart)
			vm.SetClock(c)
			vm.RestoreToken("vimeo-"+n, true, "upload")
			vk.RestoreV3Token("viki-"+n, true, time.Time{})
			sk.RestoreToken(true, "simkl_at_"+n, "simkl_rt_"+n, time.Time{}, "media:write")
			sk.RestoreToken(false, "simkl-v1-"+n, "", time.Time{})
			c.Advance(time.Minute)
			if r, err := send(vm, mustReq(http.MethodGet, vm.URL+"/me", "vimeo-"+n)); err != nil || r.status != http.StatusOK {
				t.Errorf("vimeo: %v %d", err, r.status)
			}
			if _, _, err := skTry(http.StatusOK, http.MethodGet, skURL(sk.APIURL, "/users/settings", skQuery(sk.V2ClientID, nil)), "", "Authorization", "Bearer simkl_at_"+n); err != nil {
				t.Error(err)
			}
			resp, err := vk.Client().Get(vk.URL + "/v3/users/1u.json?access_token=viki-" + n)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("viki: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
}

func mustReq(method, rawURL, token string) *http.Request {
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}
