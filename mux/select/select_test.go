//go:build unix

package selectmux

import (
	"testing"
	"time"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
)

// TestClosedFDBlocking checks select's hunt for a descriptor closed while
// added, for a Wait that blocks: select fails as a whole with EBADF and
// does not say which descriptor is bad, so the backend finds it, ends the
// blocked Wait with Error for it alone, and the next Wait, after its
// Remove, blocks again normally.
func TestClosedFDBlocking(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	fds := conformance.OS(nil).FDs
	a, b, err := fds.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer fds.Close(b)
	c, d, err := fds.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer fds.Close(c)
	defer fds.Close(d)
	for _, fd := range []int{a, c} {
		if err := m.Add(fd, mux.Readable); err != nil {
			t.Fatal(err)
		}
	}
	if err := fds.Close(a); err != nil {
		t.Fatal(err)
	}
	evs := make([]mux.Event, 4)
	n, err := m.Wait(evs, -1)
	if err != nil || n != 1 || evs[0] != (mux.Event{FD: a, Events: mux.Error}) {
		t.Fatalf("Wait(-1) with fd %d closed while added = %v, %v; want exactly fd %d Error", a, evs[:max(n, 0)], err, a)
	}
	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove of the closed fd = %v; want nil", err)
	}
	const wait = 30 * time.Millisecond
	start := time.Now()
	if n, err := m.Wait(evs, wait); n != 0 || err != nil || time.Since(start) < wait {
		t.Fatalf("Wait(%v) after Remove of the closed fd = %v, %v after %v; want 0, nil after the full timeout (no spinning, no EBADF)", wait, evs[:max(n, 0)], err, time.Since(start))
	}
}
