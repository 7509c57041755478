package videoauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/videoauth/videoauth/internal/wire"
)

// Sentinel errors callers branch on with errors.Is. Service errors come as
// *Error values whose Is reports the matching sentinel.
var (
	// ErrStateMismatch: the callback's state is missing or not the one this
	// AuthRequest issued (RFC 6749 §10.12). Nothing was exchanged.
	ErrStateMismatch = errors.New("videoauth: state mismatch")
	// ErrStateUsed: the AuthRequest was already consumed by an earlier
	// callback; a code is exchanged at most once.
	ErrStateUsed = errors.New("videoauth: authorization request already used")
	// ErrIssuerMismatch: the callback's iss is not the provider's issuer
	// (RFC 9207 mix-up defence).
	ErrIssuerMismatch = errors.New("videoauth: issuer mismatch")
	// ErrAccessDenied: the user (or the service) refused the authorization.
	ErrAccessDenied = errors.New("videoauth: access denied")
	// ErrReauthRequired: the grant is gone (revoked, deleted, refresh token
	// dead); only a new sign-in helps.
	ErrReauthRequired = errors.New("videoauth: re-authorization required")
	// ErrTokenExpired: the service rejected the access token as expired or
	// invalid, and a new one can be had without the user (a refresh or a
	// re-mint). A Transport replaces it and replays the request once by
	// itself; a caller sees this when the request could not be replayed
	// (its body cannot be sent again) or when the token was itself a
	// replacement just rejected (see Source): sending the request again
	// gets a new token, unless the service keeps rejecting.
	ErrTokenExpired = errors.New("videoauth: access token expired or rejected")
	// ErrForbidden: the service understood the token and refused the
	// request: the token lacks a scope (RFC 6750 §3.1 insufficient_scope)
	// or the user lacks the right (HTTP 403). The token is fine; asking
	// again with the same token will not help.
	ErrForbidden = errors.New("videoauth: forbidden (scope or permission)")
	// ErrUserTokenRequired: the endpoint acts for a user and the token is
	// an app token (Vimeo's error_code 8002). The token is fine for what
	// app tokens can do; do not throw it away.
	ErrUserTokenRequired = errors.New("videoauth: a user token is required")
	// ErrInvalidScope: the service refused the scopes asked for (RFC 6749
	// §4.1.2.1 and §5.2 invalid_scope).
	ErrInvalidScope = errors.New("videoauth: invalid scope")
	// ErrAuthorizationFailed: the authorization redirect carried an error
	// code this library does not know; *Error.Code holds it. No grant was
	// made.
	ErrAuthorizationFailed = errors.New("videoauth: authorization failed")
	// ErrCodeUsed: the authorization code is invalid, expired or already used.
	ErrCodeUsed = errors.New("videoauth: authorization code invalid or already used")
	// ErrExpiredCode: a device or PIN code expired before the user approved it.
	ErrExpiredCode = errors.New("videoauth: device code expired")
	// ErrUnsupportedGrant: the service does not support this grant.
	ErrUnsupportedGrant = errors.New("videoauth: unsupported grant type")
	// ErrInvalidClient: the client id or secret was rejected.
	ErrInvalidClient = errors.New("videoauth: invalid client credentials")
	// ErrTokenTooLarge: a token-endpoint response exceeded 1 MiB.
	ErrTokenTooLarge = wire.ErrTooLarge
	// ErrInsecureEndpoint: an endpoint is neither https nor loopback.
	ErrInsecureEndpoint = wire.ErrInsecure
	// ErrBadResponse: a token or device response could not be understood
	// (not JSON, missing access_token, wrong types, HTML error page...).
	ErrBadResponse = errors.New("videoauth: malformed response")
	// ErrUnsupportedTokenType: the token_type is not one the library can use
	// (RFC 6749 §7.1: a client must not use a token type it does not know).
	ErrUnsupportedTokenType = errors.New("videoauth: unsupported token type")
	// ErrScopeNotGranted: a scope the caller needs is not among the granted ones.
	ErrScopeNotGranted = errors.New("videoauth: scope not granted")
	// ErrBadCallback: the callback carries neither a code nor an error.
	ErrBadCallback = errors.New("videoauth: callback without code or error")
	// ErrRateLimited: the service asked us to slow down; *Error.RetryAfter
	// says for how long when the service told.
	ErrRateLimited = errors.New("videoauth: rate limited")
	// ErrServer: the service answered with a 5xx.
	ErrServer = errors.New("videoauth: server error")
	// ErrInvalidCredentials: the service rejected the user's username and
	// password or Facebook token (Viki's password grant and sessions).
	ErrInvalidCredentials = errors.New("videoauth: invalid user credentials")
	// ErrInvalidConfig: an App field or an argument is missing or malformed
	// (no client id, a bad base URL, a token of another service...). Nothing
	// was sent.
	ErrInvalidConfig = errors.New("videoauth: invalid configuration")
	// ErrInvalidRequest: the service found a required field missing or
	// malformed (RFC 6749 invalid_request; Simkl V1 empty_field).
	ErrInvalidRequest = errors.New("videoauth: invalid request")
	// ErrRedirectMismatch: the redirect_uri of the exchange does not match
	// the registered or authorized one (Simkl V1 redirect_failed).
	ErrRedirectMismatch = errors.New("videoauth: redirect URI mismatch")
)

