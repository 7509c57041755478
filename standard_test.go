package videoauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
)

// newStd returns a Standard for s, changed by mod when given.
func newStd(t *testing.T, s *rfcServer, mod func(*videoauth.App, *videoauth.StandardConfig)) *videoauth.Standard {
	t.Helper()
	app, c := s.app(), s.config()
	if mod != nil {
		mod(&app, &c)
	}
	std, err := videoauth.NewStandard(app, c)
	require.NoError(t, err)
	return std
}

// signIn runs the code flow against s and returns the token.
func signIn(t *testing.T, s *rfcServer, std *videoauth.Standard, scopes ...string) *videoauth.Token {
	t.Helper()
	ar, err := std.AuthRequest("", scopes...)
	require.NoError(t, err)
	tok, err := std.Exchange(context.Background(), ar, s.approve(t, ar.URL))
	require.NoError(t, err)
	return tok
}

func TestStandardCodeFlowPKCE(t *testing.T) {
	ctx := context.Background()
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)

	ar, err := std.AuthRequest("", "read", "write")
	require.NoError(t, err)
	u, err := url.Parse(ar.URL)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, rfcClientID, q.Get("client_id"))
	require.Equal(t, "https://app.example/cb", q.Get("redirect_uri"))
	require.Equal(t, "read write", q.Get("scope"))
	require.Equal(t, ar.State, q.Get("state"))
	require.GreaterOrEqual(t, len(ar.State), 43, "256 bits of state")
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.Equal(t, s256(ar.Verifier), q.Get("code_challenge"))
	require.NotContains(t, ar.URL, "plain")
	require.Equal(t, s.issuer, ar.Issuer)

	tok, err := std.Exchange(ctx, ar, s.approve(t, ar.URL))
	require.NoError(t, err)
	require.Equal(t, "rfc", tok.Provider)
	require.Equal(t, "Bearer", tok.TokenType)
	require.Equal(t, []string{"read", "write"}, tok.Scopes)
	require.NotEmpty(t, tok.RefreshToken)
	require.Equal(t, rfcStart.Add(time.Hour), tok.Expiry)
	require.Equal(t, 1, s.count("exchange"))

	// Single use: the same callback again exchanges nothing.
	_, err = std.Exchange(ctx, ar, s.approve(t, ar.URL))
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.Equal(t, 1, s.count("exchange"))

	// The server verifies the challenge: a code sent with another request's
	// verifier is refused (and the failure is typed).
	ar2, err := std.AuthRequest("")
	require.NoError(t, err)
	cb := s.approve(t, ar2.URL)
	other, err := std.AuthRequest("")
	require.NoError(t, err)
	ar2.Verifier = other.Verifier
	_, err = std.Exchange(ctx, ar2, cb)
	require.ErrorIs(t, err, videoauth.ErrCodeUsed)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "invalid_grant", e.Code)
	require.Equal(t, "rfc", e.Provider)
	require.Equal(t, "exchange", e.Op)
	require.Equal(t, 2, s.count("exchange"), "a failed exchange is not retried")

	// Scopes default to App.Scopes, then StandardConfig.Scopes.
	std2 := newStd(t, s, func(a *videoauth.App, c *videoauth.StandardConfig) { c.Scopes = []string{"openid"} })
	ar3, err := std2.AuthRequest("https://app.example/other")
	require.NoError(t, err)
	u3, _ := url.Parse(ar3.URL)
	require.Equal(t, "openid", u3.Query().Get("scope"))
	require.Equal(t, "https://app.example/other", u3.Query().Get("redirect_uri"))
	std3 := newStd(t, s, func(a *videoauth.App, c *videoauth.StandardConfig) {
		a.Scopes = []string{"app-scope"}
		c.Scopes = []string{"openid"}
	})
	ar4, err := std3.AuthRequest("")
	require.NoError(t, err)
	u4, _ := url.Parse(ar4.URL)
	require.Equal(t, "app-scope", u4.Query().Get("scope"))
}

