package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"mime"
	"net/url"
	"strings"
	"time"
)

// MixReal is the Spec.Mix of a mailbox that looks like real business mail (RealSpec);
// the empty Mix is the base64 set (DefaultSpec).
const MixReal = "real"

// RealSpec is the realistic benchmark mailbox: n messages, each with a body (plain text
// and HTML in quoted-printable, sometimes an inline image), long folded headers
// (Received, DKIM, recipients, RFC 2047 subjects), and 0–4 attachments: PDFs, images
// and ZIPs in base64; CSV, TXT and XML in quoted-printable (short and long lines, soft
// breaks, some lines far over 76 characters); logs in 8bit; data in binary; now and then
// a forwarded message (message/rfc822) with attachments of its own. File names come
// plain, RFC 2231 (with continuations) and RFC 2047. Many messages are small, a few
// are large (up to MaxSize). MinAtt, MaxAtt and MinSize are not used.
func RealSpec(seed uint64, n int, prefix string) Spec {
	return Spec{Seed: seed, N: n, MinAtt: 0, MaxAtt: 4, MinSize: 500, MaxSize: 20_000_000, Prefix: prefix, Mix: MixReal}
}

// realKind is a kind of attachment of the realistic mix.
type realKind struct {
	ext, ctype string
	cte        string                       // base64, quoted-printable, 8bit, binary
	fill       func(*rand.Rand, int) []byte // content of about n bytes
	wide       bool                         // quoted-printable with lines up to 998 characters
}

var (
	kindPDF  = realKind{ext: "pdf", ctype: "application/pdf", cte: "base64", fill: fillRandom}
	kindJPG  = realKind{ext: "jpg", ctype: "image/jpeg", cte: "base64", fill: fillRandom}
	kindZIP  = realKind{ext: "zip", ctype: "application/zip", cte: "base64", fill: fillRandom}
	kindXLSX = realKind{ext: "xlsx", ctype: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", cte: "base64", fill: fillRandom}
	kindCSV  = realKind{ext: "csv", ctype: "text/csv; charset=utf-8", cte: "quoted-printable", fill: fillCSV}
	kindTXT  = realKind{ext: "txt", ctype: "text/plain; charset=utf-8", cte: "quoted-printable", fill: fillProse}
	kindXML  = realKind{ext: "xml", ctype: "application/xml; charset=utf-8", cte: "quoted-printable", fill: fillXML}
	kindXMLw = realKind{ext: "xml", ctype: "text/xml; charset=utf-8", cte: "quoted-printable", fill: fillXML, wide: true}
	kindLOG  = realKind{ext: "log", ctype: "text/plain; charset=utf-8", cte: "8bit", fill: fillLog}
	kindDAT  = realKind{ext: "dat", ctype: "application/octet-stream", cte: "binary", fill: fillBinaryLines}
)

// realPick is one attachment of a message: its kind and size.
type realPick struct {
	k    realKind
	size int
}

// logUniform returns a size between lo and hi, log-uniformly (many small, few large).
func logUniform(r *rand.Rand, lo, hi int) int {
	a, b := math.Log(float64(lo)), math.Log(float64(hi))
	return int(math.Exp(a + r.Float64()*(b-a)))
}

// pickKind picks an attachment kind by weight: about half the attachments are text in
// quoted-printable or 8bit, the rest binary formats in base64 (and a few in binary).
func pickKind(r *rand.Rand) realKind {
	switch x := r.IntN(100); {
	case x < 22:
		return kindPDF
	case x < 40:
		return kindCSV
	case x < 50:
		return kindTXT
	case x < 57:
		return kindXML
	case x < 62:
		return kindXMLw
	case x < 70:
		return kindJPG
	case x < 76:
		return kindZIP
	case x < 82:
		return kindXLSX
	case x < 91:
		return kindLOG
	default:
		return kindDAT
	}
}

// realPlan is the shape of message i of a realistic Spec.
type realPlan struct {
	atts      []realPick
	inline    int        // bytes of the inline image (0: none)
	forwarded []realPick // attachments of a forwarded message/rfc822 (nil: none)
	hasFwd    bool
	recips    int
	received  int
}

func (s Spec) realPlan(i int) realPlan {
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)*2+1))
	var p realPlan
	maxSize := max(s.MaxSize, 2_000)
	switch x := r.IntN(100); {
	case x < 2: // a few large: a scan, an export, an archive
		k := []realKind{kindPDF, kindCSV, kindZIP, kindXML}[r.IntN(4)]
		p.atts = append(p.atts, realPick{k, logUniform(r, min(5_000_000, maxSize/2), maxSize)})
	case x < 18: // medium: invoices with their data, reports
		for range 1 + r.IntN(3) {
			p.atts = append(p.atts, realPick{pickKind(r), logUniform(r, 50_000, min(2_000_000, maxSize))})
		}
	case x < 30: // no attachment, only the body
	default: // small
		for range 1 + r.IntN(min(3, max(s.MaxAtt, 1))) {
			p.atts = append(p.atts, realPick{pickKind(r), logUniform(r, max(s.MinSize, 1), min(120_000, maxSize))})
		}
	}
	if r.IntN(100) < 30 {
		p.inline = logUniform(r, 3_000, 60_000)
	}
	if r.IntN(100) < 8 {
		p.hasFwd = true
		for range 1 + r.IntN(2) {
			p.forwarded = append(p.forwarded, realPick{pickKind(r), logUniform(r, 2_000, min(400_000, maxSize))})
		}
	}
	p.recips = 1 + r.IntN(4)
	if r.IntN(10) == 0 {
		p.recips = 10 + r.IntN(30)
	}
	p.received = 3 + r.IntN(5)
	return p
}

