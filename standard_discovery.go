package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/videoauth/videoauth/internal/wire"
)

// DiscoverStandard builds a Standard from the authorization server's
// metadata (RFC 8414). It fetches, through app's HTTP client and following
// no redirect, issuer's RFC 8414 document — "/.well-known/oauth-authorization-server"
// inserted between the host and the path (§3.1: issuer https://h/tenant
// gives https://h/.well-known/oauth-authorization-server/tenant) — and,
// when that answer is not a 2xx, the OpenID Connect document at issuer +
// "/.well-known/openid-configuration". The document's issuer must equal
// issuer exactly (§3.3), else the error matches ErrIssuerMismatch: a
// server naming another issuer may be an attacker's, and nothing of it is
// used.
//
// The metadata fills what c leaves empty: Issuer, AuthURL, TokenURL,
// DeviceURL (device_authorization_endpoint, RFC 8628 §4), RevokeURL
// (revocation_endpoint), and RequireIss when the server has
// authorization_response_iss_parameter_supported (RFC 9207 §3). With
// c.ClientAuth left at ClientAuthDefault, the method comes from
// token_endpoint_auth_methods_supported: ClientSecretBasic when it lists
// client_secret_basic or is absent (RFC 8414 §2's default), else
// ClientSecretPost when it lists client_secret_post, for an App with a
// secret; ClientAuthNone for an App without one. c.APIURL and c.Name are
// still required. The endpoints are then checked as NewStandard checks
// them, so a document naming a plain-http endpoint is refused. A server
// that does not list S256 in code_challenge_methods_supported is reported
// to App.Logger; S256 is sent all the same.
//
// A document that cannot be fetched gives the transport *Error; one that
// is found at neither address an *Error matching ErrBadResponse (or
// ErrServer, ErrRateLimited); one that is not metadata an *Error matching
// ErrBadResponse.
func DiscoverStandard(ctx context.Context, app App, issuer string, c StandardConfig) (*Standard, error) {
	if err := checkStandardName(c.Name); err != nil {
		return nil, err
	}
	iu, err := checkIssuer(c.Name, issuer)
	if err != nil {
		return nil, err
	}
	if c.Issuer != "" && c.Issuer != issuer {
		return nil, configErr("%s: StandardConfig.Issuer differs from the issuer to discover", c.Name)
	}
	ep := newEndpoint(c.Name, app, http.Header{"Accept": {"application/json"}}, standardErrorShape, nil)
	md, err := fetchMetadata(ctx, ep, issuer, iu)
	if err != nil {
		return nil, err
	}
	c.Issuer = issuer
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&c.AuthURL, md.AuthorizationEndpoint)
	fill(&c.TokenURL, md.TokenEndpoint)
	fill(&c.DeviceURL, md.DeviceAuthorizationEndpoint)
	fill(&c.RevokeURL, md.RevocationEndpoint)
	c.RequireIss = c.RequireIss || md.AuthorizationResponseIssParameterSupported
	if c.ClientAuth == ClientAuthDefault {
		if c.ClientAuth, err = pickClientAuth(c.Name, app.ClientSecret != "", md.TokenEndpointAuthMethodsSupported); err != nil {
			return nil, err
		}
	}
	if len(md.CodeChallengeMethodsSupported) > 0 && !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
		app.warn("videoauth: the authorization server does not list S256 in code_challenge_methods_supported; PKCE S256 is sent all the same",
			"provider", c.Name)
	}
	return NewStandard(app, c)
}

// asMetadata is the part of an RFC 8414 §2 authorization server metadata
// document (or an OpenID Provider configuration, which has the same
// members) that a client uses.
type asMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// parseMetadata reads a metadata document (RFC 8414 §3.2): a JSON object
// whose issuer is a non-empty string. A member this client uses with the
// wrong JSON type is an error wrapping ErrBadResponse; unknown members are
// ignored. It does not compare the issuer (fetchMetadata does).
func parseMetadata(body []byte) (*asMetadata, error) {
	if !looksJSON(body) {
		return nil, fmt.Errorf("%w: authorization server metadata is not a JSON object", ErrBadResponse)
	}
	var md asMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("%w: authorization server metadata is not the expected JSON", ErrBadResponse)
	}
	if md.Issuer == "" {
		return nil, fmt.Errorf("%w: authorization server metadata has no issuer", ErrBadResponse)
	}
	return &md, nil
}

// wellKnownURLs are the addresses of issuer's metadata: RFC 8414 §3.1's,
// the well-known path inserted between the host and the issuer's path (its
// terminating '/' removed), then OpenID Connect Discovery 1.0 §4's, the
// path appended to the issuer's.
func wellKnownURLs(issuer *url.URL) [2]string {
	const rfc8414, oidc = "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"
	p, raw := strings.TrimSuffix(issuer.Path, "/"), strings.TrimSuffix(issuer.EscapedPath(), "/")
	// Built as url.URLs, so the host (an IPv6 zone) and the path are
	// escaped again as they were.
	a := url.URL{Scheme: issuer.Scheme, Host: issuer.Host, Path: rfc8414 + p, RawPath: rfc8414 + raw}
	b := url.URL{Scheme: issuer.Scheme, Host: issuer.Host, Path: p + oidc, RawPath: raw + oidc}
	return [2]string{a.String(), b.String()}
}

// errNoMetadata: neither well-known address has a document.
var errNoMetadata = fmt.Errorf("%w: no authorization server metadata at the issuer's well-known URIs", ErrBadResponse)

// fetchMetadata gets, parses and checks issuer's metadata. A non-2xx answer
// at the RFC 8414 address moves on to the OpenID one; a transport failure,
// or a document that is not metadata or names another issuer, stops.
func fetchMetadata(ctx context.Context, ep *endpoint, issuer string, iu *url.URL) (*asMetadata, error) {
	var last *Error
	for _, u := range wellKnownURLs(iu) {
		resp, err := ep.do(ctx, "discovery", &wire.Request{Method: http.MethodGet, URL: u})
		if err != nil {
			return nil, err
		}
		if resp.Status < 200 || resp.Status > 299 {
			last = ep.errorFrom("discovery", u, resp)
			if !errors.Is(last.Err, ErrServer) && !errors.Is(last.Err, ErrRateLimited) {
				last.Err = errNoMetadata
			}
			continue
		}
		md, err := parseMetadata(resp.Body)
		if err != nil {
			return nil, &Error{Provider: ep.provider, Op: "discovery", Status: resp.Status, URL: redactString(u), Body: capBody(resp.Body), Err: err}
		}
		if md.Issuer != issuer {
			return nil, &Error{Provider: ep.provider, Op: "discovery", Status: resp.Status, URL: redactString(u), Body: capBody(resp.Body),
				Err: fmt.Errorf("%w: the metadata names another issuer (RFC 8414 §3.3)", ErrIssuerMismatch)}
		}
		return md, nil
	}
	return nil, last
}

// pickClientAuth chooses the client authentication from the server's
// token_endpoint_auth_methods_supported (RFC 8414 §2).
func pickClientAuth(name string, hasSecret bool, methods []string) (ClientAuth, error) {
	switch {
	case !hasSecret:
		return ClientAuthNone, nil
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
		return ClientSecretBasic, nil
	case slices.Contains(methods, "client_secret_post"):
		return ClientSecretPost, nil
	}
	return 0, configErr("%s: the server supports neither client_secret_basic nor client_secret_post (token_endpoint_auth_methods_supported)", name)
}
