package ui

import (
	"net/url"
	"strings"

	"mailmover/store"
)

// Folder paths in the window, in the syntax of the system they are for: /srv/in,
// ~/in, C:\in, \\server\share\in (Windows paths are recognised by their form, so the
// rules are the same — and testable — everywhere).

// isWindowsPath reports whether p starts with a drive letter (C:\, C:/) or is a UNC path
// (\\server\share).
func isWindowsPath(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('a' <= p[0] && p[0] <= 'z' || 'A' <= p[0] && p[0] <= 'Z')
}

// folderURL returns the file: URL that opens folder in the desktop's file manager
// (App.OpenURL): /srv/in → file:///srv/in, C:\in → file:///C:/in, \\server\share\in →
// file://server/share/in; "~" is the user's home folder.
func folderURL(folder string) *url.URL {
	if abs, err := store.ExpandPath(folder); err == nil {
		folder = abs
	}
	if strings.HasPrefix(folder, `\\`) {
		host, rest, _ := strings.Cut(strings.ReplaceAll(folder[2:], `\`, "/"), "/")
		return &url.URL{Scheme: "file", Host: host, Path: "/" + rest}
	}
	if isWindowsPath(folder) {
		return &url.URL{Scheme: "file", Path: "/" + strings.ReplaceAll(folder, `\`, "/")}
	}
	return &url.URL{Scheme: "file", Path: folder}
}

// examplePath joins a destination folder and a "/"-separated name from the file-name
// template with the folder's own separator: C:\in + a/b.pdf → C:\in\a\b.pdf.
func examplePath(folder, name string) string {
	if isWindowsPath(folder) || strings.HasPrefix(folder, `~\`) {
		return strings.TrimRight(folder, `\/`) + `\` + strings.ReplaceAll(name, "/", `\`)
	}
	return strings.TrimRight(folder, "/") + "/" + name
}
