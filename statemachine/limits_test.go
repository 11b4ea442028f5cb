package statemachine_test

import (
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// TestHugeLimits: limits as large as an int can be are limits like any
// other. A read's Max stays between 1 and ReadSize, however large
// MaxResponse and ReadSize are; nothing overflows.
func TestHugeLimits(t *testing.T) {
	now := time.Unix(0, 0)
	for _, tc := range []struct{ maxResponse, readSize, want int }{
		{math.MaxInt, 0, statemachine.DefaultReadSize},
		{math.MaxInt, 10, 10},
		{math.MaxInt - 1, math.MaxInt, math.MaxInt},
		{math.MaxInt, math.MaxInt, math.MaxInt},
		{3, math.MaxInt, 4}, // the limit, and one byte to see that it is exceeded
	} {
		c := statemachine.NewClient(statemachine.ClientConfig{
			Framing:     statemachine.Line,
			MaxResponse: tc.maxResponse,
			ReadSize:    tc.readSize,
		}, now)
		c.Step(statemachine.Connected(nil)) // no request: receiving at once
		out := c.Step(statemachine.Ready(mux.Readable))
		if out.Op != statemachine.OpRead || out.Max != tc.want {
			t.Errorf("MaxResponse %d, ReadSize %d: Op %v, Max %d; want a read of up to %d bytes", tc.maxResponse, tc.readSize, out.Op, out.Max, tc.want)
			continue
		}
		out = c.Step(statemachine.Read([]byte("ok"), nil))
		if out.Op != statemachine.OpRead || out.Max < 1 || out.Max > tc.want {
			t.Errorf("MaxResponse %d, ReadSize %d: after 2 bytes, Op %v, Max %d; want a read of 1 to %d bytes", tc.maxResponse, tc.readSize, out.Op, out.Max, tc.want)
		}
	}

	s := statemachine.NewServerConn(statemachine.ServerConfig{
		MaxQueued:  math.MaxInt,
		MaxRequest: math.MaxInt,
		ReadSize:   math.MaxInt,
	}, now)
	out := s.Step(statemachine.Ready(mux.Readable))
	if out.Op != statemachine.OpRead || out.Max != math.MaxInt {
		t.Errorf("ServerConn with every limit at MaxInt: Op %v, Max %d; want a read of up to MaxInt bytes", out.Op, out.Max)
	}
	s.Step(statemachine.Read([]byte("hi\n"), nil))
	s.Step(statemachine.Read(nil, syscall.EAGAIN))
	out = s.Step(statemachine.Ready(mux.Writable))
	if out.Op != statemachine.OpWrite || string(out.Data) != "hi\n" {
		t.Errorf("ServerConn with every limit at MaxInt, given a line: Op %v, Data %q, Err %v; want the echo written", out.Op, out.Data, s.Err())
	}
}