// maxErrBody caps the raw body kept in an *Error.
const maxErrBody = 4 << 10

// Error is a failure reported by a service, or a transport failure on the
// way to one. Error() names the provider, operation, HTTP status and the
// service's own error code; it never includes the raw body, the description
// or the URL's secrets, which stay in fields for deliberate inspection.
type Error struct {
	Provider    string        // "vimeo", "simkl", "viki"
	Op          string        // "client_credentials", "exchange", "device", "verify", "revoke", "api", ...
	Status      int           // HTTP status, 0 when no response arrived
	Code        string        // the service's code: "invalid_grant", "8000", "grant_error", vcode...
	Description string        // the service's prose, as sent (may be long; not in Error())
	URL         string        // request URL with credentials redacted
	RetryAfter  time.Duration // when the service said how long to wait
	Body        []byte        // raw response body, at most 4 KiB
	Err         error         // the sentinel this maps to, or the transport error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("videoauth: ")
	b.WriteString(e.Provider)
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	if e.Status != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if c := safeCode(e.Code); c != "" {
		b.WriteString(": ")
		b.WriteString(c)
	}
	if e.Err != nil {
		msg := strings.TrimPrefix(e.Err.Error(), "videoauth: ")
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// Unwrap returns the sentinel or transport error, so errors.Is(err,
// ErrReauthRequired) and friends work.
func (e *Error) Unwrap() error { return e.Err }

// LogValue keeps slog output to the same redacted fields as Error.
func (e *Error) LogValue() slog.Value {
	if e == nil {
		return slog.StringValue("nil")
	}
	return slog.StringValue(e.Error())
}

// GoString prints the fields that are safe to print: Description and Body
// (the service's words, which may echo a token) show only their length,
// and URL is redacted again.
func (e *Error) GoString() string {
	if e == nil {
		return "(*videoauth.Error)(nil)"
	}
	err := "<nil>"
	if e.Err != nil {
		err = strconv.Quote(e.Err.Error())
	}
	return fmt.Sprintf("&videoauth.Error{Provider:%q, Op:%q, Status:%d, Code:%q, Description:(%d bytes), URL:%q, RetryAfter:%v, Body:(%d bytes), Err:%s}",
		e.Provider, e.Op, e.Status, safeCode(e.Code), len(e.Description), redactString(e.URL), e.RetryAfter, len(e.Body), err)
}

// Format makes every verb print Error() (%q quotes it, %#v is GoString),
// so no verb reaches the raw fields. Its receiver is a value so that an
// Error value (a dereferenced *Error, or one in a struct, slice or map
// printed by value) has it too; a nil *Error prints as <nil>, fmt's rule
// for that case.
func (e Error) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, e.GoString())
		return
	}
	printRedacted(f, verb, e.Error())
}

