package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// sealedColumn is an archived column a store keeps sealed with the row's
// subject's data key (docs/privacy.md, "Encryption at rest"): the field is
// the associated data's field name, the row id is the table's "id" column.
type sealedColumn struct {
	col, field string
	hash       bool   // the row's content hash is of this column's plaintext
	meta       string // a metadata column whose values are sealed (SealMetadata)
}

var sealedColumns = map[string]sealedColumn{
	"memories":   {col: "text", field: "text", hash: true, meta: "metadata"},
	"query_logs": {col: "query", field: "query"},
}

// OpenArchived is what a store's ArchiveSink does with archived rows whose
// values are sealed, before it loads them: it opens each sealed value with
// the subject's data key (find returns nil when the store holds none) and
// leaves out the rows that the store holds no key for, or whose key does not
// open them: the subject was erased after the archive was taken, and the
// row is not restored (the second result counts them). A memory's sealed
// metadata values must open too. A memory's
// SealedHash is set to the keyed content hash of its opened text. Rows of other
// tables and plaintext values pass unchanged; find is called once per
// subject and batch.
func OpenArchived(ctx context.Context, t ArchiveTable, rows []ArchiveRow, find func(context.Context, domain.Tenant) (*DataKey, error)) ([]ArchiveRow, int, error) {
	sc, ok := sealedColumns[t.Name]
	if !ok {
		return rows, 0, nil
	}
	valCol, orgCol, userCol, idCol := t.Col(sc.col), t.Col("org_id"), t.Col("user_id"), t.Col("id")
	metaCol := -1
	if sc.meta != "" {
		metaCol = t.Col(sc.meta)
	}
	out := rows[:0:0]
	dropped := 0
	found := map[domain.Tenant]*DataKey{}
	for _, r := range rows {
		stored, _ := r.Values[valCol].(string)
		var md domain.Metadata
		if metaCol >= 0 {
			md = sealedMetadataOf(r.Values[metaCol])
		}
		if !Sealed(stored) && md == nil {
			out = append(out, r)
			continue
		}
		org, _ := r.Values[orgCol].(string)
		user, _ := r.Values[userCol].(string)
		id, _ := r.Values[idCol].(string)
		tn := domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
		dk, looked := found[tn]
		if !looked {
			var err error
			if dk, err = find(ctx, tn); err != nil {
				return nil, 0, err
			}
			found[tn] = dk
		}
		plain := ""
		if dk != nil && Sealed(stored) {
			var err error
			if plain, err = dk.Open(id, sc.field, stored); err != nil {
				dk = nil
			}
		}
		if dk != nil && md != nil {
			if _, err := OpenMetadata(dk, id, md); err != nil {
				dk = nil
			}
		}
		if dk == nil {
			dropped++
			continue
		}
		if sc.hash && Sealed(stored) {
			r.SealedHash = dk.Hash(plain)
		}
		out = append(out, r)
	}
	return out, dropped, nil
}

// historySealedFields are the fields of a history snapshot (old_values,
// new_values) that hold a memory's sealed value; the row id is the memory's.
// Its "metadata" object holds sealed values too (SealMetadata).
var historySealedFields = []string{"text"}

// sealedMetadataOf decodes an archived metadata column (JSON) when any of
// its values is sealed, else nil.
func sealedMetadataOf(v any) domain.Metadata {
	var raw []byte
	switch j := v.(type) {
	case json.RawMessage:
		raw = j
	case []byte:
		raw = j
	case string:
		raw = []byte(j)
	default:
		return nil
	}
	if !bytes.Contains(raw, []byte("engram:v1:")) {
		return nil
	}
	var md domain.Metadata
	if json.Unmarshal(raw, &md) != nil || !MetadataSealed(md) {
		return nil
	}
	return md
}

