package ui

import (
	"testing"

	"mailmover/mover"
)

// The overview shows the profiles that need someone first, then those retrying, then the
// rest, each group by name.
func TestOverviewRowsPutProblemsFirst(t *testing.T) {
	m := newOverviewModel(nil, nil)
	m.names = []string{"archive", "invoices", "reports", "scans", "zeta"}
	m.status["invoices"] = &mover.Status{State: mover.StateIdle}
	m.status["reports"] = &mover.Status{State: mover.StateRetrying}
	m.status["scans"] = &mover.Status{State: mover.StatePaused}
	m.status["zeta"] = &mover.Status{State: mover.StateError}
	rows, _, _ := m.rows()
	var got []string
	for _, r := range rows {
		got = append(got, r.name)
	}
	want := []string{"scans", "zeta", "reports", "archive", "invoices"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
