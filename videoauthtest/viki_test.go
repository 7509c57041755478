package videoauthtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// vikiT0 is the timestamp of the documented signing example; the tests'
// Clock starts there.
const vikiT0 = 1356482778

func newViki(t *testing.T) (*Viki, *Clock) {
	t.Helper()
	v := NewViki()
	t.Cleanup(v.Close)
	c := NewClock(time.Unix(vikiT0, 0))
	v.SetClock(c)
	return v, c
}

type vikiReply struct {
	status int
	header http.Header
	body   []byte
}

func (r vikiReply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// vikiDo sends method to v.URL+target (raw path and query, sent as is) with
// the given header name/value pairs.
func vikiDo(t *testing.T, v *Viki, method, target, body string, header ...string) vikiReply {
	t.Helper()
	req, err := http.NewRequest(method, v.URL+target, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header[header[i]] = []string{header[i+1]}
	}
	resp, err := v.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return vikiReply{resp.StatusCode, resp.Header, b}
}

// testHMAC computes hex(HMAC-SHA1(secret, msg+body)) without VikiSign.
func testHMAC(secret, msg, body string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(msg + body))
	return hex.EncodeToString(m.Sum(nil))
}

// withT appends t=ts to pathAndQuery.
func withT(pathAndQuery string, ts int64) string {
	sep := "?"
	if strings.Contains(pathAndQuery, "?") {
		sep = "&"
	}
	return pathAndQuery + sep + "t=" + strconv.FormatInt(ts, 10)
}

// querySigned returns pathAndQuery with t=ts and then sig appended (query
// mode).
func querySigned(v *Viki, pathAndQuery string, ts int64, body string) string {
	m := withT(pathAndQuery, ts)
	return m + "&sig=" + testHMAC(v.AppSecret, m, body)
}

// headerSigned returns the timestamp and signature headers for
// pathAndQuery (header mode).
func headerSigned(v *Viki, pathAndQuery string, ts int64, body string) []string {
	return []string{"Timestamp", strconv.FormatInt(ts, 10), "Signature", testHMAC(v.AppSecret, withT(pathAndQuery, ts), body)}
}

func postForm(t *testing.T, v *Viki, form string, header ...string) vikiReply {
	t.Helper()
	return vikiDo(t, v, http.MethodPost, "/oauth/token", form, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

func requireVikiErr(t *testing.T, r vikiReply, status int, errText string, vcode int) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, map[string]any{"error": errText, "vcode": float64(vcode)}, r.json(t))
}

