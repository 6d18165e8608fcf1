DROP INDEX IF EXISTS oauth_tokens_expiry;
