//go:build unix

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUnknownCommand(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"epoll"}, &out, &errs); code != 2 {
		t.Errorf("muxkit epoll exited %d; want 2 (the backend is chosen with -backend)", code)
	}
	if !strings.Contains(errs.String(), `unknown command "epoll"`) {
		t.Errorf("muxkit epoll said %q; want it to name the unknown command", errs.String())
	}
}

// TestReportIsDefault: with no command, or a flag first, muxkit runs the
// report of package report.
func TestReportIsDefault(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-backend", "kqueue9"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), `backend "kqueue9"`) {
		t.Errorf("muxkit -backend kqueue9 = %d, %q; want 2 and the report's word on the unknown backend", code, errs.String())
	}
	out.Reset()
	errs.Reset()
	if code := run([]string{"-h"}, &out, &errs); code != 0 || !strings.Contains(errs.String(), "usage: muxkit [-backend name]") {
		t.Errorf("muxkit -h = %d, %q; want 0 and the report's usage", code, errs.String())
	}
}
