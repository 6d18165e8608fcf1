package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
)

func init() {
	register("key", command{
		summary: "manage API keys on the store: create --org O (--user U | --project) [--name N] [--scopes \"a b\"] [--app A] [--ttl D] | list --org O [--user U] | revoke --org O ID",
		run:     runKey,
	})
}

// operator is who the CLI acts as: whoever can open the store can manage
// every key, so it holds every key scope of the org it is told.
func operator(org string) domain.Principal {
	return domain.Principal{OrgID: domain.OrgID(org), UserID: "operator",
		Scopes: append([]domain.Scope{domain.ScopeKeysWrite, domain.ScopeKeysProject}, knownScopes...)}
}

// runKey prints a created key alone on stdout (KEY=$(engram key create ...));
// notes go to stderr.
func runKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const verbs = "create, list or revoke"
	verb, fs, help, err := verbCommand("key", verbs, args, stdout, stderr)
	if help || err != nil {
		return err
	}
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url", "valkey-url", "valkey-prefix")
	org := fs.String("org", "local", "org the key is confined to")
	user := fs.String("user", "", "the user a user key acts as (create, list)")
	project := fs.Bool("project", false, "create a project key: it acts for any user_id of the org, named per request")
	name := fs.String("name", "", "a name to tell the key apart")
	scopes := fs.String("scopes", "memories:read memories:write", "space-separated scopes")
	appID := fs.String("app", "", "bind the key to an app: every write it makes is filed under it")
	ttl := fs.Duration("ttl", 0, "lifetime (0: never expires)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	keys, closeKeys, err := wiring.OpenKeys(ctx, cfg, warnLog(stderr))
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	defer closeKeys()
	op := operator(*org)
	switch verb {
	case "create":
		if fs.NArg() > 0 || (*user == "") == !*project {
			return errors.New("key create: give --user U for a user key or --project for a project key")
		}
		r := app.KeyRequest{Kind: domain.KeyUser, UserID: domain.UserID(*user), Name: *name, Scopes: domain.ParseScopes(*scopes), AppID: domain.AppID(*appID)}
		if *project {
			r.Kind, r.UserID = domain.KeyProject, ""
		}
		if *ttl > 0 {
			r.ExpiresAt = time.Now().Add(*ttl)
		}
		rec, key, err := keys.CreateKey(ctx, op, r)
		if err != nil {
			return fmt.Errorf("key create: %w", err)
		}
		fmt.Fprintf(stderr, "engram key: created %s key %s (%s) for org %q; it is shown once, below\n", rec.Kind, rec.ID, rec.Display, rec.OrgID)
		fmt.Fprintln(stdout, key)
		return nil
	case "list":
		list, err := keys.ListKeys(ctx, op)
		if err != nil {
			return fmt.Errorf("key list: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tDISPLAY\tKIND\tUSER\tNAME\tSCOPES\tLAST USED\tSTATE")
		for _, k := range list {
			if *user != "" && k.UserID != domain.UserID(*user) {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Display, k.Kind, k.UserID, k.Name,
				joinScopes(k.Scopes), when(k.LastUsedAt), keyState(k))
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("key revoke: give the key's id")
		}
		rec, err := keys.RevokeKey(ctx, op, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("key revoke: %w", err)
		}
		fmt.Fprintf(stdout, "revoked %s (%s) at %s\n", rec.ID, rec.Display, rec.RevokedAt.Format(time.RFC3339))
		return nil
	}
	return unknownVerb("key", verb, verbs)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

func keyState(k domain.APIKey) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && time.Now().After(k.ExpiresAt):
		return "expired"
	}
	return "live"
}
