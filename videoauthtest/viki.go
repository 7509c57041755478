package videoauthtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	vikiJSON       = "application/json; charset=utf-8"
	vikiV3TTL      = 24 * time.Hour      // [C] "Access tokens are valid for 24 hours"
	vikiMaxSkew    = 60                  // [I] seconds; the real limit is unknown (docs/viki.md#clock-skew)
	vikiSessionTTL = 30 * 24 * time.Hour // [I] no source gives a session lifetime
	vikiUserID     = "1u"                // [C] v5 style user id
	vikiUserName   = "fan"               // [I]
	vikiMaxBody    = 1 << 20             // [I]
)

// vcodes of the v4/v5 error bodies. Only 4 and 11 come from a source; the
// others are [I], picked so that every error is distinct.
const (
	vcodeMissingApp       = 1  // [I]
	vcodeInvalidApp       = 2  // [I]
	vcodeInvalidSignature = 4  // [C] dev.viki.com/v5/errors example
	vcodeInvalidSession   = 11 // [S] viki-api gem, yt-dlp
	vcodeInvalidLogin     = 12 // [I]
	vcodeBadRequest       = 13 // [I]
	vcodeNotFound         = 14 // [I]
	vcodeForbidden        = 15 // [I]
	vcodeMethod           = 16 // [I]
	vcodeTooLarge         = 0  // [S] the viki-api gem's 413 body carries vcode 0
)

// vikiReasonHeader names a response header in which the fake explains a
// refused v4/v5 request (for example the exact message it expected to be
// signed). [I] fake-only: the real service sends nothing like it.
const vikiReasonHeader = "X-Fake-Viki-Reason"

// Viki is a fake of Viki's deprecated API v3 OAuth (POST /oauth/token and a
// few /v3/ routes, on viki.com) and of the app-signed API v4/v5 (on
// api.viki.io), both served by one httptest.Server, as docs/viki.md
// describes them. Create it with NewViki and stop it with Close.
//
// # v3 (OAuth 2.0)
//
// POST /oauth/token takes an application/x-www-form-urlencoded body with
// grant_type, client_id and client_secret (client credentials in a Basic
// header only are refused with 401 invalid_client). grant_type is
// client_credentials, or password with username and password, or password
// with fb_access_token alone. A token lives 24 hours by the Clock and is sent
// as the access_token query parameter (an Authorization header is ignored)
// to GET /v3/movies.json, GET /v3/series.json and GET /v3/users/1u.json
// (the last needs a password-grant token). An expired or unknown token is
// answered with SetV3ExpiryStatus's status and
// {"message":"Not Authorized","status":<status>}.
//
// # v4/v5 (app id + HMAC-SHA1)
//
// Routes: GET /v4/movies.json, GET /v5/movies.json, POST /v5/sessions.json,
// GET /v5/sessions/{token}.json, POST /v4/sessions.json (refused: restricted
// to official applications), and the user routes GET /v5/users/1u.json and
// GET and POST /v4/users/1u/watchlist.json, which need token=<session> in the
// query. Every request needs app=<AppID> in the query and a signature, in one
// of two modes, checked over the path and query exactly as sent (the raw
// request target, never re-encoded):
//
//   - Query mode: the raw query ends with "&sig=<hex>" (sig is the last
//     parameter). The message is path + "?" + the raw query without that
//     "&sig=<hex>" suffix + the request body bytes. The timestamp is the
//     query parameter t.
//   - Header mode: no sig in the query; the signature is in the "signature"
//     header and the timestamp in the "timestamp" header, and t must not be
//     in the query. The message is path + "?" + raw query + "&t=" +
//     timestamp header + the request body bytes.
//
// The signature is hex(HMAC-SHA1(key = AppSecret, message)); see VikiSign.
// Hex digits of either case are accepted [I]. The signature is checked
// first, then the timestamp: a t that is missing, not an integer, or more than
// 60 seconds [I] away from the server's clock (Clock + SetServerSkew) is
// answered 401 {"error":"stale timestamp","current_timestamp":<server unix
// seconds>} [C body, I status].
//
// Errors: 400 {"error":"missing app","vcode":1}, 401 {"error":"invalid
// app","vcode":2}, 401 {"error":"invalid signature","vcode":4} [C body, I
// status], 401 {"error":"Invalid session token","vcode":11} [S], 401
// {"error":"invalid login","vcode":12}, 400 bad request (vcode 13), 404 (vcode
// 14), 403 (vcode 15), 405 (vcode 16), 413 (vcode 0). Every vcode except 4
// and 11 is [I]. A refused v4/v5 request also carries a X-Fake-Viki-Reason
// header saying why, for debugging [I].
//
// Sessions (POST /v5/sessions.json with a JSON body {"username","password"}
// or {"facebook_token"}) last 30 days [I] by the Clock, or until
// ExpireSessions.
//
// The exported fields are set by NewViki; change them, if at all, before the
// first request.
type Viki struct {
	URL           string // base URL of the fake, serving both the v3 OAuth host (viki.com) and the v4/v5 API (api.viki.io) paths
	ClientID      string // v3 OAuth client id; default "viki-v3-client"
	ClientSecret  string // v3 OAuth client secret; default "viki-v3-secret"
	AppID         string // v4/v5 app id (the app query parameter); default "9001"
	AppSecret     string // v4/v5 HMAC key; default "viki-app-secret"
	Username      string // the one user's login; default "fan@example.com" (user id "1u")
	Password      string // the one user's password; default "correct horse"
	FacebookToken string // the one valid Facebook access token; default "fb-valid-token"

	core // core.mu guards the fields below

	v3Status    int
	userIDField string
	v3Tokens    map[string]vikiV3Token
	sessions    map[string]time.Time // session token → expiry
	watchlist   []json.RawMessage

	sweepV3, sweepSessions int // the sizes at which v3Tokens and sessions are next swept (dropDead)

	mints, tokenCalls, apiCalls, signedCalls, badSignatures, staleTimestamps, logins int
}

