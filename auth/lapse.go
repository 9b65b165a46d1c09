package auth

import (
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// Lapse is a provider's known lapse of refresh tokens.
type Lapse struct {
	// After is how long until the refresh token lapses.
	After time.Duration
	// Ahead is how long before the lapse to start warning.
	Ahead time.Duration
}

// Day is 24 hours.
const Day = 24 * time.Hour

// Lapses are the known lapses; callers may change them (before use) to configure the
// warnings.
var Lapses = struct {
	// MicrosoftUnused: Microsoft refresh tokens lapse after 90 days unused (AADSTS700082).
	MicrosoftUnused Lapse
	// GoogleTesting: Google refresh tokens of apps in "Testing" status lapse 7 days after
	// the sign-in, used or not.
	GoogleTesting Lapse
}{
	MicrosoftUnused: Lapse{After: 90 * Day, Ahead: 14 * Day},
	GoogleTesting:   Lapse{After: 7 * Day, Ahead: 2 * Day},
}

// LapseWarning returns a warning when a Microsoft refresh token last used (or issued) at
// lastUsed is within Lapses.MicrosoftUnused.Ahead of lapsing at now, or has lapsed;
// otherwise, and for other presets or a zero lastUsed, "". (Google's 7-day lapse counts
// from the sign-in: see SignInAgeWarning.)
func LapseWarning(preset string, lastUsed, now time.Time) string {
	if !store.IsMicrosoftPreset(preset) || lastUsed.IsZero() {
		return ""
	}
	l := Lapses.MicrosoftUnused
	idle := now.Sub(lastUsed)
	lapse := lastUsed.Add(l.After)
	switch {
	case idle >= l.After:
		return i18n.Sprintf("the refresh token was last used %s (%d days ago) and has most likely lapsed (Microsoft: %d days unused, AADSTS700082): sign in again", lastUsed.Format(time.DateOnly), days(idle), days(l.After))
	case idle >= l.After-l.Ahead:
		return i18n.Sprintf("the refresh token was last used %d days ago and lapses around %s (Microsoft: %d days unused): run the mover or sign in again before then", days(idle), lapse.Format(time.DateOnly), days(l.After))
	}
	return ""
}

// SignInAgeWarning returns a warning for a Google sign-in made at issued that is within
// Lapses.GoogleTesting.Ahead of the 7-day lapse of apps in "Testing" status, or past it
// (worded as conditional: the app's status is not known here); "" otherwise.
func SignInAgeWarning(preset string, issued, now time.Time) string {
	if preset != store.PresetGoogle || issued.IsZero() {
		return ""
	}
	l := Lapses.GoogleTesting
	age := now.Sub(issued)
	if age < l.After-l.Ahead || age >= l.After+Day {
		// Past the lapse by more than a day and still refreshing: the app is in production.
		return ""
	}
	return i18n.Sprintf("signed in %s: if the Google Cloud app is in \"Testing\" status, its refresh tokens lapse 7 days after sign-in (around %s); publish the app (In production) or sign in again", issued.Format(time.DateOnly), issued.Add(l.After).Format(time.DateOnly))
}

func days(d time.Duration) int { return int(d / Day) }

// LapseWarningForProfile reads the sign-in times stored for profile in sec and returns
// LapseWarning or SignInAgeWarning for o's preset at now; "" when all is well, nothing is
// stored, or the keyring cannot be read (the token source reports that itself). The
// window shows it on opening a profile; the mover logs it on start.
func LapseWarningForProfile(profile string, o store.OAuth2, sec store.Secrets, now time.Time) string {
	if o.Flow == store.FlowClientCredentials {
		return ""
	}
	st, err := NewSecretsTokenStore(sec, profile).Load()
	if err != nil || st.Token == nil {
		return ""
	}
	if w := LapseWarning(o.Preset, st.LastRefresh, now); w != "" {
		return w
	}
	return SignInAgeWarning(o.Preset, st.Issued, now)
}
