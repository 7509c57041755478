package conformance

// The zitadel/oidc OpenID Provider (package op) leaves storage and the
// sign-in pages to the application that embeds it. Its module ships an
// example storage (example/server/storage), but that one cannot serve
// these tests: its clients have unexported fields and only the example's
// fixed auth methods and grants (no client_secret_post client, no client
// with both the code and the device grant), its client credentials client
// is hard-wired, and its introspection looks the token's subject up as a
// user, so a device or client credentials token is never active. So the
// storage below is a minimal in-memory op.Storage written for the tests;
// everything the protocol decides (request parsing, client
// authentication, PKCE verification, code, refresh and device grants,
// rotation, revocation, introspection, error answers, discovery) is the
// op package's own.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes are long enough that nothing expires during a test; tests make
// tokens die by revocation or by expireAccess, never by waiting.
const (
	zAccessLife  = time.Hour
	zRefreshLife = 24 * time.Hour
)

// zClient is a client registered at the zitadel server.
type zClient struct {
	id, secret string
	method     oidc.AuthMethod
	grants     []oidc.GrantType
	redirects  []string
	subject    string // the subject of its client credentials tokens (zitadel's bearer tokens hold "id:subject", so no ':')
}

func (c *zClient) GetID() string                       { return c.id }
func (c *zClient) RedirectURIs() []string              { return c.redirects }
func (c *zClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *zClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *zClient) AuthMethod() oidc.AuthMethod         { return c.method }
func (c *zClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *zClient) GrantTypes() []oidc.GrantType        { return c.grants }
func (c *zClient) LoginURL(id string) string           { return "/login?authRequestID=" + id }
func (c *zClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *zClient) IDTokenLifetime() time.Duration      { return time.Hour }
func (c *zClient) DevMode() bool                       { return false }
func (c *zClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *zClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *zClient) IsScopeAllowed(scope string) bool     { return scope == apiScope }
func (c *zClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *zClient) ClockSkew() time.Duration             { return 0 }

// zAuthRequest is an authorization request in progress (op.AuthRequest).
type zAuthRequest struct {
	id                    string
	clientID, redirectURI string
	state, nonce          string
	scopes                []string
	responseType          oidc.ResponseType
	responseMode          oidc.ResponseMode
	challenge             *oidc.CodeChallenge
	subject               string
	authTime              time.Time
	done                  bool
}

func (a *zAuthRequest) GetID() string                         { return a.id }
func (a *zAuthRequest) GetACR() string                        { return "" }
func (a *zAuthRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *zAuthRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *zAuthRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *zAuthRequest) GetClientID() string                   { return a.clientID }
func (a *zAuthRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *zAuthRequest) GetNonce() string                      { return a.nonce }
func (a *zAuthRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *zAuthRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *zAuthRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *zAuthRequest) GetScopes() []string                   { return a.scopes }
func (a *zAuthRequest) GetState() string                      { return a.state }
func (a *zAuthRequest) GetSubject() string                    { return a.subject }
func (a *zAuthRequest) Done() bool                            { return a.done }

// zGrant is what a refresh token stands for (op.RefreshTokenRequest).
type zGrant struct {
	clientID, subject string
	audience, scopes  []string
	amr               []string
	authTime          time.Time
}

func (g *zGrant) GetAMR() []string            { return g.amr }
func (g *zGrant) GetAudience() []string       { return g.audience }
func (g *zGrant) GetAuthTime() time.Time      { return g.authTime }
func (g *zGrant) GetClientID() string         { return g.clientID }
func (g *zGrant) GetScopes() []string         { return g.scopes }
func (g *zGrant) GetSubject() string          { return g.subject }
func (g *zGrant) SetCurrentScopes(s []string) { g.scopes = s }

// zCCRequest is a client credentials token request (op.TokenRequest).
type zCCRequest struct {
	clientID, subject string
	scopes            []string
}

func (r *zCCRequest) GetSubject() string    { return r.subject }
func (r *zCCRequest) GetAudience() []string { return []string{r.clientID} }
func (r *zCCRequest) GetScopes() []string   { return r.scopes }

type zAccess struct {
	clientID, subject string
	scopes, audience  []string
	expires           time.Time
	refresh           string // the refresh token issued with it, if any
}

type zRefresh struct {
	grant   zGrant
	access  string // the access token ID issued with it
	expires time.Time
}

type zDevice struct {
	userCode string
	state    *op.DeviceAuthorizationState
	issued   bool // the token was handed out: the device code is spent
}

