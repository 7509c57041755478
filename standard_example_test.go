package videoauth_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/videoauth/videoauth"
)

// A service that follows the OAuth 2.0 RFCs needs no code of its own: the
// generic provider takes its endpoints (or discovers them with
// DiscoverStandard) and runs every grant. Here a client-credentials Source
// behind an *http.Client: the token is minted on first use, sent to the
// API's origin only, and replaced once, with the request replayed, when the
// API answers 401 error="invalid_token" (RFC 6750 §3.1).
func ExampleStandard() {
	// A tiny authorization and resource server on one origin.
	var minted atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth() // RFC 6749 §2.3.1 (the id and secret need no escaping here)
		if !ok || id != "my-client" || secret != "my-secret" || r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := minted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("token-%d", n), "token_type": "Bearer", "expires_in": 3600, "scope": "videos:read",
		})
	})
	mux.HandleFunc("GET /v1/videos", func(w http.ResponseWriter, r *http.Request) {
		if n := minted.Load(); r.Header.Get("Authorization") != fmt.Sprintf("Bearer token-%d", n) || n < 2 {
			// The first token is refused, to show the replacement.
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `["cats","dogs"]`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	idp, err := videoauth.NewStandard(videoauth.App{
		ClientID:     "my-client",
		ClientSecret: "my-secret",
		HTTPClient:   srv.Client(),
	}, videoauth.StandardConfig{
		Name:     "videohub",
		AuthURL:  srv.URL + "/oauth/authorize", // https in production; http only to loopback
		TokenURL: srv.URL + "/oauth/token",
		APIURL:   srv.URL,
	})
	if err != nil {
		panic(err)
	}
	src := idp.ClientCredentials("videos:read")
	client := videoauth.NewClient(idp, src)

	resp, err := client.Get(srv.URL + "/v1/videos")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	tok := src.Current()
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	fmt.Println("tokens minted:", minted.Load(), "provider:", tok.Provider, "scopes:", tok.Scopes)
	fmt.Println(idp)
	// Output:
	// 200 ["cats","dogs"]
	// tokens minted: 2 provider: videohub scopes: [videos:read]
	// videoauth.Standard{name=videohub videoauth.App{ClientID:my-client ClientSecret:REDACTED RedirectURL: Scopes:[] APIURL: WebURL:}}
}
