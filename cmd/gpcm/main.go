// Command gpcm is the GP Connect Messaging toolkit: MESH client and server,
// ITK3 / Send Document builders and validator, the Generic FHIR Receiver,
// the sender's outbox and a web inbox, in one binary.
//
// Run "gpcm --help" for the list of subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gpcm/gpcm/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.StdEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
