package videoauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// docs/security.md, checklist items 20 and 21, for every provider: a redirect
// from the API to a host the provider does not own arrives there without any
// credential (Authorization header, access_token or token query parameter,
// Viki signature or timestamp), a request the caller builds for such a host
// gets none either, and no token endpoint follows a redirect.

const rdPlanted = "PLANTED-rd-5e2b"

// rdRecorder is a TLS server that keeps every request it receives, raw.
type rdRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func rdNewRecorder(t *testing.T, h http.HandlerFunc) *rdRecorder {
	t.Helper()
	r := &rdRecorder{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		dump, err := httputil.DumpRequest(req, true)
		if err != nil {
			dump = []byte("dump failed: " + err.Error())
		}
		r.mu.Lock()
		r.seen = append(r.seen, string(dump))
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *rdRecorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// rdCredentialMarks are what a credential looks like on the wire, for any
// of the providers.
var rdCredentialMarks = []string{rdPlanted, "Authorization:", "access_token=", "token=", "sig=", "\r\nSignature:", "\r\nTimestamp:", "t="}

func rdRequireClean(t *testing.T, what string, reqs []string) {
	t.Helper()
	require.NotEmpty(t, reqs, "%s: the request never arrived, so the test proves nothing", what)
	for _, raw := range reqs {
		for _, mark := range rdCredentialMarks {
			require.NotContains(t, raw, mark, "%s: a credential reached a foreign host", what)
		}
	}
}

// rdCase is one provider set up against an owned API server, with the
// marks its credential leaves on a request to its own host.
type rdCase struct {
	name  string
	build func(t *testing.T, app videoauth.App) (*http.Client, []string)
}

func rdCases() []rdCase {
	tok := func(access, provider string) *videoauth.Token {
		return &videoauth.Token{AccessToken: access, TokenType: "Bearer", Provider: provider,
			Expiry: time.Now().Add(time.Hour)}
	}
	return []rdCase{
		{name: "vimeo", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			v, err := videoauth.NewVimeo(app)
			require.NoError(t, err)
			return videoauth.NewClient(v, v.Source(tok(rdPlanted, "vimeo"))), []string{"Authorization: Bearer " + rdPlanted}
		}},
		{name: "simkl-v1", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
			require.NoError(t, err)
			return videoauth.NewClient(s, s.Source(tok(rdPlanted, "simkl"))), []string{"Authorization: Bearer " + rdPlanted}
		}},
		{name: "simkl-v2", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
			require.NoError(t, err)
			return videoauth.NewClient(s, s.Source(tok("simkl_at_"+rdPlanted, "simkl"))), []string{"Authorization: Bearer simkl_at_" + rdPlanted}
		}},
		{name: "viki-v3", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			v, err := videoauth.NewViki(app)
			require.NoError(t, err)
			return videoauth.NewClient(v, v.Source(tok(rdPlanted, "viki"))), []string{"access_token=" + rdPlanted}
		}},
		{name: "viki-api-query", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			a, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
			require.NoError(t, err)
			return videoauth.NewClient(a, a.Source(tok(rdPlanted, "viki"))), []string{"token=" + rdPlanted, "&t=", "&sig="}
		}},
		{name: "viki-api-headers", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			a, err := videoauth.NewVikiAPI(app, videoauth.VikiSignHeaders)
			require.NoError(t, err)
			return videoauth.NewClient(a, a.Source(tok(rdPlanted, "viki"))), []string{"token=" + rdPlanted, "\r\nSignature:", "\r\nTimestamp:"}
		}},
		{name: "viki-api-signed-client", build: func(t *testing.T, app videoauth.App) (*http.Client, []string) {
			a, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
			require.NoError(t, err)
			return a.SignedClient(), []string{"&t=", "&sig="}
		}},
	}
}

func rdApp(owned *rdRecorder) videoauth.App {
	return videoauth.App{ClientID: "rd-client", ClientSecret: rdPlanted + "-secret", AppName: "rd", AppVersion: "1",
		APIURL: owned.URL, WebURL: owned.URL, HTTPClient: owned.Client(), RedirectURL: "http://127.0.0.1:1/cb"}
}

func TestAPIRedirectToForeignHostCarriesNoCredential(t *testing.T) {
	for _, c := range rdCases() {
		t.Run(c.name, func(t *testing.T) {
			foreign := rdNewRecorder(t, nil)
			var owned *rdRecorder
			owned = rdNewRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/hop": // to another host: the credential must stay home
					http.Redirect(w, r, foreign.URL+"/landed?x=1", http.StatusFound)
				case "/hop307":
					http.Redirect(w, r, foreign.URL+"/landed", http.StatusTemporaryRedirect)
				case "/same": // to its own host: the credential goes along
					http.Redirect(w, r, owned.URL+"/landed", http.StatusFound)
				}
			})
			client, marks := c.build(t, rdApp(owned))

			// Control: the credential is really attached on the owned host,
			// also after a same-host redirect, so the checks below can fail.
			rdGet(t, client, owned.URL+"/same")
			got := owned.requests()
			require.Len(t, got, 2)
			for _, raw := range got {
				for _, m := range marks {
					require.Contains(t, raw, m, "owned host must see the credential")
				}
			}

			rdGet(t, client, owned.URL+"/hop")
			rdPost(t, client, owned.URL+"/hop307", "form=1")
			rdGet(t, client, foreign.URL+"/direct?q=1") // built by the caller
			rdRequireClean(t, c.name, foreign.requests())
			require.Len(t, foreign.requests(), 3)
		})
	}
}

