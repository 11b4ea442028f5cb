//go:build !unix

package backend

// Systems other than Unix have no backend of this module: poll, select
// and epoll are Unix system calls.
var (
	platform []Backend
	portable []Backend
)
