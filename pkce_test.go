package videoauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	pkceTestRedirect = "http://127.0.0.1:8765/callback?x=1"
	pkceTestState    = "pkce-test-state-0123456789abcdefghijklmnopqrstu"
	pkceTestIssuer   = "https://issuer.example"
)

// pkceTestConfig is an x/oauth2 config whose authorize URL already has a
// query string.
func pkceTestConfig(t *testing.T) *oauth2.Config {
	t.Helper()
	return &oauth2.Config{
		ClientID:    "cid",
		RedirectURL: pkceTestRedirect,
		Scopes:      []string{"public", "private"},
		Endpoint:    oauth2.Endpoint{AuthURL: "https://h/authorize?foo=bar", TokenURL: "https://h/token"},
	}
}

// pkceTestNew builds an AuthRequest or fails.
func pkceTestNew(t *testing.T, o authRequestOpts) *AuthRequest {
	t.Helper()
	ar, err := newAuthRequest(o)
	require.NoError(t, err)
	return ar
}

// pkceTestQuery parses the authorize URL's query strictly.
func pkceTestQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "https", u.Scheme)
	require.Equal(t, "h", u.Host)
	require.Equal(t, "/authorize", u.Path)
	q, err := url.ParseQuery(u.RawQuery)
	require.NoError(t, err, "authorize URL query must parse cleanly: %s", u.RawQuery)
	return q
}

// pkceTestOne returns the single value of key or fails.
func pkceTestOne(t *testing.T, q url.Values, key string) string {
	t.Helper()
	require.Len(t, q[key], 1, "want exactly one %s in %v", key, q)
	return q[key][0]
}

func pkceTestUnreserved(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~') {
			return false
		}
	}
	return true
}

func TestPKCERFC7636AppendixB(t *testing.T) {
	require.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		oauth2.S256ChallengeFromVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
}

func TestPKCEAndStateDraws(t *testing.T) {
	const draws = 1000
	verifiers := make(map[string]bool, draws)
	states := make(map[string]bool, draws)
	for i := 0; i < draws; i++ {
		ar := pkceTestNew(t, authRequestOpts{provider: "vimeo", cfg: pkceTestConfig(t), pkce: true})

		require.GreaterOrEqual(t, len(ar.Verifier), 43)
		require.LessOrEqual(t, len(ar.Verifier), 128)
		require.True(t, pkceTestUnreserved(ar.Verifier), "verifier %q outside the unreserved set", ar.Verifier)
		require.False(t, verifiers[ar.Verifier], "verifier repeated after %d draws", i)
		verifiers[ar.Verifier] = true

		require.GreaterOrEqual(t, len(ar.State), 43, "256 bits base64url is 43 chars")
		raw, err := base64.RawURLEncoding.DecodeString(ar.State)
		require.NoError(t, err, "state must be base64url")
		require.Len(t, raw, 32, "state carries 256 bits")
		require.False(t, states[ar.State], "state repeated after %d draws", i)
		states[ar.State] = true
		require.NotEqual(t, ar.State, ar.Verifier)
	}
}

// pkceTestReader fails after n bytes.
type pkceTestReader struct {
	n   int
	err error
}

func (r *pkceTestReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

func TestNewStateReportsReaderFailure(t *testing.T) {
	boom := errors.New("entropy exhausted")
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{name: "fails at once", r: &pkceTestReader{err: boom}, want: boom},
		{name: "short then fails", r: &pkceTestReader{n: 10, err: boom}, want: boom},
		{name: "short then EOF", r: &pkceTestReader{n: 31, err: io.EOF}, want: io.ErrUnexpectedEOF},
		{name: "empty", r: strings.NewReader(""), want: io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newState(tc.r)
			require.ErrorIs(t, err, tc.want)
			require.Empty(t, s)
			require.True(t, strings.HasPrefix(err.Error(), "videoauth: "))
		})
	}
	t.Run("enough bytes", func(t *testing.T) {
		s, err := newState(&pkceTestReader{n: 32, err: boom})
		require.NoError(t, err)
		require.Equal(t, base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 32))), s)
	})
}