func rdGet(t *testing.T, c *http.Client, u string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
}

func rdPost(t *testing.T, c *http.Client, u, body string) {
	t.Helper()
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
}

// TestTokenEndpointsNeverFollowRedirects sends every token-endpoint call of
// every provider to a server that answers each with a redirect to another
// host; nothing may arrive there, and each call fails with a typed error.
func TestTokenEndpointsNeverFollowRedirects(t *testing.T) {
	ctx := context.Background()
	type call func(t *testing.T, app videoauth.App) error
	expired := func(access, refresh string) *videoauth.Token {
		return &videoauth.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Provider: "simkl",
			Expiry: time.Now().Add(-time.Hour)}
	}
	calls := map[string]call{
		"vimeo/client_credentials": func(t *testing.T, app videoauth.App) error {
			v, _ := videoauth.NewVimeo(app)
			_, err := v.ClientCredentials().Token(ctx)
			return err
		},
		"vimeo/exchange": func(t *testing.T, app videoauth.App) error {
			v, _ := videoauth.NewVimeo(app)
			ar, err := v.AuthRequest(app.RedirectURL)
			require.NoError(t, err)
			_, err = v.Exchange(ctx, ar, url.Values{"code": {rdPlanted}, "state": {ar.State}})
			return err
		},
		"vimeo/device": func(t *testing.T, app videoauth.App) error {
			v, _ := videoauth.NewVimeo(app)
			_, err := v.Device(ctx)
			return err
		},
		"simkl-v1/exchange": func(t *testing.T, app videoauth.App) error {
			s, _ := videoauth.NewSimkl(app, videoauth.SimklV1)
			ar, err := s.AuthRequest(app.RedirectURL)
			require.NoError(t, err)
			_, err = s.Exchange(ctx, ar, url.Values{"code": {rdPlanted}, "state": {ar.State}})
			return err
		},
		"simkl-v1/pin": func(t *testing.T, app videoauth.App) error {
			s, _ := videoauth.NewSimkl(app, videoauth.SimklV1)
			_, err := s.PIN(ctx)
			return err
		},
		"simkl-v2/device": func(t *testing.T, app videoauth.App) error {
			s, _ := videoauth.NewSimkl(app, videoauth.SimklV2)
			_, err := s.Device(ctx)
			return err
		},
		"simkl-v2/refresh": func(t *testing.T, app videoauth.App) error {
			s, _ := videoauth.NewSimkl(app, videoauth.SimklV2)
			_, err := s.Source(expired("simkl_at_old", rdPlanted)).Token(ctx)
			return err
		},
		"simkl-v2/revoke": func(t *testing.T, app videoauth.App) error {
			s, _ := videoauth.NewSimkl(app, videoauth.SimklV2)
			return s.Revoke(ctx, expired("simkl_at_"+rdPlanted, ""))
		},
		"viki-v3/client_credentials": func(t *testing.T, app videoauth.App) error {
			v, _ := videoauth.NewViki(app)
			_, err := v.ClientCredentials().Token(ctx)
			return err
		},
		"viki-v3/password": func(t *testing.T, app videoauth.App) error {
			v, _ := videoauth.NewViki(app)
			_, err := v.Password(ctx, videoauth.VikiCredentials{Username: "u", Password: rdPlanted})
			return err
		},
		"viki-api/login": func(t *testing.T, app videoauth.App) error {
			a, _ := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
			_, err := a.Login(ctx, videoauth.VikiCredentials{Username: "u", Password: rdPlanted})
			return err
		},
	}
	for name, do := range calls {
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(name+"/"+http.StatusText(status), func(t *testing.T) {
				foreign := rdNewRecorder(t, nil)
				owned := rdNewRecorder(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, foreign.URL+"/steal", status)
				})
				err := do(t, rdApp(owned))
				require.Error(t, err)
				var e *videoauth.Error
				require.ErrorAs(t, err, &e, "a redirect answer is a typed error")
				require.Equal(t, status, e.Status)
				require.Len(t, owned.requests(), 1, "one request, not retried")
				require.Empty(t, foreign.requests(), "the redirect was followed")
				require.NotContains(t, err.Error(), rdPlanted)
			})
		}
	}
}
