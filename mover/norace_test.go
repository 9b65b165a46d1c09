//go:build !race

package mover

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
