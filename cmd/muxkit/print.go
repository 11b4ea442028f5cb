//go:build unix

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/muxkit/muxkit/record"
)

const printUsage = `usage: muxkit print [-bytes n] file

Prints a recording made by package record readably: a line saying what
was recorded, then one call a line — its number, its time from the start
of the recording, what was asked and what was answered. A file of "-" is
standard input. A recording cut short by a crash is printed up to the
damage, which is then reported, with exit status 1.

`

// runPrint is the print subcommand.
func runPrint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxkit print", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quote := fs.Int("bytes", 32, "quote up to `n` bytes of each read and write (-1: all of them, 0: none)")
	fs.Usage = func() {
		fmt.Fprint(stderr, printUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "muxkit print: want one file")
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	var rec *record.Recording
	var err error
	if name == "-" {
		rec, err = record.Read(os.Stdin)
	} else {
		rec, err = record.ReadFile(name)
	}
	if rec != nil {
		if perr := rec.Print(stdout, *quote); perr != nil {
			fmt.Fprintf(stderr, "muxkit print: %v\n", perr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "muxkit print: %v\n", err)
		return 1
	}
	return 0
}
