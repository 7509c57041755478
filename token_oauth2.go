package videoauth

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// oauth2Extras are the members of a token response that TokenFromOAuth2
// copies from an *oauth2.Token into Token.Extra: the ones this package's
// providers read or keep (Vimeo's app and expires_on, Simkl's result, the
// user id of Viki's password grant).
var oauth2Extras = []string{"app", "expires_on", "result", "user_id"}

// TokenFromOAuth2 returns t, a token x/oauth2 obtained or a program
// stored, as a Token of provider ("vimeo", "simkl" or "viki"), so that
// tokens kept by x/oauth2 code can move to a Store and a provider's
// Source. It is the reverse of Token.OAuth2. A nil t, or one without an
// access token, is an error matching ErrInvalidConfig, as is an unknown
// provider or a token with characters no token has (RFC 6749 Appendix A);
// a token type other than Bearer (or Viki's "viki-session") matches
// ErrUnsupportedTokenType.
//
// It keeps what the provider's own parsing would have derived: the
// granted scopes from the "scope" member (a space-separated string, RFC
// 6749 §3.3, or an array), the user object from "user", the expiry from
// ExpiresIn or an "expires_in" member when t.Expiry is zero (counted from
// now), Vimeo's user id (user.uri) and expiry from expires_on, Viki's
// user id (user_id, else user.id) and the v5 session mark, and Simkl's
// auth generation in Meta (V2 for a simkl_at_ token or one with a refresh
// token, which V1 never issues; else V1), which SimklGenerationOf reads.
//
// What it cannot recover: x/oauth2 offers no way to list a token's extra
// members, so only the ones named above (and app, expires_on, result,
// user_id, kept in Extra) are read; a token decoded from JSON has none at
// all, since x/oauth2 does not store them, and then has no scopes and no
// user. Token.OAuth2 does not carry Scopes, UserID, User or Meta either,
// so a Token sent through Token.OAuth2 and back keeps only the access and
// refresh tokens, type, expiry, those Extra members and the marks derived
// above. Viki v3's 24-hour lifetime is not assumed for a token without an
// expiry: when it was issued is unknown.
func TokenFromOAuth2(provider string, t *oauth2.Token) (*Token, error) {
	return tokenFromOAuth2(provider, t, time.Now())
}

func tokenFromOAuth2(provider string, t *oauth2.Token, now time.Time) (*Token, error) {
	switch provider {
	case "vimeo", "simkl", "viki":
	default:
		return nil, configErr("TokenFromOAuth2: unknown provider %q (want vimeo, simkl or viki)", truncate(provider, 32))
	}
	if t == nil || t.AccessToken == "" {
		return nil, configErr("TokenFromOAuth2: no %s access token", provider)
	}
	if !vschar(t.AccessToken) || !vschar(t.RefreshToken) {
		return nil, configErr("TokenFromOAuth2: the %s token has characters outside RFC 6749 VSCHAR", provider)
	}
	tok := &Token{Provider: provider, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	switch tt := t.TokenType; {
	case tt == "" || strings.EqualFold(tt, "bearer"):
		tok.TokenType = "Bearer"
	case provider == "viki" && strings.EqualFold(tt, vikiSessionType):
		tok.TokenType = vikiSessionType
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedTokenType, truncate(tt, 32))
	}
	if tok.Expiry.IsZero() {
		d, err := oauth2ExpiresIn(t)
		if err != nil {
			return nil, err
		}
		if d > 0 {
			tok.Expiry = now.Add(d)
		}
	}
	if raw, ok, err := oauth2Extra(t, "scope"); err != nil {
		return nil, err
	} else if ok {
		tok.Scopes = parseScopes(raw)
	}
	if raw, ok, err := oauth2Extra(t, "user"); err != nil {
		return nil, err
	} else if ok && raw[0] == '{' {
		tok.User = raw
	}
	for _, k := range oauth2Extras {
		raw, ok, err := oauth2Extra(t, k)
		if err != nil {
			return nil, err
		}
		if ok {
			if tok.Extra == nil {
				tok.Extra = map[string]json.RawMessage{}
			}
			tok.Extra[k] = raw
		}
	}
	switch provider {
	case "vimeo":
		vimeoFinish(tok, now)
	case "simkl":
		gen := SimklGenerationOf(tok)
		if gen == SimklV1 && tok.RefreshToken != "" {
			gen = SimklV2
		}
		tok.Meta = map[string]string{simklMetaKey: gen.String()}
	case "viki":
		tok.UserID = vikiTokenUserID(tok)
		if tok.TokenType == vikiSessionType {
			tok.Meta = map[string]string{"viki_api": "v5"}
		}
	}
	return tok, nil
}

// oauth2Extra returns t's extra member key as JSON, and whether it has
// one. x/oauth2 gives "" for a member a form-encoded answer lacks, so ""
// counts as absent.
func oauth2Extra(t *oauth2.Token, key string) (json.RawMessage, bool, error) {
	v := t.Extra(key)
	if v == nil || v == "" {
		return nil, false, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false, configErr("TokenFromOAuth2: the token's %s member is not JSON", key)
	}
	if string(raw) == "null" {
		return nil, false, nil
	}
	return raw, true, nil
}

// oauth2ExpiresIn is t's lifetime in seconds from ExpiresIn, else from an
// expires_in member (a number or numeric string), 0 when neither is given.
func oauth2ExpiresIn(t *oauth2.Token) (time.Duration, error) {
	switch {
	case t.ExpiresIn < 0:
		return 0, configErr("TokenFromOAuth2: negative ExpiresIn")
	case t.ExpiresIn > 0:
		return min(time.Duration(min(t.ExpiresIn, int64(maxExpiresIn/time.Second)))*time.Second, maxExpiresIn), nil
	}
	raw, ok, err := oauth2Extra(t, "expires_in")
	if err != nil || !ok {
		return 0, err
	}
	d, err := parseExpiresIn(raw)
	if err != nil {
		return 0, configErr("TokenFromOAuth2: the token's expires_in is not a non-negative number")
	}
	return d, nil
}