// errorDescription is what json.Marshal gives for an Error: the fields
// GoString shows, no Description or Body (the service's words, which may
// echo a token) beyond their length, the URL redacted again.
type errorDescription struct {
	Error            string `json:"error"` // Error()
	Provider         string `json:"provider"`
	Op               string `json:"op,omitempty"`
	Status           int    `json:"status,omitempty"`
	Code             string `json:"code,omitempty"` // when it looks like a code
	URL              string `json:"url,omitempty"`
	RetryAfter       string `json:"retry_after,omitempty"`
	DescriptionBytes int    `json:"description_bytes,omitempty"`
	BodyBytes        int    `json:"body_bytes,omitempty"`
}

// MarshalJSON gives the safe fields (see errorDescription): slog's JSON
// handler marshals an *Error inside a slice, map or struct with
// encoding/json. Its receiver is a value, so an Error value has it too.
func (e Error) MarshalJSON() ([]byte, error) {
	d := errorDescription{Error: e.Error(), Provider: e.Provider, Op: e.Op, Status: e.Status, Code: safeCode(e.Code),
		URL: redactString(e.URL), DescriptionBytes: len(e.Description), BodyBytes: len(e.Body)}
	if e.RetryAfter != 0 {
		d.RetryAfter = e.RetryAfter.String()
	}
	return json.Marshal(d)
}

// safeCode keeps a service code only when it looks like a code: short and
// made of [A-Za-z0-9_.:-]. Anything else is server prose and stays out.
func safeCode(c string) string {
	if len(c) == 0 || len(c) > 64 {
		return ""
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-' || ch == '.' || ch == ':') {
			return ""
		}
	}
	return c
}

func capBody(b []byte) []byte {
	if len(b) > maxErrBody {
		b = b[:maxErrBody]
	}
	return append([]byte(nil), b...)
}

// sensitiveParams are query and fragment parameters whose values never
// appear in an error or log line.
var sensitiveParams = map[string]bool{
	"access_token": true, "refresh_token": true, "token": true, "id_token": true,
	"code": true, "code_verifier": true, "client_secret": true, "password": true,
	"sig": true, "signature": true, "device_code": true, "fb_access_token": true,
	"facebook_token": true, "state": true, "api_key": true, "key": true,
	"secret": true, "assertion": true,
}

// RedactURL returns u as a string with user info dropped and the values of
// credential-bearing query and fragment parameters replaced by REDACTED.
// Viki v3 carries the access token in the query, so a plain *url.Error would
// leak it; every URL this library prints goes through here.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = redactQuery(c.RawQuery)
	c.Fragment, c.RawFragment = "", ""
	s := c.String()
	if u.Fragment != "" || u.RawFragment != "" {
		// Appended as is: the redacted fragment is already escaped, and
		// url.URL would escape it a second time.
		frag := redactQuery(u.EscapedFragment())
		if frag == "" {
			frag = "REDACTED"
		}
		s += "#" + frag
	}
	return s
}

func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasVal := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasVal && sensitiveParams[strings.ToLower(name)] {
			parts[i] = k + "=REDACTED"
		} else if !hasVal && sensitiveParams[strings.ToLower(name)] {
			parts[i] = k
		}
	}
	return strings.Join(parts, "&")
}

// redactErr rewrites a *url.Error so its URL is redacted; other errors pass.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		red := "(unparsable URL)"
		if perr == nil {
			red = RedactURL(u)
		}
		return &url.Error{Op: ue.Op, URL: red, Err: ue.Err}
	}
	return err
}

