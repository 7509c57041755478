package videoauth

import (
	"net/http"
	"strings"
)

// authChallenge is one challenge of a WWW-Authenticate field (RFC 9110
// §11.6.1): its scheme and either a token68 or auth-params, whose names
// are lowercased (they are case-insensitive, §11.2).
type authChallenge struct {
	scheme  string
	token68 string
	params  map[string]string
}

// maxChallenges bounds what one field value can make parseChallenges
// allocate.
const maxChallenges = 32

// bearerChallengeError returns the error attribute of the first Bearer
// challenge in h's WWW-Authenticate fields (RFC 6750 §3), or "".
func bearerChallengeError(h http.Header) string {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range parseChallenges(v) {
			if strings.EqualFold(c.scheme, "Bearer") {
				return c.params["error"]
			}
		}
	}
	return ""
}

// parseChallenges reads a WWW-Authenticate field value: a comma-separated
// list of challenges, each `auth-scheme [ 1*SP ( token68 / #auth-param ) ]`,
// an auth-param being `token BWS "=" BWS ( token / quoted-string )` (RFC
// 9110 §11.2, §11.6.1, §5.6.4). A comma separates both challenges and the
// parameters of one, so a token followed by '=' continues the current
// challenge and any other token starts a new one. What does not parse is
// skipped up to the next comma; the first value of a repeated parameter
// wins. It never fails and makes at most maxChallenges challenges.
func parseChallenges(v string) []authChallenge {
	var out []authChallenge
	cur := -1 // index in out of the challenge parameters go to; -1: none
	for i := 0; i < len(v); {
		i = skipListSep(v, i)
		if i >= len(v) {
			break
		}
		tok, j := readToken(v, i)
		if tok == "" {
			i = skipItem(v, i)
			continue
		}
		k := skipOWS(v, j)
		if cur >= 0 && k < len(v) && v[k] == '=' {
			val, end, ok := readParamValue(v, skipOWS(v, k+1))
			if !ok {
				i = skipItem(v, k)
				continue
			}
			name := strings.ToLower(tok)
			if _, seen := out[cur].params[name]; !seen {
				out[cur].params[name] = val
			}
			i = end
			continue
		}
		if len(out) == maxChallenges {
			break
		}
		out = append(out, authChallenge{scheme: tok, params: map[string]string{}})
		cur = len(out) - 1
		i = k
		if k > j { // 1*SP after the scheme: a token68 may follow
			if t68, end := readToken68(v, k); t68 != "" {
				if e := skipOWS(v, end); e >= len(v) || v[e] == ',' {
					out[cur].token68 = t68
					cur = -1 // a token68 takes no parameters
					i = e
				}
			}
		}
	}
	return out
}

func isTchar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// readToken reads a token (RFC 9110 §5.6.2) at i; "" when there is none.
func readToken(v string, i int) (string, int) {
	j := i
	for j < len(v) && isTchar(v[j]) {
		j++
	}
	return v[i:j], j
}

// readToken68 reads a token68 (RFC 9110 §11.2) at i; "" when there is none.
func readToken68(v string, i int) (string, int) {
	j := i
	for j < len(v) {
		c := v[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			break
		}
		j++
	}
	if j == i {
		return "", i
	}
	for j < len(v) && v[j] == '=' {
		j++
	}
	return v[i:j], j
}

// readParamValue reads a token or a quoted-string (with its quoted-pairs
// undone) at i.
func readParamValue(v string, i int) (string, int, bool) {
	if i < len(v) && v[i] == '"' {
		var b strings.Builder
		for j := i + 1; j < len(v); j++ {
			switch c := v[j]; c {
			case '"':
				return b.String(), j + 1, true
			case '\\':
				if j+1 >= len(v) {
					return "", len(v), false
				}
				j++
				b.WriteByte(v[j])
			default:
				b.WriteByte(c)
			}
		}
		return "", len(v), false // unterminated
	}
	tok, j := readToken(v, i)
	return tok, j, tok != ""
}

// skipOWS skips spaces and tabs.
func skipOWS(v string, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

// skipListSep skips whitespace and commas (empty list elements, RFC 9110
// §5.6.1).
func skipListSep(v string, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
		i++
	}
	return i
}

// skipItem skips to the next comma outside a quoted-string, always moving
// on by at least one byte.
func skipItem(v string, i int) int {
	j := i
	for quoted := false; j < len(v); j++ {
		switch v[j] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				j++
			}
		case ',':
			if !quoted {
				return max(j, i+1)
			}
		}
	}
	return max(j, i+1)
}
