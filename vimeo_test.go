package videoauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// stepClock advances its own time by every wait, so device polling runs
// instantly and deterministically.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Now()
	}
	return c.t
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	now := c.Now()
	c.mu.Lock()
	c.t = now.Add(d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// setup starts a fake Vimeo and a provider pointed at it.
func setup(t *testing.T) (*videoauthtest.Vimeo, *videoauth.Vimeo) {
	t.Helper()
	fake := videoauthtest.NewVimeo()
	t.Cleanup(fake.Close)
	v, err := videoauth.NewVimeo(videoauth.App{
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
		RedirectURL: "https://app.example/callback", APIURL: fake.URL,
	})
	require.NoError(t, err)
	return fake, v
}

// follow requests the authorize URL and returns the redirect it answers.
func follow(t *testing.T, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestVimeoClientCredentialsAndRemintOnDeletedToken(t *testing.T) {
	fake, v := setup(t)
	src := v.ClientCredentials()
	client := videoauth.NewClient(v, src)

	status, _ := get(t, client, fake.URL+"/videos?query=cats")
	require.Equal(t, 200, status)
	require.Equal(t, 1, fake.Mints())
	first := src.Current()
	require.Equal(t, []string{"public"}, first.Scopes, "client-credentials tokens are public-only")
	require.Equal(t, "client_credentials", fake.LastTokenForm().Get("grant_type"))

	fake.DeleteToken(first.AccessToken)
	status, _ = get(t, client, fake.URL+"/videos/1")
	require.Equal(t, 200, status, "re-minted and replayed")
	require.Equal(t, 2, fake.Mints())
	require.Equal(t, 3, fake.APICalls(), "the rejected call and its one replay")
	require.NotEqual(t, first.AccessToken, src.Current().AccessToken)
	require.Zero(t, fake.MissingAccept(), "versioned Accept on every request, token endpoint included")
}

func TestVimeoStampedeOneMint(t *testing.T) {
	fake, v := setup(t)
	src := v.ClientCredentials()
	tr := &http.Transport{MaxIdleConnsPerHost: 100, MaxConnsPerHost: 100}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: &videoauth.Transport{Provider: v, Source: src, Base: tr}}

	status, _ := get(t, client, fake.URL+"/videos")
	require.Equal(t, 200, status)
	fake.DeleteAllTokens()

	const n = 1000
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(fake.URL + "/videos")
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, n, ok.Load(), "every request succeeds")
	require.Equal(t, 2, fake.Mints(), "the first token, then exactly one re-mint for 1000 rejections")
}

func TestVimeoCodeFlow(t *testing.T) {
	fake, v := setup(t)
	ar, err := v.AuthRequest("", videoauth.VimeoScopePublic, videoauth.VimeoScopePrivate, videoauth.VimeoScopeUpload)
	require.NoError(t, err)
	u, _ := url.Parse(ar.URL)
	require.Equal(t, fake.URL, u.Scheme+"://"+u.Host, "authorize URL on the API host")

	loc := follow(t, ar.URL)
	aq := fake.LastAuthorizeQuery()
	require.Equal(t, "code", aq.Get("response_type"))
	require.Equal(t, "S256", aq.Get("code_challenge_method"))
	require.Equal(t, ar.State, aq.Get("state"))
	require.Equal(t, "public private upload", aq.Get("scope"))

	tok, err := v.Exchange(context.Background(), ar, loc.Query())
	require.NoError(t, err)
	require.Equal(t, 1, fake.Exchanges())
	form := fake.LastTokenForm()
	require.Equal(t, "https://app.example/callback", form.Get("redirect_uri"), "identical redirect_uri")
	require.Equal(t, ar.Verifier, form.Get("code_verifier"))
	require.Equal(t, "4242", tok.UserID)
	require.Equal(t, "vimeo", tok.Provider)
	require.NoError(t, tok.RequireScopes(videoauth.VimeoScopeUpload))
	require.ErrorIs(t, tok.RequireScopes(videoauth.VimeoScopeStats), videoauth.ErrScopeNotGranted)
	require.Contains(t, string(tok.User), "Fake User")

	client := videoauth.NewClient(v, v.Source(tok))
	status, body := get(t, client, fake.URL+"/me")
	require.Equal(t, 200, status, body)

	// Reusing the request: nothing more reaches the token endpoint.
	_, err = v.Exchange(context.Background(), ar, loc.Query())
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, fake.Exchanges())
}

