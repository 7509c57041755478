package videoauth

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any flow leaves a goroutine behind: background
// refreshes, device polling, loopback servers, signers. Idle keep-alive
// connections of http.DefaultTransport (tests that play the browser use it)
// are closed first: they belong to net/http's pool, not to a flow.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var err error
		// A connection dialled by a flow that just ended may reach the idle
		// pool after a first close: close again, a few times.
		for range 3 {
			http.DefaultTransport.(*http.Transport).CloseIdleConnections()
			if err = goleak.Find(); err == nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
