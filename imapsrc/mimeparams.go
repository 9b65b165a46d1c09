package imapsrc

import (
	"io"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
)

// contentType returns the media type (lower case) and parameters, leniently: a missing
// Content-Type is text/plain (RFC 2045 §5.2); a malformed one keeps what can be read.
func contentType(h message.Header) (string, map[string]string) {
	raw := h.Get("Content-Type")
	if strings.TrimSpace(raw) == "" {
		return "text/plain", map[string]string{}
	}
	mt, params, err := h.ContentType()
	if err != nil || mt == "" {
		mt, params = lenientParams(raw)
	}
	mt = strings.ToLower(mt)
	if !strings.Contains(mt, "/") {
		mt = "application/octet-stream"
	}
	return mt, params
}

func contentDisposition(h message.Header) (string, map[string]string) {
	raw := h.Get("Content-Disposition")
	if strings.TrimSpace(raw) == "" {
		return "", map[string]string{}
	}
	d, params, err := h.ContentDisposition()
	if err != nil || d == "" {
		d, params = lenientParams(raw)
	}
	return strings.ToLower(d), params
}

// filename picks the file name: Content-Disposition filename (RFC 2231 decoded by
// mime.ParseMediaType, RFC 2047 by go-message), else Content-Type name.
func filename(h message.Header, dparams, params map[string]string) string {
	name := dparams["filename"]
	if strings.TrimSpace(name) == "" {
		name = params["name"]
	}
	if strings.TrimSpace(name) == "" {
		// mime.ParseMediaType drops RFC 2231 values in charsets other than UTF-8.
		if raw := h.Get("Content-Disposition"); strings.Contains(strings.ToLower(raw), "filename*") {
			_, p := lenientParams(raw)
			name = p["filename"]
		}
		if raw := h.Get("Content-Type"); name == "" && strings.Contains(strings.ToLower(raw), "name*") {
			_, p := lenientParams(raw)
			name = p["name"]
		}
	}
	name = strings.TrimSpace(name)
	if strings.Contains(name, "=?") {
		if dec, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(name); err == nil {
			name = dec
		}
	}
	return name
}

// lenientParams parses "type; a=b; c="d"" when mime.ParseMediaType refuses it (duplicate
// parameters, unquoted spaces, stray semicolons): the value is kept as it stands,
// RFC 2047 words decoded, RFC 2231 "*" forms decoded where possible.
func lenientParams(s string) (string, map[string]string) {
	params := map[string]string{}
	fields := splitParams(s)
	if len(fields) == 0 {
		return "", params
	}
	typ := strings.TrimSpace(fields[0])
	cont := map[string][]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
		}
		if base, _, isCont := strings.Cut(k, "*"); isCont {
			cont[base] = append(cont[base], k+"="+v)
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = v
		}
	}
	for base, pieces := range cont {
		if _, ok := params[base]; ok {
			continue
		}
		if v, ok := decode2231(base, pieces); ok {
			params[base] = v
		}
	}
	dec := &mime.WordDecoder{CharsetReader: message.CharsetReader}
	for k, v := range params {
		if strings.Contains(v, "=?") {
			if d, err := dec.DecodeHeader(v); err == nil {
				params[k] = d
			}
		}
	}
	return typ, params
}

// splitParams splits at ';' outside double quotes.
func splitParams(s string) []string {
	var out []string
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && inQuote && i+1 < len(s):
			b.WriteByte(ch)
			i++
			b.WriteByte(s[i])
			continue
		case ch == '"':
			inQuote = !inQuote
		case ch == ';' && !inQuote:
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(ch)
	}
	out = append(out, b.String())
	return out
}

// decode2231 joins RFC 2231 pieces ("name*0*=utf-8”a%20", "name*1=b", or "name*=…")
// and decodes them, in any charset go-message knows (mime.ParseMediaType only takes
// UTF-8 and US-ASCII).
func decode2231(base string, pieces []string) (string, bool) {
	type piece struct {
		n   int
		ext bool
		v   string
	}
	var ps []piece
	seen := map[int]bool{}
	for _, p := range pieces {
		k, v, _ := strings.Cut(p, "=")
		rest := strings.TrimPrefix(k, base+"*")
		ext := strings.HasSuffix(rest, "*") || rest == ""
		rest = strings.TrimSuffix(rest, "*")
		n := 0
		if rest != "" {
			var err error
			if n, err = strconv.Atoi(rest); err != nil || n < 0 || n > 999 {
				continue
			}
		}
		// A section given twice keeps its first value: at most 1000 pieces, so a
		// hostile header cannot make the sort below slow.
		if seen[n] {
			continue
		}
		seen[n] = true
		ps = append(ps, piece{n, ext, v})
	}
	if len(ps) == 0 {
		return "", false
	}
	slices.SortFunc(ps, func(a, b piece) int { return a.n - b.n })
	charset := "utf-8"
	var raw []byte
	for i, p := range ps {
		v := p.v
		if p.ext {
			if i == 0 {
				parts := strings.SplitN(v, "'", 3)
				if len(parts) == 3 {
					if parts[0] != "" {
						charset = strings.ToLower(parts[0])
					}
					v = parts[2]
				}
			}
			raw = append(raw, percentDecode(v)...)
		} else {
			raw = append(raw, v...)
		}
	}
	if charset == "utf-8" || charset == "us-ascii" || message.CharsetReader == nil {
		return string(raw), true
	}
	r, err := message.CharsetReader(charset, strings.NewReader(string(raw)))
	if err != nil {
		return string(raw), true
	}
	out, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return string(raw), true
	}
	return string(out), true
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
