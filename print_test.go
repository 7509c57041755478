package videoauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// Planted secrets: every secret field of every fixture of the table test
// holds one of these (the AuthRequest's state and verifier, which its
// constructor draws, are added per fixture), and no printer may show any of
// them, literally or encoded.
const (
	plantAccess   = "PLANT-access-tok"
	plantRefresh  = "PLANT-refresh-tok"
	plantExtra    = "PLANT-extra-id"
	plantSecret   = "PLANT-client-secret"
	plantProxy    = "PLANT-proxy-pass"
	plantDesc     = "PLANT-desc-text"
	plantBody     = "PLANT-body-text"
	plantURLToken = "PLANT-url-token"
	plantCode     = "PLANT-code-prose"
	plantDevice   = "PLANT-device-code"
	plantPassword = "PLANT-password"
	plantFacebook = "PLANT-facebook"
	plantMint     = "PLANT-mint-desc"
	plantAPIMsg   = "PLANT-api-message"
)

var printPlanted = []string{plantAccess, plantRefresh, plantExtra, plantSecret, plantProxy, plantDesc, plantBody,
	plantURLToken, plantCode, plantDevice, plantPassword, plantFacebook, plantMint, plantAPIMsg}

// printFixture is one value of an exported type that holds secrets, made
// by the package's own constructors, as a pointer; secrets are the ones it
// holds beyond printPlanted.
type printFixture struct {
	name    string
	ptr     any
	secrets []string
}

func printToken() *videoauth.Token {
	return &videoauth.Token{Provider: "vimeo", AccessToken: plantAccess, TokenType: "Bearer", RefreshToken: plantRefresh,
		Expiry: time.Date(2099, 7, 8, 10, 11, 12, 130000000, time.FixedZone("x", 3600)), Scopes: []string{"public", "private"}, UserID: "4242",
		User:  json.RawMessage(`{"uri":"/users/4242","name":"<A&B>"}`),
		Extra: map[string]json.RawMessage{"app": json.RawMessage(`{"name":"x"}`), "id_token": json.RawMessage(`"` + plantExtra + `"`)},
		Meta:  map[string]string{"simkl_auth": "v2", "k": "v"}}
}

