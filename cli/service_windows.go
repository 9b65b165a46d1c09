package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"mailmover/i18n"
	"mailmover/store"
)

// The Windows service: the Service Control Manager starts
// `<exe> service run -home DIR`, which runs `run -all` until the SCM asks it to stop
// (or the system shuts down), then stops it as SIGTERM would: after the file in hand.

const (
	serviceName = "MailMover"
	// eventID is the one event ID of the source (InstallAsEventCreate: EventCreate.exe's
	// message file shows the text as it is).
	eventID = 1
	// serviceStopWait bounds how long stop waits for the mover to finish the file in hand.
	serviceStopWait = 60 * time.Second
)

// serviceCommand runs one of the service subcommands.
func serviceCommand(ctx context.Context, sub string, args []string, env Env) int {
	switch sub {
	case "install":
		return serviceInstall(args, env)
	case "uninstall":
		return serviceUninstall(args, env)
	case "start":
		return serviceStart(args, env)
	case "stop":
		return serviceStop(args, env)
	case "status":
		return serviceStatus(args, env)
	case "run":
		return serviceRun(args, env)
	}
	i18n.Fprintf(env.Stderr, "mailmover service: unknown subcommand %q\n", sub)
	i18n.Fprintln(env.Stderr, serviceUsage)
	return 2
}

func serviceFail(env Env, err error) int {
	fmt.Fprintf(env.Stderr, "mailmover service: %v\n", err) // i18n:keep (command name and a translated error)
	return 1
}

// noArgs parses args, which must be empty but for -h.
func noArgs(sub string, args []string, env Env) (int, bool) {
	fs := newFlagSet("service "+sub, serviceUsage, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() != 0 {
		i18n.Fprintln(env.Stderr, serviceUsage)
		return 2, false
	}
	return 0, true
}

// builtinAccount reports whether account is one of the service accounts without a
// password.
func builtinAccount(account string) bool {
	switch strings.ToLower(account) {
	case "", "localsystem", `nt authority\localservice`, `nt authority\networkservice`: // i18n:keep
		return true
	}
	return false
}

func serviceInstall(args []string, env Env) int {
	fs := newFlagSet("service install", serviceUsage, env) // i18n:keep
	account := fs.String("account", "", i18n.T(`the Windows account the service runs as (DOMAIN\user or .\user); its password is read from standard input`))
	home := fs.String("home", "", i18n.T("the folder of the profiles, state and logs"))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		i18n.Fprintln(env.Stderr, serviceUsage)
		return 2
	}
	dir := *home
	if dir == "" {
		var err error
		if dir, err = store.HomeFrom(env.Getenv); err != nil {
			return serviceFail(env, err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return serviceFail(env, err)
	}
	var password string
	if !builtinAccount(*account) {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return serviceFail(env, err)
		}
		if password = strings.TrimRight(line, "\r\n"); password == "" {
			return serviceFail(env, i18n.Errorf("no password for %s on standard input", *account))
		}
	}
	m, err := mgr.Connect()
	if err != nil {
		return serviceFail(env, i18n.Errorf("connecting to the Service Control Manager: %w (run this as an administrator)", err))
	}
	defer m.Disconnect()
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		return serviceFail(env, i18n.Errorf("the service %s is installed already ('mailmover service uninstall' first)", serviceName))
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName:      "MailMover",
		Description:      i18n.T("Moves mail and attachments from IMAP mailboxes into folders (mailmover run -all)."),
		StartType:        mgr.StartAutomatic,
		ServiceStartName: *account,
		Password:         password,
	}, "service", "run", "-home", dir)
	if err != nil {
		return serviceFail(env, i18n.Errorf("creating the service: %w", err))
	}
	defer s.Close()
	// Started a little after the other automatic services (the network is up by then),
	// where the system can (Wine cannot: ERROR_INVALID_LEVEL).
	delayed := windows.SERVICE_DELAYED_AUTO_START_INFO{IsDelayedAutoStartUp: 1}
	if err := windows.ChangeServiceConfig2(s.Handle, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
		(*byte)(unsafe.Pointer(&delayed))); err != nil && !errors.Is(err, windows.ERROR_INVALID_LEVEL) {
		i18n.Fprintf(env.Stderr, "mailmover service: warning: no delayed start: %v\n", err)
	}
	// Restart after a failure: after 1 minute, then 5, then every 15 minutes; the count
	// is reset after a day without failure.
	actions := []mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: time.Minute},
		{Type: mgr.ServiceRestart, Delay: 5 * time.Minute},
		{Type: mgr.ServiceRestart, Delay: 15 * time.Minute},
	}
	if err := s.SetRecoveryActions(actions, uint32((24 * time.Hour).Seconds())); err != nil {
		i18n.Fprintf(env.Stderr, "mailmover service: warning: no restart after failures: %v\n", err)
	}
	if err := eventlog.InstallAsEventCreate(serviceName, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil &&
		!strings.Contains(err.Error(), "exists") { // i18n:keep (eventlog's own words)
		i18n.Fprintf(env.Stderr, "mailmover service: warning: no Event Log source: %v\n", err)
	}
	who := *account
	if who == "" {
		who = "LocalSystem"
	}
	i18n.Fprintf(env.Stdout, "installed the service %s (runs as %s, files in %s); start it with 'mailmover service start'\n", serviceName, who, dir)
	return 0
}