func TestVimeoStateRejectedBeforeExchange(t *testing.T) {
	for name, mutate := range map[string]func(url.Values){
		"missing":   func(q url.Values) { q.Del("state") },
		"wrong":     func(q url.Values) { q.Set("state", "attacker") },
		"duplicate": func(q url.Values) { q.Add("state", q.Get("state")) },
		"empty":     func(q url.Values) { q.Set("state", "") },
	} {
		t.Run(name, func(t *testing.T) {
			fake, v := setup(t)
			ar, err := v.AuthRequest("")
			require.NoError(t, err)
			q := follow(t, ar.URL).Query()
			mutate(q)
			_, err = v.Exchange(context.Background(), ar, q)
			require.ErrorIs(t, err, videoauth.ErrStateMismatch)
			require.Zero(t, fake.Exchanges(), "the code is never sent")
			require.False(t, ar.Used(), "a bad callback does not consume the request")
		})
	}
	t.Run("other provider", func(t *testing.T) {
		fake, v := setup(t)
		_, other := setup(t)
		ar, _ := other.AuthRequest("")
		ar.Provider = "simkl"
		q := follow(t, ar.URL).Query()
		_, err := v.Exchange(context.Background(), ar, q)
		require.ErrorIs(t, err, videoauth.ErrStateMismatch)
		require.Zero(t, fake.Exchanges())
	})
}

func TestVimeoFailedExchangeIsNotRetried(t *testing.T) {
	fake, v := setup(t)
	ar, _ := v.AuthRequest("")
	q := follow(t, ar.URL).Query()
	ar.Verifier = "tampered-verifier-tampered-verifier-tampered" // the fake checks PKCE
	_, err := v.Exchange(context.Background(), ar, q)
	require.ErrorIs(t, err, videoauth.ErrCodeUsed)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 400, e.Status)
	require.Equal(t, "invalid_grant", e.Code)
	_, err = v.Exchange(context.Background(), ar, q)
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, fake.Exchanges(), "exchanged once, even though it failed")
}

func TestVimeoDeniedConsent(t *testing.T) {
	fake, v := setup(t)
	fake.DenyConsent(true)
	ar, _ := v.AuthRequest("")
	_, err := v.Exchange(context.Background(), ar, follow(t, ar.URL).Query())
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
	require.Zero(t, fake.Exchanges())
}

func TestVimeoImplicitGrant(t *testing.T) {
	fake, v := setup(t)
	ar, err := v.ImplicitRequest("")
	require.NoError(t, err)
	loc := follow(t, ar.URL)
	require.Equal(t, "token", fake.LastAuthorizeQuery().Get("response_type"))
	require.Empty(t, fake.LastAuthorizeQuery().Get("code_challenge"))

	_, err = v.ImplicitToken(ar, "#access_token=forged&state=wrong")
	require.ErrorIs(t, err, videoauth.ErrStateMismatch)

	before := time.Now()
	tok, err := v.ImplicitToken(ar, loc.String())
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	require.WithinDuration(t, before.Add(time.Hour), tok.Expiry, time.Minute)

	_, err = v.ImplicitToken(ar, loc.String())
	require.ErrorIs(t, err, videoauth.ErrStateUsed)

	fake.DenyConsent(true)
	ar2, _ := v.ImplicitRequest("")
	_, err = v.ImplicitToken(ar2, follow(t, ar2.URL).EscapedFragment())
	require.ErrorIs(t, err, videoauth.ErrAccessDenied)
}

