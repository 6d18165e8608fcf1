package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/engram-memory/engram/domain"
)

// ColumnKind is the portable type of an archived column. Every store maps
// its own storage (SQLite integers and JSON text, PostgreSQL timestamptz,
// uuid, jsonb and arrays) to and from these, so that the same data gives the
// same archive bytes whichever store it comes from.
type ColumnKind uint8

// The column kinds and the Go type an ArchiveRow holds for each (nil when
// the column is Null and absent).
const (
	ColText ColumnKind = iota // string
	ColTime                   // time.Time, UTC, truncated to the microsecond
	ColJSON                   // json.RawMessage, canonical (object keys sorted, no insignificant space)
	ColInt                    // int64
	ColBool                   // bool
)

// ArchiveColumn is one column of an archived table.
type ArchiveColumn struct {
	Name string
	Kind ColumnKind
	Null bool // may be nil
	// Omit leaves the field out of a line when nil, rather than writing
	// null: for fields added after format version 1 shipped, so that an
	// archive without them keeps the bytes and checksums it had, and an
	// older reader (which keeps unknown fields in archive_extra) is not
	// handed a null on every row.
	Omit bool
}

// ArchiveTable describes one table as it travels in an archive.
type ArchiveTable struct {
	Name    string
	Columns []ArchiveColumn
	// UserScoped tables have a user_id column; a user-scoped export holds
	// only that user's rows. The others (experiments) belong to an org and
	// are left out of a user's export.
	UserScoped bool
	// Since is the column an incremental export (--since) compares.
	Since string
	// Optional tables may be left out of an export (access log, feedback,
	// query log); the archive's manifest says which members it holds.
	Optional bool
	// Key names the text columns that Scan orders an org's rows by (after
	// org_id), for ArchiveSeeker. Unique except in the history tables,
	// whose rows of one key follow the source's own sequence.
	Key []string
}

