package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/engram-memory/engram/adapters/oauthserver"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("user", command{
		summary: "users of the built-in sign-in (OAuth): add NAME [--org O] | passwd [NAME] [--org O] | code [NAME] [--org O]; passwords are read from stdin",
		run:     runUser,
	})
}

// userStdin is where passwords are read from; tests replace it.
var userStdin io.Reader = os.Stdin

// runUser manages who can sign in to the built-in authorization server.
// NAME defaults to the zero-config local user.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const verbs = "add, passwd or code"
	verb, fs, help, err := verbCommand("user", verbs, args, stdout, stderr)
	if help || err != nil {
		return err
	}
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url")
	org := fs.String("org", "local", "the user's organisation (tenant)")
	// Flags may come before and after the name.
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var name string
	if fs.NArg() > 0 {
		name = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user %s: unexpected %q", verb, fs.Arg(0))
	}
	if name == "" {
		if verb == "add" {
			return errors.New("user add: give the new user's name")
		}
		name = wiring.LocalUser
	}
	t := domain.Tenant{OrgID: domain.OrgID(*org), UserID: domain.UserID(name)}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	users, closeUsers, err := wiring.OpenUsers(ctx, cfg, warnLog(stderr))
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	defer closeUsers()
	if users.Off != "" {
		fmt.Fprintln(stderr, "note: the built-in sign-in is off here:", users.Off)
	}
	now := time.Now()
	switch verb {
	case "add", "passwd":
		pw, err := readPassword(stderr)
		if err != nil {
			return fmt.Errorf("user %s: %w", verb, err)
		}
		if verb == "add" {
			err = oauthserver.AddUser(ctx, users.Store, t, pw, 0, now)
		} else {
			err = oauthserver.SetPassword(ctx, users.Store, t, pw, 0, now)
		}
		if err != nil {
			return fmt.Errorf("user %s: %w", verb, err)
		}
		fmt.Fprintf(stderr, "password set for user %q of org %q\n", name, *org)
		return nil
	case "code":
		code, err := oauthserver.IssueSignInCode(ctx, users.Store, t, now)
		if err != nil {
			return fmt.Errorf("user code: %w", err)
		}
		fmt.Fprintln(stdout, code)
		fmt.Fprintf(stderr, "one-time sign-in code for user %q of org %q, valid %s\n", name, *org, oauthserver.SignInCodeTTL)
		return nil
	default:
		return unknownVerb("user", verb, verbs)
	}
}

// readPassword reads one line: without echo from a terminal, else from
// stdin as piped (engram user add bob < pwfile).
func readPassword(prompt io.Writer) (string, error) {
	if f, ok := userStdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "password (at least 10 characters): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		return string(b), err
	}
	line, err := bufio.NewReader(userStdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin")
	}
	return line, nil
}
