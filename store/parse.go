package store

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"mailmover/i18n"
)

// MaxProfileSize is the largest profile file read; a profile is a few hundred bytes.
const MaxProfileSize = 1 << 20

// ParseProfile reads a profile from TOML text. Keys left out keep DefaultProfile's values.
// It is strict: a syntax error, an unknown key, a value of the wrong type and every
// problem Validate finds come back joined as *FieldError values that name the key and the
// line, with File "profiles/NAME.toml". name, when not empty, must pass ValidProfileName.
func ParseProfile(name string, data []byte) (*Profile, error) {
	file := "profiles/" + name + ".toml"
	if name == "" {
		file = "profile"
	}
	return parseProfile(file, name, data)
}

func parseProfile(file, name string, data []byte) (*Profile, error) {
	if name != "" {
		if err := ValidProfileName(name); err != nil {
			return nil, err
		}
	}
	if len(data) > MaxProfileSize {
		return nil, &FieldError{File: file, Msg: i18n.Sprintf("the file is %d bytes; a profile is at most %d", len(data), MaxProfileSize)}
	}
	text := string(data)
	p := DefaultProfile(name)
	md, err := toml.Decode(text, p)
	if err != nil {
		return nil, decodeError(file, text, err)
	}
	lines := keyLines(text)
	var errs []error
	undecoded := md.Undecoded()
	unknown := make(map[string]bool, len(undecoded))
	for _, k := range undecoded {
		unknown[strings.Join(k, "\x00")] = true
	}
	more := 0
	for _, k := range undecoded {
		if len(k) > 1 && unknown[strings.Join(k[:len(k)-1], "\x00")] {
			continue // reported with its table
		}
		if len(errs) == maxUnknownReported {
			more++
			continue
		}
		errs = append(errs, &FieldError{File: file, Key: k.String(), Line: lineOf(lines, strings.Join(k, ".")), Msg: unknownKeyMsg(k)})
	}
	if more > 0 {
		errs = append(errs, &FieldError{File: file, Msg: i18n.Sprintf("and %d more unknown keys", more)})
	}
	if len(errs) > 0 {
		// A misspelt key leaves its default in place; say only what is certain.
		return nil, errors.Join(errs...)
	}
	if err := p.Validate(); err != nil {
		for _, fe := range FieldErrors(err) {
			fe.File = file
			fe.Line = lines[fe.Key]
		}
		return nil, err
	}
	return p, nil
}

// maxUnknownReported caps the unknown keys listed in one error.
const maxUnknownReported = 20

// lastKeyRe reads the position out of BurntSushi/toml's type errors, which are plain
// errors: `toml: line 3 (last key "setup.port"): incompatible types: …`.
var lastKeyRe = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "((?:[^"\\]|\\.)*)"\): (.*)$`) // i18n:keep

// incompatibleRe reads `incompatible types: TOML value has type X; destination has type Y`.
var incompatibleRe = regexp.MustCompile(`TOML value has type ([^;]+); destination has type (.+)$`) // i18n:keep

// decodeError turns an error of toml.Decode into a *FieldError with key and line.
func decodeError(file, text string, err error) error {
	fe := &FieldError{File: file, Msg: err.Error()}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		fe.Line, fe.Msg = pe.Position.Line, pe.Message
		// LastKey is the key being read, or only the one before a syntax error: name it
		// when it is defined on the line of the error.
		lines := keyLines(text)
		if pe.LastKey != "" && lines[pe.LastKey] == pe.Position.Line {
			fe.Key = pe.LastKey
		}
		if m := duplicateRe.FindStringSubmatch(pe.Message); m != nil {
			// "Key 'setup.port' has already been defined.": name the key and where it
			// was first given.
			fe.Key = m[1]
			fe.Msg = i18n.T("is given twice; each key (and table) may appear only once")
			if first := lines[m[1]]; first > 0 && first != fe.Line {
				fe.Msg += i18n.Sprintf(" (first at line %d)", first)
			}
		}
		if strings.HasSuffix(fe.Key, "poll_interval") {
			fe.Msg += i18n.T(`; write a duration such as "60s" or "5m"`)
		}
	} else if m := lastKeyRe.FindStringSubmatch(err.Error()); m != nil {
		key, _ := strconv.Unquote(`"` + m[2] + `"`)
		fe.Key, fe.Msg = key, m[3]
		fe.Line, _ = strconv.Atoi(m[1])
		if fe.Line == 0 {
			fe.Line = lineOf(keyLines(text), key)
		}
		if t := incompatibleRe.FindStringSubmatch(m[3]); t != nil {
			fe.Msg = i18n.Sprintf("is %s; it must be %s", tomlTypeName(t[1]), tomlTypeName(t[2]))
		} else if t := mismatchRe.FindStringSubmatch(m[3]); t != nil {
			fe.Msg = i18n.Sprintf("is %s; it must be a table, written [%s]", tomlTypeName(t[1]), key)
		}
	} else {
		fe.Msg = strings.TrimPrefix(fe.Msg, "toml: ")
	}
	return fe
}

