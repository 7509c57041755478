package videoauth_test

// Every provider's request style, implemented three ways over the same base,
// so the cost of videoauth's request path can be read against a floor and
// against x/oauth2 (BENCHMARKS.md, section 1):
//
//   - impl=limit: a hand-written minimal RoundTripper for the one style. It
//     sends exactly the request videoauth sends, as cheaply as the
//     RoundTripper contract allows: it copies the request struct, and the
//     URL or the header only when it changes them; it shares the caller's
//     header values and its own per-token values (credential strings and
//     []string header values, built once per token as a careful client
//     would) with the request it sends, since nothing downstream may modify
//     them; for Viki v4/v5 it keeps pooled HMACs and builds the query, the
//     timestamp and the signature in one string. It checks what videoauth's
//     rules look at for such a request (the host, the token's expiry, which
//     parameters the caller's query already has) and nothing more, and it
//     does not look at the answer. A request its fast path does not cover (a
//     caller's Accept for Vimeo, a caller's credential parameter, a query
//     with escaped keys or empty parameters, a body to sign) is authorized
//     with the provider's own Authorize (and Viki's Signer) instead, so the
//     limit is never wrong; the benchmarks never take that path.
//   - impl=xoauth2: x/oauth2 as its users use it — oauth2.Transport over
//     oauth2.ReuseTokenSource, with below it the small RoundTripper a user
//     writes to add what x/oauth2 does not (query parameters, headers),
//     written plainly with the standard library (req.Clone, URL.Query,
//     Header.Set, string concatenation). oauth2.Transport can only write an
//     Authorization header, which Viki does not read, so for Viki the user's
//     RoundTripper takes the token from the ReuseTokenSource itself and puts
//     it in the query (and for v4/v5 signs with hmac.New per request).
//   - impl=videoauth: videoauth.Transport over the provider's Source, as
//     NewClient builds it.
//
// TestStyleSameRequest checks that the three send the identical request;
// TestStyleAllocBudget holds videoauth's allocations to a budget.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/videoauth/videoauth"
)

// styleNames are the styles measured, in the order of the tables.
var styleNames = []string{"vimeo", "simkl-v2", "simkl-v1", "vikiv3", "vikiv4-query", "vikiv4-headers"}

// styleImplNames are the implementations of each style.
var styleImplNames = []string{"limit", "xoauth2", "videoauth"}

// Credentials of the styles, of the services' own shapes and lengths.
const (
	styleVimeoClientID = "0123456789abcdef0123456789abcdef01234567" // 40 hex
	styleVimeoToken    = "fedcba9876543210fedcba9876543210"         // 32 hex

	styleSimklClientID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" // 64 hex
	styleSimklAppName  = "bench-app"
	styleSimklVersion  = "1.4.2"
	styleSimklV2Token  = "simkl_at_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0"                    // V2 access tokens start with simkl_at_
	styleSimklV1Token  = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210" // 64 hex

	styleVikiV3ClientID = "100005a"
	styleVikiV3Token    = "0123456789abcdef0123456789abcdef01234567" // 40 hex

	styleVikiAppID   = "100005a"
	styleVikiSecret  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	styleVikiSession = "fedcba9876543210fedcba9876543210fedcba98" // 40 hex
)

