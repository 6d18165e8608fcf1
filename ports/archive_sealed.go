package ports

import (
	"context"

	"github.com/engram-memory/engram/domain"
)

// sealedColumn is an archived column a store keeps sealed with the row's
// subject's data key (docs/privacy.md, "Encryption at rest"): the field is
// the associated data's field name, the row id is the table's "id" column.
type sealedColumn struct {
	col, field string
	hash       bool // the row's content hash is of this column's plaintext
}

var sealedColumns = map[string]sealedColumn{
	"memories":   {col: "text", field: "text", hash: true},
	"query_logs": {col: "query", field: "query"},
}

// OpenArchived is what a store's ArchiveSink does with archived rows whose
// values are sealed, before it loads them: it opens each sealed value with
// the subject's data key (find returns nil when the store holds none) and
// leaves out the rows that the store holds no key for, or whose key does not
// open them: the subject was erased after the archive was taken, and the
// row is not restored (the second result counts them). A memory's
// PlainHash is set to the content hash of its opened text. Rows of other
// tables and plaintext values pass unchanged; find is called once per
// subject and batch.
func OpenArchived(ctx context.Context, t ArchiveTable, rows []ArchiveRow, find func(context.Context, domain.Tenant) (*DataKey, error)) ([]ArchiveRow, int, error) {
	sc, ok := sealedColumns[t.Name]
	if !ok {
		return rows, 0, nil
	}
	valCol, orgCol, userCol, idCol := t.Col(sc.col), t.Col("org_id"), t.Col("user_id"), t.Col("id")
	out := rows[:0:0]
	dropped := 0
	found := map[domain.Tenant]*DataKey{}
	for _, r := range rows {
		stored, _ := r.Values[valCol].(string)
		if !Sealed(stored) {
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
		if dk != nil {
			var err error
			if plain, err = dk.Open(id, sc.field, stored); err != nil {
				dk = nil
			}
		}
		if dk == nil {
			dropped++
			continue
		}
		if sc.hash {
			r.PlainHash = domain.ContentHash(plain)
		}
		out = append(out, r)
	}
	return out, dropped, nil
}
