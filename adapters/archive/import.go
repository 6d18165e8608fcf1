package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// ImportOptions say how to import.
type ImportOptions struct {
	ports.LoadOptions
	// BatchSize rows go into one transaction; default 1000.
	BatchSize int
	// Tenant, when set, rewrites every row's org and user to it and leaves
	// out org-level tables (experiments): an import through the API lands
	// in the caller's own data only.
	Tenant *domain.Tenant
	// Checkpoint is a file that records progress so that a re-run resumes;
	// empty means none. It is removed when the import completes.
	Checkpoint string
	Limits     Limits
	// Checked says the caller has just read the whole file through Verify
	// (checksums, counts, every line decoded and checked), so the checking
	// pass is skipped: a failure now can only come from the store. Only
	// for a file that cannot have changed since (backup verify's trial
	// restore).
	Checked bool
	// Progress, if set, is called after every batch.
	Progress func(table string, rows int64)
	// Changed, if set, is called after every committed batch of memories
	// with their ids, per tenant, so that the caller brings its indexes up
	// to date (app.Indexer.MemoriesChanged). Not called in a dry run.
	Changed func(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error
	// Vectors, if set, receives an archive's vectors instead of Changed
	// when they are of the model and dimension it reports: the memories are
	// indexed without embedding them again. Otherwise (or when unset) the
	// vectors are checked and Changed is called as for an archive without.
	Vectors VectorTarget
}

// TableReport is one table's outcome.
type TableReport struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Inserted int    `json:"inserted"`
	Updated  int    `json:"updated"`
	Skipped  int    `json:"skipped"`
	// Checkpointed counts the rows a resumed migrate-data copy found
	// copied by the run it resumes: they are in Rows, and were not read
	// again.
	Checkpointed int64 `json:"checkpointed,omitempty"`
}

// Report is an import's outcome.
type Report struct {
	Format  string        `json:"format"`
	Resumed bool          `json:"resumed"`
	DryRun  bool          `json:"dry_run"`
	Tables  []TableReport `json:"tables"`
	// Orgs lists the orgs whose memories were written: their indexes need
	// bringing up to date.
	Orgs []domain.OrgID `json:"orgs"`
	// Vectors says what became of the archive's vectors; nil when it has
	// none.
	Vectors *VectorReport `json:"vectors,omitempty"`
}

// ImportFile imports the file at path; see Import.
func ImportFile(ctx context.Context, sink ports.ArchiveSink, path string, o ImportOptions) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Report{}, fmt.Errorf("archive: %w", err)
	}
	return Import(ctx, sink, f, st.Size(), o)
}

