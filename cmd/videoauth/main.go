// Command videoauth signs in to Vimeo, Simkl, Viki, Twitch, Dailymotion,
// YouTube and Trakt from a terminal and hands out their tokens: to try an
// API with curl, to seed a service, to debug a user's grant. It is built on
// the videoauth library, so it gets every service's quirks right, and keeps
// tokens in a private file store under the user's configuration directory.
//
//	videoauth login vimeo                 # the browser flow, on 127.0.0.1
//	videoauth login simkl --device        # a code to enter on another device
//	curl -H "Authorization: Bearer $(videoauth token vimeo)" https://api.vimeo.com/me
//	videoauth curl simkl /sync/activities
//	videoauth --sandbox login vimeo       # against built-in fakes: no account, no network
//
// Run `videoauth --help` for the commands, `videoauth help config` for where
// credentials come from, and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
