package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth/internal/wire"
)

// Google's hosts for the YouTube Data API v3 (docs/youtube.md#hosts): the
// consent page on YouTubeWebURL, the token, device and revocation
// endpoints on YouTubeOAuthURL, the API on YouTubeAPIURL (it answers on
// youtube.googleapis.com too; Owns accepts both).
const (
	YouTubeWebURL   = "https://accounts.google.com"
	YouTubeOAuthURL = "https://oauth2.googleapis.com"
	YouTubeAPIURL   = "https://www.googleapis.com"
)

// YouTube scopes (developers.google.com/youtube/v3/guides/auth; the Go
// client google.golang.org/api/youtube/v3 names the same strings). Only
// YouTubeScope and YouTubeScopeReadOnly are allowed in the device flow
// (docs/youtube.md#device-flow).
const (
	YouTubeScope         = "https://www.googleapis.com/auth/youtube"
	YouTubeScopeReadOnly = "https://www.googleapis.com/auth/youtube.readonly"
	YouTubeScopeUpload   = "https://www.googleapis.com/auth/youtube.upload"
	YouTubeScopeForceSSL = "https://www.googleapis.com/auth/youtube.force-ssl"
	YouTubeScopePartner  = "https://www.googleapis.com/auth/youtubepartner"
)

// ErrQuotaExceeded: the project's quota for the API is used up. It is not
// a token error: no new token, refresh or replay helps before the quota
// resets, which *Error.RetryAfter says when it is known (YouTube's daily
// quota resets at midnight Pacific Time). An *Error that matches it also
// matches ErrRateLimited, so code that waits RetryAfter on any rate limit
// waits the right time.
var ErrQuotaExceeded = errors.New("videoauth: quota exceeded")

// ErrChannelRequired: the account the token acts for has no channel (or
// profile) on the service, which the request needs: YouTube's
// youtubeSignupRequired for a Google account without a YouTube channel.
// The token is fine; the user must create the channel, and no new token
// or replay helps before that.
var ErrChannelRequired = errors.New("videoauth: the account has no channel")

// youtubeQuota is the Err of a quota answer: ErrQuotaExceeded and
// ErrRateLimited both.
var youtubeQuota = &eitherError{msg: "videoauth: quota exceeded", errs: []error{ErrQuotaExceeded, ErrRateLimited}}

const (
	// youtubeName is the provider's name, in tokens and errors.
	youtubeName = "youtube"
	// youtubeRefreshExpiryKey is the Token.Meta key of the refresh token's
	// end, from refresh_token_expires_in (RFC 3339).
	youtubeRefreshExpiryKey = "youtube_refresh_expiry"
	// youtubeTestingLife is a Testing-mode project's grant: 7 days
	// [S] refresh_token_expires_in 604799 in captured answers.
	youtubeTestingLife = 7 * 24 * time.Hour
	// youtubeRateLimitWait is the back-off of a rateLimitExceeded without
	// Retry-After [I]: Google says "exponential backoff", with no figure.
	youtubeRateLimitWait = time.Second
)

// youtubeDeviceScopes are the only scopes Google allows in the device flow
// for "TVs and Limited Input devices" [C] (developers.google.com/youtube/
// v3/live/guides/auth/devices): youtube.force-ssl, youtube.upload and
// youtubepartner are not among them, though the same page's own example
// asks for youtube.force-ssl. Aliases such as userinfo.email are not
// listed, so they are refused too [I]; add them here if Google accepts
// them.
var youtubeDeviceScopes = []string{
	"email", "openid", "profile",
	"https://www.googleapis.com/auth/drive.appdata", "https://www.googleapis.com/auth/drive.file",
	YouTubeScope, YouTubeScopeReadOnly,
}

// youtubeIssuers are the iss values a callback may carry: Google's issuer
// in both spellings its ID tokens use [I] (whether the authorization
// response carries iss at all is not documented), and the fake's web base.
var youtubeIssuers = []string{"https://accounts.google.com", "accounts.google.com"}

// YouTube is the provider of the YouTube Data API v3 on Google OAuth 2.0
// (docs/youtube.md): the web-server and installed-app code flows with PKCE
// S256, the device flow for TVs and limited-input devices, refresh,
// revocation and Identify. It is built on Standard where Google follows
// the RFCs (the code exchange, refresh, device polls) and handles Google's
// departures in this file: access_type=offline and prompt=consent on the
// consent URL, client_secret on every token request (client_secret_post),
// the device flow's scope allow-list, verification_url and error_code,
// error_subtype on invalid_grant, refresh_token_expires_in, token
// revocation without client authentication, and the YouTube API's error
// envelope (quota, rate limits, a missing channel).
//
// It prints with its client secret redacted.
type YouTube struct {
	app App
	std *Standard // the RFC pieces: token endpoint client, exchange, refresh, polls
	ep  *endpoint // std's, reading Google's error shapes
	// api is App.APIURL when set (a fake or a proxy: the API and the
	// OAuth endpoints on one base); nil means Google's own hosts.
	api         *url.URL
	web         *url.URL
	hosts       []string // where a device verification URL may point
	identifyURL string
	// revokeFn is y.Revoke, made once so that a Source per user does not
	// allocate its own method value.
	revokeFn func(context.Context, *Token) error
}

// Every provider identifies its tokens.
var _ Identifier = (*YouTube)(nil)

