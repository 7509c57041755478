package conformance

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// These tests drive videoauth.Standard, the generic provider, against the
// real servers, and check on the server's side what it claims.

// setup is one test's provider, its API and its clock.
type setup struct {
	as    *authServer
	c     client
	api   *apiServer
	clock *videoauthtest.Clock
	auth  videoauth.ClientAuth
	std   *videoauth.Standard
}

// newSetup builds the generic provider for as, registered as c and
// authenticating with auth, its tokens going to a fresh API server. The
// client's clock is injected: the servers use real time, and the lifetimes
// they give are long, so a test moves the client's clock to make a token
// expire for the client without waiting.
func newSetup(t *testing.T, as *authServer, c client, auth videoauth.ClientAuth) *setup {
	t.Helper()
	s := &setup{as: as, c: c, api: newAPI(t, as), clock: videoauthtest.NewClock(time.Now()), auth: auth}
	cfg := videoauth.StandardConfig{
		Name:       as.name,
		AuthURL:    as.authURL,
		TokenURL:   as.tokenURL,
		DeviceURL:  as.deviceURL,
		RevokeURL:  as.revokeURL,
		APIURL:     s.api.URL,
		Scopes:     as.userScopes,
		ClientAuth: auth,
	}
	if as.discovery {
		cfg.Issuer = as.issuer // zitadel has an issuer identifier (fosite has none)
	}
	var err error
	s.std, err = videoauth.NewStandard(s.app(), cfg)
	if err != nil {
		t.Fatalf("NewStandard: %v", err)
	}
	return s
}

func (s *setup) app() videoauth.App {
	return videoauth.App{ClientID: s.c.ID, ClientSecret: s.c.Secret, RedirectURL: redirectURL, Clock: s.clock}
}

// authCase is a client authentication method both servers support, with
// the client registered for it.
type authCase struct {
	name string
	pick func(*authServer) client
	auth videoauth.ClientAuth
}

var (
	basicCase   = authCase{"client_secret_basic", func(as *authServer) client { return as.basic }, videoauth.ClientSecretBasic}
	postCase    = authCase{"client_secret_post", func(as *authServer) client { return as.post }, videoauth.ClientSecretPost}
	defaultCase = authCase{"default_is_basic", func(as *authServer) client { return as.basic }, videoauth.ClientAuthDefault}
)

// forEachAuth runs f for each server and each case, on a fresh server.
func forEachAuth(t *testing.T, cases []authCase, f func(t *testing.T, s *setup)) {
	t.Helper()
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					as := srv.start(t)
					f(t, newSetup(t, as, tc.pick(as), tc.auth))
				})
			}
		})
	}
}

// userToken runs the authorization code grant with the browser and
// returns the token.
func (s *setup) userToken(t *testing.T) *videoauth.Token {
	t.Helper()
	ar, err := s.std.AuthRequest("")
	if err != nil {
		t.Fatalf("AuthRequest: %v", err)
	}
	q := newBrowser(t).authorize(ar.URL, "allow")
	tok, err := s.std.Exchange(ctxT(t), ar, q)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("Exchange gave %v; want an access and a refresh token", tok)
	}
	return tok
}