func TestAuthRequestURL(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "vimeo", cfg: pkceTestConfig(t), pkce: true,
		extraParams: []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "consent")}})
	q := pkceTestQuery(t, ar.URL)

	require.Equal(t, "code", pkceTestOne(t, q, "response_type"))
	require.Equal(t, "cid", pkceTestOne(t, q, "client_id"))
	require.Equal(t, oauth2.S256ChallengeFromVerifier(ar.Verifier), pkceTestOne(t, q, "code_challenge"))
	require.Equal(t, "S256", pkceTestOne(t, q, "code_challenge_method"))
	require.Equal(t, ar.State, pkceTestOne(t, q, "state"))
	require.Equal(t, pkceTestRedirect, pkceTestOne(t, q, "redirect_uri"))
	require.Equal(t, "public private", pkceTestOne(t, q, "scope"))
	require.Equal(t, "bar", pkceTestOne(t, q, "foo"))
	require.Equal(t, "consent", pkceTestOne(t, q, "prompt"))
	require.NotContains(t, q, "code_verifier", "the verifier never leaves the client in the URL")
	require.NotContains(t, ar.URL, ar.Verifier)
	require.NotContains(t, strings.ToLower(ar.URL), "code_challenge_method=plain")

	require.Equal(t, "vimeo", ar.Provider)
	require.Equal(t, pkceTestRedirect, ar.RedirectURL)
	require.Equal(t, []string{"public", "private"}, ar.Scopes)
	require.False(t, ar.Implicit)
	require.False(t, ar.Used())
}

func TestAuthRequestWithoutPKCE(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "x", cfg: pkceTestConfig(t)})
	q := pkceTestQuery(t, ar.URL)
	require.Equal(t, "code", pkceTestOne(t, q, "response_type"))
	require.Empty(t, ar.Verifier)
	require.NotContains(t, q, "code_challenge")
	require.NotContains(t, q, "code_challenge_method")
}

func TestAuthRequestImplicit(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "vimeo", cfg: pkceTestConfig(t), implicit: true})
	q := pkceTestQuery(t, ar.URL)
	require.Equal(t, "token", pkceTestOne(t, q, "response_type"))
	require.Equal(t, ar.State, pkceTestOne(t, q, "state"))
	require.Equal(t, pkceTestRedirect, pkceTestOne(t, q, "redirect_uri"))
	require.Equal(t, "bar", pkceTestOne(t, q, "foo"))
	require.NotContains(t, q, "code_challenge")
	require.NotContains(t, q, "code_challenge_method")
	require.Empty(t, ar.Verifier)
	require.True(t, ar.Implicit)
}

func TestAuthRequestCarriesIssuerSettings(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "p", cfg: pkceTestConfig(t), issuer: pkceTestIssuer, requireIss: true})
	require.Equal(t, pkceTestIssuer, ar.Issuer)
	require.True(t, ar.RequireIss)
}

// pkceTestAR is an AuthRequest with a known state.
func pkceTestAR(issuer string, requireIss bool) *AuthRequest {
	return &AuthRequest{Provider: "vimeo", State: pkceTestState, Issuer: issuer, RequireIss: requireIss}
}