func TestVikiSignVector(t *testing.T) {
	const msg = "/v4/movies.json?sort=views&app=9001&t=1356482778"
	// Computed with: printf '%s' MSG | openssl dgst -sha1 -hmac viki-app-secret
	const want = "90d7229a2a54fcd60ba3863feda7395f44b53f5b"
	require.Equal(t, want, testHMAC("viki-app-secret", msg, ""))
	require.Equal(t, want, VikiSign("viki-app-secret", msg, nil))
	require.Equal(t, want, VikiSign("viki-app-secret", msg, []byte{}))

	const withBody = "/v4/users/1u/watchlist.json?app=9001&token=abc&t=1356482778"
	const body = `{"id":"42v"}`
	require.Equal(t, "36f82229885f31bd3bd31035189554062cd5ca64", VikiSign("viki-app-secret", withBody, []byte(body)))
	require.Equal(t, testHMAC("viki-app-secret", withBody, body), VikiSign("viki-app-secret", withBody, []byte(body)))

	// The documented example request itself is accepted at its own time.
	v, _ := newViki(t)
	r := vikiDo(t, v, http.MethodGet, msg+"&sig="+want, "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 1, v.SignedCalls())
}

func TestVikiDefaults(t *testing.T) {
	v := NewViki()
	defer v.Close()
	require.True(t, strings.HasPrefix(v.URL, "http://127.0.0.1:"))
	require.Equal(t, []string{"viki-v3-client", "viki-v3-secret", "9001", "viki-app-secret", "fan@example.com", "correct horse", "fb-valid-token"},
		[]string{v.ClientID, v.ClientSecret, v.AppID, v.AppSecret, v.Username, v.Password, v.FacebookToken})
	require.Nil(t, v.LastRequest())
	require.Nil(t, v.LastTokenForm())
	require.Panics(t, func() { v.SetV3ExpiryStatus(500) })
	require.Panics(t, func() { v.SetUserIDField("uid") })
	v.Close() // twice is fine
}

func TestVikiClientCredentials(t *testing.T) {
	v, _ := newViki(t)
	creds := "client_id=viki-v3-client&client_secret=viki-v3-secret"
	basic := "Basic " + "dmlraS12My1jbGllbnQ6dmlraS12My1zZWNyZXQ=" // viki-v3-client:viki-v3-secret
	for _, tc := range []struct {
		name, method, ctype, target, body string
		header                            []string
		status                            int
		errCode                           string
	}{
		{"ok", "POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&" + creds, nil, 200, ""},
		{"ok with charset", "POST", "application/x-www-form-urlencoded; charset=utf-8", "", creds + "&grant_type=client_credentials", nil, 200, ""},
		{"basic header only", "POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials", []string{"Authorization", basic}, 401, "invalid_client"},
		{"basic header and body", "POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&" + creds, []string{"Authorization", basic}, 200, ""},
		{"params in query", "POST", "application/x-www-form-urlencoded", "?grant_type=client_credentials&" + creds, "", nil, 401, "invalid_client"},
		{"wrong secret", "POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=viki-v3-client&client_secret=nope", nil, 401, "invalid_client"},
		{"no secret", "POST", "application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=viki-v3-client", nil, 401, "invalid_client"},
		{"no grant_type", "POST", "application/x-www-form-urlencoded", "", creds, nil, 400, "invalid_request"},
		{"unknown grant", "POST", "application/x-www-form-urlencoded", "", "grant_type=authorization_code&code=x&" + creds, nil, 400, "unsupported_grant_type"},
		{"refresh grant", "POST", "application/x-www-form-urlencoded", "", "grant_type=refresh_token&refresh_token=x&" + creds, nil, 400, "unsupported_grant_type"},
		{"json body", "POST", "application/json", "", `{"grant_type":"client_credentials","client_id":"viki-v3-client","client_secret":"viki-v3-secret"}`, nil, 400, "invalid_request"},
		{"GET", "GET", "", "?grant_type=client_credentials&" + creds, "", nil, 405, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if tc.ctype != "" {
				h = append(h, "Content-Type", tc.ctype)
			}
			r := vikiDo(t, v, tc.method, "/oauth/token"+tc.target, tc.body, h...)
			require.Equal(t, tc.status, r.status, string(r.body))
			require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
			require.Equal(t, "no-store", r.header.Get("Cache-Control"))
			m := r.json(t)
			if tc.errCode != "" {
				require.Equal(t, tc.errCode, m["error"])
				require.NotEmpty(t, m["error_description"])
				require.Len(t, m, 2)
				return
			}
			require.Len(t, m, 4, "no user id for client credentials")
			require.Regexp(t, `^[0-9a-f]{64}$`, m["access_token"])
			require.Equal(t, float64(86400), m["expires_in"])
			require.Equal(t, "public", m["scope"])
			require.Equal(t, "bearer", m["token_type"])
			form, err := url.ParseQuery(tc.body)
			require.NoError(t, err)
			require.Equal(t, form, v.LastTokenForm(), "the exact form is recorded")
		})
	}
	require.Equal(t, 3, v.Mints())
	require.Equal(t, 12, v.TokenCalls())
	require.Equal(t, url.Values{}, v.LastTokenForm(), "a GET has an empty form; query parameters are not form")
	require.Zero(t, v.APICalls())
	require.Nil(t, v.LastRequest(), "token requests are not API requests")
}

