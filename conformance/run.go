package conformance

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// Status is the outcome of one check.
type Status int

const (
	Pass Status = iota // the check passed
	Fail               // the backend broke the rule the check is about
	Skip               // the check does not apply to the backend, or cannot run here
)

// String returns "pass", "FAIL" or "skip".
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome of one check, as returned by [Check].
type Result struct {
	Rule     int      // the contract rule the check belongs to: 1–13, or 0 for the self-description
	Name     string   // the check's name, such as "rule04/never-early"
	Status   Status   // Pass, Fail or Skip
	Messages []string // why it failed or was skipped; a failure starts with the check's file:line
	Elapsed  time.Duration
}

// Run runs every check against the backend h describes, one subtest per
// check, named "ruleNN/what". Use it from a backend's own tests, with [OS]
// for a backend of the operating system's descriptors, and run them with
// the race detector too (go test -race): some bugs only it sees.
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.OS(func() (mux.Multiplexer, error) { return mybackend.New() }))
//	}
func Run(t *testing.T, h Harness) {
	t.Helper()
	h, err := h.complete()
	if err != nil {
		t.Fatal(err)
	}
	if !raceEnabled {
		t.Log("conformance: the race detector is off; run the suite with go test -race as well, which catches data races no check can see")
	}
	for _, ck := range checks {
		t.Run(ck.name(), func(t *testing.T) {
			r := run(h, ck)
			// The messages carry the check's own file:line; printed through
			// Output, they are not also attributed to this line.
			for _, m := range r.Messages {
				fmt.Fprintln(t.Output(), m)
			}
			switch r.Status {
			case Fail:
				t.Fail()
			case Skip:
				t.SkipNow()
			}
		})
	}
}

// Check runs every check, in order, outside of go test, and returns their
// results. A command uses it to print a conformance table, grouped by the
// [Rules].
func Check(h Harness) ([]Result, error) {
	h, err := h.complete()
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(checks))
	for _, ck := range checks {
		results = append(results, run(h, ck))
	}
	return results, nil
}

// Rules returns the number and a one-line summary of each contract rule
// (a [RuleSummary]), in order, for tables that group results by rule: rule
// 0, the self-description, then the thirteen rules of the contract.
func Rules() []RuleSummary {
	return append([]RuleSummary(nil), ruleSummaries...)
}

// RuleSummary names one rule of the contract.
type RuleSummary struct {
	Rule    int
	Summary string
}

var ruleSummaries = []RuleSummary{
	{0, "the self-description (Info) is consistent"},
	{1, "interest is a non-empty subset of Readable|Writable|Priority; bad fds rejected; errors in one order"},
	{2, "level-triggered: a condition is reported while it holds, at once from any thread, never after it ended"},
	{3, "one event per fd, within interest plus Hangup and Error (whatever the interest); unasked conditions never spin"},
	{4, "timeouts round up, never down; timed Waits sleep, not spin; huge ones clamp; empty sets still wait"},
	{5, "EINTR never reaches the caller"},
	{6, "a full events slice never starves a ready fd"},
	{7, "Wake is prompt, coalesces, and is never reported"},
	{8, "safe for concurrent use; changes reach a blocked Wait; ErrBusy leaves the running Wait alone"},
	{9, "Close unblocks Wait, is idempotent, leaks no descriptor"},
	{10, "an fd closed while added does not break the Multiplexer; Remove releases it at once"},
	{11, "regular files: refused cleanly or always ready, as Info says"},
	{12, "no allocation in Add, Modify, Remove or Wait"},
	{13, "edge-triggered and one-shot modes, where Info claims them: a report per edge, one until re-armed; none lost"},
}

