package videoauth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

func setupViki(t *testing.T) (*videoauthtest.Viki, *videoauth.Viki) {
	t.Helper()
	fake := videoauthtest.NewViki()
	t.Cleanup(fake.Close)
	v, err := videoauth.NewViki(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL})
	require.NoError(t, err)
	return fake, v
}

func getOK(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestVikiClientCredentialsAndExactFields(t *testing.T) {
	fake, v := setupViki(t)
	src := v.ClientCredentials()
	c := videoauth.NewClient(v, src)
	resp := getOK(t, c, fake.URL+"/v3/movies.json?page=2")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret}}, fake.LastTokenForm())
	last := fake.LastRequest()
	require.Equal(t, src.Current().AccessToken, last.URL.Query().Get("access_token"), "the token travels in the query")
	require.Equal(t, "2", last.URL.Query().Get("page"), "the caller's query is kept")
	require.Empty(t, last.Header.Get("Authorization"))
	require.Equal(t, fake.URL+"/v3/movies.json?page=2", resp.Request.URL.String(), "the response points at the caller's request, without the token")
	tok := src.Current()
	require.WithinDuration(t, time.Now().Add(24*time.Hour), tok.Expiry, time.Minute, "24-hour token")
}

func TestVikiPasswordGrants(t *testing.T) {
	for _, field := range []string{"user_id", "user.id", "both"} {
		t.Run("username+password, id in "+field, func(t *testing.T) {
			fake, v := setupViki(t)
			fake.SetUserIDField(field)
			tok, err := v.Password(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
			require.NoError(t, err)
			require.Equal(t, "1u", tok.UserID)
			require.Equal(t, url.Values{"grant_type": {"password"}, "client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret},
				"username": {fake.Username}, "password": {fake.Password}}, fake.LastTokenForm())
			raw, err := videoauth.EncodeToken(tok)
			require.NoError(t, err)
			require.Contains(t, string(raw), `"1u"`, "the raw response is kept")
		})
	}
	t.Run("facebook token", func(t *testing.T) {
		fake, v := setupViki(t)
		tok, err := v.Password(context.Background(), videoauth.VikiCredentials{FacebookToken: fake.FacebookToken})
		require.NoError(t, err)
		require.Equal(t, "1u", tok.UserID)
		require.Equal(t, url.Values{"grant_type": {"password"}, "client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret},
			"fb_access_token": {fake.FacebookToken}}, fake.LastTokenForm())
	})
	t.Run("wrong password is typed and not leaked", func(t *testing.T) {
		fake, v := setupViki(t)
		_, err := v.Password(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: "PLANTED-wrong-pw"})
		require.ErrorIs(t, err, videoauth.ErrInvalidCredentials)
		require.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), "PLANTED")
	})
	t.Run("bad input is refused before sending", func(t *testing.T) {
		fake, v := setupViki(t)
		for _, c := range []videoauth.VikiCredentials{{}, {Username: "u"}, {Password: "p"}, {Username: "u", Password: "p", FacebookToken: "f"}} {
			_, err := v.Password(context.Background(), c)
			require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		}
		require.Zero(t, fake.TokenCalls())
	})
	t.Run("credentials print redacted", func(t *testing.T) {
		c := videoauth.VikiCredentials{Username: "fan", Password: "PLANTED-pw", FacebookToken: "PLANTED-fb"}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "c", c)
		out := fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c) + buf.String()
		require.NotContains(t, out, "PLANTED")
		require.Contains(t, out, "fan")
	})
}

func TestVikiExpiredTokenRemintedAndReplayedOnce(t *testing.T) {
	for _, status := range []int{403, 401} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			fake, v := setupViki(t)
			fake.SetV3ExpiryStatus(status)
			clock := videoauthtest.NewClock(time.Now())
			fake.SetClock(clock) // only Viki's clock moves: our token still looks valid to us
			src := v.ClientCredentials()
			c := videoauth.NewClient(v, src)
			require.Equal(t, 200, getOK(t, c, fake.URL+"/v3/movies.json").StatusCode)
			old := src.Current()
			clock.Advance(24*time.Hour + time.Second)
			resp := getOK(t, c, fake.URL+"/v3/movies.json")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, 2, fake.Mints(), "one re-mint")
			require.Equal(t, 3, fake.APICalls(), "the rejected request and one replay")
			require.NotEqual(t, old.AccessToken, src.Current().AccessToken)
		})
	}
	t.Run("a 403 not about the token is returned as is", func(t *testing.T) {
		fake, v := setupViki(t)
		clock := videoauthtest.NewClock(time.Now())
		fake.SetClock(clock)
		src := v.ClientCredentials()
		c := videoauth.NewClient(v, src)
		// A user-only route answers 403 "A user access token is required"
		// to any app token: not Viki's expired-token 403, so the token is
		// kept and the 403 comes back at once.
		resp := getOK(t, c, fake.URL+"/v3/users/1u.json")
		require.Equal(t, 403, resp.StatusCode)
		require.Equal(t, 1, fake.Mints(), "no re-mint")
		require.Equal(t, 1, fake.APICalls(), "no replay")
		require.ErrorIs(t, videoauth.CheckResponse(v, resp), videoauth.ErrForbidden)
	})
}

