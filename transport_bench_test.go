package videoauth_test

import (
	"net/http"
	"testing"
)

// benchNoop answers every request at once with an empty 200, so only the
// auth layer's cost shows. Its own response costs 2 allocations (the
// Response and its Header map); BenchmarkStyleBase measures it alone.
type benchNoop struct{}

func (benchNoop) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// BenchmarkStyleBase measures benchNoop alone: the part of every
// BenchmarkStyle figure that is not the auth layer's. (The request-path
// benchmarks themselves are BenchmarkStyle, styles_bench_test.go; they
// replace the earlier BenchmarkTransport, whose figures are Vimeo's.)
func BenchmarkStyleBase(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "https://api.vimeo.com/me/videos", nil)
	if err != nil {
		b.Fatal(err)
	}
	base := benchBase() // through an interface the compiler cannot see through, as in BenchmarkStyle
	b.Run("run=serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := base.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("run=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := base.RoundTrip(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	})
}

// benchBase returns benchNoop as an http.RoundTripper from a function the
// compiler does not inline, so that the call is not devirtualized and the
// response escapes, as it does under an auth layer.
//
//go:noinline
func benchBase() http.RoundTripper { return benchNoop{} }