// complete fills in the defaults.
func (h Harness) complete() (Harness, error) {
	if h.New == nil {
		return h, errors.New("conformance: Harness.New is nil")
	}
	if h.FDs == nil {
		if h.FDs = systemFDs; h.FDs == nil {
			return h, fmt.Errorf("conformance: Harness.FDs is nil, and on %s the suite has no descriptors of its own to drive", runtime.GOOS)
		}
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Watchdog <= 0 {
		h.Watchdog = 20 * time.Second
	}
	if h.Info.Name == "" {
		m, err := h.New()
		if err != nil {
			return h, fmt.Errorf("conformance: Harness.New: %w", err)
		}
		h.Info = mux.Describe(m)
		if err := m.Close(); err != nil {
			return h, fmt.Errorf("conformance: Close of the Multiplexer used for Info: %w", err)
		}
	}
	return h, nil
}

// check is one case of the suite.
type check struct {
	rule int
	slug string
	what string // what the check does, one sentence, for docs/conformance.md
	fn   func(c *trial)

	// alone is set for a check that must not run beside the suite's other
	// checks in this process: one that counts allocations (the count is
	// the process's), one that measures CPU time (their load would take
	// the CPU a spinning backend burns, and hide the spin), or one that
	// relies on descriptor numbers staying as they are — a closed number
	// unused, a listing of open descriptors unchanged — which another
	// check's descriptors would upset.
	alone bool
}

func (ck check) name() string { return fmt.Sprintf("rule%02d/%s", ck.rule, ck.slug) }

// where returns the file:line of the check's function.
func (ck check) where() string {
	f := runtime.FuncForPC(reflect.ValueOf(ck.fn).Pointer())
	if f == nil {
		return "?"
	}
	file, line := f.FileLine(f.Entry())
	return filepath.Base(file) + ":" + strconv.Itoa(line)
}

// exclusive is held for reading by every running check, and for writing
// by a check that must run alone; Run and Check calls in parallel tests of
// one process share it.
var exclusive sync.RWMutex

// run runs one check in its own goroutine under the watchdogs: one for
// each Multiplexer call (callGrace past its timeout) and one for the whole
// check (Harness.Watchdog).
func run(h Harness, ck check) Result {
	unlock := exclusive.RUnlock
	if ck.alone {
		exclusive.Lock()
		unlock = exclusive.Unlock
	} else {
		exclusive.RLock()
	}
	c := &trial{h: h, rule: ck.rule, added: map[int]mux.Events{}, mine: map[int]bool{}, calls: newCalls()}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.cleanup()
		defer func() {
			if r := recover(); r != nil {
				c.report(Fail, fmt.Sprintf("%s: panic: %v\n%s", location(), r, debug.Stack()))
			}
		}()
		m, err := h.New()
		if err != nil {
			c.Fatalf("New() = %v; want a Multiplexer", err)
		}
		c.mu.Lock()
		c.m = tracked{m, c.calls}
		c.mu.Unlock()
		ck.fn(c)
	}()
	backstop := time.NewTimer(h.Watchdog)
	defer backstop.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	hung := ""
	for hung == "" {
		select {
		case <-done:
		case <-tick.C:
			if call, ok := c.calls.hung(); ok {
				hung = fmt.Sprintf("hung: %v has not returned after %v; want it to return within %v of its timeout",
					call, call.running.Round(time.Millisecond), callGrace)
			}
			continue
		case <-backstop.C:
			hung = fmt.Sprintf("hung: the check did not finish within %v; %s", h.Watchdog, c.calls.describe())
			continue
		}
		break
	}
	if hung != "" {
		c.report(Fail, fmt.Sprintf("%s: rule %d: %s; the Multiplexer is closed and the check abandoned", ck.where(), ck.rule, hung))
		c.mu.Lock()
		c.abandoned = true
		m := c.m
		c.mu.Unlock()
		if m != nil {
			go m.Close() // may unblock the check; if it hangs too, it is abandoned with it
		}
	}
	// Let a check that Close unblocked, and the Waits it started, end
	// before other checks run: they would upset one that runs alone.
	c.stragglers.Add(1)
	go func() {
		<-done
		c.stragglers.Done()
	}()
	ended := make(chan struct{})
	go func() {
		c.stragglers.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(time.Second):
	}
	unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	return Result{Rule: ck.rule, Name: ck.name(), Status: c.status, Messages: c.msgs, Elapsed: time.Since(start)}
}