func TestVikiPasswordSourceAsksForCredentialsEachMint(t *testing.T) {
	fake, v := setupViki(t)
	clock := videoauthtest.NewClock(time.Now())
	fake.SetClock(clock)
	var asked atomic.Int32
	src := v.PasswordSource(func(context.Context) (videoauth.VikiCredentials, error) {
		asked.Add(1)
		return videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}, nil
	})
	c := videoauth.NewClient(v, src)
	require.Equal(t, 200, getOK(t, c, fake.URL+"/v3/users/1u.json").StatusCode)
	clock.Advance(25 * time.Hour)
	require.Equal(t, 200, getOK(t, c, fake.URL+"/v3/users/1u.json").StatusCode)
	require.EqualValues(t, 2, asked.Load())
	require.Equal(t, "1u", src.Current().UserID)

	// Without the callback an expired user token means a new sign-in.
	tok, err := v.Password(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
	require.NoError(t, err)
	c2 := videoauth.NewClient(v, v.Source(tok))
	clock.Advance(25 * time.Hour)
	resp := getOK(t, c2, fake.URL+"/v3/users/1u.json")
	require.Equal(t, 403, resp.StatusCode)
	_, err = c2.Get(fake.URL + "/v3/users/1u.json")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)

	failing := v.PasswordSource(func(context.Context) (videoauth.VikiCredentials, error) {
		return videoauth.VikiCredentials{}, errors.New("keychain locked")
	})
	_, err = failing.Token(context.Background())
	require.ErrorContains(t, err, "keychain locked")
}

func TestVikiTokenInURLNeverLeaks(t *testing.T) {
	fake, v := setupViki(t)
	src := v.ClientCredentials()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("connection reset")
	})
	c := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: src, Base: base}}
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	access := src.Current().AccessToken
	_, err = c.Get(fake.URL + "/v3/movies.json")
	require.Error(t, err)
	logger.Error("request failed", "err", err)
	out := fmt.Sprintf("%v %+v %#v", err, err, err) + logs.String()
	require.NotContains(t, out, access)
	require.Contains(t, out, "/v3/movies.json")

	// A failing response typed with CheckResponse: no token either.
	fake.SetV3ExpiryStatus(401)
	r, _ := http.NewRequest("GET", fake.URL+"/v3/movies.json?access_token="+access, nil)
	resp := &http.Response{StatusCode: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"message":"Not Authorized","status":403}`)), Request: r}
	err = videoauth.CheckResponse(v, resp)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.NotContains(t, e.URL, access)
	require.NotContains(t, err.Error(), access)
	logger.Error("api", "err", err)
	require.NotContains(t, logs.String(), access)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func setupVikiAPI(t *testing.T, mode videoauth.VikiSigning) (*videoauthtest.Viki, *videoauth.VikiAPI) {
	t.Helper()
	fake := videoauthtest.NewViki()
	t.Cleanup(fake.Close)
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: fake.AppSecret, APIURL: fake.URL}, mode)
	require.NoError(t, err)
	return fake, a
}

func TestVikiSignatureDocumentedVector(t *testing.T) {
	// The documented example message, signed by hand with crypto/hmac and
	// checked against `openssl dgst -sha1 -hmac viki-app-secret`.
	const msg = "/v4/movies.json?sort=views&app=9001&t=1356482778"
	m := hmac.New(sha1.New, []byte("viki-app-secret"))
	m.Write([]byte(msg))
	want := hex.EncodeToString(m.Sum(nil))
	require.Equal(t, "90d7229a2a54fcd60ba3863feda7395f44b53f5b", want)
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "9001", ClientSecret: "viki-app-secret"}, videoauth.VikiSignQuery)
	require.NoError(t, err)
	require.Equal(t, want, a.Sign(msg, nil))
	require.Equal(t, videoauthtest.VikiSign("viki-app-secret", msg, nil), a.Sign(msg, nil))
	m.Reset()
	m.Write([]byte(msg + `{"a":1}`))
	require.Equal(t, hex.EncodeToString(m.Sum(nil)), a.Sign(msg, []byte(`{"a":1}`)), "the body follows the path and query")
}

func TestVikiSignedRequestsVerifyInBothModes(t *testing.T) {
	for _, mode := range []videoauth.VikiSigning{videoauth.VikiSignQuery, videoauth.VikiSignHeaders} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			fake, a := setupVikiAPI(t, mode)
			c := a.SignedClient()
			resp := getOK(t, c, fake.URL+"/v4/movies.json?sort=views")
			require.Equal(t, 200, resp.StatusCode, resp.Header.Get("X-Fake-Viki-Reason"))
			last := fake.LastRequest()
			q := last.URL.Query()
			require.Equal(t, fake.AppID, q.Get("app"))
			require.Equal(t, "views", q.Get("sort"))
			if mode == videoauth.VikiSignQuery {
				require.NotEmpty(t, q.Get("t"))
				require.True(t, strings.HasSuffix(last.URL.RawQuery, "&sig="+q.Get("sig")), "sig comes last")
			} else {
				require.Empty(t, q.Get("t"))
				require.Empty(t, q.Get("sig"))
				require.NotEmpty(t, last.Header.Get("timestamp"))
				require.NotEmpty(t, last.Header.Get("signature"))
			}
			require.Equal(t, 1, fake.SignedCalls())
			require.Zero(t, fake.BadSignatures())
			require.Equal(t, fake.URL+"/v4/movies.json?sort=views", resp.Request.URL.String())
		})
	}
}

func TestVikiWrongSecretIsTyped(t *testing.T) {
	fake := videoauthtest.NewViki()
	defer fake.Close()
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: fake.AppID, ClientSecret: "wrong", APIURL: fake.URL}, videoauth.VikiSignQuery)
	require.NoError(t, err)
	resp, err := a.SignedClient().Get(fake.URL + "/v4/movies.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 1, fake.BadSignatures())
	err = videoauth.CheckResponse(a, resp)
	require.ErrorIs(t, err, videoauth.ErrInvalidClient)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "4", e.Code)
	b, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(b), "invalid signature", "CheckResponse leaves the body readable")
}

func TestVikiStaleTimestampCorrectedInOneRetry(t *testing.T) {
	for _, mode := range []videoauth.VikiSigning{videoauth.VikiSignQuery, videoauth.VikiSignHeaders} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			fake, a := setupVikiAPI(t, mode)
			fake.SetServerSkew(10 * time.Minute)
			c := a.SignedClient()
			req, _ := http.NewRequest("POST", fake.URL+"/v4/users/1u/watchlist.json?token="+fake.IssueSession(), strings.NewReader(`{"id":"1100c"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, 1, fake.StaleTimestamps())
			require.Less(t, resp.StatusCode, 300, resp.Header.Get("X-Fake-Viki-Reason"))
			require.Equal(t, 1, fake.SignedCalls(), "the retry, with body, verified")
			// The offset is kept: the next request is right the first time.
			require.Equal(t, 200, getOK(t, c, fake.URL+"/v5/movies.json").StatusCode)
			require.Equal(t, 1, fake.StaleTimestamps())
		})
	}
}