func TestStandardCallbackChecks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		setup    func(s *rfcServer)
		mod      func(*videoauth.App, *videoauth.StandardConfig)
		callback func(cb url.Values)
		want     error // nil: the exchange succeeds
		used     bool  // the AuthRequest is consumed
		code     string
	}{
		{name: "iss of this server", used: true},
		{name: "wrong state", callback: func(cb url.Values) { cb.Set("state", "forged") }, want: videoauth.ErrStateMismatch},
		{name: "no state", callback: func(cb url.Values) { cb.Del("state") }, want: videoauth.ErrStateMismatch},
		{name: "iss of another server", callback: func(cb url.Values) { cb.Set("iss", "https://attacker.example") },
			want: videoauth.ErrIssuerMismatch, used: true},
		{name: "iss differing by a trailing slash", callback: func(cb url.Values) { cb.Set("iss", cb.Get("iss")+"/") },
			want: videoauth.ErrIssuerMismatch, used: true},
		{name: "two iss", callback: func(cb url.Values) { cb.Add("iss", cb.Get("iss")) }, want: videoauth.ErrIssuerMismatch, used: true},
		{name: "no iss, not required", setup: func(s *rfcServer) { s.sendIss = "" }, used: true},
		{name: "no iss, required", setup: func(s *rfcServer) { s.sendIss = "" },
			mod:  func(_ *videoauth.App, c *videoauth.StandardConfig) { c.RequireIss = true },
			want: videoauth.ErrIssuerMismatch, used: true},
		{name: "iss ignored without an Issuer", setup: func(s *rfcServer) { s.sendIss = "https://anyone.example" },
			mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Issuer = "" }, used: true},
		{name: "access denied", setup: func(s *rfcServer) { s.deny = true }, want: videoauth.ErrAccessDenied, used: true, code: "access_denied"},
		{name: "denied by another server", setup: func(s *rfcServer) { s.deny = true },
			callback: func(cb url.Values) { cb.Set("iss", "https://attacker.example") }, want: videoauth.ErrIssuerMismatch, used: true},
		{name: "server error", callback: func(cb url.Values) { cb.Del("code"); cb.Set("error", "temporarily_unavailable") },
			want: videoauth.ErrServer, used: true, code: "temporarily_unavailable"},
		{name: "neither code nor error", callback: func(cb url.Values) { cb.Del("code") }, want: videoauth.ErrBadCallback, used: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
			if tc.setup != nil {
				s.set(tc.setup)
			}
			std := newStd(t, s, tc.mod)
			ar, err := std.AuthRequest("")
			require.NoError(t, err)
			cb := s.approve(t, ar.URL)
			if tc.callback != nil {
				tc.callback(cb)
			}
			tok, err := std.Exchange(ctx, ar, cb)
			require.Equal(t, tc.used, ar.Used())
			if tc.want == nil {
				require.NoError(t, err)
				require.NotEmpty(t, tok.AccessToken)
				require.Equal(t, 1, s.count("exchange"))
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, tok)
			require.Zero(t, s.count("exchange"), "nothing is exchanged")
			if tc.code != "" {
				var e *videoauth.Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, tc.code, e.Code)
				require.Equal(t, "rfc", e.Provider)
			}
			if !tc.used {
				// A forged callback cannot end the login: the real one still works.
				_, err := std.Exchange(ctx, ar, s.approve(t, ar.URL))
				require.NoError(t, err)
			}
		})
	}

	t.Run("request of another provider", func(t *testing.T) {
		s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
		std := newStd(t, s, nil)
		other := newStd(t, s, func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Name = "other" })
		ar, err := other.AuthRequest("")
		require.NoError(t, err)
		_, err = std.Exchange(ctx, ar, s.approve(t, ar.URL))
		require.ErrorIs(t, err, videoauth.ErrStateMismatch)
		require.False(t, ar.Used())
		require.Zero(t, s.count("exchange"))
	})
}

// TestStandardMixUp plays RFC 9207's mix-up attack: the client starts a
// login at the attacker's server B, which sends the user on to the honest
// server A with B's request; A's code comes back to the client's B flow.
// The iss of A's answer gives it away, and A's code never reaches B.
func TestStandardMixUp(t *testing.T) {
	honest := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	attacker := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	viaB := newStd(t, attacker, nil)

	ar, err := viaB.AuthRequest("")
	require.NoError(t, err)
	// B answers the user's browser with A's authorization endpoint and the
	// client's own parameters.
	swapped := strings.Replace(ar.URL, attacker.srv.URL, honest.srv.URL, 1)
	cb := honest.approve(t, swapped)
	require.Equal(t, honest.issuer, cb.Get("iss"))
	require.NotEmpty(t, cb.Get("code"))

	_, err = viaB.Exchange(context.Background(), ar, cb)
	require.ErrorIs(t, err, videoauth.ErrIssuerMismatch)
	require.Zero(t, attacker.count("exchange"), "A's code was not sent to B")
	require.Zero(t, honest.count("exchange"))
}

// TestStandardBasicAuthFormEncodesCredentials checks RFC 6749 §2.3.1: the
// id and secret are form-urlencoded before base64, at the token, device and
// revocation endpoints, and the server decodes them back exactly.
func TestStandardBasicAuthFormEncodesCredentials(t *testing.T) {
	const id, secret = "id:with%odd+chars é/ü", "p:a%s+s wörd&=ñ"
	s := newRFCServer(t, id, secret, "client_secret_basic")
	std := newStd(t, s, nil)
	ctx := context.Background()

	tok, err := std.ClientCredentials("read").Token(ctx)
	require.NoError(t, err)
	_, err = std.Device(ctx)
	require.NoError(t, err)
	require.NoError(t, std.Revoke(ctx, tok))
	require.Equal(t, []string{"client_secret_basic", "client_secret_basic", "client_secret_basic"}, s.seen())

	require.Len(t, s.basics(), 3)
	for _, h := range s.basics() {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		require.NoError(t, err)
		require.Equal(t, url.QueryEscape(id)+":"+url.QueryEscape(secret), string(raw))
		require.Equal(t, 1, strings.Count(string(raw), ":"), "the only ':' is the separator")
		require.NotContains(t, string(raw), " ", "a space is encoded as '+'")
	}
	// x/oauth2, which the Config is for, encodes the same way.
	require.Equal(t, oauth2.AuthStyleInHeader, std.Config().Endpoint.AuthStyle)
}