// zStore is an in-memory op.Storage with client credentials and device
// authorization.
type zStore struct {
	mu        sync.Mutex
	key       *ecdsa.PrivateKey
	keyID     string
	clients   map[string]*zClient
	requests  map[string]*zAuthRequest
	codes     map[string]string // code → request ID
	access    map[string]*zAccess
	refresh   map[string]*zRefresh
	devices   map[string]*zDevice // device code → state
	userCodes map[string]string   // user code → device code
}

var (
	_ op.Storage                    = (*zStore)(nil)
	_ op.ClientCredentialsStorage   = (*zStore)(nil)
	_ op.DeviceAuthorizationStorage = (*zStore)(nil)
)

func newZStore(t *testing.T, clients ...*zClient) *zStore {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &zStore{
		key: key, keyID: "conformance",
		clients: map[string]*zClient{}, requests: map[string]*zAuthRequest{}, codes: map[string]string{},
		access: map[string]*zAccess{}, refresh: map[string]*zRefresh{},
		devices: map[string]*zDevice{}, userCodes: map[string]string{},
	}
	for _, c := range clients {
		s.clients[c.id] = c
	}
	return s
}

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *zStore) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	// This server's policy (OAuth 2.1, RFC 9700 §2.1.1): every
	// authorization request carries an S256 PKCE challenge.
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required")
	}
	a := &zAuthRequest{
		id: randomID(), clientID: r.ClientID, redirectURI: r.RedirectURI,
		state: r.State, nonce: r.Nonce, scopes: r.Scopes,
		responseType: r.ResponseType, responseMode: r.ResponseMode,
		challenge: &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod},
		subject:   userID,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[a.id] = a
	return a, nil
}

func (s *zStore) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.requests[id]; ok {
		return a, nil
	}
	return nil, errors.New("auth request not found")
}

func (s *zStore) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.requests[s.codes[code]]; ok {
		return a, nil
	}
	return nil, errors.New("code not found")
}

func (s *zStore) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *zStore) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code) // a code is good once (RFC 6749 §4.1.2)
		}
	}
	return nil
}

// signIn marks the request signed in by the user (the sign-in page's
// hook into the storage).
func (s *zStore) signIn(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return errors.New("auth request not found")
	}
	a.subject, a.authTime, a.done = subject, time.Now(), true
	return nil
}

// requestClient is the client a token request is made for.
func requestClient(r op.TokenRequest) string {
	switch r := r.(type) {
	case interface{ GetClientID() string }:
		return r.GetClientID()
	case *zCCRequest:
		return r.clientID
	}
	return ""
}

func (s *zStore) newAccess(r op.TokenRequest, refresh string) (string, *zAccess) {
	a := &zAccess{
		clientID: requestClient(r), subject: r.GetSubject(),
		scopes: r.GetScopes(), audience: r.GetAudience(),
		expires: time.Now().Add(zAccessLife), refresh: refresh,
	}
	id := randomID()
	s.access[id] = a
	return id, a
}

func (s *zStore) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, a := s.newAccess(r, "")
	return id, a.expires, nil
}

// CreateAccessAndRefreshTokens issues a new grant's first pair, or rotates
// currentRefreshToken: the old refresh token and its access token die
// (RFC 9700 §4.14.2).
func (s *zStore) CreateAccessAndRefreshTokens(_ context.Context, r op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := zGrant{clientID: requestClient(r), subject: r.GetSubject(), audience: r.GetAudience(), scopes: r.GetScopes()}
	if rr, ok := r.(interface{ GetAMR() []string }); ok {
		g.amr = rr.GetAMR()
	}
	if rr, ok := r.(interface{ GetAuthTime() time.Time }); ok {
		g.authTime = rr.GetAuthTime()
	}
	if currentRefreshToken != "" {
		old, ok := s.refresh[currentRefreshToken]
		if !ok {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token not found")
		}
		delete(s.refresh, currentRefreshToken)
		delete(s.access, old.access)
		g.amr, g.authTime = old.grant.amr, old.grant.authTime
	}
	rt := randomID()
	id, a := s.newAccess(r, rt)
	s.refresh[rt] = &zRefresh{grant: g, access: id, expires: time.Now().Add(zRefreshLife)}
	return id, rt, a.expires, nil
}

func (s *zStore) TokenRequestByRefreshToken(_ context.Context, rt string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refresh[rt]
	if !ok || time.Now().After(r.expires) {
		return nil, errors.New("invalid refresh token")
	}
	g := r.grant
	return &g, nil
}

func (s *zStore) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken revokes an access token by its ID, or a refresh token with
// the access token issued with it (RFC 7009 §2.1).
func (s *zStore) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.access[tokenOrID]; ok {
		if a.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.access, tokenOrID)
		return nil
	}
	if r, ok := s.refresh[tokenOrID]; ok {
		if r.grant.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refresh, tokenOrID)
		delete(s.access, r.access)
	}
	return nil // an unknown token is revoked already (RFC 7009 §2.2)
}

