package cli

import (
	"context"
	"fmt"
	"runtime"
)

func init() {
	register("version", "print the version", func(ctx context.Context, args []string, env Env) int {
		if len(args) > 0 {
			fmt.Fprintln(env.Stderr, "usage: mailmover version")
			return 2
		}
		fmt.Fprintf(env.Stdout, "mailmover %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	})
}
