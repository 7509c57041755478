package videoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/videoauth/videoauth/internal/wire"
)

// Identity is who a token acts for, as the service names them: what
// Identify returns for every provider. It holds no credential: the
// services' answers that echo the token (Vimeo's /oauth/verify, Viki's
// v5 session) are read for their user object only, and a user object
// that holds a member named like a credential (access_token, token, ...)
// or the token itself is dropped.
//
// Name and UserID are the service's text, as sent: they may hold any
// character, so a program that prints them to a terminal cleans them
// first.
type Identity struct {
	// Provider is the service's short name: "vimeo", "simkl", "viki".
	Provider string `json:"provider"`
	// UserID is the service's id of the user: Vimeo's from user.uri
	// (/users/<id>), Simkl's account.id, Viki's user id ("1u"). It is
	// empty for a token that acts for no user (an app token from client
	// credentials).
	UserID string `json:"user_id,omitempty"`
	// Name is the user's name as the service shows it: Vimeo's user.name,
	// Simkl's user.name, Viki's username.
	Name string `json:"name,omitempty"`
	// User is the service's user object, as sent, when it sent one:
	// Vimeo's user, the user member of Simkl's settings, Viki's user.
	User json.RawMessage `json:"user,omitempty"`
}

// Identifier is implemented by every service provider of this package
// (Vimeo, Simkl, Viki, VikiAPI, Twitch, YouTube, Trakt, Dailymotion,
// DailymotionPrivate; not Standard, whose config names no userinfo
// endpoint): code that holds a Provider asks it whom a token
// belongs to without knowing the service.
//
// Identify asks the service whose token t is, with one authenticated GET
// sent by the App's HTTP client, t attached as Authorize attaches it, no
// redirect followed. It never changes t (a Token may be shared, by a
// Source for one, so writing UserID into it would race): set t.UserID
// from the answer if you want it stored. A token that acts for no user
// gives an Identity with an empty UserID, not an error.
//
// Failures are *Error values with Op "identify". A token the service
// rejects matches ErrTokenExpired when the provider's Verdict says it
// can be replaced and the token itself can be replaced without the user:
// an app token (client credentials mint another) or a token with a
// refresh token; any other rejected token matches ErrReauthRequired, as
// a Source holding it would answer. An answer that is not the documented
// shape matches ErrBadResponse; rate limits, 403 and 5xx match
// ErrRateLimited, ErrForbidden and ErrServer, as CheckResponse types
// them.
type Identifier interface {
	Identify(ctx context.Context, t *Token) (*Identity, error)
}

// Every provider identifies its tokens.
var (
	_ Identifier = (*Vimeo)(nil)
	_ Identifier = (*Simkl)(nil)
	_ Identifier = (*Viki)(nil)
	_ Identifier = (*VikiAPI)(nil)
	_ Identifier = (*Twitch)(nil)
	_ Identifier = (*YouTube)(nil)
	_ Identifier = (*Trakt)(nil)
	_ Identifier = (*Dailymotion)(nil)
	_ Identifier = (*DailymotionPrivate)(nil)
)

// String describes the identity: provider, user id and name, the service's
// text quoted so that no character of it reaches a terminal or log line
// as is. A token without a user shows user=none.
func (id Identity) String() string {
	var b strings.Builder
	b.WriteString("videoauth.Identity{provider=")
	b.WriteString(id.Provider)
	b.WriteString(" user=")
	if id.UserID == "" {
		b.WriteString("none")
	} else {
		b.WriteString(strconv.Quote(id.UserID))
	}
	if id.Name != "" {
		b.WriteString(" name=")
		b.WriteString(strconv.Quote(id.Name))
	}
	b.WriteString("}")
	return b.String()
}

// LogValue gives slog the provider, user id and name (the user object is
// left out: it may be large).
func (id Identity) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("provider", id.Provider), slog.String("user", id.UserID)}
	if id.Name != "" {
		attrs = append(attrs, slog.String("name", id.Name))
	}
	return slog.GroupValue(attrs...)
}

// maxIdentityBody caps the answer Identify reads.
const maxIdentityBody = 1 << 20

// identifyOp is the Op of Identify's errors.
const identifyOp = "identify"

// checkIdentifyToken refuses a missing token, and one of another service.
func checkIdentifyToken(p Provider, t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("%s: no token to identify", p.Name())
	}
	if t.Provider != "" && t.Provider != p.Name() {
		return configErr("%s: a %s token cannot be identified by the %s provider", p.Name(), safeCode(t.Provider), p.Name())
	}
	return nil
}

