// Command peers measures muxkit's loop against other event loops the way a
// user would meet them: TCP echo servers on 127.0.0.1, each in a process of
// its own pinned to one core with GOMAXPROCS=1, against a load generator —
// raw epoll on one thread — in a process pinned to another core, with C
// connections each ping-ponging one line at a time. It prints one table:
// round trips per second, p50 and p99 latency, the server's CPU time and
// system calls per round trip, and how busy each side was.
//
//	go run ./cmd/peers                            # every server, C = 1, 50, 500: medians of 3 runs of 3s (about 4 minutes)
//	go run ./cmd/peers -runs 1 -d 1s -c 50        # one quick run at C = 50
//	go run ./cmd/peers -servers loop,raw -syscalls 0 # two servers, no system-call pass
//
// The timed runs go round the servers in turn, in another order each run
// (over a cycle of runs each server comes first, and right after each
// other, equally often), so that a change in the machine's load, or what
// one server leaves behind, hits them all alike; the ratios to the raw
// epoll server are taken run by run before the median. System calls are
// counted afterwards, in a pass of their own, with the kernel's
// system-call tracepoints (perf_event_open), which slow every system call
// while on.
//
// It fails (exit status 1) if any server's echo differs by one byte from
// what was sent, closes a connection, or answers nothing. A window in
// which nothing could be measured — no round trip, or the load generator
// held up past its middle, as a process waiting for its core on a busy
// machine may be — is made again, up to three times.
//
// Each side also runs alone, which is what the command starts:
//
//	peers serve NAME ADDR           # one server (loop, loop-et, mux, raw, gnet, net) on ADDR, an IPv4 literal and port
//	peers load ADDR CONNS SIZE      # the load generator: "start" and "stop" lines on stdin, the result as JSON on stdout; it exits at the end of stdin
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/muxkit/muxkit/bench/internal/load"
	"github.com/muxkit/muxkit/bench/internal/proc"
	"github.com/muxkit/muxkit/bench/internal/server"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve":
			os.Exit(serve(os.Args[2:]))
		case "load":
			os.Exit(generate(os.Args[2:]))
		}
	}
	os.Exit(bench(os.Args[1:], os.Stdout, os.Stderr))
}

// serve runs one server: peers serve NAME ADDR. It prints "ready" and
// the CPUs it may run on once it accepts connections.
func serve(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: peers serve NAME ADDR")
		return 2
	}
	s, ok := server.Lookup(args[0])
	if !ok {
		fmt.Fprintf(os.Stderr, "peers serve: no server %q\n", args[0])
		return 2
	}
	err := s.Run(args[1], func() {
		cpus, err := proc.AllowedCPUs()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		fmt.Println("ready", cpus)
	})
	fmt.Fprintf(os.Stderr, "peers serve %s: %v\n", s.Name, err)
	return 1
}

// generate runs the load generator: peers load ADDR CONNS SIZE. It prints
// "connected" and the CPUs it may run on once every connection is up,
// then the result as JSON.
func generate(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: peers load ADDR CONNS SIZE")
		return 2
	}
	conns, err1 := strconv.Atoi(args[1])
	size, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "usage: peers load ADDR CONNS SIZE (CONNS and SIZE are numbers)")
		return 2
	}
	res, err := load.Run(load.Config{Addr: args[0], Conns: conns, Size: size}, 0, func() {
		cpus, err := proc.AllowedCPUs()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		fmt.Println("connected", cpus)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers load:", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "peers load:", err)
		return 1
	}
	// Stay until the benchmark has read this process's CPU time and
	// closes the control stream.
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// options are the benchmark's flags.
type options struct {
	d, warmup, syscalls time.Duration
	runs, size          int
	conns               []int
	servers             []server.Server
	cpus                [2]int // the servers' CPU, the load generator's
}

// bench runs the benchmark and prints the table.
func bench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.d, "d", 3*time.Second, "measured window of each run")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "time from the last connection up to the window")
	fs.DurationVar(&o.syscalls, "syscalls", time.Second, "window of the system-call counting pass, per server and C; 0 skips the pass")
	fs.IntVar(&o.runs, "runs", 3, "timed runs of each server at each C; the table gives their medians")
	fs.IntVar(&o.size, "size", 64, "bytes of a line, newline included")
	cs := fs.String("c", "1,50,500", "connections, a comma-separated list")
	names := fs.String("servers", "loop,loop-et,mux,raw,gnet,net", "servers to run, a comma-separated list")
	cpus := fs.String("cpus", "", "CPU of the servers and CPU of the load generator, as `S,L` (default: the first two this process may use, or its only one for both)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: peers [flags]\n\nEcho servers against a load generator, each pinned to a core; see the package documentation.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := o.parse(*cs, *names, *cpus); err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 1
	}
	b := &bencher{exe: exe, o: o, log: stderr}
	if err := b.run(); err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 1
	}
	if !b.print(stdout) {
		return 1
	}
	return 0
}

// parse reads the list flags into o.
func (o *options) parse(cs, names, cpus string) error {
	if o.d <= 0 || o.runs < 1 || o.warmup < 0 || o.syscalls < 0 {
		return fmt.Errorf("-d %v -runs %d -warmup %v -syscalls %v: want a positive window and run count", o.d, o.runs, o.warmup, o.syscalls)
	}
	if o.size < load.MinSize {
		return fmt.Errorf("-size %d: want at least %d", o.size, load.MinSize)
	}
	for _, f := range strings.Split(cs, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return fmt.Errorf("-c %q: want positive numbers", cs)
		}
		o.conns = append(o.conns, c)
	}
	for _, f := range strings.Split(names, ",") {
		s, ok := server.Lookup(strings.TrimSpace(f))
		if !ok {
			return fmt.Errorf("-servers: no server %q (there are loop, loop-et, mux, raw, gnet, net)", f)
		}
		o.servers = append(o.servers, s)
	}
	if cpus != "" {
		a, b, ok := strings.Cut(cpus, ",")
		s, err1 := strconv.Atoi(a)
		l, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("-cpus %q: want two CPU numbers, S,L", cpus)
		}
		o.cpus = [2]int{s, l}
		return nil
	}
	allowed, err := proc.AllowedCPUs()
	if err != nil {
		return err
	}
	if len(allowed) == 0 {
		return errors.New("this process may run on no CPU")
	}
	// On one CPU the two sides share it: the run still checks every echo.
	o.cpus = [2]int{allowed[0], allowed[min(1, len(allowed)-1)]}
	return nil
}
