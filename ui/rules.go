package ui

import (
	"mailmover/store"
)

// presetHosts are the IMAP servers of the presets (auth's presets fill the OAuth2 part).
var presetHosts = map[string]string{
	store.PresetMicrosoft: "outlook.office365.com",
	store.PresetGoogle:    "imap.gmail.com",
}

// presetLabels are the preset choices as the window shows them, in order.
var presetLabels = []string{"Microsoft 365", "Gmail", "Custom"}

func presetFromLabel(l string) string {
	switch l {
	case "Microsoft 365":
		return store.PresetMicrosoft
	case "Gmail":
		return store.PresetGoogle
	}
	return store.PresetCustom
}

func presetLabel(p string) string {
	switch p {
	case store.PresetMicrosoft:
		return "Microsoft 365"
	case store.PresetGoogle:
		return "Gmail"
	}
	return "Custom"
}

// Choice labels of the selects: what the window shows, and the file's value.
var (
	tlsLabels      = []string{"Implicit TLS (port 993)", "STARTTLS (port 143)", "None (unencrypted, local tests only)"}
	tlsValues      = []string{store.TLSImplicit, store.TLSStartTLS, store.TLSNone}
	authLabels     = []string{"OAuth2 (XOAUTH2)", "OAuth2 (OAUTHBEARER)", "Password"}
	authValues     = []string{store.AuthXOAuth2, store.AuthOAuthBearer, store.AuthPassword}
	flowLabels     = []string{"Browser sign-in (authorization code + PKCE)", "Device code", "Client credentials (app-only)"}
	flowValues     = []string{store.FlowAuthCode, store.FlowDevice, store.FlowClientCredentials}
	afterLabels    = []string{"Mark as read", "Move to folder", "Delete", "Leave as is"}
	afterValues    = []string{store.AfterSeen, store.AfterMove, store.AfterDelete, store.AfterNone}
	conflictLabels = []string{"Rename (add a number)", "Overwrite", "Skip"}
	conflictValues = []string{store.ConflictRename, store.ConflictOverwrite, store.ConflictSkip}
	searchLabels   = []string{"Unread mail only", "All mail"}
	searchValues   = []string{store.SearchUnseen, store.SearchAll}
	watchLabels    = []string{"IDLE (push, instant)", "Poll"}
	watchValues    = []string{store.WatchIdle, store.WatchPoll}
)

// labelOf maps a value to its label (the first label when the value is unknown).
func labelOf(labels, values []string, v string) string {
	for i, x := range values {
		if x == v {
			return labels[i]
		}
	}
	return labels[0]
}

// valueOf maps a label to its value.
func valueOf(labels, values []string, l string) string {
	for i, x := range labels {
		if x == l {
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
