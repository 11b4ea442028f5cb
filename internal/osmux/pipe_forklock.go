//go:build darwin || aix

package osmux

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pipe makes a close-on-exec, non-blocking pipe where pipe2 does not
// exist. syscall.ForkLock keeps a concurrent fork+exec from inheriting the
// descriptors before they are marked close-on-exec, as package os does.
func pipe(p *[2]int) error {
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return err
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return err
		}
	}
	return nil
}