func TestVikiSessionsLoginReloginAndReplay(t *testing.T) {
	fake, a := setupVikiAPI(t, videoauth.VikiSignHeaders)
	var asked atomic.Int32
	src := a.SessionSource(func(context.Context) (videoauth.VikiCredentials, error) {
		asked.Add(1)
		return videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password}, nil
	})
	c := videoauth.NewClient(a, src)
	post := func() *http.Response {
		req, _ := http.NewRequest("POST", fake.URL+"/v4/users/1u/watchlist.json", strings.NewReader(`{"id":"1100c"}`))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(`{"id":"1100c"}`)), nil }
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	require.Less(t, post().StatusCode, 300)
	require.Equal(t, 1, fake.Logins())
	tok := src.Current()
	require.Equal(t, "1u", tok.UserID)
	require.Equal(t, tok.AccessToken, fake.LastRequest().URL.Query().Get("token"), "session in the signed query")

	fake.ExpireSessions()
	resp := post()
	require.Less(t, resp.StatusCode, 300, "re-login and one replay")
	require.Equal(t, 2, fake.Logins())
	require.EqualValues(t, 2, asked.Load())
	require.NotEqual(t, tok.AccessToken, src.Current().AccessToken)

	t.Run("facebook login", func(t *testing.T) {
		tok, err := a.Login(context.Background(), videoauth.VikiCredentials{FacebookToken: fake.FacebookToken})
		require.NoError(t, err)
		require.Equal(t, "1u", tok.UserID)
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := a.Login(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: "PLANTED-no"})
		require.ErrorIs(t, err, videoauth.ErrInvalidCredentials)
		require.NotContains(t, fmt.Sprintf("%v %+v", err, err), "PLANTED")
	})
	t.Run("session without a way to log in again", func(t *testing.T) {
		tok, err := a.Login(context.Background(), videoauth.VikiCredentials{Username: fake.Username, Password: fake.Password})
		require.NoError(t, err)
		c := videoauth.NewClient(a, a.Source(tok))
		fake.ExpireSessions()
		resp, err := c.Get(fake.URL + "/v5/users/1u.json")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 401, resp.StatusCode)
		_, err = c.Get(fake.URL + "/v5/users/1u.json")
		require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	})
}

func TestVikiSignerLeavesOtherHostsAlone(t *testing.T) {
	fake, a := setupVikiAPI(t, videoauth.VikiSignQuery)
	other := videoauthtest.NewViki()
	defer other.Close()
	resp := getOK(t, a.SignedClient(), other.URL+"/v4/movies.json")
	require.Equal(t, 400, resp.StatusCode, "unsigned, so the other host sees no app")
	require.Empty(t, other.LastRequest().URL.Query().Get("sig"))
	require.Zero(t, fake.SignedCalls())
}

