// Package conformance is the suite every muxkit backend passes: one check
// per case of each rule of the contract in package [mux], run against a
// fresh [mux.Multiplexer], under a watchdog so that a backend that hangs
// fails instead of hanging the test binary.
//
// A backend of real descriptors runs it from its own tests. This is the
// whole test file a backend author copies, with the import path and
// constructor of their own backend:
//
//	package mybackend_test
//
//	import (
//		"testing"
//
//		"github.com/muxkit/muxkit/conformance"
//		"github.com/muxkit/muxkit/mux"
//
//		"example.com/mybackend"
//	)
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return mybackend.New() }))
//	}
//
// Run those tests with the race detector as well (go test -race): a data
// race in a backend breaks the contract in ways no check can see, and
// [Run] logs a note when the detector is off. A backend of other
// descriptors (a fake, a remote kernel) fills in a [Harness] with its own
// [FDs] and, for a virtual clock, its own Now, as the example does for
// package mux/fake. The module's examples/outsidebackend is a backend in a
// module of its own that does all of this.
//
// docs/conformance.md lists every check, with its rule and what it does.
// A failure message starts with the file and line of the check's failing
// assertion, and names the call, what it returned, what the contract
// wanted and the rule. Each Multiplexer call is watched: one that has not
// returned a few seconds past its own timeout fails the check as hung,
// named with its arguments, and the check is abandoned. The suite decides
// which checks apply from the backend's [mux.Info]: a backend that says
// it cannot report [mux.Hangup] is not asked to, and one that accepts
// regular files is checked for reporting them always ready instead of
// for refusing them.
//
// [Check] runs the same checks outside of go test and returns their
// results, for commands that print a conformance table (go run
// ./cmd/muxkit); [Rules] names the rules to group them by.
//
// # Systems
//
// [Run], [Check], [Harness] and the checks build on every system Go
// supports but Plan 9, which has no errno values to compare against. [OS]
// and the descriptors it drives are Unix only: elsewhere (Windows, js,
// wasip1) a Harness must bring its own FDs, as a fake's does, and the
// checks that need what only a Unix kernel gives the suite skip, saying
// why: rule 5's, which aims signals at a waiting thread to provoke EINTR,
// and the two that a Wait sleeps rather than spins (rules 3 and 4), which
// read a thread's CPU clock (which the suite cannot read on AIX and
// NetBSD either).
package conformance

//go:generate go test -run ^TestChecksPage$ -update