// identifyGet sends GET rawURL for Identify: t attached by p.Authorize,
// sent by hc (the App's client, following no redirect), the answer read
// up to maxIdentityBody. shownURL is rawURL as an error may show it (Viki
// puts the session in the path). header is set before Authorize.
func identifyGet(ctx context.Context, p Provider, hc *http.Client, rawURL, shownURL string, t *Token, header http.Header) (*wire.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, configErr("%s: cannot build the identify request", p.Name())
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if err := p.Authorize(req, t); err != nil {
		return nil, err
	}
	if !p.Owns(req.URL) {
		// Authorize keeps the host; this guards the rule that a token
		// goes only where it belongs.
		return nil, configErr("%s: the identify URL is not on the API host", p.Name())
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &Error{Provider: p.Name(), Op: identifyOp, URL: redactString(shownURL), Err: scrubErr(wire.StripURL(err), t.AccessToken)}
	}
	defer resp.Body.Close()
	b, err := wire.ReadCapped(resp.Body, maxIdentityBody)
	if err != nil {
		if errors.Is(err, wire.ErrTooLarge) {
			err = fmt.Errorf("%w: identify answer larger than 1 MiB", ErrBadResponse)
		}
		return nil, &Error{Provider: p.Name(), Op: identifyOp, Status: resp.StatusCode, URL: redactString(shownURL), Err: scrubErr(err, t.AccessToken)}
	}
	return &wire.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// ok2xx reports whether status is a success.
func ok2xx(status int) bool { return status >= 200 && status <= 299 }

// verdictOf asks p's Verdict about resp.
func verdictOf(p Provider, resp *wire.Response) Verdict {
	return p.Verdict(&http.Response{StatusCode: resp.Status, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(resp.Body))})
}

// rejection is the sentinel of a rejected token: ErrTokenExpired when the
// verdict is Expired and replaceable (the token can be replaced without
// the user), ErrReauthRequired when it is Expired and not replaceable, or
// Revoked; nil when the verdict is OK (the answer is about the request,
// not the token).
func rejection(v Verdict, replaceable bool) error {
	switch {
	case v == VerdictExpired && replaceable:
		return ErrTokenExpired
	case v == VerdictExpired, v == VerdictRevoked:
		return ErrReauthRequired
	}
	return nil
}

// appToken reports whether t acts for no user: a client-credentials
// token, which the App mints again on its own.
func appToken(t *Token) bool { return t.UserID == "" && len(t.User) == 0 }

// identifyFailed finishes the *Error of a failed answer: Op identify, the
// URL as shown, why (when not nil) as its sentinel, and the token taken
// out of what the service wrote.
func identifyFailed(e *Error, t *Token, shownURL string, why error) *Error {
	e.Op = identifyOp
	e.URL = redactString(shownURL)
	if why != nil {
		e.Err = why
	}
	e.Description = redactText(e.Description, t.AccessToken)
	e.Body = scrubBody(e.Body, t)
	return e
}

// badIdentity is the *Error of a 2xx answer that is not the documented
// shape.
func badIdentity(provider string, resp *wire.Response, t *Token, shownURL string, err error) *Error {
	return &Error{Provider: provider, Op: identifyOp, Status: resp.Status, URL: redactString(shownURL),
		Body: scrubBody(capBody(resp.Body), t), Err: err}
}

// scrubBody returns body without t's secrets: Vimeo's verify answer and
// Viki's session answer echo the token.
func scrubBody(body []byte, t *Token) []byte {
	for _, s := range []string{t.AccessToken, t.RefreshToken} {
		if len(s) >= 4 && bytes.Contains(body, []byte(s)) {
			body = bytes.ReplaceAll(body, []byte(s), []byte("REDACTED"))
		}
	}
	return body
}

// identified finishes a parsed Identity: the user object is dropped when
// it holds t's token, which no user object should.
func identified(id *Identity, t *Token) *Identity {
	for _, s := range []string{t.AccessToken, t.RefreshToken} {
		if s != "" && len(id.User) > 0 && bytes.Contains(id.User, []byte(s)) {
			id.User = nil
		}
	}
	return id
}

// userObject returns raw when it is a JSON object without a member named
// like a credential (sensitiveParams: access_token, token, password...),
// else nil; ok is false when raw is present but not an object.
func userObject(raw json.RawMessage) (obj json.RawMessage, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	for k := range m {
		if sensitiveParams[strings.ToLower(k)] {
			return nil, true // described, but not kept
		}
	}
	return bytes.Clone(raw), true
}

// jsonText reads an optional JSON string member: absent or null is "",
// anything but a string is not ok.
func jsonText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	return jsonString(raw)
}