func TestNewVikiRefusesBadConfig(t *testing.T) {
	_, err := videoauth.NewViki(videoauth.App{ClientID: "x"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	_, err = videoauth.NewViki(videoauth.App{ClientID: "x", ClientSecret: "y", APIURL: "http://viki.com"})
	require.ErrorIs(t, err, videoauth.ErrInsecureEndpoint, "plain http is refused even though Viki's v3 page shows it")
	_, err = videoauth.NewVikiAPI(videoauth.App{ClientID: "x"}, videoauth.VikiSignQuery)
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
	_, err = videoauth.NewVikiAPI(videoauth.App{ClientID: "x", ClientSecret: "y"}, 7)
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
}

// Item 9: https://viki.com:443 (v3) and https://api.viki.io:443 (v4/v5)
// are their hosts; an APIURL override with a port (the fake) still owns
// exactly that port; and a request to the default port written out carries
// the token (v3) or the session and the signature (v4/v5).
func TestVikiOwnsTheDefaultPort(t *testing.T) {
	app := videoauth.App{ClientID: "id", ClientSecret: "secret"}
	v3, err := videoauth.NewViki(app)
	require.NoError(t, err)
	requireOwnsOrigin(t, v3, "https", "viki.com", "")
	api, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
	require.NoError(t, err)
	requireOwnsOrigin(t, api, "https", "api.viki.io", "")
	require.False(t, v3.Owns(parsedURL(t, "https://api.viki.io:443/x")), "each its own host")
	require.False(t, api.Owns(parsedURL(t, "https://viki.com:443/x")))

	app.APIURL = "https://VIKI.com:443"
	v3443, err := videoauth.NewViki(app)
	require.NoError(t, err)
	requireOwnsOrigin(t, v3443, "https", "viki.com", "")
	app.APIURL = "https://api.viki.io:443"
	api443, err := videoauth.NewVikiAPI(app, videoauth.VikiSignHeaders)
	require.NoError(t, err)
	requireOwnsOrigin(t, api443, "https", "api.viki.io", "")

	fake, vf := setupViki(t)
	u, _ := url.Parse(fake.URL)
	requireOwnsOrigin(t, vf, "http", u.Hostname(), u.Port())
	fakeAPI, af := setupVikiAPI(t, videoauth.VikiSignQuery)
	u, _ = url.Parse(fakeAPI.URL)
	requireOwnsOrigin(t, af, "http", u.Hostname(), u.Port())

	sent := sentThrough(t, v3, v3.Source(&videoauth.Token{Provider: "viki", AccessToken: "v3tok"}), "https://viki.com:443/v3/users/me.json")
	require.Equal(t, "v3tok", sent.URL.Query().Get("access_token"))
	sent = sentThrough(t, api, api.Source(&videoauth.Token{Provider: "viki", AccessToken: "session"}), "https://api.viki.io:443/v5/users/me.json")
	require.Equal(t, "session", sent.URL.Query().Get("token"))
	require.NotEmpty(t, sent.URL.Query().Get("sig"), "signed")
}

// Viki v3's request path through the Transport, over a base that allocates
// nothing (issue 16): the clone of the request and of its URL, and the query
// with access_token appended in one string (none when the caller's query is
// empty: the parameter is built once per token); the caller's header is
// sent as it is, not copied. A query that has its own access_token is
// rebuilt, in one string too. Counts, not timings.
func TestVikiV3RequestPathAllocs(t *testing.T) {
	v, err := videoauth.NewViki(videoauth.App{ClientID: "cid", ClientSecret: "secret"})
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "viki", AccessToken: "0123456789abcdef", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}
	base := &fixedBase{resp: &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}}
	tr := &videoauth.Transport{Provider: v, Source: v.Source(tok), Base: base}
	for _, tc := range []struct {
		name, path string
		header     http.Header
		budget     float64
	}{
		{"query", "/v3/users/1u/subscriptions.json?per_page=25", nil, 3},
		{"no query", "/v3/users/1u/subscriptions.json", nil, 2},
		{"caller's header", "/v3/users/1u/subscriptions.json?per_page=25", http.Header{"Accept": {"application/json"}, "X-Multi": {"a", "b"}}, 3},
		{"caller's access_token", "/v3/users/1u/subscriptions.json?access_token=old&per_page=25", nil, 3},
	} {
		req, err := http.NewRequest(http.MethodGet, videoauth.VikiV3URL+tc.path, nil)
		require.NoError(t, err)
		for k, vs := range tc.header {
			req.Header[k] = vs
		}
		got := testing.AllocsPerRun(200, func() {
			resp, err := tr.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocs/op", tc.name, got)
		require.LessOrEqual(t, got, tc.budget, tc.name)
		require.Equal(t, []string{tok.AccessToken}, base.last.URL.Query()["access_token"], tc.name)
	}
}

// What the Transport sends is what Authorize makes of a copy of the
// caller's request, byte for byte, for queries with and without the
// caller's own access_token (spelled escaped, in another case, without a
// value), with empty parameters and escapes; the header sent is the
// caller's, which stays untouched like the URL; and a request without a
// header goes out with an empty one, as net/http requires.
func TestVikiV3TransportSendsWhatAuthorizeSets(t *testing.T) {
	v, err := videoauth.NewViki(videoauth.App{ClientID: "cid", ClientSecret: "secret"})
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "viki", AccessToken: "tok/+ en", TokenType: "Bearer"}
	const cred = "access_token=tok%2F%2B+en"
	queries := map[string]string{ // the caller's query: the one sent
		"":                                    cred,
		"per_page=25":                         "per_page=25&" + cred,
		"q=a%20b%26c&sort=new":                "q=a%20b%26c&sort=new&" + cred,
		"access_token=old&page=2":             "page=2&" + cred,
		"page=2&access_token":                 "page=2&" + cred,
		"a=1&&b=2&":                           "a=1&b=2&" + cred,
		"&a=1":                                "a=1&" + cred,
		"access%5Ftoken=x&y=1":                "y=1&" + cred,
		"ACCESS_TOKEN=upper":                  "ACCESS_TOKEN=upper&" + cred,
		"q=access_token":                      "q=access_token&" + cred,
		"%zz=1&access_token=a&access_token=b": "%zz=1&" + cred,
		"a+b=1&c%20d=2":                       "a+b=1&c%20d=2&" + cred,
	}
	var sent *http.Request
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	tr := &videoauth.Transport{Provider: v, Source: v.Source(tok), Base: base}
	for q, wantQuery := range queries {
		for _, h := range []http.Header{nil, {}, {"Accept": {"application/json"}, "X-Multi": {"a", "b"}}} {
			req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "viki.com", Path: "/v3/movies.json", RawQuery: q},
				Header: h.Clone(), Host: "viki.com"}
			callerURL, callerHeader := req.URL.String(), req.Header.Clone()
			want := req.Clone(context.Background())
			require.NoError(t, v.Authorize(want, tok))
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, wantQuery, sent.URL.RawQuery, "query %q", q)
			require.Equal(t, want.URL.String(), sent.URL.String(), "query %q", q)
			require.NotNil(t, sent.Header, "net/http refuses a nil header")
			require.Equal(t, len(h), len(sent.Header), "query %q: the caller's header, nothing added", q)
			for k, vs := range h {
				require.Equal(t, vs, sent.Header[k])
			}
			require.Equal(t, callerURL, req.URL.String(), "the caller's URL is untouched")
			require.Equal(t, callerHeader, req.Header, "the caller's header is untouched")
		}
	}
}