func TestVikiPasswordGrant(t *testing.T) {
	v, _ := newViki(t)
	creds := "&client_id=viki-v3-client&client_secret=viki-v3-secret"
	for _, tc := range []struct {
		name    string
		form    string
		status  int
		errCode string
	}{
		{"username and password", "grant_type=password&username=fan%40example.com&password=correct+horse", 200, ""},
		{"facebook", "grant_type=password&fb_access_token=fb-valid-token", 200, ""},
		{"wrong password", "grant_type=password&username=fan%40example.com&password=wrong", 401, "invalid_grant"},
		{"unknown user", "grant_type=password&username=x%40example.com&password=correct+horse", 401, "invalid_grant"},
		{"bad facebook token", "grant_type=password&fb_access_token=fb-other", 401, "invalid_grant"},
		{"missing password", "grant_type=password&username=fan%40example.com", 400, "invalid_request"},
		{"missing username", "grant_type=password&password=correct+horse", 400, "invalid_request"},
		{"nothing", "grant_type=password", 400, "invalid_request"},
		{"both methods", "grant_type=password&username=fan%40example.com&password=correct+horse&fb_access_token=fb-valid-token", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, v, tc.form+creds)
			require.Equal(t, tc.status, r.status, string(r.body))
			want, err := url.ParseQuery(tc.form + creds)
			require.NoError(t, err)
			require.Equal(t, want, v.LastTokenForm())
			m := r.json(t)
			if tc.errCode != "" {
				require.Equal(t, tc.errCode, m["error"])
				require.NotEmpty(t, m["error_description"])
				return
			}
			require.Regexp(t, `^[0-9a-f]{64}$`, m["access_token"])
			require.Equal(t, float64(86400), m["expires_in"])
			require.Equal(t, "bearer", m["token_type"])
			require.Equal(t, "1u", m["user_id"])
			require.Equal(t, map[string]any{"id": "1u", "username": "fan"}, m["user"])
		})
	}
	require.Equal(t, 2, v.Mints())
	require.Equal(t, 9, v.TokenCalls())
}

func TestVikiUserIDField(t *testing.T) {
	v, _ := newViki(t)
	form := "grant_type=password&username=fan%40example.com&password=correct+horse&client_id=viki-v3-client&client_secret=viki-v3-secret"
	for _, tc := range []struct {
		kind         string
		userID, user bool
	}{{"user_id", true, false}, {"user.id", false, true}, {"both", true, true}} {
		t.Run(tc.kind, func(t *testing.T) {
			v.SetUserIDField(tc.kind)
			m := postForm(t, v, form).json(t)
			_, hasID := m["user_id"]
			_, hasUser := m["user"]
			require.Equal(t, tc.userID, hasID)
			require.Equal(t, tc.user, hasUser)
			// client credentials never carry a user
			m = postForm(t, v, "grant_type=client_credentials&client_id=viki-v3-client&client_secret=viki-v3-secret").json(t)
			require.NotContains(t, m, "user_id")
			require.NotContains(t, m, "user")
		})
	}
}

// v3Token obtains a v3 token with form (client credentials added).
func v3Token(t *testing.T, v *Viki, form string) string {
	t.Helper()
	r := postForm(t, v, form+"&client_id=viki-v3-client&client_secret=viki-v3-secret")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return r.json(t)["access_token"].(string)
}

func TestVikiV3API(t *testing.T) {
	v, _ := newViki(t)
	app := v3Token(t, v, "grant_type=client_credentials")
	user := v3Token(t, v, "grant_type=password&fb_access_token=fb-valid-token")

	r := vikiDo(t, v, "GET", "/v3/movies.json?access_token="+app, "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var list []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &list))
	require.NotEmpty(t, list)
	require.NotEmpty(t, list[0]["id"])
	require.Equal(t, "/v3/movies.json", v.LastRequest().URL.Path)
	require.Equal(t, "access_token="+app, v.LastRequest().URL.RawQuery)

	require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", "/v3/series.json?access_token="+app, "").status)

	notAuth := map[string]any{"message": "Not Authorized", "status": float64(403)}
	r = vikiDo(t, v, "GET", "/v3/movies.json", "", "Authorization", "Bearer "+app)
	require.Equal(t, http.StatusForbidden, r.status, "a bearer header is ignored")
	require.Equal(t, notAuth, r.json(t))
	r = vikiDo(t, v, "GET", "/v3/movies.json?access_token=deadbeef", "")
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, notAuth, r.json(t))
	r = vikiDo(t, v, "GET", "/v3/movies.json?access_token=", "", "Authorization", "Bearer "+app)
	require.Equal(t, http.StatusForbidden, r.status)

	r = vikiDo(t, v, "GET", "/v3/users/1u.json?access_token="+user, "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, map[string]any{"id": "1u", "username": "fan"}, r.json(t))
	r = vikiDo(t, v, "GET", "/v3/users/1u.json?access_token="+app, "")
	require.Equal(t, http.StatusForbidden, r.status, "a client-credentials token has no user")
	require.NotEqual(t, "Not Authorized", r.json(t)["message"])
	require.Equal(t, http.StatusNotFound, vikiDo(t, v, "GET", "/v3/users/2u.json?access_token="+user, "").status)
	require.Equal(t, http.StatusNotFound, vikiDo(t, v, "GET", "/v3/nothing.json?access_token="+app, "").status)
	r = vikiDo(t, v, "POST", "/v3/movies.json?access_token="+app, "")
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
	require.Equal(t, "GET", r.header.Get("Allow"))

	issued := v.IssueV3Token()
	require.Regexp(t, `^[0-9a-f]{64}$`, issued)
	require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", "/v3/movies.json?access_token="+issued, "").status)
	require.Equal(t, 2, v.Mints(), "IssueV3Token is no mint")
	require.Equal(t, 11, v.APICalls())
}

func TestVikiV3Expiry(t *testing.T) {
	for _, status := range []int{0, http.StatusForbidden, http.StatusUnauthorized} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			v, c := newViki(t)
			want := http.StatusForbidden
			if status != 0 {
				v.SetV3ExpiryStatus(status)
				want = status
			}
			tok := v3Token(t, v, "grant_type=client_credentials")
			user := v3Token(t, v, "grant_type=password&username=fan%40example.com&password=correct+horse")
			c.Advance(24*time.Hour - time.Second)
			require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", "/v3/movies.json?access_token="+tok, "").status)
			require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", "/v3/users/1u.json?access_token="+user, "").status)
			c.Advance(time.Second)
			for _, target := range []string{"/v3/movies.json?access_token=" + tok, "/v3/users/1u.json?access_token=" + user} {
				r := vikiDo(t, v, "GET", target, "")
				require.Equal(t, want, r.status)
				require.Equal(t, map[string]any{"message": "Not Authorized", "status": float64(want)}, r.json(t))
			}
			fresh := v3Token(t, v, "grant_type=client_credentials")
			require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", "/v3/movies.json?access_token="+fresh, "").status)
		})
	}
}

