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

// stepClock returns a clock that advances its own time by every wait
// (auto-advance), so device polling runs instantly and deterministically.
func stepClock() *videoauthtest.Clock {
	c := videoauthtest.NewClock(time.Now())
	c.SetAutoAdvance(true)
	return c
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
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: stepClock()})
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
			select { // Wait is asleep on the clock
			case <-clock.UntilWaiters(1):
			case <-time.After(5 * time.Second):
				t.Fatal("Wait never slept")
			}
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

// logCapture is a slog.Handler keeping every record, so a test can assert
// what App.Logger was told.
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logCapture) WithGroup(string) slog.Handler            { return h }
func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// warnings returns each warning as its message and attributes, keyed "msg"
// and by attribute name.
func (h *logCapture) warnings() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.recs {
		if r.Level != slog.LevelWarn {
			continue
		}
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// text is everything logged, rendered by slog's own text and JSON handlers.
func (h *logCapture) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b bytes.Buffer
	for _, r := range h.recs {
		_ = slog.NewTextHandler(&b, nil).Handle(context.Background(), r)
		_ = slog.NewJSONHandler(&b, nil).Handle(context.Background(), r)
	}
	return b.String()
}

// narrowGrant passes requests to base and, in a 200 token answer of path,
// replaces the granted scope from with to: Vimeo granting less than asked.
func narrowGrant(base http.RoundTripper, path, from, to string) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err != nil || r.URL.Path != path || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		b = bytes.Replace(b, []byte(`"scope":"`+from+`"`), []byte(`"scope":"`+to+`"`), 1)
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		resp.Header.Del("Content-Length")
		return resp, nil
	})
}

// Item 8: every Vimeo grant that returns fewer scopes than asked warns
// through App.Logger, naming the scopes, never a secret; a full grant is
// silent.
func TestVimeoWarnsWhenGrantedScopesAreNarrower(t *testing.T) {
	const secret = "SENTINEL-vimeo-client-secret"
	newV := func(t *testing.T, hc func(*videoauthtest.Vimeo) *http.Client) (*videoauthtest.Vimeo, *videoauth.Vimeo, *logCapture) {
		t.Helper()
		fake := videoauthtest.NewVimeo()
		fake.ClientSecret = secret
		t.Cleanup(fake.Close)
		logs := &logCapture{}
		app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, RedirectURL: "https://app.example/callback",
			APIURL: fake.URL, Logger: slog.New(logs), Clock: stepClock()}
		if hc != nil {
			app.HTTPClient = hc(fake)
		}
		v, err := videoauth.NewVimeo(app)
		require.NoError(t, err)
		return fake, v, logs
	}
	// consentTo plays the user who grants only scope on Vimeo's consent page.
	consentTo := func(t *testing.T, ar *videoauth.AuthRequest, scope string) *url.URL {
		t.Helper()
		u, err := url.Parse(ar.URL)
		require.NoError(t, err)
		q := u.Query()
		q.Set("scope", scope)
		u.RawQuery = q.Encode()
		return follow(t, u.String())
	}
	requireWarned := func(t *testing.T, logs *logCapture, grant, missing, requested, granted string, secrets ...string) {
		t.Helper()
		w := logs.warnings()
		require.Len(t, w, 1, logs.text())
		require.Contains(t, w[0]["msg"], "vimeo granted fewer scopes than requested")
		require.Equal(t, grant, w[0]["grant"])
		require.Equal(t, missing, w[0]["missing"])
		require.Equal(t, requested, w[0]["requested"])
		require.Equal(t, granted, w[0]["granted"])
		out := logs.text()
		for _, s := range append(secrets, secret, "SENTINEL") {
			require.NotEmpty(t, s)
			require.NotContains(t, out, s)
		}
	}
	ctx := context.Background()

	t.Run("exchange", func(t *testing.T) {
		_, v, logs := newV(t, nil)
		ar, err := v.AuthRequest("", videoauth.VimeoScopePrivate, videoauth.VimeoScopeUpload)
		require.NoError(t, err)
		loc := consentTo(t, ar, "public private") // the user unticked upload
		tok, err := v.Exchange(ctx, ar, loc.Query())
		require.NoError(t, err)
		require.False(t, tok.HasScope(videoauth.VimeoScopeUpload))
		requireWarned(t, logs, "exchange", "upload", "private upload", "public private",
			tok.AccessToken, loc.Query().Get("code"), ar.Verifier, ar.State)
	})
	t.Run("exchange granted in full", func(t *testing.T) {
		_, v, logs := newV(t, nil)
		ar, err := v.AuthRequest("", videoauth.VimeoScopePrivate, videoauth.VimeoScopeUpload)
		require.NoError(t, err)
		_, err = v.Exchange(ctx, ar, follow(t, ar.URL).Query())
		require.NoError(t, err)
		require.Empty(t, logs.warnings())
	})
	t.Run("implicit", func(t *testing.T) {
		_, v, logs := newV(t, nil)
		ar, err := v.ImplicitRequest("", videoauth.VimeoScopePrivate, videoauth.VimeoScopeEdit)
		require.NoError(t, err)
		loc := consentTo(t, ar, "public edit")
		tok, err := v.ImplicitToken(ar, loc.String())
		require.NoError(t, err)
		requireWarned(t, logs, "implicit", "private", "private edit", "public edit", tok.AccessToken, ar.State)
	})
	t.Run("device", func(t *testing.T) {
		fake, v, logs := newV(t, func(f *videoauthtest.Vimeo) *http.Client {
			return &http.Client{Transport: narrowGrant(f.Client().Transport, "/oauth/device/authorize", "public private upload", "public private")}
		})
		dc, err := v.Device(ctx, videoauth.VimeoScopePrivate, videoauth.VimeoScopeUpload)
		require.NoError(t, err)
		require.True(t, fake.ApproveDevice(dc.UserCode))
		tok, err := dc.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"public", "private"}, tok.Scopes, "the grant was narrowed")
		requireWarned(t, logs, "device", "upload", "private upload", "public private", tok.AccessToken)
	})
	t.Run("client credentials", func(t *testing.T) {
		_, v, logs := newV(t, nil)
		tok, err := v.ClientCredentials(videoauth.VimeoScopePublic, videoauth.VimeoScopePrivate).Token(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"public"}, tok.Scopes, "app tokens are public-only")
		requireWarned(t, logs, "client_credentials", "private", "public private", "public", tok.AccessToken)

		_, v, logs = newV(t, nil)
		_, err = v.ClientCredentials().Token(ctx) // "public", as granted
		require.NoError(t, err)
		require.Empty(t, logs.warnings())
	})
}