// NewYouTube returns the YouTube provider for app. App.ClientID and
// App.ClientSecret are required: Google's token endpoint refuses a Web,
// Desktop or TV client without its secret even with PKCE, although its
// guides call it optional [X] (docs/youtube.md#client-authentication; a
// Desktop client's secret is not secret, but it must be sent).
// App.APIURL moves the token, device and revocation endpoints and the API
// to one base, and App.WebURL the consent page (a fake, or a proxy).
// Scopes default to App.Scopes, else YouTubeScopeReadOnly.
func NewYouTube(app App) (*YouTube, error) {
	if app.ClientID == "" {
		return nil, configErr("youtube: App.ClientID is required")
	}
	if app.ClientSecret == "" {
		return nil, configErr("youtube: App.ClientSecret is required: Google's token endpoint refuses Web, Desktop and TV clients without it, PKCE or not")
	}
	oauthBase, err := baseURL(app.APIURL, YouTubeOAuthURL)
	if err != nil {
		return nil, err
	}
	apiBase, err := baseURL(app.APIURL, YouTubeAPIURL)
	if err != nil {
		return nil, err
	}
	web, err := baseURL(app.WebURL, YouTubeWebURL)
	if err != nil {
		return nil, err
	}
	o := oauthBase.String()
	std, err := NewStandard(app, StandardConfig{
		Name:      youtubeName,
		AuthURL:   web.String() + "/o/oauth2/v2/auth", // [C] x/oauth2's google.Endpoint still names /o/oauth2/auth
		TokenURL:  o + "/token",
		DeviceURL: o + "/device/code",
		RevokeURL: o + "/revoke",
		APIURL:    apiBase.String(),
		// [C] client_secret always, in the body: Google's endpoint is
		// InParams in x/oauth2's google.Endpoint; discovery lists Basic
		// too [S], but one style, sent once, is the rule.
		ClientAuth: ClientSecretPost,
		Scopes:     []string{YouTubeScopeReadOnly},
	})
	if err != nil {
		return nil, err
	}
	std.ep.errorShape = youtubeErrorShape
	y := &YouTube{app: app, std: std, ep: std.ep, web: web,
		identifyURL: apiBase.String() + "/youtube/v3/channels?part=snippet&mine=true"}
	if app.APIURL != "" {
		y.api = apiBase
	}
	y.hosts = verificationHosts([]*url.URL{web}, "www.google.com", "google.com")
	y.revokeFn = y.Revoke
	return y, nil
}

// Name returns "youtube".
func (y *YouTube) Name() string { return youtubeName }

func (y *YouTube) appHTTPClient() *http.Client { return y.app.HTTPClient }

// Config returns the x/oauth2 configuration of Google's code flow for
// YouTube: the /o/oauth2/v2/auth consent page, the token and device
// endpoints, and AuthStyleInParams set explicitly (x/oauth2's
// endpoints.Google and google.ConfigFromJSON leave it to auto-detection,
// which sends a failed request twice).
func (y *YouTube) Config() *oauth2.Config { return y.std.Config() }

// Owns reports whether u is a YouTube Data API URL: https on
// www.googleapis.com or youtube.googleapis.com (port 443), or on the
// origin of App.APIURL when set, with a path under /youtube/ or
// /upload/youtube/. www.googleapis.com serves every Google API; a YouTube
// token goes to YouTube's paths only, so a request built for Drive or
// Gmail on the same host never carries it.
func (y *YouTube) Owns(u *url.URL) bool {
	if u == nil {
		return false
	}
	if y.api != nil {
		return sameOrigin(u, y.api) && youtubePath(u.Path)
	}
	if u.Scheme == "https" && (u.Host == "www.googleapis.com" || u.Host == "youtube.googleapis.com") {
		return youtubePath(u.Path) // the common case, without splitting the host
	}
	if !strings.EqualFold(u.Scheme, "https") || originPort(u) != "443" {
		return false
	}
	switch strings.ToLower(u.Hostname()) {
	case "www.googleapis.com", "youtube.googleapis.com":
		return youtubePath(u.Path)
	}
	return false
}

// youtubePath reports whether p, once its dot segments are resolved as the
// server resolves them, is under /youtube/ or /upload/youtube/. A clean
// path costs no allocation.
func youtubePath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	return strings.HasPrefix(c, "/youtube/") || strings.HasPrefix(c, "/upload/youtube/")
}

func (y *YouTube) keepsURL() {}

// Authorize sets Authorization: Bearer, the way Google prefers (an
// access_token query parameter "can end up in log files" [C]). A token of
// another provider, or of a type other than Bearer, is refused.
func (y *YouTube) Authorize(r *http.Request, t *Token) error {
	if err := y.checkToken(t); err != nil {
		return err
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header["Authorization"] = []string{y.credential(t)}
	return nil
}

func (y *YouTube) checkToken(t *Token) error {
	if t == nil || t.AccessToken == "" {
		return configErr("youtube: no access token")
	}
	if t.Provider != "" && t.Provider != youtubeName {
		return configErr("a %s token cannot be sent to youtube", safeCode(truncate(t.Provider, 32)))
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return fmt.Errorf("%w: youtube: token type %q", ErrUnsupportedTokenType, safeCode(truncate(t.TokenType, 32)))
	}
	return nil
}

func (y *YouTube) credential(t *Token) string { return "Bearer " + t.AccessToken }

func (y *YouTube) authorizeWith(r *http.Request, t *Token, cred string) error {
	return y.authorizeWithValues(r, t, []string{cred})
}

// authorizeWithValues is the Transport's Authorize: the Authorization
// value slice it built once for the token goes in as it is.
func (y *YouTube) authorizeWithValues(r *http.Request, t *Token, values []string) error {
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return y.checkToken(t)
	}
	r.Header["Authorization"] = values
	return nil
}

