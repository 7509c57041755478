package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/videoauth/videoauth/internal/wire"
)

// TwitchValidation is what Twitch's /oauth2/validate says of a live token
// (docs/twitch.md#validation). It holds no secret.
type TwitchValidation struct {
	// ClientID is the client the token was issued to.
	ClientID string
	// Login and UserID name the user the token acts for; both are empty
	// for an app token.
	Login, UserID string
	// Scopes are the granted scopes (none when Twitch sends null).
	Scopes []string
	// ExpiresAt is when the token expires, from expires_in; zero when
	// Twitch gave no lifetime (tokens of very old clients may not expire
	// [S]).
	ExpiresAt time.Time
}

// Every provider identifies its tokens.
var _ Identifier = (*Twitch)(nil)

// Validate asks Twitch about tok (GET /oauth2/validate with
// Authorization: OAuth, as documented [C]) and returns what it says. A
// token Twitch refuses (401 invalid access token: expired, revoked, the
// user disconnected the app or changed their password) gives an *Error
// matching ErrTokenExpired when tok can be replaced without the user (an
// app token, which is minted again, or a token with a refresh token) and
// ErrReauthRequired otherwise. A token issued to another client than
// App.ClientID gives an *Error matching ErrInvalidClient: Helix would
// refuse it with this App's Client-Id.
//
// Twitch requires an app that keeps OAuth sessions to validate each of
// them when it starts and hourly after that: ValidateSource and
// RunValidation do that for Sources.
func (t *Twitch) Validate(ctx context.Context, tok *Token) (*TwitchValidation, error) {
	return t.validate(ctx, tok, "validate")
}

// Identify asks Twitch whose token tok is, at /oauth2/validate (which,
// unlike Helix's /users, answers for app tokens too), and returns user_id
// as UserID and login as Name; an app token gives an Identity with an
// empty UserID. Twitch sends no user object (Identity.User is nil).
// Failures are Validate's, with Op "identify". See Identifier.
func (t *Twitch) Identify(ctx context.Context, tok *Token) (*Identity, error) {
	v, err := t.validate(ctx, tok, identifyOp)
	if err != nil {
		return nil, err
	}
	return &Identity{Provider: "twitch", UserID: v.UserID, Name: v.Login}, nil
}

// validate is Validate with the Op its errors carry.
func (t *Twitch) validate(ctx context.Context, tok *Token, op string) (*TwitchValidation, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, configErr("twitch: no token to validate")
	}
	if tok.Provider != "" && tok.Provider != "twitch" {
		return nil, configErr("twitch: a %s token cannot be validated by the twitch provider", safeCode(truncate(tok.Provider, 32)))
	}
	u := t.id.String() + "/oauth2/validate"
	// [C] "You may also use the Bearer prefix in place of OAuth"; OAuth is
	// the documented one.
	resp, err := t.std.ep.do(ctx, op, &wire.Request{Method: http.MethodGet, URL: u,
		Header: http.Header{"Authorization": {"OAuth " + tok.AccessToken}}})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Err = scrubErr(e.Err, tok.AccessToken)
		}
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := twitchRefine(op, t.std.ep.errorFrom(op, u, resp))
		if resp.Status == http.StatusUnauthorized && (e.Code == "invalid_access_token" || e.Code == "") {
			// The token is dead. Whether its grant is depends on whether
			// it can be replaced without the user.
			e.Err = rejection(VerdictExpired, twitchReplaceable(tok))
		}
		e.Description = redactText(e.Description, tok.AccessToken)
		e.Body = scrubBody(e.Body, tok)
		return nil, e
	}
	v, err := parseTwitchValidation(resp.Body, t.std.ep.clock.Now())
	if err != nil {
		return nil, &Error{Provider: "twitch", Op: op, Status: resp.Status, URL: redactString(u), Body: scrubBody(capBody(resp.Body), tok), Err: err}
	}
	if v.ClientID != t.app.ClientID {
		return nil, &Error{Provider: "twitch", Op: op, Status: resp.Status, URL: redactString(u), Code: "client_id_mismatch",
			Description: "the token was issued to another client than App.ClientID", Err: ErrInvalidClient}
	}
	return v, nil
}

// twitchReplaceable reports whether tok can be replaced without the user:
// an app token (minted again) or one with a refresh token.
func twitchReplaceable(tok *Token) bool {
	return tok.RefreshToken != "" || tok.Meta[twitchKindKey] == "app"
}

