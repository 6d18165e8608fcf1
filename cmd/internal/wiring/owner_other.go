//go:build !unix

package wiring

import "os"

// fileOwner reports no owner where files have no uid.
func fileOwner(os.FileInfo) (int, bool) { return 0, false }