// styleRequest is the caller's request of each style: a GET of a typical
// endpoint, with a query where the style changes the query.
func styleRequest(tb testing.TB, style string) *http.Request {
	tb.Helper()
	var u string
	switch style {
	case "vimeo":
		u = videoauth.VimeoURL + "/me/videos"
	case "simkl-v2", "simkl-v1":
		u = videoauth.SimklAPIURL + "/sync/all-items/shows?extended=full"
	case "vikiv3":
		u = videoauth.VikiV3URL + "/v3/users/1u/subscriptions.json?per_page=25"
	case "vikiv4-query", "vikiv4-headers":
		u = videoauth.VikiAPIURL + "/v4/users/1u/subscriptions.json?per_page=25"
	default:
		tb.Fatalf("unknown style %q", style)
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// newStyle returns style's three implementations over base, keyed by
// implementation name. clock is every implementation's time source (the
// Viki v4/v5 timestamp, the token's expiry); nil is the real clock, as users
// run it (App.Clock nil).
func newStyle(tb testing.TB, style string, base http.RoundTripper, clock videoauth.Clock) map[string]http.RoundTripper {
	tb.Helper()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	t0 := now()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	reuse := func(tok *videoauth.Token) oauth2.TokenSource {
		return oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok.OAuth2()))
	}
	switch style {
	case "vimeo":
		p, err := videoauth.NewVimeo(videoauth.App{ClientID: styleVimeoClientID, ClientSecret: "secret", Clock: clock})
		must(err)
		// A client-credentials token, with an hour to live as in the
		// earlier BenchmarkTransport.
		tok := &videoauth.Token{Provider: "vimeo", AccessToken: styleVimeoToken, TokenType: "Bearer", Expiry: t0.Add(time.Hour), Scopes: []string{"public"}}
		accept := "application/vnd.vimeo.*+json;version=" + videoauth.VimeoVersion
		return map[string]http.RoundTripper{
			"limit":     newStyleVimeoLimit(p, tok, accept, base, now),
			"xoauth2":   &oauth2.Transport{Source: reuse(tok), Base: styleVimeoUser{accept: accept, base: base}},
			"videoauth": &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: base},
		}
	case "simkl-v2", "simkl-v1":
		gen, tok := videoauth.SimklV2, &videoauth.Token{
			Provider: "simkl", AccessToken: styleSimklV2Token, TokenType: "Bearer", RefreshToken: "simkl_rt_bench",
			Expiry: t0.Add(7 * 24 * time.Hour), Scopes: []string{videoauth.SimklScopeRead, videoauth.SimklScopeWrite},
			Meta: map[string]string{"simkl_auth": "v2"},
		}
		if style == "simkl-v1" {
			// Five-year tokens, sent without a lifetime.
			gen, tok = videoauth.SimklV1, &videoauth.Token{Provider: "simkl", AccessToken: styleSimklV1Token, TokenType: "Bearer",
				Meta: map[string]string{"simkl_auth": "v1"}}
		}
		app := videoauth.App{ClientID: styleSimklClientID, ClientSecret: "secret", AppName: styleSimklAppName, AppVersion: styleSimklVersion, Clock: clock}
		p, err := videoauth.NewSimkl(app, gen)
		must(err)
		ua := styleSimklAppName + "/" + styleSimklVersion
		return map[string]http.RoundTripper{
			"limit":     newStyleSimklLimit(p, tok, ua, base, now),
			"xoauth2":   &oauth2.Transport{Source: reuse(tok), Base: styleSimklUser{clientID: styleSimklClientID, ua: ua, base: base}},
			"videoauth": &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: base},
		}
	case "vikiv3":
		p, err := videoauth.NewViki(videoauth.App{ClientID: styleVikiV3ClientID, ClientSecret: "secret", Clock: clock})
		must(err)
		tok := &videoauth.Token{Provider: "viki", AccessToken: styleVikiV3Token, TokenType: "Bearer", Expiry: t0.Add(24 * time.Hour)}
		return map[string]http.RoundTripper{
			"limit":     newStyleVikiV3Limit(p, tok, base, now),
			"xoauth2":   styleVikiV3User{src: reuse(tok), base: base},
			"videoauth": &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: base},
		}
	case "vikiv4-query", "vikiv4-headers":
		signing := videoauth.VikiSignQuery
		if style == "vikiv4-headers" {
			signing = videoauth.VikiSignHeaders
		}
		p, err := videoauth.NewVikiAPI(videoauth.App{ClientID: styleVikiAppID, ClientSecret: styleVikiSecret, Clock: clock}, signing)
		must(err)
		// A v5 session, as Login returns it: no lifetime.
		tok := &videoauth.Token{Provider: "viki", AccessToken: styleVikiSession, TokenType: "viki-session", UserID: "1u",
			Meta: map[string]string{"viki_api": "v5"}}
		headers := signing == videoauth.VikiSignHeaders
		return map[string]http.RoundTripper{
			"limit": newStyleVikiLimit(p, tok, headers, base, now),
			"xoauth2": &styleVikiUser{src: reuse(tok), appID: styleVikiAppID, secret: styleVikiSecret,
				headers: headers, now: now, base: base},
			"videoauth": &videoauth.Transport{Provider: p, Source: p.Source(tok), Base: base},
		}
	}
	tb.Fatalf("unknown style %q", style)
	return nil
}

