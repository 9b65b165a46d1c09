package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"mailmover/bench"
	"mailmover/mover"
	"mailmover/store"
)

// cmdProfile runs the mover in this process over the seeded folder, as `mailmover run
// -once` would, with a CPU profile and an execution trace (go tool trace -pprof=syscall
// or -pprof=net turns the trace into off-CPU profiles: where the wall time goes).
func cmdProfile(ctx context.Context, args []string) error {
	fs := newFlags("profile")
	var c common
	c.flags(fs)
	folder := fs.String("folder", "Bench", "seeded folder to move")
	dest := fs.String("dest", "", "destination (default: a fresh folder under -dir)")
	out := fs.String("out", "", "folder for cpu.pprof, trace.out, mem.pprof (default: -dir/profile)")
	withTrace := fs.Bool("trace", true, "also write an execution trace")
	fs.Parse(args)
	srv, err := bench.ServerFromEnv()
	if err != nil {
		return err
	}
	m, err := bench.ReadManifest(filepath.Join(c.dir, "manifest-"+*folder+".json"))
	if err != nil {
		return fmt.Errorf("seed the folder first (mm-bench seed): %w", err)
	}
	if *out == "" {
		*out = filepath.Join(c.dir, "profile")
	}
	run := filepath.Join(c.dir, "runs", "profile")
	os.RemoveAll(run)
	if *dest == "" {
		*dest = filepath.Join(run, "dest")
	} else {
		os.RemoveAll(*dest)
	}
	home := filepath.Join(run, "home")
	for _, d := range []string{*out, *dest, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	env := &bench.Env{Server: srv}
	p := env.Profile("benchprof", *folder, *dest)
	if err := bench.WriteProfile(home, p); err != nil {
		return err
	}
	sec := store.NewMemorySecrets()
	if err := sec.Set(p.Name, store.SecretPassword, srv.Password); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := mover.SourceConfig(p, sec, logger)
	if err != nil {
		return err
	}
	events := make(chan mover.Event, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range events {
		}
	}()
	opts := mover.Options{Profile: p, Home: home, Config: cfg, Events: events, Logger: logger}
	mv, err := mover.New(opts)
	if err != nil {
		return err
	}
	cpu, err := os.Create(filepath.Join(*out, "cpu.pprof"))
	if err != nil {
		return err
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	if *withTrace {
		tf, err := os.Create(filepath.Join(*out, "trace.out"))
		if err != nil {
			return err
		}
		defer tf.Close()
		if err := trace.Start(tf); err != nil {
			return err
		}
	}
	start := time.Now()
	err = mv.RunOnce(ctx)
	wall := time.Since(start)
	if *withTrace {
		trace.Stop()
	}
	pprof.StopCPUProfile()
	close(events)
	<-done
	runtime.GC()
	if mf, e := os.Create(filepath.Join(*out, "mem.pprof")); e == nil {
		pprof.Lookup("allocs").WriteTo(mf, 0)
		mf.Close()
	}
	if err != nil {
		return err
	}
	dc, err := bench.CheckDest(*dest, m)
	if err != nil {
		return err
	}
	logf("profile: %d messages in %.2f s (%.1f MB/s), %d files, lost %d, dup %d; profiles in %s",
		m.Spec.N, wall.Seconds(), float64(m.TotalBytes)/1e6/wall.Seconds(), dc.Files, dc.Lost, dc.Duplicated, *out)
	if !c.keep {
		os.RemoveAll(run)
	}
	return nil
}
