package videoauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token is a credential for one service: what x/oauth2's Token holds plus the
// granted scopes, the user it acts for, the raw user object and any other
// members of the service's response.
//
// EncodeToken gives its stored form, which DecodeToken reads back without
// losing anything; every Store writes that form. Every other way of
// printing a Token — every fmt verb, slog's text and JSON handlers, and
// json.Marshal — gives the redacted description, as a value or a pointer,
// and inside slices, maps and structs: provider, type, whether there is an
// access and a refresh token (never their value), expiry, scopes and user
// id. json.Marshal cannot be the stored form, because slog's JSON handler
// marshals a Token held in a slice, map or struct field with
// encoding/json, without LogValue. json.Unmarshal still reads the stored
// form (what json.Marshal wrote before), and refuses the redacted
// description instead of making a token without its secrets.
type Token struct {
	Provider     string    `json:"provider,omitempty"` // "vimeo", "simkl", "viki": makes a stored token recognisable
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"` // normalised: "Bearer", or the provider's own kind
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`  // zero: the service gave no lifetime
	Scopes       []string  `json:"scopes,omitempty"` // granted, which may differ from requested
	UserID       string    `json:"user_id,omitempty"`
	// User is the service's user object as sent, when the grant returns one.
	User json.RawMessage `json:"user,omitempty"`
	// Extra holds every other member of the token response (Vimeo's app,
	// expires_on; Simkl's result; ...), raw.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
	// Meta is for the caller and for provider bookkeeping (Simkl's auth
	// generation, for one); it is stored with the token.
	Meta map[string]string `json:"meta,omitempty"`
}

// Valid reports whether t has an access token that has not expired at now.
// A zero Expiry never expires.
func (t *Token) Valid(now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// expiresWithin reports whether t expires before now+d.
func (t *Token) expiresWithin(now time.Time, d time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(d).Before(t.Expiry)
}

// HasScope reports whether scope is among the granted scopes.
func (t *Token) HasScope(scope string) bool {
	return t != nil && slices.Contains(t.Scopes, scope)
}

// RequireScopes returns an error wrapping ErrScopeNotGranted that lists every
// scope in want that the service did not grant, or nil. Services may grant
// less than was asked (the user can untick scopes on Vimeo's consent page).
func (t *Token) RequireScopes(want ...string) error {
	var missing []string
	for _, s := range want {
		if !t.HasScope(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrScopeNotGranted, strings.Join(missing, " "))
}

// Clone returns a deep copy of t.
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	c.User = bytes.Clone(t.User)
	if t.Extra != nil {
		c.Extra = make(map[string]json.RawMessage, len(t.Extra))
		for k, v := range t.Extra {
			c.Extra[k] = bytes.Clone(v)
		}
	}
	if t.Meta != nil {
		c.Meta = make(map[string]string, len(t.Meta))
		for k, v := range t.Meta {
			c.Meta[k] = v
		}
	}
	return &c
}

// OAuth2 returns t as an *oauth2.Token, for code that speaks x/oauth2.
func (t *Token) OAuth2() *oauth2.Token {
	if t == nil {
		return nil
	}
	o := &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	if len(t.Extra) > 0 {
		m := make(map[string]any, len(t.Extra))
		for k, v := range t.Extra {
			var x any
			if json.Unmarshal(v, &x) == nil {
				m[k] = x
			}
		}
		o = o.WithExtra(m)
	}
	return o
}

// String returns a redacted description: the secrets' presence, never their value.
func (t *Token) String() string {
	if t == nil {
		return "videoauth.Token(nil)"
	}
	var b strings.Builder
	b.WriteString("videoauth.Token{provider=")
	b.WriteString(t.Provider)
	b.WriteString(" type=")
	b.WriteString(t.TokenType)
	b.WriteString(" access=")
	b.WriteString(presence(t.AccessToken))
	b.WriteString(" refresh=")
	b.WriteString(presence(t.RefreshToken))
	if !t.Expiry.IsZero() {
		b.WriteString(" expiry=")
		b.WriteString(t.Expiry.UTC().Format(time.RFC3339))
	}
	if len(t.Scopes) > 0 {
		b.WriteString(" scopes=")
		b.WriteString(strings.Join(t.Scopes, ","))
	}
	if t.UserID != "" {
		b.WriteString(" user=")
		b.WriteString(t.UserID)
	}
	b.WriteString("}")
	return b.String()
}

func presence(s string) string {
	if s == "" {
		return "none"
	}
	return "REDACTED"
}

// GoString makes %#v redacted too.
func (t *Token) GoString() string { return t.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, %d...) print the
// redacted form, so no verb can reach the raw fields. Its receiver is a
// value, so that a Token value, and one in a slice, map or struct printed
// by value, has it too: fmt finds only the methods of the value's own
// method set. (A nil *Token prints as <nil>: fmt's rule for a nil pointer
// whose method has a value receiver. String, GoString and LogValue keep
// pointer receivers and handle nil themselves.)
func (t Token) Format(f fmt.State, verb rune) { printRedacted(f, verb, t.String()) }

// LogValue makes slog print the redacted fields.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	attrs := []slog.Attr{
		slog.String("provider", t.Provider),
		slog.String("type", t.TokenType),
		slog.String("access", presence(t.AccessToken)),
		slog.String("refresh", presence(t.RefreshToken)),
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	if len(t.Scopes) > 0 {
		attrs = append(attrs, slog.String("scopes", strings.Join(t.Scopes, " ")))
	}
	if t.UserID != "" {
		attrs = append(attrs, slog.String("user", t.UserID))
	}
	return slog.GroupValue(attrs...)
}

// tokenDescription is the redacted description json.Marshal gives: the
// members of LogValue, in its order, so slog's JSON handler shows a *Token
// the same at the top level (LogValue) and inside a slice, map or struct
// (MarshalJSON). Its member names are not the stored form's ("access", not
// "access_token"), so nothing that reads the stored form takes it for a
// token: DecodeToken finds no access token in it (ErrStoreCorrupt), and
// Token.UnmarshalJSON refuses it.
type tokenDescription struct {
	Provider string `json:"provider"`
	Type     string `json:"type"`
	Access   string `json:"access"`  // "REDACTED" or "none"
	Refresh  string `json:"refresh"` // likewise
	Expiry   string `json:"expiry,omitempty"`
	Scopes   string `json:"scopes,omitempty"` // space-separated, as LogValue
	User     string `json:"user,omitempty"`
}

// MarshalJSON gives the redacted description (see Token), never the
// secrets; the stored form is EncodeToken's. Its receiver is a value, so
// encoding/json uses it for a Token value and inside composites too.
func (t Token) MarshalJSON() ([]byte, error) {
	d := tokenDescription{Provider: t.Provider, Type: t.TokenType, Access: presence(t.AccessToken), Refresh: presence(t.RefreshToken),
		Scopes: strings.Join(t.Scopes, " "), User: t.UserID}
	if !t.Expiry.IsZero() {
		// What encoding/json writes for a time.Time, without its error
		// for a year past 9999: a description never fails.
		d.Expiry = t.Expiry.Format(time.RFC3339Nano)
	}
	return json.Marshal(d)
}

// UnmarshalJSON reads the stored form, as json.Unmarshal did before Token
// had a MarshalJSON, so stored JSON and the code that decodes it keep
// working (DecodeToken is the checked way to read a stored token). It
// refuses, with an error wrapping ErrStoreCorrupt, the redacted description
// json.Marshal gives, which holds no secret: decoding it would make a token
// without its access token.
func (t *Token) UnmarshalJSON(data []byte) error {
	if t == nil {
		return errorf("UnmarshalJSON into a nil *Token")
	}
	if string(bytes.TrimSpace(data)) == "null" {
		return nil // encoding/json's rule for null: leave t as it is
	}
	var probe struct {
		Access      json.RawMessage `json:"access"` // a member only the description has
		AccessToken json.RawMessage `json:"access_token"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.Access != nil && probe.AccessToken == nil {
		return errorf("this JSON is a token's redacted description (json.Marshal), not its stored form (EncodeToken): %w", ErrStoreCorrupt)
	}
	st := storedToken(*t) // like encoding/json, decode over what t holds
	if err := json.Unmarshal(data, &st); err != nil {
		return err
	}
	*t = Token(st)
	return nil
}

