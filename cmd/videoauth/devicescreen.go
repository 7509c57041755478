package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mdp/qrterminal/v3"
	"github.com/videoauth/videoauth"
)

// deviceScreen shows a device or PIN code to the user: the page to open,
// the code in large letters, a QR code of the page with the code filled in,
// and on a terminal a countdown redrawn every second until the code expires.
//
// On a terminal, everything is drawn for its width (cols, read again on
// every redraw, so a resized window is followed): prose is wrapped, the
// large letters and the QR code are drawn only when they fit (a wrapped
// one is garbage), and the countdown takes the longest of its forms that
// fits on one line, since "\r" only returns to the start of the last
// physical line; when none fits, a plain line is printed once a minute.
type deviceScreen struct {
	w       io.Writer
	tty     bool
	cols    func() int // the terminal's width; nil or 0: not known (80 is assumed)
	service string
	dc      *videoauth.DeviceCode
	clock   videoauth.Clock // nil: real time

	stop chan struct{}
	done sync.WaitGroup
}

// assumedCols is the width of a terminal whose width cannot be read.
const assumedCols = 80

// width is the number of columns a line may fill: one less than the
// terminal's, so that no line ends in the last column, where terminals
// differ on what the next "\r" does.
func (s *deviceScreen) width() int {
	n := 0
	if s.cols != nil {
		n = s.cols()
	}
	if n <= 0 {
		n = assumedCols
	}
	return n - 1
}

// para is text wrapped for the terminal (as it is, off a terminal).
func (s *deviceScreen) para(text string) string {
	if !s.tty {
		return text
	}
	return wrap(text, s.width())
}

// show prints the code and starts the countdown; call finish when Wait
// returns.
func (s *deviceScreen) show() {
	var b strings.Builder
	width := s.width()
	fits := func(block, prefix string) bool { return !s.tty || blockWidth(block)+len(prefix) <= width }
	// The URL and the code are shown as sent, never wrapped or cut; their
	// indent goes when it would make them wrap.
	shownAt := func(v string) string {
		if s.tty && len("    ")+utf8.RuneCountInString(v) > width {
			return v
		}
		return "    " + v
	}
	fmt.Fprintf(&b, "%s\n\n%s\n\n%s\n\n", s.para("To sign in to "+s.service+", open this page on any device:"), shownAt(s.dc.VerificationURI), s.para("and enter the code"))
	if big := bigText(s.dc.UserCode); big != "" && s.tty && fits(big, "    ") {
		b.WriteString(indent(big, "    "))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s\n\n", shownAt(s.dc.UserCode))
	if target := s.qrTarget(); target != "" {
		if qr := qrCode(target); fits(qr, "  ") {
			if s.dc.VerificationURIComplete != "" {
				b.WriteString(s.para("or scan this QR code, which opens the page with the code filled in:") + "\n\n")
			} else {
				b.WriteString(s.para("or scan this QR code to open the page:") + "\n\n")
			}
			b.WriteString(indent(qr, "  "))
			b.WriteByte('\n')
		}
	}
	if !s.tty {
		left := s.dc.ExpiresAt.Sub(s.now()).Round(time.Second)
		fmt.Fprintf(&b, "Waiting for approval; the code expires in %s (at %s).\n", left, s.dc.ExpiresAt.Local().Format("15:04:05"))
	}
	io.WriteString(s.w, b.String())
	s.stop = make(chan struct{})
	if s.tty {
		s.done.Add(1)
		go s.countdown()
	}
}

// qrTarget is what the QR code encodes: the complete URI when the service
// gives one, else the page.
func (s *deviceScreen) qrTarget() string {
	if s.dc.VerificationURIComplete != "" {
		return s.dc.VerificationURIComplete
	}
	return s.dc.VerificationURI
}

func (s *deviceScreen) now() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock.Now()
}

// countdownForms are the countdown's status line, longest first; %s is
// the time left.
var countdownForms = []string{
	"Waiting for approval… the code expires in %s  (Ctrl-C to cancel)",
	"Waiting… the code expires in %s",
	"Expires in %s",
}

// statusLine is the longest form of the countdown that fits in width
// columns with left time left, or "" when none does.
func statusLine(left time.Duration, width int) string {
	for _, f := range countdownForms {
		if l := fmt.Sprintf(f, clockFace(left)); utf8.RuneCountInString(l) <= width {
			return l
		}
	}
	return ""
}

// countdown redraws the status line every second (real time; the remaining
// time is read from the clock the code runs on). On a terminal too narrow
// for any form of it, it prints a line once a minute instead, and one when
// the code has expired.
func (s *deviceScreen) countdown() {
	defer s.done.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	drawn, lastMinute := false, -1
	for {
		left := s.dc.ExpiresAt.Sub(s.now())
		if line := statusLine(left, s.width()); line != "" {
			fmt.Fprintf(s.w, "\r\033[K%s", line)
			drawn = true
		} else {
			if drawn { // the window shrank: leave the line, go on below
				io.WriteString(s.w, "\r\033[K")
				drawn = false
			}
			if m := minutesLeft(left); m != lastMinute {
				lastMinute = m
				io.WriteString(s.w, wrap(minuteLine(m), s.width())+"\n")
			}
		}
		select {
		case <-s.stop:
			if drawn {
				io.WriteString(s.w, "\r\033[K")
			}
			return
		case <-t.C:
		}
	}
}

// minutesLeft is left in whole minutes, rounded up: the code is still
// good for that many.
func minutesLeft(left time.Duration) int {
	if left <= 0 {
		return 0
	}
	return int((left + time.Minute - 1) / time.Minute)
}

// minuteLine is the once-a-minute line of a narrow terminal.
func minuteLine(m int) string {
	switch m {
	case 0:
		return "The code has expired."
	case 1:
		return "Code expires in 1 min."
	}
	return fmt.Sprintf("Code expires in %d min.", m)
}

// blockWidth is the width of the widest line of block.
func blockWidth(block string) int {
	w := 0
	for _, l := range strings.Split(block, "\n") {
		w = max(w, utf8.RuneCountInString(l))
	}
	return w
}

// wrap breaks text at spaces into lines of at most width columns; a word
// longer than width is left whole on its own line.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wl := utf8.RuneCountInString(w)
		switch {
		case n == 0:
		case n+1+wl > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += wl
	}
	return b.String()
}

// finish stops the countdown and clears its line.
func (s *deviceScreen) finish() {
	if s.stop == nil {
		return
	}
	close(s.stop)
	s.done.Wait()
}

// clockFace formats a remaining time as m:ss (h:mm:ss past an hour);
// a negative one is 0:00.
func clockFace(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	secs := int(d.Round(time.Second) / time.Second)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// qrCode renders text as a QR code in half-block characters (two modules per
// character cell), black on white, with a quiet zone phones need.
func qrCode(text string) string {
	var b bytes.Buffer
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         &b,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      2,
	})
	return b.String()
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
	}
	return b.String()
}
