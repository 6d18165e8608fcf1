package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// VectorsTable names the optional member of embeddings (vectors.jsonl.gz):
// one line per active memory, in the memories member's order, written by an
// export with ExportOptions.Embedder (docs/archive.md, "Vectors").
const VectorsTable = "vectors"

// MaxVectorDimension bounds a manifest's vector dimension.
const MaxVectorDimension = 65536

// vectorBatch is how many texts an export embeds in one call.
const vectorBatch = 256

// VectorTarget is the vector index an import loads archived vectors into
// (app.Indexer).
type VectorTarget interface {
	// ArchiveVectorSpace is the configured embedder's model and dimension;
	// ok is false when there is no vector index here that archived vectors
	// could go into (the memories are then embedded as without vectors).
	ArchiveVectorSpace(ctx context.Context) (space ports.VectorSpace, ok bool, err error)
	// MemoriesChangedWithVectors indexes ids as ImportOptions.Changed
	// does, taking each memory's vector from vecs when its text is the one
	// the vector was computed from, and embedding the others.
	MemoriesChangedWithVectors(ctx context.Context, t domain.Tenant, ids []domain.MemoryID, vecs []ports.ArchivedVector) (ports.ArchivedVectorLoad, error)
}

// VectorReport says what an import did with an archive's vectors.
type VectorReport struct {
	Model     string `json:"model"`
	Dimension int    `json:"dimension"`
	Rows      int64  `json:"rows"`
	// Outcome is "loaded" (the archived vectors went into the vector
	// index) or "re-embedded" (Reason says why they could not).
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	ports.ArchivedVectorLoad
}

// vectorLine is one line of the vectors member.
type vectorLine struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	UserID     string    `json:"user_id"`
	TextSHA256 string    `json:"text_sha256"`
	Vector     []float32 `json:"vector"`
}

// TextSHA256 is the hex SHA-256 of a memory's plaintext, as a vector line
// carries it.
func TextSHA256(text string) string {
	s := sha256.Sum256([]byte(text))
	return hex.EncodeToString(s[:])
}

// decodeVector decodes and checks one vector line. With convert false the
// line's Vector may be nil: its numbers are checked, not kept
// (decodeVectorFast).
func decodeVector(line []byte, dim int, convert bool) (vectorLine, error) {
	if v, ok := decodeVectorFast(line, dim, convert); ok {
		return v, nil
	}
	var v vectorLine
	if err := json.Unmarshal(line, &v); err != nil {
		return v, fmt.Errorf("%w: not a vector line: %v", domain.ErrInvalid, err)
	}
	if !domain.ValidID(v.ID) {
		return v, fmt.Errorf("%w: id %q is not a memory id", domain.ErrInvalid, v.ID)
	}
	if err := (domain.Tenant{OrgID: domain.OrgID(v.OrgID), UserID: domain.UserID(v.UserID)}).Validate(); err != nil {
		return v, err
	}
	if b, err := hex.DecodeString(v.TextSHA256); err != nil || len(b) != sha256.Size {
		return v, fmt.Errorf("%w: text_sha256 is not a hex SHA-256", domain.ErrInvalid)
	}
	if len(v.Vector) != dim {
		return v, fmt.Errorf("%w: vector of %d dimensions, the manifest says %d", domain.ErrInvalid, len(v.Vector), dim)
	}
	return v, nil
}

