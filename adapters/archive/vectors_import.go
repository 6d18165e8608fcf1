package archive

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/ports"
)

// nativeReader is src's Engram archive, or nil for a foreign format.
func nativeReader(src source) *Reader {
	if n, ok := src.(native); ok {
		return n.r
	}
	return nil
}

func rowID(t ports.ArchiveTable, r ports.ArchiveRow) string {
	id, _ := r.Values[t.Col("id")].(string)
	return id
}

// checkTable is the import's checking pass over one table. The memories
// are read in step with the vectors member, when there is one, so that a
// corrupt vector line, a vector of another dimension, or one that belongs
// to no memory of the archive fails the import before any row is loaded.
func checkTable(src source, rd *Reader, t ports.ArchiveTable, tr *TableReport, o ImportOptions) error {
	var vc *vectorCursor
	if rd != nil && t.Name == "memories" {
		var err error
		if vc, err = openVectors(rd, false); err != nil {
			return err
		}
	}
	err := src.each(t, func(member string, line int64, row ports.ArchiveRow) error {
		tr.Rows++
		if vc != nil {
			if _, err := vc.take(rowID(t, row)); err != nil {
				return err
			}
		}
		return prepare(t, &row, o, member, line)
	})
	if vc == nil {
		return err
	}
	if err != nil {
		vc.close()
		return err
	}
	return vc.finish()
}

// planVectors decides whether the archive's vectors are loaded: only into
// a vector index of the same model and dimension. rep.Vectors says which.
func planVectors(ctx context.Context, rd *Reader, o ImportOptions, rep *Report) (VectorTarget, error) {
	if rd == nil || rd.Manifest.Vectors == nil {
		return nil, nil
	}
	mv := rd.Manifest.Vectors
	m, _ := rd.Manifest.Member(VectorsTable)
	vr := &VectorReport{Model: mv.Model, Dimension: mv.Dimension, Rows: m.Rows, Outcome: "re-embedded"}
	rep.Vectors = vr
	if o.Vectors == nil {
		vr.Reason = "this import writes no vector index (engramd's in-process index is filled at its start; a command loads vectors only into Qdrant, --qdrant-url)"
		return nil, nil
	}
	space, ok, err := o.Vectors.ArchiveVectorSpace(ctx)
	switch {
	case err != nil:
		return nil, fmt.Errorf("archive: the vector index for the archive's vectors: %w", err)
	case !ok:
		vr.Reason = "no vector index here to load them into"
		return nil, nil
	case space.Model != mv.Model || space.Dimension != mv.Dimension:
		vr.Reason = fmt.Sprintf("the archive's vectors are %s with %d dimensions, the configured embedder is %s with %d",
			mv.Model, mv.Dimension, space.Model, space.Dimension)
		return nil, nil
	}
	vr.Outcome = "loaded"
	return o.Vectors, nil
}