// vikiV3Token is an issued v3 access token.
type vikiV3Token struct {
	user    bool // a password-grant token
	expires time.Time
}

type (
	vikiUser struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	// vikiV3TokenJSON follows the recorded response [S]: access_token,
	// expires_in, scope, token_type; plus the user id for the password grant.
	vikiV3TokenJSON struct {
		AccessToken string    `json:"access_token"`
		ExpiresIn   int       `json:"expires_in"`
		Scope       string    `json:"scope"`
		TokenType   string    `json:"token_type"`
		UserID      string    `json:"user_id,omitempty"`
		User        *vikiUser `json:"user,omitempty"`
	}
	vikiV3Error struct {
		Message string `json:"message"`
		Status  int    `json:"status"`
	}
	vikiError struct {
		Error string `json:"error"`
		VCode int    `json:"vcode"`
	}
	vikiStale struct {
		Error            string `json:"error"`
		CurrentTimestamp int64  `json:"current_timestamp"`
	}
	vikiSession struct {
		Token string   `json:"token"`
		User  vikiUser `json:"user"`
	}
	vikiItem struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	// vikiList is the v4/v5 list envelope [I].
	vikiList struct {
		More     bool  `json:"more"`
		Response []any `json:"response"`
	}
)

var theVikiUser = vikiUser{ID: vikiUserID, Username: vikiUserName}

// NewViki starts a fake Viki on a plain-HTTP httptest.Server listening on
// 127.0.0.1. The caller must Close it.
func NewViki() *Viki {
	v := &Viki{
		ClientID:      "viki-v3-client",
		ClientSecret:  "viki-v3-secret",
		AppID:         "9001",
		AppSecret:     "viki-app-secret",
		Username:      "fan@example.com",
		Password:      "correct horse",
		FacebookToken: "fb-valid-token",
		v3Status:      http.StatusForbidden,
		userIDField:   "both",
		v3Tokens:      make(map[string]vikiV3Token),
		sessions:      make(map[string]time.Time),
	}
	// One host serves both viki.com's v3 paths and api.viki.io's v4/v5 ones.
	v.URL = v.start("Viki", serves(v.serve, "api.viki.io", "viki.com", "www.viki.com"))[0]
	return v
}

// Client returns an *http.Client for the fake (the httptest server's client).
func (v *Viki) Client() *http.Client { return v.client() }

// SetClock makes the fake read c for everything time-based: the 24-hour v3
// token lifetime, the v4/v5 timestamp check and session expiry. nil restores
// the real time.
func (v *Viki) SetClock(c *Clock) { v.setClock(c) }