// wantAuth asserts that the last request to path with grant authenticated
// as s.c with its method (RFC 6749 §2.3.1: one method, the id decoded by
// the server to what was registered).
func (s *setup) wantAuth(t *testing.T, path, grant string) exchange {
	t.Helper()
	ex := s.as.rec.lastAuth(t, path, grant)
	if ex.Auth != s.c.Method || ex.ClientID != s.c.ID {
		t.Errorf("%s %s: the server saw %s as %q; want %s as %q", path, grant, ex.Auth, ex.ClientID, s.c.Method, s.c.ID)
	}
	if ex.Status != http.StatusOK {
		t.Errorf("%s %s: the server answered %d %s", path, grant, ex.Status, ex.Body)
	}
	return ex
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestStandardCodePKCE: the authorization code grant with PKCE S256
// (RFC 6749 §4.1, RFC 7636) through the server's sign-in and consent
// pages, for each client authentication method, with a client id and
// secret that need form-encoding in the Basic header.
func TestStandardCodePKCE(t *testing.T) {
	forEachAuth(t, []authCase{basicCase, postCase, defaultCase}, func(t *testing.T, s *setup) {
		as := s.as
		ar, err := s.std.AuthRequest("")
		if err != nil {
			t.Fatal(err)
		}
		au, err := url.Parse(ar.URL)
		if err != nil {
			t.Fatal(err)
		}
		aq := au.Query()
		if aq.Get("code_challenge_method") != "S256" || aq.Get("code_challenge") != s256(ar.Verifier) ||
			aq.Get("state") == "" || aq.Get("client_id") != s.c.ID || aq.Get("redirect_uri") != redirectURL ||
			aq.Get("response_type") != "code" || aq.Has("code_verifier") {
			t.Errorf("authorization URL query %v", aq)
		}
		q := newBrowser(t).authorize(ar.URL, "allow")
		tok, err := s.std.Exchange(ctxT(t), ar, q)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		if tok.AccessToken == "" || tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
			t.Errorf("token %v", tok)
		}
		ex := s.wantAuth(t, pathOf(as.tokenURL), "authorization_code")
		if ex.Form.Get("code_verifier") != ar.Verifier || ex.Form.Get("redirect_uri") != redirectURL || ex.Form.Get("code") != q.Get("code") {
			t.Errorf("the exchange sent %v", ex.Form)
		}
		in := as.active(t, tok.AccessToken, true)
		if in.ClientID != s.c.ID || in.Sub != userName {
			t.Errorf("introspection: client %q user %q", in.ClientID, in.Sub)
		}
		for _, sc := range as.userScopes {
			if !tok.HasScope(sc) {
				t.Errorf("token scopes %v lack %s", tok.Scopes, sc)
			}
		}

		// The same callback again is refused by the client and
		// never reaches the server (the code is exchanged once).
		if _, err := s.std.Exchange(ctxT(t), ar, q); err == nil {
			t.Error("a replayed callback was exchanged")
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "authorization_code")); n != 1 {
			t.Errorf("the server saw %d code exchanges; want 1", n)
		}
	})
}

// TestStandardCodeRefused: a code the server refuses (here: already
// redeemed by someone else) is ErrCodeUsed, and the exchange is sent once,
// never retried (RFC 6749 §4.1.2, §5.2 invalid_grant).
func TestStandardCodeRefused(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
		ar, err := s.std.AuthRequest("")
		if err != nil {
			t.Fatal(err)
		}
		q := newBrowser(t).authorize(ar.URL, "allow")
		status, body := postForm(t, as.tokenURL, as.basic, url.Values{
			"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURL}, "code_verifier": {ar.Verifier},
		})
		if status != http.StatusOK {
			t.Fatalf("the first redemption: %d %v", status, body)
		}
		_, err = s.std.Exchange(ctxT(t), ar, q)
		if !errors.Is(err, videoauth.ErrCodeUsed) {
			t.Errorf("Exchange of a redeemed code: %v; want ErrCodeUsed", err)
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "authorization_code")); n != 2 {
			t.Errorf("the server saw %d code exchanges; want 2 (ours once)", n)
		}
	})
}

// TestStandardAccessDenied: the user denies consent; the server redirects
// back with error=access_denied (RFC 6749 §4.1.2.1), which Exchange
// returns as ErrAccessDenied without calling the token endpoint.
func TestStandardAccessDenied(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
		ar, err := s.std.AuthRequest("")
		if err != nil {
			t.Fatal(err)
		}
		q := newBrowser(t).authorize(ar.URL, "deny")
		if q.Get("error") != "access_denied" {
			t.Fatalf("the server's callback: %v", q)
		}
		if _, err := s.std.Exchange(ctxT(t), ar, q); !errors.Is(err, videoauth.ErrAccessDenied) {
			t.Errorf("Exchange: %v; want ErrAccessDenied", err)
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "")); n != 0 {
			t.Errorf("the token endpoint was called %d times", n)
		}
	})
}

