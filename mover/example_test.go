package mover_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"mailmover/mover"
	"mailmover/store"
)

// Example runs one pass over a profile's mail, as `mailmover run -once` does: the
// connection comes from the profile and the keyring, the events are printed.
func Example() {
	home, err := store.Home()
	if err != nil {
		log.Fatal(err)
	}
	p, err := store.LoadProfile(home, "invoices")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := mover.SourceConfig(p, store.Keyring(), nil)
	if err != nil {
		log.Fatal(err)
	}
	events := make(chan mover.Event, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			fmt.Println(e.Kind, e.Text)
		}
	}()
	m, err := mover.New(mover.Options{Profile: p, Home: home, Config: cfg, Events: events})
	if err != nil {
		log.Fatal(err)
	}
	err = m.RunOnce(context.Background())
	close(events)
	<-done
	var failed *mover.FailedError
	if errors.As(err, &failed) {
		fmt.Println(failed.Failed, "messages stay unmarked until the next run")
	}
}
