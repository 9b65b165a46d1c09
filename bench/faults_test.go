package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

// TestFaultSuiteShort is the short form of the fault suite (scripts/soak.sh is the long
// one): the real `mailmover run` binary, signed in with XOAUTH2 at the test provider
// (Dovecot checks its tokens by introspection), moves 60 messages from the test Dovecot
// through a cutting proxy while it is killed with SIGKILL, its access token is made
// invalid before its announced expiry, its refresh token is revoked (it must pause for a
// new sign-in, which the suite then does) and (as root) its destination fills up;
// afterwards every attachment is on disk exactly once, no message was moved without its
// files, and the mover's log names the token faults. The shared test Dovecot is not
// restarted here, and only the tokens of oidcdev.FaultsClientID are ended, so that the
// tests of other packages keep theirs.
func TestFaultSuiteShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mailmover binary; skipped with -short")
	}
	d := testenv.Dovecot(t)
	o := testenv.OIDC(t)
	testenv.Keyring(t)

	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mailmover")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building mailmover: %v\n%s", err, out)
	}

	rnd := make([]byte, 4)
	rand.Read(rnd)
	profile := "soaktest-" + hex.EncodeToString(rnd)
	folder := "soaktest-" + hex.EncodeToString(rnd)
	srv := Server{Host: d.Host, Port: d.IMAPSPort, CAFile: d.CAFile, User: d.User, Password: d.Password}
	if o.User != d.User {
		t.Fatalf("the provider's user %q is not Dovecot's %q", o.User, d.User)
	}
	t.Cleanup(func() {
		if c, err := srv.Dial(); err == nil {
			c.Delete(folder).Wait()
			c.Delete(folder + "Done").Wait()
			c.Close()
		}
	})

	// Small attachments and a slow proxy: the mover commits by age (about a second) in
	// small batches, so that every fault lands while work remains.
	spec := DefaultSpec(11, 60, "q")
	spec.MaxSize = 30_000
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := RunFaults(ctx, FaultOptions{
		Server: srv, Mailmover: bin, Dir: filepath.Join(t.TempDir(), "soak"), Env: os.Environ(),
		Profile: profile, Spec: spec, Folder: folder, Cuts: 4, Kills: 3,
		DiskFull: os.Geteuid() == 0, RateLimit: 60_000, Timeout: 4 * time.Minute, Seed: 11, Logf: t.Logf,
		OAuth: &OAuthFaults{Issuer: o.Issuer, User: o.User, Password: o.Password, Expiries: 1, Revokes: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Summary())
	if !rep.OK() {
		t.Fatalf("the fault suite lost, doubled or moved mail without its files: %s", rep.Summary())
	}
	if rep.Cuts < 4 || rep.Kills != 3 || rep.TokenExpiries != 1 || rep.RefreshRevokes != 1 {
		t.Fatalf("faults not all applied: %d cuts (want 4), %d kills (want 3), %d token expiries (want 1), %d refresh tokens revoked (want 1)",
			rep.Cuts, rep.Kills, rep.TokenExpiries, rep.RefreshRevokes)
	}
	if u := rep.Unnamed(); u != "" {
		t.Fatalf("the mover's log does not name the token faults: %s", u)
	}
	if rep.Files != rep.Attachments {
		t.Fatalf("%d files for %d attachments", rep.Files, rep.Attachments)
	}
}
