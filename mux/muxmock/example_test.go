package muxmock_test

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/mock/gomock"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/muxmock"
)

// drain is the code under test: a small loop that watches fd until its
// peer hangs up, then removes it, and stops when the Multiplexer is closed.
func drain(m mux.Multiplexer, fd int, read func(fd int)) error {
	if err := m.Add(fd, mux.Readable); err != nil {
		return err
	}
	events := make([]mux.Event, 16)
	for {
		n, err := m.Wait(events, time.Second)
		if errors.Is(err, mux.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			if ev.Events.Any(mux.Readable | mux.Hangup | mux.Error) {
				read(ev.FD)
			}
			if ev.Events.Any(mux.Hangup | mux.Error) {
				if err := m.Remove(ev.FD); err != nil {
					return err
				}
			}
		}
	}
}

// printer reports a broken expectation by printing it; in a test, pass
// the *testing.T to gomock.NewController instead.
type printer struct{}

func (printer) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (printer) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Script Wait's answers and check the order of the loop's calls: the
// descriptor is read on the hangup and removed before the loop goes back
// to Wait, which then reports the Multiplexer closed.
func Example() {
	ctrl := gomock.NewController(printer{})
	m := muxmock.NewMockMultiplexer(ctrl)

	const fd = 7
	hangup := func(events []mux.Event, _ time.Duration) (int, error) {
		events[0] = mux.Event{FD: fd, Events: mux.Readable | mux.Hangup}
		return 1, nil
	}
	gomock.InOrder(
		m.EXPECT().Add(fd, mux.Readable).Return(nil),
		m.EXPECT().Wait(gomock.Any(), time.Second).DoAndReturn(hangup),
		m.EXPECT().Remove(fd).Return(nil),
		m.EXPECT().Wait(gomock.Any(), time.Second).Return(0, &mux.OpError{Op: "wait", FD: -1, Kind: mux.ErrClosed}),
	)

	err := drain(m, fd, func(fd int) { fmt.Println("read fd", fd) })
	ctrl.Finish() // fails if an expected call was not made
	fmt.Println("drain:", err)
	// Output:
	// read fd 7
	// drain: <nil>
}
