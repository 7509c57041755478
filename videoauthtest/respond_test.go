package videoauthtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rsAnswer is what a client read: the response and its whole body.
type rsAnswer struct {
	resp *http.Response
	body string
}

// rsClient is a client that does not follow redirects, over transport rt.
func rsClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// rsSend sends the request mk builds with c and reads the answer.
func rsSend(t *testing.T, c *http.Client, mk func() *http.Request) rsAnswer {
	t.Helper()
	resp, err := c.Do(mk())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rsAnswer{resp, string(b)}
}

func rsRequest(t *testing.T, method, rawURL, body string, header ...string) func() *http.Request {
	return func() *http.Request {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, rawURL, r)
		require.NoError(t, err)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header[header[i]] = []string{header[i+1]}
		}
		return req
	}
}

// rsHeader is h without the headers only a socket server sends (Date).
func rsHeader(h http.Header) http.Header {
	h = h.Clone()
	h.Del("Date")
	return h
}

// The same request, sent over a socket to a fake's server and answered by
// its Respond in process, gets the same answer: status, every header but
// Date, ContentLength and body. The cases are answers that do not depend on
// random tokens.
func TestRespondAnswersAsTheServer(t *testing.T) {
	vimeo, simkl, viki := NewVimeo(), NewSimkl(), NewViki()
	t.Cleanup(vimeo.Close)
	t.Cleanup(simkl.Close)
	t.Cleanup(viki.Close)
	form := "Content-Type"
	cases := []struct {
		name string
		core *core
		mk   func() *http.Request
	}{
		{"vimeo/bad client", &vimeo.core, rsRequest(t, http.MethodPost, vimeo.URL+"/oauth/authorize/client", "grant_type=client_credentials",
			"Authorization", rawBasic("nobody", "x"), form, "application/x-www-form-urlencoded", "Accept", accept)},
		{"vimeo/token endpoint GET", &vimeo.core, rsRequest(t, http.MethodGet, vimeo.URL+"/oauth/access_token", "")},
		{"vimeo/no credentials", &vimeo.core, rsRequest(t, http.MethodGet, vimeo.URL+"/me", "", "Accept", accept)},
		{"vimeo/invalid token", &vimeo.core, rsRequest(t, http.MethodGet, vimeo.URL+"/videos", "", "Authorization", "Bearer nope")},
		{"vimeo/consent page error", &vimeo.core, rsRequest(t, http.MethodGet, vimeo.URL+"/oauth/authorize?client_id=x", "")},
		{"vimeo/unknown oauth path", &vimeo.core, rsRequest(t, http.MethodGet, vimeo.URL+"/oauth/nope", "")},
		{"vimeo/HEAD", &vimeo.core, rsRequest(t, http.MethodHead, vimeo.URL+"/oauth/nope", "")},
		{"vimeo/revoke", &vimeo.core, func() *http.Request {
			return rsRequest(t, http.MethodDelete, vimeo.URL+"/tokens", "", "Authorization", "Bearer "+vimeo.IssueUserToken())()
		}},
		{"simkl/missing params", &simkl.core, rsRequest(t, http.MethodGet, simkl.APIURL+"/users/settings", "")},
		{"simkl/no user agent", &simkl.core, rsRequest(t, http.MethodGet, skURL(simkl.APIURL, "/users/settings", skQuery(simkl.V2ClientID, nil)), "", "User-Agent", "")},
		{"simkl/token required", &simkl.core, rsRequest(t, http.MethodGet, skURL(simkl.APIURL, "/users/settings", skQuery(simkl.V2ClientID, nil)), "")},
		{"simkl/V1 exchange, empty field", &simkl.core, rsRequest(t, http.MethodPost, skURL(simkl.APIURL, "/oauth/token", skQuery(simkl.ClientID, nil)),
			"grant_type=authorization_code", form, "application/x-www-form-urlencoded")},
		{"simkl/V2 revoke", &simkl.core, rsRequest(t, http.MethodPost, skURL(simkl.APIURL, "/oauth2/revoke", skQuery(simkl.V2ClientID, nil)),
			"token=whatever", form, "application/x-www-form-urlencoded")},
		{"simkl/web home", &simkl.core, rsRequest(t, http.MethodGet, simkl.WebURL+"/", "")},
		{"simkl/web V2 authorize problem", &simkl.core, rsRequest(t, http.MethodGet, skURL(simkl.WebURL, "/oauth2/authorize", skQuery(simkl.V2ClientID, nil)), "")},
		{"viki/missing app", &viki.core, rsRequest(t, http.MethodGet, viki.URL+"/v4/movies.json", "")},
		{"viki/bad signature", &viki.core, rsRequest(t, http.MethodGet, viki.URL+"/v4/movies.json?app=9001&t=1&sig=00", "")},
		{"viki/v3 not authorized", &viki.core, rsRequest(t, http.MethodGet, viki.URL+"/v3/movies.json?access_token=nope", "")},
		{"viki/not found", &viki.core, rsRequest(t, http.MethodGet, viki.URL+"/nope", "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			socket := rsSend(t, rsClient(tc.core.client().Transport), tc.mk)
			inproc := rsSend(t, rsClient(tc.core.RoundTripper()), tc.mk)
			require.Equal(t, socket.resp.StatusCode, inproc.resp.StatusCode, inproc.body)
			require.Equal(t, socket.resp.Status, inproc.resp.Status)
			require.Equal(t, rsHeader(socket.resp.Header), rsHeader(inproc.resp.Header))
			require.Equal(t, socket.resp.ContentLength, inproc.resp.ContentLength)
			require.Equal(t, socket.body, inproc.body)
			require.Equal(t, socket.resp.Proto, inproc.resp.Proto)
		})
	}
	require.Equal(t, 4, simkl.MissingParams(), "twice each: no params, and an empty User-Agent, which neither way sends")
}

