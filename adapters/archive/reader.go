package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/engram-memory/engram/domain"
)

// Reader reads an archive from a random-access file (zip keeps its
// directory at the end). Open checks the manifest; members are verified as
// they are read.
type Reader struct {
	zr       *zip.Reader
	Manifest Manifest
	// ManifestSum is the SHA-256 of the manifest's bytes: it identifies the
	// archive (the manifest holds every member's checksum) for checkpoints.
	ManifestSum string
	limits      Limits
	files       map[string]*zip.File
}

func invalid(member string, line int64, format string, args ...any) error {
	return &Error{Member: member, Line: line, Err: fmt.Errorf("%w: %s", domain.ErrInvalid, fmt.Sprintf(format, args...))}
}

// Open reads and checks the zip directory and the manifest: format and
// version known, member names allowed, sizes within limits, every listed
// member present and no unlisted one.
func Open(r io.ReaderAt, size int64, limits Limits) (*Reader, error) {
	limits = limits.withDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, invalid("", 0, "not a readable zip archive (truncated or corrupted?): %v", err)
	}
	if len(zr.File) > limits.MaxMembers+1 {
		return nil, invalid("", 0, "%d entries, more than the limit of %d", len(zr.File), limits.MaxMembers+1)
	}
	rd := &Reader{zr: zr, limits: limits, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if f.Name != ManifestName && !memberPattern.MatchString(f.Name) {
			return nil, invalid(f.Name, 0, "member name is not allowed (only %s and <table>%s)", ManifestName, memberSuffix)
		}
		if _, dup := rd.files[f.Name]; dup {
			return nil, invalid(f.Name, 0, "member appears twice")
		}
		rd.files[f.Name] = f
	}
	mf, ok := rd.files[ManifestName]
	if !ok {
		return nil, invalid(ManifestName, 0, "missing: not an Engram archive, or one whose writing never finished")
	}
	raw, err := readAllLimited(mf, limits.MaxManifest)
	if err != nil {
		return nil, &Error{Member: ManifestName, Err: err}
	}
	sum := sha256.Sum256(raw)
	rd.ManifestSum = hex.EncodeToString(sum[:])
	if err := json.Unmarshal(raw, &rd.Manifest); err != nil {
		return nil, invalid(ManifestName, 0, "not valid JSON: %v", err)
	}
	if err := rd.Manifest.validate(limits); err != nil {
		return nil, invalid(ManifestName, 0, "%v", err)
	}
	for _, m := range rd.Manifest.Members {
		f, ok := rd.files[m.Name]
		if !ok {
			return nil, invalid(m.Name, 0, "listed in the manifest but missing from the archive")
		}
		if m.Bytes > 0 && int64(f.CompressedSize64) > 0 && m.Bytes/int64(f.CompressedSize64) > limits.MaxRatio {
			return nil, invalid(m.Name, 0, "declares %d bytes from %d compressed: a ratio over %d is refused", m.Bytes, f.CompressedSize64, limits.MaxRatio)
		}
	}
	for name := range rd.files {
		if _, ok := rd.Manifest.Member(strings.TrimSuffix(name, memberSuffix)); !ok && name != ManifestName {
			return nil, invalid(name, 0, "not listed in the manifest")
		}
	}
	return rd, nil
}

func readAllLimited(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: larger than the limit of %d bytes", domain.ErrInvalid, limit)
	}
	return b, nil
}

// MemberReader yields a member's lines and, at the end, checks their count
// and checksum against the manifest. A line is never longer than the
// reader's limit and the member never decompresses past its declared size,
// which is what defuses a zip bomb.
type MemberReader struct {
	entry Member
	rc    io.ReadCloser
	gz    *gzip.Reader
	br    *bufio.Reader
	sum   hash.Hash
	read  int64
	line  int64
	max   int
	done  bool
}

// OpenMember opens table's member. ok is false when the archive has none.
func (r *Reader) OpenMember(table string) (mr *MemberReader, ok bool, err error) {
	entry, ok := r.Manifest.Member(table)
	if !ok {
		return nil, false, nil
	}
	rc, err := r.files[entry.Name].Open()
	if err != nil {
		return nil, true, invalid(entry.Name, 0, "%v", err)
	}
	gz, err := gzip.NewReader(rc)
	if err != nil {
		_ = rc.Close()
		return nil, true, invalid(entry.Name, 0, "not gzip data: %v", err)
	}
	gz.Multistream(false)
	// The limit reader stops decompression one byte past the declared size.
	br := bufio.NewReaderSize(io.LimitReader(gz, entry.Bytes+1), 64<<10)
	return &MemberReader{entry: entry, rc: rc, gz: gz, br: br, sum: sha256.New(), max: r.limits.MaxLineBytes}, true, nil
}

// Line is the 1-based number of the line Next returned last.
func (m *MemberReader) Line() int64 { return m.line }

// Name is the member's name.
func (m *MemberReader) Name() string { return m.entry.Name }

// Next returns the next line without its newline, or io.EOF after the last
// one once the count and checksum have matched. The slice is valid until
// the next call.
func (m *MemberReader) Next() ([]byte, error) {
	if m.done {
		return nil, io.EOF
	}
	var buf []byte
	for {
		chunk, err := m.br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > m.max+1 {
			return nil, invalid(m.entry.Name, m.line+1, "line longer than the limit of %d bytes", m.max)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(buf) != 0 {
				return nil, invalid(m.entry.Name, m.line+1, "%v (the last line has no newline)", errTruncated)
			}
			return nil, m.finish()
		}
		return nil, invalid(m.entry.Name, m.line+1, "corrupted: %v", err)
	}
	m.read += int64(len(buf))
	if m.read > m.entry.Bytes {
		return nil, invalid(m.entry.Name, m.line+1, "more data than the manifest's %d bytes", m.entry.Bytes)
	}
	m.sum.Write(buf)
	m.line++
	return bytes.TrimSuffix(buf, []byte{'\n'}), nil
}

func (m *MemberReader) finish() error {
	m.done = true
	switch {
	case m.read != m.entry.Bytes:
		return invalid(m.entry.Name, m.line, "%v (%d of %d bytes)", errTruncated, m.read, m.entry.Bytes)
	case m.line != m.entry.Rows:
		return invalid(m.entry.Name, m.line, "%d rows where the manifest says %d", m.line, m.entry.Rows)
	case hex.EncodeToString(m.sum.Sum(nil)) != m.entry.SHA256:
		return invalid(m.entry.Name, 0, "checksum mismatch: the member was modified or corrupted")
	}
	return io.EOF
}

// Close releases the member.
func (m *MemberReader) Close() error {
	return errors.Join(m.gz.Close(), m.rc.Close())
}
