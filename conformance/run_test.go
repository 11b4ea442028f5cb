package conformance

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// stub is a Multiplexer for testing the suite's machinery: Wait reports
// events, and Wait and Wake block until release is closed if asked to.
type stub struct {
	events    []mux.Event
	blockWait bool
	blockWake bool
	release   chan struct{}
}

func (*stub) Add(int, mux.Events) error    { return nil }
func (*stub) Modify(int, mux.Events) error { return nil }
func (*stub) Remove(int) error             { return nil }
func (*stub) Close() error                 { return nil }

func (s *stub) Wait(events []mux.Event, _ time.Duration) (int, error) {
	if s.blockWait {
		<-s.release
	}
	return copy(events, s.events), nil
}

func (s *stub) Wake() error {
	if s.blockWake {
		<-s.release
	}
	return nil
}

// runStub runs one check of rule 7 on s and returns its result.
func runStub(t *testing.T, s *stub, fn func(c *trial)) Result {
	t.Helper()
	s.release = make(chan struct{})
	t.Cleanup(func() { close(s.release) })
	h, err := Harness{
		New:  func() (mux.Multiplexer, error) { return s, nil },
		Info: mux.Info{Name: "stub", Reports: mux.Readable | mux.Writable, Resolution: time.Millisecond},
		FDs:  struct{ FDs }{}, // the checks here make no descriptors: any call would panic
	}.complete()
	if err != nil {
		t.Fatal(err)
	}
	return run(h, check{rule: 7, slug: "test", fn: fn})
}

// nextLine returns "run_test.go:N" for the line after the caller's.
func nextLine() string {
	_, _, line, _ := runtime.Caller(1)
	return "run_test.go:" + strconv.Itoa(line+1)
}

func TestFailureNamesTheCheckLine(t *testing.T) {
	var direct, viaWait, viaAsync string
	r := runStub(t, &stub{events: []mux.Event{{FD: 999, Events: mux.Readable}}}, func(c *trial) {
		direct = nextLine()
		c.Errorf("wanted something else")
		viaWait = nextLine()
		c.wait(4, 0)
		viaAsync = nextLine()
		ch := c.waitAsync(4, 0)
		<-ch
	})
	if r.Status != Fail || len(r.Messages) != 3 {
		t.Fatalf("result = %v %q; want three failures", r.Status, r.Messages)
	}
	for i, want := range []string{direct + ": rule 7: wanted something else", viaWait + ": rule 3/7:", viaAsync + ": rule 3/7:"} {
		if !strings.HasPrefix(r.Messages[i], want) {
			t.Errorf("failure %d = %q; want it to start with %q: the check's own line, not the helper's", i+1, r.Messages[i], want)
		}
	}
}

func TestWatchdogNamesTheCall(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *stub
		call func(m mux.Multiplexer)
		want string
	}{
		{"Wake", &stub{blockWake: true}, func(m mux.Multiplexer) { m.Wake() }, "Wake() has not returned"},
		{"Wait", &stub{blockWait: true}, func(m mux.Multiplexer) { m.Wait(make([]mux.Event, 3), 10*time.Millisecond) },
			"Wait(make([]mux.Event, 3), 10ms) has not returned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var at string
			r := runStub(t, tc.s, func(c *trial) {
				at = location()
				tc.call(c.m)
			})
			if r.Status != Fail || len(r.Messages) != 1 || !strings.Contains(r.Messages[0], tc.want) {
				t.Fatalf("a check whose %s never returns: %v %q; want one failure saying %q", tc.name, r.Status, r.Messages, tc.want)
			}
			// The check is the function literal above: its line, in this file.
			if !strings.HasPrefix(r.Messages[0], "run_test.go:") || !strings.Contains(r.Messages[0], "rule 7: hung") {
				t.Errorf("failure = %q; want it located in the check (near %s) and naming rule 7", r.Messages[0], at)
			}
			if limit := callGrace + 2*time.Second; r.Elapsed > limit {
				t.Errorf("the hung check took %v; want it given up within %v (the call's grace, not the whole watchdog)", r.Elapsed, limit)
			}
		})
	}
}
