package fake

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// RunTwice runs run twice, each time on a new Kernel made by New(cfg)
// that keeps its whole trace, and returns where the two traces first
// differ, or nil if they are the same record for record. A test whose
// run depends only on the seed and on the kernel's answers is the same
// twice; one that ranges over a map, reads the real clock, races
// goroutines to the kernel or keeps state between runs is not, and the
// Divergence says at which call it parted.
//
// cfg.Choices is not used: each run draws from its own Seeded(cfg.Seed),
// since one Chooser cannot answer two runs alike.
func RunTwice(cfg Config, run func(k *Kernel)) *Divergence {
	cfg.Trace, cfg.Choices = -1, nil
	var traces [2]Records
	for i := range traces {
		k := New(cfg)
		run(k)
		traces[i] = k.Trace()
	}
	a, b := traces[0], traces[1]
	for i := range max(len(a), len(b)) {
		if i < len(a) && i < len(b) && sameRecord(a[i], b[i]) {
			continue
		}
		d := &Divergence{Index: i, Before: a[max(i-3, 0):i]}
		if i < len(a) {
			d.A = &a[i]
		}
		if i < len(b) {
			d.B = &b[i]
		}
		return d
	}
	return nil
}

// CheckDeterministic runs run twice with RunTwice and fails t, naming the
// first record in which the runs differ and its likely causes, if they
// differ.
func CheckDeterministic(t testing.TB, cfg Config, run func(k *Kernel)) {
	t.Helper()
	if d := RunTwice(cfg, run); d != nil {
		t.Fatal(d)
	}
}

// A Divergence is where two runs that should have been the same first
// differ: the first record of their traces that is not the same.
type Divergence struct {
	Index  int     // the index of the record in the traces: its Seq less one
	A, B   *Record // the record of the first run and of the second; nil where a run had ended
	Before Records // the records just before, the same in both runs (up to 3)
}

// Error names the record at which the runs diverge, both versions of it,
// the records before, what the difference suggests, and the usual causes.
func (d *Divergence) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the two runs diverge at record %d of the trace:\n", d.Index+1)
	for _, r := range d.Before {
		fmt.Fprintf(&b, "\tboth:       %v\n", r)
	}
	for i, r := range [2]*Record{d.A, d.B} {
		label := [2]string{"first run: ", "second run:"}[i]
		if r == nil {
			fmt.Fprintf(&b, "\t%s (had ended)\n", label)
		} else {
			fmt.Fprintf(&b, "\t%s %v\n", label, *r)
		}
	}
	b.WriteString(d.hint())
	b.WriteString("\nThe usual causes: ranging over a map (its order changes from run to run: iterate a slice or sorted keys); " +
		"real time (time.Now, time.Since, time.After: use the kernel's Now and its timeouts); " +
		"goroutines racing to call the kernel (run them from one goroutine, or in a testing/synctest bubble with Config.Settle); " +
		"state kept from one run to the next (globals, buffers, caches); randomness not drawn from the seed.")
	return b.String()
}

// hint says what the difference between the two records suggests.
func (d *Divergence) hint() string {
	a, b := d.A, d.B
	switch {
	case a == nil || b == nil:
		return "One run stopped making calls before the other: it decided to stop on something other than the kernel's answers."
	case a.Op == b.Op && a.FD != b.FD:
		return fmt.Sprintf("The same call on another descriptor (fd %d, fd %d): the same calls in another order, as ranging over a map or racing goroutines give.", a.FD, b.FD)
	case a.Op == "wait" && b.Op == "wait" && a.Arg != b.Arg:
		return "The same wait with another timeout: a timeout computed from real time rather than from the kernel's Now."
	case a.Op != b.Op:
		return fmt.Sprintf("Another call (%s, %s): the code decided on something other than the kernel's answers.", a.Op, b.Op)
	case a.Time != b.Time:
		return "The same call at another virtual time: the clock was moved in one run and not in the other."
	case a.Arg != b.Arg || a.Addr != b.Addr:
		return "The same call with other arguments: its arguments came from something other than the kernel's answers."
	}
	return "The same call with another result: the kernel's state differed before it, changed by something the trace does not show (state kept between runs, a goroutine)."
}

// sameRecord reports whether a and b record the same call with the same
// result.
func sameRecord(a, b Record) bool {
	return a.Seq == b.Seq && a.Time == b.Time && a.Op == b.Op && a.FD == b.FD && a.Arg == b.Arg &&
		a.N == b.N && a.Addr == b.Addr && errString(a.Err) == errString(b.Err) && slices.Equal(a.Events, b.Events)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
