DROP TRIGGER IF EXISTS oauth_tokens_note_orgs ON oauth_tokens;
DROP INDEX IF EXISTS oauth_tokens_expiry_idx;
