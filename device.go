package videoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
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
// the user must be able to see where they are sent). The providers check
// both URIs before they return a DeviceCode: an https URI (plain http only
// to a loopback host) of printable ASCII, without user info, on one of the
// service's own web hosts or the host of App.APIURL or App.WebURL. Any
// other answer, a javascript: or data: URI or a page elsewhere, gives an
// *Error wrapping ErrBadVerificationURI (and ErrBadResponse) instead.
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
			interval = max(interval, min(interval+slowDownStep, maxInterval)) // never faster
		case pollRetry:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			interval = max(interval, min(interval*2, maxInterval))
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
// is meant to be shown; the device code stays in the poller). Its receiver
// is a value, so a DeviceCode value prints the same.
func (d DeviceCode) String() string {
	return fmt.Sprintf("go to %s and enter %s", d.VerificationURI, d.UserCode)
}

// checkTiming refuses a device or PIN response whose lifetime or interval
// is negative or absurd (over a day, over an hour).
func checkTiming(expiresIn, interval int64) error {
	if expiresIn < 0 || interval < 0 || expiresIn > 86400 || interval > 3600 {
		return fmt.Errorf("%w: device response has an absurd expires_in or interval", ErrBadResponse)
	}
	return nil
}

// deviceAuth is an RFC 8628 §3.2 device authorization response.
type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURL         string `json:"verification_url"` // a common misspelling (Google's), accepted
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// parseDeviceAuth reads an RFC 8628 device authorization response:
// device_code, user_code and verification_uri are required.
func parseDeviceAuth(body []byte) (*deviceAuth, error) {
	var da deviceAuth
	if err := json.Unmarshal(body, &da); err != nil {
		return nil, fmt.Errorf("%w: device response is not the expected JSON", ErrBadResponse)
	}
	if da.VerificationURI == "" {
		da.VerificationURI = da.VerificationURL
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, fmt.Errorf("%w: device response lacks device_code, user_code or verification_uri", ErrBadResponse)
	}
	if err := checkTiming(da.ExpiresIn, da.Interval); err != nil {
		return nil, err
	}
	return &da, nil
}

// transportOutcome classifies a poll that got no response: network trouble
// is retried with back-off (RFC 8628 §3.5); an oversized body or a refused
// endpoint will not get better.
func transportOutcome(err error) pollOutcome {
	if errors.Is(err, ErrTokenTooLarge) || errors.Is(err, ErrInsecureEndpoint) {
		return pollFail
	}
	return pollRetry
}

// httpOutcome classifies a poll answered with an error status: 429 slows
// down, 5xx backs off, anything else stops.
func httpOutcome(e *Error) pollOutcome {
	switch {
	case e.Status == 429:
		return pollSlowDown
	case e.Status >= 500:
		return pollRetry
	}
	return pollFail
}

// rfc8628Outcome classifies a failed RFC 8628 §3.4 token poll:
// authorization_pending keeps polling, slow_down adds 5 s, network trouble
// and 5xx back off, and every other error stops (§3.5).
func rfc8628Outcome(err error) pollOutcome {
	var e *Error
	if !errors.As(err, &e) {
		return pollFail
	}
	if e.Status == 0 {
		return transportOutcome(err)
	}
	switch e.Code {
	case "authorization_pending":
		return pollPending
	case "slow_down":
		return pollSlowDown
	}
	return httpOutcome(e)
}

// ErrBadVerificationURI: a device or PIN answer names a verification URI
// the user must not be sent to (see checkVerificationURI). It wraps
// ErrBadResponse; the *Error carrying it holds the answer in Body, and its
// message quotes nothing of the URI.
var ErrBadVerificationURI = fmt.Errorf("%w: verification URI is not a page of the service", ErrBadResponse)

// checkVerificationURI refuses a verification URI that would send the user
// somewhere else than the service's own pages (RFC 8628 §5.4: the user is
// told to trust the page they are sent to, and a QR code hides it): raw must
// be an absolute https URI (plain http only to a loopback host, where fakes
// and local proxies run), of printable ASCII without the characters RFC 3986
// §2 leaves out of URIs (space, `"<>\^{|}` and the backtick), without user
// info, on one of hosts (host[:port] as canonHost writes it). javascript:,
// data: and every other scheme are refused.
func checkVerificationURI(raw string, hosts []string) error {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			return fmt.Errorf("%w: it holds a space, a control, non-ASCII or unsafe character", ErrBadVerificationURI)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: it is not a URI", ErrBadVerificationURI)
	}
	if u.Opaque != "" || u.Host == "" || checkEndpoint(u) != nil {
		return fmt.Errorf("%w: it is not an https URI (http only to a loopback host)", ErrBadVerificationURI)
	}
	if u.User != nil {
		return fmt.Errorf("%w: it carries user info", ErrBadVerificationURI)
	}
	if !slices.Contains(hosts, canonHost(u)) {
		return fmt.Errorf("%w: it is not on the service's own host", ErrBadVerificationURI)
	}
	return nil
}

// canonHost is u's host[:port] in lower case, without the scheme's default
// port.
func canonHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https":
		h = strings.TrimSuffix(h, ":443")
	case u.Scheme == "http":
		h = strings.TrimSuffix(h, ":80")
	}
	return h
}

// verificationHosts lists the hosts a verification URI may be on: those of
// the configured base URLs (a fake or a proxy) and the service's production
// web hosts.
func verificationHosts(bases []*url.URL, production ...string) []string {
	hosts := slices.Clone(production)
	for _, b := range bases {
		hosts = append(hosts, canonHost(b))
	}
	return hosts
}

// checkDeviceCode checks both verification URIs of dc (the complete one
// when there is one) before anything shows them.
func checkDeviceCode(dc *DeviceCode, hosts []string) error {
	if err := checkVerificationURI(dc.VerificationURI, hosts); err != nil {
		return err
	}
	if dc.VerificationURIComplete != "" {
		return checkVerificationURI(dc.VerificationURIComplete, hosts)
	}
	return nil
}
