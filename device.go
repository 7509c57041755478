package videoauth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Device-flow timing defaults (RFC 8628 §3.2, §3.5).
const (
	defaultInterval   = 5 * time.Second
	slowDownStep      = 5 * time.Second
	maxInterval       = 2 * time.Minute
	defaultDeviceLife = 15 * time.Minute // [I] when a service omits expires_in
)

// DeviceCode is a device or PIN authorization in progress: what to show the
// user, and Wait to poll until they approve. Every device-style flow of every
// provider runs on the same polling engine: it waits Interval between polls,
// adds 5 s on slow_down for that and all later polls (RFC 8628 §3.5),
// doubles the interval after a network error or 5xx instead of giving up,
// stops at ExpiresAt with ErrExpiredCode, on denial with ErrAccessDenied, on
// any other error at once, and when ctx is done.
//
// Show the user VerificationURI and UserCode as they are (RFC 8628 §5.4:
// the user must be able to see where they are sent).
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // URI with the code filled in, when the service gives one
	ExpiresAt               time.Time
	Interval                time.Duration

	provider string
	clock    Clock
	poll     pollFunc
}

// pollOutcome is what one poll learned.
type pollOutcome int

const (
	pollDone     pollOutcome = iota // tok is set
	pollPending                     // keep polling at the current interval
	pollSlowDown                    // add slowDownStep, keep it
	pollRetry                       // network trouble or 5xx: back off (double), keep polling
	pollFail                        // stop with err
)

// pollFunc makes one poll.
type pollFunc func(ctx context.Context) (*Token, pollOutcome, error)

// newDeviceCode fills defaults: interval 5 s, lifetime 15 min.
func newDeviceCode(provider string, c Clock, expiresIn, interval time.Duration, poll pollFunc) *DeviceCode {
	c = clockOr(c)
	if interval <= 0 {
		interval = defaultInterval
	}
	if expiresIn <= 0 {
		expiresIn = defaultDeviceLife
	}
	return &DeviceCode{ExpiresAt: c.Now().Add(expiresIn), Interval: interval, provider: provider, clock: c, poll: poll}
}

// Wait polls until the user approves (the token), denies (ErrAccessDenied),
// the code expires (ErrExpiredCode), the service answers an error
// (that *Error), or ctx is done.
func (d *DeviceCode) Wait(ctx context.Context) (*Token, error) {
	if d == nil || d.poll == nil {
		return nil, errors.New("videoauth: DeviceCode not started by a provider")
	}
	interval := d.Interval
	for {
		wait := interval
		now := d.clock.Now()
		left := d.ExpiresAt.Sub(now)
		if left <= 0 {
			return nil, d.expired()
		}
		if wait > left {
			wait = left
		}
		if err := sleep(ctx, d.clock, wait); err != nil {
			return nil, err
		}
		if !d.clock.Now().Before(d.ExpiresAt) {
			return nil, d.expired()
		}
		tok, outcome, err := d.poll(ctx)
		switch outcome {
		case pollDone:
			return tok, nil
		case pollPending:
		case pollSlowDown:
			interval = min(interval+slowDownStep, maxInterval)
		case pollRetry:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			interval = min(interval*2, maxInterval)
		default:
			if err == nil {
				err = errorf("device poll failed")
			}
			return nil, err
		}
	}
}

func (d *DeviceCode) expired() error {
	return &Error{Provider: d.provider, Op: "device", Code: "expired_token", Err: ErrExpiredCode}
}

// String describes the code for the user; it holds no secret (the user code
// is meant to be shown).
func (d *DeviceCode) String() string {
	return fmt.Sprintf("go to %s and enter %s", d.VerificationURI, d.UserCode)
}
