package demo

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestShippedProgramLinksNoExampleCode keeps a library's example packages (and the test
// provider built on them, internal/oidcdev) out of the program that ships: `go list
// -deps mailmover`, for this system and for Windows, names no package with an example
// folder in its path. The test tooling (cmd/mm-testprovider, the tests) may use them.
func TestShippedProgramLinksNoExampleCode(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the program's packages")
	}
	for _, goos := range []string{runtime.GOOS, "windows"} {
		cmd := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", "mailmover")
		cmd.Dir = ".." // the module root
		// Fyne needs cgo on every system; listing needs no C compiler.
		cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOOS=%s go list -deps mailmover: %v\n%s", goos, err, stderr(err))
		}
		pkgs := strings.Fields(string(out))
		if !slices.Contains(pkgs, "mailmover/demo/signin") {
			t.Errorf("GOOS=%s: the program does not link the demo's sign-in server; is the list right?\n%s", goos, out)
		}
		for _, p := range pkgs {
			parts := strings.Split(p, "/")
			if slices.ContainsFunc(parts, func(s string) bool { return s == "example" || s == "examples" || s == "_examples" }) ||
				p == "mailmover/internal/oidcdev" {
				t.Errorf("GOOS=%s: the shipped program links %s", goos, p)
			}
		}
	}
}

// stderr is what a failed command wrote to its standard error.
func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