// --- issue 16: the v4/v5 signer's request path ---

// vikiSignerReference signs as the v4/v5 signer did before issue 16, step
// by step with the standard library: Authorize's setParam (when session is
// set), then the signer's stripParams, hasParam, joinQuery and Sign. It
// returns the query sent and, in header signing, the Timestamp and
// Signature headers.
func vikiSignerReference(secret, appID, escapedPath, rawQuery, session string, body []byte, ts int64, headers bool) (string, http.Header) {
	key := func(p string) (string, bool) {
		k, _, _ := strings.Cut(p, "=")
		uk, err := url.QueryUnescape(k)
		return uk, err == nil
	}
	join := func(q, p string) string {
		if q == "" {
			return p
		}
		return q + "&" + p
	}
	q := rawQuery
	if session != "" {
		var b strings.Builder
		for _, p := range strings.Split(q, "&") {
			if k, ok := key(p); p == "" || ok && k == "token" {
				continue
			}
			b.WriteString(p)
			b.WriteByte('&')
		}
		b.WriteString("token=" + url.QueryEscape(session))
		q = b.String()
	}
	if q != "" {
		var kept []string
		for _, p := range strings.Split(q, "&") {
			if k, ok := key(p); p == "" || ok && (k == "t" || k == "sig") {
				continue
			}
			kept = append(kept, p)
		}
		q = strings.Join(kept, "&")
	}
	hasApp := false
	for _, p := range strings.Split(q, "&") {
		if k, ok := key(p); ok && k == "app" {
			hasApp = true
		}
	}
	if !hasApp {
		q = join(q, "app="+url.QueryEscape(appID))
	}
	t := strconv.FormatInt(ts, 10)
	mac := func(msg string) string {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(msg))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	if headers {
		return q, http.Header{"Timestamp": {t}, "Signature": {mac(escapedPath + "?" + q + "&t=" + t)}}
	}
	q = join(q, "t="+t)
	return q + "&sig=" + mac(escapedPath+"?"+q), nil
}

// vikiSignerCapture answers 200 and keeps what it was sent.
type vikiSignerCapture struct {
	sent *http.Request
	body []byte
}

