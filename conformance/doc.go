// Package conformance tests videoauth's generic standards-following
// provider (videoauth.Standard) against two authorization servers written
// elsewhere, run in-process on loopback httptest servers:
//
//   - the OpenID Provider of github.com/zitadel/oidc/v3 (package op), and
//   - github.com/ory/fosite.
//
// It has no API: its tests are its content. Each test drives a grant the
// way an application would (a browser through the server's sign-in and
// consent pages, a user approving a device code), then checks on the
// server's side what the library claims: the old refresh token refused
// after rotation, a revoked token no longer active at introspection, the
// client authentication method the server saw. The module is separate so
// that the core's importers never download either server.
package conformance