func TestVikiQueryModeSignature(t *testing.T) {
	v, c := newViki(t)
	now := c.Now().Unix()
	for _, p := range []string{"/v4/movies.json?sort=views&app=9001", "/v5/movies.json?app=9001", "/v5/movies.json?app=9001&q=a%20b+c&x=%2F"} {
		target := querySigned(v, p, now, "")
		r := vikiDo(t, v, "GET", target, "")
		require.Equal(t, http.StatusOK, r.status, string(r.body)+" "+r.header.Get(vikiReasonHeader))
		m := r.json(t)
		require.Equal(t, false, m["more"])
		require.NotEmpty(t, m["response"])
		last := v.LastRequest()
		require.Equal(t, target, last.RequestURI, "the exact target is recorded")
		_, q, _ := strings.Cut(target, "?")
		require.Equal(t, q, last.URL.RawQuery)
	}
	require.Equal(t, 3, v.SignedCalls())
	require.Zero(t, v.BadSignatures())
	require.Zero(t, v.APICalls(), "v4/v5 calls are not v3 API calls")

	// Upper-case hex is accepted too.
	m := withT("/v4/movies.json?app=9001", now)
	r := vikiDo(t, v, "GET", m+"&sig="+strings.ToUpper(testHMAC(v.AppSecret, m, "")), "")
	require.Equal(t, http.StatusOK, r.status)
}

func TestVikiHeaderModeSignature(t *testing.T) {
	v, c := newViki(t)
	now := c.Now().Unix()
	const p = "/v5/movies.json?app=9001&sort=views"
	r := vikiDo(t, v, "GET", p, "", headerSigned(v, p, now, "")...)
	require.Equal(t, http.StatusOK, r.status, string(r.body)+" "+r.header.Get(vikiReasonHeader))
	require.Equal(t, p, v.LastRequest().RequestURI)
	require.Equal(t, strconv.FormatInt(now, 10), v.LastRequest().Header.Get("timestamp"))

	// The message is the query as sent plus "&t=<timestamp>": the same value
	// VikiSign gives.
	r = vikiDo(t, v, "GET", p, "", "Timestamp", strconv.FormatInt(now, 10), "Signature", VikiSign(v.AppSecret, p+"&t="+strconv.FormatInt(now, 10), nil))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, 2, v.SignedCalls())

	// t in the query is refused in header mode.
	pt := withT(p, now)
	r = vikiDo(t, v, "GET", pt, "", "Timestamp", strconv.FormatInt(now, 10), "Signature", testHMAC(v.AppSecret, pt, ""))
	requireVikiErr(t, r, http.StatusUnauthorized, "invalid signature", 4)
	r = vikiDo(t, v, "GET", pt, "", headerSigned(v, pt, now, "")...)
	requireVikiErr(t, r, http.StatusUnauthorized, "invalid signature", 4)
	// A timestamp header without a signature header is no signature.
	r = vikiDo(t, v, "GET", p, "", "Timestamp", strconv.FormatInt(now, 10))
	requireVikiErr(t, r, http.StatusUnauthorized, "invalid signature", 4)
	require.Equal(t, 3, v.BadSignatures())
}

