package imapsrc

import (
	"testing"
	"time"

	"mailmover/internal/memimap"
)

// One IDLE lasts at most Config.IdleRestart; the next call issues a fresh IDLE.
func TestIdleRestart(t *testing.T) {
	srv, err := memimap.Start(memimap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser(memUser, memPass)
	cfg := Config{Host: "127.0.0.1", Port: srv.Port(), TLS: tlsNone, Auth: authPassword, Username: memUser,
		Password: memPass, Timeout: 5 * time.Second, Logger: testLogger(t), IdleRestart: 150 * time.Millisecond}
	c, err := Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		start := time.Now()
		if err := c.WaitForMail(ctxT(t), true, time.Hour); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
			t.Errorf("round %d returned after %s, want about 150ms", i, d)
		}
	}
	// A dead connection is reported, not waited on.
	srv.Close()
	done := make(chan error, 1)
	go func() { done <- c.WaitForMail(ctxT(t), true, time.Hour) }()
	select {
	case err := <-done:
		if KindOf(err) != KindNetwork {
			t.Errorf("after the server died: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForMail did not notice the closed connection")
	}
}

// Without AUTH=PLAIN the password goes with the LOGIN command.
func TestPasswordFallsBackToLogin(t *testing.T) {
	srv, err := memimap.Start(memimap.Options{Mechanisms: []string{"XOAUTH2"},
		TokenValidator: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser(memUser, memPass)
	c, err := Dial(ctxT(t), Config{Host: "127.0.0.1", Port: srv.Port(), TLS: tlsNone, Auth: authPassword,
		Username: memUser, Password: memPass, Timeout: 5 * time.Second, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Mechanism() != "LOGIN" {
		t.Errorf("mechanism %q, want LOGIN", c.Mechanism())
	}
}
