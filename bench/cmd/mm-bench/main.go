// Command mm-bench is MailMover's benchmark and soak harness (see scripts/bench.sh and
// scripts/soak.sh, which start the bench Dovecot and a keyring, then call it).
//
//	mm-bench seed    [-n 2000] [-mix real|base64] seed the folder Real or Bench, write its manifest
//	mm-bench upper   -folder F [-batch 500]       the upper-bound client (used by compare)
//	mm-bench compare [-n 2000] [-reps 3] [-sets real,base64] ...
//	                                              mailmover vs mbsync, offlineimap, fetchmail, upper bound
//	mm-bench profile [-folder Real]               the mover in-process with a CPU profile and a trace
//	mm-bench mem     [-size 200000000]            peak RSS of mailmover on one big attachment
//	mm-bench idle    [-appends 100]               IDLE pickup latency (APPEND OK → file)
//	mm-bench all     ...                          compare + mem + idle, writes docs/benchmarks.md
//	mm-bench soak    [-n 1000] [-cuts 20] ...     the fault suite; prints one summary line
//
// The server comes from MM_BENCH_* (scripts/bench-dovecot.sh writes them); the mailmover
// profiles read their password from the keyring (scripts/bench.sh runs a private one).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "seed":
		err = cmdSeed(ctx, args)
	case "upper":
		err = cmdUpper(ctx, args)
	case "compare", "mem", "idle", "all":
		err = cmdBench(ctx, cmd, args)
	case "profile":
		err = cmdProfile(ctx, args)
	case "soak":
		err = cmdSoak(ctx, args)
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mm-bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: mm-bench seed|upper|compare|mem|idle|all|soak [flags]   (-h on each for its flags)`)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("mm-bench "+name, flag.ExitOnError)
}