// sentLog records the headers and URL of every request passed through it.
type sentLog struct {
	mu   sync.Mutex
	sent []*http.Request
}

func (s *sentLog) via(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c := &http.Request{Method: r.Method, URL: new(url.URL), Header: r.Header.Clone()}
		*c.URL = *r.URL
		s.mu.Lock()
		s.sent = append(s.sent, c)
		s.mu.Unlock()
		return base.RoundTrip(r)
	})
}

func (s *sentLog) all() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.sent...)
}

// okBase answers every request with an empty 200.
var okBase = roundTripFunc(func(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
})

// Item 8: the App's User-Agent (App.UserAgent, else AppName/AppVersion) is
// on every Vimeo request, token endpoints and API alike; a caller's own is
// kept; an App naming none adds none, so net/http's default goes out.
func TestVimeoSendsTheAppsUserAgent(t *testing.T) {
	for _, tc := range []struct {
		name string
		app  func(*videoauth.App)
		want string // "" means no User-Agent header is added
	}{
		{"UserAgent", func(a *videoauth.App) { a.UserAgent = "my-app/2.0 (+https://app.example)" }, "my-app/2.0 (+https://app.example)"},
		{"AppName and AppVersion", func(a *videoauth.App) { a.AppName, a.AppVersion = "my-app", "1.2.3" }, "my-app/1.2.3"},
		{"UserAgent over AppName", func(a *videoauth.App) { a.UserAgent, a.AppName, a.AppVersion = "ua/1", "my-app", "1.2.3" }, "ua/1"},
		{"AppName alone", func(a *videoauth.App) { a.AppName = "my-app" }, "my-app"},
		{"none", func(*videoauth.App) {}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := videoauthtest.NewVimeo()
			t.Cleanup(fake.Close)
			var log sentLog
			app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL,
				HTTPClient: &http.Client{Transport: log.via(fake.Client().Transport)}}
			tc.app(&app)
			v, err := videoauth.NewVimeo(app)
			require.NoError(t, err)
			ctx := context.Background()
			src := v.ClientCredentials()
			tok, err := src.Token(ctx) // token endpoint
			require.NoError(t, err)
			_, err = v.Verify(ctx, tok) // another endpoint of the provider's own
			require.NoError(t, err)
			status, _ := get(t, videoauth.NewClient(v, src), fake.URL+"/videos") // API, through the Transport
			require.Equal(t, 200, status)
			sent := log.all()
			require.Len(t, sent, 3)
			for _, r := range sent {
				ua, set := r.Header["User-Agent"]
				if tc.want == "" {
					require.False(t, set, "%s: nothing added, net/http sends its default", r.URL.Path)
				} else {
					require.Equal(t, []string{tc.want}, ua, r.URL.Path)
				}
			}

			// The caller's own User-Agent, or an explicit empty one (net/http:
			// send none), is the caller's to keep.
			tr := &videoauth.Transport{Provider: v, Source: src, Base: log.via(okBase)}
			for _, own := range [][]string{{"caller/9"}, {""}} {
				req, _ := http.NewRequest(http.MethodGet, fake.URL+"/me", nil)
				req.Header["User-Agent"] = own
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				sent := log.all()
				require.Equal(t, own, sent[len(sent)-1].Header["User-Agent"])
				require.NotEmpty(t, sent[len(sent)-1].Header.Get("Authorization"))
			}
		})
	}
	_, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", UserAgent: "my-app/1\r\nX-Injected: 1"})
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "a header-splitting User-Agent is refused up front")
}