// scrubErr returns err with the credential taken out of its text: a base
// transport (a caller's retrying or logging RoundTripper) may put the
// request's URL or headers in its error, and Viki carries the token, the
// session and the signature in the query. A *url.Error is rebuilt with a
// redacted URL; any other error whose text holds token or a credential
// query parameter is replaced by one with that text redacted, which still
// matches what err matched with errors.Is (but no longer hands out err
// itself through errors.As or Unwrap, which would print it).
func scrubErr(err error, token string) error {
	err = redactErr(err)
	msg := err.Error()
	clean := redactText(msg, token)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// scrubbedError is an error whose text had a credential in it.
type scrubbedError struct {
	msg string
	err error // the original; consulted by Is, never printed
}

func (e *scrubbedError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// credentialInText finds name=value pairs of credential-bearing parameters
// in free text.
var credentialInText = regexp.MustCompile(`(?i)\b(` + sensitiveParamPattern() + `)=([^&\s"'#<>]*)`)

func sensitiveParamPattern() string {
	names := make([]string, 0, len(sensitiveParams))
	for k := range sensitiveParams {
		names = append(names, regexp.QuoteMeta(k))
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

// credentialHeaderInText finds an Authorization value (Bearer or Basic
// credentials) in free text.
var credentialHeaderInText = regexp.MustCompile(`(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+`)

// signatureInText finds what looks like a hex HMAC-SHA1 signature (Viki's
// sig, or its signature header in a printed header map).
var signatureInText = regexp.MustCompile(`\b[0-9a-fA-F]{40}\b`)

// credentialInJSON finds "name":"value" members of credential-bearing
// names in free text (Viki's v5 sign-in sends a JSON body).
var credentialInJSON = regexp.MustCompile(`(?i)"(` + sensitiveParamPattern() + `)"\s*:\s*"(?:[^"\\]|\\.)*"`)

// redactText replaces token and the values of credential parameters,
// Authorization values and signatures in s.
func redactText(s, token string) string {
	if len(token) >= 4 {
		s = strings.ReplaceAll(s, token, "REDACTED")
	}
	s = credentialInText.ReplaceAllString(s, "${1}=REDACTED")
	s = credentialInJSON.ReplaceAllString(s, `"${1}":"REDACTED"`)
	s = credentialHeaderInText.ReplaceAllString(s, "${1} REDACTED")
	return signatureInText.ReplaceAllString(s, "REDACTED")
}

// transportError wraps a failure that happened before any response arrived.
// The error's text is scrubbed too: the App's HTTP client may put the
// request's form (client secret, password, refresh token) or its Basic
// credentials in it.
func transportError(provider, op string, u *url.URL, err error) error {
	return &Error{Provider: provider, Op: op, URL: RedactURL(u), Err: scrubErr(err, "")}
}

// sentinelFor maps the answer of operation op — an RFC 6749 / RFC 8628
// error code, an RFC 6750 WWW-Authenticate challenge (h may be nil), the
// HTTP status — to a sentinel, or nil when none fits.
func sentinelFor(op, code string, status int, h http.Header) error {
	switch code {
	case "access_denied", "authorization_declined":
		return ErrAccessDenied
	case "invalid_grant":
		// RFC 6749 §5.2: the grant or refresh token is invalid, expired or
		// revoked. Only in a code exchange is it the code.
		switch op {
		case "exchange":
			return ErrCodeUsed
		case "device_poll", "pin_poll":
			return ErrExpiredCode
		case "client_credentials":
			return ErrInvalidClient // the client's own credentials are the grant (RFC 6749 §4.4)
		}
		return ErrReauthRequired
	case "expired_token":
		return ErrExpiredCode
	case "unsupported_grant_type", "unsupported_response_type":
		return ErrUnsupportedGrant
	case "invalid_request":
		return ErrInvalidRequest
	case "invalid_client", "unauthorized_client":
		return ErrInvalidClient
	case "invalid_scope":
		return ErrInvalidScope
	case "insufficient_scope":
		return ErrForbidden
	case "invalid_token":
		return ErrReauthRequired
	case "slow_down", "rate_limit", "rate_limited":
		return ErrRateLimited
	case "server_error", "temporarily_unavailable":
		return ErrServer
	}
	switch challenge := bearerError(h); {
	case challenge == "invalid_token" && status == http.StatusUnauthorized:
		return ErrReauthRequired // RFC 6750 §3.1: expired, revoked or malformed
	case challenge == "insufficient_scope" || status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	case (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) && oauthOp(op):
		// An OAuth endpoint that is not there (or takes no POST) does not
		// offer the grant.
		return ErrUnsupportedGrant
	}
	return nil
}

// oauthOp reports whether op talks to an OAuth endpoint (token, device,
// revocation), not to the API.
func oauthOp(op string) bool {
	switch op {
	case "api", "verify", "authorize":
		return false
	}
	return true
}

// bearerError returns the error attribute of an RFC 6750 Bearer challenge
// in h's WWW-Authenticate, or "".
func bearerError(h http.Header) string {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		for p := range strings.SplitSeq(params, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "error") {
				return strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return ""
}

// callbackSentinel maps the error code of an authorization redirect (RFC
// 6749 §4.1.2.1, §4.2.2.1) to a sentinel: only access_denied is a refusal,
// and a code it does not know is ErrAuthorizationFailed.
func callbackSentinel(code string) error {
	switch code {
	case "access_denied", "authorization_declined":
		return ErrAccessDenied
	case "invalid_request":
		return ErrInvalidRequest
	case "unauthorized_client":
		return ErrInvalidClient
	case "unsupported_response_type":
		return ErrUnsupportedGrant
	case "invalid_scope":
		return ErrInvalidScope
	case "server_error", "temporarily_unavailable":
		return ErrServer
	}
	return ErrAuthorizationFailed
}

// configErr reports bad configuration or a bad argument, matching
// ErrInvalidConfig.
func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// errorf is fmt.Errorf with the package prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("videoauth: "+format, args...)
}

// apiErrorer is implemented by this package's providers: it reads a failed
// API response in the service's own error shape.
type apiErrorer interface {
	apiError(rawURL string, resp *wire.Response) *Error
}

// CheckResponse returns nil for a 2xx response from p's API, else an *Error
// in p's terms: the service's code, a sentinel to branch on (rate limits
// match ErrRateLimited and carry RetryAfter, a dead grant
// ErrReauthRequired, a token that can be replaced ErrTokenExpired, a
// missing scope or right ErrForbidden, Vimeo's app token on a user
// endpoint ErrUserTokenRequired, 5xx ErrServer...). It reads at most 4 KiB
// of the body and puts it back, so the caller can still read all of it.
//
// A response the Transport returned after the service rejected its token
// carries what the Transport learnt: the grant is dead (ErrReauthRequired),
// the next request gets a new token (ErrTokenExpired), or the replacement
// failed (the *Error wraps the replacement's error, with its RetryAfter).
// Without the Transport (a response from another client), a rejection is
// typed from the answer alone: a 401 with RFC 6750's invalid_token, or the
// service's own dead-token code, is ErrReauthRequired.
//
// Called after the body was read or closed, CheckResponse still types the
// answer by its status and headers (a 401 with invalid_token, 403, 429 with
// Retry-After, 5xx), and by what the Transport learnt; the service's own
// code and description, which are in the body, are then missing, so codes
// that only the body carries (Vimeo's 8002, Simkl's user_token_failed,
// Viki's vcode) cannot be told apart.
//
// The Transport returns rate-limited and failed responses as they are and
// never retries them; this is how a caller types them.
func CheckResponse(p Provider, resp *http.Response) error {
	if resp == nil {
		return configErr("CheckResponse: nil response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	var why error
	if rb, ok := resp.Body.(*rejectedBody); ok {
		why = rb.why
	}
	body := peekBody(resp, maxErrBody)
	raw := ""
	if resp.Request != nil && resp.Request.URL != nil {
		raw = resp.Request.URL.String()
	}
	wr := &wire.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	var e *Error
	if a, ok := p.(apiErrorer); ok && p != nil {
		e = a.apiError(raw, wr)
	} else {
		name := ""
		if p != nil {
			name = p.Name()
		}
		e = (&endpoint{provider: name, clock: realClock{}}).errorFrom("api", raw, wr)
	}
	if why != nil && (e.Err == nil || errors.Is(e.Err, ErrReauthRequired) || errors.Is(e.Err, ErrTokenExpired) || errors.Is(e.Err, ErrBadResponse)) {
		// The service's words say "this token"; the Transport knows what
		// became of the grant.
		e.Err = why
		var we *Error
		if errors.As(why, &we) && we.RetryAfter > e.RetryAfter {
			e.RetryAfter = we.RetryAfter
		}
	}
	return e
}
