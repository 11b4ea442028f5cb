//go:build unix && !linux

package backend

// platform are the backends only this system has, best first.
var platform []Backend