// Item 8: sending the App's User-Agent costs the Transport no allocation:
// the value is built once, in NewVimeo.
func TestVimeoUserAgentAddsNoAllocation(t *testing.T) {
	allocs := func(app videoauth.App) (float64, []string) {
		v, err := videoauth.NewVimeo(app)
		require.NoError(t, err)
		tok := &videoauth.Token{Provider: "vimeo", AccessToken: "tok", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}
		var ua []string
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) { ua = r.Header["User-Agent"]; return resp, nil })
		tr := &videoauth.Transport{Provider: v, Source: v.Source(tok), Base: base}
		req, err := http.NewRequest(http.MethodGet, videoauth.VimeoURL+"/me", nil)
		require.NoError(t, err)
		n := testing.AllocsPerRun(200, func() {
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
		})
		return n, ua
	}
	without, ua := allocs(videoauth.App{ClientID: "id"})
	require.Nil(t, ua)
	with, ua := allocs(videoauth.App{ClientID: "id", UserAgent: "my-app/1.0"})
	require.Equal(t, []string{"my-app/1.0"}, ua)
	t.Logf("allocs/op: %v without a User-Agent, %v with", without, with)
	require.Equal(t, without, with)
}

// Item 8: a caller's Vimeo media type without ;version= gets the App's
// version (or the default); a version the caller gives is kept; any other
// Accept is replaced by the versioned default, as before.
func TestVimeoVersionsTheCallersMediaType(t *testing.T) {
	tok := &videoauth.Token{AccessToken: "tok"}
	for _, version := range []string{"", "3.2"} {
		v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", APIVersion: version})
		require.NoError(t, err)
		if version == "" {
			version = videoauth.VimeoVersion
		}
		ver := ";version=" + version
		for _, tc := range []struct {
			name   string
			accept []string
			want   []string
		}{
			{"none", nil, []string{"application/vnd.vimeo.*+json" + ver}},
			{"vimeo type without version", []string{"application/vnd.vimeo.*+json"}, []string{"application/vnd.vimeo.*+json" + ver}},
			{"specific vimeo type", []string{"application/vnd.vimeo.video+json"}, []string{"application/vnd.vimeo.video+json" + ver}},
			{"vimeo.py's form", []string{"application/vnd.vimeo.*"}, []string{"application/vnd.vimeo.*" + ver}},
			{"version before q", []string{"application/vnd.vimeo.*+json;q=0.9"}, []string{"application/vnd.vimeo.*+json" + ver + ";q=0.9"}},
			{"list", []string{"application/vnd.vimeo.video+json, application/json;q=0.5"}, []string{"application/vnd.vimeo.video+json" + ver + ", application/json;q=0.5"}},
			{"list, one versioned", []string{"application/vnd.vimeo.video+json;version=3.0, application/vnd.vimeo.*+json"},
				[]string{"application/vnd.vimeo.video+json;version=3.0, application/vnd.vimeo.*+json" + ver}},
			{"two lines", []string{"application/json", "application/vnd.vimeo.*+json"}, []string{"application/json", "application/vnd.vimeo.*+json" + ver}},
			{"explicit version kept", []string{"application/vnd.vimeo.*+json;version=3.0"}, []string{"application/vnd.vimeo.*+json;version=3.0"}},
			{"explicit version, spaced", []string{"application/vnd.vimeo.*+json; version=3.0"}, []string{"application/vnd.vimeo.*+json; version=3.0"}},
			{"explicit version, any case", []string{"Application/VND.Vimeo.*+JSON;Version=3.0"}, []string{"Application/VND.Vimeo.*+JSON;Version=3.0"}},
			{"application/json replaced", []string{"application/json"}, []string{"application/vnd.vimeo.*+json" + ver}},
			{"*/* replaced", []string{"*/*"}, []string{"application/vnd.vimeo.*+json" + ver}},
		} {
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodGet, videoauth.VimeoURL+"/me", nil)
				require.NoError(t, err)
				if tc.accept != nil {
					req.Header["Accept"] = append([]string(nil), tc.accept...)
				}
				require.NoError(t, v.Authorize(req, tok))
				require.Equal(t, tc.want, req.Header["Accept"])
				require.Equal(t, "Bearer tok", req.Header.Get("Authorization"))
			})
		}
	}
	// Through the Transport: the clone is versioned, the caller's request
	// left as it was.
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id"})
	require.NoError(t, err)
	var log sentLog
	tr := &videoauth.Transport{Provider: v, Source: v.Source(&videoauth.Token{AccessToken: "tok"}), Base: log.via(okBase)}
	req, err := http.NewRequest(http.MethodGet, videoauth.VimeoURL+"/videos/1", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.vimeo.video+json")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, []string{"application/vnd.vimeo.video+json;version=" + videoauth.VimeoVersion}, log.all()[0].Header["Accept"])
	require.Equal(t, http.Header{"Accept": {"application/vnd.vimeo.video+json"}}, req.Header)
}