// maxExpiresIn clamps absurd lifetimes (Simkl V1 sends five years).
const maxExpiresIn = 20 * 365 * 24 * time.Hour

// parseToken decodes a JSON token response (RFC 6749 §5.1). It requires a
// non-empty string access_token of VSCHARs (as a refresh_token must be too),
// accepts expires_in as a number or numeric string (absent, null or 0 mean
// "no lifetime given", negative is rejected, huge is clamped), understands
// token_type case-insensitively and rejects kinds it cannot use, treats a
// body with "error" as an error whatever the status, and keeps unknown
// members in Extra. defaultType is used when the service omits token_type.
func parseToken(body []byte, contentType, defaultType string, now time.Time) (*Token, error) {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		if mt == "application/x-www-form-urlencoded" || mt == "text/html" || mt == "text/plain" && !looksJSON(body) {
			return nil, fmt.Errorf("%w: token response is %s, not JSON", ErrBadResponse, mt)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: token response is not a JSON object", ErrBadResponse)
	}
	if code, ok := jsonString(m["error"]); ok && code != "" {
		return nil, &tokenBodyError{code: code}
	}
	t := &Token{}
	var ok bool
	if t.AccessToken, ok = jsonString(m["access_token"]); !ok || t.AccessToken == "" {
		return nil, fmt.Errorf("%w: access_token missing or not a string", ErrBadResponse)
	}
	if !vschar(t.AccessToken) {
		return nil, fmt.Errorf("%w: access_token has characters outside RFC 6749 VSCHAR", ErrBadResponse)
	}
	tt, ok := jsonString(m["token_type"])
	if raw := m["token_type"]; len(raw) > 0 && string(raw) != "null" && !ok {
		return nil, fmt.Errorf("%w: token_type is not a string", ErrBadResponse)
	}
	if tt == "" {
		tt = defaultType
	}
	if !strings.EqualFold(tt, "bearer") {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedTokenType, truncate(tt, 32))
	}
	t.TokenType = "Bearer"
	if raw, present := m["refresh_token"]; present && string(raw) != "null" {
		if t.RefreshToken, ok = jsonString(raw); !ok {
			return nil, fmt.Errorf("%w: refresh_token is not a string", ErrBadResponse)
		}
		if !vschar(t.RefreshToken) {
			return nil, fmt.Errorf("%w: refresh_token has characters outside RFC 6749 VSCHAR", ErrBadResponse)
		}
	}
	d, err := parseExpiresIn(m["expires_in"])
	if err != nil {
		return nil, err
	}
	if d > 0 {
		t.Expiry = now.Add(d)
	}
	if raw, present := m["scope"]; present {
		t.Scopes = parseScopes(raw)
	}
	if u, present := m["user"]; present && string(u) != "null" {
		t.User = bytes.Clone(u)
	}
	for _, k := range []string{"access_token", "token_type", "refresh_token", "expires_in", "scope", "user"} {
		delete(m, k)
	}
	if len(m) > 0 {
		t.Extra = m
	}
	return t, nil
}

