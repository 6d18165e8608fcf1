package archive

import (
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Writer streams an archive: members one after another, then the manifest.
// It never seeks, so w may be a pipe or an HTTP response.
type Writer struct {
	zw       *zip.Writer
	manifest Manifest
	open     *MemberWriter
	sumsOnly bool // members are counted and summed, not compressed (ExportOptions.SumsOnly)
}

// NewWriter starts an archive whose manifest will carry m's header fields
// (format and members are filled in by the writer).
func NewWriter(w io.Writer, m Manifest) *Writer {
	m.Format, m.FormatVersion, m.Members = Format, FormatVersion, nil
	return &Writer{zw: zip.NewWriter(w), manifest: m}
}

// MemberWriter receives one table's lines.
type MemberWriter struct {
	w     *Writer
	gz    io.WriteCloser
	sum   hash.Hash
	entry Member
}

// Begin opens the member of table; the previous member must be closed.
func (w *Writer) Begin(table string) (*MemberWriter, error) {
	if w.open != nil {
		return nil, errors.New("archive: a member is still open")
	}
	name := MemberName(table)
	if !memberPattern.MatchString(name) {
		return nil, fmt.Errorf("archive: bad table name %q", table)
	}
	// Stored, not deflated: the content is gzip already, which is what the
	// format promises (a member unpacked by any zip tool is a .jsonl.gz).
	f, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: w.manifest.CreatedAt})
	if err != nil {
		return nil, fmt.Errorf("archive: begin %s: %w", name, err)
	}
	var gz io.WriteCloser = nopWriteCloser{}
	if !w.sumsOnly {
		gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
	}
	mw := &MemberWriter{w: w, gz: gz, sum: sha256.New(), entry: Member{Name: name, Table: table}}
	w.open = mw
	return mw, nil
}

// WriteLine appends one JSON line (without its newline).
func (m *MemberWriter) WriteLine(line []byte) error {
	line = append(line, '\n')
	m.sum.Write(line)
	m.entry.Bytes += int64(len(line))
	m.entry.Rows++
	if _, err := m.gz.Write(line); err != nil {
		return fmt.Errorf("archive: write %s: %w", m.entry.Name, err)
	}
	return nil
}

// Close ends the member and records its counts and checksum.
func (m *MemberWriter) Close() error {
	if err := m.gz.Close(); err != nil {
		return fmt.Errorf("archive: close %s: %w", m.entry.Name, err)
	}
	m.entry.SHA256 = hex.EncodeToString(m.sum.Sum(nil))
	m.w.manifest.Members = append(m.w.manifest.Members, m.entry)
	m.w.open = nil
	return nil
}

// Close writes the manifest and the zip directory. It returns the manifest.
func (w *Writer) Close() (Manifest, error) {
	if w.open != nil {
		return Manifest{}, errors.New("archive: a member is still open")
	}
	b, err := marshalManifest(w.manifest)
	if err != nil {
		return Manifest{}, err
	}
	f, err := w.zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: w.manifest.CreatedAt})
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = w.zw.Close()
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("archive: write manifest: %w", err)
	}
	return w.manifest, nil
}

// nopWriteCloser takes a sums-only member's bytes and drops them.
type nopWriteCloser struct{}

func (nopWriteCloser) Write(p []byte) (int, error) { return len(p), nil }
func (nopWriteCloser) Close() error                { return nil }