// BenchmarkStyle measures one authorized GET of each style through each
// implementation, serially and with b.RunParallel, over benchNoop. The
// sub-benchmark names let benchstat put the implementations side by side:
//
//	go test -run '^$' -bench Style -benchmem -count 8 . > styles.txt
//	benchstat -col '/impl@(limit xoauth2 videoauth)' styles.txt
func BenchmarkStyle(b *testing.B) {
	for _, style := range styleNames {
		impls := newStyle(b, style, benchNoop{}, nil)
		req := styleRequest(b, style)
		benchStyleImpls(b, "style="+style, impls, req)
	}
}

// --- the limits ---

var errStyleLimitExpired = errors.New("limit: token expired")

// styleLimitToken is what every limit keeps per token: the token, the
// instant it stops being used (videoauth's margin: a tenth of its lifetime,
// at most 10 s, before its expiry; zero when it has none), and the values
// built from it.
type styleLimitToken[V any] struct {
	tok  *videoauth.Token
	stop time.Time
	v    V
}

func newStyleLimitToken[V any](tok *videoauth.Token, now time.Time, v V) *styleLimitToken[V] {
	t := &styleLimitToken[V]{tok: tok, v: v}
	if !tok.Expiry.IsZero() {
		t.stop = tok.Expiry.Add(-min(10*time.Second, tok.Expiry.Sub(now)/10))
	}
	return t
}

func (t *styleLimitToken[V]) usable(now func() time.Time) bool {
	return t.stop.IsZero() || now().Before(t.stop)
}

// styleOwned is the Transport's host rule: req and every request of its
// redirect chain go to p's origin. The fast path is one comparison.
func styleOwned(p videoauth.Provider, scheme, host string, req *http.Request) bool {
	if req.Response == nil && req.URL.Scheme == scheme && req.URL.Host == host {
		return true
	}
	for r := req; r != nil; {
		if !p.Owns(r.URL) {
			return false
		}
		if r.Response == nil {
			return true
		}
		r = r.Response.Request
	}
	return true
}

// styleScanQuery reports whether a key of raw is one of names, whether a
// key holds an escape ('%', '+') and might unescape to one, and whether a
// parameter is empty; it allocates nothing.
func styleScanQuery(raw string, names ...string) (found, escaped, empty bool) {
	if raw == "" {
		return false, false, false
	}
	for rest, more := raw, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, "&")
		if p == "" {
			empty = true
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if strings.ContainsAny(k, "%+") {
			escaped = true
		}
		for _, n := range names {
			if k == n {
				found = true
			}
		}
	}
	return found, escaped, empty
}

// styleSlowPath authorizes a clone of req with p's own Authorize, for the
// requests a limit's fast path does not cover.
func styleSlowPath(p videoauth.Provider, tok *videoauth.Token, req *http.Request, base http.RoundTripper) (*http.Response, error) {
	r := req.Clone(req.Context())
	if err := p.Authorize(r, tok); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return base.RoundTrip(r)
}

// styleCopyHeader is req's header with room for n more keys, sharing the
// caller's values.
func styleCopyHeader(h http.Header, n int) http.Header {
	c := make(http.Header, len(h)+n)
	for k, v := range h {
		c[k] = v
	}
	return c
}

// styleVimeoLimit: Bearer and the versioned Accept, in a copied header; the
// URL is shared.
type styleVimeoLimit struct {
	p    *videoauth.Vimeo
	base http.RoundTripper
	now  func() time.Time
	cur  atomic.Pointer[styleLimitToken[styleVimeoValues]]
}

