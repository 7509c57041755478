// Package videoauthtest provides fake servers of the video services, for
// tests, in the manner of net/http/httptest: NewVimeo, NewSimkl, NewViki,
// NewTwitch, NewYouTube, NewTrakt and NewDailymotion each start local
// plain-HTTP servers that follow the wire format described in the project's
// provider notes (docs/vimeo.md, docs/simkl.md, docs/viki.md,
// docs/twitch.md, docs/youtube.md, docs/trakt.md and docs/dailymotion.md
// in the repository's docs/ directory), quirks included; each type's own
// comment lists what its fake checks.
//
//   - Vimeo: Basic client authentication over the raw client id and secret,
//     the non-standard token paths (/oauth/authorize/client,
//     /oauth/access_token, /oauth/device, /oauth/device/authorize), the
//     three error body shapes, and the WWW-Authenticate header that marks an
//     invalid token.
//   - Simkl: two hosts (WebURL for the consent pages of simkl.com, APIURL for
//     api.simkl.com), both auth generations (V1 code, PKCE and PIN; V2 code
//     with S256 and iss, device flow, non-rotating refresh that kills the
//     previous access token, revocation), the client_id, app-name and
//     app-version parameters required on every request, and the rate-limit
//     answers.
//   - Viki: v3 OAuth with 24-hour tokens in the query, the v4/v5 API signed
//     with HMAC-SHA1 (query or header mode, stale-timestamp answers) and v5
//     sessions.
//
// The consent pages approve at once, so a test can follow the authorize
// redirect with a plain HTTP client:
//
//	fake := videoauthtest.NewVimeo()
//	defer fake.Close()
//	// point the code under test at fake.URL, with fake.ClientID and
//	// fake.ClientSecret, then make it fail on purpose:
//	fake.FailTokenCalls(1, videoauthtest.Fail5xx)
//	fake.DeleteAllTokens()
//
// Every fake also answers in process, without a socket: Respond has the
// signature of an httpmock.Responder, so a test that mocks HTTP with
// github.com/jarcoal/httpmock puts a fake behind its MockTransport, and
// RoundTripper serves a plain *http.Client. Respond serves the services'
// real host names too, so the code under test may keep its production URLs:
//
//	mt := httpmock.NewMockTransport()
//	mt.RegisterNoResponder(fake.Respond) // or RegisterResponder per route
//	client := &http.Client{Transport: mt}
//
// Knobs (DeleteToken, DenyConsent, ApproveCode, RevokeToken, RestoreToken,
// FailTokenCalls, RateLimitNext, ExpireSessions, SetClock, SetServerSkew,
// SetLatency, ...) change a fake's behaviour, and counters (Mints,
// TokenCalls, Exchanges, Refreshes, MissingParams, SignedCalls, ...) report
// what it saw. A Clock given to a fake's SetClock, and to the code under
// test, moves time for both without sleeping; its AfterCalls and
// UntilWaiters tell a test how the code under test waits. RestoreToken
// (RestoreV3Token for Viki) makes a new fake accept tokens an earlier one
// issued, so tokens saved on disk outlive the fake that issued them. All
// methods are safe for concurrent use. Authorization and device codes
// expire and are single use; every table of codes, sessions and tokens is
// bounded, expired entries going first, so a fake can serve a long
// benchmark.
//
// The package depends on the standard library only (not on httpmock,
// whose Responder type Respond merely matches); it does not import
// github.com/videoauth/videoauth, so it can test any client of these
// services.
package videoauthtest
