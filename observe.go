package videoauth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Observer receives the library's telemetry: every mint (its start, and
// its end with duration and outcome), every token the service rejected and
// its Verdict, every replay, revocation, rate limit, lost store lock and
// store error. Set it on App (every Source the provider builds, and its
// token endpoints, report to it) or on Source.Observer; a Transport reports
// through its Source's. nil reports nothing and costs nothing.
//
// Observe is called synchronously, on the goroutine doing the work (a
// background refresh's, for one), outside the Source's lock, so it must be
// safe for concurrent use and quick: hand the event to a channel or a
// metrics library, do not block on the network. ctx is the context of the
// work reported (the mint's, which keeps the first caller's values; the
// request's), so a tracer finds its parent span there. A panic in Observe
// is recovered and dropped: telemetry cannot break a request. A successful
// request emits nothing.
//
// An Event never holds a token, a secret, a code or an error's text: only
// names, times, statuses and an outcome class.
type Observer interface {
	// Observe is told of e, which happened in the work of ctx.
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f(ctx, e).
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// EventKind says what an Event reports.
type EventKind int

const (
	// EventMintStart: the Source calls its MintFunc (a grant at the token
	// endpoint: client credentials, a refresh, a sign-in). Concurrent
	// callers that share one mint see one start. A token adopted from a
	// Store is no mint.
	EventMintStart EventKind = iota + 1
	// EventMintEnd: the mint returned; Duration, Outcome, and for a
	// service's error its Status and RetryAfter.
	EventMintEnd
	// EventRejected: the API rejected the token a request carried; Verdict
	// says how (VerdictExpired: replaced and replayed if it can be;
	// VerdictRevoked: the grant is gone), Replayed whether it was the
	// replay's answer.
	EventRejected
	// EventReplay: the Transport sent a rejected request again with a new
	// token; Status and Outcome are the replay's ("ok", "token_expired",
	// "reauth_required", or why it could not be sent).
	EventReplay
	// EventRevoked: the Source learnt that the grant is gone and answers
	// ErrReauthRequired from now on: the API said so (Op "api"), a renewal
	// got invalid_grant (Op the grant), or Source.Revoke ended it (Op
	// "revoke").
	EventRevoked
	// EventRateLimited: a token endpoint (Op its operation) or the API (Op
	// "api") answered 429, or 503 with Retry-After (RFC 9110 §15.6.4,
	// §10.2.3); RetryAfter is the wait it asked for, 0 if none.
	EventRateLimited
	// EventLockLost: the Store reported ErrLockLost (Op "save" or
	// "unlock"): a renewal may not have been exclusive.
	EventLockLost
	// EventStoreError: a Store operation failed (Op "load", "lock",
	// "save", "unlock" or "delete"); Outcome classes the error.
	EventStoreError
)

var eventKindNames = [...]string{
	EventMintStart:   "mint_start",
	EventMintEnd:     "mint_end",
	EventRejected:    "rejected",
	EventReplay:      "replay",
	EventRevoked:     "revoked",
	EventRateLimited: "rate_limited",
	EventLockLost:    "lock_lost",
	EventStoreError:  "store_error",
}

// String names the kind: "mint_start", "mint_end", "rejected", "replay",
// "revoked", "rate_limited", "lock_lost", "store_error".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing an Observer is told. Fields that do not apply to its
// Kind are zero. It holds nothing secret, so it prints and logs as it is.
type Event struct {
	// Kind says what happened; the fields it uses say the rest.
	Kind EventKind
	// Provider is the service's name ("vimeo", "simkl", "viki"); "" for a
	// Source from NewSource.
	Provider string
	// Op is what was done: for mint events the grant ("client_credentials",
	// "refresh", "password", "login"; "mint" for NewSource's MintFunc),
	// "api" for the API's answers, a token endpoint's operation for its
	// rate limits, "revoke" for Source.Revoke, the Store's operation for
	// store events.
	Op string
	// At is when it happened, on the Source's (or App's) Clock.
	At time.Time
	// Duration is how long a mint took (EventMintEnd), on the same Clock.
	Duration time.Duration
	// Outcome classes a result (EventMintEnd, EventReplay, EventLockLost,
	// EventStoreError, EventRateLimited): "ok", "reauth_required",
	// "invalid_client", "invalid_credentials", "invalid_scope",
	// "rate_limited", "server", "bad_response", "token_expired",
	// "forbidden", "unsupported_grant", "config", "network", "timeout",
	// "canceled", "lock_lost", "store", "other". It comes from the
	// package's sentinels, never from an error's text.
	Outcome string
	// Status is the HTTP status of the answer, 0 if none arrived.
	Status int
	// Verdict is the provider's reading of a rejected answer
	// (EventRejected).
	Verdict Verdict
	// RetryAfter is how long the service asked to wait (Retry-After or
	// X-RateLimit-Reset), 0 if it did not say.
	RetryAfter time.Duration
	// Replayed marks the rejection of a replay (EventRejected).
	Replayed bool
	// Background marks a mint that renews a token ahead of its expiry
	// while no caller waits (EventMintStart, EventMintEnd).
	Background bool
}

// LogValue gives slog the event's kind by name and only the fields that
// apply.
func (e Event) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("kind", e.Kind.String()), slog.String("provider", e.Provider), slog.String("op", e.Op))
	if !e.At.IsZero() {
		attrs = append(attrs, slog.Time("at", e.At))
	}
	if e.Kind == EventMintEnd {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Outcome != "" {
		attrs = append(attrs, slog.String("outcome", e.Outcome))
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	if e.Kind == EventRejected {
		attrs = append(attrs, slog.String("verdict", e.Verdict.String()), slog.Bool("replayed", e.Replayed))
	}
	if e.RetryAfter != 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	if e.Background {
		attrs = append(attrs, slog.Bool("background", true))
	}
	return slog.GroupValue(attrs...)
}

// observe hands e to o. A panic in o is recovered: telemetry never breaks
// the work it reports. Callers check o != nil first, so that no Event is
// built for nobody.
func observe(ctx context.Context, o Observer, e Event) {
	defer func() { _ = recover() }()
	o.Observe(ctx, e)
}

// outcome classes err for an Event, from the package's sentinels and the
// standard library's error types, never from the error's text.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrReauthRequired):
		return "reauth_required"
	case errors.Is(err, ErrInvalidClient):
		return "invalid_client"
	case errors.Is(err, ErrInvalidCredentials):
		return "invalid_credentials"
	case errors.Is(err, ErrInvalidScope):
		return "invalid_scope"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrServer):
		return "server"
	case errors.Is(err, ErrBadResponse), errors.Is(err, ErrTokenTooLarge), errors.Is(err, ErrUnsupportedTokenType):
		return "bad_response"
	case errors.Is(err, ErrTokenExpired):
		return "token_expired"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrUnsupportedGrant):
		return "unsupported_grant"
	case errors.Is(err, ErrInvalidConfig), errors.Is(err, ErrInsecureEndpoint):
		return "config"
	case errors.Is(err, ErrLockLost):
		return "lock_lost"
	case errors.Is(err, ErrStoreChanged), errors.Is(err, ErrStoreCorrupt), errors.Is(err, ErrNotStored):
		return "store"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return "timeout"
		}
		return "network"
	}
	var e *Error
	if errors.As(err, &e) && e.Status == 0 && e.Err != nil {
		return "network" // no answer arrived (transportError)
	}
	return "other"
}

