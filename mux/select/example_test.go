//go:build unix

package selectmux_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	selectmux "github.com/muxkit/muxkit/mux/select"
)

// select(2) watches descriptors below FD_SETSIZE only: Info.MaxFD says so,
// and Add refuses a larger one with ErrFDLimit instead of corrupting an
// fd_set.
func Example() {
	m, err := selectmux.New()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	in := m.Info()
	fmt.Println(in.Name, "max fd", in.MaxFD-1)

	err = m.Add(in.MaxFD, mux.Readable)
	fmt.Println("beyond the limit:", errors.Is(err, mux.ErrFDLimit))

	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	m.Add(p[0], mux.Readable)
	defer m.Remove(p[0])
	unix.Write(p[1], []byte("x"))

	events := make([]mux.Event, 8)
	n, err := m.Wait(events, time.Second)
	fmt.Println(n, err, events[0].FD == p[0], events[0].Events)
	// Output:
	// select max fd 1023
	// beyond the limit: true
	// 1 <nil> true Readable
}
