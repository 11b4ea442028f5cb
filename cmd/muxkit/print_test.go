//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
)

// writeRecording records a connect, a write, a read and a Wait on the
// fake kernel to a file, and returns its name.
func writeRecording(t *testing.T) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "run.rec")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k := fake.New(fake.Config{})
	m, err := k.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.New(f, m, k, record.Config{Clock: k.Now})
	if err != nil {
		t.Fatal(err)
	}
	sys, rm := r.Sys(), r.Mux()
	lfd, _ := sys.Listen("db:1")
	c, _ := sys.Dial("db:1")
	rm.Add(c, mux.Writable)
	rm.Wait(make([]mux.Event, 4), time.Second)
	s, _ := sys.Accept(lfd)
	sys.Write(c, []byte("hello, world"))
	sys.Read(s, make([]byte, 16))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPrint: muxkit print prints a recording as Recording.Print does,
// quoting as many bytes as -bytes says, from a file or standard input.
func TestPrint(t *testing.T) {
	name := writeRecording(t)
	rec, err := record.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{32, 5, -1} {
		var want, out, errs bytes.Buffer
		rec.Print(&want, n)
		if code := run([]string{"print", "-bytes", strconv.Itoa(n), name}, &out, &errs); code != 0 || out.String() != want.String() {
			t.Errorf("muxkit print -bytes %d = %d, %q:\n%s\nwant 0 and\n%s", n, code, errs.String(), out.String(), want.String())
		}
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = stdin }()
	var out, errs bytes.Buffer
	if code := run([]string{"print", "-"}, &out, &errs); code != 0 || out.String() != rec.String() {
		t.Errorf("muxkit print - = %d, %q:\n%s\nwant 0 and the recording on standard input\n%s", code, errs.String(), out.String(), rec.String())
	}
	if !strings.Contains(rec.String(), `read fd=`) || strings.Count(rec.String(), "\n") != 8 {
		t.Errorf("the recording printed is\n%s\nwant a header line and 7 calls, the read among them", rec.String())
	}
}

// TestPrintDamaged: a recording cut short is printed up to the damage,
// which is reported, with status 1; a file that is no recording is
// refused with status 1; a missing file name is a usage error.
func TestPrintDamaged(t *testing.T) {
	name := writeRecording(t)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.rec")
	if err := os.WriteFile(cut, b[:len(b)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	code := run([]string{"print", cut}, &out, &errs)
	if code != 1 || !strings.HasPrefix(out.String(), "recording of fake ") || !strings.Contains(errs.String(), "damaged at byte") {
		t.Errorf("muxkit print of a recording cut short = %d, %q, %q; want 1, the header printed and the damage reported", code, out.String(), errs.String())
	}
	out.Reset()
	errs.Reset()
	if code := run([]string{"print", "print_test.go"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "not a muxkit recording") {
		t.Errorf("muxkit print of a Go file = %d, %q; want 1 and \"not a muxkit recording\"", code, errs.String())
	}
	errs.Reset()
	if code := run([]string{"print"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "usage: muxkit print") {
		t.Errorf("muxkit print with no file = %d, %q; want 2 and the usage", code, errs.String())
	}
}
