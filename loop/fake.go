package loop

import (
	"time"

	"github.com/muxkit/muxkit/mux/fake"
)

// Fake returns the Sys of the simulated kernel k: virtual descriptors,
// virtual addresses (any string) and the kernel's virtual clock. Use it
// with a Multiplexer from k.NewMux.
func Fake(k *fake.Kernel) Sys { return fakeSys{k} }

// fakeSys adapts a fake.Kernel to Sys.
type fakeSys struct{ k *fake.Kernel }

func (s fakeSys) Read(fd int, p []byte) (int, error)  { return s.k.Read(fd, p) }
func (s fakeSys) Write(fd int, p []byte) (int, error) { return s.k.Write(fd, p) }
func (s fakeSys) Close(fd int) error                  { return s.k.Close(fd) }
func (s fakeSys) Accept(fd int) (int, error)          { return s.k.Accept(fd) }
func (s fakeSys) Listen(addr string) (int, error)     { return s.k.Listen(addr) }
func (s fakeSys) Now() time.Time                      { return s.k.Now() }

func (s fakeSys) SockErr(fd int) error {
	errno, err := s.k.SockErr(fd)
	if err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func (s fakeSys) Dial(addr string) (int, error) {
	fd, err := s.k.Socket()
	if err != nil {
		return -1, err
	}
	if err := s.k.Connect(fd, addr); err != nil && !inProgress(err) {
		s.k.Close(fd)
		return -1, err
	}
	return fd, nil
}
