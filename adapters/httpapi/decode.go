package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/engram-memory/engram/adapters/jsonbody"
	"github.com/engram-memory/engram/domain"
)

// decodeJSON reads exactly one JSON object into v. Unknown fields, trailing
// data, a wrong type, a string that is not valid UTF-8 and a body over the
// limit are all refused; a user_id or
// org_id field gets its own reason because the tenant comes from the token.
func decodeJSON(c echo.Context, v any) error { return decodeBody(c, v, true) }

// decodeBody is the one body reader: both modes check UTF-8 on the raw
// bytes and map an oversized body; strict (the /api/v1 routes) also refuses
// unknown fields and trailing data, lenient (mem0's routes, whose SDKs send
// fields Engram does not use) ignores them.
func decodeBody(c echo.Context, v any, strict bool) error {
	body := c.Request().Body
	if body == nil {
		return domain.Invalid("body", "must be a JSON object")
	}
	// Read the raw bytes first: encoding/json turns invalid UTF-8 into
	// U+FFFD silently, so the check must see what the client sent.
	raw, err := io.ReadAll(body)
	if err != nil {
		if tl, ok := asTooLarge(err); ok {
			return tl
		}
		return fmt.Errorf("httpapi: read body: %w", err)
	}
	if err := jsonbody.CheckUTF8(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if !strict {
		if err := dec.Decode(v); err != nil {
			return decodeError(err)
		}
		return nil
	}
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// A second value (or garbage) after the object is a malformed body,
	// not something to ignore.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if tl, ok := asTooLarge(err); ok {
			return tl
		}
		return domain.Invalid("body", "must hold a single JSON object")
	}
	return nil
}

func decodeError(err error) error {
	if tl, ok := asTooLarge(err); ok {
		return tl
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return domain.Invalid("body", "must be a JSON object, got an empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Invalid("body", "is truncated JSON")
	case errors.As(err, &syn):
		return domain.Invalid("body", "is malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return domain.Invalid(field, "must be %s", jsonKind(typ.Type.Kind().String()))
	}
	// encoding/json reports unknown fields only by this message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		if slices.Contains(tenantFields, name) {
			return domain.Invalid(name, tenantReason)
		}
		return domain.Invalid(name, "is not a known field")
	}
	return domain.Invalid("body", "is not valid JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "int", "int64", "float64":
		return "a number"
	}
	return "of another type"
}

// queryInt parses an optional integer parameter; absent is 0.
func queryInt(c echo.Context, name string) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, domain.Invalid(name, "must be an integer")
	}
	if n < 1 {
		// 0 would mean "default" to the use cases; a client that asks
		// for 0 asked for something out of range.
		return 0, domain.Invalid(name, "must be at least 1")
	}
	return n, nil
}

// queryList collects a repeated parameter (state=a&state=b: OpenAPI's
// exploded form, the only one docs/openapi.yaml describes).
func queryList(c echo.Context, name string) []string {
	var out []string
	for _, v := range c.QueryParams()[name] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// listQuery reads limit, cursor, order, app, state and category into a query; the
// service validates the values.
func listQuery(c echo.Context) (domain.ListQuery, error) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return domain.ListQuery{}, err
	}
	q := domain.ListQuery{Limit: limit, Cursor: c.QueryParam("cursor"), App: domain.AppID(c.QueryParam("app"))}
	for _, s := range queryList(c, "state") {
		st, err := domain.ParseState(s)
		if err != nil {
			return domain.ListQuery{}, err
		}
		q.States = append(q.States, st)
	}
	q.Categories = queryList(c, "category")
	q.AgentID, q.RunID = c.QueryParam("agent_id"), c.QueryParam("run_id")
	if q.Order, err = domain.ParseListOrder(c.QueryParam("order")); err != nil {
		return domain.ListQuery{}, err
	}
	if raw := c.QueryParam("filters"); raw != "" {
		where, err := whereFromJSON(c, []byte(raw))
		if err != nil {
			return domain.ListQuery{}, err
		}
		q.Where = where
	}
	return q, nil
}

// whereFromJSON parses a filters object of the filter language for the
// caller's own data: a user_id in it may only name the caller (403 for
// anyone else; project keys name users on the mem0 routes).
func whereFromJSON(c echo.Context, raw []byte) (*domain.Filter, error) {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, domain.Invalid("filters", "must be a JSON object")
	}
	f, err := domain.ParseFilter(obj)
	if err != nil {
		return nil, err
	}
	user, rest, err := domain.SplitUser(f)
	if err != nil {
		return nil, err
	}
	if p, _ := principalOf(c); user != "" && user != p.UserID {
		return nil, &domain.ForbiddenError{Reason: "filters.user_id names another user than the credential's"}
	}
	return rest, nil
}

// memoryIDParam validates the :id path parameter.
func memoryIDParam(c echo.Context) (domain.MemoryID, error) {
	id, err := domain.ParseMemoryID(c.Param("id"))
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	return id, nil
}
