package fake_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/muxkit/muxkit/mux/fake"
)

func TestSeeds(t *testing.T) {
	var got []uint64
	fake.Seeds(t, 5, func(t *testing.T, seed uint64) {
		got = append(got, seed)
		if want := "TestSeeds/seed=" + string(rune('0'+seed)); t.Name() != want {
			t.Errorf("subtest named %q; want %q", t.Name(), want)
		}
	})
	if !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("Seeds(5) ran %v; want seeds 1 to 5", got)
	}
	t.Setenv("MUXKIT_SEED", "1234")
	got = nil
	fake.Seeds(t, 5, func(t *testing.T, seed uint64) { got = append(got, seed) })
	if !slices.Equal(got, []uint64{1234}) {
		t.Fatalf("Seeds(5) with MUXKIT_SEED=1234 ran %v; want only seed 1234", got)
	}
}

// TestSeedsRerunCommand runs a test whose third seed fails, in a child
// process, and checks that the failure names the seed and a command that
// reruns only it.
func TestSeedsRerunCommand(t *testing.T) {
	if os.Getenv("MUXKIT_SEEDS_CHILD") != "" {
		fake.Seeds(t, 4, func(t *testing.T, seed uint64) {
			if seed == 3 {
				t.Error("seed 3 fails")
			}
		})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSeedsRerunCommand$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MUXKIT_SEEDS_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a test with a failing seed passed:\n%s", out)
	}
	for _, want := range []string{
		"seed 3 failed; rerun only it with:\n",
		"\tgo test -run '^TestSeedsRerunCommand$/^seed=3$' -count=1 github.com/muxkit/muxkit/mux/fake\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("output of a test whose seed 3 fails:\n%s\nwant it to contain:\n%s", out, want)
		}
	}
	if strings.Contains(string(out), "seed 2 failed") || strings.Contains(string(out), "seed 4 failed") {
		t.Errorf("output names seeds that passed:\n%s", out)
	}
}