func TestVimeoDeviceGrant(t *testing.T) {
	newV := func(t *testing.T) (*videoauthtest.Vimeo, *videoauth.Vimeo) {
		fake := videoauthtest.NewVimeo()
		t.Cleanup(fake.Close)
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: &stepClock{}})
		require.NoError(t, err)
		return fake, v
	}
	t.Run("approved", func(t *testing.T) {
		// A manual clock: the poller only moves when the test advances it,
		// so the approval lands after exactly two pending polls.
		fake := videoauthtest.NewVimeo()
		t.Cleanup(fake.Close)
		clock := videoauthtest.NewClock(time.Now())
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: clock})
		require.NoError(t, err)
		dc, err := v.Device(context.Background(), videoauth.VimeoScopePrivate)
		require.NoError(t, err)
		require.NotEmpty(t, dc.UserCode)
		require.Equal(t, fake.URL+"/activate", dc.VerificationURI)
		require.Equal(t, 5*time.Second, dc.Interval)
		done := make(chan struct{})
		var tok *videoauth.Token
		go func() { defer close(done); tok, err = dc.Wait(context.Background()) }()
		for polls := 1; polls <= 3; polls++ {
			require.Eventually(t, func() bool { return clock.Waiters() == 1 }, 5*time.Second, time.Millisecond)
			if polls == 3 {
				require.True(t, fake.ApproveDevice(dc.UserCode))
			}
			clock.Advance(dc.Interval)
			if polls < 3 {
				require.Eventually(t, func() bool { return fake.DevicePolls() == polls }, 5*time.Second, time.Millisecond)
			}
		}
		<-done
		require.Equal(t, 3, fake.DevicePolls())
		require.NoError(t, err)
		require.Equal(t, "4242", tok.UserID)
		require.Equal(t, "device_grant", fake.LastTokenForm().Get("grant_type"))
		require.Equal(t, dc.UserCode, fake.LastTokenForm().Get("user_code"))
	})
	t.Run("denied", func(t *testing.T) {
		fake, v := newV(t)
		dc, err := v.Device(context.Background())
		require.NoError(t, err)
		require.True(t, fake.DenyDevice(dc.UserCode))
		_, err = dc.Wait(context.Background())
		require.ErrorIs(t, err, videoauth.ErrAccessDenied)
		require.Equal(t, 1, fake.DevicePolls(), "denial stops polling at once")
	})
	t.Run("expires", func(t *testing.T) {
		fake, v := newV(t)
		dc, err := v.Device(context.Background())
		require.NoError(t, err)
		_, err = dc.Wait(context.Background())
		require.ErrorIs(t, err, videoauth.ErrExpiredCode)
		require.Equal(t, 59, fake.DevicePolls(), "every 5 s until the 300 s expiry, never past it")
	})
	t.Run("cancelled", func(t *testing.T) {
		_, v := newV(t)
		dc, err := v.Device(context.Background())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = dc.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestVimeoVerifyAndRevoke(t *testing.T) {
	fake, v := setup(t)
	ctx := context.Background()
	tok := &videoauth.Token{AccessToken: fake.IssueUserToken("public", "private"), Provider: "vimeo"}
	info, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"public", "private"}, info.Scopes)
	require.Equal(t, tok.AccessToken, info.AccessToken)

	src := v.Source(tok)
	client := videoauth.NewClient(v, src)
	status, _ := get(t, client, fake.URL+"/me")
	require.Equal(t, 200, status)

	require.NoError(t, v.Revoke(ctx, tok))
	_, err = v.Verify(ctx, tok)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)

	// The revoked user token is rejected; it cannot be re-minted, so the
	// source now asks for a new sign-in without touching the network.
	status, _ = get(t, client, fake.URL+"/me")
	require.Equal(t, 401, status)
	calls := fake.APICalls()
	_, err = client.Get(fake.URL + "/me")
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Equal(t, calls, fake.APICalls())
	require.NoError(t, v.Revoke(ctx, tok), "revoking a gone token is not an error")
}

