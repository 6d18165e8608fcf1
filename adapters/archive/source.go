package archive

import (
	"errors"
	"io"

	"github.com/engram-memory/engram/ports"
)

// source yields an archive's rows table by table, decoded into the native
// tables whatever the file's format (Engram, OpenMemory, mem0).
type source interface {
	// kind names the format: engram, openmemory or mem0.
	kind() string
	// id identifies the file's content, for checkpoints.
	id() string
	// has reports whether the source holds rows of table.
	has(table string) bool
	// each calls fn for every row of table with where it came from.
	each(t ports.ArchiveTable, fn func(member string, line int64, r ports.ArchiveRow) error) error
}

// native reads an Engram archive.
type native struct{ r *Reader }

func (n native) kind() string { return "engram" }
func (n native) id() string   { return n.r.ManifestSum }
func (n native) has(table string) bool {
	_, ok := n.r.Manifest.Member(table)
	return ok
}

func (n native) each(t ports.ArchiveTable, fn func(string, int64, ports.ArchiveRow) error) error {
	mr, ok, err := n.r.OpenMember(t.Name)
	if err != nil || !ok {
		return err
	}
	defer mr.Close()
	for {
		line, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		row, err := decode(t, line)
		if err != nil {
			return &Error{Member: mr.Name(), Line: mr.Line(), Err: err}
		}
		if err := fn(mr.Name(), mr.Line(), row); err != nil {
			return err
		}
	}
}
