//go:build dragonfly || freebsd || netbsd || openbsd || solaris || illumos

package osmux

import "golang.org/x/sys/unix"

// pipe makes a close-on-exec, non-blocking pipe in one system call.
func pipe(p *[2]int) error {
	return unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK)
}
