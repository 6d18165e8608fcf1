-- The retention sweeper deletes OAuth codes and refresh tokens that expired
-- more than their grace ago, org by org; the delete finds them by org and
-- expiry rather than scanning the table.
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (org_id, expires_at);
