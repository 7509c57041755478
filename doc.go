// Package videoauth authenticates Go programs against video services —
// Vimeo, Simkl, Viki, Twitch, YouTube, Trakt and Dailymotion, and any
// standards-following OAuth 2.0 service (Standard) — on top of
// golang.org/x/oauth2, and gets each service's quirks right so callers do
// not have to.
//
// The pieces, each in its own file:
//
//   - A Provider (Vimeo, Simkl, Viki, VikiAPI, Twitch, YouTube, Trakt,
//     Dailymotion, DailymotionPrivate, Standard) is one service: its endpoints, how a token is
//     attached to a request (Authorize), which hosts may receive it (Owns),
//     and how a rejected request reads (Verdict). Grants are methods of the
//     concrete providers, because they differ per service.
//   - A Token is what a grant returns: access and refresh token, expiry,
//     granted scopes, user id, the raw user object and every other member of
//     the response. It round-trips through JSON and prints redacted.
//   - A Source caches a token and replaces it: lock-free reads, one mint for
//     any number of concurrent callers, renewal in the background from the
//     middle of a token's life so no caller waits, a failed mint shared and
//     retried about once a second, a service that keeps rejecting fresh
//     tokens met with one mint per interval, a renewal that never overwrites
//     a newer sign-in, and ErrReauthRequired once the grant is revoked (by
//     the service, or by Source.Revoke). Its doc lists each guarantee.
//   - A Transport (or NewClient) attaches tokens to requests for the
//     provider's hosts only, and when the service rejects a token that can be
//     replaced, gets a new one and replays the request once.
//   - An AuthRequest carries state (256 bits, single use, constant-time
//     check, checked before anything else) and PKCE S256 through a redirect.
//     Loopback runs the whole redirect flow for command-line tools on
//     127.0.0.1 (RFC 8252); DeviceCode.Wait polls device and PIN flows.
//
// App-only access to Vimeo:
//
//	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: id, ClientSecret: secret})
//	client := videoauth.NewClient(vimeo, vimeo.ClientCredentials())
//	resp, err := client.Get("https://api.vimeo.com/videos?query=cats")
//
// A web application acting for its users:
//
//	ar, err := vimeo.AuthRequest("https://example.com/callback", videoauth.VimeoScopePrivate)
//	b, err := videoauth.EncodeAuthRequest(ar) // keep b in the user's session, redirect the browser to ar.URL
//	// then, in the callback, with b from the session:
//	ar, err := videoauth.DecodeAuthRequest(b)
//	tok, err := vimeo.Exchange(ctx, ar, r.URL.Query())
//	client := videoauth.NewClient(vimeo, vimeo.Source(tok))
//
// Simkl (choose the auth generation) and Viki (v3 OAuth, or the signed
// v4/v5 API with sessions) follow the same shape:
//
//	simkl, err := videoauth.NewSimkl(videoauth.App{ClientID: id, AppName: "my-app", AppVersion: "1.0"}, videoauth.SimklV2)
//	dc, err := simkl.Device(ctx, videoauth.SimklScopeRead)   // show dc to the user
//	tok, err := dc.Wait(ctx)
//	client := videoauth.NewClient(simkl, simkl.Source(tok))  // refreshed ahead of expiry and once on 401
//
//	api, err := videoauth.NewVikiAPI(videoauth.App{ClientID: appID, ClientSecret: appSecret}, videoauth.VikiSignQuery)
//	resp, err := api.SignedClient().Get("https://api.viki.io/v4/movies.json")
//
// Errors: states callers branch on are sentinels (ErrAccessDenied,
// ErrReauthRequired, ErrTokenExpired, ErrForbidden, ErrStateMismatch, ...)
// matched with errors.Is; failures reported by a service are *Error values
// carrying the provider, operation, HTTP status and the service's own code.
// One rule holds for every provider, generation and kind of token: whenever
// the service answered, the caller gets that answer (an *http.Response and
// a nil error, also when the token was rejected and could not be replaced),
// and CheckResponse types it — a dead grant as ErrReauthRequired, a token
// the next request replaces as ErrTokenExpired, a failed renewal with the
// renewal's error, rate limits with their wait. A Transport returns an error
// only when no request could be sent: no usable token and none to be had,
// bad configuration, the network, the caller's ctx. No error string, fmt
// verb or slog record produced by this package contains a token, code,
// verifier, secret or raw response body, whatever the caller's base
// transport put in its error.
//
// The repository's docs/ directory describes each service's wire format and
// quirks, with their public sources, and the security model with its test
// checklist.
//
// Package videoauthtest has fake servers of the services for tests.
package videoauth
