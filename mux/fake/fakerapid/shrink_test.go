package fakerapid_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/mux/fake/fakerapid"
)

// The worked example of docs/guide-testing-with-fake.md, section
// "Shrinking a failing schedule": a client loop that sends a message to
// an echo server and reads it back, with a bug that only a short write
// followed by an EAGAIN provokes. docs/guide-testing-with-fake.md quotes
// this file.

// echoClient is the loop under test: it sends msg to the echo server at
// "echo:7" and returns what comes back. With resend, its flush has the
// bug: it counts what it has written in a variable of its own, so a
// flush that EAGAIN cuts short starts again from the first byte.
func echoClient(k *fake.Kernel, msg []byte, resend bool) ([]byte, error) {
	m, err := k.NewMux()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	fd, err := k.Dial("echo:7")
	if err != nil {
		return nil, err
	}
	defer k.Close(fd)
	if err := m.Add(fd, mux.Readable|mux.Writable); err != nil {
		return nil, err
	}
	defer m.Remove(fd)
	out, in := msg, []byte(nil)
	buf := make([]byte, 512)
	events := make([]mux.Event, 1)
	deadline := k.Now().Add(time.Second)
	for len(in) < len(msg) {
		n, err := m.Wait(events, deadline.Sub(k.Now()))
		switch {
		case err != nil:
			return in, err
		case n == 0 && !k.Now().Before(deadline):
			return in, errors.New("timed out")
		case n == 0:
			continue // woken early
		}
		if events[0].Events.Any(mux.Writable) && len(out) > 0 {
			if out, err = flush(k, fd, out, resend); err != nil {
				return in, err
			}
			if len(out) == 0 {
				m.Modify(fd, mux.Readable)
			}
		}
		for {
			n, err := k.Read(fd, buf)
			if err == syscall.EAGAIN {
				break
			}
			if err != nil || n == 0 {
				return in, fmt.Errorf("read: %d, %v", n, err)
			}
			in = append(in, buf[:n]...)
		}
	}
	return in, nil
}

