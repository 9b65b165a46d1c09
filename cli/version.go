package cli

import (
	"context"
	"fmt"
	"runtime"

	"mailmover/i18n"
)

func init() {
	register("version", i18n.Key("print the version"), func(ctx context.Context, args []string, env Env) int {
		if len(args) > 0 {
			i18n.Fprintln(env.Stderr, "usage: mailmover version")
			return 2
		}
		fmt.Fprintf(env.Stdout, "mailmover %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	})
}
