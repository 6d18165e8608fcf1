package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/cmd/internal/config"
	"github.com/engram-memory/engram/cmd/internal/wiring"
	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func init() {
	register("keys", command{
		summary: "data keys of encryption at rest: status, export FILE, import FILE, rotate [--finish] (rewrap every data key under a new key-encryption key), seal [--batch N] (seal in place the rows written before encryption was on)",
		run:     runKeys,
	})
}

// runKeys manages the per-user data keys (docs/privacy.md, "Encryption at
// rest"). Archives never carry them; `keys export` writes them (wrapped, so
// useless without the KEK) for a restore into an empty store.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cc := config.ForCommand(fs, getenv, "data-dir", "postgres-url")
	finish := fs.Bool("finish", false, "rotate: rewrap what is left under the previous key and drop it from the key file")
	batch := fs.Int("batch", 500, "seal: rows per transaction")
	if err := interleaved(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return errors.New("keys: want status, export FILE, import FILE, rotate or seal")
	}
	action := fs.Arg(0)
	cfg, err := loadCommandConfig(cc)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if action == "rotate" && cfg.KEK == "" {
		if err := rotateKeyFile(cfg, *finish); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
	}
	b, err := wiring.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	defer b.Close()
	switch action {
	case "status":
		n, other := 0, 0
		cur := ""
		if b.Encryption.KEK != nil {
			cur = b.Encryption.KEK.KeyID()
		}
		if err := b.DataKeys.DataKeys(ctx, func(k ports.WrappedKey) error {
			n++
			if k.KEKID != cur {
				other++
			}
			return nil
		}); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		fmt.Fprintf(stdout, "encryption %s; key-encryption key %s; %d data keys, %d wrapped by another key\n",
			map[bool]string{true: "on", false: "off"}[b.Encryption.On], orNone(cur), n, other)
	case "export":
		if fs.NArg() != 2 {
			return errors.New("keys: export FILE")
		}
		n, err := exportKeys(ctx, b.DataKeys, fs.Arg(1))
		if err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		fmt.Fprintf(stdout, "exported %d data keys (wrapped) to %s\n", n, fs.Arg(1))
	case "import":
		if fs.NArg() != 2 {
			return errors.New("keys: import FILE")
		}
		n, total, err := importKeys(ctx, b.DataKeys, fs.Arg(1))
		if err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		fmt.Fprintf(stdout, "imported %d of %d data keys (the store held the others)\n", n, total)
	case "rotate":
		if b.Encryption.KEK == nil {
			return errors.New("keys: rotate: no key-encryption key (ENGRAM_KEK or the data directory's " + keywrap.FileName + ")")
		}
		re, total, err := b.DataKeys.RewrapDataKeys(ctx, b.Encryption.KEK)
		if err != nil {
			return fmt.Errorf("keys: rotate: %w", err)
		}
		fmt.Fprintf(stdout, "rewrapped %d of %d data keys under %s (sealed values untouched)\n", re, total, b.Encryption.KEK.KeyID())
		switch {
		case cfg.KEK != "":
			fmt.Fprintln(stdout, "once every server runs with this ENGRAM_KEK, remove ENGRAM_KEK_PREVIOUS")
		case !*finish:
			fmt.Fprintln(stdout, "the previous key stays in the key file for servers that still use it; run `engram keys rotate --finish` once every engramd has read the new file (it rereads it on a key id it does not know)")
		default:
			if err := dropPreviousKeys(ctx, b, cfg); err != nil {
				return fmt.Errorf("keys: rotate: %w", err)
			}
			fmt.Fprintln(stdout, "previous keys dropped from the key file")
		}
	case "seal":
		if err := sealPlaintext(ctx, b, *batch, stdout, stderr); err != nil {
			return fmt.Errorf("keys: seal: %w", err)
		}
	default:
		return fmt.Errorf("keys: unknown action %q: want status, export, import, rotate or seal", action)
	}
	return nil
}

