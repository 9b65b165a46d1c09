package demo

import (
	"bytes"
	"fmt"
	"strings"
)

// pdfEscape escapes a string for a PDF literal string: backslash and parentheses get a
// backslash; bytes outside printable ASCII become '?', since the built-in Helvetica
// only knows its standard encoding.
func pdfEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '(' || r == ')':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// tinyPDF returns a small, valid one-page PDF 1.4 document showing lines of text in
// Helvetica: a catalog, a page tree, one page, its content stream and the font, with a
// correct cross-reference table (byte offsets), so any viewer opens it.
func tinyPDF(title string, lines ...string) []byte {
	var content bytes.Buffer
	content.WriteString("BT\n/F1 18 Tf\n72 760 Td\n")
	fmt.Fprintf(&content, "(%s) Tj\n", pdfEscape(title))
	content.WriteString("/F1 11 Tf\n0 -28 Td\n")
	for _, l := range lines {
		fmt.Fprintf(&content, "(%s) Tj\n0 -16 Td\n", pdfEscape(l))
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return out.Bytes()
}
