package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailmover/store"
)

// run -all -once runs every profile in one process: a broken one (its password wrong)
// does not stop the other, the exit status is 1 and the output names it; status then
// reports each profile and exits like a monitoring check.
func TestRunAllOnceAndStatus(t *testing.T) {
	env, home, dest := runTestSetup(t, 2)
	// A second profile on the same server with a wrong password.
	p, err := store.LoadProfile(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "broken"
	p.Destination.Folder = filepath.Join(t.TempDir(), "broken")
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	openSecrets().Set("broken", store.SecretPassword, "wrong")
	out, errb := env.Stdout.(*bytes.Buffer), env.Stderr.(*bytes.Buffer)
	code := Run(context.Background(), []string{"run", "-all", "-once"}, env)
	if code != 1 || !strings.Contains(errb.String(), "broken") || strings.Contains(errb.String(), "profile p:") {
		t.Fatalf("run -all -once: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 2 {
		t.Errorf("the good profile saved %d files, want 2", len(entries))
	}
	if !strings.Contains(out.String(), "[p] ") || !strings.Contains(out.String(), "[broken] ") {
		t.Errorf("lines do not name their profile:\n%s", out)
	}

	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"status"}, env)
	if code != 2 || !strings.HasPrefix(out.String(), "CRITICAL: 2 profile(s)") || !strings.Contains(out.String(), "CRITICAL broken") {
		t.Errorf("status: exit %d\n%s%s", code, out, errb)
	}
	out.Reset()
	code = Run(context.Background(), []string{"status", "-profile", "p", "-json"}, env)
	var got struct {
		Code     int
		Result   string
		Profiles []struct {
			Profile string
			Result  string
			Status  struct {
				State      string
				FilesToday int `json:"files_today"`
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("status -json: %v\n%s", err, out)
	}
	if code != 0 || got.Code != 0 || len(got.Profiles) != 1 || got.Profiles[0].Status.State != "stopped" || got.Profiles[0].Status.FilesToday != 2 {
		t.Errorf("status -profile p -json: exit %d, %+v", code, got)
	}
	if strings.Contains(out.String(), "pw-777") || strings.Contains(out.String(), "wrong") {
		t.Errorf("a secret in the status output:\n%s", out)
	}
	out.Reset()
	if code := Run(context.Background(), []string{"status", "-profile", "nobody"}, env); code != 3 {
		t.Errorf("status of an unknown profile: exit %d, want 3 (UNKNOWN)", code)
	}
	// Several -profile flags run those profiles.
	out.Reset()
	if code := Run(context.Background(), []string{"run", "-profile", "p", "-profile", "broken", "-once"}, env); code != 1 {
		t.Errorf("run -profile p -profile broken -once: exit %d", code)
	}
	if code := Run(context.Background(), []string{"run", "-all", "-profile", "p"}, env); code != 2 {
		t.Errorf("run -all -profile p: exit %d, want 2 (usage)", code)
	}
}
