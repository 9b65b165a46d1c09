package imapsrc

import (
	"net"
	"testing"
	"time"
)

func TestXOAuth2Client(t *testing.T) {
	c := NewXOAuth2Client("invoices@contoso.example", "tok123")
	mech, ir, err := c.Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=invoices@contoso.example\x01auth=Bearer tok123\x01\x01" {
		t.Fatalf("Start = %q %q %v", mech, ir, err)
	}
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/IMAP.AccessAsUser.All"}`))
	if err != nil || resp == nil || len(resp) != 0 {
		t.Fatalf("Next = %q, %v; want an empty response", resp, err)
	}
	if c.Failure == nil || c.Failure.Status != "401" || c.Failure.String() != "status 401, scope the server wants: https://outlook.office.com/IMAP.AccessAsUser.All" {
		t.Errorf("failure %+v %q", c.Failure, c.Failure.String())
	}
	if _, err := c.Next([]byte("again")); err == nil {
		t.Error("a second challenge was answered")
	}
	// A challenge that is not JSON is kept, clipped and without control characters.
	c2 := NewXOAuth2Client("u", "t")
	c2.Next([]byte("oops\r\n\x00" + string(make([]byte, 500))))
	if c2.Failure.Raw == "" || len(c2.Failure.Raw) > 210 {
		t.Errorf("raw %q", c2.Failure.Raw)
	}
}

func TestOAuthBearerClientAnswersErrorWithKVSep(t *testing.T) {
	c := newOAuthBearerClient("u@example.com", "tok", "imap.example.com", 993)
	mech, ir, _ := c.Start()
	if mech != "OAUTHBEARER" || string(ir) != "n,a=u@example.com,\x01host=imap.example.com\x01port=993\x01auth=Bearer tok\x01\x01" {
		t.Fatalf("Start = %q %q", mech, ir)
	}
	resp, err := c.Next([]byte(`{"status":"invalid_token","schemes":"bearer"}`))
	if err != nil || string(resp) != "\x01" || c.Failure.Status != "invalid_token" {
		t.Fatalf("Next = %q, %v, %+v", resp, err, c.Failure)
	}
}

// wireConn turns absolute deadlines into inactivity timeouts: a slow but steady stream
// outlives a deadline that a silent one does not.
func TestWireConnRollingDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newWireConn(a, "* OK hi\r\n")
	go func() {
		for i := 0; i < 6; i++ {
			time.Sleep(60 * time.Millisecond)
			b.Write([]byte("x"))
		}
	}()
	buf := make([]byte, 16)
	if n, _ := w.Read(buf); string(buf[:n]) != "* OK hi\r\n" {
		t.Fatalf("greeting %q", buf[:n])
	}
	w.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	start := time.Now()
	for i := 0; i < 6; i++ {
		if _, err := w.Read(buf); err != nil {
			t.Fatalf("read %d after %s: %v", i, time.Since(start), err)
		}
	}
	// ~360ms passed, more than the 150ms "deadline": now silence must time out.
	if _, err := w.Read(buf); err == nil {
		t.Fatal("a silent connection did not time out")
	}
	// The empty-SASL rewrite only applies while switched on.
	c, d := net.Pipe()
	defer c.Close()
	defer d.Close()
	w2 := newWireConn(c, "")
	got := make(chan string, 2)
	go func() {
		r := make([]byte, 8)
		for i := 0; i < 2; i++ {
			n, _ := d.Read(r)
			got <- string(r[:n])
		}
	}()
	w2.Write([]byte("=\r\n"))
	w2.saslEmptyAsBlank.Store(true)
	w2.Write([]byte("=\r\n"))
	if a, b := <-got, <-got; a != "=\r\n" || b != "\r\n" {
		t.Errorf("wrote %q then %q", a, b)
	}
}
