//go:build unix

package backend

// The backends of this module are registered here, before any other:
// those only this system has (platform, in the file of each system), then
// those of every Unix system (portable, in builtin_unix.go), each list best
// first. A new
// backend of this module is its package and one line in one of the lists.
func init() {
	for _, b := range platform {
		Register(b)
	}
	for _, b := range portable {
		Register(b)
	}
}