func TestVikiBadSignatures(t *testing.T) {
	v, c := newViki(t)
	now := c.Now().Unix()
	good := withT("/v4/movies.json?sort=views&app=9001", now)
	sig := testHMAC(v.AppSecret, good, "")
	for _, tc := range []struct {
		name, target, body string
		header             []string
	}{
		{"no signature", good, "", nil},
		{"wrong signature", good + "&sig=" + strings.Repeat("0", 40), "", nil},
		{"not hex", good + "&sig=zz", "", nil},
		{"empty sig", good + "&sig=", "", nil},
		{"wrong secret", good + "&sig=" + testHMAC("other", good, ""), "", nil},
		{"sig not last", "/v4/movies.json?sort=views&app=9001&sig=" + sig + "&t=" + strconv.FormatInt(now, 10), "", nil},
		{"query re-encoded", "/v4/movies.json?sort=a%20b&app=9001&t=" + strconv.FormatInt(now, 10) + "&sig=" + testHMAC(v.AppSecret, "/v4/movies.json?sort=a+b&app=9001&t="+strconv.FormatInt(now, 10), ""), "", nil},
		{"full URL signed", good + "&sig=" + testHMAC(v.AppSecret, "http://api.viki.io"+good, ""), "", nil},
		{"unexpected body", good + "&sig=" + sig, "x", nil},
		{"header signature wrong", "/v4/movies.json?app=9001", "", []string{"Timestamp", strconv.FormatInt(now, 10), "Signature", sig}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := v.BadSignatures()
			r := vikiDo(t, v, "GET", tc.target, tc.body, tc.header...)
			requireVikiErr(t, r, http.StatusUnauthorized, "invalid signature", 4)
			require.NotEmpty(t, r.header.Get(vikiReasonHeader))
			require.Equal(t, before+1, v.BadSignatures())
		})
	}
	require.Zero(t, v.SignedCalls())
	require.Zero(t, v.StaleTimestamps())
}

