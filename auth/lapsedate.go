package auth

import (
	"time"

	"mailmover/store"
)

// ExpectedLapse returns when profile's refresh token is expected to lapse, from the
// sign-in times stored in sec: Microsoft's 90 days after its last use, Google's 7 days
// after the sign-in for apps in "Testing" status (possible only: the app's status is not
// known here, and a token still refreshing a day after that is from a published app).
// ok is false when no lapse is known (other presets, client credentials, nothing stored).
func ExpectedLapse(profile string, o store.OAuth2, sec store.Secrets, now time.Time) (lapse time.Time, ok bool) {
	if o.Flow == store.FlowClientCredentials || sec == nil {
		return time.Time{}, false
	}
	st, err := NewSecretsTokenStore(sec, profile).Load()
	if err != nil || st.Token == nil {
		return time.Time{}, false
	}
	switch {
	case store.IsMicrosoftPreset(o.Preset):
		last := st.LastRefresh
		if last.Before(st.Issued) {
			last = st.Issued
		}
		if !last.IsZero() {
			return last.Add(Lapses.MicrosoftUnused.After), true
		}
	case o.Preset == store.PresetGoogle:
		if !st.Issued.IsZero() {
			l := st.Issued.Add(Lapses.GoogleTesting.After)
			if now.Before(l.Add(Day)) {
				return l, true
			}
		}
	}
	return time.Time{}, false
}
