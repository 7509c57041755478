package wire

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

type seen struct {
	method, auth, ctype, accept string
	form                        url.Values
}

func server(t *testing.T, status int, body string) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.method, s.auth, s.ctype, s.accept = r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("Accept")
		r.ParseForm()
		s.form = r.PostForm
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func TestAuthStyles(t *testing.T) {
	const id, secret = "id:with+chars", "s3cr+t/with=reserved&%"
	for _, tc := range []struct {
		name       string
		style      AuthStyle
		wantBasic  string
		wantSecret string
	}{
		{"basic raw", AuthBasicRaw, "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret)), ""},
		{"in params", AuthInParams, "", secret},
		{"none", AuthNone, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := server(t, 200, `{}`)
			resp, err := Do(context.Background(), NoRedirect(nil), &Request{
				URL: srv.URL + "/token?client_id=q", Form: url.Values{"grant_type": {"x"}},
				Header: http.Header{"Accept": {"application/vnd.test"}},
				Style:  tc.style, ClientID: id, ClientSecret: secret,
			})
			require.NoError(t, err)
			require.Equal(t, 200, resp.Status)
			require.Equal(t, http.MethodPost, s.method)
			require.Equal(t, tc.wantBasic, s.auth)
			require.Equal(t, "application/x-www-form-urlencoded", s.ctype)
			require.Equal(t, "application/vnd.test", s.accept)
			require.Equal(t, tc.wantSecret, s.form.Get("client_secret"))
			require.Equal(t, "x", s.form.Get("grant_type"))
		})
	}
}

func TestInParamsDoesNotMutateCallerForm(t *testing.T) {
	srv, _ := server(t, 200, `{}`)
	form := url.Values{"grant_type": {"x"}}
	_, err := Do(context.Background(), NoRedirect(nil), &Request{URL: srv.URL, Form: form, Style: AuthInParams, ClientID: "a", ClientSecret: "b"})
	require.NoError(t, err)
	require.Equal(t, url.Values{"grant_type": {"x"}}, form)
}

func TestBodyCap(t *testing.T) {
	for _, tc := range []struct {
		size    int
		tooLong bool
	}{{0, false}, {MaxBody, false}, {MaxBody + 1, true}, {3 * MaxBody, true}} {
		srv, _ := server(t, 200, strings.Repeat("a", tc.size))
		resp, err := Do(context.Background(), NoRedirect(nil), &Request{URL: srv.URL})
		if tc.tooLong {
			require.ErrorIs(t, err, ErrTooLarge, "size %d", tc.size)
			continue
		}
		require.NoError(t, err)
		require.Len(t, resp.Body, tc.size)
	}
}

func TestNoRedirectFollowed(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	hc := &http.Client{} // a caller's client that would follow redirects
	resp, err := Do(context.Background(), NoRedirect(hc), &Request{URL: srv.URL, Form: url.Values{"code": {"c"}}})
	require.NoError(t, err)
	require.Equal(t, 307, resp.Status)
	require.Zero(t, hits.Load())
	require.Nil(t, hc.CheckRedirect, "caller's client untouched")
}

func TestCheckEndpoint(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://api.vimeo.com/x": true, "http://127.0.0.1:1/x": true, "http://[::1]:1": true,
		"http://localhost:8080": true, "http://LOCALHOST": true, "http://127.9.9.9": true,
		"http://api.vimeo.com": false, "http://10.1.1.1": false, "ftp://a": false, "": false,
		"http://127.0.0.1.evil.com": false,
	} {
		u, _ := url.Parse(raw)
		require.Equal(t, ok, CheckEndpoint(u) == nil, raw)
	}
	_, err := Do(context.Background(), NoRedirect(nil), &Request{URL: "http://example.com/token"})
	require.ErrorIs(t, err, ErrInsecure)
}

func TestTransportErrorsCarryNoURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	u := srv.URL + "/token?code=SENTINEL-code-123"
	srv.Close() // connection refused from now on
	_, err := Do(context.Background(), NoRedirect(nil), &Request{URL: u})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "SENTINEL")
	var ue *url.Error
	require.False(t, errors.As(err, &ue))
}

func TestCancelledContext(t *testing.T) {
	srv, _ := server(t, 200, `{}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Do(ctx, NoRedirect(nil), &Request{URL: srv.URL})
	require.ErrorIs(t, err, context.Canceled)
}
