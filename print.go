package videoauth

import (
	"fmt"
	"log/slog"
	"strconv"
)

// Providers print as their name and redacted App: without these methods fmt
// would walk the unexported app field and print App.ClientSecret (fmt
// cannot reach App.Format through an unexported field), and so would a
// Transport printed with its Provider.

// String describes the provider without its client secret.
func (v *Vimeo) String() string { return providerString("Vimeo", v.app) }

// Format makes every fmt verb print String.
func (v *Vimeo) Format(f fmt.State, verb rune) { printRedacted(f, verb, v.String()) }

// LogValue makes slog print the provider without its client secret.
func (v *Vimeo) LogValue() slog.Value { return providerLogValue(v.Name(), v.app) }

// String describes the provider without its client secret.
func (s *Simkl) String() string { return providerString("Simkl"+s.gen.String(), s.app) }

// Format makes every fmt verb print String.
func (s *Simkl) Format(f fmt.State, verb rune) { printRedacted(f, verb, s.String()) }

// LogValue makes slog print the provider without its client secret.
func (s *Simkl) LogValue() slog.Value { return providerLogValue(s.Name(), s.app) }

// String describes the provider without its client secret.
func (v *Viki) String() string { return providerString("Viki", v.app) }

// Format makes every fmt verb print String.
func (v *Viki) Format(f fmt.State, verb rune) { printRedacted(f, verb, v.String()) }

// LogValue makes slog print the provider without its client secret.
func (v *Viki) LogValue() slog.Value { return providerLogValue(v.Name(), v.app) }

// String describes the provider without its app secret.
func (a *VikiAPI) String() string { return providerString("VikiAPI", a.app) }

// Format makes every fmt verb print String.
func (a *VikiAPI) Format(f fmt.State, verb rune) { printRedacted(f, verb, a.String()) }

// LogValue makes slog print the provider without its app secret.
func (a *VikiAPI) LogValue() slog.Value { return providerLogValue(a.Name(), a.app) }

func providerString(kind string, app App) string {
	return "videoauth." + kind + "{" + app.String() + "}"
}

func providerLogValue(name string, app App) slog.Value {
	return slog.GroupValue(slog.String("provider", name), slog.Any("app", app))
}

// printRedacted writes s for any verb, quoted for %q: the Format of types
// that must never print their fields.
func printRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	fmt.Fprint(f, s)
}