// TestStandardRefreshRotation: the Source refreshes an expired token with
// the refresh_token grant (RFC 6749 §6); the server rotates the refresh
// token, the Source holds and persists the new one, and the server refuses
// the old one afterwards (RFC 9700 §4.14.2).
func TestStandardRefreshRotation(t *testing.T) {
	forEachAuth(t, []authCase{basicCase, postCase}, func(t *testing.T, s *setup) {
		as := s.as
		tok := s.userToken(t)
		src := s.std.Source(tok)
		var saved []*videoauth.Token
		src.OnToken = func(tk *videoauth.Token) { saved = append(saved, tk.Clone()) }

		s.clock.Advance(2 * time.Hour) // the client sees the hour-long token expired
		got, err := src.Token(ctxT(t))
		if err != nil {
			t.Fatalf("Token after expiry: %v", err)
		}
		ex := s.wantAuth(t, pathOf(as.tokenURL), "refresh_token")
		if ex.Form.Get("refresh_token") != tok.RefreshToken {
			t.Errorf("the refresh sent refresh_token %q; want the first one", ex.Form.Get("refresh_token"))
		}
		if got.AccessToken == tok.AccessToken || got.RefreshToken == "" || got.RefreshToken == tok.RefreshToken {
			t.Fatalf("after the refresh: new access %v, refresh rotated %v", got.AccessToken != tok.AccessToken, got.RefreshToken != tok.RefreshToken)
		}
		if cur := src.Current(); cur == nil || cur.RefreshToken != got.RefreshToken {
			t.Error("the Source does not hold the rotated refresh token")
		}
		if len(saved) != 1 || saved[0].RefreshToken != got.RefreshToken {
			t.Errorf("OnToken saw %d tokens; want the rotated one", len(saved))
		}
		as.active(t, got.AccessToken, true)

		// The Source renews again from the refresh token it holds.
		s.clock.Advance(2 * time.Hour)
		again, err := src.Token(ctxT(t))
		if err != nil {
			t.Fatalf("second refresh: %v", err)
		}
		if again.RefreshToken == got.RefreshToken || again.AccessToken == got.AccessToken {
			t.Error("the second refresh did not rotate")
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "refresh_token")); n != 2 {
			t.Errorf("the server saw %d refreshes; want 2", n)
		}
		as.active(t, again.AccessToken, true)

		// Last (fosite revokes the grant on reuse): the first refresh
		// token is dead at the server.
		as.refreshRefused(t, s.c, tok.RefreshToken)
	})
}

// TestStandardClientCredentials: app tokens (RFC 6749 §4.4) for each
// client authentication method; the server's introspection names the
// client, and no refresh token is kept.
func TestStandardClientCredentials(t *testing.T) {
	forEachAuth(t, []authCase{basicCase, postCase}, func(t *testing.T, s *setup) {
		as := s.as
		src := s.std.ClientCredentials(as.ccScopes...)
		tok, err := src.Token(ctxT(t))
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		ex := s.wantAuth(t, pathOf(as.tokenURL), "client_credentials")
		if ex.Form.Get("scope") != strings.Join(as.ccScopes, " ") {
			t.Errorf("scope %q", ex.Form.Get("scope"))
		}
		if tok.RefreshToken != "" || !tok.HasScope(apiScope) {
			t.Errorf("token %v", tok)
		}
		if in := as.active(t, tok.AccessToken, true); in.ClientID != s.c.ID {
			t.Errorf("introspection client_id %q", in.ClientID)
		}
	})
}