func TestStandardClientAuthMethods(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		auth   videoauth.ClientAuth
		secret string
		want   string // what the server sees
	}{
		{"default with a secret is basic", videoauth.ClientAuthDefault, rfcSecret, "client_secret_basic"},
		{"basic", videoauth.ClientSecretBasic, rfcSecret, "client_secret_basic"},
		{"post", videoauth.ClientSecretPost, rfcSecret, "client_secret_post"},
		{"none", videoauth.ClientAuthNone, "", "none"},
		{"default without a secret is none", videoauth.ClientAuthDefault, "", "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRFCServer(t, rfcClientID, tc.secret, tc.want)
			s.set(func(s *rfcServer) { s.script = []string{"authorization_pending"} })
			std := newStd(t, s, func(_ *videoauth.App, c *videoauth.StandardConfig) { c.ClientAuth = tc.auth })
			requests := 0

			tok := signIn(t, s, std) // token endpoint: exchange
			requests++
			if tc.want != "none" {
				_, err := std.ClientCredentials().Token(ctx) // token endpoint: client credentials
				require.NoError(t, err)
				requests++
			} else {
				_, err := std.ClientCredentials().Token(ctx)
				require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "a public client has no client credentials")
				require.Zero(t, s.count("client_credentials"))
			}
			s.clock.SetAutoAdvance(true)
			dc, err := std.Device(ctx) // device endpoint (RFC 8628 §3.1)
			require.NoError(t, err)
			_, err = dc.Wait(ctx) // token endpoint: pending, then the token
			require.NoError(t, err)
			requests += 3
			require.NoError(t, std.Revoke(ctx, tok)) // revocation endpoint
			requests++

			require.Len(t, s.seen(), requests)
			for i, m := range s.seen() {
				require.Equal(t, tc.want, m, "request %d", i)
			}
			wantStyle := oauth2.AuthStyleInParams
			if tc.want == "client_secret_basic" {
				wantStyle = oauth2.AuthStyleInHeader
			}
			require.Equal(t, wantStyle, std.Config().Endpoint.AuthStyle)
		})
	}
}

func TestStandardClientCredentials(t *testing.T) {
	ctx := context.Background()
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	s.set(func(s *rfcServer) { s.ccRefresh, s.accessTTL = true, time.Minute })
	std := newStd(t, s, nil)
	src := std.ClientCredentials("read")

	tok, err := src.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "rfc", tok.Provider)
	require.Equal(t, []string{"read"}, tok.Scopes)
	require.Empty(t, tok.RefreshToken, "an app token's refresh token is dropped (RFC 6749 §4.4.3)")
	again, err := src.Token(ctx)
	require.NoError(t, err)
	require.Same(t, tok, again)
	require.Equal(t, 1, s.count("client_credentials"))

	s.clock.Advance(2 * time.Minute)
	next, err := src.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, next.AccessToken)
	require.Equal(t, 2, s.count("client_credentials"), "minted again")
	require.Zero(t, s.count("refresh"), "never refreshed")
}

func TestStandardRefreshRotation(t *testing.T) {
	ctx := context.Background()
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)
	first := signIn(t, s, std, "read")

	var saved []*videoauth.Token
	src := std.Source(first)
	src.OnToken = func(t *videoauth.Token) { saved = append(saved, t) }
	s.clock.Advance(2 * time.Hour)
	second, err := src.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, s.count("refresh"))
	require.NotEqual(t, first.AccessToken, second.AccessToken)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken, "the rotated refresh token is kept")
	require.NotEmpty(t, second.RefreshToken)
	require.Equal(t, "rfc", second.Provider)
	require.Equal(t, []*videoauth.Token{second}, saved, "OnToken sees the rotated token")

	// The old refresh token is dead at the server: a Source still holding
	// it must sign in again.
	stale := std.Source(first)
	_, err = stale.Token(ctx)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "invalid_grant", e.Code)
	require.Equal(t, "refresh", e.Op)
	require.Equal(t, 2, s.count("refresh"))

	// The rotated one keeps working.
	s.clock.Advance(2 * time.Hour)
	third, err := src.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, second.RefreshToken, third.RefreshToken)
	require.Equal(t, 3, s.count("refresh"))

	t.Run("an answer without refresh token keeps the old one", func(t *testing.T) {
		s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
		s.set(func(s *rfcServer) { s.rotate = false })
		std := newStd(t, s, nil)
		tok := signIn(t, s, std, "read")
		src := std.Source(tok)
		for i := 1; i <= 2; i++ {
			s.clock.Advance(2 * time.Hour)
			got, err := src.Token(ctx)
			require.NoError(t, err)
			require.NotEqual(t, tok.AccessToken, got.AccessToken)
			require.Equal(t, tok.RefreshToken, got.RefreshToken, "kept (RFC 6749 §6)")
			require.Equal(t, []string{"read"}, got.Scopes)
			require.Equal(t, i, s.count("refresh"))
		}
	})
}

// TestStandardSourceWithoutRefreshToken: a token the server gave no
// refresh token is used to its expiry — a renewal ahead of expiry keeps it
// without a request — and then needs a new sign-in.
func TestStandardSourceWithoutRefreshToken(t *testing.T) {
	ctx := context.Background()
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	s.set(func(s *rfcServer) { s.noRefresh = true })
	std := newStd(t, s, nil)
	tok := signIn(t, s, std)
	require.Empty(t, tok.RefreshToken)

	kept := make(chan *videoauth.Token, 4)
	src := std.Source(tok)
	src.OnToken = func(t *videoauth.Token) { kept <- t }
	s.clock.Advance(59 * time.Minute) // inside the refresh-ahead window
	got, err := src.Token(ctx)
	require.NoError(t, err)
	require.Same(t, tok, got)
	select {
	case k := <-kept: // the background renewal has finished
		require.Same(t, tok, k, "the renewal ahead of expiry keeps the token")
	case <-time.After(10 * time.Second):
		t.Fatal("the renewal ahead of expiry did not keep the token")
	}
	got, err = src.Token(ctx)
	require.NoError(t, err, "still usable until it expires")
	require.Same(t, tok, got)

	s.clock.Advance(2 * time.Minute)
	_, err = src.Token(ctx)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)
	require.Zero(t, s.count("refresh"), "nothing to refresh with: no request")
}

