package proc

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestStartPinned(t *testing.T) {
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 {
		t.Fatal("AllowedCPUs returned no CPU")
	}
	cpu := cpus[len(cpus)-1]
	cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
	var out strings.Builder
	cmd.Stdout = &out
	if err := StartPinned(cmd, cpu); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(out.String()), "Cpus_allowed_list:\t"+strconv.Itoa(cpu); got != want {
		t.Errorf("child started pinned to CPU %d says %q, want %q", cpu, got, want)
	}
	after, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(cpus) {
		t.Errorf("after StartPinned the caller may run on CPUs %v, want %v as before", after, cpus)
	}
}

// spin runs on this thread until the thread has used d of CPU time.
func spin(t *testing.T, d time.Duration) {
	t.Helper()
	var ru0, ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru0); err != nil {
		t.Fatal(err)
	}
	for {
		for range 100000 {
		}
		if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
			t.Fatal(err)
		}
		if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) >= d {
			return
		}
	}
}

func TestSchedstat(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid := os.Getpid()
	before, err := Schedstat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := before[unix.Gettid()]; !ok {
		t.Fatalf("Schedstat read threads %v, not this one, %d", before, unix.Gettid())
	}
	start := time.Now()
	spin(t, 100*time.Millisecond)
	wall := time.Since(start)
	after, err := Schedstat(pid)
	if err != nil {
		t.Fatal(err)
	}
	total, busiest, err := after.Since(before)
	if err != nil {
		t.Fatal(err)
	}
	// The rest of the process may run too, on the other CPUs.
	if total.Run < 90*time.Millisecond || total.Run > wall*time.Duration(runtime.NumCPU())+10*time.Millisecond {
		t.Errorf("the process ran %v while this thread used 100ms of CPU in %v of wall time", total.Run, wall)
	}
	if busiest.Run < 90*time.Millisecond || busiest.Run+busiest.Wait > wall+10*time.Millisecond {
		t.Errorf("the busiest thread ran %v and waited %v while this one ran 100ms in %v", busiest.Run, busiest.Wait, wall)
	}
	delete(after, unix.Gettid())
	if _, _, err := after.Since(before); err == nil {
		t.Error("Since a reading with a thread that is gone: no error, want one")
	}
}

func TestCores(t *testing.T) {
	cores, err := Cores()
	if err != nil {
		t.Fatal(err)
	}
	if len(cores) < runtime.NumCPU() {
		t.Fatalf("Cores returned %d cores, want at least NumCPU = %d", len(cores), runtime.NumCPU())
	}
	for i, c := range cores {
		if c.Busy > c.All || c.Steal > c.Busy {
			t.Errorf("core %d: %+v, want Steal <= Busy <= All", i, c)
		}
	}
}

func TestCountSyscalls(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	kinds := []Kind{All, {"read", []string{"syscalls/sys_enter_read"}}, {"none", []string{"syscalls/sys_enter_no_such_call"}}}
	c, err := CountSyscalls(os.Getpid(), kinds)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("system calls cannot be counted here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	before, err := c.Read() // reads of the counters are reads too: only this is outside the counted stretch
	if err != nil {
		t.Fatal(err)
	}
	const reads = 1000
	var b [1]byte
	for range reads {
		if _, err := unix.Read(fd, b[:]); err != nil {
			t.Fatal(err)
		}
	}
	after, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	// The counters' own reads in Read count as reads, and the runtime's
	// other threads make a few calls of their own.
	slack := int64(len(c.fds[0]) + len(c.fds[1]) + 100)
	if got := after[1] - before[1]; got < reads || got > reads+slack {
		t.Errorf("counted %d reads while making %d, want %d to %d", got, reads, reads, reads+slack)
	}
	if got := after[0] - before[0]; got < after[1]-before[1] {
		t.Errorf("counted %d system calls in all, fewer than the %d reads", got, after[1]-before[1])
	}
	if after[2] != -1 {
		t.Errorf("a kind with no tracepoint on this kernel read %d, want -1", after[2])
	}
}
