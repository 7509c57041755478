// Package otelvideoauth reports what github.com/videoauth/videoauth does as
// OpenTelemetry metrics and spans: an Observer that turns the core's Events
// into instruments of an OpenTelemetry MeterProvider and spans of a
// TracerProvider. It lives in its own module so that importers of the core
// never download OpenTelemetry.
//
//	obs, err := otelvideoauth.New() // otel's global providers
//	app := videoauth.App{ClientID: id, ClientSecret: secret, Observer: obs}
//
// Metrics (attributes in brackets):
//
//	videoauth.mints              counter    {mint}   mints that ended [provider, op, outcome, background]
//	videoauth.mint.duration      histogram  s        how long they took [provider, op, outcome]
//	videoauth.mints.active       up-down    {mint}   mints under way [provider, op]
//	videoauth.rejections         counter    {response} tokens the API rejected [provider, verdict, replayed]
//	videoauth.replays            counter    {request} rejected requests sent again [provider, outcome]
//	videoauth.revocations        counter    {grant}  grants found gone or revoked [provider, op]
//	videoauth.rate_limits        counter    {response} 429s, 503s with Retry-After [provider, op, http.response.status_code]
//	videoauth.store.lock_losses  counter    {lock}   store locks lost [provider, op]
//	videoauth.store.errors       counter    {error}  failed store operations [provider, op, outcome]
//
// Attribute keys are "videoauth.provider", "videoauth.op",
// "videoauth.outcome", "videoauth.verdict", "videoauth.replayed",
// "videoauth.background" and "http.response.status_code"; their values are
// the Event's, which hold nothing secret.
//
// Every mint is a span "videoauth.mint", from its start to its end as the
// events tell them (on the Source's Clock), child of the span in the
// context of the request that caused it, with the attributes above; a
// mint that failed has status Error and its outcome as description.
// Rejections, replays, revocations and rate limits of API requests are
// also added as span events to the request's span, when it records.
package otelvideoauth

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/videoauth/videoauth"
)

// ScopeName is the instrumentation scope of the Observer's meter and tracer.
const ScopeName = "github.com/videoauth/videoauth/otelvideoauth"

// Attribute keys of the metrics and spans.
const (
	keyProvider   = attribute.Key("videoauth.provider")
	keyOp         = attribute.Key("videoauth.op")
	keyOutcome    = attribute.Key("videoauth.outcome")
	keyVerdict    = attribute.Key("videoauth.verdict")
	keyReplayed   = attribute.Key("videoauth.replayed")
	keyBackground = attribute.Key("videoauth.background")
	keyStatus     = attribute.Key("http.response.status_code")
	keyRetryAfter = attribute.Key("videoauth.retry_after")
)

// durationBuckets are the histogram's bucket bounds in seconds: the
// OpenTelemetry HTTP semantic conventions' and 30 s (DefaultMintTimeout).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30}

// Observer is a videoauth.Observer that records Events as OpenTelemetry
// metrics and spans. Make one with New; it is safe for concurrent use.
type Observer struct {
	tracer       trace.Tracer
	mints        metric.Int64Counter
	mintDuration metric.Float64Histogram
	mintsActive  metric.Int64UpDownCounter
	rejections   metric.Int64Counter
	replays      metric.Int64Counter
	revocations  metric.Int64Counter
	rateLimits   metric.Int64Counter
	lockLosses   metric.Int64Counter
	storeErrors  metric.Int64Counter
}

var _ videoauth.Observer = (*Observer)(nil)

// Option configures New.
type Option func(*config)

type config struct {
	mp metric.MeterProvider
	tp trace.TracerProvider
}