func (s *zStore) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.refresh[token]; ok && r.grant.clientID == clientID {
		return r.grant.subject, token, nil
	}
	return "", "", op.ErrInvalidRefreshToken
}

// expire makes an access token expired now, as time would.
func (s *zStore) expire(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.access[id]; ok {
		a.expires = time.Now().Add(-time.Second)
	}
}

type zKey struct{ s *zStore }

func (k zKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k zKey) Algorithm() jose.SignatureAlgorithm          { return jose.ES256 }
func (k zKey) ID() string                                  { return k.s.keyID }
func (k zKey) Use() string                                 { return "sig" }

type zPrivate struct{ zKey }

func (k zPrivate) Key() any { return k.s.key }

type zPublic struct{ zKey }

func (k zPublic) Key() any { return &k.s.key.PublicKey }

func (s *zStore) SigningKey(context.Context) (op.SigningKey, error) { return zPrivate{zKey{s}}, nil }
func (s *zStore) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}
func (s *zStore) KeySet(context.Context) ([]op.Key, error) { return []op.Key{zPublic{zKey{s}}}, nil }

func (s *zStore) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return nil, errors.New("client not found")
}

func (s *zStore) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.secret == "" || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return errors.New("invalid client credentials")
	}
	return nil
}

func (s *zStore) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *zStore) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[tokenID]
	if !ok || time.Now().After(a.expires) {
		return errors.New("token is not active")
	}
	info.Subject = subject
	return nil
}

// SetIntrospectionFromToken answers the resource server, or the client the
// token was issued to; the token is active while it is stored and has not
// expired (RFC 7662 §2.2).
func (s *zStore) SetIntrospectionFromToken(_ context.Context, in *oidc.IntrospectionResponse, tokenID, subject, caller string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[tokenID]
	if !ok || time.Now().After(a.expires) {
		return errors.New("token is not active")
	}
	if c := s.clients[caller]; c == nil || (caller != a.clientID && !slices.Contains(c.grants, "introspection")) {
		return errors.New("caller may not introspect this token")
	}
	in.Subject, in.ClientID, in.Scope = subject, a.clientID, a.scopes
	in.Audience, in.Expiration, in.TokenType = a.audience, oidc.FromTime(a.expires), oidc.BearerToken
	return nil
}

func (s *zStore) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *zStore) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no client keys")
}

func (s *zStore) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("no JWT profile")
}

func (s *zStore) Health(context.Context) error { return nil }

func (s *zStore) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(context.Background(), id, secret); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id], nil
}

func (s *zStore) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[id]
	if c == nil {
		return nil, errors.New("client not found")
	}
	for _, sc := range scopes {
		if !c.IsScopeAllowed(sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed", sc)
		}
	}
	return &zCCRequest{clientID: id, subject: c.subject, scopes: scopes}, nil
}

func (s *zStore) StoreDeviceAuthorization(_ context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.userCodes[userCode]; ok {
		return op.ErrDuplicateUserCode
	}
	s.devices[deviceCode] = &zDevice{userCode: userCode, state: &op.DeviceAuthorizationState{ClientID: clientID, Scopes: scopes, Expires: expires}}
	s.userCodes[userCode] = deviceCode
	return nil
}

func (s *zStore) GetDeviceAuthorizatonState(_ context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[deviceCode]
	if !ok || d.issued || d.state.ClientID != clientID {
		return nil, errors.New("device code not found")
	}
	st := *d.state
	if st.Done {
		d.issued = true
	}
	return &st, nil
}

// answerDevice is the device page's hook: the user approved or denied the
// user code.
func (s *zStore) answerDevice(userCode, subject string, allow bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCodes[strings.ToUpper(strings.TrimSpace(userCode))]]
	if !ok || time.Now().After(d.state.Expires) {
		return errors.New("unknown or expired user code")
	}
	if allow {
		d.state.Subject, d.state.AuthTime, d.state.AMR, d.state.Done = subject, time.Now(), []string{"pwd"}, true
	} else {
		d.state.Denied = true
	}
	return nil
}

