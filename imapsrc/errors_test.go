package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestErrorType(t *testing.T) {
	inner := &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Nope"}
	e := &Error{Kind: KindAuth, Host: "h:993", Op: "sign-in", Reason: "the server says: " + serverText(inner), Advice: "do x", Err: inner}
	wrapped := fmt.Errorf("mover: %w", e)
	if got := e.Error(); got != "imap h:993: sign-in: the server says: NO [AUTHENTICATIONFAILED] Nope" {
		t.Errorf("Error() = %q (the server text must not repeat)", got)
	}
	if KindOf(wrapped) != KindAuth || Advice(wrapped) != "do x" || !errors.Is(wrapped, inner) {
		t.Error("errors.As / errors.Is through the chain")
	}
	if KindOf(errors.New("x")) != KindOther || Advice(errors.New("x")) != "" {
		t.Error("foreign errors")
	}
	for k, temp := range map[Kind]bool{KindNetwork: true, KindConnect: true, KindServer: true, KindAuth: false,
		KindTLS: false, KindConfig: false, KindNotConnected: false} {
		if (&Error{Kind: k}).Temporary() != temp {
			t.Errorf("%v.Temporary() != %v", k, temp)
		}
	}
	if KindNotConnected.String() != "not-connected" || Kind(99).String() != "kind(99)" {
		t.Error("Kind.String")
	}
}

func TestClassify(t *testing.T) {
	ctx := context.Background()
	nc := classifyNet(ctx, "h", "select", &imap.Error{Type: imap.StatusResponseTypeBad, Text: "User is authenticated but not connected."})
	if KindOf(nc) != KindNotConnected || !strings.Contains(Advice(nc), "FullAccess") {
		t.Errorf("not connected: %v", nc)
	}
	if e := classifyNet(ctx, "h", "store", &imap.Error{Type: imap.StatusResponseTypeNo, Text: "quota"}); KindOf(e) != KindServer {
		t.Errorf("NO: %v", e)
	}
	if e := classifyNet(ctx, "h", "fetch", os.ErrDeadlineExceeded); KindOf(e) != KindNetwork || !strings.Contains(e.Error(), "timeout") {
		t.Errorf("timeout: %v", e)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if e := classifyNet(cctx, "h", "fetch", errors.New("closed")); !errors.Is(e, context.Canceled) {
		t.Errorf("cancelled: %v", e)
	}
	if names := folderNames([]Folder{{Name: "INBOX"}, {Name: "A"}, {Name: "B"}}, 2); names != `"INBOX", "A", … (1 more)` {
		t.Errorf("folderNames %q", names)
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "x"}, true},
		{&imap.Error{Type: imap.StatusResponseTypeNo, Text: "Mailbox doesn't exist: X"}, true},
		{&imap.Error{Type: imap.StatusResponseTypeNo, Text: "quota exceeded"}, false},
		{&imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCodeTryCreate}, false},
		{errors.New("eof"), false},
	} {
		if isMissingFolder(tc.err) != tc.want {
			t.Errorf("isMissingFolder(%v) != %v", tc.err, tc.want)
		}
	}
}