// trial is the state of one running check: the Multiplexer under test, the
// descriptors the check made, and the verdict so far.
type trial struct {
	h     Harness
	rule  int
	m     mux.Multiplexer // the harness's Multiplexer, with its calls recorded
	calls *calls

	// stragglers counts the goroutines of the check that may outlive it:
	// the Waits waitAsync started.
	stragglers sync.WaitGroup

	mu        sync.Mutex // guards the fields below
	status    Status
	msgs      []string
	abandoned bool
	added     map[int]mux.Events // fd → interest, as the check added it
	mine      map[int]bool       // descriptors the check made and has not closed
}

func (c *trial) report(s Status, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned {
		return
	}
	switch {
	case s == Fail:
		c.status = Fail
	case s == Skip && c.status != Fail:
		c.status = Skip
	}
	c.msgs = append(c.msgs, msg)
}

// pkgPath is this package's import path.
var pkgPath = reflect.TypeFor[trial]().PkgPath()

// location returns the file:line of the innermost caller in this package
// outside the suite's machinery (this file and calls.go): the line of the
// check that failed, not of a helper it called.
func location() string {
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs[:])])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, pkgPath+".") {
			if base := filepath.Base(f.File); base != "run.go" && base != "calls.go" {
				return base + ":" + strconv.Itoa(f.Line)
			}
		}
		if !more {
			return "?"
		}
	}
}

// failAt records a failure of the check's rule, located at at (the check's
// file:line) or, if at is empty, at the line of the check that called.
// The message starts with the rule, unless it names one itself.
func (c *trial) failAt(at string, format string, args ...any) {
	if at == "" {
		at = location()
	}
	msg := fmt.Sprintf(format, args...)
	if !strings.HasPrefix(msg, "rule ") {
		msg = c.prefix() + msg
	}
	c.report(Fail, at+": "+msg)
}

// Errorf records a failure of the check's rule and goes on.
func (c *trial) Errorf(format string, args ...any) { c.failAt("", format, args...) }

// Fatalf records a failure and ends the check.
func (c *trial) Fatalf(format string, args ...any) {
	c.failAt("", format, args...)
	runtime.Goexit()
}

