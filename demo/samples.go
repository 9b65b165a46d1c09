package demo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// part is one body part of a sample message, written as-is.
type part struct {
	// header lines (without CRLF), e.g. `Content-Type: application/pdf; name="a.pdf"`.
	header []string
	// body is the raw (already encoded) body; use b64 or qp to encode.
	body string
}

// sample is one message of the demo mailbox.
type sample struct {
	from, subject, text string
	date                time.Time
	parts               []part // attachments (and other parts) after the text part
	raw                 string // when set, the whole message body (after the common headers) as-is
	rawType             string // Content-Type of raw
}

const crlf = "\r\n"

// b64 encodes data as base64 in lines of 76 characters.
func b64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + crlf)
		enc = enc[76:]
	}
	b.WriteString(enc + crlf)
	return b.String()
}

// qp encodes text as quoted-printable with CRLF line ends.
func qp(text string) string {
	var buf bytes.Buffer
	w := quotedprintable.NewWriter(&buf)
	_, _ = w.Write([]byte(strings.ReplaceAll(text, "\n", crlf)))
	_ = w.Close()
	return buf.String() + crlf
}

// attach returns a base64 attachment part. disposition is the full Content-Disposition
// value; name, if not empty, is added as the Content-Type's name parameter verbatim.
func attach(contentType, nameParam, disposition string, data []byte) part {
	ct := "Content-Type: " + contentType
	if nameParam != "" {
		ct += "; " + nameParam
	}
	return part{
		header: []string{ct, "Content-Disposition: " + disposition, "Content-Transfer-Encoding: base64"}, // i18n:keep
		body:   b64(data),
	}
}

// simpleAttach is an attachment with a plain quoted file name.
func simpleAttach(contentType, filename string, data []byte) part {
	return attach(contentType, fmt.Sprintf("name=%q", filename), fmt.Sprintf("attachment; filename=%q", filename), data) // i18n:keep
}

// build renders the sample as an RFC 5322 message with CRLF line ends. seq makes the
// Message-ID unique.
func (s sample) build(seq int) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + crlf) }
	h("Date", s.date.Format(time.RFC1123Z))
	h("From", s.from)
	h("To", "Demo User <"+DefaultUser+"@mailmover.demo>") // i18n:keep
	h("Subject", mime.QEncoding.Encode("utf-8", s.subject))
	h("Message-ID", fmt.Sprintf("<demo-%d-%d@mailmover.demo>", seq, s.date.Unix()))
	h("MIME-Version", "1.0")
	if s.raw != "" {
		h("Content-Type", s.rawType)
		b.WriteString(crlf + s.raw)
		return []byte(b.String())
	}
	text := s.text
	if text == "" {
		text = "Hello,\n\nplease find the attached document.\n\nThis is a sample message of the MailMover demo.\n" // i18n:keep
	}
	if len(s.parts) == 0 {
		h("Content-Type", `text/plain; charset="utf-8"`) // i18n:keep
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString(crlf + qp(text))
		return []byte(b.String())
	}
	boundary := fmt.Sprintf("=_mailmover_demo_%d", seq)
	h("Content-Type", fmt.Sprintf(`multipart/mixed; boundary="%s"`, boundary))  // i18n:keep
	b.WriteString(crlf + "This is a multi-part message in MIME format." + crlf) // i18n:keep
	b.WriteString("--" + boundary + crlf)
	b.WriteString(`Content-Type: text/plain; charset="utf-8"` + crlf + "Content-Transfer-Encoding: quoted-printable" + crlf + crlf) // i18n:keep
	b.WriteString(qp(text))
	for _, p := range s.parts {
		b.WriteString("--" + boundary + crlf)
		for _, l := range p.header {
			b.WriteString(l + crlf)
		}
		b.WriteString(crlf + p.body)
	}
	b.WriteString("--" + boundary + "--" + crlf)
	return []byte(b.String())
}

