package sqlitestore

import (
	"fmt"
	"time"

	"github.com/engram-memory/engram/domain"
)

// whereSQL compiles a filter expression to a condition over memories,
// appending its parameters to args in the order of their ? marks.
// domain.CompileFilter writes AND, OR and NOT; every comparison here is true
// or false, never NULL, so NOT means what Eval means. Metadata goes through
// json_each, whose type column keeps JSON's types apart (1 is not "1", true
// is not 1).
func whereSQL(f domain.Filter, args *[]any) (string, error) {
	arg := func(v any) string {
		*args = append(*args, v)
		return "?"
	}
	return domain.CompileFilter(f, func(f domain.Filter) (string, error) { return compareSQL(f, arg) })
}

// compareSQL is one comparison (eq, contains, icontains, gt, gte, lt, lte).
func compareSQL(f domain.Filter, arg func(any) string) (string, error) {
	switch f.Field {
	case domain.FieldUserID, domain.FieldAgentID, domain.FieldRunID, domain.FieldAppID:
		return textCond(string(f.Field), f.Op, f.Value.(string), arg)
	case domain.FieldCategories:
		return "EXISTS (SELECT 1 FROM json_each(memories.categories) c WHERE c.value = " + arg(f.Value) + ")", nil
	case domain.FieldCreatedAt, domain.FieldUpdatedAt:
		// Stored in nanoseconds; compared in microseconds, as Eval does.
		op, err := sqlOp(f.Op)
		if err != nil {
			return "", err
		}
		return "(" + string(f.Field) + " / 1000) " + op + " " + arg(f.Value.(time.Time).UnixMicro()), nil
	case domain.FieldMetadata:
		return metaCond(f, arg)
	}
	return "", domain.Invalid("filters."+string(f.Field), "is not a filter field")
}

func textCond(col string, op domain.FilterOp, v string, arg func(any) string) (string, error) {
	switch op {
	case domain.OpEq:
		return col + " = " + arg(v), nil
	case domain.OpContains:
		return "instr(" + col + ", " + arg(v) + ") > 0", nil
	case domain.OpIcontains:
		return "instr(lower(" + col + "), lower(" + arg(v) + ")) > 0", nil
	}
	return "", domain.Invalid("filters."+col, "operator %q does not apply to text", string(op))
}

func metaCond(f domain.Filter, arg func(any) string) (string, error) {
	const each = "EXISTS (SELECT 1 FROM json_each(memories.metadata) j WHERE j.key = "
	k := arg(f.Key)
	switch v := f.Value.(type) {
	case string:
		switch f.Op {
		case domain.OpContains:
			return each + k + " AND j.type = 'text' AND instr(j.atom, " + arg(v) + ") > 0)", nil
		case domain.OpIcontains:
			return each + k + " AND j.type = 'text' AND instr(lower(j.atom), lower(" + arg(v) + ")) > 0)", nil
		}
		op, err := sqlOp(f.Op)
		if err != nil {
			return "", err
		}
		return each + k + " AND j.type = 'text' AND j.atom " + op + " " + arg(v) + ")", nil
	case float64:
		op, err := sqlOp(f.Op)
		if err != nil {
			return "", err
		}
		return each + k + " AND j.type IN ('integer', 'real') AND j.atom " + op + " " + arg(v) + ")", nil
	case bool:
		return each + k + " AND j.type = " + arg(map[bool]string{true: "true", false: "false"}[v]) + ")", nil
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
