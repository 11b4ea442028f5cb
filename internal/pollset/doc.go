// Package pollset is the machinery that the poll(2) and select(2) backends
// share: the registration table, the wake descriptor, and the Wait loop
// that retries after EINTR, restarts its system call after a registration
// change and tells a user's Wake from such an internal restart.
//
// A backend supplies a Kernel — the part that turns the registrations into
// system-call arguments, makes the call and reads its results — and gets a
// Set that implements every method of mux.Multiplexer around it.
//
// # How a Wait stays correct while others change the set
//
// A Set has one mutex. Add, Modify, Remove, Wake and Close hold it while
// they change the Set (never across a blocking call); Wait holds it except
// across its system call.
// While a Wait is in the kernel, a registration change writes the wake
// descriptor, so the call returns; the Wait then sees that the table
// changed, rebuilds the kernel's arguments and calls again with the time
// left before the deadline fixed when it started. A user's Wake writes the
// same descriptor, and also sets a flag. Both the write and the flag are
// made under the mutex, and the Wait reads the flag and drains the
// descriptor under it too, so a written descriptor and its flag are always
// seen together: a Wake is never lost, and an internal restart is never
// mistaken for a Wake (which would return (0, nil) early).
package pollset
