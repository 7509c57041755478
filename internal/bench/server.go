package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// tokenPath is Vimeo's client-credentials endpoint, so videoauth's Vimeo
// provider and x/oauth2's clientcredentials package both talk to server as
// they would to Vimeo (Basic client authentication, a form body).
const tokenPath = "/oauth/authorize/client"

// server is one OAuth service for both libraries: a token endpoint that
// takes latency to answer and issues tokens living ttl, and an API at /me
// that accepts only the tokens issued since the last revokeAll, answering
// anything else with Vimeo's 401 and WWW-Authenticate: Bearer
// error="invalid_token". Token calls are counted per client id, so one
// server serves both libraries in the same run.
type server struct {
	*httptest.Server
	latency time.Duration
	ttl     time.Duration
	down    atomic.Bool // token endpoint answers 503 while set

	mu    sync.Mutex
	valid map[string]bool
	calls map[string][]time.Time // token-endpoint calls by client id
}

func newServer(latency, ttl time.Duration) *server {
	s := &server{latency: latency, ttl: ttl, valid: map[string]bool{}, calls: map[string][]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+tokenPath, s.token)
	mux.HandleFunc("GET /me", s.api)
	s.Server = httptest.NewUnstartedServer(mux)
	s.Config.ReadHeaderTimeout = 10 * time.Second
	s.Start()
	return s
}

func (s *server) token(w http.ResponseWriter, r *http.Request) {
	id, _, ok := r.BasicAuth()
	if !ok || r.PostFormValue("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls[id] = append(s.calls[id], time.Now())
	s.mu.Unlock()
	time.Sleep(s.latency)
	w.Header().Set("Content-Type", "application/json")
	if s.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"server_error","error_description":"outage"}`))
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	access := hex.EncodeToString(b)
	s.mu.Lock()
	s.valid[access] = true
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": access, "token_type": "bearer", "scope": "public",
		"expires_in": int(s.ttl / time.Second),
	})
}

func (s *server) api(w http.ResponseWriter, r *http.Request) {
	access, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ok := s.valid[access]
	s.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, `{"error":"A valid user token must be passed.","error_code":8003}`, http.StatusUnauthorized)
		return
	}
	w.Write([]byte(`{"uri":"/users/1"}`))
}

// revokeAll makes every token issued so far invalid at the API.
func (s *server) revokeAll() {
	s.mu.Lock()
	clear(s.valid)
	s.mu.Unlock()
}

// tokenCalls returns the token-endpoint calls client made, and their times.
func (s *server) tokenCalls(client string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[client]...)
}