// Verdict reads a YouTube API response (docs/youtube.md#api-errors). A 401
// whose error reason is authError ("Invalid Credentials"), or whose Bearer
// challenge says error="invalid_token" [S], is VerdictExpired: the Source
// refreshes once and the Transport replays the request once; a refresh
// answered invalid_grant makes the Source answer ErrReauthRequired. A 401
// that names another reason is about the request or the account, not the
// token, and is VerdictOK whatever its challenge: youtubeSignupRequired
// (the account has no channel), authorizationRequired, required
// (CREDENTIALS_MISSING: no credential arrived) [S]/[I]. Every 403 —
// quotaExceeded, rateLimitExceeded, insufficientPermissions, forbidden —
// and every 429 and 5xx is VerdictOK: a new token would not help, and
// quota is spent by every request, failed ones included [C].
// CheckResponse types them.
func (y *YouTube) Verdict(resp *http.Response) Verdict {
	if resp.StatusCode != http.StatusUnauthorized {
		return VerdictOK
	}
	code, _ := youtubeErrorShape(peekBody(resp, 4<<10))
	switch code {
	case "authError":
		return VerdictExpired
	case "youtubeSignupRequired", "authorizationRequired", "required", "CREDENTIALS_MISSING", "NoLinkedYouTubeAccount":
		return VerdictOK
	}
	if bearerChallengeError(resp.Header) == "invalid_token" {
		return VerdictExpired
	}
	return VerdictOK
}

// youtubeErrorShape reads Google's error bodies (docs/youtube.md#error-shapes):
// the token endpoint's RFC 6749 {error, error_description[, error_subtype]},
// the device endpoint's quota answer {error_code}, and the API envelope
// {"error":{code, message, status, errors:[{reason, message, domain}],
// details:[{reason}]}}, whose first reason is the code (else an ErrorInfo
// detail's reason, else the status). A member of the wrong type is
// ignored; anything that is not code-like is prose, not a code.
func youtubeErrorShape(body []byte) (code, desc string) {
	var e struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription json.RawMessage `json:"error_description"`
		ErrorCode        json.RawMessage `json:"error_code"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	desc, _ = jsonString(e.ErrorDescription)
	if s, ok := jsonString(e.Error); ok {
		return safeCode(s), desc
	}
	if len(e.Error) > 0 && e.Error[0] == '{' {
		var env struct {
			Message json.RawMessage `json:"message"`
			Status  json.RawMessage `json:"status"`
			Errors  []struct {
				Reason json.RawMessage `json:"reason"`
			} `json:"errors"`
			Details []struct {
				Reason json.RawMessage `json:"reason"`
			} `json:"details"`
		}
		_ = json.Unmarshal(e.Error, &env) // a member of the wrong type leaves it empty
		desc, _ = jsonString(env.Message)
		for _, r := range env.Errors {
			if c, _ := jsonString(r.Reason); safeCode(c) != "" {
				return c, desc
			}
		}
		for _, r := range env.Details {
			if c, _ := jsonString(r.Reason); safeCode(c) != "" {
				return c, desc
			}
		}
		s, _ := jsonString(env.Status)
		return safeCode(s), desc
	}
	s, _ := jsonString(e.ErrorCode)
	return safeCode(s), desc
}

// youtubeErrorSubtype is the error_subtype of a token-endpoint error
// (invalid_rapt), or "". x/oauth2 drops it [C]; only it tells a session
// control policy from a revoked grant.
func youtubeErrorSubtype(body []byte) string {
	var e struct {
		Subtype json.RawMessage `json:"error_subtype"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &e) != nil {
		return ""
	}
	s, _ := jsonString(e.Subtype)
	return safeCode(s)
}

// refineErr refines err when it is a token-endpoint *Error of op.
func (y *YouTube) refineErr(op string, err error, cur *Token) error {
	var e *Error
	if errors.As(err, &e) && e.Provider == youtubeName && e.Status != 0 {
		y.refine(op, e, cur)
	}
	return err
}

// refine maps Google's OAuth error codes to sentinels beyond the RFC ones
// (docs/youtube.md#authorization-code, #device-flow and #refresh). cur is the token a refresh renewed.
func (y *YouTube) refine(op string, e *Error, cur *Token) *Error {
	switch e.Code {
	case "invalid_grant":
		if op == "refresh" {
			e.Err = fmt.Errorf("%w: %s", ErrReauthRequired, y.deadGrant(youtubeErrorSubtype(e.Body), cur))
		}
		// exchange: ErrCodeUsed (an expired or used code, or a PKCE
		// verifier that does not match); device_poll: ErrExpiredCode.
	case "admin_policy_enforced", "org_internal":
		// A Workspace admin blocks a scope, or the client is limited to
		// one Cloud organisation: a refusal the user cannot overturn.
		e.Err = ErrAccessDenied
	case "redirect_uri_mismatch":
		e.Err = ErrRedirectMismatch
	case "deleted_client":
		e.Err = ErrInvalidClient
	case "rate_limit_exceeded":
		// [C] the device endpoint's quota answer: 403 {"error_code":...},
		// "use a backoff strategy"; no wait is given.
		e.Err = youtubeQuota
	}
	return e
}

