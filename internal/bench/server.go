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
// that accepts only the tokens issued since the last revokeAll (none while
// rejectAll is set), answering anything else with Vimeo's 401 and
// WWW-Authenticate: Bearer error="invalid_token". Token calls are counted
// per client id, so one server serves several clients in the same run.
type server struct {
	*httptest.Server
	latency   time.Duration
	ttl       atomic.Int64 // lifetime of the tokens issued, a time.Duration
	rejectAll atomic.Bool  // the API answers 401 to every token

	mu         sync.Mutex
	down       bool   // the token endpoint answers 503 (see setDown)
	retryAfter string // Retry-After sent with the 503, if any
	valid      map[string]bool
	calls      map[string][]call // token-endpoint calls by client id
}

// call is one token-endpoint call: when it arrived, and whether it arrived
// while the endpoint was down (then it was answered 503).
type call struct {
	at     time.Time
	failed bool
}

func newServer(latency, ttl time.Duration) *server {
	s := &server{latency: latency, valid: map[string]bool{}, calls: map[string][]call{}}
	s.ttl.Store(int64(ttl))
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
	// Whether the endpoint is down is decided when the call arrives, under
	// the lock setDown takes, so a call's time tells which side of an
	// outage's edges it is on.
	s.mu.Lock()
	down, retryAfter := s.down, s.retryAfter
	s.calls[id] = append(s.calls[id], call{at: time.Now(), failed: down})
	s.mu.Unlock()
	time.Sleep(s.latency)
	w.Header().Set("Content-Type", "application/json")
	if down {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
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
		"expires_in": int(time.Duration(s.ttl.Load()) / time.Second),
	})
}

func (s *server) api(w http.ResponseWriter, r *http.Request) {
	access, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ok := s.valid[access] && !s.rejectAll.Load()
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

// setDown takes the token endpoint down (every call answered 503, with
// Retry-After: retryAfter unless it is "") or brings it back, and returns
// the moment it did: calls that arrived before it are on the old side.
func (s *server) setDown(down bool, retryAfter string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down, s.retryAfter = down, retryAfter
	return time.Now()
}

// tokenCalls returns the token-endpoint calls client made.
func (s *server) tokenCalls(client string) []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls[client]...)
}