func TestStandardDevice(t *testing.T) {
	ctx := context.Background()
	const p, sd, denied, expired = "authorization_pending", "slow_down", "access_denied", "expired_token"
	for _, tc := range []struct {
		name   string
		script []string
		ttl    int
		want   error
		gaps   []time.Duration // between the device request and each poll
	}{
		{name: "pending, then approved", script: []string{p, p}, gaps: []time.Duration{5, 5, 5}},
		{name: "slow_down adds 5 s for good", script: []string{p, sd, p}, gaps: []time.Duration{5, 5, 10, 10}},
		{name: "two slow_downs", script: []string{sd, sd}, gaps: []time.Duration{5, 10, 15}},
		{name: "denied", script: []string{p, denied}, want: videoauth.ErrAccessDenied, gaps: []time.Duration{5, 5}},
		{name: "expired_token", script: []string{expired}, want: videoauth.ErrExpiredCode, gaps: []time.Duration{5}},
		{name: "lifetime runs out", script: []string{p, p, p, p, p}, ttl: 12, want: videoauth.ErrExpiredCode, gaps: []time.Duration{5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
			s.set(func(s *rfcServer) {
				s.script = tc.script
				if tc.ttl > 0 {
					s.deviceTTL = tc.ttl
				}
			})
			std := newStd(t, s, nil)
			dc, err := std.Device(ctx, "read")
			require.NoError(t, err)
			require.Equal(t, "WDJB-MJHT", dc.UserCode)
			require.Equal(t, s.srv.URL+"/activate", dc.VerificationURI)
			require.Equal(t, 5*time.Second, dc.Interval)
			start := s.clock.Now()
			s.clock.SetAutoAdvance(true) // every wait passes at once, on the clock
			tok, err := dc.Wait(ctx)
			var gaps []time.Duration
			prev := start
			for _, at := range s.polls() {
				gaps = append(gaps, at.Sub(prev)/time.Second)
				prev = at
			}
			require.Equal(t, tc.gaps, gaps, "seconds between polls")
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.Nil(t, tok)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "rfc", tok.Provider)
			require.Equal(t, []string{"read"}, tok.Scopes)
			require.NotEmpty(t, tok.RefreshToken)
		})
	}

	t.Run("verification URI elsewhere is refused", func(t *testing.T) {
		s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
		s.set(func(s *rfcServer) { s.verifyURI = "https://phish.example/activate" })
		_, err := newStd(t, s, nil).Device(ctx)
		require.ErrorIs(t, err, videoauth.ErrBadVerificationURI)
	})
	t.Run("no device endpoint", func(t *testing.T) {
		s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
		std := newStd(t, s, func(_ *videoauth.App, c *videoauth.StandardConfig) { c.DeviceURL = "" })
		_, err := std.Device(ctx)
		require.ErrorIs(t, err, videoauth.ErrUnsupportedGrant)
		require.Zero(t, s.count("device"))
	})
}

func TestStandardRevoke(t *testing.T) {
	ctx := context.Background()
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)

	tok := signIn(t, s, std)
	require.NoError(t, std.Revoke(ctx, tok))
	require.Equal(t, tok.RefreshToken, s.revocations()[0].Get("token"), "the refresh token, which ends the grant")
	require.Equal(t, "refresh_token", s.revocations()[0].Get("token_type_hint"))

	require.NoError(t, std.Revoke(ctx, &videoauth.Token{Provider: "rfc", AccessToken: "at-unknown-to-the-server"}), "200 for an unknown token is success")
	require.Equal(t, "at-unknown-to-the-server", s.revocations()[1].Get("token"))
	require.Equal(t, "access_token", s.revocations()[1].Get("token_type_hint"))

	// Through the Source: revoked at the server, then ErrReauthRequired
	// without a request.
	tok2 := signIn(t, s, std)
	src := std.Source(tok2)
	require.NoError(t, src.Revoke(ctx))
	require.Equal(t, tok2.RefreshToken, s.revocations()[2].Get("token"))
	_, err := src.Token(ctx)
	require.ErrorIs(t, err, videoauth.ErrReauthRequired)

	require.ErrorIs(t, std.Revoke(ctx, &videoauth.Token{Provider: "vimeo", AccessToken: "theirs"}), videoauth.ErrInvalidConfig,
		"another service's token is not sent here")
	require.ErrorIs(t, std.Revoke(ctx, &videoauth.Token{}), videoauth.ErrInvalidConfig)
	noRevoke := newStd(t, s, func(_ *videoauth.App, c *videoauth.StandardConfig) { c.RevokeURL = "" })
	require.ErrorIs(t, noRevoke.Revoke(ctx, tok2), videoauth.ErrUnsupportedGrant)
	require.ErrorIs(t, noRevoke.Source(tok2).Revoke(ctx), videoauth.ErrUnsupportedGrant)
	require.Equal(t, 3, s.count("revoke"))
}

