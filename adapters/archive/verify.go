package archive

import (
	"errors"
	"io"
	"os"

	"github.com/engram-memory/engram/ports"
)

// Verify reads a whole Engram archive without a store: the manifest, then
// every member to its end, checking counts, sizes and checksums and
// decoding every line (the vectors member's in step with the memories'). It returns the manifest and, per member, the rows
// read. The first problem is returned as an *Error naming member and line.
func Verify(path string, limits Limits) (Manifest, []TableReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Manifest{}, nil, err
	}
	r, err := Open(f, st.Size(), limits)
	if err != nil {
		return Manifest{}, nil, err
	}
	var out []TableReport
	for _, m := range r.Manifest.Members {
		t, known := ports.ArchiveTableNamed(m.Table)
		mr, _, err := r.OpenMember(m.Table)
		if err != nil {
			return r.Manifest, out, err
		}
		tr := TableReport{Table: m.Table}
		var vc *vectorCursor
		if m.Table == "memories" {
			// The vectors member is decoded in step with the memories.
			if vc, err = openVectors(r); err != nil {
				_ = mr.Close()
				return r.Manifest, out, err
			}
		}
		for {
			line, err := mr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = mr.Close()
				vc.close()
				return r.Manifest, out, err
			}
			if known {
				row, err := decode(t, line)
				if err == nil {
					err = check(t, &row)
				}
				if err != nil {
					_ = mr.Close()
					vc.close()
					return r.Manifest, out, &Error{Member: mr.Name(), Line: mr.Line(), Err: err}
				}
				if vc != nil {
					if _, err := vc.take(rowID(t, row)); err != nil {
						_ = mr.Close()
						vc.close()
						return r.Manifest, out, err
					}
				}
			}
			tr.Rows++
		}
		_ = mr.Close()
		if vc != nil {
			if err := vc.finish(); err != nil {
				return r.Manifest, out, err
			}
		}
		out = append(out, tr)
	}
	return r.Manifest, out, nil
}
