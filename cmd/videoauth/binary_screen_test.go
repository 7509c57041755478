//go:build unix

package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binaryScreenLines splits what a terminal was sent into the pieces drawn
// from the start of a line: lines, and within a line every redraw after a
// "\r", with the erase-line sequence removed.
func binaryScreenLines(out string) []string {
	var pieces []string
	for _, line := range strings.Split(out, "\r\n") {
		for _, p := range strings.Split(line, "\r") {
			pieces = append(pieces, strings.ReplaceAll(p, "\x1b[K", ""))
		}
	}
	return pieces
}

// TestPtyDeviceScreenFitsTheTerminal signs in with a device code on
// terminals 40, 80 and 120 columns wide: no line of the screen reaches the
// last column (so nothing wraps, and the countdown's "\r" redraws its own
// line); the large letters and the QR code are drawn only where they fit;
// the countdown is redrawn on one line in the longest form that fits.
func TestPtyDeviceScreenFitsTheTerminal(t *testing.T) {
	t.Parallel()
	bigRow := regexp.MustCompile(`^ {4}[█ ]*█[█ ]*$`)
	for _, tc := range []struct {
		cols      int
		big, qr   bool
		countdown string
	}{
		{40, false, true, "Waiting… the code expires in "},
		{80, true, true, "Waiting for approval… the code expires in "},
		{120, true, true, "Waiting for approval… the code expires in "},
	} {
		t.Run(fmt.Sprint(tc.cols), func(t *testing.T) {
			t.Parallel()
			u := newBinaryUser(t)
			p := u.startPtySize(uint16(tc.cols), "--sandbox", "login", "vimeo", "--device")
			p.waitFor("Signed in to vimeo")
			code, out := p.wait()
			require.Equal(t, 0, code, "output:\n%q", out)
			screen, _, ok := strings.Cut(out, "Signed in to vimeo")
			require.True(t, ok)

			var bigRows, qrRows, redraws int
			for _, l := range binaryScreenLines(screen) {
				assert.Less(t, utf8.RuneCountInString(l), tc.cols, "a line reaches the last column of %d: %q", tc.cols, l)
				switch {
				case bigRow.MatchString(l):
					bigRows++
				case binaryQRRow.MatchString(l) && strings.ContainsAny(l, "▀▄"):
					qrRows++
				case strings.HasPrefix(l, tc.countdown):
					redraws++
				}
			}
			if tc.big {
				assert.Equal(t, 5, bigRows, "the code in large letters")
			} else {
				assert.Zero(t, bigRows, "large letters wider than the terminal")
			}
			if tc.qr {
				assert.GreaterOrEqual(t, qrRows, 10, "the QR code")
			}
			assert.GreaterOrEqual(t, redraws, 2, "the countdown %q redrawn in place: %q", tc.countdown, screen)
			assert.Regexp(t, `(?m)^ {4}[0-9A-Z-]{4,}\r$`, screen, "the code in plain text")
			assert.Contains(t, screen, "\r\n    http://127.0.0.1:", "the page, unbroken")
		})
	}
}