// WithMeterProvider makes the Observer record its metrics with mp instead
// of otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithTracerProvider makes the Observer start its spans with tp instead of
// otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// New returns an Observer recording with the providers the options give,
// otel's global ones by default (read once, here). Its error comes from
// the MeterProvider, when it refuses an instrument.
func New(opts ...Option) (*Observer, error) {
	var c config
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	m := c.mp.Meter(ScopeName)
	o := &Observer{tracer: c.tp.Tracer(ScopeName)}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		i, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return i
	}
	o.mints = counter("videoauth.mints", "{mint}", "Mints (grants at a token endpoint) that ended, by outcome.")
	o.rejections = counter("videoauth.rejections", "{response}", "API answers that rejected the request's token, by verdict.")
	o.replays = counter("videoauth.replays", "{request}", "Rejected requests sent again with a new token, by outcome.")
	o.revocations = counter("videoauth.revocations", "{grant}", "Grants the service reported gone, or Source.Revoke ended.")
	o.rateLimits = counter("videoauth.rate_limits", "{response}", "Answers of 429, or 503 with Retry-After, from token endpoints and the API.")
	o.lockLosses = counter("videoauth.store.lock_losses", "{lock}", "Store locks lost during a renewal.")
	o.storeErrors = counter("videoauth.store.errors", "{error}", "Failed store operations.")
	var err error
	o.mintDuration, err = m.Float64Histogram("videoauth.mint.duration", metric.WithUnit("s"),
		metric.WithDescription("How long mints took."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	errs = append(errs, err)
	o.mintsActive, err = m.Int64UpDownCounter("videoauth.mints.active", metric.WithUnit("{mint}"),
		metric.WithDescription("Mints under way."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// Observe implements videoauth.Observer.
func (o *Observer) Observe(ctx context.Context, e videoauth.Event) {
	provider, op := keyProvider.String(e.Provider), keyOp.String(e.Op)
	switch e.Kind {
	case videoauth.EventMintStart:
		o.mintsActive.Add(ctx, 1, metric.WithAttributes(provider, op))
	case videoauth.EventMintEnd:
		outcome, background := keyOutcome.String(e.Outcome), keyBackground.Bool(e.Background)
		o.mintsActive.Add(ctx, -1, metric.WithAttributes(provider, op))
		o.mintDuration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(provider, op, outcome))
		o.mints.Add(ctx, 1, metric.WithAttributes(provider, op, outcome, background))
		o.span(ctx, e, provider, op, outcome, background)
	case videoauth.EventRejected:
		verdict, replayed := keyVerdict.String(e.Verdict.String()), keyReplayed.Bool(e.Replayed)
		o.rejections.Add(ctx, 1, metric.WithAttributes(provider, verdict, replayed))
		addEvent(ctx, "videoauth.rejected", e, provider, verdict, replayed, keyStatus.Int(e.Status))
	case videoauth.EventReplay:
		outcome := keyOutcome.String(e.Outcome)
		o.replays.Add(ctx, 1, metric.WithAttributes(provider, outcome))
		addEvent(ctx, "videoauth.replay", e, provider, outcome, keyStatus.Int(e.Status))
	case videoauth.EventRevoked:
		o.revocations.Add(ctx, 1, metric.WithAttributes(provider, op))
		addEvent(ctx, "videoauth.revoked", e, provider, op)
	case videoauth.EventRateLimited:
		status := keyStatus.Int(e.Status)
		o.rateLimits.Add(ctx, 1, metric.WithAttributes(provider, op, status))
		addEvent(ctx, "videoauth.rate_limited", e, provider, op, status, keyRetryAfter.Float64(e.RetryAfter.Seconds()))
	case videoauth.EventLockLost:
		o.lockLosses.Add(ctx, 1, metric.WithAttributes(provider, op))
	case videoauth.EventStoreError:
		o.storeErrors.Add(ctx, 1, metric.WithAttributes(provider, op, keyOutcome.String(e.Outcome)))
	}
}

// span records the mint e ended as a span from its start to its end.
func (o *Observer) span(ctx context.Context, e videoauth.Event, attrs ...attribute.KeyValue) {
	if e.Status != 0 {
		attrs = append(attrs, keyStatus.Int(e.Status))
	}
	if e.RetryAfter != 0 {
		attrs = append(attrs, keyRetryAfter.Float64(e.RetryAfter.Seconds()))
	}
	_, span := o.tracer.Start(ctx, "videoauth.mint", trace.WithTimestamp(e.At.Add(-e.Duration)),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if e.Outcome != "ok" {
		span.SetStatus(codes.Error, e.Outcome)
	}
	span.End(trace.WithTimestamp(e.At))
}

// addEvent adds e to the span of ctx (the request's), if it records.
func addEvent(ctx context.Context, name string, e videoauth.Event, attrs ...attribute.KeyValue) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(name, trace.WithTimestamp(e.At), trace.WithAttributes(attrs...))
	}
}