// TestStandardDevice: the device authorization grant (RFC 8628) on
// zitadel. fosite v0.49.0 has no device grant (see fosite_test.go). The
// client polls on its injected clock; the test checks that the server
// answered authorization_pending before the user approved, then the
// token.
func TestStandardDevice(t *testing.T) {
	as := newZitadel(t)
	s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
	ctx := ctxT(t)
	dc, err := s.std.Device(ctx, as.userScopes...)
	if err != nil {
		t.Fatalf("Device: %v", err)
	}
	da := s.wantAuth(t, pathOf(as.deviceURL), "")
	if da.Form.Get("scope") != strings.Join(as.userScopes, " ") {
		t.Errorf("device request scope %q", da.Form.Get("scope"))
	}
	if dc.UserCode == "" || !strings.HasPrefix(dc.VerificationURI, as.issuer+"/") || dc.Interval != 5*time.Second {
		t.Errorf("device code: %q at %q every %v", dc.UserCode, dc.VerificationURI, dc.Interval)
	}

	type result struct {
		tok *videoauth.Token
		err error
	}
	done := make(chan result, 1)
	as.rec.mark()
	go func() {
		tok, err := dc.Wait(ctx)
		done <- result{tok, err}
	}()
	poll := "urn:ietf:params:oauth:grant-type:device_code"
	waitFor(t, "Wait to sleep before its first poll", func() bool { return s.clock.Waiters() == 1 })
	s.clock.Advance(dc.Interval)
	as.rec.await(t, "authorization_pending answer", func(ex exchange) bool {
		return ex.Grant == poll && ex.Error == "authorization_pending"
	})
	waitFor(t, "Wait to sleep after the pending answer", func() bool { return s.clock.Waiters() == 1 })

	if page := newBrowser(t).approveDevice(dc.VerificationURI, dc.UserCode, "allow"); !strings.Contains(page, "approved") {
		t.Fatalf("device page: %s", page)
	}
	s.clock.Advance(dc.Interval)
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after approval")
	}
	if r.err != nil {
		t.Fatalf("Wait: %v", r.err)
	}
	if r.tok.AccessToken == "" || r.tok.RefreshToken == "" {
		t.Errorf("device token %v", r.tok)
	}
	polls := as.rec.find(pathOf(as.tokenURL), poll)
	if len(polls) != 2 {
		t.Errorf("the server saw %d polls; want 2 (pending, then the token)", len(polls))
	}
	s.wantAuth(t, pathOf(as.tokenURL), poll)
	if in := as.active(t, r.tok.AccessToken, true); in.Sub != userName {
		t.Errorf("the device token is %q's", in.Sub)
	}
}

// TestStandardDeviceDenied: the user denies the device; the server answers
// access_denied (RFC 8628 §3.5), which Wait returns as ErrAccessDenied.
func TestStandardDeviceDenied(t *testing.T) {
	as := newZitadel(t)
	s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
	s.clock.SetAutoAdvance(true)
	dc, err := s.std.Device(ctxT(t), as.userScopes...)
	if err != nil {
		t.Fatalf("Device: %v", err)
	}
	if page := newBrowser(t).approveDevice(dc.VerificationURIComplete, dc.UserCode, "deny"); !strings.Contains(page, "denied") {
		t.Fatalf("device page: %s", page)
	}
	if _, err := dc.Wait(ctxT(t)); !errors.Is(err, videoauth.ErrAccessDenied) {
		t.Errorf("Wait: %v; want ErrAccessDenied", err)
	}
}

// TestStandardRevoke: Revoke sends the refresh token to the revocation
// endpoint (RFC 7009 §2.1), authenticated like the token endpoint; the
// server then refuses both the access token (introspection, RFC 7662) and
// the refresh token.
func TestStandardRevoke(t *testing.T) {
	forEachAuth(t, []authCase{basicCase, postCase}, func(t *testing.T, s *setup) {
		as := s.as
		tok := s.userToken(t)
		if err := s.std.Revoke(ctxT(t), tok); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		ex := s.wantAuth(t, pathOf(as.revokeURL), "")
		if ex.Form.Get("token") != tok.RefreshToken || ex.Form.Get("token_type_hint") != "refresh_token" {
			t.Errorf("revocation sent %v", ex.Form)
		}
		as.active(t, tok.AccessToken, false)
		as.refreshRefused(t, s.c, tok.RefreshToken)
	})
}

// TestStandardRevokeSource: a Source revoked through Source.Revoke ends the
// grant at the server and then answers ErrReauthRequired without touching
// the network; an app token is revoked as an access token.
func TestStandardRevokeSource(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		t.Run("source", func(t *testing.T) {
			s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
			tok := s.userToken(t)
			src := s.std.Source(tok)
			if err := src.Revoke(ctxT(t)); err != nil {
				t.Fatalf("Source.Revoke: %v", err)
			}
			as.active(t, tok.AccessToken, false)
			before := len(as.rec.find(pathOf(as.tokenURL), ""))
			if _, err := src.Token(ctxT(t)); !errors.Is(err, videoauth.ErrReauthRequired) {
				t.Errorf("Token after Revoke: %v; want ErrReauthRequired", err)
			}
			if after := len(as.rec.find(pathOf(as.tokenURL), "")); after != before {
				t.Errorf("the revoked Source called the token endpoint")
			}
			as.refreshRefused(t, as.basic, tok.RefreshToken)
		})
		t.Run("access_token", func(t *testing.T) {
			s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
			tok, err := s.std.ClientCredentials(as.ccScopes...).Token(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.std.Revoke(ctxT(t), tok); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			ex := s.wantAuth(t, pathOf(as.revokeURL), "")
			if ex.Form.Get("token") != tok.AccessToken || ex.Form.Get("token_type_hint") != "access_token" {
				t.Errorf("revocation sent %v", ex.Form)
			}
			as.active(t, tok.AccessToken, false)
		})
	})
}

