//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || zos

package main

import "golang.org/x/sys/unix"

// echoOff turns off the echo of the terminal fd, keeping line editing and
// signals, and returns how to turn it back on. term.ReadPassword does the
// same, but only once called, after the prompt is shown: what the user
// types as soon as the prompt appears could be echoed. Here echo is off
// before the prompt is printed.
func echoOff(fd int) (restore func() error, err error) {
	old, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlWriteTermios, &t); err != nil {
		return nil, err
	}
	return func() error { return unix.IoctlSetTermios(fd, ioctlWriteTermios, old) }, nil
}
