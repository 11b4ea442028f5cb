package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUnknownFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-bogus"}, &out, &errs); code != 2 {
		t.Errorf("muxkit -bogus exited %d; want 2", code)
	}
	if !strings.Contains(errs.String(), "-bogus") || !strings.Contains(errs.String(), "usage:") {
		t.Errorf("muxkit -bogus said %q; want the flag named and the usage", errs.String())
	}
}

func TestUnknownBackend(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-backend", "kqueue9"}, &out, &errs); code != 2 {
		t.Errorf("muxkit -backend kqueue9 exited %d; want 2", code)
	}
	msg := errs.String()
	if !strings.Contains(msg, "kqueue9") || !strings.Contains(msg, "poll") {
		t.Errorf("muxkit -backend kqueue9 said %q; want the bad name and the valid ones", msg)
	}
}

func TestStrayArgument(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"epoll"}, &out, &errs); code != 2 {
		t.Errorf("muxkit epoll exited %d; want 2 (the backend is chosen with -backend)", code)
	}
}

func TestTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	var out, errs bytes.Buffer
	code := run([]string{"-backend", "poll"}, &out, &errs)
	if code != 0 {
		t.Fatalf("muxkit -backend poll exited %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	got := out.String()
	for _, want := range []string{
		"backend", "poll", "no limit", "Readable|Writable",
		"rule", "EINTR never reaches the caller", "pass 1/1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("muxkit -backend poll output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "FAIL") {
		t.Errorf("muxkit -backend poll reported a failure:\n%s", got)
	}
	if lines := strings.Count(got, "\n"); lines < 15 {
		t.Errorf("muxkit printed %d lines; want the info table and one row per rule", lines)
	}
}
