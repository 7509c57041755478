package videoauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// The exact shape of what the library sends, checked on an
// httpmock.MockTransport: the request a responder receives is the one the
// library built (httpmock adds no header, as a real Transport would), and
// httpmock's call counts prove that nothing else was sent. Service
// behaviour end to end is the videoauthtest fakes' job.

// shapeSecret has the characters URL-escaping changes: Vimeo wants Basic
// over the raw id:secret.
const shapeSecret = "s3cr+t/with=reserved&:"

// shapeSeen is one request as a responder received it.
type shapeSeen struct {
	Method string
	URL    string // scheme, host, path and the query byte for byte
	Header http.Header
	Body   string
}

// shapeLog records the requests of the routes it serves.
type shapeLog struct {
	mu   sync.Mutex
	seen []shapeSeen
}

// serve returns a responder that records the request, then answers with
// next.
func (l *shapeLog) serve(next httpmock.Responder) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
		}
		l.mu.Lock()
		l.seen = append(l.seen, shapeSeen{req.Method, req.URL.String(), req.Header.Clone(), string(body)})
		l.mu.Unlock()
		return next(req)
	}
}

func (l *shapeLog) all() []shapeSeen {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]shapeSeen(nil), l.seen...)
}

// newShapeMock returns a MockTransport whose unregistered requests are
// answered 599 and counted as NO_RESPONDER, so that a call-count map shows
// them.
func newShapeMock() *httpmock.MockTransport {
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(httpmock.NewStringResponder(599, "unexpected request"))
	return mt
}

// shapeJSON answers status with a JSON body.
func shapeJSON(status int, body string) httpmock.Responder {
	return httpmock.NewStringResponder(status, body).HeaderSet(http.Header{"Content-Type": {"application/json"}})
}

const shapeTokenBody = `{"access_token":"AT","token_type":"bearer","refresh_token":"RT","expires_in":3600,"scope":"public"}`

func shapeApp(hc *http.Client) videoauth.App {
	return videoauth.App{ClientID: "cid", ClientSecret: shapeSecret, AppName: "my-app", AppVersion: "1.0",
		RedirectURL: "https://app.example/cb", HTTPClient: hc}
}

func shapeForm(t *testing.T, body string) url.Values {
	t.Helper()
	f, err := url.ParseQuery(body)
	require.NoError(t, err)
	return f
}

func shapeRawBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// shapeChallenge returns the code_challenge the authorize URL of ar carries.
func shapeChallenge(t *testing.T, ar *videoauth.AuthRequest) string {
	t.Helper()
	u, err := url.Parse(ar.URL)
	require.NoError(t, err)
	return u.Query().Get("code_challenge")
}

func shapeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Every token-endpoint request of every provider, exactly: method, URL
// with its query, every header, the form body, the client authentication
// in the provider's one style (docs/security.md item 22), and one request
// only.
func TestTokenEndpointRequestShape(t *testing.T) {
	ctx := context.Background()
	simklQuery := "?app-name=my-app&app-version=1.0&client_id=cid"
	formType := []string{"application/x-www-form-urlencoded"}
	vimeoHeader := http.Header{
		"Accept":        {"application/vnd.vimeo.*+json;version=3.4"},
		"Authorization": {shapeRawBasic("cid", shapeSecret)},
		"Content-Type":  formType,
		"User-Agent":    {"my-app/1.0"},
	}
	simklHeader := http.Header{
		"Accept":        {"application/json"},
		"Content-Type":  formType,
		"Simkl-Api-Key": {"cid"},
		"User-Agent":    {"my-app/1.0"},
	}
	expired := &videoauth.Token{Provider: "simkl", AccessToken: "AT0", RefreshToken: "RT0", TokenType: "Bearer", Expiry: time.Now().Add(-time.Hour)}
	cases := []struct {
		name   string
		route  string // method and URL of the token endpoint, without query
		answer string // the JSON body of the 200 answer
		grant  func(t *testing.T, app videoauth.App) (form url.Values)
		url    string
		header http.Header
	}{
		{
			name: "vimeo/client_credentials", route: "POST https://api.vimeo.com/oauth/authorize/client",
			grant: func(t *testing.T, app videoauth.App) url.Values {
				v, err := videoauth.NewVimeo(app)
				require.NoError(t, err)
				_, err = v.ClientCredentials().Token(ctx)
				require.NoError(t, err)
				return url.Values{"grant_type": {"client_credentials"}, "scope": {"public"}}
			},
			url: "https://api.vimeo.com/oauth/authorize/client", header: vimeoHeader,
		},
		{
			name: "vimeo/authorization_code with PKCE", route: "POST https://api.vimeo.com/oauth/access_token",
			grant: func(t *testing.T, app videoauth.App) url.Values {
				v, err := videoauth.NewVimeo(app)
				require.NoError(t, err)
				ar, err := v.AuthRequest("", videoauth.VimeoScopePublic)
				require.NoError(t, err)
				require.Equal(t, shapeS256(ar.Verifier), shapeChallenge(t, ar))
				_, err = v.Exchange(ctx, ar, url.Values{"code": {"C1"}, "state": {ar.State}})
				require.NoError(t, err)
				return url.Values{"grant_type": {"authorization_code"}, "code": {"C1"}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {ar.Verifier}}
			},
			url: "https://api.vimeo.com/oauth/access_token", header: vimeoHeader,
		},
		{
			name: "simkl-v1/authorization_code, secret in the body", route: "POST https://api.simkl.com/oauth/token",
			grant: func(t *testing.T, app videoauth.App) url.Values {
				s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
				require.NoError(t, err)
				ar, err := s.AuthRequest("")
				require.NoError(t, err)
				_, err = s.Exchange(ctx, ar, url.Values{"code": {"C1"}, "state": {ar.State}})
				require.NoError(t, err)
				return url.Values{"grant_type": {"authorization_code"}, "code": {"C1"}, "redirect_uri": {"https://app.example/cb"},
					"client_id": {"cid"}, "client_secret": {shapeSecret}}
			},
			url: "https://api.simkl.com/oauth/token" + simklQuery, header: simklHeader,
		},
		{
			name: "simkl-v2/public client: PKCE, no secret", route: "POST https://api.simkl.com/oauth2/token",
			answer: `{"access_token":"AT","token_type":"Bearer","refresh_token":"RT","expires_in":604800,"scope":"media:read"}`,
			grant: func(t *testing.T, app videoauth.App) url.Values {
				app.ClientSecret = ""
				s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
				require.NoError(t, err)
				ar, err := s.AuthRequest("")
				require.NoError(t, err)
				require.Equal(t, shapeS256(ar.Verifier), shapeChallenge(t, ar))
				_, err = s.Exchange(ctx, ar, url.Values{"code": {"C1"}, "state": {ar.State}, "iss": {ar.Issuer}})
				require.NoError(t, err)
				return url.Values{"grant_type": {"authorization_code"}, "code": {"C1"}, "redirect_uri": {"https://app.example/cb"},
					"client_id": {"cid"}, "code_verifier": {ar.Verifier}}
			},
			url: "https://api.simkl.com/oauth2/token" + simklQuery, header: simklHeader,
		},
		{
			name: "simkl-v2/refresh_token", route: "POST https://api.simkl.com/oauth2/token",
			answer: `{"access_token":"AT","token_type":"Bearer","refresh_token":"RT0","expires_in":604800,"scope":"media:read"}`,
			grant: func(t *testing.T, app videoauth.App) url.Values {
				s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
				require.NoError(t, err)
				_, err = s.Source(expired).Token(ctx)
				require.NoError(t, err)
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"RT0"}, "client_id": {"cid"}, "client_secret": {shapeSecret}}
			},
			url: "https://api.simkl.com/oauth2/token" + simklQuery, header: simklHeader,
		},
		{
			name: "viki-v3/client_credentials", route: "POST https://viki.com/oauth/token",
			grant: func(t *testing.T, app videoauth.App) url.Values {
				v, err := videoauth.NewViki(app)
				require.NoError(t, err)
				_, err = v.ClientCredentials().Token(ctx)
				require.NoError(t, err)
				return url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {shapeSecret}}
			},
			url: "https://viki.com/oauth/token", header: http.Header{"Accept": {"application/json"}, "Content-Type": formType},
		},
		{
			name: "viki-v3/password", route: "POST https://viki.com/oauth/token",
			grant: func(t *testing.T, app videoauth.App) url.Values {
				v, err := videoauth.NewViki(app)
				require.NoError(t, err)
				_, err = v.Password(ctx, videoauth.VikiCredentials{Username: "fan@example.com", Password: "pa ss&"})
				require.NoError(t, err)
				return url.Values{"grant_type": {"password"}, "username": {"fan@example.com"}, "password": {"pa ss&"},
					"client_id": {"cid"}, "client_secret": {shapeSecret}}
			},
			url: "https://viki.com/oauth/token", header: http.Header{"Accept": {"application/json"}, "Content-Type": formType},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mt := newShapeMock()
			log := &shapeLog{}
			answer := tc.answer
			if answer == "" {
				answer = shapeTokenBody
			}
			method, rawURL, _ := strings.Cut(tc.route, " ")
			mt.RegisterResponder(method, rawURL, log.serve(shapeJSON(http.StatusOK, answer)))

			wantForm := tc.grant(t, shapeApp(&http.Client{Transport: mt}))

			require.Equal(t, map[string]int{tc.route: 1}, mt.GetCallCountInfo(), "one request, to the token endpoint only")
			seen := log.all()
			require.Len(t, seen, 1)
			require.Equal(t, method, seen[0].Method)
			require.Equal(t, tc.url, seen[0].URL, "the URL and its query, byte for byte")
			require.Equal(t, tc.header, seen[0].Header, "every header, and only those")
			require.Equal(t, wantForm, shapeForm(t, seen[0].Body), "the form, and only it")
			require.NotContains(t, seen[0].URL, "secret")
		})
	}
}

