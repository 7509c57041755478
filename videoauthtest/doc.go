// Package videoauthtest provides fake servers of the video services, for
// tests, in the manner of net/http/httptest.
//
// NewVimeo starts a fake of Vimeo's OAuth endpoints and a small slice of its
// API on a local httptest.Server. It follows the wire format described in the
// project's provider notes (PROVIDERS.md §2): Basic client authentication over
// the raw client id and secret, the non-standard token paths
// (/oauth/authorize/client, /oauth/access_token, /oauth/device,
// /oauth/device/authorize), the three error body shapes, and the
// WWW-Authenticate header that marks an invalid token. The consent page
// approves at once, so a test can follow the authorize redirect with a plain
// HTTP client:
//
//	fake := videoauthtest.NewVimeo()
//	defer fake.Close()
//	// point the code under test at fake.URL, with fake.ClientID and
//	// fake.ClientSecret, then make it fail on purpose:
//	fake.FailTokenCalls(1, videoauthtest.Fail5xx)
//	fake.DeleteAllTokens()
//
// Knobs (DeleteToken, DenyConsent, ApproveDevice, FailTokenCalls, SetLatency,
// ...) change the fake's behaviour, and counters (Mints, TokenCalls,
// Exchanges, ...) report what it saw. All methods are safe for concurrent use.
//
// The package depends on the standard library only; it does not import
// github.com/videoauth/videoauth, so it can test any Vimeo client.
package videoauthtest
