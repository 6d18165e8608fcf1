-- Full-text search of memories (engineer E, issue 4). The text index is kept
-- beside the store but written by the index maintainer, not by the store's
-- transactions: like every index it can be rebuilt from memories
-- (`engram reindex`).
--
-- search_docs holds the filterable fields of each indexed memory; its rowid
-- is the rowid of the memory's entry in search_fts.
CREATE TABLE search_docs (
    rowid      INTEGER PRIMARY KEY,
    org_id     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    memory_id  TEXT    NOT NULL,
    app_id     TEXT    NOT NULL,
    -- the indexed text's SHA-256, compared with memories.content_hash to
    -- find entries that lag the store (TextIndex.Drift)
    content_hash TEXT  NOT NULL DEFAULT '',
    categories TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
    metadata   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at INTEGER NOT NULL -- Unix nanoseconds, as in memories
);

CREATE UNIQUE INDEX search_docs_tenant_memory ON search_docs (org_id, user_id, memory_id);

-- body is the memory's words, folded (case, accents) by the adapter and
-- each prefixed with a token derived from (org, user): a term's posting list
-- then holds one tenant's entries, so another tenant's rows are never read
-- and BM25 document frequencies are per tenant. Contentless with delete
-- support: the text lives in memories already, and erasure must not leave a
-- copy here. porter trims English inflections.
CREATE VIRTUAL TABLE search_fts USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

