package archive

import (
	"errors"
	"io"
	"os"
	"sync"

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
	// Members are independent gzip streams: each is read on its own
	// goroutine (decoding is CPU-bound). The error returned is the first
	// member's in manifest order, with the reports of the members before
	// it, as a read in turn would give.
	members := r.Manifest.Members
	reports := make([]TableReport, len(members))
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() { reports[i], errs[i] = verifyMember(r, m) })
	}
	wg.Wait()
	var out []TableReport
	for i := range members {
		if errs[i] != nil {
			return r.Manifest, out, errs[i]
		}
		out = append(out, reports[i])
	}
	return r.Manifest, out, nil
}

// verifyMember reads one member to its end: its count and checksum against
// the manifest (MemberReader), each line of a known table decoded and
// checked against the domain's rules, and for the memories the vectors
// member in step with them.
func verifyMember(r *Reader, m Member) (TableReport, error) {
	t, known := ports.ArchiveTableNamed(m.Table)
	tr := TableReport{Table: m.Table}
	mr, _, err := r.OpenMember(m.Table)
	if err != nil {
		return tr, err
	}
	defer mr.Close()
	var vc *vectorCursor
	if m.Table == "memories" {
		// The vectors member is decoded in step with the memories.
		if vc, err = openVectors(r, false); err != nil {
			return tr, err
		}
	}
	for {
		line, err := mr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			vc.close()
			return tr, err
		}
		if known {
			row, err := decode(t, line)
			if err == nil {
				err = check(t, &row)
			}
			if err != nil {
				vc.close()
				return tr, &Error{Member: mr.Name(), Line: mr.Line(), Err: err}
			}
			if vc != nil {
				if _, err := vc.take(rowID(t, row)); err != nil {
					vc.close()
					return tr, err
				}
			}
		}
		tr.Rows++
	}
	if vc != nil {
		if err := vc.finish(); err != nil {
			return tr, err
		}
	}
	return tr, nil
}