// TestStandardTransport: the API validates tokens by introspection and
// answers 401 with WWW-Authenticate: Bearer error="invalid_token" (RFC 6750
// §3.1) to an expired one; the Transport refreshes once, replays the
// request (its body too) and the caller sees the API's 200. When the grant
// is then revoked at the server, the failed refresh makes the answer a
// dead grant (ErrReauthRequired) and nothing more is sent.
func TestStandardTransport(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
		tok := s.userToken(t)
		src := s.std.Source(tok)
		hc := videoauth.NewClient(s.std, src)

		if resp := send(t, hc, http.MethodGet, s.api.URL+"/resource", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("API with a live token: %d", resp.StatusCode)
		}
		as.expireAccess(t, tok.AccessToken)
		resp := send(t, hc, http.MethodPost, s.api.URL+"/resource", "a body to replay")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("API after the token expired: %d; want 200 after one refresh", resp.StatusCode)
		}
		hits := s.api.log()
		if len(hits) != 3 || hits[1].Status != http.StatusUnauthorized || hits[2].Status != http.StatusOK ||
			hits[1].Token != tok.AccessToken || hits[2].Token == tok.AccessToken ||
			hits[1].Body != "a body to replay" || hits[2].Body != hits[1].Body || hits[2].Method != http.MethodPost {
			t.Errorf("the API saw %+v", hits)
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "refresh_token")); n != 1 {
			t.Errorf("the server saw %d refreshes; want 1", n)
		}
		cur := src.Current()
		if cur == nil || cur.AccessToken != hits[2].Token || cur.RefreshToken == tok.RefreshToken {
			t.Error("the Source does not hold the refreshed, rotated token")
		}

		// The grant dies at the server; the client is not told. A minute
		// later (the Source does not replace a token rejected within
		// RetryInterval of its arrival) the API refuses the token.
		if err := s.std.Revoke(ctxT(t), cur); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(time.Minute)
		resp = send(t, hc, http.MethodGet, s.api.URL+"/resource", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("API after revocation: %d", resp.StatusCode)
		}
		if err := videoauth.CheckResponse(s.std, resp); !errors.Is(err, videoauth.ErrReauthRequired) {
			t.Errorf("CheckResponse after revocation: %v; want ErrReauthRequired", err)
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "refresh_token")); n != 2 {
			t.Errorf("the server saw %d refreshes; want 2 (the last refused)", n)
		}
		apiBefore := len(s.api.log())
		if _, err := hc.Get(s.api.URL + "/resource"); !errors.Is(err, videoauth.ErrReauthRequired) {
			t.Errorf("a request after the dead grant: %v; want ErrReauthRequired", err)
		}
		if len(s.api.log()) != apiBefore || len(as.rec.find(pathOf(as.tokenURL), "refresh_token")) != 2 {
			t.Error("a request after the dead grant reached the network")
		}
	})
}

// TestStandardTransportClientCredentials: with an app token, the Transport
// mints a new one (client credentials again, no refresh token) when the
// API rejects the old one.
func TestStandardTransportClientCredentials(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		s := newSetup(t, as, as.post, videoauth.ClientSecretPost)
		src := s.std.ClientCredentials(as.ccScopes...)
		hc := videoauth.NewClient(s.std, src)
		if resp := send(t, hc, http.MethodGet, s.api.URL+"/resource", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("API: %d", resp.StatusCode)
		}
		as.expireAccess(t, src.Current().AccessToken)
		if resp := send(t, hc, http.MethodGet, s.api.URL+"/resource", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("API after the token expired: %d; want 200 after a new mint", resp.StatusCode)
		}
		if n := len(as.rec.find(pathOf(as.tokenURL), "client_credentials")); n != 2 {
			t.Errorf("the server saw %d client credentials grants; want 2", n)
		}
		s.wantAuth(t, pathOf(as.tokenURL), "client_credentials")
		if hits := s.api.log(); len(hits) != 3 || hits[1].Status != http.StatusUnauthorized {
			t.Errorf("the API saw %+v", hits)
		}
	})
}