// SetServerSkew makes the server's clock run d ahead of the Clock (behind if
// d is negative), so that a client's correct timestamp looks stale. The skew
// applies to every time the server reads, so a token's lifetime is unchanged
// unless the skew changes while the token lives.
func (v *Viki) SetServerSkew(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.skew = d
}

// SetV3ExpiryStatus sets the HTTP status for an expired or unknown v3 access
// token: 403, the default, as Viki's documentation says, or 401, as a wrapper
// observed. It panics on any other code.
func (v *Viki) SetV3ExpiryStatus(code int) {
	if code != http.StatusForbidden && code != http.StatusUnauthorized {
		panic("videoauthtest: SetV3ExpiryStatus: code must be 401 or 403, got " + strconv.Itoa(code))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.v3Status = code
}

// SetUserIDField selects how a v3 password-grant token response carries the
// user id ([I]: the real field name is unknown): "user_id" sends
// "user_id":"1u", "user.id" sends "user":{"id":"1u","username":"fan"}, and
// "both", the default, sends both. It panics on any other kind.
func (v *Viki) SetUserIDField(kind string) {
	switch kind {
	case "user_id", "user.id", "both":
	default:
		panic("videoauthtest: SetUserIDField: kind must be user_id, user.id or both, got " + strconv.Quote(kind))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.userIDField = kind
}

// ExpireSessions invalidates every v5 session token issued so far: its next
// use is answered 401 with vcode 11. Later logins work as usual.
func (v *Viki) ExpireSessions() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.sessions)
}

// FailTokenCalls makes the next n requests to POST /oauth/token or POST
// /v5/sessions.json (one count shared by both) fail as mode says, before any
// other check: such a request mints no token and opens no session. Fail5xx
// answers 503 with {"error":"server_error","error_description":"..."} on
// /oauth/token and {"error":"service unavailable"} on /v5/sessions.json [I];
// FailHTML answers 502 with an HTML page. It replaces an earlier setting;
// n <= 0 turns failures off.
func (v *Viki) FailTokenCalls(n int, mode FailMode) { v.failTokenCalls(n, mode) }

// IssueV3Token mints a v3 client-credentials access token without a token
// request, valid for 24 hours from now by the Clock, and returns it. It does
// not count as a mint.
func (v *Viki) IssueV3Token() string { return v.mintV3(false) }

// RestoreV3Token makes the fake accept access as a v3 access token it
// issued, as when a token saved by an earlier fake is used again: a user
// token (the one user, as the password grant gives) if user is true, else a
// client-credentials token. It expires at expiry, compared with the server's
// time (the Clock plus SetServerSkew); a zero expiry means the usual 24 hours
// from now. It replaces any v3 token with the same value. An empty access is
// ignored. It does not count as a mint.
func (v *Viki) RestoreV3Token(access string, user bool, expiry time.Time) {
	if access == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if expiry.IsZero() {
		expiry = v.nowLocked().Add(vikiV3TTL)
	}
	v.v3Tokens[access] = vikiV3Token{user: user, expires: expiry}
}

// IssueSession opens a v5 session for the user without a login request, and
// returns its token. It does not count as a login.
func (v *Viki) IssueSession() string { return v.openSession() }

// Mints returns how many v3 access tokens /oauth/token issued (any grant).
func (v *Viki) Mints() int { return v.count(&v.mints) }

// TokenCalls returns how many requests reached /oauth/token, success or not.
func (v *Viki) TokenCalls() int { return v.count(&v.tokenCalls) }

// APICalls returns how many requests reached v3 API paths (/v3/...), success
// or not.
func (v *Viki) APICalls() int { return v.count(&v.apiCalls) }

// SignedCalls returns how many v4/v5 requests passed the app, signature and
// timestamp checks (whatever their route then answered).
func (v *Viki) SignedCalls() int { return v.count(&v.signedCalls) }

// BadSignatures returns how many v4/v5 requests were refused for a missing or
// wrong signature.
func (v *Viki) BadSignatures() int { return v.count(&v.badSignatures) }

// StaleTimestamps returns how many v4/v5 requests were correctly signed but
// refused with "stale timestamp".
func (v *Viki) StaleTimestamps() int { return v.count(&v.staleTimestamps) }

// Logins returns how many POST /v5/sessions.json requests arrived, success or
// not.
func (v *Viki) Logins() int { return v.count(&v.logins) }

