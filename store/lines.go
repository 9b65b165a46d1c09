package store

import (
	"strings"
)

// keyLines maps each dotted key of a TOML text ("setup.host", and tables such as "setup")
// to the 1-based line where it is defined. BurntSushi/toml keeps key positions to itself,
// so this small scanner finds them: it follows table headers, key = value lines, and
// skips the insides of strings, multi-line strings, arrays and inline tables. It is only
// used for messages; a key it cannot place gets line 0.
func keyLines(text string) map[string]int {
	out := map[string]int{}
	var (
		table []string
		depth int    // open [ and { of a value
		inStr string // `"""` or `'''` while inside a multi-line string
	)
	// A byte order mark (Windows editors write one) is not part of the first line.
	text = strings.TrimPrefix(text, "\ufeff")
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		i := 0
		if inStr == "" && depth == 0 {
			t := strings.TrimLeft(line, " \t")
			switch {
			case strings.HasPrefix(t, "["):
				arr := strings.HasPrefix(t, "[[")
				body := strings.TrimPrefix(t, "[")
				if arr {
					body = body[1:]
				}
				key, rest := parseKey(body)
				if key != nil && strings.HasPrefix(strings.TrimLeft(rest, " \t"), "]") {
					table = key
					set(out, table, lineNo)
				}
				continue
			case t == "" || strings.HasPrefix(t, "#"):
				continue
			}
			key, rest := parseKey(t)
			rest = strings.TrimLeft(rest, " \t")
			if key == nil || !strings.HasPrefix(rest, "=") {
				continue
			}
			full := append(append([]string{}, table...), key...)
			set(out, full, lineNo)
			line = rest[1:]
		}
		// Scan the value part for strings and brackets that continue on later lines.
		for i < len(line) {
			if inStr != "" {
				j := strings.Index(line[i:], inStr)
				if j < 0 {
					break // the string goes on in the next line
				}
				if inStr == `"""` && j > 0 && escaped(line[i:i+j]) {
					i += j + 1
					continue
				}
				i += j + 3
				inStr = ""
				continue
			}
			switch ch := line[i]; ch {
			case '#':
				i = len(line)
			case '"', '\'':
				if strings.HasPrefix(line[i:], strings.Repeat(string(ch), 3)) {
					inStr = strings.Repeat(string(ch), 3)
					i += 3
					continue
				}
				i = skipString(line, i)
			case '[', '{':
				depth++
				i++
			case ']', '}':
				if depth > 0 {
					depth--
				}
				i++
			default:
				i++
			}
		}
	}
	return out
}

// escaped reports whether s ends with an odd number of backslashes.
func escaped(s string) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}

// skipString returns the index after the one-line string starting at line[i].
func skipString(line string, i int) int {
	q := line[i]
	for j := i + 1; j < len(line); j++ {
		if q == '"' && line[j] == '\\' {
			j++
			continue
		}
		if line[j] == q {
			return j + 1
		}
	}
	return len(line)
}

func set(m map[string]int, key []string, line int) {
	k := strings.Join(key, ".")
	if _, ok := m[k]; !ok {
		m[k] = line
	}
}

// parseKey reads a dotted TOML key (bare, "basic" or 'literal' parts) from the start of s
// and returns its parts and the rest of s; nil when s does not start with a key.
func parseKey(s string) ([]string, string) {
	var parts []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, s
		}
		switch s[0] {
		case '"', '\'':
			end := skipString(s, 0)
			if end < 2 || s[end-1] != s[0] {
				return nil, s
			}
			raw := s[1 : end-1]
			if s[0] == '"' {
				raw = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(raw)
			}
			parts = append(parts, raw)
			s = s[end:]
		default:
			j := 0
			for j < len(s) && isBareKeyChar(s[j]) {
				j++
			}
			if j == 0 {
				return nil, s
			}
			parts = append(parts, s[:j])
			s = s[j:]
		}
		t := strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(t, ".") {
			return parts, s
		}
		s = t[1:]
	}
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// lineOf returns the line of key, or of its nearest parent that has one, or 0.
func lineOf(lines map[string]int, key string) int {
	for key != "" {
		if n, ok := lines[key]; ok {
			return n
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