// A failed authorization-code exchange is never sent again, whatever the
// answer (Simkl burns the code even on failure; x/oauth2's AutoDetect would
// resend it in the other client-authentication style): one request each.
func TestCodeExchangeIsSentOnce(t *testing.T) {
	ctx := context.Background()
	answers := map[string]httpmock.Responder{
		"401 invalid_client": shapeJSON(http.StatusUnauthorized, `{"error":"invalid_client","error_description":"bad client"}`),
		"400 invalid_grant":  shapeJSON(http.StatusBadRequest, `{"error":"invalid_grant"}`),
		"503 HTML":           httpmock.NewStringResponder(http.StatusServiceUnavailable, "<html>busy</html>"),
		"transport error":    httpmock.NewErrorResponder(io.ErrUnexpectedEOF),
	}
	providers := []struct {
		name, route string
		exchange    func(t *testing.T, app videoauth.App) error
	}{
		{"vimeo", "POST https://api.vimeo.com/oauth/access_token", func(t *testing.T, app videoauth.App) error {
			v, err := videoauth.NewVimeo(app)
			require.NoError(t, err)
			ar, err := v.AuthRequest("")
			require.NoError(t, err)
			_, err = v.Exchange(ctx, ar, url.Values{"code": {"C"}, "state": {ar.State}})
			return err
		}},
		{"simkl-v1", "POST https://api.simkl.com/oauth/token", func(t *testing.T, app videoauth.App) error {
			s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
			require.NoError(t, err)
			ar, err := s.AuthRequest("")
			require.NoError(t, err)
			_, err = s.Exchange(ctx, ar, url.Values{"code": {"C"}, "state": {ar.State}})
			return err
		}},
		{"simkl-v2", "POST https://api.simkl.com/oauth2/token", func(t *testing.T, app videoauth.App) error {
			s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
			require.NoError(t, err)
			ar, err := s.AuthRequest("")
			require.NoError(t, err)
			_, err = s.Exchange(ctx, ar, url.Values{"code": {"C"}, "state": {ar.State}, "iss": {ar.Issuer}})
			return err
		}},
	}
	for _, p := range providers {
		for name, answer := range answers {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				mt := newShapeMock()
				method, rawURL, _ := strings.Cut(p.route, " ")
				mt.RegisterResponder(method, rawURL, answer)
				err := p.exchange(t, shapeApp(&http.Client{Transport: mt}))
				require.Error(t, err)
				require.NotContains(t, err.Error(), shapeSecret)
				require.Equal(t, map[string]int{p.route: 1}, mt.GetCallCountInfo(), "sent once, never again")
			})
		}
	}
}

