// Package proc watches a process from outside, through procfs and
// perf_event_open(2): its CPU time, the load on each core, and its system
// calls; and it starts a process pinned to one CPU.
package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// StartPinned starts cmd with its affinity set to cpu alone. The child
// inherits the mask of the thread that forks it, so this thread is pinned
// for the fork and restored afterwards; every thread the child makes then
// inherits the mask in turn, with no window in which it runs elsewhere.
func StartPinned(cmd *exec.Cmd, cpu int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		err = fmt.Errorf("restore the affinity after starting %s: %w", cmd.Path, rerr)
	}
	return err
}

// AllowedCPUs returns the CPUs the calling thread may run on, in order.
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for i := range len(set) * 64 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// threads returns the thread ids of process pid.
func threads(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// Times is how a thread has fared with the scheduler, to the nanosecond
// (the ticks of /proc/<pid>/stat are 10ms).
type Times struct {
	Run  time.Duration // on a CPU
	Wait time.Duration // ready to run, but waiting for a CPU
}

// Sched is the Times of each thread of a process, by thread id.
type Sched map[int]Times

// Schedstat reads the schedstat of each thread of process pid.
func Schedstat(pid int) (Sched, error) {
	tids, err := threads(pid)
	if err != nil {
		return nil, fmt.Errorf("schedstat of %d: %w", pid, err)
	}
	s := make(Sched, len(tids))
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited since the directory was read
		}
		if err != nil {
			return nil, fmt.Errorf("schedstat of %d: %w", pid, err)
		}
		var run, wait int64
		if _, err := fmt.Sscan(string(b), &run, &wait); err != nil {
			return nil, fmt.Errorf("schedstat of %d: %q: %w", pid, b, err)
		}
		s[tid] = Times{time.Duration(run), time.Duration(wait)}
	}
	return s, nil
}

// Since returns what the process did between the reading before and s:
// the sum over its threads, and the times of the thread that was ready to
// run (running or waiting) longest. It fails if a thread of before has
// exited, taking its time with it.
func (s Sched) Since(before Sched) (total, busiest Times, err error) {
	for tid, t := range s {
		t.Run -= before[tid].Run // a thread started since counts from its start
		t.Wait -= before[tid].Wait
		total.Run += t.Run
		total.Wait += t.Wait
		if t.Run+t.Wait > busiest.Run+busiest.Wait {
			busiest = t
		}
	}
	for tid := range before {
		if _, ok := s[tid]; !ok {
			return Times{}, Times{}, fmt.Errorf("thread %d exited, taking its CPU time with it", tid)
		}
	}
	return total, busiest, nil
}

// Core is what one CPU has done since boot, in clock ticks
// (/proc/stat, USER_HZ).
type Core struct {
	Busy  uint64 // running anything: user, nice, system, irq, softirq, steal
	Steal uint64 // taken by the hypervisor for other guests
	All   uint64 // busy and idle
}

// Cores reads /proc/stat and returns each CPU's counts, indexed by CPU.
func Cores() ([]Core, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, fmt.Errorf("cores: %w", err)
	}
	var cores []Core
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		cpu, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var v [8]uint64 // user nice system idle iowait irq softirq steal
		for i := range v {
			if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
				return nil, fmt.Errorf("cores: /proc/stat %s: %w", f[0], err)
			}
		}
		for len(cores) <= cpu {
			cores = append(cores, Core{})
		}
		busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		cores[cpu] = Core{Busy: busy, Steal: v[7], All: busy + v[3] + v[4]}
	}
	return cores, nil
}

// tracefs is where the kernel's tracepoints are described.
var tracefs = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// tracepoint returns the id of the tracepoint "category/name".
func tracepoint(name string) (uint64, error) {
	var err error
	for _, dir := range tracefs {
		var b []byte
		b, err = os.ReadFile(filepath.Join(dir, "events", name, "id"))
		if err == nil {
			return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
	}
	return 0, fmt.Errorf("tracepoint %s: %w", name, err)
}