func TestCallback(t *testing.T) {
	right := func(extra string) url.Values {
		q, err := url.ParseQuery("state=" + pkceTestState + extra)
		if err != nil {
			panic(err)
		}
		return q
	}
	tests := []struct {
		name       string
		ar         *AuthRequest
		q          url.Values
		wantCode   string
		wantErr    error
		wantDesc   string // for *Error results
		wantUsed   bool
		laterRight bool // a later right callback must still succeed
	}{
		{name: "missing state", ar: pkceTestAR("", false), q: url.Values{"code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "wrong state", ar: pkceTestAR("", false), q: url.Values{"state": {"nope"}, "code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "state prefix", ar: pkceTestAR("", false), q: url.Values{"state": {pkceTestState[:20]}, "code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "state with suffix", ar: pkceTestAR("", false), q: url.Values{"state": {pkceTestState + "x"}, "code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "duplicated state", ar: pkceTestAR("", false), q: url.Values{"state": {pkceTestState, pkceTestState}, "code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "duplicated state one wrong", ar: pkceTestAR("", false), q: url.Values{"state": {"nope", pkceTestState}, "code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "empty state", ar: pkceTestAR("", false), q: url.Values{"state": {""}, "code": {"c"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "error with wrong state", ar: pkceTestAR("", false), q: url.Values{"state": {"nope"}, "error": {"access_denied"}}, wantErr: ErrStateMismatch, laterRight: true},
		{name: "request without state", ar: &AuthRequest{}, q: url.Values{"state": {""}, "code": {"c"}}, wantErr: ErrStateMismatch},
		{name: "right state", ar: pkceTestAR("", false), q: right("&code=the-code"), wantCode: "the-code", wantUsed: true},
		{name: "access denied", ar: pkceTestAR("", false), q: right("&error=access_denied&error_description=The+user+denied"), wantErr: ErrAccessDenied, wantDesc: "The user denied", wantUsed: true},
		{name: "error wins over code", ar: pkceTestAR("", false), q: right("&error=access_denied&code=c"), wantErr: ErrAccessDenied, wantUsed: true},
		{name: "server_error is not a denial", ar: pkceTestAR("", false), q: right("&error=server_error"), wantErr: ErrServer, wantUsed: true},
		{name: "invalid_scope is not a denial", ar: pkceTestAR("", false), q: right("&error=invalid_scope"), wantErr: ErrInvalidScope, wantUsed: true},
		{name: "no code", ar: pkceTestAR("", false), q: right(""), wantErr: ErrBadCallback, wantUsed: true},
		{name: "empty code", ar: pkceTestAR("", false), q: right("&code="), wantErr: ErrBadCallback, wantUsed: true},
		{name: "iss equal", ar: pkceTestAR(pkceTestIssuer, false), q: right("&code=c&iss=" + url.QueryEscape(pkceTestIssuer)), wantCode: "c", wantUsed: true},
		{name: "iss equal and required", ar: pkceTestAR(pkceTestIssuer, true), q: right("&code=c&iss=" + url.QueryEscape(pkceTestIssuer)), wantCode: "c", wantUsed: true},
		{name: "iss absent not required", ar: pkceTestAR(pkceTestIssuer, false), q: right("&code=c"), wantCode: "c", wantUsed: true},
		{name: "iss different", ar: pkceTestAR(pkceTestIssuer, false), q: right("&code=c&iss=https://evil.example"), wantErr: ErrIssuerMismatch, wantUsed: true},
		{name: "iss trailing slash", ar: pkceTestAR(pkceTestIssuer, false), q: right("&code=c&iss=" + url.QueryEscape(pkceTestIssuer+"/")), wantErr: ErrIssuerMismatch, wantUsed: true},
		{name: "iss duplicated", ar: pkceTestAR(pkceTestIssuer, false), q: right("&code=c&iss=" + url.QueryEscape(pkceTestIssuer) + "&iss=" + url.QueryEscape(pkceTestIssuer)), wantErr: ErrIssuerMismatch, wantUsed: true},
		{name: "iss absent but required", ar: pkceTestAR(pkceTestIssuer, true), q: right("&code=c"), wantErr: ErrIssuerMismatch, wantUsed: true},
		{name: "iss present while none expected", ar: pkceTestAR("", false), q: right("&code=c&iss=https://x"), wantErr: ErrIssuerMismatch, wantUsed: true},
		{name: "iss empty while none expected", ar: pkceTestAR("", false), q: right("&code=c&iss="), wantErr: ErrIssuerMismatch, wantUsed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, err := tc.ar.Callback(tc.q)
			require.Equal(t, tc.wantUsed, tc.ar.Used(), "consumed")
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, code)
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.wantCode, code)
			}
			if tc.wantDesc != "" {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, tc.wantDesc, e.Description)
				require.Equal(t, "vimeo", e.Provider)
				require.Equal(t, "authorize", e.Op)
				require.NotContains(t, err.Error(), tc.wantDesc, "description stays out of Error()")
			}
			if tc.laterRight {
				code, err := tc.ar.Callback(right("&code=later"))
				require.NoError(t, err)
				require.Equal(t, "later", code)
			}
			if tc.ar.Used() {
				_, err := tc.ar.Callback(right("&code=again"))
				require.ErrorIs(t, err, ErrStateUsed, "a consumed request answers ErrStateUsed")
			}
		})
	}
}

func TestCallbackErrorIsTyped(t *testing.T) {
	ar := pkceTestAR("", false)
	_, err := ar.Callback(url.Values{"state": {pkceTestState}, "error": {"access_denied"}, "error_description": {"<script>alert(1)</script>"}})
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "access_denied", e.Code)
	require.ErrorIs(t, err, ErrAccessDenied)
	require.NotContains(t, err.Error(), "<script>")

	ar = pkceTestAR("", false)
	_, err = ar.Callback(url.Values{"state": {pkceTestState}, "error": {"bad thing <b>"}})
	require.ErrorAs(t, err, &e)
	require.NotErrorIs(t, err, ErrAccessDenied, "an unknown code is not a denial")
	require.ErrorIs(t, err, ErrAuthorizationFailed)
	require.NotContains(t, err.Error(), "<b>", "a code that is not a code stays out of Error()")
}

