package pgstore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// serverCPU returns a function reading the CPU time (user + system) of
// every process of the PostgreSQL server db is connected to as a
// superuser: its postmaster and the postmaster's children (backends,
// WAL sender or receiver, startup process), from Linux /proc. It returns
// nil when the server is not on this machine or not readable. Processes
// that exit between two readings take their time with them, which pooled
// connections do not.
func serverCPU(db *sqlx.DB) func() time.Duration {
	var dir string
	if db.Get(&dir, `SELECT current_setting('data_directory')`) != nil {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil {
		return nil
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
		return nil
	}
	return func() time.Duration {
		entries, _ := os.ReadDir("/proc")
		var ticks int64
		for _, e := range entries {
			p, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
			if err != nil {
				continue
			}
			// After the parenthesised command name: state, ppid, …;
			// utime and stime are the 12th and 13th (USER_HZ ticks).
			f := strings.Fields(string(raw)[strings.LastIndexByte(string(raw), ')')+1:])
			if len(f) < 13 {
				continue
			}
			if ppid, _ := strconv.Atoi(f[1]); p != pid && ppid != pid {
				continue
			}
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += ut + st
		}
		return time.Duration(ticks) * 10 * time.Millisecond
	}
}

// cpuSelf is this process's CPU time (user + system), from /proc.
func cpuSelf() time.Duration {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw)[strings.LastIndexByte(string(raw), ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
