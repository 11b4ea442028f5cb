//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "peers: runs on Linux only (epoll, schedstat, perf_event_open)")
	os.Exit(1)
}