// Import reads an Engram archive, an OpenMemory backup or a mem0 export
// (detected by content) into sink.
//
// It reads the file twice. The first pass checks everything: member
// checksums and counts, every line's syntax and the domain's rules. Only a
// file that passes is imported, in a second pass of batches, each one
// transaction. So a corrupted, truncated or tampered file imports nothing,
// and an error names the member and line at fault.
func Import(ctx context.Context, sink ports.ArchiveSink, r io.ReaderAt, size int64, o ImportOptions) (Report, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	src, err := detect(r, size, o.Limits.withDefaults())
	if err != nil {
		return Report{}, err
	}
	if src.kind() != "engram" && o.Tenant == nil {
		return Report{}, fmt.Errorf("archive: a %s file names no Engram org or user: import it for one user (--org and --user, or through the API): %w", src.kind(), domain.ErrInvalid)
	}
	tables := importTables(src, o)
	rep := Report{Format: src.kind(), DryRun: o.DryRun, Tables: make([]TableReport, len(tables)), Orgs: []domain.OrgID{}}
	for i, t := range tables {
		rep.Tables[i].Table = t.Name
	}
	rd := nativeReader(src)
	if !o.Checked {
		if err := checkTables(src, rd, tables, o, rep.Tables); err != nil {
			return Report{}, err
		}
	}
	vt, err := planVectors(ctx, rd, o, &rep)
	if err != nil {
		return Report{}, err
	}
	mode := "skip"
	if o.Overwrite {
		mode = "overwrite"
	}
	tenant := ""
	if o.Tenant != nil {
		tenant = string(o.Tenant.OrgID) + "/" + string(o.Tenant.UserID)
	}
	cp, err := loadCheckpoint(o.Checkpoint)
	if err != nil {
		return Report{}, err
	}
	if cp != nil && (cp.Archive != src.id() || cp.Mode != mode || cp.Tenant != tenant) {
		return Report{}, fmt.Errorf("archive: checkpoint %s belongs to another archive or mode; delete it to start over", o.Checkpoint)
	}
	if o.DryRun {
		cp = nil
	}
	rep.Resumed = cp != nil
	if !o.DryRun {
		// After the last batch, or the batch that failed: rows landed
		// either way.
		defer settle(ctx, sink)
	}
	orgs := map[domain.OrgID]bool{}
	for i, t := range tables {
		if cp != nil && slices.IndexFunc(tables, func(x ports.ArchiveTable) bool { return x.Name == cp.Table }) > i {
			continue // finished before the interruption
		}
		im := &importer{ctx: ctx, sink: sink, t: t, o: o, tr: &rep.Tables[i], id: src.id(), mode: mode, tenant: tenant, orgs: orgs}
		if cp != nil && cp.Table == t.Name {
			im.skipTo = cp.Line
		}
		if vt != nil && t.Name == "memories" {
			if im.vc, err = openVectors(rd, true); err != nil {
				return Report{}, err
			}
			im.vt, im.vrep = vt, rep.Vectors
		}
		err := src.each(t, im.add)
		if err != nil {
			// A batch may still be loading: let it end before returning.
			_ = im.wait()
		} else {
			err = im.finish()
		}
		if err == nil && im.vc != nil {
			err = im.vc.finish()
		} else {
			im.vc.close()
		}
		if err != nil {
			return Report{}, err
		}
	}
	if !o.DryRun && o.Checkpoint != "" {
		if err := os.Remove(o.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Report{}, fmt.Errorf("archive: remove checkpoint: %w", err)
		}
	}
	for org := range orgs {
		rep.Orgs = append(rep.Orgs, org)
	}
	slices.Sort(rep.Orgs)
	return rep, nil
}

