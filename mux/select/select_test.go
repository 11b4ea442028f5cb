package selectmux

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/pollset/pollsettest"
	"github.com/muxkit/muxkit/mux"
)

func newMux() (pollsettest.Mux, error) { return New() }

func TestShared(t *testing.T) { pollsettest.Run(t, newMux) }

func TestInfo(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in := m.Info()
	if in != mux.Describe(m) {
		t.Errorf("mux.Describe(m) = %v; want m.Info() = %v", mux.Describe(m), in)
	}
	want := mux.Readable | mux.Writable | mux.Priority | mux.Error
	if in.Name != "select" || in.MaxFD != 1024 || in.Reports != want || in.Scales || !in.RegularFiles {
		t.Errorf("Info() = %+v; want name select, MaxFD 1024, Reports %v, Scales false, RegularFiles true", in, want)
	}
	wantRes := time.Microsecond
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" {
		wantRes = time.Nanosecond
	}
	if in.Resolution != wantRes {
		t.Errorf("Info().Resolution = %v; want %v", in.Resolution, wantRes)
	}
}

// TestFDLimit checks that an fd >= FD_SETSIZE is refused with ErrFDLimit
// (unix.FdSet.Set would panic) and leaves the Multiplexer working.
func TestFDLimit(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// Without a real descriptor: the limit is checked before the OS is asked.
	for _, fd := range []int{unix.FD_SETSIZE, 1 << 20} {
		if err := m.Add(fd, mux.Readable); !errors.Is(err, mux.ErrFDLimit) {
			t.Errorf("Add(%d) = %v; want ErrFDLimit", fd, err)
		}
	}

	const high = 1500
	if err := pollsettest.RaiseNOFILE(high + 1); err != nil {
		t.Skipf("cannot allow fd %d: %v", high, err)
	}
	a, b := pollsettest.Pair(t)
	if err := unix.Dup2(a, high); err != nil {
		t.Skipf("dup2 to %d: %v", high, err)
	}
	pollsettest.CloseLater(t, high)
	if err := m.Add(high, mux.Readable); !errors.Is(err, mux.ErrFDLimit) {
		t.Fatalf("Add(%d) of an open socket = %v; want ErrFDLimit (select watches fds < %d only)", high, err, unix.FD_SETSIZE)
	}
	if err := m.Add(a, mux.Readable); err != nil {
		t.Fatalf("Add(%d) after the refusal = %v; want nil", a, err)
	}
	unix.Write(b, []byte{1})
	evs := make([]mux.Event, 2)
	n, err := m.Wait(evs, 5*time.Second)
	if err != nil || n != 1 || evs[0] != (mux.Event{FD: a, Events: mux.Readable}) {
		t.Fatalf("Wait = %v, %v; want fd %d Readable", evs[:max(n, 0)], err, a)
	}
}

// TestClosedFDBlocking checks rule 10 for a Wait that blocks: a closed fd
// that fails select with EBADF ends a blocked Wait with Error for it, and
// the next Wait, after its Remove, blocks again normally.
func TestClosedFDBlocking(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, b := pollsettest.Pair(t)
	c, _ := pollsettest.Pair(t)
	if err := m.Add(a, mux.Readable); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(c, mux.Readable); err != nil {
		t.Fatal(err)
	}
	pollsettest.Close(t, a)
	pollsettest.Close(t, b)
	evs := make([]mux.Event, 4)
	n, err := m.Wait(evs, -1)
	if err != nil || n != 1 || evs[0] != (mux.Event{FD: a, Events: mux.Error}) {
		t.Fatalf("Wait(-1) with fd %d closed while added = %v, %v; want exactly fd %d Error", a, evs[:max(n, 0)], err, a)
	}
	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove of the closed fd = %v; want nil", err)
	}
	const d = 30 * time.Millisecond
	start := time.Now()
	if n, err := m.Wait(evs, d); n != 0 || err != nil || time.Since(start) < d {
		t.Fatalf("Wait(%v) after Remove of the closed fd = %v, %v after %v; want 0, nil after the full timeout (no spinning, no EBADF)", d, evs[:max(n, 0)], err, time.Since(start))
	}
}
