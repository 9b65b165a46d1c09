// Package assets holds MailMover's bundled resources (the icon), embedded at build time.
package assets

import _ "embed"

//go:embed icon.png
var iconPNG []byte

// IconPNG returns the application icon as PNG bytes (256×256).
func IconPNG() []byte { return iconPNG }
