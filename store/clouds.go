package store

import "slices"

// Presets of Microsoft 365's national clouds (sovereign clouds). Each is a cloud instance
// of its own, with its own sign-in host, IMAP host and scope; auth holds those facts.
const (
	// PresetMicrosoftUSGov is Microsoft 365 U.S. Government GCC High.
	PresetMicrosoftUSGov = "microsoft-usgov"
	// PresetMicrosoftDoD is Microsoft 365 U.S. Government DoD.
	PresetMicrosoftDoD = "microsoft-dod"
	// PresetMicrosoftChina is Microsoft 365 operated by 21Vianet (China).
	PresetMicrosoftChina = "microsoft-china"
)

// MicrosoftPresets are the presets of Microsoft 365: the global cloud first, then the
// national clouds.
var MicrosoftPresets = []string{PresetMicrosoft, PresetMicrosoftUSGov, PresetMicrosoftDoD, PresetMicrosoftChina}

// Presets are all values oauth2.preset accepts.
var Presets = append(slices.Clone(MicrosoftPresets), PresetGoogle, PresetCustom)

// IsMicrosoftPreset reports whether preset is one of MicrosoftPresets: Microsoft-specific
// rules (a tenant, the scope checks, advice, the 90-day lapse) apply to all of them.
func IsMicrosoftPreset(preset string) bool { return slices.Contains(MicrosoftPresets, preset) }