// flush writes out until it is all written or the socket is full, and
// returns what is left to write.
func flush(k *fake.Kernel, fd int, out []byte, resend bool) ([]byte, error) {
	if resend {
		written := 0 // the bug: forgotten when EAGAIN ends the flush
		for written < len(out) {
			n, err := k.Write(fd, out[written:])
			if err == syscall.EAGAIN {
				return out, nil // the next flush starts again from out[0]
			}
			if err != nil {
				return out, err
			}
			written += n
		}
		return nil, nil
	}
	for len(out) > 0 {
		n, err := k.Write(fd, out)
		if err == syscall.EAGAIN {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = out[n:]
	}
	return nil, nil
}

// echoes is the property: under any schedule of the faults a correct loop
// survives, the message comes back as it was sent.
func echoes(resend bool) func(*rapid.T) {
	return func(t *rapid.T) {
		k := fake.New(fake.Config{
			Choices: fakerapid.Choices(t),
			Faults: fake.Faults{
				ShortWrite: 0.3, ShortRead: 0.3, Again: 0.2,
				Spurious: 0.1, Split: 0.3, EarlyWake: 0.1,
			},
		})
		k.Serve("echo:7", func(int) fake.Handler {
			return func(fd int, ev mux.Events) {
				buf := make([]byte, 4096)
				for n, err := k.Read(fd, buf); n > 0 && err == nil; n, err = k.Read(fd, buf) {
					k.Write(fd, buf[:n]) // the echo: faults never hit a peer
				}
			}
		})
		msg := bytes.Repeat([]byte("0123456789"), 100)
		got, err := echoClient(k, msg, resend)
		if err != nil || !bytes.Equal(got, msg) {
			at := 0
			for at < min(len(got), len(msg)) && got[at] == msg[at] {
				at++
			}
			t.Fatalf("sent %d bytes, got %d back (%v), first difference at byte %d; the faults:\n%s",
				len(msg), len(got), err, at, k.Schedule())
		}
	}
}

// TestEchoUnderFaults: the correct loop passes under every schedule of
// faults rapid tries.
func TestEchoUnderFaults(t *testing.T) {
	rapid.Check(t, echoes(false))
}

// TestShrinkToMinimalSchedule runs the property on the loop with the
// resend bug, through a rapid.TB that keeps what rapid reports. rapid
// finds a failing schedule among random ones, shrinks it to the two
// faults that matter — a short write, then EAGAIN on the rest — saves it
// under testdata/rapid, and replays it first on the next run.
func TestShrinkToMinimalSchedule(t *testing.T) {
	t.Chdir(t.TempDir()) // where rapid saves its fail file
	first := &reporter{name: t.Name()}
	rapid.Check(first, echoes(true))
	if !first.failed {
		t.Fatalf("rapid found no failing schedule for the loop with the resend bug; it said:\n%s", first.out.String())
	}
	schedule := scheduleIn(first.out.String())
	t.Logf("the minimal schedule rapid found:\n%s", strings.Join(schedule, "\n"))
	if len(schedule) < 2 || len(schedule) > 3 {
		t.Errorf("the shrunk schedule has %d faults; want the 2 or 3 that matter:\n%s", len(schedule), first.out.String())
	}
	if !slices.ContainsFunc(schedule, func(s string) bool { return strings.Contains(s, "short write of") }) ||
		!slices.ContainsFunc(schedule, func(s string) bool { return strings.Contains(s, "EAGAIN despite readiness") }) {
		t.Errorf("the shrunk schedule %q lacks a short write or an EAGAIN, which the bug needs both of", schedule)
	}
	saved, _ := filepath.Glob(filepath.Join("testdata", "rapid", "*", "*.fail"))
	if len(saved) != 1 {
		t.Fatalf("fail files under testdata/rapid: %v; want the one rapid saves", saved)
	}

	again := &reporter{name: t.Name()}
	rapid.Check(again, echoes(true))
	if !again.failed || !strings.Contains(again.out.String(), "failed after 0 tests") {
		t.Errorf("the second run did not fail at once on the saved schedule; rapid said:\n%s", again.out.String())
	}
	if got := scheduleIn(again.out.String()); !slices.Equal(got, schedule) {
		t.Errorf("the second run's schedule\n%s\nis not the saved one\n%s", strings.Join(got, "\n"), strings.Join(schedule, "\n"))
	}
}

// scheduleIn returns the lines of the last schedule a failure of echoes
// printed in out.
func scheduleIn(out string) []string {
	i := strings.LastIndex(out, "the faults:\n")
	if i < 0 {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(out[i+len("the faults:\n"):], "\n") {
		if !strings.HasPrefix(l, "at call ") {
			break
		}
		lines = append(lines, l)
	}
	return lines
}

// reporter is a rapid.TB that keeps what rapid reports instead of
// failing the test, so that a test can look at a failure rapid finds.
type reporter struct {
	name   string
	out    strings.Builder
	failed bool
}

func (r *reporter) Helper()                        {}
func (r *reporter) Name() string                   { return r.name }
func (r *reporter) Logf(format string, a ...any)   { fmt.Fprintf(&r.out, format+"\n", a...) }
func (r *reporter) Log(a ...any)                   { fmt.Fprintln(&r.out, a...) }
func (r *reporter) Errorf(format string, a ...any) { r.Logf(format, a...); r.failed = true }
func (r *reporter) Error(a ...any)                 { r.Log(a...); r.failed = true }
func (r *reporter) Fatalf(format string, a ...any) { r.Errorf(format, a...) }
func (r *reporter) Fatal(a ...any)                 { r.Error(a...) }
func (r *reporter) FailNow()                       { r.failed = true }
func (r *reporter) Fail()                          { r.failed = true }
func (r *reporter) Failed() bool                   { return r.failed }
func (r *reporter) Skipf(format string, a ...any)  { r.Logf(format, a...) }
func (r *reporter) Skip(a ...any)                  { r.Log(a...) }
func (r *reporter) SkipNow()                       {}