func TestVikiApp(t *testing.T) {
	v, c := newViki(t)
	now := c.Now().Unix()
	requireVikiErr(t, vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?sort=views", now, ""), ""), http.StatusBadRequest, "missing app", 1)
	requireVikiErr(t, vikiDo(t, v, "GET", "/v4/movies.json", ""), http.StatusBadRequest, "missing app", 1)
	requireVikiErr(t, vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=", now, ""), ""), http.StatusBadRequest, "missing app", 1)
	requireVikiErr(t, vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9002", now, ""), ""), http.StatusUnauthorized, "invalid app", 2)
	require.Zero(t, v.SignedCalls()+v.BadSignatures()+v.StaleTimestamps())
}

func TestVikiStaleTimestamp(t *testing.T) {
	v, c := newViki(t)
	v.SetServerSkew(5 * time.Minute)
	server := c.Now().Unix() + 300

	// Query mode: stale, then re-signed with the server's timestamp.
	r := vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9001", c.Now().Unix(), ""), "")
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, map[string]any{"error": "stale timestamp", "current_timestamp": float64(server)}, r.json(t), "no vcode")
	ts := int64(r.json(t)["current_timestamp"].(float64))
	r = vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9001", ts, ""), "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	// Header mode likewise.
	const p = "/v5/movies.json?app=9001"
	r = vikiDo(t, v, "GET", p, "", headerSigned(v, p, c.Now().Unix(), "")...)
	require.Equal(t, float64(server), r.json(t)["current_timestamp"])
	r = vikiDo(t, v, "GET", p, "", headerSigned(v, p, server, "")...)
	require.Equal(t, http.StatusOK, r.status)

	// The window is 60 s either way, by the Clock.
	c.Advance(time.Hour)
	server += 3600
	for _, tc := range []struct {
		ts int64
		ok bool
	}{{server - 60, true}, {server + 60, true}, {server - 61, false}, {server + 61, false}} {
		r = vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9001", tc.ts, ""), "")
		if tc.ok {
			require.Equal(t, http.StatusOK, r.status, tc.ts-server)
		} else {
			require.Equal(t, float64(server), r.json(t)["current_timestamp"], tc.ts-server)
		}
	}

	// A signed request without t, or with a t that is no number, is stale.
	for _, m := range []string{"/v4/movies.json?app=9001", "/v4/movies.json?app=9001&t=soon"} {
		r = vikiDo(t, v, "GET", m+"&sig="+testHMAC(v.AppSecret, m, ""), "")
		require.Equal(t, map[string]any{"error": "stale timestamp", "current_timestamp": float64(server)}, r.json(t))
	}
	require.Equal(t, 6, v.StaleTimestamps())
	require.Equal(t, 4, v.SignedCalls())
	require.Zero(t, v.BadSignatures())

	// A stale request with a wrong signature is a bad signature.
	r = vikiDo(t, v, "GET", withT("/v4/movies.json?app=9001", 1)+"&sig=00", "")
	requireVikiErr(t, r, http.StatusUnauthorized, "invalid signature", 4)
	require.Equal(t, 6, v.StaleTimestamps())
}

// login posts body to /v5/sessions.json, signed in query mode.
func login(t *testing.T, v *Viki, c *Clock, body string) vikiReply {
	t.Helper()
	return vikiDo(t, v, "POST", querySigned(v, "/v5/sessions.json?app=9001", c.Now().Unix(), body), body, "Content-Type", "application/json")
}

func TestVikiSessions(t *testing.T) {
	v, c := newViki(t)
	r := login(t, v, c, `{"username":"fan@example.com","password":"correct horse"}`)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	tok, _ := m["token"].(string)
	require.Regexp(t, `^[0-9a-f]+$`, tok)
	require.Equal(t, map[string]any{"id": "1u", "username": "fan"}, m["user"])

	user := func(tok string) vikiReply {
		return vikiDo(t, v, "GET", querySigned(v, "/v5/users/1u.json?app=9001&token="+tok, c.Now().Unix(), ""), "")
	}
	show := func(tok string) vikiReply {
		return vikiDo(t, v, "GET", querySigned(v, "/v5/sessions/"+tok+".json?app=9001", c.Now().Unix(), ""), "")
	}
	r = user(tok)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, map[string]any{"id": "1u", "username": "fan"}, r.json(t))
	r = show(tok)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, map[string]any{"token": tok, "user": map[string]any{"id": "1u", "username": "fan"}}, r.json(t))

	// Header mode carries the token in the query too.
	p := "/v5/users/1u.json?app=9001&token=" + tok
	require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", p, "", headerSigned(v, p, c.Now().Unix(), "")...).status)

	// The signature covers the token: swapping it breaks the signature.
	signed := querySigned(v, "/v5/users/1u.json?app=9001&token="+tok, c.Now().Unix(), "")
	requireVikiErr(t, vikiDo(t, v, "GET", strings.Replace(signed, tok, "abc", 1), ""), http.StatusUnauthorized, "invalid signature", 4)

	requireVikiErr(t, user("nope"), http.StatusUnauthorized, "Invalid session token", 11)
	requireVikiErr(t, vikiDo(t, v, "GET", querySigned(v, "/v5/users/1u.json?app=9001", c.Now().Unix(), ""), ""), http.StatusUnauthorized, "Invalid session token", 11)
	requireVikiErr(t, show("nope"), http.StatusUnauthorized, "Invalid session token", 11)

	// Facebook login.
	r = login(t, v, c, `{"facebook_token":"fb-valid-token"}`)
	require.Equal(t, http.StatusOK, r.status)
	fb := r.json(t)["token"].(string)
	require.NotEqual(t, tok, fb)
	require.Equal(t, "1u", r.json(t)["user"].(map[string]any)["id"])

	// Failures.
	requireVikiErr(t, login(t, v, c, `{"username":"fan@example.com","password":"wrong"}`), http.StatusUnauthorized, "invalid login", 12)
	requireVikiErr(t, login(t, v, c, `{"facebook_token":"fb-other"}`), http.StatusUnauthorized, "invalid login", 12)
	requireVikiErr(t, login(t, v, c, `{"login_id":"fan@example.com","password":"correct horse"}`), http.StatusBadRequest, "invalid parameters", 13)
	requireVikiErr(t, login(t, v, c, `not json`), http.StatusBadRequest, "invalid parameters", 13)
	requireVikiErr(t, login(t, v, c, `{"username":"fan@example.com","password":"correct horse","facebook_token":"fb-valid-token"}`), http.StatusBadRequest, "invalid parameters", 13)
	// The body is signed: changing it after signing is refused.
	body := `{"username":"fan@example.com","password":"correct horse"}`
	target := querySigned(v, "/v5/sessions.json?app=9001", c.Now().Unix(), body)
	requireVikiErr(t, vikiDo(t, v, "POST", target, strings.Replace(body, "fan", "fan2", 1)), http.StatusUnauthorized, "invalid signature", 4)
	// v4 session creation is for official apps only.
	r = vikiDo(t, v, "POST", querySigned(v, "/v4/sessions.json?app=9001", c.Now().Unix(), `{"login_id":"fan@example.com","password":"correct horse"}`), `{"login_id":"fan@example.com","password":"correct horse"}`)
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, 8, v.Logins())
	requireVikiErr(t, vikiDo(t, v, "GET", querySigned(v, "/v5/sessions.json?app=9001", c.Now().Unix(), ""), ""), http.StatusMethodNotAllowed, "method not allowed", 16)
	require.Equal(t, 8, v.Logins(), "only POST is a login")

	// ExpireSessions: every token answers vcode 11; a new login works.
	v.ExpireSessions()
	requireVikiErr(t, user(tok), http.StatusUnauthorized, "Invalid session token", 11)
	requireVikiErr(t, user(fb), http.StatusUnauthorized, "Invalid session token", 11)
	requireVikiErr(t, show(tok), http.StatusUnauthorized, "Invalid session token", 11)
	fresh := login(t, v, c, `{"username":"fan@example.com","password":"correct horse"}`).json(t)["token"].(string)
	require.Equal(t, http.StatusOK, user(fresh).status)

	// Sessions expire by the Clock after 30 days [I].
	c.Advance(30*24*time.Hour - time.Second)
	require.Equal(t, http.StatusOK, user(fresh).status)
	c.Advance(time.Second)
	requireVikiErr(t, user(fresh), http.StatusUnauthorized, "Invalid session token", 11)

	issued := v.IssueSession()
	require.Equal(t, http.StatusOK, user(issued).status)
	require.Equal(t, 9, v.Logins(), "IssueSession is no login")
}

