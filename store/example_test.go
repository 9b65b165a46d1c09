package store_test

import (
	"fmt"

	"mailmover/store"
)

func ExampleParseProfile() {
	p, err := store.ParseProfile("invoices", []byte(`
[setup]
host = "outlook.office365.com"
username = "invoices@contoso.example"

[common]
attachment_mask = "*.pdf;*.xml"
after = "move"
move_to = "Archive"

[oauth2]
client_id = "00000000-1111-2222-3333-444444444444"

[destination]
folder = "/srv/mail-in"
filename = "{date}/{filename}"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Setup.Host, p.Setup.Port, p.Security.TLS, p.OAuth2.Preset)
	fmt.Println(p.Common.AttachmentMask, p.Common.After, p.Common.MoveTo)

	// Unknown keys and bad values name the key and the line.
	_, err = store.ParseProfile("invoices", []byte("[setup]\nhost = \"h\"\nprot = 993\n"))
	fmt.Println(err)
	// Output:
	// outlook.office365.com 993 implicit microsoft
	// *.pdf;*.xml move Archive
	// profiles/invoices.toml: setup.prot (line 3): unknown key; did you mean "port"?
}
