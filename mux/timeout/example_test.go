//go:build unix

package timeout_test

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux/timeout"
)

// The loop of a Wait over poll(2): the deadline is fixed once, EINTR and
// early returns go round again with the time left, and the milliseconds
// handed to the kernel are rounded up.
func Example() {
	wait := func(fds []unix.PollFd, d time.Duration) (int, error) {
		dl := timeout.Start(d)
		left := min(d, timeout.Max)
		for {
			n, err := unix.Poll(fds, timeout.Millis(left))
			if err == unix.EINTR {
				left = dl.Left()
				continue
			}
			if n != 0 || err != nil {
				return n, err
			}
			if left = dl.Left(); left == 0 {
				return 0, nil
			}
		}
	}
	start := time.Now()
	n, err := wait(nil, 1500*time.Microsecond)
	fmt.Println(n, err, time.Since(start) >= 1500*time.Microsecond)
	fmt.Println(timeout.Millis(100 * time.Microsecond))
	// Output:
	// 0 <nil> true
	// 1
}
