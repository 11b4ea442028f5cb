package conformance_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// harness describes the backend under test to the suite: here the fake
// kernel of package mux/fake, whose descriptors and clock are virtual, so
// it brings its own FDs and Now. A backend of the operating system's
// descriptors needs only conformance.OS(New).
func harness() conformance.Harness {
	// The suite waits centuries of virtual time and polls descriptors it
	// never reads: the fake's guards against a stuck or spinning loop,
	// there for loops under test, are off.
	k := fake.New(fake.Config{Horizon: -1, BusyLoop: -1})
	return conformance.Harness{
		New: func() (mux.Multiplexer, error) { return k.NewMux() },
		FDs: k,
		Now: k.Now,
	}
}

// Check runs the whole suite outside of go test and returns a result per
// check; a backend's own tests call conformance.Run(t, harness()) instead.
// This prints, for each rule, whether a check of it failed.
func Example() {
	results, err := conformance.Check(harness())
	if err != nil {
		log.Fatal(err)
	}
	failed := map[int][]string{}
	for _, r := range results {
		if r.Status == conformance.Fail {
			failed[r.Rule] = append(failed[r.Rule], r.Name)
		}
	}
	for _, rule := range conformance.Rules() {
		verdict := "ok"
		if names := failed[rule.Rule]; names != nil {
			verdict = "FAIL in " + strings.Join(names, ", ")
		}
		fmt.Printf("rule %2d %s: %s\n", rule.Rule, verdict, rule.Summary)
	}
	// Output:
	// rule  0 ok: the self-description (Info) is consistent
	// rule  1 ok: interest is a non-empty subset of Readable|Writable|Priority; bad fds rejected; errors in one order
	// rule  2 ok: level-triggered: a condition is reported while it holds, at once from any thread, never after it ended
	// rule  3 ok: one event per fd, within interest plus Hangup and Error (whatever the interest); unasked conditions never spin
	// rule  4 ok: timeouts round up, never down; timed Waits sleep, not spin; huge ones clamp; empty sets still wait
	// rule  5 ok: EINTR never reaches the caller
	// rule  6 ok: a full events slice never starves a ready fd
	// rule  7 ok: Wake is prompt, coalesces, and is never reported
	// rule  8 ok: safe for concurrent use; changes reach a blocked Wait; ErrBusy leaves the running Wait alone
	// rule  9 ok: Close unblocks Wait, is idempotent, leaks no descriptor
	// rule 10 ok: an fd closed while added does not break the Multiplexer; Remove releases it at once
	// rule 11 ok: regular files: refused cleanly or always ready, as Info says
	// rule 12 ok: no allocation in Add, Modify, Remove or Wait
	// rule 13 ok: edge-triggered and one-shot modes, where Info claims them: a report per edge, one until re-armed; none lost
}