// openService opens the installed service; code 4 when it is not installed.
func openService(env Env) (*mgr.Mgr, *mgr.Service, int) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, nil, serviceFail(env, i18n.Errorf("connecting to the Service Control Manager: %w (run this as an administrator)", err))
	}
	s, err := m.OpenService(serviceName)
	if err != nil {
		m.Disconnect()
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			i18n.Fprintf(env.Stderr, "mailmover service: the service %s is not installed\n", serviceName)
			return nil, nil, 4
		}
		return nil, nil, serviceFail(env, err)
	}
	return m, s, 0
}

// waitState polls the service until it reaches want or timeout passes.
func waitState(s *mgr.Service, want svc.State, timeout time.Duration) (svc.State, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.Query()
		if err != nil {
			return 0, err
		}
		if st.State == want || time.Now().After(deadline) {
			return st.State, nil
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// stopService asks the service to stop and waits until it has.
func stopService(s *mgr.Service) error {
	st, err := s.Query()
	if err != nil {
		return err
	}
	if st.State == svc.Stopped {
		return nil
	}
	if _, err := s.Control(svc.Stop); err != nil {
		return i18n.Errorf("asking the service to stop: %w", err)
	}
	if got, err := waitState(s, svc.Stopped, serviceStopWait+10*time.Second); err != nil || got != svc.Stopped {
		if err == nil {
			err = i18n.Errorf("still %s after %s", stateName(got), serviceStopWait+10*time.Second)
		}
		return err
	}
	return nil
}

func serviceUninstall(args []string, env Env) int {
	if code, ok := noArgs("uninstall", args, env); !ok {
		return code
	}
	m, s, code := openService(env)
	if s == nil {
		return code
	}
	defer m.Disconnect()
	defer s.Close()
	if err := stopService(s); err != nil {
		return serviceFail(env, err)
	}
	if err := s.Delete(); err != nil {
		return serviceFail(env, i18n.Errorf("removing the service: %w", err))
	}
	eventlog.Remove(serviceName)
	i18n.Fprintf(env.Stdout, "removed the service %s (profiles, state, logs and secrets stay)\n", serviceName)
	return 0
}

func serviceStart(args []string, env Env) int {
	if code, ok := noArgs("start", args, env); !ok {
		return code
	}
	m, s, code := openService(env)
	if s == nil {
		return code
	}
	defer m.Disconnect()
	defer s.Close()
	// Already running is fine; a timeout (Wine's SCM waits only briefly for the program
	// to connect) is judged by the state that follows.
	if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) &&
		!errors.Is(err, windows.ERROR_SERVICE_REQUEST_TIMEOUT) {
		return serviceFail(env, i18n.Errorf("starting the service: %w", err))
	}
	got, err := waitState(s, svc.Running, 30*time.Second)
	if err != nil {
		return serviceFail(env, err)
	}
	if got != svc.Running {
		return serviceFail(env, i18n.Errorf("the service is %s, not running; see the Event Log (source %s) and logs/", stateName(got), serviceName))
	}
	i18n.Fprintf(env.Stdout, "the service %s is running\n", serviceName)
	return 0
}

func serviceStop(args []string, env Env) int {
	if code, ok := noArgs("stop", args, env); !ok {
		return code
	}
	m, s, code := openService(env)
	if s == nil {
		return code
	}
	defer m.Disconnect()
	defer s.Close()
	if err := stopService(s); err != nil {
		return serviceFail(env, err)
	}
	i18n.Fprintf(env.Stdout, "the service %s is stopped\n", serviceName)
	return 0
}

// stateName names a service state for people.
func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return i18n.T("stopped")
	case svc.StartPending:
		return i18n.T("starting")
	case svc.StopPending:
		return i18n.T("stopping")
	case svc.Running:
		return i18n.T("running")
	case svc.Paused, svc.PausePending, svc.ContinuePending:
		return i18n.T("paused")
	}
	return i18n.Sprintf("in state %d", int(s))
}