// The *http.Response of Respond is a complete one: Request set, Body read
// once, ContentLength and Content-Length the body's length, http.NoBody for
// an empty body, no body and no length for a 204.
func TestRespondResponse(t *testing.T) {
	v := newFake(t)
	req := rsRequest(t, http.MethodPost, v.URL+"/oauth/authorize/client", "grant_type=client_credentials&scope=public",
		"Authorization", rawBasic(v.ClientID, v.ClientSecret), "Content-Type", "application/x-www-form-urlencoded", "Accept", accept)()
	resp, err := v.Respond(req)
	require.NoError(t, err)
	require.Same(t, req, resp.Request)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "200 OK", resp.Status)
	require.Equal(t, "HTTP/1.1", resp.Proto)
	require.Equal(t, 1, resp.ProtoMajor)
	require.Equal(t, 1, resp.ProtoMinor)
	require.Equal(t, authType, resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), `"token_type":"bearer"`)
	require.Equal(t, int64(len(body)), resp.ContentLength)
	require.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))
	again, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Empty(t, again, "the body reads once")
	require.NoError(t, resp.Body.Close())
	require.Equal(t, 1, v.Mints())
	require.Zero(t, v.MissingAccept())

	tok := v.IssueUserToken()
	resp, err = v.Respond(rsRequest(t, http.MethodDelete, v.URL+"/tokens", "", "Authorization", "Bearer "+tok, "Accept", accept)())
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, http.NoBody, resp.Body)
	require.Zero(t, resp.ContentLength)
	require.Empty(t, resp.Header.Values("Content-Length"), "a 204 has no length")

	s := newSimklFake(t)
	resp, err = s.Respond(rsRequest(t, http.MethodPost, skURL(s.APIURL, "/oauth2/revoke", skQuery(s.V2ClientID, nil)),
		"token=x", "Content-Type", "application/x-www-form-urlencoded")())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, http.NoBody, resp.Body, "an empty 200")
	require.Equal(t, "0", resp.Header.Get("Content-Length"))

	resp, err = v.Respond(rsRequest(t, http.MethodHead, v.URL+"/videos", "", "Authorization", "Bearer "+v.IssueUserToken())())
	require.NoError(t, err)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, http.NoBody, resp.Body, "HEAD: no body")
	require.Positive(t, resp.ContentLength, "but the length of the GET's")
}

// rsBody is a request body that records its Close.
type rsBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *rsBody) Close() error { b.closed.Store(true); return nil }

