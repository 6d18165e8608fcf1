package archive

import (
	"archive/zip"
	"io"

	"github.com/engram-memory/engram/domain"
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
		return nil, invalid("", 0, "a zip file, but neither an Engram archive (no %s) nor an OpenMemory backup (no memories.json)", ManifestName)
	}
	return nil, &Error{Err: domain.Invalid("file", "not an Engram archive, an OpenMemory backup zip or a mem0 JSON export")}
}
