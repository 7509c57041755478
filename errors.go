package videoauth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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
func (e *Error) LogValue() slog.Value { return slog.StringValue(e.Error()) }

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
// so no verb reaches the raw fields.
func (e *Error) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, e.GoString())
		return
	}
	printRedacted(f, verb, e.Error())
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

// transportError wraps a failure that happened before any response arrived.
func transportError(provider, op string, u *url.URL, err error) error {
	return &Error{Provider: provider, Op: op, URL: RedactURL(u), Err: redactErr(err)}
}

// sentinelFor maps an RFC 6749 / device-flow error code to a sentinel.
func sentinelFor(code string, status int) error {
	switch code {
	case "access_denied", "authorization_declined":
		return ErrAccessDenied
	case "invalid_grant":
		return ErrCodeUsed
	case "expired_token":
		return ErrExpiredCode
	case "unsupported_grant_type":
		return ErrUnsupportedGrant
	case "invalid_request":
		return ErrInvalidRequest
	case "invalid_client", "unauthorized_client":
		return ErrInvalidClient
	case "slow_down", "rate_limit", "rate_limited":
		return ErrRateLimited
	}
	switch {
	case status == 429:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return nil
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
// match ErrRateLimited and carry RetryAfter, a dead token
// ErrReauthRequired, 5xx ErrServer...). It reads at most 4 KiB of the body
// and puts it back, so the caller can still read all of it. The Transport
// returns rate-limited and failed responses as they are and never retries
// them; this is how a caller types them.
func CheckResponse(p Provider, resp *http.Response) error {
	if resp == nil {
		return configErr("CheckResponse: nil response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	body := peekBody(resp, maxErrBody)
	raw := ""
	if resp.Request != nil && resp.Request.URL != nil {
		raw = resp.Request.URL.String()
	}
	wr := &wire.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	name := ""
	if p != nil {
		name = p.Name()
		if a, ok := p.(apiErrorer); ok {
			return a.apiError(raw, wr)
		}
	}
	ep := &endpoint{provider: name, clock: realClock{}}
	return ep.errorFrom("api", raw, wr)
}
