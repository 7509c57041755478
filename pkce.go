package videoauth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync/atomic"
	"unsafe"

	"golang.org/x/oauth2"
)

// AuthRequest is one authorization request in flight: the URL to send the
// user to, and what the callback must be checked against. It is single use:
// the first callback carrying the right state consumes it, so a code is
// exchanged at most once.
//
// A web application keeps it in the user's own session between the redirect
// and the callback — never in storage shared between users, which would let
// one user's browser complete another's login (RFC 6749 §10.12).
// EncodeAuthRequest gives its session form (JSON, state and verifier
// included) and DecodeAuthRequest reads it back. A request restored from
// the session is a fresh value: delete the session entry when the callback
// arrives so it cannot be used twice.
//
// Every other way of printing it — every fmt verb, slog's text and JSON
// handlers, json.Marshal — gives a redacted description, as a value or a
// pointer and inside slices, maps and structs: provider, redirect URL,
// whether there is a state and a verifier (never their value), used. So
// json.Marshal is not the session form (slog's JSON handler marshals an
// AuthRequest held in a slice, map or struct with encoding/json, which
// would show both); json.Unmarshal still reads the session form (what
// json.Marshal wrote before), and refuses the redacted description, whose
// placeholder state would otherwise be a state anyone could send back.
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

	used usedFlag
}

// usedFlag is an AuthRequest's single-use mark. It lives outside the
// AuthRequest, behind a pointer set when the request is made or decoded
// and never changed afterwards, because AuthRequest's Format and
// MarshalJSON have value receivers (so that a value prints redacted too):
// calling one copies the AuthRequest, and that copy must neither read
// memory a concurrent Callback writes (a data race, which an atomic.Bool
// in the struct would be) nor copy a lock (go vet's copylocks). Copies of
// an AuthRequest share the mark, so consuming one consumes them all. A
// request written as a literal gets its mark from its first Callback.
type usedFlag struct{ p unsafe.Pointer } // *atomic.Bool

func newUsedFlag() usedFlag { return usedFlag{p: unsafe.Pointer(new(atomic.Bool))} }

// mark returns the flag, creating it on first use for a literal request.
func (f *usedFlag) mark() *atomic.Bool {
	if p := atomic.LoadPointer(&f.p); p != nil {
		return (*atomic.Bool)(p)
	}
	atomic.CompareAndSwapPointer(&f.p, nil, unsafe.Pointer(new(atomic.Bool)))
	return (*atomic.Bool)(atomic.LoadPointer(&f.p))
}

// CompareAndSwap is atomic.Bool's, on the shared mark.
func (f *usedFlag) CompareAndSwap(old, new bool) bool { return f.mark().CompareAndSwap(old, new) }

// Load reports whether the request was consumed.
func (f *usedFlag) Load() bool {
	p := atomic.LoadPointer(&f.p)
	return p != nil && (*atomic.Bool)(p).Load()
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
		used:        newUsedFlag(),
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
	if ar == nil {
		return "", fmt.Errorf("%w: no AuthRequest", ErrStateMismatch)
	}
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
	// Any error on the redirect means no grant (RFC 6749 §4.1.2.1), but
	// only access_denied is the user's refusal: server_error and
	// temporarily_unavailable are worth trying again (ErrServer),
	// invalid_scope is the request's fault. An unknown code is
	// ErrAuthorizationFailed.
	return &Error{Provider: ar.Provider, Op: "authorize", Code: e, Description: q.Get("error_description"), Err: callbackSentinel(e)}
}

// Used reports whether a callback has consumed this request.
func (ar *AuthRequest) Used() bool { return ar != nil && ar.used.Load() }

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

// LogValue gives slog the same redacted view as MarshalJSON.
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

// Format makes every fmt verb print the redacted form. Its receiver is a
// value so that an AuthRequest value (one restored into a variable, or held
// in a struct, slice or map printed by value) has it too; a nil
// *AuthRequest prints as <nil>, fmt's rule for that case.
func (ar AuthRequest) Format(f fmt.State, verb rune) { printRedacted(f, verb, ar.String()) }

// authRequestDescription is the redacted description json.Marshal gives:
// LogValue's members, in its order.
type authRequestDescription struct {
	Provider string `json:"provider"`
	Redirect string `json:"redirect"`
	State    string `json:"state"`    // "REDACTED" or "none"
	Verifier string `json:"verifier"` // likewise
	Used     bool   `json:"used"`
}

// MarshalJSON gives the redacted description (see AuthRequest), never the
// state or the verifier; the session form is EncodeAuthRequest's. Its
// receiver is a value, so encoding/json uses it inside composites too.
func (ar AuthRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(authRequestDescription{Provider: ar.Provider, Redirect: ar.RedirectURL,
		State: presence(ar.State), Verifier: presence(ar.Verifier), Used: ar.Used()})
}

// UnmarshalJSON reads the session form (EncodeAuthRequest's, which is what
// json.Marshal gave before AuthRequest had a MarshalJSON), and refuses the
// redacted description. The request keeps its single-use mark; a fresh
// variable gets a fresh one.
func (ar *AuthRequest) UnmarshalJSON(data []byte) error {
	if ar == nil {
		return errorf("UnmarshalJSON into a nil *AuthRequest")
	}
	if string(bytes.TrimSpace(data)) == "null" {
		return nil // encoding/json's rule for null: leave ar as it is
	}
	s := sessionAuthRequest(*ar) // decode over what ar holds, as encoding/json does
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if redactedWord(s.State) || redactedWord(s.Verifier) {
		// The description's placeholder is no state: restoring it would
		// accept a callback carrying state=REDACTED.
		return configErr("this JSON is an AuthRequest's redacted description (json.Marshal), not its session form (EncodeAuthRequest)")
	}
	if s.used.p == nil {
		s.used = newUsedFlag()
	}
	*ar = AuthRequest(s)
	return nil
}

// redactedWord reports whether s is what presence prints for a secret.
func redactedWord(s string) bool { return s == "REDACTED" || s == "none" }

// sessionAuthRequest is AuthRequest without its methods: encoding/json gives
// it the session form, the exported fields under their tags.
type sessionAuthRequest AuthRequest

// EncodeAuthRequest returns ar's session form: JSON with everything a
// callback is checked against, state and verifier included, to keep in
// the user's own session (see AuthRequest) and read back with
// DecodeAuthRequest. It is what json.Marshal gave before AuthRequest's
// MarshalJSON turned that into the redacted description. A nil ar is an
// error wrapping ErrInvalidConfig.
func EncodeAuthRequest(ar *AuthRequest) ([]byte, error) {
	if ar == nil {
		return nil, configErr("EncodeAuthRequest: nil AuthRequest")
	}
	return json.Marshal((*sessionAuthRequest)(ar))
}

// DecodeAuthRequest reads an AuthRequest written by EncodeAuthRequest (or
// by json.Marshal before this version), as a fresh, unused request.
// Anything else — not JSON, not an object, the redacted description
// json.Marshal gives — is an error wrapping ErrInvalidConfig that quotes
// nothing of data.
func DecodeAuthRequest(data []byte) (*AuthRequest, error) {
	ar := &AuthRequest{used: newUsedFlag()}
	if !looksJSON(data) {
		return nil, configErr("DecodeAuthRequest: not a JSON object")
	}
	if err := ar.UnmarshalJSON(data); err != nil {
		if errors.Is(err, ErrInvalidConfig) {
			return nil, err
		}
		return nil, configErr("DecodeAuthRequest: not an AuthRequest's session form")
	}
	return ar, nil
}