// LastTokenForm returns a copy of the form body of the most recent
// /oauth/token request (query parameters excluded), or nil if there was none.
func (v *Viki) LastTokenForm() url.Values { return v.tokenForm() }

// LastRequest returns a clone of the most recent API request (to a /v3/,
// /v4/ or /v5/ path; token requests are not API requests), or nil if there
// was none. Its URL, RequestURI
// and Header are as received, so a test can check the exact query sent; its
// Body reads the request body again. Each call returns a new clone.
func (v *Viki) LastRequest() *http.Request { return v.requestClone() }

// VikiSign returns the signature the fake expects for a v4/v5 request:
// hex(HMAC-SHA1(key = secret, message = pathAndQuery followed by body)).
// pathAndQuery is the raw path and query as sent, with app and t and without
// sig, e.g. "/v4/movies.json?sort=views&app=9001&t=1356482778" (in header
// mode: the query as sent, then "&t=" and the timestamp header).
func VikiSign(secret, pathAndQuery string, body []byte) string {
	return hex.EncodeToString(vikiMAC(secret, pathAndQuery, body))
}

func vikiMAC(secret, pathAndQuery string, body []byte) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	io.WriteString(m, pathAndQuery)
	m.Write(body)
	return m.Sum(nil)
}

func (v *Viki) mintV3(user bool) string {
	access := randomHex(32) // [S] 64 hex digits
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.nowLocked()
	dropDead(v.v3Tokens, &v.sweepV3, func(t vikiV3Token) bool { return !now.Before(t.expires) })
	v.v3Tokens[access] = vikiV3Token{user: user, expires: now.Add(vikiV3TTL)}
	return access
}

func (v *Viki) openSession() string {
	tok := randomHex(16) // [I] length
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.nowLocked()
	dropDead(v.sessions, &v.sweepSessions, func(exp time.Time) bool { return !now.Before(exp) })
	v.sessions[tok] = now.Add(vikiSessionTTL)
	return tok
}

// sessionOK reports whether tok is a live session token.
func (v *Viki) sessionOK(tok string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	exp, ok := v.sessions[tok]
	return ok && v.nowLocked().Before(exp)
}

func (v *Viki) serve(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/oauth/token":
		v.token(w, r)
	case strings.HasPrefix(p, "/v3/"):
		v.v3(w, r)
	case strings.HasPrefix(p, "/v4/"), strings.HasPrefix(p, "/v5/"):
		v.signed(w, r)
	default:
		writeJSON(w, http.StatusNotFound, vikiJSON, vikiV3Error{Message: "Not Found", Status: http.StatusNotFound}) // [I]
	}
}

// ---- v3 OAuth ----

func vikiOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, vikiJSON, authErrorJSON{Error: code, Description: description}) // [S] error + error_description
}

// token serves /oauth/token.
func (v *Viki) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	_ = r.ParseForm() // a bad body leaves PostForm short; the checks below reject it
	v.mu.Lock()
	v.tokenCalls++
	v.lastTokenForm = cloneValues(r.PostForm)
	fail, mode := v.takeFailLocked()
	field := v.userIDField
	v.mu.Unlock()

	if fail {
		if mode == FailHTML {
			writeFailure(w, FailHTML)
			return
		}
		vikiOAuthError(w, http.StatusServiceUnavailable, "server_error", "The fake Viki fails on purpose (FailTokenCalls).")
		return
	}
	// [I] the statuses and texts below: Viki documents none of them; the
	// error codes are RFC 6749 §5.2's.
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		vikiOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST only.")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		vikiOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded.")
		return
	}
	form := r.PostForm
	// [C] client_id and client_secret are request parameters; a Basic
	// header is not read [I].
	if !form.Has("client_id") || !form.Has("client_secret") || form.Get("client_id") != v.ClientID || form.Get("client_secret") != v.ClientSecret {
		vikiOAuthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed: client_id and client_secret must be valid and sent in the request body.")
		return
	}
	var user bool
	switch form.Get("grant_type") {
	case "":
		vikiOAuthError(w, http.StatusBadRequest, "invalid_request", "The request is missing the grant_type parameter.")
		return
	case "client_credentials":
	case "password":
		if !v.passwordOK(w, form) {
			return
		}
		user = true
	default:
		vikiOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	access := v.mintV3(user)
	v.mu.Lock()
	v.mints++
	v.mu.Unlock()
	// [S] recorded response; the user id's form is [I] (SetUserIDField).
	body := vikiV3TokenJSON{AccessToken: access, ExpiresIn: int(vikiV3TTL.Seconds()), Scope: "public", TokenType: "bearer"}
	if user {
		if field != "user.id" {
			body.UserID = vikiUserID
		}
		if field != "user_id" {
			u := theVikiUser
			body.User = &u
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, vikiJSON, body)
}

// passwordOK checks the password grant's user parameters, and answers the
// error if they are wrong.
func (v *Viki) passwordOK(w http.ResponseWriter, form url.Values) bool {
	fb := form.Get("fb_access_token")
	up := form.Has("username") || form.Has("password")
	switch {
	case fb != "" && up: // [I] one login method at a time
		vikiOAuthError(w, http.StatusBadRequest, "invalid_request", "Send either username and password or fb_access_token, not both.")
	case fb != "":
		if fb == v.FacebookToken {
			return true
		}
		vikiOAuthError(w, http.StatusUnauthorized, "invalid_grant", "The Facebook access token is invalid.") // [I] status 401
	case form.Get("username") == "" || form.Get("password") == "":
		vikiOAuthError(w, http.StatusBadRequest, "invalid_request", "The password grant requires username and password, or fb_access_token.")
	case form.Get("username") != v.Username || form.Get("password") != v.Password:
		vikiOAuthError(w, http.StatusUnauthorized, "invalid_grant", "The username or password is incorrect.") // [I] status 401
	default:
		return true
	}
	return false
}

// ---- v3 API ----

func vikiV3Err(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, vikiJSON, vikiV3Error{Message: message, Status: status}) // [S] message (+ status)
}