func TestCallbackSecondUseAfterSuccess(t *testing.T) {
	ar := pkceTestAR("", false)
	q := url.Values{"state": {pkceTestState}, "code": {"c1"}}
	code, err := ar.Callback(q)
	require.NoError(t, err)
	require.Equal(t, "c1", code)
	code, err = ar.Callback(q)
	require.ErrorIs(t, err, ErrStateUsed)
	require.Empty(t, code)
	// A wrong state after use still says mismatch, not used.
	_, err = ar.Callback(url.Values{"state": {"nope"}, "code": {"c"}})
	require.ErrorIs(t, err, ErrStateMismatch)
}

func TestCallbackConcurrentSingleUse(t *testing.T) {
	ar := pkceTestAR("", false)
	q := url.Values{"state": {pkceTestState}, "code": {"c"}}
	const n = 50
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := ar.Callback(q)
			results <- err
		}()
	}
	ok, used := 0, 0
	for i := 0; i < n; i++ {
		err := <-results
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrStateUsed):
			used++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	require.Equal(t, 1, ok, "exactly one callback wins")
	require.Equal(t, n-1, used)
}

func TestAuthRequestPrintingHidesSecrets(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "vimeo", cfg: pkceTestConfig(t), pkce: true})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out := fmt.Sprintf(verb, ar)
		require.NotContains(t, out, ar.State, verb)
		require.NotContains(t, out, ar.Verifier, verb)
		require.Contains(t, out, "REDACTED", verb)
	}
	type holder struct{ AR *AuthRequest }
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		out := fmt.Sprintf(verb, holder{ar})
		require.NotContains(t, out, ar.State, verb)
		require.NotContains(t, out, ar.Verifier, verb)
	}
	// Format has a value receiver (so an AuthRequest value prints redacted
	// too): fmt prints a nil pointer as <nil>; String itself handles nil.
	require.Equal(t, "<nil>", fmt.Sprint((*AuthRequest)(nil)))
	require.Equal(t, "videoauth.AuthRequest(nil)", (*AuthRequest)(nil).String())
	require.Contains(t, (&AuthRequest{}).String(), "state=none verifier=none")
}

func TestAuthRequestJSONRoundTrip(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "vimeo", cfg: pkceTestConfig(t), pkce: true, issuer: pkceTestIssuer, requireIss: true})
	b, err := EncodeAuthRequest(ar)
	require.NoError(t, err)
	got, err := DecodeAuthRequest(b)
	require.NoError(t, err)
	requireSameAuthRequest(t, ar, got)
	// json.Unmarshal reads the session form too (what json.Marshal wrote
	// before it gave the redacted description).
	var old AuthRequest
	require.NoError(t, json.Unmarshal(b, &old))
	requireSameAuthRequest(t, ar, &old)

	// The restored copy works and is single use on its own.
	code, err := got.Callback(url.Values{"state": {ar.State}, "code": {"c"}, "iss": {pkceTestIssuer}})
	require.NoError(t, err)
	require.Equal(t, "c", code)
	require.True(t, got.Used())
	require.False(t, ar.Used(), "the original is a separate value")
}

// A request that requires iss keeps requiring it after its session JSON
// round trip: require_iss and issuer are read back, and the restored copy
// refuses a callback without iss (and consumes itself, the state being
// right). The session form is built by hand, its exported fields under
// their tags, so the test does not depend on how AuthRequest marshals.
func TestAuthRequestRequireIssSurvivesJSON(t *testing.T) {
	ar := pkceTestNew(t, authRequestOpts{provider: "p", cfg: pkceTestConfig(t), pkce: true, issuer: pkceTestIssuer, requireIss: true})
	b, err := json.Marshal(map[string]any{"url": ar.URL, "provider": ar.Provider, "state": ar.State, "verifier": ar.Verifier,
		"redirect_url": ar.RedirectURL, "scopes": ar.Scopes, "issuer": ar.Issuer, "require_iss": ar.RequireIss, "implicit": ar.Implicit})
	require.NoError(t, err)
	var back AuthRequest
	require.NoError(t, json.Unmarshal(b, &back))
	require.True(t, back.RequireIss)
	require.Equal(t, pkceTestIssuer, back.Issuer)

	q := url.Values{"state": {ar.State}, "code": {"c"}}
	_, err = back.Callback(q)
	require.ErrorIs(t, err, ErrIssuerMismatch)
	require.True(t, back.Used())

	q.Set("iss", pkceTestIssuer)
	code, err := ar.Callback(q)
	require.NoError(t, err, "the original is a separate request")
	require.Equal(t, "c", code)
}
