package mover

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"

	"mailmover/i18n"
	"mailmover/store"
)

// Log file limits: each file up to LogMaxMB megabytes, LogBackups old files kept (for at
// most LogMaxDays days), so a profile's logs never exceed about 60 MB.
const (
	LogMaxMB   = 10
	LogBackups = 5
	LogMaxDays = 90
)

// LogPath returns the JSON-lines log of a profile, HOME/logs/PROFILE.log.
func LogPath(home, profile string) string {
	return filepath.Join(store.LogDir(home), profile+".log")
}

// OpenLog opens the profile's JSON-lines log (rotated with lumberjack) and returns a
// logger writing to it. Close the returned closer when done. Only one process may write a
// profile's log at a time; the mover holds the profile's state lock while it does.
func OpenLog(home, profile string) (*slog.Logger, io.Closer, error) {
	if err := os.MkdirAll(store.LogDir(home), 0o700); err != nil {
		return nil, nil, i18n.Errorf("creating the log folder: %w; check that %s is writable", err, home)
	}
	lj := &lumberjack.Logger{
		Filename:   LogPath(home, profile),
		MaxSize:    LogMaxMB,
		MaxBackups: LogBackups,
		MaxAge:     LogMaxDays,
	}
	h := slog.NewJSONHandler(lj, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h).With("profile", profile), lj, nil
}

// logEvent writes an event as one JSON line.
func logEvent(l *slog.Logger, e Event) {
	if l == nil {
		return
	}
	level := slog.LevelInfo
	switch e.Kind {
	case KindError, KindPaused:
		level = slog.LevelError
	case KindWarning, KindRetry:
		level = slog.LevelWarn
	case KindProgress:
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{slog.String("kind", e.Kind.String())}
	if e.UID != 0 {
		attrs = append(attrs, slog.Any("uid", e.UID))
	}
	if e.Subject != "" {
		attrs = append(attrs, slog.String("subject", e.Subject))
	}
	if e.From != "" {
		attrs = append(attrs, slog.String("from", e.From))
	}
	if e.Path != "" {
		attrs = append(attrs, slog.String("path", e.Path))
	}
	if e.Bytes != 0 {
		attrs = append(attrs, slog.Int64("bytes", e.Bytes))
	}
	if e.Total != 0 {
		attrs = append(attrs, slog.Int("done", e.Done), slog.Int("total", e.Total))
	}
	if e.Advice != "" {
		attrs = append(attrs, slog.String("advice", e.Advice))
	}
	attrs = append(attrs, slog.Group("counters", slog.Int("messages", e.Counters.Messages),
		slog.Int("files", e.Counters.Files), slog.Int64("bytes", e.Counters.Bytes),
		slog.Int("errors", e.Counters.Errors)))
	l.LogAttrs(context.Background(), level, e.Text, attrs...)
}