// German and English words with umlauts and ß, for the text kinds.
var realWords = strings.Fields("Rechnung Lieferung Übersicht Bestellung Straße Größe Müller Köln Zürich Gebühr " +
	"März Prüfung Qualität Überweisung Fälligkeit Menge Preis Betrag Kunde Auftrag invoice report total amount " +
	"delivery order customer account payment due net gross tax period summary the and for with of to a in")

func word(r *rand.Rand) string { return realWords[r.IntN(len(realWords))] }

func fillRandom(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for k := 0; k < n; k += 8 {
		v := r.Uint64()
		for j := k; j < min(k+8, n); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// fillCSV makes semicolon-separated rows (German number format, quoted fields with "="
// in them, umlauts), some lines short and some over 76 characters.
func fillCSV(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	b.WriteString("Datum;Belegnummer;Kunde;Straße;PLZ;Ort;Betrag;Währung;Bemerkung\r\n")
	for row := 0; b.Len() < n; row++ {
		fmt.Fprintf(&b, "2026-%02d-%02d;RE-%07d;%s %s GmbH;%s %d;%05d;%s;%d,%02d;EUR;",
			1+r.IntN(12), 1+r.IntN(28), r.IntN(10_000_000), word(r), word(r), word(r), 1+r.IntN(200), r.IntN(100_000), word(r), r.IntN(100_000), r.IntN(100))
		switch r.IntN(4) {
		case 0:
			b.WriteString(`"Rabatt = 3 %; Skonto = 2 %"`)
		case 1:
			for range 3 + r.IntN(25) {
				b.WriteString(word(r))
				b.WriteByte(' ')
			}
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// fillProse makes short lines of text, some with trailing spaces or tabs (quoted-printable
// must keep them) and blank lines.
func fillProse(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		line := r.IntN(9)
		for range line {
			b.WriteString(word(r))
			b.WriteByte(' ')
		}
		if r.IntN(7) == 0 {
			b.WriteString("\t")
		}
		if line > 0 && r.IntN(3) > 0 {
			b.Truncate(b.Len() - 1) // most lines have no trailing space
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// fillXML makes an XML document: indented short lines, and now and then a very long
// line (a base64 blob or a run of elements without line breaks, as exports do).
func fillXML(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">\r\n")
	for b.Len() < n {
		switch r.IntN(10) {
		case 0:
			b.WriteString("  <Attachment mimeCode=\"application/pdf\">")
			blob := make([]byte, 200+r.IntN(3000))
			for k := range blob {
				blob[k] = byte(r.Uint32())
			}
			b.WriteString(base64.StdEncoding.EncodeToString(blob))
			b.WriteString("</Attachment>\r\n")
		case 1:
			for range 5 + r.IntN(40) {
				fmt.Fprintf(&b, "<Line id=\"%d\"><Name>%s %s</Name><Price currency=\"EUR\">%d.%02d</Price></Line>", r.IntN(1000), word(r), word(r), r.IntN(10000), r.IntN(100))
			}
			b.WriteString("\r\n")
		default:
			fmt.Fprintf(&b, "  <Item><Description>%s %s %s</Description><Quantity unit=\"C62\">%d</Quantity></Item>\r\n", word(r), word(r), word(r), 1+r.IntN(500))
		}
	}
	b.WriteString("</Invoice>\r\n")
	return b.Bytes()
}

// fillLog makes 8bit text: UTF-8 log lines under 998 bytes.
func fillLog(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	t := baseDate
	for b.Len() < n {
		t = t.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
		fmt.Fprintf(&b, "%s %-5s [%s] Übertragung %d: %s %s %s\r\n", t.Format("2006-01-02T15:04:05.000Z"),
			[]string{"INFO", "WARN", "DEBUG", "ERROR"}[r.IntN(4)], word(r), r.IntN(1_000_000), word(r), word(r), word(r))
	}
	return b.Bytes()
}

// fillBinaryLines makes binary content for Content-Transfer-Encoding: binary: any byte
// but NUL (IMAP literals may not hold it), CR and LF, in lines of up to 900 bytes joined
// by CRLF (a server may store line ends its own way; bare CR or LF would not survive).
func fillBinaryLines(r *rand.Rand, n int) []byte {
	b := make([]byte, 0, n+2)
	for len(b) < n {
		l := 1 + r.IntN(900)
		for range l {
			c := byte(r.Uint32())
			for c == 0 || c == '\r' || c == '\n' {
				c = byte(r.Uint32())
			}
			b = append(b, c)
		}
		b = append(b, '\r', '\n')
	}
	return b
}

// qpEncode encodes text (CRLF line ends) as quoted-printable with lines of at most
// width characters (76 as RFC 2045 wants; 998 as some mailers do): soft line breaks
// where a line is longer, "=XX" for "=", bytes outside printable ASCII and white space
// at a line's end.
func qpEncode(w *bytes.Buffer, text []byte, width int) {
	const hexd = "0123456789ABCDEF"
	col := 0
	put := func(tok []byte) {
		if col+len(tok) > width-1 {
			w.WriteString("=\r\n")
			col = 0
		}
		w.Write(tok)
		col += len(tok)
	}
	var esc [3]byte
	for len(text) > 0 {
		line, rest, found := bytes.Cut(text, []byte("\r\n"))
		for k, c := range line {
			last := k == len(line)-1
			switch {
			case (c == ' ' || c == '\t') && !last, c > ' ' && c < 127 && c != '=':
				put([]byte{c})
			default:
				esc = [3]byte{'=', hexd[c>>4], hexd[c&15]}
				put(esc[:])
			}
		}
		if found {
			w.WriteString("\r\n")
			col = 0
		}
		text = rest
	}
}

// b64Lines writes b in base64, 76 characters a line, each line ending in CRLF.
func b64Lines(w *bytes.Buffer, b []byte) {
	var line [76]byte
	for k := 0; k < len(b); k += 57 {
		chunk := b[k:min(k+57, len(b))]
		n := base64.StdEncoding.EncodedLen(len(chunk))
		base64.StdEncoding.Encode(line[:n], chunk)
		w.Write(line[:n])
		w.WriteString("\r\n")
	}
}

// encodeBody writes content in the transfer encoding cte; the result ends in CRLF, and the
// CRLF that the next boundary line takes for its own follows where the content itself
// ends in CRLF (so that it is kept).
func encodeBody(w *bytes.Buffer, content []byte, cte string, wide bool) {
	switch cte {
	case "base64":
		b64Lines(w, content)
		return
	case "quoted-printable":
		width := 76
		if wide {
			width = 998
		}
		qpEncode(w, content, width)
	default: // 8bit, binary: as it is
		w.Write(content)
	}
	if !bytes.HasSuffix(content, []byte("\r\n")) {
		w.WriteString("\r\n")
		return
	}
	w.WriteString("\r\n") // taken by the boundary line: the content's own CRLF stays
}

// fileParams returns the Content-Type name and Content-Disposition parameters for the
// file name, in one of the ways mailers write it: plain, RFC 2231 (UTF-8, percent-
// encoded, sometimes split into continuations), or RFC 2047 encoded words in quotes.
func fileParams(r *rand.Rand, name string) (ctParam, dispParam string) {
	ascii := true
	for _, c := range []byte(name) {
		if c >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return fmt.Sprintf("; name=\"%s\"", name), fmt.Sprintf("; filename=\"%s\"", name)
	}
	enc := strings.ReplaceAll(url.PathEscape(name), "+", "%2B")
	switch r.IntN(3) {
	case 0: // RFC 2231, one piece
		return fmt.Sprintf(";\r\n name*=UTF-8''%s", enc), fmt.Sprintf(";\r\n filename*=UTF-8''%s", enc)
	case 1: // RFC 2231 continuations (Thunderbird), split between escapes
		var parts []string
		for rest := enc; rest != ""; {
			k := min(len(rest), 24)
			for k < len(rest) && (rest[k-1] == '%' || (k >= 2 && rest[k-2] == '%')) {
				k++
			}
			parts = append(parts, rest[:k])
			rest = rest[k:]
		}
		var d strings.Builder
		for n, p := range parts {
			if n == 0 {
				fmt.Fprintf(&d, ";\r\n filename*0*=UTF-8''%s", p)
			} else {
				fmt.Fprintf(&d, ";\r\n filename*%d*=%s", n, p)
			}
		}
		return fmt.Sprintf(";\r\n name=\"%s\"", mime.BEncoding.Encode("UTF-8", name)), d.String()
	default: // RFC 2047 in the quoted parameter (Outlook, older mailers)
		e := mime.BEncoding.Encode("UTF-8", name)
		if r.IntN(2) == 0 {
			e = mime.QEncoding.Encode("UTF-8", name)
		}
		return fmt.Sprintf(";\r\n name=\"%s\"", e), fmt.Sprintf(";\r\n filename=\"%s\"", e)
	}
}

var realStems = []string{"Rechnung", "Übersicht", "Lieferschein", "Auswertung März", "report", "invoice",
	"Kontoauszug", "Preisliste Größen", "export", "scan"}

// realAttachment writes one attachment part (after its boundary line) and records it.
func (s Spec) realAttachment(w *bytes.Buffer, r *rand.Rand, i, j int, pk realPick, info *MessageInfo) {
	content := pk.k.fill(r, pk.size)
	// Unique content: the message and attachment numbers lead every text kind's first
	// line, and random kinds differ by their seed anyway.
	if pk.k.cte != "base64" && pk.k.cte != "binary" {
		content = append([]byte(fmt.Sprintf("%s %05d-%d\r\n", s.Prefix, i, j)), content...)
	}
	stem := realStems[r.IntN(len(realStems))]
	name := fmt.Sprintf("%s %s%05d-%d.%s", stem, s.Prefix, i, j, pk.k.ext)
	sum := sha256.Sum256(content)
	info.Attachments = append(info.Attachments, Attachment{Name: name, Size: len(content), SHA256: hex.EncodeToString(sum[:])})
	ctp, dp := fileParams(r, name)
	fmt.Fprintf(w, "Content-Type: %s%s\r\n", pk.k.ctype, ctp)
	fmt.Fprintf(w, "Content-Disposition: attachment%s\r\n", dp)
	fmt.Fprintf(w, "Content-Transfer-Encoding: %s\r\n\r\n", pk.k.cte)
	encodeBody(w, content, pk.k.cte, pk.k.wide)
}

// realHeader writes a top-level header block with long folded fields.
func (s Spec) realHeader(w *bytes.Buffer, r *rand.Rand, i int, p realPlan, msgID string, date time.Time) {
	for k := range p.received {
		fmt.Fprintf(w, "Received: from mx%d.relay.example.net (mx%d.relay.example.net [192.0.2.%d])\r\n"+
			"\tby mail%d.bench.example (Postfix) with ESMTPS id %X\r\n"+
			"\tfor <mmbench@bench.example>; %s\r\n", k, k, 1+r.IntN(250), k, r.Uint64(), date.Add(-time.Duration(k)*time.Second).Format(time.RFC1123Z))
	}
	sig := make([]byte, 192)
	for k := range sig {
		sig[k] = byte(r.Uint32())
	}
	fmt.Fprintf(w, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=s2026;\r\n"+
		"\th=from:to:subject:date:message-id:mime-version:content-type;\r\n\tbh=%s;\r\n\tb=", base64.StdEncoding.EncodeToString(sig[:32]))
	b := base64.StdEncoding.EncodeToString(sig)
	for len(b) > 70 {
		w.WriteString(b[:70] + "\r\n\t ")
		b = b[70:]
	}
	w.WriteString(b + "\r\n")
	from := mime.QEncoding.Encode("UTF-8", fmt.Sprintf("Jürgen Müller %d", i%17))
	fmt.Fprintf(w, "From: %s <sender-%d@bench.example>\r\n", from, i%17)
	w.WriteString("To: ")
	for k := range p.recips {
		if k > 0 {
			w.WriteString(",\r\n ")
		}
		fmt.Fprintf(w, "\"%s, %s\" <person%d@bench.example>", word(r), word(r), k)
	}
	w.WriteString("\r\n")
	subj := fmt.Sprintf("%s %s Nr. %d für %s — Größe %d", word(r), word(r), i, word(r), r.IntN(1000))
	if r.IntN(3) == 0 {
		subj += " (Fwd: " + strings.Repeat(word(r)+" ", 8) + "Übersicht)"
	}
	enc := mime.QEncoding.Encode("UTF-8", subj)
	if r.IntN(2) == 0 {
		enc = mime.BEncoding.Encode("UTF-8", subj)
	}
	w.WriteString("Subject: " + strings.ReplaceAll(enc, "?= =?", "?=\r\n =?") + "\r\n")
	fmt.Fprintf(w, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(w, "Message-ID: <%s>\r\n", msgID)
	if r.IntN(2) == 0 {
		w.WriteString("References:")
		for k := range 2 + r.IntN(8) {
			fmt.Fprintf(w, "\r\n <thread-%d-%d-%x@mail.example.net>", i, k, r.Uint32())
		}
		w.WriteString("\r\n")
	}
	fmt.Fprintf(w, "Thread-Topic: %s\r\nX-MS-Has-Attach: %s\r\nX-MS-Exchange-Organization-SCL: -1\r\n", mime.QEncoding.Encode("UTF-8", subj), map[bool]string{true: "yes", false: ""}[len(p.atts) > 0])
	w.WriteString("MIME-Version: 1.0\r\n")
}

// realBody writes the body: multipart/alternative of plain text and HTML, both
// quoted-printable, wrapped in multipart/related with an inline image when the plan has one.
func (s Spec) realBody(w *bytes.Buffer, r *rand.Rand, i int, p realPlan, info *MessageInfo) {
	alt := fmt.Sprintf("----=_alt_%d_%05d", s.Seed, i)
	if p.inline > 0 {
		rel := fmt.Sprintf("----=_rel_%d_%05d", s.Seed, i)
		fmt.Fprintf(w, "Content-Type: multipart/related;\r\n\ttype=\"multipart/alternative\";\r\n\tboundary=\"%s\"\r\n\r\n--%s\r\n", rel, rel)
		defer func() {
			fmt.Fprintf(w, "--%s\r\n", rel)
			name := fmt.Sprintf("image%05d.png", i)
			img := fillRandom(r, p.inline)
			sum := sha256.Sum256(img)
			info.Attachments = append(info.Attachments, Attachment{Name: name, Size: len(img), SHA256: hex.EncodeToString(sum[:])})
			fmt.Fprintf(w, "Content-Type: image/png; name=\"%s\"\r\nContent-Description: %s\r\n"+
				"Content-Disposition: inline; filename=\"%s\"; size=%d;\r\n\tcreation-date=\"%s\"\r\n"+
				"Content-ID: <%s@01DC%08X.%08X>\r\nContent-Transfer-Encoding: base64\r\n\r\n",
				name, name, name, len(img), baseDate.Format(time.RFC1123Z), name, r.Uint32(), r.Uint32())
			b64Lines(w, img)
			fmt.Fprintf(w, "--%s--\r\n", rel)
		}()
	}
	fmt.Fprintf(w, "Content-Type: multipart/alternative;\r\n\tboundary=\"%s\"\r\n\r\n--%s\r\n", alt, alt)
	text := fillProse(r, logUniform(r, 200, 8_000))
	w.WriteString("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	encodeBody(w, text, "quoted-printable", false)
	fmt.Fprintf(w, "--%s\r\n", alt)
	var html bytes.Buffer
	html.WriteString("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><style>p.MsoNormal{margin:0cm;font-size:11.0pt;font-family:\"Calibri\",sans-serif;}</style></head><body lang=\"DE\" link=\"#0563C1\">")
	for _, line := range bytes.Split(text, []byte("\r\n")) {
		fmt.Fprintf(&html, "<p class=\"MsoNormal\"><span style=\"font-size:11.0pt\">%s<o:p></o:p></span></p>", line)
	}
	if p.inline > 0 {
		fmt.Fprintf(&html, "<img width=\"120\" height=\"40\" src=\"cid:image%05d.png\">", i)
	}
	html.WriteString("</body></html>\r\n")
	w.WriteString("Content-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	encodeBody(w, html.Bytes(), "quoted-printable", false)
	fmt.Fprintf(w, "--%s--\r\n", alt)
}

// realMessage builds message i of a realistic Spec into g.buf.
func (g *Generator) realMessage(i int, info *MessageInfo) {
	s := g.Spec
	p := s.realPlan(i)
	r := rand.New(rand.NewPCG(s.Seed^0x5851f42d4c957f2d, uint64(i)))
	w := &g.buf
	date := baseDate.Add(time.Duration(i) * time.Minute)
	s.realHeader(w, r, i, p, info.MessageID, date)
	mixed := fmt.Sprintf("----=_mixed_%d_%05d", s.Seed, i)
	fmt.Fprintf(w, "Content-Type: multipart/mixed;\r\n\tboundary=\"%s\"\r\n\r\n", mixed)
	w.WriteString("This is a multi-part message in MIME format.\r\n\r\n")
	fmt.Fprintf(w, "--%s\r\n", mixed)
	s.realBody(w, r, i, p, info)
	for j, pk := range p.atts {
		fmt.Fprintf(w, "--%s\r\n", mixed)
		s.realAttachment(w, r, i, j+1, pk, info)
	}
	if p.hasFwd {
		fmt.Fprintf(w, "--%s\r\n", mixed)
		fwd := fmt.Sprintf("----=_fwd_%d_%05d", s.Seed, i)
		fmt.Fprintf(w, "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n")
		fmt.Fprintf(w, "From: =?UTF-8?Q?B=C3=A4rbel_Schr=C3=B6der?= <baerbel@example.org>\r\nTo: <sender-%d@bench.example>\r\n", i%17)
		fmt.Fprintf(w, "Subject: =?UTF-8?Q?Unterlagen_f=C3=BCr_Vorgang_%d?=\r\nDate: %s\r\nMessage-ID: <fwd-%d@example.org>\r\nMIME-Version: 1.0\r\n", i, date.Add(-48*time.Hour).Format(time.RFC1123Z), i)
		fmt.Fprintf(w, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n", fwd, fwd)
		w.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		encodeBody(w, fillProse(r, logUniform(r, 100, 2_000)), "8bit", false)
		for j, pk := range p.forwarded {
			fmt.Fprintf(w, "--%s\r\n", fwd)
			s.realAttachment(w, r, i, 10+j, pk, info)
		}
		fmt.Fprintf(w, "--%s--\r\n", fwd)
	}
	fmt.Fprintf(w, "--%s--\r\n", mixed)
}
