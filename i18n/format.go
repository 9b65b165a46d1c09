package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lang is the language texts are shown in: "en" or "de".
func Lang() string {
	if c := T("lang.code"); c != "lang.code" {
		return c
	}
	return "en"
}

// FormatInt writes n with the language's thousands separator: 100,000 or 100.000.
func FormatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if Lang() == "de" {
		sep = "."
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FormatDecimal writes f with one decimal in the language's style: 2.5 or 2,5.
func FormatDecimal(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	if Lang() == "de" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// FormatDate writes a day in the language's style: 2026-11-28 or 28.11.2026.
func FormatDate(t time.Time) string {
	if Lang() == "de" {
		return t.Format("02.01.2006")
	}
	return t.Format("2006-01-02")
}

// FormatBytes writes a size in decimal units with one decimal in the language's style:
// 512 B, 1.5 kB, 2,3 MB.
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	neg := n < 0
	if neg {
		n = -n
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	s := FormatDecimal(float64(n)/float64(div)) + " " + string("kMGTPE"[exp]) + "B"
	if neg {
		s = "-" + s
	}
	return s
}
