package mux_test

import (
	"fmt"

	"github.com/muxkit/muxkit/mux"
)

// Events.Has asks "all of", Events.Any "any of". A loop reads when any of
// Readable, Hangup or Error is reported: each means a read will not block.
func ExampleEvents_Any() {
	ev := mux.Readable | mux.ReadHangup
	fmt.Println(ev.Any(mux.Readable|mux.Hangup|mux.Error), ev.Has(mux.Readable|mux.Hangup))
	fmt.Println(ev)
	// Output:
	// true false
	// Readable|ReadHangup
}
