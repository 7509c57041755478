package videoauth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Providers print as their name and redacted App: without these methods fmt
// would walk the unexported app field and print App.ClientSecret (fmt
// cannot reach App.Format through an unexported field), and so would a
// Transport printed with its Provider.
//
// The receivers follow one rule, here and for Token, AuthRequest and
// Error: fmt and encoding/json use only the methods in a value's method
// set, and a *T's methods are not in T's, so a T value — dereferenced,
// restored into a variable, or held by value in a struct, slice or map —
// would print its fields. Format and MarshalJSON, which fmt and
// encoding/json consult for every verb and every composite, have value
// receivers. String, GoString and LogValue keep pointer receivers and
// handle a nil pointer (slog would report a nil pointer's value-receiver
// LogValue as a panic); fmt prints a nil pointer whose Format has a value
// receiver as <nil>. A T value logged with slog is not a LogValuer: the
// text handler prints it with fmt (Format) and the JSON handler with
// encoding/json (MarshalJSON), the same redacted fields. Types that hold a
// lock (Source, Transport, MemoryStore) cannot have value receivers (go
// vet's copylocks); their pointers print redacted, and their fields are
// laid out so that a copy printed by value shows no secret (see
// MemoryStore) where that is in this package's hands.

// String describes the provider without its client secret.
func (v *Vimeo) String() string {
	if v == nil {
		return "videoauth.Vimeo(nil)"
	}
	return providerString("Vimeo", v.app)
}

// Format makes every fmt verb print String.
func (v Vimeo) Format(f fmt.State, verb rune) { printRedacted(f, verb, v.String()) }

// LogValue makes slog print the provider without its client secret.
func (v *Vimeo) LogValue() slog.Value {
	if v == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(v.Name(), v.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (v Vimeo) MarshalJSON() ([]byte, error) { return providerJSON(v.Name(), v.app) }

// String describes the provider without its client secret.
func (s *Simkl) String() string {
	if s == nil {
		return "videoauth.Simkl(nil)"
	}
	return providerString("Simkl"+s.gen.String(), s.app)
}

// Format makes every fmt verb print String.
func (s Simkl) Format(f fmt.State, verb rune) { printRedacted(f, verb, s.String()) }

// LogValue makes slog print the provider without its client secret.
func (s *Simkl) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(s.Name(), s.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (s Simkl) MarshalJSON() ([]byte, error) { return providerJSON(s.Name(), s.app) }

// String describes the provider without its client secret.
func (v *Viki) String() string {
	if v == nil {
		return "videoauth.Viki(nil)"
	}
	return providerString("Viki", v.app)
}

// Format makes every fmt verb print String.
func (v Viki) Format(f fmt.State, verb rune) { printRedacted(f, verb, v.String()) }

// LogValue makes slog print the provider without its client secret.
func (v *Viki) LogValue() slog.Value {
	if v == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(v.Name(), v.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (v Viki) MarshalJSON() ([]byte, error) { return providerJSON(v.Name(), v.app) }

// String describes the provider without its app secret.
func (a *VikiAPI) String() string {
	if a == nil {
		return "videoauth.VikiAPI(nil)"
	}
	return providerString("VikiAPI", a.app)
}

// Format makes every fmt verb print String. (The receiver is a value:
// VikiAPI keeps its clock offset behind a pointer, so the copy holds no
// lock and reads nothing a signer writes.)
func (a VikiAPI) Format(f fmt.State, verb rune) { printRedacted(f, verb, a.String()) }

// LogValue makes slog print the provider without its app secret.
func (a *VikiAPI) LogValue() slog.Value {
	if a == nil {
		return slog.StringValue("nil")
	}
	return providerLogValue(a.Name(), a.app)
}

// MarshalJSON gives LogValue's members: the name and the redacted App.
func (a VikiAPI) MarshalJSON() ([]byte, error) { return providerJSON(a.Name(), a.app) }

func providerString(kind string, app App) string {
	return "videoauth." + kind + "{" + app.String() + "}"
}

func providerLogValue(name string, app App) slog.Value {
	return slog.GroupValue(slog.String("provider", name), slog.Any("app", app))
}

func providerJSON(name string, app App) ([]byte, error) {
	return json.Marshal(struct {
		Provider string `json:"provider"`
		App      App    `json:"app"`
	}{name, app})
}

// String describes the Source without its token's secrets: the service,
// the store key, whether it has a store and can renew, and its current
// token as Token.String shows it.
func (s *Source) String() string {
	if s == nil {
		return "videoauth.Source(nil)"
	}
	return fmt.Sprintf("videoauth.Source{provider=%s key=%s store=%t renewable=%t token=%s}",
		sourceProvider(s), s.Key, s.Store != nil, s.Mint != nil, s.Current().String())
}

// Format makes every fmt verb print String. Without it fmt would walk the
// Source's fields, and its %s of the last mint error follows the pointer
// and prints the *Error's fields, the service's prose among them.
func (s *Source) Format(f fmt.State, verb rune) { printRedacted(f, verb, s.String()) }

// LogValue makes slog print what String shows.
func (s *Source) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.String("provider", sourceProvider(s)), slog.String("key", s.Key),
		slog.Bool("store", s.Store != nil), slog.Bool("renewable", s.Mint != nil), slog.Any("token", s.Current()))
}

// MarshalJSON gives LogValue's members (encoding/json cannot write a
// Source's func fields, and slog's JSON handler marshals a *Source held in
// a struct, slice or map).
func (s *Source) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Provider  string `json:"provider"`
		Key       string `json:"key,omitempty"`
		Store     bool   `json:"store"`
		Renewable bool   `json:"renewable"`
		Token     *Token `json:"token"`
	}{sourceProvider(s), s.Key, s.Store != nil, s.Mint != nil, s.Current()})
}