func (c *vikiSignerCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	c.sent, c.body = r, nil
	if r.Body != nil {
		c.body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// vikiSignerCheck sends one request the three ways a v4/v5 request is
// signed — through the Transport with a session, through Signer without
// one, and with Authorize alone on a copy, sent by a plain transport — and
// requires of each exactly what the signer sent before issue 16, a body
// sent as signed, and the caller's request untouched.
func vikiSignerCheck(t *testing.T, mode videoauth.VikiSigning, path, query, session string, body []byte, header http.Header) {
	t.Helper()
	const appID, secret = "100005a", "viki-app-secret"
	now := time.Unix(1356482778, 0)
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: appID, ClientSecret: secret, Clock: videoauthtest.NewClock(now)}, mode)
	require.NoError(t, err)
	tok := &videoauth.Token{Provider: "viki", AccessToken: session, TokenType: "viki-session"}
	capture := &vikiSignerCapture{}
	newReq := func() *http.Request {
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "https", Host: "api.viki.io", Path: path, RawQuery: query},
			Header: header.Clone(), Host: "api.viki.io", Body: http.NoBody}
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		return req
	}
	for _, way := range []string{"transport", "signer", "authorize"} {
		req := newReq()
		callerURL, callerHeader := req.URL.String(), req.Header.Clone()
		var resp *http.Response
		sess := session
		switch way {
		case "transport":
			resp, err = (&videoauth.Transport{Provider: a, Source: a.Source(tok), Base: capture}).RoundTrip(req)
		case "signer":
			sess = ""
			resp, err = a.Signer(capture).RoundTrip(req)
		case "authorize":
			r := req.Clone(context.Background())
			require.NoError(t, a.Authorize(r, tok))
			resp, err = capture.RoundTrip(r) // Authorize's result, sent as it is
		}
		require.NoError(t, err, way)
		what := fmt.Sprintf("%s, mode %d, path %q, query %q, session %q", way, mode, path, query, sess)
		if way != "authorize" {
			require.Same(t, req, resp.Request, what)
		}
		wantQuery, wantHeader := vikiSignerReference(secret, appID, req.URL.EscapedPath(), query, sess, body, now.Unix(), mode == videoauth.VikiSignHeaders)
		sent := capture.sent
		require.Equal(t, wantQuery, sent.URL.RawQuery, what)
		require.Equal(t, req.URL.EscapedPath(), sent.URL.EscapedPath(), what)
		for k, vs := range header {
			if wantHeader[k] == nil {
				require.Equal(t, vs, sent.Header[k], what+": the caller's header is sent")
			}
		}
		for k, vs := range wantHeader {
			require.Equal(t, vs, sent.Header[k], what)
		}
		if mode == videoauth.VikiSignQuery {
			require.Equal(t, len(header), len(sent.Header), what+": no header added")
		}
		require.Equal(t, string(body), string(capture.body), what+": the body is sent as signed")
		require.Equal(t, callerURL, req.URL.String(), what+": the caller's URL is untouched")
		require.Equal(t, callerHeader, req.Header, what+": the caller's header is untouched")
	}
}

// The signer sends byte for byte what it sent before issue 16 (the
// documented layout: the caller's parameters without empty ones and
// without t, sig and, under a session, token; then token, app unless the
// caller gave it, t, and sig or the two headers), whichever of the three
// ways signs it, for queries that exercise every rule: escapes, names that
// unescape to token, t, sig or app, names that do not unescape, empty
// parameters; with and without a body and a caller's header.
func TestVikiSignerSameRequestAsBefore(t *testing.T) {
	queries := []string{
		"", "per_page=25", "sort=views&page=2", "token=old&page=2", "page=2&token", "t=1&sig=zz&x=1",
		"a=1&&b=2&", "&a=1", "app=7&x=1", "APP=upper", "%zz=1&token=a&token=b", "a+b=1&c%20d=2",
		"sig=1&sig=2&t=&app=", "tok%65n=escaped&x", "ap%70=escaped", "t+=1&t%20=2", "q=token&r=app", "&&",
	}
	for _, mode := range []videoauth.VikiSigning{videoauth.VikiSignQuery, videoauth.VikiSignHeaders} {
		for _, q := range queries {
			for _, body := range [][]byte{nil, []byte(`{"id":"1100c"}`)} {
				vikiSignerCheck(t, mode, "/v4/users/1u/subscriptions.json", q, "fedcba9876543210fedcba98", body, nil)
			}
			vikiSignerCheck(t, mode, "/v5/a b/ü.json", q, "tok/+ en", nil,
				http.Header{"Accept": {"application/json"}, "X-Multi": {"a", "b"}, "Timestamp": {"caller's"}})
		}
	}
}