// Col returns the index of the named column, or -1.
func (t ArchiveTable) Col(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// ArchiveRow is one row: Values in the table's column order, and Extra, the
// fields of an archive line that this version does not know (a JSON object,
// or nil). Stores keep Extra beside the row (column archive_extra) so that a
// newer archive's fields survive an import and the next export.
type ArchiveRow struct {
	Values []any
	Extra  json.RawMessage
	// SealedHash is set by a sink that opened a memory's sealed text: the
	// content hash the store keeps for it, keyed with the data key that
	// sealed it (DataKey.Hash), as the store hashes the text it seals.
	// Never archived.
	SealedHash string
}

// ArchiveScope selects what an export reads: the whole instance (Org empty),
// one org, or one user of one org; Since, when set, keeps rows whose Since
// column is at or after it.
type ArchiveScope struct {
	Org   domain.OrgID
	User  domain.UserID
	Since time.Time
	// Open returns every sealed value opened with its subject's data key
	// (RowOpener): the subject's own export (GET /api/v1/export), which is
	// theirs to read. Backups and operator exports leave it false and carry
	// sealed values as stored, so that an erasure shreds them.
	Open bool
}

// ArchiveSource is a store read as tables, for `engram export`, backups and
// `GET /api/v1/export`. It is an operator path that crosses tenants when the
// scope asks for it; request handlers pass the caller's own org and user.
//
// ArchiveSnapshot calls fn with a reader over one consistent, read-only
// snapshot (one SQLite read transaction, one PostgreSQL REPEATABLE READ
// transaction): writes committed after it began are not seen, and every
// table is read at the same instant. The snapshot is valid only inside fn.
//
// ArchiveSnapshot.Scan calls fn for every row of table in scope, ordered by
// org_id and then the table's key (byte order), so that the same data gives
// the same sequence of rows from every store. Timestamps are truncated to the
// microsecond, the finest precision every store keeps. An error from fn
// stops the scan and is returned as is. Backend failures wrap
// domain.ErrUnavailable.
type ArchiveSource interface {
	ArchiveSnapshot(ctx context.Context, fn func(ArchiveSnapshot) error) error
}

// ArchiveSnapshot reads one table of a snapshot; see ArchiveSource.
type ArchiveSnapshot interface {
	Scan(ctx context.Context, table ArchiveTable, scope ArchiveScope, fn func(ArchiveRow) error) error
}

// LoadOptions say how ArchiveSink.Load treats rows that exist already.
type LoadOptions struct {
	// Overwrite replaces an existing row with the same key and tenant;
	// otherwise (the default, skip) the existing row is kept. Append-only
	// tables (history, feedback, query log, experiment history) never
	// overwrite: a row equal to an existing one is skipped either way.
	Overwrite bool
	// DryRun runs the batch and rolls it back: the result says what would
	// change, and nothing does.
	DryRun bool
}

// LoadResult counts what a batch did (or, in a dry run, would do).
type LoadResult struct {
	Inserted int
	Updated  int
	Skipped  int
}

// ArchiveSink writes archived rows into a store, for `engram import`,
// restore and `POST /api/v1/import`.
//
// Load writes rows of one table in one transaction: all or nothing. The
// caller has validated and normalised the rows (domain rules) and rewritten
// their tenant; rows of several orgs may share a batch. A row whose key
// exists is skipped, or with Overwrite replaced when it belongs to the same
// tenant (a key owned by another tenant is skipped, never touched). A row
// that depends on a memory or experiment (history, access, assignments)
// that does not exist for its tenant is skipped. Loading the same batch
// twice changes nothing the second time, which is what makes an interrupted
// import safe to re-run. A row the store refuses (a constraint) fails the
// batch with an error wrapping domain.ErrInvalid or domain.ErrConflict;
// backend failures wrap domain.ErrUnavailable. An error caused by one row
// is a *RowError naming it. Derived data (text index,
// vectors) is not written: the caller rebuilds it.
type ArchiveSink interface {
	Load(ctx context.Context, table ArchiveTable, rows []ArchiveRow, opts LoadOptions) (LoadResult, error)
}

// LoadSettler is an ArchiveSink with work left once a bulk load ends:
// pgstore brings the planner statistics of the tables the load wrote up to
// date, which autovacuum would do only within its next minute (or never,
// when it is off). SettleLoad returns at once and never fails the load:
// the work runs in the background, a failure is logged, and the store's
// Close waits for it (so a command that exits after Close leaves it done).
type LoadSettler interface {
	SettleLoad(ctx context.Context)
}

// LoadPreparer is an ArchiveSink that can do a batch's work that needs no
// write transaction (opening sealed values, encoding the rows for the
// backend) ahead of loading it, so that an import prepares the next batch
// on its reading goroutine while the store writes the last one.
// LoadPrepared(ctx, PrepareLoad(ctx, t, rows), opts) is Load(ctx, t, rows,
// opts), with the same results and errors (a row's error indexes rows). A
// prepared batch is loaded once; it is opaque to the caller.
type LoadPreparer interface {
	PrepareLoad(ctx context.Context, table ArchiveTable, rows []ArchiveRow) (PreparedLoad, error)
	LoadPrepared(ctx context.Context, batch PreparedLoad, opts LoadOptions) (LoadResult, error)
}

// PreparedLoad is a batch a LoadPreparer prepared, for its LoadPrepared.
type PreparedLoad any

func text(name string) ArchiveColumn     { return ArchiveColumn{Name: name, Kind: ColText} }
func nullText(name string) ArchiveColumn { return ArchiveColumn{Name: name, Kind: ColText, Null: true} }
func at(name string) ArchiveColumn       { return ArchiveColumn{Name: name, Kind: ColTime} }
func jsonCol(name string) ArchiveColumn  { return ArchiveColumn{Name: name, Kind: ColJSON} }

// ArchiveTables lists the archived tables in the order an archive holds and
// an import loads them (parents before the rows that refer to them). The
// columns are the archive's fields; docs/archive.md describes each.
var ArchiveTables = []ArchiveTable{
	{Name: "memories", Key: []string{"id"}, UserScoped: true, Since: "updated_at", Columns: []ArchiveColumn{
		text("id"), text("org_id"), text("user_id"), text("app_id"), text("text"),
		jsonCol("metadata"), jsonCol("categories"), text("state"),
		{Name: "erased", Kind: ColBool}, at("created_at"), at("updated_at"),
		// mem0's scopes; null (or absent, in an older archive) is none.
		nullText("agent_id"), nullText("run_id"),
		// When the memory stops existing (issue 16); absent is never.
		{Name: "expires_at", Kind: ColTime, Null: true, Omit: true},
		// Time (issue 18). observed_at is left out when it equals
		// created_at (its default), and an archive without it imports
		// with observed_at = created_at; valid_from and valid_to are left
		// out when unbounded.
		{Name: "observed_at", Kind: ColTime, Null: true, Omit: true},
		{Name: "valid_from", Kind: ColTime, Null: true, Omit: true},
		{Name: "valid_to", Kind: ColTime, Null: true, Omit: true},
	}},
	{Name: "memory_history", Key: []string{"memory_id"}, UserScoped: true, Since: "changed_at", Columns: []ArchiveColumn{
		text("memory_id"), text("org_id"), text("user_id"), text("kind"),
		{Name: "old_values", Kind: ColJSON, Null: true}, {Name: "new_values", Kind: ColJSON, Null: true},
		text("actor_app"), at("changed_at"),
	}},
	{Name: "apps", Key: []string{"user_id", "id"}, UserScoped: true, Since: "updated_at", Columns: []ArchiveColumn{
		text("org_id"), text("user_id"), text("id"), text("description"),
		{Name: "active", Kind: ColBool}, at("created_at"), at("updated_at"),
	}},
	{Name: "memory_access", Key: []string{"user_id", "app_id", "memory_id"}, UserScoped: true, Since: "accessed_at", Optional: true, Columns: []ArchiveColumn{
		text("org_id"), text("user_id"), text("app_id"), text("memory_id"), text("kind"), at("accessed_at"),
	}},
	{Name: "query_logs", Key: []string{"id"}, UserScoped: true, Since: "created_at", Optional: true, Columns: []ArchiveColumn{
		text("id"), text("org_id"), text("user_id"), text("query"), jsonCol("params"), jsonCol("result_ids"),
		nullText("experiment_id"), nullText("variant"), at("created_at"),
	}},
	{Name: "feedback_events", Key: []string{"id"}, UserScoped: true, Since: "created_at", Optional: true, Columns: []ArchiveColumn{
		text("id"), text("org_id"), text("user_id"), text("query_id"), nullText("memory_id"), text("app_id"),
		text("outcome"), {Name: "rating", Kind: ColInt, Null: true}, nullText("experiment_id"), nullText("variant"),
		{Name: "latency_ms", Kind: ColInt}, at("created_at"),
	}},
	{Name: "experiments", Key: []string{"id"}, Since: "updated_at", Columns: []ArchiveColumn{
		text("id"), text("org_id"), text("name"), text("description"), text("status"), jsonCol("variants"),
		text("created_by"), at("created_at"), at("updated_at"),
		{Name: "started_at", Kind: ColTime, Null: true}, {Name: "ended_at", Kind: ColTime, Null: true},
	}},
	{Name: "experiment_history", Key: []string{"experiment_id"}, Since: "at", Columns: []ArchiveColumn{
		text("experiment_id"), text("org_id"), text("from_status"), text("to_status"), text("actor"), text("reason"), at("at"),
	}},
	{Name: "experiment_assignments", Key: []string{"experiment_id", "user_id"}, Since: "assigned_at", Columns: []ArchiveColumn{
		text("org_id"), text("experiment_id"), text("user_id"), text("variant"), at("assigned_at"),
	}},
}

// ArchiveTableNamed returns the table called name.
func ArchiveTableNamed(name string) (ArchiveTable, bool) {
	for _, t := range ArchiveTables {
		if t.Name == name {
			return t, true
		}
	}
	return ArchiveTable{}, false
}

// CanonicalJSON re-encodes a JSON document the way archives hold it: object
// keys sorted, no insignificant space, numbers as float64 (the domain's
// metadata rule), HTML characters unescaped. jsonb and JSON text of the same
// value then give the same bytes.
func CanonicalJSON(raw []byte) (json.RawMessage, error) {
	switch string(raw) {
	case "{}", "[]", "null":
		return json.RawMessage(raw), nil
	}
	if isCanonical(raw) {
		return json.RawMessage(bytes.Clone(raw)), nil
	}
	return canonicalSlow(raw)
}

// canonicalSlow is CanonicalJSON by decoding and encoding again.
func canonicalSlow(raw []byte) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// RowError is how ArchiveSink.Load names the row that failed a batch: its
// index in rows. It unwraps to the cause.
type RowError struct {
	Index int
	Err   error
}

func (e *RowError) Error() string { return "row " + strconv.Itoa(e.Index) + ": " + e.Err.Error() }

func (e *RowError) Unwrap() error { return e.Err }

// ArchivedVector is one memory's embedding as an archive carries it
// (docs/archive.md, "Vectors"): TextSHA256 is the SHA-256 (hex) of the
// plaintext the vector was computed from, so that a memory whose stored
// text differs from the archive's (kept by an import in skip mode) is
// embedded again rather than given another text's vector.
type ArchivedVector struct {
	ID         domain.MemoryID
	TextSHA256 string
	Vector     []float32
}

// ArchivedVectorLoad counts what an import did with archived vectors:
// Loaded went into the vector index as archived, Embedded were embedded
// again (no vector in the archive, or its text differs from the stored one).
type ArchivedVectorLoad struct {
	Loaded   int `json:"loaded"`
	Embedded int `json:"embedded"`
}
