package otelvideoauth_test

import (
	"context"
	"fmt"
	"io"
	"slices"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/videoauth/videoauth"
	"github.com/videoauth/videoauth/otelvideoauth"
	"github.com/videoauth/videoauth/videoauthtest"
)

// Vimeo client credentials against the fake, reported as OpenTelemetry
// metrics: the first request mints a token; after Vimeo dropped it, a
// request is rejected, the token re-minted and the request replayed.
func ExampleNew() {
	fake := videoauthtest.NewVimeo()
	defer fake.Close()

	reader := sdkmetric.NewManualReader() // in production: a periodic reader and an exporter
	obs, err := otelvideoauth.New(otelvideoauth.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		panic(err)
	}
	vimeo, err := videoauth.NewVimeo(videoauth.App{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, APIURL: fake.URL, Observer: obs})
	if err != nil {
		panic(err)
	}
	client := videoauth.NewClient(vimeo, vimeo.ClientCredentials())
	get := func() {
		resp, err := client.Get(fake.URL + "/videos")
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	get()
	fake.DeleteAllTokens()
	get()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, p := range sum.DataPoints {
				if p.Value != 0 {
					lines = append(lines, fmt.Sprintf("%s %s: %d", m.Name, attrString(p.Attributes), p.Value))
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// 200 OK
	// 200 OK
	// videoauth.mints background=false,op=client_credentials,outcome=ok,provider=vimeo: 2
	// videoauth.rejections provider=vimeo,replayed=false,verdict=expired: 1
	// videoauth.replays outcome=ok,provider=vimeo: 1
}
