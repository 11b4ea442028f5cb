package statemachine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// A loop that reports more bytes than a machine asked for has a bug; the
// machine fails with ErrBadResult instead of panicking or trusting it.
func TestBadResultFails(t *testing.T) {
	now := time.Unix(0, 0)
	c := statemachine.NewClient(statemachine.ClientConfig{
		Request: []byte("ping"),
		Framing: statemachine.FixedLength(4),
	}, now)
	c.Step(statemachine.Ready(mux.Writable))
	out := c.Step(statemachine.Connected(nil))
	if out.Op != statemachine.OpWrite {
		t.Fatalf("client given Connected(nil): Op = %v; want OpWrite", out.Op)
	}
	out = c.Step(statemachine.Wrote(len(out.Data)+1, nil))
	if !out.Close || !errors.Is(out.Err, statemachine.ErrBadResult) || c.State() != statemachine.Failed {
		t.Errorf("Wrote(len+1): Close=%v Err=%v State=%v; want Close, ErrBadResult, Failed", out.Close, out.Err, c.State())
	}

	s := statemachine.NewServerConn(statemachine.ServerConfig{
		Framing: statemachine.Line,
		Handler: statemachine.Echo{},
	}, now)
	out = s.Step(statemachine.Ready(mux.Readable))
	if out.Op != statemachine.OpRead {
		t.Fatalf("server given Readable: Op = %v; want OpRead", out.Op)
	}
	out = s.Step(statemachine.Read(make([]byte, out.Max+1), nil))
	if !out.Close || !errors.Is(out.Err, statemachine.ErrBadResult) || s.State() != statemachine.Failed {
		t.Errorf("Read(max+1 bytes): Close=%v Err=%v State=%v; want Close, ErrBadResult, Failed", out.Close, out.Err, s.State())
	}
}