// parseVimeoIdentity reads Vimeo's GET /oauth/verify answer, the auth
// object (docs/vimeo.md#verification-and-revocation): its user has uri
// /users/<id> and name. An answer without user is an app token's. The
// answer's other members — the access token among them — are not kept.
func parseVimeoIdentity(body []byte) (*Identity, error) {
	var a struct {
		User json.RawMessage `json:"user"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &a) != nil {
		return nil, fmt.Errorf("%w: verify answer is not a JSON object", ErrBadResponse)
	}
	id := &Identity{Provider: "vimeo"}
	if len(a.User) == 0 || string(a.User) == "null" {
		return id, nil // an app token: no user
	}
	var u struct {
		URI  json.RawMessage `json:"uri"`
		Name json.RawMessage `json:"name"`
	}
	obj, ok := userObject(a.User)
	if !ok || json.Unmarshal(a.User, &u) != nil {
		return nil, fmt.Errorf("%w: verify answer's user is not an object", ErrBadResponse)
	}
	uri, ok1 := jsonText(u.URI)
	name, ok2 := jsonText(u.Name)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: verify answer's user.uri or user.name is not a string", ErrBadResponse)
	}
	if rest, found := strings.CutPrefix(uri, "/users/"); found {
		id.UserID, _, _ = strings.Cut(rest, "/")
	}
	id.Name, id.User = name, obj
	return id, nil
}

// parseSimklIdentity reads Simkl's GET /users/settings answer: user.name
// and account.id, a number (docs/simkl.md#open-questions: no source gives
// the shape; the fake serves this one [I]). Every Simkl token acts for a
// user, so an answer without account.id is not the documented shape.
func parseSimklIdentity(body []byte) (*Identity, error) {
	var s struct {
		User    json.RawMessage `json:"user"`
		Account *struct {
			ID json.RawMessage `json:"id"`
		} `json:"account"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &s) != nil {
		return nil, fmt.Errorf("%w: settings answer is not a JSON object", ErrBadResponse)
	}
	if s.Account == nil || !digits(string(s.Account.ID)) {
		return nil, fmt.Errorf("%w: settings answer has no numeric account.id", ErrBadResponse)
	}
	id := &Identity{Provider: "simkl", UserID: string(s.Account.ID)}
	obj, ok := userObject(s.User)
	if !ok {
		return nil, fmt.Errorf("%w: settings answer's user is not an object", ErrBadResponse)
	}
	if obj != nil {
		var u struct {
			Name json.RawMessage `json:"name"`
		}
		_ = json.Unmarshal(obj, &u) // an object: cannot fail
		if id.Name, ok = jsonText(u.Name); !ok {
			return nil, fmt.Errorf("%w: settings answer's user.name is not a string", ErrBadResponse)
		}
	}
	id.User = obj
	return id, nil
}

// digits reports whether s is a short run of ASCII digits: an id.
func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseVikiUser reads a Viki user object: id (a string or a number) and
// username [I] (docs/viki.md#v5-sessions shows only id). what names the
// answer in errors.
func parseVikiUser(raw json.RawMessage, what string) (*Identity, error) {
	var u struct {
		ID       json.RawMessage `json:"id"`
		Username json.RawMessage `json:"username"`
	}
	obj, ok := userObject(raw)
	if !ok || len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &u) != nil {
		return nil, fmt.Errorf("%w: %s is not a user object", ErrBadResponse, what)
	}
	id := &Identity{Provider: "viki", UserID: jsonCode(u.ID), User: obj}
	if id.UserID == "" {
		return nil, fmt.Errorf("%w: %s has no id", ErrBadResponse, what)
	}
	if id.Name, ok = jsonText(u.Username); !ok {
		return nil, fmt.Errorf("%w: %s's username is not a string", ErrBadResponse, what)
	}
	return id, nil
}

// parseVikiV3Identity reads Viki v3's GET /v3/users/<id>.json answer, the
// user object [I] (Viki's v3 pages show no user data; the fake serves
// {"id","username"}).
func parseVikiV3Identity(body []byte) (*Identity, error) {
	if !looksJSON(body) {
		return nil, fmt.Errorf("%w: user answer is not a JSON object", ErrBadResponse)
	}
	return parseVikiUser(body, "user answer")
}

// parseVikiSessionIdentity reads Viki v5's GET /v5/sessions/TOKEN.json
// answer, {"token":"…","user":{"id":"1u",…}} (docs/viki.md#v5-sessions):
// only its user is kept, never the token it echoes.
func parseVikiSessionIdentity(body []byte) (*Identity, error) {
	var s struct {
		User json.RawMessage `json:"user"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &s) != nil {
		return nil, fmt.Errorf("%w: session answer is not a JSON object", ErrBadResponse)
	}
	return parseVikiUser(s.User, "session answer's user")
}

// vikiTokenUserID is the user id of a Viki v3 token: UserID, else what the
// password grant's answer carried (user_id, else user.id), as Viki.finish
// reads it.
func vikiTokenUserID(t *Token) string {
	if t.UserID != "" {
		return t.UserID
	}
	if id := jsonCode(t.Extra["user_id"]); id != "" {
		return id
	}
	var u struct {
		ID json.RawMessage `json:"id"`
	}
	if len(t.User) > 0 && json.Unmarshal(t.User, &u) == nil {
		return jsonCode(u.ID)
	}
	return ""
}

// vikiSessionType is the TokenType of a Viki v5 session (Login).
const vikiSessionType = "viki-session"
