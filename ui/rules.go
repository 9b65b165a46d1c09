package ui

import (
	"mailmover/auth"
	"mailmover/store"

	"fyne.io/fyne/v2/lang"
)

// presetHost returns the IMAP server of a preset, or "" (auth's presets fill the OAuth2
// part; each Microsoft cloud has its own IMAP host).
func presetHost(preset string) string {
	if c, ok := auth.MicrosoftCloudOf(preset); ok {
		return c.IMAPHost
	}
	if preset == store.PresetGoogle {
		return "imap.gmail.com"
	}
	return ""
}

// presetLabels are the preset choices as the window shows them, in order.
var presetLabels = []string{"Microsoft 365", "Microsoft 365 GCC High (US Government)", "Microsoft 365 DoD (US Government)",
	"Microsoft 365 operated by 21Vianet (China)", "Gmail", "Custom"}

// presetValues are the presets in the order of presetLabels.
var presetValues = []string{store.PresetMicrosoft, store.PresetMicrosoftUSGov, store.PresetMicrosoftDoD,
	store.PresetMicrosoftChina, store.PresetGoogle, store.PresetCustom}

func presetFromLabel(l string) string {
	for i, x := range presetLabels {
		if l == x || l == lang.L(x) {
			return presetValues[i]
		}
	}
	return store.PresetCustom
}

func presetLabel(p string) string { return labelOf(presetLabels, presetValues, p) }

// Choice labels of the selects: what the window shows, and the file's value.
var (
	tlsLabels        = []string{"Implicit TLS (port 993)", "STARTTLS (port 143)", "None (unencrypted, local tests only)"}
	tlsValues        = []string{store.TLSImplicit, store.TLSStartTLS, store.TLSNone}
	authLabels       = []string{"OAuth2 (XOAUTH2)", "OAuth2 (OAUTHBEARER)", "Password"}
	authValues       = []string{store.AuthXOAuth2, store.AuthOAuthBearer, store.AuthPassword}
	flowLabels       = []string{"Browser sign-in (authorization code + PKCE)", "Device code", "Client credentials (app-only)", "Service account (Google Workspace, app-only)"}
	flowValues       = []string{store.FlowAuthCode, store.FlowDevice, store.FlowClientCredentials, store.FlowServiceAccount}
	clientAuthLabels = []string{"Client secret", "Certificate"}
	clientAuthValues = []string{store.ClientAuthSecret, store.ClientAuthCertificate}
	afterLabels      = []string{"Mark as read", "Move to folder", "Delete", "Leave as is"}
	afterValues      = []string{store.AfterSeen, store.AfterMove, store.AfterDelete, store.AfterNone}
	conflictLabels   = []string{"Rename (add a number)", "Overwrite", "Skip"}
	conflictValues   = []string{store.ConflictRename, store.ConflictOverwrite, store.ConflictSkip}
	searchLabels     = []string{"Unread mail only", "All mail"}
	searchValues     = []string{store.SearchUnseen, store.SearchAll}
	watchLabels      = []string{"IDLE (push, instant)", "Poll"}
	watchValues      = []string{store.WatchIdle, store.WatchPoll}
)

// The label tables above hold the English texts, which are also the translation keys;
// the selects show them translated (translated), and labelOf / valueOf map between the
// translated label and the file's value.

// translated returns the labels in the user's language.
func translated(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = lang.L(l)
	}
	return out
}

// labelOf maps a value to its translated label (the first label when the value is unknown).
func labelOf(labels, values []string, v string) string {
	for i, x := range values {
		if x == v {
			return lang.L(labels[i])
		}
	}
	return lang.L(labels[0])
}

// valueOf maps a label (translated or English) to its value.
func valueOf(labels, values []string, l string) string {
	for i, x := range labels {
		if x == l || lang.L(x) == l {
			return values[i]
		}
	}
	return values[0]
}

// defaultPort is the port a TLS mode suggests.
func defaultPort(tls string) int {
	if tls == store.TLSImplicit {
		return 993
	}
	return 143
}
