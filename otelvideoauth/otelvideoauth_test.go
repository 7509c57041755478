package otelvideoauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/otelvideoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// telemetry is an Observer on in-memory providers.
type telemetry struct {
	obs    *otelvideoauth.Observer
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

func newTelemetry(t testing.TB) *telemetry {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	obs, err := otelvideoauth.New(
		otelvideoauth.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		otelvideoauth.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	return &telemetry{obs: obs, reader: reader, spans: spans, tp: tp}
}

// metrics collects every metric by name.
func (tm *telemetry) metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelvideoauth.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// sums returns a sum's data points as "k=v,k=v" → value.
func sums(t testing.TB, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out[attrString(p.Attributes)] += p.Value
		}
	default:
		t.Fatalf("%s is a %T", m.Name, m.Data)
	}
	return out
}

func attrString(s attribute.Set) string {
	var b strings.Builder
	for i, kv := range s.ToSlice() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.TrimPrefix(string(kv.Key), "videoauth.") + "=" + kv.Value.String())
	}
	return b.String()
}

// ticking advances clock by d on every token-endpoint request: a token
// endpoint that takes d, without anyone sleeping.
type ticking struct {
	base  http.RoundTripper
	clock *videoauthtest.Clock
	d     time.Duration
}

func (tk ticking) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		tk.clock.Advance(tk.d)
	}
	return tk.base.RoundTrip(r)
}

// vimeoFlow runs Vimeo client credentials against the fake: a request that
// mints, then one whose token the fake deleted (a rejection, a new mint
// and a replay), each inside a "request" span of tm's tracer. Each token
// request takes 250 ms on clock.
func vimeoFlow(t testing.TB, tm *telemetry, clock *videoauthtest.Clock) {
	t.Helper()
	fake := videoauthtest.NewVimeo()
	defer fake.Close()
	fake.SetClock(clock)
	v, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL,
		HTTPClient: &http.Client{Transport: ticking{fake.Client().Transport, clock, 250 * time.Millisecond}},
		Clock:      clock, Observer: tm.obs})
	if err != nil {
		t.Fatal(err)
	}
	c := videoauth.NewClient(v, v.ClientCredentials())
	get := func() {
		ctx, span := tm.tp.Tracer("test").Start(context.Background(), "request")
		defer span.End()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fake.URL+"/videos", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	get()
	fake.DeleteAllTokens()
	get()
}

// TestVimeoFlow: a real flow against the fake Vimeo gives two mints (by
// outcome, with their durations), one rejection, one replay, and one span
// per mint, timed by the events and child of the request that caused it,
// whose span gets the rejection and the replay as events.
func TestVimeoFlow(t *testing.T) {
	tm := newTelemetry(t)
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := videoauthtest.NewClock(t0)
	vimeoFlow(t, tm, clock)

	ms := tm.metrics(t)
	want := map[string]map[string]int64{
		"videoauth.mints":        {"background=false,op=client_credentials,outcome=ok,provider=vimeo": 2},
		"videoauth.mints.active": {"op=client_credentials,provider=vimeo": 0},
		"videoauth.rejections":   {"provider=vimeo,replayed=false,verdict=expired": 1},
		"videoauth.replays":      {"outcome=ok,provider=vimeo": 1},
	}
	for name, points := range want {
		m, ok := ms[name]
		if !ok {
			t.Fatalf("no metric %s", name)
		}
		got := sums(t, m)
		if len(got) != len(points) {
			t.Errorf("%s: %v, want %v", name, got, points)
		}
		for k, v := range points {
			if n, ok := got[k]; !ok || n != v {
				t.Errorf("%s{%s} = %d, want %d (all: %v)", name, k, n, v, got)
			}
		}
	}
	for _, name := range []string{"videoauth.revocations", "videoauth.rate_limits", "videoauth.store.lock_losses", "videoauth.store.errors"} {
		if _, ok := ms[name]; ok {
			t.Errorf("%s recorded, but nothing happened", name)
		}
	}
	h, ok := ms["videoauth.mint.duration"].Data.(metricdata.Histogram[float64])
	if !ok || len(h.DataPoints) != 1 {
		t.Fatalf("mint.duration: %#v", ms["videoauth.mint.duration"].Data)
	}
	if p := h.DataPoints[0]; p.Count != 2 || p.Sum != 0.5 || ms["videoauth.mint.duration"].Unit != "s" {
		t.Errorf("mint.duration: count %d sum %v unit %q, want 2 mints of 0.25 s", p.Count, p.Sum, ms["videoauth.mint.duration"].Unit)
	}

	var mints, requests []sdktrace.ReadOnlySpan
	for _, s := range tm.spans.Ended() {
		switch s.Name() {
		case "videoauth.mint":
			mints = append(mints, s)
		case "request":
			requests = append(requests, s)
		}
	}
	if len(mints) != 2 || len(requests) != 2 {
		t.Fatalf("%d mint spans, %d request spans; want 2 and 2", len(mints), len(requests))
	}
	// The first mint runs from t0 to t0+250ms; the second starts after it.
	for i, s := range mints {
		start := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		if !s.StartTime().Equal(start) || !s.EndTime().Equal(start.Add(250*time.Millisecond)) {
			t.Errorf("mint %d: %v to %v, want %v to %v", i, s.StartTime(), s.EndTime(), start, start.Add(250*time.Millisecond))
		}
		if s.Parent().SpanID() != requests[i].SpanContext().SpanID() {
			t.Errorf("mint %d is not a child of its request's span", i)
		}
		if s.Status().Code != codes.Unset {
			t.Errorf("mint %d: status %v", i, s.Status())
		}
		if got := attrString(attribute.NewSet(s.Attributes()...)); got != "background=false,op=client_credentials,outcome=ok,provider=vimeo" {
			t.Errorf("mint %d: attributes %s", i, got)
		}
	}
	var events []string
	for _, e := range requests[1].Events() {
		events = append(events, e.Name)
	}
	if strings.Join(events, " ") != "videoauth.rejected videoauth.replay" {
		t.Errorf("second request's span events: %v", events)
	}
	if len(requests[0].Events()) != 0 {
		t.Errorf("first request's span events: %v", requests[0].Events())
	}
}

