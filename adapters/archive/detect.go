package archive

import (
	"archive/zip"
	"io"
	"time"
)

// detect recognises a file by its content, not its name: a zip with
// manifest.json is an Engram archive; a zip with memories.json is an
// OpenMemory backup; a JSON document is a mem0 export.
func detect(r io.ReaderAt, size int64, l Limits) (source, error) {
	var head [4]byte
	n, _ := r.ReadAt(head[:], 0)
	if n >= 4 && string(head[:4]) == "PK\x03\x04" {
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return nil, invalid("", 0, "not a readable zip archive (truncated or corrupted?): %v", err)
		}
		for _, f := range zr.File {
			if f.Name == ManifestName {
				rd, err := Open(r, size, l)
				if err != nil {
					return nil, err
				}
				return native{rd}, nil
			}
		}
		for _, f := range zr.File {
			if f.Name == "memories.json" {
				return parseOpenMemory(zr, l, time.Now())
			}
		}
		return nil, invalid("", 0, "a zip file, but neither an Engram archive (no %s) nor an OpenMemory backup (no memories.json)", ManifestName)
	}
	if size > l.MaxForeignJSON {
		return nil, invalid("mem0.json", 0, "larger than the limit of %d bytes", l.MaxForeignJSON)
	}
	raw, err := readLimited(io.NewSectionReader(r, 0, size), l.MaxForeignJSON, "mem0.json")
	if err != nil {
		return nil, err
	}
	return parseMem0(raw, time.Now())
}
