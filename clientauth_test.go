package videoauth_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// docs/security.md, checklist item 22: each provider authenticates the client
// in one explicit style, and sends the secret once. x/oauth2's
// AuthStyleAutoDetect resends a rejected request with the secret in the other
// place; we never do.
func TestClientSecretSentOnceInTheProvidersStyle(t *testing.T) {
	const secret = "caS3cret/+:&=" // characters that URL-escaping would change
	ctx := context.Background()
	expired := &videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_a", RefreshToken: "simkl_rt_a",
		TokenType: "Bearer", Expiry: time.Now().Add(-time.Hour)}
	cases := []struct {
		name  string
		basic bool // else in the form
		call  func(t *testing.T, app videoauth.App) error
	}{
		{"vimeo/client_credentials", true, func(t *testing.T, app videoauth.App) error {
			v, err := videoauth.NewVimeo(app)
			require.NoError(t, err)
			_, err = v.ClientCredentials().Token(ctx)
			return err
		}},
		{"vimeo/exchange", true, func(t *testing.T, app videoauth.App) error {
			v, err := videoauth.NewVimeo(app)
			require.NoError(t, err)
			ar, err := v.AuthRequest(app.RedirectURL)
			require.NoError(t, err)
			_, err = v.Exchange(ctx, ar, url.Values{"code": {"c"}, "state": {ar.State}})
			return err
		}},
		{"simkl-v1/exchange", false, func(t *testing.T, app videoauth.App) error {
			s, err := videoauth.NewSimkl(app, videoauth.SimklV1)
			require.NoError(t, err)
			ar, err := s.AuthRequest(app.RedirectURL)
			require.NoError(t, err)
			_, err = s.Exchange(ctx, ar, url.Values{"code": {"c"}, "state": {ar.State}})
			return err
		}},
		{"simkl-v2/refresh", false, func(t *testing.T, app videoauth.App) error {
			s, err := videoauth.NewSimkl(app, videoauth.SimklV2)
			require.NoError(t, err)
			_, err = s.Source(expired).Token(ctx)
			return err
		}},
		{"viki-v3/client_credentials", false, func(t *testing.T, app videoauth.App) error {
			v, err := videoauth.NewViki(app)
			require.NoError(t, err)
			_, err = v.ClientCredentials().Token(ctx)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			type sent struct {
				header http.Header
				form   url.Values
				query  string
			}
			var mu sync.Mutex
			var seen []sent
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				mu.Lock()
				seen = append(seen, sent{r.Header.Clone(), r.PostForm, r.URL.RawQuery})
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client","error_description":"bad client"}`))
			}))
			defer srv.Close()
			app := videoauth.App{ClientID: "cid", ClientSecret: secret, AppName: "a", AppVersion: "1",
				APIURL: srv.URL, WebURL: srv.URL, RedirectURL: "http://127.0.0.1:1/cb"}
			err := c.call(t, app)
			require.ErrorIs(t, err, videoauth.ErrInvalidClient)
			require.NotContains(t, err.Error(), secret)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, seen, 1, "one attempt, no resend in another style")
			user, pass, hasBasic := (&http.Request{Header: seen[0].header}).BasicAuth()
			inForm := seen[0].form.Get("client_secret")
			if c.basic {
				require.True(t, hasBasic)
				require.Equal(t, "cid", user)
				require.Equal(t, secret, pass)
				// Vimeo wants the raw id:secret, not x/oauth2's URL-escaped form.
				require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("cid:"+secret)), seen[0].header.Get("Authorization"))
				require.Empty(t, inForm, "the secret is not in the body too")
			} else {
				require.False(t, hasBasic, "no Authorization header besides the form")
				require.Equal(t, secret, inForm)
				require.Equal(t, "cid", seen[0].form.Get("client_id"))
			}
			require.False(t, strings.Contains(seen[0].query, "secret"), "never in the URL")
		})
	}
}