// The sign-in and device pages: one form each, as an embedding
// application would write them (zitadel's op has no UI of its own).
var zPages = template.Must(template.New("login").Parse(`<!doctype html>
<title>Sign in</title>
<p>{{.Error}}</p>
<form action="/login" method="post">
<input type="hidden" name="id" value="{{.ID}}">
<input type="text" name="username">
<input type="password" name="password">
<input type="submit" name="action" value="allow">
<input type="submit" name="action" value="deny">
</form>
{{define "device"}}<!doctype html>
<title>Connect a device</title>
<p>{{.Error}}</p>
<form action="/device" method="post">
<input type="text" name="user_code" value="{{.UserCode}}">
<input type="text" name="username">
<input type="password" name="password">
<input type="submit" name="action" value="allow">
<input type="submit" name="action" value="deny">
</form>{{end}}`))

// newZitadel starts zitadel's OpenID Provider on an httptest server with
// the clients every test uses.
func newZitadel(t *testing.T) *authServer {
	as := &authServer{
		name:       "zitadel",
		basic:      client{ID: "web app:1 &co", Secret: "s3cr&t:=+/%?", Method: methodBasic},
		post:       client{ID: "web-app-post", Secret: "p@ss w&rd=+%", Method: methodPost},
		rs:         client{ID: "resource server", Secret: "rs:secret&", Method: methodBasic},
		userScopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, apiScope},
		ccScopes:   []string{apiScope},
		discovery:  true,
	}
	web := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	st := newZStore(t,
		// zitadel reads a device token request's client only from Basic
		// or a JWT assertion (op.ClientIDFromRequest), never from
		// client_secret_post, so only the Basic client has the device grant.
		&zClient{id: as.basic.ID, secret: as.basic.Secret, method: oidc.AuthMethodBasic, grants: append(slices.Clone(web), oidc.GrantTypeDeviceCode), redirects: []string{redirectURL}, subject: "svc-basic"},
		&zClient{id: as.post.ID, secret: as.post.Secret, method: oidc.AuthMethodPost, grants: web, redirects: []string{redirectURL}, subject: "svc-post"},
		// The resource server has no grant; the storage's own mark
		// "introspection" lets it introspect every client's tokens.
		&zClient{id: as.rs.ID, secret: as.rs.Secret, method: oidc.AuthMethodBasic, grants: []oidc.GrantType{"introspection"}},
	)

	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	as.issuer = srv.URL

	cfg := &op.Config{
		CryptoKey:             sha256.Sum256([]byte("conformance")),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     10 * time.Minute,
			PollInterval: 5 * time.Second,
			UserFormPath: "/device",
			UserCode:     op.UserCodeBase20,
		},
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(as.issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	callback := op.AuthCallbackURL(provider)

	mux := http.NewServeMux()
	mux.Handle("/login", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			_ = zPages.Execute(w, map[string]string{"ID": r.URL.Query().Get("authRequestID")})
			return
		}
		_ = r.ParseForm()
		id := r.PostForm.Get("id")
		if r.PostForm.Get("username") != userName || r.PostForm.Get("password") != userPass {
			_ = zPages.Execute(w, map[string]string{"ID": id, "Error": "wrong user name or password"})
			return
		}
		if r.PostForm.Get("action") != "allow" {
			ar, err := st.AuthRequestByID(r.Context(), id)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user denied the request"), provider)
			return
		}
		if err := st.signIn(id, userName); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			_ = zPages.ExecuteTemplate(w, "device", map[string]string{"UserCode": r.URL.Query().Get("user_code")})
			return
		}
		_ = r.ParseForm()
		code := r.PostForm.Get("user_code")
		if r.PostForm.Get("username") != userName || r.PostForm.Get("password") != userPass {
			_ = zPages.ExecuteTemplate(w, "device", map[string]string{"UserCode": code, "Error": "wrong user name or password"})
			return
		}
		allow := r.PostForm.Get("action") == "allow"
		if err := st.answerDevice(code, userName, allow); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if allow {
			_, _ = w.Write([]byte("Device approved. You can return to your device."))
		} else {
			_, _ = w.Write([]byte("Device denied."))
		}
	})
	mux.Handle("/", provider)

	as.authURL = as.issuer + "/authorize"
	as.tokenURL = as.issuer + "/oauth/token"
	as.deviceURL = as.issuer + "/device_authorization"
	as.revokeURL = as.issuer + "/revoke"
	as.introspectURL = as.issuer + "/oauth/introspect"
	as.rec = newRecorder("/oauth/token", "/device_authorization", "/revoke", "/oauth/introspect")
	handler = as.rec.wrap(mux)

	as.expireAccess = func(t *testing.T, accessToken string) {
		t.Helper()
		plain, err := provider.Crypto().Decrypt(accessToken)
		if err != nil {
			t.Fatalf("zitadel: not one of its access tokens: %v", err)
		}
		id, _, _ := strings.Cut(plain, ":")
		st.expire(id)
	}
	return as
}