func TestStandardDiscovery(t *testing.T) {
	ctx := context.Background()
	const rfcPath = "/.well-known/oauth-authorization-server/tenant"
	const oidcPath = "/tenant/.well-known/openid-configuration"
	type md = map[string]any
	metadata := func(s *rfcServer, issuer string) md {
		return md{
			"issuer": issuer, "authorization_endpoint": s.srv.URL + "/authorize", "token_endpoint": s.srv.URL + "/token",
			"device_authorization_endpoint": s.srv.URL + "/device", "revocation_endpoint": s.srv.URL + "/revoke",
			"token_endpoint_auth_methods_supported":          []string{"client_secret_post", "private_key_jwt"},
			"code_challenge_methods_supported":               []string{"S256"},
			"authorization_response_iss_parameter_supported": true,
			"response_types_supported":                       []string{"code"}, // unknown to the client: ignored
		}
	}
	setup := func(t *testing.T, auth string, paths []string, doc func(s *rfcServer, issuer string) any) (*rfcServer, string) {
		s := newRFCServer(t, rfcClientID, rfcSecret, auth)
		issuer := s.srv.URL + "/tenant"
		s.set(func(s *rfcServer) {
			s.mdPaths = paths
			if doc != nil {
				s.metadata = func() any { return doc(s, issuer) }
			}
		})
		return s, issuer
	}
	cfg := func(s *rfcServer) videoauth.StandardConfig {
		return videoauth.StandardConfig{Name: "rfc", APIURL: s.srv.URL}
	}

	t.Run("path issuer: RFC 8414 well-known inserted", func(t *testing.T) {
		s, issuer := setup(t, "client_secret_post", []string{rfcPath}, func(s *rfcServer, iss string) any { return metadata(s, iss) })
		std, err := videoauth.DiscoverStandard(ctx, s.app(), issuer, cfg(s))
		require.NoError(t, err)
		require.Equal(t, []string{rfcPath}, s.mdReqs())
		c := std.Config()
		require.Equal(t, s.srv.URL+"/authorize", c.Endpoint.AuthURL)
		require.Equal(t, s.srv.URL+"/token", c.Endpoint.TokenURL)
		require.Equal(t, s.srv.URL+"/device", c.Endpoint.DeviceAuthURL)
		require.Equal(t, oauth2.AuthStyleInParams, c.Endpoint.AuthStyle)

		// client_secret_post was picked: the strict server takes only that.
		_, err = std.ClientCredentials().Token(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"client_secret_post"}, s.seen())

		// The server sends iss always: a callback without it is refused.
		ar, err := std.AuthRequest("")
		require.NoError(t, err)
		require.Equal(t, issuer, ar.Issuer)
		s.set(func(s *rfcServer) { s.sendIss = "" })
		_, err = std.Exchange(ctx, ar, s.approve(t, ar.URL))
		require.ErrorIs(t, err, videoauth.ErrIssuerMismatch)
		ar, err = std.AuthRequest("")
		require.NoError(t, err)
		s.set(func(s *rfcServer) { s.sendIss = issuer })
		_, err = std.Exchange(ctx, ar, s.approve(t, ar.URL))
		require.NoError(t, err)

		// Revocation came from the metadata too.
		require.NoError(t, std.Revoke(ctx, &videoauth.Token{AccessToken: "x"}))
	})
	t.Run("OpenID configuration when RFC 8414's is missing", func(t *testing.T) {
		s, issuer := setup(t, "client_secret_basic", []string{oidcPath}, func(s *rfcServer, iss string) any {
			m := metadata(s, iss)
			delete(m, "token_endpoint_auth_methods_supported") // absent: client_secret_basic (RFC 8414 §2)
			delete(m, "authorization_response_iss_parameter_supported")
			return m
		})
		std, err := videoauth.DiscoverStandard(ctx, s.app(), issuer, cfg(s))
		require.NoError(t, err)
		require.Equal(t, []string{rfcPath, oidcPath}, s.mdReqs())
		require.Equal(t, oauth2.AuthStyleInHeader, std.Config().Endpoint.AuthStyle)
		_, err = std.ClientCredentials().Token(ctx)
		require.NoError(t, err)
		// iss not advertised: a callback without it is accepted.
		s.set(func(s *rfcServer) { s.sendIss = "" })
		ar, err := std.AuthRequest("")
		require.NoError(t, err)
		_, err = std.Exchange(ctx, ar, s.approve(t, ar.URL))
		require.NoError(t, err)
	})
	t.Run("issuer without path", func(t *testing.T) {
		s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_post")
		s.set(func(s *rfcServer) {
			s.mdPaths = []string{"/.well-known/oauth-authorization-server"}
			s.metadata = func() any { return metadata(s, s.srv.URL) }
		})
		_, err := videoauth.DiscoverStandard(ctx, s.app(), s.srv.URL, cfg(s))
		require.NoError(t, err)
		require.Equal(t, []string{"/.well-known/oauth-authorization-server"}, s.mdReqs())
	})
	for _, tc := range []struct {
		name     string
		doc      func(s *rfcServer, issuer string) any
		issuer   func(issuer string) string // the issuer asked for; nil: the server's
		mod      func(*videoauth.App, *videoauth.StandardConfig)
		want     []error
		requests int
	}{
		{name: "metadata of another issuer", doc: func(s *rfcServer, iss string) any { return metadata(s, s.srv.URL+"/other") },
			want: []error{videoauth.ErrIssuerMismatch}, requests: 1},
		{name: "issuer differing by a trailing slash", doc: func(s *rfcServer, iss string) any { return metadata(s, iss+"/") },
			want: []error{videoauth.ErrIssuerMismatch}, requests: 1},
		{name: "no metadata", want: []error{videoauth.ErrBadResponse}, requests: 2},
		{name: "not an object", doc: func(*rfcServer, string) any { return "metadata" }, want: []error{videoauth.ErrBadResponse}, requests: 1},
		{name: "wrong member type", doc: func(s *rfcServer, iss string) any { m := metadata(s, iss); m["token_endpoint"] = 7; return m },
			want: []error{videoauth.ErrBadResponse}, requests: 1},
		{name: "plain-http endpoint", doc: func(s *rfcServer, iss string) any {
			m := metadata(s, iss)
			m["token_endpoint"] = "http://as.example/token"
			return m
		}, want: []error{videoauth.ErrInvalidConfig, videoauth.ErrInsecureEndpoint}, requests: 1},
		{name: "no client authentication this library has", doc: func(s *rfcServer, iss string) any {
			m := metadata(s, iss)
			m["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt", "tls_client_auth"}
			return m
		}, want: []error{videoauth.ErrInvalidConfig}, requests: 1},
		{name: "issuer with a query", issuer: func(iss string) string { return iss + "?x=1" }, want: []error{videoauth.ErrInvalidConfig}},
		{name: "plain-http issuer", issuer: func(string) string { return "http://as.example" },
			want: []error{videoauth.ErrInvalidConfig, videoauth.ErrInsecureEndpoint}},
		{name: "config names another issuer", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Issuer = "https://else.example" },
			want: []error{videoauth.ErrInvalidConfig}},
		{name: "no API URL", doc: func(s *rfcServer, iss string) any { return metadata(s, iss) },
			mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.APIURL = "" }, want: []error{videoauth.ErrInvalidConfig}, requests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, issuer := setup(t, "client_secret_post", []string{rfcPath}, tc.doc)
			if tc.issuer != nil {
				issuer = tc.issuer(issuer)
			}
			app, c := s.app(), cfg(s)
			if tc.mod != nil {
				tc.mod(&app, &c)
			}
			std, err := videoauth.DiscoverStandard(ctx, app, issuer, c)
			require.Nil(t, std)
			for _, w := range tc.want {
				require.ErrorIs(t, err, w)
			}
			require.Len(t, s.mdReqs(), tc.requests)
		})
	}
	t.Run("config wins over metadata", func(t *testing.T) {
		s, issuer := setup(t, "client_secret_basic", []string{rfcPath}, func(s *rfcServer, iss string) any { return metadata(s, iss) })
		c := cfg(s)
		c.ClientAuth = videoauth.ClientSecretBasic
		c.RevokeURL = s.srv.URL + "/revoke?tenant=1"
		std, err := videoauth.DiscoverStandard(ctx, s.app(), issuer, c)
		require.NoError(t, err)
		require.Equal(t, oauth2.AuthStyleInHeader, std.Config().Endpoint.AuthStyle)
		_, err = std.ClientCredentials().Token(ctx)
		require.NoError(t, err)
	})
	t.Run("public client", func(t *testing.T) {
		s, issuer := setup(t, "none", []string{rfcPath}, func(s *rfcServer, iss string) any { return metadata(s, iss) })
		s.set(func(s *rfcServer) { s.secret, s.sendIss = "", issuer })
		app := s.app()
		app.ClientSecret = ""
		std, err := videoauth.DiscoverStandard(ctx, app, issuer, cfg(s))
		require.NoError(t, err)
		signIn(t, s, std)
		require.Equal(t, []string{"none"}, s.seen())
	})
}