// v3 serves /v3/... on viki.com.
func (v *Viki) v3(w http.ResponseWriter, r *http.Request) {
	v.record(r, nil)
	access := r.URL.Query().Get("access_token") // [C] query only; Authorization is ignored
	v.mu.Lock()
	v.apiCalls++
	t, ok := v.v3Tokens[access]
	ok = ok && v.nowLocked().Before(t.expires)
	status := v.v3Status
	v.mu.Unlock()

	if !ok {
		vikiV3Err(w, status, "Not Authorized") // [C] dev.viki.com/v3/auth: 403 Not Authorized
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		vikiV3Err(w, http.StatusMethodNotAllowed, "Method Not Allowed") // [I]
		return
	}
	switch p := r.URL.Path; {
	case p == "/v3/movies.json":
		writeJSON(w, http.StatusOK, vikiJSON, []vikiItem{{"101m", "Fake Movie 101"}, {"102m", "Fake Movie 102"}}) // [I] shape
	case p == "/v3/series.json":
		writeJSON(w, http.StatusOK, vikiJSON, []vikiItem{{"201c", "Fake Series 201"}}) // [I] shape
	case strings.HasPrefix(p, "/v3/users/") && strings.HasSuffix(p, ".json"):
		// [I] dev.viki.com/v3/auth shows no v3 user data; this route exists to
		// tell password-grant tokens from client tokens.
		if !t.user {
			vikiV3Err(w, http.StatusForbidden, "A user access token (password grant) is required")
			return
		}
		if strings.TrimSuffix(strings.TrimPrefix(p, "/v3/users/"), ".json") != vikiUserID {
			vikiV3Err(w, http.StatusNotFound, "Not Found")
			return
		}
		writeJSON(w, http.StatusOK, vikiJSON, theVikiUser)
	default:
		vikiV3Err(w, http.StatusNotFound, "Not Found") // [I]
	}
}

// ---- v4/v5 ----

func vikiErr(w http.ResponseWriter, status, vcode int, msg, reason string) {
	if reason != "" {
		w.Header().Set(vikiReasonHeader, reason)
	}
	writeJSON(w, status, vikiJSON, vikiError{Error: msg, VCode: vcode})
}

// rawTarget returns the path and query of r exactly as the client sent them.
func rawTarget(r *http.Request) (path, query string) {
	if strings.HasPrefix(r.RequestURI, "/") {
		path, query, _ = strings.Cut(r.RequestURI, "?")
		return path, query
	}
	return r.URL.EscapedPath(), r.URL.RawQuery // absolute-form target (via a proxy)
}