// deadGrant says why a refresh got invalid_grant, as far as the answer
// and the token tell (docs/youtube.md#refresh-token-expiry).
func (y *YouTube) deadGrant(subtype string, cur *Token) string {
	if subtype == "invalid_rapt" {
		return "a session-control policy requires the user to sign in again (invalid_rapt); the grant itself may be intact"
	}
	if end, ok := YouTubeRefreshExpiry(cur); ok && !y.ep.clock.Now().Before(end.Add(-time.Minute)) {
		if end.Sub(youtubeGrantStart(cur, end)) <= youtubeTestingLife+time.Hour {
			return "the refresh token reached its end (refresh_token_expires_in): a project whose OAuth consent screen is in Testing mode gets 7-day grants; publish the app for lasting access"
		}
		return "the refresh token reached its end (refresh_token_expires_in): the user granted time-based access"
	}
	return "the refresh token was revoked or has expired (the user removed the app, it was unused for six months, or a newer sign-in pushed it past Google's 100 refresh tokens per account and client)"
}

// youtubeGrantStart is when cur's grant started, as far as its Meta tells,
// or end minus 7 days.
func youtubeGrantStart(cur *Token, end time.Time) time.Time {
	if cur != nil {
		if s, err := time.Parse(time.RFC3339, cur.Meta[youtubeGrantStartKey]); err == nil {
			return s
		}
	}
	return end.Add(-youtubeTestingLife)
}

// youtubeGrantStartKey is the Token.Meta key of when the refresh token's
// lifetime was read (RFC 3339), so deadGrant can tell a 7-day Testing
// grant from longer time-based access.
const youtubeGrantStartKey = "youtube_refresh_issued"

// YouTubeRefreshExpiry returns when t's refresh token stops working, when
// Google said so: refresh_token_expires_in, which Google sends for a
// project in Testing mode (7 days from consent, for every YouTube scope)
// and for time-based access [S]. ok is false when Google gave no end (the
// refresh token lasts until revoked, unused for six months, or evicted).
func YouTubeRefreshExpiry(t *Token) (end time.Time, ok bool) {
	if t == nil {
		return time.Time{}, false
	}
	end, err := time.Parse(time.RFC3339, t.Meta[youtubeRefreshExpiryKey])
	return end, err == nil
}

// apiError implements apiErrorer for CheckResponse.
func (y *YouTube) apiError(rawURL string, resp *wire.Response) *Error {
	return y.refineAPI(y.ep.errorFrom("api", rawURL, resp))
}

// refineAPI maps the YouTube API's error reasons to sentinels
// (docs/youtube.md#api-errors).
func (y *YouTube) refineAPI(e *Error) *Error {
	switch e.Code {
	case "quotaExceeded":
		// [C] "Daily quotas reset at midnight Pacific Time"; the answer
		// names no time, so the reset is computed.
		e.Err = youtubeQuota
		now := y.ep.clock.Now()
		e.RetryAfter = max(e.RetryAfter, nextPacificMidnight(now).Sub(now))
	case "rateLimitExceeded", "userRateLimitExceeded", "RESOURCE_EXHAUSTED":
		// [S]/[I] Google-wide throttling (usageLimits): back off, retry.
		e.Err = ErrRateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = youtubeRateLimitWait
		}
	case "youtubeSignupRequired", "NoLinkedYouTubeAccount":
		e.Err = ErrChannelRequired
	case "authorizationRequired", "required", "CREDENTIALS_MISSING":
		// [S]/[I] no OAuth credential arrived: a client bug, not a token
		// to replace.
		e.Err = ErrInvalidRequest
	case "insufficientPermissions":
		e.Err = ErrForbidden // RFC 6750 insufficient_scope: a new consent with the scope
	case "authError":
		if e.Err == nil {
			e.Err = ErrReauthRequired // as a 401 invalid_token is, without the Transport's knowledge
		}
	}
	if e.Err == nil && e.Status == http.StatusBadRequest {
		e.Err = ErrInvalidRequest // badRequest, invalidPageToken, missingRequiredParameter...
	}
	return e
}

// youtubeHoldsRefresh reports whether held is a YouTube token with a
// refresh token.
func youtubeHoldsRefresh(held *Token) bool {
	return held != nil && held.RefreshToken != "" && (held.Provider == "" || held.Provider == youtubeName)
}

// AuthRequest starts the authorization-code flow for a user whose refresh
// token is not stored: it is SignIn(nil).AuthRequest. See SignIn for the
// parameters.
func (y *YouTube) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	return y.authRequest(redirectURL, scopes, nil)
}

// Exchange finishes the authorization-code flow of AuthRequest: it is
// SignIn(nil).Exchange. See SignIn.
func (y *YouTube) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	return y.exchange(ctx, ar, q, nil)
}

