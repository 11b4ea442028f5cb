//go:build unix

package report

import (
	"flag"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux/backend"
)

var update = flag.Bool("update", false, "rewrite the README's table of backends from the registry")

// TestREADMEBackends checks the table of the README's "Backends" section
// against the registry: one row per backend registered in this module
// (every registered one but those the tests add, named test-…), in the
// order of backend.Names, with the capabilities table's cells. The README
// shows Linux; go test ./report -run README -update rewrites it.
func TestREADMEBackends(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the README shows the backends of Linux")
	}
	var b strings.Builder
	b.WriteString("| " + strings.Join(infoHeader, " | ") + " |\n")
	b.WriteString(strings.Repeat("| --- ", len(infoHeader)) + "|\n")
	for _, name := range backend.Names() {
		if strings.HasPrefix(name, "test-") {
			continue
		}
		in, err := backend.Describe(name)
		if err != nil {
			t.Fatalf("Describe(%q) = %v", name, err)
		}
		if name == "epoll" && in.Resolution != time.Nanosecond {
			t.Skipf("epoll's timeout resolution here is %v: this kernel has no epoll_pwait2 (Linux 5.11), which the README's figures assume", in.Resolution)
		}
		b.WriteString("| " + strings.Join(infoCells(in), " | ") + " |\n")
	}
	want := b.String()

	const path = "../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	_, section, ok := strings.Cut(readme, "\n## Backends\n")
	start := strings.Index(section, "\n| backend |")
	if !ok || start < 0 {
		t.Fatalf("%s has no table in a section \"## Backends\"; want one starting \"| backend |\"", path)
	}
	start += len(readme) - len(section) + 1
	end := start + strings.Index(readme[start:], "\n\n") + 1
	if got := readme[start:end]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(readme[:start]+want+readme[end:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the table of backends in %s is\n%s\nwant, from the registry (go test ./report -run README -update writes it):\n%s", path, got, want)
	}
}