// requireOwnsOrigin checks p.Owns against variants of the origin
// scheme://host[:port] that p's API lives on (port "" for the scheme's
// default): the default port written out, an empty port, the host in upper
// case and userinfo are the same origin; another port or scheme, or a host
// that merely starts with host, is not.
func requireOwnsOrigin(t *testing.T, p videoauth.Provider, scheme, host, port string) {
	t.Helper()
	def, other := "443", "http"
	if scheme == "http" {
		def, other = "80", "https"
	}
	at := func(h, p string) string {
		if p == "" {
			return scheme + "://" + h + "/x?y=1"
		}
		return scheme + "://" + h + ":" + p + "/x?y=1"
	}
	cases := []struct {
		name, url string
		want      bool
	}{
		{"uppercase host", at(strings.ToUpper(host), port), true},
		{"userinfo", strings.Replace(at(host, port), "://", "://user:pw@", 1), true},
		{"userinfo hiding another host", scheme + "://" + host + "@evil.example/x", false},
		{"host as a prefix", at(host+".evil.example", port), false},
		{"other port", at(host, "8443"), false},
		{"other scheme", other + "://" + host + ":" + cmpOr(port, def) + "/x", false},
	}
	if port == "" {
		cases = append(cases, []struct {
			name, url string
			want      bool
		}{
			{"default port", at(host, ""), true},
			{"explicit default port", at(host, def), true},
			{"explicit default port, uppercase host", at(strings.ToUpper(host), def), true},
			{"userinfo, explicit default port", strings.Replace(at(host, def), "://", "://user@", 1), true},
			{"empty port", scheme + "://" + host + ":/x", true},
			{"other scheme's default port", at(host, map[string]string{"443": "80", "80": "443"}[def]), false},
		}...)
	} else {
		cases = append(cases, []struct {
			name, url string
			want      bool
		}{
			{"its port", at(host, port), true},
			{"no port", at(host, ""), false},
			{"explicit default port", at(host, def), false},
		}...)
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.url)
		require.NoError(t, err, tc.url)
		require.Equal(t, tc.want, p.Owns(u), "%s: %s", tc.name, tc.url)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Item 9: https://api.vimeo.com:443 is api.vimeo.com; an APIURL override
// with a port (the fake) still owns exactly that port.
func TestVimeoOwnsTheDefaultPort(t *testing.T) {
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id"})
	require.NoError(t, err)
	requireOwnsOrigin(t, v, "https", "api.vimeo.com", "")
	v443, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", APIURL: "https://API.vimeo.com:443"})
	require.NoError(t, err)
	requireOwnsOrigin(t, v443, "https", "api.vimeo.com", "")
	fake, vf := setup(t)
	u, _ := url.Parse(fake.URL)
	requireOwnsOrigin(t, vf, "http", u.Hostname(), u.Port())

	u443, _ := url.Parse("https://api.vimeo.com:443/me")
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if !v.Owns(u443) {
			t.Fatal("not owned")
		}
	}), "Owns runs on every request: no allocation")
}

