// Command engram is Engram's command-line tool: migrations, tokens, the MCP
// stdio server, reindexing, evaluation and benchmarks. Each subcommand lives in
// its own file and registers itself in commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"syscall"
)

// command is one subcommand: run gets the arguments after its name and the
// environment. Subcommands never read os.Getenv themselves: settings shared
// with engramd resolve through config.ForCommand, and tests pass a map.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("engram: duplicate command " + name)
	}
	commands[name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // before stop, which cancels ctx too
	stop()
	if err != nil && interrupted {
		// Ctrl-C or SIGTERM: say so rather than leave the cancelled
		// statement's error to read as a broken backend, and exit as a
		// shell expects of an interrupted command.
		fmt.Fprintln(os.Stderr, "engram: interrupted:", err)
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "engram:", err)
		// Some commands (backup verify) exit with a code a scheduler
		// can alert on; everything else is 1.
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// run is engram with the process environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, os.Getenv, stdout, stderr)
}

func runEnv(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	if slices.ContainsFunc(args[1:], isHelp) {
		// Asked for, the usage is the output: to stdout, exit 0.
		err := c.run(ctx, args[1:], getenv, stdout, stdout)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "\nSettings not given as flags come from ENGRAM_* environment variables; engramd -h lists them.")
			return nil
		}
		return err
	}
	return c.run(ctx, args[1:], getenv, stdout, stderr)
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: engram <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
}