// TestStandardTransport: a 401 with error="invalid_token" costs one refresh
// and one replay; 403 insufficient_scope and a 401 without an error are
// returned as they are; a token goes to the API origin only.
func TestStandardTransport(t *testing.T) {
	ctx := context.Background()
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)
	tok := signIn(t, s, std, "read")
	src := std.Source(tok)
	client := videoauth.NewClient(std, src)
	get := func(path string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	require.Equal(t, 200, get("/api/me").StatusCode)
	require.Equal(t, 1, s.count("api"))
	require.Equal(t, "Bearer "+tok.AccessToken, s.apiAuths()[0])

	s.forget() // the server drops the token before its expiry
	require.Equal(t, 200, get("/api/me").StatusCode)
	require.Equal(t, 3, s.count("api"), "one rejection, one replay")
	require.Equal(t, 1, s.count("refresh"), "one refresh")
	require.Equal(t, "Bearer "+tok.AccessToken, s.apiAuths()[1])
	require.NotEqual(t, s.apiAuths()[1], s.apiAuths()[2], "the replay carries the new token")
	require.Equal(t, "Bearer "+src.Current().AccessToken, s.apiAuths()[2])

	resp := get("/api/admin")
	require.Equal(t, 403, resp.StatusCode)
	require.Equal(t, 4, s.count("api"), "insufficient_scope is not retried")
	require.Equal(t, 1, s.count("refresh"))
	require.ErrorIs(t, videoauth.CheckResponse(std, resp), videoauth.ErrForbidden)

	s.set(func(s *rfcServer) { s.plain401 = true })
	s.forget()
	require.Equal(t, 401, get("/api/me").StatusCode)
	require.Equal(t, 5, s.count("api"), "a 401 without invalid_token is not retried")
	require.Equal(t, 1, s.count("refresh"))

	foreign := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreign <- r.Header.Get("Authorization")
	}))
	defer other.Close()
	resp, err := client.Get(other.URL + "/api/me")
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, <-foreign, "no token for another origin")
}

