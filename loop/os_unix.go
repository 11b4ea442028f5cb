//go:build unix

package loop

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// OS returns the [Sys] of the operating system: real descriptors, TCP
// addresses written as an IP literal and a port ("127.0.0.1:8080",
// "[::1]:8080"), and the real clock. It exists on Unix systems only.
//
// The descriptors it makes are non-blocking and close-on-exec, set by the
// call that makes them (socket, accept4) on Linux, FreeBSD, DragonFly and
// illumos, and right after it elsewhere.
//
// The TCP connections it dials and accepts send at once (TCP_NODELAY), as
// those of package net do: with Nagle's algorithm on, the second of two
// small writes — the rest of a response after a short write, a request
// sent in two parts — waits for the peer's acknowledgement of the first,
// which a peer delaying its acknowledgements holds back for tens of
// milliseconds.
func OS() Sys { return &osSys{} }

// osSys implements Sys with golang.org/x/sys/unix. Its methods take a
// pointer, so that a call through Sys reaches them without a wrapper.
type osSys struct{}

func (*osSys) Read(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		return max(n, 0), err
	}
}

func (*osSys) Write(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		return max(n, 0), err
	}
}

func (*osSys) Close(fd int) error { return unix.Close(fd) }

func (*osSys) SockErr(fd int) error {
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if errno != 0 {
		return unix.Errno(errno)
	}
	return nil
}

func (*osSys) Accept(fd int) (int, error) {
	for {
		nfd, err := accept(fd)
		switch err {
		case nil:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		default:
			return -1, err
		}
		noDelay(nfd)
		return nfd, nil
	}
}

func (*osSys) Dial(addr string) (int, error) {
	fd, sa, err := socketFor(addr)
	if err != nil {
		return -1, err
	}
	noDelay(fd)
	if err := unix.Connect(fd, sa); err != nil && !inProgress(err) {
		unix.Close(fd)
		return -1, fmt.Errorf("connect %s: %w", addr, err)
	}
	return fd, nil
}

func (*osSys) Listen(addr string) (int, error) {
	fd, sa, err := socketFor(addr)
	if err != nil {
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("setsockopt SO_REUSEADDR: %w", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind %s: %w", addr, err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen %s: %w", addr, err)
	}
	return fd, nil
}

func (*osSys) Now() time.Time { return time.Now() }

// socketFor returns a new non-blocking, close-on-exec TCP socket of the
// family of addr, and addr as a sockaddr.
func socketFor(addr string) (int, unix.Sockaddr, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return -1, nil, fmt.Errorf("address %q: want an IP literal and a port: %w", addr, err)
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip := ap.Addr().Unmap(); ip.Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	}
	fd, err := newSocket(family)
	if err != nil {
		return -1, nil, fmt.Errorf("socket: %w", err)
	}
	return fd, sa, nil
}

// noDelay turns Nagle's algorithm off on fd. It fails, and is meant to,
// on a descriptor that is no TCP socket — one accepted from a Unix-domain
// listener given to Serve — where there is nothing to turn off.
func noDelay(fd int) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}
