package archive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TimeLayout is how archives write times: UTC, always six fractional
// digits. Microseconds are the finest precision every store keeps.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// encoder turns rows into lines; its buffers are reused row after row.
type encoder struct {
	buf bytes.Buffer
	str bytes.Buffer
	enc *json.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.str)
	e.enc.SetEscapeHTML(false)
	return e
}

// encode writes row as one JSON object: the table's columns in order, then
// the row's unknown fields (sorted, as CanonicalJSON left them). The same
// row always gives the same bytes.
func (e *encoder) encode(t ports.ArchiveTable, r ports.ArchiveRow) ([]byte, error) {
	e.buf.Reset()
	e.buf.WriteByte('{')
	for i, c := range t.Columns {
		if c.Omit && r.Values[i] == nil {
			continue
		}
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteByte('"')
		e.buf.WriteString(c.Name)
		e.buf.WriteString(`":`)
		if err := e.value(c, r.Values[i]); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
		}
	}
	if x := bytes.TrimSpace(r.Extra); len(x) > 2 && x[0] == '{' {
		e.buf.WriteByte(',')
		e.buf.Write(x[1 : len(x)-1])
	}
	e.buf.WriteByte('}')
	return e.buf.Bytes(), nil
}

func (e *encoder) value(c ports.ArchiveColumn, v any) error {
	if v == nil {
		e.buf.WriteString("null")
		return nil
	}
	switch c.Kind {
	case ports.ColText:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
		e.str.Reset()
		if err := e.enc.Encode(s); err != nil {
			return err
		}
		e.buf.Write(bytes.TrimSuffix(e.str.Bytes(), []byte{'\n'}))
	case ports.ColTime:
		tm, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("want a time, got %T", v)
		}
		e.buf.WriteByte('"')
		e.buf.WriteString(tm.UTC().Truncate(time.Microsecond).Format(TimeLayout))
		e.buf.WriteByte('"')
	case ports.ColJSON:
		j, ok := v.(json.RawMessage)
		if !ok {
			return fmt.Errorf("want JSON, got %T", v)
		}
		e.buf.Write(j)
	case ports.ColInt:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("want an integer, got %T", v)
		}
		e.buf.WriteString(strconv.FormatInt(n, 10))
	case ports.ColBool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want a boolean, got %T", v)
		}
		e.buf.WriteString(strconv.FormatBool(b))
	}
	return nil
}

// decode parses one line of t's member. Fields the table does not know are
// kept in Extra; a missing field is an error unless the column may be null.
func decode(t ports.ArchiveTable, line []byte) (ports.ArchiveRow, error) {
	if row, ok := decodeFast(t, line); ok {
		return row, nil
	}
	return decodeSlow(t, line)
}

// decodeSlow is decode through encoding/json: every line, any spacing,
// unknown fields kept, errors worded.
func decodeSlow(t ports.ArchiveTable, line []byte) (ports.ArchiveRow, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return ports.ArchiveRow{}, fmt.Errorf("not a JSON object: %v", err)
	}
	vals := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		raw, ok := fields[c.Name]
		delete(fields, c.Name)
		if !ok || string(raw) == "null" {
			if !c.Null {
				return ports.ArchiveRow{}, domain.Invalid(c.Name, "is required")
			}
			continue
		}
		v, err := decodeValue(c, raw)
		if err != nil {
			return ports.ArchiveRow{}, domain.Invalid(c.Name, "%v", err)
		}
		vals[i] = v
	}
	row := ports.ArchiveRow{Values: vals}
	if len(fields) > 0 {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kj, _ := json.Marshal(k)
			b.Write(kj)
			b.WriteByte(':')
			cj, err := ports.CanonicalJSON(fields[k])
			if err != nil {
				return ports.ArchiveRow{}, domain.Invalid(k, "%v", err)
			}
			b.Write(cj)
		}
		b.WriteByte('}')
		row.Extra = b.Bytes()
	}
	return row, nil
}

func decodeValue(c ports.ArchiveColumn, raw json.RawMessage) (any, error) {
	switch c.Kind {
	case ports.ColText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("must be a string")
		}
		return s, nil
	case ports.ColTime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("must be an RFC 3339 time string")
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("must be an RFC 3339 time: %v", err)
		}
		return tm.UTC().Truncate(time.Microsecond), nil
	case ports.ColJSON:
		return ports.CanonicalJSON(raw)
	case ports.ColInt:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be an integer")
		}
		return n, nil
	case ports.ColBool:
		b, err := strconv.ParseBool(string(raw))
		if err != nil || (string(raw) != "true" && string(raw) != "false") {
			return nil, fmt.Errorf("must be true or false")
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown column kind %d", c.Kind)
}
