package mover

import (
	"mime"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a file-name component, in bytes. Most file systems allow 255 bytes; the rest
// is room for a collision suffix such as " (12)".
const (
	maxNameBytes = 200
	maxExtBytes  = 16
)

// tempPrefix starts every temporary file the mover writes into a destination. Names from
// mail never start with it (SafeName prefixes them), so a leftover temporary file is never
// mistaken for a saved one.
const tempPrefix = ".mailmover-tmp-"

// reservedWindows are the device names Windows refuses as a file name, with or without
// an extension.
var reservedWindows = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"CONIN$": true, "CONOUT$": true, "CLOCK$": true}

func init() {
	for _, d := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³"} {
		reservedWindows["COM"+d] = true
		reservedWindows["LPT"+d] = true
	}
}

// SafeName turns a name hint from mail (a file name, a subject, an address) into one safe
// path component: path separators, characters Windows refuses, control and invisible
// format characters (such as right-to-left overrides) become "_"; invalid UTF-8 is
// replaced; leading dots and spaces and trailing dots and spaces go (no hidden files, no
// "..", nothing Windows would silently trim); reserved Windows device names get a "_"
// prefix; the result is cut to a length limit that keeps the extension. It returns ""
// when nothing usable is left.
func SafeName(s string) string {
	s = strings.ToValidUTF8(s, "_")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte('_')
		case strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteByte('_')
		case r == utf8.RuneError || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Cs, r):
			b.WriteByte('_')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	s = trimName(b.String())
	if s == "" {
		return ""
	}
	s = cutName(s, maxNameBytes)
	base := strings.ToUpper(strings.TrimRight(strings.SplitN(s, ".", 2)[0], " "))
	if reservedWindows[base] {
		s = cutName("_"+s, maxNameBytes)
	}
	return s
}

// trimName drops leading dots and spaces and trailing dots and spaces.
func trimName(s string) string {
	s = strings.TrimLeft(s, ". ")
	return strings.TrimRight(s, ". ")
}

// cutName shortens s to at most limit bytes, on a character boundary, keeping a short
// extension.
func cutName(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	ext := path.Ext(s)
	if len(ext) > maxExtBytes+1 || len(ext) == len(s) {
		ext = ""
	}
	base := s[:len(s)-len(ext)]
	keep := limit - len(ext)
	for keep > 0 && !utf8.RuneStart(base[keep]) {
		keep--
	}
	out := trimName(base[:keep]) + ext
	if trimName(out) == "" {
		return ""
	}
	return strings.TrimRight(out, ". ")
}

// splitExt splits a safe name into its base and extension (without the dot).
func splitExt(name string) (base, ext string) {
	e := path.Ext(name)
	if e == "" || e == name || len(e) > maxExtBytes+1 {
		return name, ""
	}
	return name[:len(name)-len(e)], e[1:]
}

// commonExt maps common media types to the extension users expect; others go through
// mime.ExtensionsByType.
var commonExt = map[string]string{
	"application/pdf":          ".pdf",
	"application/octet-stream": ".bin",
	"application/zip":          ".zip",
	"application/xml":          ".xml",
	"application/json":         ".json",
	"text/plain":               ".txt",
	"text/html":                ".html",
	"text/csv":                 ".csv",
	"text/xml":                 ".xml",
	"text/calendar":            ".ics",
	"image/jpeg":               ".jpg",
	"image/png":                ".png",
	"image/gif":                ".gif",
	"message/rfc822":           ".eml",
}

// extForType returns an extension (with the dot) for a media type, ".bin" when unknown.
func extForType(mediaType string) string {
	mt := strings.ToLower(strings.TrimSpace(mediaType))
	if e, ok := commonExt[mt]; ok {
		return e
	}
	if exts, err := mime.ExtensionsByType(mt); err == nil && len(exts) > 0 {
		e := exts[0]
		if len(e) <= maxExtBytes+1 && SafeName("x"+e) == "x"+e {
			return e
		}
	}
	return ".bin"
}