// TestEveryKind: each kind of Event lands in its instrument with its
// attributes; a failed mint's span has status Error with the outcome, and
// runs from At-Duration to At.
func TestEveryKind(t *testing.T) {
	tm := newTelemetry(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := context.Background()
	for _, e := range []videoauth.Event{
		{Kind: videoauth.EventMintStart, Provider: "simkl", Op: "refresh", At: at.Add(-3 * time.Second)},
		{Kind: videoauth.EventMintEnd, Provider: "simkl", Op: "refresh", At: at, Duration: 3 * time.Second, Outcome: "invalid_client", Status: 401},
		{Kind: videoauth.EventRejected, Provider: "simkl", Op: "api", At: at, Status: 401, Verdict: videoauth.VerdictRevoked, Replayed: true},
		{Kind: videoauth.EventReplay, Provider: "simkl", Op: "api", At: at, Status: 401, Outcome: "reauth_required"},
		{Kind: videoauth.EventRevoked, Provider: "simkl", Op: "api", At: at},
		{Kind: videoauth.EventRateLimited, Provider: "simkl", Op: "api", At: at, Status: 429, Outcome: "rate_limited", RetryAfter: 7 * time.Second},
		{Kind: videoauth.EventLockLost, Provider: "simkl", Op: "unlock", At: at, Outcome: "lock_lost"},
		{Kind: videoauth.EventStoreError, Provider: "simkl", Op: "load", At: at, Outcome: "timeout"},
		{Kind: videoauth.EventKind(99), Provider: "simkl"}, // a kind from a newer core: ignored
	} {
		tm.obs.Observe(ctx, e)
	}
	ms := tm.metrics(t)
	for name, want := range map[string]string{
		"videoauth.mints":             "background=false,op=refresh,outcome=invalid_client,provider=simkl",
		"videoauth.mints.active":      "op=refresh,provider=simkl",
		"videoauth.rejections":        "provider=simkl,replayed=true,verdict=revoked",
		"videoauth.replays":           "outcome=reauth_required,provider=simkl",
		"videoauth.revocations":       "op=api,provider=simkl",
		"videoauth.rate_limits":       "http.response.status_code=429,op=api,provider=simkl",
		"videoauth.store.lock_losses": "op=unlock,provider=simkl",
		"videoauth.store.errors":      "op=load,outcome=timeout,provider=simkl",
	} {
		got := sums(t, ms[name])
		wantValue := int64(1)
		if name == "videoauth.mints.active" {
			wantValue = 0
		}
		if len(got) != 1 || got[want] != wantValue {
			t.Errorf("%s: %v, want {%s: %d}", name, got, want, wantValue)
		}
	}
	spans := tm.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the mint's", len(spans))
	}
	s := spans[0]
	if s.Status().Code != codes.Error || s.Status().Description != "invalid_client" {
		t.Errorf("status %v", s.Status())
	}
	if !s.StartTime().Equal(at.Add(-3*time.Second)) || !s.EndTime().Equal(at) {
		t.Errorf("span %v to %v", s.StartTime(), s.EndTime())
	}
	if s.SpanKind() != trace.SpanKindClient {
		t.Errorf("kind %v", s.SpanKind())
	}
	if got := attrString(attribute.NewSet(s.Attributes()...)); got != "http.response.status_code=401,background=false,op=refresh,outcome=invalid_client,provider=simkl" {
		t.Errorf("attributes %s", got)
	}
}

// TestDefaultsToGlobals: without options, New records with otel's global
// providers.
func TestDefaultsToGlobals(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp, tp := otel.GetMeterProvider(), otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetMeterProvider(mp); otel.SetTracerProvider(tp) })
	spans := tracetest.NewSpanRecorder()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	obs, err := otelvideoauth.New()
	if err != nil {
		t.Fatal(err)
	}
	obs.Observe(context.Background(), videoauth.Event{Kind: videoauth.EventMintEnd, Provider: "vimeo", Op: "client_credentials", Outcome: "ok"})
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.ScopeMetrics) != 1 || len(spans.Ended()) != 1 {
		t.Errorf("%d scopes of metrics, %d spans; want 1 and 1", len(rm.ScopeMetrics), len(spans.Ended()))
	}
}

// refusingMeter refuses to make counters.
type refusingMeter struct{ noop.Meter }

func (refusingMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return noop.Int64Counter{}, errors.New("refused")
}

type refusingProvider struct{ noop.MeterProvider }

func (refusingProvider) Meter(string, ...metric.MeterOption) metric.Meter { return refusingMeter{} }

// TestNewError: an instrument the MeterProvider refuses is New's error.
func TestNewError(t *testing.T) {
	obs, err := otelvideoauth.New(otelvideoauth.WithMeterProvider(refusingProvider{}))
	if err == nil || obs != nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("New = %v, %v; want the provider's error", obs, err)
	}
}