func serviceStatus(args []string, env Env) int {
	if code, ok := noArgs("status", args, env); !ok {
		return code
	}
	m, s, code := openService(env)
	if s == nil {
		return code
	}
	defer m.Disconnect()
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		return serviceFail(env, err)
	}
	fmt.Fprintf(env.Stdout, "%s: %s\n", serviceName, stateName(st.State)) // i18n:keep (name: translated state)
	if cfg, err := s.Config(); err == nil {
		who := cfg.ServiceStartName
		if who == "" {
			who = "LocalSystem"
		}
		i18n.Fprintf(env.Stdout, "runs as %s: %s\n", who, cfg.BinaryPathName)
	}
	if st.State == svc.Running {
		return 0
	}
	return 3
}

// serviceRun is what the Service Control Manager starts.
func serviceRun(args []string, env Env) int {
	fs := newFlagSet("service run", serviceUsage, env) // i18n:keep
	home := fs.String("home", "", i18n.T("the folder of the profiles, state and logs"))
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *home == "" {
		return 2
	}
	elog, err := eventlog.Open(serviceName)
	if err != nil {
		elog = nil // no Event Log source: the files still get everything
	}
	h := &serviceHandler{home: *home, elog: elog}
	// Not svc.IsWindowsService: it asks for session 0, which Wine's services.exe is not
	// in. Started from a console, the dispatcher cannot connect: that is the answer.
	if err := svc.Run(serviceName, h); errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		i18n.Fprintln(env.Stderr, "mailmover service run: only the Service Control Manager starts this; use 'mailmover run -all' in a console")
		return 2
	} else if err != nil {
		h.event(eventlog.Error, i18n.Sprintf("the service failed: %v", err))
		return 1
	}
	return 0
}

// serviceHandler runs `run -all` as the service's body.
type serviceHandler struct {
	home string
	elog *eventlog.Log
}

// event writes to the Event Log, when there is one.
func (h *serviceHandler) event(kind uint32, msg string) {
	if h.elog == nil {
		return
	}
	switch kind {
	case eventlog.Error:
		h.elog.Error(eventID, msg)
	case eventlog.Warning:
		h.elog.Warning(eventID, msg)
	default:
		h.elog.Info(eventID, msg)
	}
}

// Execute is called by svc.Run: it starts the mover, reports Running, and stops the
// mover when the SCM says stop or shutdown.
func (h *serviceHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Standard error (failures, a profile's fatal error) goes to the Event Log too;
	// standard output (every step) only to logs/P.log, which run writes anyway.
	errw := &eventWriter{h: h}
	env := Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: errw,
		Getenv: func(k string) string {
			if k == store.HomeEnv {
				return h.home
			}
			return os.Getenv(k)
		}}
	done := make(chan int, 1)
	go func() { done <- runRun(ctx, []string{"-all"}, env) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	h.event(eventlog.Info, i18n.Sprintf("started: mailmover run -all, files in %s", h.home))
	for {
		select {
		case code := <-done:
			errw.flush()
			h.event(eventlog.Error, i18n.Sprintf("the mover ended by itself with exit code %d; see logs in %s", code, h.home))
			return true, uint32(max(code, 1)) // the SCM's recovery actions restart it
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(serviceStopWait.Milliseconds())}
				cancel()
				select {
				case <-done:
				case <-time.After(serviceStopWait):
					h.event(eventlog.Warning, i18n.Sprintf("the mover did not stop within %s; ending it", serviceStopWait))
				}
				errw.flush()
				h.event(eventlog.Info, i18n.T("stopped"))
				return false, 0
			}
		}
	}
}

// eventWriter turns written lines into Event Log errors.
type eventWriter struct {
	h   *serviceHandler
	mu  sync.Mutex
	buf []byte
}

func (w *eventWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(w.buf[:i])); line != "" {
			w.h.event(eventlog.Error, line)
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *eventWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if line := strings.TrimSpace(string(w.buf)); line != "" {
		w.h.event(eventlog.Error, line)
	}
	w.buf = nil
}
