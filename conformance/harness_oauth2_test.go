package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The tests in this file prove the harness with golang.org/x/oauth2 as the
// client: when a test of the generic provider fails, these show whether
// the server, the browser and the API work with a client nobody here
// wrote.

func oauth2Config(as *authServer, c client) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if c.Method == methodPost {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     c.ID,
		ClientSecret: c.Secret,
		RedirectURL:  redirectURL,
		Scopes:       as.userScopes,
		Endpoint: oauth2.Endpoint{
			AuthURL: as.authURL, TokenURL: as.tokenURL, DeviceAuthURL: as.deviceURL,
			AuthStyle: style,
		},
	}
}

// oauth2Code runs the authorization code grant with PKCE S256 through the
// browser.
func oauth2Code(t *testing.T, as *authServer, c client) *oauth2.Token {
	t.Helper()
	cfg := oauth2Config(as, c)
	verifier := oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()
	q := newBrowser(t).authorize(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "allow")
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback: %v", q)
	}
	tok, err := cfg.Exchange(ctxT(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatalf("no refresh token for scopes %v", as.userScopes)
	}
	return tok
}

func TestHarnessOAuth2CodeRefreshRevoke(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		for _, c := range []client{as.basic, as.post} {
			t.Run(c.Method, func(t *testing.T) {
				tok := oauth2Code(t, as, c)
				if ex := as.rec.lastAuth(t, pathOf(as.tokenURL), "authorization_code"); ex.Auth != c.Method || ex.ClientID != c.ID || ex.Form.Get("code_verifier") == "" {
					t.Errorf("the server saw auth %s for %q, verifier %q", ex.Auth, ex.ClientID, ex.Form.Get("code_verifier"))
				}
				as.active(t, tok.AccessToken, true)

				// Refresh with rotation: x/oauth2 refreshes a token that expired.
				cfg := oauth2Config(as, c)
				old := tok.RefreshToken
				tok.Expiry = time.Now().Add(-time.Minute)
				fresh, err := cfg.TokenSource(ctxT(t), tok).Token()
				if err != nil {
					t.Fatalf("refresh: %v", err)
				}
				if fresh.RefreshToken == "" || fresh.RefreshToken == old {
					t.Fatalf("the server did not rotate the refresh token")
				}
				as.active(t, fresh.AccessToken, true)

				// The API accepts the live token and refuses an expired one.
				api := newAPI(t, as)
				hc := cfg.Client(ctxT(t), fresh)
				if got := apiStatus(t, hc, api.URL); got != http.StatusOK {
					t.Fatalf("API with a live token: %d", got)
				}
				as.expireAccess(t, fresh.AccessToken)
				as.active(t, fresh.AccessToken, false)
				resp, err := hc.Get(api.URL + "/resource")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Fatalf("API with an expired token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
				// Last: fosite answers a reused refresh token by revoking the
				// whole grant (RFC 9700 §4.14.2).
				as.refreshRefused(t, c, old)
			})
		}
	})
}

func TestHarnessRevocation(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		tok := oauth2Code(t, as, as.basic)
		status, body := postForm(t, as.revokeURL, as.basic, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
		if status != http.StatusOK {
			t.Fatalf("revocation: %d %v", status, body)
		}
		as.active(t, tok.AccessToken, false)
		as.refreshRefused(t, as.basic, tok.RefreshToken)
	})
}

func TestHarnessClientCredentials(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		for _, c := range []client{as.basic, as.post} {
			t.Run(c.Method, func(t *testing.T) {
				style := oauth2.AuthStyleInHeader
				if c.Method == methodPost {
					style = oauth2.AuthStyleInParams
				}
				cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: c.Secret, TokenURL: as.tokenURL, Scopes: as.ccScopes, AuthStyle: style}
				tok, err := cc.Token(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				if ex := as.rec.lastAuth(t, pathOf(as.tokenURL), "client_credentials"); ex.Auth != c.Method {
					t.Errorf("auth %s, want %s", ex.Auth, c.Method)
				}
				if in := as.active(t, tok.AccessToken, true); in.ClientID != c.ID {
					t.Errorf("introspection client_id %q, want %q", in.ClientID, c.ID)
				}
			})
		}
	})
}

func TestHarnessDevice(t *testing.T) {
	as := newZitadel(t)
	cfg := oauth2Config(as, as.basic)
	da, err := cfg.DeviceAuth(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	if status, body := postForm(t, as.tokenURL, as.basic, poll); status != http.StatusBadRequest || body["error"] != "authorization_pending" {
		t.Fatalf("poll before approval: %d %v", status, body)
	}
	if page := newBrowser(t).approveDevice(da.VerificationURIComplete, da.UserCode, "allow"); !strings.Contains(page, "approved") {
		t.Fatalf("device page: %s", page)
	}
	status, body := postForm(t, as.tokenURL, as.basic, poll)
	if status != http.StatusOK || body["access_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("poll after approval: %d %v", status, body)
	}
	as.active(t, body["access_token"].(string), true)
}

func apiStatus(t *testing.T, hc *http.Client, api string) int {
	t.Helper()
	resp, err := hc.Get(api + "/resource")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func pathOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		panic(err)
	}
	return u.Path
}
