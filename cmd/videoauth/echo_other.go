//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || zos)

package main

import "errors"

// echoOff is not available here: secret falls back to term.ReadPassword.
func echoOff(int) (func() error, error) { return nil, errors.ErrUnsupported }
