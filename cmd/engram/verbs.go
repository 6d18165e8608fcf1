package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// verbCommand begins a command that takes a verb first (engram key create,
// engram user add): it returns the verb and a flag set named after both
// that reports to stderr. On -h, --help or help it prints the command's
// usage on stdout and returns help true. want lists the verbs, for the
// error when none is given.
func verbCommand(name, want string, args []string, stdout, stderr io.Writer) (verb string, fs *flag.FlagSet, help bool, err error) {
	if len(args) == 0 {
		return "", nil, false, fmt.Errorf("%s: want %s", name, want)
	}
	verb = args[0]
	if verb == "-h" || verb == "--help" || verb == "help" {
		fmt.Fprintln(stdout, "usage: engram "+name+" "+commands[name].summary)
		return verb, nil, true, nil
	}
	fs = flag.NewFlagSet(name+" "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return verb, fs, false, nil
}

// unknownVerb is verbCommand's verb matching none of want.
func unknownVerb(name, verb, want string) error {
	return fmt.Errorf("%s: unknown action %q (want %s)", name, verb, want)
}

// warnLog is the log of a command that opens a backend: warnings and errors
// on stderr, so stdout holds only the command's answer.
func warnLog(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
