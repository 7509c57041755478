package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/videoauthtest"
	"rsc.io/qr"
)

func TestBigTextDrawsEveryGlyphFiveByFive(t *testing.T) {
	for r, g := range glyphs {
		for i, row := range g {
			require.Lenf(t, row, 5, "glyph %q row %d", r, i)
			require.Equalf(t, "", strings.Trim(row, "# "), "glyph %q row %d has a character other than # and space", r, i)
		}
	}
	out := bigText("AB-12")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 5)
	// The dash's bar is on the middle row only.
	assert.Contains(t, lines[2], "███", "the dash")
	for _, l := range lines {
		assert.LessOrEqual(t, utf8.RuneCountInString(l), 5*5+2*4)
	}
	// Each glyph comes out where the font draws it: the first column of
	// "A" is its left leg, blank on the top row.
	assert.True(t, strings.HasPrefix(lines[0], " ███"), "A's top row")
	assert.True(t, strings.HasPrefix(lines[4], "█   █"), "A's bottom row")
}

func TestBigTextRefusesWhatItCannotDraw(t *testing.T) {
	for _, code := range []string{"abcd", "AB CD", "ÄBC", "12_3", "ok"} {
		assert.Equalf(t, "", bigText(code), "%q: a code the font cannot draw is shown only as text", code)
	}
	assert.NotEmpty(t, bigText("ABCD-1234"))
}

// decodeHalfBlocks reads back the modules of a half-block QR rendering:
// each character is two modules, top and bottom; the rendering's "black"
// modules are spaces (the terminal's background).
func decodeHalfBlocks(t *testing.T, out string) [][]bool {
	t.Helper()
	var grid [][]bool
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var top, bottom []bool
		for _, r := range line {
			switch r {
			case '█':
				top, bottom = append(top, false), append(bottom, false)
			case '▀':
				top, bottom = append(top, false), append(bottom, true)
			case '▄':
				top, bottom = append(top, true), append(bottom, false)
			case ' ':
				top, bottom = append(top, true), append(bottom, true)
			default:
				t.Fatalf("unexpected character %q in the QR code", r)
			}
		}
		grid = append(grid, top, bottom)
	}
	return grid
}

func TestQRCodeEncodesTheURL(t *testing.T) {
	for _, text := range []string{
		"https://vimeo.com/activate?code=ABCD1234",
		"https://simkl.com/pin/8D3B4F2A",
		"http://127.0.0.1:41234/pin?user_code=Z9-Y8",
	} {
		want, err := qr.Encode(text, qr.L)
		require.NoError(t, err)
		grid := decodeHalfBlocks(t, qrCode(text))
		const quiet = 2
		n := want.Size + 2*quiet
		require.GreaterOrEqual(t, len(grid), n, "rows")
		for y := 0; y < n; y++ {
			require.Lenf(t, grid[y], n, "row %d", y)
			for x := 0; x < n; x++ {
				inside := x >= quiet && y >= quiet && x < quiet+want.Size && y < quiet+want.Size
				black := inside && want.Black(x-quiet, y-quiet)
				require.Equalf(t, black, grid[y][x], "%s: module (%d,%d)", text, x, y)
			}
		}
	}
}

func TestClockFace(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                   "0:00",
		0:                              "0:00",
		400 * time.Millisecond:         "0:00",
		600 * time.Millisecond:         "0:01",
		59 * time.Second:               "0:59",
		5 * time.Minute:                "5:00",
		14*time.Minute + 7*time.Second: "14:07",
		time.Hour + 2*time.Second:      "1:00:02",
	} {
		assert.Equalf(t, want, clockFace(d), "%s", d)
	}
}

// syncBuffer is a bytes.Buffer safe for the countdown goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testDeviceCode(now time.Time) *videoauth.DeviceCode {
	return &videoauth.DeviceCode{
		UserCode:                "WXYZ-2345",
		VerificationURI:         "https://vimeo.com/activate",
		VerificationURIComplete: "https://vimeo.com/activate?code=WXYZ-2345",
		ExpiresAt:               now.Add(5 * time.Minute),
		Interval:                5 * time.Second,
	}
}

