package mover

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mailmover/auth"
	"mailmover/store"
)

// Start runs the mover in the background, hands over every event on a channel it closes
// when the run has ended (the last event a KindStopped), and Wait returns the run's
// result.
func TestStartClosesItsEventsAfterStopped(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 2, "")
	run, err := Start(context.Background(), Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, Once: true})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for e := range run.Events() {
		if e.Profile != h.prof.Name {
			t.Errorf("event without the profile's name: %+v", e)
		}
		kinds = append(kinds, e.Kind)
	}
	if err := run.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(kinds) == 0 || kinds[len(kinds)-1] != KindStopped {
		t.Fatalf("events %v: the last is not KindStopped", kinds)
	}
	saved := 0
	for _, k := range kinds {
		if k == KindFileSaved {
			saved++
		}
	}
	if saved != 2 {
		t.Errorf("%d file events, want 2", saved)
	}
	h.exactlyOnce()
}

// Stop ends a run that waits for mail; Wait returns nil; a profile that does not validate
// is refused by Start itself; Start refuses a channel of the caller's.
func TestStartStopAndRefusals(t *testing.T) {
	h := newHarness(t)
	run, err := Start(context.Background(), Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial})
	if err != nil {
		t.Fatal(err)
	}
	idle := false
	timeout := time.After(10 * time.Second)
	for !idle {
		select {
		case e := <-run.Events():
			idle = e.Kind == KindIdle
		case <-timeout:
			t.Fatal("no KindIdle within 10 s")
		}
	}
	run.Stop()
	for range run.Events() {
	}
	if err := run.Wait(); err != nil {
		t.Errorf("Wait after Stop = %v", err)
	}
	bad := *h.prof
	bad.Setup.Port = 0
	if _, err := Start(context.Background(), Options{Profile: &bad, Home: h.home, Dial: h.srv.dial}); err == nil {
		t.Error("Start accepted a profile with port 0")
	}
	if _, err := Start(context.Background(), Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, Events: make(chan Event)}); err == nil {
		t.Error("Start accepted a channel of the caller's")
	}
	// Without Dial or Config it builds the connection from the profile and its secrets.
	if _, err := Start(context.Background(), Options{Profile: h.prof, Home: h.home, Secrets: store.NewMemorySecrets()}); err == nil || !errors.Is(err, store.ErrNoSecret) {
		t.Errorf("Start without a stored password = %v, want ErrNoSecret", err)
	}
}

// Explain's advice names the profile in the commands it gives: the errors carry it from
// where they arise (a token error of the profile's token source, a missing credential),
// and an error that does not know it gets the name Explain is given; no placeholder is
// left.
func TestExplainFillsTheProfileName(t *testing.T) {
	a := Explain(&TimeoutError{After: time.Second}, "invoices")
	if a.Fix == "" || a.What == "" {
		t.Errorf("timeout: %+v", a)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"token error of the source", &auth.TokenError{Profile: "invoices", Op: "client credentials", Code: "invalid_client",
			Description: "AADSTS7000215: Invalid client secret provided."}, "-profile invoices client-secret"},
		{"token error without a profile", &auth.TokenError{Op: "refresh", Code: "invalid_client",
			Description: "AADSTS7000222: The provided client secret keys are expired."}, "-profile invoices client-secret"},
		{"not signed in", &auth.ReauthError{Profile: "invoices", Err: auth.ErrNotSignedIn}, "login -profile invoices"},
	}
	for _, tt := range tests {
		a := Explain(tt.err, "invoices")
		if !strings.Contains(a.Fix, tt.want) || strings.Contains(a.Fix, "PROFILE") {
			t.Errorf("%s: fix %q, want …%s…", tt.name, a.Fix, tt.want)
		}
	}
}
