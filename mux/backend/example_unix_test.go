//go:build unix

package backend_test

import (
	"fmt"
	"log"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// Open a backend by name, watch one end of a socketpair, and wait for it.
// backend.OpenDefault does the same with the best backend, or the one
// named by MUXKIT_BACKEND.
func Example() {
	m, err := backend.Open("poll")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(mux.Describe(m).Name)

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])

	if err := m.Add(fds[0], mux.Readable); err != nil {
		log.Fatal(err)
	}
	unix.Write(fds[1], []byte("hi"))

	events := make([]mux.Event, 8)
	n, err := m.Wait(events, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events[:n] {
		fmt.Println(ev.FD == fds[0], ev.Events)
	}
	// Output:
	// poll
	// true Readable
}