// SignIn returns the authorization-code flow for a user whose stored token
// is held (nil: none stored), for a web server or, through Loopback, an
// installed app (docs/youtube.md#authorization-code).
//
// Its AuthRequest builds Google's consent URL (/o/oauth2/v2/auth) with a
// fresh 256-bit state, a PKCE S256 challenge with code_challenge_method
// sent explicitly (Google's default is plain [C]), access_type=offline
// (no refresh token without it [C]) and the scopes (default App.Scopes,
// else YouTubeScopeReadOnly). prompt=consent is added only when held has
// no refresh token: Google returns a refresh token only when the user saw
// the consent screen [C], and each consent mints another one, of which
// Google keeps 100 per account and client, silently dropping the oldest
// [C] — forcing consent on every sign-in would kill the refresh tokens the
// user's other sessions hold. The redirect URL must be absolute: https,
// or http to a loopback host with a port (Loopback makes
// http://127.0.0.1:PORT/callback on a random port, as Google recommends
// for desktop apps [C]); the out-of-band urn:ietf:wg:oauth:2.0:oob flow,
// custom schemes and a portless http://localhost (google.ConfigFromJSON's
// default for a Desktop client) are refused with ErrInvalidConfig.
//
// Its Exchange checks the callback against ar — state first, in constant
// time, single use; an iss, when present, must be Google's — and
// exchanges the code once with client_id, client_secret, the identical
// redirect_uri and the PKCE verifier (Standard.Exchange). error=access_denied
// is ErrAccessDenied, admin_policy_enforced and org_internal too; a code
// Google refuses (invalid_grant, also a PKCE mismatch) ErrCodeUsed. An
// answer without refresh_token — a user who had consented before — keeps
// held's refresh token, never a blank one. A refresh_token_expires_in in
// the answer (a Testing-mode project: 7 days) is kept for
// YouTubeRefreshExpiry and reported to App.Logger; so is a consent that
// granted fewer scopes than were asked for (granular consent [C]:
// Token.RequireScopes gives the same answer as an error).
//
// Pass held only for the same user: the refresh token it keeps belongs
// to held's Google account. After the Source reported ErrReauthRequired,
// pass nil, so that consent is shown and a new refresh token issued.
func (y *YouTube) SignIn(held *Token) CodeFlow { return youtubeSignIn{y: y, held: held} }

// youtubeSignIn is SignIn's CodeFlow.
type youtubeSignIn struct {
	y    *YouTube
	held *Token
}

func (f youtubeSignIn) Name() string { return youtubeName }

func (f youtubeSignIn) AuthRequest(redirectURL string, scopes ...string) (*AuthRequest, error) {
	return f.y.authRequest(redirectURL, scopes, f.held)
}

func (f youtubeSignIn) Exchange(ctx context.Context, ar *AuthRequest, q url.Values) (*Token, error) {
	return f.y.exchange(ctx, ar, q, f.held)
}

// Format prints what the flow is for, never the held token's secrets.
func (f youtubeSignIn) Format(s fmt.State, verb rune) {
	printRedacted(s, verb, "videoauth.YouTube.SignIn{held="+f.held.String()+"}")
}

func (y *YouTube) authRequest(redirectURL string, scopes []string, held *Token) (*AuthRequest, error) {
	cfg := y.Config()
	if redirectURL != "" {
		cfg.RedirectURL = redirectURL
	}
	if err := checkYouTubeRedirect(cfg.RedirectURL); err != nil {
		return nil, err
	}
	cfg.Scopes = y.std.scopesFor(scopes)
	opts := []oauth2.AuthCodeOption{oauth2.AccessTypeOffline}
	if !youtubeHoldsRefresh(held) {
		opts = append(opts, oauth2.ApprovalForce)
	}
	return newAuthRequest(authRequestOpts{provider: youtubeName, cfg: cfg, pkce: true, extraParams: opts})
}