// Respond leaves the caller's request as it was (it serves a copy, with the
// headers net/http's Transport would add), closes its body, and gives the
// fake what a server would see.
func TestRespondRequestAsOnTheWire(t *testing.T) {
	s := newSimklFake(t)
	rawURL := skURL(s.APIURL, "/users/settings", skQuery(s.V2ClientID, nil))
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer nope")
	before := req.Header.Clone()
	resp, err := s.Respond(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, before, req.Header, "the caller's header is not touched")
	require.Equal(t, rawURL, req.URL.String())
	require.Zero(t, s.MissingParams(), "the default User-Agent counts, as over a socket")
	seen := s.LastRequestHeader()
	require.Equal(t, "Go-http-client/1.1", seen.Get("User-Agent"))
	require.Empty(t, seen.Values("Host"))

	// A body of unknown length is sent chunked; the fake reads it whole.
	v := newFake(t)
	body := &rsBody{Reader: strings.NewReader(`{"name":"x"}`)}
	req, err = http.NewRequest(http.MethodPatch, v.URL+"/me", nil)
	require.NoError(t, err)
	req.Body = body
	req.Header.Set("Authorization", "Bearer "+v.IssueUserToken())
	req.Header.Set("Accept", accept)
	a := rsSend(t, rsClient(v.RoundTripper()), func() *http.Request { return req })
	require.Equal(t, http.StatusOK, a.resp.StatusCode)
	require.Equal(t, `{"name":"x"}`, a.body, "/me echoes the body")
	require.True(t, body.closed.Load(), "Respond closes the request body")
	require.Equal(t, [][]byte{[]byte(`{"name":"x"}`)}, v.APIBodies())

	// Credentials in the URL become a Basic header, as the Transport sends
	// them.
	u, err := url.Parse(v.URL + "/oauth/authorize/client")
	require.NoError(t, err)
	u.User = url.UserPassword(v.ClientID, v.ClientSecret)
	a = rsSend(t, rsClient(v.RoundTripper()), rsRequest(t, http.MethodPost, u.String(), "grant_type=client_credentials",
		"Content-Type", "application/x-www-form-urlencoded", "Accept", accept))
	require.Equal(t, http.StatusOK, a.resp.StatusCode, a.body)

	// Viki's signature covers the raw request target, byte for byte.
	vk := NewViki()
	t.Cleanup(vk.Close)
	vk.SetClock(NewClock(time.Unix(1_700_000_000, 0)))
	target := "/v4/movies.json?sort=views&per_page=2&app=9001&t=1700000000"
	signed := vk.URL + target + "&sig=" + VikiSign(vk.AppSecret, target, nil)
	a = rsSend(t, rsClient(vk.RoundTripper()), rsRequest(t, http.MethodGet, signed, ""))
	require.Equal(t, http.StatusOK, a.resp.StatusCode, a.body)
	require.Equal(t, 1, vk.SignedCalls())
	require.Equal(t, target+"&sig="+VikiSign(vk.AppSecret, target, nil), vk.LastRequest().RequestURI)
}

