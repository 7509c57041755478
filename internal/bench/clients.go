package main

import (
	"context"
	"io"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/videoauth/videoauth"
)

// The client ids the server counts token calls by.
const (
	idXOAuth2   = "xoauth2"
	idVideoauth = "videoauth"
)

// xoauth2Client is what a user of golang.org/x/oauth2 writes: client
// credentials (its TokenSource is a ReuseTokenSource) under oauth2.Transport.
func xoauth2Client(s *server, base http.RoundTripper) *http.Client {
	cc := clientcredentials.Config{
		ClientID: idXOAuth2, ClientSecret: "secret", TokenURL: s.URL + tokenPath,
		Scopes: []string{"public"}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: base})
	return &http.Client{Transport: &oauth2.Transport{Source: cc.TokenSource(ctx), Base: base}}
}

// videoauthClient is the same with videoauth: Vimeo's client-credentials
// Source, pointed at s, under videoauth's Transport, all defaults.
func videoauthClient(s *server, base http.RoundTripper) (*http.Client, *videoauth.Source, error) {
	v, err := videoauth.NewVimeo(videoauth.App{
		ClientID: idVideoauth, ClientSecret: "secret", APIURL: s.URL,
		HTTPClient: &http.Client{Transport: base},
	})
	if err != nil {
		return nil, nil, err
	}
	src := v.ClientCredentials()
	return videoauth.NewClient(v, src), src, nil
}

// get requests /me and reports the status (0 and the error on failure).
func get(c *http.Client, s *server) (int, error) {
	resp, err := c.Get(s.URL + "/me")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
