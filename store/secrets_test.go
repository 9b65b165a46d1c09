package store

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

func TestMemorySecrets(t *testing.T) {
	s := NewMemorySecrets()
	if _, err := s.Get("p", SecretPassword); !errors.Is(err, ErrNoSecret) {
		t.Errorf("empty Get: %v", err)
	}
	if err := s.Set("p", SecretPassword, "hunter2"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("p", SecretPassword); err != nil || v != "hunter2" {
		t.Errorf("Get = %q, %v", v, err)
	}
	if err := s.Delete("p", SecretPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("p", SecretPassword); err != nil {
		t.Errorf("deleting a missing secret: %v", err)
	}
	if _, err := s.Get("p", SecretPassword); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := s.Set("a/b", SecretPassword, "x"); !errors.Is(err, ErrBadProfileName) {
		t.Errorf("bad profile: %v", err)
	}
	if err := s.Set("p", "pin", "x"); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("bad kind: %v", err)
	}

	s.SetMaxSize(10)
	var tl *SecretTooLargeError
	err := s.Set("p", SecretAccessToken, "0123456789-secret-value")
	if !errors.As(err, &tl) || tl.Size != 23 || tl.Account != "p/access-token" {
		t.Errorf("too large: %v", err)
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Errorf("the value shows in the error: %v", err)
	}

	s.SetUnavailable(true)
	var ue *KeyringUnavailableError
	if _, err := s.Get("p", SecretPassword); !errors.As(err, &ue) {
		t.Errorf("unavailable: %v", err)
	}
}

func TestMemorySecretsConcurrent(t *testing.T) {
	s := NewMemorySecrets()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p := fmt.Sprintf("p%d", i)
			for j := range 100 {
				v := fmt.Sprint(j)
				if err := s.Set(p, SecretRefreshToken, v); err != nil {
					t.Error(err)
					return
				}
				if got, err := s.Get(p, SecretRefreshToken); err != nil || got != v {
					t.Errorf("Get = %q, %v", got, err)
					return
				}
				s.Accounts()
			}
		})
	}
	wg.Wait()
	if n := len(s.Accounts()); n != 8 {
		t.Errorf("%d accounts", n)
	}
}

func TestKeyringUnavailableErrorText(t *testing.T) {
	e := &KeyringUnavailableError{Op: "get", Account: "p/password",
		Err: errors.New("The name org.freedesktop.secrets was not provided by any .service files")}
	for _, want := range []string{"p/password", "no OS keyring (Secret Service) is reachable", "gnome-keyring", "KeePassXC", "dbus-run-session"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("%q lacks %q", e.Error(), want)
		}
	}
	locked := mapKeyringError("get", "p/password", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"))
	var ue *KeyringUnavailableError
	if !errors.As(locked, &ue) || !ue.Locked || !strings.Contains(locked.Error(), "locked") {
		t.Errorf("locked: %v", locked)
	}
}

// TestKeyringChild is the child process of the tests below; it does nothing on its own.
func TestKeyringChild(t *testing.T) {
	if os.Getenv("MM_STORE_CHILD") != "1" {
		t.Skip("child process only")
	}
	k := KeyringWithTimeout(time.Second)
	start := time.Now()
	err := k.Set("child", SecretPassword, "do-not-show-this-value")
	took := time.Since(start)
	var ue *KeyringUnavailableError
	fmt.Printf("RESULT unavailable=%v timeout=%v took=%s text=%v\n", errors.As(err, &ue), ue != nil && ue.Timeout, took.Round(time.Millisecond), err)
	_, err = k.Get("child", SecretPassword)
	fmt.Printf("RESULT2 unavailable=%v\n", errors.As(err, &ue))
}

// runChild runs TestKeyringChild with env added and returns its output.
func runChild(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringChild$", "-test.v")
	cmd.Env = append(os.Environ(), append([]string{"MM_STORE_CHILD=1"}, env...)...)
	done := make(chan struct{})
	var out []byte
	var err error
	start := time.Now()
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("child hung; output:\n%s", out)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("child took %s", d)
	}
	return string(out)
}

func TestKeyringNoSessionBus(t *testing.T) {
	for name, env := range map[string][]string{
		"missing socket": {"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")},
		"no bus at all":  {"DBUS_SESSION_BUS_ADDRESS="},
	} {
		t.Run(name, func(t *testing.T) {
			out := runChild(t, env...)
			if !strings.Contains(out, "RESULT unavailable=true timeout=false") || !strings.Contains(out, "RESULT2 unavailable=true") {
				t.Errorf("child output:\n%s", out)
			}
			if !strings.Contains(out, "start a Secret Service") {
				t.Errorf("no advice in:\n%s", out)
			}
			if strings.Contains(out, "do-not-show-this-value") {
				t.Errorf("the secret shows in the output:\n%s", out)
			}
		})
	}
}

func TestKeyringHungBus(t *testing.T) {
	// A socket that accepts and never answers: the D-Bus handshake waits forever, so only
	// our timeout ends the call.
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	out := runChild(t, "DBUS_SESSION_BUS_ADDRESS=unix:path="+sock)
	if !strings.Contains(out, "RESULT unavailable=true timeout=true") || !strings.Contains(out, "did not answer in time") {
		t.Errorf("child output:\n%s", out)
	}
}

func TestRealKeyring(t *testing.T) {
	testenv.Keyring(t)
	k := Keyring()
	profile := fmt.Sprintf("mmtest-%d", os.Getpid())
	t.Cleanup(func() {
		for _, kind := range SecretKinds {
			k.Delete(profile, kind)
			k.Delete(profile+"-renamed", kind)
		}
	})
	if _, err := k.Get(profile, SecretPassword); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Get before Set: %v", err)
	}
	if err := k.Set(profile, SecretPassword, "pässwörd with spaces"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(profile, SecretPassword, "second"); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get(profile, SecretPassword); err != nil || v != "second" {
		t.Errorf("Get = %q, %v", v, err)
	}
	big := strings.Repeat("t", 8000) // larger than a Windows keyring entry; fine on Secret Service
	if err := k.Set(profile, SecretAccessToken, big); err != nil {
		t.Fatal(err)
	}
	if v, _ := k.Get(profile, SecretAccessToken); v != big {
		t.Errorf("large value came back with %d bytes", len(v))
	}

	home := t.TempDir()
	if err := SaveProfile(home, validProfile(profile)); err != nil {
		t.Fatal(err)
	}
	if err := RenameProfile(home, profile, profile+"-renamed", k); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get(profile+"-renamed", SecretPassword); err != nil || v != "second" {
		t.Errorf("renamed Get = %q, %v", v, err)
	}
	if _, err := k.Get(profile, SecretPassword); !errors.Is(err, ErrNoSecret) {
		t.Errorf("old entry remains: %v", err)
	}
	if err := DeleteProfile(home, profile+"-renamed", k); err != nil {
		t.Fatal(err)
	}
	for _, kind := range SecretKinds {
		if _, err := k.Get(profile+"-renamed", kind); !errors.Is(err, ErrNoSecret) {
			t.Errorf("%s remains after DeleteProfile: %v", kind, err)
		}
	}
	if err := k.Delete(profile, SecretPassword); err != nil {
		t.Errorf("deleting a missing entry: %v", err)
	}
}
