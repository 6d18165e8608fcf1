package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPrivacyInventoryNamesEveryColumn holds docs/privacy.md's schema
// inventory to the migrations: every table and column that a migration of
// either engine creates or adds must be named there, so that nobody adds a
// place where personal data rests without saying how it is erased.
func TestPrivacyInventoryNamesEveryColumn(t *testing.T) {
	inv, err := os.ReadFile("privacy.md")
	if err != nil {
		t.Fatal(err)
	}
	schema := map[string][]string{}
	for _, engine := range []string{"postgres", "sqlite"} {
		files, err := filepath.Glob(filepath.Join("..", "migrations", engine, "*.up.sql"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no migrations for %s: %v", engine, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for table, cols := range schemaColumns(string(b)) {
				schema[table] = append(schema[table], cols...)
			}
		}
	}
	for _, missing := range inventoryGaps(string(inv), schema) {
		t.Errorf("docs/privacy.md's schema inventory does not name %s: add it with what it holds and how it is erased", missing)
	}
}

// TestInventoryGapsFindsAnUnnamedColumn proves the check can fail: a new
// column and a new table that the inventory does not name are reported.
func TestInventoryGapsFindsAnUnnamedColumn(t *testing.T) {
	sql := `-- a comment (with parens)
CREATE TABLE memories (id uuid PRIMARY KEY, text text NOT NULL, CHECK (length(text) > 0));
CREATE TABLE IF NOT EXISTS secrets (id text, PRIMARY KEY (id));
ALTER TABLE memories ADD COLUMN nickname text;
ALTER TABLE memories ADD shoe_size integer;
CREATE VIRTUAL TABLE fts USING fts5 (body, content = '', tokenize = 'porter unicode61');`
	inv := "| `memories` | `id`, `text` | P | x |\n| `fts` | `body` | P | x |\n"
	got := inventoryGaps(inv, schemaColumns(sql))
	want := []string{"memories.nickname", "memories.shoe_size", "secrets.id", "table secrets"}
	if !slices.Equal(got, want) {
		t.Fatalf("gaps = %q, want %q", got, want)
	}
}

var (
	sqlComment  = regexp.MustCompile(`--[^\n]*`)
	createTable = regexp.MustCompile(`(?i)CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*(?:USING\s+\w+\s*)?\(`)
	addColumn   = regexp.MustCompile(`(?i)ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?(\w+)\s+ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(\w+)`)
	constraint  = map[string]bool{"PRIMARY": true, "UNIQUE": true, "CHECK": true, "FOREIGN": true, "CONSTRAINT": true, "EXCLUDE": true}
)

// schemaColumns maps each table a migration creates or alters to the
// columns it defines.
func schemaColumns(sql string) map[string][]string {
	sql = sqlComment.ReplaceAllString(sql, "")
	out := map[string][]string{}
	for _, m := range createTable.FindAllStringSubmatchIndex(sql, -1) {
		table := strings.ToLower(sql[m[2]:m[3]])
		out[table] = append(out[table], tableColumns(sql[m[1]:])...)
	}
	for _, m := range addColumn.FindAllStringSubmatch(sql, -1) {
		if strings.EqualFold(m[2], "CONSTRAINT") {
			continue
		}
		table := strings.ToLower(m[1])
		out[table] = append(out[table], strings.ToLower(m[2]))
	}
	return out
}

// tableColumns reads the column list that starts after the opening
// parenthesis, up to its closing one: the first word of each top-level
// entry, skipping table constraints and FTS5 options (name = value).
func tableColumns(body string) []string {
	var cols []string
	depth, start := 0, 0
	for i, r := range body {
		switch r {
		case '(':
			depth++
		case ')', ',':
			if r == ')' && depth > 0 {
				depth--
				continue
			}
			if depth > 0 {
				continue
			}
			entry := strings.TrimSpace(body[start:i])
			start = i + 1
			if f := strings.Fields(entry); len(f) > 0 && !constraint[strings.ToUpper(f[0])] && !strings.Contains(entry, "=") {
				cols = append(cols, strings.ToLower(strings.Trim(f[0], `"`)))
			}
			if r == ')' {
				return cols
			}
		}
	}
	return cols
}

// inventoryGaps lists what the inventory's table rows ("| `table` | `col`,
// ... |") do not name, sorted: "table T" for a missing table, "T.C" for a
// missing column.
func inventoryGaps(inventory string, schema map[string][]string) []string {
	rows := map[string]string{}
	for _, line := range strings.Split(inventory, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		rows[name] = cells[2]
	}
	var gaps []string
	for table, cols := range schema {
		row, ok := rows[table]
		if !ok {
			gaps = append(gaps, "table "+table)
		}
		for _, c := range cols {
			if !strings.Contains(row, "`"+c+"`") {
				gaps = append(gaps, table+"."+c)
			}
		}
	}
	sort.Strings(gaps)
	return slices.Compact(gaps)
}
