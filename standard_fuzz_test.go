package videoauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{
		`{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a","token_endpoint":"https://as.example/t",
		  "token_endpoint_auth_methods_supported":["client_secret_basic"],"authorization_response_iss_parameter_supported":true}`,
		`{"issuer":"https://as.example/tenant","device_authorization_endpoint":"https://as.example/d","revocation_endpoint":"https://as.example/r","code_challenge_methods_supported":["S256","plain"]}`,
		`{"issuer":""}`,
		`{"issuer":7}`,
		`{"issuer":"x","token_endpoint":["a"]}`,
		`{"issuer":"x","authorization_response_iss_parameter_supported":"true"}`,
		`{"issuer":"x","token_endpoint_auth_methods_supported":"client_secret_post"}`,
		`{"issuer":"x","issuer":"y"}`,
		`["issuer"]`,
		`null`,
		`<html>`,
		``,
		"{\"issuer\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		md, err := parseMetadata(body)
		if err != nil {
			require.ErrorIs(t, err, ErrBadResponse)
			require.Nil(t, md)
			require.True(t, strings.HasPrefix(err.Error(), "videoauth: "))
			return
		}
		require.NotEmpty(t, md.Issuer, "metadata always has an issuer")
	})
}

func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
		`Bearer error="insufficient_scope", scope="admin read"`,
		`Basic realm="x", Bearer error="invalid_token"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate abc==, Bearer error=invalid_token`,
		`Bearer error_description="a, error=\"invalid_token\"", error="invalid_request"`,
		`Bearer`,
		`Bearer ,,, error="x`,
		`error="invalid_token"`,
		`, ,Bearer error = "invalid_token" ,`,
		`Bearer error="\`,
		"Bearer\terror=invalid_token",
		`=,=,"",\`,
		strings.Repeat("A, ", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cs := parseChallenges(v)
		require.LessOrEqual(t, len(cs), maxChallenges)
		want := ""
		found := false
		for _, c := range cs {
			require.NotEmpty(t, c.scheme)
			tok, end := readToken(c.scheme, 0)
			require.Equal(t, len(c.scheme), end, "a scheme is a token: %q", tok)
			require.True(t, c.token68 == "" || len(c.params) == 0, "token68 or parameters, not both")
			for k := range c.params {
				require.NotEmpty(t, k)
				require.Equal(t, strings.ToLower(k), k, "parameter names are lowercased")
			}
			if !found && strings.EqualFold(c.scheme, "Bearer") {
				want, found = c.params["error"], true
			}
		}
		require.Equal(t, want, bearerChallengeError(http.Header{"Www-Authenticate": {v}}))
	})
}

func FuzzWellKnownURLs(f *testing.F) {
	for _, s := range []string{
		"https://as.example", "https://as.example/", "https://as.example/tenant", "https://as.example/a/b/",
		"https://as.example:8443/t%2Fx", "http://127.0.0.1:9/tenant", "https://as.example?q", "https://as.example#f",
		"https://u@as.example", "http://as.example", "as.example", "https://[::1]/x", "https://as.example/ü",
		"https://[fe80::1%25en0]/t", "https://as.example/t%2F", "https://as.example/a b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		iu, err := checkIssuer("fuzz", raw)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidConfig)
			return
		}
		urls := wellKnownURLs(iu)
		p := strings.TrimSuffix(iu.Path, "/")
		for i, s := range urls {
			u, err := url.Parse(s)
			require.NoError(t, err, s)
			require.Equal(t, iu.Scheme, u.Scheme)
			require.Equal(t, iu.Host, u.Host, "metadata is fetched from the issuer's own host")
			require.Empty(t, u.RawQuery)
			require.Empty(t, u.Fragment)
			if i == 0 {
				require.Equal(t, "/.well-known/oauth-authorization-server"+p, u.Path, "RFC 8414 §3.1")
			} else {
				require.Equal(t, p+"/.well-known/openid-configuration", u.Path)
			}
		}
	})
}

func FuzzStandardErrorShape(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_grant","error_description":"expired"}`,
		`{"error":"not a code, prose","error_description":"x"}`,
		`{"error":7,"error_description":["x"]}`,
		`{"error":"slow_down"}`, `[]`, `null`, `<html>`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, _ := standardErrorShape(body)
		require.Equal(t, safeCode(code), code, "a code is code-like or empty")
	})
}

// fuzzTokenTransport answers every request with a token, counting them.
type fuzzTokenTransport struct{ calls int }

func (f *fuzzTokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls++
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"access_token":"at","token_type":"Bearer"}`)), Request: r}, nil
}

// FuzzStandardCallback feeds Exchange arbitrary callback queries: a code is
// exchanged only for this request's state and, with an Issuer, an iss that
// is absent (when not required) or exactly the issuer (RFC 9207); at most
// once; and every refusal is typed.
func FuzzStandardCallback(f *testing.F) {
	const issuer = "https://as.example"
	for _, s := range []struct {
		query                        string
		rightState, withIssuer, need bool
	}{
		{"code=c&iss=https%3A%2F%2Fas.example", true, true, false},
		{"code=c", true, true, true},
		{"code=c&iss=https%3A%2F%2Fevil.example", true, true, false},
		{"code=c&iss=https%3A%2F%2Fevil.example", true, false, false},
		{"error=access_denied&iss=https%3A%2F%2Fas.example", true, true, false},
		{"code=c&iss=https%3A%2F%2Fas.example&iss=https%3A%2F%2Fas.example", true, true, false},
		{"code=c&state=x", false, true, false},
		{"%zz", true, true, false},
	} {
		f.Add(s.query, s.rightState, s.withIssuer, s.need)
	}
	f.Fuzz(func(t *testing.T, query string, rightState, withIssuer, requireIss bool) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		rt := &fuzzTokenTransport{}
		c := StandardConfig{Name: "fuzz", AuthURL: issuer + "/a", TokenURL: issuer + "/t", APIURL: issuer}
		if withIssuer {
			c.Issuer, c.RequireIss = issuer, requireIss
		}
		s, err := NewStandard(App{ClientID: "id", ClientSecret: "secret", RedirectURL: "https://app.example/cb",
			HTTPClient: &http.Client{Transport: rt}}, c)
		require.NoError(t, err)
		ar, err := s.AuthRequest("")
		require.NoError(t, err)
		if rightState {
			q.Del("state")
			q.Set("state", ar.State)
		}
		tok, err := s.Exchange(context.Background(), ar, q)
		if err == nil {
			require.NotNil(t, tok)
			require.Equal(t, 1, rt.calls)
			require.Equal(t, []string{ar.State}, q["state"])
			require.NotEmpty(t, q.Get("code"))
			if withIssuer {
				iss, has := q["iss"]
				require.True(t, has && len(iss) == 1 && iss[0] == issuer || !has && !requireIss, "iss %q accepted", iss)
			}
		} else {
			require.Zero(t, rt.calls, "a refused callback is not exchanged")
			typed := false
			for _, s := range []error{ErrStateMismatch, ErrStateUsed, ErrIssuerMismatch, ErrBadCallback} {
				typed = typed || errors.Is(err, s)
			}
			var e *Error
			typed = typed || errors.As(err, &e) && e.Op == "authorize"
			require.True(t, typed, "untyped refusal: %v", err)
		}
		// Whatever happened, the request is spent once the state matched.
		_, err = s.Exchange(context.Background(), ar, q)
		require.Error(t, err)
		require.LessOrEqual(t, rt.calls, 1, "exchanged at most once")
	})
}