func TestStandardVerdict(t *testing.T) {
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)
	for _, tc := range []struct {
		name   string
		status int
		header []string
		want   videoauth.Verdict
	}{
		{"invalid_token", 401, []string{`Bearer error="invalid_token"`}, videoauth.VerdictExpired},
		{"with realm and description", 401, []string{`Bearer realm="api", error="invalid_token", error_description="expired, sorry"`}, videoauth.VerdictExpired},
		{"unquoted, any case", 401, []string{`bearer ERROR=invalid_token`}, videoauth.VerdictExpired},
		{"after another challenge in one field", 401, []string{`Basic realm="x", Bearer error="invalid_token"`}, videoauth.VerdictExpired},
		{"in a second field", 401, []string{`Basic realm="x"`, `Bearer error="invalid_token"`}, videoauth.VerdictExpired},
		{"after a token68 challenge", 401, []string{`Negotiate abc==, Bearer error="invalid_token"`}, videoauth.VerdictExpired},
		{"quoted comma and escapes", 401, []string{`Bearer error_description="a, error=\"invalid_token\"", error="invalid_request"`}, videoauth.VerdictOK},
		{"no error attribute", 401, []string{`Bearer realm="api"`}, videoauth.VerdictOK},
		{"no challenge", 401, nil, videoauth.VerdictOK},
		{"another scheme", 401, []string{`DPoP error="invalid_token"`}, videoauth.VerdictOK},
		{"invalid_request", 401, []string{`Bearer error="invalid_request"`}, videoauth.VerdictOK},
		{"insufficient_scope", 403, []string{`Bearer error="insufficient_scope", scope="admin"`}, videoauth.VerdictOK},
		{"invalid_token on a 400", 400, []string{`Bearer error="invalid_token"`}, videoauth.VerdictOK},
		{"ok", 200, nil, videoauth.VerdictOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"error":"whatever"}`
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Www-Authenticate": tc.header}, Body: io.NopCloser(strings.NewReader(body))}
			require.Equal(t, tc.want, std.Verdict(resp))
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, body, string(b), "the body is not consumed")
		})
	}
}

func TestStandardConfigValidation(t *testing.T) {
	good := func() (videoauth.App, videoauth.StandardConfig) {
		return videoauth.App{ClientID: "id", ClientSecret: "secret"}, videoauth.StandardConfig{
			Name: "idp", Issuer: "https://as.example", AuthURL: "https://as.example/authorize", TokenURL: "https://as.example/token",
			APIURL: "https://api.example",
		}
	}
	for _, tc := range []struct {
		name     string
		mod      func(*videoauth.App, *videoauth.StandardConfig)
		insecure bool // also ErrInsecureEndpoint
		ok       bool
	}{
		{name: "good", ok: true},
		{name: "loopback http", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) {
			c.Issuer, c.AuthURL, c.TokenURL, c.DeviceURL, c.APIURL = "http://127.0.0.1:9", "http://localhost:9/a", "http://[::1]:9/t", "http://127.0.0.1/d", "http://localhost"
		}, ok: true},
		{name: "endpoint with a query", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.TokenURL += "?tenant=a" }, ok: true},
		{name: "no name", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Name = "" }},
		{name: "uppercase name", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Name = "IdP" }},
		{name: "name with a space", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Name = "my idp" }},
		{name: "no client id", mod: func(a *videoauth.App, _ *videoauth.StandardConfig) { a.ClientID = "" }},
		{name: "no token URL", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.TokenURL = "" }},
		{name: "no auth URL", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.AuthURL = "" }},
		{name: "no API URL", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.APIURL = "" }},
		{name: "relative URL", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.TokenURL = "/token" }},
		{name: "plain http", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.TokenURL = "http://as.example/token" }, insecure: true},
		{name: "plain http device", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.DeviceURL = "http://as.example/device" }, insecure: true},
		{name: "plain http revoke", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.RevokeURL = "http://10.0.0.1/revoke" }, insecure: true},
		{name: "plain http API", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.APIURL = "http://api.example" }, insecure: true},
		{name: "loopback look-alike", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.TokenURL = "http://127.0.0.1.evil.example/t" }, insecure: true},
		{name: "ftp", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.AuthURL = "ftp://as.example/a" }, insecure: true},
		{name: "fragment", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.AuthURL += "#x" }},
		{name: "user info", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.TokenURL = "https://u:p@as.example/token" }},
		{name: "issuer with a query", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Issuer += "?a=b" }},
		{name: "plain http issuer", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Issuer = "http://as.example" }, insecure: true},
		{name: "RequireIss without Issuer", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.Issuer, c.RequireIss = "", true }},
		{name: "basic without a secret", mod: func(a *videoauth.App, c *videoauth.StandardConfig) {
			a.ClientSecret, c.ClientAuth = "", videoauth.ClientSecretBasic
		}},
		{name: "post without a secret", mod: func(a *videoauth.App, c *videoauth.StandardConfig) {
			a.ClientSecret, c.ClientAuth = "", videoauth.ClientSecretPost
		}},
		{name: "none with a secret", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.ClientAuth = videoauth.ClientAuthNone }},
		{name: "unknown client auth", mod: func(_ *videoauth.App, c *videoauth.StandardConfig) { c.ClientAuth = 42 }},
		{name: "control character in User-Agent", mod: func(a *videoauth.App, _ *videoauth.StandardConfig) { a.UserAgent = "x\r\nEvil: 1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, c := good()
			if tc.mod != nil {
				tc.mod(&app, &c)
			}
			std, err := videoauth.NewStandard(app, c)
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, c.Name, std.Name())
				return
			}
			require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
			require.Nil(t, std)
			if tc.insecure {
				require.ErrorIs(t, err, videoauth.ErrInsecureEndpoint)
			}
			require.NotContains(t, err.Error(), ":p@", "user info is not echoed")
		})
	}

	t.Run("redirect URL", func(t *testing.T) {
		app, c := good()
		std, err := videoauth.NewStandard(app, c)
		require.NoError(t, err)
		_, err = std.AuthRequest("")
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, "none given, none in the App")
		_, err = std.AuthRequest("https://app.example/cb#frag")
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		_, err = std.AuthRequest("/cb")
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig)
		ar, err := std.AuthRequest("com.example.app:/cb") // RFC 8252 §7.1 private-use scheme
		require.NoError(t, err)
		require.Equal(t, "com.example.app:/cb", ar.RedirectURL)
	})
	t.Run("Owns the API origin only", func(t *testing.T) {
		app, c := good()
		c.APIURL = "https://API.example:443/v1"
		std, err := videoauth.NewStandard(app, c)
		require.NoError(t, err)
		for raw, want := range map[string]bool{
			"https://api.example/v2/me": true, "https://api.example:443/x": true, "http://api.example/x": false,
			"https://api.example:8443/x": false, "https://as.example/token": false, "https://api.example.evil/x": false,
		} {
			u, _ := url.Parse(raw)
			require.Equal(t, want, std.Owns(u), raw)
		}
	})
}

func TestStandardAuthorize(t *testing.T) {
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)
	r := &http.Request{URL: &url.URL{Scheme: "http", Host: "x"}} // nil Header
	require.NoError(t, std.Authorize(r, &videoauth.Token{Provider: "rfc", AccessToken: "at", TokenType: "bearer"}))
	require.Equal(t, "Bearer at", r.Header.Get("Authorization"))
	require.ErrorIs(t, std.Authorize(r, &videoauth.Token{AccessToken: "at", TokenType: "mac"}), videoauth.ErrUnsupportedTokenType)
	require.ErrorIs(t, std.Authorize(r, &videoauth.Token{Provider: "vimeo", AccessToken: "at"}), videoauth.ErrInvalidConfig)
	require.ErrorIs(t, std.Authorize(r, nil), videoauth.ErrInvalidConfig)
}

func TestStandardPrintsNoSecret(t *testing.T) {
	const secret = "s3cr3t-Plant-42"
	s := newRFCServer(t, rfcClientID, secret, "client_secret_basic")
	std := newStd(t, s, nil)
	basic := base64.StdEncoding.EncodeToString([]byte(rfcClientID + ":" + secret))

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(verb, std), fmt.Sprintf(verb, *std), fmt.Sprintf(verb, []any{std, *std}))
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("p", "std", std, "list", []any{std})
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("p", "std", std, "list", []any{std, *std})
	outs = append(outs, buf.String())
	for _, v := range []any{std, *std, []any{std}} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		outs = append(outs, string(b))
	}
	require.Contains(t, std.String(), "name=rfc")
	require.Contains(t, std.String(), "ClientSecret:REDACTED")

	// A server that echoes the secret in its error.
	s.set(func(s *rfcServer) {
		s.failBody = `{"error":"invalid_request","error_description":"bad secret ` + secret + `, header Basic ` + basic + `"}`
	})
	_, err := std.ClientCredentials().Token(context.Background())
	require.ErrorIs(t, err, videoauth.ErrInvalidRequest)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outs = append(outs, fmt.Sprintf(verb, err))
	}
	var e *videoauth.Error
	require.ErrorAs(t, err, &e)
	b, _ := json.Marshal(e)
	outs = append(outs, string(b))

	for _, out := range outs {
		require.NotContains(t, out, secret)
		require.NotContains(t, out, basic)
	}
}

func TestClientAuthString(t *testing.T) {
	for c, want := range map[videoauth.ClientAuth]string{
		videoauth.ClientAuthDefault: "default", videoauth.ClientSecretBasic: "client_secret_basic",
		videoauth.ClientSecretPost: "client_secret_post", videoauth.ClientAuthNone: "none", 9: "ClientAuth(9)",
	} {
		require.Equal(t, want, c.String())
	}
}

// TestStandardLoopback: the generic provider is a CodeFlow, so a CLI signs
// in through Loopback; the browser is played by following the redirects.
func TestStandardLoopback(t *testing.T) {
	s := newRFCServer(t, rfcClientID, rfcSecret, "client_secret_basic")
	std := newStd(t, s, nil)
	var _ videoauth.CodeFlow = std
	var _ videoauth.Provider = std
	tok, err := videoauth.Loopback(context.Background(), std, videoauth.LoopbackConfig{Open: func(authURL string) error {
		resp, err := http.Get(authURL) // follows the redirect to the loopback callback
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return errors.New(resp.Status)
		}
		return nil
	}})
	require.NoError(t, err)
	require.Equal(t, "rfc", tok.Provider)
}
