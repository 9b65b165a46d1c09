package winetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailmover/internal/testenv"
)

// TestServiceUnderWine: `mailmover service install` registers the mover (run -all) with
// Wine's Service Control Manager; started, it reads the password from the Credential
// Manager and moves a mailbox's attachments exactly once; status says running (0);
// stopped, the mover ends cleanly (its log's last step is "stopped"), status says 3;
// uninstalled, status says 4. (Wine runs every service as the calling user, so the
// -account path is not exercised here.)
func TestServiceUnderWine(t *testing.T) {
	w := testenv.Wine(t)
	d := testenv.Dovecot(t)
	// Wine's services.exe starts the automatic services whenever it starts, and it
	// starts with the wineserver, which ends a few seconds after the last program: a
	// stopped service would come back with the next command. One server, kept for the
	// whole test (-p), starts services.exe once.
	server := func(arg string) { w.ServerCommand(context.Background(), arg).Run() }
	server("-k")
	server("-w")
	// No pipes: the server it leaves behind would hold them open.
	if err := w.ServerCommand(context.Background(), "-p").Run(); err != nil {
		t.Fatalf("wineserver -p: %v", err)
	}
	// Wine's own services (services.exe, explorer.exe …) start with the first program and
	// now stay: start them without pipes, or they would hold a test command's output open.
	boot, cancelBoot := context.WithTimeout(context.Background(), time.Minute)
	defer cancelBoot()
	if err := w.Command(boot, `C:\windows\system32\wineboot.exe`).Run(); err != nil {
		t.Fatalf("wineboot: %v", err)
	}
	t.Cleanup(func() { server("-k") })
	home, dest := t.TempDir(), filepath.Join(t.TempDir(), "in")
	mailbox := d.NewMailbox(t, "winesvc")
	name := "winesvc" + strconv.FormatInt(time.Now().UnixNano()%1_000_000, 10)
	env := profile(t, d, home, name, mailbox, dest)
	setPassword(t, w, env, name, d.Password)
	var want []string
	var msgs [][]byte
	for i := range 3 {
		c := fmt.Sprintf("%%PDF service %d %s", i, randomContent(2048))
		want = append(want, c)
		msgs = append(msgs, mailWith(fmt.Sprint(i), [2]string{fmt.Sprintf("svc-%d.pdf", i), c}))
	}
	d.Append(t, mailbox, msgs...)

	status := func() result {
		return run(t, w, time.Minute, env, "", "mailmover-cli.exe", "service", "status")
	}
	if r := status(); r.code != 4 {
		t.Fatalf("status before install: exit %d, want 4 (not installed)\n%s", r.code, r.out)
	}
	cli(t, w, env, "", "service", "install", "-home", testenv.WinPath(home))
	t.Cleanup(func() { run(t, w, 2*time.Minute, env, "", "mailmover-cli.exe", "service", "uninstall") })
	if r := status(); r.code != 3 || !strings.Contains(r.out, "stopped") {
		t.Fatalf("status after install: exit %d, want 3 (stopped)\n%s", r.code, r.out)
	}
	cli(t, w, env, "", "service", "start")
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, _ := contents(t, dest)
		if len(got) == len(want) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(home, "logs", name+".log"))
			t.Fatalf("the service did not move the mail within 90 s (%d of %d files)\nlog:\n%s", len(got), len(want), log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := status(); r.code != 0 || !strings.Contains(r.out, "running") {
		t.Errorf("status while running: exit %d, want 0\n%s", r.code, r.out)
	}
	cli(t, w, env, "", "service", "stop")
	if r := status(); r.code != 3 {
		t.Errorf("status after stop: exit %d, want 3\n%s", r.code, r.out)
	}
	exactlyOnce(t, dest, want)
	log, err := os.ReadFile(filepath.Join(home, "logs", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"kind":"stopped"`) {
		t.Errorf("the mover did not end cleanly on stop; its last log line: %s", last)
	}
	cli(t, w, env, "", "service", "uninstall")
	if r := status(); r.code != 4 {
		t.Errorf("status after uninstall: exit %d, want 4\n%s", r.code, r.out)
	}
}
