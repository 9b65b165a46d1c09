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
// one): the real `mailmover run` binary moves 60 messages from the test Dovecot through a
// cutting proxy while it is killed with SIGKILL and (as root) its destination fills up;
// afterwards every attachment is on disk exactly once and no message was moved without
// its files. The shared test Dovecot is not restarted here.
func TestFaultSuiteShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mailmover binary; skipped with -short")
	}
	d := testenv.Dovecot(t)
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
	set := exec.Command(bin, "secret", "set", "-profile", profile, "password")
	set.Env = append(os.Environ(), "MAILMOVER_HOME="+t.TempDir())
	set.Stdin = strings.NewReader(d.Password)
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("mailmover secret set: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		del := exec.Command(bin, "secret", "delete", "-profile", profile, "password")
		del.Env = set.Env
		del.Run()
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
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Summary())
	if !rep.OK() {
		t.Fatalf("the fault suite lost, doubled or moved mail without its files: %s", rep.Summary())
	}
	if rep.Cuts < 4 || rep.Kills != 3 {
		t.Fatalf("faults not all applied: %d cuts (want 4), %d kills (want 3)", rep.Cuts, rep.Kills)
	}
	if rep.Files != rep.Attachments {
		t.Fatalf("%d files for %d attachments", rep.Files, rep.Attachments)
	}
}
