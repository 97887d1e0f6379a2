package cli

import (
	"context"
	"fmt"
)

const serveHelp = `
Usage: gpcm serve [--listen ADDR] [--data DIR]

Runs the whole GP Connect Messaging loop on one machine: an embedded MESH
server, a receiver for a demo practice, a sender for a demo provider and the
web UI, with embedded storage under the data directory.

Examples:
  gpcm serve
  gpcm serve --listen 127.0.0.1:9090 --data /var/lib/gpcm
`

func runServe(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", serveHelp)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	data := fs.String("data", "./gpcm-data", "data directory")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "gpcm serve: would listen on %s with data in %s\n", *listen, *data)
	return notBuilt("gpcm serve", "gpcm serve")
}