func TestVimeoMissingScopeIsNotRetried(t *testing.T) {
	fake, v := setup(t)
	tok := &videoauth.Token{AccessToken: fake.IssueUserToken("public")}
	client := videoauth.NewClient(v, v.Source(tok))
	resp, err := client.Post(fake.URL+"/me/videos", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 403, resp.StatusCode)
	require.Equal(t, 1, fake.APICalls())
	resp, err = client.Get(fake.URL + "/me")
	require.NoError(t, err, "a 403 does not revoke anything")
	resp.Body.Close()
}

func TestVimeoReplayCarriesIdenticalBody(t *testing.T) {
	fake, v := setup(t)
	src := v.ClientCredentials()
	client := videoauth.NewClient(v, src)
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	fake.DeleteAllTokens()
	// PATCH /me needs a user token, but the client-credentials token's
	// rejection is what matters here: the body must arrive twice, identical.
	payload := []byte(`{"name":"Ünïcode ✓","bio":"` + strings.Repeat("z", 10000) + `"}`)
	req, _ := http.NewRequest(http.MethodPatch, fake.URL+"/me", bytes.NewReader(payload))
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	bodies := fake.APIBodies()
	require.Len(t, bodies, 2)
	require.Equal(t, payload, bodies[0])
	require.Equal(t, payload, bodies[1])
}

func TestVimeoTokenEndpointFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode videoauthtest.FailMode
	}{{"5xx", videoauthtest.Fail5xx}, {"html", videoauthtest.FailHTML}} {
		t.Run(tc.name, func(t *testing.T) {
			fake, v := setup(t)
			fake.FailTokenCalls(1, tc.mode)
			src := v.ClientCredentials()
			_, err := src.Token(context.Background())
			require.ErrorIs(t, err, videoauth.ErrServer)
			var e *videoauth.Error
			require.ErrorAs(t, err, &e)
			require.GreaterOrEqual(t, e.Status, 500)
			require.NotContains(t, err.Error(), "<html")
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		fake, _ := setup(t)
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: "nope", APIURL: fake.URL})
		require.NoError(t, err)
		_, err = v.ClientCredentials().Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrInvalidClient)
	})
}

// hostile is a token endpoint under the test's control.
func hostile(t *testing.T, h http.HandlerFunc) *videoauth.Vimeo {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: "SENTINEL-client-secret-77", APIURL: srv.URL, RedirectURL: "https://app.example/cb"})
	require.NoError(t, err)
	return v
}

func TestVimeoTokenEndpointRedirectNotFollowed(t *testing.T) {
	for _, status := range []int{302, 307, 308} {
		var landed atomic.Int64
		elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { landed.Add(1) }))
		v := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/steal", status)
		})
		_, err := v.ClientCredentials().Token(context.Background())
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, status, e.Status)
		require.Zero(t, landed.Load(), "status %d: nothing re-sent", status)
		elsewhere.Close()
	}
}

func TestVimeoTokenTooLarge(t *testing.T) {
	for _, size := range []int{1<<20 + 1, 5 << 20} {
		v := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			pad := size - len(`{"access_token":"","token_type":"bearer"}`)
			fmt.Fprintf(w, `{"access_token":"%s","token_type":"bearer"}`, strings.Repeat("a", pad))
		})
		_, err := v.ClientCredentials().Token(context.Background())
		require.ErrorIs(t, err, videoauth.ErrTokenTooLarge)
	}
	// Exactly 1 MiB is fine.
	v := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		pad := 1<<20 - len(`{"access_token":"","token_type":"bearer"}`)
		fmt.Fprintf(w, `{"access_token":"%s","token_type":"bearer"}`, strings.Repeat("a", pad))
	})
	_, err := v.ClientCredentials().Token(context.Background())
	require.NoError(t, err)
}

