package archive

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/engram-memory/engram/ports"
)

// ExportOptions say what to export and what to write in the manifest.
type ExportOptions struct {
	Scope ports.ArchiveScope
	// Omit lists optional tables to leave out (memory_access,
	// feedback_events, query_logs).
	Omit          []string
	SchemaVersion uint
	Profile       string
	Engram        string
	Now           time.Time // the manifest's created_at; zero means time.Now
	// SumsOnly computes the manifest (counts, sizes, checksums) without
	// compressing the members: what is written to w is then no usable
	// archive. For comparing a store with a manifest (backup verify).
	SumsOnly bool
	// Embedder, when set, adds the vectors member: every active memory in
	// scope embedded with it, and its model and dimension in the manifest
	// (docs/archive.md, "Vectors").
	Embedder ports.Embedder
}

// ScopeOf describes s as the manifest does.
func ScopeOf(s ports.ArchiveScope) Scope {
	sc := Scope{Kind: "instance", OrgID: string(s.Org), UserID: string(s.User)}
	switch {
	case s.User != "":
		sc.Kind = "user"
	case s.Org != "":
		sc.Kind = "org"
	}
	if !s.Since.IsZero() {
		since := s.Since.UTC()
		sc.Since = &since
	}
	return sc
}

// Tables returns the tables an export of scope writes: a user's export
// leaves out the org's experiments.
func Tables(scope ports.ArchiveScope, omit []string) []ports.ArchiveTable {
	var out []ports.ArchiveTable
	for _, t := range ports.ArchiveTables {
		if (scope.User != "" && !t.UserScoped) || (t.Optional && slices.Contains(omit, t.Name)) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Export writes an archive of src's data in o.Scope to w, from one snapshot,
// streaming row by row. On error the archive is incomplete (it has no
// manifest) and must be discarded.
func Export(ctx context.Context, src ports.ArchiveSource, w io.Writer, o ExportOptions) (Manifest, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	aw := NewWriter(w, Manifest{
		SchemaVersion: o.SchemaVersion,
		CreatedAt:     now.UTC().Truncate(time.Microsecond),
		Source:        Source{Profile: o.Profile, Engram: o.Engram},
		Scope:         ScopeOf(o.Scope),
	})
	aw.sumsOnly = o.SumsOnly
	enc := newEncoder()
	err := src.ArchiveSnapshot(ctx, func(sn ports.ArchiveSnapshot) error {
		for _, t := range Tables(o.Scope, o.Omit) {
			mw, err := aw.Begin(t.Name)
			if err != nil {
				return err
			}
			err = sn.Scan(ctx, t, o.Scope, func(r ports.ArchiveRow) error {
				line, err := enc.encode(t, r)
				if err != nil {
					return err
				}
				return mw.WriteLine(line)
			})
			if err != nil {
				return err
			}
			if err := mw.Close(); err != nil {
				return err
			}
		}
		if o.Embedder != nil {
			return exportVectors(ctx, sn, aw, o.Scope, o.Embedder)
		}
		return nil
	})
	if err != nil {
		return Manifest{}, err
	}
	return aw.Close()
}