// invoicePDF is a unique tiny invoice document.
func invoicePDF(number, customer string, amount float64) []byte {
	return tinyPDF("Invoice "+number,
		"MailMover demo - sample document, not a real invoice.", // i18n:keep
		"Customer: "+customer,
		fmt.Sprintf("Amount due: EUR %.2f", amount), // i18n:keep
		"Invoice number: "+number)                   // i18n:keep
}

// reportCSV is a unique small CSV report.
func reportCSV(period string, rows int, sep string) []byte {
	var b strings.Builder
	b.WriteString(strings.Join([]string{"date", "account", "description", "amount"}, sep) + "\r\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "%s-%02d%s%d%s%s item %d%s%d.%02d\r\n", period, i%28+1, sep, 4000+i, sep, period, i, sep, i*37%500, i*13%100)
	}
	return []byte(b.String())
}

// samples returns the demo mailbox's initial messages: PDF invoices, CSV reports, an
// e-invoice XML, a forwarded message with an attachment, hostile and encoded file names,
// a message without attachments, an HTML mail with an inline image and a name that
// collides with another. Every attachment's content is unique, so the saved files can be
// told apart by their hash.
func samples() []sample {
	base := time.Date(2026, 3, 2, 9, 15, 0, 0, time.FixedZone("CET", 3600))
	day := func(n int) time.Time { return base.Add(time.Duration(n) * 26 * time.Hour) }
	acme := "ACME Billing <billing@acme.example>" // i18n:keep
	reports := "Reporting <reports@erp.example>"

	forwarded := sample{
		from:    "Supplier Accounts <accounts@supplier.example>", // i18n:keep
		subject: "Invoice 7781 for your order",                   // i18n:keep
		date:    day(-10),
		parts:   []part{simpleAttach("application/pdf", "Supplier-Invoice-7781.pdf", invoicePDF("7781", "Contoso GmbH", 1299.00))}, // i18n:keep
	}.build(7781)

	hostile := `=?UTF-8?Q?=2E=2E/=2E=2E/Rechnung_M=C3=A4rz_2026=3F=2Epdf?=`
	rfc2231 := `filename*0*=UTF-8''Gr%C3%BC%C3%9Fe%20aus%20; filename*1*=K%C3%B6ln%20%E2%80%94%20Angebot%20Nr.%2012.pdf`
	longName := strings.Repeat("Very-long-attachment-name-", 12) + "end.pdf"

	html := `<html><body><p>Our new price list is attached.</p><img src="cid:logo@mailmover.demo"></body></html>` // i18n:keep

	return []sample{
		{from: acme, subject: "Invoice 2026-0001", date: day(0),
			parts: []part{simpleAttach("application/pdf", "Invoice-2026-0001.pdf", invoicePDF("2026-0001", "Contoso GmbH", 119.00))}}, // i18n:keep
		{from: acme, subject: "Invoice 2026-0002 (with e-invoice XML)", date: day(1), // i18n:keep
			parts: []part{
				simpleAttach("application/pdf", "Invoice-2026-0002.pdf", invoicePDF("2026-0002", "Contoso GmbH", 2380.50)), // i18n:keep
				simpleAttach("application/xml", "factur-x.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+ // i18n:keep
					`<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">`+ // i18n:keep
					`<rsm:ExchangedDocument><ID>2026-0002</ID></rsm:ExchangedDocument></rsm:CrossIndustryInvoice>`+"\n")), // i18n:keep
			}},
		{from: reports, subject: "Monthly report January 2026", date: day(2), // i18n:keep
			parts: []part{simpleAttach("text/csv", "report-2026-01.csv", reportCSV("2026-01", 12, ","))}},
		{from: reports, subject: "Monthly report February 2026", date: day(3), // i18n:keep
			parts: []part{
				simpleAttach("text/csv", "report-2026-02.csv", reportCSV("2026-02", 15, ",")),
				simpleAttach("application/pdf", "report-2026-02-summary.pdf", tinyPDF("Report February 2026", "Summary of 15 bookings."))}}, // i18n:keep
		{from: "Anna Schmidt <anna@contoso.example>", subject: "Fwd: Invoice 7781 for your order", date: day(4), // i18n:keep
			text: "Anna forwarded this message as an attachment; the PDF inside it is saved too.\n", // i18n:keep
			parts: []part{{header: []string{`Content-Type: message/rfc822; name="Invoice 7781 for your order.eml"`, // i18n:keep
				`Content-Disposition: attachment; filename="Invoice 7781 for your order.eml"`}, body: string(forwarded)}}}, // i18n:keep
		{from: acme, subject: "Rechnung März 2026 (hostile file name)", date: day(5), // i18n:keep
			text: "The attachment's name tries to climb out of the destination folder: ../../Rechnung März 2026?.pdf\n", // i18n:keep
			parts: []part{attach("application/pdf", `name="`+hostile+`"`, `attachment; filename="`+hostile+`"`, // i18n:keep
				invoicePDF("2026-0317", "Müller & Söhne", 845.10))}},
		{from: "Bernd Köhler <bernd@contoso.example>", subject: "Angebot Nr. 12 (RFC 2231 file name)", date: day(6), // i18n:keep
			parts: []part{attach("application/pdf", `name="Angebot.pdf"`, "attachment; "+rfc2231,
				tinyPDF("Angebot Nr. 12", "Gruesse aus Koeln - quotation number 12."))}}, // i18n:keep
		{from: "Team Lead <lead@contoso.example>", subject: "Meeting notes (no attachment)", date: day(7), // i18n:keep
			text: "Only text in this one: the mover finds no attachment and marks the message done.\n"}, // i18n:keep
		{from: "Marketing <news@vendor.example>", subject: "New price list (HTML with inline logo)", date: day(8), // i18n:keep
			raw: htmlWithInline(html), rawType: `multipart/related; boundary="=_rel"; type="multipart/alternative"`}, // i18n:keep
		{from: "Other Vendor <invoices@other.example>", subject: "Invoice 2026-0001 (same file name, other vendor)", date: day(9), // i18n:keep
			parts: []part{simpleAttach("application/pdf", "Invoice-2026-0001.pdf", invoicePDF("2026-0001", "Contoso GmbH (other vendor)", 77.70))}}, // i18n:keep
		{from: "Scanner <scanner@printer.example>", subject: "Scan from MFP-3", date: day(10), // i18n:keep
			parts: []part{simpleAttach("application/pdf", "SCAN_0001.PDF", tinyPDF("Scanned page", "Scan 0001 from MFP-3."))}}, // i18n:keep
		{from: reports, subject: "Export with a reserved Windows name", date: day(11), // i18n:keep
			parts: []part{simpleAttach("text/csv", "CON.csv", reportCSV("2026-03", 4, ";"))}},
		{from: acme, subject: "Invoice with a very long file name", date: day(12), // i18n:keep
			parts: []part{simpleAttach("application/pdf", longName, invoicePDF("2026-0004", "Contoso GmbH", 12.34))}}, // i18n:keep
		{from: "Legacy System <noreply@legacy.example>", subject: "Export with backslashes in the name", date: day(13), // i18n:keep
			parts: []part{simpleAttach("text/csv", `..\..\Windows\export.csv`, reportCSV("2026-04", 3, ","))}},
		{from: "Legacy System <noreply@legacy.example>", subject: "Attachment without a file name", date: day(14), // i18n:keep
			parts: []part{attach("application/pdf", "", "attachment", tinyPDF("Nameless attachment", "The mail gave this PDF no name."))}}, // i18n:keep
		{from: "Legacy System <noreply@legacy.example>", subject: "Absolute path in the file name", date: day(15), // i18n:keep
			parts: []part{simpleAttach("text/csv", "/tmp/mailmover-demo-escape.csv", reportCSV("2026-05", 2, ","))}},
		{from: "Anna Schmidt <anna@contoso.example>", subject: "Notes (quoted-printable text attachment)", date: day(16), // i18n:keep
			parts: []part{{header: []string{`Content-Type: text/plain; charset="utf-8"; name="notes.txt"`, // i18n:keep
				`Content-Disposition: attachment; filename="notes.txt"`, "Content-Transfer-Encoding: quoted-printable"}, // i18n:keep
				body: qp("Notizen zur Abrechnung: Umsätze im ersten Quartal — bitte prüfen.\nZeile zwei.\n")}}}, // i18n:keep
		{from: reports, subject: "Umsätze Q1 (RFC 2047 file name)", date: day(17), // i18n:keep
			parts: []part{attach("text/csv", `name="=?UTF-8?B?VW1zw6R0emUtUTEuY3N2?="`, `attachment; filename="=?UTF-8?B?VW1zw6R0emUtUTEuY3N2?="`, // i18n:keep
				append([]byte("\xef\xbb\xbf"), reportCSV("2026-Q1", 6, ";")...))}},
		{from: acme, subject: "Invoice 2026-0005 (PDF, CSV and XML)", date: day(18), // i18n:keep
			parts: []part{
				simpleAttach("application/pdf", "Invoice-2026-0005.pdf", invoicePDF("2026-0005", "Contoso GmbH", 560.00)), // i18n:keep
				simpleAttach("text/csv", "Invoice-2026-0005-items.csv", reportCSV("2026-0005", 5, ",")),
				simpleAttach("application/xml", "Invoice-2026-0005.xml", []byte("<invoice id=\"2026-0005\" total=\"560.00\"/>\n")), // i18n:keep
			}},
		{from: "Travel Desk <travel@contoso.example>", subject: "Your itinerary", date: day(19), // i18n:keep
			parts: []part{simpleAttach("application/octet-stream", "itinerary.ics", []byte(
				"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//MailMover demo//EN\r\nBEGIN:VEVENT\r\nUID:demo-itinerary@mailmover.demo\r\n"+ // i18n:keep
					"DTSTART:20260420T080000Z\r\nSUMMARY:Train to Cologne\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))}}, // i18n:keep
	}
}

// htmlWithInline is a multipart/related body: an alternative (text + HTML) and an inline
// PNG referenced by Content-ID.
func htmlWithInline(html string) string {
	var b strings.Builder
	b.WriteString("--=_rel" + crlf)
	b.WriteString(`Content-Type: multipart/alternative; boundary="=_alt"` + crlf + crlf)                                                   // i18n:keep
	b.WriteString("--=_alt" + crlf + `Content-Type: text/plain; charset="utf-8"` + crlf + crlf + "Our new price list is attached." + crlf) // i18n:keep
	b.WriteString("--=_alt" + crlf + `Content-Type: text/html; charset="utf-8"` + crlf + crlf + html + crlf)                               // i18n:keep
	b.WriteString("--=_alt--" + crlf)
	b.WriteString("--=_rel" + crlf)
	b.WriteString(`Content-Type: image/png; name="logo.png"` + crlf + "Content-ID: <logo@mailmover.demo>" + crlf + // i18n:keep
		`Content-Disposition: inline; filename="logo.png"` + crlf + "Content-Transfer-Encoding: base64" + crlf + crlf) // i18n:keep
	b.WriteString(b64(logoPNG()))
	b.WriteString("--=_rel--" + crlf)
	return b.String()
}

// logoPNG is a small valid PNG: a 16x16 square in MailMover blue.
func logoPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{R: 0x1e, G: 0x66, B: 0xd0, A: 0xff})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// liveMessage is the n-th message that arrives while the demo runs: an invoice PDF whose
// content is unique (number and time), so IDLE pickup shows up as a new file.
func liveMessage(n int, now time.Time) []byte {
	number := fmt.Sprintf("LIVE-%04d", n)
	return sample{
		from:    "ACME Billing <billing@acme.example>",       // i18n:keep
		subject: "Invoice " + number + " (arrived just now)", // i18n:keep
		date:    now,
		text:    fmt.Sprintf("This message arrived at %s while the demo was running.\n", now.Format(time.TimeOnly)), // i18n:keep
		parts: []part{simpleAttach("application/pdf", "Invoice-"+number+".pdf",
			invoicePDF(number+" "+now.UTC().Format(time.RFC3339Nano), "Contoso GmbH", float64(100+n)))}, // i18n:keep
	}.build(100000 + n)
}