// sealPlaintext seals the plaintext rows of a store that predates its
// encryption (docs/privacy.md, "Turning encryption on for an existing
// store"): progress on stderr after each batch, one count per table on
// stdout. SQLite is compacted after, so the plaintext's old pages leave the
// file and its WAL (secure_delete zeroes them, the checkpoint empties the
// WAL).
func sealPlaintext(ctx context.Context, b wiring.Backend, batch int, stdout, stderr io.Writer) error {
	if b.Encryption.KEK == nil {
		return errors.New("no key-encryption key (set ENGRAM_KEK, or ENGRAM_ENCRYPTION=on to create the data directory's " + keywrap.FileName + "): nothing to seal with")
	}
	if !b.Encryption.On {
		return errors.New("encryption is off (ENGRAM_ENCRYPTION=off): turn it on first, or the servers keep writing plaintext")
	}
	if b.Sealer == nil {
		return errors.New("this store cannot seal existing rows")
	}
	counts, err := b.Sealer.SealPlaintext(ctx, batch, func(c ports.SealCount) {
		fmt.Fprintf(stderr, "sealing %s: %d rows read, %d sealed so far\n", c.Table, c.Read, c.Sealed)
	})
	skipped := 0
	for _, c := range counts {
		skipped += c.Skipped
		fmt.Fprintf(stdout, "%s: %d rows read, %d sealed", c.Table, c.Read, c.Sealed)
		if c.Table == "memories" {
			fmt.Fprintf(stdout, ", %d content hashes keyed, %d kept a plain hash (an exact duplicate holds the keyed one)", c.Rehashed, c.Kept)
		}
		fmt.Fprintf(stdout, ", %d skipped\n", c.Skipped)
	}
	if err != nil {
		return fmt.Errorf("%w (what was sealed stays sealed: run it again to go on)", err)
	}
	if b.Compact != nil {
		if err := compactRetrying(ctx, b.Compact); err != nil {
			return fmt.Errorf("sealed, but compacting the database failed, so its WAL or text index may still hold old plaintext (run seal again: it seals nothing and compacts): %w", err)
		}
	}
	if skipped > 0 {
		fmt.Fprintf(stdout, "%d rows skipped (their user's data key was destroyed by an erasure under way, or a sealed value did not open): run seal again once the erasures are done\n", skipped)
	}
	fmt.Fprintln(stdout, "the text and vector indexes keep their copy of the words (derived data, docs/privacy.md)")
	return nil
}

// compactRetrying compacts, trying again for up to 10 s while a reader
// (a running engramd's) keeps the WAL busy (domain.ErrUnavailable).
func compactRetrying(ctx context.Context, compact func(context.Context) error) error {
	var err error
	for range 50 {
		if err = compact(ctx); err == nil || !errors.Is(err, domain.ErrUnavailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// rotateKeyFile puts a new key first in the key file (the others stay, to
// unwrap until the rewrap is done); with finish it leaves the file as is.
func rotateKeyFile(cfg config.Config, finish bool) error {
	path := wiring.KEKPath(cfg.DataDir)
	keys, err := keywrap.ReadFile(path)
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	if finish {
		return nil
	}
	fresh, err := keywrap.NewKey()
	if err != nil {
		return err
	}
	return keywrap.WriteFile(path, append([][]byte{fresh}, keys...))
}

// dropPreviousKeys rewrites the key file with its current key only, after
// checking that no stored data key needs another.
func dropPreviousKeys(ctx context.Context, b wiring.Backend, cfg config.Config) error {
	cur := b.Encryption.KEK.KeyID()
	left := 0
	if err := b.DataKeys.DataKeys(ctx, func(k ports.WrappedKey) error {
		if k.KEKID != cur {
			left++
		}
		return nil
	}); err != nil {
		return err
	}
	if left > 0 {
		return fmt.Errorf("%d data keys are still wrapped by a previous key; run rotate --finish again", left)
	}
	path := wiring.KEKPath(cfg.DataDir)
	keys, err := keywrap.ReadFile(path)
	if err != nil {
		return err
	}
	if keywrap.KeyID(keys[0]) != cur {
		return errors.New("the key file changed during the rotation; run rotate --finish again")
	}
	return keywrap.WriteFile(path, keys[:1])
}

// exportKeys writes every stored data key as JSON lines to path (0600).
func exportKeys(ctx context.Context, st ports.DataKeyStore, path string) (int, error) {
	f, err := os.OpenFile(path+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path + ".partial")
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	n := 0
	err = st.DataKeys(ctx, func(k ports.WrappedKey) error {
		n++
		return enc.Encode(k)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(path+".partial", path)
}

// importKeys stores the data keys of an export file that the store does
// not hold.
func importKeys(ctx context.Context, st ports.DataKeyStore, path string) (n, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	var keys []ports.WrappedKey
	for {
		var k ports.WrappedKey
		if err := dec.Decode(&k); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		keys = append(keys, k)
	}
	n, err = st.PutDataKeys(ctx, keys)
	return n, len(keys), err
}