// sentThrough sends a GET of rawURL through a Transport of p and src over a
// recording base, and returns what the base was given.
func sentThrough(t *testing.T, p videoauth.Provider, src *videoauth.Source, rawURL string) *http.Request {
	t.Helper()
	var log sentLog
	tr := &videoauth.Transport{Provider: p, Source: src, Base: log.via(okBase)}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	sent := log.all()
	require.Len(t, sent, 1)
	return sent[0]
}

// Item 9, end to end: a request to https://api.vimeo.com:443/... carries
// the token (it used to go out bare and earn a 401); another port does not.
func TestVimeoTransportAuthorizesTheDefaultPort(t *testing.T) {
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: "id"})
	require.NoError(t, err)
	src := v.Source(&videoauth.Token{Provider: "vimeo", AccessToken: "tok"})
	sent := sentThrough(t, v, src, "https://api.vimeo.com:443/me/videos")
	require.Equal(t, "Bearer tok", sent.Header.Get("Authorization"))
	require.Equal(t, "application/vnd.vimeo.*+json;version="+videoauth.VimeoVersion, sent.Header.Get("Accept"))
	require.Equal(t, "https://api.vimeo.com:443/me/videos", sent.URL.String(), "the URL is sent as the caller wrote it")
	sent = sentThrough(t, v, src, "https://api.vimeo.com:8443/me/videos")
	require.Empty(t, sent.Header.Get("Authorization"), "another port is another origin")
}

// TestVimeoDeviceRefusesAForeignActivateLink: the activate_link Vimeo's
// device answer names is what the user is told to open (RFC 8628 §5.4).
// One that is not an https page on Vimeo's hosts, or on the host of
// App.APIURL or App.WebURL, fails Device with ErrBadVerificationURI, before
// any poll; Vimeo's own pages and the fake's are shown.
func TestVimeoDeviceRefusesAForeignActivateLink(t *testing.T) {
	ctx := context.Background()
	fake := videoauthtest.NewVimeo()
	t.Cleanup(fake.Close)
	app := videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Clock: stepClock()}
	v, err := videoauth.NewVimeo(app)
	require.NoError(t, err)
	for _, link := range []string{
		"https://evil.example/activate",
		"https://vimeo.com.evil.example/activate",
		"https://vimeo.com@evil.example/activate",
		"http://vimeo.com/activate",
		"javascript:alert(document.domain)//vimeo.com/activate",
		"data:text/html,evil.example",
		"vimeo.com/activate",
		"http://127.0.0.1:1/activate", // loopback, but not the fake
	} {
		fake.SetActivateLink(link)
		dc, err := v.Device(ctx)
		require.ErrorIs(t, err, videoauth.ErrBadVerificationURI, link)
		require.ErrorIs(t, err, videoauth.ErrBadResponse, link)
		var e *videoauth.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "vimeo", e.Provider)
		require.Equal(t, "device", e.Op)
		require.Nil(t, dc)
		require.NotContains(t, err.Error(), "evil", "the message quotes nothing of the link")
	}
	require.Zero(t, fake.DevicePolls())

	for _, link := range []string{"", "https://vimeo.com/activate", "https://www.vimeo.com/activate", "https://api.vimeo.com/activate"} {
		fake.SetActivateLink(link)
		dc, err := v.Device(ctx)
		require.NoError(t, err, link)
		if link == "" {
			link = fake.URL + "/activate"
		}
		require.Equal(t, link, dc.VerificationURI)
	}

	// App.WebURL names the host of the activation page, as for a fake.
	app.WebURL = "http://127.0.0.1:1"
	v, err = videoauth.NewVimeo(app)
	require.NoError(t, err)
	fake.SetActivateLink("http://127.0.0.1:1/activate")
	dc, err := v.Device(ctx)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:1/activate", dc.VerificationURI)
}