func TestVikiSignedBody(t *testing.T) {
	v, c := newViki(t)
	tok := v.IssueSession()
	p := "/v4/users/1u/watchlist.json?app=9001&token=" + tok
	now := c.Now().Unix()

	body := `{"id":"42v"}`
	r := vikiDo(t, v, "POST", querySigned(v, p, now, body), body, "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, r.status, string(r.body)+" "+r.header.Get(vikiReasonHeader))
	require.Equal(t, map[string]any{"id": "42v"}, r.json(t))
	last := v.LastRequest()
	got, err := io.ReadAll(last.Body)
	require.NoError(t, err)
	require.Equal(t, body, string(got))
	got, err = io.ReadAll(v.LastRequest().Body)
	require.NoError(t, err)
	require.Equal(t, body, string(got), "each LastRequest reads the body again")

	body2 := `{"id":"43v"}`
	r = vikiDo(t, v, "POST", p, body2, headerSigned(v, p, now, body2)...)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))

	// Body changed after signing, and a signature that ignores the body.
	requireVikiErr(t, vikiDo(t, v, "POST", querySigned(v, p, now, body), `{"id":"666v"}`), http.StatusUnauthorized, "invalid signature", 4)
	requireVikiErr(t, vikiDo(t, v, "POST", p, body, headerSigned(v, p, now, "")...), http.StatusUnauthorized, "invalid signature", 4)
	requireVikiErr(t, vikiDo(t, v, "POST", querySigned(v, p, now, "nope"), "nope"), http.StatusBadRequest, "invalid parameters", 13)

	r = vikiDo(t, v, "GET", querySigned(v, p, now, ""), "")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []any{map[string]any{"id": "42v"}, map[string]any{"id": "43v"}}, r.json(t)["response"])

	requireVikiErr(t, vikiDo(t, v, "DELETE", querySigned(v, p, now, ""), ""), http.StatusMethodNotAllowed, "method not allowed", 16)
	requireVikiErr(t, vikiDo(t, v, "GET", querySigned(v, "/v4/nothing.json?app=9001", now, ""), ""), http.StatusNotFound, "not found", 14)
	require.Equal(t, 6, v.SignedCalls())
	require.Equal(t, 2, v.BadSignatures())

	big := `"` + strings.Repeat("x", 1<<20) + `"`
	requireVikiErr(t, vikiDo(t, v, "POST", querySigned(v, p, now, big), big), http.StatusRequestEntityTooLarge, "Entity too large", 0)
}