func TestDeviceScreenWithoutATerminal(t *testing.T) {
	clock := videoauthtest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	var out syncBuffer
	s := &deviceScreen{w: &out, service: "vimeo", dc: testDeviceCode(clock.Now()), clock: clock}
	s.show()
	s.finish()
	got := out.String()
	assert.Contains(t, got, "To sign in to vimeo, open this page on any device:\n\n    https://vimeo.com/activate\n")
	assert.Contains(t, got, "    WXYZ-2345\n")
	assert.Contains(t, got, "which opens the page with the code filled in")
	assert.Contains(t, got, "the code expires in 5m0s")
	assert.NotContains(t, got, "\r", "no redrawing when the output is not a terminal")
	assert.NotContains(t, got, "█████  ", "no large letters in a log file")
}

func TestDeviceScreenCountdownOnATerminal(t *testing.T) {
	clock := videoauthtest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	var out syncBuffer
	dc := testDeviceCode(clock.Now())
	dc.VerificationURIComplete = ""
	s := &deviceScreen{w: &out, tty: true, service: "simkl", dc: dc, clock: clock}
	s.show()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "expires in 5:00") }, 5*time.Second, 10*time.Millisecond)
	clock.Advance(73 * time.Second)
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "\r\033[KWaiting for approval… the code expires in 3:47")
	},
		5*time.Second, 10*time.Millisecond, "the countdown is redrawn in place from the code's clock")
	s.finish()
	got := out.String()
	assert.True(t, strings.HasSuffix(got, "\r\033[K"), "finish clears the countdown line")
	assert.Contains(t, got, indent(bigText("WXYZ-2345"), "    "), "the code in large letters")
	assert.Contains(t, got, "or scan this QR code to open the page:")
}

// TestDeviceScreenOnANarrowTerminal: too narrow for any form of the
// countdown, the screen prints a plain line once a minute, never a "\r"
// redraw, and draws neither the large letters nor a QR code wider than
// the terminal.
func TestDeviceScreenOnANarrowTerminal(t *testing.T) {
	clock := videoauthtest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	var out syncBuffer
	s := &deviceScreen{w: &out, tty: true, cols: func() int { return 14 }, service: "vimeo", dc: testDeviceCode(clock.Now()), clock: clock}
	s.show()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Code expires\nin 5 min.\n") }, 5*time.Second, 10*time.Millisecond)
	clock.Advance(61 * time.Second)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Code expires\nin 4 min.\n") }, 5*time.Second, 10*time.Millisecond)
	s.finish()
	got := out.String()
	assert.NotContains(t, got, "\r")
	assert.NotContains(t, got, "█", "no large letters, no QR code")
	assert.Equal(t, 1, strings.Count(got, "in 5 min."), "once a minute")
	assert.Contains(t, got, "\nhttps://vimeo.com/activate\n", "the page as sent, without an indent that would wrap it")
	for _, l := range strings.Split(got, "\n") {
		if !strings.HasPrefix(l, "http") {
			assert.LessOrEqual(t, utf8.RuneCountInString(l), 13, "%q", l)
		}
	}
}

func TestStatusLineTakesTheLongestFormThatFits(t *testing.T) {
	left := 4*time.Minute + 59*time.Second
	assert.Equal(t, "Waiting for approval… the code expires in 4:59  (Ctrl-C to cancel)", statusLine(left, 79))
	assert.Equal(t, "Waiting… the code expires in 4:59", statusLine(left, 39))
	assert.Equal(t, "Expires in 4:59", statusLine(left, 15))
	assert.Equal(t, "", statusLine(left, 14))
}

func TestWrap(t *testing.T) {
	assert.Equal(t, "To sign in\nto vimeo,\nopen this", wrap("To sign in to vimeo, open this", 10))
	assert.Equal(t, "a\nverylongword\nb", wrap("a verylongword b", 5))
	assert.Equal(t, "one line", wrap("one  line", 80))
}
