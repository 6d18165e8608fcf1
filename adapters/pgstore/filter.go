package pgstore

import (
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
)

// whereSQL compiles a filter expression to a condition over memories; arg
// binds a parameter and returns its $n. domain.CompileFilter writes AND, OR
// and NOT; every comparison here is true or false, never NULL (CASE and
// COALESCE guard the metadata casts), so NOT means what domain.Filter.Eval
// means. Text compares and folds in the "C" collation: byte order, and
// lower() of ASCII letters only, as SQLite.
func whereSQL(f domain.Filter, arg func(any) string) (string, error) {
	return domain.CompileFilter(f, func(f domain.Filter) (string, error) { return compareSQL(f, arg) })
}

// compareSQL is one comparison (eq, contains, icontains, gt, gte, lt, lte).
func compareSQL(f domain.Filter, arg func(any) string) (string, error) {
	switch f.Field {
	case domain.FieldUserID, domain.FieldAgentID, domain.FieldRunID, domain.FieldAppID:
		return textCond(string(f.Field), f.Op, arg(f.Value.(string))+"::text")
	case domain.FieldCategories:
		return "categories @> ARRAY[" + arg(f.Value) + "::text]", nil
	case domain.FieldCreatedAt, domain.FieldUpdatedAt:
		op, err := sqlOp(f.Op)
		if err != nil {
			return "", err
		}
		return string(f.Field) + " " + op + " " + arg(f.Value.(time.Time).Format(time.RFC3339Nano)) + "::timestamptz", nil
	case domain.FieldMetadata:
		return metaCond(f, arg)
	}
	return "", domain.Invalid("filters."+string(f.Field), "is not a filter field")
}

func textCond(col string, op domain.FilterOp, p string) (string, error) {
	switch op {
	case domain.OpEq:
		return col + " = " + p, nil
	case domain.OpContains:
		return "strpos(" + col + ", " + p + ") > 0", nil
	case domain.OpIcontains:
		return "strpos(lower(" + col + ` COLLATE "C"), lower(` + p + ` COLLATE "C")) > 0`, nil
	}
	return "", domain.Invalid("filters."+col, "operator %q does not apply to text", string(op))
}

func metaCond(f domain.Filter, arg func(any) string) (string, error) {
	k := arg(f.Key) + "::text"
	typed := func(kind, cond string) string {
		return "(CASE WHEN jsonb_typeof(metadata -> " + k + ") = '" + kind + "' THEN " + cond + " ELSE false END)"
	}
	val := "(metadata ->> " + k + ")"
	switch v := f.Value.(type) {
	case string:
		switch f.Op {
		case domain.OpContains:
			return typed("string", "strpos("+val+", "+arg(v)+"::text) > 0"), nil
		case domain.OpIcontains:
			return typed("string", "strpos(lower("+val+` COLLATE "C"), lower(`+arg(v)+`::text COLLATE "C")) > 0`), nil
		}
		op, err := sqlOp(f.Op)
		if err != nil {
			return "", err
		}
		return typed("string", val+` COLLATE "C" `+op+" "+arg(v)+`::text COLLATE "C"`), nil
	case float64:
		op, err := sqlOp(f.Op)
		if err != nil {
			return "", err
		}
		return typed("number", val+"::numeric "+op+" "+arg(v)+"::numeric"), nil
	case bool:
		return typed("boolean", val+"::boolean = "+arg(v)+"::boolean"), nil
	}
	return "", fmt.Errorf("%w: metadata filter value %T", domain.ErrInvalid, f.Value)
}

func sqlOp(op domain.FilterOp) (string, error) {
	switch op {
	case domain.OpEq:
		return "=", nil
	case domain.OpGt:
		return ">", nil
	case domain.OpGte:
		return ">=", nil
	case domain.OpLt:
		return "<", nil
	case domain.OpLte:
		return "<=", nil
	}
	return "", domain.Invalid("filters", "operator %q does not apply here", string(op))
}
