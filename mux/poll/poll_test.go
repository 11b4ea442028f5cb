//go:build unix

package poll

import (
	"runtime"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
)

func TestInfo(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in := m.Info()
	if in != mux.Describe(m) {
		t.Errorf("mux.Describe(m) = %v; want m.Info() = %v", mux.Describe(m), in)
	}
	want := mux.Readable | mux.Writable | mux.Priority | mux.Hangup | mux.Error
	if runtime.GOOS == "linux" {
		want |= mux.ReadHangup
	}
	if in.Name != "poll" || in.MaxFD != 0 || in.Reports != want || in.Scales || !in.RegularFiles {
		t.Errorf("Info() = %+v; want name poll, MaxFD 0, Reports %v, Scales false, RegularFiles true", in, want)
	}
	switch runtime.GOOS {
	case "linux", "freebsd":
		if in.Resolution != time.Nanosecond {
			t.Errorf("Info().Resolution = %v; want 1ns (ppoll)", in.Resolution)
		}
	default:
		if in.Resolution != time.Millisecond {
			t.Errorf("Info().Resolution = %v; want 1ms (poll)", in.Resolution)
		}
	}
}
