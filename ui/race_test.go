//go:build race

package ui

// raceEnabled is true when the tests run under the race detector (5–10× slower).
const raceEnabled = true