// tokenBodyError is an "error" member found in a token-endpoint body; the
// caller turns it into an *Error with the status and provider.
type tokenBodyError struct{ code string }

func (e *tokenBodyError) Error() string { return "videoauth: token endpoint error " + safeCode(e.code) }

// vschar reports whether s is made of RFC 6749 Appendix A VSCHARs
// (%x20-7E), the only characters a token may have. Go's JSON decoder would
// turn invalid UTF-8 into U+FFFD, so without this check a mangled token
// would be stored and fail later as if revoked.
func vschar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func looksJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// parseExpiresIn accepts a JSON number or numeric string, in seconds.
func parseExpiresIn(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("%w: expires_in", ErrBadResponse)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: expires_in is not a number", ErrBadResponse)
	}
	if f < 0 {
		return 0, fmt.Errorf("%w: negative expires_in", ErrBadResponse)
	}
	if f >= maxExpiresIn.Seconds() {
		return maxExpiresIn, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseScopes reads the scope member of a token response: a string of
// space-separated scope tokens (RFC 6749 §3.3), or a JSON array of them.
// Commas and '+' are not separators: "repo,user gist+read" is the two
// scopes "repo,user" and "gist+read". ('+' stands for a space only in form
// encoding, which url.ParseQuery has already undone for an implicit-grant
// fragment.) None of Vimeo, Simkl and Viki documents another separator; a
// service that did would split in its own code, citing its documentation.
func parseScopes(raw json.RawMessage) []string {
	if s, ok := jsonString(raw); ok {
		return splitScopes(s)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	return nil
}

// splitScopes splits s at spaces (0x20), the only separator in RFC 6749
// §3.3's scope = scope-token *( SP scope-token ); leading, trailing and
// repeated spaces make no empty scope. Other whitespace (tab, CR, LF,
// U+00A0, ...) does not split: scope-token excludes it, so no service
// separates with it, and splitting there could invent a scope the service
// did not clearly grant, which HasScope and RequireScopes would then
// accept. Such a scope is kept whole and matches nothing a caller asks for.
func splitScopes(s string) []string {
	var f []string
	for _, p := range strings.Split(s, " ") {
		if p != "" {
			f = append(f, p)
		}
	}
	return f
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
