package statemachine_test

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// This example plays the part of an event loop by hand: the connect is in
// progress, the first write is short, the second would block, and the
// response arrives in two reads.
func ExampleClient() {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := statemachine.NewClient(statemachine.ClientConfig{
		Request: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		Framing: statemachine.HTTPResponse{Method: "GET"},
		Timeout: 5 * time.Second,
	}, start)
	deadline, _ := c.Deadline()
	fmt.Printf("add fd with %v; deadline in %v\n", c.Interest(), deadline.Sub(start))

	show := func(in statemachine.Input) statemachine.Output {
		out := c.Step(in)
		// The errno's text is the system's: print its name instead.
		shown := strings.ReplaceAll(in.String(), syscall.EAGAIN.Error(), "EAGAIN")
		fmt.Printf("%-28s -> %-9v %v", shown, c.State(), out.Op)
		switch out.Op {
		case statemachine.OpWrite:
			fmt.Printf(" %d bytes", len(out.Data))
		case statemachine.OpRead:
			fmt.Printf(" up to %d", out.Max)
		}
		if out.SetInterest {
			fmt.Printf(", interest %v", out.Interest)
		}
		if out.Close {
			fmt.Printf(", close (err %v)", out.Err)
		}
		fmt.Println()
		return out
	}

	show(statemachine.Ready(mux.Writable))       // the connect finished: check it
	show(statemachine.Connected(nil))            // SO_ERROR was 0: write the request
	show(statemachine.Wrote(10, nil))            // a short write: write the rest
	show(statemachine.Wrote(-1, syscall.EAGAIN)) // the buffer is full: wait
	show(statemachine.Ready(mux.Writable))
	show(statemachine.Wrote(17, nil)) // all sent: wait for the response
	show(statemachine.Ready(mux.Readable))
	show(statemachine.Read([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), nil))
	show(statemachine.Read(nil, syscall.EAGAIN))
	show(statemachine.Ready(mux.Readable))
	show(statemachine.Read([]byte("lo"), nil))
	fmt.Printf("response: %q\n", c.Response())

	// Output:
	// add fd with Writable; deadline in 5s
	// Ready(Writable)              -> Connecting check connect
	// Connected(nil)               -> Sending   write 27 bytes
	// Wrote(10, nil)               -> Sending   write 17 bytes
	// Wrote(0, EAGAIN)             -> Sending   none
	// Ready(Writable)              -> Sending   write 17 bytes
	// Wrote(17, nil)               -> Receiving none, interest Readable
	// Ready(Readable)              -> Receiving read up to 4096
	// Read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", nil) -> Receiving read up to 4096
	// Read("", EAGAIN)             -> Receiving none
	// Ready(Readable)              -> Receiving read up to 4096
	// Read("lo", nil)              -> Done      none, close (err <nil>)
	// response: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
}
