package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muxkit/muxkit/bench/internal/load"
	"github.com/muxkit/muxkit/bench/internal/proc"
	"github.com/muxkit/muxkit/bench/internal/server"
)

// A sample is one measured window of one server at one C.
type sample struct {
	server string
	conns  int
	run    int // the timed run it belongs to; -1 for the system-call pass

	load.Result
	wall     time.Duration // the window, on this process's clock
	cpu      [2]proc.Times // the server's threads and the load generator's, summed, over the window
	busiest  [2]proc.Times // the thread of each that was ready to run longest
	coreBusy [2]float64    // share of the server's core and of the load generator's core running anything
	steal    [2]float64    // share of each taken by the hypervisor
	syscalls []int64       // by proc.Kinds; the system-call pass only
}

// bencher runs the benchmark and keeps its samples.
type bencher struct {
	exe string
	o   options
	log io.Writer

	samples []sample
	skip    error // why system calls were not counted, if they were not
}

// run makes the timed runs, then the system-call pass.
func (b *bencher) run() error {
	for r := range b.o.runs {
		for _, c := range b.o.conns {
			for _, i := range order(len(b.o.servers), r) {
				s := b.o.servers[i]
				sm, err := b.retry(s, c, r, false)
				if err != nil {
					return fmt.Errorf("run %d, C=%d, %s: %w", r+1, c, s.Name, err)
				}
				fmt.Fprintf(b.log, "run %d/%d  C=%-4d %-7s %9.0f round trips/s  server CPU %5.1fµs/round trip  ran %3.0f%% of the window, its core busy %3.0f%%; load generator %3.0f%%, its core %3.0f%%\n",
					r+1, b.o.runs, c, s.Name, sm.rate(), sm.cpuPerRT(), 100*sm.share(0), 100*sm.coreBusy[0], 100*sm.share(1), 100*sm.coreBusy[1])
				b.samples = append(b.samples, sm)
			}
		}
	}
	if b.o.syscalls == 0 {
		b.skip = errors.New("-syscalls 0")
		return nil
	}
	for _, c := range b.o.conns {
		for _, s := range b.o.servers {
			sm, err := b.retry(s, c, -1, true)
			if errors.Is(err, errCannotCount) {
				b.skip = err
				fmt.Fprintln(b.log, "system calls not counted:", err)
				return nil
			}
			if err != nil {
				return fmt.Errorf("system-call pass, C=%d, %s: %w", c, s.Name, err)
			}
			fmt.Fprintf(b.log, "count     C=%-4d %-7s %9.2f system calls/round trip\n", c, s.Name, float64(sm.syscalls[0])/float64(sm.RoundTrips))
			b.samples = append(b.samples, sm)
		}
	}
	return nil
}

// order returns the order of run r's round of n servers: a Williams
// design, in which over n runs (2n for an odd n) each server comes first
// equally often and right after each other server equally often. A round
// that only rotated the list measured each server after the same
// neighbour every time, and what that one leaves behind (a warm or cold
// host, its halted cores) counted for or against the next alone.
func order(n, r int) []int {
	o := make([]int, n)
	lo, hi := 1, n-1
	for k := 1; k < n; k++ { // 0, 1, n-1, 2, n-2, ...
		if k%2 == 1 {
			o[k], lo = lo, lo+1
		} else {
			o[k], hi = hi, hi-1
		}
	}
	for k := range o {
		o[k] = (o[k] + r) % n
	}
	if n%2 == 1 && r/n%2 == 1 {
		slices.Reverse(o)
	}
	return o
}

// errCannotCount wraps why system calls cannot be counted on this machine.
var errCannotCount = errors.New("cannot count system calls")

// child is a process of the benchmark: a server or the load generator.
type child struct {
	cmd    *exec.Cmd
	lines  chan string   // its standard output, line by line
	stderr bytes.Buffer  // kept for the error message if it fails
	exited chan struct{} // closed once it has exited
	err    error         // its exit status, once exited is closed
}

// start starts the benchmark's own executable with args, pinned to cpu,
// with one P and stdin as its standard input (nil for none), and waits
// for the first line it prints, which must be want followed by the CPUs
// it may run on: just cpu.
func (b *bencher) start(cpu int, stdin *os.File, want string, timeout time.Duration, args ...string) (*child, error) {
	ch := &child{cmd: exec.Command(b.exe, args...), lines: make(chan string, 4), exited: make(chan struct{})}
	ch.cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if stdin != nil {
		ch.cmd.Stdin = stdin
	}
	ch.cmd.Stderr = &ch.stderr
	// A pipe of our own rather than StdoutPipe, which Wait closes, maybe
	// before the last line is read: this one ends when the child does.
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ch.cmd.Stdout = w
	err = proc.StartPinned(ch.cmd, cpu)
	w.Close()
	if err != nil {
		out.Close()
		return nil, err
	}
	go func() {
		defer out.Close()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch.lines <- sc.Text()
		}
		close(ch.lines)
	}()
	go func() {
		ch.err = ch.cmd.Wait()
		close(ch.exited)
	}()
	line, err := ch.line(timeout)
	if err != nil {
		ch.kill()
		return nil, err
	}
	if got, wantLine := line, fmt.Sprint(want, " ", []int{cpu}); got != wantLine {
		ch.kill()
		return nil, fmt.Errorf("%s said %q, want %q (pinned to CPU %d)", args[0], got, wantLine, cpu)
	}
	return ch, nil
}

// line returns the next line the child prints.
func (ch *child) line(timeout time.Duration) (string, error) {
	select {
	case l, ok := <-ch.lines:
		if ok {
			return l, nil
		}
		<-ch.exited
		return "", ch.failed()
	case <-time.After(timeout):
		return "", fmt.Errorf("%s said nothing for %v", ch.cmd.Args[1], timeout)
	}
}

