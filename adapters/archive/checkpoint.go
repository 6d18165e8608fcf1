package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// checkpoint records how far an import got: every row of Table up to Line
// (and every earlier table) is committed. It is written after each batch
// commits; a crash between the commit and the write re-runs one batch,
// which loads nothing twice (ArchiveSink.Load is idempotent).
type checkpoint struct {
	Archive string `json:"archive"` // the source's id: another file never resumes this one
	Table   string `json:"table"`
	Line    int64  `json:"line"`
	Mode    string `json:"mode"`
	Tenant  string `json:"tenant,omitempty"`
}

func loadCheckpoint(path string) (*checkpoint, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("archive: read checkpoint: %w", err)
	}
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("archive: checkpoint %s is corrupted (delete it to start over): %w", path, err)
	}
	return &c, nil
}

// save writes the checkpoint atomically (temporary file, fsync, rename).
func (c checkpoint) save(path string) error {
	if path == "" {
		return nil
	}
	b, _ := json.Marshal(c)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("archive: write checkpoint: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("archive: write checkpoint: %w", err)
	}
	return nil
}