// FuzzVikiSignerTransport is TestVikiSignerSameRequestAsBefore over any
// path, query, body and session.
func FuzzVikiSignerTransport(f *testing.F) {
	f.Add("/v4/movies.json", "sort=views", "", "session", false)
	f.Add("/v5/users/1u.json", "token=abc&t=1&sig=zz", `{"a":1}`, "s/+ e%", true)
	f.Add("/v4/a b/ü.json", "q=%zz&&app=7&x", "\x00\xff", "x", false)
	f.Add("", "&&ap%70=1&tok%65n=2", "", "t", true)
	f.Fuzz(func(t *testing.T, path, query, body, session string, headers bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if session == "" {
			session = "s"
		}
		mode := videoauth.VikiSignQuery
		if headers {
			mode = videoauth.VikiSignHeaders
		}
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		vikiSignerCheck(t, mode, path, query, session, b, http.Header{"Accept": {"application/json"}})
	})
}

// Below the Transport, a stale timestamp is corrected in one retry too, in
// both modes, with a body the caller can replay and with one it cannot
// (Authorize keeps it to sign it): the retry is signed at the server's
// clock over the same body, and the next request is right the first time.
func TestVikiSignerStaleRetryBelowTransport(t *testing.T) {
	for _, mode := range []videoauth.VikiSigning{videoauth.VikiSignQuery, videoauth.VikiSignHeaders} {
		for _, replayable := range []bool{true, false} {
			t.Run(fmt.Sprint(mode, replayable), func(t *testing.T) {
				fake, a := setupVikiAPI(t, mode)
				fake.SetServerSkew(10 * time.Minute)
				c := videoauth.NewClient(a, a.Source(&videoauth.Token{Provider: "viki", AccessToken: fake.IssueSession(), TokenType: "viki-session"}))
				req, err := http.NewRequest(http.MethodPost, fake.URL+"/v4/users/1u/watchlist.json", strings.NewReader(`{"id":"1100c"}`))
				require.NoError(t, err)
				if !replayable {
					req.GetBody = nil
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				require.Less(t, resp.StatusCode, 300, resp.Header.Get("X-Fake-Viki-Reason"))
				require.Equal(t, 1, fake.StaleTimestamps())
				require.Equal(t, 1, fake.SignedCalls(), "the retry, with its body, verified")
				require.Zero(t, fake.BadSignatures())
				require.Same(t, req, resp.Request)
				require.Equal(t, []string{"application/json"}, req.Header["Content-Type"], "the caller's header is untouched")
				require.Equal(t, 200, getOK(t, c, fake.URL+"/v5/users/1u.json").StatusCode)
				require.Equal(t, 1, fake.StaleTimestamps(), "the offset is kept")
				require.Equal(t, 2, fake.SignedCalls())
			})
		}
	}
}

// A request that follows a redirect within the API is signed again by the
// signer below the Transport (it cannot tell the Transport's own copy from
// a caller's request there), and still carries one session, one app, t and
// a signature that verifies.
func TestVikiSignerRedirectWithinAPI(t *testing.T) {
	const secret = "viki-app-secret"
	for _, mode := range []videoauth.VikiSigning{videoauth.VikiSignQuery, videoauth.VikiSignHeaders} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			var verified atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v4/from.json" {
					http.Redirect(w, r, "/v4/to.json?x=1", http.StatusTemporaryRedirect)
					return
				}
				q := r.URL.Query()
				msg, sig := r.URL.EscapedPath()+"?"+r.URL.RawQuery+"&t="+r.Header.Get("Timestamp"), r.Header.Get("Signature")
				if mode == videoauth.VikiSignQuery {
					i := strings.LastIndex(r.URL.RawQuery, "&sig=")
					msg, sig = r.URL.EscapedPath()+"?"+r.URL.RawQuery[:i], r.URL.RawQuery[i+len("&sig="):]
				}
				if len(q["token"]) == 1 && q.Get("token") == "session" && len(q["app"]) == 1 && sig == videoauthtest.VikiSign(secret, msg, nil) {
					verified.Add(1)
				}
			}))
			defer srv.Close()
			a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "9001", ClientSecret: secret, APIURL: srv.URL}, mode)
			require.NoError(t, err)
			c := videoauth.NewClient(a, a.Source(&videoauth.Token{Provider: "viki", AccessToken: "session"}))
			resp := getOK(t, c, srv.URL+"/v4/from.json?token=stale")
			require.Equal(t, 200, resp.StatusCode)
			require.EqualValues(t, 1, verified.Load())
		})
	}
}

// vikiSignerNopBase answers every request with the same response: it
// allocates nothing, so AllocsPerRun counts only videoauth.
type vikiSignerNopBase struct{ resp *http.Response }

func (b vikiSignerNopBase) RoundTrip(*http.Request) (*http.Response, error) { return b.resp, nil }