// printServer plays Vimeo: a device code, a client-credentials mint that
// fails with planted prose, and an API that answers 200.
func printServer(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/oauth/device":
			_ = json.NewEncoder(w).Encode(map[string]any{"device_code": plantDevice, "user_code": "ABCD1234",
				"activate_link": srv.URL + "/activate", "authorize_link": srv.URL + "/activate?user_code=ABCD1234", "expires_in": 600, "interval": 5})
		case "/oauth/authorize/client":
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": "invalid_client", "error_description": plantMint, "developer_message": plantMint})
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func printFixtures(t *testing.T) []printFixture {
	t.Helper()
	ctx := context.Background()
	srv := printServer(t)
	hc := srv.Client()
	t.Cleanup(hc.CloseIdleConnections)

	app := videoauth.App{ClientID: "client-id", ClientSecret: plantSecret, RedirectURL: srv.URL + "/cb", Scopes: []string{"public"},
		HTTPClient: hc, AppName: "my-app", AppVersion: "1.0", APIURL: srv.URL, WebURL: srv.URL}
	vimeo, err := videoauth.NewVimeo(app)
	require.NoError(t, err)
	simkl, err := videoauth.NewSimkl(app, videoauth.SimklV2)
	require.NoError(t, err)
	// A proxy password in a base URL is a secret too.
	proxied := app
	proxied.APIURL = "https://proxy:" + plantProxy + "@proxy.example"
	viki, err := videoauth.NewViki(proxied)
	require.NoError(t, err)
	vikiAPI, err := videoauth.NewVikiAPI(app, videoauth.VikiSignQuery)
	require.NoError(t, err)

	ar, err := vimeo.AuthRequest(srv.URL+"/cb", "private")
	require.NoError(t, err)
	require.NotEmpty(t, ar.Verifier)

	src := vimeo.Source(printToken())
	client := videoauth.NewClient(vimeo, src)
	resp, err := client.Get(srv.URL + "/me")
	require.NoError(t, err)
	resp.Body.Close()
	tr, ok := client.Transport.(*videoauth.Transport)
	require.True(t, ok)

	// A Source whose mint failed keeps the *Error (with the service's
	// prose) for the callers that come within the retry interval.
	failed := vimeo.ClientCredentials()
	_, err = failed.Token(ctx)
	var mintErr *videoauth.Error
	require.ErrorAs(t, err, &mintErr)
	require.Contains(t, string(mintErr.Body), plantMint)

	dc, err := vimeo.Device(ctx)
	require.NoError(t, err)

	mem := &videoauth.MemoryStore{}
	require.NoError(t, mem.Save(ctx, "user-1", printToken()))
	fs, err := videoauth.NewFileStore(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, fs.Save(ctx, "user-1", printToken()))

	handMade := &videoauth.Error{Provider: "vimeo", Op: "exchange", Status: 400, Code: "has " + plantCode + " in it",
		Description: "the token " + plantAccess + " is " + plantDesc, URL: "https://api.vimeo.com/me?access_token=" + plantURLToken + "&x=1",
		RetryAfter: time.Second, Body: []byte(plantBody + `{"error":"` + plantAccess + `"}`), Err: videoauth.ErrCodeUsed}
	apiResp := &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"error":"` + plantAPIMsg + `","developer_message":"` + plantAPIMsg + `","error_code":2204}`)),
		Request: &http.Request{Method: http.MethodGet, URL: mustParse(t, srv.URL+"/me?access_token="+plantURLToken)}}
	var checked *videoauth.Error
	require.ErrorAs(t, videoauth.CheckResponse(vimeo, apiResp), &checked)
	require.Contains(t, string(checked.Body), plantAPIMsg)

	creds := videoauth.VikiCredentials{Username: "user", Password: plantPassword, FacebookToken: plantFacebook}

	return []printFixture{
		{name: "Token", ptr: printToken()},
		{name: "AuthRequest", ptr: ar, secrets: []string{ar.State, ar.Verifier}},
		{name: "Error", ptr: handMade},
		{name: "Error(mint)", ptr: mintErr},
		{name: "Error(CheckResponse)", ptr: checked},
		{name: "App", ptr: &proxied},
		{name: "Vimeo", ptr: vimeo},
		{name: "Simkl", ptr: simkl},
		{name: "Viki", ptr: viki},
		{name: "VikiAPI", ptr: vikiAPI},
		{name: "Source", ptr: src},
		{name: "Source(failed)", ptr: failed},
		{name: "Transport", ptr: tr},
		{name: "MemoryStore", ptr: mem},
		{name: "FileStore", ptr: fs},
		{name: "DeviceCode", ptr: dc},
		{name: "VikiCredentials", ptr: &creds},
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

// printEncodings are the forms a leaked secret takes in fmt, slog and JSON
// output: as is, in hex (%x, %X of a string or []byte), as the decimal or
// %#v bytes of a []byte, and in base64 (encoding/json's []byte) at each of
// the three alignments.
func printEncodings(s string) []string {
	b := []byte(s)
	dec := strings.Trim(fmt.Sprint(b), "[]")
	gob := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}")
	out := []string{s, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), dec, gob}
	for skip := range 3 {
		rest := b[skip:]
		if n := len(rest) / 3 * 3; n >= 6 {
			out = append(out, base64.StdEncoding.EncodeToString(rest[:n]))
		}
	}
	return out
}

type printer struct {
	name string
	f    func(x any) string
}

var printVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3v", "%-30s"}

func printers() []printer {
	var ps []printer
	for _, verb := range printVerbs {
		ps = append(ps, printer{"Sprintf" + verb, func(x any) string { return fmt.Sprintf(verb, x) }})
	}
	ps = append(ps,
		printer{"Sprint", func(x any) string { return fmt.Sprint(x) }},
		printer{"Sprintln", func(x any) string { return fmt.Sprintln("x", x) }},
		printer{"Errorf%v", func(x any) string { return fmt.Errorf("wrapped: %v", x).Error() }},
		printer{"slog.Text", func(x any) string { return printSlog(x, false) }},
		printer{"slog.JSON", func(x any) string { return printSlog(x, true) }},
		printer{"json.Marshal", func(x any) string {
			b, err := json.Marshal(x)
			if err != nil {
				return "error: " + err.Error()
			}
			return string(b)
		}},
		printer{"json.MarshalIndent", func(x any) string {
			b, err := json.MarshalIndent(x, "", "  ")
			if err != nil {
				return "error: " + err.Error()
			}
			return string(b)
		}},
	)
	return ps
}

func printSlog(x any, asJSON bool) string {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if asJSON {
		h = slog.NewJSONHandler(&buf, nil)
	}
	l := slog.New(h)
	l.Info("direct", "v", x)
	l.Info("any", slog.Any("v", x))
	l.With("v", x).WithGroup("g").Info("with")
	return buf.String()
}

// errPrinters apply to values that are errors: wrapping keeps them safe.
func errPrinters() []printer {
	return []printer{
		{"Errorf%w", func(x any) string { return fmt.Errorf("op: %w", x.(error)).Error() }},
		{"Errorf%w%+v", func(x any) string { return fmt.Sprintf("%+v", fmt.Errorf("op: %w", x.(error))) }},
		{"Errorf%w%#v", func(x any) string { return fmt.Sprintf("%#v", fmt.Errorf("op: %w", x.(error))) }},
		{"errors.Join", func(x any) string { return errors.Join(x.(error), io.EOF).Error() }},
		{"slog.JSON(wrapped)", func(x any) string { return printSlog(fmt.Errorf("op: %w", x.(error)), true) }},
		{"slog.Text(wrapped)", func(x any) string { return printSlog(fmt.Errorf("op: %w", x.(error)), false) }},
	}
}

// printContainers hold e (a value or a pointer) as callers do: directly,
// in a slice, a map, an exported struct field (by value, and behind a
// pointer, whose field encoding/json may address), and an []any.
func printContainers(e reflect.Value) map[string]any {
	t := e.Type()
	slice := reflect.Append(reflect.MakeSlice(reflect.SliceOf(t), 0, 1), e)
	m := reflect.MakeMap(reflect.MapOf(reflect.TypeFor[string](), t))
	m.SetMapIndex(reflect.ValueOf("k"), e)
	st := reflect.StructOf([]reflect.StructField{{Name: "Name", Type: reflect.TypeFor[string]()}, {Name: "F", Type: t}})
	sp := reflect.New(st)
	sp.Elem().Field(0).SetString("holder")
	sp.Elem().Field(1).Set(e)
	return map[string]any{
		"direct":     e.Interface(),
		"slice":      slice.Interface(),
		"map":        m.Interface(),
		"struct":     sp.Elem().Interface(),
		"struct ptr": sp.Interface(),
		"[]any":      []any{e.Interface()},
	}
}

// TestPrintNoSecrets: every exported type that holds a secret, as a value
// and as a pointer, directly and inside slices, maps and structs, through
// every fmt verb, Sprint, Sprintln, Errorf, slog's text and JSON handlers,
// json.Marshal and, for errors, wrapping: no token, code, verifier, state,
// secret, password or service text shows, in any encoding.
//
// Not covered, because no type can help it: %w outside Errorf or with a
// non-error (fmt's bad-verb path prints the raw fields of any value; go vet
// reports both), and a secret-holding value in a caller's unexported
// struct field printed with a verb the field's type does not take (fmt
// cannot call methods there).
func TestPrintNoSecrets(t *testing.T) {
	fixtures := printFixtures(t)
	ps := printers()
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			secrets := append(append([]string(nil), printPlanted...), fx.secrets...)
			var needles []string
			for _, s := range secrets {
				needles = append(needles, printEncodings(s)...)
			}
			ptr := reflect.ValueOf(fx.ptr)
			forms := map[string]reflect.Value{
				"pointer": ptr,
				// A copy, made by reflection: go vet would refuse the
				// assignment for the types that hold a lock.
				"value": ptr.Elem(),
			}
			for formName, e := range forms {
				for contName, x := range printContainers(e) {
					all := ps
					if _, isErr := x.(error); isErr {
						all = append(append([]printer(nil), ps...), errPrinters()...)
					}
					for _, p := range all {
						t.Run(formName+"/"+contName+"/"+p.name, func(t *testing.T) {
							out := p.f(x)
							for _, n := range needles {
								if strings.Contains(out, n) {
									t.Fatalf("%s of %s %s (%s) shows %q:\n%s", p.name, formName, fx.name, contName, n, out)
								}
							}
						})
					}
				}
			}
		})
	}
}

// printHasVerb reports whether the printer name is a Sprintf with one of
// verbs.
// TestPrintNilPointers: a nil pointer of each type prints without a panic
// through every printer (fmt's <nil>, slog's "nil", JSON's null).
func TestPrintNilPointers(t *testing.T) {
	nils := []any{(*videoauth.Token)(nil), (*videoauth.AuthRequest)(nil), (*videoauth.Error)(nil), (*videoauth.App)(nil),
		(*videoauth.Vimeo)(nil), (*videoauth.Simkl)(nil), (*videoauth.Viki)(nil), (*videoauth.VikiAPI)(nil),
		(*videoauth.Source)(nil), (*videoauth.Transport)(nil), (*videoauth.MemoryStore)(nil), (*videoauth.FileStore)(nil),
		(*videoauth.DeviceCode)(nil), (*videoauth.VikiCredentials)(nil)}
	for _, n := range nils {
		name := fmt.Sprintf("%T", n)
		if name == "*videoauth.App" || name == "*videoauth.VikiCredentials" {
			// Value types whose LogValue has a value receiver, as before:
			// slog reports a nil pointer's LogValue as a panic. fmt and
			// JSON are covered.
			for _, p := range printers() {
				if !strings.HasPrefix(p.name, "slog") {
					require.NotContains(t, p.f(n), "PANIC", "%s %s", name, p.name)
				}
			}
			continue
		}
		for _, p := range printers() {
			out := p.f(n)
			require.NotContains(t, out, "PANIC", "%s %s", name, p.name)
			require.NotContains(t, out, "panicked", "%s %s", name, p.name)
		}
		b, err := json.Marshal(n)
		require.NoError(t, err)
		require.Equal(t, "null", string(b))
	}
}

// TestTokenJSONForms: json.Marshal gives the redacted description, the
// same members slog shows through LogValue; EncodeToken gives the stored
// form, byte for byte what json.Marshal gave before; json.Unmarshal still
// reads the stored form and refuses the description, which DecodeToken
// finds no token in.
func TestTokenJSONForms(t *testing.T) {
	tok := printToken()
	const stored = `{"provider":"vimeo","access_token":"PLANT-access-tok","token_type":"Bearer","refresh_token":"PLANT-refresh-tok",` +
		`"expiry":"2099-07-08T10:11:12.13+01:00","scopes":["public","private"],"user_id":"4242","user":{"uri":"/users/4242","name":"\u003cA\u0026B\u003e"},` +
		`"extra":{"app":{"name":"x"},"id_token":"PLANT-extra-id"},"meta":{"k":"v","simkl_auth":"v2"}}`
	const desc = `{"provider":"vimeo","type":"Bearer","access":"REDACTED","refresh":"REDACTED","expiry":"2099-07-08T10:11:12.13+01:00","scopes":"public private","user":"4242"}`

	enc, err := videoauth.EncodeToken(tok)
	require.NoError(t, err)
	require.Equal(t, stored, string(enc), "the stored form is unchanged")

	for _, v := range []any{tok, *tok} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, desc, string(b))
	}
	b, err := json.Marshal(&videoauth.Token{AccessToken: "a"})
	require.NoError(t, err)
	require.Equal(t, `{"provider":"","type":"","access":"REDACTED","refresh":"none"}`, string(b))

	// slog's JSON handler: LogValue at the top level, MarshalJSON inside a
	// slice; the same members.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
			return slog.Attr{}
		}
		return a
	}})).Info("x", "tok", tok, "toks", []*videoauth.Token{tok})
	require.Equal(t, `{"tok":`+desc+`,"toks":[`+desc+`]}`+"\n", buf.String())

	// The stored form, old or new, still decodes with json.Unmarshal.
	var got videoauth.Token
	require.NoError(t, json.Unmarshal([]byte(stored), &got))
	require.Equal(t, tok.AccessToken, got.AccessToken)
	require.Equal(t, tok.Extra, got.Extra)
	dec, err := videoauth.DecodeToken([]byte(stored))
	require.NoError(t, err)
	require.Equal(t, &got, dec)
	require.NoError(t, json.Unmarshal([]byte(`null`), &got), "null leaves the token as it is")
	require.Equal(t, plantAccess, got.AccessToken)

	// The description is no token: refused, never a token whose access
	// token is "REDACTED".
	err = json.Unmarshal([]byte(desc), new(videoauth.Token))
	require.ErrorIs(t, err, videoauth.ErrStoreCorrupt)
	require.NotContains(t, err.Error(), "4242", "the error quotes nothing of the data")
	_, err = videoauth.DecodeToken([]byte(desc))
	require.ErrorIs(t, err, videoauth.ErrStoreCorrupt)
	var holder struct{ Tok *videoauth.Token }
	require.Error(t, json.Unmarshal([]byte(`{"Tok":`+desc+`}`), &holder))
}

// TestAuthRequestSessionForm: EncodeAuthRequest gives the session form,
// byte for byte what json.Marshal gave before, and DecodeAuthRequest (or
// json.Unmarshal) reads it back as a fresh request; json.Marshal gives the
// redacted description, which neither reads as a request.
func TestAuthRequestSessionForm(t *testing.T) {
	ar := &videoauth.AuthRequest{URL: "https://api.vimeo.com/oauth/authorize?state=PLANT-state", Provider: "vimeo", State: "PLANT-state",
		Verifier: "PLANT-verifier", RedirectURL: "https://app.example/cb", Scopes: []string{"public"}, Issuer: "https://vimeo.com", RequireIss: true}
	const session = `{"url":"https://api.vimeo.com/oauth/authorize?state=PLANT-state","provider":"vimeo","state":"PLANT-state","verifier":"PLANT-verifier",` +
		`"redirect_url":"https://app.example/cb","scopes":["public"],"issuer":"https://vimeo.com","require_iss":true,"implicit":false}`
	const desc = `{"provider":"vimeo","redirect":"https://app.example/cb","state":"REDACTED","verifier":"REDACTED","used":false}`

	b, err := videoauth.EncodeAuthRequest(ar)
	require.NoError(t, err)
	require.Equal(t, session, string(b), "the session form is unchanged")
	_, err = videoauth.EncodeAuthRequest(nil)
	require.ErrorIs(t, err, videoauth.ErrInvalidConfig)

	d, err := json.Marshal(ar)
	require.NoError(t, err)
	require.Equal(t, desc, string(d))

	got, err := videoauth.DecodeAuthRequest(b)
	require.NoError(t, err)
	require.Equal(t, ar.State, got.State)
	require.Equal(t, ar.Verifier, got.Verifier)
	var old videoauth.AuthRequest
	require.NoError(t, json.Unmarshal([]byte(session), &old), "json.Unmarshal reads sessions stored before")
	require.Equal(t, ar.State, old.State)

	for _, data := range []string{desc, `{"state":"REDACTED","verifier":"x"}`, `{"state":"none"}`, `not json`, `null`, `[]`} {
		_, err := videoauth.DecodeAuthRequest([]byte(data))
		require.ErrorIs(t, err, videoauth.ErrInvalidConfig, data)
	}
	require.ErrorIs(t, json.Unmarshal([]byte(desc), new(videoauth.AuthRequest)), videoauth.ErrInvalidConfig)

	// A restored request is fresh and single use; copies share the mark.
	q := url.Values{"state": {ar.State}, "code": {"c"}, "iss": {ar.Issuer}}
	cp := *got
	_, err = got.Callback(q)
	require.NoError(t, err)
	require.True(t, cp.Used(), "a copy shares the single-use mark")
	_, err = cp.Callback(q)
	require.ErrorIs(t, err, videoauth.ErrStateUsed)
	require.False(t, ar.Used())
	fresh, err := videoauth.DecodeAuthRequest(b)
	require.NoError(t, err)
	require.False(t, fresh.Used(), "a request decoded again is fresh")
}

// TestAuthRequestPrintWhileCallback: printing copies the request (Format
// and MarshalJSON have value receivers); under -race, that copy does not
// race with a concurrent Callback consuming it.
func TestAuthRequestPrintWhileCallback(t *testing.T) {
	srv := printServer(t)
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: "id", ClientSecret: plantSecret, APIURL: srv.URL})
	require.NoError(t, err)
	for range 20 {
		ar, err := vimeo.AuthRequest(srv.URL + "/cb")
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 20 {
				_ = fmt.Sprint(ar)
				_, _ = json.Marshal(ar)
				_ = printSlog([]*videoauth.AuthRequest{ar}, true)
			}
		}()
		_, err = ar.Callback(url.Values{"state": {ar.State}, "code": {"c"}})
		require.NoError(t, err)
		<-done
		require.Contains(t, fmt.Sprint(*ar), "used=true")
	}
}

// TestErrorJSON: json.Marshal of an *Error (or an Error) gives its safe
// fields: Error(), the code when it looks like one, the URL redacted, and
// only the lengths of Description and Body.
func TestErrorJSON(t *testing.T) {
	e := &videoauth.Error{Provider: "vimeo", Op: "exchange", Status: 400, Code: "invalid_grant", Description: plantDesc,
		URL: "https://api.vimeo.com/oauth/access_token?code=" + plantURLToken, RetryAfter: 90 * time.Second, Body: []byte(plantBody), Err: videoauth.ErrCodeUsed}
	want := `{"error":"videoauth: vimeo exchange: HTTP 400: invalid_grant: authorization code invalid or already used","provider":"vimeo","op":"exchange",` +
		`"status":400,"code":"invalid_grant","url":"https://api.vimeo.com/oauth/access_token?code=REDACTED","retry_after":"1m30s","description_bytes":15,"body_bytes":15}`
	for _, v := range []any{e, *e} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, want, string(b))
	}
}

// TestStorePrinting: a MemoryStore prints its number of keys, never its
// tokens or keys; a Source and a Transport print their token redacted.
func TestStorePrinting(t *testing.T) {
	ctx := context.Background()
	m := &videoauth.MemoryStore{}
	require.Equal(t, "videoauth.MemoryStore{keys=0}", fmt.Sprint(m))
	require.NoError(t, m.Save(ctx, "user-1", printToken()))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d"} {
		require.Equal(t, "videoauth.MemoryStore{keys=1}", fmt.Sprintf(verb, m), verb)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.Equal(t, `{"keys":1}`, string(b))
	tok, err := m.Load(ctx, "user-1")
	require.NoError(t, err)
	require.Equal(t, printToken().AccessToken, tok.AccessToken, "the store still works")

	src := videoauth.NewSource(printToken(), nil)
	src.Store, src.Key = m, "user-1"
	require.Equal(t, "videoauth.Source{provider=any key=user-1 store=true renewable=false token="+printToken().String()+"}", fmt.Sprint(src))
	tr := &videoauth.Transport{Source: src}
	require.Equal(t, "videoauth.Transport{provider=none source="+src.String()+"}", fmt.Sprintf("%+v", tr))
	b, err = json.Marshal(struct{ T *videoauth.Transport }{tr})
	require.NoError(t, err)
	require.Contains(t, string(b), `"access":"REDACTED"`)
}
