package auth_test

import (
	"fmt"

	"mailmover/auth"
	"mailmover/store"
)

func ExampleValidateRedirect() {
	port, err := auth.ValidateRedirect("http://localhost:3017/", 0)
	fmt.Println(port, err)

	_, err = auth.ValidateRedirect("https://login.example.com/callback", 0)
	fmt.Println(err)

	_, err = auth.ValidateRedirect("http://127.0.0.1:3017/", 8080)
	fmt.Println(err)
	// Output:
	// 3017 <nil>
	// redirect_uri: https is refused: a desktop app's loopback redirect must be plain http://localhost:PORT/ (RFC 8252 section 7.3); the browser never leaves this machine
	// redirect_uri, redirect_port: redirect_uri names port 3017 but redirect_port is 8080: they must agree
}

func ExampleApplyPreset() {
	var o store.OAuth2
	if err := auth.ApplyPreset(&o, store.PresetMicrosoft, "contoso.onmicrosoft.com"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o.AuthorizationURL)
	fmt.Println(o.TokenURL)
	fmt.Println(o.Scope)
	fmt.Println(o.RedirectURI, o.RedirectPort)

	o.Scope = "openid profile offline_access"
	fmt.Println(auth.ScopeWarning(o) != "")
	// Output:
	// https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize
	// https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token
	// https://outlook.office.com/IMAP.AccessAsUser.All offline_access
	// http://localhost:3017/ 3017
	// true
}