func sourceProvider(s *Source) string {
	if s.provider == "" {
		return "any"
	}
	return s.provider
}

// String describes the Transport: its provider's name and its Source.
func (t *Transport) String() string {
	if t == nil {
		return "videoauth.Transport(nil)"
	}
	return "videoauth.Transport{provider=" + transportProvider(t) + " source=" + t.Source.String() + "}"
}

// Format makes every fmt verb print String.
func (t *Transport) Format(f fmt.State, verb rune) { printRedacted(f, verb, t.String()) }

// LogValue makes slog print what String shows.
func (t *Transport) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.String("provider", transportProvider(t)), slog.Any("source", t.Source))
}

// MarshalJSON gives LogValue's members.
func (t *Transport) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Provider string  `json:"provider"`
		Source   *Source `json:"source"`
	}{transportProvider(t), t.Source})
}

// transportProvider names t's provider by Name only: a caller's Provider
// may print more than it should.
func transportProvider(t *Transport) string {
	if t.Provider == nil {
		return "none"
	}
	return t.Provider.Name()
}

// String describes the store by its number of keys: never its tokens (nor
// the keys, which name users).
func (m *MemoryStore) String() string {
	if m == nil {
		return "videoauth.MemoryStore(nil)"
	}
	return "videoauth.MemoryStore{keys=" + strconv.Itoa(m.keys()) + "}"
}

// GoString makes %#v print String.
func (m *MemoryStore) GoString() string { return m.String() }

// Format makes every fmt verb print String.
func (m *MemoryStore) Format(f fmt.State, verb rune) { printRedacted(f, verb, m.String()) }

// LogValue makes slog print the number of keys.
func (m *MemoryStore) LogValue() slog.Value {
	if m == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.Int("keys", m.keys()))
}

// MarshalJSON gives the number of keys.
func (m *MemoryStore) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Keys int `json:"keys"`
	}{m.keys()})
}

func (m *MemoryStore) keys() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.toks)
}

// printRedacted writes s for any verb, quoted for %q: the Format of types
// that must never print their fields.
func printRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	fmt.Fprint(f, s)
}