// checkTables is the checking pass over every table (checkTable), counting
// rows into reports. An Engram archive's members are independent gzip
// streams, so each table is checked on its own goroutine (the pass is
// decoding, CPU-bound, and a machine has more than one core); a foreign
// file is read in turn. The error returned is the first table's in table
// order, whichever goroutine failed first, so a file always fails the
// same way.
func checkTables(src source, rd *Reader, tables []ports.ArchiveTable, o ImportOptions, reports []TableReport) error {
	errs := make([]error, len(tables))
	if rd == nil {
		for i, t := range tables {
			if err := checkTable(src, rd, t, &reports[i], o); err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Go(func() { errs[i] = checkTable(src, rd, t, &reports[i], o) })
	}
	wg.Wait()
	return firstError(errs)
}

// firstError is the first non-nil error of errs, or nil.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// settle tells a sink that can bring its statistics up to date
// (ports.LoadSettler: pgstore) that a bulk load has ended. It returns at
// once and cannot fail the load.
func settle(ctx context.Context, sink ports.ArchiveSink) {
	if st, ok := sink.(ports.LoadSettler); ok {
		st.SettleLoad(ctx)
	}
}

func importTables(src source, o ImportOptions) []ports.ArchiveTable {
	var out []ports.ArchiveTable
	for _, t := range ports.ArchiveTables {
		if src.has(t.Name) && (o.Tenant == nil || t.UserScoped) {
			out = append(out, t)
		}
	}
	return out
}

// prepare rewrites the tenant when asked and applies the domain's rules.
func prepare(t ports.ArchiveTable, row *ports.ArchiveRow, o ImportOptions, member string, line int64) error {
	if o.Tenant != nil {
		rewrite(t, row, *o.Tenant)
	}
	if err := check(t, row); err != nil {
		return &Error{Member: member, Line: line, Err: err}
	}
	return nil
}

// importer loads one table in batches and checkpoints after each.
type importer struct {
	ctx    context.Context
	sink   ports.ArchiveSink
	t      ports.ArchiveTable
	o      ImportOptions
	tr     *TableReport
	id     string
	mode   string
	tenant string
	orgs   map[domain.OrgID]bool
	skipTo int64
	// vc reads the archive's vectors in step with its memories, and vt
	// takes them (planVectors); nil when the memories are embedded.
	vc   *vectorCursor
	vt   VectorTarget
	vrep *VectorReport                            // written by the loader only
	vecs map[domain.MemoryID]ports.ArchivedVector // of the batch being read

	batch  []ports.ArchiveRow
	lines  []int64
	member string

	// A batch goes through two stages, each on the batch's goroutine: the
	// store's transaction (stored), then the indexes and the checkpoint
	// (indexed). One batch is stored while the batch before it is indexed
	// and the batch after it is read and checked, so that decoding (about
	// 40 % of an import's CPU), the store's work and the index's (with
	// vectors, as much again) run side by side. Stores happen one at a
	// time in order, and so do index stages: a batch's index stage waits
	// for the one before it, so the checkpoint never passes a batch that
	// is not both stored and indexed. stored and indexed are the last
	// batch's; nil before the first.
	stored, indexed *stage
}

// stage is one batch's pass through a stage: done is closed when it ended,
// and err is then its outcome.
type stage struct {
	done chan struct{}
	err  error
}

func (im *importer) add(member string, line int64, row ports.ArchiveRow) error {
	if im.o.Checked {
		im.tr.Rows++
	}
	var vec *vectorLine
	if im.vc != nil {
		var err error
		if vec, err = im.vc.take(rowID(im.t, row)); err != nil {
			return err
		}
	}
	if line <= im.skipTo {
		return nil
	}
	if err := prepare(im.t, &row, im.o, member, line); err != nil {
		return err
	}
	if vec != nil {
		if im.vecs == nil {
			im.vecs = map[domain.MemoryID]ports.ArchivedVector{}
		}
		id := domain.MemoryID(vec.ID)
		im.vecs[id] = ports.ArchivedVector{ID: id, TextSHA256: vec.TextSHA256, Vector: vec.Vector}
	}
	im.member = member
	im.batch = append(im.batch, row)
	im.lines = append(im.lines, line)
	if len(im.batch) >= im.o.BatchSize {
		return im.flush()
	}
	return nil
}

// flush hands the batch read so far to the store once the one before it
// is stored, and returns that one's error if it failed: a batch the store
// refused stops the import, and the batch read after it is never stored.
// A batch whose indexing failed stops it too; the batch after it may be
// stored by then, but it is not checkpointed, so a re-run reads it again
// (and indexes it, skipped rows too).
//
// A sink that prepares its batches (ports.LoadPreparer: pgstore encodes
// them for the server) prepares this one here, on the reading goroutine,
// while the batch before it loads: the store's own work on a batch is
// then only its transaction.
func (im *importer) flush() error {
	if len(im.batch) == 0 {
		return im.wait()
	}
	batch, lines, member, vecs := im.batch, im.lines, im.member, im.vecs
	var prepared ports.PreparedLoad
	lp, prepares := im.sink.(ports.LoadPreparer)
	var prepErr error
	if prepares {
		prepared, prepErr = lp.PrepareLoad(im.ctx, im.t, batch)
	}
	if err := im.waitStored(); err != nil {
		return err
	}
	if prepErr != nil {
		return batchError(prepErr, lines, member)
	}
	// Fresh slices for the next batch: the stages still read these.
	im.batch, im.lines, im.vecs = make([]ports.ArchiveRow, 0, im.o.BatchSize), make([]int64, 0, im.o.BatchSize), nil
	stored, indexed, prev := &stage{done: make(chan struct{})}, &stage{done: make(chan struct{})}, im.indexed
	im.stored, im.indexed = stored, indexed
	go func() {
		stored.err = im.store(batch, prepared, lines, member)
		close(stored.done)
		err := stored.err
		if prev != nil {
			<-prev.done
			if prev.err != nil {
				err = prev.err // the earlier failure stops the import
			}
		}
		if err == nil {
			err = im.index(batch, lines, vecs)
		}
		indexed.err = err
		close(indexed.done)
	}()
	return nil
}

// waitStored blocks until the last batch handed over is stored, and
// returns its error, or an index stage's that has already failed.
func (im *importer) waitStored() error {
	if im.stored == nil {
		return nil
	}
	<-im.stored.done
	if im.stored.err != nil {
		return im.stored.err
	}
	select {
	case <-im.indexed.done:
		return im.indexed.err
	default:
		return nil
	}
}

// wait blocks until every batch handed over is stored and indexed (the
// last index stage waits for all before it), and returns the first error.
func (im *importer) wait() error {
	if im.indexed == nil {
		return nil
	}
	<-im.indexed.done
	err := im.indexed.err
	im.stored, im.indexed = nil, nil
	return err
}

// finish loads what is left and waits for it.
func (im *importer) finish() error {
	if err := im.flush(); err != nil {
		return err
	}
	return im.wait()
}

// store writes one batch in one transaction (the prepared one when the
// sink prepares its batches).
func (im *importer) store(batch []ports.ArchiveRow, prepared ports.PreparedLoad, lines []int64, member string) error {
	var res ports.LoadResult
	var err error
	if lp, ok := im.sink.(ports.LoadPreparer); ok {
		res, err = lp.LoadPrepared(im.ctx, prepared, im.o.LoadOptions)
	} else {
		res, err = im.sink.Load(im.ctx, im.t, batch, im.o.LoadOptions)
	}
	if err != nil {
		return batchError(err, lines, member)
	}
	im.tr.Inserted += res.Inserted
	im.tr.Updated += res.Updated
	im.tr.Skipped += res.Skipped
	return nil
}

// index brings the indexes up to date with a stored batch and checkpoints
// it.
func (im *importer) index(batch []ports.ArchiveRow, lines []int64, vecs map[domain.MemoryID]ports.ArchivedVector) error {
	if im.t.Name == "memories" {
		// Every batch, skipped rows too: a re-run after a failed index write
		// finds its rows stored already and must still index them.
		if err := im.changed(batch, vecs); err != nil {
			return err
		}
	}
	last := lines[len(lines)-1]
	if !im.o.DryRun {
		cp := checkpoint{Archive: im.id, Table: im.t.Name, Line: last, Mode: im.mode, Tenant: im.tenant}
		if err := cp.save(im.o.Checkpoint); err != nil {
			return err
		}
	}
	if im.o.Progress != nil {
		im.o.Progress(im.t.Name, last)
	}
	return nil
}

// batchError places a batch's error at its row's line, or at the batch's
// lines when it names no row.
func batchError(err error, lines []int64, member string) error {
	var re *ports.RowError
	if errors.As(err, &re) && re.Index < len(lines) {
		return &Error{Member: member, Line: lines[re.Index], Err: err}
	}
	return &Error{Member: member, Line: lines[0], Err: fmt.Errorf("batch of lines %d-%d: %w", lines[0], lines[len(lines)-1], err)}
}

// changed notes the batch's orgs and tells the caller which memories of
// which tenant were written, with their archived vectors when vt takes
// them.
func (im *importer) changed(batch []ports.ArchiveRow, vecs map[domain.MemoryID]ports.ArchivedVector) error {
	byTenant := map[domain.Tenant][]domain.MemoryID{}
	var order []domain.Tenant
	for _, r := range batch {
		org, _ := r.Values[im.t.Col("org_id")].(string)
		user, _ := r.Values[im.t.Col("user_id")].(string)
		id, _ := r.Values[im.t.Col("id")].(string)
		tn := domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
		if _, ok := byTenant[tn]; !ok {
			order = append(order, tn)
		}
		byTenant[tn] = append(byTenant[tn], domain.MemoryID(id))
		im.orgs[tn.OrgID] = true
	}
	if im.o.DryRun {
		return nil
	}
	if im.vt != nil {
		for _, tn := range order {
			var given []ports.ArchivedVector
			for _, id := range byTenant[tn] {
				if v, ok := vecs[id]; ok {
					given = append(given, v)
				}
			}
			n, err := im.vt.MemoriesChangedWithVectors(im.ctx, tn, byTenant[tn], given)
			if err != nil {
				return fmt.Errorf("archive: index imported memories with their vectors: %w", err)
			}
			im.vrep.Loaded += n.Loaded
			im.vrep.Embedded += n.Embedded
		}
		return nil
	}
	if im.o.Changed == nil {
		return nil
	}
	for _, tn := range order {
		if err := im.o.Changed(im.ctx, tn, byTenant[tn]); err != nil {
			return fmt.Errorf("archive: index imported memories: %w", err)
		}
	}
	return nil
}