// storeOutcome is outcome for a Store's error: "store" unless a sentinel
// or the network says more.
func storeOutcome(err error) string {
	if o := outcome(err); o != "other" {
		return o
	}
	return "store"
}

// rateLimit reports whether an answer asks the client to slow down — a
// 429 (RFC 6585 §4), or a 503 with Retry-After (RFC 9110 §15.6.4) — and
// how long it asked to wait.
func rateLimit(status int, h http.Header, now time.Time) (bool, time.Duration) {
	switch {
	case status == http.StatusTooManyRequests:
	case status == http.StatusServiceUnavailable && h.Get("Retry-After") != "":
	default:
		return false, 0
	}
	return true, retryAfter(h, now)
}

// grantOp names the grant of a provider's Source for its mint events. It
// is a byte, not a string, so that it fits in the Source's padding.
type grantOp uint8

const (
	grantMint grantOp = iota // NewSource's MintFunc, or none
	grantClientCredentials
	grantRefresh
	grantPassword
	grantLogin
)

var grantNames = [...]string{
	grantMint:              "mint",
	grantClientCredentials: "client_credentials",
	grantRefresh:           "refresh",
	grantPassword:          "password",
	grantLogin:             "login",
}

func (g grantOp) String() string {
	if int(g) < len(grantNames) {
		return grantNames[g]
	}
	return "mint"
}

// newAppSource is newSource for a provider's grant: the Source reads
// app's Clock, reports to app's Observer, and names its mints grant.
func newAppSource(app App, provider string, grant grantOp, tok *Token, mint MintFunc) *Source {
	s := newSource(provider, app.Clock, tok, mint)
	s.Observer = app.Observer
	s.grant = grant
	return s
}