type styleVimeoValues struct{ auth, accept []string }

func newStyleVimeoLimit(p *videoauth.Vimeo, tok *videoauth.Token, accept string, base http.RoundTripper, now func() time.Time) *styleVimeoLimit {
	l := &styleVimeoLimit{p: p, base: base, now: now}
	l.cur.Store(newStyleLimitToken(tok, now(), styleVimeoValues{auth: []string{"Bearer " + tok.AccessToken}, accept: []string{accept}}))
	return l
}

func (l *styleVimeoLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "api.vimeo.com", req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	if _, ok := req.Header["Accept"]; ok {
		return styleSlowPath(l.p, t.tok, req, l.base)
	}
	r := new(http.Request)
	*r = *req
	h := styleCopyHeader(req.Header, 2)
	h["Authorization"] = t.v.auth
	h["Accept"] = t.v.accept
	r.Header = h
	return l.base.RoundTrip(r)
}

// styleSimklLimit: Bearer, User-Agent and simkl-api-key in a copied header,
// and client_id, app-name and app-version after the caller's query.
type styleSimklLimit struct {
	p    *videoauth.Simkl
	base http.RoundTripper
	now  func() time.Time
	cur  atomic.Pointer[styleLimitToken[styleSimklValues]]
}

type styleSimklValues struct {
	auth, ua, key []string
	alone, suffix string // the three parameters for an empty query, and after another
	otherGen      bool   // the token is of the other generation: Authorize refuses it
}

func newStyleSimklLimit(p *videoauth.Simkl, tok *videoauth.Token, ua string, base http.RoundTripper, now func() time.Time) *styleSimklLimit {
	l := &styleSimklLimit{p: p, base: base, now: now}
	v := styleSimklValues{
		auth: []string{"Bearer " + tok.AccessToken}, ua: []string{ua}, key: []string{styleSimklClientID},
		// As videoauth sends them: sorted (url.Values.Encode) alone, in
		// this order after the caller's parameters.
		alone:    url.Values{"client_id": {styleSimklClientID}, "app-name": {styleSimklAppName}, "app-version": {styleSimklVersion}}.Encode(),
		suffix:   "&client_id=" + url.QueryEscape(styleSimklClientID) + "&app-name=" + url.QueryEscape(styleSimklAppName) + "&app-version=" + url.QueryEscape(styleSimklVersion),
		otherGen: videoauth.SimklGenerationOf(tok) != p.Generation(),
	}
	l.cur.Store(newStyleLimitToken(tok, now(), v))
	return l
}

func (l *styleSimklLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "api.simkl.com", req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	raw := req.URL.RawQuery
	found, escaped, _ := styleScanQuery(raw, "client_id", "app-name", "app-version")
	if found || escaped || t.v.otherGen {
		return styleSlowPath(l.p, t.tok, req, l.base)
	}
	r := new(http.Request)
	*r = *req
	u := *req.URL
	if raw == "" {
		u.RawQuery = t.v.alone
	} else {
		u.RawQuery = raw + t.v.suffix
	}
	r.URL = &u
	h := styleCopyHeader(req.Header, 3)
	h["Authorization"] = t.v.auth
	if ua := req.Header["User-Agent"]; len(ua) == 0 || ua[0] == "" {
		h["User-Agent"] = t.v.ua
	}
	h["Simkl-Api-Key"] = t.v.key
	r.Header = h
	return l.base.RoundTrip(r)
}

// styleVikiV3Limit: access_token after the caller's query; the header is
// the caller's.
type styleVikiV3Limit struct {
	p    *videoauth.Viki
	base http.RoundTripper
	now  func() time.Time
	cur  atomic.Pointer[styleLimitToken[string]] // "&access_token=TOKEN"
}

func newStyleVikiV3Limit(p *videoauth.Viki, tok *videoauth.Token, base http.RoundTripper, now func() time.Time) *styleVikiV3Limit {
	l := &styleVikiV3Limit{p: p, base: base, now: now}
	l.cur.Store(newStyleLimitToken(tok, now(), "&access_token="+url.QueryEscape(tok.AccessToken)))
	return l
}

