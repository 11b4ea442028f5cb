// Package record records what an event loop asks of the kernel — every
// call made through a [mux.Multiplexer] and a [loop.Sys], its arguments,
// its result and its time — to a compact file, as the loop runs, and
// reads such files back.
//
// A [Recorder] wraps the real Multiplexer and Sys; the loop is given its
// [Recorder.Mux] and [Recorder.Sys] in their place and runs as before:
//
//	f, _ := os.Create("run.rec")
//	m, _ := epoll.New()
//	r, err := record.New(f, m, loop.OS(), record.Config{})
//	…
//	l, err := loop.New(loop.Config{Mux: r.Mux(), Sys: r.Sys()})
//	…
//	err = l.Run()
//	r.Close() // writes out the calls gathered; then close f
//
// A recording keeps, for each call, what was asked (descriptor, size,
// interest, timeout, address), what was answered (count, errno or
// Multiplexer error, events in the order reported), when it was made,
// and the bytes each read and write moved — all of them, or the first n,
// or none ([Config]); always their count and their CRC-32C ([Checksum]).
// Calls are written in blocks, each with its checksum: a crash while
// recording loses the block being gathered at most, and [Read] returns
// every call before the damage with a [*DamagedError].
//
// [Read] and [ReadFile] give a [Recording]: its [Header] and its
// [Call]s. [Recording.Print] writes it one call a line, and so does the
// command `muxkit print` from the shell; [Diff] finds the first call at
// which two recordings differ. Package
// [github.com/muxkit/muxkit/record/replay] replays a recording on the
// fake kernel, in a unit test.
//
// The file format is versioned: a reader refuses a version it does not
// know rather than misread it.
package record
