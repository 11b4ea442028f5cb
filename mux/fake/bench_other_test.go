//go:build !linux

package fake_test

import "testing"

// Elsewhere there is no epoll to compare with; read and write are compared
// on Linux only, to keep one set of figures.

func benchOSWait(b *testing.B)  { b.Run("os", func(b *testing.B) { b.Skip("epoll is Linux only") }) }
func benchOSRead(b *testing.B)  { b.Run("os", func(b *testing.B) { b.Skip("compared on Linux only") }) }
func benchOSWrite(b *testing.B) { b.Run("os", func(b *testing.B) { b.Skip("compared on Linux only") }) }