func TestVikiFailTokenCalls(t *testing.T) {
	v, c := newViki(t)
	form := "grant_type=client_credentials&client_id=viki-v3-client&client_secret=viki-v3-secret"
	loginBody := `{"username":"fan@example.com","password":"correct horse"}`

	v.FailTokenCalls(3, Fail5xx)
	r := postForm(t, v, form)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "server_error", r.json(t)["error"])
	r = login(t, v, c, loginBody)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, map[string]any{"error": "service unavailable"}, r.json(t))
	// Other v4/v5 calls are not affected and do not use up the count.
	require.Equal(t, http.StatusOK, vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9001", c.Now().Unix(), ""), "").status)
	require.Equal(t, http.StatusServiceUnavailable, postForm(t, v, form).status)
	require.Equal(t, http.StatusOK, postForm(t, v, form).status)
	require.Equal(t, http.StatusOK, login(t, v, c, loginBody).status)

	v.FailTokenCalls(2, FailHTML)
	for _, r := range []vikiReply{postForm(t, v, form), login(t, v, c, loginBody)} {
		require.Equal(t, http.StatusBadGateway, r.status)
		require.Contains(t, r.header.Get("Content-Type"), "text/html")
	}
	// A failed call checks nothing: even a bad request fails the same way.
	v.FailTokenCalls(1, Fail5xx)
	require.Equal(t, http.StatusServiceUnavailable, vikiDo(t, v, "POST", "/v5/sessions.json", "junk").status)
	require.Zero(t, v.BadSignatures())

	v.FailTokenCalls(5, Fail5xx)
	v.FailTokenCalls(0, Fail5xx)
	require.Equal(t, http.StatusOK, postForm(t, v, form).status)

	require.Equal(t, 2, v.Mints())
	require.Equal(t, 5, v.TokenCalls())
	require.Equal(t, 4, v.Logins())
	require.Equal(t, 2, v.SignedCalls(), "an injected failure is no signed call")
}

func TestVikiRealClock(t *testing.T) {
	v := NewViki()
	defer v.Close()
	now := time.Now().Unix()
	r := vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9001", now, ""), "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	v.SetClock(NewClock(time.Unix(vikiT0, 0)))
	v.SetClock(nil)
	r = vikiDo(t, v, "GET", querySigned(v, "/v4/movies.json?app=9001", now, ""), "")
	require.Equal(t, http.StatusOK, r.status, "nil restores the real time")
	require.Equal(t, http.StatusNotFound, vikiDo(t, v, "GET", "/", "").status)
}

func TestVikiConcurrent(t *testing.T) {
	v, c := newViki(t)
	form := "grant_type=client_credentials&client_id=viki-v3-client&client_secret=viki-v3-secret"
	// get sends a request and returns its status and body; it must not call
	// require, as it runs outside the test's goroutine.
	get := func(method, target, body string, header ...string) (int, []byte) {
		req, err := http.NewRequest(method, v.URL+target, strings.NewReader(body))
		if err != nil {
			return 0, nil
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := v.Client().Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	statuses := make(chan int, 8*4)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			st, b := get("POST", "/oauth/token", form, "Content-Type", "application/x-www-form-urlencoded")
			statuses <- st
			var m struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(b, &m)
			st, _ = get("GET", "/v3/movies.json?access_token="+m.AccessToken, "")
			statuses <- st
			st, _ = get("GET", querySigned(v, "/v4/movies.json?app=9001", c.Now().Unix(), ""), "")
			statuses <- st
			body := `{"facebook_token":"fb-valid-token"}`
			st, _ = get("POST", querySigned(v, "/v5/sessions.json?app=9001", c.Now().Unix(), body), body)
			statuses <- st
			v.ExpireSessions()
			v.SetServerSkew(0)
			v.FailTokenCalls(0, Fail5xx)
			_ = v.LastRequest()
			_ = v.LastTokenForm()
			c.Advance(time.Millisecond)
		})
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		require.Equal(t, http.StatusOK, st)
	}
	require.Equal(t, 8, v.Mints())
	require.Equal(t, 8, v.APICalls())
	require.Equal(t, 16, v.SignedCalls())
	require.Equal(t, 8, v.Logins())
}