// canonicalJSON encodes v as an archive's JSON columns are: keys sorted, no
// insignificant space, no HTML escaping.
func canonicalJSON(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// RowOpener opens the sealed values of archived rows, for an export with
// ArchiveScope.Open. find returns a subject's data key (nil when it has
// none); it is called once per subject.
type RowOpener struct {
	find func(context.Context, domain.Tenant) (*DataKey, error)
	keys map[domain.Tenant]*DataKey
}

// NewRowOpener returns a RowOpener reading keys through find.
func NewRowOpener(find func(context.Context, domain.Tenant) (*DataKey, error)) *RowOpener {
	return &RowOpener{find: find, keys: map[domain.Tenant]*DataKey{}}
}

func (o *RowOpener) key(ctx context.Context, t ArchiveTable, r ArchiveRow) (*DataKey, error) {
	org, _ := r.Values[t.Col("org_id")].(string)
	user, _ := r.Values[t.Col("user_id")].(string)
	tn := domain.Tenant{OrgID: domain.OrgID(org), UserID: domain.UserID(user)}
	if dk, ok := o.keys[tn]; ok && dk != nil {
		return dk, nil
	}
	dk, err := o.find(ctx, tn)
	if err != nil {
		return nil, err
	}
	if dk == nil {
		return nil, fmt.Errorf("%s of %s/%s: %w", t.Name, org, user, ErrKeyDestroyed)
	}
	o.keys[tn] = dk
	return dk, nil
}

// Open replaces r's sealed values (memory text and metadata values, history
// snapshots' text and metadata values, query-log text) with their
// plaintext, in place. Plaintext values and
// other tables pass unchanged. A sealed value whose key is gone or does not
// open it is an error: a live row always has its subject's key.
func (o *RowOpener) Open(ctx context.Context, t ArchiveTable, r ArchiveRow) (ArchiveRow, error) {
	if sc, ok := sealedColumns[t.Name]; ok {
		id, _ := r.Values[t.Col("id")].(string)
		if sc.meta != "" {
			mi := t.Col(sc.meta)
			if md := sealedMetadataOf(r.Values[mi]); md != nil {
				dk, err := o.key(ctx, t, r)
				if err != nil {
					return r, err
				}
				if md, err = OpenMetadata(dk, id, md); err != nil {
					return r, err
				}
				if r.Values[mi], err = canonicalJSON(md); err != nil {
					return r, err
				}
			}
		}
		i := t.Col(sc.col)
		stored, _ := r.Values[i].(string)
		if !Sealed(stored) {
			return r, nil
		}
		dk, err := o.key(ctx, t, r)
		if err != nil {
			return r, err
		}
		if r.Values[i], err = dk.Open(id, sc.field, stored); err != nil {
			return r, err
		}
		return r, nil
	}
	if t.Name != "memory_history" {
		return r, nil
	}
	id, _ := r.Values[t.Col("memory_id")].(string)
	for _, col := range []string{"old_values", "new_values"} {
		i := t.Col(col)
		raw, _ := r.Values[i].(json.RawMessage)
		if len(raw) == 0 || !bytes.Contains(raw, []byte(`\u001bengram:v1:`)) {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return r, fmt.Errorf("%s of memory %s: %w", col, id, err)
		}
		for _, f := range historySealedFields {
			stored, _ := v[f].(string)
			if !Sealed(stored) {
				continue
			}
			dk, err := o.key(ctx, t, r)
			if err != nil {
				return r, err
			}
			if v[f], err = dk.Open(id, f, stored); err != nil {
				return r, err
			}
		}
		if md, _ := v["metadata"].(map[string]any); MetadataSealed(md) {
			dk, err := o.key(ctx, t, r)
			if err != nil {
				return r, err
			}
			if v["metadata"], err = OpenMetadata(dk, id, md); err != nil {
				return r, err
			}
		}
		var err error
		if r.Values[i], err = canonicalJSON(v); err != nil {
			return r, err
		}
	}
	return r, nil
}