// cutSig splits a raw query whose last parameter is sig: the query before
// "&sig=" and the signature.
func cutSig(rawQuery string) (rest, sig string, ok bool) {
	i := strings.LastIndexByte(rawQuery, '&')
	last, found := strings.CutPrefix(rawQuery[i+1:], "sig=")
	if !found {
		return "", "", false
	}
	return rawQuery[:max(i, 0)], last, true
}

// signed serves /v4/... and /v5/... on api.viki.io.
func (v *Viki) signed(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, vikiMaxBody))
	v.record(r, body)
	login := r.URL.Path == "/v5/sessions.json" && r.Method == http.MethodPost
	if login {
		v.mu.Lock()
		v.logins++
		fail, mode := v.takeFailLocked()
		v.mu.Unlock()
		if fail {
			if mode == FailHTML {
				writeFailure(w, FailHTML)
				return
			}
			writeJSON(w, http.StatusServiceUnavailable, vikiJSON, map[string]string{"error": "service unavailable"}) // [I]
			return
		}
	}
	if err != nil {
		vikiErr(w, http.StatusRequestEntityTooLarge, vcodeTooLarge, "Entity too large", "the body is over 1 MiB")
		return
	}
	q, ok := v.verify(w, r, body)
	if !ok {
		return
	}

	p := r.URL.Path
	switch {
	case p == "/v4/movies.json" || p == "/v5/movies.json":
		if vikiAllow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, vikiJSON, vikiList{Response: []any{vikiItem{"101m", "Fake Movie 101"}, vikiItem{"102m", "Fake Movie 102"}}})
		}
	case p == "/v5/sessions.json":
		if vikiAllow(w, r, http.MethodPost) {
			v.login(w, body)
		}
	case p == "/v4/sessions.json":
		// [C] v4 session creation is restricted to official Viki apps.
		if vikiAllow(w, r, http.MethodPost) {
			vikiErr(w, http.StatusForbidden, vcodeForbidden, "session creation is restricted to official Viki applications", "use POST /v5/sessions.json")
		}
	case strings.HasPrefix(p, "/v5/sessions/") && strings.HasSuffix(p, ".json"):
		if !vikiAllow(w, r, http.MethodGet) {
			return
		}
		tok := strings.TrimSuffix(strings.TrimPrefix(p, "/v5/sessions/"), ".json")
		if !v.sessionOK(tok) {
			vikiErr(w, http.StatusUnauthorized, vcodeInvalidSession, "Invalid session token", "unknown or expired session token")
			return
		}
		writeJSON(w, http.StatusOK, vikiJSON, vikiSession{Token: tok, User: theVikiUser}) // [I] same shape as the login answer
	case p == "/v5/users/"+vikiUserID+".json":
		if vikiAllow(w, r, http.MethodGet) && v.needSession(w, q) {
			writeJSON(w, http.StatusOK, vikiJSON, theVikiUser)
		}
	case p == "/v4/users/"+vikiUserID+"/watchlist.json":
		if vikiAllow(w, r, http.MethodGet, http.MethodPost) && v.needSession(w, q) {
			v.watch(w, r, body)
		}
	default:
		vikiErr(w, http.StatusNotFound, vcodeNotFound, "not found", "no such route in the fake")
	}
}