// TestStandardDiscovery: DiscoverStandard reads zitadel's OpenID Provider
// metadata (it serves no RFC 8414 document, so the OpenID address is the
// one found), fills every endpoint and picks client_secret_basic from
// token_endpoint_auth_methods_supported; the provider it builds runs the
// code flow and starts a device flow. fosite serves no metadata.
func TestStandardDiscovery(t *testing.T) {
	as := newZitadel(t)
	s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
	std, err := videoauth.DiscoverStandard(ctxT(t), s.app(), as.issuer, videoauth.StandardConfig{
		Name: as.name, APIURL: s.api.URL, Scopes: as.userScopes,
	})
	if err != nil {
		t.Fatalf("DiscoverStandard: %v", err)
	}
	ep := std.Config().Endpoint
	if ep.AuthURL != as.authURL || ep.TokenURL != as.tokenURL || ep.DeviceAuthURL != as.deviceURL {
		t.Errorf("discovered endpoints %+v", ep)
	}
	s.std = std
	s.userToken(t)
	s.wantAuth(t, pathOf(as.tokenURL), "authorization_code")
	if _, err := std.Device(ctxT(t)); err != nil {
		t.Errorf("Device with discovered endpoints: %v", err)
	}
	tok, err := std.ClientCredentials(as.ccScopes...).Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := std.Revoke(ctxT(t), tok); err != nil {
		t.Errorf("Revoke at the discovered endpoint: %v", err)
	}
	as.active(t, tok.AccessToken, false)
}

// send makes one request through hc and returns the response with its
// body read and closed.
func send(t *testing.T, hc *http.Client, method, u, body string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctxT(t), method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestStandardServerErrors: the servers' own error answers (RFC 6749 §5.2)
// reach the caller as the library's sentinels: a wrong client secret is
// ErrInvalidClient, a scope the client may not have is ErrInvalidScope.
func TestStandardServerErrors(t *testing.T) {
	forEachAuth(t, []authCase{basicCase, postCase}, func(t *testing.T, s *setup) {
		as := s.as
		t.Run("invalid_client", func(t *testing.T) {
			wrong := s.c
			wrong.Secret += "x"
			std := newSetup(t, as, wrong, s.auth).std
			_, err := std.ClientCredentials(as.ccScopes...).Token(ctxT(t))
			if !errors.Is(err, videoauth.ErrInvalidClient) {
				t.Errorf("a wrong secret: %v; want ErrInvalidClient", err)
			}
			ex := as.rec.lastAuth(t, pathOf(as.tokenURL), "client_credentials")
			t.Logf("%s answered a wrong secret with %d %s", as.name, ex.Status, ex.Error)
		})
		t.Run("invalid_scope", func(t *testing.T) {
			_, err := s.std.ClientCredentials("admin:everything").Token(ctxT(t))
			if !errors.Is(err, videoauth.ErrInvalidScope) {
				t.Errorf("a scope not allowed: %v; want ErrInvalidScope", err)
			}
		})
	})
}

// TestStandardTokenStaysAtAPI: the Transport attaches the token to the
// APIURL's origin only (RFC 6750 §5.3, RFC 9700 §4.9): a request through
// the same client to another port of the same loopback host — the
// authorization server's, or any other — carries no Authorization.
func TestStandardTokenStaysAtAPI(t *testing.T) {
	forEachServer(t, func(t *testing.T, as *authServer) {
		s := newSetup(t, as, as.basic, videoauth.ClientSecretBasic)
		hc := videoauth.NewClient(s.std, s.std.Source(s.userToken(t)))
		seen := make(chan string, 1)
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen <- r.Header.Get("Authorization")
		}))
		t.Cleanup(other.Close)
		send(t, hc, http.MethodGet, other.URL+"/resource", "")
		if auth := <-seen; auth != "" {
			t.Errorf("a request to %s carried Authorization %q", other.URL, auth)
		}
		if resp := send(t, hc, http.MethodGet, s.api.URL+"/resource", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("API: %d", resp.StatusCode)
		}
	})
}
