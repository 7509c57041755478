package videoauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/videoauth/videoauth"
)

// docs/security.md, checklist item 26 (the in-process half; the store re-read
// is the Store's): a rotated refresh token reaches OnToken before any caller
// gets the token, and an answer without refresh_token keeps the old one.
func TestRefreshTokenRotationIsPersistedFirstAndKeptWhenOmitted(t *testing.T) {
	for _, tc := range []struct {
		name, answer, wantRefresh string
	}{
		{"omitted", `{"access_token":"simkl_at_new","token_type":"bearer","expires_in":604800}`, "simkl_rt_old"},
		{"null", `{"access_token":"simkl_at_new","token_type":"bearer","expires_in":604800,"refresh_token":null}`, "simkl_rt_old"},
		{"rotated", `{"access_token":"simkl_at_new","token_type":"bearer","expires_in":604800,"refresh_token":"simkl_rt_rotated"}`, "simkl_rt_rotated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "simkl_rt_old" {
					http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tc.answer)
			}))
			defer srv.Close()
			s, err := videoauth.NewSimkl(videoauth.App{ClientID: "id", ClientSecret: "sec", AppName: "a", AppVersion: "1",
				APIURL: srv.URL, WebURL: srv.URL}, videoauth.SimklV2)
			require.NoError(t, err)
			src := s.Source(&videoauth.Token{Provider: "simkl", AccessToken: "simkl_at_old", RefreshToken: "simkl_rt_old",
				TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute)})
			var persisted atomic.Pointer[videoauth.Token]
			var unseen atomic.Bool // no caller could see the new token yet
			src.OnToken = func(tok *videoauth.Token) {
				unseen.Store(src.Current().AccessToken == "simkl_at_old")
				persisted.Store(tok.Clone())
			}
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			require.Equal(t, "simkl_at_new", tok.AccessToken)
			require.Equal(t, tc.wantRefresh, tok.RefreshToken)
			p := persisted.Load()
			require.NotNil(t, p, "OnToken ran before Token returned")
			require.True(t, unseen.Load(), "OnToken ran before the Source handed the new token out")
			require.Equal(t, tc.wantRefresh, p.RefreshToken, "the persisted token has the refresh token to keep")
			require.EqualValues(t, 1, calls.Load())
		})
	}
}