// Respond serves the services' real host names, so code under test can keep
// its production URLs behind an httpmock.MockTransport: one host serves
// everything for Vimeo and Viki, and Simkl's web names go to the consent
// pages, every other host to the API.
func TestRespondServesTheRealHosts(t *testing.T) {
	v := newFake(t)
	c := rsClient(v.RoundTripper())
	a := rsSend(t, c, rsRequest(t, http.MethodPost, "https://api.vimeo.com/oauth/authorize/client", "grant_type=client_credentials",
		"Authorization", rawBasic(v.ClientID, v.ClientSecret), "Content-Type", "application/x-www-form-urlencoded", "Accept", accept))
	require.Equal(t, http.StatusOK, a.resp.StatusCode, a.body)
	require.Equal(t, 1, v.Mints())

	s := newSimklFake(t)
	c = rsClient(s.RoundTripper())
	for _, web := range []string{"https://simkl.com", "https://WWW.simkl.com", s.WebURL} {
		a = rsSend(t, c, rsRequest(t, http.MethodGet, skURL(web, "/oauth2/authorize", skQuery(s.V2ClientID, skV2Query(""))), ""))
		require.Equal(t, http.StatusFound, a.resp.StatusCode, "%s: %s", web, a.body)
		loc, err := url.Parse(a.resp.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, s.WebURL, loc.Query().Get("iss"), "the issuer is the fake's web host")
		a = rsSend(t, c, rsRequest(t, http.MethodGet, skURL(web, "/users/settings", skQuery(s.V2ClientID, nil)), ""))
		require.Equal(t, http.StatusNotFound, a.resp.StatusCode, "%s: the web host has no API", web)
	}
	for _, api := range []string{"https://api.simkl.com", s.APIURL, "http://elsewhere.example"} {
		a = rsSend(t, c, rsRequest(t, http.MethodGet, skURL(api, "/users/settings", skQuery(s.V2ClientID, nil)), ""))
		require.Equal(t, http.StatusUnauthorized, a.resp.StatusCode, "%s: %s", api, a.body)
		require.Contains(t, a.body, "user_token_required")
	}

	vk := NewViki()
	t.Cleanup(vk.Close)
	c = rsClient(vk.RoundTripper())
	a = rsSend(t, c, rsRequest(t, http.MethodPost, "https://www.viki.com/oauth/token",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {vk.ClientID}, "client_secret": {vk.ClientSecret}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded"))
	require.Equal(t, http.StatusOK, a.resp.StatusCode, a.body)
	a = rsSend(t, c, rsRequest(t, http.MethodGet, "https://api.viki.io/v4/movies.json", ""))
	require.Contains(t, a.body, "missing app")
}

// A whole code flow through RoundTripper, and through an http.Client that
// follows the fake's redirect.
func TestRoundTripperCodeFlow(t *testing.T) {
	v := newFake(t)
	c := &http.Client{Transport: v.RoundTripper()}
	redirect := "https://app.example/callback"
	q := url.Values{"client_id": {v.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"st"}}
	var location *url.URL
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		location = req.URL
		return http.ErrUseLastResponse
	}
	resp, err := c.Get(v.URL + "/oauth/authorize?" + q.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	require.NotNil(t, location)
	require.Equal(t, "st", location.Query().Get("state"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {location.Query().Get("code")}, "redirect_uri": {redirect}}
	a := rsSend(t, c, rsRequest(t, http.MethodPost, v.URL+"/oauth/access_token", form.Encode(),
		"Authorization", rawBasic(v.ClientID, v.ClientSecret), "Content-Type", "application/x-www-form-urlencoded", "Accept", accept))
	require.Equal(t, http.StatusOK, a.resp.StatusCode, a.body)
	require.Equal(t, 1, v.Exchanges())
	require.Equal(t, "authorization_code", v.LastTokenForm().Get("grant_type"))
}

// Respond is safe for concurrent use: mints and API calls from many
// goroutines are all answered and all counted (run with -race).
func TestRespondConcurrent(t *testing.T) {
	v := newFake(t)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			resp, err := v.Respond(rsRequest(t, http.MethodPost, v.URL+"/oauth/authorize/client", "grant_type=client_credentials",
				"Authorization", rawBasic(v.ClientID, v.ClientSecret), "Content-Type", "application/x-www-form-urlencoded", "Accept", accept)())
			if err == nil {
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("mint %d: %s", i, resp.Status)
				}
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			resp, err := v.Respond(rsRequest(t, http.MethodGet, "https://api.vimeo.com/videos/"+strconv.Itoa(i), "", "Accept", accept)())
			if err == nil {
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					err = fmt.Errorf("api %d: %s", i, resp.Status)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, n, v.Mints())
	require.Equal(t, n, v.TokenCalls())
	require.Equal(t, n, v.APICalls())
	require.Zero(t, v.MissingAccept())
}

// A closed fake answers nothing; a request abandoned while SetLatency holds
// it fails with its context's error, or, at Close, with an error.
func TestRespondClosedAndAbandoned(t *testing.T) {
	post := func(t *testing.T, v *Vimeo, ctx context.Context) (*http.Response, error) {
		req := rsRequest(t, http.MethodPost, v.URL+"/oauth/authorize/client", "grant_type=client_credentials",
			"Authorization", rawBasic(v.ClientID, v.ClientSecret), "Content-Type", "application/x-www-form-urlencoded")()
		return v.Respond(req.WithContext(ctx))
	}
	t.Run("closed", func(t *testing.T) {
		v := NewVimeo()
		v.Close()
		resp, err := post(t, v, context.Background())
		require.Nil(t, resp)
		require.ErrorContains(t, err, "videoauthtest: the fake Vimeo is closed")
		require.Zero(t, v.TokenCalls())
	})
	t.Run("ctx ends", func(t *testing.T) {
		v := newFake(t)
		v.SetLatency(time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		resp, err := post(t, v, ctx)
		require.Nil(t, resp)
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, v.Mints(), "abandoned before the answer")
		require.Equal(t, 1, v.TokenCalls())
	})
	t.Run("Close while held", func(t *testing.T) {
		v := NewVimeo()
		v.SetLatency(time.Hour)
		done := make(chan error, 1)
		go func() {
			_, err := post(t, v, context.Background())
			done <- err
		}()
		require.Eventually(t, func() bool { return v.TokenCalls() == 1 }, 5*time.Second, time.Millisecond)
		v.Close()
		err := <-done
		require.ErrorIs(t, err, io.EOF)
		require.ErrorContains(t, err, "abandoned")
	})
	t.Run("other panics go on up", func(t *testing.T) {
		var c core
		c.start("Panicky", serves(func(http.ResponseWriter, *http.Request) { panic("boom") }))
		defer c.Close()
		req := rsRequest(t, http.MethodGet, "http://x.example/", "")()
		require.PanicsWithValue(t, "boom", func() { c.Respond(req) })
		_, err := c.Respond(&http.Request{Method: http.MethodGet})
		require.Error(t, err, "no URL")
		require.False(t, errors.Is(err, io.EOF))
	})
}