// duplicateRe reads BurntSushi/toml's message for a key or table given twice.
var duplicateRe = regexp.MustCompile(`^Key '([^']+)' has already been defined\.?$`) // i18n:keep

// mismatchRe reads `type mismatch for store.Setup: expected table but found int64`.
var mismatchRe = regexp.MustCompile(`expected table but found (.+)$`) // i18n:keep

// tomlTypeName names a type from BurntSushi/toml's messages in the file's words.
func tomlTypeName(t string) string {
	switch t {
	case "slice":
		return i18n.T(`a list such as ["attachments"]`)
	case "primitive (string-like)", "string":
		return i18n.T("a string")
	case "int64", "integer":
		return i18n.T("an integer")
	case "float64", "float":
		return i18n.T("a decimal number")
	case "bool", "boolean":
		return i18n.T("true or false")
	case "map[string]any", "map[string]interface {}":
		return i18n.T("a table")
	case "[]map[string]any", "[]map[string]interface {}":
		return i18n.T("an array of tables [[…]]")
	case "time.Time":
		return i18n.T("a date")
	}
	if strings.HasPrefix(t, "[]") {
		return i18n.T("a list")
	}
	return "a " + t
}

// knownKeys maps each table of the profile file to its keys, from the struct tags.
var knownKeys = func() map[string][]string {
	m := map[string][]string{}
	pt := reflect.TypeFor[Profile]()
	for i := range pt.NumField() {
		tf := pt.Field(i)
		table := tf.Tag.Get("toml")
		if table == "-" || tf.Type.Kind() != reflect.Struct {
			continue
		}
		for j := range tf.Type.NumField() {
			m[table] = append(m[table], tf.Type.Field(j).Tag.Get("toml"))
		}
	}
	return m
}()

// unknownKeyMsg says a key is unknown and, when it can, which was meant.
func unknownKeyMsg(k toml.Key) string {
	tables := make([]string, 0, len(knownKeys))
	for t := range knownKeys {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	if len(k) == 1 {
		for _, t := range tables {
			if slices.Contains(knownKeys[t], k[0]) {
				return i18n.Sprintf("unknown key at the top of the file; %q belongs in the [%s] table", k[0], t)
			}
		}
		if s := closest(k[0], tables); s != "" {
			return i18n.Sprintf("unknown table; did you mean [%s]?", s)
		}
		return i18n.Sprintf("unknown table or key; the tables are %s", "["+strings.Join(tables, "], [")+"]")
	}
	keys, ok := knownKeys[k[0]]
	if !ok {
		return i18n.T("unknown key")
	}
	if len(k) > 2 && slices.Contains(keys, k[1]) {
		return i18n.Sprintf("unknown key; %s.%s is a single value, not a table", k[0], k[1])
	}
	// "ca.file" is a dotted key for ca_file; "serch" a misspelt search.
	if s := closest(strings.Join(k[1:], "_"), keys); s != "" {
		return i18n.Sprintf("unknown key; did you mean %q?", s)
	}
	return i18n.Sprintf("unknown key; [%s] has %s", k[0], strings.Join(keys, ", "))
}

// closest returns the candidate within edit distance 2 of s, or "".
func closest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