func (l *styleVikiV3Limit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "viki.com", req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	raw := req.URL.RawQuery
	if found, escaped, empty := styleScanQuery(raw, "access_token"); found || escaped || empty {
		return styleSlowPath(l.p, t.tok, req, l.base)
	}
	r := new(http.Request)
	*r = *req
	u := *req.URL
	if raw == "" {
		u.RawQuery = t.v[1:]
	} else {
		u.RawQuery = raw + t.v
	}
	r.URL = &u
	return l.base.RoundTrip(r)
}

// styleVikiLimit: the v4/v5 signer. The query (the caller's, token, app, t
// and sig, or without t and sig when they travel in headers), the
// timestamp and the signature are built in one string with a pooled HMAC
// keyed once; only the header-signing mode copies the header.
type styleVikiLimit struct {
	p       *videoauth.VikiAPI
	base    http.RoundTripper
	now     func() time.Time
	headers bool
	offset  atomic.Int64 // the server's clock minus ours, as videoauth keeps it
	cur     atomic.Pointer[styleLimitToken[string]]
	macs    sync.Pool
}

// styleVikiMAC is a pooled HMAC with its scratch space.
type styleVikiMAC struct {
	h   hash.Hash
	buf []byte
	sum [sha1.Size]byte
}

func newStyleVikiLimit(p *videoauth.VikiAPI, tok *videoauth.Token, headers bool, base http.RoundTripper, now func() time.Time) *styleVikiLimit {
	l := &styleVikiLimit{p: p, base: base, now: now, headers: headers}
	l.cur.Store(newStyleLimitToken(tok, now(), "token="+url.QueryEscape(tok.AccessToken)+"&app="+url.QueryEscape(styleVikiAppID)))
	l.macs.New = func() any {
		return &styleVikiMAC{h: hmac.New(sha1.New, []byte(styleVikiSecret)), buf: make([]byte, 0, 256)}
	}
	return l
}

func (l *styleVikiLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	if !styleOwned(l.p, "https", "api.viki.io", req) {
		return l.base.RoundTrip(req)
	}
	t := l.cur.Load()
	if !t.usable(l.now) {
		return nil, errStyleLimitExpired
	}
	raw := req.URL.RawQuery
	found, escaped, empty := styleScanQuery(raw, "token", "app", "t", "sig")
	if found || escaped || empty || req.Body != nil && req.Body != http.NoBody {
		r := req.Clone(req.Context())
		if err := l.p.Authorize(r, t.tok); err != nil {
			return nil, err
		}
		return l.p.Signer(l.base).RoundTrip(r)
	}
	m := l.macs.Get().(*styleVikiMAC)
	b := append(m.buf[:0], req.URL.EscapedPath()...)
	b = append(b, '?')
	q := len(b)
	if raw != "" {
		b = append(b, raw...)
		b = append(b, '&')
	}
	b = append(b, t.v...)
	qEnd := len(b)
	b = append(b, "&t="...)
	b = strconv.AppendInt(b, l.now().Unix()+l.offset.Load(), 10)
	tsEnd := len(b)
	m.h.Reset()
	m.h.Write(b)
	sum := m.h.Sum(m.sum[:0])
	if !l.headers {
		b = append(b, "&sig="...)
	}
	b = hex.AppendEncode(b, sum)
	s := string(b[q:]) // the query, the timestamp and the signature: one allocation
	m.buf = b
	l.macs.Put(m)

	r := new(http.Request)
	*r = *req
	u := *req.URL
	r.URL = &u
	if !l.headers {
		u.RawQuery = s
		return l.base.RoundTrip(r)
	}
	u.RawQuery = s[:qEnd-q]
	vals := []string{s[qEnd-q+len("&t=") : tsEnd-q], s[tsEnd-q:]}
	h := styleCopyHeader(req.Header, 2)
	h["Timestamp"] = vals[0:1:1]
	h["Signature"] = vals[1:2:2]
	r.Header = h
	return l.base.RoundTrip(r)
}

// --- what an x/oauth2 user writes ---

