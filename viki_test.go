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
	"net/url"
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
	t.Run("second 403 is returned as is", func(t *testing.T) {
		fake, v := setupViki(t)
		clock := videoauthtest.NewClock(time.Now())
		fake.SetClock(clock)
		src := v.ClientCredentials()
		c := videoauth.NewClient(v, src)
		// A user-only route answers 403 to any app token: the re-minted
		// token is rejected too, and the second 403 comes back.
		resp := getOK(t, c, fake.URL+"/v3/users/1u.json")
		require.Equal(t, 403, resp.StatusCode)
		require.Equal(t, 2, fake.Mints())
		require.Equal(t, 2, fake.APICalls(), "one replay, no loop")
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
