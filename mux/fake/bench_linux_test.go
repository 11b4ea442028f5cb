package fake_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

func socketpair(b *testing.B) (int, int) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatalf("socketpair: %v", err)
	}
	b.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func benchOSWait(b *testing.B) {
	b.Run("epoll", func(b *testing.B) {
		x, y := socketpair(b)
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(ep)
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, x, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(x)}); err != nil {
			b.Fatal(err)
		}
		unix.Write(y, []byte("x"))
		evs := make([]unix.EpollEvent, 8)
		b.ReportAllocs()
		for b.Loop() {
			n, err := unix.EpollWait(ep, evs, 0)
			if err == unix.EINTR {
				continue
			}
			if n != 1 || err != nil {
				b.Fatalf("epoll_wait = %d, %v; want 1, nil", n, err)
			}
		}
	})
}

func osRead(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

func osWrite(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

func benchOSRead(b *testing.B) {
	b.Run("os", func(b *testing.B) {
		x, y := socketpair(b)
		benchRead(b, x, y, osRead, osWrite)
	})
}

func benchOSWrite(b *testing.B) {
	b.Run("os", func(b *testing.B) {
		x, y := socketpair(b)
		benchWrite(b, x, y, osRead, osWrite)
	})
}