// checkYouTubeRedirect refuses the redirect URLs Google no longer serves
// (docs/youtube.md#installed-apps) [C]: none, a relative one or one with
// a fragment, the out-of-band flow, custom schemes, plain http to a host
// that is not loopback, and a loopback URL without a port.
func checkYouTubeRedirect(raw string) error {
	if raw == "" {
		return configErr("youtube: a redirect URL is required (Loopback makes one on 127.0.0.1)")
	}
	if strings.HasPrefix(raw, "urn:ietf:wg:oauth:2.0:oob") || raw == "oob" {
		return configErr("youtube: Google no longer supports the out-of-band (copy/paste) flow; use Loopback, or Device on a TV")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || strings.Contains(raw, "#") {
		return configErr("youtube: the redirect URL must be absolute, without a fragment (RFC 6749 §3.1.2)")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && wire.IsLoopback(u.Hostname()):
		if u.Port() == "" {
			return configErr("youtube: a loopback redirect URL needs the port the app listens on (a Desktop client's http://localhost has none); use Loopback")
		}
	case u.Scheme == "http":
		return configErr("youtube: plain http redirects go to loopback hosts only")
	default:
		return configErr("youtube: Google no longer supports custom URI scheme redirects; use Loopback")
	}
	return nil
}

func (y *YouTube) exchange(ctx context.Context, ar *AuthRequest, q url.Values, held *Token) (*Token, error) {
	// The state is checked first: a callback with a wrong state is
	// ErrStateMismatch whatever its iss, and consumes nothing.
	if ar != nil && ar.Provider == youtubeName && !ar.Implicit && q.Has("iss") && ar.stateMatches(q) && !y.issuerOK(q["iss"]) {
		if !ar.used.CompareAndSwap(false, true) {
			return nil, ErrStateUsed
		}
		return nil, fmt.Errorf("%w: the callback's iss is not Google's", ErrIssuerMismatch)
	}
	tok, err := y.std.Exchange(ctx, ar, q) // Standard has no Issuer: it drops iss
	if err != nil {
		return nil, y.refineErr("exchange", err, nil)
	}
	y.finish(tok, held, "exchange", ar.Scopes)
	return tok, nil
}

// issuerOK reports whether iss is one value naming Google (or the fake's
// web base).
func (y *YouTube) issuerOK(iss []string) bool {
	return len(iss) == 1 && (slices.Contains(youtubeIssuers, iss[0]) || iss[0] == y.web.String())
}

// finish completes a token from a sign-in (exchange or device): held's
// refresh token when Google sent none, the refresh token's end, and the
// warnings App.Logger gets.
func (y *YouTube) finish(tok *Token, held *Token, grant string, requested []string) {
	if tok.RefreshToken == "" && youtubeHoldsRefresh(held) {
		// [C] no refresh_token when the user had consented before (no
		// prompt=consent): the stored one still works. Keep it, and its
		// end.
		tok.RefreshToken = held.RefreshToken
		for _, k := range []string{youtubeRefreshExpiryKey, youtubeGrantStartKey} {
			if v, ok := held.Meta[k]; ok {
				youtubeSetMeta(tok, k, v)
			}
		}
	}
	y.readRefreshExpiry(tok)
	if tok.RefreshToken == "" {
		y.app.warn("videoauth: youtube returned no refresh token; the token works for about an hour and cannot be renewed",
			"grant", grant)
	}
	if end, ok := YouTubeRefreshExpiry(tok); ok && tok.Extra["refresh_token_expires_in"] != nil {
		life := end.Sub(y.ep.clock.Now())
		if life <= youtubeTestingLife {
			y.app.warn("videoauth: youtube's refresh token expires in 7 days: the Google Cloud project's OAuth consent screen is in Testing mode; publish it for lasting access",
				"grant", grant, "refresh_expiry", end.UTC().Format(time.RFC3339))
		} else {
			y.app.warn("videoauth: youtube's refresh token expires (time-based access)", "grant", grant, "refresh_expiry", end.UTC().Format(time.RFC3339))
		}
	}
	y.checkScopes(grant, requested, tok)
}

// readRefreshExpiry stores refresh_token_expires_in (seconds from now, a
// number or a numeric string) as the refresh token's end in tok.Meta.
// [S] Google sends it in the exchange answer of a Testing-mode project
// (604799) and for time-based access; when a refresh answer carries it, it
// is read again. An absent, unreadable or zero value leaves Meta as it is.
func (y *YouTube) readRefreshExpiry(tok *Token) {
	raw, ok := tok.Extra["refresh_token_expires_in"]
	if !ok {
		return
	}
	d, err := parseExpiresIn(raw)
	if err != nil || d <= 0 || d >= maxExpiresIn {
		return
	}
	now := y.ep.clock.Now()
	youtubeSetMeta(tok, youtubeRefreshExpiryKey, now.Add(d).UTC().Format(time.RFC3339))
	youtubeSetMeta(tok, youtubeGrantStartKey, now.UTC().Format(time.RFC3339))
}

func youtubeSetMeta(t *Token, k, v string) {
	if t.Meta == nil {
		t.Meta = map[string]string{}
	}
	t.Meta[k] = v
}

// checkScopes warns through App.Logger when Google granted fewer scopes
// than were asked for: users may untick scopes on the consent screen
// (granular consent [C]), and such a token fails only at the first request
// that needs a missing scope, with 403 insufficientPermissions. Only scope
// names are logged.
func (y *YouTube) checkScopes(grant string, requested []string, tok *Token) {
	if y.app.Logger == nil || len(tok.Scopes) == 0 {
		return
	}
	var missing []string
	for _, sc := range requested {
		if !tok.HasScope(sc) && !slices.Contains(missing, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		y.app.warn("videoauth: youtube granted fewer scopes than requested; requests needing the missing ones will fail",
			"grant", grant, "missing", strings.Join(missing, " "), "granted", strings.Join(tok.Scopes, " "))
	}
}

// Device starts Google's device flow for "TVs and Limited Input devices"
// (docs/youtube.md#device-flow): it needs a client of that type, and only
// the scopes email, openid, profile, drive.appdata, drive.file, youtube
// and youtube.readonly [C]; any other scope (youtube.force-ssl,
// youtube.upload, youtubepartner...) is refused before anything is sent,
// with an error matching ErrInvalidScope and ErrInvalidConfig. Scopes
// default to App.Scopes, else YouTubeScopeReadOnly.
//
// The start posts client_id and scope to /device/code [C]; Google's
// quota answer there, 403 {"error_code":"rate_limit_exceeded"}, is an
// *Error matching ErrQuotaExceeded and ErrRateLimited. The answer's
// verification_url (RFC 8628's verification_uri) must be an https page on
// www.google.com or google.com (or the host of App.WebURL);
// any other gives an *Error wrapping ErrBadVerificationURI. Show
// VerificationURI and UserCode as they are: the code is case-sensitive.
//
// Wait polls /token with client_id, client_secret (Google wants it [C]),
// the device_code and the RFC 8628 grant type on the common engine. Google
// departs from RFC 8628 [X]: pending is 428, slow_down and access_denied
// are both 403, so the engine branches on error, never on status:
// authorization_pending keeps the interval, slow_down adds 5 s for this
// and every later poll, access_denied, admin_policy_enforced and
// org_internal are ErrAccessDenied, expired_token or invalid_grant (after
// expires_in; which one Google sends is not documented [I]) ErrExpiredCode,
// invalid_client (a client that is not of the TV type) ErrInvalidClient.
func (y *YouTube) Device(ctx context.Context, scopes ...string) (*DeviceCode, error) {
	sc := y.std.scopesFor(scopes)
	for _, s := range sc {
		if !slices.Contains(youtubeDeviceScopes, s) {
			return nil, fmt.Errorf("%w: youtube: the device flow allows only the scopes email, openid, profile, drive.appdata, drive.file, youtube and youtube.readonly, not %q; nothing was sent (%w)",
				ErrInvalidScope, truncate(s, 100), ErrInvalidConfig)
		}
	}
	u := y.std.deviceURL
	resp, err := y.ep.do(ctx, "device", &wire.Request{URL: u, Style: wire.AuthInParams, ClientID: y.app.ClientID,
		Form: url.Values{"scope": {strings.Join(sc, " ")}}})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := y.refine("device", y.ep.errorFrom("device", u, resp), nil)
		if errors.Is(e, ErrQuotaExceeded) && y.app.Observer != nil {
			now := y.ep.clock.Now()
			observe(ctx, y.app.Observer, Event{Kind: EventRateLimited, Provider: youtubeName, Op: "device", At: now,
				Status: resp.Status, Outcome: "rate_limited", RetryAfter: e.RetryAfter})
		}
		return nil, e
	}
	da, err := parseDeviceAuth(resp.Body) // verification_url accepted for verification_uri
	if err != nil {
		return nil, &Error{Provider: youtubeName, Op: "device", Status: resp.Status, URL: redactString(u), Body: capBody(resp.Body), Err: err}
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	poll := func(ctx context.Context) (*Token, pollOutcome, error) {
		tok, err := y.std.token(ctx, "device_poll", form)
		if err != nil {
			err = y.refineErr("device_poll", err, nil)
			return nil, rfc8628Outcome(err), err
		}
		grantedScopes(tok, sc)
		y.finish(tok, nil, "device", sc)
		return tok, pollDone, nil
	}
	dc := newDeviceCode(youtubeName, y.app.Clock, time.Duration(da.ExpiresIn)*time.Second, time.Duration(da.Interval)*time.Second, poll)
	dc.UserCode, dc.VerificationURI, dc.VerificationURIComplete = da.UserCode, da.VerificationURI, da.VerificationURIComplete
	if err := checkDeviceCode(dc, y.hosts); err != nil {
		return nil, &Error{Provider: youtubeName, Op: "device", Status: resp.Status, URL: redactString(u), Body: capBody(resp.Body), Err: err}
	}
	return dc, nil
}

// Source returns a Source holding a user token t (from Exchange, Device or
// storage) that renews it with the refresh_token grant (client_id,
// client_secret, refresh_token [C]): ahead of its expiry (Google's access
// tokens last about an hour), and once when the API rejects it (401
// authError). Google's refresh answers carry no refresh_token [C]: the
// stored one is kept, never blanked; should Google ever send one, it
// replaces the old (RFC 6749 §6) and reaches OnToken (and, with a Store,
// is saved with CompareAndSwap under the store's lock) before any request
// uses it, so one refresh runs per grant across goroutines, processes and
// replicas. A refresh answered invalid_grant makes the Source answer
// ErrReauthRequired, the first time with an error that says why: a
// session-control policy (error_subtype invalid_rapt), the end of a
// Testing-mode project's 7-day grant or of time-based access
// (refresh_token_expires_in), or a revoked, idle or evicted token.
func (y *YouTube) Source(t *Token) *Source {
	src := newAppSource(y.app, youtubeName, grantRefresh, t, nil)
	src.Mint = func(ctx context.Context, cur *Token) (*Token, error) { return y.refresh(ctx, src, cur) }
	src.revoker = y.revokeFn
	return src
}

// refresh is Source's MintFunc: Standard's refresh (which keeps the old
// refresh token, scopes and Meta when the answer omits them), with
// Google's errors refined and refresh_token_expires_in read.
func (y *YouTube) refresh(ctx context.Context, src *Source, cur *Token) (*Token, error) {
	tok, err := y.std.refresh(ctx, src, cur)
	if err != nil {
		return nil, y.refineErr("refresh", err, cur)
	}
	if cur != nil && tok.RefreshToken != cur.RefreshToken && tok.Extra["refresh_token_expires_in"] == nil {
		// A rotated refresh token: the old one's end says nothing of it.
		delete(tok.Meta, youtubeRefreshExpiryKey)
		delete(tok.Meta, youtubeGrantStartKey)
	}
	if _, ok := tok.Extra["refresh_token_expires_in"]; ok && cur != nil {
		// A refresh that states the end again: measured from now, with the
		// grant's start kept.
		start := cur.Meta[youtubeGrantStartKey]
		y.readRefreshExpiry(tok)
		if start != "" {
			youtubeSetMeta(tok, youtubeGrantStartKey, start)
		}
	}
	return tok, nil
}

// Revoke ends t's grant at POST /revoke (docs/youtube.md#revocation): the
// refresh token when t has one, else the access token, in the form body
// (Google's examples put it in the query, which ends up in logs [I]) and
// without client authentication, which Google does not ask for [C].
// Revoking either token ends both, and Google revokes every scope the
// project was granted, for all the project's clients, with some delay
// [C]. An answer 400 invalid_token (the token was already revoked or
// expired [S]) counts as revoked.
func (y *YouTube) Revoke(ctx context.Context, t *Token) error {
	if t == nil || (t.AccessToken == "" && t.RefreshToken == "") {
		return configErr("youtube: no token to revoke")
	}
	if t.Provider != "" && t.Provider != youtubeName {
		return configErr("a %s token cannot be revoked at youtube", safeCode(truncate(t.Provider, 32)))
	}
	tok := t.RefreshToken
	if tok == "" {
		tok = t.AccessToken
	}
	u := y.std.revokeURL
	resp, err := y.ep.do(ctx, "revoke", &wire.Request{URL: u, Form: url.Values{"token": {tok}}})
	if err != nil {
		return err
	}
	if ok2xx(resp.Status) {
		return nil
	}
	e := y.refine("revoke", y.ep.errorFrom("revoke", u, resp), nil)
	if e.Status == http.StatusBadRequest && e.Code == "invalid_token" {
		return nil // [S] already revoked or expired; [I] that is what was asked
	}
	return e
}

// Identify asks YouTube whose token t is (GET
// /youtube/v3/channels?part=snippet&mine=true, one quota unit) and
// returns the channel: its id (UC…) as UserID, its title as Name and the
// channel object as User. A Google account without a YouTube channel
// answers with no channel: an *Error matching ErrChannelRequired [I] (the
// user must create one before the API can act for them). A token the API
// rejects (401 authError) matches ErrTokenExpired when it has a refresh
// token (refresh it and ask again), else ErrReauthRequired; a quota
// answer matches ErrQuotaExceeded. See Identifier.
func (y *YouTube) Identify(ctx context.Context, t *Token) (*Identity, error) {
	if err := checkIdentifyToken(y, t); err != nil {
		return nil, err
	}
	u := y.identifyURL
	resp, err := identifyGet(ctx, y, y.ep.hc, u, u, t, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	if !ok2xx(resp.Status) {
		e := y.refineAPI(y.ep.errorFrom("api", u, resp))
		return nil, identifyFailed(e, t, u, rejection(verdictOf(y, resp), t.RefreshToken != ""))
	}
	id, err := parseYouTubeIdentity(resp.Body)
	if err != nil {
		return nil, badIdentity(youtubeName, resp, t, u, err)
	}
	return identified(id, t), nil
}

// parseYouTubeIdentity reads a channels.list answer: the first item's id
// and snippet.title. An answer without items is a Google account without a
// channel (ErrChannelRequired).
func parseYouTubeIdentity(body []byte) (*Identity, error) {
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if !looksJSON(body) || json.Unmarshal(body, &l) != nil {
		return nil, fmt.Errorf("%w: channel list is not a JSON object with an items list", ErrBadResponse)
	}
	if len(l.Items) == 0 {
		return nil, fmt.Errorf("%w: the Google account has no YouTube channel", ErrChannelRequired)
	}
	obj, ok := userObject(l.Items[0])
	if !ok {
		return nil, fmt.Errorf("%w: the channel is not an object", ErrBadResponse)
	}
	var c struct {
		ID      json.RawMessage `json:"id"`
		Snippet *struct {
			Title json.RawMessage `json:"title"`
		} `json:"snippet"`
	}
	if json.Unmarshal(l.Items[0], &c) != nil {
		return nil, fmt.Errorf("%w: the channel's snippet is not an object", ErrBadResponse)
	}
	id, ok := jsonString(c.ID)
	if !ok || id == "" || safeCode(id) == "" {
		return nil, fmt.Errorf("%w: the channel has no id", ErrBadResponse)
	}
	ident := &Identity{Provider: youtubeName, UserID: id, User: obj}
	if c.Snippet != nil {
		if ident.Name, ok = jsonText(c.Snippet.Title); !ok {
			return nil, fmt.Errorf("%w: the channel's title is not a string", ErrBadResponse)
		}
	}
	return ident, nil
}

// nextPacificMidnight is the first midnight Pacific Time after now, when
// YouTube's daily quota resets [C]. The US rule since 2007 is computed,
// not read from the time zone database, which a container may lack: PDT
// (UTC-7) from 2:00 on the second Sunday of March to 2:00 on the first
// Sunday of November, PST (UTC-8) otherwise.
func nextPacificMidnight(now time.Time) time.Time {
	off := pacificOffset(now)
	wall := now.UTC().Add(off)
	y, m, d := wall.Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC) // the next midnight, wall time
	at := next.Add(-off)
	if o := pacificOffset(at); o != off {
		at = next.Add(-o) // a switch came between now and that midnight
	}
	return at
}

// pacificOffset is Pacific Time's offset from UTC at t.
func pacificOffset(t time.Time) time.Duration {
	u := t.UTC()
	y := u.Year()
	start := time.Date(y, time.March, pacificNthSunday(y, time.March, 2), 10, 0, 0, 0, time.UTC)    // 2:00 PST
	end := time.Date(y, time.November, pacificNthSunday(y, time.November, 1), 9, 0, 0, 0, time.UTC) // 2:00 PDT
	if !u.Before(start) && u.Before(end) {
		return -7 * time.Hour
	}
	return -8 * time.Hour
}

// pacificNthSunday is the day of month of the n-th Sunday of m.
func pacificNthSunday(year int, m time.Month, n int) int {
	first := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (7-int(first))%7 + 7*(n-1)
}

// String describes the provider without its client secret.
func (y *YouTube) String() string {
	if y == nil {
		return "videoauth.YouTube(nil)"
	}
	return providerString("YouTube", y.app)
}

// GoString makes %#v print String.
func (y *YouTube) GoString() string { return y.String() }

// Format makes every fmt verb print String (see print.go for why the
// receiver is a value).
func (y YouTube) Format(f fmt.State, verb rune) { printRedacted(f, verb, y.String()) }

// LogValue makes slog print the provider without its client secret.
func (y *YouTube) LogValue() slog.Value {
	if y == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(youtubeName, y.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (y YouTube) MarshalJSON() ([]byte, error) { return providerJSON(youtubeName, y.app) }