// parseTwitchValidation reads a /oauth2/validate answer [C]:
// {"client_id":"…","login":"…","scopes":[…],"user_id":"…","expires_in":N},
// login and user_id null for an app token, scopes null when none was
// granted [S]. client_id is required; expires_in 0 or absent means no
// lifetime.
func parseTwitchValidation(body []byte, now time.Time) (*TwitchValidation, error) {
	var a struct {
		ClientID  json.RawMessage `json:"client_id"`
		Login     json.RawMessage `json:"login"`
		UserID    json.RawMessage `json:"user_id"`
		Scopes    json.RawMessage `json:"scopes"`
		ExpiresIn json.RawMessage `json:"expires_in"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &a) != nil {
		return nil, fmt.Errorf("%w: validate answer is not a JSON object", ErrBadResponse)
	}
	v := &TwitchValidation{}
	var ok bool
	if v.ClientID, ok = jsonString(a.ClientID); !ok || v.ClientID == "" {
		return nil, fmt.Errorf("%w: validate answer has no client_id", ErrBadResponse)
	}
	login, ok1 := jsonText(a.Login)
	user, ok2 := jsonText(a.UserID)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: validate answer's login or user_id is not a string", ErrBadResponse)
	}
	v.Login, v.UserID = login, user
	if len(a.Scopes) > 0 && string(a.Scopes) != "null" {
		if err := json.Unmarshal(a.Scopes, &v.Scopes); err != nil {
			return nil, fmt.Errorf("%w: validate answer's scopes is not a list of strings", ErrBadResponse)
		}
		if len(v.Scopes) == 0 {
			v.Scopes = nil
		}
	}
	d, err := parseExpiresIn(a.ExpiresIn)
	if err != nil {
		return nil, err
	}
	if d > 0 {
		v.ExpiresAt = now.Add(d)
	}
	return v, nil
}

// ValidateSource validates src's token, as Twitch requires of every live
// session: it takes src's token (src.Token: the cached one, or one from
// its Store or a mint), validates it, and acts on the answer as a
// rejected request would. A token Twitch refuses is dropped (Invalidate)
// and replaced — a user token refreshed, an app token minted again — and
// the new one validated once more; a grant that cannot be renewed (its
// refresh token refused, or none) is reported like any other dead grant:
// the Source calls OnRevoked, its Observer sees EventRevoked, and it
// answers ErrReauthRequired from then on until it is given a new token,
// which is also the error returned here. A failure that says nothing of
// the grant (the network, 5xx, 429) is returned and changes nothing.
func (t *Twitch) ValidateSource(ctx context.Context, src *Source) (*TwitchValidation, error) {
	if src == nil {
		return nil, configErr("twitch: no Source to validate")
	}
	for attempt := 0; ; attempt++ {
		tok, err := src.Token(ctx)
		if err != nil {
			return nil, err
		}
		v, err := t.Validate(ctx, tok)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, ErrTokenExpired) && attempt == 0:
			// Twitch refused the token: replace it (one renewal for any
			// number of callers) and validate the replacement — unless the
			// Source keeps it (a token that just replaced a rejected one,
			// rejected at once: see Source), which says the grant may be
			// fine and Twitch rejects fresh tokens; then this is reported.
			if !src.Invalidate(tok) {
				return nil, err
			}
			continue
		case errors.Is(err, ErrTokenExpired), errors.Is(err, ErrReauthRequired):
			if src.Mint == nil || !twitchReplaceable(tok) {
				// No way to a new token without the user: the grant is
				// gone.
				src.revokeCtx(ctx, tok)
			}
			return nil, err
		}
		return nil, err
	}
}

// RunValidation runs Twitch's required validation until ctx ends: it calls
// ValidateSource for each Source that sources returns (the live grants,
// read anew each round, so grants may come and go) at once and then every
// TwitchValidateInterval on App.Clock, one after another, and hands each
// result to report (which may be nil). It returns ctx's error. Run it in
// its own goroutine:
//
//	go twitch.RunValidation(ctx, liveSources, func(src *videoauth.Source, _ *videoauth.TwitchValidation, err error) {
//		if errors.Is(err, videoauth.ErrReauthRequired) {
//			// end the user's sessions: the grant is gone
//		}
//	})
func (t *Twitch) RunValidation(ctx context.Context, sources func() []*Source, report func(*Source, *TwitchValidation, error)) error {
	if sources == nil {
		return configErr("twitch: RunValidation needs the function that lists the live Sources")
	}
	clock := clockOr(t.app.Clock)
	for {
		for _, src := range sources() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			v, err := t.ValidateSource(ctx, src)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if report != nil {
				report(src, v, err)
			}
		}
		if err := sleep(ctx, clock, TwitchValidateInterval); err != nil {
			return err
		}
	}
}

// String describes the validation: client, user and scopes.
func (v TwitchValidation) String() string {
	user := "none"
	if v.UserID != "" {
		user = fmt.Sprintf("%q (%q)", v.UserID, v.Login)
	}
	return "videoauth.TwitchValidation{client=" + v.ClientID + " user=" + user + " scopes=" + strings.Join(v.Scopes, ",") + "}"
}