// Skipf ends the check as skipped.
func (c *trial) Skipf(format string, args ...any) {
	c.report(Skip, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (c *trial) prefix() string { return fmt.Sprintf("rule %d: ", c.rule) }

// cleanup closes the Multiplexer and every descriptor the check made.
func (c *trial) cleanup() {
	c.mu.Lock()
	m := c.m
	c.mu.Unlock()
	if m != nil {
		m.Close()
	}
	c.mu.Lock()
	var fds []int
	for fd := range c.mine {
		fds = append(fds, fd)
	}
	c.mine = map[int]bool{}
	c.mu.Unlock()
	for _, fd := range fds {
		c.h.FDs.Close(fd)
	}
}

func (c *trial) own(fds ...int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fd := range fds {
		c.mine[fd] = true
	}
}

// pair returns a connected socket pair that the check owns.
func (c *trial) pair() (a, b int) {
	a, b, err := c.h.FDs.Pair()
	if err != nil {
		c.Fatalf("harness: Pair() = %v", err)
	}
	c.own(a, b)
	return a, b
}

// readablePair returns a pair whose a side has one unread byte.
func (c *trial) readablePair() (a, b int) {
	a, b = c.pair()
	c.write(b, []byte{'x'})
	return a, b
}

func (c *trial) pipe() (r, w int) {
	r, w, err := c.h.FDs.Pipe()
	if err != nil {
		c.Fatalf("harness: Pipe() = %v", err)
	}
	c.own(r, w)
	return r, w
}

func (c *trial) write(fd int, p []byte) {
	if n, err := c.h.FDs.Write(fd, p); err != nil || n != len(p) {
		c.Fatalf("harness: Write(fd %d, %d bytes) = %d, %v", fd, len(p), n, err)
	}
}

func (c *trial) read(fd int, p []byte) int {
	n, err := c.h.FDs.Read(fd, p)
	if err != nil {
		c.Fatalf("harness: Read(fd %d) = %d, %v", fd, n, err)
	}
	return n
}

// closeFD closes a descriptor the check made, as a caller's bug would.
func (c *trial) closeFD(fd int) {
	c.mu.Lock()
	delete(c.mine, fd)
	c.mu.Unlock()
	if err := c.h.FDs.Close(fd); err != nil {
		c.Fatalf("harness: Close(fd %d) = %v", fd, err)
	}
}

// setAdded records what the check has added, for wait's checks. A Wait
// in another goroutine may see a change before the call making it returns,
// so add and modify record the new interest first (modify: with the old
// one, until the call returns).
func (c *trial) setAdded(fd int, ev mux.Events) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev == 0 {
		delete(c.added, fd)
	} else {
		c.added[fd] = ev
	}
}

// add adds fd and fails the check if Add fails.
func (c *trial) add(fd int, ev mux.Events) {
	c.setAdded(fd, ev)
	if err := c.m.Add(fd, ev); err != nil {
		c.setAdded(fd, 0)
		c.refusedClaimed(fmt.Sprintf("Add(%d, %v)", fd, ev), ev, err)
		c.Fatalf("Add(%d, %v) = %v; want nil", fd, ev, err)
	}
}

func (c *trial) modify(fd int, ev mux.Events) {
	c.mu.Lock()
	old := c.added[fd]
	c.mu.Unlock()
	c.setAdded(fd, old|ev)
	if err := c.m.Modify(fd, ev); err != nil {
		c.refusedClaimed(fmt.Sprintf("Modify(%d, %v)", fd, ev), ev, err)
		c.Fatalf("Modify(%d, %v) = %v; want nil", fd, ev, err)
	}
	c.setAdded(fd, ev)
}

// refusedClaimed skips the check when a call refused a mode that
// Info.Modes claims: rule01/modes fails the backend for that, and the
// checks of rule 13 have nothing to look at.
func (c *trial) refusedClaimed(call string, ev mux.Events, err error) {
	if ev&mux.Modes&c.h.Info.Modes != 0 && errors.Is(err, errors.ErrUnsupported) {
		c.Skipf("%s = %v, although Info.Modes is %v: rule01/modes fails the backend for that", call, err, c.h.Info.Modes)
	}
}

// needs skips the check unless the backend claims every mode in m.
func (c *trial) needs(m mux.Events) {
	if !c.h.Info.Modes.Has(m) {
		c.Skipf("Info.Modes is %v: the backend does not keep %v (rule01/modes checks that it refuses it)", c.h.Info.Modes, m)
	}
}

// quiet is how long a Wait that must report nothing waits: a backend that
// reports what it must not reports it at once, and a longer wait would
// only slow the suite.
const quiet = 20 * time.Millisecond

// expect waits for fd to be reported with at least the conditions in
// want, and ends the check if it is not: what the check does next depends
// on that report.
func (c *trial) expect(fd int, want mux.Events, what string) waitResult {
	w := c.wait(4, prompt)
	if !w.find(fd).Has(want) {
		c.Fatalf("%s: Wait = %v; want fd %d reported %v", what, w, fd, want)
	}
	return w
}

// silent checks that a Wait does not report fd.
func (c *trial) silent(fd int, what string) {
	if w := c.wait(4, quiet); w.find(fd) != 0 {
		c.Errorf("%s: Wait(%v) = %v; want fd %d not reported", what, quiet, w, fd)
	}
}

func (c *trial) remove(fd int) {
	if err := c.m.Remove(fd); err != nil {
		c.Fatalf("Remove(%d) = %v; want nil", fd, err)
	}
	c.setAdded(fd, 0)
}

// waitResult is what one Wait returned, and how long it took on the
// harness's clock.
type waitResult struct {
	events  []mux.Event
	n       int
	err     error
	elapsed time.Duration
}

func (w waitResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "(%d, %v) [", w.n, w.err)
	for i, ev := range w.events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ev.String())
	}
	b.WriteString("] after " + w.elapsed.String())
	return b.String()
}

