package replay_test

import (
	"bytes"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/record"
	"github.com/muxkit/muxkit/statemachine"
)

// response is the server's answer: larger than a small send buffer and
// the client's receive window together, so that writing it takes short
// writes and EAGAIN.
var response = bytes.Repeat([]byte("0123456789abcdef"), 256<<10/16)

// outcome is how an exchange ended.
type outcome struct {
	client, server loop.Result
	err            error // Run's
}

// exchange is the code under test, recorded and replayed: a loop with a
// server of ServerConns that answers "big\n" with the response, and one
// client that asks for it and reads it readSize bytes at a time (0 for
// the default). The listener lfd is bound to addr.
func exchange(m mux.Multiplexer, sys loop.Sys, lfd int, addr string, readSize int) outcome {
	var o outcome
	l, err := loop.New(loop.Config{Mux: m, Sys: sys})
	if err != nil {
		o.err = err
		return o
	}
	left := 2
	finished := func() {
		if left--; left == 0 {
			l.Stop()
		}
	}
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{
			Handler: statemachine.HandlerFunc(func(dst, req []byte) []byte { return append(dst, response...) }),
		}, now)
		return &s
	}, func(r loop.Result) {
		if r.Task != nil { // the listener's own end has Task nil
			o.server = r
			finished()
		}
	})
	l.Dial(addr, func(now time.Time) loop.Task {
		c := statemachine.NewClient(statemachine.ClientConfig{
			Request:  []byte("big\n"),
			Framing:  statemachine.FixedLength(len(response)),
			ReadSize: readSize,
		}, now)
		return &c
	}, func(r loop.Result) {
		o.client = r
		finished()
	})
	o.err = l.Run()
	return o
}

// dialed returns the address of the first Dial of rec.
func dialed(rec *record.Recording) string {
	for _, c := range rec.Calls {
		if c.Op == record.OpDial {
			return c.Addr
		}
	}
	return ""
}

// find returns the first call of rec that keep accepts, or nil.
func find(rec *record.Recording, keep func(c *record.Call) bool) *record.Call {
	for i := range rec.Calls {
		if keep(&rec.Calls[i]) {
			return &rec.Calls[i]
		}
	}
	return nil
}

// at returns calls[i] formatted, or "(none)".
func at(calls []record.Call, i int) string {
	if i < len(calls) {
		return calls[i].String()
	}
	return "(none)"
}
