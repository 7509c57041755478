module github.com/videoauth/videoauth

go 1.26.0

require (
	github.com/cli/browser v1.3.0
	github.com/creack/pty v1.1.24
	github.com/gofrs/flock v0.13.1
	github.com/jarcoal/httpmock v1.4.2
	github.com/mdp/qrterminal/v3 v3.2.1
	github.com/spf13/cobra v1.10.2
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/oauth2 v0.37.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
	rsc.io/qr v0.2.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
