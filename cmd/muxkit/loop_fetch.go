//go:build unix

package main

import (
	"fmt"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/statemachine"
)

// A fetchResult is the outcome of one exchange.
type fetchResult struct {
	Start, End time.Duration // since fetchAll started
	Response   []byte        // the whole response, head included; nil on failure
	Err        error         // why the exchange failed
}

// fetchAll fetches every target at once on the calling goroutine: it runs
// a loop over m with one statemachine.Client per target, and returns when
// every exchange has finished or failed, with the results in the order of
// targets. The error is for a loop that could not run; the exchanges'
// failures are in the results.
func fetchAll(m mux.Multiplexer, targets []target, opt fetchOptions) ([]fetchResult, error) {
	results := make([]fetchResult, len(targets))
	if len(targets) == 0 {
		return results, nil
	}
	sys := loop.OS()
	l, err := loop.New(loop.Config{Mux: m, Sys: sys, MaxTasks: len(targets)})
	if err != nil {
		return nil, err
	}
	start := sys.Now()
	for i, t := range targets {
		r := &results[i]
		newTask := func(now time.Time) loop.Task {
			r.Start = now.Sub(start)
			c := statemachine.NewClient(statemachine.ClientConfig{
				Request:        t.Request,
				Framing:        statemachine.HTTPResponse{Method: "GET"},
				ConnectTimeout: opt.ConnectTimeout,
				Timeout:        opt.Timeout,
				MaxResponse:    opt.MaxResponse,
				ReadSize:       loop.DefaultReadBuffer,
			}, now)
			return &c
		}
		done := func(res loop.Result) {
			r.End = sys.Now().Sub(start)
			r.Err = res.Err
			if res.Err == nil {
				r.Response = res.Task.(*statemachine.Client).Response()
			}
		}
		if err := l.Dial(t.Addr.String(), newTask, done); err != nil {
			return nil, fmt.Errorf("%s: %w", t.URL, err)
		}
	}
	// A graceful stop before Run: Run takes no more work, and returns once
	// every exchange submitted above has finished or failed.
	l.Stop()
	if err := l.Run(); err != nil {
		return nil, err
	}
	return results, nil
}
