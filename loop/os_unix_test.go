//go:build unix

package loop_test

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/loop"
)

// acceptOne accepts the connection pending on the non-blocking listener
// lfd, waiting for it up to 10 seconds.
func acceptOne(t testing.TB, s loop.Sys, lfd int) int {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fd, err := s.Accept(lfd)
		if err == nil {
			return fd
		}
		if err != unix.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("Accept(%d) = %v; want the pending connection", lfd, err)
		}
		unix.Poll(pfd, 100)
	}
}

// connected returns a listener of s on 127.0.0.1, a connection dialed to
// it and the one accepted from it, all closed when the test ends.
func connected(t *testing.T, s loop.Sys) (lfd, cfd, afd int) {
	t.Helper()
	lfd, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	t.Cleanup(func() { s.Close(lfd) })
	cfd, err = s.Dial(resolver(t)(lfd))
	if err != nil {
		t.Fatalf("Dial = %v", err)
	}
	t.Cleanup(func() { s.Close(cfd) })
	afd = acceptOne(t, s, lfd)
	t.Cleanup(func() { s.Close(afd) })
	return lfd, cfd, afd
}

// TestOSNoDelay: the TCP connections OS dials and accepts have Nagle's
// algorithm off, as package net's do, so that a second small write is not
// held back for the peer's delayed acknowledgement.
func TestOSNoDelay(t *testing.T) {
	_, cfd, afd := connected(t, loop.OS())
	for what, fd := range map[string]int{"dialed": cfd, "accepted": afd} {
		v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		if err != nil || v == 0 {
			t.Errorf("TCP_NODELAY of the %s connection = %d, %v; want it on", what, v, err)
		}
	}
}

// TestOSAcceptUnixDomain: a Unix-domain listener given to the loop is
// accepted from as before: TCP_NODELAY, which such a socket does not
// have, is no error.
func TestOSAcceptUnixDomain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	lfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket = %v", err)
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatalf("bind = %v", err)
	}
	if err := unix.Listen(lfd, 1); err != nil {
		t.Fatalf("listen = %v", err)
	}
	if err := unix.SetNonblock(lfd, true); err != nil {
		t.Fatalf("set non-blocking = %v", err)
	}
	cfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket = %v", err)
	}
	defer unix.Close(cfd)
	if err := unix.Connect(cfd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatalf("connect = %v", err)
	}
	s := loop.OS()
	afd := acceptOne(t, s, lfd)
	defer s.Close(afd)
	if n, err := unix.Write(cfd, []byte("x")); n != 1 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	// A stream socket of the Unix domain delivers within write: the byte
	// is there to read at once.
	buf := make([]byte, 1)
	if n, err := s.Read(afd, buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Fatalf("Read of the accepted connection = %d, %v, %q; want the byte written", n, err, buf[:n])
	}
}

// TestOSDescriptorFlags: what OS listens on, dials and accepts is
// non-blocking, which the loop needs, and close-on-exec, so that a
// program that starts others does not hand them its connections.
func TestOSDescriptorFlags(t *testing.T) {
	lfd, cfd, afd := connected(t, loop.OS())
	for what, fd := range map[string]int{"listening": lfd, "dialed": cfd, "accepted": afd} {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK == 0 {
			t.Errorf("the %s socket's file status flags = %#x, %v; want O_NONBLOCK set", what, fl, err)
		}
		df, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || df&unix.FD_CLOEXEC == 0 {
			t.Errorf("the %s socket's descriptor flags = %#x, %v; want FD_CLOEXEC set", what, df, err)
		}
	}
}