// find returns the events reported for fd, or 0.
func (w waitResult) find(fd int) mux.Events {
	for _, ev := range w.events {
		if ev.FD == fd {
			return ev.Events
		}
	}
	return 0
}

// wait calls Wait with a buffer of size room and checks what every Wait
// must keep, whatever the check is about: n within the buffer, one event
// per fd, only added fds, non-empty sets within interest plus the
// reported-only conditions (rule 3).
func (c *trial) wait(room int, timeout time.Duration) waitResult { return c.waitAt("", room, timeout) }

// waitAt is wait with its failures located at at (see failAt).
func (c *trial) waitAt(at string, room int, timeout time.Duration) waitResult {
	buf := make([]mux.Event, room)
	start := c.h.Now()
	n, err := c.m.Wait(buf, timeout)
	w := waitResult{n: n, err: err, elapsed: c.h.Now().Sub(start)}
	if n < 0 || n > len(buf) {
		c.failAt(at, "rule 3: Wait(buf[%d], %v) = (%d, %v); want 0 <= n <= %d", room, timeout, n, err, room)
		runtime.Goexit()
	}
	w.events = buf[:n]
	if err != nil && n != 0 {
		c.failAt(at, "rule 3: Wait(buf[%d], %v) = %v; want n == 0 with an error", room, timeout, w)
	}
	c.mu.Lock()
	added := make(map[int]mux.Events, len(c.added))
	for fd, ev := range c.added {
		added[fd] = ev
	}
	c.mu.Unlock()
	seen := map[int]bool{}
	for _, ev := range w.events {
		interest, ok := added[ev.FD]
		switch {
		case !ok:
			c.failAt(at, "rule 3/7: Wait(%v) = %v: reported fd %d, which is not added (the wake descriptor, or a removed fd?); want only added fds", timeout, w, ev.FD)
		case seen[ev.FD]:
			c.failAt(at, "rule 3: Wait(%v) = %v: fd %d reported twice; want at most one Event per fd", timeout, w, ev.FD)
		case ev.Events == 0:
			c.failAt(at, "rule 3: Wait(%v) = %v: fd %d reported with no conditions; want a non-empty set", timeout, w, ev.FD)
		case ev.Events&^mux.Reportable(interest) != 0:
			c.failAt(at, "rule 3: Wait(%v) = %v: fd %d reported %v with interest %v; want a subset of %v (Writable never unasked, ReadHangup only with Readable)",
				timeout, w, ev.FD, ev.Events, interest, mux.Reportable(interest))
		case ev.Events&^c.h.Info.Reports != 0:
			c.failAt(at, "rule 3: Wait(%v) = %v: fd %d reported %v, but Info.Reports is %v; want reports within the self-description",
				timeout, w, ev.FD, ev.Events, c.h.Info.Reports)
		}
		seen[ev.FD] = true
	}
	return w
}

// waitAsync runs wait in a goroutine. Its failures are located at the
// check's call of waitAsync.
func (c *trial) waitAsync(room int, timeout time.Duration) <-chan waitResult {
	at := location()
	ch := make(chan waitResult, 1)
	c.stragglers.Add(1)
	go func() {
		defer c.stragglers.Done()
		var w waitResult
		defer func() { ch <- w }()
		w = c.waitAt(at, room, timeout)
	}()
	return ch
}

// settle gives a goroutine that was just started time to block in Wait.
// It is a real sleep: a fake must block a Wait(-1) in real time.
func settle() { time.Sleep(30 * time.Millisecond) }