// failed describes how the child ended.
func (ch *child) failed() error {
	return fmt.Errorf("%s exited (%v): %s", ch.cmd.Args[1], ch.err, strings.TrimSpace(ch.stderr.String()))
}

// kill kills the child and waits for it.
func (ch *child) kill() {
	ch.cmd.Process.Kill()
	<-ch.exited
}

// measure runs one window of server s against c connections.
func (b *bencher) measure(s server.Server, c, run int, count bool) (sm sample, err error) {
	sm = sample{server: s.Name, conns: c, run: run}
	addr, err := freeAddr()
	if err != nil {
		return sm, err
	}
	srv, err := b.start(b.o.cpus[0], nil, "ready", 10*time.Second, "serve", s.Name, addr)
	if err != nil {
		return sm, err
	}
	defer srv.kill()
	lg, ctl, err := b.startLoad(addr, c)
	if err != nil {
		return sm, err
	}
	defer lg.kill()
	defer ctl.Close()
	time.Sleep(b.o.warmup)

	d := b.o.d
	pids := [2]int{srv.cmd.Process.Pid, lg.cmd.Process.Pid}
	var counter *proc.Counter
	var calls0 []int64
	if count {
		d = b.o.syscalls
		if counter, err = proc.CountSyscalls(pids[0], proc.Kinds); err != nil {
			return sm, fmt.Errorf("%w: %w", errCannotCount, err)
		}
		defer counter.Close()
	}
	// The readings bracket the window tightly: the slow ones outside, the
	// system-call counts next to the commands.
	cores0, err := proc.Cores()
	if err != nil {
		return sm, err
	}
	var sched0 [2]proc.Sched
	for i, pid := range pids {
		if sched0[i], err = proc.Schedstat(pid); err != nil {
			return sm, err
		}
	}
	if counter != nil {
		if calls0, err = counter.Read(); err != nil {
			return sm, err
		}
	}
	if _, err := io.WriteString(ctl, "start\n"); err != nil {
		return sm, fmt.Errorf("start the load generator: %w", err)
	}
	t0 := time.Now()
	time.Sleep(d)
	if _, err := io.WriteString(ctl, "stop\n"); err != nil {
		return sm, fmt.Errorf("stop the load generator: %w", err)
	}
	sm.wall = time.Since(t0)
	if counter != nil {
		if sm.syscalls, err = counter.Read(); err != nil {
			return sm, err
		}
		for i := range sm.syscalls {
			if sm.syscalls[i] >= 0 {
				sm.syscalls[i] -= calls0[i]
			}
		}
	}
	for i, pid := range pids {
		s, err := proc.Schedstat(pid)
		if err != nil {
			return sm, err
		}
		if sm.cpu[i], sm.busiest[i], err = s.Since(sched0[i]); err != nil {
			return sm, fmt.Errorf("%s: %w", side(i), err)
		}
	}
	cores1, err := proc.Cores()
	if err != nil {
		return sm, err
	}
	for i, cpu := range b.o.cpus {
		if cpu < len(cores0) && cpu < len(cores1) {
			all := float64(cores1[cpu].All - cores0[cpu].All)
			sm.coreBusy[i] = float64(cores1[cpu].Busy-cores0[cpu].Busy) / all
			sm.steal[i] = float64(cores1[cpu].Steal-cores0[cpu].Steal) / all
		}
	}

	line, err := lg.line(d + 10*time.Second)
	if err != nil {
		return sm, err
	}
	if err := json.Unmarshal([]byte(line), &sm.Result); err != nil {
		return sm, fmt.Errorf("the load generator's result %q: %w", line, err)
	}
	select {
	case <-srv.exited:
		return sm, srv.failed()
	default:
	}
	if sm.Wrong > 0 {
		return sm, nil // the table tells it, and the command fails
	}
	if sm.RoundTrips == 0 || sm.Window < d/2 {
		return sm, fmt.Errorf("%w: %d round trips in the load generator's window of %v (of %v here); in it the server ran %v and its busiest thread waited %v for its core, the load generator ran %v and waited %v",
			errStalled, sm.RoundTrips, sm.Window, sm.wall, sm.cpu[0].Run, sm.busiest[0].Wait, sm.cpu[1].Run, sm.busiest[1].Wait)
	}
	return sm, nil
}

// errStalled is the error of a window in which nothing was measured: no
// round trip, or the load generator took "start" and "stop" together. On
// a shared machine a pinned process can wait for its core for hundreds of
// milliseconds, and so can the kernel's deferred network processing, so
// such a window is made again before it counts as a failure.
var errStalled = errors.New("a stalled window")

// attempts is how many times a stalled window is made before it fails.
const attempts = 3

// retry measures with measure until a window is not stalled, or attempts
// have all stalled.
func (b *bencher) retry(s server.Server, c, run int, count bool) (sample, error) {
	for i := 1; ; i++ {
		sm, err := b.measure(s, c, run, count)
		if !errors.Is(err, errStalled) || i == attempts {
			return sm, err
		}
		fmt.Fprintf(b.log, "C=%d %s: %v; measuring again\n", c, s.Name, err)
	}
}

// side names the server (0) or the load generator (1).
func side(i int) string { return [2]string{"the server", "the load generator"}[i] }

// startLoad starts the load generator against addr and waits for its
// connections; it returns the generator and the pipe it takes commands on.
func (b *bencher) startLoad(addr string, c int) (*child, io.WriteCloser, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close() // the child has its own copy
	lg, err := b.start(b.o.cpus[1], r, "connected", 30*time.Second, "load", addr, strconv.Itoa(c), strconv.Itoa(b.o.size))
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return lg, w, nil
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
