// Package archive is Engram's portable data format (docs/archive.md): one zip
// file (.engram) holding a manifest and one gzip-compressed JSON Lines member
// per table. It writes archives from a ports.ArchiveSource and imports them,
// or OpenMemory and mem0 exports, into a ports.ArchiveSink.
//
// Nothing here holds a table in memory: the writer streams rows into the zip
// as the store scans them, and the reader decodes one line at a time.
//
// Why zip and not tar: a zip member's size is written after its data (a data
// descriptor), so a member streams out as the store scans it, where a tar
// header needs the size first and would force a temporary copy of every
// member. Zip's central directory lets the reader find the manifest before
// reading any member, so an unknown format version or an oversized archive
// is refused before a byte is decompressed.
package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Format names the file type in the manifest; FormatVersion is the version
// this package writes and the highest it reads.
const (
	Format        = "engram-archive"
	FormatVersion = 1
	ManifestName  = "manifest.json"
	memberSuffix  = ".jsonl.gz"
)

// Manifest is the archive's table of contents, its last member.
type Manifest struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	SchemaVersion uint      `json:"schema_version"`
	CreatedAt     time.Time `json:"created_at"`
	Source        Source    `json:"source"`
	Scope         Scope     `json:"scope"`
	Members       []Member  `json:"members"`
	// Vectors describes the vectors member (VectorsTable), written by an
	// export with embeddings (ExportOptions.Embedder); nil when there is
	// none, and an import embeds the memories.
	Vectors *Vectors `json:"vectors,omitempty"`
}

// Source says where the archive was made.
type Source struct {
	Profile string `json:"profile"` // sqlite or postgres
	Engram  string `json:"engram,omitempty"`
}

// Scope says what the archive holds: kind instance, org or user.
type Scope struct {
	Kind   string     `json:"kind"`
	OrgID  string     `json:"org_id,omitempty"`
	UserID string     `json:"user_id,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
}

// Member is one table's JSON Lines member. SHA256 and Bytes are of the
// uncompressed lines: two stores holding the same data give the same
// checksum even if their gzip output differs.
type Member struct {
	Name   string `json:"name"`
	Table  string `json:"table"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Vectors names the embedding model and dimension of the vectors member.
type Vectors struct {
	Model     string `json:"model"`
	Dimension int    `json:"dimension"`
	Member    string `json:"member"`
}

// Member returns the member of table, if the archive holds it.
func (m Manifest) Member(table string) (Member, bool) {
	for _, x := range m.Members {
		if x.Table == table {
			return x, true
		}
	}
	return Member{}, false
}

// MemberName is the zip entry name of a table's member.
func MemberName(table string) string { return table + memberSuffix }

// memberPattern is every name a member may have: no directories, no dots
// but the suffix, so no path can escape wherever a tool unpacks it.
var memberPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}\.jsonl\.gz$`)

// Error locates a problem in an archive: the member and, when known, the
// line (1-based). It wraps domain.ErrInvalid through Err when the content is
// at fault.
type Error struct {
	Member string
	Line   int64
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Member == "":
		return "archive: " + e.Err.Error()
	case e.Line == 0:
		return fmt.Sprintf("archive: %s: %v", e.Member, e.Err)
	}
	return fmt.Sprintf("archive: %s line %d: %v", e.Member, e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Limits bound what a reader accepts; zero fields take the defaults.
type Limits struct {
	MaxMembers     int   // default 64
	MaxTotalBytes  int64 // uncompressed, all members; default 64 GiB
	MaxLineBytes   int   // default 1 MiB
	MaxManifest    int64 // default 1 MiB
	MaxRatio       int64 // uncompressed / compressed per member; default 1000
	MaxForeignJSON int64 // OpenMemory's memories.json, mem0's export: default 512 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxMembers == 0 {
		l.MaxMembers = 64
	}
	if l.MaxTotalBytes == 0 {
		l.MaxTotalBytes = 64 << 30
	}
	if l.MaxLineBytes == 0 {
		l.MaxLineBytes = 1 << 20
	}
	if l.MaxManifest == 0 {
		l.MaxManifest = 1 << 20
	}
	if l.MaxRatio == 0 {
		l.MaxRatio = 1000
	}
	if l.MaxForeignJSON == 0 {
		l.MaxForeignJSON = 512 << 20
	}
	return l
}

var errTruncated = errors.New("truncated: the member ends before its manifest entry says")

func (m Manifest) validate(l Limits) error {
	if m.Format != Format {
		return fmt.Errorf("not an Engram archive (format %q)", m.Format)
	}
	if m.FormatVersion < 1 || m.FormatVersion > FormatVersion {
		return fmt.Errorf("unknown format version %d: this engram reads versions 1 to %d; upgrade engram", m.FormatVersion, FormatVersion)
	}
	if len(m.Members) > l.MaxMembers {
		return fmt.Errorf("%d members, more than the limit of %d", len(m.Members), l.MaxMembers)
	}
	var total int64
	seen := map[string]bool{}
	for _, x := range m.Members {
		if !memberPattern.MatchString(x.Name) || x.Name != MemberName(x.Table) {
			return fmt.Errorf("member name %q is not allowed", x.Name)
		}
		if seen[x.Name] {
			return fmt.Errorf("member %q listed twice", x.Name)
		}
		seen[x.Name] = true
		if x.Rows < 0 || x.Bytes < 0 || len(x.SHA256) != 64 {
			return fmt.Errorf("member %q: bad rows, bytes or sha256", x.Name)
		}
		total += x.Bytes
	}
	if err := m.validateVectors(); err != nil {
		return err
	}
	if total > l.MaxTotalBytes {
		return fmt.Errorf("%d bytes of data, more than the limit of %d", total, l.MaxTotalBytes)
	}
	return nil
}

func marshalManifest(m Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// validateVectors checks the vectors entry against the members: it names
// the vectors member, which is listed, beside a memories member.
func (m Manifest) validateVectors() error {
	_, listed := m.Member(VectorsTable)
	if m.Vectors == nil {
		if listed {
			return fmt.Errorf("member %q without a vectors entry", MemberName(VectorsTable))
		}
		return nil
	}
	v := m.Vectors
	if _, ok := m.Member("memories"); !ok || !listed || v.Member != MemberName(VectorsTable) {
		return fmt.Errorf("vectors: member %q is not a listed %s beside %s", v.Member, MemberName(VectorsTable), MemberName("memories"))
	}
	if v.Model == "" || v.Dimension < 1 || v.Dimension > MaxVectorDimension {
		return fmt.Errorf("vectors: model %q, dimension %d: want a model and a dimension from 1 to %d", v.Model, v.Dimension, MaxVectorDimension)
	}
	return nil
}
