package wiring

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/engram-memory/engram/adapters/keywrap"
	"github.com/engram-memory/engram/cmd/internal/config"
)

// Encryption is the key-encryption key (KEK) and whether new values are
// sealed (docs/privacy.md, "Encryption at rest").
type Encryption struct {
	// KEK wraps the per-user data keys; nil when none is configured or
	// found (then sealed values cannot be read).
	KEK *keywrap.Ring
	// On seals new memory text, history snapshots, query-log text and
	// session events.
	On bool
	// KeyFile is the key file in use, "" for ENGRAM_KEK.
	KeyFile string
}

// KEKPath is the key file in the data directory.
func KEKPath(dataDir string) string { return filepath.Join(dataDir, keywrap.FileName) }

// OpenEncryption reads ENGRAM_ENCRYPTION, ENGRAM_KEK and
// ENGRAM_KEK_PREVIOUS. auto is on wherever a KEK exists (ENGRAM_KEK, or
// the key file in the data directory, which on creates 0600 like the local
// signing key); without one it stays off, so an upgrade never starts
// depending on a key file nobody backs up yet. A server's first start on
// a new embedded store turns it on first (SealNewEmbeddedStore).
func OpenEncryption(cfg config.Config, log *slog.Logger) (Encryption, error) {
	if cfg.KEK != "" {
		r, err := keywrap.FromEnv(cfg.KEK, cfg.KEKPrevious)
		if err != nil {
			return Encryption{}, err
		}
		return Encryption{KEK: r, On: cfg.Encryption != "off"}, nil
	}
	path := KEKPath(cfg.DataDir)
	_, statErr := os.Stat(path)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return Encryption{}, fmt.Errorf("ENGRAM_DATA_DIR: %w", statErr)
	}
	on := cfg.Encryption == "on" || (cfg.Encryption != "off" && exists)
	if !on && !exists {
		return Encryption{}, nil
	}
	r, err := keywrap.OpenFile(path)
	if err != nil {
		return Encryption{}, fmt.Errorf("ENGRAM_DATA_DIR: %w", err)
	}
	return Encryption{KEK: r, On: on, KeyFile: path}, nil
}

// SealNewEmbeddedStore returns cfg with ENGRAM_ENCRYPTION=auto turned on
// for a new embedded store: SQLite with no database file yet, whose key
// file is then created beside the database it protects. Build calls it, so
// a fresh install seals from its first write. A PostgreSQL fleet, whose
// processes must all share one KEK, sets ENGRAM_KEK instead of having each
// process make its own file. The archive commands do not call it: a store
// that restore, import, migrate-data or backup verify's trial restore
// creates holds the source's rows, sealed under the KEK the operator puts
// in place (docs/backup.md), and a key made there would leave the
// archive's sealed rows unopenable.
func SealNewEmbeddedStore(cfg config.Config) config.Config {
	if cfg.Encryption == "auto" && cfg.KEK == "" && newEmbeddedStore(cfg) {
		cfg.Encryption = "on"
	}
	return cfg
}

// newEmbeddedStore reports whether cfg names SQLite and its database file
// does not exist yet.
func newEmbeddedStore(cfg config.Config) bool {
	if cfg.PostgresURL != "" {
		return false
	}
	_, err := os.Stat(SQLitePath(cfg.DataDir))
	return errors.Is(err, os.ErrNotExist)
}
