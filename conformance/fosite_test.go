package conformance

// ory/fosite is a library of OAuth 2.0 handlers: the application writes
// the endpoints' HTTP handlers around fosite's request and response calls,
// and the sign-in and consent page. The server below does only that, with
// fosite's own in-memory storage (storage.MemoryStore) and HMAC token
// strategy, composed from the handlers the tests need: authorization code,
// PKCE (enforced, S256 only), refresh token (rotating, with reuse
// detection), client credentials, introspection (RFC 7662) and revocation
// (RFC 7009).
//
// fosite v0.49.0 has no device authorization grant (RFC 8628): no handler,
// no compose factory, no device_code grant type. The device flow is tested
// on zitadel only. It also serves no metadata (RFC 8414): the endpoints are
// configured by hand.

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"
)

var fPage = template.Must(template.New("consent").Parse(`<!doctype html>
<title>Sign in to {{.Client}}</title>
<p>{{.Error}}</p>
<p>{{.Client}} asks for: {{range .Scopes}}{{.}} {{end}}</p>
<form action="{{.Action}}" method="post">
<input type="text" name="username">
<input type="password" name="password">
<input type="submit" name="action" value="allow">
<input type="submit" name="action" value="deny">
</form>`))

// newFosite starts a fosite server on an httptest server with the clients
// every test uses.
func newFosite(t *testing.T) *authServer {
	as := &authServer{
		name:       "fosite",
		basic:      client{ID: "web app:1 &co", Secret: "s3cr&t:=+/%?", Method: methodBasic},
		post:       client{ID: "web-app-post", Secret: "p@ss w&rd=+%", Method: methodPost},
		rs:         client{ID: "resource server", Secret: "rs:secret&", Method: methodBasic},
		userScopes: []string{"offline_access", apiScope},
		ccScopes:   []string{apiScope},
	}
	hash := func(secret string) []byte {
		// The lowest bcrypt cost keeps client authentication fast; fosite
		// compares at the hash's own cost.
		h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	store := storage.NewMemoryStore()
	for _, c := range []client{as.basic, as.post} {
		// An OpenID Connect client makes fosite enforce its registered
		// token_endpoint_auth_method: the other method is refused with
		// invalid_client.
		store.Clients[c.ID] = &fosite.DefaultOpenIDConnectClient{
			DefaultClient: &fosite.DefaultClient{
				ID:            c.ID,
				Secret:        hash(c.Secret),
				RedirectURIs:  []string{redirectURL},
				ResponseTypes: []string{"code"},
				GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
				Scopes:        []string{"offline_access", apiScope},
			},
			TokenEndpointAuthMethod: c.Method,
		}
	}
	store.Clients[as.rs.ID] = &fosite.DefaultClient{ID: as.rs.ID, Secret: hash(as.rs.Secret)}

	cfg := &fosite.Config{
		AccessTokenLifespan:            time.Hour,
		RefreshTokenLifespan:           24 * time.Hour,
		AuthorizeCodeLifespan:          10 * time.Minute,
		GlobalSecret:                   []byte("conformance-hmac-secret-of-32+ bytes"),
		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		SendDebugMessagesToClients:     true,
	}
	strategy := compose.NewOAuth2HMACStrategy(cfg)
	provider := compose.Compose(cfg, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)

	mux := http.NewServeMux()
	mux.HandleFunc("/oauth2/auth", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ar, err := provider.NewAuthorizeRequest(ctx, r)
		if err != nil {
			provider.WriteAuthorizeError(ctx, w, ar, err)
			return
		}
		page := map[string]any{"Client": ar.GetClient().GetID(), "Scopes": ar.GetRequestedScopes(), "Action": r.URL.RequestURI()}
		if r.Method != http.MethodPost {
			_ = fPage.Execute(w, page)
			return
		}
		if r.PostForm.Get("username") != userName || r.PostForm.Get("password") != userPass {
			page["Error"] = "wrong user name or password"
			_ = fPage.Execute(w, page)
			return
		}
		if r.PostForm.Get("action") != "allow" {
			provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
			return
		}
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s) // the user consents to all that was asked
		}
		resp, err := provider.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: userName, Username: userName})
		if err != nil {
			provider.WriteAuthorizeError(ctx, w, ar, err)
			return
		}
		provider.WriteAuthorizeResponse(ctx, w, ar, resp)
	})
	mux.HandleFunc("/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		req, err := provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
		if err != nil {
			provider.WriteAccessError(ctx, w, req, err)
			return
		}
		if req.GetGrantTypes().ExactOne("client_credentials") {
			// fosite checked them against the client's scopes; the
			// application grants them.
			for _, s := range req.GetRequestedScopes() {
				req.GrantScope(s)
			}
			req.GetSession().(*fosite.DefaultSession).Subject = req.GetClient().GetID()
		}
		resp, err := provider.NewAccessResponse(ctx, req)
		if err != nil {
			provider.WriteAccessError(ctx, w, req, err)
			return
		}
		provider.WriteAccessResponse(ctx, w, req, resp)
	})
	mux.HandleFunc("/oauth2/introspect", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ir, err := provider.NewIntrospectionRequest(ctx, r, &fosite.DefaultSession{})
		if err != nil {
			provider.WriteIntrospectionError(ctx, w, err)
			return
		}
		provider.WriteIntrospectionResponse(ctx, w, ir)
	})
	mux.HandleFunc("/oauth2/revoke", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		provider.WriteRevocationResponse(ctx, w, provider.NewRevocationRequest(ctx, r))
	})

	as.rec = newRecorder("/oauth2/token", "/oauth2/introspect", "/oauth2/revoke")
	srv := httptest.NewServer(as.rec.wrap(mux))
	t.Cleanup(srv.Close)
	as.issuer = srv.URL
	as.authURL = srv.URL + "/oauth2/auth"
	as.tokenURL = srv.URL + "/oauth2/token"
	as.revokeURL = srv.URL + "/oauth2/revoke"
	as.introspectURL = srv.URL + "/oauth2/introspect"
	as.expireAccess = func(t *testing.T, accessToken string) {
		t.Helper()
		// fosite's storage drops the access token alone; revocation
		// (RFC 7009) would end the refresh token with it.
		if err := store.DeleteAccessTokenSession(context.Background(), strategy.AccessTokenSignature(context.Background(), accessToken)); err != nil {
			t.Fatal(err)
		}
	}
	return as
}
