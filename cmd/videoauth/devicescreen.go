package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mdp/qrterminal/v3"
	"github.com/videoauth/videoauth"
)

// deviceScreen shows a device or PIN code to the user: the page to open,
// the code in large letters, a QR code of the page with the code filled in,
// and on a terminal a countdown redrawn every second until the code expires.
type deviceScreen struct {
	w       io.Writer
	tty     bool
	service string
	dc      *videoauth.DeviceCode
	clock   videoauth.Clock // nil: real time

	stop chan struct{}
	done sync.WaitGroup
}

// show prints the code and starts the countdown; call finish when Wait
// returns.
func (s *deviceScreen) show() {
	var b strings.Builder
	fmt.Fprintf(&b, "To sign in to %s, open this page on any device:\n\n    %s\n\nand enter the code\n\n", s.service, s.dc.VerificationURI)
	if big := bigText(s.dc.UserCode); big != "" && s.tty {
		b.WriteString(indent(big, "    "))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "    %s\n\n", s.dc.UserCode)
	if target := s.qrTarget(); target != "" {
		if s.dc.VerificationURIComplete != "" {
			b.WriteString("or scan this QR code, which opens the page with the code filled in:\n\n")
		} else {
			b.WriteString("or scan this QR code to open the page:\n\n")
		}
		b.WriteString(indent(qrCode(target), "  "))
		b.WriteByte('\n')
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

// countdown redraws the status line every second (real time; the remaining
// time is read from the clock the code runs on).
func (s *deviceScreen) countdown() {
	defer s.done.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		fmt.Fprintf(s.w, "\r\033[KWaiting for approval… the code expires in %s  (Ctrl-C to cancel)", clockFace(s.dc.ExpiresAt.Sub(s.now())))
		select {
		case <-s.stop:
			io.WriteString(s.w, "\r\033[K")
			return
		case <-t.C:
		}
	}
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
