package videoauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync/atomic"

	"golang.org/x/oauth2"
)

// AuthRequest is one authorization request in flight: the URL to send the
// user to, and what the callback must be checked against. It is single use:
// the first callback carrying the right state consumes it, so a code is
// exchanged at most once.
//
// A web application keeps it (it marshals to JSON) in the user's own session
// between the redirect and the callback — never in storage shared between
// users, which would let one user's browser complete another's login
// (RFC 6749 §10.12). A copy restored from storage is a fresh value: delete
// the session entry when the callback arrives so it cannot be used twice.
type AuthRequest struct {
	URL         string   `json:"url"`          // send the user's browser here
	Provider    string   `json:"provider"`     // the provider that issued it; its callbacks only
	State       string   `json:"state"`        // 256 bits from crypto/rand, base64url
	Verifier    string   `json:"verifier"`     // PKCE code_verifier (RFC 7636), "" when not used
	RedirectURL string   `json:"redirect_url"` // sent again, identical, with the exchange
	Scopes      []string `json:"scopes"`       // requested
	Issuer      string   `json:"issuer"`       // expected iss (RFC 9207), when the service sends one
	RequireIss  bool     `json:"require_iss"`  // a callback without iss is rejected
	Implicit    bool     `json:"implicit"`     // response_type=token: the token comes in the fragment

	used atomic.Bool
}

// stateBytes is the entropy of state: 256 bits, twice RFC 6749 §10.10's floor.
const stateBytes = 32

// newState returns 256 random bits, base64url; a failing reader is reported.
func newState(r io.Reader) (string, error) {
	b := make([]byte, stateBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", errorf("cannot read random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// authRequestOpts describe how a provider builds its authorize URL.
type authRequestOpts struct {
	provider    string
	cfg         *oauth2.Config // AuthURL, ClientID, Scopes, RedirectURL set
	pkce        bool
	implicit    bool
	issuer      string
	requireIss  bool
	extraParams []oauth2.AuthCodeOption
}

// newAuthRequest builds the URL with a fresh state and, when the provider
// supports it, an S256 challenge (x/oauth2's GenerateVerifier and
// S256ChallengeOption: 32 random octets, method sent explicitly, never plain).
func newAuthRequest(o authRequestOpts) (*AuthRequest, error) {
	state, err := newState(rand.Reader)
	if err != nil {
		return nil, err
	}
	ar := &AuthRequest{
		Provider:    o.provider,
		State:       state,
		RedirectURL: o.cfg.RedirectURL,
		Scopes:      o.cfg.Scopes,
		Issuer:      o.issuer,
		RequireIss:  o.requireIss,
		Implicit:    o.implicit,
	}
	opts := append([]oauth2.AuthCodeOption(nil), o.extraParams...)
	if o.pkce {
		ar.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(ar.Verifier))
	}
	if o.implicit {
		opts = append(opts, oauth2.SetAuthURLParam("response_type", "token"))
	}
	ar.URL = o.cfg.AuthCodeURL(state, opts...)
	return ar, nil
}

// Callback checks a redirect's query (or parsed fragment) and returns the
// authorization code. The state is checked first, in constant time, before
// code or error are looked at; a missing or wrong state returns
// ErrStateMismatch and leaves the request unconsumed (a stray or forged
// request cannot end a login). The right state consumes the request: any
// later call returns ErrStateUsed. iss is checked when present, or required
// when the provider always sends it (RFC 9207). error=access_denied comes back
// as an *Error matching ErrAccessDenied.
func (ar *AuthRequest) Callback(q url.Values) (code string, err error) {
	if err := ar.consume(q); err != nil {
		return "", err
	}
	if err := ar.callbackError(q); err != nil {
		return "", err
	}
	code = q.Get("code")
	if code == "" {
		return "", ErrBadCallback
	}
	return code, nil
}

// stateMatches reports, in constant time, whether q carries exactly our state.
func (ar *AuthRequest) stateMatches(q url.Values) bool {
	got := q["state"]
	if len(got) != 1 || got[0] == "" || ar.State == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got[0]), []byte(ar.State)) == 1
}

// consume checks state (and iss) and marks the request used.
func (ar *AuthRequest) consume(q url.Values) error {
	if !ar.stateMatches(q) {
		return ErrStateMismatch
	}
	if !ar.used.CompareAndSwap(false, true) {
		return ErrStateUsed
	}
	iss, has := q["iss"]
	switch {
	case has && (len(iss) != 1 || ar.Issuer == "" || iss[0] != ar.Issuer):
		return ErrIssuerMismatch
	case !has && ar.RequireIss:
		return fmt.Errorf("%w: callback has no iss", ErrIssuerMismatch)
	}
	return nil
}

func (ar *AuthRequest) callbackError(q url.Values) error {
	e := q.Get("error")
	if e == "" {
		return nil
	}
	sentinel := sentinelFor(e, 0)
	if sentinel == nil {
		sentinel = ErrAccessDenied // any error on the redirect means no grant (RFC 6749 §4.1.2.1)
	}
	return &Error{Provider: ar.Provider, Op: "authorize", Code: e, Description: q.Get("error_description"), Err: sentinel}
}

// Used reports whether a callback has consumed this request.
func (ar *AuthRequest) Used() bool { return ar.used.Load() }

// String describes the request without its state or verifier.
func (ar *AuthRequest) String() string {
	if ar == nil {
		return "videoauth.AuthRequest(nil)"
	}
	return fmt.Sprintf("videoauth.AuthRequest{provider=%s redirect=%s state=%s verifier=%s used=%t}",
		ar.Provider, ar.RedirectURL, presence(ar.State), presence(ar.Verifier), ar.Used())
}

// GoString makes %#v redacted too.
func (ar *AuthRequest) GoString() string { return ar.String() }

// LogValue gives slog the same redacted view (without it slog's JSON
// handler would marshal the stored form: state and verifier in clear).
func (ar *AuthRequest) LogValue() slog.Value {
	if ar == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(
		slog.String("provider", ar.Provider),
		slog.String("redirect", ar.RedirectURL),
		slog.String("state", presence(ar.State)),
		slog.String("verifier", presence(ar.Verifier)),
		slog.Bool("used", ar.Used()),
	)
}

// Format makes every fmt verb print the redacted form.
func (ar *AuthRequest) Format(f fmt.State, verb rune) { printRedacted(f, verb, ar.String()) }
