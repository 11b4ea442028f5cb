package statemachine

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// propertyChecks is how many cases rapid tries per property when
// -rapid.checks is not given (rapid's own default is 100).
const propertyChecks = 3000

// coverageSeeds is how many fixed generated cases the table coverage tests
// run.
const coverageSeeds = 1500

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); !set && !env {
		if err := flag.Set("rapid.checks", strconv.Itoa(propertyChecks)); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// propertyTests names the tests that call rapid.Check. rapid (v1.3.0,
// engine.go doCheck) saves a failing case as
// testdata/rapid/<TestName>/<TestName>-<time>-<pid>.fail and replays every
// such file at the start of each rapid.Check in the test of that name,
// before any new case, on every run.
var propertyTests = map[string]bool{
	"TestClientProperties":       true,
	"TestServerProperties":       true,
	"TestHTTPResponseProperties": true,
	"TestFramingsResume":         true,
}

// TestFailFilesReplayed checks that every saved failing case belongs to a
// property test that exists, so that rapid replays it: a file left behind
// by a renamed test would silently stop being checked.
func TestFailFilesReplayed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "rapid", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dir := filepath.Base(filepath.Dir(f))
		if !propertyTests[dir] || !strings.HasPrefix(filepath.Base(f), dir+"-") || !strings.HasSuffix(f, ".fail") {
			t.Errorf("%s is not replayed: want testdata/rapid/<T>/<T>-*.fail for a property test T in %v", f, propertyTests)
		}
	}
	t.Logf("%d saved failing cases, all replayed by their property tests", len(files))
}
