// CI's own Go programs (modproxy, testcheck): a module of their own, outside
// go.work and not published, so that neither the core nor a nested module
// depends on golang.org/x/mod. Run them with GOWORK=off go -C .ci/tools run ./NAME.
module videoauth.ci/tools

go 1.26.0

require golang.org/x/mod v0.42.0