// nameForPart returns the safe file name of a part: its own name made safe, or, for a
// part without a usable name, "attachment-N" with an extension from its type.
func nameForPart(filename, mediaType string, index int) string {
	if n := SafeName(filename); n != "" {
		return n
	}
	return "attachment-" + strconv.Itoa(index) + extForType(mediaType)
}

// maskMatches reports whether name matches the ";"-separated, case-insensitive globs of
// mask. An empty mask matches everything; a pattern that is not a valid glob matches
// itself literally.
func maskMatches(mask, name string) bool {
	if strings.TrimSpace(mask) == "" {
		return true
	}
	lname := strings.ToLower(name)
	for pat := range strings.SplitSeq(mask, ";") {
		pat = strings.ToLower(strings.TrimSpace(pat))
		if pat == "" {
			continue
		}
		ok, err := path.Match(pat, lname)
		if err != nil {
			ok = pat == lname
		}
		if ok {
			return true
		}
	}
	return false
}

// nameVars are the values of the file-name template's placeholders for one file.
type nameVars struct {
	Filename  string // safe file name, e.g. "invoice.pdf"
	Date      time.Time
	From      string
	Subject   string
	UID       uint32
	MessageID string
}

// DefaultTemplate is the file-name template used when the profile has none.
const DefaultTemplate = "{filename}"

// expandTemplate fills the template and returns the file's path relative to the
// destination, "/"-separated. Only a "/" (or "\") in the template itself makes folders;
// every value from mail is made a safe single component first, and each folder and the
// final name are made safe again as a whole. The result is always local: no "..", no
// absolute path, no empty component. Unknown placeholders stay as written.
func expandTemplate(tmpl string, v nameVars) string {
	if strings.TrimSpace(tmpl) == "" {
		tmpl = DefaultTemplate
	}
	base, ext := splitExt(v.Filename)
	date := v.Date
	if date.IsZero() {
		date = time.Now()
	}
	date = date.Local()
	mid := strings.Trim(strings.TrimSpace(v.MessageID), "<>")
	values := map[string]string{
		"filename":  v.Filename,
		"name":      base,
		"ext":       ext,
		"date":      date.Format("2006-01-02"),
		"time":      date.Format("150405"),
		"from":      v.From,
		"subject":   v.Subject,
		"uid":       strconv.FormatUint(uint64(v.UID), 10),
		"messageid": mid,
	}
	if strings.HasSuffix(tmpl, "/") || strings.HasSuffix(tmpl, `\`) {
		tmpl += "{filename}"
	}
	segs := strings.FieldsFunc(tmpl, func(r rune) bool { return r == '/' || r == '\\' })
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		var b strings.Builder
		for {
			open := strings.IndexByte(seg, '{')
			if open < 0 {
				b.WriteString(seg)
				break
			}
			closeAt := strings.IndexByte(seg[open:], '}')
			if closeAt < 0 {
				b.WriteString(seg)
				break
			}
			key := strings.ToLower(seg[open+1 : open+closeAt])
			b.WriteString(seg[:open])
			if val, ok := values[key]; ok {
				b.WriteString(strings.Map(func(r rune) rune {
					if r == '/' || r == '\\' {
						return '_'
					}
					return r
				}, val))
			} else {
				b.WriteString(seg[open : open+closeAt+1])
			}
			seg = seg[open+closeAt+1:]
		}
		name := SafeName(b.String())
		if name == "" {
			if i == len(segs)-1 {
				continue
			}
			name = "_"
		}
		out = append(out, name)
	}
	if len(out) == 0 || len(out) < len(segs) {
		// The final name came out empty: use the file's own name.
		if n := SafeName(v.Filename); n != "" {
			out = append(out, n)
		} else {
			out = append(out, "file.bin")
		}
	}
	return strings.Join(out, "/")
}

// withSuffix returns name with " (n)" before its extension: "a.pdf" → "a (2).pdf".
func withSuffix(rel string, n int) string {
	dir, file := path.Split(rel)
	base, ext := splitExt(file)
	if ext != "" {
		ext = "." + ext
	}
	return dir + base + " (" + strconv.Itoa(n) + ")" + ext
}
