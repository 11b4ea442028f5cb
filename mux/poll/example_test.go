//go:build unix

package poll_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/poll"
)

// Watch a pipe, and a regular file beside it: poll(2) accepts regular
// files and reports them always ready, where epoll refuses them.
func Example() {
	m, err := poll.New()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	r, w, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.CreateTemp("", "poll-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()

	rfd, ffd := int(r.Fd()), int(f.Fd())
	m.Add(rfd, mux.Readable)
	m.Add(ffd, mux.Readable)
	defer m.Remove(rfd) // Remove before close
	defer m.Remove(ffd)

	events := make([]mux.Event, 8)
	n, _ := m.Wait(events, 0)
	for _, ev := range events[:n] {
		fmt.Println("file:", ev.FD == ffd, ev.Events)
	}

	w.Write([]byte("x"))
	n, _ = m.Wait(events, time.Second)
	fmt.Println("ready after the write:", n)
	fmt.Println("regular files:", m.Info().RegularFiles)
	// Output:
	// file: true Readable
	// ready after the write: 2
	// regular files: true
}