func TestVimeoRefusesInsecureEndpoints(t *testing.T) {
	for _, base := range []string{"http://api.vimeo.com", "http://10.0.0.1:8080", "ftp://x"} {
		_, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", APIURL: base})
		require.ErrorIs(t, err, videoauth.ErrInsecureEndpoint, base)
	}
	for _, base := range []string{"https://proxy.example", "http://127.0.0.1:9", "http://[::1]:9", "http://localhost:9"} {
		_, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", APIURL: base})
		require.NoError(t, err, base)
	}
}

func TestVimeoSecretsNeverPrinted(t *testing.T) {
	const s = "SENTINEL-"
	v := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.vimeo.auth+json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"code %scode-1 verifier %sverifier-2 secret %sclient-secret-77","developer_message":"%saccess-3"}`, s, s, s, s)
	})
	ar, err := v.AuthRequest("")
	require.NoError(t, err)
	_, err = v.Exchange(context.Background(), ar, url.Values{"state": {ar.State}, "code": {s + "code-1"}})
	require.Error(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Error("exchange failed", "err", err, "request", ar)
	slog.New(slog.NewTextHandler(&logs, nil)).Error("exchange failed", "err", err, "token", &videoauth.Token{AccessToken: s + "access-3", RefreshToken: s + "refresh-4"})
	for _, out := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", ar), fmt.Sprintf("%+v", ar), logs.String()} {
		require.NotContains(t, out, s)
	}
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Contains(t, string(e.Body), s+"code-1", "the body stays available on purpose")
}

func TestVimeoVerdictShapes(t *testing.T) {
	_, v := setup(t)
	for _, tc := range []struct {
		name   string
		status int
		header string
		body   string
		want   videoauth.Verdict
	}{
		{"ok", 200, "", `{}`, videoauth.VerdictOK},
		{"invalid_token header", 401, `Bearer error="invalid_token"`, `{"error":"x"}`, videoauth.VerdictExpired},
		{"8000 number", 401, "", `{"error":"x","error_code":8000}`, videoauth.VerdictExpired},
		{"8003 string", 401, "", `{"error":"x","error_code":"8003"}`, videoauth.VerdictExpired},
		{"8002 app token on user endpoint", 401, "", `{"error":"x","error_code":8002}`, videoauth.VerdictOK},
		{"403 scope", 403, `Bearer error="invalid_token"`, `{"error_code":3200}`, videoauth.VerdictOK},
		{"401 html", 401, "", `<html>`, videoauth.VerdictOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
			if tc.header != "" {
				resp.Header.Set("WWW-Authenticate", tc.header)
			}
			require.Equal(t, tc.want, v.Verdict(resp))
			b, _ := io.ReadAll(resp.Body)
			require.Equal(t, tc.body, string(b), "body intact after Verdict")
		})
	}
}

func TestVimeoOwnsOnlyItsAPIHost(t *testing.T) {
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id"})
	require.NoError(t, err)
	for raw, want := range map[string]bool{
		"https://api.vimeo.com/me":         true,
		"https://API.VIMEO.COM/me":         true,
		"http://api.vimeo.com/me":          false,
		"https://vimeo.com/me":             false,
		"https://api.vimeo.com.evil.io/me": false,
		"https://api.vimeo.com:8443/me":    false,
	} {
		u, _ := url.Parse(raw)
		require.Equal(t, want, v.Owns(u), raw)
	}
}

func TestVimeoErrorsAreTyped(t *testing.T) {
	_, err := videoauth.NewVimeo(videoauth.App{})
	require.Error(t, err)
	_, v := setup(t)
	_, err = v.Exchange(context.Background(), nil, nil)
	require.ErrorIs(t, err, videoauth.ErrStateMismatch)
	_, err = v.Verify(context.Background(), nil)
	require.Error(t, err)
	require.Error(t, v.Revoke(context.Background(), &videoauth.Token{}))
	var e *videoauth.Error
	require.False(t, errors.As(err, &e) && e == nil)
}
