package wire

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// errFuzzRead is what the reader returns after its data, in some modes.
var errFuzzRead = errors.New("fuzz: connection reset")

// fuzzCountingReader counts the bytes taken from the underlying reader.
type fuzzCountingReader struct {
	r io.Reader
	n int64
}

func (c *fuzzCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fuzzReader serves data the way mode says: in one read or byte by byte,
// ending with io.EOF, with the last bytes (iotest.DataErrReader), or with a
// read error.
func fuzzReader(data []byte, mode uint8) io.Reader {
	var r io.Reader = bytes.NewReader(data)
	if mode&1 != 0 {
		r = iotest.OneByteReader(r)
	}
	if mode&2 != 0 {
		r = iotest.DataErrReader(r)
	}
	if mode&4 != 0 {
		r = io.MultiReader(r, iotest.ErrReader(errFuzzRead))
	}
	return r
}

func FuzzReadCapped(f *testing.F) {
	for _, s := range []struct {
		data string
		max  int64
		mode uint8
	}{
		{`{"access_token":"a"}`, MaxBody, 0},
		{"0123456789", 10, 1},
		{"0123456789", 9, 2},
		{"0123456789", 9, 4},
		{"0123456789", 10, 4},
		{"", 0, 3},
		{"x", 0, 0},
		{"x", -1, 0},
		{"\xff\x00<html>", 5, 7},
		{"hello", math.MaxInt64, 0}, // max+1 must not overflow
	} {
		f.Add([]byte(s.data), s.max, s.mode)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int64, mode uint8) {
		cr := &fuzzCountingReader{r: fuzzReader(data, mode)}
		got, err := ReadCapped(cr, max)
		if max >= 0 {
			require.LessOrEqual(t, cr.n, min(max, math.MaxInt64-1)+1, "memory stays bounded by max+1")
		} else {
			require.Zero(t, cr.n, "a negative cap reads nothing")
		}
		switch {
		case int64(len(data)) > max:
			require.ErrorIs(t, err, ErrTooLarge)
			require.Nil(t, got)
		case mode&4 != 0:
			require.ErrorIs(t, err, errFuzzRead, "a read error is reported, not a short body")
			require.Nil(t, got)
		default:
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "the whole body, as sent")
		}
	})
}

func FuzzCheckEndpoint(f *testing.F) {
	for _, s := range []string{
		"https://api.vimeo.com/oauth/access_token",
		"http://127.0.0.1:8080/token",
		"http://[::1]:8080/token",
		"http://LOCALHOST/token",
		"http://localhost.:1/",
		"http://127.0.0.1.evil.example/",
		"http://127.0.0.1:80@evil.example/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::1%25eth0]/",
		"http://127.1/",
		"http://0x7f.0.0.1/",
		"HTTPS://h/",
		"ftp://127.0.0.1/",
		"//127.0.0.1/x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		err = CheckEndpoint(u)
		if err != nil {
			require.ErrorIs(t, err, ErrInsecure)
		}
		switch u.Scheme {
		case "https":
			require.NoError(t, err, "https is always allowed")
		case "http":
			host := u.Hostname()
			ip, perr := netip.ParseAddr(host)
			literal := perr == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
			if err == nil {
				require.True(t, strings.EqualFold(host, "localhost") || literal,
					"plain http allowed to %q, which is not loopback", host)
			} else {
				require.False(t, strings.EqualFold(host, "localhost"), "localhost refused")
				require.False(t, literal && !strings.Contains(host, ":") && ip.Is4(), "IPv4 loopback %q refused", host)
			}
		default:
			require.Error(t, err, "scheme %q allowed", u.Scheme)
		}
	})
}
