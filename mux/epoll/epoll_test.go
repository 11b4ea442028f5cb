//go:build linux

package epoll

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
)

// The contract is checked by the suite (conformance_test.go). These tests
// check what is epoll's own: the errno values it wraps, and how it treats
// a descriptor closed without Remove (see the package documentation).
// Package internal/osmux tests its self-description and its mapping of
// what the kernel reports.

func newMux(t *testing.T) *Mux {
	t.Helper()
	m, err := New()
	if err != nil {
		t.Fatalf("New() = %v; want a Mux", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// pair returns a connected pair of non-blocking stream sockets, closed at
// the end of the test unless closed before.
func pair(t *testing.T) (a, b int) {
	t.Helper()
	a, b, err := conformance.OS(nil).FDs.Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(a); unix.Close(b) })
	return a, b
}

func wantErr(t *testing.T, call string, err error, wants ...error) {
	t.Helper()
	for _, w := range wants {
		if !errors.Is(err, w) {
			t.Errorf("%s = %v; want an error wrapping %v", call, err, w)
		}
	}
}

// TestInfoMillis checks the self-description of the millisecond path;
// package internal/osmux checks the others.
func TestInfoMillis(t *testing.T) {
	m, err := NewMillis()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if res := m.Info().Resolution; res != time.Millisecond {
		t.Errorf("Info().Resolution without epoll_pwait2 = %v; want 1ms", res)
	}
}

// TestRefused checks that a regular file and /dev/null are refused with
// ErrInvalid wrapping the kernel's EPERM, with nothing left registered.
func TestRefused(t *testing.T) {
	m := newMux(t)
	f, err := unix.Open(filepath.Join(t.TempDir(), "f"), unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(f)
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(null)
	for _, fd := range []int{f, null} {
		wantErr(t, "Add(regular file)", m.Add(fd, mux.Readable), mux.ErrInvalid, unix.EPERM)
		wantErr(t, "Remove(refused file)", m.Remove(fd), mux.ErrNotAdded)
		wantErr(t, "Modify(refused file)", m.Modify(fd, mux.Readable), mux.ErrNotAdded)
	}
}

// TestClosedWithoutRemove checks the choices the package documentation
// states for a descriptor closed without Remove: epoll has dropped it, so
// Modify is ErrBadFD, wrapping EBADF while the number is closed and ENOENT
// once it names another file; Add of the reused number is ErrExists until
// Remove, which succeeds; then the number is added and served again.
func TestClosedWithoutRemove(t *testing.T) {
	m := newMux(t)
	a, _ := pair(t)
	if err := m.Add(a, mux.Readable); err != nil {
		t.Fatal(err)
	}
	unix.Close(a)
	wantErr(t, "Modify(closed while added)", m.Modify(a, mux.Writable), mux.ErrBadFD, unix.EBADF)

	// The number, reused for a socket whose peer is y.
	x, y := pair(t)
	switch a {
	case x:
	case y:
		y = x
	default:
		if err := unix.Dup3(x, a, unix.O_CLOEXEC); err != nil {
			t.Fatalf("dup3(%d, %d): %v", x, a, err)
		}
	}
	if _, err := unix.Write(y, []byte("x")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Add(number reused without Remove)", m.Add(a, mux.Readable), mux.ErrExists)
	wantErr(t, "Modify(number reused without Remove)", m.Modify(a, mux.Readable), mux.ErrBadFD, unix.ENOENT)
	if err := m.Remove(a); err != nil {
		t.Fatalf("Remove(number reused without Remove) = %v; want nil", err)
	}
	if err := m.Add(a, mux.Readable); err != nil {
		t.Fatalf("Add of the reused number after Remove = %v; want nil", err)
	}
	events := make([]mux.Event, 4)
	if n, err := m.Wait(events, 5*time.Second); err != nil || n != 1 || events[0] != (mux.Event{FD: a, Events: mux.Readable}) {
		t.Errorf("Wait after Remove and Add of the reused number = %v, %v; want fd %d Readable", events[:max(n, 0)], err, a)
	}
}