// exportVectors writes the vectors member: every active memory in scope,
// read again from the same snapshot, embedded in batches. A memory whose
// text the archive carries sealed (a backup or operator export with
// encryption at rest) gets no line: a vector is derived from the text, and
// an erasure's destroyed data key must shred everything derived from it
// in every copy (docs/privacy.md). An import embeds those memories.
func exportVectors(ctx context.Context, sn ports.ArchiveSnapshot, aw *Writer, scope ports.ArchiveScope, emb ports.Embedder) error {
	t, _ := ports.ArchiveTableNamed("memories")
	mw, err := aw.Begin(VectorsTable)
	if err != nil {
		return err
	}
	idc, orgc, userc, textc, statec, erasedc := t.Col("id"), t.Col("org_id"), t.Col("user_id"), t.Col("text"), t.Col("state"), t.Col("erased")
	dim := emb.Dimension()
	var batch []vectorLine
	var texts []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		vs, err := emb.Embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("archive: embed for %s: %w", mw.entry.Name, err)
		}
		if len(vs) != len(batch) {
			return fmt.Errorf("archive: embedder returned %d vectors for %d texts", len(vs), len(batch))
		}
		for i := range batch {
			if dim == 0 {
				dim = len(vs[i])
			}
			if len(vs[i]) != dim {
				return fmt.Errorf("archive: embedder returned a vector of %d dimensions after %d", len(vs[i]), dim)
			}
			batch[i].Vector = vs[i]
			line, err := json.Marshal(batch[i])
			if err != nil {
				return err
			}
			if err := mw.WriteLine(line); err != nil {
				return err
			}
		}
		batch, texts = batch[:0], texts[:0]
		return nil
	}
	err = sn.Scan(ctx, t, scope, func(r ports.ArchiveRow) error {
		text, _ := r.Values[textc].(string)
		state, _ := r.Values[statec].(string)
		erased, _ := r.Values[erasedc].(bool)
		if state != string(domain.StateActive) || erased || ports.Sealed(text) {
			return nil
		}
		id, _ := r.Values[idc].(string)
		org, _ := r.Values[orgc].(string)
		user, _ := r.Values[userc].(string)
		batch = append(batch, vectorLine{ID: id, OrgID: org, UserID: user, TextSHA256: TextSHA256(text)})
		texts = append(texts, text)
		if len(batch) >= vectorBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	if dim == 0 {
		vs, err := emb.Embed(ctx, []string{"dimension probe"})
		if err != nil || len(vs) != 1 {
			return fmt.Errorf("archive: learn the embedding dimension: %w", err)
		}
		dim = len(vs[0])
	}
	aw.manifest.Vectors = &Vectors{Model: emb.Model(), Dimension: dim, Member: MemberName(VectorsTable)}
	return nil
}

// vectorCursor reads the vectors member in step with the memories member:
// both are in the same order and the vectors' ids are a subset of the
// memories', so the vector of a memory, if any, is the next unread line.
type vectorCursor struct {
	mr   *MemberReader
	dim  int
	next *vectorLine
	line int64
	eof  bool
	// convert is whether take's lines carry their vectors: the checking
	// passes only check them.
	convert bool
}

// openVectors opens r's vectors member; nil when the archive has none.
// With convert false the lines it takes are checked and carry no vector.
func openVectors(r *Reader, convert bool) (*vectorCursor, error) {
	if r.Manifest.Vectors == nil {
		return nil, nil
	}
	mr, _, err := r.OpenMember(VectorsTable)
	if err != nil {
		return nil, err
	}
	return &vectorCursor{mr: mr, dim: r.Manifest.Vectors.Dimension, convert: convert}, nil
}

// take returns the vector of the memory id, or nil when it has none.
func (c *vectorCursor) take(id string) (*vectorLine, error) {
	if c.next == nil && !c.eof {
		raw, err := c.mr.Next()
		if errors.Is(err, io.EOF) {
			c.eof = true
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := decodeVector(raw, c.dim, c.convert)
		if err != nil {
			return nil, &Error{Member: c.mr.Name(), Line: c.mr.Line(), Err: err}
		}
		c.next, c.line = &v, c.mr.Line()
	}
	if c.next != nil && c.next.ID == id {
		v := c.next
		c.next = nil
		return v, nil
	}
	return nil, nil
}

// finish checks, after the last memory, that every vector line was taken
// and that the member's count and checksum match the manifest.
func (c *vectorCursor) finish() error {
	defer c.mr.Close()
	if c.next == nil && !c.eof {
		if _, err := c.take(""); err != nil {
			return err
		}
	}
	if c.next != nil {
		return invalid(c.mr.Name(), c.line, "memory %s is not in %s, or not in its order", c.next.ID, MemberName("memories"))
	}
	return nil
}

func (c *vectorCursor) close() {
	if c != nil {
		_ = c.mr.Close()
	}
}
