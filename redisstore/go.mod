module github.com/videoauth/videoauth/redisstore

go 1.26.0

require (
	github.com/alicebob/miniredis/v2 v2.40.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/stretchr/testify v1.12.1
	github.com/videoauth/videoauth v0.1.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gofrs/flock v0.13.1 // indirect
	github.com/yuin/gopher-lua v1.1.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/oauth2 v0.37.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// The replace serves builds inside this repository (and go.work): they use
// the core beside this module. A user's go get ignores it and takes the core
// at the version required above, the release this module is published with
// (.ci/goget checks that every nested module requires it and go-gets each
// module from a proxy laid out from the working tree).
replace github.com/videoauth/videoauth => ../