// styleVimeoUser adds Vimeo's versioned Accept below oauth2.Transport.
type styleVimeoUser struct {
	accept string
	base   http.RoundTripper
}

func (t styleVimeoUser) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", t.accept)
	return t.base.RoundTrip(r)
}

// styleSimklUser adds Simkl's required parameters (those the URL lacks) and
// headers below oauth2.Transport.
type styleSimklUser struct {
	clientID, ua string
	base         http.RoundTripper
}

func (t styleSimklUser) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	params := [][2]string{{"client_id", t.clientID}, {"app-name", styleSimklAppName}, {"app-version", styleSimklVersion}}
	if r.URL.RawQuery == "" {
		q := url.Values{}
		for _, kv := range params {
			q.Set(kv[0], kv[1])
		}
		r.URL.RawQuery = q.Encode()
	} else {
		q := r.URL.Query()
		for _, kv := range params {
			if !q.Has(kv[0]) {
				r.URL.RawQuery += "&" + kv[0] + "=" + url.QueryEscape(kv[1])
			}
		}
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.ua)
	}
	r.Header.Set("Simkl-Api-Key", t.clientID)
	return t.base.RoundTrip(r)
}

// styleUserQuery is raw without its empty parameters and those named in
// drop, with add appended: how a user keeps the caller's query in order
// while setting parameters.
func styleUserQuery(raw string, drop []string, add ...string) string {
	var kept []string
	for _, p := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(p, "=")
		if p != "" && !containsStr(drop, k) {
			kept = append(kept, p)
		}
	}
	return strings.Join(append(kept, add...), "&")
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// styleVikiV3User puts the token from an x/oauth2 TokenSource in the
// access_token query parameter.
type styleVikiV3User struct {
	src  oauth2.TokenSource
	base http.RoundTripper
}

func (t styleVikiV3User) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := t.src.Token()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.URL.RawQuery = styleUserQuery(r.URL.RawQuery, []string{"access_token"}, "access_token="+url.QueryEscape(tok.AccessToken))
	return t.base.RoundTrip(r)
}

// styleVikiUser is the naive v4/v5 signer over an x/oauth2 TokenSource:
// the session in the query, app and t, and the HMAC-SHA1 of path and query
// in the query or in headers.
type styleVikiUser struct {
	src           oauth2.TokenSource
	appID, secret string
	headers       bool
	now           func() time.Time
	base          http.RoundTripper
}

func (t *styleVikiUser) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := t.src.Token()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	add := []string{"token=" + url.QueryEscape(tok.AccessToken)}
	if !r.URL.Query().Has("app") {
		add = append(add, "app="+url.QueryEscape(t.appID))
	}
	q := styleUserQuery(r.URL.RawQuery, []string{"token", "t", "sig"}, add...)
	ts := strconv.FormatInt(t.now().Unix(), 10)
	mac := hmac.New(sha1.New, []byte(t.secret))
	if t.headers {
		mac.Write([]byte(r.URL.EscapedPath() + "?" + q + "&t=" + ts))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", hex.EncodeToString(mac.Sum(nil)))
	} else {
		q += "&t=" + ts
		mac.Write([]byte(r.URL.EscapedPath() + "?" + q))
		q += "&sig=" + hex.EncodeToString(mac.Sum(nil))
	}
	r.URL.RawQuery = q
	return t.base.RoundTrip(r)
}

// benchStyleImpls runs one authorized GET (req) through each
// implementation of a style, serially and with b.RunParallel, named
// prefix + "/impl=<impl>/run=<serial|parallel>" so that benchstat puts the
// implementations side by side. Every style benchmark shares it.
func benchStyleImpls(b *testing.B, prefix string, impls map[string]http.RoundTripper, req *http.Request) {
	for _, impl := range styleImplNames {
		rt := impls[impl]
		name := prefix + "/impl=" + impl
		b.Run(name+"/run=serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
		b.Run(name+"/run=parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := rt.RoundTrip(req)
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Error(err)
						return
					}
					resp.Body.Close()
				}
			})
		})
	}
}