// await receives a Wait's result, failing the check if none comes within d
// of real time.
func (c *trial) await(ch <-chan waitResult, d time.Duration, what string) waitResult {
	select {
	case w := <-ch:
		return w
	case <-time.After(d):
		c.Fatalf("%s: the blocked Wait did not return within %v; want it to return promptly", what, d)
	}
	panic("unreachable")
}

// notReturned fails the check if the Wait behind ch has returned.
func (c *trial) notReturned(ch <-chan waitResult, what string) {
	select {
	case w := <-ch:
		c.Fatalf("%s: Wait returned %v before anything happened; want it still blocked", what, w)
	default:
	}
}

// blockedWait starts a Wait(-1) in a goroutine, as waitAsync does, and
// returns once a Wait(0) has been refused with ErrBusy, which shows that
// the first is in progress. It fails the check if none is within a
// second, or if the Wait(-1) returns anything but the ErrBusy of a Wait(0)
// that came first.
func (c *trial) blockedWait() <-chan waitResult {
	blocked := c.waitAsync(4, -1)
	for range 200 {
		select {
		case w := <-blocked:
			if !errors.Is(w.err, mux.ErrBusy) {
				c.Fatalf("Wait(-1) with nothing ready returned %v; want it blocked until the check ends it", w)
			}
			blocked = c.waitAsync(4, -1) // it started while a Wait(0) below ran
		case <-time.After(5 * time.Millisecond):
		}
		n, err := c.m.Wait(make([]mux.Event, 4), 0)
		switch {
		case errors.Is(err, mux.ErrBusy) && n == 0:
			return blocked
		case err != nil:
			c.Fatalf("rule 8: Wait(0) during a blocked Wait(-1) = (%d, %v); want (0, ErrBusy)", n, err)
		}
	}
	c.Fatalf("rule 8: Wait(0) during a blocked Wait(-1) never returned ErrBusy; want (0, ErrBusy)")
	return nil
}

// fill writes to fd until its send buffer is full.
func (c *trial) fill(fd int) {
	p := make([]byte, 64<<10)
	for range 1 << 14 {
		if _, err := c.h.FDs.Write(fd, p); retry(err) {
			return
		} else if err != nil {
			c.Fatalf("harness: Write(fd %d) = %v; want progress or EAGAIN", fd, err)
		}
	}
	c.Fatalf("harness: fd %d took a gigabyte without EAGAIN; want its send buffer full", fd)
}

// drain reads fd until EAGAIN or end of file.
func (c *trial) drain(fd int) {
	p := make([]byte, 4096)
	for {
		n, err := c.h.FDs.Read(fd, p)
		if retry(err) || err == nil && n == 0 {
			return
		}
		if err != nil {
			c.Fatalf("harness: Read(fd %d) = %d, %v", fd, n, err)
		}
	}
}

// untilEOF reads fd until end of file, for at most d of real time. It
// returns "" at end of file, and otherwise what the last read returned.
func (c *trial) untilEOF(fd int, d time.Duration) string {
	p := make([]byte, 64)
	end := time.Now().Add(d)
	for {
		n, err := c.h.FDs.Read(fd, p)
		switch {
		case err == nil && n == 0:
			return ""
		case err != nil && !retry(err):
			return fmt.Sprintf("(%d, %v)", n, err)
		}
		if time.Now().After(end) {
			return fmt.Sprintf("(%d, %v)", n, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// allocsPerRun returns the average number of heap allocations in runs
// calls of f, after one call to warm up, as testing.AllocsPerRun does;
// unlike it, it may be called from a parallel test. The count is the
// process's, and the check that calls it runs alone among the suite's
// checks, but other tests of the process may still allocate: allocsPerRun
// returns the least of three rounds, which they would all have to hit.
func allocsPerRun(runs int, f func()) float64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	least := math.Inf(1)
	var ms runtime.MemStats
	for range 3 {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		for range runs {
			f()
		}
		runtime.ReadMemStats(&ms)
		least = min(least, float64(ms.Mallocs-before)/float64(runs))
	}
	return least
}