// Allocations of a v4/v5 request (issue 16), over a base that allocates
// nothing, for the style's request (a session, a query of the caller's):
// below the Transport the copy of the request and of its URL, and one
// string for the query, the timestamp and the signature; header signing
// adds the copy of the header: the map, its first group, and one array for
// the caller's values and the two it adds. Signer makes the same copies of
// the caller's request. Over a no-op base that builds its response (2 more
// allocations) that is 5 in query signing and 8 in header signing, as many
// as a hand-written minimal signer sending the same request. Counts, not timings; under the race detector, which makes
// sync.Pool drop MACs at random, they are logged only.
func TestVikiSignerAllocs(t *testing.T) {
	race := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			race = race || s.Key == "-race" && s.Value == "true"
		}
	}
	base := vikiSignerNopBase{resp: &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}}
	for _, tc := range []struct {
		mode   videoauth.VikiSigning
		signer bool
		header http.Header
		budget float64
	}{
		{videoauth.VikiSignQuery, false, nil, 3},
		{videoauth.VikiSignQuery, false, http.Header{"Accept": {"application/json"}}, 3},
		{videoauth.VikiSignHeaders, false, nil, 6},
		{videoauth.VikiSignHeaders, false, http.Header{"Accept": {"application/json"}}, 6},
		{videoauth.VikiSignQuery, true, nil, 3},
		{videoauth.VikiSignHeaders, true, nil, 6},
	} {
		a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "100005a", ClientSecret: "0123456789abcdef0123456789abcdef"}, tc.mode)
		require.NoError(t, err)
		var rt http.RoundTripper = &videoauth.Transport{Provider: a, Source: a.Source(&videoauth.Token{Provider: "viki",
			AccessToken: "fedcba9876543210fedcba9876543210fedcba98", TokenType: "viki-session"}), Base: base}
		u := videoauth.VikiAPIURL + "/v4/users/1u/subscriptions.json?per_page=25"
		if tc.signer {
			rt, u = a.Signer(base), u+"&token=fedcba9876543210fedcba9876543210fedcba98"
		}
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		for k, vs := range tc.header {
			req.Header[k] = vs
		}
		got := testing.AllocsPerRun(500, func() {
			if resp, err := rt.RoundTrip(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatal(err)
			}
		})
		what := fmt.Sprintf("mode %d, Signer %v, header %v", tc.mode, tc.signer, tc.header)
		t.Logf("%s: %v allocs/op (budget %v)", what, got, tc.budget)
		if !race {
			require.LessOrEqual(t, got, tc.budget, what)
		}
	}
}

// A redirect from another host into the API is not the Transport's to
// authorize: it arrives signed by the signer below it, as a request without
// a session (with the app's signature, as before issue 16), never with the
// session.
func TestVikiSignerRedirectIntoAPI(t *testing.T) {
	const secret = "viki-app-secret"
	var got *url.URL
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL }))
	defer api.Close()
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, api.URL+"/v4/to.json?x=1", http.StatusFound)
	}))
	defer foreign.Close()
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "9001", ClientSecret: secret, APIURL: api.URL}, videoauth.VikiSignQuery)
	require.NoError(t, err)
	c := videoauth.NewClient(a, a.Source(&videoauth.Token{Provider: "viki", AccessToken: "PLANTED-session"}))
	require.Equal(t, 200, getOK(t, c, foreign.URL+"/away").StatusCode)
	require.NotNil(t, got)
	require.NotContains(t, got.RawQuery, "PLANTED")
	i := strings.LastIndex(got.RawQuery, "&sig=")
	require.Positive(t, i, got.RawQuery)
	require.True(t, strings.HasPrefix(got.RawQuery, "x=1&app=9001&t="), got.RawQuery)
	require.Equal(t, videoauthtest.VikiSign(secret, got.EscapedPath()+"?"+got.RawQuery[:i], nil), got.RawQuery[i+len("&sig="):])
}

// vikiSignerWrapped is a base of a comparable type whose == panics when it
// holds a func.
type vikiSignerWrapped struct{ rt http.RoundTripper }

func (w vikiSignerWrapped) RoundTrip(r *http.Request) (*http.Response, error) {
	return w.rt.RoundTrip(r)
}

// The Transport's signer is kept between requests whatever the base is:
// a pointer, a value, a func (never compared), or a value whose comparison
// would panic; each request is signed.
func TestVikiSignerAnyBase(t *testing.T) {
	a, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "9001", ClientSecret: "viki-app-secret"}, videoauth.VikiSignQuery)
	require.NoError(t, err)
	capture := &vikiSignerCapture{}
	fn := roundTripFunc(capture.RoundTrip)
	for _, base := range []http.RoundTripper{capture, vikiSignerNopBase{resp: &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}},
		fn, vikiSignerWrapped{fn}, vikiSignerWrapped{capture}} {
		tr := &videoauth.Transport{Provider: a, Source: a.Source(&videoauth.Token{Provider: "viki", AccessToken: "session"}), Base: base}
		for range 2 {
			capture.sent = nil
			req, err := http.NewRequest(http.MethodGet, videoauth.VikiAPIURL+"/v4/movies.json", nil)
			require.NoError(t, err)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err, "%T", base)
			require.Equal(t, 200, resp.StatusCode)
			if capture.sent != nil {
				require.Contains(t, capture.sent.URL.RawQuery, "token=session&app=9001&t=", "%T", base)
				require.Contains(t, capture.sent.URL.RawQuery, "&sig=", "%T", base)
			}
		}
	}
}
