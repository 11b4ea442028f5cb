package fake

import (
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Seeds runs body once for each of n seeds, 1 to n, each as a subtest
// named "seed=N", and for each seed that fails names it and the exact
// command that reruns only it:
//
//	seed 17 failed; rerun only it with:
//		go test -run '^TestLoop$/^seed=17$' -count=1 example.com/mypkg
//
// The environment variable MUXKIT_SEEDS, if set to a number, runs that
// many seeds instead of n; MUXKIT_SEED runs only the one seed it names,
// whether or not it is among the first n.
func Seeds(t *testing.T, n int, body func(t *testing.T, seed uint64)) {
	t.Helper()
	seeds := make([]uint64, 0, n)
	if s, err := strconv.ParseUint(os.Getenv("MUXKIT_SEED"), 10, 64); err == nil {
		seeds = append(seeds, s)
	} else {
		if m, err := strconv.Atoi(os.Getenv("MUXKIT_SEEDS")); err == nil && m > 0 {
			n = m
		}
		for s := range n {
			seeds = append(seeds, uint64(s+1))
		}
	}
	pkg := callerPackage()
	for _, seed := range seeds {
		name := "seed=" + strconv.FormatUint(seed, 10)
		if !t.Run(name, func(t *testing.T) { body(t, seed) }) {
			t.Errorf("seed %d failed; rerun only it with:\n\tgo test -run '%s' -count=1 %s", seed, runPattern(t.Name()+"/"+name), pkg)
		}
	}
}

// runPattern returns the -run pattern that matches the test named name
// and nothing else.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// callerPackage returns the import path of the package whose test called
// Seeds, or "." if it cannot tell.
func callerPackage() string {
	pc, _, _, ok := runtime.Caller(2)
	if !ok {
		return "."
	}
	fn := runtime.FuncForPC(pc).Name() // such as "example.com/mypkg_test.TestLoop"
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return "."
	}
	return strings.TrimSuffix(fn[:slash+1+dot], "_test")
}
