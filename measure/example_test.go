//go:build unix

package measure_test

import (
	"fmt"
	"log"
	"time"

	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux/backend"
)

// Price a backend's Wait against its raw loop: one ready descriptor among
// ten idle ones, both sides run in alternating chunks. The ratio is what
// to quote; the times depend on the machine.
func ExampleCompare() {
	be, err := backend.Lookup("poll")
	if err != nil {
		log.Fatal(err)
	}
	s, err := measure.Wait(be, 10)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	c, err := measure.Compare(s, 3, time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rounds:", c.Rounds, "ratio measured:", c.Ratio > 0)
	// Output: rounds: 3 ratio measured: true
}

func ExampleSummarize() {
	ms := time.Millisecond
	s := measure.Summarize([]time.Duration{3 * ms, 1 * ms, 2 * ms, 10 * ms})
	fmt.Println(s.N, s.Min, s.Median, s.P99, s.Max)
	// Output: 4 1ms 2.5ms 10ms 10ms
}
