package auth

import (
	"html/template"
	"net/http"

	"mailmover/i18n"
)

// pageTmpl is the browser's page after the redirect. html/template escapes every value,
// so provider text cannot inject markup. Its texts come translated in page.
var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// pageHTML is the page's skeleton: markup and style, no text.
const pageHTML = /* i18n:keep */ `<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MailMover – {{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5;color:#222}
h1{font-size:1.6em}.ok{color:#1a7f37}.bad{color:#b42318}
code{background:#f3f3f3;padding:.1em .3em;border-radius:3px}
</style></head>
<body>
<h1 class="{{if .OK}}ok{{else}}bad{{end}}">{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Detail}}<p><code>{{.Detail}}</code></p>{{end}}
{{if .Advice}}<p>{{.Advice}}</p>{{end}}
<p>{{.Close}}</p>
</body></html>
`

type page struct {
	Lang    string // the page's language, "en" or "de"; writePage fills it
	OK      bool
	Title   string
	Message string
	Detail  string
	Advice  string
	Close   string
}

// writePage sends a complete page and asks the browser not to keep the connection, so
// the listener can close promptly.
func writePage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8") // i18n:keep
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Connection", "close")
	w.WriteHeader(status)
	p.Lang = i18n.Lang()
	_ = pageTmpl.Execute(w, p)
}