// The API request the Transport sends, exactly: the caller's request with
// the credential added where the provider wants it (header, query or
// signature) and the provider's headers, its body as it was, and no token
// request when the Source has a token.
func TestTransportRequestShape(t *testing.T) {
	live := time.Now().Add(time.Hour)
	t.Run("vimeo", func(t *testing.T) {
		mt := newShapeMock()
		log := &shapeLog{}
		mt.RegisterResponder(http.MethodPatch, "https://api.vimeo.com/me", log.serve(shapeJSON(http.StatusOK, `{}`)))
		v, err := videoauth.NewVimeo(shapeApp(&http.Client{Transport: mt}))
		require.NoError(t, err)
		client := videoauth.NewClient(v, v.Source(&videoauth.Token{Provider: "vimeo", AccessToken: "VT", TokenType: "bearer"}))
		req, err := http.NewRequest(http.MethodPatch, "https://api.vimeo.com/me?fields=uri,name", strings.NewReader(`{"name":"x"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Trace", "t-1")
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, map[string]int{"PATCH https://api.vimeo.com/me": 1}, mt.GetCallCountInfo())
		require.Equal(t, []shapeSeen{{
			Method: http.MethodPatch, URL: "https://api.vimeo.com/me?fields=uri,name",
			Header: http.Header{
				"Accept":        {"application/vnd.vimeo.*+json;version=3.4"},
				"Authorization": {"Bearer VT"},
				"Content-Type":  {"application/json"},
				"User-Agent":    {"my-app/1.0"},
				"X-Trace":       {"t-1"},
			},
			Body: `{"name":"x"}`,
		}}, log.all())
		require.Empty(t, req.Header.Get("Authorization"), "the caller's request is not modified")
	})
	t.Run("simkl", func(t *testing.T) {
		mt := newShapeMock()
		log := &shapeLog{}
		mt.RegisterResponder(http.MethodGet, "https://api.simkl.com/sync/activities", log.serve(shapeJSON(http.StatusOK, `{}`)))
		s, err := videoauth.NewSimkl(shapeApp(&http.Client{Transport: mt}), videoauth.SimklV2)
		require.NoError(t, err)
		client := videoauth.NewClient(s, s.Source(&videoauth.Token{Provider: "simkl", AccessToken: "ST", RefreshToken: "R", TokenType: "Bearer", Expiry: live,
			Meta: map[string]string{"simkl_auth": "v2"}}))
		resp, err := client.Get("https://api.simkl.com/sync/activities?date_from=2026-01-01")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, map[string]int{"GET https://api.simkl.com/sync/activities": 1}, mt.GetCallCountInfo())
		require.Equal(t, []shapeSeen{{
			Method: http.MethodGet,
			URL:    "https://api.simkl.com/sync/activities?date_from=2026-01-01&client_id=cid&app-name=my-app&app-version=1.0",
			Header: http.Header{"Authorization": {"Bearer ST"}, "Simkl-Api-Key": {"cid"}, "User-Agent": {"my-app/1.0"}},
		}}, log.all(), "the caller's query first, then the per-request parameters Simkl requires")
	})
	t.Run("viki v3: the token in the query only", func(t *testing.T) {
		mt := newShapeMock()
		log := &shapeLog{}
		mt.RegisterResponder(http.MethodGet, "https://viki.com/v3/movies.json", log.serve(shapeJSON(http.StatusOK, `[]`)))
		v, err := videoauth.NewViki(shapeApp(&http.Client{Transport: mt}))
		require.NoError(t, err)
		client := videoauth.NewClient(v, v.Source(&videoauth.Token{Provider: "viki", AccessToken: "KT", TokenType: "bearer", Expiry: live}))
		resp, err := client.Get("https://viki.com/v3/movies.json?page=2")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, map[string]int{"GET https://viki.com/v3/movies.json": 1}, mt.GetCallCountInfo())
		require.Equal(t, []shapeSeen{{Method: http.MethodGet, URL: "https://viki.com/v3/movies.json?page=2&access_token=KT", Header: http.Header{}}}, log.all())
	})
	t.Run("viki v4: app, t and sig appended, signed over the raw target", func(t *testing.T) {
		mt := newShapeMock()
		log := &shapeLog{}
		mt.RegisterResponder(http.MethodGet, "https://api.viki.io/v4/movies.json", log.serve(shapeJSON(http.StatusOK, `{"response":[]}`)))
		clock := videoauthtest.NewClock(time.Unix(1_700_000_000, 0))
		api, err := videoauth.NewVikiAPI(videoauth.App{ClientID: "9001", ClientSecret: "app-secret", HTTPClient: &http.Client{Transport: mt}, Clock: clock}, videoauth.VikiSignQuery)
		require.NoError(t, err)
		resp, err := api.SignedClient().Get("https://api.viki.io/v4/movies.json?sort=views&per_page=2")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, map[string]int{"GET https://api.viki.io/v4/movies.json": 1}, mt.GetCallCountInfo())
		target := "/v4/movies.json?sort=views&per_page=2&app=9001&t=1700000000"
		seen := log.all()
		require.Len(t, seen, 1)
		require.Equal(t, "https://api.viki.io"+target+"&sig="+videoauthtest.VikiSign("app-secret", target, nil), seen[0].URL)
		require.Empty(t, seen[0].Header.Get("Authorization"))
	})
	t.Run("no credential for another host", func(t *testing.T) {
		mt := newShapeMock()
		log := &shapeLog{}
		mt.RegisterResponder(http.MethodGet, "https://cdn.example/v.mp4", log.serve(httpmock.NewStringResponder(http.StatusOK, "")))
		v, err := videoauth.NewVimeo(shapeApp(&http.Client{Transport: mt}))
		require.NoError(t, err)
		client := videoauth.NewClient(v, v.Source(&videoauth.Token{Provider: "vimeo", AccessToken: "VT", TokenType: "bearer"}))
		resp, err := client.Get("https://cdn.example/v.mp4")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, map[string]int{"GET https://cdn.example/v.mp4": 1}, mt.GetCallCountInfo())
		seen := log.all()
		require.Len(t, seen, 1)
		require.Empty(t, seen[0].Header.Values("Authorization"), "a token goes only where it belongs")
		require.NotContains(t, seen[0].URL, "VT")
	})
}

// A rejected token is replaced once and the request replayed once, body
// and all; a second rejection is returned as it is: exactly two API
// requests and two mints, never a third.
func TestTransportReplayShape(t *testing.T) {
	rejected := httpmock.NewStringResponder(http.StatusUnauthorized,
		`{"error":"Something strange occurred.","developer_message":"The user access token is invalid.","error_code":8000}`).
		HeaderSet(http.Header{"Content-Type": {"application/vnd.vimeo.error+json"}, "Www-Authenticate": {`Bearer error="invalid_token"`}})
	for _, tc := range []struct {
		name      string
		api       httpmock.Responder
		status    int
		apiCalls  int
		tokenCall int
	}{
		{"accepted after one replay", rejected.Then(shapeJSON(http.StatusOK, `{"uri":"/videos/1"}`)), http.StatusOK, 2, 2},
		{"rejected twice", rejected, http.StatusUnauthorized, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mt := newShapeMock()
			var mints int
			var mu sync.Mutex
			mt.RegisterResponder(http.MethodPost, "https://api.vimeo.com/oauth/authorize/client", func(req *http.Request) (*http.Response, error) {
				mu.Lock()
				mints++
				n := mints
				mu.Unlock()
				return shapeJSON(http.StatusOK, `{"access_token":"tok-`+strconv.Itoa(n)+`","token_type":"bearer","scope":"public"}`)(req)
			})
			log := &shapeLog{}
			mt.RegisterResponder(http.MethodPost, "https://api.vimeo.com/me/videos", log.serve(tc.api))
			v, err := videoauth.NewVimeo(shapeApp(&http.Client{Transport: mt}))
			require.NoError(t, err)
			client := videoauth.NewClient(v, v.ClientCredentials())
			resp, err := client.Post("https://api.vimeo.com/me/videos", "application/json", strings.NewReader(`{"upload":{"approach":"tus"}}`))
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, map[string]int{
				"POST https://api.vimeo.com/oauth/authorize/client": tc.tokenCall,
				"POST https://api.vimeo.com/me/videos":              tc.apiCalls,
			}, mt.GetCallCountInfo(), "one mint per rejection, one replay")
			seen := log.all()
			require.Len(t, seen, 2)
			require.Equal(t, "Bearer tok-1", seen[0].Header.Get("Authorization"))
			require.Equal(t, "Bearer tok-2", seen[1].Header.Get("Authorization"), "the replay carries the new token")
			require.Equal(t, seen[0].Body, seen[1].Body, "and the same body")
			require.Equal(t, `{"upload":{"approach":"tus"}}`, seen[1].Body)
		})
	}
}
