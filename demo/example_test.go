package demo_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"mailmover/demo"
)

// Start runs the demo's servers and writes the profile "demo"; Close stops everything.
func ExampleStart() {
	home, _ := os.MkdirTemp("", "mailmover-home-")
	defer os.RemoveAll(home)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// RedirectPort 0 would prefer 3017; this example takes whatever port is free.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	d, err := demo.Start(ctx, demo.Options{Home: home, Dest: filepath.Join(home, "out"), Interval: -1, RedirectPort: port}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()

	p := d.Profile
	fmt.Println(p.Setup.Host, p.Security.TLS, p.Security.Auth, p.OAuth2.Flow, p.OAuth2.ClientID)
	fmt.Println(demo.SampleCount(), "sample messages for", d.User())
	// Output:
	// 127.0.0.1 none xoauth2 authcode mailmover-native
	// 20 sample messages for demo
}