// verify checks app, signature and timestamp, answers the error if one is
// wrong, and returns the parsed query.
func (v *Viki) verify(w http.ResponseWriter, r *http.Request, body []byte) (url.Values, bool) {
	path, rawQuery := rawTarget(r)
	q, _ := url.ParseQuery(rawQuery) // a malformed pair is dropped; the signature still covers it
	switch {
	case q.Get("app") == "":
		vikiErr(w, http.StatusBadRequest, vcodeMissingApp, "missing app", "no app query parameter")
		return nil, false
	case q.Get("app") != v.AppID:
		vikiErr(w, http.StatusUnauthorized, vcodeInvalidApp, "invalid app", "app is not "+v.AppID)
		return nil, false
	}

	var msg, sig, ts, bad string
	if rest, s, ok := cutSig(rawQuery); ok { // query mode
		msg, sig, ts = path+"?"+rest, s, q.Get("t")
	} else if q.Has("sig") {
		bad = "sig must be the last query parameter"
	} else if _, ok := r.Header["Signature"]; ok { // header mode
		ts = r.Header.Get("Timestamp")
		msg, sig = path+"?"+rawQuery+"&t="+ts, r.Header.Get("Signature")
		if q.Has("t") {
			bad = "header mode (signature header) with t in the query"
		}
	} else {
		bad = "no sig query parameter and no signature header"
	}
	if bad == "" {
		got, err := hex.DecodeString(sig)
		if err != nil || !hmac.Equal(got, vikiMAC(v.AppSecret, msg, body)) {
			bad = "signature does not match HMAC-SHA1 of " + strconv.Quote(msg) + " + " + strconv.Itoa(len(body)) + " body bytes"
		}
	}
	v.mu.Lock()
	now := v.nowLocked().Unix()
	t, err := strconv.ParseInt(ts, 10, 64)
	stale := bad == "" && (err != nil || t < now-vikiMaxSkew || t > now+vikiMaxSkew)
	switch {
	case bad != "":
		v.badSignatures++
	case stale:
		v.staleTimestamps++
	default:
		v.signedCalls++
	}
	v.mu.Unlock()

	switch {
	case bad != "":
		vikiErr(w, http.StatusUnauthorized, vcodeInvalidSignature, "invalid signature", bad)
		return nil, false
	case stale:
		w.Header().Set(vikiReasonHeader, "timestamp "+strconv.Quote(ts)+" is not within 60 s of the server's "+strconv.FormatInt(now, 10))
		writeJSON(w, http.StatusUnauthorized, vikiJSON, vikiStale{Error: "stale timestamp", CurrentTimestamp: now}) // [C] body, no vcode; [I] status
		return nil, false
	}
	return q, true
}

// vikiAllow reports whether r.Method is one of methods, and answers 405 if not.
func vikiAllow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	vikiErr(w, http.StatusMethodNotAllowed, vcodeMethod, "method not allowed", "")
	return false
}

// needSession reports whether the query's token is a live session, and
// answers vcode 11 if not. [I] a missing token is answered as an invalid one.
func (v *Viki) needSession(w http.ResponseWriter, q url.Values) bool {
	if v.sessionOK(q.Get("token")) {
		return true
	}
	vikiErr(w, http.StatusUnauthorized, vcodeInvalidSession, "Invalid session token", "missing, unknown or expired token query parameter")
	return false
}

// login serves POST /v5/sessions.json.
func (v *Viki) login(w http.ResponseWriter, body []byte) {
	var req struct {
		Username      string `json:"username"`
		Password      string `json:"password"`
		FacebookToken string `json:"facebook_token"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		vikiErr(w, http.StatusBadRequest, vcodeBadRequest, "invalid parameters", "the body is not a JSON object")
		return
	}
	var ok bool
	switch {
	case req.FacebookToken != "" && (req.Username != "" || req.Password != ""): // [I]
		vikiErr(w, http.StatusBadRequest, vcodeBadRequest, "invalid parameters", "send username and password, or facebook_token, not both")
		return
	case req.FacebookToken != "":
		ok = req.FacebookToken == v.FacebookToken
	case req.Username == "" || req.Password == "": // [I]
		vikiErr(w, http.StatusBadRequest, vcodeBadRequest, "invalid parameters", "username and password, or facebook_token, are required")
		return
	default:
		ok = req.Username == v.Username && req.Password == v.Password
	}
	if !ok {
		vikiErr(w, http.StatusUnauthorized, vcodeInvalidLogin, "invalid login", "wrong credentials")
		return
	}
	writeJSON(w, http.StatusOK, vikiJSON, vikiSession{Token: v.openSession(), User: theVikiUser}) // [C] {"token","user":{"id":"1u",...}}
}

// watch serves GET and POST /v4/users/1u/watchlist.json [I]: POST adds the
// JSON body to the list and echoes it with 201; GET returns the list.
func (v *Viki) watch(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method == http.MethodGet {
		v.mu.Lock()
		items := make([]any, len(v.watchlist))
		for i, it := range v.watchlist {
			items[i] = it
		}
		v.mu.Unlock()
		writeJSON(w, http.StatusOK, vikiJSON, vikiList{Response: items})
		return
	}
	if !json.Valid(body) {
		vikiErr(w, http.StatusBadRequest, vcodeBadRequest, "invalid parameters", "the body is not JSON")
		return
	}
	item := json.RawMessage(bytes.Clone(body))
	v.mu.Lock()
	v.watchlist = append(v.watchlist, item)
	v.mu.Unlock()
	writeJSON(w, http.StatusCreated, vikiJSON, item)
}
